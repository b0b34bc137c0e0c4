"""The judge's fleet limits and cross-resource rules added for review findings, each one both ways.

Cloud Router limits, Site-to-Site VPN and transit gateway quotas, the rules the AWS cloud provider adds to the
cluster security group for NLB Services, Route 53 failover pairs and alias targets, transit gateway routing,
east-west gateway source ranges, and protected certificates due for replacement in an update. As in
test_judge_plans.py: the shipped plan passes, the same plan with one thing changed gives exactly the expected
findings, and unknown values (a first preview) are never a finding.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, datetime

import pytest

from components.config import read_stack_file
from components.program import main
from offline_plan import run_program
from offline_plan.judge import FIELD_RULES, Context, aws, aws_nlb, engine, gcp, reachability
from offline_plan.judge.aws import TGW_QUOTAS, VPC_QUOTAS, VPN_QUOTAS
from offline_plan.values import UNKNOWN
from tests.support import SHIPPED, aws_cluster, fleet, gcp_cluster, plan_config
from tests.test_judge_plans import added, copies, edited, messages, one, over, rejected, unreachable, without

SERVICE = "kubernetes:core/v1:Service"
EAST_WEST = "aws-use1-istio-istio-eastwestgateway"
INGRESS = "aws-use1-istio-istio-ingressgateway"


@pytest.fixture(scope="module")
def transit():
    """An EKS and a GKE cluster linked by HA VPN through the region's transit gateway, Istio across them."""
    mesh = {"provider": "istio", "version": "1.30.3", "meshId": "m", "scope": "fleet", "mtls": "strict"}
    return plan_config(
        fleet(
            aws_cluster("aws-a", "us-east-1", 1),
            gcp_cluster("gcp-b", "us-central1", 2),
            connectivity={"mode": "full-mesh", "awsGateway": "transit-gateway"},
            mesh=mesh,
            failover="active-active",
        )
    )


# --- Google Cloud: Cloud Router limits ----------------------------------------------------------------------

ROUTER_DOC = "https://cloud.google.com/network-connectivity/docs/router/quotas"


def test_a_network_takes_five_cloud_routers_per_region_cloud_nat_s_included(staging):
    routers = staging.of_type("gcp:compute/router:Router")
    assert {r.name for r in routers} == {"gcp-usc1-vpn-router", "gcp-usc1-nat"}  # both in one network and region
    network = gcp._network_key(routers[0].inputs["network"])
    assert messages(gcp.gcp_quotas, added(staging, copies(routers[0], 3))) == []
    extra = copies(routers[0], 4)
    assert messages(gcp.gcp_quotas, added(staging, extra)) == [
        rejected(
            extra[3].urn,
            "Google Cloud",
            f"6 Cloud Routers in network {network} and region us-central1, over the limit of 5",
            "Cloud Router quotas and limits: 'Maximum number of Cloud Routers per combination of VPC network and "
            f"region: 5' ({ROUTER_DOC})",
        )
    ]
    # Another region of the same network is another count.
    elsewhere = copies(routers[0], 4, lambda _, i: i.__setitem__("region", "us-east4"))
    assert messages(gcp.gcp_quotas, added(staging, elsewhere)) == []


def test_a_cloud_router_takes_128_bgp_peers(staging):
    peers = staging.of_type("gcp:compute/routerPeer:RouterPeer")
    assert len(peers) == 4
    assert messages(gcp.gcp_quotas, added(staging, copies(peers[0], 124))) == []
    extra = copies(peers[0], 125)
    assert messages(gcp.gcp_quotas, added(staging, extra)) == [
        rejected(
            extra[-1].urn,
            "Google Cloud",
            "129 BGP peers on Cloud Router staging-gcp-usc1-vpn (acme-staging, us-central1), over the limit of 128",
            "Cloud Router quotas and limits: 'Maximum number of BGP peers for each Cloud Router in a given VPC network "
            f"and region: 128' ({ROUTER_DOC})",
        )
    ]


def test_cloud_router_limits_skip_what_a_first_preview_does_not_know(staging_preview):
    assert messages(gcp.gcp_quotas, staging_preview) == []


