"""The judge's plan checks (quotas, cross-resource rules, APIs, charts, CRDs, reachability), each one both ways.

A passing case is the shipped stack as planned; a failing case is the same plan with one thing changed
(dataclasses.replace on its resources), which must give exactly the expected findings. Checks that read
outputs are also run on the first-preview plan (`--engine-preview`): an unknown value is skipped, never a
false finding, and the same violation with every value known is caught.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from components.config import namespace_settings, parse_stack_config, read_stack_file
from components.program import main
from offline_plan import run_program
from offline_plan.capture import Plan, PlannedResource
from offline_plan.cli import raised_quotas
from offline_plan.judge import PLAN_CHECKS, Context, aws, crds, gcp, helm, judge_plan, reachability
from offline_plan.judge.aws import EC2_API, EKS_QUOTAS, IAM_QUOTAS, ROUTE53_QUOTAS, VPC_QUOTAS, VPN_QUOTAS
from offline_plan.values import UNKNOWN
from tests.support import SHIPPED, UPSTREAM, aws_cluster, fleet, gcp_cluster, plan_config, settings_of


@pytest.fixture(scope="module")
def prod_preview():
    settings, secret_keys = read_stack_file(SHIPPED["prod"])
    return run_program(main, settings, secret_keys, "prod", preview=True)


# --- changing a plan ----------------------------------------------------------------------------------


def one(plan: Plan, name: str, type_: str) -> PlannedResource:
    return plan.named(name, type_)


def edited(
    plan: Plan, target: PlannedResource, inputs: Callable | None = None, outputs: Callable | None = None, **fields: Any
) -> Plan:
    """The plan with one resource changed: `inputs`/`outputs` edit copies of its dicts in place."""
    new_inputs, new_outputs = copy.deepcopy(target.inputs), copy.deepcopy(target.outputs)
    if inputs:
        inputs(new_inputs)
    if outputs:
        outputs(new_outputs)
    changed = dataclasses.replace(target, inputs=new_inputs, checked=new_inputs, outputs=new_outputs, **fields)
    return dataclasses.replace(plan, resources=[changed if r.urn == target.urn else r for r in plan.resources])


def without(plan: Plan, keep: Callable[[PlannedResource], bool]) -> Plan:
    return dataclasses.replace(plan, resources=[r for r in plan.resources if keep(r)])


def copies(template: PlannedResource, count: int, change: Callable[[int, dict], None] | None = None) -> list:
    """`count` more resources like `template` (new URNs, names and ids), each optionally changed."""
    made = []
    for i in range(count):
        inputs = copy.deepcopy(template.inputs)
        if change:
            change(i, inputs)
        made.append(
            dataclasses.replace(
                template,
                urn=f"{template.urn}-copy{i}",
                name=f"{template.name}-copy{i}",
                id=f"{template.id}-copy{i}" if template.id else None,
                inputs=inputs,
                checked=inputs,
                outputs=copy.deepcopy(template.outputs),
            )
        )
    return made


def added(plan: Plan, extra: list) -> Plan:
    return dataclasses.replace(plan, resources=[*plan.resources, *extra])


def messages(check, plan: Plan, upstream=None, raised: dict | None = None) -> list[str]:
    return [str(f) for f in check(plan, Context(upstream=upstream, raised_quotas=raised or {}))]


def shipped_quotas(name: str) -> dict[tuple[str, str], int]:
    """The quotas a shipped stack states as raised (multicluster:quotas), as the CLI hands them to the judge."""
    raw, project = namespace_settings(read_stack_file(SHIPPED[name])[0])
    return raised_quotas(parse_stack_config(raw, project, name))


def rejected(urn: str, authority: str, rule: str, source: str) -> str:
    return f"{urn} would be rejected by {authority}: {rule} ({source})"


def unreachable(urn: str, rule: str, source: str) -> str:
    return f"{urn} would not work: {rule} ({source})"


# --- the shipped stacks pass every plan check, in both modes ------------------------------------------------


def test_every_plan_check_is_registered():
    assert {f"{c.__module__.rsplit('.', 1)[-1]}.{c.__name__}" for c in PLAN_CHECKS} == {
        "aws.association_replacements",
        "aws.aws_quotas",
        "aws.eks_networking",
        "aws.nlb_elastic_ips",
        "aws.route53_record_sets",
        "crds.custom_resources",
        "crds.gatekeeper_constraints",
        "engine.protected_replacements",
        "gcp.apis_enabled",
        "gcp.gcp_quotas",
        "gcp.node_pool_auto_upgrade",
        "gcp.project_unique_ids",
        "helm.helm_releases",
        "kubernetes.objects_owned_once",
        "reachability.gke_webhooks",
        "reachability.api_callers",
        "reachability.east_west",
    }


@pytest.mark.parametrize("stack", ["staging", "prod", "staging_preview", "prod_preview"])
def test_the_shipped_stacks_pass_the_whole_judge_in_both_modes(stack, request):
    plan = request.getfixturevalue(stack)
    assert plan.mode == ("preview" if stack.endswith("preview") else "up")
    # With the quotas the stack states as raised (multicluster:quotas), as the CLI passes them.
    raised = shipped_quotas(stack.removesuffix("_preview"))
    context = Context(upstream=UPSTREAM if UPSTREAM.is_dir() else None, raised_quotas=raised)
    assert [str(f) for f in judge_plan(plan, context)] == []


# --- AWS quotas -------------------------------------------------------------------------------------------


def over(urn: str, what: str, count: int, limit: int, source: str) -> str:
    return rejected(urn, "AWS", f"{what}: {count}, over the default quota of {limit}", source)


def no_tunnel_cidrs(_: int, inputs: dict) -> None:
    inputs.pop("tunnel1InsideCidr", None)
    inputs.pop("tunnel2InsideCidr", None)


def test_vpn_connections_per_virtual_private_gateway_are_at_most_10(staging):
    connections = staging.of_type("aws:ec2/vpnConnection:VpnConnection")
    gateway = connections[0].inputs["vpnGatewayId"]
    at_limit = added(staging, copies(connections[0], 10 - len(connections), no_tunnel_cidrs))
    assert messages(aws.aws_quotas, at_limit) == []
    extra = copies(connections[0], 11 - len(connections), no_tunnel_cidrs)
    assert messages(aws.aws_quotas, added(staging, extra)) == [
        over(
            extra[-1].urn,
            f"Site-to-Site VPN connections on one virtual private gateway ({gateway})",
            11,
            10,
            f"Site-to-Site VPN quotas ({VPN_QUOTAS})",
        )
    ]


def test_tunnel_inside_cidrs_are_unique_across_the_connections_of_a_gateway(staging):
    first, second = staging.of_type("aws:ec2/vpnConnection:VpnConnection")
    reused = first.inputs["tunnel2InsideCidr"]
    plan = edited(staging, second, inputs=lambda i: i.__setitem__("tunnel1InsideCidr", reused))
    assert messages(aws.aws_quotas, plan) == [
        rejected(
            second.urn,
            "AWS",
            f"tunnel1InsideCidr {reused} is already used by {first.name} on {first.inputs['vpnGatewayId']}",
            "Amazon EC2 API Reference, VpnTunnelOptionsSpecification TunnelInsideCidr: 'Any specified CIDR blocks must "
            "be unique across all VPN connections that use the same virtual private gateway' "
            f"({EC2_API}/API_VpnTunnelOptionsSpecification.html)",
        )
    ]
    assert (
        messages(aws.aws_quotas, edited(staging, second, inputs=lambda i: i.__setitem__("tunnel1InsideCidr", UNKNOWN)))
        == []
    )


@pytest.mark.parametrize(
    ("type_", "key", "what", "limit", "source"),
    [
        (
            "aws:ec2/route:Route",
            "routeTableId",
            "routes (non-propagated) in one route table",
            50,
            f"Amazon VPC quotas: routes per route table ({VPC_QUOTAS})",
        ),
        (
            "aws:eks/nodeGroup:NodeGroup",
            "clusterName",
            "managed node groups in one EKS cluster",
            30,
            f"Amazon EKS service quotas ({EKS_QUOTAS})",
        ),
    ],
)
def test_children_per_parent_are_within_their_quota(staging, type_, key, what, limit, source):
    template = staging.of_type(type_)[0]
    parent = template.inputs[key]
    siblings = [r for r in staging.of_type(type_) if r.inputs.get(key) == parent]
    assert messages(aws.aws_quotas, added(staging, copies(template, limit - len(siblings)))) == []
    extra = copies(template, limit + 1 - len(siblings))
    assert messages(aws.aws_quotas, added(staging, extra)) == [
        over(extra[-1].urn, f"{what} ({parent})", limit + 1, limit, source)
    ]


@pytest.mark.parametrize(
    ("type_", "what", "limit", "source"),
    [
        ("aws:ec2/eip:Eip", "Elastic IP addresses in one region", 5, VPC_QUOTAS),
        ("aws:ec2/vpc:Vpc", "VPCs in one region", 5, VPC_QUOTAS),
        ("aws:ec2/vpnGateway:VpnGateway", "virtual private gateways in one region", 5, VPN_QUOTAS),
        ("aws:ec2/customerGateway:CustomerGateway", "customer gateways in one region", 50, VPN_QUOTAS),
    ],
)
def test_regional_resources_are_within_their_quota_per_region(staging, type_, what, limit, source):
    template = staging.of_type(type_)[0]
    region = aws.Index(staging).region[template.urn]
    present = [r for r in staging.of_type(type_) if aws.Index(staging).region[r.urn] == region]
    assert messages(aws.aws_quotas, added(staging, copies(template, limit - len(present)))) == []
    extra = copies(template, limit + 1 - len(present))
    everything = [*staging.of_type(type_), *extra]
    sixth = [r for r in everything if r.urn in {e.urn for e in extra} or r in present][limit]
    assert messages(aws.aws_quotas, added(staging, extra)) == [
        over(sixth.urn, f"{what} ({region})", limit + 1, limit, f"quotas ({source})")
    ]


@pytest.mark.parametrize(
    ("type_", "what", "limit", "source"),
    [
        ("aws:iam/role:Role", "IAM roles in the account (this stack alone)", 1000, IAM_QUOTAS),
        ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "IAM OIDC providers in the account", 100, IAM_QUOTAS),
        ("aws:route53/healthCheck:HealthCheck", "Route 53 health checks in the account", 200, ROUTE53_QUOTAS),
    ],
)
def test_account_wide_resources_of_one_stack_are_within_the_account_quota(staging, type_, what, limit, source):
    present = staging.of_type(type_)
    assert messages(aws.aws_quotas, added(staging, copies(present[0], limit - len(present)))) == []
    extra = copies(present[0], limit + 1 - len(present))
    assert messages(aws.aws_quotas, added(staging, extra)) == [
        over(extra[-1].urn, what, limit + 1, limit, f"quotas ({source})")
    ]


def test_health_checks_count_against_the_quota_the_stack_states(staging):
    present = staging.of_type(aws.HEALTH_CHECK)
    extra = copies(present[0], 260 - len(present))
    raised = {(aws.HEALTH_CHECK, aws.ACCOUNT): 260}
    assert messages(aws.aws_quotas, added(staging, extra), raised=raised) == []
    more = copies(present[0], 261 - len(present))
    assert messages(aws.aws_quotas, added(staging, more), raised=raised) == [
        f"{more[-1].urn} would be rejected by AWS: Route 53 health checks in the account: 261, over the stated "
        f"quota of 260 (multicluster:quotas) (quotas ({ROUTE53_QUOTAS}))"
    ]


def test_the_cli_hands_the_stated_quotas_to_the_judge():
    config = {**fleet(aws_cluster("aws-use1", "us-east-1", 1))}
    config["multicluster:quotas"] = {
        "aws": {"elasticIps": {"us-east-1": 9}, "securityGroupRules": {"us-east-1": 120}, "route53HealthChecks": 400}
    }
    raw, project = namespace_settings(settings_of(config))
    assert raised_quotas(parse_stack_config(raw, project, "test")) == {
        ("aws:ec2/eip:Eip", "us-east-1"): 9,
        (aws.SECURITY_GROUP_RULE, "us-east-1"): 120,
        (aws.HEALTH_CHECK, aws.ACCOUNT): 400,
    }


NLB_SERVICES = ("aws-use1-istio-istio-eastwestgateway", "aws-use1-istio-istio-ingressgateway")


def test_inbound_rules_of_the_eks_cluster_security_group_count_the_rule_eks_adds(staging):
    cluster = staging.of_type("aws:eks/cluster:Cluster")[0]
    group = cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]
    # Without the NLB Services (see test_judge_limits.py for what the cloud provider adds for them) and the
    # telemetry ones (tests/test_observability.py).
    plan = without(staging, lambda r: r.name not in NLB_SERVICES and "-telemetry" not in r.name)
    rules = [
        r
        for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == group
    ]
    assert messages(aws.aws_quotas, added(plan, copies(rules[0], 59 - len(rules)))) == []
    extra = copies(rules[0], 60 - len(rules))  # 60 of the program's + EKS's own = 61
    assert messages(aws.aws_quotas, added(plan, extra)) == [
        over(
            extra[-1].urn,
            f"inbound IPv4 rules on security group {group}",
            61,
            60,
            f"Amazon VPC quotas: inbound rules per security group ({VPC_QUOTAS})",
        )
    ]


def test_peering_connections_per_vpc_are_at_most_50(prod):
    (peering,) = prod.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    vpc = peering.inputs["vpcId"]
    assert messages(aws.aws_quotas, added(prod, copies(peering, 49)), raised=shipped_quotas("prod")) == []
    extra = copies(peering, 50)
    findings = messages(aws.aws_quotas, added(prod, extra), raised=shipped_quotas("prod"))
    source = f"Amazon VPC quotas: active VPC peering connections per VPC ({VPC_QUOTAS})"
    assert findings == [
        over(extra[49].urn, f"active VPC peering connections of {vpc}", 51, 50, source),
        over(extra[49].urn, f"active VPC peering connections of {peering.inputs['peerVpcId']}", 51, 50, source),
    ]


def test_nat_gateways_are_counted_per_zone_id_from_the_subnets_outputs_then_inputs(prod):
    nat = one(prod, "aws-use1-nat-0", "aws:ec2/natGateway:NatGateway")
    subnet = aws.Index(prod).ref(nat.inputs["subnetId"])
    zone_id = subnet.outputs["availabilityZoneId"]
    assert zone_id == subnet.inputs["availabilityZoneId"]  # the program places subnets by zone id
    assert messages(aws.aws_quotas, added(prod, copies(nat, 4)), raised=shipped_quotas("prod")) == []
    extra = copies(nat, 5)
    expected = [
        over(
            extra[-1].urn,
            f"NAT gateways in {zone_id}",
            6,
            5,
            f"Amazon VPC quotas: NAT gateways per Availability Zone ({VPC_QUOTAS})",
        )
    ]
    assert messages(aws.aws_quotas, added(prod, extra), raised=shipped_quotas("prod")) == expected
    # Without the provider's answer (its zone not known yet), the zone id the program asked for still counts.
    unanswered = edited(prod, subnet, outputs=lambda o: o.update(availabilityZoneId=UNKNOWN, availabilityZone=UNKNOWN))
    assert messages(aws.aws_quotas, added(unanswered, extra), raised=shipped_quotas("prod")) == expected


def test_inline_policies_of_one_role_are_at_most_10240_characters(staging):
    policy = one(staging, "aws-use1-backup-velero", "aws:iam/rolePolicy:RolePolicy")
    role = policy.inputs["role"]
    same_role = [p for p in staging.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role]
    others = sum(aws._policy_length(p.inputs["policy"]) for p in same_role if p.urn != policy.urn)

    def document(size: int) -> dict:
        statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::"}
        padding = (
            size - others - len(json.dumps({"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":")))
        )
        statement["Resource"] += "b" * padding
        return {"Version": "2012-10-17", "Statement": [statement]}

    at_limit = edited(staging, policy, inputs=lambda i: i.__setitem__("policy", json.dumps(document(10240), indent=2)))
    assert messages(aws.aws_quotas, at_limit) == []  # whitespace does not count
    over_limit = edited(staging, policy, inputs=lambda i: i.__setitem__("policy", json.dumps(document(10241))))
    assert messages(aws.aws_quotas, over_limit) == [
        over(
            same_role[-1].urn,
            f"inline policy characters (without whitespace) on role {role}",
            10241,
            10240,
            f"IAM quotas: inline policy size per role ({IAM_QUOTAS})",
        )
    ]


# --- EKS networking -----------------------------------------------------------------------------------------

EKS_NETWORK_DOC = "https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html"


def cluster_subnets(plan: Plan) -> tuple[PlannedResource, list[PlannedResource]]:
    cluster = plan.of_type("aws:eks/cluster:Cluster")[0]
    index = aws.Index(plan)
    return cluster, [index.ref(s) for s in cluster.inputs["vpcConfig"]["subnetIds"]]


def test_eks_cluster_subnets_in_a_single_zone_are_refused(staging):
    cluster, subnets = cluster_subnets(staging)
    first = subnets[0]
    plan = staging
    for subnet in subnets[1:]:
        plan = edited(
            plan,
            subnet,
            inputs=lambda i: i.__setitem__("availabilityZoneId", first.inputs["availabilityZoneId"]),
            outputs=lambda o: o.update(
                availabilityZoneId=first.outputs["availabilityZoneId"],
                availabilityZone=first.outputs["availabilityZone"],
            ),
        )
    assert messages(aws.eks_networking, plan) == [
        rejected(
            cluster.urn,
            "AWS",
            "the cluster's subnets must be in at least two availability zones",
            "Amazon EKS User Guide, network requirements: 'at least two subnets that are in different "
            f"Availability Zones' ({EKS_NETWORK_DOC})",
        )
    ]


def test_an_eks_subnet_in_an_unsupported_zone_id_is_refused(staging):
    cluster, subnets = cluster_subnets(staging)
    plan = edited(
        staging,
        subnets[0],
        inputs=lambda i: i.__setitem__("availabilityZoneId", "use1-az3"),
        outputs=lambda o: o.update(availabilityZoneId="use1-az3", availabilityZone="us-east-1e"),
    )
    expected = [
        rejected(
            cluster.urn,
            "AWS",
            f"subnet {subnets[0].name} is in availability zone use1-az3, where EKS does not run control planes",
            "Amazon EKS User Guide, subnet requirements for clusters: no subnets in use1-az3, usw1-az2 or cac1-az3 "
            f"(UnsupportedAvailabilityZoneException) ({EKS_NETWORK_DOC}#network-requirements-subnets)",
        )
    ]
    assert messages(aws.eks_networking, plan) == expected
    # Placed by zone id and not answered yet: the id the program asked for is judged.
    pending = edited(
        staging,
        subnets[0],
        inputs=lambda i: i.__setitem__("availabilityZoneId", "use1-az3"),
        outputs=lambda o: o.update(availabilityZoneId=UNKNOWN, availabilityZone=UNKNOWN),
    )
    assert messages(aws.eks_networking, pending) == expected


def test_an_eks_subnet_in_a_local_zone_is_refused(staging):
    cluster, subnets = cluster_subnets(staging)
    plan = edited(
        staging,
        subnets[1],
        outputs=lambda o: o.update(availabilityZone="us-east-1-bos-1a", availabilityZoneId="use1-bos1-az1"),
    )
    assert messages(aws.eks_networking, plan) == [
        rejected(
            cluster.urn,
            "AWS",
            f"subnet {subnets[1].name} is in us-east-1-bos-1a, a Local or Wavelength Zone, "
            "which EKS does not accept for the cluster's subnets",
            "Amazon EKS User Guide, Local Zones (https://docs.aws.amazon.com/eks/latest/userguide/local-zones.html)",
        )
    ]


def test_an_eks_service_range_overlapping_its_vpc_is_refused(staging):
    cluster, subnets = cluster_subnets(staging)
    vpc = aws.Index(staging).ref(subnets[0].inputs["vpcId"])
    block = vpc.inputs["cidrBlock"]
    plan = edited(staging, cluster, inputs=lambda i: i["kubernetesNetworkConfig"].__setitem__("serviceIpv4Cidr", block))
    assert messages(aws.eks_networking, plan) == [
        rejected(
            cluster.urn,
            "AWS",
            f"service CIDR {block} overlaps the VPC CIDR {block}",
            "AWS API model eks KubernetesNetworkConfigRequest.serviceIpv4Cidr: 'doesn't overlap with resources "
            "in other networks that are peered or connected to your VPC'",
        )
    ]


def test_eks_networking_in_a_first_preview_skips_what_is_not_known(staging_preview):
    cluster = staging_preview.of_type("aws:eks/cluster:Cluster")[0]
    assert all(s == UNKNOWN or s is UNKNOWN for s in cluster.inputs["vpcConfig"]["subnetIds"])
    assert messages(aws.eks_networking, staging_preview) == []
    for subnet in staging_preview.of_type("aws:ec2/subnet:Subnet"):
        assert subnet.outputs["availabilityZone"] is UNKNOWN  # the provider answers it during the update


# --- CRDs ---------------------------------------------------------------------------------------------

CRD_SOURCE = "k8s.io/apiextensions-apiserver pkg/apiserver/validation: the CRD's openAPIV3Schema (security.istio.io/v1)"
PEER_AUTHENTICATION = "kubernetes:security.istio.io/v1:PeerAuthentication"


def test_custom_resources_against_their_crd_schema(staging, upstream):
    resource = staging.of_type(PEER_AUTHENTICATION)[0]
    assert messages(crds.custom_resources, staging, upstream) == []
    bogus = edited(staging, resource, inputs=lambda i: i["spec"].__setitem__("bogus", 1))
    assert messages(crds.custom_resources, bogus, upstream) == [
        rejected(
            resource.urn,
            "Kubernetes",
            "PeerAuthentication spec: Additional properties are not allowed ('bogus' was unexpected)",
            CRD_SOURCE,
        )
    ]
    mode = edited(staging, resource, inputs=lambda i: i["spec"]["mtls"].__setitem__("mode", "BOGUS"))
    assert messages(crds.custom_resources, mode, upstream) == [
        rejected(
            resource.urn,
            "Kubernetes",
            "PeerAuthentication spec.mtls.mode: 'BOGUS' is not one of ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']",
            CRD_SOURCE,
        )
    ]
    # Not known before the update: skipped, not refused.
    later = edited(staging, resource, inputs=lambda i: i["spec"]["mtls"].__setitem__("mode", UNKNOWN))
    assert messages(crds.custom_resources, later, upstream) == []


def test_a_custom_resource_of_a_version_no_crd_serves_is_refused(staging, upstream):
    resource = staging.of_type(PEER_AUTHENTICATION)[0]
    plan = edited(staging, resource, type="kubernetes:security.istio.io/v9:PeerAuthentication")
    assert messages(crds.custom_resources, plan, upstream) == [
        rejected(
            resource.urn,
            "Kubernetes",
            "no CustomResourceDefinition serves security.istio.io/v9 PeerAuthentication (the API server has no "
            "such resource)",
            "upstream: istio/crds/crd-all.gen.yaml",
        )
    ]


def test_without_upstream_data_custom_resources_are_not_judged(staging):
    resource = staging.of_type(PEER_AUTHENTICATION)[0]
    assert messages(crds.custom_resources, edited(staging, resource, inputs=lambda i: i.__setitem__("x", 1))) == []


# --- Helm ---------------------------------------------------------------------------------------------------

RELEASE = "kubernetes:helm.sh/v3:Release"
GATEWAY = "aws-use1-istio-istio-eastwestgateway"
ISTIO_REPOSITORY = "https://istio-release.storage.googleapis.com/charts"


def test_helm_release_values_are_validated_against_the_chart_schema(staging, upstream):
    release = one(staging, GATEWAY, RELEASE)
    assert messages(helm.helm_releases, staging, upstream) == []
    plan = edited(staging, release, inputs=lambda i: i["values"].__setitem__("bogus", 1))
    assert messages(helm.helm_releases, plan, upstream) == [
        rejected(
            release.urn,
            "Helm",
            "values of chart gateway fail its schema: (values): Additional properties are not allowed ('bogus' was "
            "unexpected)",
            "istio/charts/gateway/values.schema.json; helm.sh/helm/v3/pkg/chartutil "
            "ValidateAgainstSchema, over CoalesceValues(values.yaml, values)",
        )
    ]
    wrong_type = edited(staging, release, inputs=lambda i: i["values"].__setitem__("kind", "StatefulSet"))
    (finding,) = messages(helm.helm_releases, wrong_type, upstream)
    assert (
        "values of chart gateway fail its schema: kind: 'StatefulSet' is not one of ['Deployment', 'DaemonSet']"
        in finding
    )
    later = edited(staging, release, inputs=lambda i: i["values"].__setitem__("kind", UNKNOWN))
    assert messages(helm.helm_releases, later, upstream) == []


def test_a_helm_release_of_an_unpublished_version_is_refused(staging, upstream):
    release = one(staging, GATEWAY, RELEASE)
    plan = edited(staging, release, inputs=lambda i: i.__setitem__("version", "0.0.1"))
    newest = max(helm.published_versions(upstream)["istio (base, istiod, gateway)"], key=helm._version_key)
    assert messages(helm.helm_releases, plan, upstream) == [
        rejected(
            release.urn,
            "Helm",
            f"chart gateway 0.0.1 is not published by {ISTIO_REPOSITORY} (newest: {newest})",
            "upstream/chart-versions.json 'istio (base, istiod, gateway)'",
        )
    ]


def test_a_helm_release_of_a_chart_outside_the_table_is_refused_even_without_upstream(staging):
    release = one(staging, GATEWAY, RELEASE)
    plan = edited(staging, release, inputs=lambda i: i.__setitem__("chart", "nope"))
    assert messages(helm.helm_releases, plan) == [
        rejected(
            release.urn,
            "the project",
            f"chart 'nope' of {ISTIO_REPOSITORY} is not in the chart table (components/charts.py)",
            "components/charts.py: every chart the program installs is listed there",
        )
    ]


def test_helm_values_unknown_in_a_first_preview_are_not_judged(staging_preview, upstream):
    releases = staging_preview.of_type(RELEASE)
    assert any("[unknown]" in repr(r.inputs.get("values")) for r in releases)
    assert messages(helm.helm_releases, staging_preview, upstream) == []


# --- Google: APIs, quotas, node pools ---------------------------------------------------------------------

APIS_DOC = (
    "https://cloud.google.com/service-usage/docs/enable-disable (SERVICE_DISABLED: 'has not been used in project')"
)


def test_a_resource_of_an_api_nothing_enables_is_refused(staging):
    plan = without(
        staging, lambda r: not (r.type == gcp.SERVICE and r.inputs.get("service") == "container.googleapis.com")
    )
    users = [r for r in staging.resources if r.custom and gcp.api_of(r.type) == "container.googleapis.com"]
    assert {r.type for r in users} == {"gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool"}
    assert messages(gcp.apis_enabled, plan) == [
        rejected(
            r.urn,
            "Google Cloud",
            "container.googleapis.com is not enabled in project acme-staging (nothing in the plan enables it)",
            APIS_DOC,
        )
        for r in users
    ]


def test_a_resource_that_does_not_wait_for_its_api_is_refused(staging):
    pool = staging.of_type("gcp:container/nodePool:NodePool")[0]
    (hasty,) = [dataclasses.replace(c, dependencies=[]) for c in copies(pool, 1)]
    assert messages(gcp.apis_enabled, added(staging, [hasty])) == [
        rejected(
            hasty.urn,
            "Google Cloud",
            "it does not wait for container.googleapis.com to be enabled in project "
            "acme-staging (no dependency on the Service)",
            APIS_DOC,
        )
    ]


def test_service_account_iam_members_need_the_iam_api(staging):
    member = staging.of_type("gcp:serviceaccount/iAMMember:IAMMember")[0]
    assert gcp.api_of(member.type) == "iam.googleapis.com"
    plan = without(staging, lambda r: not (r.type == gcp.SERVICE and r.inputs.get("service") == "iam.googleapis.com"))
    assert any(member.urn in f and "iam.googleapis.com is not enabled" in f for f in messages(gcp.apis_enabled, plan))


def test_buckets_and_their_iam_need_cloud_storage_enabled(staging):
    """Not on by default in a project created through the API (only the console and gcloud enable it)."""
    users = [r for r in staging.resources if r.custom and r.type.startswith("gcp:storage/")]
    assert {"gcp:storage/bucket:Bucket", gcp.BUCKET_IAM} <= {r.type for r in users}
    assert messages(gcp.apis_enabled, staging) == []
    plan = without(
        staging, lambda r: not (r.type == gcp.SERVICE and r.inputs.get("service") == "storage.googleapis.com")
    )
    assert messages(gcp.apis_enabled, plan) == [
        rejected(
            r.urn,
            "Google Cloud",
            "storage.googleapis.com is not enabled in project acme-staging (nothing in the plan enables it)",
            APIS_DOC,
        )
        for r in users
    ]


def test_a_bucket_grant_counts_against_the_bucket_project_not_its_provider(staging):
    """Granting on a bucket is a Cloud Storage call in the bucket's project (the quota project rule), so a grant
    through another project's provider must still wait for Cloud Storage where the bucket is."""
    grant = staging.of_type(gcp.BUCKET_IAM)[0]
    provider = staging.by_urn(grant.provider_urn)
    (other,) = copies(provider, 1, lambda _, inputs: inputs.update(project="acme-other"))
    (moved,) = [dataclasses.replace(c, dependencies=[], provider=f"{other.urn}::{other.id}") for c in copies(grant, 1)]
    assert messages(gcp.apis_enabled, added(staging, [other, moved])) == [
        rejected(
            moved.urn,
            "Google Cloud",
            "it does not wait for storage.googleapis.com to be enabled in project "
            "acme-staging (no dependency on the Service)",
            APIS_DOC,
        )
    ]


