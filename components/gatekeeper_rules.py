"""The policy block's rules as data: for each, a Gatekeeper ConstraintTemplate (its kind, the schema of its
parameters, its Rego) and what its Constraint matches. Pure: no Pulumi; components/gatekeeper.py writes them out,
tests evaluate the Rego (regopy) and validate each Constraint against its template's schema.

The Rego is Rego v1 (`code: [{engine: Rego, source: {version: v1, rego: ...}}]`, Gatekeeper's
constrainttemplates docs, "Rego v1"); each template reads the object under review (`input.review.object`) and its
constraint's parameters (`input.parameters`) and yields `violation` entries with a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config.policy import PolicyConfig, Rule

TARGET = "admission.k8s.gatekeeper.sh"
CONSTRAINTS_API = "constraints.gatekeeper.sh/v1beta1"  # the version Gatekeeper's generated CRDs store and serve
TEMPLATES_API = "templates.gatekeeper.sh/v1"
PODS = [{"apiGroups": [""], "kinds": ["Pod"]}]
WORKLOADS = [
    {"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet"]},
    {"apiGroups": ["batch"], "kinds": ["Job", "CronJob"]},
]

# Every container of a pod, init and ephemeral ones included.
CONTAINERS = """
containers contains c if {
  some c in input.review.object.spec.containers
}

containers contains c if {
  some c in input.review.object.spec.initContainers
}

containers contains c if {
  some c in input.review.object.spec.ephemeralContainers
}
"""

NO_PRIVILEGED = (
    """package multiclusternoprivileged

"""
    + CONTAINERS
    + """
violation contains {"msg": msg} if {
  some c in containers
  c.securityContext.privileged == true
  msg := sprintf("container %v is privileged", [c.name])
}

violation contains {"msg": msg} if {
  some field in ["hostNetwork", "hostPID", "hostIPC"]
  input.review.object.spec[field] == true
  msg := sprintf("the pod shares the node's namespaces (%v)", [field])
}
"""
)

# A CronJob's Jobs carry the labels of its jobTemplate, not its own (the CronJob controller copies
# spec.jobTemplate.metadata.labels): that is where a CronJob must have them, or its Jobs are refused.
REQUIRED_LABELS = """package multiclusterrequiredlabels

labelled := object.get(input.review.object.spec.jobTemplate, "metadata", {}) if {
  input.review.object.kind == "CronJob"
} else := input.review.object.metadata

violation contains {"msg": msg} if {
  provided := object.get(labelled, "labels", {})
  some key in input.parameters.labels
  not provided[key]
  msg := sprintf("label %v is required", [key])
}
"""

ALLOWED_REGISTRIES = (
    """package multiclusterallowedregistries

"""
    + CONTAINERS
    + """
allowed(image) if {
  some registry in input.parameters.registries
  startswith(image, concat("", [registry, "/"]))
}

# Containers the platform injects into the teams' pods (mesh sidecars, Velero's restore helper).
allowed(image) if {
  some prefix in object.get(input.parameters, "exemptImages", [])
  startswith(image, prefix)
}

violation contains {"msg": msg} if {
  some c in containers
  not allowed(c.image)
  allowed_list := input.parameters.registries
  msg := sprintf("image %v of container %v is not from an allowed registry (%v)", [c.image, c.name, allowed_list])
}
"""
)

NO_LATEST_TAG = (
    """package multiclusternolatesttag

"""
    + CONTAINERS
    + """
# The tag is what follows the last ':' after the last '/' (a registry port is before it); a digest pins anyway.
tag(image) := t if {
  not contains(image, "@")
  parts := split(image, "/")
  last := parts[count(parts) - 1]
  contains(last, ":")
  pieces := split(last, ":")
  t := pieces[count(pieces) - 1]
}

violation contains {"msg": msg} if {
  some c in containers
  not contains(c.image, "@")
  not tag(c.image)
  msg := sprintf("image %v of container %v has no tag (latest is implied)", [c.image, c.name])
}