# --- AWS: Site-to-Site VPN and transit gateway quotas --------------------------------------------------------


def on_a_transit_gateway(_: int, inputs: dict) -> None:
    """A connection counted per region only (not against a virtual private gateway's 10)."""
    for key in ("vpnGatewayId", "tunnel1InsideCidr", "tunnel2InsideCidr"):
        inputs.pop(key, None)
    inputs["transitGatewayId"] = "tgw-0123456789abcdef0"


def test_site_to_site_vpn_connections_per_region_are_at_most_50(staging):
    present = staging.of_type("aws:ec2/vpnConnection:VpnConnection")
    assert messages(aws.aws_quotas, added(staging, copies(present[0], 50 - len(present), on_a_transit_gateway))) == []
    extra = copies(present[0], 51 - len(present), on_a_transit_gateway)
    assert messages(aws.aws_quotas, added(staging, extra)) == [
        over(
            extra[-1].urn,
            "Site-to-Site VPN connections in one region (us-east-1)",
            51,
            50,
            f"quotas ({VPN_QUOTAS})",
        )
    ]


def test_a_transit_gateway_takes_20_route_tables_its_default_one_included(transit):
    tables = transit.of_type("aws:ec2transitgateway/routeTable:RouteTable")
    (gateway,) = transit.of_type("aws:ec2transitgateway/transitGateway:TransitGateway")
    assert len(tables) == 2 and gateway.inputs["defaultRouteTableAssociation"] == "disable"
    assert messages(aws.aws_quotas, added(transit, copies(tables[0], 18))) == []
    extra = copies(tables[0], 19)
    source = f"Amazon VPC Transit Gateways quotas: transit gateway route tables per transit gateway ({TGW_QUOTAS})"
    assert messages(aws.aws_quotas, added(transit, extra)) == [
        over(extra[-1].urn, f"route tables of transit gateway {gateway.id}", 21, 20, source)
    ]
    # With default association on (the API's default), AWS creates a default route table, which counts.
    defaults = edited(transit, gateway, inputs=lambda i: i.__setitem__("defaultRouteTableAssociation", "enable"))
    fewer = copies(tables[0], 18)
    assert messages(aws.aws_quotas, added(defaults, fewer)) == [
        over(
            fewer[-1].urn,
            f"route tables of transit gateway {gateway.id} (its default route table included)",
            21,
            20,
            source,
        )
    ]


def test_a_vpc_attaches_to_five_transit_gateways_once_each(transit):
    (attachment,) = transit.of_type("aws:ec2transitgateway/vpcAttachment:VpcAttachment")
    vpc = attachment.inputs["vpcId"]

    def another_gateway(i: int, inputs: dict) -> None:
        inputs["transitGatewayId"] = f"tgw-other{i}"

    assert messages(aws.aws_quotas, added(transit, copies(attachment, 4, another_gateway))) == []
    extra = copies(attachment, 5, another_gateway)
    assert messages(aws.aws_quotas, added(transit, extra)) == [
        rejected(
            extra[4].urn,
            "AWS",
            f"{vpc} is attached to 6 transit gateways, over the limit of 5 (not adjustable)",
            f"Amazon VPC Transit Gateways quotas: transit gateways per VPC, 5, not adjustable ({TGW_QUOTAS})",
        )
    ]
    (twice,) = copies(attachment, 1)
    assert messages(aws.aws_quotas, added(transit, [twice])) == [
        rejected(
            twice.urn,
            "AWS",
            f"{vpc} is attached to transit gateway {attachment.inputs['transitGatewayId']} 2 times",
            "Amazon VPC Transit Gateways quotas: 'A transit gateway cannot have more than one VPC attachment to the "
            f"same VPC' ({TGW_QUOTAS})",
        )
    ]


# --- AWS: what the cloud provider adds to the cluster security group for NLB Services ------------------------


def nlb_rules(plan, name: str) -> set:
    """What the cloud provider adds for one Service of the plan's first EKS cluster."""
    cluster = plan.of_type("aws:eks/cluster:Cluster")[0]
    return aws_nlb.nlb_rules(
        one(plan, name, SERVICE), functools.partial(aws._lb_subnet_cidrs, aws.Index(plan), cluster)
    )


