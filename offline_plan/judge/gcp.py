"""What Google Cloud would refuse: names and enums of the APIs, documented rules, APIs not enabled, quotas.

Enums come from the API discovery documents google-api-python-client ships; names and other limits from
the same documents' descriptions, the Google Cloud documentation, or terraform-provider-google's
validation (pulumi-gcp is built from it), each cited beside its rule.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ..mocks import Observed
from . import Context, field_rules, plan_check, resource_check
from .models import discovery_enum
from .rules import (
    Between,
    FieldRule,
    Finding,
    Length,
    Pattern,
    dependency_closure,
    is_list,
    is_map,
    of_type,
    subnet_of,
    value_at,
    values_at,
)

GOOGLE = "Google Cloud"
GCE_NAME = r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?"
GCE_NAME_MEANING = "a lowercase RFC 1035 name of 1-63 characters"
GKE_NAME = r"[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?"
LABEL_KEY = r"[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}"
LABEL_VALUE = r"[\p{Ll}\p{Lo}\p{N}_-]{0,63}"
MAINTENANCE_DOC = "https://cloud.google.com/kubernetes-engine/docs/how-to/maintenance-window"
AUTHORIZED_NETWORKS_DOC = "https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks"
LABELS_DOC = "https://cloud.google.com/resource-manager/docs/creating-managing-labels#requirements"


def _dd(api: str, schema: str, field: str) -> str:
    return f"Google API discovery document {api} v1 {schema}.{field}"


def _method(api: str, method: str, parameter: str) -> str:
    return f"Google API discovery document {api} v1 {method} parameter {parameter}"


def gce_name(type_: str, schema: str, path: str = "name", minimum: int = 1) -> None:
    """A Compute Engine name: RFC 1035, 1-63 characters; the provider refuses 1-character names of some types."""
    field = path.rsplit(".", 1)[-1].removesuffix("[]")
    source = _dd("compute", schema, field) + ": 1-63 characters, [a-z]([-a-z0-9]*[a-z0-9])? (RFC 1035)"
    if minimum == 1:
        pattern, meaning = GCE_NAME, GCE_NAME_MEANING
    else:
        pattern, meaning = r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])", "a lowercase RFC 1035 name of 2-63 characters"
        source += "; terraform-provider-google (pulumi-gcp is built from it) ValidateRFC1035Name(2, 63)"
    field_rules(type_, FieldRule(path, (Pattern(pattern, meaning),), source, GOOGLE))


for _type, _schema in (
    ("gcp:compute/network:Network", "Network"),
    ("gcp:compute/subnetwork:Subnetwork", "Subnetwork"),
    ("gcp:compute/router:Router", "Router"),
    ("gcp:compute/firewall:Firewall", "Firewall"),
    ("gcp:compute/haVpnGateway:HaVpnGateway", "VpnGateway"),
    ("gcp:compute/externalVpnGateway:ExternalVpnGateway", "ExternalVpnGateway"),
    ("gcp:compute/vPNTunnel:VPNTunnel", "VpnTunnel"),
    ("gcp:compute/routerInterface:RouterInterface", "RouterInterface"),
    ("gcp:compute/networkPeering:NetworkPeering", "NetworkPeering"),
    ("gcp:compute/healthCheck:HealthCheck", "HealthCheck"),
):
    gce_name(_type, _schema)
gce_name("gcp:compute/routerNat:RouterNat", "RouterNat", minimum=2)
gce_name("gcp:compute/routerPeer:RouterPeer", "RouterBgpPeer", minimum=2)
gce_name("gcp:compute/subnetwork:Subnetwork", "SubnetworkSecondaryRange", "secondaryIpRanges[].rangeName")

field_rules(
    "gcp:container/cluster:Cluster",
    FieldRule(
        "name",
        (Pattern(GKE_NAME, "lowercase letters, digits and '-', at most 40, starting with a letter"),),
        _dd("container", "Cluster", "name") + ": 'up to 40 characters'",
        GOOGLE,
    ),
    FieldRule(
        "masterAuthorizedNetworksConfig.cidrBlocks",
        (Length(0, 50),),
        _dd("container", "MasterAuthorizedNetworksConfig", "cidrBlocks") + ": 'up to 50 external networks'",
        GOOGLE,
    ),
)
field_rules(
    "gcp:container/nodePool:NodePool",
    FieldRule(
        "name",
        (Pattern(GKE_NAME, "lowercase letters, digits and '-', at most 40, starting with a letter"),),
        "GKE API error for node_pool.name: \"Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?)' ... "
        'must be no longer than 40 characters" (pulumi/pulumi-gcp#1510)',
        GOOGLE,
    ),
)
field_rules(
    "gcp:serviceaccount/account:Account",
    FieldRule(
        "accountId",
        (Pattern(r"[a-z]([-a-z0-9]{4,28}[a-z0-9])", "6-30 lowercase letters, digits and '-', starting with a letter"),),
        _dd("iam", "CreateServiceAccountRequest", "accountId")
        + ": 'must be 6-30 characters long, and match the regular expression [a-z]([-a-z0-9]*[a-z0-9])'",
        GOOGLE,
    ),
    FieldRule(
        "displayName",
        (Length(0, 100, utf8_bytes=True),),
        _dd("iam", "ServiceAccount", "displayName") + ": 'The maximum length is 100 UTF-8 bytes'",
        GOOGLE,
    ),
)
field_rules(
    "gcp:projects/iAMCustomRole:IAMCustomRole",
    FieldRule(
        "roleId",
        (Pattern(r"[a-zA-Z0-9_.]{3,64}", "3-64 letters, digits, '_' and '.'"),),
        _dd("iam", "CreateRoleRequest", "roleId")
        + ": 'alphanumeric characters, underscores (_), and periods (.) ... a minimum of 3 characters and a maximum "
        "of 64 characters'",
        GOOGLE,
    ),
    FieldRule(
        "title",
        (Length(0, 100, utf8_bytes=True),),
        _dd("iam", "Role", "title") + ": 'Typically this is limited to 100 UTF-8 bytes'",
        GOOGLE,
    ),
)
for _type, _field, _schema, _create in (
    (
        "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
        "workloadIdentityPoolId",
        "WorkloadIdentityPool",
        "projects.locations.workloadIdentityPools.create",
    ),
    (
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
        "workloadIdentityPoolProviderId",
        "WorkloadIdentityPoolProvider",
        "projects.locations.workloadIdentityPools.providers.create",
    ),
):
    field_rules(
        _type,
        FieldRule(
            _field,
            (Pattern(r"(?!gcp-)[a-z0-9-]{4,32}", "4-32 lowercase letters, digits and '-', not starting with gcp-"),),
            _method("iam", _create, _field) + ": '4-32 characters, and may contain the characters [a-z0-9-]. "
            "The prefix gcp- is reserved for use by Google'",
            GOOGLE,
        ),
        FieldRule(
            "displayName",
            (Length(0, 32),),
            _dd("iam", _schema, "displayName") + ": 'Cannot exceed 32 characters'",
            GOOGLE,
        ),
        FieldRule(
            "description",
            (Length(0, 256),),
            _dd("iam", _schema, "description") + ": 'Cannot exceed 256 characters'",
            GOOGLE,
        ),
    )
for _type, _create, _parameter in (
    ("gcp:kms/keyRing:KeyRing", "projects.locations.keyRings.create", "keyRingId"),
    ("gcp:kms/cryptoKey:CryptoKey", "projects.locations.keyRings.cryptoKeys.create", "cryptoKeyId"),
):
    field_rules(
        _type,
        FieldRule(
            "name",
            (Pattern(r"[a-zA-Z0-9_-]{1,63}", "1-63 letters, digits, '_' and '-'"),),
            _method("cloudkms", _create, _parameter) + ": 'match the regular expression [a-zA-Z0-9_-]{1,63}'",
            GOOGLE,
        ),
    )
field_rules(
    "gcp:dns/managedZone:ManagedZone",
    FieldRule(
        "name",
        (Pattern(GCE_NAME, "1-63 lowercase letters, digits and '-', starting with a letter, ending alphanumeric"),),
        _dd("dns", "ManagedZone", "name") + ": '1-63 characters long, must begin with a letter, end with a letter "
        "or digit, and only contain lowercase letters, digits or dashes'",
        GOOGLE,
    ),
    FieldRule(
        "description",
        (Length(1, 1024),),
        _dd("dns", "ManagedZone", "description") + ": 'A mutable string of at most 1024 characters'",
        GOOGLE,
    ),
    # The provider sends dns_name as given (no dot added): the API refuses a name without its final dot.
    FieldRule(
        "dnsName",
        (Pattern(r"(?:[^.]+\.)+", "a fully qualified name ending with '.' (no empty label)"),),
        _dd("dns", "ManagedZone", "dnsName") + ": 'The DNS name of this managed zone, for instance \"example.com.\"'; "
        "the API: \"Invalid value for 'entity.managedZone.dnsName': 'example.com'\" (googleapis/python-dns#5), "
        "and for 'example.com..' (vmware-archive/terraforming-gcp#89); pulumi-gcp passes dnsName through unchanged "
        "(https://www.pulumi.com/registry/packages/gcp/api-docs/dns/managedzone/, terraform-provider-google#1310)",
        GOOGLE,
    ),
)
field_rules(
    "gcp:storage/bucket:Bucket",
    FieldRule(
        "name",
        (
            Length(3, 63),
            Pattern(
                r"(?!goog)(?!.*g(?:oo|0o|o0|00)gle)[a-z0-9][a-z0-9_-]*[a-z0-9]",
                "lowercase letters, digits, '-' and '_', starting and ending alphanumeric, not goog-prefixed, "
                "without 'google' or 'g00gle'",
            ),
        ),
        "Cloud Storage bucket naming requirements: 3-63 characters, 'cannot begin with the goog prefix', 'cannot "
        "contain google or close misspellings, such as g00gle'; dotted names need domain verification "
        "(https://cloud.google.com/storage/docs/buckets#naming)",
        GOOGLE,
    ),
)
field_rules(
    "gcp:compute/healthCheck:HealthCheck",
    FieldRule("checkIntervalSec", (Between(1, 300),), _dd("compute", "HealthCheck", "checkIntervalSec"), GOOGLE),
    FieldRule("unhealthyThreshold", (Between(1, 10),), _dd("compute", "HealthCheck", "unhealthyThreshold"), GOOGLE),
    FieldRule("healthyThreshold", (Between(1, 10),), _dd("compute", "HealthCheck", "healthyThreshold"), GOOGLE),
)
field_rules(
    "gcp:compute/routerPeer:RouterPeer",
    FieldRule(
        "advertisedRoutePriority",
        (Between(0, 65535),),
        _dd("compute", "RouterBgpPeer", "advertisedRoutePriority"),
        GOOGLE,
    ),
)
field_rules(
    "gcp:compute/firewall:Firewall",
    FieldRule("priority", (Between(0, 65535),), _dd("compute", "Firewall", "priority"), GOOGLE),
)

# Pulumi input -> the discovery schema field whose enum it must be in.
ENUM_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("gcp:container/cluster:Cluster", "releaseChannel.channel", "container", "ReleaseChannel", "channel"),
    ("gcp:container/cluster:Cluster", "datapathProvider", "container", "NetworkConfig", "datapathProvider"),
    ("gcp:container/cluster:Cluster", "databaseEncryption.state", "container", "DatabaseEncryption", "state"),
    (
        "gcp:container/cluster:Cluster",
        "loggingConfig.enableComponents[]",
        "container",
        "LoggingComponentConfig",
        "enableComponents",
    ),
    (
        "gcp:container/cluster:Cluster",
        "monitoringConfig.enableComponents[]",
        "container",
        "MonitoringComponentConfig",
        "enableComponents",
    ),
    ("gcp:container/cluster:Cluster", "securityPostureConfig.mode", "container", "SecurityPostureConfig", "mode"),
    (
        "gcp:container/nodePool:NodePool",
        "nodeConfig.workloadMetadataConfig.mode",
        "container",
        "WorkloadMetadataConfig",
        "mode",
    ),
    ("gcp:container/nodePool:NodePool", "upgradeSettings.strategy", "container", "UpgradeSettings", "strategy"),
    (
        "gcp:container/nodePool:NodePool",
        "autoscaling.locationPolicy",
        "container",
        "NodePoolAutoscaling",
        "locationPolicy",
    ),
    (
        "gcp:compute/subnetwork:Subnetwork",
        "logConfig.aggregationInterval",
        "compute",
        "SubnetworkLogConfig",
        "aggregationInterval",
    ),
    ("gcp:compute/subnetwork:Subnetwork", "logConfig.metadata", "compute", "SubnetworkLogConfig", "metadata"),
    ("gcp:compute/routerNat:RouterNat", "natIpAllocateOption", "compute", "RouterNat", "natIpAllocateOption"),
    (
        "gcp:compute/routerNat:RouterNat",
        "sourceSubnetworkIpRangesToNat",
        "compute",
        "RouterNat",
        "sourceSubnetworkIpRangesToNat",
    ),
    ("gcp:compute/routerNat:RouterNat", "logConfig.filter", "compute", "RouterNatLogConfig", "filter"),
    ("gcp:compute/router:Router", "bgp.advertiseMode", "compute", "RouterBgp", "advertiseMode"),
    ("gcp:compute/router:Router", "bgp.advertisedGroups[]", "compute", "RouterBgp", "advertisedGroups"),
    ("gcp:compute/firewall:Firewall", "direction", "compute", "Firewall", "direction"),
    (
        "gcp:compute/externalVpnGateway:ExternalVpnGateway",
        "redundancyType",
        "compute",
        "ExternalVpnGateway",
        "redundancyType",
    ),
    ("gcp:compute/network:Network", "routingMode", "compute", "NetworkRoutingConfig", "routingMode"),
    ("gcp:dns/managedZone:ManagedZone", "visibility", "dns", "ManagedZone", "visibility"),
    ("gcp:dns/managedZone:ManagedZone", "dnssecConfig.state", "dns", "ManagedZoneDnsSecConfig", "state"),
    ("gcp:kms/cryptoKey:CryptoKey", "purpose", "cloudkms", "CryptoKey", "purpose"),
)


def _register_enums() -> None:
    for type_, path, api, schema, field in ENUM_FIELDS:
        constraints, source = discovery_enum(api, "v1", schema, field)
        field_rules(type_, FieldRule(path, constraints, source, GOOGLE))


_register_enums()


def reject(observed: Observed, rule: str, source: str) -> Finding:
    return Finding(observed.urn, GOOGLE, rule, source)


@resource_check("gcp:compute/healthCheck:HealthCheck")
def health_check(observed: Observed) -> Iterator[Finding]:
    inputs = observed.inputs
    interval, timeout = inputs.get("checkIntervalSec"), inputs.get("timeoutSec")
    regions = inputs.get("sourceRegions")
    source = _dd("compute", "HealthCheck", "sourceRegions")
    if is_list(regions) and regions:
        if len(regions) != 3:
            yield reject(observed, f"sourceRegions has {len(regions)} regions: exactly 3 are required", source)
        if isinstance(interval, int | float) and interval < 30:
            yield reject(observed, f"checkIntervalSec {interval} is below 30, the minimum with sourceRegions", source)
    if isinstance(interval, int | float) and isinstance(timeout, int | float) and timeout > interval:
        yield reject(
            observed,
            f"timeoutSec {timeout} is greater than checkIntervalSec {interval}",
            _dd("compute", "HealthCheck", "timeoutSec"),
        )


@resource_check("gcp:kms/cryptoKey:CryptoKey")
def rotation_period(observed: Observed) -> Iterator[Finding]:
    for _, period in values_at(observed.inputs, "rotationPeriod"):
        seconds = _seconds(period)
        if seconds is not None and not 86400 <= seconds <= 876000 * 3600:
            yield reject(
                observed,
                f"rotationPeriod {period} is outside 24 hours to 876,000 hours",
                _dd("cloudkms", "CryptoKey", "rotationPeriod"),
            )


def _seconds(value: Any) -> float | None:
    if isinstance(value, str) and value.endswith("s"):
        try:
            return float(value[:-1])
        except ValueError:
            return None
    return None


@resource_check("gcp:storage/bucket:Bucket")
def soft_delete(observed: Observed) -> Iterator[Finding]:
    for _, seconds in values_at(observed.inputs, "softDeletePolicy.retentionDurationSeconds"):
        if isinstance(seconds, int | float) and seconds != 0 and not 604800 <= seconds <= 7776000:
            yield reject(
                observed,
                f"softDeletePolicy.retentionDurationSeconds {seconds} is neither 0 nor 7 to 90 days",
                _dd("storage", "Bucket", "softDeletePolicy.retentionDurationSeconds"),
            )


LABEL_FIELDS = {
    "gcp:container/cluster:Cluster": "resourceLabels",
    "gcp:storage/bucket:Bucket": "labels",
    "gcp:kms/cryptoKey:CryptoKey": "labels",
    "gcp:dns/managedZone:ManagedZone": "labels",
    "gcp:compute/haVpnGateway:HaVpnGateway": "labels",
    "gcp:compute/externalVpnGateway:ExternalVpnGateway": "labels",
    "gcp:compute/vPNTunnel:VPNTunnel": "labels",
}


@resource_check(*LABEL_FIELDS)
def labels(observed: Observed) -> Iterator[Finding]:
    import regex

    given = observed.inputs.get(LABEL_FIELDS[observed.type])
    defaults = _provider_labels(observed.provider)
    own: dict[str, Any] = given if is_map(given) else {}
    merged: dict[object, Any] = {**defaults, **own}  # keys checked below: a label key may be any value
    if len(merged) > 64:
        yield reject(observed, f"{len(merged)} labels (with the provider's default labels), at most 64", LABELS_DOC)
    for key, value in merged.items():
        if not isinstance(key, str) or not regex.fullmatch(LABEL_KEY, key):
            yield reject(
                observed, f"label key '{key}' is not lowercase letters, digits, '_' and '-' (1-63)", LABELS_DOC
            )
        if isinstance(value, str) and not regex.fullmatch(LABEL_VALUE, value):
            yield reject(
                observed, f"label '{key}' value '{value}' is not lowercase letters, digits, '_' and '-'", LABELS_DOC
            )


def _provider_labels(provider: dict[str, Any]) -> dict[str, Any]:
    import json

    value = provider.get("defaultLabels")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if is_map(value) else {}


# --- GKE control plane ---------------------------------------------------------------------------------

RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


@resource_check("gcp:container/cluster:Cluster")
def authorized_networks(observed: Observed) -> Iterator[Finding]:
    private_endpoint = value_at(observed.inputs, "privateClusterConfig.enablePrivateEndpoint") is True
    peering = bool(value_at(observed.inputs, "privateClusterConfig.masterIpv4CidrBlock"))
    if not (private_endpoint and peering):
        return
    for _, block in values_at(observed.inputs, "masterAuthorizedNetworksConfig.cidrBlocks[].cidrBlock"):
        try:
            network = ipaddress.ip_network(block)
        except ValueError:
            continue
        if not any(subnet_of(network, r) for r in RFC1918 if network.version == r.version):
            yield reject(
                observed,
                f"authorized network {block} is not a private (RFC 1918) range, which a private endpoint requires "
                "(100.64.0.0/10 and public ranges are refused or not documented as accepted)",
                f"GKE API: 'is not a reserved network, which is required for private endpoints' "
                f"({AUTHORIZED_NETWORKS_DOC})",
            )


WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
WINDOW_DAYS = 32
REQUIRED_HOURS = 48
MINIMUM_BLOCK = timedelta(hours=4)


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def recurring_windows(start: datetime, end: datetime, rule: str, until: datetime) -> list[tuple[datetime, datetime]]:
    """The occurrences of a recurring window (RFC 5545 FREQ=DAILY or WEEKLY, BYDAY, INTERVAL) up to `until`."""
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    freq, interval = parts.get("FREQ"), int(parts.get("INTERVAL", "1"))
    days = [WEEKDAYS[d] for d in parts.get("BYDAY", "").split(",") if d in WEEKDAYS]
    length = end - start
    occurrences: list[tuple[datetime, datetime]] = []
    if freq == "DAILY":
        step, current = timedelta(days=interval), start
        while current < until:
            occurrences.append((current, current + length))
            current += step
    elif freq == "WEEKLY":
        week_start = start - timedelta(days=start.weekday())
        weekdays = days or [start.weekday()]
        week = 0
        while week_start + timedelta(weeks=week) < until:
            for day in weekdays:
                begin = week_start + timedelta(weeks=week, days=day)
                begin = begin.replace(hour=start.hour, minute=start.minute, second=start.second)
                if begin >= start:
                    occurrences.append((begin, begin + length))
            week += interval
    else:
        raise ValueError(f"recurrence {rule!r} (only FREQ=DAILY and FREQ=WEEKLY can be checked offline)")
    return occurrences


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def least_availability(
    windows: list[tuple[datetime, datetime]], origin: datetime, horizon: timedelta
) -> tuple[float, datetime]:
    """Hours of maintenance availability in the worst 32-day window (blocks of 4 h or more), and its start."""
    blocks = [(b, e) for b, e in _merge(windows) if e - b >= MINIMUM_BLOCK]
    span = timedelta(days=WINDOW_DAYS)
    last = origin + horizon - span
    # The hours in [start, start + 32 days) are piecewise linear in `start`: the least is where the window
    # starts or ends at a block's edge (or at the ends of the range), so those starts are all to try.
    edges = {origin, last}
    for b, e in blocks:
        edges.update((b, e, b - span, e - span))
    worst, worst_start = float("inf"), origin
    for start in sorted(t for t in edges if origin <= t <= last):
        stop = start + span
        hours = sum(max(0.0, (min(e, stop) - max(b, start)).total_seconds()) for b, e in blocks) / 3600
        if hours < worst:
            worst, worst_start = hours, start
    return worst, worst_start


@resource_check("gcp:container/cluster:Cluster")
def maintenance_availability(observed: Observed) -> Iterator[Finding]:
    window = value_at(observed.inputs, "maintenancePolicy.recurringWindow")
    if not is_map(window):
        return
    start, end, rule = _time(window.get("startTime")), _time(window.get("endTime")), window.get("recurrence")
    if start is None or end is None or not isinstance(rule, str):
        return
    source = (
        "GKE maintenance windows: 'at least 48 hours of maintenance availability in a 32-day rolling window', "
        f"counting blocks of 4 hours or more ({MAINTENANCE_DOC})"
    )
    if end <= start:
        yield reject(observed, "the maintenance window ends before it starts", source)
        return
    horizon = timedelta(days=WINDOW_DAYS * 3)
    try:
        windows = recurring_windows(start, end, rule, start + horizon + timedelta(days=WINDOW_DAYS))
    except ValueError as exc:
        yield reject(observed, f"the plan cannot check the maintenance {exc}", source)
        return
    windows = _minus_exclusions(windows, value_at(observed.inputs, "maintenancePolicy.maintenanceExclusions") or [])
    hours, at = least_availability(windows, start, horizon)
    if hours < REQUIRED_HOURS:
        yield reject(
            observed,
            f"the maintenance window ({rule}, {(end - start).total_seconds() / 3600:g} h) gives only {hours:g} h "
            f"in the 32 days from {at:%Y-%m-%d}; at least {REQUIRED_HOURS} h are required",
            source,
        )


def _minus_exclusions(windows: list[tuple[datetime, datetime]], exclusions: Any) -> list[tuple[datetime, datetime]]:
    cuts: list[tuple[datetime, datetime]] = []
    for exclusion in exclusions if is_list(exclusions) else []:
        begin, end = _time(value_at(exclusion, "startTime")), _time(value_at(exclusion, "endTime"))
        if begin and end:
            cuts.append((begin, end))
    result: list[tuple[datetime, datetime]] = []
    for begin, end in windows:
        pieces = [(begin, end)]
        for cut_begin, cut_end in cuts:
            pieces = [
                piece
                for b, e in pieces
                for piece in ((b, min(e, cut_begin)), (max(b, cut_end), e))
                if piece[1] > piece[0]
            ]
        result += pieces
    return result


# --- APIs and quotas -----------------------------------------------------------------------------------

# The API each type calls (terraform-provider-google *_meta.yaml api_service_name). A project created through the
# API has none enabled (hashicorp/terraform-provider-google#14174; the console and gcloud enable a few, Cloud
# Storage among them: https://cloud.google.com/service-usage/docs/enabled-service#default), so the plan assumes
# only Service Usage, which enabling anything needs in the deployer's own project.
API_OF_TYPE = {
    "compute.googleapis.com": ("gcp:compute/",),
    "container.googleapis.com": ("gcp:container/",),
    "cloudkms.googleapis.com": ("gcp:kms/",),
    "iam.googleapis.com": ("gcp:serviceaccount/", "gcp:projects/iAMCustomRole:", "gcp:iam/"),
    "dns.googleapis.com": ("gcp:dns/",),
    "cloudresourcemanager.googleapis.com": ("gcp:projects/iAMMember:",),
    "storage.googleapis.com": ("gcp:storage/",),
    "monitoring.googleapis.com": ("gcp:monitoring/",),
}
DEFAULT_ENABLED = frozenset({"serviceusage.googleapis.com"})
# A bucket's IAM is a Cloud Storage call charged to the bucket's project, whatever the provider's project
# (https://cloud.google.com/docs/quotas/quota-project).
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
SERVICE = "gcp:projects/service:Service"
APIS_DOC = (
    "https://cloud.google.com/service-usage/docs/enable-disable (SERVICE_DISABLED: 'has not been used in project')"
)


def api_of(type_: str) -> str | None:
    for api, prefixes in API_OF_TYPE.items():
        if type_.startswith(prefixes):
            return api
    return None


@plan_check
def apis_enabled(plan: Any, context: Context) -> Iterator[Finding]:
    providers: dict[str, dict[str, Any]] = {
        r.urn: r.inputs for r in plan.resources if r.type.startswith("pulumi:providers:")
    }
    # Two Services may enable one API in one project (a cluster's and the fleet's): waiting for either will do.
    enabling: dict[tuple[str, str], set[str]] = defaultdict(set)
    for service in of_type(plan, SERVICE):
        project = service.inputs.get("project") or (providers.get(service.provider_urn or "") or {}).get("project")
        if isinstance(project, str):
            enabling[(project, str(service.inputs.get("service")))].add(service.urn)
    waits = dependency_closure(plan)
    bucket_projects = {
        str(b.outputs.get("name") or b.inputs.get("name")): b.inputs.get("project")
        for b in of_type(plan, "gcp:storage/bucket:Bucket")
    }
    for r in plan.resources:
        api = api_of(r.type) if r.custom else None
        if api is None or api in DEFAULT_ENABLED:
            continue
        project = r.inputs.get("project") or (providers.get(r.provider_urn or "") or {}).get("project")
        if r.type == BUCKET_IAM and isinstance(r.inputs.get("bucket"), str):
            project = bucket_projects.get(r.inputs["bucket"], project)
        if not isinstance(project, str):
            continue
        services = enabling.get((project, api))
        if not services:
            yield Finding(
                r.urn, GOOGLE, f"{api} is not enabled in project {project} (nothing in the plan enables it)", APIS_DOC
            )
        elif not services & waits(r.urn):
            yield Finding(
                r.urn,
                GOOGLE,
                f"it does not wait for {api} to be enabled in project {project} (no dependency on the Service)",
                APIS_DOC,
            )


@plan_check
def gcp_quotas(plan: Any, context: Context) -> Iterator[Finding]:
    peerings: dict[str, list[Any]] = defaultdict(list)
    for peering in of_type(plan, "gcp:compute/networkPeering:NetworkPeering"):
        network = peering.inputs.get("network")
        if isinstance(network, str):
            peerings[_network_key(network)].append(peering)
    # A GKE cluster on VPC Network Peering (a master CIDR) adds a peering to its network too.
    for cluster in of_type(plan, "gcp:container/cluster:Cluster"):
        if value_at(cluster.inputs, "privateClusterConfig.masterIpv4CidrBlock") and isinstance(
            cluster.inputs.get("network"), str
        ):
            peerings[_network_key(cluster.inputs["network"])].append(cluster)
    for network, members in peerings.items():
        if len(members) > 25:
            yield Finding(
                members[25].urn,
                GOOGLE,
                f"{len(members)} VPC peerings on network {network}, over the quota of 25",
                "VPC quotas: peerings per network (https://cloud.google.com/vpc/docs/quota)",
            )
    per_project: dict[tuple[str, str], list[Any]] = defaultdict(list)
    providers: dict[str, dict[str, Any]] = {
        r.urn: r.inputs for r in plan.resources if r.type.startswith("pulumi:providers:")
    }
    yield from _cloud_router_limits(plan, providers)
    for type_ in ("gcp:serviceaccount/account:Account", "gcp:projects/iAMCustomRole:IAMCustomRole"):
        for r in of_type(plan, type_):
            project = r.inputs.get("project") or (providers.get(r.provider_urn or "") or {}).get("project")
            per_project[(type_, str(project))].append(r)
    for (type_, project), members in per_project.items():
        limit = 100 if type_.endswith("Account") else 300
        if len(members) > limit:
            what = "service accounts" if limit == 100 else "custom roles"
            yield Finding(
                members[limit].urn,
                GOOGLE,
                f"{len(members)} {what} in project {project}, over the quota of {limit}",
                "IAM quotas (https://cloud.google.com/iam/quotas)",
            )


ROUTER_LIMITS_DOC = "https://cloud.google.com/network-connectivity/docs/router/quotas"
ROUTERS_PER_NETWORK_REGION = 5
BGP_PEERS_PER_ROUTER = 128


def _located(r: Any, providers: dict[str, dict[str, Any]], key: str) -> str | None:
    """A regional resource's project or region: its own input, else its provider's."""
    value = r.inputs.get(key) or (providers.get(r.provider_urn or "") or {}).get(key)
    return value if isinstance(value, str) and value else None


def _cloud_router_limits(plan: Any, providers: dict[str, dict[str, Any]]) -> Iterator[Finding]:
    """Cloud Router system limits (not quotas: they cannot be raised). Cloud NAT's routers count too."""
    routers: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for router in of_type(plan, "gcp:compute/router:Router"):
        project, region = _located(router, providers, "project"), _located(router, providers, "region")
        network = router.inputs.get("network")
        if project and region and isinstance(network, str) and network:
            key = _network_key(network) if "/" in network else f"{project}/{network}"
            routers[(key, region, project)].append(router)
    for (network, region, _), members in routers.items():
        if len(members) > ROUTERS_PER_NETWORK_REGION:
            yield Finding(
                members[ROUTERS_PER_NETWORK_REGION].urn,
                GOOGLE,
                f"{len(members)} Cloud Routers in network {network} and region {region}, over the limit of "
                f"{ROUTERS_PER_NETWORK_REGION}",
                "Cloud Router quotas and limits: 'Maximum number of Cloud Routers per combination of VPC network and "
                f"region: 5' ({ROUTER_LIMITS_DOC})",
            )
    peers: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for peer in of_type(plan, "gcp:compute/routerPeer:RouterPeer"):
        project, region = _located(peer, providers, "project"), _located(peer, providers, "region")
        router = peer.inputs.get("router")
        if project and region and isinstance(router, str) and router:
            peers[(project, region, router.rsplit("/", 1)[-1])].append(peer)
    for (project, region, router), members in peers.items():
        if len(members) > BGP_PEERS_PER_ROUTER:
            yield Finding(
                members[BGP_PEERS_PER_ROUTER].urn,
                GOOGLE,
                f"{len(members)} BGP peers on Cloud Router {router} ({project}, {region}), over the limit of "
                f"{BGP_PEERS_PER_ROUTER}",
                "Cloud Router quotas and limits: 'Maximum number of BGP peers for each Cloud Router in a given VPC "
                f"network and region: 128' ({ROUTER_LIMITS_DOC})",
            )


