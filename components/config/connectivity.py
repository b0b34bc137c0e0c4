"""Config block `multicluster:connectivity`: which clusters of the fleet are linked over private addresses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from .base import Issue, Model, format_path

if TYPE_CHECKING:
    from .stack import StackConfig

Mode = Literal["full-mesh", "hub-spoke", "none"]


class ConnectivityConfig(Model):
    """`multicluster:connectivity`."""

    mode: Mode = Field("none", description="full-mesh links every pair, hub-spoke links the hub to each other cluster.")
    hub: str | None = Field(None, description="hub-spoke only: the name of the hub cluster.")


def check(config: StackConfig) -> list[Issue]:
    """The hub rules, then: every private API server is privately reachable by the clusters that call it."""
    hub_issues = _hub_issues(config)
    return hub_issues or _reachability_issues(config)


def _hub_issues(config: StackConfig) -> list[Issue]:
    """The hub is required by hub-spoke, must name a cluster, and means nothing to the other modes."""
    block = config.connectivity
    at = format_path(("connectivity", "hub"))
    if block.mode != "hub-spoke":
        return [Issue(at, f"applies to mode hub-spoke only (mode is {block.mode})")] if block.hub else []
    if block.hub is None:
        return [Issue(at, "is required when mode is hub-spoke")]
    names = [cluster.name for cluster in config.clusters]
    if block.hub not in names:
        return [Issue(at, f"'{block.hub}' is not a cluster of the fleet (clusters: {', '.join(names)})")]
    return []


def linked(config: StackConfig, a: str, b: str) -> bool:
    """Whether the connectivity mode links clusters a and b."""
    block = config.connectivity
    return block.mode == "full-mesh" or (block.mode == "hub-spoke" and block.hub in (a, b))


def api_clients(config: StackConfig, cluster: str) -> dict[str, str]:
    """Clusters that call this cluster's API server, with why: the gitops hub, and its mesh peers.

    Argo CD deploys to every cluster; Istio's istiod and Linkerd's service mirror watch the remote
    clusters' API servers for endpoints.
    """
    clients: dict[str, str] = {}
    mesh = config.mesh
    if mesh is not None and mesh.provider != "none":
        me = config.cluster(cluster)
        for c in config.clusters:
            if mesh.scope != "residency" or c.residency == me.residency:
                clients[c.name] = "a mesh peer"
    names = {c.name for c in config.clusters}
    if config.gitops is not None and config.gitops.hub in names:
        clients[config.gitops.hub] = "the gitops hub"
    clients.pop(cluster, None)
    return clients


def _reachability_issues(config: StackConfig) -> list[Issue]:
    issues = []
    for i, cluster in enumerate(config.clusters):
        if cluster.endpoint.public_access_cidrs:
            continue  # its public endpoint admits the listed CIDRs
        at = format_path(("clusters", i, "endpoint", "publicAccessCidrs"))
        for client, why in sorted(api_clients(config, cluster.name).items()):
            caller = f"is empty (private API server) but {client}, {why},"
            if not linked(config, cluster.name, client):
                message = (
                    f"{caller} has no private link to {cluster.name}: "
                    "link them in multicluster:connectivity, or list the caller's egress CIDRs here"
                )
            elif cluster.cloud == "gcp" and config.cluster(client).cloud == "gcp":
                message = (
                    f"{caller} reaches {cluster.name} only through GCP network peering, which does not carry "
                    "traffic to GKE's control plane: list the caller's Cloud NAT egress CIDRs here, "
                    "or call it from a cluster linked by HA VPN"
                )
            else:
                continue
            issues.append(Issue(at, message))
    return issues