def node_port(plan, name: str, index: int) -> tuple:
    return ("nodePort", one(plan, name, SERVICE).urn, index)


def test_an_internal_nlb_opens_each_node_port_to_each_source_range_and_health_checks_to_its_subnets(staging):
    private = ["10.10.0.0/18", "10.10.64.0/18", "10.10.128.0/18"]  # one subnet per zone, internal-elb tagged
    sources = ["10.120.0.0/16", "10.20.0.0/16"]  # gcp-usc1's pods and nodes
    ports = [node_port(staging, EAST_WEST, i) for i in range(2)]  # status-port and tls
    assert nlb_rules(staging, EAST_WEST) == (
        {("tcp", p, p, c) for p in ports for c in sources}
        | {("tcp", p, p, c) for p in ports for c in private}
        | {("icmp", 3, 4, c) for c in sources}
    )  # 4 + 6 + 2


def test_a_public_nlb_open_to_everyone_needs_no_health_rules_unless_its_health_port_differs(staging):
    ports = [node_port(staging, INGRESS, i) for i in range(3)]
    assert nlb_rules(staging, INGRESS) == {("tcp", p, p, "0.0.0.0/0") for p in ports} | {("icmp", 3, 4, "0.0.0.0/0")}
    service = one(staging, INGRESS, SERVICE)
    local = edited(staging, service, inputs=lambda i: i["spec"].__setitem__("externalTrafficPolicy", "Local"))
    health = ("healthCheckNodePort", service.urn)
    public = ["10.10.192.0/20", "10.10.208.0/20", "10.10.224.0/20"]  # an internet-facing NLB takes public subnets
    assert nlb_rules(local, INGRESS) - nlb_rules(staging, INGRESS) == {("tcp", health, health, c) for c in public}


def without_telemetry(plan):
    """The plan without the observability capability's resources (its NLB Services are counted in
    tests/test_observability.py): what the arithmetic below was written for."""
    return without(plan, lambda r: "-telemetry" not in r.name)


def test_inbound_rules_of_the_cluster_security_group_count_what_the_cloud_provider_adds(staging):
    staging = without_telemetry(staging)
    cluster = staging.of_type("aws:eks/cluster:Cluster")[0]
    group = cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]
    rules = [
        r
        for r in staging.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == group
    ]
    added_rules = 12 + 4  # the east-west gateway's and the ingress gateway's (tests above)
    room = 60 - len(rules) - 1 - added_rules
    assert messages(aws.aws_quotas, added(staging, copies(rules[0], room))) == []
    extra = copies(rules[0], room + 1)
    assert messages(aws.aws_quotas, added(staging, extra)) == [
        over(
            extra[-1].urn,
            f"inbound IPv4 rules on security group {group} ({len(rules) + room + 1} in the plan, 1 of EKS, "
            f"{added_rules} the AWS cloud provider adds for {EAST_WEST}, {INGRESS})",
            61,
            60,
            f"Amazon VPC quotas: inbound rules per security group ({VPC_QUOTAS}); {aws_nlb.NLB_RULES_SOURCE}",
        )
    ]


def test_inbound_rules_count_against_the_stated_quota_of_the_groups_region(staging):
    staging = without_telemetry(staging)
    cluster = staging.of_type("aws:eks/cluster:Cluster")[0]
    region = "us-east-1"  # staging's EKS cluster (Pulumi.staging.yaml)
    group = cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]
    rules = [
        r
        for r in staging.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == group
    ]
    room = 70 - len(rules) - 1 - (12 + 4)  # as in the test above, against a quota of 70
    raised = Context(raised_quotas={(aws.SECURITY_GROUP_RULE, region): 70})
    assert [str(f) for f in aws.aws_quotas(added(staging, copies(rules[0], room)), raised)] == []
    extra = copies(rules[0], room + 1)
    (finding,) = [str(f) for f in aws.aws_quotas(added(staging, extra), raised)]
    assert ": 71, over the stated quota of 70 (multicluster:quotas)" in finding
    other_region = Context(raised_quotas={(aws.SECURITY_GROUP_RULE, "ap-south-1"): 70})
    assert len(list(aws.aws_quotas(added(staging, copies(rules[0], room)), other_region))) == 1


