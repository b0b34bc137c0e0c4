"""Config block `multicluster:cost`: the fleet's monthly budget and its alerts, and quotas per team namespace.

The budget becomes an AWS Budgets cost budget filtered on the fleet's `multicluster:environment` tag (the tag
every AWS resource of the fleet carries through its provider's default tags) and, with GCP clusters, a Cloud
Billing budget on the billing account, filtered on the fleet's projects and its `environment` label. Both alert
the same addresses at the same percentages of actual spend. Quotas become a ResourceQuota and a LimitRange in
every team namespace (multicluster:access.namespaces) on every cluster of its placement.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field

from .access import AccessConfig
from .base import Issue, Model, format_path
from .fleetview import BlockRules
from .needs import Needs
from .observability import email_address

if TYPE_CHECKING:
    from .fleetview import FleetView

# A Kubernetes quantity (k8s.io/apimachinery resource.Quantity: a decimal number and an optional binary or
# decimal suffix, or an exponent).
QUANTITY = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
# A Cloud Billing account id (billingAccounts/{id}: three groups of six hexadecimal characters).
BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
# AWS Budgets: "The unit of measurement that's used for the budget forecast, actual spend, or budget threshold,
# such as USD" — cost budgets are in the account's currency, USD (AWS Budgets User Guide, "Best practices").
AWS_BUDGET_CURRENCY = "USD"
# AWS API model budgets CreateBudgetRequest.NotificationsWithSubscribers: "A budget can have up to five
# notifications, and each notification can have one SNS subscriber and up to 10 email subscribers".
AWS_NOTIFICATIONS, AWS_EMAILS = 5, 10
# billingbudgets v1 NotificationsRule.monitoringNotificationChannels: "A maximum of 5 email notifications".
GCP_EMAILS = 5


def quantity(value: str | int) -> str:
    text = str(value)
    if not QUANTITY.match(text):
        raise ValueError(f"'{text}' is not a Kubernetes quantity (e.g. \"20\", 500m, 64Gi)")
    return text


def billing_account_id(value: str) -> str:
    if not BILLING_ACCOUNT.match(value):
        raise ValueError(f"'{value}' is not a Cloud Billing account id (e.g. 01A2B3-C4D5E6-F7A8B9)")
    return value


class MonthlyBudget(Model):
    """The fleet's monthly spend and who hears when it passes each threshold."""

    amount: float = Field(gt=0, description="Monthly budget, in `currency`.")
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = Field(default="USD", description="ISO 4217 code.")
    alert_at_percent: list[Annotated[int, Field(ge=1, le=1000)]] = Field(
        default_factory=lambda: [50, 80, 100], min_length=1, description="Alert at these percentages of actual spend."
    )
    email: list[Annotated[str, AfterValidator(email_address)]] = Field(
        min_length=1, description="Who receives the alerts."
    )


class Quota(Model):
    """What one team namespace may request in total (ResourceQuota requests.cpu / requests.memory)."""

    cpu: Annotated[str, AfterValidator(quantity)] = Field(description='CPU, e.g. "20" or 500m.')
    memory: Annotated[str, AfterValidator(quantity)] = Field(description="Memory, e.g. 64Gi.")


class CostConfig(Model):
    """Budget alerts for the fleet's spend and quotas per team namespace."""

    monthly_budget: MonthlyBudget | None = Field(default=None, description="Budget and alerts.")
    billing_account: Annotated[str, AfterValidator(billing_account_id)] | None = Field(
        default=None, description="The Cloud Billing account the GCP projects bill to (for its budget)."
    )
    quotas: dict[str, Quota] = Field(
        default_factory=dict[str, Quota], description="Per team namespace: `default` for every team, or a team's name."
    )


def check(config: FleetView) -> list[Issue]:
    block = config.block(CostConfig)
    if block is None:
        return []
    issues: list[Issue] = []
    budget = block.monthly_budget
    clouds = {c.cloud for c in config.clusters}
    if budget is not None:
        for i, percent in enumerate(budget.alert_at_percent):
            if percent in budget.alert_at_percent[:i]:
                issues.append(
                    Issue(format_path(("cost", "monthlyBudget", "alertAtPercent", i)), f"{percent} is listed twice")
                )
        if "aws" in clouds and len(budget.alert_at_percent) > AWS_NOTIFICATIONS:
            issues.append(
                Issue(
                    format_path(("cost", "monthlyBudget", "alertAtPercent")),
                    f"AWS Budgets allows {AWS_NOTIFICATIONS} notifications per budget, not "
                    f"{len(budget.alert_at_percent)}",
                )
            )
        limit = min(([AWS_EMAILS] if "aws" in clouds else []) + ([GCP_EMAILS] if "gcp" in clouds else []))
        if len(budget.email) > limit:
            issues.append(
                Issue(
                    format_path(("cost", "monthlyBudget", "email")),
                    f"{len(budget.email)} addresses, over the {limit} a budget alerts "
                    f"(AWS Budgets: {AWS_EMAILS} per notification; Cloud Billing: {GCP_EMAILS} channels): use a list",
                )
            )
        if "aws" in clouds and budget.currency != AWS_BUDGET_CURRENCY:
            issues.append(
                Issue(
                    format_path(("cost", "monthlyBudget", "currency")),
                    f"AWS Budgets counts cost in USD, not {budget.currency}: state the budget in USD",
                )
            )
        if "gcp" in clouds and block.billing_account is None:
            issues.append(
                Issue(
                    format_path(("cost", "billingAccount")),
                    "a fleet with GCP clusters needs the Cloud Billing account its projects bill to, for its budget",
                )
            )
    access = config.block(AccessConfig)  # cost quotas name access's team namespaces
    teams = {t.name for t in (access.namespaces if access is not None else [])}
    for key in block.quotas:
        if key != "default" and key not in teams:
            issues.append(
                Issue(
                    format_path(("cost", "quotas", key)),
                    f"'{key}' is neither 'default' nor a team namespace of multicluster:access.namespaces"
                    + (f" ({', '.join(sorted(teams))})" if teams else ""),
                )
            )
    if block.quotas and not teams:
        issues.append(
            Issue(
                format_path(("cost", "quotas")),
                "quotas apply to team namespaces, and multicluster:access lists none",
            )
        )
    return issues


def needs(config: FleetView) -> Needs:
    """A Cloud Billing budget is called through gcp:project (its quota project), which must serve the APIs."""
    block = config.block(CostConfig)
    wanted = (
        block is not None
        and block.monthly_budget is not None
        and block.billing_account is not None
        and any(c.cloud == "gcp" for c in config.clusters)
    )
    return Needs(gcp_project_purposes=("budget",) if wanted else ())


# Declared by the `multicluster:cost` field of StackConfig: what validation and the fleet's needs call.
COST_RULES = BlockRules(check, needs)
