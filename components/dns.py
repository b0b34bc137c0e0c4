"""Global DNS: one public name per record, health-checked and routed to the fleet's clusters.

The routing is decided as data first (`plan_record`: which clusters answer which name, and how),
then written out for Route53 or Cloud DNS. See docs/dns.md for the pictures and the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from .cluster import KubernetesCluster
from .config import ClusterConfig, StackConfig
from .config.dns import DnsConfig, HealthCheckConfig, RecordConfig, effective_routing
from .config.regions import AWS_REGIONS, GCP_REGIONS
from .ingress import IngressController, IngressControllerArgs

SetMode = Literal["single", "latency", "weighted", "failover"]

# Route53 is a global service; its API lives in us-east-1.
ROUTE53_REGION = "us-east-1"
# Health checkers on three continents (Route53 needs at least three regions).
ROUTE53_CHECKER_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1"]
# Cloud DNS health checks of external endpoints need exactly three source regions.
CLOUDDNS_SOURCE_REGIONS = ["us-east4", "europe-west1", "asia-southeast1"]
# Route53 answers an alias to an ELB with the ELB's own TTL, whatever the zone's records say.
ELB_ALIAS_TTL = 60
STANDBY_PREFIX = "standby"
DEFAULT_GEO = "default"


# --- the routing, as data ----------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointSet:
    """The clusters that answer one name (relative to the zone) and how one of them is chosen."""

    name: str
    mode: SetMode
    clusters: tuple[ClusterConfig, ...]

    @property
    def health_checked(self) -> bool:
        return self.mode != "single"

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


def plan_record(config: StackConfig, record: RecordConfig) -> RecordPlan:
    """Which clusters answer `record` and how, from the topology and failover mode."""
    routing = effective_routing(config, record)
    if routing != "geo":
        return RecordPlan(record, routing, (endpoint_set(record.name, config.clusters, routing),))
    mode = "failover" if config.failover == "active-passive" else "latency"
    groups = config.failover_groups()
    sets = tuple(endpoint_set(f"{key}.{record.name}", groups[key], mode) for key in config.residencies)
    return RecordPlan(record, routing, sets, geo_rules(config))


def endpoint_set(name: str, clusters: list[ClusterConfig], routing: str) -> EndpointSet:
    ordered = tuple(sorted(clusters, key=lambda c: c.role != "primary"))  # primary first, stable otherwise
    return EndpointSet(name, "single" if len(ordered) == 1 else routing, ordered)  # type: ignore[arg-type]


def geo_rules(config: StackConfig) -> tuple[GeoRule, ...]:
    rules = []
    for key, residency in config.residencies.items():
        rules += [GeoRule(key, continent=c) for c in residency.continents]
        rules += [GeoRule(key, country=c) for c in residency.countries]
    default = next(key for key, r in config.residencies.items() if r.default)
    return (*rules, GeoRule(default, country="*"))


def latency_region(cluster: ClusterConfig) -> str:
    """The AWS region Route53 measures latency from: the cluster's, or the nearest to a GCP region."""
    if cluster.cloud == "aws":
        return cluster.region
    return GCP_REGIONS[cluster.region].nearest_aws or ROUTE53_REGION


def gcp_location(region: str) -> str:
    """The Cloud DNS geo location (a GCP region) standing for an AWS or GCP region."""
    if region in GCP_REGIONS:
        return region
    nearest = [r.name for r in GCP_REGIONS.values() if r.nearest_aws == region]
    continent = AWS_REGIONS[region].continent
    return (nearest or [r.name for r in GCP_REGIONS.values() if r.continent == continent])[0]


def failover_seconds(dns: DnsConfig, plan: RecordPlan) -> int | None:
    """Worst time for traffic to leave a failed cluster: detection (interval x threshold) + cached TTL."""
    checked = [s for s in plan.sets if s.health_checked]
    if not checked:
        return None
    detection = dns.interval * dns.health_check.failure_threshold
    return detection + max(answer_ttl(dns, s) for s in checked)


def answer_ttl(dns: DnsConfig, endpoints: EndpointSet) -> int:
    aliased_to_elb = dns.provider == "route53" and any(c.cloud == "aws" for c in endpoints.clusters)
    return max(dns.ttl, ELB_ALIAS_TTL) if aliased_to_elb else dns.ttl


def lb_type(hostname: str) -> str:
    """NLB hostnames are `<name>.elb.<region>.amazonaws.com`; ALB/CLB ones `<name>.<region>.elb...`."""
    return "network" if ".elb." in hostname and not hostname.split(".elb.")[0].count(".") else "application"


