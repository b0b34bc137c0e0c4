"""Run the guardrail policies (policy/guardrails.py) offline over a captured plan.

Resource rules see a resource's inputs (what `pulumi preview` analyzes); stack rules see its outputs
(what the engine hands a stack policy). The stack facts come from the exported config values.
"""

from __future__ import annotations

from typing import Any

from policy import guardrails

from .capture import Plan, PlannedResource


def stack_facts(plan: Plan) -> guardrails.StackFacts:
    """`environment` is exported by the fleet; a capability's key is exported only when it is configured."""
    environment = plan.outputs.get("environment")
    return guardrails.StackFacts(
        environment=environment if isinstance(environment, str) else None,
        backup="backup" in plan.outputs,
        gitops="gitops" in plan.outputs,
    )


def policy_resources(plan: Plan, stack: bool = False) -> list[guardrails.Resource]:
    """The plan's resources as the rules see them (inputs for resource rules, outputs for stack rules)."""
    providers = {r.urn: r.inputs for r in plan.resources if r.type.startswith("pulumi:providers:")}
    return [_resource(r, providers, stack) for r in plan.resources]


def _resource(r: PlannedResource, providers: dict[str, dict[str, Any]], stack: bool) -> guardrails.Resource:
    return guardrails.Resource(
        urn=r.urn,
        type=r.type,
        name=r.name,
        props={**r.inputs, **r.outputs} if stack else r.inputs,
        protect=r.protect,
        parent=r.parent,
        provider=r.provider_urn,
        provider_props=providers.get(r.provider_urn or "", {}),
        dependencies=tuple(r.dependencies),
    )


def run_policies(plan: Plan) -> list[dict[str, Any]]:
    """One result per guardrail: {policy, enforcement, description, remediation, violations: [{urn, message}]}."""
    facts = stack_facts(plan)
    by_scope = {"resource": policy_resources(plan), "stack": policy_resources(plan, stack=True)}
    results = []
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
