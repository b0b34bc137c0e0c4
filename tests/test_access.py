"""multicluster:access (#19): the same people with the same rights on every cluster of a placement; EKS access
entries and policies, GKE RBAC bound to Google members and the project IAM they need; validation with key paths."""

from __future__ import annotations

import dataclasses

import pytest

from components.access_aws import ADMIN_POLICY, VIEW_POLICY, team_group
from components.access_common import TEAM_LABEL, resource_key
from offline_plan.judge import Context
from offline_plan.judge import aws as judge_aws
from tests.support import aws_cluster, config_issues, fleet, gcp_cluster, plan_config

ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
NAMESPACE = "kubernetes:core/v1:Namespace"
CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
RB = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
IAM = "gcp:projects/iAMMember:IAMMember"
ADMIN = "arn:aws:iam::123456789012:role/platform-admin"
DEVS = "arn:aws:iam::123456789012:role/developers"
WEBAPP = "arn:aws:iam::123456789012:role/webapp-team"


def issues(config: dict) -> list[str]:
    return config_issues(config)


def on(plan, cluster: str, type_: str) -> list:
    """Resources of a type under a cluster's access component."""
    return plan.children(plan.component(f"{cluster}-access"), type_)


# --- the shipped staging stack ---------------------------------------------------------------------------


def test_every_eks_principal_holds_one_entry_and_team_rights_come_from_rbac(staging):
    entries = {e.input("principalArn"): e for e in on(staging, "aws-use1", ENTRY)}
    assert set(entries) == {ADMIN, DEVS, WEBAPP}
    assert {e.input("type") for e in entries.values()} == {"STANDARD"}
    rights = {
        (a.input("principalArn"), a.input("policyArn")): a.input("accessScope")
        for a in on(staging, "aws-use1", ASSOCIATION)
    }
    # Cluster-wide rights only: an association's scope never changes, so it is never replaced.
    assert rights == {(ADMIN, ADMIN_POLICY): {"type": "cluster"}, (DEVS, VIEW_POLICY): {"type": "cluster"}}
    for association in on(staging, "aws-use1", ASSOCIATION):
        assert entries[association.input("principalArn")].urn in association.dependencies
    # Editors: a Kubernetes group per team on their entry, bound to `edit` in the team namespace.
    assert entries[WEBAPP].input("kubernetesGroups") == [team_group("webapp")]
    assert entries[ADMIN].input("kubernetesGroups") is None
    (binding,) = [b for b in on(staging, "aws-use1", RB) if b.input("metadata.namespace") == "webapp"]
    assert binding.input("roleRef") == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}
    assert binding.input("subjects") == [
        {"kind": "Group", "name": "multicluster:team:webapp:editors", "apiGroup": "rbac.authorization.k8s.io"}
    ]
    namespace = staging.named("aws-use1-access-team-webapp", NAMESPACE)
    assert namespace.urn in binding.dependencies


def test_the_judge_refuses_an_association_whose_scope_changes_without_delete_before_replace(staging):
    association = on(staging, "aws-use1", ASSOCIATION)[0]
    base = {
        association.urn: {"inputs": {**association.inputs, "accessScope": {"type": "namespace", "namespaces": ["a"]}}}
    }
    found = [str(f) for f in judge_aws.association_replacements(staging, Context(base=base))]
    assert found == [
        f"{association.urn} would be rejected by AWS: accessScope changes ({{'type': 'namespace', 'namespaces': "
        "['a']} -> {'type': 'cluster'}), which replaces the association, and a replacement that creates before it "
        f"deletes removes the right it grants: use deleteBeforeReplace ({judge_aws.ASSOCIATION_SOURCE})"
    ]
    unchanged = {association.urn: {"inputs": association.inputs}}
    assert list(judge_aws.association_replacements(staging, Context(base=unchanged))) == []
    replaced_first = dataclasses.replace(association, delete_before_replace=True)
    plan = dataclasses.replace(
        staging, resources=[replaced_first if r.urn == association.urn else r for r in staging.resources]
    )
    assert list(judge_aws.association_replacements(plan, Context(base=base))) == []


def test_gke_rbac_binds_google_members_and_the_project_grants_only_cluster_viewer(staging):
    bindings = {b.input("metadata.name"): b for b in on(staging, "gcp-usc1", CRB)}
    assert bindings["multicluster-admins"].input("roleRef.name") == "cluster-admin"
    assert bindings["multicluster-admins"].input("subjects") == [
        {"kind": "Group", "name": "platform-admins@acme.example", "apiGroup": "rbac.authorization.k8s.io"}
    ]
    assert bindings["multicluster-viewers"].input("roleRef.name") == "view"
    (editors,) = [b for b in on(staging, "gcp-usc1", RB) if b.input("metadata.namespace") == "webapp"]
    assert editors.input("roleRef") == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}
    assert editors.input("subjects")[0]["name"] == "webapp@acme.example"
    grants = staging.of_type(IAM)
    ours = [g for g in grants if g.input("role") == "roles/container.clusterViewer"]
    assert sorted(g.input("member") for g in ours) == sorted(
        ["group:platform-admins@acme.example", "group:developers@acme.example", "group:webapp@acme.example",
         "group:reports@acme.example"]
    )  # fmt: skip
    assert {g.input("project") for g in ours} == {"acme-staging"}


