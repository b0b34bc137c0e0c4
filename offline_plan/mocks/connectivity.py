"""Connectivity resources: peering states, VPN endpoints and tunnel addresses, GCP VPN self links, PSKs."""

from __future__ import annotations

import ipaddress
from typing import Any

from . import ACCOUNT_ID, MockResource, resource

COMPUTE = "https://www.googleapis.com/compute/v1"


def _public_ip(r: MockResource, salt: str, first_octet: int) -> str:
    h = int(r.random(salt, length=8), 16)
    return f"{first_octet}.{h % 200 + 20}.{(h >> 8) % 250}.{(h >> 16) % 250 + 1}"


def _aws_arn(r: MockResource, path: str) -> str:
    return f"arn:aws:ec2:{r.region}:{ACCOUNT_ID}:{path}"


# --- AWS ---------------------------------------------------------------------------------------


@resource("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
def vpc_peering(r: MockResource) -> dict[str, Any]:
    return {"id": f"pcx-{r.hex()}", "acceptStatus": "pending-acceptance", "peerOwnerId": ACCOUNT_ID}


@resource("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")
def vpc_peering_accepter(r: MockResource) -> dict[str, Any]:
    return {"id": r.inputs["vpcPeeringConnectionId"], "acceptStatus": "active", "peerOwnerId": ACCOUNT_ID}


@resource("aws:ec2/peeringConnectionOptions:PeeringConnectionOptions")
def peering_options(r: MockResource) -> dict[str, Any]:
    return {"id": r.inputs["vpcPeeringConnectionId"]}


@resource("aws:ec2/vpnGateway:VpnGateway")
def vpn_gateway(r: MockResource) -> dict[str, Any]:
    gateway_id = f"vgw-{r.hex()}"
    return {"id": gateway_id, "arn": _aws_arn(r, f"vpn-gateway/{gateway_id}")}


@resource("aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation")
def vpn_route_propagation(r: MockResource) -> dict[str, Any]:
    return {"id": f"{r.inputs['vpnGatewayId']}_{r.inputs['routeTableId']}"}


@resource("aws:ec2/customerGateway:CustomerGateway")
def customer_gateway(r: MockResource) -> dict[str, Any]:
    gateway_id = f"cgw-{r.hex()}"
    return {"id": gateway_id, "arn": _aws_arn(r, f"customer-gateway/{gateway_id}")}


def _inside(cidr: str | None) -> tuple[str, str]:
    # AWS takes the first host of the /30, the customer gateway the second.
    hosts = list(ipaddress.ip_network(cidr or "169.254.10.0/30").hosts())
    return str(hosts[0]), str(hosts[1])


@resource("aws:ec2/vpnConnection:VpnConnection")
def vpn_connection(r: MockResource) -> dict[str, Any]:
    """A connection on a transit gateway is also an attachment of it (the provider's
    transit_gateway_attachment_id); on a virtual private gateway it has none."""
    connection_id = f"vpn-{r.hex()}"
    on_transit_gateway = bool(r.inputs.get("transitGatewayId"))
    outputs = {
        "id": connection_id,
        "arn": _aws_arn(r, f"vpn-connection/{connection_id}"),
        "customerGatewayConfiguration": f"<vpn_connection id='{connection_id}'/>",
        "transitGatewayAttachmentId": f"tgw-attach-{r.random('attachment', length=17)}" if on_transit_gateway else "",
    }
    if not on_transit_gateway:
        outputs["transitGatewayId"] = ""
    for tunnel in (1, 2):
        vgw_ip, cgw_ip = _inside(r.inputs.get(f"tunnel{tunnel}InsideCidr"))
        outputs |= {
            f"tunnel{tunnel}Address": _public_ip(r, f"tunnel{tunnel}", 52),
            f"tunnel{tunnel}VgwInsideAddress": vgw_ip,
            f"tunnel{tunnel}CgwInsideAddress": cgw_ip,
            f"tunnel{tunnel}BgpHoldtime": 30,
        }
    return outputs


# Transit gateways: ids and ARNs as EC2 gives them. With default association and propagation disabled, the
# gateway has no default route table (association/propagationDefaultRouteTableId are empty).


@resource("aws:ec2transitgateway/transitGateway:TransitGateway")
def transit_gateway(r: MockResource) -> dict[str, Any]:
    gateway_id = f"tgw-{r.hex()}"
    default_table = f"tgw-rtb-{r.random('default', length=17)}"
    association = r.inputs.get("defaultRouteTableAssociation", "enable") == "enable"
    propagation = r.inputs.get("defaultRouteTablePropagation", "enable") == "enable"
    return {
        "id": gateway_id,
        "arn": _aws_arn(r, f"transit-gateway/{gateway_id}"),
        "ownerId": ACCOUNT_ID,
        "amazonSideAsn": r.inputs.get("amazonSideAsn", 64512),
        "associationDefaultRouteTableId": default_table if association else "",
        "propagationDefaultRouteTableId": default_table if propagation else "",
    }


@resource("aws:ec2transitgateway/routeTable:RouteTable")
def transit_gateway_route_table(r: MockResource) -> dict[str, Any]:
    table_id = f"tgw-rtb-{r.hex()}"
    return {
        "id": table_id,
        "arn": _aws_arn(r, f"transit-gateway-route-table/{table_id}"),
        "defaultAssociationRouteTable": False,
        "defaultPropagationRouteTable": False,
    }


@resource("aws:ec2transitgateway/vpcAttachment:VpcAttachment")
def transit_gateway_vpc_attachment(r: MockResource) -> dict[str, Any]:
    attachment_id = f"tgw-attach-{r.hex()}"
    return {
        "id": attachment_id,
        "arn": _aws_arn(r, f"transit-gateway-attachment/{attachment_id}"),
        "vpcOwnerId": ACCOUNT_ID,
    }


@resource(
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
    "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
)
def transit_gateway_route_table_link(r: MockResource) -> dict[str, Any]:
    """The provider's id is <route table id>_<attachment id>; a VPC attachment also names its VPC (what the mock
    cannot tell for other attachments is left out rather than made up)."""
    attachment = str(r.inputs.get("transitGatewayAttachmentId", ""))
    outputs = {"id": f"{r.inputs.get('transitGatewayRouteTableId')}_{attachment}"}
    vpc = (r.lookup(attachment) or {}).get("vpcId")
    if vpc:
        outputs |= {"resourceId": vpc, "resourceType": "vpc"}
    return outputs


# --- GCP ---------------------------------------------------------------------------------------


def _regional(r: MockResource, collection: str) -> dict[str, Any]:
    name = r.inputs.get("name", "")
    path = f"projects/{r.project}/regions/{r.region}/{collection}/{name}"
    return {"id": path, "name": name, "selfLink": f"{COMPUTE}/{path}"}


@resource("gcp:compute/haVpnGateway:HaVpnGateway")
def ha_vpn_gateway(r: MockResource) -> dict[str, Any]:
    return {
        **_regional(r, "vpnGateways"),
        "vpnInterfaces": [{"id": i, "ipAddress": _public_ip(r, f"interface{i}", 35)} for i in range(2)],
    }


@resource("gcp:compute/externalVpnGateway:ExternalVpnGateway")
def external_vpn_gateway(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("name", "")
    path = f"projects/{r.project}/global/externalVpnGateways/{name}"
    return {"id": path, "name": name, "selfLink": f"{COMPUTE}/{path}", "labelFingerprint": r.hex(11)}


@resource("gcp:compute/vPNTunnel:VPNTunnel")
def vpn_tunnel(r: MockResource) -> dict[str, Any]:
    return {
        **_regional(r, "vpnTunnels"),
        "tunnelId": str(int(r.hex(12), 16)),
        "detailedStatus": "Tunnel is up and running.",
        "sharedSecretHash": r.hex(27),
        "creationTimestamp": "2026-01-01T00:00:00.000-08:00",
    }


@resource("gcp:compute/routerInterface:RouterInterface", "gcp:compute/routerPeer:RouterPeer")
def router_attachment(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("name", "")
    outputs = {"id": f"projects/{r.project}/regions/{r.region}/routers/{r.inputs['router']}/{name}", "name": name}
    if r.type.endswith("RouterPeer"):
        outputs |= {"managementType": "MANAGED_BY_USER", "enable": True}
    return outputs


@resource("gcp:compute/networkPeering:NetworkPeering")
def network_peering(r: MockResource) -> dict[str, Any]:
    network = str(r.inputs["network"]).rsplit("/", 1)[-1]
    return {"id": f"{network}/{r.inputs['name']}", "state": "ACTIVE", "stateDetails": "[2026-01-01] Connected."}


@resource("gcp:compute/networkPeeringRoutesConfig:NetworkPeeringRoutesConfig")
def network_peering_routes_config(r: MockResource) -> dict[str, Any]:
    # The provider's id format.
    path = f"projects/{r.project}/global/networks/{r.inputs['network']}/networkPeerings/{r.inputs['peering']}"
    return {"id": path, "project": r.project}


@resource("gcp:compute/firewall:Firewall")
def firewall(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("name", "")
    path = f"projects/{r.project}/global/firewalls/{name}"
    return {"id": path, "name": name, "selfLink": f"{COMPUTE}/{path}", "creationTimestamp": "2026-01-01T00:00:00Z"}


# --- random ------------------------------------------------------------------------------------


def _random_text(r: MockResource) -> str:
    """As the random provider honours lower/upper/numeric/special (all true by default)."""
    alphabet = ""
    if r.inputs.get("lower", True):
        alphabet += "abcdefghijklmnopqrstuvwxyz"
    if r.inputs.get("upper", True):
        alphabet += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if r.inputs.get("numeric", True):
        alphabet += "0123456789"
    if r.inputs.get("special", True):
        alphabet += r.inputs.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
    length = int(r.inputs.get("length", 16))
    seed = r.random("random", length=64) * (length // 32 + 1)
    return "".join(alphabet[int(seed[2 * i : 2 * i + 2], 16) % len(alphabet)] for i in range(length))


@resource("random:index/randomPassword:RandomPassword")
def random_password(r: MockResource) -> dict[str, Any]:
    return {"id": "none", "result": _random_text(r), "bcryptHash": f"$2a$10${r.random('bcrypt', length=53)}"}


@resource("random:index/randomString:RandomString")
def random_string(r: MockResource) -> dict[str, Any]:
    text = _random_text(r)
    return {"id": text, "result": text}
