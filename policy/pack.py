"""The guardrails as pulumi_policy policies: adapters from the engine's arguments to `guardrails.Resource`.

Importable without starting the pack's server (only `__main__.py` constructs the PolicyPack).
"""

from __future__ import annotations

from typing import Any, TypeGuard

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

try:  # imported as policy.pack (tests), or from the pack's own folder (pulumi runs __main__.py there)
    from . import guardrails
except ImportError:
    import guardrails

UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


def plain(value: Any) -> Any:
    """Engine properties (behind pulumi_policy's unknown-checking proxies) as plain data with UNKNOWN."""
    if isinstance(value, str):
        return guardrails.UNKNOWN if value in UNKNOWN_SENTINELS else value
    if guardrails.is_mapping(value):
        target = value.get("__target", value)  # behind a proxy: the raw properties
        return {k: plain(v) for k, v in target.items()}
    if _is_list_proxy(value):
        return [plain(v) for v in value["__target"]]  # behind a proxy: the raw list
    if _is_array(value):
        return [plain(v) for v in value]
    return value


def _is_array(value: object) -> TypeGuard[list[Any] | tuple[Any, ...]]:
    return isinstance(value, list | tuple)


def _is_list_proxy(value: Any) -> bool:
    return type(value).__name__ == "_ListProxy"


def stack_facts() -> guardrails.StackFacts:
    """The stack's config, which the CLI hands to policy packs (absent keys: not configured)."""
    try:
        config = pulumi.Config("multicluster")
        environment = config.get("environment")
    except Exception:  # an engine that hands packs no config: the rules fall back to what resources say
        return guardrails.StackFacts()
    if environment is None:
        return guardrails.StackFacts()
    return guardrails.StackFacts(
        environment=environment, backup=config.get("backup") is not None, gitops=config.get("gitops") is not None
    )


def _as_guardrail_resource(source: Any, parent: str | None, dependencies: tuple[str, ...] = ()) -> guardrails.Resource:
    """What the rules see of a resource, from a policy SDK object (resource args or a stack resource)."""
    provider = source.provider
    return guardrails.Resource(
        urn=source.urn,
        type=source.resource_type,
        name=source.name,
        props=plain(source.props),
        protect=bool(source.opts.protect),
        parent=parent,
        provider=provider.urn if provider else None,
        provider_props=plain(provider.props) if provider else {},
        dependencies=dependencies,
    )


def from_resource_args(args: ResourceValidationArgs) -> guardrails.Resource:
    return _as_guardrail_resource(args, args.opts.parent)


def from_stack_resource(resource: Any) -> guardrails.Resource:
    parent = resource.opts.parent or (resource.parent.urn if resource.parent else None)
    return _as_guardrail_resource(resource, parent, tuple(d.urn for d in resource.dependencies))


def resource_policy(rule: guardrails.Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        for message in rule.check(from_resource_args(args), stack_facts()):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        remediation_steps=rule.remediation,
    )


def stack_policy(rule: guardrails.Rule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [from_stack_resource(r) for r in args.resources]
        for violation in rule.check(resources, stack_facts()):
            report_violation(violation.message, violation.urn)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        remediation_steps=rule.remediation,
    )


def pack_policies() -> list[Policy]:
    return [resource_policy(r) if r.scope == "resource" else stack_policy(r) for r in guardrails.RULES]