def test_vpc_peerings_per_network_count_the_gke_control_plane_peering(staging):
    cluster = staging.of_type("gcp:container/cluster:Cluster")[0]
    network = gcp._network_key(cluster.inputs["network"])
    template = dataclasses.replace(
        cluster,
        type="gcp:compute/networkPeering:NetworkPeering",
        urn=cluster.urn.replace("gcp:container/cluster:Cluster", "gcp:compute/networkPeering:NetworkPeering"),
        inputs={"network": cluster.inputs["network"], "peerNetwork": "projects/x/global/networks/y"},
    )
    assert messages(gcp.gcp_quotas, added(staging, copies(template, 24))) == []
    extra = copies(template, 25)
    assert messages(gcp.gcp_quotas, added(staging, extra)) == [
        rejected(
            cluster.urn,
            "Google Cloud",
            f"26 VPC peerings on network {network}, over the quota of 25",
            "VPC quotas: peerings per network (https://cloud.google.com/vpc/docs/quota)",
        )
    ]
    # A Private Service Connect cluster (no master CIDR) adds no peering.
    psc = edited(added(staging, extra), cluster, inputs=lambda i: i["privateClusterConfig"].pop("masterIpv4CidrBlock"))
    assert messages(gcp.gcp_quotas, psc) == []


