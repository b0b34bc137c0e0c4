"""Custom resources against their CustomResourceDefinitions (the upstream CRDs, when present).

The API server validates a custom resource against the openAPIV3Schema of its CRD version and refuses
it when a value does not fit (k8s.io/apiextensions-apiserver pkg/apiserver/validation). A field the
schema does not declare is dropped by pruning, or refused under strict field validation: the judge
refuses it, since a dropped field is a setting that silently does nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import Context, plan_check
from .rules import UNKNOWN_PLACEHOLDER, Finding, is_list, is_map, known_or_placeholder

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

# API group -> CRD files under the upstream folder (the versions the program's charts install).
CRD_FILES: dict[str, tuple[str, ...]] = {
    "networking.istio.io": ("istio/crds/crd-all.gen.yaml",),
    "security.istio.io": ("istio/crds/crd-all.gen.yaml",),
    "telemetry.istio.io": ("istio/crds/crd-all.gen.yaml",),
    "multicluster.linkerd.io": ("linkerd/charts/linkerd-multicluster/templates/link-crd.yaml",),
    "policy.linkerd.io": ("linkerd/charts/linkerd-crds/templates/policy/*.yaml",),
    "argoproj.io": ("argocd/crds-v3.4.4/*.yaml",),  # argo-cd chart 10.1.1 installs Argo CD v3.4.4
    "velero.io": ("velero/crds/*.yaml",),
    "monitoring.coreos.com": ("kube-prometheus-stack/crds/*.yaml",),
    "templates.gatekeeper.sh": ("gatekeeper/crds/*.yaml",),
    "external-secrets.io": ("external-secrets/crds/*.yaml",),
}
BUILT_IN_GROUPS = {
    "core",
    "apps",
    "batch",
    "rbac.authorization.k8s.io",
    "networking.k8s.io",
    "policy",
    "helm.sh",
    "apiextensions.k8s.io",
    "admissionregistration.k8s.io",
    "storage.k8s.io",
    "autoscaling",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "yaml",
    "kustomize",
}
SOURCE = "k8s.io/apiextensions-apiserver pkg/apiserver/validation: the CRD's openAPIV3Schema"


# The C parser where PyYAML has it. CSafeLoader is not a SafeLoader subclass, but it is SafeLoader's constructor and
# resolver over libyaml's parser: all that _Loader adds to.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """Reads `- =` as the string '=' (Go YAML does; PyYAML's resolver calls it a 'value' tag)."""


def _value_as_string(loader: _Loader, node: yaml.ScalarNode) -> str:
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:value", _value_as_string)


# A document separator: `---` at the start of a line, alone or before a comment.
SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)


@functools.lru_cache(maxsize=64)
def _texts(path: Path) -> tuple[str, ...]:
    """The YAML documents of a file, unparsed (one CRD file serves several groups: read it once)."""
    text = path.read_text()
    if "{{" in text:  # a Helm template: its template lines are only in metadata
        text = "\n".join(line for line in text.splitlines() if "{{" not in line)
    return tuple(part for part in SEPARATOR.split(text) if part.strip())


def _documents(path: Path, group: str) -> list[dict[str, Any]]:
    """The documents of a file that may define a CRD of `group`: only those are parsed (parsing every
    CRD of a file such as Istio's crd-all.gen.yaml cost more than the rest of the judge)."""
    wanted = [text for text in _texts(path) if group in text]
    return [d for text in wanted for d in yaml.load_all(text, Loader=_Loader) if is_map(d)]


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "multicluster" / "crd-schemas"


