"""Cost per fleet (multicluster:cost): budgets on both clouds, quotas per team namespace, OpenCost in every cluster.

- AWS Budgets: one monthly COST budget counting only what carries the fleet's `multicluster:environment` tag (the
  AWS providers' default tags put it on every resource), alerting `email` at each `alertAtPercent` of actual spend.
  The tag counts only once it is activated as a cost allocation tag (Billing console, or
  `aws ce update-cost-allocation-tags-status`), which AWS allows only after it has seen the tag on billed
  resources (up to 24 h): activating it is a step after the first `pulumi up` (README).
- Cloud Billing: one budget on `billingAccount` over the fleet's projects and its `multicluster_environment` label,
  with the same thresholds, sent to Cloud Monitoring email channels (at most 5: billingbudgets v1
  NotificationsRule.monitoringNotificationChannels).
- Per team namespace (multicluster:access.namespaces), on every cluster of its placement: a ResourceQuota on
  requests (the team's `quotas` entry, else `default`) and a LimitRange giving containers that request nothing a
  default request, so that the quota never refuses a pod only for leaving its requests out.
- OpenCost on every cluster, reading the cluster's own Prometheus (multicluster:observability), which the hub
  queries with the rest: cost per namespace and workload across the fleet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from .access import Access
from .charts import chart
from .clouds import AWS_GLOBAL_REGION
from .cluster import ClusterPort
from .config.cost import CostConfig, MonthlyBudget, Quota
from .config.observability import ObservabilityConfig
from .fleetplan import FleetPlan
from .gcp_project import ProjectServices

OPENCOST = chart("opencost")
OPENCOST_NAMESPACE = "opencost"
# The cluster's own Prometheus: kube-prometheus-stack's Service `<fullnameOverride>-prometheus` (components/
# observability.py KPS "kps", namespace monitoring, port 9090; tests/test_cost.py ties them).
PROMETHEUS = {"serviceName": "kps-prometheus", "namespaceName": "monitoring", "port": 9090}
ENVIRONMENT_TAG = "multicluster:environment"  # components/fleetplan.py fleet_tags
ENVIRONMENT_LABEL = "multicluster_environment"  # the same tag as a GCP label (components/gke.py)
# What a container that requests nothing gets in a team namespace (LimitRange defaultRequest): small, so that a
# team sees its quota being used and sets its own. No default limit: a default limit below a container's own
# request makes its pod invalid, and the quota counts requests only (a limits.* quota would refuse every pod
# without limits).
DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}


def aws_budget_filter(environment: str) -> list[aws.budgets.BudgetCostFilterArgsDict]:
    """A cost filter on a user tag: `user:<key>$<value>` (AWS Budgets API, CostFilters "TagKeyValue")."""
    return [{"name": "TagKeyValue", "values": [f"user:{ENVIRONMENT_TAG}${environment}"]}]


class CostOutputs(TypedDict):
    """`cost`: the budget, the budgets made of it per cloud, the team quotas."""

    monthlyBudget: dict[str, Any] | None
    budgets: dict[str, pulumi.Output[str]]
    quotas: dict[str, dict[str, str]]


class FleetBudgets(pulumi.ComponentResource):
    """The fleet's monthly budget on each cloud it runs on."""

    TYPE = "multicluster:cost:FleetBudgets"

    def __init__(
        self,
        name: str,
        plan: FleetPlan,
        clouds: Sequence[str],
        project_services: ProjectServices | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        # gcp:project must serve the budget APIs first (SERVICE_DISABLED otherwise).
        self.apis: list[pulumi.Resource] = project_services.for_purpose("budget") if project_services else []
        cost = plan.block(CostConfig)
        assert cost is not None and cost.monthly_budget is not None
        budget = cost.monthly_budget
        self.names: dict[str, pulumi.Output[str]] = {}
        if "aws" in clouds:
            self.names["aws"] = self._aws(name, plan, budget)
        if "gcp" in clouds and cost.billing_account is not None and plan.gcp_project is not None:
            self.names["gcp"] = self._gcp(name, plan, cost, budget)
        self.register_outputs({"budgets": self.names})

    def _aws(self, name: str, plan: FleetPlan, budget: MonthlyBudget) -> pulumi.Output[str]:
        provider = aws.Provider(f"{name}-aws", region=AWS_GLOBAL_REGION, opts=pulumi.ResourceOptions(parent=self))
        made = aws.budgets.Budget(
            f"{name}-aws",
            name=f"{plan.prefix}-fleet",
            budget_type="COST",
            limit_amount=f"{budget.amount:.2f}",
            limit_unit=budget.currency,
            time_unit="MONTHLY",
            cost_filters=aws_budget_filter(plan.environment),
            notifications=[
                {
                    "comparison_operator": "GREATER_THAN",
                    "notification_type": "ACTUAL",
                    "threshold": float(percent),
                    "threshold_type": "PERCENTAGE",
                    "subscriber_email_addresses": list(budget.email),
                }
                for percent in budget.alert_at_percent
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        return made.name

    def _gcp(self, name: str, plan: FleetPlan, cost: CostConfig, budget: MonthlyBudget) -> pulumi.Output[str]:
        project = plan.gcp_project
        assert project is not None and cost.billing_account is not None
        # Budgets are called with the quota project of the caller (billingbudgets needs one): gcp:project's.
        provider = gcp.Provider(
            f"{name}-gcp",
            project=project,
            billing_project=project,
            user_project_override=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        opts = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=self.apis)
        channels = [
            gcp.monitoring.NotificationChannel(
                f"{name}-mail-{i}",
                display_name=f"{plan.prefix} fleet budget: {address}",
                type="email",
                labels={"email_address": address},
                opts=opts,
            )
            for i, address in enumerate(budget.email)
        ]
        projects = sorted({*plan.gcp_projects(), project})
        numbers = [
            gcp.organizations.get_project_output(
                project_id=p, opts=pulumi.InvokeOutputOptions(parent=self, provider=provider)
            ).number
            for p in projects
        ]
        made = gcp.billing.Budget(
            f"{name}-gcp",
            billing_account=cost.billing_account,
            display_name=f"{plan.prefix}-fleet",
            budget_filter={
                "projects": pulumi.Output.all(*numbers).apply(lambda ns: [f"projects/{n}" for n in ns]),
                "labels": {ENVIRONMENT_LABEL: plan.environment},
                "calendar_period": "MONTH",
            },
            amount={"specified_amount": {"currency_code": budget.currency, "units": f"{int(budget.amount)}"}},
            threshold_rules=[
                {"threshold_percent": percent / 100, "spend_basis": "CURRENT_SPEND"}
                for percent in budget.alert_at_percent
            ],
            all_updates_rule={
                "monitoring_notification_channels": [c.name for c in channels],
                "disable_default_iam_recipients": False,
            },
            opts=opts,
        )
        return made.name


@dataclass(frozen=True)
class ClusterCostProps:
    cluster: ClusterPort
    teams: Mapping[str, pulumi.Resource]  # team namespace -> its Namespace on this cluster
    quotas: Mapping[str, Quota]
    opencost: bool  # the cluster has a Prometheus to read (multicluster:observability)


class ClusterCost(pulumi.ComponentResource):
    """One cluster's team quotas and OpenCost."""

    TYPE = "multicluster:cost:ClusterCost"

    def __init__(self, name: str, props: ClusterCostProps, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        cluster = props.cluster
        self._provider = cluster.k8s_provider
        for team, namespace in props.teams.items():
            quota = props.quotas.get(team) or props.quotas.get("default")
            if quota is None:
                continue
            after = self._opts(depends_on=[*cluster.ready, namespace])
            k8s.core.v1.ResourceQuota(
                f"{name}-{team}-quota",
                metadata={"name": "team-quota", "namespace": team},
                spec={"hard": {"requests.cpu": quota.cpu, "requests.memory": quota.memory}},
                opts=after,
            )
            k8s.core.v1.LimitRange(
                f"{name}-{team}-limits",
                metadata={"name": "team-defaults", "namespace": team},
                spec={"limits": [{"type": "Container", "default_request": DEFAULT_REQUEST}]},
                opts=after,
            )
        if props.opencost:
            namespace = k8s.core.v1.Namespace(
                f"{name}-opencost-ns", metadata={"name": OPENCOST_NAMESPACE}, opts=self._opts(depends_on=cluster.ready)
            )
            k8s.helm.v3.Release(
                f"{name}-opencost",
                name="opencost",
                chart=OPENCOST.name,
                version=OPENCOST.version,
                repository_opts={"repo": OPENCOST.repository},
                namespace=namespace.metadata.name,
                values=opencost_values(cluster.spec.name),
                atomic=True,
                timeout=600,
                opts=self._opts(depends_on=[*cluster.ready, namespace]),
            )
        self.register_outputs({})

    def _opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._provider, **kwargs)


def opencost_values(cluster: str) -> dict[str, Any]:
    """OpenCost reading the cluster's own Prometheus (values.yaml opencost.prometheus.internal), its metrics
    scraped by that Prometheus (opencost.metrics.serviceMonitor), no UI (reached through Grafana on the hub)."""
    return {
        "clusterName": cluster,
        "opencost": {
            "exporter": {"defaultClusterId": cluster},
            "prometheus": {"internal": {"enabled": True, **PROMETHEUS}},
            "metrics": {"serviceMonitor": {"enabled": True}},
            "ui": {"enabled": False},
        },
    }


class FleetCost(pulumi.ComponentResource):
    """The fleet's budgets and every cluster's quotas and OpenCost."""

    TYPE = "multicluster:cost:FleetCost"

    def __init__(
        self,
        name: str,
        plan: FleetPlan,
        clusters: Mapping[str, ClusterPort],
        access: Access | None,
        project_services: ProjectServices | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        cost = plan.block(CostConfig)
        assert cost is not None
        self.cost = cost
        self.budgets = (
            FleetBudgets(
                f"{name}-budgets",
                plan,
                sorted({c.cloud for c in clusters.values()}),
                project_services,
                pulumi.ResourceOptions(parent=self),
            )
            if cost.monthly_budget is not None
            else None
        )
        opencost = plan.block(ObservabilityConfig) is not None
        self.clusters = {
            cluster: ClusterCost(
                f"{cluster}-cost",
                ClusterCostProps(port, access.namespaces(cluster) if access is not None else {}, cost.quotas, opencost),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for cluster, port in clusters.items()
        }
        self.register_outputs(self.outputs())

    def outputs(self) -> CostOutputs:
        budget = self.cost.monthly_budget
        return {
            "monthlyBudget": {"amount": budget.amount, "currency": budget.currency} if budget is not None else None,
            "budgets": self.budgets.names if self.budgets is not None else {},
            "quotas": {k: {"cpu": q.cpu, "memory": q.memory} for k, q in self.cost.quotas.items()},
        }


def build_cost(
    plan: FleetPlan,
    clusters: Mapping[str, ClusterPort],
    access: Access | None,
    project_services: ProjectServices | None,
) -> FleetCost | None:
    if plan.block(CostConfig) is None:
        return None
    return FleetCost("cost", plan, clusters, access, project_services)
