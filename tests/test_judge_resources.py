"""The judge's resource checks (rules over several inputs of one resource), each one both ways.

Every check is called on the inputs a provider's Check would see (Observed): an accepted case gives no
finding, a refused one exactly the expected finding and message. An unknown value (a first preview) is
never a finding. Each check is also registered for its types, so the CLI's observer runs it.
"""

from __future__ import annotations

import json

import pytest

from offline_plan.judge import PREFIX_CHECKS, RESOURCE_CHECKS, aws, check_resource, gcp, kubernetes
from offline_plan.mocks import Observed
from offline_plan.values import UNKNOWN

URN = "urn:pulumi:test::multicluster::t::thing"
ROUTE53_API = "https://docs.aws.amazon.com/Route53/latest/APIReference"


def found(check, type_: str, inputs: dict, provider: dict | None = None) -> list[str]:
    return [str(f) for f in check(Observed(URN, type_, "thing", inputs, provider or {}))]


def rejected(authority: str, rule: str, source: str) -> str:
    return f"{URN} would be rejected by {authority}: {rule} ({source})"


@pytest.mark.parametrize(
    ("check", "types"),
    [
        (aws.eks_service_range, ["aws:eks/cluster:Cluster"]),
        (aws.amazon_side_asn, ["aws:ec2/vpnGateway:VpnGateway", "aws:ec2transitgateway/transitGateway:TransitGateway"]),
        (aws.customer_gateway, ["aws:ec2/customerGateway:CustomerGateway"]),
        (aws.vpn_tunnels, ["aws:ec2/vpnConnection:VpnConnection"]),
        (aws.route53_record, ["aws:route53/record:Record"]),
        (aws.route53_health_check, ["aws:route53/healthCheck:HealthCheck"]),
        (aws.trust_policy_size, ["aws:iam/role:Role"]),
        (gcp.health_check, ["gcp:compute/healthCheck:HealthCheck"]),
        (gcp.rotation_period, ["gcp:kms/cryptoKey:CryptoKey"]),
        (gcp.soft_delete, ["gcp:storage/bucket:Bucket"]),
        (gcp.labels, list(gcp.LABEL_FIELDS)),
        (gcp.authorized_networks, ["gcp:container/cluster:Cluster"]),
        (gcp.maintenance_availability, ["gcp:container/cluster:Cluster"]),
        (kubernetes.data_keys, ["kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap"]),
        (kubernetes.release_name, ["kubernetes:helm.sh/v3:Release"]),
    ],
)
def test_every_resource_check_is_registered_for_its_types(check, types):
    for type_ in types:
        assert check in RESOURCE_CHECKS[type_]
    assert ("kubernetes:", kubernetes.object_metadata) in PREFIX_CHECKS


# --- AWS ----------------------------------------------------------------------------------------------

EKS = "aws:eks/cluster:Cluster"
SERVICE_SOURCE = (
    "AWS API model eks KubernetesNetworkConfigRequest.serviceIpv4Cidr: 'Within one of the following private IP "
    "address blocks: 10.0.0.0/8, 172.16.0.0/12, or 192.168.0.0/16 ... Between /24 and /12' "
    "(https://docs.aws.amazon.com/eks/latest/APIReference/API_KubernetesNetworkConfigRequest.html)"
)


@pytest.mark.parametrize("cidr", ["172.20.0.0/16", "10.100.0.0/24", "192.168.0.0/16", UNKNOWN])
def test_an_eks_service_range_inside_rfc1918_between_24_and_12_is_accepted(cidr):
    assert found(aws.eks_service_range, EKS, {"kubernetesNetworkConfig": {"serviceIpv4Cidr": cidr}}) == []


@pytest.mark.parametrize(
    ("cidr", "rule"),
    [
        ("not-a-cidr", "service CIDR 'not-a-cidr' is not a CIDR block"),
        ("100.64.0.0/16", "service CIDR 100.64.0.0/16 is not within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"),
        ("10.0.0.0/25", "service CIDR 10.0.0.0/25 must be between /24 and /12"),
        ("10.0.0.0/11", "service CIDR 10.0.0.0/11 must be between /24 and /12"),
    ],
)
def test_an_eks_service_range_outside_the_model_s_rules_is_refused(cidr, rule):
    inputs = {"kubernetesNetworkConfig": {"serviceIpv4Cidr": cidr}}
    assert found(aws.eks_service_range, EKS, inputs) == [rejected("AWS", rule, SERVICE_SOURCE)]