def health_check_target(
    check: HealthCheckConfig, cloud: str, address: pulumi.Input[str], public_name: str
) -> dict[str, Any]:
    """Where a Route53 health check probes one cluster, and the name it presents (Host header, TLS SNI).

    Route53 probes `ip_address` when set and then sends `fqdn` as Host (and SNI with `enable_sni`);
    without `ip_address` it resolves `fqdn` and probes what DNS answers. A GCP entry is an IP, so the
    check probes it and presents the public name, as a browser would. An AWS entry is an NLB hostname
    without a fixed address: `fqdn` must stay that hostname (the public name would resolve through the
    routed record, i.e. probe whichever cluster DNS picks), so Host and SNI are the NLB hostname.
    """
    if cloud == "aws":
        target: dict[str, Any] = {"fqdn": address}
    elif check.protocol == "TCP":
        return {"ip_address": address}  # no Host header, no TLS: the name would be unused
    else:
        target = {"ip_address": address, "fqdn": public_name}
    if check.protocol == "HTTPS":
        target["enable_sni"] = True
    return target


# --- the component ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GlobalDnsArgs:
    """Props of the global DNS component."""

    stack: StackConfig
    clusters: dict[str, KubernetesCluster]
    # Public entry of each cluster from the mesh's ingress gateways (LB hostname on AWS, IP on GCP);
    # None installs a fallback ingress controller per cluster, parented to the DNS component.
    gateway_addresses: dict[str, pulumi.Output[str]] | None = None

    @property
    def dns(self) -> DnsConfig:
        assert self.stack.dns is not None
        return self.stack.dns


class GlobalDns(pulumi.ComponentResource):
    """The zone, one health check per cluster entry and the routed records of every public name."""

    TYPE = "multicluster:dns:GlobalDns"

    def __init__(self, name: str, args: GlobalDnsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.args = args
        self.dns = args.dns
        self.plans = [plan_record(args.stack, record) for record in self.dns.records]
        self.addresses = args.gateway_addresses if args.gateway_addresses is not None else self._fallback_ingresses()
        self.zone_id: pulumi.Output[str]
        self.name_servers: pulumi.Output[list[str]] | None = None
        self.health_checks: dict[str, pulumi.Output[str]] = {}
        if self.dns.provider == "route53":
            Route53Writer(self).write()
        else:
            CloudDnsWriter(self).write()
        self.register_outputs(self.outputs())

    def _fallback_ingresses(self) -> dict[str, pulumi.Output[str]]:
        """A Traefik per cluster; its workloads still go through the cluster's own k8s provider."""
        addresses = {}
        for name, cluster in self.args.clusters.items():
            controller = IngressController(
                f"{name}-ingress",
                IngressControllerArgs(cluster=cluster),
                # Was parented to the cluster, whose outputs were already registered; the alias keeps URNs.
                opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=cluster)]),
            )
            addresses[name] = controller.address
        return addresses

    def fqdn(self, relative: str) -> str:
        return f"{relative}.{self.dns.zone}"

    def health_name(self, cluster: ClusterConfig) -> str:
        """The public name a cluster's health check presents: the first record (config order) it serves.

        The ingress already has a certificate and routes for it; a dedicated name would need both on every
        ingress. One name is enough: the check says whether the cluster's entry serves, not one app.
        """
        return next(
            self.fqdn(plan.record.name)
            for plan in self.plans
            if any(cluster.name in {c.name for c in s.clusters} for s in plan.sets)
        )

    def clusters_checked(self) -> list[ClusterConfig]:
        """Clusters that are one of several answers somewhere, so they need a health check."""
        seen: dict[str, ClusterConfig] = {}
        for plan in self.plans:
            for endpoints in plan.sets:
                if endpoints.health_checked:
                    seen.update({c.name: c for c in endpoints.clusters})
        return [c for c in self.args.stack.clusters if c.name in seen]

    def outputs(self) -> dict[str, Any]:
        return {
            "provider": self.dns.provider,
            "zone": self.dns.zone,
            "zoneId": self.zone_id,
            "nameServers": self.name_servers,
            "records": {plan.record.name: self._record_outputs(plan) for plan in self.plans},
            "healthChecks": self.health_checks,
            "ingressAddresses": self.addresses,
        }

    def _record_outputs(self, plan: RecordPlan) -> dict[str, Any]:
        outputs: dict[str, Any] = {
            "fqdn": self.fqdn(plan.record.name),
            "routing": plan.routing,
            "failoverSeconds": failover_seconds(self.dns, plan),
            "endpoints": {self.fqdn(s.name): [c.name for c in s.clusters] for s in plan.sets},
        }
        if plan.geo:
            outputs["residencies"] = {key: self.fqdn(name) for key, name in plan.residency_names.items()}
        return outputs


