"""Kubernetes' own rules for the objects the program creates: names, namespaces, labels, annotations, Secrets.

The rules are the API server's (k8s.io/apimachinery/pkg/util/validation/validation.go and
pkg/apis/core/validation/validation.go); Helm's release names follow helm.sh/helm/v3/pkg/chartutil
ValidateReleaseName.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..mocks import Observed
from . import Context, plan_check, prefix_check, resource_check
from .rules import Finding, is_map, value_at, values_at

KUBERNETES = "Kubernetes"
APIMACHINERY = "k8s.io/apimachinery/pkg/util/validation/validation.go"
CORE_VALIDATION = "k8s.io/kubernetes/pkg/apis/core/validation/validation.go"

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
CONFIG_MAP_KEY = re.compile(r"[-._a-zA-Z0-9]+")
HELM_RELEASE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
TOTAL_ANNOTATION_BYTES = 256 * 1024
MAX_SECRET_BYTES = 1024 * 1024
HELM_RELEASE_MAX = 53
CRONJOB_NAME_MAX = 52

# Kinds whose names are not DNS-1123 subdomains (the API server's default for everything else).
NAME_RULES = {
    "Namespace": ("label", "ValidateNamespaceName: a DNS-1123 label"),
    "Service": ("dns1035", "ValidateServiceName: a DNS-1035 label"),
    "ClusterRole": ("segment", "ValidateRBACName: a path segment"),
    "ClusterRoleBinding": ("segment", "ValidateRBACName: a path segment"),
    "Role": ("segment", "ValidateRBACName: a path segment"),
    "RoleBinding": ("segment", "ValidateRBACName: a path segment"),
}
# Secret types whose data the API server requires (ValidateSecret).
SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/basic-auth": (),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def kind_of(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def reject(observed: Observed, rule: str, source: str) -> Finding:
    return Finding(observed.urn, KUBERNETES, rule, source)


def name_problem(name: str, rule: str) -> str | None:
    """Why `name` is not a valid name of the given kind of rule, or None."""
    if rule == "label":
        if len(name) > 63:
            return f"is {len(name)} characters long (a DNS-1123 label has at most 63)"
        if not DNS1123_LABEL.fullmatch(name):
            return "is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending alphanumeric)"
    elif rule == "dns1035":
        if len(name) > 63:
            return f"is {len(name)} characters long (a DNS-1035 label has at most 63)"
        if not DNS1035_LABEL.fullmatch(name):
            return "is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter)"
    elif rule == "segment":
        if name in (".", "..") or "/" in name or "%" in name:
            return "may not be '.', '..' or contain '/' or '%'"
    else:
        if len(name) > 253:
            return f"is {len(name)} characters long (a DNS-1123 subdomain has at most 253)"
        if not DNS1123_SUBDOMAIN.fullmatch(name):
            return "is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')"
    return None


def qualified_name_problem(key: str) -> str | None:
    """Label and annotation keys: an optional DNS-1123 subdomain prefix and '/', then a name of at most 63."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return "has an empty prefix"
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return f"has a prefix '{prefix}' that is not a DNS-1123 subdomain"
    if not name or len(name) > 63:
        return f"has a name part of {len(name)} characters (1 to 63 allowed)"
    if not QUALIFIED_NAME.fullmatch(name):
        return "has a name part that is not alphanumeric with '-', '_' or '.' inside"
    return None


def label_value_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "is not a string"
    if len(value) > 63:
        return f"is {len(value)} characters long (at most 63)"
    if not LABEL_VALUE.fullmatch(value):
        return "is not empty or alphanumeric with '-', '_' or '.' inside"
    return None


@prefix_check("kubernetes:")
def object_metadata(observed: Observed) -> Iterator[Finding]:
    if observed.type.startswith("kubernetes:helm.sh/"):
        return
    kind = kind_of(observed.type)
    rule, rule_source = NAME_RULES.get(kind, ("subdomain", "NameIsDNSSubdomain: a DNS-1123 subdomain"))
    for _, name in values_at(observed.inputs, "metadata.name"):
        problem = name_problem(name, rule) if isinstance(name, str) else "is not a string"
        if problem:
            yield reject(observed, f"{kind} name '{name}' {problem}", f"{CORE_VALIDATION} {rule_source}")
        elif kind == "CronJob" and len(name) > CRONJOB_NAME_MAX:
            yield reject(
                observed,
                f"CronJob name '{name}' is {len(name)} characters long (at most {CRONJOB_NAME_MAX})",
                "k8s.io/kubernetes/pkg/apis/batch/validation ValidateCronJobSpec",
            )
    for _, namespace in values_at(observed.inputs, "metadata.namespace"):
        problem = name_problem(namespace, "label") if isinstance(namespace, str) else "is not a string"
        if problem:
            yield reject(observed, f"namespace '{namespace}' {problem}", f"{APIMACHINERY} IsDNS1123Label")
    yield from _labels(observed)
    yield from _annotations(observed)


def _labels(observed: Observed) -> Iterator[Finding]:
    labels = value_at(observed.inputs, "metadata.labels")
    if not is_map(labels):
        return
    for key, value in labels.items():
        problem = qualified_name_problem(key)
        if problem:
            yield reject(observed, f"label key '{key}' {problem}", f"{APIMACHINERY} IsQualifiedName")
        problem = label_value_problem(value) if isinstance(value, str) else None
        if problem:
            yield reject(observed, f"label '{key}' value '{value}' {problem}", f"{APIMACHINERY} IsValidLabelValue")


