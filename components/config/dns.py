"""Config block `multicluster:dns`: the public names of the fleet and how traffic fails over."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import AfterValidator, Field, field_validator, model_validator

from .base import Issue, Model, dns_label, format_path
from .fleetview import BlockRules
from .needs import Needs

if TYPE_CHECKING:
    from .fleetview import FleetView

Provider = Literal["route53", "clouddns"]
Routing = Literal["auto", "latency", "weighted", "failover", "geo"]

DOMAIN = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$")
# Route53 only checks every 10 or 30 seconds; Cloud DNS checks of external endpoints (global health
# checks with source regions) every 30 to 300 seconds.
ROUTE53_INTERVALS = (10, 30)
CLOUDDNS_INTERVALS = (30, 300)
DEFAULT_INTERVAL = {"route53": 10, "clouddns": 30}
# Longer TTLs keep resolvers answering with a failed cluster's address long after DNS has moved on.
MAX_HEALTH_CHECKED_TTL = 60
# Cloud DNS managed zone names: "1-63 characters long, must begin with a letter, end with a letter or digit, and
# only contain lowercase letters, digits or dashes" (Google API discovery document dns v1 ManagedZone.name).
MANAGED_ZONE_NAME_LENGTH = 63


def managed_zone_name(prefix: str, zone: str) -> str:
    """The Cloud DNS zone's name: the stack prefix (unique per stack in a project) and the zone, dots as dashes.

    Both parts are DNS labels (the prefix starts with a letter, a zone ends with its letters-only TLD), so the
    name is valid whenever it fits; `check` refuses one that does not (never truncated: a cut could end in '-').
    """
    return f"{prefix}-{zone.replace('.', '-')}"


def domain_name(value: str) -> str:
    if len(value) > 253 or not DOMAIN.match(value):
        raise ValueError(f"'{value}' is not a domain name (lowercase, e.g. example.com, no trailing dot)")
    return value


# What a cluster's health check probes is not the user's choice: it is the readiness endpoint of the ingress
# that serves the cluster (components/dns.py HealthProbe). These keys chose a probe that could not work (an
# HTTPS request with the NLB hostname as Host and SNI, which no ingress serves); they are refused by name.
REMOVED_PROBE_KEYS = ("protocol", "port", "path")


def _removed_keys(data: Any) -> list[str]:
    """The removed probe keys a healthCheck mapping still sets (none when it is not a mapping)."""
    written = cast(dict[str, Any], data) if isinstance(data, dict) else {}
    return [key for key in REMOVED_PROBE_KEYS if key in written]


class HealthCheckConfig(Model):
    """How often each cluster's entry is probed; an endpoint is out after `failureThreshold` failed probes.

    The probe itself (HTTP to the ingress gateway's readiness endpoint through the cluster's load balancer)
    follows the ingress: Istio's status port 15021 /healthz/ready, or Traefik's /ping on its web entrypoint.
    """

    interval_seconds: int | None = Field(
        default=None,
        description="Seconds between probes: 10 or 30 on Route53 (default 10), 30-300 on Cloud DNS (default 30).",
    )
    failure_threshold: int = Field(
        default=3, description="Consecutive failed probes before an endpoint is unhealthy, 1-10."
    )

    @model_validator(mode="before")
    @classmethod
    def _removed_probe_keys(cls, data: Any) -> Any:
        removed = _removed_keys(data)
        if removed:
            raise ValueError(
                f"{', '.join(removed)} {'was' if len(removed) == 1 else 'were'} removed: the health check probes the "
                "readiness endpoint of the ingress that serves each cluster (Istio ingress gateway: HTTP 15021 "
                "/healthz/ready; Traefik: HTTP 80 /ping); delete the key(s)"
            )
        return data

    @field_validator("failure_threshold")
    @classmethod
    def _threshold(cls, value: int) -> int:
        if not 1 <= value <= 10:
            raise ValueError(f"must be between 1 and 10 (got {value})")
        return value


class RecordConfig(Model):
    """One public name, `<name>.<zone>`, routed to the fleet."""

    name: Annotated[str, AfterValidator(lambda v: dns_label(v, 63))] = Field(
        description="Label under the zone: webapp -> webapp.example.com."
    )
    routing: Routing = Field(default="auto", description="auto picks latency, failover or geo from the topology.")


class DnsConfig(Model):
    """`multicluster:dns`."""

    provider: Provider = Field(default="route53", description="Route53 (AWS) or Cloud DNS (GCP).")
    zone: Annotated[str, AfterValidator(domain_name)] = Field(description="Public zone, e.g. example.com.")
    zone_id: str | None = Field(
        default=None,
        description="Existing zone (Route53 hosted zone id, Cloud DNS managed zone name); else it is created.",
    )
    ttl: int = Field(default=30, ge=1, le=86400, description="TTL of the records, at most 60 when health-checked.")
    health_check: HealthCheckConfig = Field(default_factory=HealthCheckConfig)
    records: list[RecordConfig] = Field(min_length=1)

    @property
    def interval(self) -> int:
        return self.health_check.interval_seconds or DEFAULT_INTERVAL[self.provider]

    @field_validator("records")
    @classmethod
    def _unique_names(cls, records: list[RecordConfig]) -> list[RecordConfig]:
        names = [r.name for r in records]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"names must be unique ({', '.join(duplicates)} repeated)")
        return records


def effective_routing(config: FleetView, record: RecordConfig) -> str:
    """The routing `auto` stands for in this fleet's topology and failover mode."""
    if record.routing != "auto":
        return record.routing
    if config.topology == "partitioned":
        return "geo"
    return "latency" if config.failover == "active-active" else "failover"


