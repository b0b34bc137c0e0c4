"""Cross-cluster connectivity: links per pair of clouds, topology, stable numbering, outputs, validation."""

from __future__ import annotations

import ipaddress
from itertools import combinations

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import connectivity as conn
from components.config import ConfigError, parse_stack_config
from components.config.loader import namespace_settings
from components.plan import Plan
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config, settings_of

AWS = "aws:ec2"
PEERING = f"{AWS}/vpcPeeringConnection:VpcPeeringConnection"
ACCEPTER = f"{AWS}/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
PEERING_OPTIONS = f"{AWS}/peeringConnectionOptions:PeeringConnectionOptions"
ROUTE = f"{AWS}/route:Route"
SG_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VGW = f"{AWS}/vpnGateway:VpnGateway"
PROPAGATION = f"{AWS}/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation"
CGW = f"{AWS}/customerGateway:CustomerGateway"
VPN = f"{AWS}/vpnConnection:VpnConnection"
GCP = "gcp:compute"
NETWORK_PEERING = f"{GCP}/networkPeering:NetworkPeering"
FIREWALL = f"{GCP}/firewall:Firewall"
HA_GATEWAY = f"{GCP}/haVpnGateway:HaVpnGateway"
ROUTER = f"{GCP}/router:Router"
EXTERNAL_GATEWAY = f"{GCP}/externalVpnGateway:ExternalVpnGateway"
TUNNEL = f"{GCP}/vPNTunnel:VPNTunnel"
ROUTER_INTERFACE = f"{GCP}/routerInterface:RouterInterface"
BGP_PEER = f"{GCP}/routerPeer:RouterPeer"
ROUTES_CONFIG = f"{GCP}/networkPeeringRoutesConfig:NetworkPeeringRoutesConfig"
PSK = "random:index/randomPassword:RandomPassword"
MESH_PORT_NUMBERS = {15443, 15012, 15017, 15021, 4143, 4191}

BASE = [
    aws_cluster("aws-use1", "us-east-1", 1),
    aws_cluster("aws-usw2", "us-west-2", 2, role="standby"),
    gcp_cluster("gcp-usc1", "us-central1", 3, role="standby"),
]
ADDED = gcp_cluster("gcp-euw1", "europe-west1", 4, role="standby")


@pytest.fixture(scope="module")
def base() -> Plan:
    return plan_config(fleet(*BASE, connectivity={"mode": "full-mesh"}))


@pytest.fixture(scope="module")
def grown() -> Plan:
    """The base fleet plus one GCP cluster: every kind of link exists."""
    return plan_config(fleet(*BASE, ADDED, connectivity={"mode": "full-mesh"}))


# --- helpers ----------------------------------------------------------------------------------


def link_children(plan: Plan, link: str, type_: str):
    component = next(r for r in plan.resources if r.name == link and r.type.startswith("multicluster:connectivity:"))
    return sorted(plan.children(component, type_), key=lambda r: r.name)


def provider_of(plan: Plan, cluster: str, cloud: str) -> str:
    return plan.named(f"{cluster}-{cloud}", f"pulumi:providers:{cloud}").urn


def vpc_id(plan: Plan, cluster: str) -> str:
    return plan.named(f"{cluster}-vpc", f"{AWS}/vpc:Vpc").id


def route_table_ids(plan: Plan, cluster: str) -> set[str]:
    tables = plan.children(plan.component(cluster), f"{AWS}/routeTable:RouteTable")
    return {t.id for t in tables}


def cluster_security_group(plan: Plan, cluster: str) -> str:
    return plan.named(f"{cluster}-eks", "aws:eks/cluster:Cluster").output("vpcConfig.clusterSecurityGroupId")


def self_link(plan: Plan, cluster: str) -> str:
    return plan.named(f"{cluster}-network", f"{GCP}/network:Network").output("selfLink")


def rules(plan: Plan, link: str) -> set[tuple[str, str, int]]:
    return {
        (r.input("securityGroupId"), r.input("cidrIpv4"), r.input("fromPort"))
        for r in link_children(plan, link, SG_RULE)
        if r.input("fromPort") == r.input("toPort") and r.input("ipProtocol") == "tcp"
    }