ASN_SOURCE = (
    "Amazon EC2 API Reference, CreateVpnGateway AmazonSideAsn: 'If you're using a 16-bit ASN, it must be in the "
    "64512 to 65534 range. If you're using a 32-bit ASN, it must be in the 4200000000 to 4294967294 range' "
    "(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpnGateway.html)"
)


@pytest.mark.parametrize("asn", ["64512", 65534, "4200000000", 4294967294, UNKNOWN])
def test_a_private_amazon_side_asn_is_accepted(asn):
    assert found(aws.amazon_side_asn, "aws:ec2/vpnGateway:VpnGateway", {"amazonSideAsn": asn}) == []


@pytest.mark.parametrize("asn", ["65535", 64511, "4294967295", 7224])
def test_a_public_or_reserved_amazon_side_asn_is_refused(asn):
    assert found(aws.amazon_side_asn, "aws:ec2/vpnGateway:VpnGateway", {"amazonSideAsn": asn}) == [
        rejected("AWS", f"amazonSideAsn {asn} is not a private ASN (64512-65534 or 4200000000-4294967294)", ASN_SOURCE)
    ]


CGW_SOURCE = (
    "Amazon EC2 API Reference, CreateCustomerGateway BgpAsn: 'Valid values: 1 to 2,147,483,647' "
    "(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateCustomerGateway.html)"
)


@pytest.mark.parametrize(
    ("asn", "ok"), [("64793", True), (1, True), (2147483647, True), ("0", False), (2147483648, False)]
)
def test_a_customer_gateway_bgp_asn_is_within_1_to_2147483647(asn, ok):
    expected = (
        [] if ok else [rejected("AWS", f"bgpAsn {asn} is outside 1-2147483647 (use bgpAsnExtended above)", CGW_SOURCE)]
    )
    assert found(aws.customer_gateway, "aws:ec2/customerGateway:CustomerGateway", {"bgpAsn": asn}) == expected


VPN = "aws:ec2/vpnConnection:VpnConnection"
VPN_SOURCE = (
    "Amazon EC2 API Reference, VpnTunnelOptionsSpecification TunnelInsideCidr ('A size /30 CIDR block from the "
    "169.254.0.0/16 range', seven reserved blocks) and PreSharedKey ('alphanumeric characters, periods (.), and "
    "underscores (_) ... between 8 and 64 characters ... cannot start with zero'); "
    "https://docs.aws.amazon.com/vpn/latest/s2svpn/VPNTunnels.html"
)
GOOD_TUNNELS = {
    "tunnel1InsideCidr": "169.254.102.0/30",
    "tunnel2InsideCidr": "169.254.102.4/30",
    "tunnel1PresharedKey": "Abc.def_12345678",
    "tunnel2PresharedKey": "x" * 64,
}


def test_vpn_tunnels_with_distinct_link_local_30s_and_valid_keys_are_accepted(staging):
    assert found(aws.vpn_tunnels, VPN, GOOD_TUNNELS) == []
    assert found(aws.vpn_tunnels, VPN, {"tunnel1InsideCidr": UNKNOWN, "tunnel1PresharedKey": UNKNOWN}) == []
    for connection in staging.of_type(VPN):
        assert found(aws.vpn_tunnels, VPN, connection.checked) == []


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"tunnel1InsideCidr": "169.254.10.0/29"}, "tunnel1InsideCidr 169.254.10.0/29 is not a /30 in 169.254.0.0/16"),
        ({"tunnel2InsideCidr": "10.0.0.0/30"}, "tunnel2InsideCidr 10.0.0.0/30 is not a /30 in 169.254.0.0/16"),
        ({"tunnel1InsideCidr": "169.254.169.252/30"}, "tunnel1InsideCidr 169.254.169.252/30 is reserved by AWS"),
        ({"tunnel2InsideCidr": "169.254.5.0/30"}, "tunnel2InsideCidr 169.254.5.0/30 is reserved by AWS"),
        ({"tunnel2InsideCidr": "169.254.102.0/30"}, "both tunnels use the same inside CIDR"),
    ],
)
def test_vpn_tunnel_inside_cidrs_outside_the_rules_are_refused(change, rule):
    assert found(aws.vpn_tunnels, VPN, {**GOOD_TUNNELS, **change}) == [rejected("AWS", rule, VPN_SOURCE)]