class Route53Writer:
    """Route53: a health check per cluster entry (see `health_check_target`), routed record sets."""

    def __init__(self, owner: GlobalDns):
        self.owner, self.dns, self.name = owner, owner.dns, owner._name
        self.provider = aws.Provider(
            f"{self.name}-aws",
            region=ROUTE53_REGION,
            default_tags={"tags": {"multicluster:environment": owner.args.stack.environment, "managed-by": "pulumi"}},
            opts=pulumi.ResourceOptions(parent=owner),
        )
        self._elb_zones: dict[str, pulumi.Output[str]] = {}

    def opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.owner, provider=self.provider, **kwargs)

    def write(self) -> None:
        self._zone()
        self.checks = {c.name: self._health_check(c) for c in self.owner.clusters_checked()}
        self.owner.health_checks = {name: check.id for name, check in self.checks.items()}
        for plan in self.owner.plans:
            for endpoints in plan.sets:
                self._endpoint_set(endpoints)
            for rule in plan.geo:
                self._geo_record(plan, rule)

    def _zone(self) -> None:
        if self.dns.zone_id:
            self.owner.zone_id = pulumi.Output.from_input(self.dns.zone_id)
            return
        protect = self.owner.args.stack.protected
        zone = aws.route53.Zone(
            f"{self.name}-zone",
            name=self.dns.zone,
            comment=f"multicluster {self.owner.args.stack.environment}: global names of the fleet",
            force_destroy=False,
            opts=self.opts(protect=protect, retain_on_delete=protect),
        )
        self.owner.zone_id = zone.zone_id
        self.owner.name_servers = zone.name_servers

    def _health_check(self, cluster: ClusterConfig) -> aws.route53.HealthCheck:
        check = self.dns.health_check
        address = self.owner.addresses[cluster.name]
        target = health_check_target(check, cluster.cloud, address, self.owner.health_name(cluster))
        return aws.route53.HealthCheck(
            f"{self.name}-check-{cluster.name}",
            type=check.protocol,
            port=check.port,
            resource_path=check.path if check.protocol != "TCP" else None,
            request_interval=self.dns.interval,
            failure_threshold=check.failure_threshold,
            measure_latency=True,
            regions=ROUTE53_CHECKER_REGIONS,
            tags={"Name": f"{self.owner.args.stack.environment}-{cluster.name}-ingress"},
            opts=self.opts(),
            **target,
        )

    def _endpoint_set(self, endpoints: EndpointSet) -> None:
        if endpoints.mode == "single":
            self._record(f"{endpoints.name}-{endpoints.clusters[0].name}", endpoints.name, endpoints.clusters[0])
        elif endpoints.mode == "failover":
            self._failover(endpoints)
        else:
            for cluster in endpoints.clusters:
                policy = (
                    {"latency_routing_policies": [{"region": latency_region(cluster)}]}
                    if endpoints.mode == "latency"
                    else {"weighted_routing_policies": [{"weight": 1}]}
                )
                self._routed(endpoints.name, cluster, cluster.name, policy)

    def _failover(self, endpoints: EndpointSet) -> None:
        self._routed(endpoints.name, endpoints.primary, endpoints.primary.name, _failover_policy("PRIMARY"))
        standbys = endpoints.standbys
        if len(standbys) == 1:
            self._routed(endpoints.name, standbys[0], standbys[0].name, _failover_policy("SECONDARY"))
            return
        # A failover set holds one SECONDARY: point it at a latency set of every standby.
        standby_set = EndpointSet(f"{STANDBY_PREFIX}.{endpoints.name}", "latency", standbys)
        self._endpoint_set(standby_set)
        aws.route53.Record(
            f"{self.name}-{endpoints.name}-{STANDBY_PREFIX}",
            zone_id=self.owner.zone_id,
            name=self.owner.fqdn(endpoints.name),
            type="A",
            set_identifier=STANDBY_PREFIX,
            aliases=[self._zone_alias(standby_set.name)],
            **_failover_policy("SECONDARY"),
            opts=self.opts(),
        )

    def _routed(self, relative: str, cluster: ClusterConfig, set_identifier: str, policy: dict[str, Any]) -> None:
        self._record(
            f"{relative}-{cluster.name}",
            relative,
            cluster,
            set_identifier=set_identifier,
            health_check_id=self.checks[cluster.name].id,
            **policy,
        )

    def _record(self, resource_name: str, relative: str, cluster: ClusterConfig, **extra: Any) -> aws.route53.Record:
        return aws.route53.Record(
            f"{self.name}-{resource_name}",
            zone_id=self.owner.zone_id,
            name=self.owner.fqdn(relative),
            **self._target(cluster),
            **extra,
            opts=self.opts(),
        )

    def _target(self, cluster: ClusterConfig) -> dict[str, Any]:
        address = self.owner.addresses[cluster.name]
        if cluster.cloud == "gcp":
            return {"type": "A", "ttl": self.dns.ttl, "records": [address]}
        # Alias A record to the load balancer: no TTL (the ELB's applies), follows the LB's addresses.
        return {
            "type": "A",
            "aliases": [{"name": address, "zone_id": self._elb_zone(cluster), "evaluate_target_health": True}],
        }

    def _elb_zone(self, cluster: ClusterConfig) -> pulumi.Output[str]:
        if cluster.name not in self._elb_zones:
            address = self.owner.addresses[cluster.name]
            self._elb_zones[cluster.name] = aws.lb.get_hosted_zone_id_output(
                load_balancer_type=address.apply(lb_type),
                region=cluster.region,
                opts=pulumi.InvokeOutputOptions(parent=self.owner, provider=self.provider),
            ).id
        return self._elb_zones[cluster.name]

    def _zone_alias(self, relative: str) -> dict[str, Any]:
        return {"name": self.owner.fqdn(relative), "zone_id": self.owner.zone_id, "evaluate_target_health": True}

    def _geo_record(self, plan: RecordPlan, rule: GeoRule) -> None:
        location = {"continent": rule.continent} if rule.continent else {"country": rule.country}
        aws.route53.Record(
            f"{self.name}-{plan.record.name}-geo-{rule.set_identifier}",
            zone_id=self.owner.zone_id,
            name=self.owner.fqdn(plan.record.name),
            type="A",
            set_identifier=rule.set_identifier,
            geolocation_routing_policies=[location],
            aliases=[self._zone_alias(plan.residency_names[rule.residency])],
            opts=self.opts(),
        )


