"""AWS entries with static addresses (#20 part 3): one Elastic IP per public subnet on the public entry's NLB, DNS
answering them in A records with the zone's TTL, so that every prod record fails over within 60 s; the Elastic IP
quota in the config and in the judge; the judge's rules for the allocations the cloud provider reads."""

from __future__ import annotations

import pytest

from components.eks import EIP_ALLOCATIONS_ANNOTATION, SUBNETS_ANNOTATION
from offline_plan.cli import raised_quotas
from offline_plan.judge import Context, aws, aws_nlb
from offline_plan.judge.aws import NLB_EIP_SOURCE, ROUTE53_API, VPC_QUOTAS
from offline_plan.mocks import Observed
from tests.support import aws_cluster, config_issues, fleet, gcp_cluster, plan_config
from tests.test_judge_plans import edited, messages, rejected
from tests.test_outage import config_of

EIP = "aws:ec2/eip:Eip"
SERVICE = "kubernetes:core/v1:Service"
SUBNET = "aws:ec2/subnet:Subnet"
RELEASE = "kubernetes:helm.sh/v3:Release"
DNS = {"provider": "route53", "zone": "example.com", "records": [{"name": "webapp"}]}


def entry_eips(plan, cluster: str) -> list:
    return sorted((r for r in plan.of_type(EIP) if r.name.startswith(f"{cluster}-entry-")), key=lambda r: r.name)


# --- the cluster reserves the addresses, the entry's NLB holds them ------------------------------------------


def test_the_istio_ingress_nlb_holds_one_elastic_ip_per_public_subnet(staging):
    eips = entry_eips(staging, "aws-use1")
    public = [staging.named(f"aws-use1-public-{i}", SUBNET) for i in range(3)]
    assert [e.name for e in eips] == ["aws-use1-entry-0", "aws-use1-entry-1", "aws-use1-entry-2"]
    assert {e.input("domain") for e in eips} == {"vpc"}
    service = staging.named("aws-use1-istio-istio-ingressgateway", SERVICE)
    annotations = service.input("metadata.annotations")
    # Paired by position with the named subnets (cloud-provider-aws createSubnetMappings): the counts match.
    assert annotations[EIP_ALLOCATIONS_ANNOTATION] == ",".join(e.output("allocationId") for e in eips)
    assert annotations[SUBNETS_ANNOTATION] == ",".join(s.id for s in public)
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert "service.beta.kubernetes.io/aws-load-balancer-internal" not in annotations
    # A new name: the provider attaches Elastic IPs only to a load balancer it creates.
    assert service.input("metadata.name") == "istio-ingressgateway-eip"


def test_gcp_entries_and_east_west_gateways_get_no_reserved_addresses(staging):
    gcp = staging.named("gcp-usc1-istio-istio-ingressgateway", SERVICE)
    assert gcp.input("metadata.name") == "istio-ingressgateway"
    assert EIP_ALLOCATIONS_ANNOTATION not in (gcp.input("metadata.annotations") or {})
    eastwest = staging.named("aws-use1-istio-istio-eastwestgateway", SERVICE)
    assert EIP_ALLOCATIONS_ANNOTATION not in eastwest.input("metadata.annotations")
    assert staging.outputs["dns"]["answers"]["gcp-usc1"] == [staging.outputs["dns"]["ingressAddresses"]["gcp-usc1"]]


def test_without_dns_no_address_is_reserved():
    plan = plan_config(fleet(aws_cluster("use1", "us-east-1", 1), mesh={"provider": "istio", "version": "1.30.3"}))
    assert entry_eips(plan, "use1") == []
    service = plan.named("use1-istio-istio-ingressgateway", SERVICE)
    assert service.input("metadata.name") == "istio-ingressgateway"
    assert EIP_ALLOCATIONS_ANNOTATION not in service.input("metadata.annotations")