violation contains {"msg": msg} if {
  some c in containers
  tag(c.image) == "latest"
  msg := sprintf("image %v of container %v uses the latest tag", [c.image, c.name])
}
"""
)

RESOURCE_LIMITS = """package multiclusterresourcelimits

violation contains {"msg": msg} if {
  some c in input.review.object.spec.containers
  some need in [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]]
  not c.resources[need[0]][need[1]]
  msg := sprintf("container %v sets no resources.%v.%v", [c.name, need[0], need[1]])
}
"""


@dataclass(frozen=True)
class PolicyRule:
    """One rule of the policy block: its ConstraintTemplate and what its Constraint matches."""

    rule: Rule
    kind: str  # the constraint kind the template defines
    rego: str
    match: list[dict[str, Any]]
    parameters_schema: dict[str, Any] | None = None

    @property
    def template_name(self) -> str:
        return self.kind.lower()  # Gatekeeper: the template's name is its kind, lowercase


# Images the platform puts into the teams' pods, wherever their registry: Istio's sidecar and init container (the
# istiod chart's default hub docker.io/istio, image proxyv2), Linkerd's proxy (cr.l5d.io/linkerd/proxy), and the
# init container Velero adds to pods whose volumes it restores ("By default, Velero uses the image
# velero/velero:<VERSION> for the restore helper", velero.io docs "File System Backup", Customize Restore Helper).
PLATFORM_IMAGES = (
    "docker.io/istio/proxyv2:",
    "cr.l5d.io/linkerd/proxy:",
    "velero/velero:",
    "docker.io/velero/velero:",
)
STRING_LIST = {"type": "array", "items": {"type": "string"}, "minItems": 1}
POLICY_RULES: dict[Rule, PolicyRule] = {
    r.rule: r
    for r in (
        PolicyRule("no-privileged", "MulticlusterNoPrivileged", NO_PRIVILEGED, PODS),
        PolicyRule(
            "required-labels",
            "MulticlusterRequiredLabels",
            REQUIRED_LABELS,
            WORKLOADS,
            {"type": "object", "properties": {"labels": STRING_LIST}, "required": ["labels"]},
        ),
        PolicyRule(
            "allowed-registries",
            "MulticlusterAllowedRegistries",
            ALLOWED_REGISTRIES,
            PODS,
            {
                "type": "object",
                "properties": {
                    "registries": STRING_LIST,
                    "exemptImages": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["registries"],
            },
        ),
        PolicyRule("no-latest-tag", "MulticlusterNoLatestTag", NO_LATEST_TAG, PODS),
        PolicyRule("resource-limits", "MulticlusterResourceLimits", RESOURCE_LIMITS, PODS),
    )
}


def parameters(rule: Rule, block: PolicyConfig) -> dict[str, Any] | None:
    """The constraint's parameters from the block."""
    if rule == "required-labels":
        return {"labels": list(block.required_labels)}
    if rule == "allowed-registries":
        return {"registries": list(block.allowed_registries), "exemptImages": list(PLATFORM_IMAGES)}
    return None


def template(rule: PolicyRule) -> dict[str, Any]:
    """The ConstraintTemplate's spec."""
    names: dict[str, Any] = {"names": {"kind": rule.kind}}
    if rule.parameters_schema is not None:
        names["validation"] = {"openAPIV3Schema": rule.parameters_schema}
    return {
        "crd": {"spec": names},
        "targets": [{"target": TARGET, "code": [{"engine": "Rego", "source": {"version": "v1", "rego": rule.rego}}]}],
    }


def constraint(rule: PolicyRule, block: PolicyConfig, exempt: list[str]) -> dict[str, Any]:
    """The Constraint's spec: the block's mode, every namespace but the platform's."""
    spec: dict[str, Any] = {
        "enforcementAction": block.mode,
        "match": {"kinds": rule.match, "excludedNamespaces": exempt},
    }
    found = parameters(rule.rule, block)
    if found is not None:
        spec["parameters"] = found
    return spec