# --- AWS <-> AWS --------------------------------------------------------------------------------


def test_aws_peering_requests_from_the_first_cluster_and_accepts_in_the_peer_region(grown):
    link = "aws-use1--aws-usw2"
    (peering,) = link_children(grown, link, PEERING)
    (accepter,) = link_children(grown, link, ACCEPTER)
    assert peering.provider_urn == provider_of(grown, "aws-use1", "aws")
    assert peering.input("vpcId") == vpc_id(grown, "aws-use1")
    assert peering.input("peerVpcId") == vpc_id(grown, "aws-usw2")
    assert peering.input("peerRegion") == "us-west-2"
    assert peering.input("autoAccept") is False
    assert accepter.provider_urn == provider_of(grown, "aws-usw2", "aws")
    assert accepter.input("vpcPeeringConnectionId") == peering.id
    assert accepter.input("autoAccept") is True


def test_aws_peering_allows_dns_resolution_from_each_side_once_accepted(grown):
    link = "aws-use1--aws-usw2"
    (accepter,) = link_children(grown, link, ACCEPTER)
    options = {r.name: r for r in link_children(grown, link, PEERING_OPTIONS)}
    requester_side, accepter_side = options[f"{link}-requester-dns"], options[f"{link}-accepter-dns"]
    assert requester_side.input("requester.allowRemoteVpcDnsResolution") is True
    assert requester_side.provider_urn == provider_of(grown, "aws-use1", "aws")
    assert accepter_side.input("accepter.allowRemoteVpcDnsResolution") is True
    assert accepter_side.provider_urn == provider_of(grown, "aws-usw2", "aws")
    assert all(accepter.urn in r.dependencies for r in options.values())


def test_aws_peering_routes_the_peer_cidr_from_every_route_table_after_acceptance(grown):
    link = "aws-use1--aws-usw2"
    (peering,) = link_children(grown, link, PEERING)
    (accepter,) = link_children(grown, link, ACCEPTER)
    routes = link_children(grown, link, ROUTE)
    for cluster, peer_cidr in (("aws-use1", "10.2.0.0/16"), ("aws-usw2", "10.1.0.0/16")):
        mine = [r for r in routes if r.provider_urn == provider_of(grown, cluster, "aws")]
        assert {r.input("routeTableId") for r in mine} == route_table_ids(grown, cluster)
        assert {r.input("destinationCidrBlock") for r in mine} == {peer_cidr}
        assert {r.input("vpcPeeringConnectionId") for r in mine} == {peering.id}
        assert all(accepter.urn in r.dependencies for r in mine)
    assert len(routes) == len(route_table_ids(grown, "aws-use1")) + len(route_table_ids(grown, "aws-usw2"))


def test_aws_peering_opens_only_the_mesh_ports_to_the_peer_cidr(grown):
    use1, usw2 = cluster_security_group(grown, "aws-use1"), cluster_security_group(grown, "aws-usw2")
    expected = {(use1, "10.2.0.0/16", p) for p in MESH_PORT_NUMBERS} | {
        (usw2, "10.1.0.0/16", p) for p in MESH_PORT_NUMBERS
    }
    assert rules(grown, "aws-use1--aws-usw2") == expected
    assert len(link_children(grown, "aws-use1--aws-usw2", SG_RULE)) == len(expected)


GITOPS = {
    "hub": "aws-use1",
    "chartVersion": "10.1.1",
    "repoUrl": "https://github.com/acme/apps",
    "revision": "main",
    "applications": [],
}


def test_without_a_mesh_the_gitops_hub_alone_reaches_the_api_server_of_its_peers():
    plan = plan_config(fleet(*BASE, connectivity={"mode": "full-mesh"}, gitops=GITOPS))
    use1, usw2 = cluster_security_group(plan, "aws-use1"), cluster_security_group(plan, "aws-usw2")
    api = {rule for link in plan.outputs["connectivity"]["links"] for rule in rules(plan, link) if rule[2] == 443}
    assert api == {(usw2, "10.1.0.0/16", 443)}
    assert use1 not in {rule[0] for rule in api}
    # GKE's API server is not behind VPC firewalls: nothing to open there.
    (firewall,) = link_children(plan, VPN_LINK, FIREWALL)
    assert "443" not in firewall.input("allows.0.ports")


