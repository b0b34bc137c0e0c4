"""multicluster:cost (#19): budgets scoped to the fleet on both clouds, quotas and limit ranges per team namespace,
OpenCost on the cluster's Prometheus; the plan's monthly cost estimate against a hand calculation and the budget."""

from __future__ import annotations

import pytest

from components import cost as cost_component
from components import observability
from offline_plan.cli import run
from offline_plan.costs import (
    AWS_KMS_KEY,
    AWS_NAT_GATEWAY,
    AWS_PUBLIC_IPV4,
    EBS_GP3_GB,
    EC2,
    EKS_CONTROL_PLANE,
    GCE,
    GCP_EXTERNAL_IPV4,
    GCP_KMS_KEY,
    GCP_NAT_PER_VM,
    GCP_PD_BALANCED_GB,
    GKE_CLUSTER_FEE,
    estimate_cost,
)
from offline_plan.judge import aws as judge_aws
from offline_plan.judge import gcp as judge_gcp
from offline_plan.mocks import Observed
from offline_plan.report import cost_line
from tests.support import aws_cluster, config_issues, fleet, gcp_cluster, plan_config

BUDGET = "aws:budgets/budget:Budget"
GCP_BUDGET = "gcp:billing/budget:Budget"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMITS = "kubernetes:core/v1:LimitRange"
RELEASE = "kubernetes:helm.sh/v3:Release"
MONTH = 730


def issues(config: dict) -> list[str]:
    return config_issues(config)


# --- the estimate against a hand calculation --------------------------------------------------------------


def test_the_estimate_of_a_known_fleet_is_the_hand_calculation():
    plan = plan_config(
        fleet(
            aws_cluster("use1", "us-east-1", 1),
            gcp_cluster("usc1", "us-central1", 2),
            failover="active-active",
            connectivity={"mode": "full-mesh"},
        )
    )
    eks = (
        EKS_CONTROL_PLANE["STANDARD"] * MONTH  # 73.00
        + 1 * EC2["m7i.large"] * MONTH  # one m7i.large (desiredSize 1): 73.58
        + 1 * 50 * EBS_GP3_GB  # its 50 GB gp3 root volume: 4.00
        + AWS_NAT_GATEWAY * MONTH  # natGateways: single: 32.85
        + AWS_PUBLIC_IPV4 * MONTH  # the NAT gateway's Elastic IP: 3.65
        + 2 * AWS_KMS_KEY  # secrets encryption and control-plane logs: 2.00
    )
    gke = (
        GKE_CLUSTER_FEE * MONTH  # 73.00
        + 3 * GCE["e2-standard-4"] * MONTH  # one node per zone of a regional pool: 293.49
        + 3 * 50 * GCP_PD_BALANCED_GB  # their 50 GB boot disks: 15.00
        + 3 * GCP_NAT_PER_VM * MONTH  # Cloud NAT for its three VMs: 3.07
        + 2 * GCP_EXTERNAL_IPV4 * MONTH  # the NAT gateway's two static addresses: 7.30
        + 2 * GCP_KMS_KEY  # boot disks and secrets: 0.12
    )
    # The link: two AWS Site-to-Site VPN connections ($0.05/h each) to four HA VPN tunnels ($0.05/h each).
    link = (2 + 4) * 0.05 * MONTH
    estimate = estimate_cost(plan)

    def own(cluster: str) -> float:
        return sum(i["monthly"] for i in estimate["items"] if i["cluster"] == cluster and i["capability"] == "clusters")

    assert own("use1") == pytest.approx(eks, abs=0.05) == pytest.approx(189.08, abs=0.01)
    assert own("usc1") == pytest.approx(gke, abs=0.05) == pytest.approx(391.97, abs=0.02)
    assert estimate["perCapability"]["connectivity"] == pytest.approx(link, abs=0.01) == 219.0
    # A link's connections are charged where they run: the AWS side to use1, the GCP side to usc1.
    assert estimate["perCluster"] == {
        "use1": pytest.approx(eks + 73, abs=0.05),
        "usc1": pytest.approx(gke + 146, abs=0.05),
    }
    assert estimate["monthly"] == pytest.approx(eks + gke + link, abs=0.05)
    assert estimate["unpriced"] == [] and estimate["budget"] is None


def test_buckets_are_listed_at_no_cost_since_they_bill_by_use(staging):
    buckets = [i for i in estimate_cost(staging)["items"] if i["what"].startswith("bucket")]
    assert len(buckets) == len(staging.of_type("aws:s3/bucket:Bucket")) + len(
        staging.of_type("gcp:storage/bucket:Bucket")
    )
    assert {b["monthly"] for b in buckets} == {0.0}


