"""A private-only fleet of three GKE clusters with a GKE gitops hub and a mesh: it plans, passes the judge in both
modes, and every caller reaches every API server through its DNS-based endpoint (no link, no authorized network)."""

from __future__ import annotations

import json

import pytest

from components.program import main
from offline_plan import run_program
from offline_plan.judge import Context, judge_plan
from tests.support import UPSTREAM, fleet, gcp_cluster, plan_config, settings_of

PRIVATE = {"privateAccess": True, "publicAccessCidrs": []}
GITOPS = {"hub": "gke-a", "chartVersion": "10.1.1", "repoUrl": "https://github.com/acme/apps", "revision": "main"}
MESH = {"provider": "istio", "version": "1.30.3", "meshId": "m", "scope": "fleet", "mtls": "strict"}


def private_gke(connectivity: str = "none") -> dict:
    clusters = [
        gcp_cluster("gke-a", "us-central1", 1, endpoint=PRIVATE),
        gcp_cluster("gke-b", "europe-west1", 2, endpoint=PRIVATE),
        gcp_cluster("gke-c", "asia-east1", 3, endpoint=PRIVATE),
    ]
    for cluster in clusters:
        del cluster["network"]["masterCidr"]  # Private Service Connect, the default
    return fleet(
        *clusters,
        failover="active-active",
        gitops=GITOPS,
        mesh=MESH,
        connectivity={"mode": connectivity},
        backup={"schedules": [{"name": "nightly", "cron": "0 3 * * *"}]},
    )


@pytest.fixture(scope="module")
def plan():
    return plan_config(private_gke())


@pytest.mark.parametrize("connectivity", ["none", "full-mesh"])
def test_it_plans_and_the_judge_finds_nothing(connectivity):
    found = judge_plan(
        plan_config(private_gke(connectivity)), Context(upstream=UPSTREAM if UPSTREAM.is_dir() else None)
    )
    assert [str(f) for f in found] == []


def test_a_first_preview_is_judged_clean_too():
    preview = run_program(main, settings_of(private_gke()), [], "test", preview=True)
    assert [str(f) for f in judge_plan(preview)] == []


def test_every_control_plane_is_private_behind_psc_with_a_dns_endpoint(plan):
    for name in ("gke-a", "gke-b", "gke-c"):
        cluster = plan.named(f"{name}-gke", "gcp:container/cluster:Cluster")
        assert cluster.input("privateClusterConfig.enablePrivateEndpoint") is True
        assert cluster.input("privateClusterConfig.masterIpv4CidrBlock") is None
        dns = cluster.input("controlPlaneEndpointsConfig.dnsEndpointConfig")
        # Istio's remote readers present Kubernetes tokens; Argo CD a Google identity.
        assert dns == {"allowExternalTraffic": True, "enableK8sTokensViaDns": True}


def test_every_caller_uses_the_dns_endpoint(plan):
    def dns_endpoint(name: str) -> str:
        cluster = plan.named(f"{name}-gke", "gcp:container/cluster:Cluster")
        return f"https://{cluster.output('controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint')}"

    endpoints = {name: dns_endpoint(name) for name in ("gke-a", "gke-b", "gke-c")}
    # Pulumi's own providers
    for name, server in endpoints.items():
        kubeconfig = json.loads(plan.named(f"{name}-k8s", "pulumi:providers:kubernetes").input("kubeconfig"))
        assert kubeconfig["clusters"][0]["cluster"] == {"server": server}
    # Argo CD on the GKE hub
    for name in ("gke-b", "gke-c"):
        secret = plan.named(f"gitops-{name}-secret", "kubernetes:core/v1:Secret")
        assert secret.input("stringData.server") == endpoints[name]
    # Istio remote secrets
    secret = plan.named("gke-a-istio-remote-secret-gke-b", "kubernetes:core/v1:Secret")
    assert json.loads(secret.input("stringData")["gke-b"])["clusters"][0]["cluster"]["server"] == endpoints["gke-b"]
