"""The fleet plan: every fleet-wide decision, computed once from the validated stack config, before any resource.

Pure (no Pulumi): which clusters fail over to each other, which pairs are linked and how (ASNs, inside ranges,
the ports each side opens to the other), which clusters form a mesh, whose backups each cluster restores, who
calls each API server, which GKE issuers AWS must trust, what gcp:project must enable. The composition
(components/fleet.py) computes it once and hands each capability the parts it needs; capabilities never
re-derive these rules from the config, so each rule has one home and one answer.

The rules across blocks judge the plan itself (plan_fleet: each block's `plan_check`, the planned Elastic IPs),
so what validation accepts is exactly what the components receive; validate_stack is the whole contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any, cast

from .clouds import traits
from .config import ClusterConfig, ConfigError, Issue, Residency, StackConfig, parse_stack_config
from .config.access import team_clusters
from .config.backup import restore_peers
from .config.base import Model, format_path
from .config.clusters import cluster_labels
from .config.connectivity import (
    FleetPort,
    api_clients,
    assign_asns,
    ingress_ports,
    inside_ranges,
    planned_links,
    planned_vpns,
    vpn_of,
)
from .config.fleetview import DEFAULT_ELASTIC_IPS, ELASTIC_IPS_QUOTA, B
from .config.links import KIND_HA_VPN, Link, Vpn
from .config.mesh import mesh_peers
from .config.observability import telemetry_scopes
from .config.secrets import store_readers
from .config.stack import BLOCKS, maintenance_window
from .routing import RecordPlan, plan_record

# Admission webhook ports the mesh's control plane serves on the nodes (what GKE's control plane must reach):
# istiod's sidecar injector 15017 (istio.io "Ports used by Istio"), Linkerd's proxy injector 8443 and
# policy validator 9443 (linkerd-control-plane chart templates).
MESH_WEBHOOK_PORTS: Mapping[str, tuple[int, ...]] = {"istio": (15017,), "linkerd": (8443, 9443)}

Window = tuple[tuple[str, ...], int, int]


@dataclass(frozen=True)
class MeshGroup:
    """Clusters that trust each other: one root of trust, one mesh id, full discovery."""

    key: str  # "fleet", or the residency key
    mesh_id: str
    clusters: tuple[str, ...]
    # Drained clusters (clusters[i].drain): no peer discovers their endpoints, so no mesh traffic goes there;
    # they still discover the others', for what still runs on them.
    drained: tuple[str, ...] = ()

    def pairs(self) -> list[tuple[str, str]]:
        """Every ordered (local, remote) pair where the local cluster discovers the remote one."""
        return [(local, remote) for local, remote in permutations(self.clusters, 2) if remote not in self.drained]


@dataclass(frozen=True)
class ClusterPlan:
    """What the fleet decided for one cluster: the props of its component."""

    spec: ClusterConfig
    index: int  # position in multicluster:clusters, for messages that name the config key
    environment: str
    prefix: str  # of physical names: <prefix>-<cluster>
    protect: bool
    tags: Mapping[str, str]
    project: str | None  # GCP project (GKE only)
    unreachable: bool  # multicluster:outage.unreachable or .lost
    lost: bool
    deployer_egress: tuple[str, ...]
    maintenance: Window | None  # GKE only
    # Clusters that call this API server, with why (the gitops hub, mesh peers, the deployer's cluster).
    api_callers: Mapping[str, str]
    # Mesh peers read this API server with Kubernetes tokens (a GKE DNS endpoint must accept them).
    token_callers: bool
    webhook_ports: tuple[int, ...]
    # The cluster reserves the addresses of its public entry (one Elastic IP per public subnet on EKS): DNS answers
    # with them (multicluster:dns present and the cloud's load balancers have no fixed addresses of their own).
    reserved_entry: bool = False
    # APIs of its project that capabilities call at run time (GKE only): External Secrets calls Secret Manager and
    # IAM Credentials (GenerateAccessToken for Workload Identity), no planned resource of theirs enables them.
    extra_apis: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def physical_name(self) -> str:
        return f"{self.prefix}-{self.spec.name}"

    @property
    def labels(self) -> dict[str, str]:
        """Fleet labels of this cluster (also the Argo CD registration labels)."""
        return cluster_labels(self.spec, self.environment)


@dataclass(frozen=True)
class NetworkPlan:
    """The links of the fleet (multicluster:connectivity) and what crosses them."""

    mode: str
    hub: str | None
    aws_gateway: str
    links: tuple[Link, ...]
    vpns: tuple[Vpn, ...]
    asns: Mapping[str, int]
    inside_ranges: Mapping[str, list[str]]
    # (target, peer) -> the ports target opens to peer over their link, declared by the capabilities that
    # need them (mesh data planes, API-server callers of private-only endpoints).
    ports: Mapping[tuple[str, str], tuple[FleetPort, ...]]
    # AWS <-> GCP link name -> the HA VPN that carries it (one per link, or per GKE cluster and AWS region).
    vpn_of_link: Mapping[str, str] = field(default_factory=dict[str, str])
    # hub-spoke per residency (connectivity.hubs): residency -> its hub.
    hubs: Mapping[str, str] = field(default_factory=dict[str, str])

    @property
    def connected(self) -> frozenset[frozenset[str]]:
        return frozenset(frozenset((link.first.name, link.second.name)) for link in self.links)

    def vpn(self, name: str) -> Vpn:
        return next(vpn for vpn in self.vpns if vpn.name == name)


@dataclass(frozen=True)
class FleetPlan:
    """Every fleet-wide decision of one stack, and each block's own settings: all a capability reads."""

    environment: str
    prefix: str  # of physical names: <prefix>-<cluster>
    protected: bool  # multicluster:protect (prod by default)
    gcp_project: str | None
    # Each block's own settings by its model (None: the stack leaves it out); read with `block(Model)`.
    blocks: Mapping[type[Model], Model | None]
    clusters: Mapping[str, ClusterPlan]
    failover_groups: Mapping[str, tuple[str, ...]]
    network: NetworkPlan
    mesh_groups: tuple[MeshGroup, ...]
    restore_peers: Mapping[str, tuple[str, ...]]
    # GKE clusters whose pods assume AWS roles (an Argo CD hub with EKS targets, Velero reading S3 peers).
    aws_trusts: tuple[str, ...]
    # What gcp:project serves outside any cluster (ProjectServices purposes), empty when nothing.
    project_purposes: tuple[str, ...] = field(default=())
    # Partitioned: the residencies (regions, continents, countries; which one is the default).
    residencies: Mapping[str, Residency] = field(default_factory=dict[str, Residency])
    # multicluster:dns: which clusters answer each public name and how (components/routing.py).
    records: tuple[RecordPlan, ...] = ()
    # multicluster:observability: hub -> the clusters whose telemetry it stores and queries (itself included).
    telemetry_scopes: Mapping[str, tuple[str, ...]] = field(default_factory=dict[str, tuple[str, ...]])
    # Cluster -> the team namespaces on it (multicluster:access.namespaces by placement).
    teams: Mapping[str, tuple[str, ...]] = field(default_factory=dict[str, tuple[str, ...]])
    # Extra secret store -> the clusters that may read it (its cloud; in a partitioned fleet, its residency).
    secret_readers: Mapping[str, tuple[str, ...]] = field(default_factory=dict[str, tuple[str, ...]])

    def block(self, kind: type[B]) -> B | None:
        """The settings of the block whose model is `kind`, as validated (None when the stack leaves it out)."""
        return cast(B | None, self.blocks[kind])

    def gcp_projects(self) -> list[str]:
        """The projects of the fleet's GKE clusters."""
        return sorted({c.project for c in self.clusters.values() if c.project is not None})

    def telemetry_hub(self, cluster: str) -> str | None:
        return next((hub for hub, members in self.telemetry_scopes.items() if cluster in members), None)

    @property
    def tags(self) -> dict[str, str]:
        return {"multicluster:environment": self.environment, "managed-by": "pulumi"}

    def cluster(self, name: str) -> ClusterPlan:
        return self.clusters[name]

    def privately_connected(self, name: str, group: MeshGroup) -> bool:
        return privately_connected(name, group, self.network.connected)


