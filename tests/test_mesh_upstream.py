"""Every Helm value and custom resource the mesh creates, checked against the upstream charts and CRDs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from offline_plan import Plan
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config

RELEASE = "kubernetes:helm.sh/v3:Release"
# Chart name -> its folder under shared/upstream/.
CHARTS = {
    "base": "istio/charts/base",
    "istiod": "istio/charts/istiod",
    "gateway": "istio/charts/gateway",
    "linkerd-crds": "linkerd/charts/linkerd-crds",
    "linkerd-control-plane": "linkerd/charts/linkerd-control-plane",
    "linkerd-multicluster": "linkerd/charts/linkerd-multicluster",
}


@pytest.fixture(scope="module")
def plans() -> list[Plan]:
    clusters = (
        aws_cluster("aws-use1", "us-east-1", 1),
        gcp_cluster("gcp-euw1", "europe-west1", 2, role="standby"),
    )
    # prod: the HA values are set too.
    return [
        plan_config(fleet(*clusters, environment="prod", mesh={"provider": provider}))
        for provider in ("istio", "linkerd")
    ]


def releases(plans: list[Plan]):
    return [r for plan in plans for r in plan.of_type(RELEASE)]


def custom_resources(plans: list[Plan]):
    """Resources of the Istio and Linkerd API groups (built-in kinds have no CRD)."""
    return [
        r
        for plan in plans
        for r in plan
        if r.custom and str(r.input("apiVersion", "")).split("/")[0].endswith(("istio.io", "linkerd.io"))
    ]


def chart_defaults(upstream: Path, chart: str) -> dict[str, Any]:
    values = yaml.safe_load((upstream / CHARTS[chart] / "values.yaml").read_text()) or {}
    # Istio nests its defaults under a key users must not set; the real keys are below it.
    return {**values.pop("_internal_defaults_do_not_set", {}), **values}


def open_maps(upstream: Path, chart: str) -> set[str]:
    """Paths the chart's values.schema.json (if any) declares as objects without properties: free-form."""
    schema_file = upstream / CHARTS[chart] / "values.schema.json"
    if not schema_file.exists():
        return set()
    schema = json.loads(schema_file.read_text())

    def walk(node: dict[str, Any], path: str) -> set[str]:
        if node.get("type") == "object" and "properties" not in node:
            return {path}
        return {
            found
            for key, child in node.get("properties", {}).items()
            for found in walk(child, f"{path}.{key}" if path else key)
        }

    return walk(schema["$defs"]["values"], "")


def unknown_keys(values: Any, defaults: Any, free_form: set[str] = frozenset(), path: str = "") -> list[str]:
    """Keys set in `values` that the chart's values.yaml does not define.

    An empty map or a list upstream is free-form (labels, controllers...), and so is a map the
    schema leaves open (the gateway's `labels` has a default entry): anything goes below it.
    """
    if not isinstance(values, dict) or not isinstance(defaults, dict) or not defaults or path in free_form:
        return []
    problems = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key not in defaults:
            problems.append(where)
        else:
            problems += unknown_keys(value, defaults[key], free_form, where)
    return problems


def test_every_helm_value_exists_in_the_chart(upstream, plans):
    checked = set()
    for release in releases(plans):
        chart = release.input("chart")
        found = unknown_keys(release.input("values"), chart_defaults(upstream, chart), open_maps(upstream, chart))
        assert found == [], release.name
        checked.add(chart)
    assert checked == set(CHARTS)


def test_linkerd_issuer_scheme_is_one_the_chart_knows(upstream, plans):
    defaults = chart_defaults(upstream, "linkerd-control-plane")["identity"]["issuer"]
    assert defaults["scheme"] == "linkerd.io/tls"  # the chart's default, replaced by the Secret scheme
    schemes = {r.input("values.identity.issuer.scheme") for r in releases(plans) if r.name.endswith("-control-plane")}
    assert schemes == {"kubernetes.io/tls"}


