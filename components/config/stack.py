"""The root of the stack config (`multicluster:*`) and the checks that span the fleet."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Annotated, Literal, TypeGuard, TypeVar, cast, get_args

from pydantic import AfterValidator, Field, PrivateAttr

from .access import ACCESS_RULES, AccessConfig
from .backup import BACKUP_RULES, BackupConfig
from .base import Issue, Loc, Model, dns_label, format_path, short_path
from .clusters import AWS_MACHINE_TYPE, GCP_MACHINE_TYPE, ClusterConfig
from .connectivity import CONNECTIVITY_RULES
from .cost import COST_RULES, CostConfig
from .dns import DNS_RULES, DnsConfig
from .fleetview import (
    B,
    BlockRules,
    ConnectivityConfig,
    DeployerConfig,
    FleetView,
    OutageConfig,
    PlannedFleet,
    QuotasConfig,
    Residency,
)
from .gitops import GITOPS_RULES, GitopsConfig
from .mesh import MESH_RULES, MeshConfig
from .needs import DEPLOYER, FleetNeeds, Needs, aggregate
from .observability import OBSERVABILITY_RULES, ObservabilityConfig
from .policy import POLICY_RULES, PolicyConfig
from .regions import zone_id_prefix
from .secrets import SECRETS_RULES, SecretsConfig

RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

T = TypeVar("T")
Topology = Literal["replicated", "partitioned"]
Failover = Literal["active-active", "active-passive"]
# Physical names are <prefix>-<cluster>: GKE cluster names allow 40 characters, a cluster name 24.
NAME_PREFIX_LENGTH = 15


def stack_prefix_problem(stack: str) -> str | None:
    """Why a stack name cannot prefix physical names (None when it can)."""
    try:
        dns_label(stack, NAME_PREFIX_LENGTH)
    except ValueError as exc:
        return str(exc)
    return None


class StackConfig(Model):
    """Everything under the `multicluster:` config namespace of a stack."""

    environment: Annotated[str, AfterValidator(lambda v: dns_label(v, 16))] = Field(
        description="Environment name used in names, tags and labels (e.g. prod, staging)."
    )
    topology: Topology = "replicated"
    failover: Failover = "active-passive"
    protect: bool | None = Field(
        default=None, description="Protect stateful resources; defaults to true when environment is prod."
    )
    name_prefix: Annotated[str, AfterValidator(lambda v: dns_label(v, NAME_PREFIX_LENGTH))] | None = Field(
        default=None,
        description="Prefix of physical names (<prefix>-<cluster>); defaults to the stack name, so that two stacks "
        "in one account or project never collide.",
    )
    clusters: list[ClusterConfig] = Field(min_length=1)
    residencies: dict[str, Residency] = Field(default_factory=dict)
    # The blocks: each field names its model and its module's rules (BLOCKS below is read from these lines).
    connectivity: Annotated[ConnectivityConfig, CONNECTIVITY_RULES] = Field(default_factory=ConnectivityConfig)
    mesh: Annotated[MeshConfig | None, MESH_RULES] = None
    gitops: Annotated[GitopsConfig | None, GITOPS_RULES] = None
    backup: Annotated[BackupConfig | None, BACKUP_RULES] = None
    dns: Annotated[DnsConfig | None, DNS_RULES] = None
    observability: Annotated[ObservabilityConfig | None, OBSERVABILITY_RULES] = None
    access: Annotated[AccessConfig | None, ACCESS_RULES] = None
    secrets: Annotated[SecretsConfig | None, SECRETS_RULES] = None
    policy: Annotated[PolicyConfig | None, POLICY_RULES] = None
    cost: Annotated[CostConfig | None, COST_RULES] = None
    deployer: DeployerConfig = Field(default_factory=DeployerConfig)
    outage: OutageConfig = Field(default_factory=OutageConfig)
    quotas: QuotasConfig = Field(default_factory=QuotasConfig)

    _gcp_project: str | None = PrivateAttr(None)
    _stack: str | None = PrivateAttr(None)
    # Derived values computed once per instance: (id of the instance they were computed for, value). The id
    # check keeps a model_copy, which copies private attributes, from reusing its original's values.
    _remembered: dict[str, tuple[int, object]] = PrivateAttr(default_factory=dict[str, "tuple[int, object]"])

    def remembered(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once for this config object (it is frozen once validated)."""
        found = self._remembered.get(key)
        if found is not None and found[0] == id(self):
            return cast(T, found[1])
        value = compute()
        self._remembered = {**self._remembered, key: (id(self), value)}
        return value

    @property
    def protected(self) -> bool:
        return self.protect if self.protect is not None else self.environment == "prod"

    def protects(self, cluster: ClusterConfig) -> bool:
        """Whether the cluster's stateful resources are protected: its own setting, else the fleet's."""
        return cluster.protect if cluster.protect is not None else self.protected

    @property
    def prefix(self) -> str:
        """Prefix of physical names: namePrefix, else the stack name (validated), else the environment."""
        return (
            self.name_prefix
            or (self._stack if self._stack and stack_prefix_problem(self._stack) is None else None)
            or self.environment
        )

    def physical_name(self, cluster: str) -> str:
        return f"{self.prefix}-{cluster}"

    @property
    def serving(self) -> list[ClusterConfig]:
        """Clusters that take traffic and workloads (not drained)."""
        return [c for c in self.clusters if not c.drain]

    @property
    def gcp_project(self) -> str | None:
        return self._gcp_project

    @property
    def stack_name(self) -> str | None:
        """The name of the stack the config was read for (None when not known)."""
        return self._stack

    def set_context(self, gcp_project: str | None, stack: str | None) -> None:
        """Record what the config is read with but does not hold: gcp:project and the stack name."""
        self._gcp_project = gcp_project
        self._stack = stack

    def project_of(self, cluster: ClusterConfig) -> str:
        project = cluster.project or self._gcp_project
        if project is None:
            raise ValueError(f"cluster {cluster.name} has no GCP project")
        return project

    def failover_groups(self) -> dict[str, list[ClusterConfig]]:
        """Clusters that fail over to each other: the fleet, or each residency when partitioned."""
        if self.topology == "replicated":
            return {"fleet": list(self.clusters)}
        groups: dict[str, list[ClusterConfig]] = {key: [] for key in self.residencies}
        for cluster in self.clusters:
            groups.setdefault(cluster.residency or "", []).append(cluster)
        return groups

    def block(self, kind: type[B]) -> B | None:
        """The settings of the block whose model is `kind` (None when the stack leaves it out)."""
        return cast(B | None, getattr(self, BLOCK_KEYS[kind]))

    def needs(self) -> FleetNeeds:
        """The declared needs of every block the stack has (BLOCKS, then the deployer's), computed once: the rules
        ask per pair, many times per validation and plan."""
        return self.remembered("needs", lambda: aggregate(self._declared_needs()))

    def _declared_needs(self) -> list[Needs]:
        blocks = [b for b in BLOCKS if self.block(b.model) is not None]
        return [*(b.needs(self) for b in blocks if b.needs is not None), deployer_needs(self)]

    def cluster(self, name: str) -> ClusterConfig:
        return next(c for c in self.clusters if c.name == name)


