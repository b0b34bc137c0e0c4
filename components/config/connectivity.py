"""Config block `multicluster:connectivity`, and the link plan config validation and the program share.

The plan says which clusters are linked and over what (VPC peering, GCP network peering, HA VPN to a virtual
private gateway or to a region's transit gateway), with which BGP numbers, tunnel inside ranges, ports and GCP
names. `check` validates it against the clouds' rules and default quotas; components/connectivity.py builds
exactly that plan, so what validation accepted is what `pulumi up` creates.

Everything is derived from cluster names (and regions), never from positions in the config: reordering the
clusters changes nothing, adding or removing one only adds or removes what concerns it.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from .base import Issue, Loc, format_path
from .clusters import ClusterConfig
from .fleetview import (
    RULES_PER_GROUP,
    SECURITY_GROUP_RULES_QUOTA,
    TGW,
    BlockRules,
    FleetView,
    PlannedFleet,
)
from .links import KIND_GCP_PEERING, KIND_HA_VPN, Link, Vpn
from .mesh import mesh_peers
from .needs import DEPLOYER, FleetPort

# --- the clouds' rules and default quotas ------------------------------------------------------------

VPN_QUOTAS = "AWS Site-to-Site VPN quotas (https://docs.aws.amazon.com/vpn/latest/s2svpn/vpn-limits.html)"
TGW_QUOTAS = (
    "Amazon VPC Transit Gateways quotas (https://docs.aws.amazon.com/vpc/latest/tgw/transit-gateway-quotas.html)"
)
VPC_QUOTAS = "Amazon VPC quotas (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html)"
ROUTER_LIMITS = "Cloud Router quotas and limits (https://cloud.google.com/network-connectivity/docs/router/quotas)"
GCP_VPC_QUOTAS = "VPC quotas and limits (https://cloud.google.com/vpc/docs/quota)"
VPN_PER_VGW = 10  # Site-to-Site VPN connections per virtual private gateway
VGW_PER_REGION = 5  # virtual private gateways per Region
VPN_PER_REGION = 50  # Site-to-Site VPN connections per Region
CGW_PER_REGION = 50  # customer gateways per Region
TGW_ROUTE_TABLES = 20  # transit gateway route tables per transit gateway
PEERINGS_PER_VPC = 50  # active VPC peering connections per VPC
ROUTES_PER_TABLE = 50  # routes per route table (non-propagated)
BGP_PEERS_PER_ROUTER = 128  # BGP peers per Cloud Router (a system limit)
PEERINGS_PER_NETWORK = 25  # VPC Network Peering connections per network
GCP_NAME_LENGTH = 63  # Compute Engine names: RFC 1035, 1-63 characters
CONNECTIONS_PER_VPN = 2  # Google's HA VPN to AWS: two AWS VPN connections (one per HA VPN interface)
TUNNELS = 4  # two tunnels per AWS VPN connection

# ASNs a cluster derives from its name: RFC 6996's 4-byte private range, which AWS and Google accept (see
# clusters.PRIVATE_ASN_RANGES). About 95 million values: two of a fleet's names collide with a chance of about
# n^2/190,000,000 (5 in 100,000 for 100 clusters), and validation then asks for network.asn on one of them.
DERIVED_ASN_FIRST = 4200000000
DERIVED_ASN_COUNT = 4294967294 - DERIVED_ASN_FIRST + 1

# Tunnel inside ranges: /30s of 169.254.0.0/16 (EC2 API, VpnTunnelOptionsSpecification TunnelInsideCidr: "A size /30
# CIDR block from the 169.254.0.0/16 range"; compute v1 RouterInterface.ipRange: "in the RFC3927 link-local IP
# address space"). AWS reserves 169.254.0.0/30 ... 169.254.5.0/30 and 169.254.169.252/30 (same TunnelInsideCidr
# documentation) and requires them "unique across all VPN connections that use the same virtual private gateway"
# (or transit gateway); a Cloud Router's interfaces cannot overlap either. Each HA VPN takes one /28 (its four
# tunnels' /30s); the /28s holding a reserved /30 are left out (169.254.169.254, the metadata server, with them).
INSIDE_SPACE = ipaddress.IPv4Network("169.254.0.0/16")
AWS_RESERVED_INSIDE = (
    *(ipaddress.IPv4Network(f"169.254.{i}.0/30") for i in range(6)),
    ipaddress.IPv4Network("169.254.169.252/30"),
)
# The /28s of the space without those holding a reserved /30, from addresses (a /30 lies inside one /28): the same
# blocks as filtering INSIDE_SPACE.subnets(new_prefix=28) by overlap, without 4,096 x 7 overlap tests at import.
_INSIDE_BASE = int(INSIDE_SPACE.network_address)
_RESERVED_SLOTS = {(int(r.network_address) - _INSIDE_BASE) >> 4 for r in AWS_RESERVED_INSIDE}
INSIDE_BLOCKS = tuple(
    ipaddress.IPv4Network((_INSIDE_BASE + (slot << 4), 28))
    for slot in range(INSIDE_SPACE.num_addresses >> 4)
    if slot not in _RESERVED_SLOTS
)


def _hash(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16)


# --- topology ------------------------------------------------------------------------------------------


def planned_links(config: FleetView) -> list[Link]:
    """The linked pairs, listed so that clusters appended to the config come last (GCP's chains of peering
    operations grow at their end)."""
    block, clusters = config.connectivity, list(config.clusters)
    if block.mode == "full-mesh":
        pairs = list(combinations(clusters, 2))
    elif block.mode == "hub-spoke":
        names = {c.name for c in clusters}
        pairs = [
            (config.cluster(hub), c)
            for c in clusters
            if (hub := block.hub_of(c)) is not None and hub in names and hub != c.name
        ]
    else:
        pairs = []
    position = {c.name: i for i, c in enumerate(clusters)}

    def age(pair: tuple[ClusterConfig, ClusterConfig]) -> tuple[int, int]:
        a, b = position[pair[0].name], position[pair[1].name]
        return max(a, b), min(a, b)

    return [Link(*sorted(pair, key=lambda c: c.name)) for pair in sorted(pairs, key=age)]


def planned_vpns(config: FleetView, links: Sequence[Link] | None = None) -> list[Vpn]:
    """The HA VPNs of the fleet, in the order of the links that first need them."""
    vpns: dict[str, Vpn] = {}
    for link in planned_links(config) if links is None else links:
        if link.kind != KIND_HA_VPN:
            continue
        gke, eks = link.of_cloud("gcp"), link.of_cloud("aws")
        if config.connectivity.aws_gateway == TGW:
            name = f"{gke.name}--{eks.region}"
            known = vpns.get(name)
            vpns[name] = Vpn(name, gke, f"tgw:{eks.region}", eks.region, (*known.eks, eks) if known else (eks,))
        else:
            vpns[link.name] = Vpn(link.name, gke, f"vgw:{eks.name}", eks.region, (eks,))
    return list(vpns.values())


def vpn_of(config: FleetView, link: Link) -> str:
    """The name of the HA VPN that carries an AWS <-> GCP link."""
    if config.connectivity.aws_gateway == TGW:
        return f"{link.of_cloud('gcp').name}--{link.of_cloud('aws').region}"
    return link.name


def transit_regions(vpns: Iterable[Vpn]) -> list[str]:
    """The AWS regions that get a transit gateway, sorted."""
    return sorted({vpn.region for vpn in vpns if vpn.via_transit_gateway})


# --- BGP numbers ---------------------------------------------------------------------------------------


def derived_asn(key: str) -> int:
    """The ASN a name gives: its SHA-256 in the 4-byte private range (the same in every run and every fleet)."""
    return DERIVED_ASN_FIRST + _hash(key) % DERIVED_ASN_COUNT


def transit_gateway_key(region: str) -> str:
    """What a transit gateway's ASN derives from (a '/' never occurs in a cluster name)."""
    return f"transit-gateway/{region}"


