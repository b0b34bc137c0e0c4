"""Guardrails: every shipped stack passes; each rule reports its violation on a broken variant."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pulumi_policy import PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.policy import PolicyCustomTimeouts, PolicyProviderResource, PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from offline_plan.policy import policy_resources, run_policies, stack_facts
from policy import guardrails as g
from policy import pack
from tests.support import SHIPPED, aws_cluster, fleet, gcp_cluster, plan_config

GITOPS = {"hub": "aws-use1", "chartVersion": "10.1.1", "repoUrl": "https://github.com/acme/apps", "revision": "main"}
BACKUP = {"schedules": [{"name": "nightly", "cron": "0 3 * * *"}]}


def full_fleet(dns_provider: str = "route53", **settings: Any) -> dict[str, Any]:
    """Every capability that has resources the rules look at (AWS+GCP, or GCP-only for Cloud DNS)."""
    if dns_provider == "route53":
        clusters = [
            aws_cluster("aws-use1", "us-east-1", 1),
            gcp_cluster("gcp-euw1", "europe-west1", 2, role="standby"),
            aws_cluster("aws-usw2", "us-west-2", 3, role="standby"),
        ]
        gitops = GITOPS
    else:
        clusters = [gcp_cluster("gcp-use1", "us-east1", 1), gcp_cluster("gcp-euw1", "europe-west1", 2, role="standby")]
        gitops = GITOPS | {"hub": "gcp-use1"}
    dns = {"provider": dns_provider, "zone": "example.com", "ttl": 30, "records": [{"name": "webapp"}]}
    settings = {"environment": "prod", "backup": BACKUP, "gitops": gitops, "dns": dns} | settings
    return fleet(*clusters, **settings)


@pytest.fixture(scope="module")
def prod_plan():
    return plan_config(full_fleet())


@pytest.fixture(scope="module")
def clouddns_plan():
    return plan_config(full_fleet("clouddns"))


def failures(results: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {r["policy"]: [v["message"] for v in r["violations"]] for r in results if r["violations"]}


def messages(rule_name: str, resources: list[g.Resource], facts: g.StackFacts) -> list[str]:
    rule = next(r for r in g.RULES if r.name == rule_name)
    return [v.message for v in g.violations_of(rule, resources, facts)]


def mutate(resources: list[g.Resource], name: str, change, type_: str | None = None) -> list[g.Resource]:
    """A copy of the resources where the one named `name` (of `type_`) has its props changed by `change(props)`."""
    out = []
    for r in resources:
        if r.name == name and type_ in (None, r.type):
            props = _deep_copy(r.props)
            change(props)
            r = dataclasses.replace(r, props=props)
        out.append(r)
    return out


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


# --- everything shipped passes ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_stacks_and_examples_pass_every_guardrail(name):
    assert failures(run_policies(plan_config(name))) == {}


def test_full_fleets_pass_every_guardrail(prod_plan, clouddns_plan):
    assert failures(run_policies(prod_plan)) == {}
    assert failures(run_policies(clouddns_plan)) == {}


def test_results_name_every_rule_as_mandatory(prod_plan):
    results = run_policies(prod_plan)
    assert [r["policy"] for r in results] == [rule.name for rule in g.RULES]
    assert {r["enforcement"] for r in results} == {"mandatory"}
    assert all(r["description"] and r["remediation"] for r in results)
    assert len({r.name for r in g.RULES}) == len(g.RULES) == 21


def test_stack_facts_come_from_the_exported_config(prod_plan):
    assert stack_facts(prod_plan) == g.StackFacts(environment="prod", backup=True, gitops=True)


# --- EKS ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod(prod_plan):
    return policy_resources(prod_plan), policy_resources(prod_plan, stack=True), stack_facts(prod_plan)


def test_eks_secrets_encryption(prod):
    resources, _, facts = prod
    broken = mutate(resources, "aws-use1-eks", lambda p: p.pop("encryptionConfig"))
    assert messages("eks-secrets-encryption", broken, facts) == [
        "EKS cluster 'test-aws-use1' (aws-use1-eks) does not encrypt Secrets: "
        "encryptionConfig.resources must include 'secrets'",
        "EKS cluster 'test-aws-use1' (aws-use1-eks) has no KMS key for Secrets: set encryptionConfig.provider.keyArn",
    ]


def test_eks_control_plane_logs(prod):
    resources, _, facts = prod
    broken = mutate(resources, "aws-usw2-eks", lambda p: p.update(enabledClusterLogTypes=["api", "audit"]))
    assert messages("eks-control-plane-logs", broken, facts) == [
        "EKS cluster 'test-aws-usw2' (aws-usw2-eks) does not log authenticator, controllerManager, scheduler: "
        "add them to enabledClusterLogTypes"
    ]


def test_eks_public_endpoint_open_to_the_world_in_prod_only():
    config = full_fleet(environment="prod")
    config["multicluster:clusters"][0]["endpoint"] = {"privateAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}
    plan = plan_config({k: v for k, v in config.items() if k not in ("multicluster:gitops", "multicluster:dns")})
    assert failures(run_policies(plan)) == {
        "eks-private-endpoint": [
            "EKS cluster 'test-aws-use1' (aws-use1-eks) exposes its API to 0.0.0.0/0 in prod: remove it from "
            "vpcConfig.publicAccessCidrs (endpoint.publicAccessCidrs in the stack config)"
        ]
    }
    resources = policy_resources(plan)
    staging = g.StackFacts(environment="staging")
    assert messages("eks-private-endpoint", resources, staging) == []
    private_off = mutate(resources, "aws-use1-eks", lambda p: p["vpcConfig"].update(endpointPrivateAccess=False))
    assert messages("eks-private-endpoint", private_off, stack_facts(plan))[0] == (
        "EKS cluster 'test-aws-use1' (aws-use1-eks) has no private endpoint in prod: "
        "set vpcConfig.endpointPrivateAccess to true"
    )
    no_cidrs = mutate(resources, "aws-use1-eks", lambda p: p["vpcConfig"].pop("publicAccessCidrs"))
    assert (
        "public endpoint without publicAccessCidrs" in messages("eks-private-endpoint", no_cidrs, stack_facts(plan))[0]
    )


def test_eks_imdsv2_and_encrypted_volumes(prod):
    resources, _, facts = prod
    lt = g.LAUNCH_TEMPLATE
    imds = mutate(resources, "aws-use1-system", lambda p: p["metadataOptions"].update(httpTokens="optional"), lt)
    assert messages("eks-imdsv2", imds, facts) == [
        "launch template 'aws-use1-system-ac28183' (aws-use1-system) allows IMDSv1: "
        "set metadataOptions.httpTokens to 'required'"
    ]
    plain = mutate(
        resources, "aws-use1-system", lambda p: p["blockDeviceMappings"][0]["ebs"].update(encrypted="false"), lt
    )
    assert messages("eks-encrypted-node-volumes", plain, facts) == [
        "launch template 'aws-use1-system-ac28183' (aws-use1-system) has an unencrypted volume /dev/xvda: "
        "set ebs.encrypted to 'true'"
    ]
    default = mutate(resources, "aws-use1-system", lambda p: p.pop("blockDeviceMappings"), lt)
    assert "leaves the root volume to the AMI default" in messages("eks-encrypted-node-volumes", default, facts)[0]


# --- GKE ---------------------------------------------------------------------------------------------


GKE_BREAKS = [
    (
        "gke-private-nodes",
        "gcp-euw1-gke",
        lambda p: p["privateClusterConfig"].update(enablePrivateNodes=False),
        "GKE cluster 'test-gcp-euw1' (gcp-euw1-gke) gives nodes public IPs: "
        "set privateClusterConfig.enablePrivateNodes to true",
    ),
    (
        "gke-workload-identity",
        "gcp-euw1-gke",
        lambda p: p.pop("workloadIdentityConfig"),
        "GKE cluster 'test-gcp-euw1' (gcp-euw1-gke) has no Workload Identity: set workloadIdentityConfig.workloadPool",
    ),
    (
        "gke-workload-identity",
        "gcp-euw1-system",
        lambda p: p["nodeConfig"]["workloadMetadataConfig"].update(mode="GCE_METADATA"),
        "GKE node pool 'gcp-euw1-system-6765780' (gcp-euw1-system) exposes the node's metadata server to pods: "
        "set nodeConfig.workloadMetadataConfig.mode to GKE_METADATA",
    ),
    (
        "gke-shielded-nodes",
        "gcp-euw1-gke",
        lambda p: p.update(enableShieldedNodes=False),
        "GKE cluster 'test-gcp-euw1' (gcp-euw1-gke) does not require Shielded nodes: set enableShieldedNodes to true",
    ),
    (
        "gke-shielded-nodes",
        "gcp-euw1-system",
        lambda p: p["nodeConfig"].pop("shieldedInstanceConfig"),
        "GKE node pool 'gcp-euw1-system-6765780' (gcp-euw1-system) boots without Secure Boot: "
        "set nodeConfig.shieldedInstanceConfig.enableSecureBoot to true",
    ),
    (
        "gke-no-legacy-abac",
        "gcp-euw1-gke",
        lambda p: p.update(enableLegacyAbac=True),
        "GKE cluster 'test-gcp-euw1' (gcp-euw1-gke) enables legacy ABAC: set enableLegacyAbac to false",
    ),
    (
        "gke-no-default-service-account",
        "gcp-euw1-system",
        lambda p: p["nodeConfig"].update(serviceAccount="481516234200-compute@developer.gserviceaccount.com"),
        "GKE node pool 'gcp-euw1-system-6765780' (gcp-euw1-system) runs nodes as the default compute service account: "
        "set nodeConfig.serviceAccount to a dedicated account",
    ),
    (
        "gke-no-default-service-account",
        "gcp-euw1-gke",
        lambda p: p["nodeConfig"].pop("serviceAccount"),
        "GKE cluster 'test-gcp-euw1' (gcp-euw1-gke) runs nodes as the default compute service account: "
        "set nodeConfig.serviceAccount to a dedicated account",
    ),
    (
        "gke-secrets-encryption",
        "gcp-euw1-gke",
        lambda p: p["databaseEncryption"].update(state="DECRYPTED"),
        "GKE cluster 'test-gcp-euw1' (gcp-euw1-gke) does not encrypt Secrets with Cloud KMS: "
        "set databaseEncryption.state to ENCRYPTED and databaseEncryption.keyName",
    ),
]


@pytest.mark.parametrize(("rule", "name", "change", "message"), GKE_BREAKS, ids=[f"{b[0]}:{b[1]}" for b in GKE_BREAKS])
def test_gke_rules(prod, rule, name, change, message):
    resources, _, facts = prod
    assert messages(rule, resources, facts) == []
    type_ = g.GKE_CLUSTER if name.endswith("-gke") else g.GKE_NODE_POOL
    assert messages(rule, mutate(resources, name, change, type_), facts) == [message]


# --- backups -----------------------------------------------------------------------------------------


def test_s3_bucket_hardening_is_read_from_its_companion_resources(prod):
    _, resources, facts = prod
    assert messages("s3-bucket-hardened", resources, facts) == []
    bucket = next(r for r in resources if r.name == "aws-use1-backup-bucket")
    label = f"'{bucket.props['bucket']}' ({bucket.name})"
    alone = [r for r in resources if not (r.dependencies and bucket.urn in r.dependencies and "s3/bucket" in r.type)]
    assert messages("s3-bucket-hardened", alone, facts) == [
        f"S3 bucket {label} is not versioned: add a BucketVersioning with versioningConfiguration.status 'Enabled'",
        f"S3 bucket {label} is not encrypted with KMS: add a BucketServerSideEncryptionConfiguration with "
        "sseAlgorithm 'aws:kms'",
        f"S3 bucket {label} does not block public access (blockPublicAcls, blockPublicPolicy, ignorePublicAcls, "
        "restrictPublicBuckets): add a BucketPublicAccessBlock with all four flags true",
    ]
    weak = mutate(
        resources,
        "aws-use1-backup-encryption",
        lambda p: p["rules"][0]["applyServerSideEncryptionByDefault"].update(sseAlgorithm="AES256"),
    )
    weak = mutate(weak, "aws-use1-backup-public-access", lambda p: p.update(restrictPublicBuckets=False))
    weak = mutate(weak, "aws-use1-backup-versioning", lambda p: p["versioningConfiguration"].update(status="Suspended"))
    assert [m.split(" is ")[0].split(" does ")[0] for m in messages("s3-bucket-hardened", weak, facts)] == [
        f"S3 bucket {label}"
    ] * 3
    assert "(restrictPublicBuckets)" in messages("s3-bucket-hardened", weak, facts)[2]


def test_gcs_bucket_hardening(prod):
    resources, _, facts = prod
    broken = mutate(
        resources,
        "gcp-euw1-backup-bucket",
        lambda p: p.update(uniformBucketLevelAccess=False, publicAccessPrevention="inherited", versioning={}),
    )
    assert messages("gcs-bucket-hardened", broken, facts) == [
        "GCS bucket 'gcp-euw1-backup-bucket-e69af2b' (gcp-euw1-backup-bucket) allows object ACLs: "
        "set uniformBucketLevelAccess to true",
        "GCS bucket 'gcp-euw1-backup-bucket-e69af2b' (gcp-euw1-backup-bucket) can be made public: "
        "set publicAccessPrevention to 'enforced'",
        "GCS bucket 'gcp-euw1-backup-bucket-e69af2b' (gcp-euw1-backup-bucket) is not versioned: "
        "set versioning.enabled to true",
    ]


def test_buckets_must_be_protected_in_prod():
    config = full_fleet(protect=False)
    del config["multicluster:gitops"], config["multicluster:dns"]
    plan = plan_config(config)
    found = failures(run_policies(plan))
    buckets = {r.name: r for r in policy_resources(plan) if r.type in (*g.S3_BUCKETS, g.GCS_BUCKET)}
    assert found == {
        "buckets-protected-in-prod": [
            f"bucket {g.label(buckets[name + '-backup-bucket'])} is not protected in prod: "
            "set protect (multicluster:protect true)"
            for name in ("aws-use1", "aws-usw2", "gcp-euw1")
        ]
    }


# --- DNS ---------------------------------------------------------------------------------------------


def test_route53_routed_records_need_health_checks_and_short_ttls(prod):
    resources, _, facts = prod
    record = next(
        r for r in resources if r.type == g.ROUTE53_RECORD and r.props.get("healthCheckId") and "ttl" in r.props
    )
    label = f"'{record.props['name']}' ({record.name})"
    broken = mutate(resources, record.name, lambda p: p.update(ttl=300))
    assert messages("dns-health-checked-ttl", broken, facts) == [
        f"DNS record {label} is health-checked with TTL 300s: lower it to 60s"
    ]
    unchecked = mutate(resources, record.name, lambda p: p.pop("healthCheckId"))
    assert messages("dns-health-checks", unchecked, facts) == [
        f"Route53 record {label} (set {record.props['setIdentifier']}) is routed without a health check: "
        "set healthCheckId"
    ]


def test_clouddns_routed_record_sets_need_health_checks(clouddns_plan):
    resources, facts = policy_resources(clouddns_plan), stack_facts(clouddns_plan)
    record = next(r for r in resources if r.type == g.CLOUDDNS_RECORD_SET and r.props.get("routingPolicy"))
    label = f"'{record.props['name']}' ({record.name})"
    broken = mutate(resources, record.name, lambda p: p["routingPolicy"].pop("healthCheck"))
    assert messages("dns-health-checks", broken, facts) == [
        f"Cloud DNS record set {label} is routed without a health check: set routingPolicy.healthCheck"
    ]
    long_ttl = mutate(resources, record.name, lambda p: p.update(ttl=120))
    assert messages("dns-health-checked-ttl", long_ttl, facts) == [
        f"DNS record {label} is health-checked with TTL 120s: lower it to 60s"
    ]


# --- the fleet as a whole -------------------------------------------------------------------------------


def test_prod_needs_two_regions():
    plan = plan_config(fleet(aws_cluster("aws-use1", "us-east-1", 1), environment="prod", backup=BACKUP))
    assert failures(run_policies(plan)) == {
        "prod-multi-region": ["prod fleet runs in 1 region(s) (us-east-1): prod needs clusters in at least two regions"]
    }


def test_backups_cover_every_cluster_once_configured_and_always_in_prod(prod):
    _, resources, facts = prod
    without_first = [r for r in resources if r.name != "aws-use1-backup-velero"]
    assert messages("every-cluster-backed-up", without_first, facts) == ["cluster 'aws-use1' has no scheduled backups"]
    nothing = [r for r in resources if not g._velero_release(r)]
    staging = g.StackFacts(environment="staging", backup=False)
    assert messages("every-cluster-backed-up", nothing, staging) == []
    prod_without = g.StackFacts(environment="prod", backup=False)
    assert messages("every-cluster-backed-up", nothing, prod_without)[0] == (
        "cluster 'aws-use1' has no scheduled backups (prod: configure multicluster:backup)"
    )


def test_every_cluster_registered_with_the_hub_when_gitops_is_configured(prod):
    _, resources, facts = prod
    without = [r for r in resources if r.name != "gitops-gcp-euw1-secret"]
    assert messages("every-cluster-in-gitops", without, facts) == [
        "cluster 'gcp-euw1' is not registered with the Argo CD hub"
    ]
    assert messages("every-cluster-in-gitops", without, dataclasses.replace(facts, gitops=False)) == []


def test_velero_releases_carry_schedules_that_write_somewhere(prod):
    resources, _, facts = prod
    assert messages("velero-schedules", resources, facts) == []
    none = mutate(resources, "aws-use1-backup-velero", lambda p: p["values"].update(schedules={}), g.HELM_RELEASE)
    assert messages("velero-schedules", none, facts) == [
        "Velero release 'velero' (aws-use1-backup-velero) has no schedules: nothing would ever be backed up"
    ]

    def unlocated(props):
        for schedule in props["values"]["schedules"].values():
            schedule["template"].pop("storageLocation", None)

    assert messages("velero-schedules", mutate(resources, "aws-use1-backup-velero", unlocated, g.HELM_RELEASE), facts)[
        0
    ] == (
        "Velero schedule 'aws-use1-nightly' of 'velero' (aws-use1-backup-velero) names no storage location "
        "(template.storageLocation)"
    )


def test_argocd_cluster_secrets_name_the_server_and_verify_it(prod):
    resources, _, facts = prod
    assert messages("argocd-cluster-secrets", resources, facts) == []
    nameless = mutate(resources, "gitops-gcp-euw1-secret", lambda p: p["stringData"].pop("server"))
    assert messages("argocd-cluster-secrets", nameless, facts) == [
        "Argo CD cluster Secret 'cluster-gcp-euw1' (gitops-gcp-euw1-secret) lacks stringData.server"
    ]

    def insecure(props):
        props["stringData"]["config"] = '{"tlsClientConfig": {"insecure": true}}'

    assert messages("argocd-cluster-secrets", mutate(resources, "gitops-gcp-euw1-secret", insecure), facts) == [
        "Argo CD cluster Secret 'cluster-gcp-euw1' (gitops-gcp-euw1-secret) skips TLS verification "
        "(tlsClientConfig.insecure)"
    ]


# --- the pack: same rules through pulumi_policy --------------------------------------------------------


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def run_resource_policy(name: str, type_: str, props: dict[str, Any], provider_props=None) -> list[str]:
    policy = next(p for p in pack.pack_policies() if p.name == name)
    provider = PolicyProviderResource("pulumi:providers:aws", unknown_checking_proxy(provider_props or {}), "p", "p")
    args = ResourceValidationArgs(type_, unknown_checking_proxy(props), "urn:x", "x", options(), provider)
    reported: list[str] = []
    policy.validate(args, lambda message, urn=None: reported.append(message))
    return reported


def test_pack_has_one_mandatory_policy_per_rule():
    policies = pack.pack_policies()
    assert [p.name for p in policies] == [r.name for r in g.RULES]
    assert {p.enforcement_level.value for p in policies} == {"mandatory"}


def test_pack_reports_violations_and_never_fails_on_unknown_values():
    good = {"enabledClusterLogTypes": list(g.EKS_LOG_TYPES)}
    assert run_resource_policy("eks-control-plane-logs", g.EKS_CLUSTER, good) == []
    assert run_resource_policy("eks-control-plane-logs", g.EKS_CLUSTER, {"enabledClusterLogTypes": ["api"]}) == [
        "EKS cluster 'x' does not log audit, authenticator, controllerManager, scheduler: "
        "add them to enabledClusterLogTypes"
    ]
    # During a preview the KMS key of a new cluster is not known yet: it is set, so this passes.
    pending = {"encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": UNKNOWN_STRING_VALUE}}}
    assert run_resource_policy("eks-secrets-encryption", g.EKS_CLUSTER, pending) == []


def test_pack_reads_the_environment_from_provider_tags_without_stack_config():
    open_to_all = {
        "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}
    }
    tags = {"defaultTags": '{"tags": {"multicluster:environment": "prod"}}'}
    assert len(run_resource_policy("eks-private-endpoint", g.EKS_CLUSTER, open_to_all, tags)) == 1
    staging = {"defaultTags": '{"tags": {"multicluster:environment": "staging"}}'}
    assert run_resource_policy("eks-private-endpoint", g.EKS_CLUSTER, open_to_all, staging) == []


def test_pack_stack_policy_sees_the_same_resources(prod):
    _, resources, _ = prod
    policy = next(p for p in pack.pack_policies() if p.name == "every-cluster-backed-up")
    engine = [
        PolicyResource(
            r.type,
            unknown_checking_proxy(dict(r.props)),
            r.urn,
            r.name,
            options(r.protect),
            PolicyProviderResource(
                "pulumi:providers:x", unknown_checking_proxy(dict(r.provider_props)), r.provider, "p"
            )
            if r.provider
            else None,
            None,
            [],
            {},
        )
        for r in resources
        if r.name != "aws-usw2-backup-velero"
    ]
    for resource, source in zip(engine, (r for r in resources if r.name != "aws-usw2-backup-velero"), strict=True):
        resource.opts.parent = source.parent
    reported: list[tuple[str, str | None]] = []
    policy.validate(StackValidationArgs(engine), lambda message, urn=None: reported.append((message, urn)))
    assert [m for m, _ in reported] == ["cluster 'aws-usw2' has no scheduled backups"]
    assert reported[0][1].endswith("multicluster:eks:EksCluster::aws-usw2")
