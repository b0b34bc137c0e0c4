"""Istio multi-primary on multiple networks, as istio.io's install guides do it, with Pulumi resources.

Per mesh: one root CA (two during a rotation), or none with external roots. Per cluster: an
intermediate CA in `cacerts`, the `base`, `istiod`,
east-west and ingress gateway charts, the cross-network Gateway and the mesh-wide
PeerAuthentication, and a token for the charts' reader ServiceAccount. Per ordered pair of
clusters: a remote secret (kubeconfig with the remote reader token) for endpoint discovery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s

from .cluster import ClusterPort, ReadinessProbe
from .mesh import (
    CaProfile,
    MeshProps,
    RootOfTrust,
    gateway_source_ranges,
    load_balancer_address,
    reader_kubeconfig,
    reader_token,
)

CHART_REPOSITORY = "https://istio-release.storage.googleapis.com/charts"
NAMESPACE = "istio-system"
EASTWEST = "istio-eastwestgateway"
TRACING_PROVIDER = "otel-tracing"
INGRESS = "istio-ingressgateway"
# The reader identity the charts install (global.enableReaderRBAC, on by default): the base chart
# renders this ServiceAccount, istiod its ClusterRole and ClusterRoleBinding. istioctl
# create-remote-secret creates a long-lived token Secret for it, with this name.
READER_ACCOUNT = "istio-reader-service-account"
READER_TOKEN = f"{READER_ACCOUNT}-istio-remote-secret-token"
CA_KEY_ALGORITHM = "RSA"
CA_KEY_BITS = 4096  # what istio's tools/certs Makefile uses for root and intermediates
CA_USES = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"]
# istiod accepts a changed root-cert.pem (a bundle that adds or drops a root) only with this on
# (istio 1.30 pilot/pkg/bootstrap/istio_ca.go handleEvent; pilot/pkg/features ISTIO_MULTIROOT_MESH).
MULTI_ROOT_ENV = {"ISTIO_MULTIROOT_MESH": "true"}
# What multi-primary, multi-network needs on the east-west gateway: cross-network mTLS (15443) and the status
# port its load balancer probes (15021). 15012 (istiod) and 15017 (webhook) serve remote clusters of a
# primary-remote mesh only ("Expose the control plane" is a step of that guide, not of multi-primary:
# https://istio.io/latest/docs/setup/install/multicluster/multi-primary_multi-network/); each exposed port costs a
# rule per source range on an EKS node security group.
EASTWEST_PORTS = {
    "status-port": 15021,
    "tls": 15443,
}
INGRESS_PORTS = [
    {"name": "status-port", "port": 15021, "targetPort": 15021, "protocol": "TCP"},
    {"name": "http2", "port": 80, "targetPort": 80, "protocol": "TCP"},
    {"name": "https", "port": 443, "targetPort": 443, "protocol": "TCP"},
]
# The ingress gateway's readiness: istio-proxy's own readinessProbe is `httpGet /healthz/ready port 15021`
# (istio/istio manifests/charts/istio-control/istio-discovery/files/gateway-injection-template.yaml), and the
# gateway Service exposes that status port through the load balancer (the gateway chart's default `service.ports`
# lists status-port 15021 for exactly this; INGRESS_PORTS keeps it).
INGRESS_READINESS_PATH = "/healthz/ready"
MTLS_MODES = {"strict": "STRICT", "permissive": "PERMISSIVE"}


def ingress_gateway_probe() -> ReadinessProbe:
    """The ingress gateway's readiness endpoint, on the status port its Service exposes."""
    status = next(port for port in INGRESS_PORTS if port["name"] == "status-port")
    port = status["port"]
    assert isinstance(port, int)  # a Service port number (targetPort may be a name)
    return ReadinessProbe(port=port, path=INGRESS_READINESS_PATH)


def network_of(cluster: str) -> str:
    """Each cluster is its own network: cross-cluster traffic goes through east-west gateways."""
    return f"{cluster}-network"


