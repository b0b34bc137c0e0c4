"""The mesh capability: the configured mesh (Istio or Linkerd) on every cluster of each mesh group.

components/mesh.py holds what both meshes share (root of trust, signing CAs, reader credentials, east-west
source ranges); components/istio.py and components/linkerd.py the two implementations. This module only
chooses one per the plan and offers the typed handle other capabilities use (DNS routes users to the mesh's
`public_entry` when it has one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pulumi

from .cluster import ClusterPort, ReadinessProbe
from .config.mesh import MeshConfig
from .config.observability import COLLECTOR_PORT, COLLECTOR_SERVICE, ObservabilityConfig
from .fleetplan import FleetPlan, MeshGroup
from .istio import IstioMesh
from .linkerd import LinkerdMesh
from .mesh import MeshProps, Tracing
from .outputs import MeshOutputs


@dataclass(frozen=True)
class PublicEntry:
    """The clusters' public entries a mesh serves itself: each one's address (LB hostname on AWS, IP on GCP) and
    the readiness endpoint DNS health checks probe through each load balancer."""

    addresses: dict[str, pulumi.Output[str]]
    probe: ReadinessProbe


@dataclass
class MeshHandle:
    """What the mesh offers to other capabilities."""

    provider: str
    groups: list[MeshGroup]
    # The readiness of the mesh's own ingress gateways; None: it has none (IstioMesh / LinkerdMesh.entry_probe).
    entry_probe: ReadinessProbe | None = None
    ingress_addresses: dict[str, pulumi.Output[str]] = field(default_factory=dict[str, pulumi.Output[str]])
    gateway_addresses: dict[str, pulumi.Output[str]] = field(default_factory=dict[str, pulumi.Output[str]])
    root_certificates: dict[str, pulumi.Output[str]] = field(default_factory=dict[str, pulumi.Output[str]])
    components: list[IstioMesh | LinkerdMesh] = field(default_factory=list[IstioMesh | LinkerdMesh])

    def control_plane_releases(self) -> dict[str, list[pulumi.Resource]]:
        """Per cluster, what a meshed workload waits for: Linkerd's control plane release (its proxy injector).

        Pods created before the injector's webhook serves start without a proxy (the webhook fails open:
        linkerd-control-plane values.yaml `webhookFailurePolicy: Ignore`). Istio's ingress gateways are the
        mesh's own, so nothing waits there.
        """
        ready: dict[str, list[pulumi.Resource]] = {}
        for component in self.components:
            if isinstance(component, LinkerdMesh):
                for name, control_plane in component.control_planes.items():
                    ready[name] = [control_plane.control_plane]
        return ready

    def public_entry(self, clusters: Iterable[str]) -> PublicEntry | None:
        """The public entry of each of `clusters` through the mesh's ingress gateways, or None when the mesh has
        none (DNS then installs its fallback ingress)."""
        if self.entry_probe is None:
            return None
        return PublicEntry({name: self.ingress_addresses[name] for name in clusters}, self.entry_probe)

    def outputs(self) -> MeshOutputs:
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


def mesh_props(plan: FleetPlan, group: MeshGroup) -> MeshProps:
    mesh = plan.block(MeshConfig)
    assert mesh is not None  # a plan has mesh groups only with a mesh
    internal = frozenset(name for name in group.clusters if plan.privately_connected(name, group))
    high_availability = plan.environment == "prod"
    telemetry = plan.block(ObservabilityConfig)
    tracing = (
        Tracing(COLLECTOR_SERVICE, COLLECTOR_PORT, telemetry.traces.sampling_percent)
        if telemetry is not None and telemetry.tracing
        else None
    )
    return MeshProps(
        group, mesh.chart_version, mesh.mtls, high_availability, plan.protected, mesh.root_ca, internal, tracing
    )


def build_mesh(plan: FleetPlan, clusters: Mapping[str, ClusterPort]) -> MeshHandle | None:
    """Install the configured mesh on every cluster, or return None when there is none."""
    mesh = plan.block(MeshConfig)
    if mesh is None or not plan.mesh_groups:
        return None
    handle = MeshHandle(provider=mesh.provider, groups=list(plan.mesh_groups))
    for group in plan.mesh_groups:
        props = mesh_props(plan, group)
        members = {name: clusters[name] for name in group.clusters}
        component: IstioMesh | LinkerdMesh
        if mesh.provider == "istio":
            component = IstioMesh(f"{group.key}-istio", props, members)
        else:
            component = LinkerdMesh(f"{group.key}-linkerd", props, members)
        handle.components.append(component)
        handle.entry_probe = component.entry_probe  # one provider per fleet: the same for every group
        handle.root_certificates[group.key] = component.root_certificate
        handle.ingress_addresses.update(component.ingress_addresses)
        handle.gateway_addresses.update(component.gateway_addresses)
    return handle