def privately_connected(name: str, group: MeshGroup, connected: frozenset[frozenset[str]]) -> bool:
    """True when every other cluster of the mesh reaches this one over private links."""
    others = [other for other in group.clusters if other != name]
    return bool(others) and all(frozenset((name, other)) in connected for other in others)


def fleet_tags(config: StackConfig) -> dict[str, str]:
    return {"multicluster:environment": config.environment, "managed-by": "pulumi"}


def plan_fleet(config: StackConfig) -> FleetPlan:
    """The fleet plan of a validated stack config, judged by the rules across blocks; raises ConfigError (every
    problem, with its key path) before any resource exists when the plan breaks one."""
    plan = planned(config)
    issues = plan_issues(config, plan)
    if issues:
        raise ConfigError(issues)
    return plan


def validate_stack(
    raw: dict[str, Any], gcp_project: str | None = None, stack: str | None = None
) -> tuple[StackConfig, FleetPlan]:
    """The whole contract of a stack's `multicluster:` settings: the config with every block's and the fleet's
    own rules (parse_stack_config), then its plan judged across blocks (plan_fleet). Raises ConfigError."""
    config = parse_stack_config(raw, gcp_project, stack)
    return config, plan_fleet(config)


def plan_issues(config: StackConfig, plan: FleetPlan) -> list[Issue]:
    """Validation across blocks, over the plan the program builds: each present block's plan checks (BLOCKS, from
    its BlockRules), so the links, VPNs, ports and callers judged are the very values the components receive."""
    return elastic_ip_issues(config, plan) + [
        issue
        for block in BLOCKS
        if block.plan_check is not None and config.block(block.model) is not None
        for issue in block.plan_check(config, plan)
    ]


