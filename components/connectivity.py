"""Cross-cluster connectivity: private routes between the networks of the fleet's clusters.

One component per link or VPN, named from cluster names (and regions), never from positions:
  AWS <-> AWS  `AwsPeering` "a--b": VPC peering (requester in the first cluster's region, accepter in the peer's),
  GCP <-> GCP  `GcpPeering` "a--b": a network peering in each direction, custom routes exchanged,
  AWS <-> GCP  `HaVpn`: GCP HA VPN to AWS, four BGP tunnels (Google's AWS recipe), ending either on
               - the EKS VPC's virtual private gateway (`awsGateway: virtual-private-gateway`, the default): one
                 `HaVpn` "eks--gke" per link and one `AwsVpnGateway` "<eks>-vgw" per EKS cluster, or on
               - the transit gateway of the EKS cluster's region (`awsGateway: transit-gateway`): one `HaVpn`
                 "<gke>--<region>" per GKE cluster and AWS region, and one `AwsTransitGateway` "<region>-tgw" per
                 region, which the region's EKS VPCs attach to, with a route table per linked cluster so that each
                 attachment reaches exactly the clusters it is linked to.
Each GKE cluster with HA VPNs gets one Cloud Router "<gke>-vpn-router" for all of them (a network takes five
Cloud Routers per region, Cloud NAT's included), and, on a VPC-peering control plane, one
`NetworkPeeringRoutesConfig` exporting the routes learned over the VPN to its control plane's peering.

The plan (which links, ASNs, inside ranges, ports, names) is components/config/connectivity.py's, which config
validation checked against the clouds' rules and quotas; this module only builds it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_random as random

from .cluster import KubernetesCluster
from .config import ClusterConfig
from .config.connectivity import (
    KUBERNETES_API,
    TUNNELS,
    FleetPort,
    bgp_peer_name,
    external_gateway_name,
    firewall_name,
    interface_name,
    peering_name,
    port_ranges,
    routed_ranges,
    router_name,
    source_ranges,
    transit_gateway_key,
    transit_regions,
    tunnel_name,
    vpn_gateway_name,
)
from .config.links import KIND_AWS_PEERING, KIND_GCP_PEERING, KIND_HA_VPN, Link, Vpn, link_name
from .fleetplan import FleetPlan
from .outputs import ConnectivityOutputs, LinkOutputs

if TYPE_CHECKING:
    from .eks import EksCluster
    from .gke import GkeCluster

__all__ = [
    "KIND_AWS_PEERING",
    "KIND_GCP_PEERING",
    "KIND_HA_VPN",
    "KUBERNETES_API",
    "AwsPeering",
    "AwsTransitGateway",
    "AwsVpnGateway",
    "Connectivity",
    "FleetPort",
    "GcpPeering",
    "HaVpn",
    "build_connectivity",
    "link_name",
]

# AWS customer gateways take an ASN above 2,147,483,647 as BgpAsnExtended only (EC2 API, CreateCustomerGateway:
# "If the ASN is larger than 2,147,483,647, you must use BgpAsnExtended").
BGP_ASN_MAX = 2147483647


def _aws_opts(owner: pulumi.Resource, provider: aws.Provider, **kwargs: Any) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=owner, provider=provider, **kwargs)


def _gcp_opts(owner: pulumi.Resource, cluster: GkeCluster, **kwargs: Any) -> pulumi.ResourceOptions:
    # Named GCP resources cannot be created before their predecessor with the same name is gone.
    return pulumi.ResourceOptions(parent=owner, provider=cluster.gcp_provider, delete_before_replace=True, **kwargs)


def _route_tables(cluster: EksCluster) -> list[tuple[str, pulumi.Output[str]]]:
    """Every route table of an EKS VPC, under names that match the cluster's own."""
    private = [(f"private-{i}", table) for i, table in enumerate(cluster.private_route_table_ids)]
    public = [(f"public-{i}", table) for i, table in enumerate(cluster.public_route_table_ids)]
    return private + public


@dataclass(frozen=True)
class Fleet:
    """What every link needs from the fleet: its clusters, the plan's ports, the prefix of physical names."""

    plan: FleetPlan
    clusters: Mapping[str, KubernetesCluster]

    @property
    def prefix(self) -> str:
        return self.plan.prefix

    def ports(self, target: ClusterConfig, peer: ClusterConfig) -> tuple[FleetPort, ...]:
        return self.plan.network.ports[(target.name, peer.name)]

    def eks(self, name: str) -> EksCluster:
        return cast("EksCluster", self.clusters[name])

    def gke(self, name: str) -> GkeCluster:
        return cast("GkeCluster", self.clusters[name])


