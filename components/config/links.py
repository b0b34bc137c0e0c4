"""The fleet's links and HA VPNs as planned (config/connectivity.py plans them, components/connectivity.py builds
them): values both the block's rules and the fleet plan hold, below both."""

from __future__ import annotations

from dataclasses import dataclass

from .clusters import ClusterConfig

KIND_AWS_PEERING = "aws-peering"
KIND_GCP_PEERING = "gcp-peering"
KIND_HA_VPN = "ha-vpn"


def link_name(first: str, second: str) -> str:
    """The name of the link between two clusters, the same whichever order they come in."""
    return "--".join(sorted((first, second)))


@dataclass(frozen=True, eq=False)
class Link:
    """Two linked clusters, in name order."""

    first: ClusterConfig
    second: ClusterConfig

    @property
    def name(self) -> str:
        return link_name(self.first.name, self.second.name)

    @property
    def kind(self) -> str:
        clouds = {self.first.cloud, self.second.cloud}
        if clouds == {"aws"}:
            return KIND_AWS_PEERING
        return KIND_GCP_PEERING if clouds == {"gcp"} else KIND_HA_VPN

    @property
    def clusters(self) -> tuple[ClusterConfig, ClusterConfig]:
        return self.first, self.second

    def of_cloud(self, cloud: str) -> ClusterConfig:
        return self.first if self.first.cloud == cloud else self.second


@dataclass(frozen=True, eq=False)
class Vpn:
    """One HA VPN: a GKE network to an AWS gateway, four BGP tunnels (Google's recipe for AWS).

    With virtual private gateways there is one per linked (EKS, GKE) pair, named like the link; with transit
    gateways one per (GKE cluster, AWS region), `<gke>--<region>`, shared by the region's linked EKS clusters.
    """

    name: str
    gke: ClusterConfig
    gateway: str  # "vgw:<eks cluster>" or "tgw:<region>": what its inside ranges must be unique on
    region: str  # the AWS region its tunnels end in
    eks: tuple[ClusterConfig, ...]  # the EKS clusters it links the GKE cluster to

    @property
    def via_transit_gateway(self) -> bool:
        return self.gateway.startswith("tgw:")

    @property
    def aws_side(self) -> str:
        """The AWS gateway, for messages."""
        kind, _, name = self.gateway.partition(":")
        return f"the transit gateway of {name}" if kind == "tgw" else f"the virtual private gateway of {name}"

    @property
    def gateways(self) -> frozenset[str]:
        """Where its inside ranges must be unique: its AWS gateway and its GKE cluster's Cloud Router."""
        return frozenset({self.gateway, f"router:{self.gke.name}"})