@pytest.mark.parametrize("key", ["short7x", "0startswithzero", "has-a-dash", "y" * 65])
def test_a_vpn_pre_shared_key_outside_the_rules_is_refused(key):
    rule = "tunnel2PresharedKey must be 8-64 characters of A-Z a-z 0-9 . _ and not start with 0"
    assert found(aws.vpn_tunnels, VPN, {**GOOD_TUNNELS, "tunnel2PresharedKey": key}) == [
        rejected("AWS", rule, VPN_SOURCE)
    ]


RECORD = "aws:route53/record:Record"
RECORD_SOURCE = (
    "Amazon Route 53 API Reference, ResourceRecordSet: one routing policy per record set, SetIdentifier for every "
    f"policy but simple, TTL and ResourceRecords omitted for an alias ({ROUTE53_API}/API_ResourceRecordSet.html)"
)
ALIAS = [{"name": "lb.example.com", "zoneId": "Z26RNL4JYFTOTI", "evaluateTargetHealth": True}]


def test_the_shipped_dns_records_and_plain_records_are_accepted(staging):
    for record in staging.of_type(RECORD):
        assert found(aws.route53_record, RECORD, record.checked) == []
    assert found(aws.route53_record, RECORD, {"records": ["1.2.3.4"], "ttl": 60}) == []
    assert found(aws.route53_record, RECORD, {"aliases": ALIAS}) == []


@pytest.mark.parametrize(
    ("inputs", "rule"),
    [
        (
            {
                "aliases": ALIAS,
                "setIdentifier": "a",
                "weightedRoutingPolicies": [{"weight": 1}],
                "latencyRoutingPolicies": [{"region": "us-east-1"}],
            },
            "record sets latencyRoutingPolicies, weightedRoutingPolicies: only one routing policy is allowed",
        ),
        (
            {"aliases": ALIAS, "failoverRoutingPolicies": [{"type": "PRIMARY"}]},
            "record with failoverRoutingPolicies has no setIdentifier",
        ),
        ({"aliases": ALIAS, "setIdentifier": "a"}, "setIdentifier is set but no routing policy"),
        ({"aliases": ALIAS, "ttl": 60}, "an alias record cannot have ttl or records"),
        ({"records": ["1.2.3.4"]}, "a non-alias record needs a ttl"),
    ],
)
def test_a_record_set_against_route53_s_rules_is_refused(inputs, rule):
    assert found(aws.route53_record, RECORD, inputs) == [rejected("AWS", rule, RECORD_SOURCE)]


HEALTH = "aws:route53/healthCheck:HealthCheck"
HEALTH_SOURCE = f"Amazon Route 53 API Reference, HealthCheckConfig ({ROUTE53_API}/API_HealthCheckConfig.html)"
IP_SOURCE = (
    "Amazon Route 53 API Reference, HealthCheckConfig IPAddress: 'Route 53 can't check the health of endpoints for "
    f"which the IP address is in local, private, non-routable, or multicast ranges' "
    f"({ROUTE53_API}/API_HealthCheckConfig.html)"
)


def test_the_shipped_health_checks_and_a_public_tcp_check_are_accepted(staging):
    for check in staging.of_type(HEALTH):
        assert found(aws.route53_health_check, HEALTH, check.checked) == []
    assert found(aws.route53_health_check, HEALTH, {"type": "TCP", "ipAddress": "34.89.158.161", "port": 443}) == []
    assert found(aws.route53_health_check, HEALTH, {"type": "HTTPS", "ipAddress": UNKNOWN}) == []


