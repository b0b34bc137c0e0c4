"""GitOps against upstream: chart values exist in argo-cd 10.1.1's values.yaml, CRs match the v3.4.4 CRDs."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml

from components.config.gitops import DEFAULT_CHART_VERSION
from tests.test_gitops import planned

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the ApplicationSet CRD is 1.4 MB
# Maps the chart leaves free-form (their keys are ours, not the chart's).
FREE_FORM = {"annotations", "labels", "requests"}


@pytest.fixture(scope="module")
def chart(upstream) -> dict[str, Any]:
    return yaml.safe_load((upstream / "argocd" / "chart" / "values.yaml").read_text())


@pytest.fixture(scope="module")
def crds(upstream) -> dict[str, dict[str, Any]]:
    schemas = {}
    for path in sorted((upstream / "argocd" / "crds-v3.4.4").glob("*-crd.yaml")):
        crd = yaml.load(path.read_text(), Loader=LOADER)
        version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
        schemas[crd["spec"]["names"]["kind"]] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


@pytest.fixture(scope="module")
def plans():
    return [planned("prod"), planned("staging")]


def strict(schema: Any) -> Any:
    """The CRD schema with unknown fields rejected, as the API server's pruning would silently drop them."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    result = {k: strict(v) for k, v in schema.items()}
    open_ended = "additionalProperties" in result or result.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in result and not open_ended:
        result["additionalProperties"] = False
    return result


def unknown_keys(values: Any, reference: Any, path: str = "") -> list[str]:
    """Keys set in `values` that the chart's values.yaml does not define."""
    if not isinstance(values, dict):
        return []
    if not isinstance(reference, dict):
        return [path or "<root>"]
    problems = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key not in reference:
            problems.append(where)
        elif key not in FREE_FORM and isinstance(reference[key], dict) and reference[key]:
            problems += unknown_keys(value, reference[key], where)
        elif isinstance(reference[key], list) and not isinstance(value, list):
            problems.append(f"{where} (the chart expects a list)")
    return problems


def test_default_chart_is_the_upstream_one(upstream):
    metadata = yaml.safe_load((upstream / "argocd" / "chart" / "Chart.yaml").read_text())
    assert (metadata["name"], metadata["version"], metadata["appVersion"]) == (
        "argo-cd",
        DEFAULT_CHART_VERSION,
        "v3.4.4",
    )


def test_every_chart_value_exists_in_the_chart(chart, plans):
    for plan in plans:
        values = plan.named("gitops-argocd", "kubernetes:helm.sh/v3:Release").input("values")
        assert unknown_keys(values, chart) == []


def test_service_accounts_we_trust_are_the_chart_defaults(chart):
    from components.gitops import SERVICE_ACCOUNTS

    for component, name in SERVICE_ACCOUNTS.items():
        assert chart[component]["serviceAccount"]["name"] == name


@pytest.mark.parametrize("kind", ["AppProject", "ApplicationSet"])
def test_custom_resources_match_their_crd(crds, plans, kind):
    found = 0
    for plan in plans:
        for resource in plan.of_type(f"kubernetes:argoproj.io/v1alpha1:{kind}"):
            document = {k: resource.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}
            # The CRD schemas are trusted: skip the (slow) meta-schema check of jsonschema.validate.
            jsonschema.Draft7Validator(crds[kind]).validate(document)
            found += 1
    assert found >= 2


def test_strict_schema_rejects_a_misspelt_field(crds):
    document = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "spec": {"sourceRepo": ["x"]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(crds["AppProject"]).validate(document)
