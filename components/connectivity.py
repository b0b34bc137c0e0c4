"""Cross-cluster connectivity: private routes between the networks of the fleet's clusters.

One component per link, named from the two cluster names in sorted order (`a--b`):
  AWS <-> AWS  `AwsPeering`: VPC peering (requester in the first cluster's region, accepter in the peer's),
  GCP <-> GCP  `GcpPeering`: a network peering in each direction, custom routes exchanged,
  AWS <-> GCP  `HaVpn`: GCP HA VPN to an AWS virtual private gateway, four BGP tunnels (Google's AWS recipe).
Each AWS cluster with a VPN link gets one `AwsVpnGateway` (a VPC takes a single VGW), shared by its links,
and each GKE cluster with a VPN link one `NetworkPeeringRoutesConfig` exporting the routes learned over the VPN
to its control plane's peering (a private endpoint is reachable from AWS only then).

Everything is keyed by cluster names, never by list positions, so adding a cluster only adds resources.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_random as random

from .cluster import KubernetesCluster
from .config import ClusterConfig, StackConfig
from .config.connectivity import api_clients as config_api_clients

if TYPE_CHECKING:
    from .eks import EksCluster
    from .gke import GkeCluster

    FleetCluster = EksCluster | GkeCluster


@dataclass(frozen=True)
class FleetPort:
    """A TCP port the fleet opens between linked clusters, and why."""

    name: str
    port: int


# What crosses links, and nothing else: the mesh data and control planes of either mesh implementation.
MESH_PORTS: tuple[FleetPort, ...] = (
    FleetPort("istio-east-west", 15443),  # mTLS east-west gateway (AUTO_PASSTHROUGH)
    FleetPort("istiod-xds", 15012),  # remote/primary istiod discovery
    FleetPort("istiod-webhook", 15017),  # istiod injection/validation webhooks
    FleetPort("istio-health", 15021),  # gateway health checks
    FleetPort("linkerd-gateway", 4143),  # linkerd multicluster gateway
    FleetPort("linkerd-probe", 4191),  # linkerd gateway liveness probe across clusters
)
# Argo CD on the gitops hub, and mesh control planes of peers, call a cluster's API server.
KUBERNETES_API = FleetPort("kubernetes-api", 443)

# RFC 6996 16-bit private ASNs, accepted both as an AWS VGW amazon-side ASN and a Cloud Router ASN.
PRIVATE_ASNS = range(64512, 65535)
# AWS reserves 169.254.0.0/30..169.254.5.0/30 and 169.254.169.252/30 for tunnel inside ranges; this pool
# avoids both. Each VPN link takes one /28 of it: four /30s, one per tunnel.
INSIDE_POOL = ipaddress.ip_network("169.254.64.0/18")
INSIDE_BLOCKS = tuple(INSIDE_POOL.subnets(new_prefix=28))
TUNNELS = 4
GCP_NAME_LENGTH = 63

KIND_AWS_PEERING = "aws-peering"
KIND_GCP_PEERING = "gcp-peering"
KIND_HA_VPN = "ha-vpn"


# --- topology and stable numbering ----------------------------------------------------------


def link_name(first: str, second: str) -> str:
    """The name of the link between two clusters, the same whichever order they come in."""
    return "--".join(sorted((first, second)))


def link_kind(first: ClusterConfig, second: ClusterConfig) -> str:
    clouds = {first.cloud, second.cloud}
    if clouds == {"aws"}:
        return KIND_AWS_PEERING
    if clouds == {"gcp"}:
        return KIND_GCP_PEERING
    return KIND_HA_VPN


def planned_pairs(config: StackConfig) -> list[tuple[ClusterConfig, ClusterConfig]]:
    """The linked pairs, each in sorted name order, listed so that clusters appended to the config come last."""
    block, clusters = config.connectivity, list(config.clusters)
    if block.mode == "full-mesh":
        pairs = [(a, b) for a, b in combinations(clusters, 2)]
    elif block.mode == "hub-spoke":
        hub = config.cluster(block.hub)
        pairs = [(hub, c) for c in clusters if c.name != hub.name]
    else:
        pairs = []
    position = {c.name: i for i, c in enumerate(clusters)}
    pairs.sort(
        key=lambda p: (max(position[p[0].name], position[p[1].name]), min(position[p[0].name], position[p[1].name]))
    )
    return [tuple(sorted(pair, key=lambda c: c.name)) for pair in pairs]


def _stable_slot(key: str, size: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % size


def allocate(keys: Sequence[str], size: int) -> dict[str, int]:
    """Give each key a distinct slot in [0, size): its hash, or the next free slot on a collision.

    Keys are served in the order given; the callers list older clusters and links first, so a new key
    can only take a free slot and never moves an existing one. Independent of list positions otherwise.
    """
    if len(keys) > size:
        raise ValueError(f"{len(keys)} keys do not fit in {size} slots")
    taken: dict[int, str] = {}
    slots: dict[str, int] = {}
    for key in keys:
        slot = _stable_slot(key, size)
        while slot in taken:
            slot = (slot + 1) % size
        taken[slot], slots[key] = key, slot
    return slots


def assign_asns(cluster_names: Sequence[str]) -> dict[str, int]:
    """A distinct private ASN per cluster (GCP: its Cloud Routers; AWS: its virtual private gateway)."""
    return {name: PRIVATE_ASNS[slot] for name, slot in allocate(cluster_names, len(PRIVATE_ASNS)).items()}


def assign_inside_ranges(link_names: Sequence[str]) -> dict[str, list[str]]:
    """Four /30 tunnel inside ranges per VPN link, distinct across the fleet."""
    return {
        name: [str(n) for n in INSIDE_BLOCKS[slot].subnets(new_prefix=30)]
        for name, slot in allocate(link_names, len(INSIDE_BLOCKS)).items()
    }


def api_clients(config: StackConfig, cluster: str) -> set[str]:
    """Clusters that call this cluster's API server (see config.connectivity.api_clients)."""
    return set(config_api_clients(config, cluster))