@functools.lru_cache(maxsize=64)
def schemas_of_group(upstream: Path, group: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> strict openAPIV3Schema, for every CRD of the group found upstream.

    Parsing the largest CRD files (External Secrets', Istio's) takes seconds, so the result is kept on disk under
    the content hash of the files it was read from: a changed file is read again, nothing else is ever reused."""
    paths = [path for pattern in CRD_FILES.get(group, ()) for path in sorted(upstream.glob(pattern))]
    digest = hashlib.sha256(group.encode())
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    cached = _cache_dir() / f"{group}-{digest.hexdigest()[:32]}.json"
    try:
        return {(v, k): schema for v, k, schema in json.loads(cached.read_text())}
    except (OSError, ValueError):
        pass
    found = _read_schemas(paths, group)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary = cached.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps([[v, k, schema] for (v, k), schema in found.items()]))
        temporary.replace(cached)
    except OSError:
        pass  # a read-only home: parse every time
    return found


def _read_schemas(paths: list[Path], group: str) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in paths:
        for crd in _documents(path, group):
            spec: dict[str, Any] = crd.get("spec") or {}
            if crd.get("kind") != "CustomResourceDefinition" or spec.get("group") != group:
                continue
            versions: list[dict[str, Any]] = spec.get("versions") or []
            for version in versions:
                version_schema: dict[str, Any] = version.get("schema") or {}
                schema = version_schema.get("openAPIV3Schema")
                if schema:
                    found[(f"{group}/{version['name']}", spec["names"]["kind"])] = strict(schema)
    return found


def strict(schema: Any) -> Any:
    """Objects with declared properties reject undeclared ones (unless the CRD preserves unknown fields)."""
    if is_list(schema):
        return [strict(s) for s in schema]
    if not is_map(schema):
        return schema
    result = {k: strict(v) for k, v in schema.items()}
    open_ended = "additionalProperties" in result or result.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in result and not open_ended:
        result["additionalProperties"] = False
    return result


@functools.lru_cache(maxsize=256)
def _validator(upstream: Path, group: str, api_version: str, kind: str) -> Validator | None:
    import jsonschema

    schema = schemas_of_group(upstream, group).get((api_version, kind))
    return jsonschema.Draft7Validator(schema) if schema is not None else None


def custom_resource_type(type_: str) -> tuple[str, str, str] | None:
    """kubernetes:<group>/<version>:<Kind> -> (group, apiVersion, kind) for custom resource groups."""
    if not type_.startswith("kubernetes:"):
        return None
    group_version, _, kind = type_.removeprefix("kubernetes:").rpartition(":")
    group, _, version = group_version.rpartition("/")
    if not group or group in BUILT_IN_GROUPS or group.endswith(".k8s.io"):
        return None
    return group, f"{group}/{version}", kind


# The API server checks these itself (the type meta and ObjectMeta); a CRD schema may leave them out.
OBJECT_FIELDS = ("apiVersion", "kind", "metadata")
NOT_OBJECT_FIELDS = ("__opts", "__meta")


def object_body(inputs: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The object as the CRD schema sees it: its content, and the type/object meta where the schema has them."""
    declared = schema.get("properties", {})
    return {k: v for k, v in inputs.items() if k not in NOT_OBJECT_FIELDS and (k not in OBJECT_FIELDS or k in declared)}


@plan_check
def custom_resources(plan: Any, context: Context) -> Iterator[Finding]:
    if context.upstream is None:
        return
    for resource in plan.resources:
        parsed = custom_resource_type(resource.type)
        if parsed is None or not resource.custom:
            continue
        group, api_version, kind = parsed
        if group not in CRD_FILES:
            continue
        validator = _validator(context.upstream, group, api_version, kind)
        if validator is None:
            yield Finding(
                resource.urn,
                "Kubernetes",
                f"no CustomResourceDefinition serves {api_version} {kind} (the API server has no such resource)",
                f"{context.upstream.name}: {', '.join(CRD_FILES[group])}",
            )
            continue
        schema = validator.schema  # the CRD's strict openAPIV3Schema: an object, never a boolean schema
        body = object_body(resource.inputs, schema if isinstance(schema, Mapping) else {})
        for error in sorted(validator.iter_errors(known_or_placeholder(body)), key=lambda e: list(e.absolute_path)):
            if error.instance == UNKNOWN_PLACEHOLDER:
                continue
            where = ".".join(str(p) for p in error.absolute_path) or "(object)"
            yield Finding(resource.urn, "Kubernetes", f"{kind} {where}: {error.message}", f"{SOURCE} ({api_version})")


# --- Gatekeeper constraints: their CRDs come from the plan's ConstraintTemplates ------------------------------

CONSTRAINTS_GROUP = "constraints.gatekeeper.sh"
TEMPLATE_TYPE = "kubernetes:templates.gatekeeper.sh/v1:ConstraintTemplate"
# open-policy-agent/frameworks constraint/pkg/client/crds/crds.go: the CRD Gatekeeper generates for a template
# serves v1beta1 (stored) and v1alpha1; its spec holds match, enforcementAction, scopedEnforcementActions and
# parameters (constraint/pkg/schema/schema.go), the parameters' schema being the template's
# spec.crd.spec.validation.openAPIV3Schema; pkg/util/enforcement_action.go: deny, dryrun, warn, scoped.
CONSTRAINT_VERSIONS = ("v1beta1", "v1alpha1")
CONSTRAINT_SPEC = ("match", "enforcementAction", "scopedEnforcementActions", "parameters")
ENFORCEMENT_ACTIONS = ("deny", "dryrun", "warn", "scoped")
CONSTRAINT_SOURCE = (
    "open-policy-agent/frameworks constraint/pkg/client/crds/crds.go and constraint/pkg/schema/schema.go (the CRD "
    "Gatekeeper generates from a ConstraintTemplate), gatekeeper pkg/util/enforcement_action.go"
)


@plan_check
def gatekeeper_constraints(plan: Any, context: Context) -> Iterator[Finding]:
    """Each Constraint against the CRD Gatekeeper makes of its ConstraintTemplate on the same cluster."""
    templates: dict[tuple[str | None, str], Any] = {}
    for resource in plan.resources:
        if resource.type == TEMPLATE_TYPE:
            kind = _text(resource.inputs, "spec", "crd", "spec", "names", "kind")
            if kind:
                templates[(resource.provider_urn, kind)] = resource
    for resource in plan.resources:
        parsed = custom_resource_type(resource.type)
        if parsed is None or parsed[0] != CONSTRAINTS_GROUP or not resource.custom:
            continue
        _, api_version, kind = parsed
        yield from _constraint_findings(resource, api_version, kind, templates.get((resource.provider_urn, kind)))


def _text(value: Any, *path: str) -> str | None:
    found = value_of(value, *path)
    return found if isinstance(found, str) else None


def _strict_validator(schema: Mapping[str, Any]) -> Validator:
    import jsonschema

    return jsonschema.Draft7Validator(strict(schema))


def _constraint_findings(resource: Any, api_version: str, kind: str, template: Any) -> Iterator[Finding]:
    def found(rule: str) -> Finding:
        return Finding(resource.urn, "Kubernetes", rule, CONSTRAINT_SOURCE)

    version = api_version.rpartition("/")[2]
    if version not in CONSTRAINT_VERSIONS:
        yield found(f"Gatekeeper serves {CONSTRAINTS_GROUP} {' and '.join(CONSTRAINT_VERSIONS)}, not {version}")
    if template is None:
        yield found(f"no ConstraintTemplate of this cluster defines {kind}: Gatekeeper serves no such resource")
        return
    spec: Any = resource.inputs.get("spec") or {}
    if not is_map(spec):
        return
    for key in spec:
        if key not in CONSTRAINT_SPEC:
            yield found(f"{kind} spec.{key}: not a field of a constraint ({', '.join(CONSTRAINT_SPEC)})")
    action = spec.get("enforcementAction")
    if isinstance(action, str) and action not in ENFORCEMENT_ACTIONS:
        yield found(f"{kind} spec.enforcementAction {action!r} is not one of {', '.join(ENFORCEMENT_ACTIONS)}")
    schema = value_of(template.inputs, "spec", "crd", "spec", "validation", "openAPIV3Schema")
    parameters = spec.get("parameters")
    if parameters is None:
        return
    if not is_map(schema):
        yield found(f"{kind} spec.parameters: its template declares no parameters")
        return
    if not is_map(parameters):
        yield found(f"{kind} spec.parameters: not an object")
        return
    validator = _strict_validator(schema)
    instance: dict[str, Any] = known_or_placeholder(parameters)
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        if error.instance == UNKNOWN_PLACEHOLDER:
            continue
        where = ".".join(str(p) for p in error.absolute_path)
        yield found(f"{kind} spec.parameters{'.' + where if where else ''}: {error.message}")


def value_of(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if is_map(value) else None
    return value