def test_api_clients_are_the_gitops_hub_and_mesh_peers():
    plain = parse_stack_config(namespace_settings(settings_of(fleet(*BASE)))[0], "acme-test")
    assert conn.api_clients(plain, "aws-usw2") == set()
    with_hub = parse_stack_config(namespace_settings(settings_of(fleet(*BASE, gitops=GITOPS)))[0], "acme-test")
    assert conn.api_clients(with_hub, "aws-usw2") == {"aws-use1"}
    assert conn.api_clients(with_hub, "aws-use1") == set()
    meshed = fleet(*BASE, mesh={"provider": "istio", "version": "1.30.3", "meshId": "m"})
    config = parse_stack_config(namespace_settings(settings_of(meshed))[0], "acme-test")
    assert conn.api_clients(config, "aws-usw2") == {"aws-use1", "gcp-usc1"}
    assert conn.ingress_ports("aws-usw2", {"aws-usw2"})[-1] == conn.KUBERNETES_API
    assert conn.KUBERNETES_API not in conn.ingress_ports("gcp-usc1", {"aws-usw2"})


def test_mesh_peers_reach_each_others_api_servers():
    """istiod (and Linkerd's service mirror) watch remote API servers: peers of one mesh get 443."""
    plan = plan_config(
        fleet(*BASE, connectivity={"mode": "full-mesh"}, mesh={"provider": "istio", "version": "1.30.3", "meshId": "m"})
    )
    use1, usw2 = cluster_security_group(plan, "aws-use1"), cluster_security_group(plan, "aws-usw2")
    api = {rule for rule in rules(plan, "aws-use1--aws-usw2") if rule[2] == 443}
    assert api == {(use1, "10.2.0.0/16", 443), (usw2, "10.1.0.0/16", 443)}


# --- GCP <-> GCP --------------------------------------------------------------------------------


def test_gcp_peering_has_one_peering_per_direction_exchanging_custom_routes(grown):
    link = "gcp-euw1--gcp-usc1"
    peerings = {r.name: r for r in link_children(grown, link, NETWORK_PEERING)}
    assert set(peerings) == {f"{link}-gcp-euw1", f"{link}-gcp-usc1"}
    for side, peer in (("gcp-euw1", "gcp-usc1"), ("gcp-usc1", "gcp-euw1")):
        peering = peerings[f"{link}-{side}"]
        assert peering.provider_urn == provider_of(grown, side, "gcp")
        assert peering.input("network") == self_link(grown, side)
        assert peering.input("peerNetwork") == self_link(grown, peer)
        assert peering.input("exportCustomRoutes") is True
        assert peering.input("importCustomRoutes") is True
    # One peering operation at a time across peered networks, GKE's own control-plane peering included:
    # the first waits for both clusters, the second for the first.
    first, second = peerings[f"{link}-gcp-euw1"], peerings[f"{link}-gcp-usc1"]
    assert {plan_named_cluster(grown, c).urn for c in ("gcp-euw1", "gcp-usc1")} <= set(first.dependencies)
    assert first.urn in second.dependencies


def plan_named_cluster(plan: Plan, cluster: str):
    return plan.named(f"{cluster}-gke", "gcp:container/cluster:Cluster")


def test_gcp_firewalls_admit_the_peer_nodes_and_pods_on_the_mesh_ports(grown):
    firewalls = {r.input("network"): r for r in link_children(grown, "gcp-euw1--gcp-usc1", FIREWALL)}
    assert set(firewalls) == {self_link(grown, "gcp-euw1"), self_link(grown, "gcp-usc1")}
    usc1 = firewalls[self_link(grown, "gcp-usc1")]
    assert usc1.input("direction") == "INGRESS"
    assert sorted(usc1.input("sourceRanges")) == ["10.104.0.0/16", "10.4.0.0/16"]
    assert usc1.input("allows") == [{"protocol": "tcp", "ports": [str(p.port) for p in conn.MESH_PORTS]}]
    assert {p.port for p in conn.MESH_PORTS} == MESH_PORT_NUMBERS
    assert usc1.provider_urn == provider_of(grown, "gcp-usc1", "gcp")