def aws_ingress(
    owner: pulumi.Resource, name: str, eks: EksCluster, peer: ClusterConfig, ports: Sequence[FleetPort]
) -> None:
    """Let a peer's ranges reach this EKS cluster's nodes (and private API server) on the fleet ports only.

    On the cluster security group, which EKS gives the control plane's interfaces and managed nodes. One rule per
    port range and source range, merged where exact: each counts against the group's 60 inbound rules.
    """
    for ports_ in port_ranges(ports):
        for range_key, cidr in source_ranges(peer).items():
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{eks.spec.name}-{ports_.name}-{range_key}",
                security_group_id=eks.node_security_group_id,
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=ports_.low,
                to_port=ports_.high,
                description=f"{ports_.name} from {peer.name} ({range_key})",
                opts=_aws_opts(owner, eks.aws_provider),
            )


def gcp_ingress(
    owner: pulumi.Resource, name: str, prefix: str, gke: GkeCluster, peer: ClusterConfig, ports: Sequence[FleetPort]
) -> None:
    """GCP denies ingress by default: allow a peer's ranges on the fleet ports, in this cluster's network.

    The GKE API server is not behind VPC firewalls (and is called at its DNS-based endpoint), so 443 is left out.
    """
    allowed = [p for p in ports if p != KUBERNETES_API]
    if not allowed:
        return
    gcp.compute.Firewall(
        name,
        name=firewall_name(prefix, gke.spec.name, peer.name),
        project=gke.project,
        network=gke.network_id,
        direction="INGRESS",
        source_ranges=list(source_ranges(peer).values()),
        allows=[
            {
                "protocol": "tcp",
                "ports": [str(r.low) if r.low == r.high else f"{r.low}-{r.high}" for r in port_ranges(allowed)],
            }
        ],
        description=f"Fleet ports from {peer.name}",
        opts=_gcp_opts(owner, gke),
    )


def router_advertisement(asn: int, spec: ClusterConfig) -> gcp.compute.RouterBgpArgsDict:
    """BGP settings of a GKE network's HA VPN Cloud Router.

    Every subnet range (ALL_SUBNETS: primary and secondary, so GKE pod and service ranges too), plus a VPC-peering
    control plane's /28: it lives in Google's network, peered with the cluster's, and a router in default mode
    never advertises peering routes, so the AWS side would have no route to its private endpoint (kubectl from a
    linked VPC; the fleet's callers use the DNS-based endpoint).
    """
    ranges = [spec.network.master_cidr] if spec.network.master_cidr else []
    return {
        "asn": asn,
        "advertise_mode": "CUSTOM",
        "advertised_groups": ["ALL_SUBNETS"],
        "advertised_ip_ranges": [{"range": r, "description": f"GKE control plane of {spec.name}"} for r in ranges],
    }


def tunnel_addresses(inside_range: str) -> tuple[str, str]:
    """(AWS, GCP) BGP addresses of a tunnel: AWS takes the first host of the /30, the customer side the second."""
    aws_ip, gcp_ip = list(ipaddress.ip_network(inside_range).hosts())
    return str(aws_ip), str(gcp_ip)


# --- AWS <-> AWS --------------------------------------------------------------------------------


class AwsPeering(pulumi.ComponentResource):
    """VPC peering between two EKS clusters, same or different region."""

    TYPE = "multicluster:connectivity:AwsPeering"
    KIND = KIND_AWS_PEERING

    def __init__(self, name: str, link: Link, fleet: Fleet, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        requester, accepter = fleet.eks(link.first.name), fleet.eks(link.second.name)
        self.clusters = (link.first.name, link.second.name)
        self.connection = aws.ec2.VpcPeeringConnection(
            f"{name}-peering",
            vpc_id=requester.vpc_id,
            peer_vpc_id=accepter.vpc_id,
            peer_region=accepter.region,
            auto_accept=False,  # cross-region peerings must be accepted from the peer region
            tags={"Name": name, "multicluster:side": "requester"},
            opts=_aws_opts(self, requester.aws_provider),
        )
        self.accepter = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accepter",
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags={"Name": name, "multicluster:side": "accepter"},
            opts=_aws_opts(self, accepter.aws_provider),
        )
        self._dns_resolution(name, requester, accepter)
        for side, peer in ((requester, accepter), (accepter, requester)):
            self._routes(name, side, peer.spec)
            aws_ingress(self, name, side, peer.spec, fleet.ports(side.spec, peer.spec))
        self.register_outputs(self.outputs())

    def _dns_resolution(self, name: str, requester: EksCluster, accepter: EksCluster) -> None:
        # Each side's option is set from its own region, once the peering is active.
        aws.ec2.PeeringConnectionOptions(
            f"{name}-requester-dns",
            vpc_peering_connection_id=self.connection.id,
            requester={"allow_remote_vpc_dns_resolution": True},
            opts=_aws_opts(self, requester.aws_provider, depends_on=[self.accepter]),
        )
        aws.ec2.PeeringConnectionOptions(
            f"{name}-accepter-dns",
            vpc_peering_connection_id=self.accepter.id,
            accepter={"allow_remote_vpc_dns_resolution": True},
            opts=_aws_opts(self, accepter.aws_provider, depends_on=[self.accepter]),
        )

    def _routes(self, name: str, cluster: EksCluster, peer: ClusterConfig) -> None:
        # Routes to a peering that is not active yet fail intermittently: wait for the accepter.
        for table_name, table_id in _route_tables(cluster):
            aws.ec2.Route(
                f"{name}-{cluster.spec.name}-{table_name}",
                route_table_id=table_id,
                destination_cidr_block=peer.network.cidr,
                vpc_peering_connection_id=self.connection.id,
                opts=_aws_opts(self, cluster.aws_provider, depends_on=[self.accepter]),
            )

    def outputs(self) -> LinkOutputs:
        return {
            "kind": self.KIND,
            "clusters": list(self.clusters),
            "peeringConnectionId": self.connection.id,
            "acceptStatus": self.accepter.accept_status,
        }


