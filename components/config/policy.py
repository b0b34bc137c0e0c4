"""Config block `multicluster:policy`: Gatekeeper in every cluster, enforcing the rules enabled here.

Each rule is a ConstraintTemplate (its Rego and its parameters' schema) and one Constraint of it
(components/gatekeeper.py). `deny` refuses what breaks a rule at admission; `dryrun` admits it and reports it in
the constraint's audit status (and, with the observability block, in Gatekeeper's metrics). The platform's own
namespaces are exempt, so that the fleet's controllers keep running whatever the rules.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field

from .base import Issue, Model, format_path
from .fleetview import BlockRules
from .gitops import LABEL_KEY, pinned_version

if TYPE_CHECKING:
    from .fleetview import FleetView

Rule = Literal["no-privileged", "required-labels", "allowed-registries", "no-latest-tag", "resource-limits"]
RULES: tuple[Rule, ...] = ("no-privileged", "required-labels", "allowed-registries", "no-latest-tag", "resource-limits")
DEFAULT_CHART_VERSION = "3.23.0"  # gatekeeper chart 3.23.0 = Gatekeeper v3.23.0 (../shared/upstream/gatekeeper)
# A registry host (with an optional port) and an optional path: what an image reference starts with
# (distribution/reference: domain "/" path).
REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
DEFAULT_REQUIRED_LABELS = ("app.kubernetes.io/name",)


def registry(value: str) -> str:
    if not REGISTRY.match(value) or ("." not in value.split("/", 1)[0] and ":" not in value.split("/", 1)[0]):
        raise ValueError(
            f"'{value}' is not a registry host with an optional path "
            "(e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com or europe-docker.pkg.dev/acme)"
        )
    return value


def label_key(value: str) -> str:
    if not LABEL_KEY.match(value):
        raise ValueError(f"'{value}' is not a Kubernetes label key")
    return value


class PolicyConfig(Model):
    """In-cluster admission policy: Gatekeeper constraints for the rules enabled."""

    enforce: list[Rule] = Field(min_length=1, description="The rules enabled, on every cluster.")
    allowed_registries: list[Annotated[str, AfterValidator(registry)]] = Field(
        default_factory=list,
        description="Registries (host and optional path) images may come from; required with allowed-registries.",
    )
    required_labels: list[Annotated[str, AfterValidator(label_key)]] = Field(
        default_factory=lambda: list(DEFAULT_REQUIRED_LABELS),
        min_length=1,
        description="Labels every workload must carry, with required-labels.",
    )
    mode: Literal["deny", "dryrun"] = Field(
        default="deny", description="deny refuses at admission; dryrun only reports (audit)."
    )
    chart_version: Annotated[str, AfterValidator(pinned_version)] = Field(
        default=DEFAULT_CHART_VERSION, description="Gatekeeper Helm chart version (exact)."
    )


def check(config: FleetView) -> list[Issue]:
    block = config.block(PolicyConfig)
    if block is None:
        return []
    issues: list[Issue] = []
    for i, rule in enumerate(block.enforce):
        if rule in block.enforce[:i]:
            issues.append(Issue(format_path(("policy", "enforce", i)), f"'{rule}' is listed twice"))
    if "allowed-registries" in block.enforce and not block.allowed_registries:
        issues.append(
            Issue(
                format_path(("policy", "allowedRegistries")),
                "allowed-registries is enforced but no registry is allowed: every pod would be refused",
            )
        )
    return issues


# Declared by the `multicluster:policy` field of StackConfig: what validation and the fleet's needs call.
POLICY_RULES = BlockRules(check)