def test_spot_nodes_and_unknown_machine_types_are_stated():
    spot = aws_cluster("use1", "us-east-1", 1)
    spot["nodePools"] = [
        {"name": "a", "machineType": "m7i.large", "minSize": 1, "maxSize": 3, "desiredSize": 2, "spot": True}
    ]
    plan = plan_config(fleet(spot))
    (nodes,) = [i for i in estimate_cost(plan)["items"] if "m7i.large" in i["what"]]
    assert nodes["what"] == "2 x m7i.large (spot)"
    assert nodes["monthly"] == pytest.approx(2 * EC2["m7i.large"] * 0.35 * MONTH, abs=0.01)
    odd = aws_cluster("use1", "us-east-1", 1)
    odd["nodePools"][0]["machineType"] = "m8g.large"
    assert estimate_cost(plan_config(fleet(odd)))["unpriced"] == ["EC2 m8g.large"]


def test_the_estimate_is_in_the_json_the_text_and_compared_with_the_budget(staging, capsys):
    estimate = estimate_cost(staging)
    assert estimate["budget"] == {"amount": 4000.0, "currency": "USD", "exceeded": False}
    assert set(estimate["perCapability"]) >= {"clusters", "connectivity", "mesh", "observability", "dns"}
    over = dict(estimate, budget={"amount": 500.0, "currency": "USD", "exceeded": True})
    assert cost_line(over).endswith("; WARNING: over the monthly budget of $500")
    assert run(["--stack", "staging", "--format", "markdown"]) == 0
    assert "## Cost estimate" in capsys.readouterr().out


# --- budgets scoped to the fleet --------------------------------------------------------------------------


def test_the_aws_budget_counts_only_the_fleets_tag_and_alerts_each_threshold(staging):
    (budget,) = staging.of_type(BUDGET)
    assert budget.input("name") == "staging-fleet"
    assert (budget.input("budgetType"), budget.input("timeUnit"), budget.input("limitUnit")) == (
        "COST",
        "MONTHLY",
        "USD",
    )
    assert budget.input("limitAmount") == "4000.00"
    assert budget.input("costFilters") == [{"name": "TagKeyValue", "values": ["user:multicluster:environment$staging"]}]
    assert [(n["threshold"], n["thresholdType"], n["notificationType"]) for n in budget.input("notifications")] == [
        (50.0, "PERCENTAGE", "ACTUAL"),
        (80.0, "PERCENTAGE", "ACTUAL"),
        (100.0, "PERCENTAGE", "ACTUAL"),
    ]
    assert {tuple(n["subscriberEmailAddresses"]) for n in budget.input("notifications")} == {("finops@acme.example",)}


def test_the_gcp_budget_covers_the_fleets_projects_and_label(staging):
    (budget,) = staging.of_type(GCP_BUDGET)
    assert budget.input("billingAccount") == "01A2B3-C4D5E6-F7A8B9"
    assert budget.input("budgetFilter.labels") == {"multicluster_environment": "staging"}
    assert budget.input("budgetFilter.projects") == ["projects/481516234200"]  # the project's number
    assert [r["thresholdPercent"] for r in budget.input("thresholdRules")] == [0.5, 0.8, 1.0]
    channels = staging.of_type(CHANNEL)
    assert [c.input("labels") for c in channels] == [{"email_address": "finops@acme.example"}]
    assert budget.input("allUpdatesRule.monitoringNotificationChannels") == [c.output("name") for c in channels]
    # gcp:project serves the APIs first (billingbudgets as the quota project, monitoring for the channels).
    shared = [s for s in staging.of_type("gcp:projects/service:Service") if "ProjectServices" in s.urn]
    services = {s.input("service"): s.urn for s in shared}
    assert {services["billingbudgets.googleapis.com"], services["monitoring.googleapis.com"]} <= set(
        budget.dependencies
    )


def test_the_judge_holds_the_budget_apis_limits():
    six = [{"subscriberEmailAddresses": ["a@b.example"]}] * 6
    found = [str(f) for f in judge_aws.budget(Observed("urn:b", BUDGET, "b", {"notifications": six}, {}))]
    assert found == [
        f"urn:b would be rejected by AWS: 6 notifications: a budget has at most 5 ({judge_aws.BUDGETS_SOURCE})"
    ]
    assert [str(f) for f in judge_aws.budget(Observed("urn:b", BUDGET, "b", {"notifications": six[:5]}, {}))] == []
    gcp = {
        "allUpdatesRule": {"monitoringNotificationChannels": list("abcdef")},
        "budgetFilter": {"labels": {"a": "1", "b": "2"}},
    }
    rules = [f.rule for f in judge_gcp.billing_budget(Observed("urn:g", GCP_BUDGET, "g", gcp, {}))]
    assert rules == [
        "6 monitoringNotificationChannels: at most 5",
        "budgetFilter.labels has 2 labels: one label and value pair is allowed",
    ]