@dataclass(frozen=True)
class Speaker:
    """A BGP speaker of the fleet: a Cloud Router, a virtual private gateway or a transit gateway."""

    key: str  # cluster name, or transit-gateway/<region>
    what: str  # for messages
    asn: int
    explicit: bool
    path: Loc  # the key that sets its ASN
    order: int  # clusters in config order, then transit gateways by region

    @property
    def name(self) -> str:
        """The cluster's name, or what the transit gateway is."""
        return self.what if self.key.startswith("transit-gateway/") else self.key


def bgp_speakers(config: FleetView, vpns: Sequence[Vpn]) -> list[Speaker]:
    """Every BGP speaker the HA VPNs use, with its ASN (its override, else derived from its name)."""
    index = {c.name: i for i, c in enumerate(config.clusters)}
    found: dict[str, Speaker] = {}

    def cluster(spec: ClusterConfig) -> None:
        explicit = spec.network.asn is not None
        asn = spec.network.asn if spec.network.asn is not None else derived_asn(spec.name)
        i = index[spec.name]
        found[spec.name] = Speaker(
            spec.name, f"{spec.name} (clusters[{i}])", asn, explicit, ("clusters", i, "network", "asn"), i
        )

    overrides = config.connectivity.transit_gateway_asns
    regions = transit_regions(vpns)
    for vpn in vpns:
        cluster(vpn.gke)
        if not vpn.via_transit_gateway:
            cluster(vpn.eks[0])
    for i, region in enumerate(regions):
        key = transit_gateway_key(region)
        asn = overrides.get(region, derived_asn(key))
        found[key] = Speaker(
            key,
            f"the transit gateway of {region}",
            asn,
            region in overrides,
            ("connectivity", "transitGatewayAsns", region),
            len(index) + i,
        )
    return sorted(found.values(), key=lambda s: s.order)


