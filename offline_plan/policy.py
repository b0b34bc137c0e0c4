"""Run the guardrail policies (policy/guardrails.py) offline over a captured plan, as the engine runs them.

Resource rules see a resource's inputs after its provider's Check (auto-names added; a provider that a
first preview cannot configure echoes the inputs as given). Stack rules see outputs only: on a first
preview, what deploys through an unconfigured provider has none yet, and computed values are unknown.
The stack facts come from the stack's config, which the engine hands the pack (PULUMI_CONFIG).
"""

from __future__ import annotations

from typing import Any

from policy import guardrails

from .capture import Plan, PlannedResource
from .values import is_dict, is_list, is_unknown


def stack_facts(plan: Plan) -> guardrails.StackFacts:
    """What `pulumi.Config("multicluster")` gives the pack: the environment, and which blocks are set."""
    if not plan.config:
        return guardrails.StackFacts()
    environment = plan.config.get("multicluster:environment")
    return guardrails.StackFacts(
        environment=environment if isinstance(environment, str) else None,
        backup="multicluster:backup" in plan.config,
        gitops="multicluster:gitops" in plan.config,
    )


def as_rule_value(value: Any) -> Any:
    """Plan values as the pack's adapter gives them to the rules: unknowns as guardrails.UNKNOWN."""
    if is_unknown(value):
        return guardrails.UNKNOWN
    if is_dict(value):
        return {k: as_rule_value(v) for k, v in value.items()}
    if is_list(value):
        return [as_rule_value(v) for v in value]
    return value


def policy_resources(plan: Plan, stack: bool = False) -> list[guardrails.Resource]:
    """The plan's resources as the rules see them (checked inputs for resource rules, outputs for stack rules)."""
    providers = {r.urn: r for r in plan.resources if r.type.startswith("pulumi:providers:")}
    return [_resource(r, providers, stack) for r in plan.resources]


def _resource(r: PlannedResource, providers: dict[str, PlannedResource], stack: bool) -> guardrails.Resource:
    provider = providers.get(r.provider_urn or "")
    props = r.outputs if stack else (r.checked or r.inputs)
    provider_props = (provider.outputs if stack else provider.inputs) if provider else {}
    return guardrails.Resource(
        urn=r.urn,
        type=r.type,
        name=r.name,
        props=as_rule_value(props),
        protect=r.protect,
        parent=r.parent,
        provider=r.provider_urn,
        provider_props=as_rule_value(provider_props),
        dependencies=tuple(r.dependencies),
    )


def run_policies(plan: Plan) -> list[dict[str, Any]]:
    """One result per guardrail: {policy, enforcement, description, remediation, violations: [{urn, message}]}."""
    facts = stack_facts(plan)
    by_scope = {"resource": policy_resources(plan), "stack": policy_resources(plan, stack=True)}
    results: list[dict[str, Any]] = []
    for rule in guardrails.RULES:
        violations = guardrails.violations_of(rule, by_scope[rule.scope], facts)
        results.append(
            {
                "policy": rule.name,
                "enforcement": guardrails.MANDATORY,
                "description": rule.description,
                "remediation": rule.remediation,
                "violations": [{"urn": v.urn, "message": v.message} for v in violations],
            }
        )
    return results
