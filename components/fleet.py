"""The composition: from the validated stack config, which components exist and how they are wired.

`__main__.py`, the offline plan and the tests all call `build_fleet`; nothing else decides. The fleet plan
(components/fleetplan.py) is computed once; the clusters are built from it; then each capability of the
registry below, in order, from the plan, the clusters and the typed handles of the capabilities before it.
Adding a capability: docs/architecture.md ("Where a change goes") lists the files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

import pulumi

from .access import Access, build_access
from .backup import build_backup
from .cluster import ClusterPort, KubernetesCluster
from .config import StackConfig
from .connectivity import build_connectivity
from .cost import build_cost
from .dns import GlobalDns, build_dns
from .eks import EksCluster
from .federation import AwsTrusts, build_aws_trusts
from .fleetplan import ClusterPlan, FleetPlan, plan_fleet
from .gatekeeper import build_policy
from .gcp_project import ProjectServices
from .gitops import build_gitops
from .gke import GkeCluster
from .observability import build_observability
from .secrets import build_secrets
from .service_mesh import MeshHandle, build_mesh


class Exported(Protocol):
    """What a capability hands the composition: its stack outputs."""

    def outputs(self) -> Mapping[str, Any]: ...


T = TypeVar("T")


@dataclass
class FleetParts:
    """What is built so far: the plan, the clusters, the shared services and each capability's handle."""

    plan: FleetPlan
    clusters: dict[str, KubernetesCluster]
    project_services: ProjectServices | None = None
    aws_trusts: AwsTrusts = field(default_factory=AwsTrusts)
    handles: dict[str, Exported | None] = field(default_factory=dict[str, "Exported | None"])

    def get(self, key: str, kind: type[T]) -> T | None:
        """The handle of capability `key`, checked to be a `kind` (None when its block is absent)."""
        handle = self.handles.get(key)
        if handle is not None and not isinstance(handle, kind):
            raise TypeError(f"capability {key} built a {type(handle).__name__}, not a {kind.__name__}")
        return cast(T | None, handle)


@dataclass(frozen=True)
class Capability:
    """One capability: its key (its config block and its stack output) and how it is built."""

    key: str
    build: Callable[[FleetParts], Exported | None]


# The registry, in build order: a capability may use the handles of those above it.
CAPABILITIES: tuple[Capability, ...] = (
    Capability("connectivity", lambda p: build_connectivity(p.plan, p.clusters)),
    Capability("mesh", lambda p: build_mesh(p.plan, p.clusters)),
    Capability("gitops", lambda p: build_gitops(p.plan, p.clusters, p.aws_trusts, p.project_services)),
    Capability("backup", lambda p: build_backup(p.plan, p.clusters, p.aws_trusts, p.project_services)),
    Capability("dns", lambda p: build_dns(p.plan, p.clusters, p.get("mesh", MeshHandle), p.project_services)),
    Capability(
        "observability",
        lambda p: build_observability(p.plan, p.clusters, p.get("mesh", MeshHandle), p.get("dns", GlobalDns)),
    ),
    Capability("access", lambda p: build_access(p.plan, p.clusters)),
    Capability("policy", lambda p: build_policy(p.plan, p.clusters)),
    Capability("cost", lambda p: build_cost(p.plan, p.clusters, p.get("access", Access), p.project_services)),
    Capability("secrets", lambda p: build_secrets(p.plan, p.clusters, p.get("access", Access))),
)


@dataclass
class Fleet:
    """Handles on everything the program built, for outputs and for tests."""

    config: StackConfig
    plan: FleetPlan
    clusters: dict[str, KubernetesCluster]
    # One handle per capability key (None when its config block is absent).
    capabilities: dict[str, Exported | None] = field(default_factory=dict[str, "Exported | None"])

    def outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {
            "environment": self.config.environment,
            "topology": self.config.topology,
            "failover": self.config.failover,
            "clusters": {name: cluster.outputs() for name, cluster in self.clusters.items()},
            # Kept apart so that the secret kubeconfigs do not make the whole cluster map secret.
            "kubeconfigs": {name: cluster.kubeconfig for name, cluster in self.clusters.items()},
        }
        for key, capability in self.capabilities.items():
            if capability is not None:
                outputs[key] = capability.outputs()
        return outputs


# The cluster implementations by cloud: the one place a cloud's cluster is chosen. Adding a cloud adds its line.
CLUSTER_IMPLEMENTATIONS: Mapping[str, Callable[[str, ClusterPlan], KubernetesCluster]] = {
    "aws": EksCluster,
    "gcp": GkeCluster,
}
# Never called: the type checker proves here that every implementation fulfils the cluster port.
_PORT_FULFILLED: tuple[Callable[[str, ClusterPlan], ClusterPort], ...] = (EksCluster, GkeCluster)


def build_cluster(plan: ClusterPlan) -> KubernetesCluster:
    """The cluster component of the plan's cloud."""
    return CLUSTER_IMPLEMENTATIONS[plan.spec.cloud](plan.name, plan)


def build_clusters(plan: FleetPlan) -> dict[str, KubernetesCluster]:
    """Every cluster, in two steps: the networks first (their egress addresses), then the rest, so that a
    public API server can admit the addresses its fleet callers come from."""
    clusters = {name: build_cluster(cluster) for name, cluster in plan.clusters.items()}
    for name, cluster in clusters.items():
        callers = [clusters[c].egress_addresses for c in sorted(plan.cluster(name).api_callers)]
        cluster.complete(pulumi.Output.all(*callers).apply(merged_addresses))
    return clusters


def build_project_services(plan: FleetPlan) -> ProjectServices | None:
    """The APIs gcp:project needs for what the fleet keeps there outside any cluster, if anything."""
    if not plan.project_purposes or plan.gcp_project is None:
        return None
    return ProjectServices("gcp-project-services", plan.gcp_project, plan.project_purposes)


def merged_addresses(lists: list[list[str]]) -> list[str]:
    return sorted({address for addresses in lists for address in addresses if address})


def build_fleet(config: StackConfig, plan: FleetPlan | None = None) -> Fleet:
    """Create every component of the fleet described by `config` (and its plan, when already computed)."""
    plan = plan if plan is not None else plan_fleet(config)
    clusters = build_clusters(plan)
    parts = FleetParts(plan, clusters, project_services=build_project_services(plan))
    parts.aws_trusts = build_aws_trusts(plan, clusters)
    for capability in CAPABILITIES:
        parts.handles[capability.key] = capability.build(parts)
    return Fleet(config=config, plan=plan, clusters=clusters, capabilities=dict(parts.handles))