@pytest.mark.parametrize(
    ("type_", "limit", "what"),
    [
        ("gcp:serviceaccount/account:Account", 100, "service accounts"),
        ("gcp:projects/iAMCustomRole:IAMCustomRole", 300, "custom roles"),
    ],
)
def test_iam_resources_per_project_are_within_the_quota(staging, type_, limit, what):
    present = staging.of_type(type_)
    assert messages(gcp.gcp_quotas, added(staging, copies(present[0], limit - len(present)))) == []
    extra = copies(present[0], limit + 1 - len(present))
    assert messages(gcp.gcp_quotas, added(staging, extra)) == [
        rejected(
            extra[-1].urn,
            "Google Cloud",
            f"{limit + 1} {what} in project acme-staging, over the quota of {limit}",
            "IAM quotas (https://cloud.google.com/iam/quotas)",
        )
    ]


def test_a_node_pool_of_a_release_channel_cluster_keeps_auto_upgrade(prod):
    pool = prod.of_type("gcp:container/nodePool:NodePool")[0]
    off = edited(prod, pool, inputs=lambda i: i["management"].__setitem__("autoUpgrade", False))
    assert messages(gcp.node_pool_auto_upgrade, off) == [
        rejected(
            pool.urn,
            "Google Cloud",
            "management.autoUpgrade is false but its cluster is on the STABLE release channel",
            gcp.RELEASE_CHANNELS_DOC,
        )
    ]
    cluster = prod.of_type("gcp:container/cluster:Cluster")[0]
    unenrolled = edited(off, cluster, inputs=lambda i: i["releaseChannel"].__setitem__("channel", "UNSPECIFIED"))
    assert messages(gcp.node_pool_auto_upgrade, unenrolled) == []