def _failover_policy(kind: str) -> dict[str, Any]:
    return {"failover_routing_policies": [{"type": kind}]}


class CloudDnsWriter:
    """Cloud DNS: one record set per name with a routing policy over health-checked external IPs."""

    def __init__(self, owner: GlobalDns):
        self.owner, self.dns, self.name = owner, owner.dns, owner._name
        stack = owner.args.stack
        self.provider = gcp.Provider(
            f"{self.name}-gcp",
            project=stack.gcp_project,
            default_labels={"environment": stack.environment, "managed-by": "pulumi"},
            opts=pulumi.ResourceOptions(parent=owner),
        )

    def opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.owner, provider=self.provider, **kwargs)

    def write(self) -> None:
        self._zone()
        self.health_check = self._health_check() if self.owner.clusters_checked() else None
        if self.health_check is not None:
            self.owner.health_checks = {c.name: self.health_check.id for c in self.owner.clusters_checked()}
        for plan in self.owner.plans:
            for endpoints in plan.sets:
                self._record_set(endpoints)
            if plan.geo:
                self._geo_record_set(plan)

    def _zone(self) -> None:
        if self.dns.zone_id:
            self.zone_name = pulumi.Output.from_input(self.dns.zone_id)
            self.owner.zone_id = self.zone_name
            return
        protect = self.owner.args.stack.protected
        zone = gcp.dns.ManagedZone(
            f"{self.name}-zone",
            name=f"{self.owner.args.stack.environment}-{self.dns.zone.replace('.', '-')}"[:63],
            dns_name=f"{self.dns.zone}.",
            description=f"multicluster {self.owner.args.stack.environment}: global names of the fleet",
            visibility="public",
            force_destroy=False,
            opts=self.opts(protect=protect, retain_on_delete=protect),
        )
        self.zone_name = zone.name
        self.owner.zone_id = zone.name
        self.owner.name_servers = zone.name_servers

    def _health_check(self) -> gcp.compute.HealthCheck:
        check, interval = self.dns.health_check, self.dns.interval
        probe_key = {"HTTPS": "https_health_check", "HTTP": "http_health_check", "TCP": "tcp_health_check"}
        probe: dict[str, Any] = {"port": check.port}
        if check.protocol != "TCP":
            probe["request_path"] = check.path
        return gcp.compute.HealthCheck(
            f"{self.name}-check",
            name=f"{self.owner.args.stack.environment}-dns-ingress",
            description="Cloud DNS routing: probes each cluster's ingress load balancer",
            check_interval_sec=interval,
            timeout_sec=min(10, interval),
            healthy_threshold=2,
            unhealthy_threshold=check.failure_threshold,
            source_regions=CLOUDDNS_SOURCE_REGIONS,
            opts=self.opts(),
            **{probe_key[check.protocol]: probe},
        )

    def _record_set(self, endpoints: EndpointSet) -> None:
        address = self.owner.addresses
        extra: dict[str, Any]
        if endpoints.mode == "single":
            extra = {"rrdatas": [address[endpoints.clusters[0].name]]}
        else:
            extra = {"routing_policy": {"health_check": self.health_check.id, **self._policy(endpoints)}}
        gcp.dns.RecordSet(
            f"{self.name}-{endpoints.name}",
            managed_zone=self.zone_name,
            name=f"{self.owner.fqdn(endpoints.name)}.",
            type="A",
            ttl=self.dns.ttl,
            opts=self.opts(),
            **extra,
        )

    def _policy(self, endpoints: EndpointSet) -> dict[str, Any]:
        if endpoints.mode == "weighted":
            return {"wrrs": [{"weight": 1, **self._checked([c])} for c in endpoints.clusters]}
        if endpoints.mode == "latency":
            # Cloud DNS has no latency policy: geo by the cluster's region answers from the nearest one.
            return {"geos": self._geo_items(endpoints.clusters)}
        return {
            "primary_backup": {
                "primary": self._checked([endpoints.primary])["health_checked_targets"],
                "backup_geos": self._geo_items(endpoints.standbys),
                "trickle_ratio": 0,
                "enable_geo_fencing_for_backups": False,
            }
        }

    def _geo_items(self, clusters: tuple[ClusterConfig, ...]) -> list[dict[str, Any]]:
        by_location: dict[str, list[ClusterConfig]] = {}
        for cluster in clusters:
            by_location.setdefault(gcp_location(cluster.region), []).append(cluster)
        return [{"location": loc, **self._checked(members)} for loc, members in sorted(by_location.items())]

    def _checked(self, clusters: list[ClusterConfig]) -> dict[str, Any]:
        return {"health_checked_targets": {"external_endpoints": [self.owner.addresses[c.name] for c in clusters]}}

    def _geo_record_set(self, plan: RecordPlan) -> None:
        # Cloud DNS geo matches the GCP region nearest to the user: each residency claims its own
        # regions and the regions of its continents; the default residency takes every other region.
        items = [
            {"location": location, "rrdatas": [f"{self.owner.fqdn(plan.residency_names[key])}."]}
            for location, key in sorted(residency_locations(self.owner.args.stack).items())
        ]
        gcp.dns.RecordSet(
            f"{self.name}-{plan.record.name}-geo",
            managed_zone=self.zone_name,
            name=f"{self.owner.fqdn(plan.record.name)}.",
            type="CNAME",
            ttl=self.dns.ttl,
            routing_policy={"geos": items},
            opts=self.opts(),
        )