# --- AWS <-> GCP --------------------------------------------------------------------------------

VPN_LINK = "aws-use1--gcp-usc1"


def test_ha_vpn_gcp_side_uses_a_private_asn_in_the_gcp_network(grown):
    asns = grown.outputs["connectivity"]["asns"]
    (gateway,) = link_children(grown, VPN_LINK, HA_GATEWAY)
    (router,) = link_children(grown, VPN_LINK, ROUTER)
    (external,) = link_children(grown, VPN_LINK, EXTERNAL_GATEWAY)
    gcp_provider = provider_of(grown, "gcp-usc1", "gcp")
    assert {gateway.provider_urn, router.provider_urn, external.provider_urn} == {gcp_provider}
    assert gateway.input("network") == router.input("network") == self_link(grown, "gcp-usc1")
    assert gateway.input("region") == router.input("region") == "us-central1"
    assert router.input("bgp.asn") == asns["gcp-usc1"]
    assert external.input("redundancyType") == "FOUR_IPS_REDUNDANCY"


def test_ha_vpn_aws_side_has_two_customer_gateways_and_a_vgw_attached_to_the_vpc(grown):
    asns = grown.outputs["connectivity"]["asns"]
    (gateway,) = link_children(grown, VPN_LINK, HA_GATEWAY)
    customer_gateways = link_children(grown, VPN_LINK, CGW)
    assert [c.input("ipAddress") for c in customer_gateways] == [
        i["ipAddress"] for i in gateway.output("vpnInterfaces")
    ]
    assert {c.input("bgpAsn") for c in customer_gateways} == {str(int(asns["gcp-usc1"]))}
    assert {c.provider_urn for c in customer_gateways} == {provider_of(grown, "aws-use1", "aws")}
    (vgw,) = link_children(grown, "aws-use1-vgw", VGW)
    assert vgw.input("vpcId") == vpc_id(grown, "aws-use1")
    assert vgw.input("amazonSideAsn") == str(int(asns["aws-use1"]))
    assert asns["aws-use1"] != asns["gcp-usc1"]
    propagations = link_children(grown, "aws-use1-vgw", PROPAGATION)
    assert {p.input("routeTableId") for p in propagations} == route_table_ids(grown, "aws-use1")
    assert {p.input("vpnGatewayId") for p in propagations} == {vgw.id}


def test_ha_vpn_connections_use_bgp_and_secret_keys(grown):
    (vgw,) = link_children(grown, "aws-use1-vgw", VGW)
    connections = link_children(grown, VPN_LINK, VPN)
    customer_gateways = link_children(grown, VPN_LINK, CGW)
    assert [c.input("customerGatewayId") for c in connections] == [g.id for g in customer_gateways]
    for connection in connections:
        assert connection.input("vpnGatewayId") == vgw.id
        assert connection.input("staticRoutesOnly") is False
        assert connection.input("type") == "ipsec.1"
        assert {"tunnel1PresharedKey", "tunnel2PresharedKey"} <= set(connection.secret_inputs)
        assert connection.provider_urn == provider_of(grown, "aws-use1", "aws")