def test_team_namespaces_follow_their_placement_on_every_cluster(staging):
    for cluster in ("aws-use1", "gcp-usc1"):  # both are tier silver: webapp (all) and reports (tier silver)
        namespaces = {n.input("metadata.name"): n for n in on(staging, cluster, NAMESPACE)}
        assert set(namespaces) == {"webapp", "reports"}
        assert namespaces["webapp"].input("metadata.labels")[TEAM_LABEL] == "webapp"
    assert staging.outputs["access"]["teams"] == {"aws-use1": ["reports", "webapp"], "gcp-usc1": ["reports", "webapp"]}


def test_the_same_rights_on_every_cluster_of_a_placement():
    access = {
        "admins": {"aws": [ADMIN]},
        "namespaces": [{"name": "shop", "placement": {"labels": {"tier": "gold"}}, "editors": {"aws": [WEBAPP]}}],
    }
    gold = {"labels": {"tier": "gold"}}
    plan = plan_config(
        fleet(
            aws_cluster("use1", "us-east-1", 1, **gold),
            aws_cluster("usw2", "us-west-2", 2, **gold),
            aws_cluster("euw1", "eu-west-1", 3),
            failover="active-active",
            access=access,
        )
    )

    def rights(cluster: str) -> set:
        policies = {(a.input("principalArn"), a.input("policyArn")) for a in on(plan, cluster, ASSOCIATION)}
        groups = {(e.input("principalArn"), tuple(e.input("kubernetesGroups") or ())) for e in on(plan, cluster, ENTRY)}
        bindings = {(b.input("metadata.namespace"), b.input("roleRef.name")) for b in on(plan, cluster, RB)}
        return policies | groups | bindings

    assert (
        rights("use1")
        == rights("usw2")
        == {
            (ADMIN, ADMIN_POLICY),
            (ADMIN, ()),
            (WEBAPP, ("multicluster:team:shop:editors",)),
            ("shop", "edit"),
        }
    )
    assert rights("euw1") == {(ADMIN, ADMIN_POLICY), (ADMIN, ())}  # not gold: no shop namespace, no editor
    assert on(plan, "euw1", NAMESPACE) == []


def test_resource_names_are_stable_per_person():
    assert resource_key(ADMIN) == "123456789012-role-platform-admin"
    assert resource_key("arn:aws:iam::123456789012:role/teams/web/deployer") == "123456789012-role-teams-web-deployer"
    assert resource_key("group:platform-admins@acme.example") == "group-platform-admins-acme-example"


# --- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("access", "expected"),
    [
        (
            {"admins": {"aws": ["arn:aws:sts::123456789012:assumed-role/admin/session"]}},
            "multicluster:access.admins.aws[0] 'arn:aws:sts::123456789012:assumed-role/admin/session' is "
            "not an IAM role or user ARN (e.g. arn:aws:iam::123456789012:role/platform-admin; EKS access entries "
            "refuse STS session ARNs)",
        ),
        (
            {"viewers": {"gcp": ["developers@acme.example"]}},
            "multicluster:access.viewers.gcp[0] 'developers@acme.example' is not a Google member "
            "(group:, user: or serviceAccount: and an email)",
        ),
        (
            {"namespaces": [{"name": "Web_App"}]},
            "multicluster:access.namespaces[0].name 'Web_App' is not a DNS-1123 label (lowercase letters, digits "
            "and '-', starting with a letter)",
        ),
        (
            {"namespaces": [{"name": "kube-system"}]},
            "multicluster:access.namespaces[0].name 'kube-system' is a namespace of the platform; "
            "choose a team namespace of its own",
        ),
        (
            {"namespaces": [{"name": "web"}, {"name": "web"}]},
            "multicluster:access.namespaces[1].name 'web' is already on use1 through namespaces[0]: one entry per "
            "namespace and cluster",
        ),
        (
            {"namespaces": [{"name": "web", "placement": {"labels": {"tier": "platinum"}}}]},
            "multicluster:access.namespaces[0].placement 'labels: {tier: platinum}' selects no cluster of the fleet",
        ),
    ],
)
def test_access_is_validated_with_its_key_path(access, expected):
    assert issues(fleet(aws_cluster("use1", "us-east-1", 1), access=access)) == [expected]


def test_google_groups_need_google_groups_for_rbac_on_the_gke_clusters_that_bind_them():
    config = fleet(gcp_cluster("gew3", "europe-west3", 2), access={"admins": {"gcp": ["group:admins@acme.example"]}})
    assert issues(config) == [
        "multicluster:clusters[0].rbacGoogleGroup multicluster:access binds Google groups in Kubernetes RBAC, which "
        "GKE resolves only with Google Groups for RBAC: set it to gke-security-groups@<your domain> (the groups must "
        "be its members, https://cloud.google.com/kubernetes-engine/docs/how-to/google-groups-rbac)"
    ]
    users = fleet(gcp_cluster("gew3", "europe-west3", 2), access={"admins": {"gcp": ["user:ana@acme.example"]}})
    assert issues(users) == []
    grouped = gcp_cluster("gew3", "europe-west3", 2, rbacGoogleGroup="gke-security-groups@acme.example")
    assert issues(fleet(grouped, access={"admins": {"gcp": ["group:admins@acme.example"]}})) == []


def test_leaving_the_block_out_creates_nothing():
    plan = plan_config(fleet(aws_cluster("use1", "us-east-1", 1)))
    assert [r for r in plan.resources if ":access:" in r.type] == []
    assert "access" not in plan.outputs