# --- fleet-wide checks --------------------------------------------------------------------
# Each check takes the clusters that validated (None where an entry did not) and returns issues.

Clusters = list[ClusterConfig | None]


def _has(cluster: ClusterConfig | None, *fields: str) -> TypeGuard[ClusterConfig]:
    """True when the entry exists and each field validated (salvaged entries may lack some)."""
    return cluster is not None and all(f in cluster.__dict__ for f in fields)


def check_unique_names(clusters: Clusters) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for i, cluster in enumerate(clusters):
        if not _has(cluster, "name"):
            continue
        if cluster.name in seen:
            issues.append(
                Issue(
                    format_path(("clusters", i, "name")),
                    f"'{cluster.name}' is already used by clusters[{seen[cluster.name]}]",
                )
            )
        else:
            seen[cluster.name] = i
    return issues


def check_overlaps(clusters: Clusters) -> list[Issue]:
    ranges = [
        (("clusters", i, "network", key), cidr)
        for i, cluster in enumerate(clusters)
        if _has(cluster, "network")
        for key, cidr in cluster.ranges.items()
    ]
    # Every pair is compared (each overlap is reported), on address bounds parsed once: at 100 clusters that is
    # 45,000 pairs of integers rather than 90,000 parses.
    bounds = [(int((n := ipaddress.ip_network(cidr)).network_address), int(n.broadcast_address)) for _, cidr in ranges]
    issues: list[Issue] = []
    for (i, (first_loc, _)), (j, (second_loc, second)) in combinations(enumerate(ranges), 2):
        (low_a, high_a), (low_b, high_b) = bounds[i], bounds[j]
        if low_a <= high_b and low_b <= high_a:
            issues.append(Issue(format_path(second_loc), f"{second} overlaps {short_path(first_loc)}"))
    return issues