def test_ha_vpn_has_four_tunnels_matching_the_aws_tunnels(grown):
    connections = link_children(grown, VPN_LINK, VPN)
    (external,) = link_children(grown, VPN_LINK, EXTERNAL_GATEWAY)
    (gateway,) = link_children(grown, VPN_LINK, HA_GATEWAY)
    tunnels = link_children(grown, VPN_LINK, TUNNEL)
    aws_tunnels = [(c, n) for c in connections for n in (1, 2)]
    assert [i["ipAddress"] for i in external.input("interfaces")] == [
        c.output(f"tunnel{n}Address") for c, n in aws_tunnels
    ]
    assert [t.input("vpnGatewayInterface") for t in tunnels] == [0, 0, 1, 1]
    assert [t.input("peerExternalGatewayInterface") for t in tunnels] == [0, 1, 2, 3]
    assert [t.input("sharedSecret") for t in tunnels] == [c.input(f"tunnel{n}PresharedKey") for c, n in aws_tunnels]
    assert len({t.input("sharedSecret") for t in tunnels}) == 4
    for tunnel in tunnels:
        assert tunnel.input("vpnGateway") == gateway.id
        assert tunnel.input("peerExternalGateway") == external.id
        assert tunnel.input("ikeVersion") == 2
        assert "sharedSecret" in tunnel.secret_inputs


def test_ha_vpn_bgp_sessions_use_the_aws_inside_addresses(grown):
    asns = grown.outputs["connectivity"]["asns"]
    connections = link_children(grown, VPN_LINK, VPN)
    interfaces = link_children(grown, VPN_LINK, ROUTER_INTERFACE)
    peers = link_children(grown, VPN_LINK, BGP_PEER)
    aws_tunnels = [(c, n) for c in connections for n in (1, 2)]
    assert [i.input("ipRange") for i in interfaces] == [
        f"{c.output(f'tunnel{n}CgwInsideAddress')}/30" for c, n in aws_tunnels
    ]
    assert [p.input("peerIpAddress") for p in peers] == [c.output(f"tunnel{n}VgwInsideAddress") for c, n in aws_tunnels]
    assert [p.input("interface") for p in peers] == [i.output("name") for i in interfaces]
    assert {p.input("peerAsn") for p in peers} == {asns["aws-use1"]}


def test_ha_vpn_router_advertises_every_subnet_and_the_gke_control_plane_range(grown):
    """Default mode leaves out peering routes, so the master /28 (in Google's peered network) needs a custom range."""
    for link, gke, master in (
        (VPN_LINK, "gcp-usc1", "192.168.3.0/28"),
        ("aws-usw2--gcp-euw1", "gcp-euw1", "192.168.4.0/28"),
    ):
        (router,) = link_children(grown, link, ROUTER)
        assert router.input("bgp.advertiseMode") == "CUSTOM"
        # ALL_SUBNETS: primary and secondary ranges, so GKE pods and services stay reachable from AWS.
        assert router.input("bgp.advertisedGroups") == ["ALL_SUBNETS"]
        assert router.input("bgp.advertisedIpRanges") == [
            {"range": master, "description": f"GKE control plane of {gke}"}
        ]


def test_each_gke_cluster_with_vpn_links_exports_custom_routes_to_its_control_plane_peering_once(grown):
    root = grown.component("connectivity")
    configs = {r.name: r for r in grown.of_type(ROUTES_CONFIG)}
    # gcp-usc1 and gcp-euw1 have two VPN links each, and one routes config each, named from the cluster.
    assert set(configs) == {"gcp-usc1-control-plane-routes", "gcp-euw1-control-plane-routes"}
    for cluster in ("gcp-usc1", "gcp-euw1"):
        routes = configs[f"{cluster}-control-plane-routes"]
        gke = plan_named_cluster(grown, cluster)
        assert routes.parent == root.urn
        assert routes.provider_urn == provider_of(grown, cluster, "gcp")
        assert routes.input("peering") == gke.output("privateClusterConfig.peeringName")
        assert routes.input("network") == grown.named(f"{cluster}-network", f"{GCP}/network:Network").output("name")
        assert routes.input("exportCustomRoutes") is True
        assert routes.input("importCustomRoutes") is False
        assert gke.urn in routes.dependencies
    assert grown.outputs["connectivity"]["controlPlanePeerings"] == {
        c: plan_named_cluster(grown, c).output("privateClusterConfig.peeringName") for c in ("gcp-usc1", "gcp-euw1")
    }


