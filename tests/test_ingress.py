"""The fallback ingress (Traefik): the chart of the one table, values its schema accepts, a probe DNS can reach,
Ingress status from our Service, and a meshed ingress under Linkerd."""

from __future__ import annotations

import json

import pytest

from components.charts import chart
from components.ingress import (
    LINKERD_NAMESPACE_ANNOTATIONS,
    LINKERD_POD_ANNOTATIONS,
    NAMESPACE,
    PING_ARGUMENT,
    SERVICE,
    TRAEFIK_PROBE,
    chart_values,
    namespace_annotations,
    service_spec,
)
from offline_plan.judge.helm import chart_files, coalesce, schema_errors
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config

RELEASE = "kubernetes:helm.sh/v3:Release"
NS = "kubernetes:core/v1:Namespace"
SVC = "kubernetes:core/v1:Service"
TRAEFIK = chart("traefik")


def dns_fleet(**settings) -> dict:
    return fleet(
        aws_cluster("use1", "us-east-1", 1),
        gcp_cluster("gew3", "europe-west3", 2, role="standby"),
        dns={"provider": "route53", "zone": "example.com", "ttl": 30, "records": [{"name": "webapp"}]},
        **settings,
    )


@pytest.fixture(scope="module")
def plain():
    return plan_config(dns_fleet())


@pytest.fixture(scope="module")
def linkerd():
    return plan_config(dns_fleet(mesh={"provider": "linkerd", "mtls": "strict"}))


def upstream_defaults(upstream) -> tuple[dict, dict]:
    assert TRAEFIK.upstream_dir is not None
    defaults, schema = chart_files(upstream, TRAEFIK.upstream_dir)
    assert schema is not None
    return defaults, schema


# --- the chart -------------------------------------------------------------------------------------------


def test_release_takes_chart_repository_and_version_from_the_table(plain):
    for cluster in ("use1", "gew3"):
        release = plain.named(f"{cluster}-ingress-traefik", RELEASE)
        assert release.input("chart") == TRAEFIK.name
        assert release.input("version") == TRAEFIK.version
        assert release.input("repositoryOpts.repo") == TRAEFIK.repository


def test_pinned_version_is_published(upstream):
    published = json.loads((upstream / "chart-versions.json").read_text())[TRAEFIK.upstream_versions]["versions"]
    assert TRAEFIK.version in published
    assert "41.5.0" not in published  # the version pinned before: `helm pull` would fail


@pytest.mark.parametrize("mesh", ["none", "linkerd"])
def test_values_pass_the_chart_schema_over_its_defaults(upstream, mesh):
    defaults, schema = upstream_defaults(upstream)
    assert schema_errors(schema, coalesce(defaults, chart_values(2, mesh))) == []


def test_the_schema_check_is_real(upstream):
    # Both ways: the chart has no `ping` values key (ping goes through additionalArguments), and says so.
    defaults, schema = upstream_defaults(upstream)
    assert schema_errors(schema, coalesce(defaults, {**chart_values(2), "ping": {"entryPoint": "web"}}))


# --- what DNS health checks probe --------------------------------------------------------------------------


def test_ping_moves_to_the_web_entrypoint_and_the_kubelet_follows(upstream):
    defaults, _ = upstream_defaults(upstream)
    values = chart_values(2)
    assert PING_ARGUMENT in values["additionalArguments"]
    # The chart probes readiness/liveness on deployment.healthchecksPort: the web entrypoint's container port.
    assert values["deployment"]["healthchecksPort"] == defaults["ports"]["web"]["port"]
    assert defaults["ports"]["web"]["exposedPort"] == TRAEFIK_PROBE.port == 80


