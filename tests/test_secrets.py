"""multicluster:secrets (#19): External Secrets on every cluster with a keyless identity to its own cloud's secret
manager, scoped to the fleet's prefix; team stores scoped to the team's; extra stores read only inside their
cloud and residency; the controller itself reading nothing."""

from __future__ import annotations

import json

import pytest

from components.config import parse_stack_config
from components.secrets_common import CONTROLLER, NAMESPACE, PLATFORM_ACCOUNT, TEAM_ACCOUNT
from tests.support import aws_cluster, config_issues, fleet, gcp_cluster, plan_config, stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
CLUSTER_STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
STORE = "kubernetes:external-secrets.io/v1:SecretStore"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM = "gcp:projects/iAMMember:IAMMember"


def under(plan, cluster: str, type_: str) -> list:
    return plan.children(plan.component(f"{cluster}-secrets"), type_)


def test_the_operator_is_pinned_and_its_controller_holds_no_cloud_identity(staging):
    for cluster in ("aws-use1", "gcp-usc1"):
        (release,) = under(staging, cluster, RELEASE)
        assert (release.input("chart"), release.input("version")) == ("external-secrets", "2.9.0")
        assert release.input("values.installCRDs") is True
        # A store without auth uses the controller's ambient credentials, and a team editor may create one.
        assert release.input("values.serviceAccount") == {"create": True, "name": CONTROLLER}


def test_cluster_stores_use_the_platform_account_and_are_closed_to_team_namespaces(staging):
    (aws_store,) = under(staging, "aws-use1", CLUSTER_STORE)
    assert aws_store.input("metadata.name") == "cloud"
    assert aws_store.input("spec.provider") == {
        "aws": {
            "service": "SecretsManager",
            "region": "us-east-1",
            "auth": {"jwt": {"serviceAccountRef": {"name": PLATFORM_ACCOUNT, "namespace": NAMESPACE}}},
        }
    }
    assert aws_store.input("spec.conditions") == [
        {"namespaceSelector": {"matchExpressions": [{"key": "multicluster.io/team", "operator": "DoesNotExist"}]}}
    ]
    (gcp_store,) = under(staging, "gcp-usc1", CLUSTER_STORE)
    assert gcp_store.input("spec.provider.gcpsm.location") == "us-central1"  # regional secrets stay in the region
    assert gcp_store.input("spec.provider.gcpsm.auth.workloadIdentity.serviceAccountRef") == {
        "name": PLATFORM_ACCOUNT,
        "namespace": NAMESPACE,
    }