def test_the_fallback_traefik_entry_holds_the_addresses_and_publishes_its_renamed_service():
    plan = plan_config(
        fleet(aws_cluster("use1", "us-east-1", 1), gcp_cluster("gew3", "europe-west3", 2, role="standby"), dns=DNS)
    )
    aws_service = plan.named("use1-ingress-lb", SERVICE)
    assert aws_service.input("metadata.name") == "traefik-public-eip"
    assert aws_service.input("metadata.annotations")[EIP_ALLOCATIONS_ANNOTATION] == ",".join(
        e.output("allocationId") for e in entry_eips(plan, "use1")
    )
    # Traefik writes the Ingress status from the Service it is told of.
    release = plan.named("use1-ingress-traefik", RELEASE)
    assert release.input("values.providers.kubernetesIngress.publishedService.pathOverride") == (
        "traefik/traefik-public-eip"
    )
    gcp_release = plan.named("gew3-ingress-traefik", RELEASE)
    assert gcp_release.input("values.providers.kubernetesIngress.publishedService.pathOverride") == (
        "traefik/traefik-public"
    )


def test_records_answer_the_elastic_ips_once_the_service_holding_them_exists(staging):
    (record,) = [
        r
        for r in staging.of_type("aws:route53/record:Record")
        if r.input("setIdentifier") == "aws-use1" and r.input("name") == "webapp.staging.example.com"
    ]
    assert record.input("type") == "A" and record.input("ttl") == 30 and record.input("aliases") is None
    assert record.input("records") == [e.output("publicIp") for e in entry_eips(staging, "aws-use1")]
    # The answers are gated on the Service's address: a new entry is answered only once its NLB exists.
    service = staging.named("aws-use1-istio-istio-ingressgateway", SERVICE)
    assert service.urn in record.dependencies


def test_every_prod_record_fails_over_within_a_minute(prod):
    config = config_of("prod")
    assert config.dns is not None
    assert (config.dns.interval, config.dns.health_check.failure_threshold, config.dns.ttl) == (10, 3, 30)
    seconds = {name: r["failoverSeconds"] for name, r in prod.outputs["dns"]["records"].items()}
    assert seconds == {"webapp": 60, "api": 60}


# --- the Elastic IP quota ----------------------------------------------------------------------------------


def issues(config: dict) -> list[str]:
    return config_issues(config)


def per_zone(name: str, region: str, index: int) -> dict:
    cluster = aws_cluster(name, region, index)
    cluster["network"]["natGateways"] = "perZone"
    return cluster


def test_elastic_ips_over_the_default_quota_are_refused_with_the_key_that_states_a_raised_one():
    two = (per_zone("use1", "us-east-1", 1), per_zone("use1b", "us-east-1", 2))
    assert issues(fleet(*two, failover="active-active", dns=DNS)) == [
        "multicluster:clusters[0].region the EKS clusters in us-east-1 need 12 Elastic IPs (use1 6, use1b 6: one "
        "per NAT gateway and, with multicluster:dns, one per zone for the public entry), over the default quota of "
        "5: raise it (Service Quotas: Amazon EC2 'EC2-VPC Elastic IPs' (L-0263D0A3)) and state it in "
        "multicluster:quotas.aws.elasticIps.us-east-1, or use natGateways: single"
    ]


def test_a_stated_quota_is_counted_against_and_can_still_be_too_small():
    two = (per_zone("use1", "us-east-1", 1), per_zone("use1b", "us-east-1", 2))
    raised = {"aws": {"elasticIps": {"us-east-1": 12}}}
    assert issues(fleet(*two, failover="active-active", dns=DNS, quotas=raised)) == []
    (issue,) = issues(fleet(*two, failover="active-active", dns=DNS, quotas={"aws": {"elasticIps": {"us-east-1": 11}}}))
    assert "need 12 Elastic IPs" in issue and "over the stated quota of 11" in issue


@pytest.mark.parametrize(
    ("cluster", "settings"),
    [
        (per_zone("use1", "us-east-1", 1), {}),  # 3 NAT, no DNS
        (aws_cluster("use1", "us-east-1", 1), {"dns": DNS}),  # 1 NAT + 3 for the entry
    ],
)
def test_fleets_within_the_default_quota_need_no_statement(cluster, settings):
    assert issues(fleet(cluster, **settings)) == []


def test_quotas_name_aws_regions():
    (issue,) = issues(fleet(aws_cluster("use1", "us-east-1", 1), quotas={"aws": {"elasticIps": {"us-east-01": 10}}}))
    assert issue.startswith("multicluster:quotas.aws.elasticIps")
    assert "'us-east-01' is not an AWS region (did you mean 'us-east-1'?)" in issue