def assign_asns(config: FleetView, vpns: Sequence[Vpn] | None = None) -> dict[str, int]:
    """The ASN of every BGP speaker: GKE clusters (Cloud Router), EKS clusters (virtual private gateway), transit
    gateways (`transit-gateway/<region>`)."""
    vpns = planned_vpns(config) if vpns is None else vpns
    return {s.key: s.asn for s in bgp_speakers(config, vpns)}


def asn_issues(config: FleetView, vpns: Sequence[Vpn]) -> list[Issue]:
    """Every speaker has its own ASN: an override keeps its value only if no derived ASN has it already."""
    by_asn: dict[int, list[Speaker]] = defaultdict(list)
    for speaker in bgp_speakers(config, vpns):
        by_asn[speaker.asn].append(speaker)
    issues: list[Issue] = []
    for asn, group in by_asn.items():
        first, *others = sorted(group, key=lambda s: (s.explicit, s.order))
        for other in others:
            if other.explicit:
                message = f"{asn} is already the ASN of {first.what}: give {other.name} another private ASN"
            else:
                message = (
                    f"is needed: {other.what} and {first.what} both derive ASN {asn} from their names; set another "
                    "private ASN here (64512-65534 or 4200000000-4294967294)"
                )
            issues.append(Issue(format_path(other.path), message))
    return issues


def asn_field_issues(config: FleetView, vpns: Sequence[Vpn]) -> list[Issue]:
    """ASN keys that would mean nothing: an EKS ASN with transit gateways, transit gateway ASNs without them."""
    block = config.connectivity
    issues: list[Issue] = []
    if block.aws_gateway == TGW:
        for i, cluster in enumerate(config.clusters):
            if cluster.cloud == "aws" and cluster.network.asn is not None:
                issues.append(
                    Issue(
                        format_path(("clusters", i, "network", "asn")),
                        "applies to awsGateway virtual-private-gateway only: with transit-gateway the transit "
                        f"gateway of {cluster.region} speaks BGP "
                        f"(multicluster:connectivity.transitGatewayAsns.{cluster.region})",
                    )
                )
    regions = transit_regions(vpns)
    for region in block.transit_gateway_asns:
        at = format_path(("connectivity", "transitGatewayAsns", region))
        if block.aws_gateway != TGW:
            issues.append(Issue(at, f"applies to awsGateway transit-gateway only (awsGateway is {block.aws_gateway})"))
        elif region not in regions:
            known = ", ".join(regions) or "none: no EKS cluster has an HA VPN link"
            issues.append(Issue(at, f"'{region}' has no transit gateway (regions with one: {known})"))
    return issues


# --- tunnel inside ranges ----------------------------------------------------------------------------------


def allocate_blocks(members: Iterable[tuple[str, frozenset[str]]], size: int) -> tuple[dict[str, int], list[str]]:
    """A slot in [0, size) per member, distinct among the members that share a gateway.

    A member takes the slot its name hashes to, or the next one free on all of its gateways. Members are served
    in name order, so the result depends on the set of members only, never on the order of the config; a member
    moves only when it collides with another on a shared gateway and the other sorts first. Members that find no
    free slot are returned apart.
    """
    taken: dict[str, set[int]] = defaultdict(set)
    slots: dict[str, int] = {}
    unplaced: list[str] = []
    for name, gateways in sorted(members, key=lambda m: m[0]):
        start = _hash(name) % size
        slot = next(
            (s for s in ((start + step) % size for step in range(size)) if all(s not in taken[g] for g in gateways)),
            None,
        )
        if slot is None:
            unplaced.append(name)
            continue
        slots[name] = slot
        for gateway in gateways:
            taken[gateway].add(slot)
    return slots, unplaced


def inside_ranges(vpns: Sequence[Vpn], blocks: Sequence[ipaddress.IPv4Network] = INSIDE_BLOCKS) -> dict[str, list[str]]:
    """The four tunnel /30s of each HA VPN (AWS connection i takes tunnels 2i and 2i+1)."""
    slots, _ = allocate_blocks(((v.name, v.gateways) for v in vpns), len(blocks))
    return {name: [str(n) for n in blocks[slot].subnets(new_prefix=30)] for name, slot in slots.items()}


