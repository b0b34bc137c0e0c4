"""Which fleet cluster a planned resource belongs to, and the program's cluster component types."""

from __future__ import annotations

from collections.abc import Callable

from components.eks import EksCluster
from components.gke import GkeCluster

from .capture import Plan, PlannedResource

# The program's cluster components: what resources_per_cluster counts under.
CLUSTER_TYPES = (EksCluster.TYPE, GkeCluster.TYPE)
FLEET = "(fleet)"


def cluster_owners(plan: Plan) -> Callable[[PlannedResource], str | None]:
    """The fleet cluster a resource lands in or belongs to: under its component or through its providers."""
    parents = {r.urn: r.parent for r in plan.resources}
    clusters = {r.urn: r.name for r in plan.resources if r.type in CLUSTER_TYPES}

    def cluster_of(urn: str | None) -> str | None:
        while urn:
            if urn in clusters:
                return clusters[urn]
            urn = parents.get(urn)
        return None

    return lambda r: cluster_of(r.urn) or cluster_of(r.provider_urn)