# --- reachability ------------------------------------------------------------------------------------------

WEBHOOK = "gcp-usc1-control-plane-webhooks"


def test_a_gke_control_plane_reaches_the_webhooks_on_its_nodes(staging, staging_preview):
    cluster = staging.of_type("gcp:container/cluster:Cluster")[0]
    master = cluster.inputs["privateClusterConfig"]["masterIpv4CidrBlock"]
    assert messages(reachability.gke_webhooks, staging) == []
    closed = without(staging, lambda r: r.name != WEBHOOK)
    expected = [
        unreachable(
            cluster.urn,
            f"the GKE control plane of gcp-usc1 ({master}) cannot reach the istiod sidecar injector "
            "and validation webhooks on its nodes (tcp/15017): no firewall rule opens it, and GKE's own rule "
            "opens only 443 and 10250",
            reachability.GKE_FIREWALL_DOC,
        )
    ]
    assert messages(reachability.gke_webhooks, closed) == expected
    # The master CIDR is an input: a first preview sees the same missing rule.
    assert messages(reachability.gke_webhooks, without(staging_preview, lambda r: r.name != WEBHOOK)) == expected


def test_a_private_service_connect_control_plane_is_judged_from_its_endpoint_once_known(staging):
    cluster = staging.of_type("gcp:container/cluster:Cluster")[0]
    psc = edited(
        without(staging, lambda r: r.name != WEBHOOK),
        cluster,
        inputs=lambda i: i["privateClusterConfig"].pop("masterIpv4CidrBlock"),
    )
    endpoint = cluster.outputs["privateClusterConfig"]["privateEndpoint"]
    (finding,) = messages(reachability.gke_webhooks, psc)
    assert f"the GKE control plane of gcp-usc1 ({endpoint}/32) cannot reach the istiod" in finding
    unknown = edited(
        psc,
        cluster,
        inputs=lambda i: i["privateClusterConfig"].pop("masterIpv4CidrBlock", None),
        outputs=lambda o: o["privateClusterConfig"].__setitem__("privateEndpoint", UNKNOWN),
    )
    assert messages(reachability.gke_webhooks, unknown) == []