RELEASE_CHANNELS_DOC = (
    "GKE release channels: nodes of a cluster enrolled in a channel always auto-upgrade; the API answers "
    "'Auto_upgrade must be true when release_channel <channel> is set' "
    "(https://cloud.google.com/kubernetes-engine/docs/concepts/release-channels)"
)


@plan_check
def node_pool_auto_upgrade(plan: Any, context: Context) -> Iterator[Finding]:
    """A node pool of a release-channel cluster cannot turn auto-upgrade off."""
    clusters = {c.urn: c for c in of_type(plan, "gcp:container/cluster:Cluster")}
    for pool in of_type(plan, "gcp:container/nodePool:NodePool"):
        if value_at(pool.inputs, "management.autoUpgrade") is not False:
            continue
        # The pool names its cluster by id (unknown on a first preview); the dependency is always there.
        for cluster in (clusters[urn] for urn in pool.dependencies if urn in clusters):
            channel = value_at(cluster.inputs, "releaseChannel.channel")
            if isinstance(channel, str) and channel != "UNSPECIFIED":
                yield Finding(
                    pool.urn,
                    GOOGLE,
                    f"management.autoUpgrade is false but its cluster is on the {channel} release channel",
                    RELEASE_CHANNELS_DOC,
                )


NETWORK_PATH = re.compile(r"projects/([^/]+)/global/networks/([^/]+)$")


