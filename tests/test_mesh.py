"""Mesh capability: Istio multi-primary multi-network and Linkerd multicluster, planned under mocks."""

from __future__ import annotations

import base64
import json
import re
from types import SimpleNamespace

import pytest
from pulumi.runtime import rpc

from components.config import ConfigError, parse_stack_config
from components.mesh import MeshGroup, load_balancer_annotations, privately_connected
from components.plan import Plan
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config

# Mesh peers call each other's API servers: the test clusters' public endpoints admit their egress
# (tests.support.TEST_ENDPOINT); a stack check rejects private-only endpoints peers cannot reach.

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts"

ISTIO_CLUSTERS = (
    aws_cluster("aws-use1", "us-east-1", 1),
    aws_cluster("aws-usw2", "us-west-2", 2, role="standby"),
    gcp_cluster("gcp-euw1", "europe-west1", 3, role="standby"),
)
ISTIO_MESH = {"provider": "istio", "version": "1.30.3", "meshId": "acme-mesh", "mtls": "strict"}
ISTIO_FLEET = fleet(*ISTIO_CLUSTERS, environment="prod", mesh=ISTIO_MESH)
PARTITIONED = fleet(
    aws_cluster("aws-euw1", "eu-west-1", 1, residency="eu"),
    gcp_cluster("gcp-euw1", "europe-west1", 2, role="standby", residency="eu"),
    aws_cluster("aws-use1", "us-east-1", 3, residency="us"),
    topology="partitioned",
    residencies={
        "eu": {"regions": ["eu-west-1", "europe-west1"], "continents": ["EU"], "default": True},
        "us": {"regions": ["us-east-1"], "continents": ["NA"]},
    },
    mesh={"provider": "istio", "meshId": "acme", "scope": "residency", "mtls": "permissive"},
)
LINKERD_CLUSTERS = (
    aws_cluster("aws-use1", "us-east-1", 1),
    gcp_cluster("gcp-usc1", "us-central1", 2, role="standby"),
)
LINKERD_MESH = {"provider": "linkerd", "version": "2026.8.3"}
LINKERD_FLEET = fleet(*LINKERD_CLUSTERS, mesh=LINKERD_MESH)
# One more cluster, added last: nothing that exists may be renamed, replaced or changed.
NEW_CLUSTER = gcp_cluster("gcp-asia1", "asia-southeast1", 9, role="standby")


@pytest.fixture(scope="module")
def istio() -> Plan:
    return plan_config(ISTIO_FLEET)


@pytest.fixture(scope="module")
def partitioned() -> Plan:
    return plan_config(PARTITIONED)


@pytest.fixture(scope="module")
def linkerd() -> Plan:
    return plan_config(LINKERD_FLEET)


def release(plan: Plan, cluster: str, name: str):
    return plan.named(f"{cluster}-{'istio' if 'istio' in name or name == 'istiod' else 'linkerd'}-{name}", RELEASE)


def k8s_provider_of(plan: Plan, cluster: str) -> str:
    return plan.named(f"{cluster}-k8s", "pulumi:providers:kubernetes").urn


def cluster_endpoints(plan: Plan) -> dict[str, str]:
    """Where fleet callers reach each API server (GKE: its DNS-based endpoint)."""
    return {name: c["apiServer"] for name, c in plan.outputs["clusters"].items()}


# --- Istio: certificates -------------------------------------------------------------------