@pytest.mark.parametrize(
    ("inputs", "rule", "source"),
    [
        ({"type": "HTTPS", "port": 443}, "a HTTPS health check needs ipAddress or fqdn", HEALTH_SOURCE),
        (
            {"type": "HTTP", "fqdn": "a.example.com", "enableSni": True},
            "enableSni applies to HTTPS checks only",
            HEALTH_SOURCE,
        ),
        (
            {"type": "TCP", "fqdn": "a.example.com", "resourcePath": "/"},
            "a TCP health check takes no resourcePath",
            "Route 53 InvalidInput: 'TCP health checks must not have a resource path specificed.' (boto/boto#2221)",
        ),
        (
            {"type": "TCP", "fqdn": "a.example.com", "ipAddress": "34.89.158.161"},
            "a TCP health check with an ipAddress takes no fqdn",
            "Route 53 InvalidInput: 'TCP health checks that have IP address must not have a fully qualified domain "
            "name specified.' (aws/aws-sdk-php#1527)",
        ),
        ({"type": "HTTP", "ipAddress": "10.1.2.3"}, "ipAddress 10.1.2.3 is not publicly routable", IP_SOURCE),
        ({"type": "HTTP", "ipAddress": "100.64.1.1"}, "ipAddress 100.64.1.1 is not publicly routable", IP_SOURCE),
        ({"type": "HTTP", "ipAddress": "224.0.0.1"}, "ipAddress 224.0.0.1 is not publicly routable", IP_SOURCE),
        ({"type": "HTTP", "ipAddress": "192.0.2.10"}, "ipAddress 192.0.2.10 is not publicly routable", IP_SOURCE),
    ],
)
def test_a_health_check_against_route53_s_rules_is_refused(inputs, rule, source):
    assert found(aws.route53_health_check, HEALTH, inputs) == [rejected("AWS", rule, source)]