def test_the_judge_counts_elastic_ips_against_the_quota_the_stack_states(prod):
    source = f"quotas ({VPC_QUOTAS})"
    default = [str(f) for f in aws.aws_quotas(prod, Context())]
    sixth = prod.named("aws-use1-nat-2", EIP).urn
    assert (
        rejected(sixth, "AWS", "Elastic IP addresses in one region (us-east-1): 6, over the default quota of 5", source)
        in default
    )
    assert [str(f) for f in aws.aws_quotas(prod, Context(raised_quotas=raised_quotas(config_of("prod"))))] == []
    smaller = Context(raised_quotas={(EIP, "us-east-1"): 4, (EIP, "us-west-2"): 10})
    fifth = prod.named("aws-use1-nat-1", EIP).urn
    assert [str(f) for f in aws.aws_quotas(prod, smaller)] == [
        rejected(
            fifth,
            "AWS",
            "Elastic IP addresses in one region (us-east-1): 6, over the stated quota of 4 (multicluster:quotas)",
            source,
        )
    ]


# --- the judge: what the cloud provider refuses of the allocations -------------------------------------------


def ingress(plan):
    return plan.named("aws-use1-istio-istio-ingressgateway", SERVICE)


def annotated(plan, **changes: str | None):
    def change(inputs: dict) -> None:
        annotations = inputs["metadata"]["annotations"]
        for key, value in changes.items():
            if value is None:
                annotations.pop(key, None)
            else:
                annotations[key] = value

    return edited(plan, ingress(plan), inputs=change)


def allocations(plan) -> list[str]:
    return ingress(plan).input("metadata.annotations")[EIP_ALLOCATIONS_ANNOTATION].split(",")


def finding(plan, rule: str) -> str:
    return rejected(ingress(plan).urn, "AWS", rule, NLB_EIP_SOURCE)


def test_the_shipped_allocations_pass(staging):
    assert messages(aws.nlb_elastic_ips, staging) == []


def test_one_allocation_per_load_balancer_subnet(staging):
    fewer = annotated(staging, **{EIP_ALLOCATIONS_ANNOTATION: ",".join(allocations(staging)[:2])})
    assert messages(aws.nlb_elastic_ips, fewer) == [
        finding(staging, "Must have same number of EIP AllocationIDs (2) and SubnetIDs (3)")
    ]
    # Without the subnets annotation the provider discovers the VPC's public subnets, one per zone: three here.
    discovered = annotated(staging, **{SUBNETS_ANNOTATION: None})
    assert messages(aws.nlb_elastic_ips, discovered) == []


def test_load_balancer_subnets_of_one_zone_are_refused(staging):
    same_zone = ",".join(
        [staging.named("aws-use1-public-0", SUBNET).id, staging.named("aws-use1-private-0", SUBNET).id]
    )
    plan = annotated(staging, **{SUBNETS_ANNOTATION: same_zone})
    assert messages(aws.nlb_elastic_ips, plan) == [
        finding(staging, "Must have same number of EIP AllocationIDs (3) and SubnetIDs (2)"),
        finding(staging, "the load balancer's subnets share an Availability Zone"),
    ]


def test_an_internal_load_balancer_takes_no_elastic_ips(staging):
    plan = annotated(staging, **{"service.beta.kubernetes.io/aws-load-balancer-internal": "true"})
    assert finding(staging, "Elastic IP allocations on an internal load balancer") in messages(
        aws.nlb_elastic_ips, plan
    )


def test_an_elastic_ip_a_nat_gateway_holds_is_refused(staging):
    nat = staging.named("aws-use1-nat-0", EIP)
    taken = annotated(staging, **{EIP_ALLOCATIONS_ANNOTATION: ",".join([nat.id, *allocations(staging)[1:]])})
    assert messages(aws.nlb_elastic_ips, taken) == [
        finding(staging, "Elastic IP aws-use1-nat-0 is already held by NAT gateway aws-use1-nat-0")
    ]


def test_unknown_allocations_in_a_first_preview_are_not_judged(staging_preview):
    annotations = ingress(staging_preview).inputs["metadata"]["annotations"]
    assert EIP_ALLOCATIONS_ANNOTATION in annotations
    assert messages(aws.nlb_elastic_ips, staging_preview) == []