def test_a_rule_the_plan_already_holds_is_not_added_again(staging):
    staging = without_telemetry(staging)
    service = one(staging, EAST_WEST, SERVICE)
    pinned = edited(staging, service, inputs=lambda i: i["spec"]["ports"][1].__setitem__("nodePort", 30443))
    assert ("tcp", 30443, 30443, "10.20.0.0/16") in nlb_rules(pinned, EAST_WEST)
    group = staging.of_type("aws:eks/cluster:Cluster")[0].outputs["vpcConfig"]["clusterSecurityGroupId"]
    rules = [
        r
        for r in staging.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == group
    ]

    def as_the_provider_adds_it(_: int, inputs: dict) -> None:
        inputs.update(ipProtocol="tcp", fromPort=30443, toPort=30443, cidrIpv4="10.20.0.0/16")

    (duplicate,) = copies(rules[0], 1, as_the_provider_adds_it)
    room = 60 - len(rules) - 1 - 16  # as in the test above
    # The duplicate takes one of the provider's 16 places: 60 rules, not 61.
    assert messages(aws.aws_quotas, added(pinned, [duplicate, *copies(rules[0], room)])) == []
    (finding,) = messages(aws.aws_quotas, added(pinned, [duplicate, *copies(rules[0], room + 1)]))
    assert f"({len(rules) + room + 2} in the plan, 1 of EKS, 15 the AWS cloud provider adds" in finding


def test_nlb_rules_are_not_counted_from_unknown_values(staging, staging_preview):
    staging = without_telemetry(staging)
    service = one(staging, EAST_WEST, SERVICE)
    unknown = edited(staging, service, inputs=lambda i: i["spec"].__setitem__("loadBalancerSourceRanges", UNKNOWN))
    group = staging.of_type("aws:eks/cluster:Cluster")[0].outputs["vpcConfig"]["clusterSecurityGroupId"]
    assert [s.name for s in aws._nlb_rules_by_group(aws.Index(unknown))[group][1]] == [INGRESS]
    assert aws._nlb_rules_by_group(aws.Index(staging_preview)) == {}  # the cluster security group is not known
    assert messages(aws.aws_quotas, staging_preview) == []


def test_only_the_cloud_provider_s_nlb_services_are_counted(staging):
    service = one(staging, EAST_WEST, SERVICE)
    for change in (
        lambda i: i["metadata"]["annotations"].__setitem__(aws_nlb.TYPE_ANNOTATION, "external"),  # the LB controller's
        lambda i: i["spec"].__setitem__("loadBalancerClass", "service.k8s.aws/nlb"),
        lambda i: i["spec"].__setitem__("type", "ClusterIP"),
    ):
        assert not aws_nlb.is_nlb_service(one(edited(staging, service, inputs=change), EAST_WEST, SERVICE))
    assert aws_nlb.is_nlb_service(service)


# --- Route 53: failover pairs and alias targets ---------------------------------------------------------------

RECORD = "aws:route53/record:Record"
ALIAS_SOURCE = aws.ALIAS_TARGET_SOURCE


def test_a_failover_name_has_one_primary_and_one_secondary(staging, staging_preview):
    assert messages(aws.route53_record_sets, staging) == []
    primary = one(staging, "dns-webapp-aws-use1", RECORD)
    (second,) = copies(primary, 1, lambda _, i: i.__setitem__("setIdentifier", "aws-use1-bis"))
    zone = primary.inputs["zoneId"]
    assert messages(aws.route53_record_sets, added(staging, [second])) == [
        rejected(
            second.urn,
            "AWS",
            f"webapp.staging.example.com (A) in zone {zone} has 2 PRIMARY failover record sets (dns-webapp-aws-use1, "
            f"{second.name}): a failover name has one PRIMARY and one SECONDARY",
            aws.FAILOVER_SOURCE,
        )
    ]
    assert messages(aws.route53_record_sets, staging_preview) == []