def test_a_trust_policy_is_counted_without_whitespace_against_2048():
    statement = {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    fits = json.dumps({"Version": "2012-10-17", "Statement": [statement] * 20}, indent=4)
    size = len(json.dumps(json.loads(fits), separators=(",", ":")))
    assert size <= 2048 < len(fits)  # whitespace does not count
    assert found(aws.trust_policy_size, "aws:iam/role:Role", {"assumeRolePolicy": fits}) == []
    over = json.dumps({"Version": "2012-10-17", "Statement": [statement] * 30})
    size = len(json.dumps(json.loads(over), separators=(",", ":")))
    assert found(aws.trust_policy_size, "aws:iam/role:Role", {"assumeRolePolicy": over}) == [
        rejected(
            "AWS",
            f"the trust policy has {size} characters (without whitespace), over the default quota of 2048",
            "IAM quotas: role trust policy length (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)",
        )
    ]
    assert found(aws.trust_policy_size, "aws:iam/role:Role", {"assumeRolePolicy": UNKNOWN}) == []


# --- Google Cloud -------------------------------------------------------------------------------------

GOOGLE = "Google Cloud"
HC = "gcp:compute/healthCheck:HealthCheck"
DD = "Google API discovery document"


def test_a_gcp_health_check_within_its_rules_is_accepted():
    assert (
        found(gcp.health_check, HC, {"checkIntervalSec": 30, "timeoutSec": 5, "sourceRegions": ["a", "b", "c"]}) == []
    )
    assert found(gcp.health_check, HC, {"checkIntervalSec": 5, "timeoutSec": 5}) == []


@pytest.mark.parametrize(
    ("inputs", "rule", "field"),
    [
        ({"sourceRegions": ["a", "b"]}, "sourceRegions has 2 regions: exactly 3 are required", "sourceRegions"),
        (
            {"sourceRegions": ["a", "b", "c"], "checkIntervalSec": 10},
            "checkIntervalSec 10 is below 30, the minimum with sourceRegions",
            "sourceRegions",
        ),
        ({"checkIntervalSec": 5, "timeoutSec": 6}, "timeoutSec 6 is greater than checkIntervalSec 5", "timeoutSec"),
    ],
)
def test_a_gcp_health_check_against_its_rules_is_refused(inputs, rule, field):
    assert found(gcp.health_check, HC, inputs) == [rejected(GOOGLE, rule, f"{DD} compute v1 HealthCheck.{field}")]


@pytest.mark.parametrize(
    ("period", "ok"),
    [("86400s", True), ("7776000s", True), (UNKNOWN, True), ("3600s", False), (f"{876000 * 3600 + 1}s", False)],
)
def test_a_kms_rotation_period_is_24_hours_to_876000_hours(period, ok):
    expected = (
        []
        if ok
        else [
            rejected(
                GOOGLE,
                f"rotationPeriod {period} is outside 24 hours to 876,000 hours",
                f"{DD} cloudkms v1 CryptoKey.rotationPeriod",
            )
        ]
    )
    assert found(gcp.rotation_period, "gcp:kms/cryptoKey:CryptoKey", {"rotationPeriod": period}) == expected


@pytest.mark.parametrize(
    ("seconds", "ok"), [(0, True), (604800, True), (7776000, True), (100, False), (7776001, False)]
)
def test_a_bucket_soft_delete_is_off_or_7_to_90_days(seconds, ok):
    expected = (
        []
        if ok
        else [
            rejected(
                GOOGLE,
                f"softDeletePolicy.retentionDurationSeconds {seconds} is neither 0 nor 7 to 90 days",
                f"{DD} storage v1 Bucket.softDeletePolicy.retentionDurationSeconds",
            )
        ]
    )
    inputs = {"softDeletePolicy": {"retentionDurationSeconds": seconds}}
    assert found(gcp.soft_delete, "gcp:storage/bucket:Bucket", inputs) == expected


LABELS_DOC = "https://cloud.google.com/resource-manager/docs/creating-managing-labels#requirements"
BUCKET = "gcp:storage/bucket:Bucket"


def test_labels_merged_with_the_provider_s_default_labels_are_accepted(staging):
    for type_, field in gcp.LABEL_FIELDS.items():
        for r in staging.of_type(type_):
            provider = next(p.inputs for p in staging.resources if p.urn == r.provider_urn)
            assert found(gcp.labels, type_, r.checked, provider) == [], (r.urn, field)
    assert found(gcp.labels, BUCKET, {"labels": {"team": "a", "équipe": "b-1_2"}}) == []


@pytest.mark.parametrize(
    ("labels", "provider", "rule"),
    [
        ({"Team": "a"}, {}, "label key 'Team' is not lowercase letters, digits, '_' and '-' (1-63)"),
        ({"1team": "a"}, {}, "label key '1team' is not lowercase letters, digits, '_' and '-' (1-63)"),
        ({"team": "A"}, {}, "label 'team' value 'A' is not lowercase letters, digits, '_' and '-'"),
        (
            {},
            {"defaultLabels": json.dumps({"managed-by": "Pulumi"})},
            "label 'managed-by' value 'Pulumi' is not lowercase letters, digits, '_' and '-'",
        ),
        (
            {f"k{i}": "v" for i in range(60)},
            {"defaultLabels": json.dumps({f"d{i}": "v" for i in range(5)})},
            "65 labels (with the provider's default labels), at most 64",
        ),
    ],
)
def test_labels_google_refuses_are_found_with_the_provider_s_defaults(labels, provider, rule):
    assert found(gcp.labels, BUCKET, {"labels": labels}, provider) == [rejected(GOOGLE, rule, LABELS_DOC)]


GKE = "gcp:container/cluster:Cluster"
AUTHORIZED_SOURCE = (
    "GKE API: 'is not a reserved network, which is required for private endpoints' "
    "(https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks)"
)


def gke_access(private_endpoint: bool, master: str | None, *blocks: str) -> dict:
    private = {"enablePrivateEndpoint": private_endpoint, **({"masterIpv4CidrBlock": master} if master else {})}
    return {
        "privateClusterConfig": private,
        "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": b} for b in blocks]},
    }