def test_control_plane_route_exports_take_their_turn_among_peering_operations(grown):
    """Updating GKE's peering is a peering operation: it waits for earlier operations on the same network only."""
    usc1 = grown.named("gcp-usc1-control-plane-routes", ROUTES_CONFIG)
    euw1 = grown.named("gcp-euw1-control-plane-routes", ROUTES_CONFIG)
    first_direction = grown.named("gcp-euw1--gcp-usc1-gcp-euw1", NETWORK_PEERING)
    assert usc1.urn not in euw1.dependencies  # different networks: in parallel
    assert {euw1.urn, usc1.urn} <= set(first_direction.dependencies)  # the peering touches both networks


def test_peering_operations_are_chained_per_network_not_fleet_wide():
    """Four GCP clusters, full mesh: a--b and c--d touch disjoint networks and must not wait for each other."""
    clusters = [
        gcp_cluster(f"gcp-{x}", "us-central1", i + 10, role="primary" if i == 0 else "standby")
        for i, x in enumerate("abcd")
    ]
    plan = plan_config(fleet(*clusters, connectivity={"mode": "full-mesh"}))

    def operations(link: str) -> list:
        return sorted(link_children(plan, link, NETWORK_PEERING), key=lambda r: r.name)

    ab, cd = operations("gcp-a--gcp-b"), operations("gcp-c--gcp-d")
    assert not {r.urn for r in ab} & {d for r in cd for d in r.dependencies}
    assert not {r.urn for r in cd} & {d for r in ab for d in r.dependencies}
    # b--c shares network b with a--b and network c with a--c: it waits for the last of each.
    bc_first = next(r for r in operations("gcp-b--gcp-c") if any(d.endswith("-gke") for d in r.dependencies))
    assert {r.urn for r in operations("gcp-a--gcp-c")} & set(bc_first.dependencies)


def test_gke_clusters_without_vpn_links_keep_their_control_plane_peering_untouched():
    """Peering is non-transitive: exporting routes to GKE's peering cannot help a peered GCP network."""
    primary = gcp_cluster("gcp-usc1", "us-central1", 3)
    plan = plan_config(fleet(primary, ADDED, connectivity={"mode": "full-mesh"}))
    assert plan.of_type(NETWORK_PEERING)
    assert not plan.of_type(ROUTES_CONFIG)
    assert plan.outputs["connectivity"]["controlPlanePeerings"] == {}


def test_tunnel_inside_ranges_are_distinct_link_local_30s_across_the_fleet(grown):
    ranges = [c.input(f"tunnel{n}InsideCidr") for c in grown.of_type(VPN) for n in (1, 2)]
    assert len(ranges) == 16 and len(set(ranges)) == 16
    reserved = [ipaddress.ip_network(f"169.254.{i}.0/30") for i in range(6)] + [
        ipaddress.ip_network("169.254.169.252/30")
    ]
    for cidr in map(ipaddress.ip_network, ranges):
        assert cidr.prefixlen == 30 and cidr.subnet_of(ipaddress.ip_network("169.254.0.0/16"))
        assert not any(cidr.overlaps(r) for r in reserved)


def test_ha_vpn_security_rules_admit_gke_nodes_and_pods(grown):
    sg = cluster_security_group(grown, "aws-use1")
    expected = {(sg, cidr, p) for cidr in ("10.3.0.0/16", "10.103.0.0/16") for p in MESH_PORT_NUMBERS}
    assert rules(grown, VPN_LINK) == expected
    (firewall,) = link_children(grown, VPN_LINK, FIREWALL)
    assert firewall.input("network") == self_link(grown, "gcp-usc1")
    assert firewall.input("sourceRanges") == ["10.1.0.0/16"]


def test_every_connectivity_resource_uses_an_explicit_provider(grown):
    root = grown.component("connectivity")
    custom = [r for r in grown.children(root) if r.custom and not r.type.startswith("pulumi:providers:")]
    assert custom
    for resource in custom:
        assert resource.provider and "::default" not in resource.provider, resource.name
    psk_provider = grown.named("connectivity-random", "pulumi:providers:random").urn
    assert {r.provider_urn for r in grown.of_type(PSK)} == {psk_provider}