def test_pulumi_outside_the_fleet_cannot_reach_private_eks_endpoints(prod):
    assert messages(reachability.api_callers, prod) == []
    outside = dataclasses.replace(prod, config={k: v for k, v in prod.config.items() if k != "multicluster:deployer"})
    found = messages(reachability.api_callers, outside)
    servers = {c.name.removesuffix("-eks"): c.outputs["endpoint"] for c in prod.of_type("aws:eks/cluster:Cluster")}
    assert found == [
        unreachable(
            one(prod, f"{name}-k8s", "pulumi:providers:kubernetes").urn,
            f"Pulumi (the deployer) cannot reach {name}'s API server {server}: the endpoint is private only and "
            "Pulumi runs outside the fleet's networks (set multicluster:deployer.network to the cluster whose "
            "network the runner is in)",
            reachability.EKS_ENDPOINT_DOC,
        )
        for name, server in sorted(servers.items())
    ]


def test_a_public_eks_endpoint_admits_the_nat_addresses_of_its_callers(staging):
    cluster = one(staging, "aws-use1-eks", "aws:eks/cluster:Cluster")
    narrowed = edited(
        staging, cluster, inputs=lambda i: i["vpcConfig"].__setitem__("publicAccessCidrs", ["203.0.113.0/24"])
    )
    secret = one(staging, "gcp-usc1-istio-remote-secret-aws-use1", "kubernetes:core/v1:Secret")
    nat = [a.outputs["address"] for a in staging.of_type("gcp:compute/address:Address")]
    assert messages(reachability.api_callers, narrowed) == [
        unreachable(
            secret.urn,
            f"the mesh on gcp-usc1 cannot reach aws-use1's API server {cluster.outputs['endpoint']}: "
            f"the caller's public addresses ({', '.join(nat)}) are not in its allow list (203.0.113.0/24)",
            reachability.EKS_ENDPOINT_DOC,
        )
    ]


