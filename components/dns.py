"""Global DNS: one public name per record, health-checked and routed to the fleet's clusters.

The routing is decided as data first (`plan_record`: which clusters answer which name, and how),
then written out for Route53 or Cloud DNS. See docs/dns.md for the pictures and the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from .clouds import traits
from .cluster import ClusterPort
from .config import ClusterConfig
from .config.dns import DnsConfig, managed_zone_name
from .fleetplan import FleetPlan
from .gcp_project import ProjectServices
from .ingress import TRAEFIK_PROBE, IngressController, IngressControllerArgs, MeshProvider
from .outputs import DnsOutputs, DnsRecordOutputs
from .routing import (
    EndpointSet,
    GeoRule,
    RecordPlan,
    failover_seconds,
    gcp_location,
    latency_region,
    residency_locations,
)
from .service_mesh import MeshHandle, PublicEntry

# Route53 is a global service; its API lives in us-east-1.
ROUTE53_REGION = "us-east-1"
# Health checkers on three continents (Route53 needs at least three regions).
ROUTE53_CHECKER_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1"]
# Cloud DNS health checks of external endpoints need exactly three source regions.
CLOUDDNS_SOURCE_REGIONS = ["us-east4", "europe-west1", "asia-southeast1"]
STANDBY_PREFIX = "standby"


def health_check_target(cluster: ClusterConfig, address: pulumi.Input[str]) -> dict[str, Any]:
    """Where a Route53 health check sends its probe for one cluster's entry.

    A GCP entry is an IP: `ip_address`. An AWS entry is an NLB hostname, which resolves to the Elastic IPs of
    its zones that answer (the records carry all of them): `fqdn`, which Route53 resolves at every interval ("If
    you don't specify a value for IPAddress, Route 53 sends a DNS request to the domain that you specify for
    FullyQualifiedDomainName at the interval that you specify for RequestInterval",
    https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html).
    No name is presented on purpose: the probe is plain HTTP to a readiness endpoint that answers whatever the
    Host header (Route53 sends the IP, or `fqdn:port`), so no certificate or route for a public name is involved.
    """
    return {"fqdn": address} if traits(cluster).load_balancer_answer == "hostname" else {"ip_address": address}


def entry_answers(address: pulumi.Output[str], cluster: ClusterPort) -> pulumi.Output[list[str]]:
    """The A record values of one cluster's entry: the addresses it reserved, once the Service holding them has its
    load balancer (so that DNS moves to a new entry only when it exists), else the load balancer's own IP."""
    reserved = cluster.entry_addresses
    if reserved is None:
        return address.apply(lambda ip: [ip])
    return pulumi.Output.all(address, reserved).apply(lambda values: list(cast(list[str], values[1])))


# --- the component ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GlobalDnsArgs:
    """Props of the global DNS component."""

    plan: FleetPlan
    clusters: dict[str, ClusterPort]
    # The public entries the mesh serves (its ingress gateways' addresses and readiness probe);
    # None installs a fallback ingress controller per cluster, parented to the DNS component.
    mesh_entry: PublicEntry | None = None
    # The fleet's mesh (the fallback ingress joins it) and, per cluster, what meshing waits for.
    mesh: MeshProvider = "none"
    mesh_ready: Mapping[str, Sequence[pulumi.Resource]] = field(default_factory=dict[str, Sequence[pulumi.Resource]])
    # gcp:project's API enablement (ProjectServices): Cloud DNS resources wait for dns.googleapis.com.
    project_services: ProjectServices | None = None

    @property
    def dns(self) -> DnsConfig:
        dns = self.plan.block(DnsConfig)
        assert dns is not None  # built only with its block
        return dns