# --- topology -----------------------------------------------------------------------------------


def aws_fleet(count: int) -> list[dict]:
    regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"]
    return [aws_cluster(f"aws-{i}", regions[i], i + 1, role="primary" if i == 0 else "standby") for i in range(count)]


@pytest.mark.parametrize(
    ("count", "mode", "expected"),
    [
        (2, "full-mesh", {"aws-0--aws-1"}),
        (3, "full-mesh", {"aws-0--aws-1", "aws-0--aws-2", "aws-1--aws-2"}),
        (5, "full-mesh", {f"aws-{i}--aws-{j}" for i, j in combinations(range(5), 2)}),
        (2, "hub-spoke", {"aws-0--aws-1"}),
        (3, "hub-spoke", {"aws-1--aws-2", "aws-0--aws-1"}),
        (5, "hub-spoke", {"aws-0--aws-1", "aws-1--aws-2", "aws-1--aws-3", "aws-1--aws-4"}),
    ],
)
def test_links_of_each_topology(count, mode, expected):
    block = {"mode": mode, "hub": "aws-1"} if mode == "hub-spoke" else {"mode": mode}
    plan = plan_config(fleet(*aws_fleet(count), connectivity=block))
    assert {r.name for r in plan.of_type(conn.AwsPeering.TYPE)} == expected
    assert (
        len(plan.of_type(PEERING)) == len(expected) == (count * (count - 1) // 2 if mode == "full-mesh" else count - 1)
    )
    assert set(plan.outputs["connectivity"]["links"]) == expected


def test_mode_none_creates_nothing():
    plan = plan_config(fleet(*BASE[:2]))
    assert not [r for r in plan.resources if r.type.startswith("multicluster:connectivity:")]
    assert not plan.of_type(PEERING)
    assert "connectivity" not in plan.outputs


def test_adding_a_cluster_keeps_every_existing_resource_and_input(base, grown):
    before, after = {r.urn: r for r in base}, {r.urn: r for r in grown}
    assert set(before) <= set(after)
    for urn, resource in before.items():
        assert after[urn].inputs == resource.inputs, urn
        assert after[urn].provider == resource.provider, urn
        assert after[urn].dependencies == resource.dependencies, urn
    new_links = {r.name for r in grown.resources if r.type.startswith("multicluster:connectivity:")} - {
        r.name for r in base.resources if r.type.startswith("multicluster:connectivity:")
    }
    assert new_links == {"aws-use1--gcp-euw1", "aws-usw2--gcp-euw1", "gcp-euw1--gcp-usc1"}


# --- outputs --------------------------------------------------------------------------------------


def test_outputs_give_each_link_its_kind_and_state_ids(grown):
    out = grown.outputs["connectivity"]
    assert out["mode"] == "full-mesh"
    kinds = {name: link["kind"] for name, link in out["links"].items()}
    assert kinds == {
        "aws-use1--aws-usw2": "aws-peering",
        "aws-use1--gcp-usc1": "ha-vpn",
        "aws-usw2--gcp-usc1": "ha-vpn",
        "aws-use1--gcp-euw1": "ha-vpn",
        "aws-usw2--gcp-euw1": "ha-vpn",
        "gcp-euw1--gcp-usc1": "gcp-peering",
    }
    (peering,) = link_children(grown, "aws-use1--aws-usw2", PEERING)
    assert out["links"]["aws-use1--aws-usw2"]["peeringConnectionId"] == peering.id
    assert out["links"]["aws-use1--aws-usw2"]["acceptStatus"] == "active"
    vpn = out["links"][VPN_LINK]
    assert vpn["vpnConnectionIds"] == [c.id for c in link_children(grown, VPN_LINK, VPN)]
    assert vpn["tunnels"] == [t.output("selfLink") for t in link_children(grown, VPN_LINK, TUNNEL)]
    assert out["matrix"]["gcp-usc1"] == {"aws-use1": "ha-vpn", "aws-usw2": "ha-vpn", "gcp-euw1": "gcp-peering"}
    assert set(out["asns"]) == {"aws-use1", "aws-usw2", "gcp-usc1", "gcp-euw1"}


def test_hub_spoke_matrix_says_spokes_do_not_reach_each_other():
    config = parse_stack_config(
        namespace_settings(settings_of(fleet(*aws_fleet(3), connectivity={"mode": "hub-spoke", "hub": "aws-0"})))[0]
    )
    assert [(a.name, b.name) for a, b in conn.planned_pairs(config)] == [("aws-0", "aws-1"), ("aws-0", "aws-2")]


# --- stable numbering -------------------------------------------------------------------------

names = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True), unique=True, max_size=40)