def check_cloud_fields(clusters: Clusters, gcp_project: str | None, prefix: str = "") -> list[Issue]:
    issues: list[Issue] = []
    for i, cluster in enumerate(clusters):
        if not _has(cluster, "cloud", "network", "node_pools"):
            continue
        at = ("clusters", i)
        pattern, example = (
            (AWS_MACHINE_TYPE, "m7i.large") if cluster.cloud == "aws" else (GCP_MACHINE_TYPE, "e2-standard-4")
        )
        for j, pool in enumerate(cluster.node_pools):
            if not pattern.match(pool.machine_type):
                issues.append(
                    Issue(
                        format_path((*at, "nodePools", j, "machineType")),
                        f"'{pool.machine_type}' is not a{'n' if cluster.cloud == 'aws' else ''} "
                        f"{cluster.cloud.upper()} machine type (e.g. {example})",
                    )
                )
        issues += _node_versions(cluster, at)
        if cluster.cloud == "gcp":
            issues += _gcp_fields(cluster, at, gcp_project, prefix)
        else:
            issues += _aws_fields(cluster, at)
    return issues


def _minor(version: str) -> int | None:
    major, _, minor = version.partition(".")
    return int(minor) if major == "1" and minor.isdigit() else None


# Nodes may be older than the control plane by this many minor versions, never newer:
# EKS (Kubernetes version skew policy since 1.28: kubelet up to 3 minors older).
NODE_SKEW = {"aws": 3}


def _node_versions(cluster: ClusterConfig, at: Loc) -> list[Issue]:
    issues: list[Issue] = []
    control = _minor(cluster.kubernetes_version) if "kubernetes_version" in cluster.__dict__ else None
    for j, pool in enumerate(cluster.node_pools):
        if pool.kubernetes_version is None or control is None:
            continue
        where = format_path((*at, "nodePools", j, "kubernetesVersion"))
        if cluster.cloud == "gcp":
            # https://cloud.google.com/kubernetes-engine/docs/concepts/release-channels: in a channel node
            # auto-upgrade is always on, so GKE moves the nodes after the control plane itself.
            issues.append(
                Issue(
                    where,
                    "is not set on GKE: nodes of a release-channel cluster auto-upgrade after the control plane "
                    "(hold upgrades with maintenance windows and exclusions instead)",
                )
            )
            continue
        nodes = _minor(pool.kubernetes_version)
        if nodes is None:
            issues.append(Issue(where, f"'{pool.kubernetes_version}' is not a Kubernetes minor version (e.g. 1.33)"))
        elif nodes > control:
            issues.append(
                Issue(
                    where, f"{pool.kubernetes_version} is newer than the control plane ({cluster.kubernetes_version})"
                )
            )
        elif control - nodes > NODE_SKEW[cluster.cloud]:
            issues.append(
                Issue(
                    where,
                    f"{pool.kubernetes_version} is more than {NODE_SKEW[cluster.cloud]} minor versions older than the "
                    f"control plane ({cluster.kubernetes_version})",
                )
            )
    return issues


# GKE: cluster and node pool names are at most 40 characters (container.v1 Cluster.name, NodePool.name).
GKE_NAME_LENGTH = 40
# GKE regional clusters spread every node pool over the region's three zones, the same count in each.
GKE_ZONES = 3
# EKS node group names are at most 63 characters; the provider adds '-' and 7 random characters.
EKS_NODE_GROUP_LENGTH = 63
AUTO_NAME_SUFFIX = 8


