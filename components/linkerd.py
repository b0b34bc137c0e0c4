"""Linkerd multicluster, as linkerd.io's "Installing Multi-cluster Components" does it, with Pulumi.

Per mesh: one ECDSA P-256 trust anchor (two during a rotation), or none with external roots. Per
cluster: an issuer certificate (a kubernetes.io/tls Secret), the Gateway API CRDs where the cluster
does not provide them, the `linkerd-crds`, `linkerd-control-plane` and `linkerd-multicluster`
charts, a gateway LoadBalancer and a token for the chart's remote-access ServiceAccount. Per ordered
pair: what `linkerd multicluster link-gen` prints (credentials Secrets and a v1alpha3 Link).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s

from .clouds import traits
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

CHART_REPOSITORY = "https://helm.linkerd.io/edge"
NAMESPACE = "linkerd"
MULTICLUSTER_NAMESPACE = "linkerd-multicluster"
TRUST_DOMAIN = "cluster.local"
CLUSTER_DOMAIN = "cluster.local"
GATEWAY = "linkerd-gateway"
GATEWAY_PORT = 4143
PROBE_PORT = 4191
PROBE_PATH = "/ready"
PROBE_PERIOD = "3s"
# The reader identity the multicluster chart installs (remoteMirrorServiceAccount, on by default):
# ServiceAccount, ClusterRole and ClusterRoleBinding of this name, which link-gen reads for.
REMOTE_ACCESS_ACCOUNT = "linkerd-service-mirror-remote-access-default"
# Our token for it: the chart's own `<account>-token` would need a read; the provider awaits a Secret it creates.
REMOTE_ACCESS_TOKEN = f"{REMOTE_ACCESS_ACCOUNT}-link-token"
ISSUER_SECRET = "linkerd-identity-issuer"
MIRROR_SECRET_TYPE = "mirror.linkerd.io/remote-kubeconfig"
CA_USES = ["cert_signing", "crl_signing"]
# Linkerd's identity issues only from an ECDSA P-256 issuer (linkerd2 pkg/issuercerts CheckIssuerCertAlgoRequirements).
CA_KEY = {"algorithm": "ECDSA", "ecdsa_curve": "P256"}
# Linkerd 2.18+ reads HTTPRoute/GRPCRoute from the Gateway API and no longer owns those CRDs; 2.20 (edge-26.x) is
# compatible with Gateway API 1.2.1 to 1.5.1 and recommends 1.2.1, standard channel
# (linkerd.io/2-edge/features/gateway-api, "Checking the existing Gateway API version"). The linkerd-crds chart
# would install a v1.1.1 experimental bundle that Helm cannot adopt where the CRDs exist (GKE manages them).
GATEWAY_API_VERSION = "v1.2.1"
GATEWAY_API_CRDS = (
    f"https://github.com/kubernetes-sigs/gateway-api/releases/download/{GATEWAY_API_VERSION}/standard-install.yaml"
)
# Linkerd always encrypts meshed traffic; mTLS mode decides whether plaintext is still accepted.
INBOUND_POLICIES = {"strict": "all-authenticated", "permissive": "all-unauthenticated"}


class LinkerdMesh(pulumi.ComponentResource):
    """One Linkerd mesh (fleet or residency): trust anchor, control planes and links."""

    TYPE = "multicluster:mesh:LinkerdMesh"
    # Linkerd has no north-south gateway: the public entries are DNS's fallback ingress (meshed, components/ingress).
    entry_probe: ClassVar[ReadinessProbe | None] = None

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
        profile = CaProfile(
            root_suffix="trust-anchor",
            intermediate_suffix="issuer",
            key=CA_KEY,
            root_subject={"common_name": f"root.linkerd.{TRUST_DOMAIN}"},
            uses=CA_USES,
        )
        self.trust = RootOfTrust(self, name, props, profile)
        self.root_certificate = self.trust.trust_bundle
        self.control_planes = {
            cluster_name: LinkerdControlPlane(
                f"{cluster_name}-linkerd",
                props,
                cluster,
                self,
                internal_gateway=cluster_name in props.internal_gateways,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for cluster_name, cluster in clusters.items()
        }
        self.links = [self._link(local, remote, clusters) for local, remote in props.group.pairs()]
        self.ingress_addresses: dict[str, pulumi.Output[str]] = {}  # Linkerd has no north-south gateway
        self.gateway_addresses = {n: cp.gateway_address for n, cp in self.control_planes.items()}
        self.register_outputs({"trustAnchor": self.root_certificate, "gatewayAddresses": self.gateway_addresses})

    def _link(self, local: str, remote: str, clusters: dict[str, ClusterPort]) -> k8s.apiextensions.CustomResource:
        """What `linkerd --context=<remote> multicluster link-gen --cluster-name <remote>` prints, in local."""
        local_plane, remote_plane = self.control_planes[local], self.control_planes[remote]
        kubeconfig = remote_plane.reader_kubeconfig
        opts = pulumi.ResourceOptions(
            parent=self, provider=clusters[local].k8s_provider, depends_on=[local_plane.multicluster]
        )
        credentials = f"cluster-credentials-{remote}"
        secrets = [
            # Read by the Link's service-mirror controller.
            k8s.core.v1.Secret(
                f"{local}-linkerd-credentials-{remote}",
                metadata={"name": credentials, "namespace": MULTICLUSTER_NAMESPACE},
                type=MIRROR_SECRET_TYPE,
                string_data={"kubeconfig": kubeconfig},
                opts=opts,
            ),
            # Read by the local destination controller for remote (pod-to-pod) discovery.
            k8s.core.v1.Secret(
                f"{local}-linkerd-destination-credentials-{remote}",
                metadata={
                    "name": credentials,
                    "namespace": NAMESPACE,
                    "labels": {"multicluster.linkerd.io/cluster-name": remote},
                    "annotations": {
                        "multicluster.linkerd.io/trust-domain": TRUST_DOMAIN,
                        "multicluster.linkerd.io/cluster-domain": CLUSTER_DOMAIN,
                    },
                },
                type=MIRROR_SECRET_TYPE,
                string_data={"kubeconfig": kubeconfig},
                opts=opts,
            ),
        ]
        return k8s.apiextensions.CustomResource(
            f"{local}-linkerd-link-{remote}",
            api_version="multicluster.linkerd.io/v1alpha3",
            kind="Link",
            metadata={"name": remote, "namespace": MULTICLUSTER_NAMESPACE},
            spec=link_spec(remote, remote_plane.gateway_address),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=secrets)),
        )


def link_spec(remote: str, gateway_address: pulumi.Input[str]) -> dict[str, Any]:
    """The v1alpha3 Link spec link-gen writes, with the gateway's annotations resolved."""
    return {
        "targetClusterName": remote,
        "targetClusterDomain": CLUSTER_DOMAIN,
        "targetClusterLinkerdNamespace": NAMESPACE,
        "clusterCredentialsSecret": f"cluster-credentials-{remote}",
        "gatewayAddress": gateway_address,
        "gatewayPort": str(GATEWAY_PORT),
        "gatewayIdentity": f"{GATEWAY}.{MULTICLUSTER_NAMESPACE}.serviceaccount.identity.{NAMESPACE}.{TRUST_DOMAIN}",
        "probeSpec": {"path": PROBE_PATH, "port": str(PROBE_PORT), "period": PROBE_PERIOD},
        "selector": {"matchLabels": {"mirror.linkerd.io/exported": "true"}},
        "remoteDiscoverySelector": {"matchLabels": {"mirror.linkerd.io/exported": "remote-discovery"}},
        "federatedServiceSelector": {"matchLabels": {"mirror.linkerd.io/federated": "member"}},
        "excludedAnnotations": [],
        "excludedLabels": [],
    }