def test_a_record_name_is_completed_with_its_zone_as_the_provider_does(staging):
    primary = one(staging, "dns-webapp-aws-use1", RECORD)
    zones = {primary.inputs["zoneId"]: "staging.example.com"}
    relative = dataclasses.replace(primary, inputs={**primary.inputs, "name": "webapp"}, outputs={})
    assert aws._record_name(relative, zones) == "webapp.staging.example.com"
    assert aws._record_name(dataclasses.replace(relative, inputs={**relative.inputs, "name": "WebApp."}), zones) == (
        "webapp.staging.example.com"
    )


def test_an_alias_to_a_name_of_the_zone_targets_a_record_set_it_waits_for(staging):
    secondary = one(staging, "dns-webapp-standby", RECORD)
    target = one(staging, "dns-standby.webapp-gcp-usc1", RECORD)
    zone = secondary.inputs["zoneId"]
    where = f"the alias targets standby.webapp.staging.example.com, type A in zone {zone}"
    assert messages(aws.route53_record_sets, without(staging, lambda r: r.urn != target.urn)) == [
        rejected(secondary.urn, "AWS", f"{where}, which nothing in the plan creates", ALIAS_SOURCE)
    ]
    hasty = edited(staging, secondary, dependencies=[d for d in secondary.dependencies if d != target.urn])
    assert messages(aws.route53_record_sets, hasty) == [
        rejected(
            secondary.urn,
            "AWS",
            f"{where}, but it does not wait for {target.name} (no dependency): created first, it is refused",
            ALIAS_SOURCE,
        )
    ]
    aaaa = edited(staging, target, inputs=lambda i: i.__setitem__("type", "AAAA"))  # the type must match too
    assert messages(aws.route53_record_sets, aaaa) == [
        rejected(secondary.urn, "AWS", f"{where}, which nothing in the plan creates", ALIAS_SOURCE)
    ]


def test_an_alias_into_the_zone_names_a_name_of_that_zone(staging):
    secondary = one(staging, "dns-webapp-standby", RECORD)
    zone = secondary.inputs["zoneId"]
    outside = edited(staging, secondary, inputs=lambda i: i["aliases"][0].__setitem__("name", "standby.example.org"))
    assert messages(aws.route53_record_sets, outside) == [
        rejected(
            secondary.urn,
            "AWS",
            f"the alias targets standby.example.org, type A in zone {zone}, a name outside that zone "
            "(staging.example.com)",
            ALIAS_SOURCE,
        )
    ]


def test_an_alias_to_a_load_balancer_is_aws_s_to_answer(staging):
    # Its target is in the load balancer's hosted zone, not one the plan creates (the program answers Elastic IPs
    # instead, but a record aliased to an NLB is valid).
    record = next(r for r in staging.of_type(RECORD) if r.inputs.get("records") and r.inputs.get("setIdentifier"))

    def to_nlb(inputs: dict) -> None:
        del inputs["records"], inputs["ttl"]
        inputs["aliases"] = [
            {"name": "a1b2-c3d4.elb.us-east-1.amazonaws.com", "zoneId": "Z26RNL4JYFTOTI", "evaluateTargetHealth": True}
        ]

    assert messages(aws.route53_record_sets, edited(staging, record, inputs=to_nlb)) == []


# --- Cloud DNS: the zone's DNS name ---------------------------------------------------------------------------


def test_a_cloud_dns_zone_name_ends_with_a_dot():
    (rule,) = [r for r in FIELD_RULES["gcp:dns/managedZone:ManagedZone"] if r.path == "dnsName"]
    assert [f.rule for f in rule.findings("u", {"dnsName": "example.com."})] == []
    for bad in ("example.com", "example.com.."):
        assert [f.rule for f in rule.findings("u", {"dnsName": bad})] == [
            f"dnsName '{bad}' does not match a fully qualified name ending with '.' (no empty label)"
        ]
    assert [f.rule for f in rule.findings("u", {"dnsName": UNKNOWN})] == []


# --- reachability: transit gateway routes --------------------------------------------------------------------


