"""Mesh capability: Istio multi-primary multi-network, or Linkerd multicluster, across the fleet.

This module decides which clusters share a mesh (the fleet, or each residency) and holds what
both meshes share: the root of trust and the clusters' signing CAs, cross-cluster API credentials,
the east-west load balancers' annotations and source ranges, and the handle.
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from .cluster import ClusterPort, kubeconfig_json, reported
from .config.base import UNDECRYPTED
from .config.connectivity import source_ranges
from .config.mesh import ExternalIntermediate, RootCaConfig, parse_certificate, pem_blocks
from .config.stackfile import SECURE_PLACEHOLDER
from .fleetplan import MeshGroup

SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"


@dataclass(frozen=True)
class MeshProps:
    """What a mesh component needs from the stack config."""

    group: MeshGroup
    version: str
    mtls: str
    high_availability: bool
    protect: bool
    root_ca: RootCaConfig = field(default_factory=RootCaConfig)
    # Clusters every other member reaches over private links: their east-west gateways are internal.
    internal_gateways: frozenset[str] = frozenset()
    # Where the proxies send their spans, and the share they sample (multicluster:observability); None: no tracing.
    tracing: Tracing | None = None


@dataclass(frozen=True)
class Tracing:
    """The OpenTelemetry collector of every cluster (OTLP gRPC), and the share of requests traced at the edge."""

    service: str
    port: int
    sampling_percent: float


def load_balancer_address(service: k8s.core.v1.Service) -> pulumi.Output[str]:
    """The first ingress of a LoadBalancer Service: a hostname on EKS, an IP on GKE."""

    def first(status: k8s.core.v1.outputs.ServiceStatus | None) -> str:
        ingress = (status.load_balancer.ingress or []) if status and status.load_balancer else []
        if not ingress:
            raise ValueError(f"service has no load-balancer address yet: {status}")
        return reported(ingress[0].hostname or ingress[0].ip, "the service's load-balancer address")

    return service.status.apply(first)


def token_kubeconfig(name: str, endpoint: str, ca_data: str | None, token: str) -> str:
    """A kubeconfig that authenticates with a service-account token (what istioctl/linkerd write)."""
    return kubeconfig_json(name, endpoint, ca_data or None, {"token": token}, preferences={})


def reader_token(
    resource_name: str, namespace: str, account: str, secret_name: str, opts: pulumi.ResourceOptions
) -> k8s.core.v1.Secret:
    """A long-lived token for the reader ServiceAccount a mesh chart installs in the cluster it reads.

    One per cluster, shared by every peer (a per-peer token would add no isolation: every peer
    gets the same ClusterRole). `opts` must depend on the chart
    release (a token Secret for a missing ServiceAccount is deleted by the token controller).
    The Kubernetes provider waits for the token controller to fill `data`, so it is usable in a
    real `pulumi up`.
    """
    return k8s.core.v1.Secret(
        resource_name,
        metadata={
            "name": secret_name,
            "namespace": namespace,
            "annotations": {"kubernetes.io/service-account.name": account},
        },
        type=SERVICE_ACCOUNT_TOKEN,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["data"])),
    )


def reader_kubeconfig(cluster: ClusterPort, token: k8s.core.v1.Secret) -> pulumi.Output[str]:
    """The (secret) kubeconfig every peer uses to read `cluster`: the API server fleet callers use (GKE: its
    DNS-based endpoint, no CA pinned), its CA where one is pinned, the reader token."""
    ca = cluster.api_ca if cluster.api_ca is not None else pulumi.Output.from_input("")
    return pulumi.Output.secret(
        pulumi.Output.all(cluster.api_server, ca, token.data).apply(
            lambda v: token_kubeconfig(cluster.spec.name, v[0], v[1], base64.b64decode(v[2]["token"]).decode())
        )
    )


def tls_provider(name: str, parent: pulumi.Resource) -> tls.Provider:
    """An explicit provider for the CA keys and certificates (never the default provider).

    One per mesh component, parented to it. The provider has no configuration, so moving
    resources to it from an older provider is a state-only change (the engine asks DiffConfig).
    """
    return tls.Provider(name, opts=pulumi.ResourceOptions(parent=parent))


# --- root of trust and signing CAs -------------------------------------------------------------------
# Generated roots: short enough that rotating them is a practised procedure (docs/mesh.md, Root rotation),
# long enough that it is rare. Intermediates: a year, renewed by any `pulumi up` in their last 60 days.
ROOT_VALIDITY_HOURS = 2 * 365 * 24
INTERMEDIATE_VALIDITY_HOURS = 365 * 24
EARLY_RENEWAL_HOURS = 60 * 24


@dataclass(frozen=True)
class CaProfile:
    """How one mesh makes its CA keys and certificates (Istio: RSA 4096; Linkerd: ECDSA P-256)."""

    root_suffix: str  # resource names: <mesh>-<root_suffix>[-g<generation>]
    intermediate_suffix: str  # <control plane>-<intermediate_suffix>
    key: dict[str, Any]  # tls.PrivateKey arguments
    root_subject: tls.SelfSignedCertSubjectArgsDict
    uses: list[str]


@dataclass
class SigningCa:
    """What one cluster's mesh CA signs with, and the roots its workloads trust."""

    certificate: pulumi.Output[str]
    key: pulumi.Output[str]  # a secret
    chain: pulumi.Output[str]  # the CAs between `certificate` and its root ('' when the root signed it)
    issuing_root: pulumi.Output[str]
    trust_bundle: pulumi.Output[str]