def ingress_ports(peer: str, clients: set[str]) -> tuple[FleetPort, ...]:
    """Ports a cluster opens to a linked peer: the mesh ports, plus its API server to its API clients."""
    return MESH_PORTS + ((KUBERNETES_API,) if peer in clients else ())


def peer_ranges(spec: ClusterConfig) -> dict[str, str]:
    """Source ranges traffic from a cluster arrives with: nodes, and GKE pods (routed natively, not NATed)."""
    ranges = {"nodes": spec.network.cidr}
    if spec.cloud == "gcp" and spec.network.pod_cidr:
        ranges["pods"] = spec.network.pod_cidr
    return ranges


def gcp_name(*parts: str) -> str:
    """A GCP resource name (at most 63 characters), shortened with a stable hash when needed."""
    wanted = "-".join(parts)
    if len(wanted) <= GCP_NAME_LENGTH:
        return wanted
    suffix = hashlib.sha256(wanted.encode()).hexdigest()[:6]
    return f"{wanted[: GCP_NAME_LENGTH - 7].rstrip('-')}-{suffix}"


# --- link arguments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One end of a link: its cluster, and the ports it opens to the other end."""

    cluster: FleetCluster
    ports: tuple[FleetPort, ...]

    @property
    def name(self) -> str:
        return self.cluster.spec.name


@dataclass(frozen=True)
class LinkArgs:
    """Props of a link component: both ends, in sorted name order, and the environment for names."""

    first: Side
    second: Side
    environment: str

    @property
    def sides(self) -> tuple[Side, Side]:
        return self.first, self.second


@dataclass(frozen=True)
class HaVpnArgs:
    """Props of an HA VPN link: which end is which, the ASNs and the tunnels' inside ranges."""

    link: LinkArgs
    gcp: Side
    aws: Side
    vpn_gateway: AwsVpnGateway
    gcp_asn: int
    aws_asn: int
    inside_ranges: list[str]
    random_provider: random.Provider