class GlobalDns(pulumi.ComponentResource):
    """The zone, one health check per cluster entry and the routed records of every public name."""

    TYPE = "multicluster:dns:GlobalDns"

    def __init__(self, name: str, args: GlobalDnsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.resource_name = name  # what the writers name the zone, checks and records after
        self.args = args
        self.dns = args.dns
        self.plans = list(args.plan.records)
        if args.mesh_entry is not None:
            self.addresses, self.probe = args.mesh_entry.addresses, args.mesh_entry.probe
        else:
            self.addresses, self.probe = self._fallback_ingresses(), TRAEFIK_PROBE
        # What DNS answers for each cluster: its entry's reserved addresses, else its load balancer's IP.
        self.answers = {name: entry_answers(address, args.clusters[name]) for name, address in self.addresses.items()}
        self.zone_id: pulumi.Output[str]
        self.name_servers: pulumi.Output[Sequence[str]] | None = None
        self.health_checks: dict[str, pulumi.Output[str]] = {}
        if self.dns.provider == "route53":
            Route53Writer(self).write()
        else:
            CloudDnsWriter(self).write()
        self.register_outputs(self.outputs())

    def _fallback_ingresses(self) -> dict[str, pulumi.Output[str]]:
        """A Traefik per cluster; its workloads still go through the cluster's own k8s provider."""
        addresses: dict[str, pulumi.Output[str]] = {}
        for name, cluster in self.args.clusters.items():
            controller = IngressController(
                f"{name}-ingress",
                IngressControllerArgs(
                    cluster=cluster, mesh=self.args.mesh, mesh_ready=tuple(self.args.mesh_ready.get(name, ()))
                ),
                # Was parented to the cluster, whose outputs were already registered; the alias keeps URNs.
                opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=cluster.as_parent())]),
            )
            addresses[name] = controller.address
        return addresses

    def fqdn(self, relative: str) -> str:
        return f"{relative}.{self.dns.zone}"

    def clusters_checked(self) -> list[ClusterConfig]:
        """Clusters that are one of several members somewhere, so they need a health check.

        Drained members keep theirs: no record uses it, so it decides nothing, and a cluster that comes back
        (`drain: false`) gets its records with a check that already knows whether its entry answers.
        """
        seen: dict[str, ClusterConfig] = {}
        for plan in self.plans:
            for endpoints in plan.sets:
                if endpoints.health_checked:
                    seen.update({c.name: c for c in endpoints.members})
        return [c.spec for c in self.args.plan.clusters.values() if c.name in seen]

    def outputs(self) -> DnsOutputs:
        return {
            "provider": self.dns.provider,
            "zone": self.dns.zone,
            "zoneId": self.zone_id,
            "nameServers": self.name_servers,
            "records": {plan.record.name: self._record_outputs(plan) for plan in self.plans},
            "healthChecks": self.health_checks,
            "ingressAddresses": self.addresses,
            "answers": self.answers,
        }

    def _record_outputs(self, plan: RecordPlan) -> DnsRecordOutputs:
        outputs: DnsRecordOutputs = {
            "fqdn": self.fqdn(plan.record.name),
            "routing": plan.routing,
            "failoverSeconds": failover_seconds(self.dns, plan),
            "endpoints": {self.fqdn(s.name): [c.name for c in s.clusters] for s in plan.sets},
        }
        if plan.geo:
            outputs["residencies"] = {key: self.fqdn(name) for key, name in plan.residency_names.items()}
        return outputs