def test_gke_dns_endpoint_callers_need_external_traffic_and_token_support(staging):
    cluster = one(staging, "gcp-usc1-gke", "gcp:container/cluster:Cluster")
    server = "https://" + cluster.outputs["controlPlaneEndpointsConfig"]["dnsEndpointConfig"]["endpoint"]
    mesh = one(staging, "aws-use1-istio-remote-secret-gcp-usc1", "kubernetes:core/v1:Secret")
    no_tokens = edited(
        staging,
        cluster,
        inputs=lambda i: i["controlPlaneEndpointsConfig"]["dnsEndpointConfig"].__setitem__(
            "enableK8sTokensViaDns", False
        ),
    )
    assert messages(reachability.api_callers, no_tokens) == [
        unreachable(
            mesh.urn,
            f"the mesh on aws-use1 cannot reach gcp-usc1's API server {server}: it presents a "
            "Kubernetes token, which the DNS endpoint refuses unless enableK8sTokensViaDns is on",
            reachability.GKE_ENDPOINT_DOC,
        )
    ]
    closed = edited(
        staging,
        cluster,
        inputs=lambda i: i["controlPlaneEndpointsConfig"]["dnsEndpointConfig"].__setitem__(
            "allowExternalTraffic", False
        ),
    )
    callers = [
        one(staging, "gitops-gcp-usc1-secret", "kubernetes:core/v1:Secret"),
        one(staging, "gcp-usc1-k8s", "pulumi:providers:kubernetes"),
        mesh,
    ]
    who = {
        callers[0].urn: "Argo CD on aws-use1",
        callers[1].urn: "Pulumi (the deployer)",
        mesh.urn: "the mesh on aws-use1",
    }
    assert messages(reachability.api_callers, closed) == [
        unreachable(
            c.urn,
            f"{who[c.urn]} cannot reach gcp-usc1's API server {server}: its DNS endpoint does not allow "
            "external traffic (allowExternalTraffic)",
            reachability.GKE_ENDPOINT_DOC,
        )
        for c in callers
    ]