def router_advertisement(asn: int, spec: ClusterConfig) -> dict[str, Any]:
    """BGP settings of a GKE network's HA VPN Cloud Router.

    Every subnet range (ALL_SUBNETS: primary and secondary, so GKE pod and service ranges too), plus the
    GKE control-plane /28: it lives in Google's network, peered with the cluster's, and a router in default
    mode never advertises peering routes, so the AWS side would have no route to a private endpoint.
    """
    ranges = [spec.network.master_cidr] if spec.network.master_cidr else []
    return {
        "asn": asn,
        "advertise_mode": "CUSTOM",
        "advertised_groups": ["ALL_SUBNETS"],
        "advertised_ip_ranges": [{"range": r, "description": f"GKE control plane of {spec.name}"} for r in ranges],
    }


def _aws_opts(owner: pulumi.Resource, cluster: EksCluster, **kwargs: Any) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=owner, provider=cluster.aws_provider, **kwargs)


def _gcp_opts(owner: pulumi.Resource, cluster: GkeCluster, **kwargs: Any) -> pulumi.ResourceOptions:
    # Named GCP resources cannot be created before their predecessor with the same name is gone.
    return pulumi.ResourceOptions(parent=owner, provider=cluster.gcp_provider, delete_before_replace=True, **kwargs)


def _aws_ingress(owner: pulumi.Resource, prefix: str, side: Side, peer: ClusterConfig) -> None:
    """Let the peer's ranges reach this EKS cluster's nodes (and API server) on the fleet ports only."""
    for port in side.ports:
        for range_key, cidr in peer_ranges(peer).items():
            aws.vpc.SecurityGroupIngressRule(
                f"{prefix}-{side.name}-{port.name}-{range_key}",
                security_group_id=side.cluster.node_security_group_id,
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=port.port,
                to_port=port.port,
                description=f"{port.name} from {peer.name} ({range_key})",
                opts=_aws_opts(owner, side.cluster),
            )


def _gcp_ingress(owner: pulumi.Resource, prefix: str, environment: str, side: Side, peer: ClusterConfig) -> None:
    """GCP denies ingress by default: allow the peer's ranges on the fleet ports, in this cluster's network.

    The GKE API server is not behind VPC firewalls (master authorized networks decide), so 443 is left out.
    """
    cluster = side.cluster
    ports = [p for p in side.ports if p != KUBERNETES_API]
    gcp.compute.Firewall(
        f"{prefix}-{side.name}-ingress",
        name=gcp_name(environment, prefix, "from", peer.name),
        project=cluster.project,
        network=cluster.network_id,
        direction="INGRESS",
        source_ranges=list(peer_ranges(peer).values()),
        allows=[{"protocol": "tcp", "ports": [str(p.port) for p in ports]}],
        description=f"Fleet ports from {peer.name}",
        opts=_gcp_opts(owner, cluster),
    )


def _route_tables(cluster: EksCluster) -> list[tuple[str, pulumi.Output[str]]]:
    """Every route table of an EKS VPC, under names that match the cluster's own."""
    private = [(f"private-{i}", table) for i, table in enumerate(cluster.private_route_table_ids)]
    public = [(f"public-{i}", table) for i, table in enumerate(cluster.public_route_table_ids)]
    return private + public


# --- AWS <-> AWS --------------------------------------------------------------------------------