class LinkerdControlPlane(pulumi.ComponentResource):
    """Linkerd and its multicluster extension on one cluster."""

    TYPE = "multicluster:mesh:LinkerdControlPlane"

    def __init__(
        self,
        name: str,
        props: MeshProps,
        cluster: ClusterPort,
        mesh: LinkerdMesh,
        internal_gateway: bool,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.props, self.cluster, self.mesh = props, cluster, mesh
        self.cluster_name = cluster.spec.name
        self.remotes = [other for other in props.group.clusters if other != self.cluster_name]
        self._issuer(name)
        self._namespaces(name)
        self._issuer_secret(name)
        self._charts(name)
        self._gateway(name, internal_gateway)
        self._reader(name)
        self.register_outputs({"gatewayAddress": self.gateway_address})

    def _k8s_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.cluster.k8s_provider, **kwargs)

    def _issuer(self, name: str) -> None:
        self.signing_ca = self.mesh.trust.signing_ca(
            self, name, self.cluster_name, {"subject": {"common_name": f"identity.{NAMESPACE}.{TRUST_DOMAIN}"}}
        )

    def _issuer_secret(self, name: str) -> None:
        """The issuer as a kubernetes.io/tls Secret, so the chart values hold no key (scheme kubernetes.io/tls).

        Not protected: it renews with the issuer (an update in place, which Linkerd's identity reloads)."""
        ca = self.signing_ca
        self.issuer_secret = k8s.core.v1.Secret(
            f"{name}-identity-issuer",
            metadata={"name": ISSUER_SECRET, "namespace": self.namespace.metadata.name},
            type="kubernetes.io/tls",
            string_data={
                "tls.crt": pulumi.Output.concat(ca.certificate, ca.chain),
                "tls.key": ca.key,
                "ca.crt": ca.issuing_root,
            },
            opts=self._k8s_opts(),
        )

    def _reader(self, name: str) -> None:
        """The token peers read this cluster with, for the account the multicluster chart made."""
        self.reader_token = reader_token(
            f"{name}-reader-token",
            MULTICLUSTER_NAMESPACE,
            REMOTE_ACCESS_ACCOUNT,
            REMOTE_ACCESS_TOKEN,
            self._k8s_opts(depends_on=[self.multicluster]),
        )
        self.reader_kubeconfig = reader_kubeconfig(self.cluster, self.reader_token)

    def _namespaces(self, name: str) -> None:
        opts = self._k8s_opts(depends_on=self.cluster.ready)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": NAMESPACE,
                "labels": {
                    "linkerd.io/is-control-plane": "true",
                    "linkerd.io/control-plane-ns": NAMESPACE,
                    "config.linkerd.io/admission-webhooks": "disabled",
                    # linkerd-init needs NET_ADMIN to set up iptables.
                    "pod-security.kubernetes.io/enforce": "privileged",
                },
            },
            opts=opts,
        )
        self.multicluster_namespace = k8s.core.v1.Namespace(
            f"{name}-multicluster-namespace",
            metadata={"name": MULTICLUSTER_NAMESPACE, "labels": {"linkerd.io/extension": "multicluster"}},
            opts=opts,
        )

    def _release(
        self,
        name: str,
        release: str,
        namespace: k8s.core.v1.Namespace,
        values: dict[str, Any],
        after: Sequence[pulumi.Resource],
    ) -> k8s.helm.v3.Release:
        return k8s.helm.v3.Release(
            f"{name}-{release}",
            name=release,
            chart=release,
            version=self.props.version,
            repository_opts={"repo": CHART_REPOSITORY},
            namespace=namespace.metadata.name,
            values=values,
            timeout=600,
            opts=self._k8s_opts(depends_on=[*self.cluster.ready, *after]),
        )

    def _gateway_api(self, name: str) -> list[pulumi.Resource]:
        """The Gateway API CRDs, once per cluster, where the cluster does not provide them (EKS has none).

        Before the control plane: its policy controller looks for the route kinds when it starts."""
        if traits(self.cluster.spec).provides_gateway_api:
            return []
        self.gateway_api = k8s.yaml.v2.ConfigFile(
            f"{name}-gateway-api", file=GATEWAY_API_CRDS, opts=self._k8s_opts(depends_on=self.cluster.ready)
        )
        return [self.gateway_api]

    def _charts(self, name: str) -> None:
        gateway_api = self._gateway_api(name)
        self.crds = self._release(name, "linkerd-crds", self.namespace, {"installGatewayAPI": False}, [])
        self.control_plane = self._release(
            name,
            "linkerd-control-plane",
            self.namespace,
            self.control_plane_values(),
            [self.crds, self.issuer_secret, *gateway_api],
        )
        self.multicluster = self._release(
            name, "linkerd-multicluster", self.multicluster_namespace, self.multicluster_values(), [self.control_plane]
        )

    def control_plane_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "identityTrustAnchorsPEM": self.signing_ca.trust_bundle,
            # The identity controller reads the issuer from the linkerd-identity-issuer Secret.
            "identity": {"issuer": {"scheme": "kubernetes.io/tls"}},
            "proxy": {"defaultInboundPolicy": INBOUND_POLICIES[self.props.mtls]},
        }
        if self.props.high_availability:
            values |= {"controllerReplicas": 3, "enablePodAntiAffinity": True, "enablePodDisruptionBudget": True}
        return values

    def multicluster_values(self) -> dict[str, Any]:
        # The chart's gateway Service stays in-cluster; the LoadBalancer is ours (see _gateway).
        values: dict[str, Any] = {
            "gateway": {"enabled": True, "serviceType": "ClusterIP", "port": GATEWAY_PORT},
            # One service-mirror controller per Link this cluster holds.
            "controllers": [{"link": {"ref": {"name": remote}}} for remote in self.remotes],
        }
        if self.props.high_availability:
            values["gateway"]["replicas"] = 2
            values["enablePodAntiAffinity"] = True
        return values

    def _gateway(self, name: str, internal: bool) -> None:
        """The gateway's LoadBalancer: the provider waits for its address, which the Links use."""
        selector = {"app": GATEWAY, "linkerd.io/extension": "multicluster"}
        source_ranges = gateway_source_ranges(self.cluster_name, self.props.group, self.mesh.clusters, internal)
        self.gateway_service = k8s.core.v1.Service(
            f"{name}-gateway-lb",
            metadata={
                "name": f"{GATEWAY}-lb",
                "namespace": self.multicluster_namespace.metadata.name,
                "labels": {"linkerd.io/extension": "multicluster"},
                "annotations": self.cluster.load_balancer_annotations(internal),
            },
            # The manifest's camelCase keys, which pulumi passes through unchanged (it translates only the
            # snake_case names it knows); the SDK types the argument as its snake_case TypedDict alone.
            spec={  # pyright: ignore[reportArgumentType]
                "type": "LoadBalancer",
                "selector": selector,
                "loadBalancerSourceRanges": source_ranges,
                "ports": [
                    {"name": "mc-gateway", "port": GATEWAY_PORT, "targetPort": GATEWAY_PORT, "protocol": "TCP"},
                    {"name": "mc-probe", "port": PROBE_PORT, "targetPort": PROBE_PORT, "protocol": "TCP"},
                ],
            },
            opts=self._k8s_opts(depends_on=[*self.cluster.ready, self.multicluster]),
        )
        self.gateway_address = load_balancer_address(self.gateway_service)