# Amazon VPC quotas: "Elastic IP addresses per Region: 5" (https://docs.aws.amazon.com/vpc/latest/userguide/
# amazon-vpc-limits.html); raised per region in Service Quotas and stated in multicluster:quotas.aws.elasticIps.
def elastic_ips(plan: FleetPlan) -> dict[str, list[tuple[str, int]]]:
    """Region -> the EKS clusters there and how many Elastic IPs each allocates: one per NAT gateway
    (components/eks.py _private_routes) and, where the plan reserves its public entry (multicluster:dns), one per
    zone."""
    found: dict[str, list[tuple[str, int]]] = {}
    for planned_cluster in plan.clusters.values():
        cluster = planned_cluster.spec
        if cluster.cloud != "aws":
            continue
        zones = cluster.aws_zones
        count = cluster.nat_addresses + (zones if planned_cluster.reserved_entry else 0)
        found.setdefault(cluster.region, []).append((cluster.name, count))
    return found


def elastic_ip_issues(config: StackConfig, plan: FleetPlan) -> list[Issue]:
    """The Elastic IPs the plan allocates per region, against the default or stated quota."""
    issues: list[Issue] = []
    for region, users in elastic_ips(plan).items():
        limit = config.quotas.aws.elastic_ips.get(region, DEFAULT_ELASTIC_IPS)
        total = sum(count for _, count in users)
        if total <= limit:
            continue
        first = plan.cluster(users[0][0]).index
        held = "the default quota" if region not in config.quotas.aws.elastic_ips else "the stated quota"
        issues.append(
            Issue(
                format_path(("clusters", first, "region")),
                f"the EKS clusters in {region} need {total} Elastic IPs ("
                + ", ".join(f"{name} {count}" for name, count in users)
                + f": one per NAT gateway and, with multicluster:dns, one per zone for the public entry), over "
                f"{held} of {limit}: raise it ({ELASTIC_IPS_QUOTA}) and state it in "
                f"multicluster:quotas.aws.elasticIps.{region}, or use natGateways: single",
            )
        )
    return issues


def planned(config: StackConfig) -> FleetPlan:
    """Every decision of the fleet plan, not yet judged across blocks (plan_fleet judges it)."""
    return FleetPlan(
        environment=config.environment,
        prefix=config.prefix,
        protected=config.protected,
        gcp_project=config.gcp_project,
        blocks={block.model: config.block(block.model) for block in BLOCKS},
        clusters={spec.name: plan_cluster(config, spec, i) for i, spec in enumerate(config.clusters)},
        failover_groups={key: tuple(c.name for c in group) for key, group in config.failover_groups().items()},
        network=plan_network(config),
        mesh_groups=tuple(mesh_groups(config)),
        restore_peers=(
            {name: tuple(p.name for p in peers) for name, peers in restore_peers(config).items()}
            if config.backup is not None
            else {}
        ),
        aws_trusts=tuple(gke_clusters_trusted_by_aws(config)),
        project_purposes=tuple(project_purposes(config)),
        residencies=dict(config.residencies),
        records=tuple(plan_record(config, r) for r in config.dns.records) if config.dns is not None else (),
        telemetry_scopes=telemetry_scopes(config),
        teams=team_placements(config),
        secret_readers=(
            {s.name: tuple(c.name for c in store_readers(config, s)) for s in config.secrets.stores}
            if config.secrets is not None
            else {}
        ),
    )


