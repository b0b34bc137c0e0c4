"""Access to the fleet's API servers (multicluster:access): the same people with the same rights on every cluster.

Per cluster, `ClusterAccess` creates the team namespaces its placement puts there and the grants of its cloud:
EKS access entries with their access policies (components/access_aws.py), Kubernetes RBAC bindings to Google
members on GKE (components/access_gcp.py). The project IAM GKE users need to fetch credentials
(`roles/container.clusterViewer`) is granted once per project by the fleet's `Access` component, so that two
clusters of one project never manage the same binding twice. Nothing is applied by hand: removing a person from
the config removes their rights everywhere at the next `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .access_aws import eks_grants
from .access_common import TEAM_LABEL, AccessProps
from .access_gcp import gke_grants, project_viewers
from .cluster import ClusterPort
from .config.access import AccessConfig
from .fleetplan import FleetPlan


class AccessOutputs(TypedDict):
    """`access`: the team namespaces on each cluster."""

    teams: dict[str, list[str]]


class ClusterAccess(pulumi.ComponentResource):
    """One cluster's team namespaces and its cloud's grants for admins, viewers and namespace editors."""

    TYPE = "multicluster:access:ClusterAccess"

    def __init__(self, name: str, props: AccessProps, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.resource_name, self.props = name, props
        cluster = props.cluster
        self.namespaces: dict[str, k8s.core.v1.Namespace] = {
            team.name: k8s.core.v1.Namespace(
                f"{name}-team-{team.name}",
                metadata={
                    "name": team.name,
                    "labels": {TEAM_LABEL: team.name, "app.kubernetes.io/managed-by": "pulumi"},
                },
                opts=pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider, depends_on=cluster.ready),
            )
            for team in props.teams
        }
        self.grants = GRANTS[cluster.cloud](name, props, self, self.namespaces)
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, Any]:
        return {"namespaces": sorted(self.namespaces)}


# The grants of each cloud, chosen once by the cluster's cloud: (resource name, props, parent, the team
# namespaces made on the cluster) -> the grants.
Grants = Callable[[str, AccessProps, pulumi.Resource, Mapping[str, pulumi.Resource]], list[pulumi.Resource]]
GRANTS: Mapping[str, Grants] = {
    "aws": eks_grants,
    "gcp": gke_grants,
}


class Access(pulumi.ComponentResource):
    """The fleet's access: every cluster's, and the project IAM its GKE users need."""

    TYPE = "multicluster:access:Access"

    def __init__(
        self,
        name: str,
        plan: FleetPlan,
        clusters: Mapping[str, ClusterPort],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        access = plan.block(AccessConfig)
        assert access is not None  # built only with its block
        self.clusters = {
            cluster: ClusterAccess(
                f"{cluster}-access",
                AccessProps(
                    port,
                    access,
                    tuple(t for t in access.namespaces if t.placement.selects(plan.cluster(cluster).labels)),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for cluster, port in clusters.items()
        }
        self.project_grants = project_viewers(name, access, clusters, self)
        self.register_outputs(self.outputs())

    def namespaces(self, cluster: str) -> Mapping[str, k8s.core.v1.Namespace]:
        """The team namespaces on `cluster` (what the cost and secrets blocks put their objects in)."""
        return self.clusters[cluster].namespaces

    def outputs(self) -> AccessOutputs:
        return {"teams": {name: sorted(c.namespaces) for name, c in self.clusters.items()}}


def build_access(plan: FleetPlan, clusters: Mapping[str, ClusterPort]) -> Access | None:
    if plan.block(AccessConfig) is None:
        return None
    return Access("access", plan, clusters)