def residency_locations(stack: StackConfig) -> dict[str, str]:
    """GCP region -> residency key, for Cloud DNS geo routing of a partitioned fleet."""
    claims: dict[str, str] = {}
    for key, residency in stack.residencies.items():
        for region in residency.regions:
            claims.setdefault(gcp_location(region), key)
    for key, residency in stack.residencies.items():
        for region in GCP_REGIONS.values():
            if region.continent in residency.continents:
                claims.setdefault(region.name, key)
    default = next(key for key, r in stack.residencies.items() if r.default)
    for region in GCP_REGIONS:
        claims.setdefault(region, default)
    return claims


# --- entry point -------------------------------------------------------------------------------------


def mesh_gateway_addresses(
    clusters: dict[str, KubernetesCluster], mesh: Any | None
) -> dict[str, pulumi.Output[str]] | None:
    """Each cluster's Istio ingress gateway address, or None when DNS must install its own ingress."""
    if mesh is not None and getattr(mesh, "provider", None) == "istio":
        return {name: mesh.ingress_addresses[name] for name in clusters}
    return None


def build_dns(
    config: StackConfig, clusters: dict[str, KubernetesCluster], mesh: Any | None = None, **wiring: Any
) -> GlobalDns | None:
    """Create the dns components for the fleet, or None when the block is absent."""
    if config.dns is None:
        return None
    gateways = mesh_gateway_addresses(clusters, mesh)
    return GlobalDns("dns", GlobalDnsArgs(stack=config, clusters=clusters, gateway_addresses=gateways))