@given(names, names)
def test_asns_are_private_distinct_and_never_move_when_clusters_are_added(existing, added):
    added = [n for n in added if n not in existing]
    before, after = conn.assign_asns(existing), conn.assign_asns(existing + added)
    assert {n: after[n] for n in existing} == before
    assert len(set(after.values())) == len(after)
    assert all(64512 <= asn <= 65534 for asn in after.values())


@given(names, names)
def test_inside_ranges_never_move_when_links_are_added(existing, added):
    added = [n for n in added if n not in existing]
    before, after = conn.assign_inside_ranges(existing), conn.assign_inside_ranges(existing + added)
    assert {n: after[n] for n in existing} == before
    every = [r for ranges in after.values() for r in ranges]
    assert len(every) == len(set(every)) == 4 * len(after)


def test_colliding_names_get_the_next_free_slot_in_config_order():
    with pytest.raises(ValueError):
        conn.allocate(["a", "b"], 1)
    slots = conn.allocate(["a", "b", "c"], 3)
    assert sorted(slots.values()) == [0, 1, 2]
    assert conn.allocate(["a"], 3)["a"] == slots["a"]


def test_gcp_names_fit_in_63_characters_and_stay_distinct():
    long_a, long_b = "a" * 24, "b" * 24
    first = conn.gcp_name("staging", conn.link_name(long_a, long_b), "if", "0")
    second = conn.gcp_name("staging", conn.link_name(long_a, long_b), "if", "1")
    assert len(first) <= 63 and len(second) <= 63 and first != second
    assert conn.gcp_name("prod", "short") == "prod-short"


# --- validation --------------------------------------------------------------------------------


def problems(**connectivity) -> list[str]:
    raw = namespace_settings(settings_of(fleet(*BASE[:2], connectivity=connectivity)))[0]
    with pytest.raises(ConfigError) as err:
        parse_stack_config(raw, "acme-test")
    return [str(issue) for issue in err.value.issues]


def test_hub_spoke_requires_a_hub():
    assert problems(mode="hub-spoke") == ["multicluster:connectivity.hub is required when mode is hub-spoke"]


def test_hub_must_name_a_cluster():
    assert problems(mode="hub-spoke", hub="aws-euw1") == [
        "multicluster:connectivity.hub 'aws-euw1' is not a cluster of the fleet (clusters: aws-use1, aws-usw2)"
    ]


def test_hub_applies_to_hub_spoke_only():
    assert problems(mode="full-mesh", hub="aws-use1") == [
        "multicluster:connectivity.hub applies to mode hub-spoke only (mode is full-mesh)"
    ]


def test_unknown_mode_is_rejected():
    assert problems(mode="star") == [
        "multicluster:connectivity.mode must be one of 'full-mesh', 'hub-spoke' or 'none' (got 'star')"
    ]


def test_peering_cannot_be_planned_over_overlapping_ranges():
    overlapping = aws_cluster("aws-usw2", "us-west-2", 2, role="standby")
    overlapping["network"]["cidr"] = "10.1.128.0/17"
    with pytest.raises(pulumi.RunError) as err:
        plan_config(fleet(BASE[0], overlapping, connectivity={"mode": "full-mesh"}))
    assert (
        "  - multicluster:clusters[1].network.cidr 10.1.128.0/17 overlaps clusters[0].network.cidr"
        in str(err.value).splitlines()
    )