class AwsPeering(pulumi.ComponentResource):
    """VPC peering between two EKS clusters, same or different region."""

    TYPE = "multicluster:connectivity:AwsPeering"
    KIND = KIND_AWS_PEERING

    def __init__(self, name: str, args: LinkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        requester, accepter = args.first.cluster, args.second.cluster
        self.clusters = (args.first.name, args.second.name)
        self.connection = aws.ec2.VpcPeeringConnection(
            f"{name}-peering",
            vpc_id=requester.vpc_id,
            peer_vpc_id=accepter.vpc_id,
            peer_region=accepter.region,
            auto_accept=False,  # cross-region peerings must be accepted from the peer region
            tags={"Name": name, "multicluster:side": "requester"},
            opts=_aws_opts(self, requester),
        )
        self.accepter = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accepter",
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags={"Name": name, "multicluster:side": "accepter"},
            opts=_aws_opts(self, accepter),
        )
        self._dns_resolution(name, requester, accepter)
        for side, peer in ((args.first, args.second), (args.second, args.first)):
            self._routes(name, side.cluster, peer.cluster.spec)
            _aws_ingress(self, name, side, peer.cluster.spec)
        self.register_outputs(self.outputs())

    def _dns_resolution(self, name: str, requester: EksCluster, accepter: EksCluster) -> None:
        # Each side's option is set from its own region, once the peering is active.
        aws.ec2.PeeringConnectionOptions(
            f"{name}-requester-dns",
            vpc_peering_connection_id=self.connection.id,
            requester={"allow_remote_vpc_dns_resolution": True},
            opts=_aws_opts(self, requester, depends_on=[self.accepter]),
        )
        aws.ec2.PeeringConnectionOptions(
            f"{name}-accepter-dns",
            vpc_peering_connection_id=self.accepter.id,
            accepter={"allow_remote_vpc_dns_resolution": True},
            opts=_aws_opts(self, accepter, depends_on=[self.accepter]),
        )

    def _routes(self, name: str, cluster: EksCluster, peer: ClusterConfig) -> None:
        # Routes to a peering that is not active yet fail intermittently: wait for the accepter.
        for table_name, table_id in _route_tables(cluster):
            aws.ec2.Route(
                f"{name}-{cluster.spec.name}-{table_name}",
                route_table_id=table_id,
                destination_cidr_block=peer.network.cidr,
                vpc_peering_connection_id=self.connection.id,
                opts=_aws_opts(self, cluster, depends_on=[self.accepter]),
            )

    def outputs(self) -> dict[str, Any]:
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
        args: LinkArgs,
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.clusters = (args.first.name, args.second.name)
        self.peerings: dict[str, gcp.compute.NetworkPeering] = {}
        # GCP runs one peering operation at a time across peered networks, GKE's control-plane peering
        # included: wait for both clusters, for earlier peerings, and create the two directions in turn.
        previous: list[pulumi.Resource] = [args.first.cluster.cluster, args.second.cluster.cluster, *after]
        for side, peer in ((args.first, args.second), (args.second, args.first)):
            peering = gcp.compute.NetworkPeering(
                f"{name}-{side.name}",
                name=gcp_name(args.environment, side.name, "to", peer.name),
                network=side.cluster.network_id,
                peer_network=peer.cluster.network_id,
                export_custom_routes=True,
                import_custom_routes=True,
                opts=_gcp_opts(self, side.cluster, depends_on=previous),
            )
            self.peerings[side.name] = peering
            previous = [peering]
            _gcp_ingress(self, name, args.environment, side, peer.cluster.spec)
        self.register_outputs(self.outputs())

    @property
    def last(self) -> pulumi.Resource:
        return self.peerings[self.clusters[1]]

    def outputs(self) -> dict[str, Any]:
        return {
            "kind": self.KIND,
            "clusters": list(self.clusters),
            "peeringIds": {side: p.id for side, p in self.peerings.items()},
            "states": {side: p.state for side, p in self.peerings.items()},
        }


# --- AWS <-> GCP --------------------------------------------------------------------------------