def _annotations(observed: Observed) -> Iterator[Finding]:
    annotations = value_at(observed.inputs, "metadata.annotations")
    if not is_map(annotations):
        return
    for key in annotations:
        problem = qualified_name_problem(key.lower())
        if problem:
            yield reject(observed, f"annotation key '{key}' {problem}", f"{CORE_VALIDATION} ValidateAnnotations")
    size = sum(len(k) + len(v) for k, v in annotations.items() if isinstance(v, str))
    if size > TOTAL_ANNOTATION_BYTES:
        yield reject(
            observed,
            f"annotations total {size} bytes (at most {TOTAL_ANNOTATION_BYTES})",
            f"{CORE_VALIDATION} ValidateAnnotationsSize",
        )


@resource_check("kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap")
def data_keys(observed: Observed) -> Iterator[Finding]:
    kind = kind_of(observed.type)
    size = 0
    keys: set[str] = set()
    for field in ("data", "stringData", "binaryData"):
        data = observed.inputs.get(field)
        if not is_map(data):
            continue
        for key, value in data.items():
            keys.add(key)
            if len(key) > 253 or not CONFIG_MAP_KEY.fullmatch(key):
                yield reject(
                    observed,
                    f"{kind} key '{key}' is not a valid key (alphanumeric, '-', '_' or '.', at most 253)",
                    f"{APIMACHINERY} IsConfigMapKey",
                )
            if isinstance(value, str):
                size += len(value.encode())
            elif value is not None and not isinstance(value, str):
                size += len(json.dumps(value))
    if kind == "Secret" and size > MAX_SECRET_BYTES:
        yield reject(
            observed, f"Secret data is {size} bytes (at most {MAX_SECRET_BYTES})", f"{CORE_VALIDATION} MaxSecretSize"
        )
    secret_type = observed.inputs.get("type")
    if kind == "Secret" and isinstance(secret_type, str):
        missing = [k for k in SECRET_REQUIRED_KEYS.get(secret_type, ()) if k not in keys]
        if missing and ("stringData" in observed.inputs or "data" in observed.inputs):
            yield reject(
                observed,
                f"Secret of type {secret_type} lacks {', '.join(missing)}",
                f"{CORE_VALIDATION} ValidateSecret",
            )
        if secret_type == "kubernetes.io/service-account-token":
            account: object = value_at(observed.inputs, "metadata.annotations", {}) or {}
            if is_map(account) and "kubernetes.io/service-account.name" not in account:
                yield reject(
                    observed,
                    "service-account-token Secret has no kubernetes.io/service-account.name annotation",
                    f"{CORE_VALIDATION} ValidateSecret",
                )


@resource_check("kubernetes:helm.sh/v3:Release")
def release_name(observed: Observed) -> Iterator[Finding]:
    for _, name in values_at(observed.inputs, "name"):
        if not isinstance(name, str):
            continue
        if len(name) > HELM_RELEASE_MAX or not HELM_RELEASE_NAME.fullmatch(name):
            yield Finding(
                observed.urn,
                "Helm",
                f"release name '{name}' must be a DNS-1123 subdomain of at most {HELM_RELEASE_MAX} characters",
                "helm.sh/helm/v3/pkg/chartutil/validate_name.go ValidateReleaseName",
            )
    for _, namespace in values_at(observed.inputs, "namespace"):
        problem = name_problem(namespace, "label") if isinstance(namespace, str) else None
        if problem:
            yield reject(observed, f"release namespace '{namespace}' {problem}", f"{APIMACHINERY} IsDNS1123Label")


# Kinds without a namespace (the API server ignores metadata.namespace on them).
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "PersistentVolume",
}
OWNED_TWICE_SOURCE = (
    "the API server's create: 409 AlreadyExists for a second object of one kind, namespace and name "
    "(k8s.io/apiserver pkg/registry/generic/registry/store.go Create); pulumi-kubernetes creates, it does not adopt"
)


@plan_check
def objects_owned_once(plan: Any, context: Context) -> Iterator[Finding]:
    """Two resources of the plan that would be one object in one cluster: the second create fails, and deleting
    either one would delete the other's object."""
    first: dict[tuple[str, str, str, str], str] = {}
    for r in plan.resources:
        if not r.custom or not r.type.startswith("kubernetes:") or r.type.startswith("kubernetes:helm.sh/"):
            continue
        metadata = r.inputs.get("metadata")
        name = metadata.get("name") if is_map(metadata) else None
        if not isinstance(name, str) or not r.provider_urn:
            continue  # auto-named, or not known yet
        kind = kind_of(r.type)
        group = r.type.removeprefix("kubernetes:").split(":", 1)[0].rsplit("/", 1)[0]
        namespace = "" if kind in CLUSTER_SCOPED else str(metadata.get("namespace") or "default")
        seen = first.setdefault((r.provider_urn, f"{group}/{kind}", namespace, name), r.urn)
        if seen != r.urn:
            where = f"namespace {namespace}" if namespace else "the cluster"
            yield Finding(
                r.urn,
                KUBERNETES,
                f"{kind} '{name}' in {where} is also created by {seen.rsplit('::', 1)[-1]} through the same provider",
                OWNED_TWICE_SOURCE,
            )