# --- GCP <-> GCP --------------------------------------------------------------------------------


class GcpPeering(pulumi.ComponentResource):
    """VPC Network Peering between two GKE networks, one peering per direction."""

    TYPE = "multicluster:connectivity:GcpPeering"
    KIND = KIND_GCP_PEERING

    def __init__(
        self,
        name: str,
        link: Link,
        fleet: Fleet,
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.clusters = (link.first.name, link.second.name)
        self.peerings: dict[str, gcp.compute.NetworkPeering] = {}
        first, second = fleet.gke(link.first.name), fleet.gke(link.second.name)
        # GCP runs one peering operation at a time across peered networks, GKE's control-plane peering
        # included: wait for both clusters, for earlier peerings, and create the two directions in turn.
        previous: list[pulumi.Resource] = [first.cluster, second.cluster, *after]
        for side, peer in ((first, second), (second, first)):
            peering = gcp.compute.NetworkPeering(
                f"{name}-{side.spec.name}",
                name=peering_name(fleet.prefix, side.spec.name, peer.spec.name),
                network=side.network_id,
                peer_network=peer.network_id,
                export_custom_routes=True,
                import_custom_routes=True,
                opts=_gcp_opts(self, side, depends_on=previous),
            )
            self.peerings[side.spec.name] = peering
            previous = [peering]
            ports = fleet.ports(side.spec, peer.spec)
            gcp_ingress(self, f"{name}-{side.spec.name}-ingress", fleet.prefix, side, peer.spec, ports)
        self.register_outputs(self.outputs())

    @property
    def last(self) -> pulumi.Resource:
        return self.peerings[self.clusters[1]]

    def outputs(self) -> LinkOutputs:
        return {
            "kind": self.KIND,
            "clusters": list(self.clusters),
            "peeringIds": {side: p.id for side, p in self.peerings.items()},
            "states": {side: p.state for side, p in self.peerings.items()},
        }


# --- AWS gateways -------------------------------------------------------------------------------


class AwsVpnGateway(pulumi.ComponentResource):
    """The virtual private gateway of one EKS VPC, propagating BGP routes into every route table."""

    TYPE = "multicluster:connectivity:AwsVpnGateway"

    def __init__(self, name: str, cluster: EksCluster, asn: int, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.asn = asn
        self.provider = cluster.aws_provider
        self.gateway = aws.ec2.VpnGateway(
            name,
            vpc_id=cluster.vpc_id,
            amazon_side_asn=str(asn),
            tags={"Name": f"{cluster.spec.name}-fleet"},
            # A VPC takes a single virtual private gateway: a replacement (a new ASN) goes after the old one.
            opts=_aws_opts(self, cluster.aws_provider, delete_before_replace=True),
        )
        self.id = self.gateway.id
        for table_name, table_id in _route_tables(cluster):
            aws.ec2.VpnGatewayRoutePropagation(
                f"{name}-{table_name}",
                vpn_gateway_id=self.gateway.id,
                route_table_id=table_id,
                opts=_aws_opts(self, cluster.aws_provider),
            )
        self.register_outputs({"vpnGatewayId": self.gateway.id, "asn": asn})


class AwsTransitGateway(pulumi.ComponentResource):
    """The transit gateway of one AWS region: the HA VPNs from GKE end on it, the region's EKS VPCs attach to it.

    Default route-table association and propagation are off: each attachment is associated with the route table
    of its cluster, into which only the attachments of the clusters it is linked to propagate (AWS Transit Gateway
    Guide, "Transit gateway route tables": an attachment is associated with one route table, and routes reach a
    table by propagation or as static routes), so a hub-spoke fleet's spokes do not reach each other through it.
    ECMP across the four tunnels of each HA VPN; DNS support for names of attached VPCs.
    """

    TYPE = "multicluster:connectivity:AwsTransitGateway"

    def __init__(
        self,
        name: str,
        region: str,
        asn: int,
        members: Sequence[str],
        eks: Sequence[EksCluster],
        provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.region, self.asn, self.provider = region, asn, provider
        self.gateway = aws.ec2transitgateway.TransitGateway(
            name,
            amazon_side_asn=asn,
            auto_accept_shared_attachments="disable",
            default_route_table_association="disable",
            default_route_table_propagation="disable",
            dns_support="enable",
            vpn_ecmp_support="enable",
            description=f"Fleet links of {region}",
            tags={"Name": name},
            opts=_aws_opts(self, provider),
        )
        self.id = self.gateway.id
        self.route_tables = {
            member: aws.ec2transitgateway.RouteTable(
                f"{name}-{member}",
                transit_gateway_id=self.gateway.id,
                tags={"Name": f"{name}-{member}"},
                opts=_aws_opts(self, provider),
            )
            for member in members
        }
        self.attachments = {cluster.spec.name: self._attach(name, cluster) for cluster in eks}
        self.register_outputs(
            {
                "transitGatewayId": self.gateway.id,
                "asn": asn,
                "routeTableIds": {m: t.id for m, t in self.route_tables.items()},
                "vpcAttachmentIds": {c: a.id for c, a in self.attachments.items()},
            }
        )

    def _attach(self, name: str, cluster: EksCluster) -> aws.ec2transitgateway.VpcAttachment:
        """The VPC's attachment (an interface in each private subnet, one per zone), in its cluster's table."""
        attachment = aws.ec2transitgateway.VpcAttachment(
            f"{name}-{cluster.spec.name}",
            transit_gateway_id=self.gateway.id,
            vpc_id=cluster.vpc_id,
            subnet_ids=[s.id for s in cluster.private_subnets],
            dns_support="enable",
            transit_gateway_default_route_table_association=False,
            transit_gateway_default_route_table_propagation=False,
            tags={"Name": f"{cluster.eks_name}-fleet"},
            opts=_aws_opts(self, cluster.aws_provider),
        )
        aws.ec2transitgateway.RouteTableAssociation(
            f"{name}-{cluster.spec.name}-association",
            transit_gateway_attachment_id=attachment.id,
            transit_gateway_route_table_id=self.route_tables[cluster.spec.name].id,
            opts=_aws_opts(self, self.provider),
        )
        return attachment


AwsGatewayComponent = AwsVpnGateway | AwsTransitGateway


# --- AWS <-> GCP --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HaVpnArgs:
    """Props of an HA VPN: the plan's VPN, its clusters, its AWS gateway, the ASNs and the tunnels' ranges."""

    vpn: Vpn
    fleet: Fleet
    router: gcp.compute.Router
    aws_gateway: AwsGatewayComponent
    gcp_asn: int
    aws_asn: int
    inside_ranges: list[str]
    random_provider: random.Provider

    @property
    def gke(self) -> GkeCluster:
        return self.fleet.gke(self.vpn.gke.name)

    @property
    def eks(self) -> list[EksCluster]:
        return [self.fleet.eks(e.name) for e in self.vpn.eks]


class HaVpn(pulumi.ComponentResource):
    """HA VPN between a GKE network and AWS, as Google documents it for AWS (99.99% SLA topology).

    Two AWS VPN connections (one per HA VPN interface) give four tunnels, each with a BGP session on the GKE
    cluster's Cloud Router. On a transit gateway the component also associates its attachments with the GKE
    cluster's route table, propagates between them and the linked EKS clusters' tables, and routes the GKE ranges
    from the EKS VPCs to the transit gateway (a VPC route table learns nothing from a transit gateway by itself).
    """

    TYPE = "multicluster:connectivity:HaVpn"
    KIND = KIND_HA_VPN

    def __init__(self, name: str, args: HaVpnArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.args = args
        self.clusters = tuple(sorted((args.vpn.gke.name, *(e.name for e in args.vpn.eks))))
        self._gcp_gateway(name)
        self._aws_side(name)
        self._tunnels(name)
        if isinstance(args.aws_gateway, AwsTransitGateway):
            self._transit_routing(name, args.aws_gateway)
        self._ingress(name)
        self.register_outputs(self.outputs())

    @property
    def _aws_end(self) -> str:
        """What the tunnels end on, for descriptions: the EKS cluster, or the region's transit gateway."""
        vpn = self.args.vpn
        return f"the transit gateway of {vpn.region}" if vpn.via_transit_gateway else vpn.eks[0].name

    @property
    def _aws_provider(self) -> aws.Provider:
        return self.args.aws_gateway.provider

    def _gcp_gateway(self, name: str) -> None:
        g = self.args.gke
        self.gateway = gcp.compute.HaVpnGateway(
            f"{name}-gateway",
            name=vpn_gateway_name(self.args.fleet.prefix, name),
            project=g.project,
            region=g.region,
            network=g.network_id,
            opts=_gcp_opts(self, g),
        )

    def _aws_side(self, name: str) -> None:
        args = self.args
        asn = {"bgp_asn": str(args.gcp_asn)} if args.gcp_asn <= BGP_ASN_MAX else {"bgp_asn_extended": str(args.gcp_asn)}
        self.customer_gateways = [
            aws.ec2.CustomerGateway(
                f"{name}-cgw-{i}",
                ip_address=self.gateway.vpn_interfaces.apply(lambda interfaces, i=i: interfaces[i].ip_address),
                type="ipsec.1",
                tags={"Name": f"{name}-{i}"},
                opts=_aws_opts(self, self._aws_provider),
                **asn,
            )
            for i in range(2)
        ]
        self.keys = [
            # Letters only: AWS accepts [A-Za-z0-9._] and no leading zero.
            random.RandomPassword(
                f"{name}-psk-{t}",
                length=48,
                special=False,
                numeric=False,
                opts=pulumi.ResourceOptions(parent=self, provider=args.random_provider),
            )
            for t in range(TUNNELS)
        ]
        # The connections end on the transit gateway or on the virtual private gateway (the other stays unset).
        transit = isinstance(args.aws_gateway, AwsTransitGateway)
        self.connections = [
            aws.ec2.VpnConnection(
                f"{name}-vpn-{i}",
                type="ipsec.1",
                customer_gateway_id=customer_gateway.id,
                static_routes_only=False,
                tunnel1_inside_cidr=args.inside_ranges[2 * i],
                tunnel2_inside_cidr=args.inside_ranges[2 * i + 1],
                tunnel1_preshared_key=self.keys[2 * i].result,
                tunnel2_preshared_key=self.keys[2 * i + 1].result,
                tunnel1_ike_versions=["ikev2"],
                tunnel2_ike_versions=["ikev2"],
                tags={"Name": f"{name}-{i}"},
                opts=_aws_opts(self, self._aws_provider),
                transit_gateway_id=args.aws_gateway.id if transit else None,
                vpn_gateway_id=None if transit else args.aws_gateway.id,
            )
            for i, customer_gateway in enumerate(self.customer_gateways)
        ]

    def _outside_address(self, tunnel: int) -> pulumi.Output[str]:
        connection = self.connections[tunnel // 2]
        return connection.tunnel1_address if tunnel % 2 == 0 else connection.tunnel2_address

    def _tunnels(self, name: str) -> None:
        g, args, prefix = self.args.gke, self.args, self.args.fleet.prefix
        self.external_gateway = gcp.compute.ExternalVpnGateway(
            f"{name}-aws",
            name=external_gateway_name(prefix, name),
            project=g.project,
            redundancy_type="FOUR_IPS_REDUNDANCY",
            interfaces=[{"id": t, "ip_address": self._outside_address(t)} for t in range(TUNNELS)],
            description=f"AWS VPN endpoints of {self._aws_end}",
            opts=_gcp_opts(self, g),
        )
        self.tunnels: list[gcp.compute.VPNTunnel] = []
        self.bgp_peers: list[gcp.compute.RouterPeer] = []
        for t in range(TUNNELS):
            aws_ip, gcp_ip = tunnel_addresses(args.inside_ranges[t])
            tunnel = gcp.compute.VPNTunnel(
                f"{name}-tunnel-{t}",
                name=tunnel_name(prefix, name, t),
                project=g.project,
                region=g.region,
                vpn_gateway=self.gateway.id,
                vpn_gateway_interface=t // 2,  # connection i terminates on HA VPN interface i
                peer_external_gateway=self.external_gateway.id,
                peer_external_gateway_interface=t,
                shared_secret=self.keys[t].result,
                router=args.router.id,
                ike_version=2,
                opts=_gcp_opts(self, g),
            )
            # Interfaces and BGP peers are named inside the (per-stack) router: the VPN's name keeps them apart.
            interface = gcp.compute.RouterInterface(
                f"{name}-if-{t}",
                name=interface_name(name, t),
                project=g.project,
                region=g.region,
                router=args.router.name,
                ip_range=f"{gcp_ip}/30",
                vpn_tunnel=tunnel.name,
                opts=_gcp_opts(self, g),
            )
            peer = gcp.compute.RouterPeer(
                f"{name}-bgp-{t}",
                name=bgp_peer_name(name, t),
                project=g.project,
                region=g.region,
                router=args.router.name,
                interface=interface.name,
                peer_ip_address=aws_ip,
                peer_asn=args.aws_asn,
                advertised_route_priority=100,
                opts=_gcp_opts(self, g),
            )
            self.tunnels.append(tunnel)
            self.bgp_peers.append(peer)

    def _transit_routing(self, name: str, tgw: AwsTransitGateway) -> None:
        """The VPN attachments in the GKE cluster's table; each linked EKS VPC and the VPN propagate into each
        other's table; the EKS route tables send the GKE ranges to the transit gateway once attached."""
        gke = self.args.vpn.gke.name
        for i, connection in enumerate(self.connections):
            aws.ec2transitgateway.RouteTableAssociation(
                f"{name}-{i}-association",
                transit_gateway_attachment_id=connection.transit_gateway_attachment_id,
                transit_gateway_route_table_id=tgw.route_tables[gke].id,
                opts=_aws_opts(self, tgw.provider),
            )
        for eks in self.args.eks:
            eks_name = eks.spec.name
            for i, connection in enumerate(self.connections):
                aws.ec2transitgateway.RouteTablePropagation(
                    f"{name}-{i}-to-{eks_name}",
                    transit_gateway_attachment_id=connection.transit_gateway_attachment_id,
                    transit_gateway_route_table_id=tgw.route_tables[eks_name].id,
                    opts=_aws_opts(self, tgw.provider),
                )
            aws.ec2transitgateway.RouteTablePropagation(
                f"{name}-{eks_name}-to-{gke}",
                transit_gateway_attachment_id=tgw.attachments[eks_name].id,
                transit_gateway_route_table_id=tgw.route_tables[gke].id,
                opts=_aws_opts(self, tgw.provider),
            )
            for table_name, table_id in _route_tables(eks):
                for range_key, cidr in routed_ranges(self.args.vpn.gke).items():
                    aws.ec2.Route(
                        f"{name}-{eks_name}-{table_name}-{range_key}",
                        route_table_id=table_id,
                        destination_cidr_block=cidr,
                        transit_gateway_id=tgw.id,
                        # A route to a transit gateway the VPC is not attached to yet is refused.
                        opts=_aws_opts(self, eks.aws_provider, depends_on=[tgw.attachments[eks_name]]),
                    )

    def _ingress(self, name: str) -> None:
        fleet, gke = self.args.fleet, self.args.gke
        transit = isinstance(self.args.aws_gateway, AwsTransitGateway)
        for eks in self.args.eks:
            aws_ingress(self, name, eks, gke.spec, fleet.ports(eks.spec, gke.spec))
            rule = f"{name}-{gke.spec.name}-from-{eks.spec.name}" if transit else f"{name}-{gke.spec.name}-ingress"
            gcp_ingress(self, rule, fleet.prefix, gke, eks.spec, fleet.ports(gke.spec, eks.spec))

    def outputs(self) -> LinkOutputs:
        args = self.args
        outputs: LinkOutputs = {
            "kind": self.KIND,
            "clusters": list(self.clusters),
            "haVpnGateway": self.gateway.self_link,
            "cloudRouter": args.router.self_link,
            "externalVpnGateway": self.external_gateway.self_link,
            "customerGatewayIds": [c.id for c in self.customer_gateways],
            "vpnConnectionIds": [c.id for c in self.connections],
            "tunnels": [t.self_link for t in self.tunnels],
            "insideRanges": list(args.inside_ranges),
            "asns": {args.vpn.gke.name: args.gcp_asn, args.aws_gateway._name: args.aws_asn},
        }
        if isinstance(args.aws_gateway, AwsTransitGateway):
            outputs["transitGatewayId"] = args.aws_gateway.id
        else:
            outputs["vpnGatewayId"] = args.aws_gateway.id
        return outputs


# --- the fleet ----------------------------------------------------------------------------------

LinkComponent = AwsPeering | GcpPeering | HaVpn


class Connectivity(pulumi.ComponentResource):
    """Every link of the fleet; what the mesh reads to know which clusters reach each other."""

    TYPE = "multicluster:connectivity:Connectivity"

    def __init__(self, name: str, plan: FleetPlan, clusters: Mapping[str, KubernetesCluster]):
        super().__init__(self.TYPE, name, None, None)
        network = plan.network
        self.mode = network.mode
        self.hub = network.hub
        self.hubs = dict(network.hubs)
        self.aws_gateway = network.aws_gateway
        self.names = list(plan.clusters)
        self.fleet = Fleet(plan, clusters)
        links = network.links
        self.vpn_plans = {vpn.name: vpn for vpn in network.vpns}
        self.asns = network.asns
        self.inside_ranges = network.inside_ranges
        self._random = random.Provider(f"{name}-random", opts=pulumi.ResourceOptions(parent=self))
        self.vpn_gateways: dict[str, AwsVpnGateway] = {}
        self.transit_gateways = self._transit_gateways(name)
        self.routers: dict[str, gcp.compute.Router] = {}
        self.control_plane_routes: dict[str, gcp.compute.NetworkPeeringRoutesConfig] = {}
        self.vpns: dict[str, HaVpn] = {}
        self.links: dict[str, LinkComponent] = {}
        self.kinds: dict[frozenset[str], str] = {}
        # GCP runs one peering operation at a time per network (peerings, control-plane route exports):
        # each network's operations form a chain; operations on disjoint networks run in parallel.
        last_operation: dict[str, pulumi.Resource] = {}
        for link in links:
            self.kinds[frozenset((link.first.name, link.second.name))] = link.kind
            if link.kind == KIND_AWS_PEERING:
                self.links[link.name] = AwsPeering(
                    link.name, link, self.fleet, opts=pulumi.ResourceOptions(parent=self)
                )
            elif link.kind == KIND_GCP_PEERING:
                after = [last_operation[c.name] for c in link.clusters if c.name in last_operation]
                peering = GcpPeering(link.name, link, self.fleet, after=after, opts=pulumi.ResourceOptions(parent=self))
                last_operation[link.first.name] = last_operation[link.second.name] = peering.last
                self.links[link.name] = peering
            else:
                vpn = self._ha_vpn(plan.network.vpn_of_link[link.name])
                if not vpn.args.vpn.via_transit_gateway:
                    self.links[link.name] = vpn
                gke = self.fleet.gke(link.of_cloud("gcp").name)
                if gke.peering_based and gke.spec.name not in self.control_plane_routes:
                    after = [last_operation[gke.spec.name]] if gke.spec.name in last_operation else []
                    last_operation[gke.spec.name] = self._export_routes_to_control_plane(gke, after)
        self.connected: set[frozenset[str]] = set(self.kinds)
        self.register_outputs(self.outputs())

    def _transit_gateways(self, name: str) -> dict[str, AwsTransitGateway]:
        """One transit gateway per AWS region with HA VPNs, through a provider of its own for that region (it
        outlives any one of the region's clusters)."""
        gateways: dict[str, AwsTransitGateway] = {}
        vpns = list(self.vpn_plans.values())
        for region in transit_regions(vpns):
            in_region = [v for v in vpns if v.region == region]
            eks_names = list(dict.fromkeys(e.name for v in in_region for e in v.eks))
            members = list(dict.fromkeys([*eks_names, *(v.gke.name for v in in_region)]))
            eks = [self.fleet.eks(n) for n in eks_names]
            provider = aws.Provider(
                f"{name}-{region}-aws",
                region=region,
                default_tags={"tags": {**eks[0].args.tags, "multicluster:region": region}},
                opts=pulumi.ResourceOptions(parent=self),
            )
            gateways[region] = AwsTransitGateway(
                f"{region}-tgw",
                region,
                self.asns[transit_gateway_key(region)],
                members,
                eks,
                provider,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return gateways

    def _ha_vpn(self, name: str) -> HaVpn:
        if name in self.vpns:
            return self.vpns[name]
        plan = self.vpn_plans[name]
        gateway: AwsGatewayComponent
        if plan.via_transit_gateway:
            gateway, aws_asn = self.transit_gateways[plan.region], self.asns[transit_gateway_key(plan.region)]
        else:
            gateway, aws_asn = self._vpn_gateway(self.fleet.eks(plan.eks[0].name)), self.asns[plan.eks[0].name]
        args = HaVpnArgs(
            vpn=plan,
            fleet=self.fleet,
            router=self._router(self.fleet.gke(plan.gke.name)),
            aws_gateway=gateway,
            gcp_asn=self.asns[plan.gke.name],
            aws_asn=aws_asn,
            inside_ranges=self.inside_ranges[name],
            random_provider=self._random,
        )
        self.vpns[name] = HaVpn(name, args, opts=pulumi.ResourceOptions(parent=self))
        return self.vpns[name]

    def _router(self, cluster: GkeCluster) -> gcp.compute.Router:
        """The Cloud Router of a GKE network's HA VPNs: one for all of them, as a network takes five Cloud Routers
        per region (Cloud Router quotas and limits), Cloud NAT's included."""
        name = cluster.spec.name
        if name not in self.routers:
            self.routers[name] = gcp.compute.Router(
                f"{name}-vpn-router",
                name=router_name(self.fleet.prefix, name),
                project=cluster.project,
                region=cluster.region,
                network=cluster.network_id,
                bgp=router_advertisement(self.asns[name], cluster.spec),
                description=f"HA VPN BGP sessions of {cluster.gke_name}",
                opts=_gcp_opts(self, cluster),
            )
        return self.routers[name]

    def _export_routes_to_control_plane(
        self, cluster: GkeCluster, after: Sequence[pulumi.Resource]
    ) -> gcp.compute.NetworkPeeringRoutesConfig:
        """Let a VPC-peering GKE control plane answer clients behind the VPN: once per GKE cluster.

        The control plane sits in a Google-owned network peered with the cluster's; it only learns the
        routes the cluster's network exports to that peering, and routes learned over BGP are custom routes.
        The Google-owned side has no custom routes to give back, so nothing is imported (GKE's own default).
        A peering operation: it takes its turn in the chain of its network (`after`). A control plane on
        Private Service Connect has no peering, and nothing to export.
        """
        name = cluster.spec.name
        routes = gcp.compute.NetworkPeeringRoutesConfig(
            f"{name}-control-plane-routes",
            project=cluster.project,
            network=cluster.network.name,
            peering=cluster.cluster.private_cluster_config.apply(lambda private: private.peering_name),
            export_custom_routes=True,
            import_custom_routes=False,
            opts=_gcp_opts(self, cluster, depends_on=[cluster.cluster, *after]),
        )
        self.control_plane_routes[name] = routes
        return routes

    def _vpn_gateway(self, cluster: EksCluster) -> AwsVpnGateway:
        name = cluster.spec.name
        if name not in self.vpn_gateways:
            self.vpn_gateways[name] = AwsVpnGateway(
                f"{name}-vgw", cluster, self.asns[name], opts=pulumi.ResourceOptions(parent=self)
            )
        return self.vpn_gateways[name]

    def kind_between(self, first: str, second: str) -> str | None:
        return self.kinds.get(frozenset((first, second)))

    def matrix(self) -> dict[str, dict[str, str]]:
        """For each cluster, how it reaches each other cluster ('none' when it does not)."""
        return {a: {b: self.kind_between(a, b) or "none" for b in self.names if b != a} for a in self.names}

    def _link_outputs(self) -> dict[str, LinkOutputs]:
        """Each linked pair: its component's outputs, or (through a transit gateway) the VPN that carries it."""
        outputs: dict[str, LinkOutputs] = {name: link.outputs() for name, link in self.links.items()}
        for pair, kind in self.kinds.items():
            name = link_name(*pair)
            if name not in outputs:
                gke, eks = sorted(pair, key=lambda n: self.fleet.plan.cluster(n).spec.cloud != "gcp")
                region = self.fleet.plan.cluster(eks).spec.region
                outputs[name] = {
                    "kind": kind,
                    "clusters": sorted(pair),
                    "vpn": f"{gke}--{region}",
                    "transitGatewayId": self.transit_gateways[region].id,
                }
        return outputs

    def outputs(self) -> ConnectivityOutputs:
        outputs: ConnectivityOutputs = {
            "mode": self.mode,
            "hub": self.hub,
            "awsGateway": self.aws_gateway,
            "links": self._link_outputs(),
            "vpns": {name: vpn.outputs() for name, vpn in self.vpns.items() if vpn.args.vpn.via_transit_gateway},
            "transitGateways": {
                region: {"transitGatewayId": t.id, "asn": t.asn} for region, t in self.transit_gateways.items()
            },
            "matrix": self.matrix(),
            "asns": {key: asn for key, asn in self.asns.items() if key in self.names},
            "controlPlanePeerings": {name: routes.peering for name, routes in self.control_plane_routes.items()},
        }
        if self.hubs:
            outputs["hubs"] = self.hubs
        return outputs


def build_connectivity(plan: FleetPlan, clusters: Mapping[str, KubernetesCluster]) -> Connectivity | None:
    """Create the links of the fleet, or None when the mode is none."""
    if plan.network.mode == "none":
        return None
    return Connectivity("connectivity", plan, clusters)