def test_authorized_networks_of_a_private_peering_endpoint_must_be_rfc1918(prod):
    (cluster,) = prod.of_type(GKE)
    assert found(gcp.authorized_networks, GKE, cluster.checked) == []
    assert found(gcp.authorized_networks, GKE, gke_access(True, "192.168.1.0/28", "10.0.0.0/8")) == []
    # A public endpoint, or Private Service Connect (no master CIDR): the rule is the peering endpoint's only.
    assert found(gcp.authorized_networks, GKE, gke_access(False, "192.168.1.0/28", "203.0.113.0/24")) == []
    assert found(gcp.authorized_networks, GKE, gke_access(True, None, "203.0.113.0/24")) == []
    assert found(gcp.authorized_networks, GKE, gke_access(True, "192.168.1.0/28", "100.64.0.0/10")) == [
        rejected(
            GOOGLE,
            "authorized network 100.64.0.0/10 is not a private (RFC 1918) range, which a private endpoint requires "
            "(100.64.0.0/10 and public ranges are refused or not documented as accepted)",
            AUTHORIZED_SOURCE,
        )
    ]


MAINTENANCE_SOURCE = (
    "GKE maintenance windows: 'at least 48 hours of maintenance availability in a 32-day rolling window', counting "
    "blocks of 4 hours or more (https://cloud.google.com/kubernetes-engine/docs/how-to/maintenance-window)"
)


def window(start: str, end: str, rule: str, exclusions: list | None = None) -> dict:
    policy: dict = {"recurringWindow": {"startTime": start, "endTime": end, "recurrence": rule}}
    if exclusions:
        policy["maintenanceExclusions"] = exclusions
    return {"maintenancePolicy": policy}


def test_the_shipped_maintenance_windows_give_48_hours_in_32_days(staging, prod):
    for plan in (staging, prod):
        for cluster in plan.of_type(GKE):
            assert found(gcp.maintenance_availability, GKE, cluster.checked) == []
    daily = window("2026-01-05T02:00:00Z", "2026-01-05T06:00:00Z", "FREQ=DAILY")
    assert found(gcp.maintenance_availability, GKE, daily) == []


@pytest.mark.parametrize(
    ("inputs", "rule"),
    [
        (
            window("2026-01-03T02:00:00Z", "2026-01-03T06:00:00Z", "FREQ=WEEKLY;BYDAY=SA"),
            "the maintenance window (FREQ=WEEKLY;BYDAY=SA, 4 h) gives only 16 h in the 32 days from 2026-01-03; at "
            "least 48 h are required",
        ),
        # Daily 3-hour windows are below the 4-hour blocks that count.
        (
            window("2026-01-05T02:00:00Z", "2026-01-05T05:00:00Z", "FREQ=DAILY"),
            "the maintenance window (FREQ=DAILY, 3 h) gives only 0 h in the 32 days from 2026-01-05; at least 48 h are "
            "required",
        ),
        (
            window("2026-01-05T06:00:00Z", "2026-01-05T02:00:00Z", "FREQ=DAILY"),
            "the maintenance window ends before it starts",
        ),
        (
            window("2026-01-05T02:00:00Z", "2026-01-05T06:00:00Z", "FREQ=MONTHLY;BYMONTHDAY=1"),
            "the plan cannot check the maintenance recurrence 'FREQ=MONTHLY;BYMONTHDAY=1' (only FREQ=DAILY and "
            "FREQ=WEEKLY can be checked offline)",
        ),
    ],
)
def test_maintenance_windows_short_of_48_hours_are_refused(inputs, rule):
    assert found(gcp.maintenance_availability, GKE, inputs) == [rejected(GOOGLE, rule, MAINTENANCE_SOURCE)]


def test_a_maintenance_exclusion_takes_hours_out_of_the_availability():
    rule = "FREQ=WEEKLY;BYDAY=TU,TH,SA"
    start, end = "2026-01-06T06:00:00Z", "2026-01-06T10:00:00Z"
    assert found(gcp.maintenance_availability, GKE, window(start, end, rule)) == []
    exclusion = [{"startTime": "2026-01-06T00:00:00Z", "endTime": "2026-01-26T00:00:00Z"}]
    (finding,) = found(gcp.maintenance_availability, GKE, window(start, end, rule, exclusion))
    assert "gives only " in finding and "at least 48 h are required" in finding


