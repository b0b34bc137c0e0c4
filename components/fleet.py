"""The composition: from the validated stack config, which components exist and how they are wired.

`__main__.py`, the offline plan and the tests all call `build_fleet`; nothing else decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .backup import build_backup
from .cluster import ClusterArgs, KubernetesCluster
from .config import ClusterConfig, StackConfig
from .connectivity import build_connectivity
from .dns import build_dns
from .eks import EksCluster
from .federation import build_aws_trusts
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


def build_cluster(spec: ClusterConfig, config: StackConfig) -> KubernetesCluster:
    project = config.project_of(spec) if spec.cloud == "gcp" else None
    args = ClusterArgs(
        spec=spec, environment=config.environment, protect=config.protected, project=project, tags=fleet_tags(config)
    )
    if spec.cloud == "aws":
        return EksCluster(spec.name, args)
    from .gke import GkeCluster

    return GkeCluster(spec.name, args)


def build_fleet(config: StackConfig) -> Fleet:
    """Create every component of the fleet described by `config`."""
    clusters = {spec.name: build_cluster(spec, config) for spec in config.clusters}
    connectivity = build_connectivity(config, clusters)
    mesh = build_mesh(config, clusters, connectivity=connectivity)
    aws_trusts = build_aws_trusts(config, clusters)
    gitops = build_gitops(config, clusters, aws_trusts=aws_trusts)
    backup = build_backup(config, clusters, aws_trusts=aws_trusts)
    dns = build_dns(config, clusters, mesh=mesh)
    capabilities = {"connectivity": connectivity, "mesh": mesh, "gitops": gitops, "backup": backup, "dns": dns}
    return Fleet(config=config, clusters=clusters, capabilities=capabilities)