def _gcp_fields(cluster: ClusterConfig, at: Loc, gcp_project: str | None, prefix: str) -> list[Issue]:
    issues: list[Issue] = []
    if cluster.network.pod_cidr is None:
        issues.append(
            Issue(format_path((*at, "network", "podCidr")), "is required on GCP (the GKE pod secondary range)")
        )
    if cluster.project is None and gcp_project is None:
        issues.append(Issue(format_path((*at, "project")), "is required when gcp:project is not set"))
    physical = f"{prefix}-{cluster.name}" if _has(cluster, "name") else ""
    if prefix and len(physical) > GKE_NAME_LENGTH:
        issues.append(
            Issue(
                format_path((*at, "name")),
                f"makes the GKE cluster name '{physical}' {len(physical)} characters long; GKE allows "
                f"{GKE_NAME_LENGTH} (shorten the cluster name or multicluster:namePrefix)",
            )
        )
    for j, pool in enumerate(cluster.node_pools):
        pool_name = f"{cluster.name}-{pool.name}" if _has(cluster, "name") else ""
        if pool_name and len(pool_name) + AUTO_NAME_SUFFIX > GKE_NAME_LENGTH:
            issues.append(
                Issue(
                    format_path((*at, "nodePools", j, "name")),
                    f"makes the node pool name '{pool_name}-xxxxxxx' {len(pool_name) + AUTO_NAME_SUFFIX} characters "
                    f"long; GKE allows {GKE_NAME_LENGTH} (shorten the pool or cluster name)",
                )
            )
        if pool.desired_size % GKE_ZONES:
            issues.append(
                Issue(
                    format_path((*at, "nodePools", j, "desiredSize")),
                    f"is {pool.desired_size}, but a regional GKE node pool starts the same number of nodes in each of "
                    f"its {GKE_ZONES} zones: use a multiple of {GKE_ZONES} (minSize and maxSize are fleet-wide totals)",
                )
            )
    if "zone_ids" in cluster.network.model_fields_set:
        issues.append(Issue(format_path((*at, "network", "zoneIds")), "applies to AWS clusters only"))
    if "upgrade_policy" in cluster.model_fields_set:
        issues.append(Issue(format_path((*at, "upgradePolicy")), "applies to AWS clusters only"))
    return issues


def _aws_fields(cluster: ClusterConfig, at: Loc) -> list[Issue]:
    gcp_only = {
        "master_cidr": ("network", "masterCidr"),
        "project": ("project",),
        "release_channel": ("releaseChannel",),
        "maintenance": ("maintenance",),
        "rbac_google_group": ("rbacGoogleGroup",),
        "binary_authorization": ("binaryAuthorization",),
    }
    issues: list[Issue] = []
    for field, loc in gcp_only.items():
        holder = cluster.network if field == "master_cidr" else cluster
        if field in holder.model_fields_set:
            issues.append(Issue(format_path((*at, *loc)), "applies to GCP clusters only"))
    network = cluster.network
    vpc = ipaddress.ip_network(network.cidr)
    if vpc.prefixlen < 16:
        issues.append(
            Issue(format_path((*at, "network", "cidr")), f"{network.cidr} must be between /16 and /28 for an AWS VPC")
        )
    service = ipaddress.IPv4Network(network.service_cidr)
    if not any(service.subnet_of(r) for r in RFC1918):
        issues.append(
            Issue(
                format_path((*at, "network", "serviceCidr")),
                f"{network.service_cidr} must be within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 "
                "(the EKS service range)",
            )
        )
    for j, pool in enumerate(cluster.node_pools if _has(cluster, "name") else []):
        group = f"{cluster.name}-{pool.name}"
        if len(group) + AUTO_NAME_SUFFIX > EKS_NODE_GROUP_LENGTH:
            issues.append(
                Issue(
                    format_path((*at, "nodePools", j, "name")),
                    f"makes the node group name '{group}-xxxxxxx' {len(group) + AUTO_NAME_SUFFIX} characters long; "
                    f"EKS allows {EKS_NODE_GROUP_LENGTH} (shorten the pool or cluster name)",
                )
            )
    if network.zone_ids is not None:
        issues += _zone_ids(cluster, at)
    return issues


# Availability zone ids where EKS does not run control planes (EKS User Guide, network requirements).
EKS_UNSUPPORTED_ZONE_IDS = frozenset({"use1-az3", "usw1-az2", "cac1-az3"})


def _zone_ids(cluster: ClusterConfig, at: Loc) -> list[Issue]:
    ids = cluster.network.zone_ids or []
    where = format_path((*at, "network", "zoneIds"))
    issues: list[Issue] = []
    if len(set(ids)) < 2:
        issues.append(Issue(where, "needs at least two distinct zone ids (EKS requires subnets in two zones)"))
    if len(ids) > 3:
        issues.append(Issue(where, f"lists {len(ids)} zones; the VPC plan has room for three"))
    prefix = zone_id_prefix(cluster.region) if _has(cluster, "region") else None
    for zone in ids:
        if prefix and not zone.startswith(f"{prefix}-"):
            issues.append(Issue(where, f"'{zone}' is not a zone of {cluster.region} (its zone ids are {prefix}-az<n>)"))
        elif zone in EKS_UNSUPPORTED_ZONE_IDS:
            issues.append(Issue(where, f"'{zone}' is a zone where EKS does not run control planes"))
    return issues