def team_placements(config: StackConfig) -> dict[str, tuple[str, ...]]:
    """Cluster -> the team namespaces (multicluster:access.namespaces) its placement puts there."""
    if config.access is None:
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for cluster in config.clusters:
        names = tuple(t.name for t in config.access.namespaces if cluster in team_clusters(config, t))
        if names:
            found[cluster.name] = names
    return found


def plan_cluster(config: StackConfig, spec: ClusterConfig, index: int) -> ClusterPlan:
    mesh = config.mesh.provider if config.mesh is not None else "none"
    return ClusterPlan(
        spec=spec,
        index=index,
        environment=config.environment,
        prefix=config.prefix,
        protect=config.protects(spec),
        tags=fleet_tags(config),
        project=config.project_of(spec) if traits(spec).projects else None,
        unreachable=config.outage.down(spec.name),
        lost=spec.name in config.outage.lost,
        deployer_egress=tuple(config.deployer.egress_cidrs),
        maintenance=maintenance_window(config, spec) if traits(spec).maintenance_windows else None,
        api_callers=api_clients(config, spec.name),
        token_callers=any(mesh_peers(config, spec.name, c.name) for c in config.clusters),
        webhook_ports=MESH_WEBHOOK_PORTS.get(mesh, ()),
        reserved_entry=config.dns is not None and traits(spec).reserves_entry_addresses,
        extra_apis=SECRETS_APIS if config.secrets is not None and traits(spec).projects else (),
    )


SECRETS_APIS = ("secretmanager.googleapis.com", "iamcredentials.googleapis.com")


def plan_network(config: StackConfig) -> NetworkPlan:
    links = planned_links(config)
    vpns = planned_vpns(config, links)
    ports: dict[tuple[str, str], tuple[FleetPort, ...]] = {}
    for link in links:
        for target, peer in ((link.first, link.second), (link.second, link.first)):
            ports[(target.name, peer.name)] = ingress_ports(config, target, peer)
    block = config.connectivity
    return NetworkPlan(
        mode=block.mode,
        hub=block.hub,
        hubs=dict(block.hubs or {}),
        aws_gateway=block.aws_gateway,
        links=tuple(links),
        vpns=tuple(vpns),
        asns=assign_asns(config, vpns),
        inside_ranges=inside_ranges(vpns),
        ports=ports,
        vpn_of_link={link.name: vpn_of(config, link) for link in links if link.kind == KIND_HA_VPN},
    )


def mesh_groups(config: StackConfig) -> list[MeshGroup]:
    """One mesh for the fleet, or one per residency (no trust across residencies); none without a mesh."""
    mesh = config.mesh
    if mesh is None or mesh.provider == "none":
        return []
    base_id = mesh.mesh_id_for(config.environment)
    drained = tuple(c.name for c in config.clusters if c.drain)
    if mesh.scope == "fleet":
        return [MeshGroup("fleet", base_id, tuple(c.name for c in config.clusters), drained)]
    return [
        MeshGroup(key, f"{base_id}-{key}", tuple(c.name for c in config.clusters if c.residency == key), drained)
        for key in config.residencies
        if any(c.residency == key for c in config.clusters)
    ]


def gke_clusters_trusted_by_aws(config: StackConfig) -> list[str]:
    """GKE clusters whose pods need AWS roles, as the blocks declare them (config/needs.py), in config order."""
    trusts = config.needs().aws_trusts
    return [c.name for c in config.clusters if c.name in trusts]


def project_purposes(config: StackConfig) -> list[str]:
    """What gcp:project must enable for what the fleet keeps there outside any cluster, as the blocks declare."""
    if config.gcp_project is None:
        return []
    return list(config.needs().gcp_project_purposes)