def test_api_callers_in_a_first_preview_are_skipped_not_refused(prod_preview, staging_preview):
    for plan in (prod_preview, staging_preview):
        assert messages(reachability.api_callers, plan) == []
    outside = dataclasses.replace(
        prod_preview, config={k: v for k, v in prod_preview.config.items() if k != "multicluster:deployer"}
    )
    assert messages(reachability.api_callers, outside) == []  # no endpoint known yet: nothing to judge


def test_mesh_peers_reach_internal_east_west_gateways_over_a_private_link(staging):
    assert messages(reachability.east_west, staging) == []
    unlinked = without(staging, lambda r: r.type != "gcp:compute/vPNTunnel:VPNTunnel")
    gateways = {
        c: one(staging, f"{c}-istio-istio-eastwestgateway", "kubernetes:core/v1:Service")
        for c in ("aws-use1", "gcp-usc1")
    }
    source = "Istio multi-network, Linkerd multicluster: a peer reaches the gateways of the clusters it discovers"
    assert messages(reachability.east_west, unlinked) == [
        unreachable(
            gateways["gcp-usc1"].urn,
            "aws-use1 discovers gcp-usc1 but cannot reach its internal east-west gateway (no private link)",
            source,
        ),
        unreachable(
            gateways["aws-use1"].urn,
            "gcp-usc1 discovers aws-use1 but cannot reach its internal east-west gateway (no private link)",
            source,
        ),
    ]