def test_unknown_maintenance_times_are_not_judged():
    assert found(gcp.maintenance_availability, GKE, window(UNKNOWN, UNKNOWN, "FREQ=DAILY")) == []


# --- Kubernetes -----------------------------------------------------------------------------------------

CORE = "k8s.io/kubernetes/pkg/apis/core/validation/validation.go"
APIMACHINERY = "k8s.io/apimachinery/pkg/util/validation/validation.go"


def meta(**metadata) -> dict:
    return {"metadata": metadata}


def test_the_shipped_kubernetes_objects_pass_the_api_server_s_metadata_rules(staging, prod):
    for plan in (staging, prod):
        for r in plan.resources:
            if r.custom and r.type.startswith("kubernetes:"):
                assert found(kubernetes.object_metadata, r.type, r.checked) == [], r.urn


@pytest.mark.parametrize(
    ("type_", "inputs", "rule", "source"),
    [
        (
            "kubernetes:core/v1:Namespace",
            meta(name="Team"),
            "Namespace name 'Team' is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending "
            "alphanumeric)",
            f"{CORE} ValidateNamespaceName: a DNS-1123 label",
        ),
        (
            "kubernetes:core/v1:Namespace",
            meta(name="a" * 64),
            "Namespace name '" + "a" * 64 + "' is 64 characters long (a DNS-1123 label has at most 63)",
            f"{CORE} ValidateNamespaceName: a DNS-1123 label",
        ),
        (
            "kubernetes:core/v1:Service",
            meta(name="1gateway", namespace="istio-system"),
            "Service name '1gateway' is not a DNS-1035 label (lowercase letters, digits and '-', starting with a "
            "letter)",
            f"{CORE} ValidateServiceName: a DNS-1035 label",
        ),
        (
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
            meta(name="a/b"),
            "ClusterRole name 'a/b' may not be '.', '..' or contain '/' or '%'",
            f"{CORE} ValidateRBACName: a path segment",
        ),
        (
            "kubernetes:apps/v1:Deployment",
            meta(name="my_app", namespace="default"),
            "Deployment name 'my_app' is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')",
            f"{CORE} NameIsDNSSubdomain: a DNS-1123 subdomain",
        ),
        (
            "kubernetes:batch/v1:CronJob",
            meta(name="c" * 53, namespace="velero"),
            "CronJob name '" + "c" * 53 + "' is 53 characters long (at most 52)",
            "k8s.io/kubernetes/pkg/apis/batch/validation ValidateCronJobSpec",
        ),
        (
            "kubernetes:core/v1:ConfigMap",
            meta(name="cm", namespace="Kube_System"),
            "namespace 'Kube_System' is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending "
            "alphanumeric)",
            f"{APIMACHINERY} IsDNS1123Label",
        ),
        (
            "kubernetes:core/v1:ConfigMap",
            meta(name="cm", labels={"Example.com/x": "a"}),
            "label key 'Example.com/x' has a prefix 'Example.com' that is not a DNS-1123 subdomain",
            f"{APIMACHINERY} IsQualifiedName",
        ),
        (
            "kubernetes:core/v1:ConfigMap",
            meta(name="cm", labels={"app": "v" * 64}),
            "label 'app' value '" + "v" * 64 + "' is 64 characters long (at most 63)",
            f"{APIMACHINERY} IsValidLabelValue",
        ),
        (
            "kubernetes:core/v1:ConfigMap",
            meta(name="cm", annotations={"-bad": "x"}),
            "annotation key '-bad' has a name part that is not alphanumeric with '-', '_' or '.' inside",
            f"{CORE} ValidateAnnotations",
        ),
        (
            "kubernetes:core/v1:ConfigMap",
            meta(name="cm", annotations={"big": "x" * (256 * 1024)}),
            f"annotations total {256 * 1024 + 3} bytes (at most {256 * 1024})",
            f"{CORE} ValidateAnnotationsSize",
        ),
    ],
)
def test_object_metadata_the_api_server_refuses_is_found(type_, inputs, rule, source):
    assert found(kubernetes.object_metadata, type_, inputs) == [rejected("Kubernetes", rule, source)]