# --- team quotas and OpenCost -------------------------------------------------------------------------------


def test_each_team_namespace_gets_its_quota_and_defaults(staging):
    quotas = {(q.input("metadata.namespace"), q.provider_urn): q for q in staging.of_type(QUOTA)}
    assert len(quotas) == 4  # webapp and reports on both clusters
    for (namespace, _), quota in quotas.items():
        expected = {"cpu": "2", "memory": "8Gi"} if namespace == "reports" else {"cpu": "8", "memory": "32Gi"}
        # Requests only: a limits quota would refuse every pod without limits, a default limit one asking for more.
        assert quota.input("spec.hard") == {"requests.cpu": expected["cpu"], "requests.memory": expected["memory"]}
    for limits in staging.of_type(LIMITS):
        assert limits.input("spec.limits") == [
            {"type": "Container", "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}
        ]
    namespace = staging.named("aws-use1-access-team-webapp", "kubernetes:core/v1:Namespace")
    (webapp,) = [q for q in staging.of_type(QUOTA) if q.name == "aws-use1-cost-webapp-quota"]
    assert namespace.urn in webapp.dependencies


def test_opencost_reads_the_clusters_own_prometheus(staging):
    release = staging.named("aws-use1-cost-opencost", RELEASE)
    assert (release.input("chart"), release.input("version")) == ("opencost", "2.5.17")
    assert release.input("values.opencost.prometheus.internal") == {
        "enabled": True,
        "serviceName": f"{observability.KPS}-prometheus",
        "namespaceName": observability.NAMESPACE,
        "port": observability.QUERY_PORT,
    }
    assert cost_component.PROMETHEUS["serviceName"] == f"{observability.KPS}-prometheus"


def test_without_observability_there_is_no_opencost_and_without_the_block_nothing():
    plan = plan_config(fleet(aws_cluster("use1", "us-east-1", 1), cost={"quotas": {}}))
    assert [r for r in plan.of_type(RELEASE) if r.input("chart") == "opencost"] == []
    plain = plan_config(fleet(aws_cluster("use1", "us-east-1", 1)))
    assert [r for r in plain.resources if ":cost:" in r.type] == [] and "cost" not in plain.outputs


# --- validation -------------------------------------------------------------------------------------------


BUDGET_BLOCK = {"amount": 1000, "email": ["finops@acme.example"]}


@pytest.mark.parametrize(
    ("cost", "expected"),
    [
        (
            {"monthlyBudget": {**BUDGET_BLOCK, "amount": 0}},
            "multicluster:cost.monthlyBudget.amount must be > 0.0 (got 0)",
        ),
        (
            {"monthlyBudget": {**BUDGET_BLOCK, "currency": "EUR"}},
            "multicluster:cost.monthlyBudget.currency AWS Budgets counts cost in USD, not EUR: state the budget in USD",
        ),
        (
            {"monthlyBudget": {**BUDGET_BLOCK, "alertAtPercent": [10, 20, 30, 40, 50, 60]}},
            "multicluster:cost.monthlyBudget.alertAtPercent AWS Budgets allows 5 notifications per budget, not 6",
        ),
        (
            {"quotas": {"default": {"cpu": "twenty", "memory": "64Gi"}}},
            "multicluster:cost.quotas.default.cpu 'twenty' is not a Kubernetes quantity (e.g. \"20\", 500m, 64Gi)",
        ),
        (
            {"quotas": {"payments": {"cpu": "2", "memory": "4Gi"}}},
            "multicluster:cost.quotas.payments 'payments' is neither 'default' nor a team namespace of "
            "multicluster:access.namespaces (webapp)",
        ),
    ],
)
def test_cost_is_validated_with_its_key_path(cost, expected):
    access = {"namespaces": [{"name": "webapp"}]}
    assert issues(fleet(aws_cluster("use1", "us-east-1", 1), access=access, cost=cost)) == [expected]


def test_a_gcp_budget_needs_the_billing_account():
    config = fleet(gcp_cluster("usc1", "us-central1", 2), cost={"monthlyBudget": BUDGET_BLOCK})
    assert issues(config) == [
        "multicluster:cost.billingAccount a fleet with GCP clusters needs the Cloud Billing account its projects "
        "bill to, for its budget"
    ]