def _network_key(network: str) -> str:
    """A network is named by its id or its self link in different inputs: compare project/name."""
    match = NETWORK_PATH.search(network)
    return f"{match.group(1)}/{match.group(2)}" if match else network


# IDs the caller chooses and the project holds once: a second create with the same one fails with 409 ALREADY_EXISTS
# (iam.v1 projects.serviceAccounts.create: "accountId ... unique within a project"; projects.roles.create: roleId).
PROJECT_UNIQUE_IDS: dict[str, tuple[str, str]] = {
    "gcp:serviceaccount/account:Account": ("accountId", "service account"),
    "gcp:projects/iAMCustomRole:IAMCustomRole": ("roleId", "custom role"),
}
IAM_CREATE_SOURCE = "IAM API iam.v1 projects.serviceAccounts.create / projects.roles.create: 409 ALREADY_EXISTS"


@plan_check
def project_unique_ids(plan: Any, context: Context) -> Iterator[Finding]:
    providers: dict[str, dict[str, Any]] = {
        r.urn: r.inputs for r in plan.resources if r.type.startswith("pulumi:providers:")
    }
    first: dict[tuple[str, str, str], str] = {}
    for r in plan.resources:
        unique = PROJECT_UNIQUE_IDS.get(r.type)
        if unique is None:
            continue
        key, what = unique
        project = r.inputs.get("project") or (providers.get(r.provider_urn or "") or {}).get("project")
        chosen = r.inputs.get(key)
        if not isinstance(project, str) or not isinstance(chosen, str):
            continue
        seen = first.setdefault((r.type, project, chosen), r.urn)
        if seen != r.urn:
            yield Finding(
                r.urn,
                GOOGLE,
                f"{what} '{chosen}' already exists in project {project} (created by {seen.rsplit('::', 1)[-1]})",
                IAM_CREATE_SOURCE,
            )


@resource_check("gcp:billing/budget:Budget")
def billing_budget(observed: Observed) -> Iterator[Finding]:
    inputs = observed.inputs
    channels: Any = value_at(inputs, "allUpdatesRule.monitoringNotificationChannels")
    if is_list(channels) and len(channels) > 5:
        yield reject(
            observed,
            f"{len(channels)} monitoringNotificationChannels: at most 5",
            _dd("billingbudgets", "GoogleCloudBillingBudgetsV1NotificationsRule", "monitoringNotificationChannels"),
        )
    labels: Any = value_at(inputs, "budgetFilter.labels")
    if is_map(labels) and len(labels) > 1:
        yield reject(
            observed,
            f"budgetFilter.labels has {len(labels)} labels: one label and value pair is allowed",
            _dd("billingbudgets", "GoogleCloudBillingBudgetsV1Filter", "labels"),
        )