def inside_range_issues(vpns: Sequence[Vpn], blocks: Sequence[ipaddress.IPv4Network] = INSIDE_BLOCKS) -> list[Issue]:
    _, unplaced = allocate_blocks(((v.name, v.gateways) for v in vpns), len(blocks))
    by_name = {v.name: v for v in vpns}
    return [
        Issue(
            format_path(("connectivity", "mode")),
            f"gives HA VPN {name} no free tunnel inside range: each of the {len(blocks)} /28s of 169.254.0.0/16 "
            f"AWS allows is taken on {by_name[name].aws_side} or on the Cloud Router of {by_name[name].gke.name}",
        )
        for name in unplaced
    ]


# --- what crosses links ---------------------------------------------------------------------------------


# A private-only EKS API server is called over the links (the cluster security group guards it).
KUBERNETES_API = FleetPort("kubernetes-api", 443)


def api_clients(config: FleetView, cluster: str) -> dict[str, str]:
    """Clusters that call this cluster's API server, with why, as the blocks declare them (config/needs.py):
    the gitops hub, its mesh peers, and the cluster Pulumi runs in (multicluster:deployer.network)."""
    return config.needs().callers_of(cluster)


def private_only(cluster: ClusterConfig) -> bool:
    """An EKS API server without a public endpoint: its name resolves to private addresses everywhere."""
    return cluster.cloud == "aws" and not cluster.endpoint.public_access_cidrs


def ingress_ports(config: FleetView, target: ClusterConfig, peer: ClusterConfig) -> tuple[FleetPort, ...]:
    """Ports `target` opens to a linked `peer`: what the blocks declare (config/needs.py: the mesh's data plane),
    plus a private-only EKS API server to its declared callers.

    A public EKS endpoint is reached at its public addresses (outside its VPC the name resolves to them), and a
    GKE API server through its DNS-based endpoint: neither crosses a link.
    """
    ports = config.needs().ports_between(target.name, peer.name)
    if private_only(target) and peer.name in api_clients(config, target.name):
        ports += (KUBERNETES_API,)
    return ports


@dataclass(frozen=True)
class PortRange:
    """One rule's ports: a single port, or consecutive ones merged."""

    name: str
    low: int
    high: int


def port_ranges(ports: Iterable[FleetPort]) -> list[PortRange]:
    """The ports as the fewest ranges that cover exactly them (consecutive ports merge)."""
    ranges: list[list[FleetPort]] = []
    for port in sorted(set(ports), key=lambda p: p.port):
        if ranges and ranges[-1][-1].port + 1 == port.port:
            ranges[-1].append(port)
        else:
            ranges.append([port])
    return [
        PortRange(
            group[0].name if len(group) == 1 else f"{group[0].name}-to-{group[-1].name}", group[0].port, group[-1].port
        )
        for group in ranges
    ]


def collapsed(ranges: dict[str, str]) -> dict[str, str]:
    """The ranges merged where that is exact (adjacent or nested blocks), keyed by the keys they merge."""
    networks = {key: ipaddress.IPv4Network(cidr) for key, cidr in ranges.items()}
    merged: dict[str, str] = {}
    for block in ipaddress.collapse_addresses(networks.values()):
        keys = [key for key, n in networks.items() if n.subnet_of(block)]
        merged["-".join(keys)] = str(block)
    return merged


def source_ranges(peer: ClusterConfig) -> dict[str, str]:
    """Where a peer's traffic comes from: its nodes, and GKE pods (routed natively, never masqueraded to private
    destinations); EKS pods have VPC addresses."""
    ranges = {"nodes": peer.network.cidr}
    if peer.cloud == "gcp" and peer.network.pod_cidr:
        ranges["pods"] = peer.network.pod_cidr
    return collapsed(ranges)


def routed_ranges(gke: ClusterConfig) -> dict[str, str]:
    """What an EKS VPC routes to a transit gateway for a linked GKE cluster: what its Cloud Router advertises
    and the fleet uses (nodes, pods, a VPC-peering control plane's /28)."""
    ranges = {"nodes": gke.network.cidr}
    if gke.network.pod_cidr:
        ranges["pods"] = gke.network.pod_cidr
    if gke.network.master_cidr:
        ranges["control-plane"] = gke.network.master_cidr
    return collapsed(ranges)


# Ports of the mesh's east-west load balancer (Istio: status 15021 and tls 15443; Linkerd: 4143 and probes 4191),
# and the most source ranges it is given (components/mesh.py MAX_SOURCE_RANGES).
EAST_WEST_LB_PORTS = 2
EAST_WEST_SOURCE_RANGES = 4