def check_topology(
    config: StackConfig | None, clusters: Clusters, topology: str, failover: str, residencies: dict[str, Residency]
) -> list[Issue]:
    if topology == "partitioned":
        issues = _partitioned(clusters, residencies)
    else:
        issues = [
            Issue(format_path(("clusters", i, "residency")), "applies to the partitioned topology only")
            for i, c in enumerate(clusters)
            if _has(c, "residency") and c.residency is not None
        ]
        if residencies:
            issues.append(Issue(format_path(("residencies",)), "applies to the partitioned topology only"))
    return issues + _failover(clusters, topology, failover, residencies)


def _partitioned(clusters: Clusters, residencies: dict[str, Residency]) -> list[Issue]:
    issues: list[Issue] = []
    if not residencies:
        return [Issue(format_path(("residencies",)), "is required by the partitioned topology")]
    defaults = [key for key, r in residencies.items() if r.default]
    if len(defaults) != 1:
        issues.append(
            Issue(
                format_path(("residencies",)),
                f"must have exactly one residency with default: true (found {len(defaults)}"
                f"{': ' + ', '.join(defaults) if defaults else ''})",
            )
        )
    for i, cluster in enumerate(clusters):
        if not _has(cluster, "region", "residency"):
            continue
        at = format_path(("clusters", i, "residency"))
        if cluster.residency is None:
            issues.append(Issue(at, "is required by the partitioned topology"))
        elif cluster.residency not in residencies:
            issues.append(
                Issue(
                    at,
                    f"'{cluster.residency}' is not a key of multicluster:residencies "
                    f"({', '.join(sorted(residencies))})",
                )
            )
        elif cluster.region not in residencies[cluster.residency].regions:
            issues.append(
                Issue(
                    format_path(("clusters", i, "region")),
                    f"'{cluster.region}' is outside residency '{cluster.residency}' "
                    f"(regions: {', '.join(residencies[cluster.residency].regions)})",
                )
            )
    return issues


def _failover(clusters: Clusters, topology: str, failover: str, residencies: dict[str, Residency]) -> list[Issue]:
    if not all(_has(c, "name", "role", "residency") for c in clusters):
        return []  # counting primaries over an incomplete fleet would mislead
    present = [(i, c) for i, c in enumerate(clusters) if c is not None]
    if failover == "active-active":
        return [
            Issue(
                format_path(("clusters", i, "role")),
                "'standby' is never sent traffic in an active-active fleet "
                "(use role: primary, or failover: active-passive)",
            )
            for i, c in present
            if c.role == "standby"
        ]
    groups: dict[str | None, list[tuple[int, ClusterConfig]]]
    if topology == "replicated":
        groups = {None: present}
    else:
        groups = {key: [(i, c) for i, c in present if c.residency == key] for key in residencies}
    issues: list[Issue] = []
    for key, members in groups.items():
        if not members:
            issues.append(Issue(format_path(("residencies", str(key))), "has no cluster"))
            continue
        primaries = [c.name for _, c in members if c.role == "primary"]
        if len(primaries) != 1:
            where = "the fleet" if key is None else f"residency '{key}'"
            issues.append(
                Issue(
                    format_path(("clusters",) if key is None else ("residencies", key)),
                    f"active-passive needs exactly one primary in {where}, found {len(primaries)}"
                    f"{' (' + ', '.join(primaries) + ')' if primaries else ''}",
                )
            )
    return issues


def fleet_issues(config: StackConfig) -> list[Issue]:
    """Every fleet-wide problem of a config whose entries are individually valid."""
    clusters: Clusters = list(config.clusters)
    return (
        check_unique_names(clusters)
        + check_overlaps(clusters)
        + check_cloud_fields(clusters, config.gcp_project, config.prefix)
        + check_topology(config, clusters, config.topology, config.failover, config.residencies)
        + check_prefix(config)
        + check_references(config)
        + check_drain(config)
        + check_maintenance(config)
        + extension_issues(config)
    )