def root_generations(ca: RootCaConfig) -> tuple[int, list[int]]:
    """(the signing generation, every generation trusted): two roots during a rotation, the signer first."""
    if ca.rotation == "none":
        return ca.generation, [ca.generation]
    signer = ca.generation + 1 if ca.rotation == "sign-with-next" else ca.generation
    return signer, [signer, *(g for g in (ca.generation, ca.generation + 1) if g != signer)]


class RootOfTrust:
    """The mesh's roots and each cluster's intermediate: generated in the Pulumi state, or external.

    generated: only the roots are protected (a replaced root breaks trust across the mesh; rotating one is a
    procedure). The intermediates renew (early_renewal_hours: the provider marks them ready_for_renewal and
    the engine replaces them), so neither they, their keys nor the Secrets that carry them are protected.
    external: no root key anywhere near Pulumi; the intermediates come from the (secret) config.
    """

    def __init__(self, mesh: pulumi.ComponentResource, name: str, props: MeshProps, profile: CaProfile):
        self.mesh, self.name, self.props, self.profile = mesh, name, props, profile
        self.ca = props.root_ca
        self.roots: dict[int, tuple[tls.PrivateKey, tls.SelfSignedCert]] = {}
        if self.ca.mode == "external":
            self._external_bundle()
        else:
            self._generated()

    @property
    def multi_root(self) -> bool:
        """More than one root trusted: a rotation in progress."""
        return self.trusted_count > 1

    def _generated(self) -> None:
        provider = tls_provider(f"{self.name}-tls", self.mesh)
        self.tls_opts = pulumi.ResourceOptions(parent=self.mesh, provider=provider)
        signer, trusted = root_generations(self.ca)
        for generation in trusted:
            self.roots[generation] = self._root(generation)
        self.signer = self.roots[signer]
        self.trusted_count = len(trusted)
        self.trust_bundle = pulumi.Output.concat(*(self.roots[g][1].cert_pem for g in trusted))

    def _root(self, generation: int) -> tuple[tls.PrivateKey, tls.SelfSignedCert]:
        suffix = "" if generation == 1 else f"-g{generation}"
        name = f"{self.name}-{self.profile.root_suffix}{suffix}"
        opts = pulumi.ResourceOptions.merge(self.tls_opts, pulumi.ResourceOptions(protect=self.props.protect))
        key = tls.PrivateKey(name, **self.profile.key, opts=opts)
        subject = self.profile.root_subject.copy()
        if generation > 1:
            subject["serial_number"] = str(generation)
        cert = tls.SelfSignedCert(
            name,
            private_key_pem=key.private_key_pem,
            is_ca_certificate=True,
            subject=subject,
            validity_period_hours=ROOT_VALIDITY_HOURS,
            allowed_uses=self.profile.uses,
            # Roots made with a longer validity keep it: a changed validity would replace the root.
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["validityPeriodHours"])),
        )
        return key, cert

    def _external_bundle(self) -> None:
        intermediates = self.ca.intermediates or {}
        first = intermediates[self.props.group.clusters[0]]
        self.trusted_count = len([1 for kind, _, _ in pem_blocks(first.root_certificates) if kind == "CERTIFICATE"])
        self.trust_bundle = pulumi.Output.from_input(first.root_certificates)

    def signing_ca(
        self, plane: pulumi.ComponentResource, name: str, cluster: str, request: dict[str, Any]
    ) -> SigningCa:
        """The CA `cluster`'s control plane signs with; `request` holds the CSR's subject and names."""
        if self.ca.mode == "external":
            return external_signing_ca((self.ca.intermediates or {})[cluster], self.trust_bundle)
        opts = pulumi.ResourceOptions.merge(self.tls_opts, pulumi.ResourceOptions(parent=plane))
        resource = f"{name}-{self.profile.intermediate_suffix}"
        key = tls.PrivateKey(resource, **self.profile.key, opts=opts)
        csr = tls.CertRequest(resource, private_key_pem=key.private_key_pem, **request, opts=opts)
        root_key, root_cert = self.signer
        cert = tls.LocallySignedCert(
            resource,
            cert_request_pem=csr.cert_request_pem,
            ca_private_key_pem=root_key.private_key_pem,
            ca_cert_pem=root_cert.cert_pem,
            is_ca_certificate=True,
            validity_period_hours=INTERMEDIATE_VALIDITY_HOURS,
            early_renewal_hours=EARLY_RENEWAL_HOURS,
            allowed_uses=self.profile.uses,
            opts=opts,
        )
        return SigningCa(
            certificate=cert.cert_pem,
            key=pulumi.Output.secret(key.private_key_pem),
            chain=pulumi.Output.from_input(""),
            issuing_root=root_cert.cert_pem,
            trust_bundle=self.trust_bundle,
        )