def load_balancer_rules(config: FleetView, eks: ClusterConfig, links: Sequence[Link]) -> int:
    """The fewest inbound rules the in-tree AWS cloud provider adds for the mesh's east-west NLB of `eks`: per
    port, one per source range and one per zone's subnet (health checks), and one ICMP rule per source range
    (cloud-provider-aws updateInstanceSecurityGroupsForNLB). The gateway is internal when every mesh peer is
    linked to `eks` (its sources: the peers' ranges, summarised into at most EAST_WEST_SOURCE_RANGES), public
    otherwise (one /32 per egress address of every peer: components/mesh.py gateway_source_ranges). A lower
    bound: config validation never refuses what would fit; the judge counts the real Services."""
    peers = [peer for peer in config.clusters if mesh_peers(config, eks.name, peer.name)]
    if not peers:
        return 0
    linked_to = {c.name for link in links if eks.name in (link.first.name, link.second.name) for c in link.clusters}
    if all(peer.name in linked_to for peer in peers):
        # components/mesh.py summarized: adjacent ranges collapse first, then merge down to at most four.
        networks = {ipaddress.IPv4Network(r) for p in peers for r in source_ranges(p).values()}
        ranges = min(EAST_WEST_SOURCE_RANGES, len(list(ipaddress.collapse_addresses(networks))))
    else:
        ranges = sum(peer.nat_addresses for peer in peers)
    # Health checks come from each load balancer subnet: one per zone of the cluster (two in a two-zone region).
    return EAST_WEST_LB_PORTS * (ranges + eks.aws_zones) + ranges


def ingress_rule_count(config: FleetView, target: ClusterConfig, peer: ClusterConfig) -> int:
    return len(port_ranges(ingress_ports(config, target, peer))) * len(source_ranges(peer))


# --- GCP names ------------------------------------------------------------------------------------------
# Project-wide names carry the stack's prefix (two stacks may share a project); names inside a per-stack
# parent (a peering in a network, an interface or BGP peer of a router) need not.


def vpn_gateway_name(prefix: str, vpn: str) -> str:
    return f"{prefix}-{vpn}"


def external_gateway_name(prefix: str, vpn: str) -> str:
    return f"{prefix}-{vpn}-aws"


def tunnel_name(prefix: str, vpn: str, tunnel: int) -> str:
    return f"{prefix}-{vpn}-{tunnel}"


def router_name(prefix: str, gke: str) -> str:
    return f"{prefix}-{gke}-vpn"


def interface_name(vpn: str, tunnel: int) -> str:
    return f"{vpn}-if-{tunnel}"


def bgp_peer_name(vpn: str, tunnel: int) -> str:
    return f"{vpn}-bgp-{tunnel}"


def firewall_name(prefix: str, gke: str, peer: str) -> str:
    return f"{prefix}-{gke}-from-{peer}"


def peering_name(prefix: str, side: str, peer: str) -> str:
    return f"{prefix}-{side}-to-{peer}"


def gcp_names(config: FleetView, link: Link) -> list[str]:
    """Every GCP name a link needs (a transit-gateway HA VPN's names belong to its first link)."""
    prefix = config.prefix
    names: list[str] = []
    for side, peer in ((link.first, link.second), (link.second, link.first)):
        if side.cloud == "gcp" and ingress_ports(config, side, peer):
            names.append(firewall_name(prefix, side.name, peer.name))
        if link.kind == KIND_GCP_PEERING:
            names.append(peering_name(prefix, side.name, peer.name))
    if link.kind == KIND_HA_VPN:
        vpn = vpn_of(config, link)
        gke = link.of_cloud("gcp").name
        names += [vpn_gateway_name(prefix, vpn), external_gateway_name(prefix, vpn), router_name(prefix, gke)]
        names += [tunnel_name(prefix, vpn, TUNNELS - 1), interface_name(vpn, TUNNELS - 1), bgp_peer_name(vpn, 0)]
    return names


def name_issues(config: FleetView, links: Sequence[Link]) -> list[Issue]:
    """GCP names are never shortened: a link whose longest name does not fit is refused at its later cluster."""
    index = {c.name: i for i, c in enumerate(config.clusters)}
    issues: list[Issue] = []
    for link in links:
        longest = max(gcp_names(config, link), key=len, default="")
        if len(longest) > GCP_NAME_LENGTH:
            later = max(index[link.first.name], index[link.second.name])
            issues.append(
                Issue(
                    format_path(("clusters", later, "name")),
                    f"makes the GCP name '{longest}' {len(longest)} characters long (link {link.name}); GCP allows "
                    f"{GCP_NAME_LENGTH} (shorten the cluster names or multicluster:namePrefix)",
                )
            )
    return issues


# --- capacity: the fleet against the default quotas ----------------------------------------------------------


@dataclass
class Counts:
    """What each gateway, VPC and network of the fleet would hold."""

    vpn_per_vgw: dict[str, int]
    vgw_per_region: dict[str, int]
    vpn_per_region: dict[str, int]
    tgw_route_tables: dict[str, int]
    peerings_per_vpc: dict[str, int]
    routes_per_table: dict[str, int]
    rules_per_group: dict[str, int]
    bgp_peers_per_router: dict[str, int]
    peerings_per_network: dict[str, int]