def test_the_aws_identities_read_only_their_prefix(staging):
    roles = {r.name: r for r in under(staging, "aws-use1", ROLE)}
    policies = {p.name: json.loads(p.input("policy")) for p in under(staging, "aws-use1", POLICY)}
    platform = policies["aws-use1-secrets-platform"]["Statement"]
    assert platform == [
        {
            "Sid": "ReadFleetSecrets",
            "Effect": "Allow",
            "Action": [
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
                "secretsmanager:ListSecretVersionIds",
            ],
            "Resource": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:staging/*"],
        }
    ]
    assert policies["aws-use1-secrets-team-webapp"]["Statement"][0]["Resource"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:staging/webapp/*"
    ]
    trust = json.loads(roles["aws-use1-secrets-team-webapp"].input("assumeRolePolicy"))
    (subject,) = [
        v for c in trust["Statement"] for v in c["Condition"]["StringEquals"].values() if "serviceaccount" in str(v)
    ]
    assert subject == f"system:serviceaccount:webapp:{TEAM_ACCOUNT}"
    platform_trust = json.dumps(json.loads(roles["aws-use1-secrets-platform"].input("assumeRolePolicy")))
    assert f"system:serviceaccount:{NAMESPACE}:{PLATFORM_ACCOUNT}" in platform_trust


def test_the_gcp_identities_read_only_their_prefix_in_their_region(staging):
    grants = {g.name: g for g in under(staging, "gcp-usc1", IAM)}
    assert grants["gcp-usc1-secrets-platform-read"].input("role") == "roles/secretmanager.secretAccessor"
    assert grants["gcp-usc1-secrets-platform-read"].input("condition.expression") == (
        'resource.name.startsWith("projects/481516234200/locations/us-central1/secrets/staging_")'
    )
    assert grants["gcp-usc1-secrets-team-webapp-read"].input("condition.expression") == (
        'resource.name.startsWith("projects/481516234200/locations/us-central1/secrets/staging_webapp_")'
    )


def test_gcp_prefixes_never_start_one_another():
    # `_` is in no stack prefix or team name (DNS labels): a team's prefix never matches another team's secrets.
    from components.secrets_gcp import name_condition

    web, web_app = name_condition("1", ["r"], "p_web_"), name_condition("1", ["r"], "p_web-app_")
    assert not "projects/1/locations/r/secrets/p_web-app_db".startswith("projects/1/locations/r/secrets/p_web_")
    assert web != web_app


def test_gke_projects_serve_the_apis_external_secrets_calls(staging):
    services = {s.input("service") for s in staging.of_type("gcp:projects/service:Service") if "gcp-usc1" in s.name}
    assert {"secretmanager.googleapis.com", "iamcredentials.googleapis.com"} <= services


def test_each_team_has_its_store_and_account_in_its_namespace(staging):
    stores = {s.input("metadata.namespace"): s for s in under(staging, "aws-use1", STORE)}
    assert set(stores) == {"webapp", "reports"}
    assert stores["webapp"].input("spec.provider.aws.auth") == {"jwt": {"serviceAccountRef": {"name": TEAM_ACCOUNT}}}
    accounts = {
        (a.input("metadata.namespace"), a.input("metadata.name")): a for a in under(staging, "aws-use1", ACCOUNT)
    }
    team_role = staging.named("aws-use1-secrets-team-webapp", ROLE)
    assert accounts[("webapp", TEAM_ACCOUNT)].input("metadata.annotations") == {
        "eks.amazonaws.com/role-arn": team_role.output("arn")
    }
    namespace = staging.named("aws-use1-access-team-webapp", "kubernetes:core/v1:Namespace")
    assert namespace.urn in stores["webapp"].dependencies


# --- residency --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def partitioned():
    return plan_config(stack_config("examples/partitioned"), "partitioned")


def test_an_extra_store_is_read_only_by_its_clouds_clusters_in_its_residency(partitioned):
    stores = {
        c: sorted(s.input("metadata.name") for s in under(partitioned, c, CLUSTER_STORE))
        for c in ("aws-euc1", "gcp-euw1", "aws-use1", "gcp-usc1")
    }
    assert stores == {
        "aws-euc1": ["cloud", "eu-shared"],
        "gcp-euw1": ["cloud"],
        "aws-use1": ["cloud"],
        "gcp-usc1": ["cloud"],
    }
    assert partitioned.outputs["secrets"]["stores"]["aws-use1"] == ["cloud"]
    # Every cluster's own store is in its own region: no secret leaves its residency.
    for cluster, region in (("aws-euc1", "eu-central-1"), ("aws-use1", "us-east-1")):
        (own,) = [s for s in under(partitioned, cluster, CLUSTER_STORE) if s.input("metadata.name") == "cloud"]
        assert own.input("spec.provider.aws.region") == region


def issues(secrets: dict, **settings) -> list[str]:
    residencies = {
        "eu": {"regions": ["eu-west-1"], "continents": ["EU"]},
        "us": {"regions": ["us-east-1"], "default": True},
    }
    config = fleet(
        aws_cluster("euw1", "eu-west-1", 1, residency="eu"),
        aws_cluster("use1", "us-east-1", 2, residency="us"),
        topology="partitioned",
        residencies=residencies,
        secrets=secrets,
        **settings,
    )
    return config_issues(config)


@pytest.mark.parametrize(
    ("stores", "expected"),
    [
        (
            [{"name": "shared", "cloud": "aws", "region": "eu-central-1"}],
            "multicluster:secrets.stores[0].region 'eu-central-1' is in no residency: its secrets would be kept "
            "outside every residency",
        ),
        (
            [{"name": "shared", "cloud": "gcp", "region": "eu-west-1"}],
            "multicluster:secrets.stores[0].region 'eu-west-1' is not a region of gcp",
        ),
        (
            [{"name": "cloud", "cloud": "aws", "region": "eu-west-1"}],
            "multicluster:secrets.stores[0].name 'cloud' is each cluster's own store; name an extra store otherwise",
        ),
    ],
)
def test_stores_are_validated_with_their_key_path(stores, expected):
    assert issues({"stores": stores}) == [expected]


def test_a_store_of_a_cloud_the_residency_has_no_cluster_of_is_refused():
    config = fleet(
        aws_cluster("use1", "us-east-1", 1),
        gcp_cluster("usc1", "us-central1", 2, role="standby"),
        secrets={"stores": [{"name": "shared", "cloud": "gcp", "region": "europe-west1"}]},
    )
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("multicluster:")}
    assert parse_stack_config(raw, "acme-test").secrets is not None  # a GCP cluster reads it: valid
    assert issues({"stores": [{"name": "shared", "cloud": "aws", "region": "eu-west-1"}]}) == []


def test_leaving_the_block_out_creates_nothing():
    plan = plan_config(fleet(aws_cluster("use1", "us-east-1", 1)))
    assert [r for r in plan.resources if ":secrets:" in r.type] == [] and "secrets" not in plan.outputs