def test_one_root_per_mesh_and_one_intermediate_per_cluster_signed_by_it(istio):
    (root,) = istio.of_type("tls:index/selfSignedCert:SelfSignedCert")
    root_key = istio.named("fleet-istio-root-ca", "tls:index/privateKey:PrivateKey")
    assert root.input("isCaCertificate") is True
    assert root.input("privateKeyPem") == root_key.output("privateKeyPem")
    intermediates = istio.of_type("tls:index/locallySignedCert:LocallySignedCert")
    assert sorted(c.name for c in intermediates) == ["aws-use1-istio-ca", "aws-usw2-istio-ca", "gcp-euw1-istio-ca"]
    for cert in intermediates:
        assert cert.input("caCertPem") == root.output("certPem")
        assert cert.input("caPrivateKeyPem") == root_key.output("privateKeyPem")
        assert cert.input("isCaCertificate") is True
        assert "cert_signing" in cert.input("allowedUses")
    assert {k.input("algorithm") for k in istio.of_type("tls:index/privateKey:PrivateKey")} == {"RSA"}


def test_cacerts_holds_exactly_the_four_plug_in_keys_as_a_secret(istio):
    root = istio.named("fleet-istio-root-ca", "tls:index/selfSignedCert:SelfSignedCert").output("certPem")
    for cluster in ("aws-use1", "gcp-euw1"):
        cacerts = istio.named(f"{cluster}-istio-cacerts", SECRET)
        data = cacerts.input("stringData")
        assert set(data) == {"ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"}
        intermediate = istio.named(f"{cluster}-istio-ca", "tls:index/locallySignedCert:LocallySignedCert")
        key = istio.named(f"{cluster}-istio-ca", "tls:index/privateKey:PrivateKey")
        assert data["ca-cert.pem"] == intermediate.output("certPem")
        assert data["ca-key.pem"] == key.output("privateKeyPem")
        assert data["root-cert.pem"] == root
        assert data["cert-chain.pem"] == intermediate.output("certPem") + root
        assert cacerts.input("metadata.name") == "cacerts"
        assert cacerts.input("metadata.namespace") == "istio-system"
        assert "stringData" in cacerts.secret_inputs
        assert cacerts.protect  # prod: the CA key is state worth protecting


# --- Istio: control planes --------------------------------------------------------------------


def test_network_label_matches_global_network_and_the_east_west_gateway(istio):
    networks = set()
    for cluster in ("aws-use1", "aws-usw2", "gcp-euw1"):
        namespace = istio.named(f"{cluster}-istio-namespace", "kubernetes:core/v1:Namespace")
        network = namespace.input("metadata.labels")["topology.istio.io/network"]
        assert release(istio, cluster, "istiod").input("values.global.network") == network
        eastwest = release(istio, cluster, "istio-eastwestgateway")
        assert eastwest.input("values.networkGateway") == network
        service = istio.named(f"{cluster}-istio-istio-eastwestgateway", "kubernetes:core/v1:Service")
        assert service.input("metadata.labels")["topology.istio.io/network"] == network
        networks.add(network)
    assert networks == {"aws-use1-network", "aws-usw2-network", "gcp-euw1-network"}


def test_mesh_id_is_shared_and_cluster_names_are_unique(istio):
    istiods = [release(istio, c, "istiod") for c in ("aws-use1", "aws-usw2", "gcp-euw1")]
    assert {r.input("values.global.meshID") for r in istiods} == {"acme-mesh"}
    assert [r.input("values.global.multiCluster.clusterName") for r in istiods] == ["aws-use1", "aws-usw2", "gcp-euw1"]


def test_charts_are_pinned_from_the_istio_repository(istio):
    releases = [r for r in istio.of_type(RELEASE) if r.name.startswith("aws-use1-")]
    assert {r.input("name"): r.input("chart") for r in releases} == {
        "istio-base": "base",
        "istiod": "istiod",
        "istio-eastwestgateway": "gateway",
        "istio-ingressgateway": "gateway",
    }
    for r in releases:
        assert r.input("repositoryOpts.repo") == ISTIO_REPO
        assert r.input("version") == "1.30.3"
        assert r.input("namespace") == "istio-system"