def count(config: FleetView, links: Sequence[Link], vpns: Sequence[Vpn]) -> Counts:
    c = Counts(*(defaultdict[str, int](int) for _ in range(9)))
    members: dict[str, set[str]] = defaultdict(set)
    for vpn in vpns:
        c.vpn_per_region[vpn.region] += CONNECTIONS_PER_VPN
        c.bgp_peers_per_router[vpn.gke.name] += TUNNELS
        if vpn.via_transit_gateway:
            members[vpn.region] |= {vpn.gke.name, *(e.name for e in vpn.eks)}
        else:
            c.vpn_per_vgw[vpn.eks[0].name] += CONNECTIONS_PER_VPN
    for region, names in members.items():
        c.tgw_route_tables[region] = len(names)
    for eks in {v.eks[0].name: v.eks[0] for v in vpns if not v.via_transit_gateway}.values():
        c.vgw_per_region[eks.region] += 1
    for spec in config.clusters:
        if spec.cloud == "aws":
            c.routes_per_table[spec.name] = 1  # the default route (NAT or internet gateway)
            # EKS's own rule (the cluster security group to itself), and what the AWS cloud provider adds for
            # the mesh's load balancers (the judge counts them exactly: offline_plan/judge/aws_nlb.py).
            c.rules_per_group[spec.name] = 1 + load_balancer_rules(config, spec, links)
        elif spec.network.master_cidr:
            c.peerings_per_network[spec.name] = 1  # GKE's own peering with its control plane
    transit = config.connectivity.aws_gateway == TGW
    for link in links:
        for side, peer in ((link.first, link.second), (link.second, link.first)):
            if side.cloud == "aws":
                c.rules_per_group[side.name] += ingress_rule_count(config, side, peer)
                if peer.cloud == "aws":
                    c.peerings_per_vpc[side.name] += 1
                    c.routes_per_table[side.name] += 1
                elif transit:
                    c.routes_per_table[side.name] += len(routed_ranges(peer))
            elif peer.cloud == "gcp":
                c.peerings_per_network[side.name] += 1
    return c


def rules_quota(config: FleetView, eks: str) -> int:
    """Inbound rules a security group of `eks` may hold: the stated raised quota of its region, or the default."""
    return config.quotas.aws.security_group_rules.get(config.cluster(eks).region, RULES_PER_GROUP)


def rules_issue(config: FleetView, index: int, n: int) -> Issue:
    eks = config.clusters[index]
    stated = eks.region in config.quotas.aws.security_group_rules
    held = (
        f"the stated quota of {rules_quota(config, eks.name)}" if stated else f"the default quota of {RULES_PER_GROUP}"
    )
    return Issue(
        format_path(("clusters", index, "region")),
        f"the cluster security group of {eks.name} needs {n} inbound rules (EKS's own, one per port range and source "
        "range of each linked peer, and those the AWS cloud provider adds for the mesh's east-west load balancer: "
        "per port and ICMP, one per egress address of each mesh peer when the gateway is public), over "
        f"{held} per security group ({VPC_QUOTAS}): link fewer clusters to it (multicluster:connectivity.mode), "
        "link it to every mesh peer (an internal gateway) or keep its mesh smaller (multicluster:mesh.scope "
        f"residency), or raise the quota ({SECURITY_GROUP_RULES_QUOTA}) and state it in "
        f"multicluster:quotas.aws.securityGroupRules.{eks.region}",
    )


