"""Mesh capability: Istio multi-primary multi-network, or Linkerd multicluster, across the fleet.

This module decides which clusters share a mesh (the fleet, or each residency) and holds what
both meshes share: cross-cluster API credentials, load-balancer annotations and the handle.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from .cluster import KubernetesCluster, kubeconfig_json
from .config import StackConfig

SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"


@dataclass(frozen=True)
class MeshGroup:
    """Clusters that trust each other: one root of trust, one mesh id, full discovery."""

    key: str  # "fleet", or the residency key
    mesh_id: str
    clusters: tuple[str, ...]

    def pairs(self) -> list[tuple[str, str]]:
        """Every ordered (local, remote) pair: the local cluster discovers the remote one."""
        return list(permutations(self.clusters, 2))


@dataclass(frozen=True)
class MeshProps:
    """What a mesh component needs from the stack config."""

    group: MeshGroup
    version: str
    mtls: str
    high_availability: bool
    protect: bool


@dataclass
class MeshHandle:
    """What the mesh offers to other capabilities (DNS routes users to `ingress_addresses`)."""

    provider: str
    groups: list[MeshGroup]
    ingress_addresses: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    gateway_addresses: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    root_certificates: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    components: list[pulumi.ComponentResource] = field(default_factory=list)

    def outputs(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "meshes": {
                g.key: {
                    "meshId": g.mesh_id,
                    "clusters": list(g.clusters),
                    "rootCertificate": self.root_certificates[g.key],
                }
                for g in self.groups
            },
            "ingressAddresses": dict(self.ingress_addresses),
            "eastWestAddresses": dict(self.gateway_addresses),
        }


def mesh_groups(config: StackConfig) -> list[MeshGroup]:
    """One mesh for the fleet, or one per residency (no trust across residencies)."""
    mesh = config.mesh
    assert mesh is not None
    base_id = mesh.mesh_id_for(config.environment)
    if mesh.scope == "fleet":
        return [MeshGroup("fleet", base_id, tuple(c.name for c in config.clusters))]
    return [
        MeshGroup(key, f"{base_id}-{key}", tuple(c.name for c in config.clusters if c.residency == key))
        for key in config.residencies
        if any(c.residency == key for c in config.clusters)
    ]


def privately_connected(name: str, group: MeshGroup, connectivity: Any | None) -> bool:
    """True when every other cluster of the mesh reaches this one over private links."""
    connected: set[frozenset[str]] = getattr(connectivity, "connected", None) or set()
    others = [other for other in group.clusters if other != name]
    return bool(others) and all(frozenset((name, other)) in connected for other in others)


def load_balancer_annotations(cloud: str, internal: bool) -> dict[str, str]:
    """Annotations for a LoadBalancer Service: NLB on EKS, passthrough LB on GKE."""
    if cloud == "aws":
        annotations = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
        if internal:
            annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] = "true"
        return annotations
    if internal:
        # Peers sit in other regions: an internal LB is regional unless global access is on.
        return {
            "networking.gke.io/load-balancer-type": "Internal",
            "networking.gke.io/internal-load-balancer-allow-global-access": "true",
        }
    return {}


def load_balancer_address(service: k8s.core.v1.Service) -> pulumi.Output[str]:
    """The first ingress of a LoadBalancer Service: a hostname on EKS, an IP on GKE."""

    def first(status: Any) -> str:
        ingress = (status.load_balancer.ingress or []) if status and status.load_balancer else []
        if not ingress:
            raise ValueError(f"service has no load-balancer address yet: {status}")
        return ingress[0].hostname or ingress[0].ip

    return service.status.apply(first)


def token_kubeconfig(name: str, endpoint: str, ca_data: str | None, token: str) -> str:
    """A kubeconfig that authenticates with a service-account token (what istioctl/linkerd write)."""
    return kubeconfig_json(name, endpoint, ca_data or None, {"token": token}, preferences={})


def reader_token(
    resource_name: str, namespace: str, account: str, secret_name: str, opts: pulumi.ResourceOptions
) -> k8s.core.v1.Secret:
    """A long-lived token for the reader ServiceAccount a mesh chart installs in the cluster it reads.

    One per cluster, shared by every peer (a per-peer token would add no isolation: every peer
    gets the same ClusterRole). `opts` must depend on the chart
    release (a token Secret for a missing ServiceAccount is deleted by the token controller).
    The Kubernetes provider waits for the token controller to fill `data`, so it is usable in a
    real `pulumi up`.
    """
    return k8s.core.v1.Secret(
        resource_name,
        metadata={
            "name": secret_name,
            "namespace": namespace,
            "annotations": {"kubernetes.io/service-account.name": account},
        },
        type=SERVICE_ACCOUNT_TOKEN,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["data"])),
    )


def reader_kubeconfig(cluster: KubernetesCluster, token: k8s.core.v1.Secret) -> pulumi.Output[str]:
    """The (secret) kubeconfig every peer uses to read `cluster`: the API server fleet callers use (GKE: its
    DNS-based endpoint, no CA pinned), its CA where one is pinned, the reader token."""
    ca = cluster.api_ca if cluster.api_ca is not None else pulumi.Output.from_input("")
    return pulumi.Output.secret(
        pulumi.Output.all(cluster.api_server, ca, token.data).apply(
            lambda v: token_kubeconfig(cluster.spec.name, v[0], v[1], base64.b64decode(v[2]["token"]).decode())
        )
    )


def tls_provider(name: str, parent: pulumi.Resource) -> tls.Provider:
    """An explicit provider for the CA keys and certificates (never the default provider).

    One per mesh component, parented to it. The provider has no configuration, so moving
    resources to it from an older provider is a state-only change (the engine asks DiffConfig).
    """
    return tls.Provider(name, opts=pulumi.ResourceOptions(parent=parent))


def build_mesh(
    config: StackConfig, clusters: dict[str, KubernetesCluster], connectivity: Any | None = None, **wiring: Any
) -> MeshHandle | None:
    """Install the configured mesh on every cluster, or return None when there is none."""
    mesh = config.mesh
    if mesh is None or mesh.provider == "none":
        return None
    handle = MeshHandle(provider=mesh.provider, groups=mesh_groups(config))
    high_availability = config.environment == "prod"
    for group in handle.groups:
        props = MeshProps(group, mesh.chart_version, mesh.mtls, high_availability, config.protected)
        members = {name: clusters[name] for name in group.clusters}
        if mesh.provider == "istio":
            from .istio import IstioMesh

            component = IstioMesh(f"{group.key}-istio", props, members, connectivity)
        else:
            from .linkerd import LinkerdMesh

            component = LinkerdMesh(f"{group.key}-linkerd", props, members, connectivity)
        handle.components.append(component)
        handle.root_certificates[group.key] = component.root_certificate
        handle.ingress_addresses.update(component.ingress_addresses)
        handle.gateway_addresses.update(component.gateway_addresses)
    return handle