class Route53Writer:
    """Route53: a health check per cluster entry (see `health_check_target`), routed record sets.

    Record shapes depend on the configured membership only, so that adding, removing or draining a cluster
    creates or deletes that cluster's own records and never replaces another's: a failover set is always a
    PRIMARY record plus one SECONDARY alias to `standby.<name>`, a latency set of every serving standby (even one).
    """

    def __init__(self, owner: GlobalDns):
        self.owner, self.dns, self.name = owner, owner.dns, owner.resource_name
        self.provider = aws.Provider(
            f"{self.name}-aws",
            region=ROUTE53_REGION,
            default_tags={"tags": {"multicluster:environment": owner.args.plan.environment, "managed-by": "pulumi"}},
            opts=pulumi.ResourceOptions(parent=owner),
        )

    def opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.owner, provider=self.provider, **kwargs)

    def write(self) -> None:
        self._zone()
        self.checks = {c.name: self._health_check(c) for c in self.owner.clusters_checked()}
        self.owner.health_checks = {name: check.id for name, check in self.checks.items()}
        for plan in self.owner.plans:
            records = {endpoints.name: self._endpoint_set(endpoints) for endpoints in plan.sets}
            for rule in plan.geo:
                self._geo_record(plan, rule, records[plan.residency_names[rule.residency]])

    def _zone(self) -> None:
        if self.dns.zone_id:
            self.owner.zone_id = pulumi.Output.from_input(self.dns.zone_id)
            return
        protect = self.owner.args.plan.protected
        zone = aws.route53.Zone(
            f"{self.name}-zone",
            name=self.dns.zone,
            comment=f"multicluster {self.owner.args.plan.environment}: global names of the fleet",
            force_destroy=False,
            opts=self.opts(protect=protect, retain_on_delete=protect),
        )
        self.owner.zone_id = zone.zone_id
        self.owner.name_servers = zone.name_servers

    def _health_check(self, cluster: ClusterConfig) -> aws.route53.HealthCheck:
        reserved = self.owner.args.clusters[cluster.name].entry_addresses
        if reserved is not None:
            return self._zones_check(cluster, reserved)
        return self._probe(
            f"{self.name}-check-{cluster.name}",
            cluster.name,
            health_check_target(cluster, self.owner.addresses[cluster.name]),
        )

    def _probe(self, resource_name: str, label: str, target: dict[str, Any]) -> aws.route53.HealthCheck:
        # Healthy when the endpoint connects within 4 s and answers 2xx/3xx within 2 s more
        # (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
        probe = self.owner.probe
        return aws.route53.HealthCheck(
            resource_name,
            type=probe.protocol,
            port=probe.port,
            resource_path=probe.path,
            request_interval=self.dns.interval,
            failure_threshold=self.dns.health_check.failure_threshold,
            measure_latency=True,
            regions=ROUTE53_CHECKER_REGIONS,
            # The console's name of the check: the stack prefix keeps two stacks' checks apart.
            tags={"Name": f"{self.owner.args.plan.prefix}-{label}-ingress"},
            opts=self.opts(),
            **target,
        )

    def _zones_check(self, cluster: ClusterConfig, reserved: pulumi.Output[list[str]]) -> aws.route53.HealthCheck:
        """An entry with reserved addresses: one probe per address (each is one zone's NLB node) and a calculated
        check that is healthy only while every one of them is.

        The records answer every address, and an NLB stops answering a zone's address in its own DNS when that
        zone fails, so a probe of the NLB's name would stay healthy while a third of the answers lead nowhere.
        Counting the cluster failed when any of its zones fails moves its users to the other members of the set
        instead (HealthThreshold: "the number of child health checks ... that Amazon Route 53 must consider
        healthy for the CALCULATED health check to be considered healthy", API_HealthCheckConfig)."""
        zones = cluster.aws_zones  # one address per public subnet, one subnet per zone (components/eks.py)
        children = [
            self._probe(
                f"{self.name}-check-{cluster.name}-{i}",
                f"{cluster.name}-{i}",
                {"ip_address": reserved.apply(lambda addresses, i=i: addresses[i])},
            )
            for i in range(zones)
        ]
        return aws.route53.HealthCheck(
            f"{self.name}-check-{cluster.name}",
            type="CALCULATED",
            child_healthchecks=[child.id for child in children],
            child_health_threshold=zones,
            tags={"Name": f"{self.owner.args.plan.prefix}-{cluster.name}-ingress"},
            opts=self.opts(),
        )

    def _endpoint_set(self, endpoints: EndpointSet) -> list[aws.route53.Record]:
        """The records answering `endpoints.name` (what an alias to that name waits for)."""
        if not endpoints.clusters:
            return []  # not in a valid config: check_drain keeps a serving cluster in every failover group
        if endpoints.mode == "single":
            only = endpoints.clusters[0]
            return [self._record(f"{endpoints.name}-{only.name}", endpoints.name, only)]
        if endpoints.mode == "failover":
            return self._failover(endpoints)
        return [
            self._routed(endpoints.name, cluster, _policy(endpoints.mode, cluster)) for cluster in endpoints.clusters
        ]

    def _failover(self, endpoints: EndpointSet) -> list[aws.route53.Record]:
        primary = self._routed(endpoints.name, endpoints.primary, _failover_policy("PRIMARY"))
        # A failover set holds one SECONDARY: an alias to a latency set of every serving standby, even one.
        standby_set = EndpointSet(f"{STANDBY_PREFIX}.{endpoints.name}", "latency", endpoints.standbys)
        if not standby_set.clusters:
            return [primary]  # every standby drained: the PRIMARY alone answers, nothing to alias to
        targets = self._endpoint_set(standby_set)
        # Before every SECONDARY went through the alias, a fleet with one standby had the SECONDARY named after
        # it: the alias makes that record this one (an in-place update, one atomic change batch) rather than a
        # new SECONDARY created next to the old one, which Route53 would refuse (one SECONDARY per name).
        legacy = [
            pulumi.Alias(name=f"{self.name}-{endpoints.name}-{c.name}")
            for c in endpoints.members
            if c.role != "primary"
        ]
        secondary = aws.route53.Record(
            f"{self.name}-{endpoints.name}-{STANDBY_PREFIX}",
            zone_id=self.owner.zone_id,
            name=self.owner.fqdn(endpoints.name),
            type="A",
            set_identifier=STANDBY_PREFIX,
            aliases=[self._zone_alias(standby_set.name)],
            **_failover_policy("SECONDARY"),
            # An alias needs its target to exist ("Tried to create an alias that targets ..., but that target was
            # not found", InvalidChangeBatch): after the standby records. After the PRIMARY too, so that a name that
            # was a plain record (one cluster) is a failover record before its SECONDARY joins it.
            opts=self.opts(depends_on=[primary, *targets], aliases=legacy),
        )
        return [primary, secondary]

    def _routed(self, relative: str, cluster: ClusterConfig, policy: dict[str, Any]) -> aws.route53.Record:
        return self._record(
            f"{relative}-{cluster.name}",
            relative,
            cluster,
            set_identifier=cluster.name,
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
        # A plain A record with the zone's TTL on every cloud: an alias to an NLB would answer with the ELB's 60 s
        # whatever the zone says, so AWS entries answer their Elastic IPs (GlobalDns.answers) instead.
        return {"type": "A", "ttl": self.dns.ttl, "records": self.owner.answers[cluster.name]}

    def _zone_alias(self, relative: str) -> aws.route53.RecordAliasArgsDict:
        return {"name": self.owner.fqdn(relative), "zone_id": self.owner.zone_id, "evaluate_target_health": True}

    def _geo_record(self, plan: RecordPlan, rule: GeoRule, targets: list[aws.route53.Record]) -> None:
        location: aws.route53.RecordGeolocationRoutingPolicyArgsDict = (
            {"continent": rule.continent} if rule.continent else {"country": rule.country}
        )
        aws.route53.Record(
            f"{self.name}-{plan.record.name}-geo-{rule.set_identifier}",
            zone_id=self.owner.zone_id,
            name=self.owner.fqdn(plan.record.name),
            type="A",
            set_identifier=rule.set_identifier,
            geolocation_routing_policies=[location],
            aliases=[self._zone_alias(plan.residency_names[rule.residency])],
            opts=self.opts(depends_on=targets),  # the residency's records, the alias target
        )


def _failover_policy(kind: str) -> dict[str, Any]:
    return {"failover_routing_policies": [{"type": kind}]}


def _policy(mode: str, cluster: ClusterConfig) -> dict[str, Any]:
    if mode == "latency":
        return {"latency_routing_policies": [{"region": latency_region(cluster)}]}
    return {"weighted_routing_policies": [{"weight": 1}]}


class CloudDnsWriter:
    """Cloud DNS: one record set per name with a routing policy over health-checked external IPs."""

    def __init__(self, owner: GlobalDns):
        self.owner, self.dns, self.name = owner, owner.dns, owner.resource_name
        fleet = owner.args.plan
        self.provider = gcp.Provider(
            f"{self.name}-gcp",
            project=fleet.gcp_project,
            default_labels={"environment": fleet.environment, "managed-by": "pulumi"},
            opts=pulumi.ResourceOptions(parent=owner),
        )
        services = owner.args.project_services
        # A project refuses calls to a disabled API (SERVICE_DISABLED): every Cloud DNS resource waits for it.
        self.dns_api: list[pulumi.Resource] = services.for_purpose("dns") if services is not None else []

    def opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.owner, provider=self.provider, **kwargs)

    def write(self) -> None:
        self._zone()
        checked = self.owner.clusters_checked()
        self.health_check = self._health_check() if checked else None
        if self.health_check is not None:
            self.owner.health_checks = {c.name: self.health_check.id for c in checked}
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
        fleet = self.owner.args.plan
        protect = fleet.protected
        zone = gcp.dns.ManagedZone(
            f"{self.name}-zone",
            # Unique per stack in the project; its length is checked with the config (never truncated).
            name=managed_zone_name(fleet.prefix, self.dns.zone),
            dns_name=f"{self.dns.zone}.",
            description=f"multicluster {fleet.environment}: global names of the fleet",
            visibility="public",
            # Signed answers: resolvers can verify them once the DS record is published at the registrar
            # (https://cloud.google.com/dns/docs/dnssec-config).
            dnssec_config={"state": "on"},
            force_destroy=False,
            opts=self.opts(protect=protect, retain_on_delete=protect, depends_on=self.dns_api),
        )
        self.zone_name = zone.name
        self.owner.zone_id = zone.name
        self.owner.name_servers = zone.name_servers

    def _health_check(self) -> gcp.compute.HealthCheck:
        interval, probe = self.dns.interval, self.owner.probe
        return gcp.compute.HealthCheck(
            f"{self.name}-check",
            name=f"{self.owner.args.plan.prefix}-dns-ingress",
            description="Cloud DNS routing: probes each cluster's ingress readiness through its load balancer",
            check_interval_sec=interval,
            timeout_sec=min(10, interval),
            healthy_threshold=2,
            unhealthy_threshold=self.dns.health_check.failure_threshold,
            source_regions=CLOUDDNS_SOURCE_REGIONS,
            http_health_check={"port": probe.port, "request_path": probe.path},
            opts=self.opts(depends_on=self.dns_api),
        )

    def _record_set(self, endpoints: EndpointSet) -> None:
        answers = self.owner.answers
        extra: dict[str, Any]
        if not endpoints.clusters:
            return  # not in a valid config: check_drain keeps a serving cluster in every failover group
        if not endpoints.fails_over:
            # One serving cluster (the only member, or the others drained): one answer, nothing to route between.
            extra = {"rrdatas": answers[endpoints.clusters[0].name]}
        else:
            assert self.health_check is not None
            extra = {"routing_policy": {"health_check": self.health_check.id, **self._policy(endpoints)}}
        gcp.dns.RecordSet(
            f"{self.name}-{endpoints.name}",
            managed_zone=self.zone_name,
            name=f"{self.owner.fqdn(endpoints.name)}.",
            type="A",
            ttl=self.dns.ttl,
            opts=self.opts(depends_on=self.dns_api),
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
        # Every address of every cluster: Cloud DNS probes each one and answers those that pass.
        endpoints = pulumi.Output.all(*[self.owner.answers[c.name] for c in clusters]).apply(
            lambda lists: [address for answer in cast(list[list[str]], lists) for address in answer]
        )
        return {"health_checked_targets": {"external_endpoints": endpoints}}

    def _geo_record_set(self, plan: RecordPlan) -> None:
        # Cloud DNS geo matches the GCP region nearest to the user: each residency claims its own
        # regions and the regions of its continents; the default residency takes every other region.
        items: list[gcp.dns.RecordSetRoutingPolicyGeoArgsDict] = [
            {"location": location, "rrdatas": [f"{self.owner.fqdn(plan.residency_names[key])}."]}
            for location, key in sorted(residency_locations(self.owner.args.plan.residencies).items())
        ]
        gcp.dns.RecordSet(
            f"{self.name}-{plan.record.name}-geo",
            managed_zone=self.zone_name,
            name=f"{self.owner.fqdn(plan.record.name)}.",
            type="CNAME",
            ttl=self.dns.ttl,
            routing_policy={"geos": items},
            opts=self.opts(depends_on=self.dns_api),
        )


# --- entry point -------------------------------------------------------------------------------------


def build_dns(
    plan: FleetPlan,
    clusters: Mapping[str, ClusterPort],
    mesh: MeshHandle | None,
    project_services: ProjectServices | None,
) -> GlobalDns | None:
    """Create the dns components for the fleet, or None when the block is absent.

    Users reach each cluster through the mesh's own public entry when it has one (`MeshHandle.public_entry`);
    otherwise through an ingress controller of DNS's own, which joins the fleet's mesh (and waits for what
    meshing it needs: `MeshHandle.control_plane_releases`)."""
    if plan.block(DnsConfig) is None:
        return None
    args = GlobalDnsArgs(
        plan=plan,
        clusters=dict(clusters),
        mesh_entry=mesh.public_entry(clusters) if mesh is not None else None,
        mesh=cast(MeshProvider, mesh.provider) if mesh is not None else "none",
        mesh_ready=mesh.control_plane_releases() if mesh is not None else {},
        project_services=project_services,
    )
    return GlobalDns("dns", args)