def capacity_issues(config: FleetView, links: Sequence[Link], vpns: Sequence[Vpn]) -> list[Issue]:
    """What the fleet's links would put over a default quota, where, and the key that changes it."""
    c = count(config, links, vpns)
    index = {s.name: i for i, s in enumerate(config.clusters)}
    gateway_at, mode_at = format_path(("connectivity", "awsGateway")), format_path(("connectivity", "mode"))
    mode = config.connectivity.mode

    def cluster(name: str) -> str:
        return f"clusters[{index[name]}] ({name})"

    issues = [
        Issue(
            gateway_at,
            f"is virtual-private-gateway, which takes {VPN_PER_VGW} Site-to-Site VPN connections per gateway "
            f"({VPN_QUOTAS}), but {cluster(name)} needs {n} ({CONNECTIONS_PER_VPN} for each of its "
            f"{n // CONNECTIONS_PER_VPN} linked GKE clusters): set "
            "multicluster:connectivity.awsGateway to transit-gateway",
        )
        for name, n in c.vpn_per_vgw.items()
        if n > VPN_PER_VGW
    ]
    issues += [
        Issue(
            gateway_at,
            f"is virtual-private-gateway: {n} EKS clusters of {region} with HA VPN links need one each, over the "
            f"default quota of {VGW_PER_REGION} per region ({VPN_QUOTAS}): set multicluster:connectivity.awsGateway "
            "to transit-gateway",
        )
        for region, n in c.vgw_per_region.items()
        if n > VGW_PER_REGION
    ]
    issues += [
        Issue(
            mode_at,
            f"{mode} needs {n} Site-to-Site VPN connections and as many customer gateways in {region} "
            f"({CONNECTIONS_PER_VPN} per HA VPN), over the default quotas of {VPN_PER_REGION} and {CGW_PER_REGION} per "
            f"region ({VPN_QUOTAS}): link fewer GKE clusters to {region}",
        )
        for region, n in c.vpn_per_region.items()
        if n > min(VPN_PER_REGION, CGW_PER_REGION)
    ]
    issues += [
        Issue(
            mode_at,
            f"{mode} gives the transit gateway of {region} {n} route tables (one per linked cluster), over the "
            f"default quota of {TGW_ROUTE_TABLES} ({TGW_QUOTAS}): link fewer clusters through {region}",
        )
        for region, n in c.tgw_route_tables.items()
        if n > TGW_ROUTE_TABLES
    ]
    issues += [
        Issue(
            mode_at,
            f"{mode} gives {cluster(name)} {n} VPC peering connections (one per linked EKS cluster), over the default "
            f"quota of {PEERINGS_PER_VPC} active peerings per VPC ({VPC_QUOTAS}): link fewer EKS clusters to it "
            "(mode hub-spoke)",
        )
        for name, n in c.peerings_per_vpc.items()
        if n > PEERINGS_PER_VPC
    ]
    issues += [
        Issue(
            mode_at,
            f"{mode} gives each route table of {cluster(name)} {n} routes (its default route, one per linked EKS "
            f"cluster{', one per range of each linked GKE cluster' if config.connectivity.aws_gateway == TGW else ''}"
            f"), over the default quota of {ROUTES_PER_TABLE} non-propagated routes per route table ({VPC_QUOTAS}): "
            "link fewer clusters to it",
        )
        for name, n in c.routes_per_table.items()
        if n > ROUTES_PER_TABLE
    ]
    issues += [
        rules_issue(config, index[name], n) for name, n in c.rules_per_group.items() if n > rules_quota(config, name)
    ]
    issues += [
        Issue(
            mode_at,
            f"{mode} gives the HA VPN Cloud Router of {cluster(name)} {n} BGP peers ({TUNNELS} per HA VPN), over the "
            f"limit of {BGP_PEERS_PER_ROUTER} ({ROUTER_LIMITS}): link fewer EKS clusters (or AWS regions) to it",
        )
        for name, n in c.bgp_peers_per_router.items()
        if n > BGP_PEERS_PER_ROUTER
    ]
    issues += [
        Issue(
            mode_at,
            f"{mode} gives the network of {cluster(name)} {n} VPC Network Peering connections (one per linked GKE "
            f"cluster{', and GKE control plane' if config.cluster(name).network.master_cidr else ''}), over the quota "
            f"of {PEERINGS_PER_NETWORK} per network ({GCP_VPC_QUOTAS}): link fewer GKE clusters to it",
        )
        for name, n in c.peerings_per_network.items()
        if n > PEERINGS_PER_NETWORK
    ]
    return issues


# --- reachability of the API servers -------------------------------------------------------------------------


def reachability_issues(config: FleetView, connected: frozenset[frozenset[str]]) -> list[Issue]:
    """Every caller of a private-only EKS API server reaches it over a link.

    GKE API servers never need a link: every caller uses the DNS-based endpoint (components/gke.py), reachable
    wherever Google APIs are and IAM-checked. An EKS cluster with a public endpoint needs none either: outside its
    VPC the endpoint name resolves to public addresses, and the endpoint admits its callers' NAT addresses
    (components/eks.py). Without one the name resolves to the private endpoint's addresses everywhere, so each
    caller (api_clients) and Pulumi itself need a private link; the cluster security group admits them on 443
    over it (ingress_ports). The judge (offline_plan/judge/reachability.py) checks the same paths on the plan.
    """
    issues: list[Issue] = []
    for i, cluster in enumerate(config.clusters):
        if private_only(cluster):
            at = format_path(("clusters", i, "endpoint", "publicAccessCidrs"))
            issues += [Issue(at, message) for message in _unreachable_private_endpoint(config, cluster, connected)]
    return issues


