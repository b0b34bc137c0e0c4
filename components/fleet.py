"""The composition: from the validated stack config, which components exist and how they are wired.

`__main__.py`, the offline plan and the tests all call `build_fleet`; nothing else decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from .backup import build_backup
from .cluster import ClusterArgs, KubernetesCluster
from .config import ClusterConfig, StackConfig
from .connectivity import build_connectivity
from .dns import build_dns
from .eks import EksCluster
from .federation import build_aws_trusts
from .gcp_project import ProjectServices
from .gitops import build_gitops
from .mesh import build_mesh

CAPABILITIES = ("connectivity", "mesh", "gitops", "backup", "dns")


@dataclass
class Fleet:
    """Handles on everything the program built, for outputs and for tests."""

    config: StackConfig
    clusters: dict[str, KubernetesCluster]
    # One handle per capability (None when its config block is absent); each has .outputs().
    capabilities: dict[str, Any] = field(default_factory=dict)

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


def fleet_tags(config: StackConfig) -> dict[str, str]:
    return {"multicluster:environment": config.environment, "managed-by": "pulumi"}


# Admission webhook ports the mesh's control plane serves on the nodes (what GKE's control plane must reach).
MESH_WEBHOOK_PORTS = {"istio": (15017,), "linkerd": (8443, 9443)}


def cluster_args(spec: ClusterConfig, config: StackConfig, index: int) -> ClusterArgs:
    from .config.connectivity import mesh_peers
    from .config.stack import maintenance_window

    project = config.project_of(spec) if spec.cloud == "gcp" else None
    mesh = config.mesh.provider if config.mesh is not None else "none"
    return ClusterArgs(
        spec=spec,
        environment=config.environment,
        protect=config.protects(spec),
        project=project,
        tags=fleet_tags(config),
        prefix=config.prefix,
        unreachable=config.outage.down(spec.name),
        lost=spec.name in config.outage.lost,
        deployer_egress=tuple(config.deployer.egress_cidrs),
        maintenance=maintenance_window(config, spec) if spec.cloud == "gcp" else None,
        # Mesh peers read this API server with Kubernetes tokens (a GKE DNS endpoint must accept them).
        token_callers=any(mesh_peers(config, spec.name, c.name) for c in config.clusters),
        webhook_ports=MESH_WEBHOOK_PORTS.get(mesh, ()),
        index=index,
    )


def build_cluster(spec: ClusterConfig, config: StackConfig, index: int = 0) -> KubernetesCluster:
    args = cluster_args(spec, config, index)
    if spec.cloud == "aws":
        return EksCluster(spec.name, args)
    from .gke import GkeCluster

    return GkeCluster(spec.name, args)


def build_clusters(config: StackConfig) -> dict[str, KubernetesCluster]:
    """Every cluster, in two steps: the networks first (their egress addresses), then the rest, so that a
    public API server can admit the addresses its fleet callers come from."""
    from .config.connectivity import api_clients

    clusters = {spec.name: build_cluster(spec, config, i) for i, spec in enumerate(config.clusters)}
    for name, cluster in clusters.items():
        callers = [clusters[c].egress_addresses for c in sorted(api_clients(config, name))]
        cluster.complete(pulumi.Output.all(*callers).apply(merged_addresses))
    return clusters


def build_project_services(config: StackConfig) -> ProjectServices | None:
    """The APIs gcp:project needs for what the fleet keeps there outside any cluster, if anything."""
    purposes = []
    has_gcp = any(c.cloud == "gcp" for c in config.clusters)
    if config.gitops is not None and has_gcp:
        purposes += ["identity", "federation"]
    if config.backup is not None and has_gcp and any(c.cloud == "aws" for c in config.clusters):
        purposes.append("federation")
    if config.dns is not None and config.dns.provider == "clouddns":
        purposes.append("dns")
    if not purposes or config.gcp_project is None:
        return None
    return ProjectServices("gcp-project-services", config.gcp_project, purposes)


def merged_addresses(lists: list[list[str]]) -> list[str]:
    return sorted({address for addresses in lists for address in addresses if address})


def build_fleet(config: StackConfig) -> Fleet:
    """Create every component of the fleet described by `config`."""
    clusters = build_clusters(config)
    connectivity = build_connectivity(config, clusters)
    mesh = build_mesh(config, clusters, connectivity=connectivity)
    aws_trusts = build_aws_trusts(config, clusters)
    services = build_project_services(config)
    gitops = build_gitops(config, clusters, aws_trusts=aws_trusts, project_services=services)
    backup = build_backup(config, clusters, aws_trusts=aws_trusts, project_services=services)
    dns = build_dns(config, clusters, mesh=mesh, project_services=services)
    capabilities = {"connectivity": connectivity, "mesh": mesh, "gitops": gitops, "backup": backup, "dns": dns}
    return Fleet(config=config, clusters=clusters, capabilities=capabilities)
