"""The paths a working fleet needs, from what the plan creates: who can reach which API server and webhook.

Checked over the plan of `pulumi up` (every address known):
  1. each GKE control plane reaches the admission webhooks of what runs on its nodes: GKE's own firewall rule
     lets the control-plane range reach the nodes on 443 and 10250 only (GKE private clusters: "Adding
     firewall rules for specific use cases"), so any other webhook port needs a rule of the program's;
  2. each API-server caller reaches the endpoint its credentials name, on the path DNS really gives it:
     Pulumi itself (its Kubernetes providers), the gitops hub (Argo CD cluster Secrets), mesh peers (Istio
     remote secrets, Linkerd credentials);
  3. each mesh peer reaches the east-west gateway of every cluster it discovers.
A missing path is a finding of kind "unreachable": the deploy may succeed, the fleet would not work.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from ..values import is_unknown
from . import Context, plan_check
from .aws import Index as AwsIndex
from .rules import Finding, Network, is_list, is_map, of_type, subnet_of, value_at

NETWORK = "the fleet's network"
GKE_FIREWALL_DOC = (
    "GKE: 'firewall rules restrict your cluster control plane to only initiate TCP connections to your nodes on "
    "ports 443 (HTTPS) and 10250 (kubelet)' (https://cloud.google.com/kubernetes-engine/docs/how-to/private-clusters"
    "#add_firewall_rules)"
)
EKS_ENDPOINT_DOC = (
    "Amazon EKS cluster endpoint access: with the public endpoint on, the endpoint name resolves to public "
    "addresses outside the cluster's VPC; with it off, to the private endpoint's addresses "
    "(https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html)"
)
GKE_ENDPOINT_DOC = (
    "GKE control plane access: the private endpoint of a VPC-peering cluster is not reachable through another "
    "VPC Network Peering (peering is not transitive); the DNS-based endpoint is reachable wherever Google APIs "
    "are (https://cloud.google.com/kubernetes-engine/docs/concepts/network-isolation)"
)
# Admission webhooks (target ports on the pods) of the charts the program installs.
WEBHOOK_PORTS: dict[str, tuple[tuple[int, str], ...]] = {
    "istiod": ((15017, "istiod sidecar injector and validation webhooks"),),
    "linkerd-control-plane": (
        (8443, "Linkerd proxy injector and service-profile validator"),
        (9443, "Linkerd policy validator"),
    ),
}
DEFAULT_OPEN = frozenset({443, 10250})


@dataclass
class Cluster:
    """A cluster of the plan as the network sees it."""

    name: str
    cloud: str
    component: str
    plane: Any
    network: str | None  # VPC id, or GCP project/network
    ranges: list[Network] = field(default_factory=list[Network])  # where its pods' traffic comes from
    egress: list[str] | None = None  # public addresses its traffic leaves with (None: not known before deploy)
    providers: set[str] = field(default_factory=set[str])


def _net(value: Any) -> Network | None:
    return _parsed_net(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=4096)
def _parsed_net(value: str) -> Network | None:
    # The same few hundred ranges are read for every caller and rule: parse each once.
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


NETWORK_PATH = re.compile(r"projects/([^/]+)/global/networks/([^/]+)$")


def gcp_network(value: Any) -> str | None:
    match = NETWORK_PATH.search(value) if isinstance(value, str) else None
    return f"{match.group(1)}/{match.group(2)}" if match else None


_FLEETS: dict[int, tuple[list[Any], int, Fleet]] = {}


def fleet_of(plan: Any) -> Fleet:
    """The fleet of a plan, built once for the three reachability checks (rebuilt if the plan changed)."""
    held = _FLEETS.get(id(plan))
    if held is None or held[0] is not plan.resources or held[1] != len(plan.resources):
        _FLEETS.clear()
        held = (plan.resources, len(plan.resources), Fleet(plan))
        _FLEETS[id(plan)] = held
    return held[2]


class Fleet:
    """The clusters, their networks and the private links between networks, from the plan's resources."""

    def __init__(self, plan: Any):
        self.plan = plan
        self.by_id = {r.id: r for r in plan.resources if r.custom and isinstance(r.id, str) and r.id}
        self.by_urn = {r.urn: r for r in plan.resources}
        self.self_links = {
            r.outputs["selfLink"]: r
            for r in of_type(plan, "gcp:compute/address:Address")
            if isinstance(r.outputs.get("selfLink"), str)
        }
        self.ingress_rules: dict[Any, list[Any]] = defaultdict(list)
        for rule in of_type(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
            self.ingress_rules[rule.inputs.get("securityGroupId")].append(rule)
        self.clusters = [c for c in (self._eks(r) for r in of_type(plan, "aws:eks/cluster:Cluster")) if c] + [
            c for c in (self._gke(r) for r in of_type(plan, "gcp:container/cluster:Cluster")) if c
        ]
        providers: dict[str | None, set[str]] = defaultdict(set)
        for r in plan.resources:
            if r.type.startswith("pulumi:providers:"):
                providers[r.parent].add(r.urn)
        self.holder: dict[str, Cluster] = {}
        for cluster in self.clusters:
            cluster.providers = providers.get(cluster.component, set())
            self.holder.update(dict.fromkeys(cluster.providers, cluster))
        self.aws = AwsIndex(plan)  # route tables of subnets, their routes
        self.links = self._links()
        self.servers = {url: cluster for cluster in self.clusters for url in server_of(cluster)}

    # --- clusters --------------------------------------------------------------------------------
    def _eks(self, plane: Any) -> Cluster | None:
        vpc_id = value_at(plane.outputs, "vpcConfig.vpcId")
        vpc = self.by_id.get(vpc_id) if isinstance(vpc_id, str) else None
        if plane.parent is None:
            return None
        ranges = [n for n in [_net(vpc.inputs.get("cidrBlock"))] if n] if vpc else []
        egress: list[str] = []
        for nat in of_type(self.plan, "aws:ec2/natGateway:NatGateway"):
            subnet = self.by_id.get(nat.inputs.get("subnetId"))
            if subnet is not None and subnet.inputs.get("vpcId") == vpc_id:
                eip = self.by_id.get(nat.inputs.get("allocationId"))
                address = eip.outputs.get("publicIp") if eip else None
                if isinstance(address, str):
                    egress.append(address)
        name = plane.parent.rsplit("::", 1)[-1]
        return Cluster(name, "aws", plane.parent, plane, vpc_id if isinstance(vpc_id, str) else None, ranges, egress)

    def _gke(self, plane: Any) -> Cluster | None:
        if plane.parent is None:
            return None
        network = gcp_network(plane.inputs.get("network"))
        ranges: list[Network] = []
        for subnet in of_type(self.plan, "gcp:compute/subnetwork:Subnetwork"):
            if gcp_network(subnet.inputs.get("network")) == network:
                ranges += [n for n in [_net(subnet.inputs.get("ipCidrRange"))] if n]
                secondary: list[dict[str, Any]] = subnet.inputs.get("secondaryIpRanges") or []
                ranges += [
                    n for r in secondary if r.get("rangeName") == "pods" for n in [_net(r.get("ipCidrRange"))] if n
                ]
        routers = {
            r.outputs.get("name")
            for r in of_type(self.plan, "gcp:compute/router:Router")
            if gcp_network(r.inputs.get("network")) == network
        }
        egress: list[str] | None = []
        for nat in of_type(self.plan, "gcp:compute/routerNat:RouterNat"):
            if nat.inputs.get("router") not in routers:
                continue
            if nat.inputs.get("natIpAllocateOption") != "MANUAL_ONLY":
                egress = None  # Cloud NAT allocates its addresses itself: not known before deploy
                break
            nat_ips: list[Any] = nat.inputs.get("natIps") or []
            for address in nat_ips:
                found = self.by_id.get(address) or self.self_links.get(address)
                value = found.outputs.get("address") if found else None
                if isinstance(value, str):
                    egress.append(value)
        return Cluster(plane.parent.rsplit("::", 1)[-1], "gcp", plane.parent, plane, network, ranges, egress)

    # --- private links between networks -------------------------------------------------------------
    def _links(self) -> dict[frozenset[str | None], str]:
        """Networks (VPC ids, GCP project/network; None where not known) -> the private link between them."""
        links: dict[frozenset[str | None], str] = {}
        accepted = {a.inputs.get("vpcPeeringConnectionId") for a in of_type(self.plan,
            "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")}  # fmt: skip
        for peering in of_type(self.plan, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"):
            if peering.id in accepted or peering.inputs.get("autoAccept") is True:
                links[frozenset((peering.inputs.get("vpcId"), peering.inputs.get("peerVpcId")))] = "aws-peering"
        directions: set[tuple[str | None, str | None]] = set()
        for peering in of_type(self.plan, "gcp:compute/networkPeering:NetworkPeering"):
            directions.add((gcp_network(peering.inputs.get("network")), gcp_network(peering.inputs.get("peerNetwork"))))
        for a, b in directions:
            if (b, a) in directions:
                links[frozenset((a, b))] = "gcp-peering"
        for gcp_side, vpc in self._vpn_links():
            links[frozenset((gcp_side, vpc))] = "ha-vpn"
        return links

    def _vpn_links(self) -> Iterator[tuple[str | None, Any]]:
        """(GCP network, VPC id) joined by an HA VPN: to a VPC's virtual private gateway, or to a transit gateway
        and each attached VPC the transit gateway routes to and from the VPN (TransitRouting)."""
        by_address: dict[Any, list[Any]] = defaultdict(list)
        for connection in of_type(self.plan, "aws:ec2/vpnConnection:VpnConnection"):
            for key in ("tunnel1Address", "tunnel2Address"):
                by_address[connection.outputs.get(key)].append(connection)
        transit = TransitRouting(self)
        for tunnel in of_type(self.plan, "gcp:compute/vPNTunnel:VPNTunnel"):
            gateway = self.by_id.get(tunnel.inputs.get("vpnGateway"))
            external = self.by_id.get(tunnel.inputs.get("peerExternalGateway"))
            if gateway is None or external is None:
                continue
            network = gcp_network(gateway.inputs.get("network"))
            interfaces: list[dict[str, Any]] = external.inputs.get("interfaces") or []
            addresses = {i.get("ipAddress") for i in interfaces}
            for connection in {c.urn: c for a in addresses for c in by_address.get(a, ())}.values():
                vgw = self.by_id.get(connection.inputs.get("vpnGatewayId"))
                if vgw is not None:
                    yield network, vgw.inputs.get("vpcId")
                for vpc in transit.vpcs_reached(connection, self.gke_ranges(network)):
                    yield network, vpc

    def gke_ranges(self, network: str | None) -> list[Network]:
        """What a GKE network's clusters send from and answer on: their node and pod ranges."""
        return [r for c in self.clusters if c.cloud == "gcp" and c.network == network for r in c.ranges]

    def link(self, a: Cluster, b: Cluster) -> str | None:
        if a.network is not None and a.network == b.network:
            return "same-network"
        return self.links.get(frozenset((a.network, b.network)))

    def cluster_of_provider(self, provider_urn: str | None) -> Cluster | None:
        return self.holder.get(provider_urn or "")


# AWS Transit Gateway Guide, "Transit gateway route tables": an attachment is associated with one route table,
# which routes it by the attachments propagated into it or by static routes
# (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-route-tables.html); "Amazon VPC attachments": a VPC sends to the
# transit gateway only what its subnets' route tables route there, and only from Availability Zones where the
# attachment has a subnet (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-vpc-attachments.html); CreateTransitGateway
# DefaultRouteTableAssociation/Propagation are "enable" unless set (EC2 API reference).


class TransitRouting:
    """The routes of the plan's transit gateways: which attachment reaches which (the AWS pages above).

    A VPN attachment and a VPC attachment reach each other when each is propagated into (or statically routed
    from) the route table the other is associated with, explicitly or through the gateway's default route table
    (CreateTransitGateway DefaultRouteTableAssociation/Propagation, enabled unless disabled), and when the VPC's
    subnets where its clusters run route the GKE ranges to the transit gateway from zones the attachment covers."""

    def __init__(self, fleet: Fleet):
        self.fleet = fleet
        plan = fleet.plan
        self.association: dict[Any, Any] = {}
        self.propagated: dict[Any, set[Any]] = defaultdict(set)
        for link in of_type(plan, "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation"):
            self.association[link.inputs.get("transitGatewayAttachmentId")] = link.inputs.get(
                "transitGatewayRouteTableId"
            )
        for link in of_type(plan, "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation"):
            self.propagated[link.inputs.get("transitGatewayRouteTableId")].add(
                link.inputs.get("transitGatewayAttachmentId")
            )
        for route in of_type(plan, "aws:ec2transitgateway/route:Route"):
            if route.inputs.get("blackhole") is not True:
                self.propagated[route.inputs.get("transitGatewayRouteTableId")].add(
                    route.inputs.get("transitGatewayAttachmentId")
                )
        self.attachments: dict[Any, list[Any]] = defaultdict(list)
        for attachment in of_type(plan, "aws:ec2transitgateway/vpcAttachment:VpcAttachment"):
            self.attachments[attachment.inputs.get("transitGatewayId")].append(attachment)
            self._defaults(attachment.inputs.get("transitGatewayId"), attachment.id, attachment.inputs)
        self.node_subnets: dict[Any, list[Any]] = defaultdict(list)  # cluster name -> its node groups' subnets
        for group in of_type(plan, "aws:eks/nodeGroup:NodeGroup"):
            self.node_subnets[group.inputs.get("clusterName")] += group.inputs.get("subnetIds") or []
        self.routed: dict[tuple[Any, ...], bool] = {}
        self.vpn_attachments: dict[str, str] = {}  # VPN connection URN -> its transit gateway attachment
        for connection in of_type(plan, "aws:ec2/vpnConnection:VpnConnection"):
            attachment_id = connection.outputs.get("transitGatewayAttachmentId")
            if _known(attachment_id):
                self.vpn_attachments[connection.urn] = attachment_id
                self._defaults(connection.inputs.get("transitGatewayId"), attachment_id, {})

    def _defaults(self, gateway_id: Any, attachment_id: Any, options: dict[str, Any]) -> None:
        """The gateway's default route tables take the attachment unless the gateway (or the attachment) opts out."""
        gateway = self.fleet.by_id.get(gateway_id) if isinstance(gateway_id, str) else None
        if gateway is None or not _known(attachment_id):
            return
        association = gateway.outputs.get("associationDefaultRouteTableId")
        if (
            gateway.inputs.get("defaultRouteTableAssociation", "enable") == "enable"
            and options.get("transitGatewayDefaultRouteTableAssociation") is not False
            and _known(association)
            and attachment_id not in self.association
        ):
            self.association[attachment_id] = association
        propagation = gateway.outputs.get("propagationDefaultRouteTableId")
        if (
            gateway.inputs.get("defaultRouteTablePropagation", "enable") == "enable"
            and options.get("transitGatewayDefaultRouteTablePropagation") is not False
            and _known(propagation)
        ):
            self.propagated[propagation].add(attachment_id)

    def routes_between(self, a: Any, b: Any) -> bool:
        return b in self.propagated.get(self.association.get(a), ()) and a in self.propagated.get(
            self.association.get(b), ()
        )

    def vpcs_reached(self, connection: Any, ranges: list[Network]) -> Iterator[Any]:
        gateway_id = connection.inputs.get("transitGatewayId")
        vpn_attachment = self.vpn_attachments.get(connection.urn)
        if not _known(gateway_id) or vpn_attachment is None:
            return
        for attachment in self.attachments.get(gateway_id, ()):
            if not self.routes_between(vpn_attachment, attachment.id):
                continue
            vpc = attachment.inputs.get("vpcId")
            if self._vpc_routes(vpc, gateway_id, attachment, ranges):
                yield vpc

    def _vpc_routes(self, vpc: Any, gateway_id: Any, attachment: Any, ranges: list[Network]) -> bool:
        key = (attachment.urn, *ranges)  # the same VPN network reaches an attachment through each of its tunnels
        if key not in self.routed:
            self.routed[key] = self._vpc_routes_once(vpc, gateway_id, attachment, ranges)
        return self.routed[key]

    def _vpc_routes_once(self, vpc: Any, gateway_id: Any, attachment: Any, ranges: list[Network]) -> bool:
        """Every subnet the VPC's clusters run in routes each GKE range to the gateway, from a zone the attachment
        has a subnet in."""
        fleet = self.fleet
        subnet_ids: list[Any] = attachment.inputs.get("subnetIds") or []
        covered = {_zone(fleet.by_id.get(s)) for s in subnet_ids}
        subnets = self._cluster_subnets(vpc)
        if not ranges or not subnets or None in covered:
            return False
        for subnet in subnets:
            if _zone(subnet) not in covered:
                return False
            routes = fleet.aws.routes_in(fleet.aws.route_table_of(subnet))
            to_gateway = [
                block
                for route in routes
                if route.get("transitGatewayId") == gateway_id
                for block in [_net(route.get("destinationCidrBlock"))]
                if block is not None
            ]
            if not all(any(subnet_of(r, b) for b in to_gateway if b.version == r.version) for r in ranges):
                return False
        return True

    def _cluster_subnets(self, vpc: Any) -> list[Any]:
        """The subnets of the VPC's EKS clusters: their control plane's and their node groups'."""
        fleet = self.fleet
        ids: list[Any] = []
        for cluster in fleet.clusters:
            if cluster.cloud == "aws" and cluster.network == vpc:
                ids += value_at(cluster.plane.inputs, "vpcConfig.subnetIds", []) or []
                ids += self.node_subnets.get(cluster.plane.outputs.get("name"), [])
        found = {s: fleet.by_id.get(s) for s in ids if isinstance(s, str)}
        return [] if None in found.values() else list(found.values())


def _known(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and not is_unknown(value)


def _zone(subnet: Any) -> str | None:
    if subnet is None:
        return None
    for value in (subnet.outputs.get("availabilityZoneId"), subnet.inputs.get("availabilityZoneId"),
                  subnet.outputs.get("availabilityZone"), subnet.inputs.get("availabilityZone")):  # fmt: skip
        if _known(value):
            return value
    return None


# --- 1. webhooks --------------------------------------------------------------------------------------


@plan_check
def gke_webhooks(plan: Any, context: Context) -> Iterator[Finding]:
    fleet = fleet_of(plan)
    for cluster in fleet.clusters:
        if (
            cluster.cloud != "gcp"
            or value_at(cluster.plane.inputs, "privateClusterConfig.enablePrivateNodes") is not True
        ):
            continue
        source = control_plane_range(cluster.plane)
        if source is None:
            continue
        needed = {
            port: why
            for release in of_type(plan, "kubernetes:helm.sh/v3:Release")
            if release.provider_urn in cluster.providers
            for port, why in WEBHOOK_PORTS.get(str(release.inputs.get("chart")), ())
        }
        opened = opened_ports(plan, cluster.network, source)
        for port, why in sorted(needed.items()):
            if port not in opened:
                yield Finding(
                    cluster.plane.urn,
                    NETWORK,
                    f"the GKE control plane of {cluster.name} ({source}) cannot reach the {why} on its nodes "
                    f"(tcp/{port}): no firewall rule opens it, and GKE's own rule opens only 443 and 10250",
                    GKE_FIREWALL_DOC,
                    kind="unreachable",
                )


def control_plane_range(plane: Any) -> Network | None:
    """Where a GKE control plane's traffic to the nodes comes from: the master CIDR (VPC peering), or the
    private endpoint's address (Private Service Connect; terraform-google-kubernetes-engine firewall.tf
    uses the same `cluster_endpoint_for_nodes`)."""
    master = value_at(plane.inputs, "privateClusterConfig.masterIpv4CidrBlock")
    if isinstance(master, str):
        return _net(master)
    endpoint = value_at(plane.outputs, "privateClusterConfig.privateEndpoint")
    return _net(f"{endpoint}/32") if isinstance(endpoint, str) and not is_unknown(endpoint) else None


def opened_ports(plan: Any, network: str | None, source: Network) -> set[int]:
    ports = set(DEFAULT_OPEN)
    for firewall in of_type(plan, "gcp:compute/firewall:Firewall"):
        if (
            gcp_network(firewall.inputs.get("network")) != network
            or firewall.inputs.get("direction", "INGRESS") != "INGRESS"
        ):
            continue
        source_ranges: list[Any] = firewall.inputs.get("sourceRanges") or []
        sources = [_net(s) for s in source_ranges]
        if not any(s is not None and subnet_of(source, s) for s in sources):
            continue
        allows: list[dict[str, Any]] = firewall.inputs.get("allows") or []
        for allow in allows:
            if allow.get("protocol") in ("tcp", "all"):
                ports |= _ports(allow.get("ports"))
    return ports


def _ports(values: Any) -> set[int]:
    if not values:
        return set(range(1, 65536))
    found: set[int] = set()
    for value in values:
        low, _, high = str(value).partition("-")
        found |= set(range(int(low), int(high or low) + 1))
    return found


# --- 2. API-server callers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who calls an API server: a cluster of the fleet, or Pulumi itself (the deployer)."""

    what: str
    cluster: Cluster | None  # None: the deployer, outside the fleet unless its config says where it runs
    uses_token: bool  # a Kubernetes service-account token (not a Google or AWS identity)


@plan_check
def api_callers(plan: Any, context: Context) -> Iterator[Finding]:
    fleet = fleet_of(plan)
    deployer = deployer_settings(plan)
    for resource in plan.resources:
        for caller, server in credentials(fleet, resource, deployer):
            target = fleet.servers.get(server)
            if target is None:
                continue
            problem = unreachable(fleet, caller, target, server, deployer)
            if problem:
                yield Finding(resource.urn, NETWORK, f"{caller.what} cannot reach {target.name}'s API server {server}: "
                              f"{problem}", EKS_ENDPOINT_DOC if target.cloud == "aws" else GKE_ENDPOINT_DOC,
                              kind="unreachable")  # fmt: skip


def deployer_settings(plan: Any) -> dict[str, Any]:
    """`multicluster:deployer`: where Pulumi runs ({network: <cluster>} or {egressCidrs: [...]})."""
    config: dict[str, Any] = plan.config or {}
    raw = config.get("multicluster:deployer")
    try:
        value: object = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        value = {}
    return value if is_map(value) else {}


def server_of(cluster: Cluster) -> set[str]:
    """Every URL a client may use for this cluster's API server."""
    plane = cluster.plane
    if cluster.cloud == "aws":
        endpoint = plane.outputs.get("endpoint")
        return {endpoint} if isinstance(endpoint, str) else set()
    found: set[str] = set()
    for key in ("privateClusterConfig.privateEndpoint", "privateClusterConfig.publicEndpoint", "endpoint"):
        value = value_at(plane.outputs, key)
        if isinstance(value, str) and value and not is_unknown(value):
            found.add(f"https://{value}")
    dns = value_at(plane.outputs, "controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint")
    if isinstance(dns, str) and not is_unknown(dns):
        found.add(f"https://{dns}")
    return found


def credentials(fleet: Fleet, resource: Any, deployer: dict[str, Any]) -> Iterator[tuple[Caller, str]]:
    """(caller, server URL) pairs a resource holds: a provider's kubeconfig, an Argo CD or mesh Secret."""
    if resource.type == "pulumi:providers:kubernetes":
        server = kubeconfig_server(resource.inputs.get("kubeconfig"))
        if server:
            home = next((c for c in fleet.clusters if c.name == deployer.get("network")), None)
            yield Caller("Pulumi (the deployer)", home, uses_token=False), server
        return
    if resource.type != "kubernetes:core/v1:Secret":
        return
    holder = fleet.cluster_of_provider(resource.provider_urn)
    if holder is None:
        return
    data: object = resource.inputs.get("stringData") or {}
    labels: object = value_at(resource.inputs, "metadata.labels") or {}
    if not is_map(data):
        return
    if is_map(labels) and labels.get("argocd.argoproj.io/secret-type") == "cluster":
        server = data.get("server")
        if isinstance(server, str):
            uses_token = "bearerToken" in str(data.get("config", ""))
            yield Caller(f"Argo CD on {holder.name}", holder, uses_token), server
        return
    if (is_map(labels) and labels.get("istio/multiCluster") == "true") or resource.inputs.get(
        "type"
    ) == "mirror.linkerd.io/remote-kubeconfig":
        for value in data.values():
            server = kubeconfig_server(value)
            if server:
                yield Caller(f"the mesh on {holder.name}", holder, uses_token=True), server


def kubeconfig_server(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        match = re.search(r"server:\s*(\S+)", text)
        return match.group(1) if match else None
    clusters = document.get("clusters") if is_map(document) else None
    if is_list(clusters) and clusters:
        server = value_at(clusters[0], "cluster.server")
        return server if isinstance(server, str) else None
    return None


def _admits(cidrs: Any, addresses: list[str]) -> bool:
    given: list[Any] = cidrs or []
    blocks = [b for b in (_net(c) for c in given) if b]
    return bool(addresses) and all(any(_address(a) in b for b in blocks) for a in addresses)


@functools.lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def unreachable(fleet: Fleet, caller: Caller, target: Cluster, server: str, deployer: dict[str, Any]) -> str | None:
    host = urlparse(server).hostname or ""
    if target.cloud == "aws":
        return _eks_path(fleet, caller, target, deployer)
    if host.endswith(".gke.goog"):
        config: dict[str, Any] = value_at(target.plane.inputs, "controlPlaneEndpointsConfig.dnsEndpointConfig") or {}
        if config.get("allowExternalTraffic") is not True:
            return "its DNS endpoint does not allow external traffic (allowExternalTraffic)"
        if caller.uses_token and config.get("enableK8sTokensViaDns") is not True:
            return "it presents a Kubernetes token, which the DNS endpoint refuses unless enableK8sTokensViaDns is on"
        return None
    public = value_at(target.plane.outputs, "privateClusterConfig.publicEndpoint")
    if host == public:
        allowed: list[Any] = value_at(target.plane.inputs, "masterAuthorizedNetworksConfig.cidrBlocks") or []
        return _public_path(caller, target, allowed, deployer, gke=True)
    return _gke_private_path(fleet, caller, target)


def _egress(caller: Caller, deployer: dict[str, Any]) -> list[str] | None:
    if caller.cluster is not None:
        return caller.cluster.egress
    cidrs = deployer.get("egressCidrs")
    if not is_list(cidrs) or not cidrs:
        return None
    return [str(block.network_address) for block in (_net(c) for c in cidrs) if block]


def _public_path(caller: Caller, target: Cluster, allowed: Any, deployer: dict[str, Any], gke: bool) -> str | None:
    cidrs = [b.get("cidrBlock") for b in allowed] if gke else allowed
    egress = _egress(caller, deployer)
    if caller.cluster is None and egress is None:
        # The deployer's address is the user's to admit (publicAccessCidrs / authorized networks): trusted.
        return None if cidrs else "its public endpoint admits no address"
    if egress is None:
        return (
            "the caller leaves its network through Cloud NAT addresses allocated at deploy time, which no allow "
            "list can name in advance"
        )
    if not _admits(cidrs, egress):
        shown = ", ".join(map(str, cidrs)) or "empty"
        return f"the caller's public addresses ({', '.join(egress) or 'none'}) are not in its allow list ({shown})"
    return None


def _eks_path(fleet: Fleet, caller: Caller, target: Cluster, deployer: dict[str, Any]) -> str | None:
    vpc_config: dict[str, Any] = target.plane.inputs.get("vpcConfig") or {}
    if caller.cluster is not None and caller.cluster.network == target.network:
        return None if vpc_config.get("endpointPrivateAccess", True) else "the private endpoint is off"
    if vpc_config.get("endpointPublicAccess", True):
        # Outside the VPC the name resolves to the public endpoint.
        return _public_path(caller, target, vpc_config.get("publicAccessCidrs") or ["0.0.0.0/0"], deployer, gke=False)
    if caller.cluster is None:
        return ("the endpoint is private only and Pulumi runs outside the fleet's networks "
                "(set multicluster:deployer.network to the cluster whose network the runner is in)")  # fmt: skip
    link = fleet.link(caller.cluster, target)
    if link is None:
        return f"the endpoint is private only and {caller.cluster.name} has no private link to {target.name}"
    if not _security_group_admits(fleet, target, caller.cluster.ranges, 443):
        return f"the cluster security group does not admit {caller.cluster.name}'s ranges on 443"
    return None


def _security_group_admits(fleet: Fleet, target: Cluster, ranges: list[Network], port: int) -> bool:
    group = value_at(target.plane.outputs, "vpcConfig.clusterSecurityGroupId")
    rules = fleet.ingress_rules.get(group, []) if isinstance(group, str) else []
    for source in ranges:
        if not any(
            (rule.inputs.get("fromPort") or 0) <= port <= (rule.inputs.get("toPort") or 65535)
            and (block := _net(rule.inputs.get("cidrIpv4"))) is not None
            and subnet_of(source, block)
            for rule in rules
        ):
            return False
    return True


def _gke_private_path(fleet: Fleet, caller: Caller, target: Cluster) -> str | None:
    if caller.cluster is None:
        return "the endpoint is private and Pulumi runs outside the fleet's networks"
    link = fleet.link(caller.cluster, target)
    if link == "same-network":
        return None
    peering_based = bool(value_at(target.plane.inputs, "privateClusterConfig.masterIpv4CidrBlock"))
    if link is None:
        return f"{caller.cluster.name} has no private link to {target.name}"
    if link == "gcp-peering" and peering_based:
        return "the private endpoint of a VPC-peering GKE cluster is not reachable through another network peering"
    if link == "ha-vpn" and peering_based and not _exports_control_plane(fleet, target):
        return "the control-plane range is not advertised over the VPN and exported to the GKE peering"
    authorized: list[dict[str, Any]] = value_at(target.plane.inputs, "masterAuthorizedNetworksConfig.cidrBlocks") or []
    blocks = [b for b in (_net(a.get("cidrBlock")) for a in authorized) if b]
    if not all(any(subnet_of(r, b) for b in blocks) for r in caller.cluster.ranges):
        return f"its authorized networks do not include {caller.cluster.name}'s ranges"
    return None


def _exports_control_plane(fleet: Fleet, target: Cluster) -> bool:
    master = value_at(target.plane.inputs, "privateClusterConfig.masterIpv4CidrBlock")
    advertised = any(
        master in _advertised_ranges(router)
        for router in of_type(fleet.plan, "gcp:compute/router:Router")
        if gcp_network(router.inputs.get("network")) == target.network
    )
    exported = any(
        r.inputs.get("exportCustomRoutes") is True
        and r.inputs.get("peering") == value_at(target.plane.outputs, "privateClusterConfig.peeringName")
        for r in of_type(fleet.plan, "gcp:compute/networkPeeringRoutesConfig:NetworkPeeringRoutesConfig")
    )
    return advertised and exported


def _advertised_ranges(router: Any) -> list[Any]:
    advertised: list[dict[str, Any]] = value_at(router.inputs, "bgp.advertisedIpRanges", []) or []
    return [a.get("range") for a in advertised]


# --- 3. east-west gateways ----------------------------------------------------------------------------

EAST_WEST_DOC = "Istio multi-network, Linkerd multicluster: a peer reaches the gateways of the clusters it discovers"
SOURCE_RANGES_DOC = (
    "Kubernetes ServiceSpec.loadBalancerSourceRanges: 'traffic through the cloud-provider load-balancer will be "
    "restricted to the specified client IPs' (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/"
    "service-v1/); the AWS provider opens the NodePorts to those CIDRs only (kubernetes/cloud-provider-aws "
    "updateInstanceSecurityGroupsForNLB), GKE admits only them in the load balancer's firewall rule "
    "(https://cloud.google.com/kubernetes-engine/docs/concepts/service-load-balancer-parameters)"
)


@plan_check
def east_west(plan: Any, context: Context) -> Iterator[Finding]:
    fleet = fleet_of(plan)
    gateways: dict[str, Any] = {}  # cluster name -> its east-west gateway Service
    for service in of_type(plan, "kubernetes:core/v1:Service"):
        labels: object = value_at(service.inputs, "metadata.labels") or {}
        name = value_at(service.inputs, "metadata.name")
        if is_map(labels) and ("topology.istio.io/network" in labels or name == "linkerd-gateway-lb"):
            owner = fleet.cluster_of_provider(service.provider_urn)
            if owner is not None:
                gateways[owner.name] = service
    pairs: set[tuple[str, str]] = set()
    for resource in plan.resources:
        for caller, server in credentials(fleet, resource, {}):
            target = fleet.servers.get(server)
            if caller.cluster is not None and target is not None and caller.uses_token and caller.cluster is not target:
                pairs.add((caller.cluster.name, target.name))
    clusters = {c.name: c for c in fleet.clusters}
    for local, remote in sorted(pairs):
        service = gateways.get(remote)
        if service is None:
            continue
        internal = is_internal(value_at(service.inputs, "metadata.annotations") or {})
        if internal and fleet.link(clusters[local], clusters[remote]) is None:
            yield Finding(
                service.urn,
                NETWORK,
                f"{local} discovers {remote} but cannot reach its internal east-west gateway (no private link)",
                EAST_WEST_DOC,
                kind="unreachable",
            )
            continue
        problem = _source_ranges_problem(service, clusters[local], internal)
        if problem:
            yield Finding(
                service.urn,
                NETWORK,
                f"{local} discovers {remote} but {remote}'s east-west gateway drops its traffic: {problem}",
                SOURCE_RANGES_DOC,
                kind="unreachable",
            )


def is_internal(annotations: dict[str, Any]) -> bool:
    """An internal load balancer: the AWS provider's `aws-load-balancer-internal` (any value but false), GKE's
    `load-balancer-type: Internal`."""
    return any(
        (key.endswith("internal") and str(value).lower() != "false")
        or (key.endswith("load-balancer-type") and value == "Internal")
        for key, value in annotations.items()
    )


def _source_ranges_problem(service: Any, peer: Cluster, internal: bool) -> str | None:
    """Whether a gateway's loadBalancerSourceRanges admit a peer: its node and pod ranges over a private link,
    its NAT addresses on a public gateway. Unknown ranges or addresses are not judged."""
    given = value_at(service.inputs, "spec.loadBalancerSourceRanges")
    if not is_list(given) or not given or any(is_unknown(v) for v in given):
        return None  # none: every source is admitted
    blocks = [b for b in (_net(v) for v in given) if b is not None]
    shown = ", ".join(map(str, given))
    if internal:
        missing = [str(r) for r in peer.ranges if not any(r.version == b.version and subnet_of(r, b) for b in blocks)]
        what = "ranges"
    elif peer.egress is None:
        return (
            f"{peer.name} leaves its network through Cloud NAT addresses allocated at deploy time, which its "
            f"loadBalancerSourceRanges ({shown}) cannot name"
        )
    else:
        missing = [a for a in peer.egress if not any(_address(a) in b for b in blocks)]
        what = "NAT addresses"
    if not missing:
        return None
    return f"its loadBalancerSourceRanges ({shown}) do not admit {peer.name}'s {what} {', '.join(missing)}"
