"""The judge: would the real engine, the clouds and Kubernetes accept what the program registers?

Every custom resource is checked when the mocks receive it (its inputs after the provider's Check), by
  - field rules: length, pattern, enum, range of one input, each citing its source (an API model, a
    provider's source, a documentation page);
  - resource checks: rules over several inputs of one resource (mutually exclusive fields, documented
    rules such as GKE's maintenance availability);
and, once the program has finished, plan checks look at the whole fleet: per-account and per-resource
quotas one stack can exceed, chart versions and values, and the paths a working fleet needs.

Each rule module registers itself here; `Judge` runs them. A finding prints as
`<urn> would be rejected by <authority>: <rule> (<source>)`, and the plan ends with exit code 3.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..mocks import Observed
from .rules import FieldRule, Finding

if TYPE_CHECKING:
    from ..capture import Plan

ResourceCheck = Callable[[Observed], Iterable[Finding]]


@dataclass(frozen=True)
class Context:
    """What plan checks may use besides the plan: the upstream chart data, when present, and, in an update
    preview (`--engine-preview --diff BASE.json`), the saved resources of the base (URN -> the saved resource,
    as `diff.BasePlan.resources`: its `protect` flag among them)."""

    upstream: Path | None = None
    base: Mapping[str, Mapping[str, Any]] | None = None
    # Quotas the stack states its accounts hold above the defaults (multicluster:quotas): (resource type, region)
    # -> the raised limit, which the quota checks count against instead of the default.
    raised_quotas: Mapping[tuple[str, str], int] = field(default_factory=dict[tuple[str, str], int])

    def quota(self, type_: str, region: str, default: int) -> int:
        return self.raised_quotas.get((type_, region), default)


PlanCheck = Callable[["Plan", Context], Iterable[Finding]]

FIELD_RULES: dict[str, list[FieldRule]] = {}
RESOURCE_CHECKS: dict[str, list[ResourceCheck]] = {}
PREFIX_CHECKS: list[tuple[str, ResourceCheck]] = []
PLAN_CHECKS: list[PlanCheck] = []


def field_rules(type_: str, *rules: FieldRule) -> None:
    FIELD_RULES.setdefault(type_, []).extend(rules)


def resource_check(*types: str) -> Callable[[ResourceCheck], ResourceCheck]:
    def register(check: ResourceCheck) -> ResourceCheck:
        for type_ in types:
            RESOURCE_CHECKS.setdefault(type_, []).append(check)
        return check

    return register


def prefix_check(prefix: str) -> Callable[[ResourceCheck], ResourceCheck]:
    """A check for every type whose token starts with `prefix` (e.g. every Kubernetes object)."""

    def register(check: ResourceCheck) -> ResourceCheck:
        PREFIX_CHECKS.append((prefix, check))
        return check

    return register


def plan_check(check: PlanCheck) -> PlanCheck:
    PLAN_CHECKS.append(check)
    return check


def check_resource(observed: Observed) -> list[Finding]:
    """Every rule that applies to one resource, over its checked inputs."""
    found: list[Finding] = []
    if observed.refused is not None:
        found.append(
            Finding(
                observed.urn,
                "the provider",
                f"could not make instance of '{observed.type}': {observed.refused}",
                "Pulumi auto-naming (pulumi-terraform-bridge names.go, sdk resource.NewUniqueName)",
            )
        )
    for rule in FIELD_RULES.get(observed.type, ()):
        found.extend(rule.findings(observed.urn, observed.inputs))
    for check in RESOURCE_CHECKS.get(observed.type, ()):
        found.extend(check(observed))
    for prefix, check in PREFIX_CHECKS:
        if observed.type.startswith(prefix):
            found.extend(check(observed))
    return found


@dataclass
class Judge:
    """An observer of the mocks (resource checks as they register) and the plan checks at the end."""

    context: Context = field(default_factory=Context)
    findings: list[Finding] = field(default_factory=list[Finding])
    checked: int = 0

    def __call__(self, observed: Observed) -> None:
        self.checked += 1
        self.findings.extend(check_resource(observed))

    def finish(self, plan: Plan) -> list[Finding]:
        found = list(self.findings)
        for check in PLAN_CHECKS:
            found.extend(check(plan, self.context))
        return sorted(set(found), key=lambda f: (f.urn, f.rule))


def judge_plan(plan: Plan, context: Context | None = None) -> list[Finding]:
    """Judge a plan after the fact (tests): the resource checks over each resource's checked inputs."""
    judge = Judge(context or Context())
    providers = {r.urn: r.inputs for r in plan.resources if r.type.startswith("pulumi:providers:")}
    for r in plan.resources:
        if r.custom and not r.type.startswith("pulumi:providers:"):
            judge(Observed(r.urn, r.type, r.name, r.checked or r.inputs, providers.get(r.provider_urn or "", {})))
    return judge.finish(plan)


def summary(findings: list[Finding]) -> dict[str, Any]:
    return {"findings": [f.as_json() for f in findings], "passed": not findings}


for _module in pkgutil.iter_modules(__path__):
    if _module.name != "rules":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["Context", "Finding", "Judge", "check_resource", "judge_plan"]