def health_checked(config: FleetView) -> bool:
    """True when some record routes between several clusters (so it has health checks)."""
    return any(len(members) > 1 for members in config.failover_groups().values())


# --- checks that need the rest of the stack config ------------------------------------------


def needs(config: FleetView) -> Needs:
    """Cloud DNS zones and health checks live in gcp:project."""
    dns = config.block(DnsConfig)
    return Needs(gcp_project_purposes=("dns",) if dns is not None and dns.provider == "clouddns" else ())


def check(config: FleetView) -> list[Issue]:
    """Problems of this block that need the rest of the config (e.g. cluster names)."""
    dns = config.block(DnsConfig)
    if dns is None:
        return []
    return _interval(dns) + _ttl(config, dns) + _zone_name(config, dns) + _routing(config, dns) + _geo_claims(config)


def _interval(dns: DnsConfig) -> list[Issue]:
    at = format_path(("dns", "healthCheck", "intervalSeconds"))
    value = dns.health_check.interval_seconds
    if value is None:
        return []
    if dns.provider == "route53" and value not in ROUTE53_INTERVALS:
        return [Issue(at, f"Route53 health checks run every 10 or 30 seconds (got {value})")]
    low, high = CLOUDDNS_INTERVALS
    if dns.provider == "clouddns" and not low <= value <= high:
        return [
            Issue(at, f"Cloud DNS health checks of external endpoints run every {low} to {high} seconds (got {value})")
        ]
    return []


def _ttl(config: FleetView, dns: DnsConfig) -> list[Issue]:
    if dns.ttl <= MAX_HEALTH_CHECKED_TTL or not health_checked(config):
        return []
    return [
        Issue(
            format_path(("dns", "ttl")),
            f"must be at most {MAX_HEALTH_CHECKED_TTL} for health-checked records (got {dns.ttl}): "
            f"resolvers would keep sending users to a failed cluster for up to {dns.ttl} s",
        )
    ]


def _zone_name(config: FleetView, dns: DnsConfig) -> list[Issue]:
    if dns.provider != "clouddns" or dns.zone_id is not None:
        return []
    name = managed_zone_name(config.prefix, dns.zone)
    if len(name) <= MANAGED_ZONE_NAME_LENGTH:
        return []
    return [
        Issue(
            format_path(("dns", "zone")),
            f"gives the Cloud DNS managed zone name '{name}' ({len(name)} characters, at most "
            f"{MANAGED_ZONE_NAME_LENGTH}: <namePrefix>-<zone with dashes>); use a shorter namePrefix or an "
            "existing zone (zoneId)",
        )
    ]


def _geo_claims(config: FleetView) -> list[Issue]:
    """A continent or country can send its users to one residency only (one geolocation record)."""
    issues: list[Issue] = []
    owner: dict[str, str] = {}
    for key, residency in config.residencies.items():
        for field, codes in (("continents", residency.continents), ("countries", residency.countries)):
            for j, code in enumerate(codes):
                if code in owner and owner[code] != key:
                    message = f"'{code}' is already routed to residency '{owner[code]}'"
                    issues.append(Issue(format_path(("residencies", key, field, j)), message))
                owner.setdefault(code, key)
    return issues


def _routing(config: FleetView, dns: DnsConfig) -> list[Issue]:
    issues: list[Issue] = []
    for i, record in enumerate(dns.records):
        problem = _routing_problem(config, record.routing)
        if problem:
            issues.append(Issue(format_path(("dns", "records", i, "routing")), problem))
    return issues


def _routing_problem(config: FleetView, routing: str) -> str | None:
    if routing == "auto":
        return None
    if config.topology == "partitioned":
        if routing != "geo":
            return (
                f"'{routing}' would send users to another residency's clusters; "
                "a partitioned fleet is routed by geo (use auto or geo)"
            )
        return None
    if routing == "geo":
        return "'geo' needs the partitioned topology (residencies say who goes where); use auto, latency or weighted"
    if config.failover == "active-active" and routing == "failover":
        return "'failover' needs failover: active-passive (an active-active fleet has no standby; use auto or latency)"
    standbys = [c.name for c in config.clusters if c.role == "standby"]
    if config.failover == "active-passive" and routing in ("latency", "weighted") and standbys:
        return (
            f"'{routing}' would send traffic to standby cluster(s) {', '.join(standbys)} "
            "of an active-passive fleet (use auto or failover)"
        )
    return None


# Declared by the `multicluster:dns` field of StackConfig: what validation and the fleet's needs call.
DNS_RULES = BlockRules(check, needs)