def check_prefix(config: StackConfig) -> list[Issue]:
    if config.name_prefix is not None or config.stack_name is None:
        return []
    problem = stack_prefix_problem(config.stack_name)
    if problem is None:
        return []
    return [
        Issue(
            format_path(("namePrefix",)),
            f"is required: the stack name {problem}, so it cannot prefix physical names "
            "(set multicluster:namePrefix to a DNS label of at most 15 characters)",
        )
    ]


def _cluster_reference(config: StackConfig, loc: Loc, name: str | None) -> list[Issue]:
    names = [c.name for c in config.clusters]
    if name is None or name in names:
        return []
    return [Issue(format_path(loc), f"'{name}' is not a cluster of the fleet (clusters: {', '.join(names)})")]


def check_references(config: StackConfig) -> list[Issue]:
    issues = _cluster_reference(config, ("deployer", "network"), config.deployer.network)
    for key in ("unreachable", "lost"):
        for i, name in enumerate(getattr(config.outage, key)):
            issues += _cluster_reference(config, ("outage", key, i), name)
    return issues


def check_drain(config: StackConfig) -> list[Issue]:
    """A drained cluster takes no traffic: each failover group keeps one that does, and it holds no fleet role."""
    issues: list[Issue] = []
    for key, members in config.failover_groups().items():
        if members and all(c.drain for c in members):
            where = "the fleet" if key == "fleet" else f"residency '{key}'"
            issues.append(Issue(format_path(("clusters",)), f"drains every cluster of {where}: keep one serving"))
    for i, cluster in enumerate(config.clusters):
        if not cluster.drain:
            continue
        at = format_path(("clusters", i, "drain"))
        if config.failover == "active-passive" and cluster.role == "primary":
            issues.append(Issue(at, f"'{cluster.name}' is the primary: make a standby the primary first"))
        for role, holder in (
            ("the gitops hub", config.gitops.hub if config.gitops else None),
            ("the connectivity hub", config.connectivity.hub),
            *(("the connectivity hub of its residency", hub) for hub in (config.connectivity.hubs or {}).values()),
            ("where the deployer runs", config.deployer.network),
        ):
            if holder == cluster.name:
                issues.append(Issue(at, f"'{cluster.name}' is {role}: move that role first"))
    return issues


MAINTENANCE_SLOTS = 12  # 6 daily slots of 4 hours x 2 sets of three weekdays
DAY_TRIPLES = (("MO", "WE", "FR"), ("TU", "TH", "SA"))
Window = tuple[tuple[str, ...], int, int]  # (days, start minute UTC, hours)


def check_maintenance(config: StackConfig) -> list[Issue]:
    """GKE clusters of one failover group are never in maintenance at the same time."""
    issues: list[Issue] = []
    for members in config.failover_groups().values():
        gke = [c for c in members if c.cloud == "gcp"]
        slots = default_slots(gke)
        unplaced = [c for c in gke if c.maintenance is None and c.name not in slots]
        if unplaced:
            index = next(i for i, c in enumerate(config.clusters) if c.name == unplaced[0].name)
            issues.append(
                Issue(
                    format_path(("clusters", index, "maintenance")),
                    f"is needed: the {MAINTENANCE_SLOTS} staggered default windows of its failover group are taken",
                )
            )
        windows = {c.name: maintenance_window(config, c) for c in gke if c.maintenance or c.name in slots}
        names = sorted(windows)
        for a_index, a in enumerate(names):
            for b in names[a_index + 1 :]:
                if windows_overlap(windows[a], windows[b]):
                    index = next(i for i, c in enumerate(config.clusters) if c.name == b)
                    issues.append(
                        Issue(
                            format_path(("clusters", index, "maintenance")),
                            f"overlaps the maintenance window of '{a}' in the same failover group: both could "
                            "upgrade at once",
                        )
                    )
    return issues