@pytest.fixture(scope="module")
def transit_linked():
    """An EKS and a GKE cluster linked by HA VPN to the region's transit gateway, Istio across them."""
    mesh = {"provider": "istio", "version": "1.30.3", "meshId": "m", "scope": "fleet", "mtls": "strict"}
    config = fleet(
        aws_cluster("aws-a", "us-east-1", 1),
        gcp_cluster("gcp-b", "us-central1", 2),
        connectivity={"mode": "full-mesh", "awsGateway": "transit-gateway"},
        mesh=mesh,
        failover="active-active",
    )
    return plan_config(config)


def test_an_ha_vpn_to_a_transit_gateway_links_an_attached_vpc_it_routes_to_and_from(transit_linked):
    (attachment,) = transit_linked.of_type("aws:ec2transitgateway/vpcAttachment:VpcAttachment")
    gke = transit_linked.of_type("gcp:container/cluster:Cluster")[0]
    network = reachability.gcp_network(gke.inputs["network"])
    assert reachability.Fleet(transit_linked).links == {frozenset((attachment.inputs["vpcId"], network)): "ha-vpn"}
    assert messages(reachability.east_west, transit_linked) == []
    detached = without(transit_linked, lambda r: r.urn != attachment.urn)
    source = "Istio multi-network, Linkerd multicluster: a peer reaches the gateways of the clusters it discovers"
    gateway = {
        c: one(transit_linked, f"{c}-istio-istio-eastwestgateway", "kubernetes:core/v1:Service")
        for c in ("aws-a", "gcp-b")
    }
    expected = [
        unreachable(
            gateway["gcp-b"].urn,
            "aws-a discovers gcp-b but cannot reach its internal east-west gateway (no private link)",
            source,
        ),
        unreachable(
            gateway["aws-a"].urn,
            "gcp-b discovers aws-a but cannot reach its internal east-west gateway (no private link)",
            source,
        ),
    ]
    assert messages(reachability.east_west, detached) == expected
    # Attached is not enough: the transit gateway's route tables and the VPC's routes carry the traffic.
    for missing in (
        "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
        "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
        "aws:ec2/route:Route",
    ):
        unrouted = without(transit_linked, lambda r, t=missing: r.type != t or "tgw" not in r.urn + str(r.inputs))
        assert reachability.Fleet(unrouted).links == {}, missing
        assert messages(reachability.east_west, unrouted) == expected