def test_allocations_that_change_on_a_kept_load_balancer_are_never_attached(staging):
    service = ingress(staging)
    now = service.input("metadata.annotations")[EIP_ALLOCATIONS_ANNOTATION]
    before = {"metadata": {**service.inputs["metadata"], "annotations": {EIP_ALLOCATIONS_ANNOTATION: "eipalloc-0old"}}}
    kept = Context(base={service.urn: {"inputs": before}})
    assert [str(f) for f in aws.nlb_elastic_ips(staging, kept)] == [
        finding(
            staging,
            f"the Elastic IP allocations change (eipalloc-0old -> {now}) on a Service that keeps its name and load "
            "balancer: the cloud provider attaches allocations only when it creates the load balancer, so these are "
            "never attached (give the Service a new name to get a new load balancer)",
        )
    ]
    # The day-two move: the Service of the old name had none, the new name makes a new load balancer.
    renamed = {"metadata": {**service.inputs["metadata"], "name": "istio-ingressgateway", "annotations": {}}}
    assert [str(f) for f in aws.nlb_elastic_ips(staging, Context(base={service.urn: {"inputs": renamed}}))] == []
    unchanged = Context(base={service.urn: {"inputs": service.inputs}})
    assert [str(f) for f in aws.nlb_elastic_ips(staging, unchanged)] == []


def test_subnets_named_by_a_tag_no_subnet_holds_are_refused(staging):
    plan = annotated(
        staging, **{SUBNETS_ANNOTATION: "staging-aws-use1-public-0,no-such-subnet,staging-aws-use1-public-2"}
    )
    assert messages(aws.nlb_elastic_ips, plan) == [
        rejected(ingress(staging).urn, "AWS", "expected to find 3, but found 2 subnets", aws_nlb.SUBNETS_SOURCE)
    ]
    by_name = annotated(staging, **{SUBNETS_ANNOTATION: ",".join(f"staging-aws-use1-public-{i}" for i in range(3))})
    assert messages(aws.nlb_elastic_ips, by_name) == []


# --- the judge: calculated health checks -------------------------------------------------------------------

CHECK = "aws:route53/healthCheck:HealthCheck"
ROUTE53_SOURCE = f"Amazon Route 53 API Reference, HealthCheckConfig ({ROUTE53_API}/API_HealthCheckConfig.html)"


def judged(check, **changes) -> list[str]:
    """The health-check rules on `check`'s inputs with `changes` applied."""
    inputs = {**check.inputs, **changes}
    return [str(f) for f in aws.route53_health_check(Observed(check.urn, CHECK, check.name, inputs, {}))]


def test_the_calculated_check_of_an_aws_entry_passes_and_its_rules_hold_both_ways(staging):
    check = staging.named("dns-check-aws-use1", CHECK)
    assert (check.input("type"), check.input("childHealthThreshold"), len(check.input("childHealthchecks"))) == (
        "CALCULATED",
        3,
        3,
    )
    assert judged(check) == []
    source = (
        f"{ROUTE53_SOURCE}: HealthThreshold, 'If you specify a number greater than the number of child health "
        "checks, Route 53 always considers this health check to be unhealthy'"
    )
    assert judged(check, childHealthThreshold=4) == [
        f"{check.urn} would not work: childHealthThreshold 4 is more than its 3 child health checks: always "
        f"unhealthy ({source})"
    ]
    assert judged(check, port=80) == [
        rejected(
            check.urn,
            "AWS",
            "a CALCULATED health check takes no port",
            f"{ROUTE53_SOURCE}: Port, 'Don't specify a value for Port when you specify a value for Type of "
            "CLOUDWATCH_METRIC or CALCULATED'",
        )
    ]
    probe = staging.named("dns-check-aws-use1-0", CHECK)
    assert judged(probe) == []
    assert judged(probe, childHealthchecks=["x"]) == [
        rejected(
            probe.urn,
            "AWS",
            "childHealthchecks on a HTTP health check",
            f"{ROUTE53_SOURCE}: ChildHealthChecks, '(CALCULATED Health Checks Only)'",
        )
    ]