def test_the_probe_port_is_served_by_the_public_load_balancer(plain):
    assert (TRAEFIK_PROBE.protocol, TRAEFIK_PROBE.port, TRAEFIK_PROBE.path) == ("HTTP", 80, "/ping")
    for cluster in ("use1", "gew3"):
        service = plain.named(f"{cluster}-ingress-lb", SVC)
        assert service.input("spec.type") == "LoadBalancer"
        ports = {p["port"]: p["targetPort"] for p in service.input("spec.ports")}
        assert ports[TRAEFIK_PROBE.port] == "web"


def test_the_public_entry_admits_the_internet_explicitly(plain):
    assert service_spec()["loadBalancerSourceRanges"] == ["0.0.0.0/0"]
    for cluster in ("use1", "gew3"):
        assert plain.named(f"{cluster}-ingress-lb", SVC).input("spec.loadBalancerSourceRanges") == ["0.0.0.0/0"]


# --- Ingress status ------------------------------------------------------------------------------------


def test_ingress_status_is_published_from_our_service(plain):
    for cluster in ("use1", "gew3"):
        service = plain.named(f"{cluster}-ingress-lb", SVC)
        release = plain.named(f"{cluster}-ingress-traefik", RELEASE)
        published = release.input("values.providers.kubernetesIngress.publishedService")
        # The AWS entry's Service holds its Elastic IPs under a name of its own (tests/test_static_entry.py).
        name = f"{SERVICE}-eip" if cluster == "use1" else SERVICE
        assert published == {"enabled": True, "pathOverride": f"traefik/{name}"}
        assert published["pathOverride"] == f"{service.input('metadata.namespace')}/{service.input('metadata.name')}"
        assert (service.input("metadata.namespace"), service.input("metadata.name")) == (NAMESPACE, name)
        assert release.input("values.service.enabled") is False  # the chart's own Service is off


# --- Linkerd: a meshed ingress that the load balancer can still reach --------------------------------------


def test_under_linkerd_traefik_is_meshed(linkerd):
    for cluster in ("use1", "gew3"):
        release = linkerd.named(f"{cluster}-ingress-traefik", RELEASE)
        assert release.input("values.deployment.podAnnotations") == {"linkerd.io/inject": "enabled"}
        namespace = linkerd.named(f"{cluster}-ingress-ns", NS)
        assert namespace.input("metadata.annotations") == {
            "config.linkerd.io/default-inbound-policy": "all-unauthenticated"
        }


def test_under_linkerd_traefik_waits_for_the_proxy_injector_of_its_cluster(linkerd):
    for cluster, other in (("use1", "gew3"), ("gew3", "use1")):
        release = linkerd.named(f"{cluster}-ingress-traefik", RELEASE)
        injector = linkerd.named(f"{cluster}-linkerd-linkerd-control-plane", RELEASE)
        assert injector.urn in release.dependencies
        assert linkerd.named(f"{other}-linkerd-linkerd-control-plane", RELEASE).urn not in release.dependencies


def test_without_linkerd_traefik_is_not_meshed(plain):
    for cluster in ("use1", "gew3"):
        assert plain.named(f"{cluster}-ingress-traefik", RELEASE).input("values.deployment.podAnnotations") is None
        assert plain.named(f"{cluster}-ingress-ns", NS).input("metadata.annotations") == {}


@pytest.mark.parametrize(("mesh", "meshed"), [("linkerd", True), ("none", False), ("istio", False)])
def test_mesh_prop_decides_the_annotations(mesh, meshed):
    pod = chart_values(2, mesh)["deployment"].get("podAnnotations")
    assert (pod == LINKERD_POD_ANNOTATIONS) is meshed and (pod is None) is not meshed
    assert (namespace_annotations(mesh) == LINKERD_NAMESPACE_ANNOTATIONS) is meshed


def test_linkerd_default_policy_under_strict_mtls_is_what_the_namespace_overrides(linkerd):
    # The reason for the namespace annotation: `mtls: strict` makes the cluster default all-authenticated.
    control_plane = linkerd.named("use1-linkerd-linkerd-control-plane", RELEASE)
    assert control_plane.input("values.proxy.defaultInboundPolicy") == "all-authenticated"