def _unreachable_private_endpoint(
    config: FleetView, cluster: ClusterConfig, connected: frozenset[frozenset[str]]
) -> list[str]:
    messages: list[str] = []
    private = "is empty (private-only API server)"
    for client, why in sorted(api_clients(config, cluster.name).items()):
        if why != DEPLOYER and frozenset((cluster.name, client)) not in connected:
            messages.append(
                f"{private} but {client}, {why}, has no private link to {cluster.name}: link them in "
                f"multicluster:connectivity, or give {cluster.name} a public endpoint (publicAccessCidrs; it admits "
                "its callers' NAT addresses)"
            )
    deployer = config.deployer.network
    if deployer is None:
        messages.append(
            f"{private} but Pulumi runs outside the fleet's networks: set multicluster:deployer.network to "
            f"{cluster.name} or a cluster linked to it (a self-hosted runner in that network), or give "
            f"{cluster.name} a public endpoint"
        )
    elif deployer != cluster.name and frozenset((deployer, cluster.name)) not in connected:
        messages.append(
            f"{private} but Pulumi runs in the network of {deployer} (multicluster:deployer.network), which has no "
            f"private link to {cluster.name}: set multicluster:deployer.network to {cluster.name} or a cluster "
            "linked to it, or link them in multicluster:connectivity"
        )
    return messages


# --- the block's checks ----------------------------------------------------------------------------------


def check(config: FleetView) -> list[Issue]:
    """The hub rules (the plan needs its hubs): one for the fleet, or one per residency, a surviving cluster."""
    return _hub_issues(config)


def plan_check(config: FleetView, plan: PlannedFleet) -> list[Issue]:
    """Over the planned links and VPNs: reachability of private API servers, BGP numbers, inside ranges, names,
    quotas."""
    links, vpns = plan.network.links, plan.network.vpns
    return (
        reachability_issues(config, plan.network.connected)
        + asn_field_issues(config, vpns)
        + asn_issues(config, vpns)
        + inside_range_issues(vpns)
        + name_issues(config, links)
        + capacity_issues(config, links, vpns)
    )


def _hub_issues(config: FleetView) -> list[Issue]:
    """hub-spoke needs its hub (one for the fleet, or one per residency of a partitioned fleet, inside it); the
    other modes have none."""
    block = config.connectivity
    at = format_path(("connectivity", "hub"))
    hubs_at = format_path(("connectivity", "hubs"))
    if block.mode != "hub-spoke":
        given = [(at, block.hub), (hubs_at, block.hubs)]
        return [Issue(where, f"applies to mode hub-spoke only (mode is {block.mode})") for where, v in given if v]
    if block.hub is not None and block.hubs is not None:
        return [Issue(hubs_at, "and connectivity.hub are exclusive: one hub for the fleet, or one per residency")]
    if block.hubs is not None:
        return _residency_hub_issues(config, block.hubs)
    if block.hub is None:
        return [Issue(at, "is required when mode is hub-spoke (or hubs, one per residency)")]
    names = [cluster.name for cluster in config.clusters]
    if block.hub not in names:
        return [Issue(at, f"'{block.hub}' is not a cluster of the fleet (clusters: {', '.join(names)})")]
    return _lost_hub_issues(config, at, block.hub)


def _lost_hub_issues(config: FleetView, at: str, hub: str) -> list[Issue]:
    """A lost hub takes every spoke's link with it: the links must move to a surviving cluster first."""
    if hub not in config.outage.lost:
        return []
    return [Issue(at, f"'{hub}' is lost (multicluster:outage.lost): move the hub to a surviving cluster")]


def _residency_hub_issues(config: FleetView, hubs: dict[str, str]) -> list[Issue]:
    """One hub per residency that has clusters, a cluster of that residency."""
    if config.topology != "partitioned":
        return [Issue(format_path(("connectivity", "hubs")), "applies to topology partitioned only (use hub)")]
    issues: list[Issue] = []
    names = [cluster.name for cluster in config.clusters]
    for residency, hub in sorted(hubs.items()):
        at = format_path(("connectivity", "hubs", residency))
        if residency not in config.residencies:
            known = ", ".join(sorted(config.residencies))
            issues.append(Issue(at, f"'{residency}' is not a residency (residencies: {known})"))
        elif hub not in names:
            issues.append(Issue(at, f"'{hub}' is not a cluster of the fleet (clusters: {', '.join(names)})"))
        elif (home := config.cluster(hub).residency) != residency:
            issues.append(Issue(at, f"'{hub}' is in residency '{home}', not '{residency}': a hub links its own"))
        else:
            issues += _lost_hub_issues(config, at, hub)
    populated = sorted({c.residency for c in config.clusters if c.residency})
    missing = [r for r in populated if r not in hubs]
    if missing:
        issues.append(
            Issue(
                format_path(("connectivity", "hubs")),
                f"names no hub for residency {', '.join(repr(r) for r in missing)}: hub-spoke links every cluster "
                "to its residency's hub",
            )
        )
    return issues


# Declared by the `multicluster:connectivity` field of StackConfig: what validation and the fleet's needs call.
CONNECTIVITY_RULES = BlockRules(check, plan_check=plan_check)