def external_signing_ca(entry: ExternalIntermediate, bundle: pulumi.Output[str]) -> SigningCa:
    """A cluster's intermediate from the config: the key stays a secret (a placeholder when not decrypted offline)."""
    key = SECURE_PLACEHOLDER if entry.key is UNDECRYPTED else entry.key
    return SigningCa(
        certificate=pulumi.Output.from_input(entry.certificate),
        key=pulumi.Output.secret(key),
        chain=pulumi.Output.from_input(entry.chain or ""),
        issuing_root=pulumi.Output.from_input(issuing_root(entry)),
        trust_bundle=bundle,
    )


def issuing_root(entry: ExternalIntermediate) -> str:
    """The PEM of the root that issued the last certificate of the entry's chain (the config checked there is one)."""
    path = [
        der
        for text in (entry.certificate, entry.chain or "")
        for kind, der, _ in pem_blocks(text)
        if kind == "CERTIFICATE"
    ]
    issuer = parse_certificate(path[-1]).issuer
    for kind, der, _ in pem_blocks(entry.root_certificates):
        if kind == "CERTIFICATE" and parse_certificate(der).subject == issuer:
            body = base64.b64encode(der).decode()
            lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
            return f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"
    return entry.root_certificates


# --- east-west load balancers ---------------------------------------------------------------------------


# The in-tree AWS cloud provider adds inbound rules to the nodes' security group for every source range of an NLB
# Service (per port, plus one ICMP rule each: cloud-provider-aws updateInstanceSecurityGroupsForNLB), against a
# quota of 60 inbound rules: a fleet's peers are summarised into at most this many ranges.
MAX_SOURCE_RANGES = 4
PRIVATE_BLOCKS = tuple(
    ipaddress.IPv4Network(b) for b in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


def summarized(cidrs: set[str] | list[str], at_most: int = MAX_SOURCE_RANGES) -> list[str]:
    """The smallest covering ranges of `cidrs` (IPv4, as the config's), at most `at_most` of them, never across a
    private block.

    Adjacent ranges merge first where their common supernet is smallest. Over the private links only the
    fleet's ranges are routed, so the gaps a supernet adds hold nothing that can reach an internal gateway.
    """
    networks = sorted(ipaddress.collapse_addresses(ipaddress.IPv4Network(c) for c in cidrs))
    while len(networks) > at_most:
        pairs = [
            (supernet_of(a, b), i)
            for i, (a, b) in enumerate(pairwise(networks))
            if block_of(a) is not None and block_of(a) == block_of(b)
        ]
        if not pairs:
            break
        merged, i = max(pairs, key=lambda pair: pair[0].prefixlen)
        networks = sorted(ipaddress.collapse_addresses([*networks[:i], merged, *networks[i + 2 :]]))
    return [str(n) for n in networks]


def block_of(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> ipaddress.IPv4Network | None:
    if not isinstance(network, ipaddress.IPv4Network):
        return None
    return next((b for b in PRIVATE_BLOCKS if network.subnet_of(b)), None)


def supernet_of(a: ipaddress.IPv4Network, b: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """The smallest network holding both."""
    merged = a
    while not (b.subnet_of(merged)):
        merged = merged.supernet()
    return merged


def gateway_source_ranges(
    name: str, group: MeshGroup, clusters: dict[str, ClusterPort], internal: bool
) -> pulumi.Output[list[str]]:
    """Who may reach `name`'s east-west gateway: its mesh peers, and nothing else.

    Without spec.loadBalancerSourceRanges the in-tree AWS provider opens the NodePorts to 0.0.0.0/0 and GKE
    admits any source (https://repost.aws/knowledge-center/eks-cidr-ip-address-loadbalancer,
    https://cloud.google.com/kubernetes-engine/docs/concepts/service-load-balancer-parameters). An internal
    gateway is reached over the private links, from the peers' node (and GKE pod) ranges; a public one from
    the peers' NAT addresses. A mesh of one cluster (or peers without NAT addresses) admits only its own
    ranges: an empty list would admit everyone.
    """
    peers = [clusters[other] for other in group.clusters if other != name]
    own = sorted(set(source_ranges(clusters[name].spec).values()))
    if not peers:
        return pulumi.Output.from_input(own)
    if internal:
        ranges = {cidr for peer in peers for cidr in source_ranges(peer.spec).values()}
        return pulumi.Output.from_input(summarized(ranges))
    return pulumi.Output.all(*(peer.egress_addresses for peer in peers)).apply(
        lambda lists: sorted({f"{address}/32" for addresses in lists for address in addresses if address}) or own
    )
