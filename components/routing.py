"""DNS routing as data: which clusters answer each public name and how, decided from the fleet before any
record exists (the fleet plan records it once; components/dns.py writes it out for Route 53 or Cloud DNS, and
the offline plan's region-loss simulation reads it). Pure: no Pulumi.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from .clouds import traits
from .config import ClusterConfig, Residency
from .config.dns import DnsConfig, RecordConfig, effective_routing
from .config.fleetview import FleetView
from .config.regions import AWS_REGIONS, GCP_REGIONS

SetMode = Literal["single", "latency", "weighted", "failover"]

DEFAULT_GEO = "default"


@dataclass(frozen=True)
class EndpointSet:
    """The clusters that answer one name (relative to the zone) and how one of them is chosen.

    `mode` follows the configured members (drained ones included), so that draining a cluster never changes
    the shape of another cluster's record; only the serving `clusters` get answers.
    """

    name: str
    mode: SetMode
    clusters: tuple[ClusterConfig, ...]  # serving members: they get records
    drained: tuple[ClusterConfig, ...] = ()  # configured members with `drain: true`: no answers

    @property
    def health_checked(self) -> bool:
        return self.mode != "single"

    @property
    def fails_over(self) -> bool:
        """Whether traffic can leave a failed cluster of this set for another one that serves."""
        return self.health_checked and len(self.clusters) > 1

    @property
    def members(self) -> tuple[ClusterConfig, ...]:
        return self.clusters + self.drained

    @property
    def primary(self) -> ClusterConfig:
        return next(c for c in self.clusters if c.role == "primary")

    @property
    def standbys(self) -> tuple[ClusterConfig, ...]:
        return tuple(c for c in self.clusters if c.role != "primary")


@dataclass(frozen=True)
class GeoRule:
    """Partitioned: users of a continent or country (or anyone else, '*') go to a residency's name."""

    residency: str
    continent: str | None = None
    country: str | None = None

    @property
    def set_identifier(self) -> str:
        if self.country == "*":
            return DEFAULT_GEO
        return f"{self.residency}-{(self.continent or self.country or '').lower()}"


@dataclass(frozen=True)
class RecordPlan:
    record: RecordConfig
    routing: str
    sets: tuple[EndpointSet, ...]
    geo: tuple[GeoRule, ...] = ()

    @property
    def residency_names(self) -> dict[str, str]:
        prefix = f".{self.record.name}"
        return {s.name.removesuffix(prefix): s.name for s in self.sets if s.name.endswith(prefix)} if self.geo else {}


def plan_record(config: FleetView, record: RecordConfig) -> RecordPlan:
    """Which clusters answer `record` and how, from the topology and failover mode."""
    routing = effective_routing(config, record)
    if routing != "geo":
        return RecordPlan(record, routing, (endpoint_set(record.name, config.clusters, routing),))
    mode = "failover" if config.failover == "active-passive" else "latency"
    groups = config.failover_groups()
    sets = tuple(endpoint_set(f"{key}.{record.name}", groups[key], mode) for key in config.residencies)
    return RecordPlan(record, routing, sets, geo_rules(config))


def endpoint_set(name: str, members: Sequence[ClusterConfig], routing: str) -> EndpointSet:
    """The set of `members` (configured order, primary first); drained members get no answers."""
    ordered = tuple(sorted(members, key=lambda c: c.role != "primary"))  # primary first, stable otherwise
    # A routing other than geo, which plan_record resolves into sets: latency, weighted or failover.
    mode: SetMode = "single" if len(ordered) == 1 else cast(SetMode, routing)
    serving = tuple(c for c in ordered if not c.drain)
    return EndpointSet(name, mode, serving, tuple(c for c in ordered if c.drain))


def geo_rules(config: FleetView) -> tuple[GeoRule, ...]:
    rules: list[GeoRule] = []
    for key, residency in config.residencies.items():
        rules += [GeoRule(key, continent=c) for c in residency.continents]
        rules += [GeoRule(key, country=c) for c in residency.countries]
    default = next(key for key, r in config.residencies.items() if r.default)
    return (*rules, GeoRule(default, country="*"))


def latency_region(cluster: ClusterConfig) -> str:
    """The AWS region Route53 measures latency from: the cluster's, or the nearest to a GCP region."""
    return traits(cluster).latency_region(cluster.region)


def gcp_location(region: str) -> str:
    """The Cloud DNS geo location (a GCP region) standing for an AWS or GCP region."""
    if region in GCP_REGIONS:
        return region
    nearest = [r.name for r in GCP_REGIONS.values() if r.nearest_aws == region]
    continent = AWS_REGIONS[region].continent
    return (nearest or [r.name for r in GCP_REGIONS.values() if r.continent == continent])[0]


def failover_seconds(dns: DnsConfig, plan: RecordPlan) -> int | None:
    """Worst time for traffic to leave a failed cluster: detection (interval x threshold) + cached TTL.

    Every answer is an A record with the zone's TTL on both clouds (AWS entries answer their Elastic IPs, not an
    alias to the NLB, which Route 53 would answer with the ELB's 60 s); an alias to a record of the same zone (a
    standby set, a residency) answers with that record's TTL ("If the alias target is another record in the same
    hosted zone, Route 53 uses the TTL of the target record", Route 53 Developer Guide, "Choosing between alias and
    non-alias records")."""
    if not any(s.fails_over for s in plan.sets):
        return None
    return dns.interval * dns.health_check.failure_threshold + dns.ttl


def residency_locations(residencies: Mapping[str, Residency]) -> dict[str, str]:
    """GCP region -> residency key, for Cloud DNS geo routing of a partitioned fleet."""
    claims: dict[str, str] = {}
    for key, residency in residencies.items():
        for region in residency.regions:
            claims.setdefault(gcp_location(region), key)
    for key, residency in residencies.items():
        for region in GCP_REGIONS.values():
            if region.continent in residency.continents:
                claims.setdefault(region.name, key)
    default = next(key for key, r in residencies.items() if r.default)
    for region in GCP_REGIONS:
        claims.setdefault(region, default)
    return claims