def test_a_transit_gateway_s_default_route_tables_route_what_explicit_ones_would(transit):
    (attachment,) = transit.of_type("aws:ec2transitgateway/vpcAttachment:VpcAttachment")
    (gateway,) = transit.of_type("aws:ec2transitgateway/transitGateway:TransitGateway")
    explicit = (
        "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
        "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
    )
    bare = without(transit, lambda r: r.type not in explicit)
    assert reachability.Fleet(bare).links == {}
    defaults = edited(
        bare,
        gateway,
        inputs=lambda i: i.update(defaultRouteTableAssociation="enable", defaultRouteTablePropagation="enable"),
        outputs=lambda o: o.update(
            associationDefaultRouteTableId="tgw-rtb-d", propagationDefaultRouteTableId="tgw-rtb-d"
        ),
    )
    opted_in = edited(
        defaults,
        attachment,
        inputs=lambda i: i.update(
            transitGatewayDefaultRouteTableAssociation=True, transitGatewayDefaultRouteTablePropagation=True
        ),
    )
    assert set(reachability.Fleet(opted_in).links.values()) == {"ha-vpn"}
    assert reachability.Fleet(defaults).links == {}  # the attachment opted out of the default tables


def test_a_vpc_reaches_a_transit_gateway_only_from_zones_its_attachment_covers(transit):
    (attachment,) = transit.of_type("aws:ec2transitgateway/vpcAttachment:VpcAttachment")
    one_zone = edited(transit, attachment, inputs=lambda i: i.__setitem__("subnetIds", i["subnetIds"][:1]))
    assert reachability.Fleet(one_zone).links == {}
    assert set(reachability.Fleet(transit).links.values()) == {"ha-vpn"}


# --- reachability: east-west gateway source ranges -----------------------------------------------------------


def test_an_internal_east_west_gateway_admits_each_range_of_the_peers_that_reach_it(staging):
    assert messages(reachability.east_west, staging) == []
    service = one(staging, EAST_WEST, SERVICE)
    narrowed = edited(staging, service, inputs=lambda i: i["spec"].__setitem__("loadBalancerSourceRanges",
                                                                                ["10.20.0.0/16"]))  # fmt: skip
    assert messages(reachability.east_west, narrowed) == [
        unreachable(
            service.urn,
            "gcp-usc1 discovers aws-use1 but aws-use1's east-west gateway drops its traffic: its "
            "loadBalancerSourceRanges (10.20.0.0/16) do not admit gcp-usc1's ranges 10.120.0.0/16",
            reachability.SOURCE_RANGES_DOC,
        )
    ]
    wider = edited(staging, service, inputs=lambda i: i["spec"].__setitem__("loadBalancerSourceRanges", ["10.0.0.0/8"]))
    assert messages(reachability.east_west, wider) == []
    later = edited(staging, service, inputs=lambda i: i["spec"].__setitem__("loadBalancerSourceRanges", [UNKNOWN]))
    assert messages(reachability.east_west, later) == []


def test_a_public_east_west_gateway_admits_the_nat_addresses_of_its_peers(staging):
    service = one(staging, EAST_WEST, SERVICE)
    nat = staging.of_type("gcp:compute/address:Address")[0].outputs["address"]

    def public(sources: list) -> object:
        def change(inputs: dict) -> None:
            inputs["metadata"]["annotations"].pop("service.beta.kubernetes.io/aws-load-balancer-internal")
            inputs["spec"]["loadBalancerSourceRanges"] = sources

        return edited(staging, service, inputs=change)

    assert messages(reachability.east_west, public([f"{nat}/32"])) == []
    assert messages(reachability.east_west, public(["10.20.0.0/16", "10.120.0.0/16"])) == [
        unreachable(
            service.urn,
            "gcp-usc1 discovers aws-use1 but aws-use1's east-west gateway drops its traffic: its "
            f"loadBalancerSourceRanges (10.20.0.0/16, 10.120.0.0/16) do not admit gcp-usc1's NAT addresses {nat}",
            reachability.SOURCE_RANGES_DOC,
        )
    ]
    automatic = edited(
        public([f"{nat}/32"]),
        one(staging, "gcp-usc1-nat", "gcp:compute/routerNat:RouterNat"),
        inputs=lambda i: i.__setitem__("natIpAllocateOption", "AUTO_ONLY"),
    )
    assert messages(reachability.east_west, automatic) == [
        unreachable(
            service.urn,
            "gcp-usc1 discovers aws-use1 but aws-use1's east-west gateway drops its traffic: gcp-usc1 leaves its "
            f"network through Cloud NAT addresses allocated at deploy time, which its loadBalancerSourceRanges "
            f"({nat}/32) cannot name",
            reachability.SOURCE_RANGES_DOC,
        )
    ]


