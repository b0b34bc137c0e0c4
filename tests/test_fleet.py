"""Composition-level properties: stable names, explicit providers, tags."""

from __future__ import annotations

import json

from tests.support import aws_cluster, fleet, gcp_cluster, plan_config


def resources_by_urn(plan):
    return {r.urn: r.inputs for r in plan.resources}


def test_adding_a_cluster_never_renames_or_changes_existing_resources():
    base = [aws_cluster("aws-use1", "us-east-1", 1), gcp_cluster("gcp-usc1", "us-central1", 2, role="standby")]
    before = resources_by_urn(plan_config(fleet(*base)))
    after = resources_by_urn(plan_config(fleet(*base, aws_cluster("aws-euw1", "eu-west-1", 3, role="standby"))))
    assert set(before) <= set(after)
    assert {urn: after[urn] for urn in before} == before


def test_no_resource_uses_a_default_provider():
    plan = plan_config(fleet(aws_cluster("a", "us-east-1", 1), gcp_cluster("g", "us-central1", 2, role="standby")))
    for r in plan.resources:
        if r.custom and not r.type.startswith("pulumi:providers:"):
            assert r.provider and "::default" not in r.provider, r.urn


def test_cloud_resources_carry_fleet_tags_through_their_provider():
    plan = plan_config(
        fleet(aws_cluster("a", "us-east-1", 1), gcp_cluster("g", "us-central1", 2, role="standby"), environment="qa")
    )
    aws = json.loads(plan.named("a-aws").input("defaultTags"))
    assert aws == {"tags": {"multicluster:environment": "qa", "managed-by": "pulumi", "multicluster:cluster": "a"}}
    gcp = json.loads(plan.named("g-gcp").input("defaultLabels"))
    assert gcp == {"multicluster_environment": "qa", "managed-by": "pulumi", "multicluster_cluster": "g"}


def test_fleet_outputs_describe_every_cluster():
    plan = plan_config(fleet(aws_cluster("a", "us-east-1", 1), gcp_cluster("g", "us-central1", 2, role="standby")))
    assert plan.outputs["topology"] == "replicated" and plan.outputs["failover"] == "active-passive"
    assert {name: out["role"] for name, out in plan.outputs["clusters"].items()} == {"a": "primary", "g": "standby"}
    assert set(plan.outputs["kubeconfigs"]) == {"a", "g"}


def test_one_iam_oidc_provider_per_issuer_even_when_gitops_and_backup_both_trust_a_gke_cluster():
    """IAM refuses a second provider for the same issuer URL in an account: it must exist once."""
    plan = plan_config(
        fleet(
            aws_cluster("aws-use1", "us-east-1", 1),
            gcp_cluster("gcp-usc1", "us-central1", 2, role="standby"),
            gitops={
                "hub": "gcp-usc1",
                "chartVersion": "10.1.1",
                "repoUrl": "https://github.com/acme/apps",
                "revision": "main",
                "applications": [],
            },
            backup={"schedules": [{"name": "daily", "cron": "0 2 * * *"}]},
        )
    )
    urls = [o.input("url") for o in plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")]
    assert sorted(urls) == sorted(set(urls))
    gke_issuer = "https://container.googleapis.com/v1/projects/acme-test/locations/us-central1/clusters/test-gcp-usc1"
    assert gke_issuer in urls
    trust = plan.named("gcp-usc1-aws-trust-oidc")
    trusting_roles = [
        r for r in plan.of_type("aws:iam/role:Role") if trust.output("arn") in r.input("assumeRolePolicy")
    ]
    assert len(trusting_roles) == 2  # Argo CD's hub role and Velero's S3 reader