class IstioMesh(pulumi.ComponentResource):
    """One Istio mesh (fleet or residency): root CA, control planes, and endpoint discovery."""

    TYPE = "multicluster:mesh:IstioMesh"
    # Its ingress gateways are the clusters' public entries: what DNS health checks probe through their LBs.
    entry_probe: ClassVar[ReadinessProbe | None] = ingress_gateway_probe()

    def __init__(
        self,
        name: str,
        props: MeshProps,
        clusters: dict[str, ClusterPort],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.props = props
        self.clusters = clusters
        self.trust = RootOfTrust(self, name, props, self.ca_profile(props))
        self.root_certificate = self.trust.trust_bundle
        self.control_planes = {
            cluster_name: IstioControlPlane(
                f"{cluster_name}-istio",
                props,
                cluster,
                self,
                internal_gateway=cluster_name in props.internal_gateways,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for cluster_name, cluster in clusters.items()
        }
        self.remote_secrets = [self._remote_secret(local, remote, clusters) for local, remote in props.group.pairs()]
        self.ingress_addresses = {n: cp.ingress_address for n, cp in self.control_planes.items()}
        self.gateway_addresses = {n: cp.eastwest_address for n, cp in self.control_planes.items()}
        self.register_outputs(
            {
                "meshId": props.group.mesh_id,
                "rootCertificate": self.root_certificate,
                "ingressAddresses": self.ingress_addresses,
            }
        )

    @staticmethod
    def ca_profile(props: MeshProps) -> CaProfile:
        return CaProfile(
            root_suffix="root-ca",
            intermediate_suffix="ca",
            key={"algorithm": CA_KEY_ALGORITHM, "rsa_bits": CA_KEY_BITS},
            root_subject={"organization": "Istio", "common_name": f"Root CA {props.group.mesh_id}"},
            uses=CA_USES,
        )

    def _remote_secret(self, local: str, remote: str, clusters: dict[str, ClusterPort]) -> k8s.core.v1.Secret:
        """What `istioctl create-remote-secret` produces for `remote`, applied to the local cluster."""
        local_plane = self.control_planes[local]
        return k8s.core.v1.Secret(
            f"{local}-istio-remote-secret-{remote}",
            metadata={
                "name": f"istio-remote-secret-{remote}",
                "namespace": local_plane.namespace.metadata.name,
                "labels": {"istio/multiCluster": "true"},
                "annotations": {"networking.istio.io/cluster": remote},
            },
            string_data={remote: self.control_planes[remote].reader_kubeconfig},
            opts=pulumi.ResourceOptions(
                parent=self, provider=clusters[local].k8s_provider, depends_on=[local_plane.istiod]
            ),
        )


class IstioControlPlane(pulumi.ComponentResource):
    """Istio on one cluster: intermediate CA, istiod, gateways, mesh-wide config."""

    TYPE = "multicluster:mesh:IstioControlPlane"

    def __init__(
        self,
        name: str,
        props: MeshProps,
        cluster: ClusterPort,
        mesh: IstioMesh,
        internal_gateway: bool,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.props, self.cluster, self.mesh = props, cluster, mesh
        self.cluster_name = cluster.spec.name
        self.network = network_of(self.cluster_name)
        self.internal_gateway = internal_gateway
        # The gateway chart selects its pods by the `app` and `istio` labels.
        self.eastwest_selector = {"istio": "eastwestgateway", "app": EASTWEST}
        self.ingress_selector = {"istio": "ingressgateway", "app": INGRESS}
        self._namespace(name)
        self._cacerts(name)
        self._charts(name)
        self._reader(name)
        self._mesh_config(name)
        self.register_outputs(
            {
                "network": self.network,
                "ingressAddress": self.ingress_address,
                "eastWestAddress": self.eastwest_address,
            }
        )

    def _k8s_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.cluster.k8s_provider, **kwargs)

    def _namespace(self, name: str) -> None:
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": NAMESPACE, "labels": {"topology.istio.io/network": self.network}},
            opts=self._k8s_opts(depends_on=self.cluster.ready),
        )

    def _cacerts(self, name: str) -> None:
        """The cluster's intermediate CA, plugged in through the `cacerts` Secret (istio.io "Plug in CA
        Certificates"). Not protected: its content renews with the intermediate (an update in place)."""
        ca = self.mesh.trust.signing_ca(
            self,
            name,
            self.cluster_name,
            {
                "subject": {"organization": "Istio", "common_name": "Intermediate CA", "locality": self.cluster_name},
                "dns_names": [f"istiod.{NAMESPACE}.svc"],
            },
        )
        self.signing_ca = ca
        self.cacerts = k8s.core.v1.Secret(
            f"{name}-cacerts",
            metadata={"name": "cacerts", "namespace": self.namespace.metadata.name},
            string_data={
                "ca-cert.pem": ca.certificate,
                "ca-key.pem": ca.key,
                "root-cert.pem": ca.trust_bundle,
                "cert-chain.pem": pulumi.Output.concat(ca.certificate, ca.chain, ca.issuing_root),
            },
            opts=self._k8s_opts(),
        )

    def _release(self, name: str, release: str, chart: str, values: dict[str, Any], **opts: Any) -> k8s.helm.v3.Release:
        return k8s.helm.v3.Release(
            f"{name}-{release}",
            name=release,
            chart=chart,
            version=self.props.version,
            repository_opts={"repo": CHART_REPOSITORY},
            namespace=self.namespace.metadata.name,
            values=values,
            timeout=600,
            opts=self._k8s_opts(**opts),
        )

    def _charts(self, name: str) -> None:
        ready = self.cluster.ready
        self.base = self._release(name, "istio-base", "base", {"defaultRevision": "default"}, depends_on=ready)
        self.istiod = self._release(
            name, "istiod", "istiod", self.istiod_values(), depends_on=[*ready, self.base, self.cacerts]
        )
        self.eastwest = self._release(
            name, EASTWEST, "gateway", self.eastwest_values(), depends_on=[*ready, self.istiod]
        )
        self.ingress = self._release(name, INGRESS, "gateway", self.ingress_values(), depends_on=[*ready, self.istiod])
        # The Services are ours, not the chart's: the Kubernetes provider waits until a
        # LoadBalancer Service has its address, so the address is a real output of `pulumi up`.
        self.eastwest_service = self._gateway_service(
            name,
            EASTWEST,
            self.eastwest_selector,
            self.internal_gateway,
            {"topology.istio.io/network": self.network},
            [
                {"name": port_name, "port": port, "targetPort": port, "protocol": "TCP"}
                for port_name, port in EASTWEST_PORTS.items()
            ],
            source_ranges=gateway_source_ranges(
                self.cluster_name, self.props.group, self.mesh.clusters, self.internal_gateway
            ),
        )
        # The public entry DNS answers for: with the cluster's reserved addresses when it has some.
        self.ingress_service = self._gateway_service(
            name,
            INGRESS,
            self.ingress_selector,
            False,
            {},
            INGRESS_PORTS,
            annotations=self.cluster.entry_annotations(),
            service_name=self.cluster.entry_service_name(INGRESS),
        )
        self.ingress_address = load_balancer_address(self.ingress_service)
        self.eastwest_address = load_balancer_address(self.eastwest_service)

    def _reader(self, name: str) -> None:
        """The token peers read this cluster with: base made the account, istiod its ClusterRoleBinding."""
        self.reader_token = reader_token(
            f"{name}-reader-token",
            NAMESPACE,
            READER_ACCOUNT,
            READER_TOKEN,
            self._k8s_opts(depends_on=[self.base, self.istiod]),
        )
        self.reader_kubeconfig = reader_kubeconfig(self.cluster, self.reader_token)

    def _gateway_service(
        self,
        name: str,
        service: str,
        selector: dict[str, str],
        internal: bool,
        labels: dict[str, str],
        ports: list[dict[str, Any]],
        source_ranges: pulumi.Input[list[str]] | None = None,
        annotations: Mapping[str, pulumi.Input[str]] | None = None,
        service_name: str | None = None,
    ) -> k8s.core.v1.Service:
        spec: dict[str, Any] = {"type": "LoadBalancer", "selector": selector, "ports": ports}
        if source_ranges is not None:
            spec["loadBalancerSourceRanges"] = source_ranges
        return k8s.core.v1.Service(
            f"{name}-{service}",
            metadata={
                "name": service_name or service,
                "namespace": self.namespace.metadata.name,
                "labels": {**selector, **labels},
                "annotations": annotations
                if annotations is not None
                else self.cluster.load_balancer_annotations(internal),
            },
            # The manifest's camelCase keys, which pulumi passes through unchanged (it translates only the
            # snake_case names it knows); the SDK types the argument as its snake_case TypedDict alone.
            spec=spec,  # pyright: ignore[reportArgumentType]
            opts=self._k8s_opts(depends_on=self.cluster.ready),
        )

    def istiod_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "global": {
                "meshID": self.props.group.mesh_id,
                "multiCluster": {"clusterName": self.cluster_name},
                "network": self.network,
            },
        }
        if self.mesh.trust.multi_root:
            values["env"] = dict(MULTI_ROOT_ENV)
        tracing = self.props.tracing
        if tracing is not None:
            # The cluster's own collector (istio.io "OpenTelemetry" task: meshConfig.extensionProviders); the
            # mesh-wide Telemetry resource (_mesh_config) turns it on with the configured sampling.
            values["meshConfig"] = {
                "extensionProviders": [
                    {"name": TRACING_PROVIDER, "opentelemetry": {"service": tracing.service, "port": tracing.port}}
                ]
            }
        if self.props.high_availability:
            values |= {
                "autoscaleMin": 2,
                "replicaCount": 2,
                "topologySpreadConstraints": [zone_spread({"app": "istiod"})],
            }
        return values

    def _gateway_ha(self, labels: dict[str, str]) -> dict[str, Any]:
        if not self.props.high_availability:
            return {}
        return {
            "autoscaling": {"minReplicas": 2},
            "podDisruptionBudget": {"minAvailable": 1},
            "topologySpreadConstraints": [zone_spread(labels)],
        }

    def eastwest_values(self) -> dict[str, Any]:
        # networkGateway makes the chart label the pods with the network and set
        # ISTIO_META_REQUESTED_NETWORK_VIEW; the LoadBalancer Service is created next to it, so the
        # chart's Service-only values (networkGatewayPorts, service.ports...) would be ignored.
        return {
            "labels": self.eastwest_selector,
            "networkGateway": self.network,
            "service": {"type": "None"},
            **self._gateway_ha(self.eastwest_selector),
        }

    def ingress_values(self) -> dict[str, Any]:
        return {"labels": self.ingress_selector, "service": {"type": "None"}, **self._gateway_ha(self.ingress_selector)}

    def _mesh_config(self, name: str) -> None:
        # istiod's validation webhook must answer before Istio resources are applied.
        after = [self.base, self.istiod]
        self.cross_network_gateway = k8s.apiextensions.CustomResource(
            f"{name}-cross-network-gateway",
            api_version="networking.istio.io/v1",
            kind="Gateway",
            metadata={"name": "cross-network-gateway", "namespace": self.namespace.metadata.name},
            spec={
                "selector": {"istio": "eastwestgateway"},
                "servers": [
                    {
                        "port": {"number": EASTWEST_PORTS["tls"], "name": "tls", "protocol": "TLS"},
                        "tls": {"mode": "AUTO_PASSTHROUGH"},
                        "hosts": ["*.local"],
                    }
                ],
            },
            opts=self._k8s_opts(depends_on=after),
        )
        self.peer_authentication = k8s.apiextensions.CustomResource(
            f"{name}-peer-authentication",
            api_version="security.istio.io/v1",
            kind="PeerAuthentication",
            metadata={"name": "default", "namespace": self.namespace.metadata.name},
            spec={"mtls": {"mode": MTLS_MODES[self.props.mtls]}},
            opts=self._k8s_opts(depends_on=after),
        )
        tracing = self.props.tracing
        if tracing is not None:
            # Head sampling at the edge: the decision travels in the trace context, so every proxy and cluster
            # on the way keeps or drops the trace whole (the collectors do not sample again).
            k8s.apiextensions.CustomResource(
                f"{name}-tracing",
                api_version="telemetry.istio.io/v1",
                kind="Telemetry",
                metadata={"name": "mesh-default", "namespace": self.namespace.metadata.name},
                spec={
                    "tracing": [
                        {
                            "providers": [{"name": TRACING_PROVIDER}],
                            "randomSamplingPercentage": tracing.sampling_percent,
                        }
                    ]
                },
                opts=self._k8s_opts(depends_on=after),
            )


def zone_spread(labels: dict[str, str]) -> dict[str, Any]:
    """Spread replicas across zones, so that one zone outage leaves the control plane up."""
    return {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": labels},
    }