def test_east_west_gateway_exposes_the_four_multi_network_ports(istio):
    service = istio.named("gcp-euw1-istio-istio-eastwestgateway", "kubernetes:core/v1:Service")
    assert {p["name"]: p["port"] for p in service.input("spec.ports")} == {
        "status-port": 15021,
        "tls": 15443,
        "tls-istiod": 15012,
        "tls-webhook": 15017,
    }
    assert service.input("spec.selector") == {"istio": "eastwestgateway", "app": "istio-eastwestgateway"}
    chart = release(istio, "gcp-euw1", "istio-eastwestgateway")
    assert chart.input("values.labels") == service.input("spec.selector")
    assert chart.input("values.service.type") == "None"  # the Service above replaces the chart's


def test_gateways_are_public_without_private_connectivity(istio):
    aws = istio.named("aws-use1-istio-istio-eastwestgateway", "kubernetes:core/v1:Service")
    gcp = istio.named("gcp-euw1-istio-istio-eastwestgateway", "kubernetes:core/v1:Service")
    assert aws.input("metadata.annotations") == {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
    assert gcp.input("metadata.annotations") == {}


def test_prod_runs_istiod_and_gateways_highly_available(istio):
    istiod = release(istio, "aws-use1", "istiod")
    assert istiod.input("values.autoscaleMin") == 2
    assert istiod.input("values.topologySpreadConstraints.0.topologyKey") == "topology.kubernetes.io/zone"
    ingress = release(istio, "aws-use1", "istio-ingressgateway")
    assert ingress.input("values.autoscaling.minReplicas") == 2


def test_cross_network_gateway_passes_tls_through(istio):
    gateway = istio.named("aws-use1-istio-cross-network-gateway")
    assert gateway.type == "kubernetes:networking.istio.io/v1:Gateway"
    assert gateway.input("metadata") == {"name": "cross-network-gateway", "namespace": "istio-system"}
    assert gateway.input("spec") == {
        "selector": {"istio": "eastwestgateway"},
        "servers": [
            {
                "port": {"number": 15443, "name": "tls", "protocol": "TLS"},
                "tls": {"mode": "AUTO_PASSTHROUGH"},
                "hosts": ["*.local"],
            }
        ],
    }


def test_peer_authentication_is_mesh_wide_with_the_configured_mode(istio, partitioned):
    strict = istio.named("gcp-euw1-istio-peer-authentication")
    assert strict.type == "kubernetes:security.istio.io/v1:PeerAuthentication"
    assert strict.input("metadata") == {"name": "default", "namespace": "istio-system"}
    assert strict.input("spec") == {"mtls": {"mode": "STRICT"}}
    assert partitioned.named("aws-use1-istio-peer-authentication").input("spec.mtls.mode") == "PERMISSIVE"


def test_ordering_crds_before_resources_cacerts_before_istiod_before_gateways(istio):
    urn = {r.name: r.urn for r in istio}
    prefix = "aws-use1-istio-"
    istiod = release(istio, "aws-use1", "istiod")
    assert {urn[prefix + "istio-base"], urn[prefix + "cacerts"]} <= set(istiod.dependencies)
    for gateway in ("istio-eastwestgateway", "istio-ingressgateway"):
        assert istiod.urn in release(istio, "aws-use1", gateway).dependencies
    for custom in ("cross-network-gateway", "peer-authentication"):
        assert {urn[prefix + "istio-base"], istiod.urn} <= set(istio.named(prefix + custom).dependencies)
    cacerts = istio.named(prefix + "cacerts", SECRET)
    assert urn[prefix + "namespace"] in cacerts.dependencies
    node_group = istio.named("aws-use1-system", "aws:eks/nodeGroup:NodeGroup")
    assert node_group.urn in release(istio, "aws-use1", "istio-base").dependencies


# --- Istio: endpoint discovery ----------------------------------------------------------------


def test_remote_secret_per_ordered_pair_points_at_the_remote_api_server(istio):
    secrets = [s for s in istio.of_type(SECRET) if "-istio-remote-secret-" in s.name]
    assert len(secrets) == 3 * 2
    endpoints = cluster_endpoints(istio)
    for secret in secrets:
        local, remote = secret.name.split("-istio-remote-secret-")
        assert secret.provider_urn == k8s_provider_of(istio, local)
        assert secret.input("metadata.name") == f"istio-remote-secret-{remote}"
        assert secret.input("metadata.namespace") == "istio-system"
        assert secret.input("metadata.labels") == {"istio/multiCluster": "true"}
        assert secret.input("metadata.annotations") == {"networking.istio.io/cluster": remote}
        assert "stringData" in secret.secret_inputs
        kubeconfig = json.loads(secret.input("stringData")[remote])
        assert kubeconfig["clusters"][0]["cluster"]["server"] == endpoints[remote]
        # EKS pins its cluster CA; GKE's DNS endpoint has a publicly trusted certificate, so none is pinned.
        assert kubeconfig["clusters"][0]["cluster"].get("certificate-authority-data") == (
            istio.outputs["clusters"][remote].get("apiServerCa")
        )
        token = istio.named(f"{remote}-istio-reader-token", SECRET)
        assert kubeconfig["users"][0]["user"] == {"token": base64.b64decode(token.output("data.token")).decode()}
        assert token.urn in secret.dependencies


def mesh_resources(plan: Plan, component: str) -> list:
    return plan.children(plan.component(component))


def test_one_reader_token_per_cluster_for_the_charts_reader_account(istio):
    """Like istioctl create-remote-secret: the charts' reader account, one token, shared by every peer."""
    mesh = mesh_resources(istio, "fleet-istio")
    tokens = [r for r in mesh if r.type == SECRET and r.input("type") == "kubernetes.io/service-account-token"]
    assert sorted(t.name for t in tokens) == [
        "aws-use1-istio-reader-token",
        "aws-usw2-istio-reader-token",
        "gcp-euw1-istio-reader-token",
    ]
    # The base chart renders the ServiceAccount and istiod its ClusterRole/Binding: nothing per pair.
    assert not [r for r in mesh if r.type.startswith(("kubernetes:rbac.", "kubernetes:core/v1:ServiceAccount"))]
    token = istio.named("gcp-euw1-istio-reader-token", SECRET)
    assert token.parent == istio.component("gcp-euw1-istio").urn
    assert token.provider_urn == k8s_provider_of(istio, "gcp-euw1")
    assert token.input("metadata") == {
        "name": "istio-reader-service-account-istio-remote-secret-token",
        "namespace": "istio-system",
        "annotations": {"kubernetes.io/service-account.name": "istio-reader-service-account"},
    }
    assert {release(istio, "gcp-euw1", "istio-base").urn, release(istio, "gcp-euw1", "istiod").urn} <= set(
        token.dependencies
    )
    assert rpc.is_rpc_secret(token.raw_outputs["data"])  # the token never shows in plain text
    # Every peer reads gcp-euw1 with the same kubeconfig.
    copies = {
        s.input("stringData")["gcp-euw1"] for s in istio.of_type(SECRET) if s.name.endswith("-remote-secret-gcp-euw1")
    }
    assert len(copies) == 1


def test_ingress_addresses_are_exported_per_cluster(istio):
    addresses = istio.outputs["mesh"]["ingressAddresses"]
    assert re.fullmatch(r"a[0-9a-f]{31}-[0-9a-f]{16}\.elb\.us-west-2\.amazonaws\.com", addresses["aws-usw2"])
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", addresses["gcp-euw1"])
    assert istio.outputs["mesh"]["provider"] == "istio"


def test_every_mesh_resource_uses_an_explicit_provider(istio, linkerd):
    for plan in (istio, linkerd):
        mesh = [
            r
            for r in plan
            if r.custom and ("-istio" in r.name or "-linkerd" in r.name) and not r.type.startswith("pulumi:providers:")
        ]
        assert mesh
        for r in mesh:
            assert r.provider and "::default" not in r.provider, r.name


def test_gateway_values_set_nothing_the_chart_reads_only_for_its_own_service(istio):
    """With service.type None the gateway chart renders no Service, so networkGatewayPorts would be dead."""
    for cluster in ("aws-use1", "gcp-euw1"):
        for gateway in ("istio-eastwestgateway", "istio-ingressgateway"):
            values = release(istio, cluster, gateway).input("values")
            assert "networkGatewayPorts" not in values
            assert values["service"] == {"type": "None"}


# --- stability and ownership -----------------------------------------------------------------


def mesh_state(plan: Plan, component: str) -> dict[str, tuple]:
    """URN -> (type, parent, provider, inputs) of a mesh component and everything below it."""
    root = plan.component(component)
    return {r.urn: (r.type, r.parent, r.provider_urn, r.inputs) for r in [root, *plan.children(root)]}


def test_adding_a_cluster_keeps_every_istio_resource_and_remote_secret(istio):
    grown = plan_config(fleet(*ISTIO_CLUSTERS, NEW_CLUSTER, environment="prod", mesh=ISTIO_MESH))
    before, after = mesh_state(istio, "fleet-istio"), mesh_state(grown, "fleet-istio")
    assert {urn: after.get(urn) for urn in before} == before
    added = sorted(grown.by_urn(urn).name for urn in set(after) - set(before) if "remote-secret" in urn)
    assert added == [
        "aws-use1-istio-remote-secret-gcp-asia1",
        "aws-usw2-istio-remote-secret-gcp-asia1",
        "gcp-asia1-istio-remote-secret-aws-use1",
        "gcp-asia1-istio-remote-secret-aws-usw2",
        "gcp-asia1-istio-remote-secret-gcp-euw1",
        "gcp-euw1-istio-remote-secret-gcp-asia1",
    ]


def test_adding_a_cluster_only_adds_a_link_controller_to_existing_linkerd_clusters(linkerd):
    grown = plan_config(fleet(*LINKERD_CLUSTERS, NEW_CLUSTER, mesh=LINKERD_MESH))
    before, after = mesh_state(linkerd, "fleet-linkerd"), mesh_state(grown, "fleet-linkerd")
    changed = sorted(linkerd.by_urn(urn).name for urn in before if after.get(urn) != before[urn])
    # The multicluster release runs one service mirror per Link: that in-place update is expected.
    assert changed == ["aws-use1-linkerd-linkerd-multicluster", "gcp-usc1-linkerd-linkerd-multicluster"]
    for name in changed:
        old, new = linkerd.named(name, RELEASE), grown.named(name, RELEASE)
        assert new.input("values.controllers") == [
            *old.input("values.controllers"),
            {"link": {"ref": {"name": "gcp-asia1"}}},
        ]
        assert {**new.inputs, "values": None} == {**old.inputs, "values": None}


def test_tls_provider_belongs_to_its_mesh_and_only_components_sit_at_the_stack(istio, partitioned, linkerd):
    for plan, meshes in (
        (istio, ["fleet-istio"]),
        (partitioned, ["eu-istio", "us-istio"]),
        (linkerd, ["fleet-linkerd"]),
    ):
        providers = {p.name: p for p in plan.of_type("pulumi:providers:tls")}
        assert {name: p.parent for name, p in providers.items()} == {
            f"{mesh}-tls": plan.component(mesh).urn for mesh in meshes
        }
        for mesh in meshes:
            certificates = [r for r in plan.children(plan.component(mesh)) if r.type.startswith("tls:")]
            assert certificates
            assert {r.provider_urn for r in certificates} == {providers[f"{mesh}-tls"].urn}
        urns = {r.urn for r in plan}
        assert [r.name for r in plan if r.parent not in urns and r.custom] == []


# --- scope: residency ------------------------------------------------------------------------


def test_residency_scope_gives_one_mesh_and_root_per_residency(partitioned):
    roots = partitioned.of_type("tls:index/selfSignedCert:SelfSignedCert")
    assert sorted(r.name for r in roots) == ["eu-istio-root-ca", "us-istio-root-ca"]
    mesh_ids = {
        c: release(partitioned, c, "istiod").input("values.global.meshID") for c in ("aws-euw1", "gcp-euw1", "aws-use1")
    }
    assert mesh_ids == {"aws-euw1": "acme-eu", "gcp-euw1": "acme-eu", "aws-use1": "acme-us"}
    eu_root = partitioned.named("eu-istio-root-ca", "tls:index/selfSignedCert:SelfSignedCert").output("certPem")
    us_ca = partitioned.named("aws-use1-istio-ca", "tls:index/locallySignedCert:LocallySignedCert")
    assert us_ca.input("caCertPem") != eu_root
    remote = sorted(s.name for s in partitioned.of_type(SECRET) if "-istio-remote-secret-" in s.name)
    assert remote == ["aws-euw1-istio-remote-secret-gcp-euw1", "gcp-euw1-istio-remote-secret-aws-euw1"]


# --- Linkerd ----------------------------------------------------------------------------------


def test_linkerd_trust_anchor_is_ecdsa_p256_and_signs_every_issuer(linkerd):
    anchor = linkerd.named("fleet-linkerd-trust-anchor", "tls:index/selfSignedCert:SelfSignedCert")
    anchor_key = linkerd.named("fleet-linkerd-trust-anchor", "tls:index/privateKey:PrivateKey")
    for key in linkerd.of_type("tls:index/privateKey:PrivateKey"):
        assert (key.input("algorithm"), key.input("ecdsaCurve")) == ("ECDSA", "P256")
    for cluster in ("aws-use1", "gcp-usc1"):
        issuer = linkerd.named(f"{cluster}-linkerd-issuer", "tls:index/locallySignedCert:LocallySignedCert")
        assert issuer.input("caCertPem") == anchor.output("certPem")
        assert issuer.input("caPrivateKeyPem") == anchor_key.output("privateKeyPem")
        assert issuer.input("isCaCertificate") is True


def test_linkerd_control_plane_gets_the_anchor_in_values_and_the_issuer_from_a_tls_secret(linkerd):
    anchor = linkerd.named("fleet-linkerd-trust-anchor", "tls:index/selfSignedCert:SelfSignedCert").output("certPem")
    chart = linkerd.named("gcp-usc1-linkerd-linkerd-control-plane", RELEASE)
    issuer = linkerd.named("gcp-usc1-linkerd-issuer", "tls:index/locallySignedCert:LocallySignedCert")
    issuer_key = linkerd.named("gcp-usc1-linkerd-issuer", "tls:index/privateKey:PrivateKey")
    assert chart.input("values.identityTrustAnchorsPEM") == anchor
    assert chart.input("values.identity") == {"issuer": {"scheme": "kubernetes.io/tls"}}
    assert chart.input("values.proxy.defaultInboundPolicy") == "all-authenticated"
    assert "values" not in chart.secret_inputs  # no key in the values: they stay readable in diffs
    issuer_secret = linkerd.named("gcp-usc1-linkerd-identity-issuer", SECRET)
    assert issuer_secret.input("metadata") == {"name": "linkerd-identity-issuer", "namespace": "linkerd"}
    assert issuer_secret.input("type") == "kubernetes.io/tls"
    assert issuer_secret.input("stringData") == {
        "tls.crt": issuer.output("certPem"),
        "tls.key": issuer_key.output("privateKeyPem"),
        "ca.crt": anchor,
    }
    assert "stringData" in issuer_secret.secret_inputs
    assert issuer_secret.provider_urn == k8s_provider_of(linkerd, "gcp-usc1")
    assert issuer_secret.urn in chart.dependencies
    assert chart.input("repositoryOpts.repo") == "https://helm.linkerd.io/edge"
    assert chart.input("version") == "2026.8.3"
    crds = linkerd.named("gcp-usc1-linkerd-linkerd-crds", RELEASE)
    assert crds.urn in chart.dependencies
    multicluster = linkerd.named("gcp-usc1-linkerd-linkerd-multicluster", RELEASE)
    assert chart.urn in multicluster.dependencies
    assert multicluster.input("values.controllers") == [{"link": {"ref": {"name": "aws-use1"}}}]


def test_linkerd_link_per_ordered_pair_targets_the_remote_gateway(linkerd):
    links = linkerd.of_type("kubernetes:multicluster.linkerd.io/v1alpha3:Link")
    assert sorted(link.name for link in links) == ["aws-use1-linkerd-link-gcp-usc1", "gcp-usc1-linkerd-link-aws-use1"]
    gateways = linkerd.outputs["mesh"]["eastWestAddresses"]
    endpoints = cluster_endpoints(linkerd)
    for link in links:
        local, remote = link.name.split("-linkerd-link-")
        assert link.provider_urn == k8s_provider_of(linkerd, local)
        assert link.input("metadata") == {"name": remote, "namespace": "linkerd-multicluster"}
        assert link.input("spec.gatewayAddress") == gateways[remote]
        assert link.input("spec.gatewayPort") == "4143"
        assert link.input("spec.clusterCredentialsSecret") == f"cluster-credentials-{remote}"
        assert link.input("spec.gatewayIdentity") == (
            "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local"
        )
        assert linkerd.named(f"{local}-linkerd-linkerd-multicluster", RELEASE).urn in link.dependencies
        for name in (f"{local}-linkerd-credentials-{remote}", f"{local}-linkerd-destination-credentials-{remote}"):
            secret = linkerd.named(name, SECRET)
            assert secret.input("type") == "mirror.linkerd.io/remote-kubeconfig"
            assert secret.input("metadata.name") == f"cluster-credentials-{remote}"
            assert "stringData" in secret.secret_inputs
            server = json.loads(secret.input("stringData.kubeconfig"))["clusters"][0]["cluster"]["server"]
            assert server == endpoints[remote]
    destination = linkerd.named("aws-use1-linkerd-destination-credentials-gcp-usc1", SECRET)
    assert destination.input("metadata.namespace") == "linkerd"
    assert destination.input("metadata.labels") == {"multicluster.linkerd.io/cluster-name": "gcp-usc1"}


def test_linkerd_reader_is_one_token_per_cluster_for_the_charts_remote_access_account(linkerd):
    """link-gen reads the multicluster chart's linkerd-service-mirror-remote-access-default account."""
    mesh = mesh_resources(linkerd, "fleet-linkerd")
    assert not [r for r in mesh if r.type.startswith(("kubernetes:rbac.", "kubernetes:core/v1:ServiceAccount"))]
    tokens = [r for r in mesh if r.type == SECRET and r.input("type") == "kubernetes.io/service-account-token"]
    assert sorted(t.name for t in tokens) == ["aws-use1-linkerd-reader-token", "gcp-usc1-linkerd-reader-token"]
    token = linkerd.named("gcp-usc1-linkerd-reader-token", SECRET)
    assert token.parent == linkerd.component("gcp-usc1-linkerd").urn
    assert token.provider_urn == k8s_provider_of(linkerd, "gcp-usc1")
    assert token.input("metadata") == {
        "name": "linkerd-service-mirror-remote-access-default-link-token",
        "namespace": "linkerd-multicluster",
        "annotations": {"kubernetes.io/service-account.name": "linkerd-service-mirror-remote-access-default"},
    }
    assert linkerd.named("gcp-usc1-linkerd-linkerd-multicluster", RELEASE).urn in token.dependencies
    expected = base64.b64decode(token.output("data.token")).decode()
    for name in ("aws-use1-linkerd-credentials-gcp-usc1", "aws-use1-linkerd-destination-credentials-gcp-usc1"):
        kubeconfig = json.loads(linkerd.named(name, SECRET).input("stringData.kubeconfig"))
        assert kubeconfig["users"][0]["user"] == {"token": expected}


def test_linkerd_has_no_ingress_addresses(linkerd):
    assert linkerd.outputs["mesh"]["ingressAddresses"] == {}
    assert linkerd.outputs["mesh"]["provider"] == "linkerd"


def test_plans_are_deterministic(linkerd):
    again = plan_config(LINKERD_FLEET)
    first = json.dumps([(r.urn, r.inputs, r.outputs) for r in linkerd], sort_keys=True, default=str)
    second = json.dumps([(r.urn, r.inputs, r.outputs) for r in again], sort_keys=True, default=str)
    assert first == second
    assert json.dumps(linkerd.outputs, sort_keys=True) == json.dumps(again.outputs, sort_keys=True)


def test_provider_none_creates_nothing():
    plan = plan_config(fleet(aws_cluster("aws-use1", "us-east-1", 1), mesh={"provider": "none"}))
    assert "mesh" not in plan.outputs
    assert not [r for r in plan if r.type.startswith(("multicluster:mesh:", "tls:", "kubernetes:helm.sh"))]
    assert not [r for r in plan if r.type == "pulumi:providers:tls"]


# --- wiring helpers -------------------------------------------------------------------------


def test_gateway_is_internal_only_when_connected_to_every_peer():
    group = MeshGroup("fleet", "m", ("a", "b", "c"))
    full = SimpleNamespace(connected={frozenset(p) for p in (("a", "b"), ("a", "c"), ("b", "c"))})
    partial = SimpleNamespace(connected={frozenset(("a", "b"))})
    assert privately_connected("a", group, full)
    assert not privately_connected("a", group, partial)
    assert not privately_connected("a", group, None)
    assert not privately_connected("a", MeshGroup("fleet", "m", ("a",)), full)


def test_internal_load_balancer_annotations_per_cloud():
    assert load_balancer_annotations("aws", True) == {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    }
    assert load_balancer_annotations("gcp", True) == {
        "networking.gke.io/load-balancer-type": "Internal",
        "networking.gke.io/internal-load-balancer-allow-global-access": "true",
    }


# --- config validation ----------------------------------------------------------------------


def config_errors(**mesh) -> list[str]:
    raw = {
        "environment": "test",
        "clusters": [aws_cluster("aws-use1", "us-east-1", 1)],
        "mesh": mesh,
    }
    with pytest.raises(ConfigError) as err:
        parse_stack_config(raw)
    return [str(issue) for issue in err.value.issues]


@pytest.mark.parametrize("version", ["^1.30", "~1.30.3", ">=1.30.0", "1.30.x", "1.30", "*"])
def test_version_must_be_pinned(version):
    assert config_errors(version=version) == [
        f"multicluster:mesh.version '{version}' is not a pinned chart version "
        "(use an exact version such as 1.30.3, not a range)"
    ]


def test_version_must_belong_to_the_provider():
    assert config_errors(provider="linkerd", version="1.30.3") == [
        "multicluster:mesh.version '1.30.3' is not a Linkerd edge chart version (YYYY.M.N, e.g. 2026.8.3)"
    ]
    assert config_errors(provider="istio", version="2026.8.3") == [
        "multicluster:mesh.version '2026.8.3' is not an Istio chart version (e.g. 1.30.3)"
    ]


def test_residency_scope_needs_a_partitioned_fleet():
    assert config_errors(scope="residency") == [
        "multicluster:mesh.scope 'residency' applies to the partitioned topology only (use scope: fleet)"
    ]


def test_mesh_id_and_enums_are_checked():
    assert config_errors(meshId="Prod_Mesh", mtls="off") == [
        "multicluster:mesh.meshId 'Prod_Mesh' is not a DNS-1123 label "
        "(lowercase letters, digits and '-', starting with a letter)",
        "multicluster:mesh.mtls must be one of 'strict' or 'permissive' (got 'off')",
    ]