# --- the engine: protected certificates due for replacement --------------------------------------------------

ROOT = "fleet-istio-root-ca"
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"


@pytest.fixture(scope="module")
def prod_update(prod):
    """An update preview of prod from its saved state, the root CA saved as ready for renewal."""
    state = {r.urn: {"id": r.id, "outputs": dict(r.outputs)} for r in prod.resources}
    root = prod.named(ROOT, SELF_SIGNED)
    state[root.urn]["outputs"]["readyForRenewal"] = True
    settings, secret_keys = read_stack_file(SHIPPED["prod"])
    return run_program(main, settings, secret_keys, "prod", preview=True, state=state)


def due(urn: str, why: str) -> str:
    return rejected(
        urn,
        "the Pulumi engine",
        f"it is protected and {why}, so its provider replaces it and the update stops: 'unable to replace resource "
        f'"{urn}" as it is currently marked for protection\'; unprotect it in one `pulumi up` first (or rotate it: '
        "docs/mesh.md, Root rotation)",
        engine.PROTECTED_REPLACEMENT_SOURCE,
    )


def test_a_protected_certificate_ready_for_renewal_stops_an_update(prod, prod_update):
    root = prod_update.named(ROOT, SELF_SIGNED)
    assert root.protect and root.outputs["readyForRenewal"] is True
    assert messages(engine.protected_replacements, prod_update) == [
        due(root.urn, "its saved state says readyForRenewal")
    ]
    # Unprotected before this update: the engine replaces it (old.Protect is false).
    base = {root.urn: {"protect": False}}
    assert [str(f) for f in engine.protected_replacements(prod_update, Context(base=base))] == []
    # The plan of `pulumi up` and a first preview create every certificate: nothing is due.
    assert messages(engine.protected_replacements, prod) == []


def test_a_protected_certificate_past_its_renewal_time_stops_an_update(prod_update, monkeypatch):
    root = prod_update.named(ROOT, SELF_SIGNED)
    fresh = edited(prod_update, root, outputs=lambda o: o.update(readyForRenewal=False))
    end = root.outputs["validityEndTime"]
    monkeypatch.setattr(engine, "now", lambda: datetime(2027, 12, 31, tzinfo=UTC))
    assert messages(engine.protected_replacements, fresh) == []
    monkeypatch.setattr(engine, "now", lambda: datetime.fromisoformat(end.replace("Z", "+00:00")))
    assert messages(engine.protected_replacements, fresh) == [
        due(root.urn, f"its validity ends {end} (renewal from {end})")
    ]
    early = edited(fresh, fresh.named(ROOT, SELF_SIGNED), outputs=lambda o: o.update(earlyRenewalHours=24))
    monkeypatch.setattr(engine, "now", lambda: datetime(2027, 12, 31, tzinfo=UTC))
    assert messages(engine.protected_replacements, early) == [
        due(root.urn, f"its validity ends {end} less 24 h of early renewal (renewal from 2027-12-31T00:00:00Z)")
    ]
    unknown = edited(fresh, fresh.named(ROOT, SELF_SIGNED), outputs=lambda o: o.update(validityEndTime=UNKNOWN))
    assert messages(engine.protected_replacements, unknown) == []


def test_unprotected_intermediates_due_for_renewal_are_simply_replaced(prod_update, monkeypatch):
    monkeypatch.setattr(engine, "now", lambda: datetime(2026, 12, 1, tzinfo=UTC))  # within their last 60 days
    intermediate = prod_update.named("aws-use1-istio-ca", "tls:index/locallySignedCert:LocallySignedCert")
    assert not intermediate.protect and engine.renewal_due(intermediate.outputs, intermediate.inputs)
    assert messages(engine.protected_replacements, prod_update) == [
        due(prod_update.named(ROOT, SELF_SIGNED).urn, "its saved state says readyForRenewal")
    ]