class AwsVpnGateway(pulumi.ComponentResource):
    """The virtual private gateway of one EKS VPC, propagating BGP routes into every route table."""

    TYPE = "multicluster:connectivity:AwsVpnGateway"

    def __init__(self, name: str, cluster: EksCluster, asn: int, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.asn = asn
        self.gateway = aws.ec2.VpnGateway(
            name,
            vpc_id=cluster.vpc_id,
            amazon_side_asn=str(asn),
            tags={"Name": f"{cluster.spec.name}-fleet"},
            opts=_aws_opts(self, cluster),
        )
        self.id = self.gateway.id
        for table_name, table_id in _route_tables(cluster):
            aws.ec2.VpnGatewayRoutePropagation(
                f"{name}-{table_name}",
                vpn_gateway_id=self.gateway.id,
                route_table_id=table_id,
                opts=_aws_opts(self, cluster),
            )
        self.register_outputs({"vpnGatewayId": self.gateway.id, "asn": asn})


def tunnel_addresses(inside_range: str) -> tuple[str, str]:
    """(AWS, GCP) BGP addresses of a tunnel: AWS takes the first host of the /30, the customer side the second."""
    aws_ip, gcp_ip = list(ipaddress.ip_network(inside_range).hosts())
    return str(aws_ip), str(gcp_ip)


class HaVpn(pulumi.ComponentResource):
    """HA VPN between a GKE network and an EKS VPC, as Google documents it for AWS (99.99% SLA topology).

    Two AWS VPN connections (one per HA VPN interface) give four tunnels, each with a BGP session.
    """

    TYPE = "multicluster:connectivity:HaVpn"
    KIND = KIND_HA_VPN

    def __init__(self, name: str, args: HaVpnArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.args = args
        self.clusters = (args.link.first.name, args.link.second.name)
        self._gcp_gateway(name)
        self._aws_side(name)
        self._tunnels(name)
        _aws_ingress(self, name, args.aws, args.gcp.cluster.spec)
        _gcp_ingress(self, name, args.link.environment, args.gcp, args.aws.cluster.spec)
        self.register_outputs(self.outputs())

    def _gcp_gateway(self, name: str) -> None:
        g, env = self.args.gcp.cluster, self.args.link.environment
        self.gateway = gcp.compute.HaVpnGateway(
            f"{name}-gateway",
            name=gcp_name(env, name),
            project=g.project,
            region=g.region,
            network=g.network_id,
            opts=_gcp_opts(self, g),
        )
        self.router = gcp.compute.Router(
            f"{name}-router",
            name=gcp_name(env, name, "vpn"),
            project=g.project,
            region=g.region,
            network=g.network_id,
            bgp=router_advertisement(self.args.gcp_asn, g.spec),
            opts=_gcp_opts(self, g),
        )

    def _aws_side(self, name: str) -> None:
        a, args = self.args.aws.cluster, self.args
        self.customer_gateways = [
            aws.ec2.CustomerGateway(
                f"{name}-cgw-{i}",
                bgp_asn=str(args.gcp_asn),
                ip_address=self.gateway.vpn_interfaces.apply(lambda interfaces, i=i: interfaces[i].ip_address),
                type="ipsec.1",
                tags={"Name": f"{name}-{i}"},
                opts=_aws_opts(self, a),
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
        self.connections = [
            aws.ec2.VpnConnection(
                f"{name}-vpn-{i}",
                type="ipsec.1",
                vpn_gateway_id=args.vpn_gateway.id,
                customer_gateway_id=gateway.id,
                static_routes_only=False,
                tunnel1_inside_cidr=args.inside_ranges[2 * i],
                tunnel2_inside_cidr=args.inside_ranges[2 * i + 1],
                tunnel1_preshared_key=self.keys[2 * i].result,
                tunnel2_preshared_key=self.keys[2 * i + 1].result,
                tunnel1_ike_versions=["ikev2"],
                tunnel2_ike_versions=["ikev2"],
                tags={"Name": f"{name}-{i}"},
                opts=_aws_opts(self, a),
            )
            for i, gateway in enumerate(self.customer_gateways)
        ]

    def _outside_address(self, tunnel: int) -> pulumi.Output[str]:
        connection = self.connections[tunnel // 2]
        return connection.tunnel1_address if tunnel % 2 == 0 else connection.tunnel2_address

    def _tunnels(self, name: str) -> None:
        g, args, env = self.args.gcp.cluster, self.args, self.args.link.environment
        self.external_gateway = gcp.compute.ExternalVpnGateway(
            f"{name}-aws",
            name=gcp_name(env, name, "aws"),
            project=g.project,
            redundancy_type="FOUR_IPS_REDUNDANCY",
            interfaces=[{"id": t, "ip_address": self._outside_address(t)} for t in range(TUNNELS)],
            description=f"AWS VPN endpoints of {args.aws.name}",
            opts=_gcp_opts(self, g),
        )
        self.tunnels, self.bgp_peers = [], []
        for t in range(TUNNELS):
            aws_ip, gcp_ip = tunnel_addresses(args.inside_ranges[t])
            tunnel = gcp.compute.VPNTunnel(
                f"{name}-tunnel-{t}",
                name=gcp_name(env, name, str(t)),
                project=g.project,
                region=g.region,
                vpn_gateway=self.gateway.id,
                vpn_gateway_interface=t // 2,  # connection i terminates on HA VPN interface i
                peer_external_gateway=self.external_gateway.id,
                peer_external_gateway_interface=t,
                shared_secret=self.keys[t].result,
                router=self.router.id,
                ike_version=2,
                opts=_gcp_opts(self, g),
            )
            interface = gcp.compute.RouterInterface(
                f"{name}-if-{t}",
                name=gcp_name(env, name, "if", str(t)),
                project=g.project,
                region=g.region,
                router=self.router.name,
                ip_range=f"{gcp_ip}/30",
                vpn_tunnel=tunnel.name,
                opts=_gcp_opts(self, g),
            )
            peer = gcp.compute.RouterPeer(
                f"{name}-bgp-{t}",
                name=gcp_name(env, name, "bgp", str(t)),
                project=g.project,
                region=g.region,
                router=self.router.name,
                interface=interface.name,
                peer_ip_address=aws_ip,
                peer_asn=args.aws_asn,
                advertised_route_priority=100,
                opts=_gcp_opts(self, g),
            )
            self.tunnels.append(tunnel)
            self.bgp_peers.append(peer)

    def outputs(self) -> dict[str, Any]:
        args = self.args
        return {
            "kind": self.KIND,
            "clusters": list(self.clusters),
            "haVpnGateway": self.gateway.self_link,
            "cloudRouter": self.router.self_link,
            "externalVpnGateway": self.external_gateway.self_link,
            "vpnGatewayId": args.vpn_gateway.id,
            "customerGatewayIds": [c.id for c in self.customer_gateways],
            "vpnConnectionIds": [c.id for c in self.connections],
            "tunnels": [t.self_link for t in self.tunnels],
            "insideRanges": list(args.inside_ranges),
            "asns": {args.gcp.name: args.gcp_asn, args.aws.name: args.aws_asn},
        }


# --- the fleet ----------------------------------------------------------------------------------

Link = AwsPeering | GcpPeering | HaVpn


class Connectivity(pulumi.ComponentResource):
    """Every link of the fleet; what the mesh reads to know which clusters reach each other."""

    TYPE = "multicluster:connectivity:Connectivity"

    def __init__(self, name: str, config: StackConfig, clusters: dict[str, KubernetesCluster]):
        super().__init__(self.TYPE, name, None, None)
        self.mode = config.connectivity.mode
        self.hub = config.connectivity.hub
        self.names = [c.name for c in config.clusters]
        pairs = planned_pairs(config)
        vpn_links = [link_name(a.name, b.name) for a, b in pairs if link_kind(a, b) == KIND_HA_VPN]
        self.asns = assign_asns(self.names)
        self.inside_ranges = assign_inside_ranges(vpn_links)
        self._random = random.Provider(f"{name}-random", opts=pulumi.ResourceOptions(parent=self))
        self.vpn_gateways: dict[str, AwsVpnGateway] = {}
        self.control_plane_routes: dict[str, gcp.compute.NetworkPeeringRoutesConfig] = {}
        self.links: dict[str, Link] = {}
        # GCP runs one peering operation at a time per network (peerings, control-plane route exports):
        # each network's operations form a chain; operations on disjoint networks run in parallel.
        last_operation: dict[str, pulumi.Resource] = {}
        for first, second in pairs:
            name_ = link_name(first.name, second.name)
            args = LinkArgs(
                first=Side(clusters[first.name], ingress_ports(second.name, api_clients(config, first.name))),
                second=Side(clusters[second.name], ingress_ports(first.name, api_clients(config, second.name))),
                environment=config.environment,
            )
            kind = link_kind(first, second)
            if kind == KIND_AWS_PEERING:
                link: Link = AwsPeering(name_, args, opts=pulumi.ResourceOptions(parent=self))
            elif kind == KIND_GCP_PEERING:
                after = [last_operation[c.name] for c in (first, second) if c.name in last_operation]
                link = GcpPeering(name_, args, after=after, opts=pulumi.ResourceOptions(parent=self))
                last_operation[first.name] = last_operation[second.name] = link.last
            else:
                link = self._ha_vpn(name_, args)
                gke = clusters[first.name if first.cloud == "gcp" else second.name]
                gke_name = gke.spec.name
                if gke_name not in self.control_plane_routes:
                    after = [last_operation[gke_name]] if gke_name in last_operation else []
                    last_operation[gke_name] = self._export_routes_to_control_plane(gke, after)
            self.links[name_] = link
        self.connected: set[frozenset[str]] = {frozenset(link.clusters) for link in self.links.values()}
        self.register_outputs(self.outputs())

    def _ha_vpn(self, name: str, link: LinkArgs) -> HaVpn:
        gcp_side, aws_side = sorted(link.sides, key=lambda s: s.cluster.spec.cloud != "gcp")
        args = HaVpnArgs(
            link=link,
            gcp=gcp_side,
            aws=aws_side,
            vpn_gateway=self._vpn_gateway(aws_side.cluster),
            gcp_asn=self.asns[gcp_side.name],
            aws_asn=self.asns[aws_side.name],
            inside_ranges=self.inside_ranges[name],
            random_provider=self._random,
        )
        return HaVpn(name, args, opts=pulumi.ResourceOptions(parent=self))

    def _export_routes_to_control_plane(
        self, cluster: GkeCluster, after: Sequence[pulumi.Resource]
    ) -> gcp.compute.NetworkPeeringRoutesConfig:
        """Let a GKE control plane answer clients behind the VPN: once per GKE cluster, whatever its VPN links.

        The control plane sits in a Google-owned network peered with the cluster's; it only learns the
        routes the cluster's network exports to that peering, and routes learned over BGP are custom routes.
        The Google-owned side has no custom routes to give back, so nothing is imported (GKE's own default).
        A peering operation: it takes its turn in the chain of its network (`after`).
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
        link = self.links.get(link_name(first, second))
        return link.KIND if link else None

    def matrix(self) -> dict[str, dict[str, str]]:
        """For each cluster, how it reaches each other cluster ('none' when it does not)."""
        return {a: {b: self.kind_between(a, b) or "none" for b in self.names if b != a} for a in self.names}

    def outputs(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "hub": self.hub,
            "links": {name: link.outputs() for name, link in self.links.items()},
            "matrix": self.matrix(),
            "asns": {name: asn for name, asn in self.asns.items() if _uses_bgp(name, self.links.values())},
            "controlPlanePeerings": {name: routes.peering for name, routes in self.control_plane_routes.items()},
        }


def _uses_bgp(cluster: str, links: Iterable[Link]) -> bool:
    return any(isinstance(link, HaVpn) and cluster in link.clusters for link in links)


def build_connectivity(
    config: StackConfig, clusters: dict[str, KubernetesCluster], **wiring: Any
) -> Connectivity | None:
    """Create the links of the fleet, or None when the mode is none."""
    if config.connectivity.mode == "none":
        return None
    return Connectivity("connectivity", config, clusters)