def test_object_metadata_skips_unknown_names_and_helm_releases():
    assert found(kubernetes.object_metadata, "kubernetes:core/v1:Namespace", meta(name=UNKNOWN)) == []
    assert found(kubernetes.object_metadata, "kubernetes:helm.sh/v3:Release", meta(name="Not_Checked")) == []
    assert found(kubernetes.object_metadata, "kubernetes:core/v1:Service", meta(name="istio-eastwest")) == []


SECRET = "kubernetes:core/v1:Secret"


def test_secrets_and_config_maps_with_valid_keys_and_required_data_are_accepted(staging):
    for r in staging.of_type(SECRET) + staging.of_type("kubernetes:core/v1:ConfigMap"):
        assert found(kubernetes.data_keys, r.type, r.checked) == []
    tls = {"type": "kubernetes.io/tls", "stringData": {"tls.crt": "c", "tls.key": "k"}}
    assert found(kubernetes.data_keys, SECRET, tls) == []


@pytest.mark.parametrize(
    ("type_", "inputs", "rule", "source"),
    [
        (
            "kubernetes:core/v1:ConfigMap",
            {"data": {"a/b": "x"}},
            "ConfigMap key 'a/b' is not a valid key (alphanumeric, '-', '_' or '.', at most 253)",
            f"{APIMACHINERY} IsConfigMapKey",
        ),
        (
            SECRET,
            {"stringData": {"big": "x" * (1024 * 1024 + 1)}},
            f"Secret data is {1024 * 1024 + 1} bytes (at most {1024 * 1024})",
            f"{CORE} MaxSecretSize",
        ),
        (
            SECRET,
            {"type": "kubernetes.io/tls", "stringData": {"tls.crt": "c"}},
            "Secret of type kubernetes.io/tls lacks tls.key",
            f"{CORE} ValidateSecret",
        ),
        (
            SECRET,
            {"type": "kubernetes.io/service-account-token", "metadata": {"name": "t"}},
            "service-account-token Secret has no kubernetes.io/service-account.name annotation",
            f"{CORE} ValidateSecret",
        ),
    ],
)
def test_secret_and_config_map_data_the_api_server_refuses_is_found(type_, inputs, rule, source):
    assert found(kubernetes.data_keys, type_, inputs) == [rejected("Kubernetes", rule, source)]


RELEASE = "kubernetes:helm.sh/v3:Release"


def test_a_helm_release_name_is_a_subdomain_of_at_most_53_and_its_namespace_a_label(staging):
    for release in staging.of_type(RELEASE):
        assert found(kubernetes.release_name, RELEASE, release.checked) == []
    assert found(kubernetes.release_name, RELEASE, {"name": UNKNOWN, "namespace": UNKNOWN}) == []
    source = "helm.sh/helm/v3/pkg/chartutil/validate_name.go ValidateReleaseName"
    for name in ("r" * 54, "Istiod", "-istiod"):
        assert found(kubernetes.release_name, RELEASE, {"name": name}) == [
            f"{URN} would be rejected by Helm: release name '{name}' must be a DNS-1123 subdomain of at most 53 "
            f"characters ({source})"
        ]
    assert found(kubernetes.release_name, RELEASE, {"name": "istiod", "namespace": "Istio"}) == [
        rejected(
            "Kubernetes",
            "release namespace 'Istio' is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending "
            "alphanumeric)",
            f"{APIMACHINERY} IsDNS1123Label",
        )
    ]


# --- through check_resource, as the CLI's observer runs them -----------------------------------------------


def test_check_resource_runs_field_rules_and_resource_checks_of_the_type():
    inputs = {"name": "-cluster", "kubernetesNetworkConfig": {"serviceIpv4Cidr": "8.8.0.0/16"}}
    rules = sorted(f.rule for f in check_resource(Observed(URN, EKS, "c", inputs, {})))
    assert rules == [
        "name '-cluster' does not match the pattern ^[0-9A-Za-z][A-Za-z0-9\\-_]*",
        "service CIDR 8.8.0.0/16 is not within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
    ]