def test_gateway_values_validate_against_the_chart_schema(upstream, plans):
    schema = json.loads((upstream / CHARTS["gateway"] / "values.schema.json").read_text())
    gateways = [r for r in releases(plans) if r.input("chart") == "gateway"]
    assert len(gateways) == 4
    for release in gateways:
        jsonschema.validate(release.input("values"), schema)


def test_the_schema_check_rejects_unknown_gateway_values(upstream):
    schema = json.loads((upstream / CHARTS["gateway"] / "values.schema.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"networkGateways": "typo"}, schema)


def crd_schemas(upstream: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema, for the Istio CRDs and the Linkerd Link CRD."""
    documents = list(yaml.safe_load_all((upstream / "istio/crds/crd-all.gen.yaml").read_text()))
    link = upstream / "linkerd/charts/linkerd-multicluster/templates/link-crd.yaml"
    # The Link CRD is a Helm template; its template lines are only in metadata.
    untemplated = "\n".join(line for line in link.read_text().splitlines() if "{{" not in line)
    documents += list(yaml.safe_load_all(untemplated))
    schemas = {}
    for crd in filter(None, documents):
        spec = crd["spec"]
        for version in spec["versions"]:
            schemas[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = version["schema"][
                "openAPIV3Schema"
            ]
    return schemas


def strict(schema: Any) -> Any:
    """OpenAPI objects with properties reject unknown fields, as the API server prunes/rejects them."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema.setdefault("additionalProperties", False)
        return schema
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def test_every_custom_resource_validates_against_its_crd(upstream, plans):
    schemas = crd_schemas(upstream)
    kinds = set()
    for resource in custom_resources(plans):
        key = (resource.input("apiVersion"), resource.input("kind"))
        assert key in schemas, f"{resource.name}: no CRD for {key}"
        body = {"spec": resource.input("spec")}
        jsonschema.validate(body, strict(schemas[key]))
        kinds.add(key)
    assert kinds == {
        ("networking.istio.io/v1", "Gateway"),
        ("security.istio.io/v1", "PeerAuthentication"),
        ("multicluster.linkerd.io/v1alpha3", "Link"),
    }


def test_the_crd_check_rejects_a_wrong_field(upstream):
    schema = strict(crd_schemas(upstream)[("multicluster.linkerd.io/v1alpha3", "Link")])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"spec": {"gatewayPort": 4143}}, schema)  # a string in the CRD
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"spec": {"gatewayAdress": "x"}}, schema)


def test_the_values_check_rejects_unknown_keys_but_not_user_labels(upstream):
    defaults, free_form = chart_defaults(upstream, "gateway"), open_maps(upstream, "gateway")
    values = {"labels": {"app": "x"}, "networkGateways": "typo", "service": {"typ": "None"}}
    assert unknown_keys(values, defaults, free_form) == ["networkGateways", "service.typ"]


def test_rotation_values_exist_in_the_istiod_chart(upstream):
    """During a root rotation istiod gets env ISTIO_MULTIROOT_MESH: `env` is a map of the chart."""
    clusters = (aws_cluster("aws-use1", "us-east-1", 1), gcp_cluster("gcp-euw1", "europe-west1", 2, role="standby"))
    plan = plan_config(fleet(*clusters, mesh={"provider": "istio", "rootCa": {"rotation": "trust-next"}}))
    (istiod, *_) = [r for r in releases([plan]) if r.input("chart") == "istiod"]
    assert istiod.input("values.env") == {"ISTIO_MULTIROOT_MESH": "true"}
    assert chart_defaults(upstream, "istiod")["env"] == {}
    assert unknown_keys(istiod.input("values"), chart_defaults(upstream, "istiod")) == []


def test_linkerd_crds_leave_the_gateway_api_to_the_cluster(upstream, plans):
    """installGatewayAPI is the chart's switch for its bundled Gateway API CRDs; the program turns it off."""
    assert "installGatewayAPI" in chart_defaults(upstream, "linkerd-crds")
    crds = [r for r in releases(plans) if r.input("chart") == "linkerd-crds"]
    assert crds and {r.input("values.installGatewayAPI") for r in crds} == {False}