def slot_window(slot: int) -> Window:
    return DAY_TRIPLES[slot // 6], (2 + 4 * (slot % 6)) % 24 * 60, 4


def default_slots(gke: list[ClusterConfig]) -> dict[str, int]:
    """The staggered slot of each GKE cluster of a group without its own window.

    A cluster prefers the slot its name hashes to and takes the next free one, in the order of the config:
    appending a cluster never moves another's window, and removing one moves none that did not collide with
    it (a moved window is an in-place update of the maintenance policy, never a replacement).
    """
    explicit = [
        (tuple(c.maintenance.days), _minutes(c.maintenance.start_time), c.maintenance.hours)
        for c in gke
        if c.maintenance is not None
    ]
    taken: set[int] = set()
    slots: dict[str, int] = {}
    for cluster in (c for c in gke if c.maintenance is None):
        preferred = int(hashlib.sha256(cluster.name.encode()).hexdigest(), 16) % MAINTENANCE_SLOTS
        for step in range(MAINTENANCE_SLOTS):
            slot = (preferred + step) % MAINTENANCE_SLOTS
            if slot not in taken and not any(windows_overlap(slot_window(slot), w) for w in explicit):
                taken.add(slot)
                slots[cluster.name] = slot
                break
    return slots


def _minutes(start_time: str) -> int:
    return int(start_time[:2]) * 60 + int(start_time[3:])


def maintenance_window(config: StackConfig, cluster: ClusterConfig) -> Window:
    """(days, start minute, hours) of a GKE cluster: its own setting, else its staggered slot in its group.

    The slots give each cluster 4 hours on three weekdays (12 h a week, 48 h in any 32 days, as GKE needs).
    """
    if cluster.maintenance is not None:
        m = cluster.maintenance
        return tuple(m.days), _minutes(m.start_time), m.hours
    group = next(g for g in config.failover_groups().values() if any(c.name == cluster.name for c in g))
    slot = default_slots([c for c in group if c.cloud == "gcp"]).get(cluster.name)
    if slot is None:  # reported by check_maintenance
        raise ValueError(f"{cluster.name}: no free maintenance slot in its failover group")
    return slot_window(slot)


def windows_overlap(a: tuple[tuple[str, ...], int, int], b: tuple[tuple[str, ...], int, int]) -> bool:
    """Whether two weekly windows (days, start minute, hours) share any minute of the week."""
    week = 7 * 24 * 60
    order = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

    def minutes(window: tuple[tuple[str, ...], int, int]) -> set[int]:
        days, start, hours = window
        found: set[int] = set()
        for day in days:
            begin = order.index(day) * 1440 + start
            found |= {(begin + m) % week for m in range(0, hours * 60, 30)}
        return found

    return bool(minutes(a) & minutes(b))


@dataclass(frozen=True)
class Block:
    """One block of the stack config: its key, its model, its checks, and its declared cross-cluster needs if any.

    Its rules are typed against `FleetView`: they read the fleet and any block by its model, never `StackConfig`."""

    key: str
    model: type[Model]
    check: Callable[[FleetView], list[Issue]]
    needs: Callable[[FleetView], Needs] | None = None
    plan_check: Callable[[FleetView, PlannedFleet], list[Issue]] | None = None


def declared_blocks(model: type[Model]) -> tuple[Block, ...]:
    """The blocks of `model`: its fields that name their rules (BlockRules), in field order."""
    found: list[Block] = []
    for key, field in model.model_fields.items():
        rules = next((m for m in field.metadata if isinstance(m, BlockRules)), None)
        if rules is None:
            continue
        kinds = [a for a in get_args(field.annotation) if a is not type(None)] or [field.annotation]
        kind = kinds[0]
        if len(kinds) != 1 or not (isinstance(kind, type) and issubclass(kind, Model)):
            raise TypeError(f"block {key}: its field must be one model, or that model | None (not {field.annotation})")
        if any(block.model is kind for block in found):
            raise TypeError(f"block {key}: {kind.__name__} is already the model of another block")
        found.append(Block(key, kind, rules.check, rules.needs, rules.plan_check))
    return tuple(found)


# The blocks, in the order of StackConfig's fields: the order their checks run and their needs are declared (a
# later block's name for an API caller wins). Adding a block: its module (with its RULES) and its field.
BLOCKS: tuple[Block, ...] = declared_blocks(StackConfig)
BLOCK_KEYS: dict[type[Model], str] = {block.model: block.key for block in BLOCKS}


def deployer_needs(config: FleetView) -> Needs:
    """Pulumi's Kubernetes providers call every API server from the deployer's network, if it is a cluster."""
    names = {c.name for c in config.clusters}
    where = config.deployer.network
    if where not in names:
        return Needs()
    return Needs(api_callers={c.name: {where: DEPLOYER} for c in config.clusters if c.name != where}, fallback=True)


def extension_issues(config: StackConfig) -> list[Issue]:
    """Checks of the blocks the stack has (BLOCKS): a block's rules never run for a block it leaves out."""
    return [issue for block in BLOCKS if config.block(block.model) is not None for issue in block.check(config)]
