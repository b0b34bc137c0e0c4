"""Config block `multicluster:mesh`: which service mesh spans the fleet, and how; where its roots of trust come from."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import AfterValidator, Field

from .base import UNDECRYPTED, Issue, Loc, Model, Undecrypted, dns_label, format_path
from .fleetview import BlockRules
from .needs import FleetPort, Needs

if TYPE_CHECKING:
    from .fleetview import FleetView

# Exact chart versions only: ranges (^1.30, ~1.30, >=1.30, 1.30.x, *) would let `pulumi up` drift.
PINNED_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*)?$")
DEFAULT_VERSIONS = {"istio": "1.30.3", "linkerd": "2026.8.3"}
# Linkerd edge charts are versioned YYYY.M.N; Istio charts 1.x.y.
LINKERD_FIRST_EDGE_YEAR = 2024
MESH_KEY = "multicluster:mesh"


def pinned_version(value: str) -> str:
    if not PINNED_VERSION.match(value):
        raise ValueError(f"'{value}' is not a pinned chart version (use an exact version such as 1.30.3, not a range)")
    return value


def secret_text(value: Any) -> str | Undecrypted:
    """A secret config leaf: its text (as the engine passes it), or UNDECRYPTED (a stack file read offline)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(cast(dict[str, Any], value)) == {"secure"} and isinstance(value["secure"], str):
        return UNDECRYPTED
    # Never echo the value: it may be a key pasted in the wrong shape.
    raise ValueError(
        "must be the PEM text of a private key, set as a Pulumi secret (pulumi config set --secret --path)"
    )


class ExternalIntermediate(Model):
    """One cluster's intermediate CA, issued outside Pulumi by the mesh's root (directly or through `chain`)."""

    certificate: str = Field(
        description="PEM of the cluster's intermediate CA certificate (Istio ca-cert.pem, Linkerd's issuer tls.crt)."
    )
    key: Annotated[Any, AfterValidator(secret_text)] = Field(
        repr=False,
        description="PEM of its private key, unencrypted (PKCS#8, PKCS#1 or SEC1), set as a Pulumi secret: "
        "pulumi config set --secret --path 'mesh.rootCa.intermediates.<cluster>.key' < ca-key.pem",
    )
    chain: str | None = Field(
        default=None,
        description="PEM of the CA certificates between `certificate` and its root, the one closest to the root last "
        "(leave it out when the root signed `certificate`).",
    )
    root_certificates: str = Field(
        description="PEM bundle of the roots the mesh trusts: the same for every cluster of a mesh (two during a "
        "root rotation, see docs/mesh.md)."
    )


class RootCaConfig(Model):
    """`multicluster:mesh.rootCa`: where the mesh's root of trust and the clusters' intermediates come from."""

    mode: Literal["generated", "external"] = Field(
        default="generated",
        description="generated: the program makes the root and the intermediates; the root's private key is kept in "
        "the Pulumi state (encrypted as a secret). external: no root key anywhere near Pulumi; each cluster's "
        "intermediate comes from `intermediates`.",
    )
    generation: int = Field(
        default=1,
        ge=1,
        description="generated: which root signs (1 is the first root; a rotation moves to the next one).",
    )
    rotation: Literal["none", "trust-next", "sign-with-next"] = Field(
        default="none",
        description="generated: root rotation phase. trust-next adds root generation+1 to every trust bundle; "
        "sign-with-next re-issues the intermediates from it; then set generation to generation+1 and rotation to none "
        "(docs/mesh.md, Root rotation).",
    )
    intermediates: dict[str, ExternalIntermediate] | None = Field(
        default=None, description="external: cluster name -> its intermediate CA (every cluster of the mesh has one)."
    )


class MeshConfig(Model):
    """`multicluster:mesh`."""

    provider: Literal["istio", "linkerd", "none"] = Field(
        default="istio", description="Service mesh to install on every cluster, or none."
    )
    version: Annotated[str, AfterValidator(pinned_version)] | None = Field(
        default=None, description="Exact chart version; defaults to 1.30.3 (Istio) or 2026.8.3 (Linkerd edge)."
    )
    mesh_id: Annotated[str, AfterValidator(lambda v: dns_label(v, 40))] | None = Field(
        default=None, description="Mesh identifier (DNS label); defaults to '<environment>-mesh'."
    )
    scope: Literal["fleet", "residency"] = Field(
        default="fleet", description="One mesh for the fleet, or one per residency (partitioned only)."
    )
    mtls: Literal["strict", "permissive"] = Field(default="strict", description="Mesh-wide mTLS mode.")
    root_ca: RootCaConfig = Field(
        default_factory=RootCaConfig, description="Root of trust: generated (default) or external."
    )

    @property
    def chart_version(self) -> str:
        return self.version or DEFAULT_VERSIONS.get(self.provider, "")

    def mesh_id_for(self, environment: str) -> str:
        return self.mesh_id or f"{environment}-mesh"


# The ports peers of the configured mesh reach each other on, and nothing else:
#  - Istio multi-primary on multiple networks (components/istio.py): cross-network traffic goes to the east-west
#    gateway's mTLS port 15443 (AUTO_PASSTHROUGH, istio.io "Install Multi-Primary on different networks"); each
#    cluster has its own istiod, so istiod's 15012/15017 (primary-remote only) never cross a link, and 15021
#    (status) is probed by the load balancer, not by peers;
#  - Linkerd multicluster (components/linkerd.py): the gateway 4143 and its probe port 4191, which the linked
#    cluster's service mirror probes (linkerd.io "Multi-cluster communication").
MESH_PORTS: dict[str, tuple[FleetPort, ...]] = {
    "istio": (FleetPort("istio-east-west", 15443),),
    "linkerd": (FleetPort("linkerd-gateway", 4143), FleetPort("linkerd-probe", 4191)),
}
MESH_PEER = "a mesh peer"


def mesh_peers(config: FleetView, a: str, b: str) -> bool:
    """Whether a and b are in one mesh (the fleet's, or their residency's)."""
    mesh = config.block(MeshConfig)
    if mesh is None or mesh.provider == "none" or a == b:
        return False
    return mesh.scope != "residency" or config.cluster(a).residency == config.cluster(b).residency


def needs(config: FleetView) -> Needs:
    """Mesh peers reach each other's gateways on the mesh's ports, and watch each other's API servers for
    endpoints (Istio's istiod, Linkerd's service mirror)."""
    mesh = config.block(MeshConfig)
    if mesh is None or mesh.provider == "none":
        return Needs()
    residency = {c.name: c.residency for c in config.clusters}
    names = list(residency)

    def peers(a: str, b: str) -> bool:
        return a != b and (mesh.scope != "residency" or residency[a] == residency[b])

    return Needs(
        ports={(a, b): MESH_PORTS[mesh.provider] for a in names for b in names if peers(a, b)},
        api_callers={a: {b: MESH_PEER for b in names if peers(a, b)} for a in names},
    )


def mesh_members(config: FleetView) -> dict[str, list[str]]:
    """Mesh key ('fleet' or a residency) -> its clusters: one root of trust each."""
    mesh = config.block(MeshConfig)
    if mesh is not None and mesh.scope == "residency":
        groups: dict[str, list[str]] = {}
        for cluster in config.clusters:
            groups.setdefault(cluster.residency or "", []).append(cluster.name)
        return groups
    return {"fleet": [c.name for c in config.clusters]}


def check(config: FleetView) -> list[Issue]:
    """Problems of this block that need the rest of the config (e.g. cluster names)."""
    mesh = config.block(MeshConfig)
    if mesh is None or mesh.provider == "none":
        return []
    issues = _version_issues(mesh)
    if mesh.scope == "residency" and config.topology != "partitioned":
        issues.append(
            Issue(
                format_path(("mesh", "scope")),
                "'residency' applies to the partitioned topology only (use scope: fleet)",
            )
        )
    return issues + _root_ca_issues(config, mesh)


def _version_issues(mesh: MeshConfig) -> list[Issue]:
    """A pinned version of the other mesh's charts would fail only at `helm pull` time."""
    if mesh.version is None:
        return []
    edge = int(mesh.version.split(".")[0]) >= LINKERD_FIRST_EDGE_YEAR
    if mesh.provider == "linkerd" and not edge:
        message = f"'{mesh.version}' is not a Linkerd edge chart version (YYYY.M.N, e.g. 2026.8.3)"
    elif mesh.provider == "istio" and edge:
        message = f"'{mesh.version}' is not an Istio chart version (e.g. 1.30.3)"
    else:
        return []
    return [Issue(format_path(("mesh", "version")), message)]


# --- rootCa ---------------------------------------------------------------------------------------

ROOT_CA = ("mesh", "rootCa")


def _root_ca_issues(config: FleetView, mesh: MeshConfig) -> list[Issue]:
    ca = mesh.root_ca
    if ca.mode == "generated":
        if ca.intermediates is not None:
            return [Issue(format_path((*ROOT_CA, "intermediates")), "applies to mode: external only")]
        return []
    issues = [
        Issue(
            format_path((*ROOT_CA, key)), "applies to mode: generated only (external roots rotate in rootCertificates)"
        )
        for key in ("generation", "rotation")
        if key in ca.model_fields_set
    ]
    if ca.intermediates is None:
        return [
            *issues,
            Issue(
                format_path((*ROOT_CA, "intermediates")),
                "is required with mode: external (each cluster's certificate, key and rootCertificates)",
            ),
        ]
    return issues + _intermediate_issues(config, mesh, ca.intermediates)


def _intermediate_issues(
    config: FleetView, mesh: MeshConfig, intermediates: dict[str, ExternalIntermediate]
) -> list[Issue]:
    names = [c.name for c in config.clusters]
    at = (*ROOT_CA, "intermediates")
    issues = [
        Issue(format_path((*at, name)), "is required with mode: external (the cluster's intermediate CA)")
        for name in names
        if name not in intermediates
    ]
    issues += [
        Issue(format_path((*at, name)), f"is not a cluster of the fleet (clusters: {', '.join(names)})")
        for name in intermediates
        if name not in names
    ]
    secret = _mesh_is_secret()
    for name in (n for n in names if n in intermediates):
        issues += IntermediateCheck(intermediates[name], (*at, name), mesh.provider, secret).issues()
    return issues + _shared_roots(config, intermediates)


def _mesh_is_secret() -> bool:
    """Whether the engine passed multicluster:mesh as a secret (it does when any leaf of it is `secure`)."""
    from pulumi.runtime import config as runtime

    return runtime.is_config_secret(MESH_KEY) or MESH_KEY in runtime.get_config_secret_keys_env()


def _shared_roots(config: FleetView, intermediates: dict[str, ExternalIntermediate]) -> list[Issue]:
    """Every cluster of a mesh must trust the same roots, or cross-cluster mTLS fails one way."""
    issues: list[Issue] = []
    for members in mesh_members(config).values():
        given = [name for name in members if name in intermediates]
        bundles = {name: _bundle_ders(intermediates[name].root_certificates) for name in given}
        first = next((name for name in given if bundles[name]), None)
        for name in given:
            if first is not None and bundles[name] and bundles[name] != bundles[first]:
                issues.append(
                    Issue(
                        format_path((*ROOT_CA, "intermediates", name, "rootCertificates")),
                        f"differs from {first}'s: every cluster of a mesh trusts the same roots",
                    )
                )
    return issues


def _bundle_ders(text: str) -> frozenset[bytes]:
    try:
        return frozenset(der for kind, der, _ in pem_blocks(text) if kind == "CERTIFICATE")
    except ValueError:
        return frozenset()


# Linkerd's identity only issues from an ECDSA P-256 issuer and trusts ECDSA P-256 or RSA 2048/4096 anchors
# (linkerd2 pkg/issuercerts/issuercerts.go CheckIssuerCertAlgoRequirements, CheckTrustAnchorAlgoRequirements).
LINKERD_ANCHOR_RSA_BITS = (2048, 4096)


class IntermediateCheck:
    """The checks of one cluster's external intermediate, each problem at its key path (PEM text never echoed)."""

    def __init__(self, entry: ExternalIntermediate, at: Loc, provider: str, mesh_secret: bool):
        self.entry, self.at, self.provider, self.mesh_secret = entry, at, provider, mesh_secret
        self.found: list[Issue] = []

    def issue(self, key: str, message: str) -> None:
        self.found.append(Issue(format_path((*self.at, key)), message))

    def issues(self) -> list[Issue]:
        certificate = self._certificate()
        chain = self._chain()
        roots = self._roots()
        if certificate is not None and chain is not None and roots:
            self._issued_by_roots(certificate, chain, roots)
        self._key(certificate)
        return self.found

    def _certificate(self) -> Certificate | None:
        certs = self._parse("certificate", self.entry.certificate)
        if certs is None:
            return None
        if len(certs) != 1:
            self.issue(
                "certificate", f"holds {len(certs)} certificates: put the intermediate here, the CAs above it in chain"
            )
            return None
        cert = certs[0]
        problem = ca_problem(cert) or expiry_problem(cert)
        if cert.self_signed:
            problem = "is self-signed: plug in an intermediate issued by the root, keep the root's key out of the mesh"
        if problem is None and self.provider == "linkerd" and cert.key_type != ("EC", "P-256"):
            problem = "is not an ECDSA P-256 certificate: Linkerd's identity issuer must be ECDSA P-256"
        if problem:
            self.issue("certificate", problem)
            return None
        return cert

    def _chain(self) -> list[Certificate] | None:
        if not self.entry.chain:
            return []
        certs = self._parse("chain", self.entry.chain)
        if certs is None:
            return None
        for index, cert in enumerate(certs, 1):
            problem = ca_problem(cert) or expiry_problem(cert)
            if problem:
                self.issue("chain", f"certificate {index} {problem}")
                return None
        return certs

    def _roots(self) -> list[Certificate]:
        certs = self._parse("rootCertificates", self.entry.root_certificates) or []
        for index, cert in enumerate(certs, 1):
            problem = ca_problem(cert) or expiry_problem(cert)
            if problem is None and not cert.self_signed:
                problem = "is not self-signed (a root's issuer is its own subject)"
            if problem is None and self.provider == "linkerd" and not linkerd_anchor(cert):
                problem = "is not ECDSA P-256 or RSA 2048/4096, which Linkerd requires of a trust anchor"
            if problem:
                self.issue("rootCertificates", f"certificate {index} {problem}")
                return []
        return certs

    def _issued_by_roots(self, certificate: Certificate, chain: list[Certificate], roots: list[Certificate]) -> None:
        path = [certificate, *chain]
        for index, (child, parent) in enumerate(pairwise(path), 1):
            if child.issuer != parent.subject:
                where = "certificate" if index == 1 else f"chain certificate {index - 1}"
                self.issue("chain", f"certificate {index} is not the issuer of {where} (issuer and subject differ)")
                return
        if not any(path[-1].issuer == root.subject for root in roots):
            self.issue("rootCertificates", "holds no root that issued the certificate (or the last of its chain)")

    def _key(self, certificate: Certificate | None) -> None:
        key = self.entry.key
        if isinstance(key, Undecrypted):
            return  # a secret the offline plan cannot read: `pulumi up` checks it
        if not self.mesh_secret:
            self.issue(
                "key",
                "is not a Pulumi secret: set it with pulumi config set --secret --path "
                f"'mesh.rootCa.intermediates.{self.at[-1]}.key' < ca-key.pem",
            )
            return
        try:
            public = private_key_public(key)
        except ValueError as exc:
            self.issue("key", str(exc))
            return
        if certificate is not None and public != certificate.public_key:
            self.issue("key", "is not the private key of certificate (their public keys differ)")

    def _parse(self, key: str, text: str) -> list[Certificate] | None:
        try:
            blocks = [(kind, der) for kind, der, _ in pem_blocks(text)]
        except ValueError as exc:
            self.issue(key, str(exc))
            return None
        if not blocks or any(kind != "CERTIFICATE" for kind, _ in blocks):
            self.issue(key, "is not PEM certificates (-----BEGIN CERTIFICATE----- blocks only)")
            return None
        try:
            return [parse_certificate(der) for _, der in blocks]
        except ValueError as exc:
            self.issue(key, f"is not a valid X.509 certificate ({exc})")
            return None


def ca_problem(cert: Certificate) -> str | None:
    if not cert.is_ca:
        return "is not a CA certificate (basicConstraints CA is not true): it must sign workload certificates"
    if cert.key_usage is not None and not cert.key_usage & KEY_CERT_SIGN:
        return "cannot sign certificates (its keyUsage lacks keyCertSign)"
    return None


def expiry_problem(cert: Certificate, now: datetime | None = None) -> str | None:
    now = now or datetime.now(UTC)
    if cert.not_after <= now:
        return f"expired on {cert.not_after:%Y-%m-%d %H:%M} UTC"
    return None


def linkerd_anchor(cert: Certificate) -> bool:
    kind, size = cert.key_type
    return (kind, size) == ("EC", "P-256") or (kind == "RSA" and size in LINKERD_ANCHOR_RSA_BITS)


# --- PEM, DER and X.509: what the checks above read -------------------------------------------------
# RFC 7468 (PEM), X.690 (DER), RFC 5280 (certificates), RFC 8017 (PKCS#1), RFC 5915 (SEC1), RFC 5208 (PKCS#8).

PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
KEY_CERT_SIGN = 0x04  # keyUsage bit 5 (RFC 5280 4.2.1.3), in the first byte of the bit string
OID_RSA = bytes.fromhex("2a864886f70d010101")
OID_EC = bytes.fromhex("2a8648ce3d0201")
OID_BASIC_CONSTRAINTS = bytes.fromhex("551d13")
OID_KEY_USAGE = bytes.fromhex("551d0f")


def pem_blocks(text: str) -> list[tuple[str, bytes, bool]]:
    """(label, DER, encrypted) of every PEM block; ValueError when a block is not base64."""
    blocks: list[tuple[str, bytes, bool]] = []
    for label, body in PEM_BLOCK.findall(text):
        encrypted = "ENCRYPTED" in label or "Proc-Type: 4,ENCRYPTED" in body
        data = "".join(line for line in body.split() if ":" not in line and "," not in line)
        try:
            blocks.append((label, base64.b64decode(data, validate=True), encrypted))
        except binascii.Error:
            raise ValueError(f"holds a {label} block that is not base64") from None
    return blocks


def _tlv(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """One DER element at `offset`: (tag, content, offset after it)."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length, at = data[offset], data[offset + 1], offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or at + count > len(data):
            raise ValueError("bad DER length")
        length, at = int.from_bytes(data[at : at + count], "big"), at + count
    if at + length > len(data):
        raise ValueError("truncated DER")
    return tag, data[at : at + length], at + length


def _elements(content: bytes) -> list[tuple[int, bytes, bytes]]:
    """The elements of a constructed DER value: (tag, content, encoding)."""
    found: list[tuple[int, bytes, bytes]] = []
    at = 0
    while at < len(content):
        tag, value, end = _tlv(content, at)
        found.append((tag, value, content[at:end]))
        at = end
    return found


def _integer(content: bytes) -> int:
    return int.from_bytes(content, "big", signed=False)


RsaPublicKey = tuple[Literal["RSA"], int, int]  # ("RSA", modulus, exponent)
EcPublicKey = tuple[Literal["EC"], str, int, int]  # ("EC", curve name, x, y)
PublicKey = RsaPublicKey | EcPublicKey


@dataclass(frozen=True)
class Certificate:
    """What the checks read of an X.509 certificate."""

    subject: bytes  # the DER Name: issuer/subject chaining compares encodings
    issuer: bytes
    not_after: datetime
    is_ca: bool
    key_usage: int | None  # the first byte of the keyUsage bits, None without the extension
    public_key: PublicKey  # ("RSA", n, e) or ("EC", curve, x, y)
    key_type: tuple[Literal["RSA"], int] | tuple[Literal["EC"], str]  # ("RSA", bits) or ("EC", "P-256")

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer


def parse_certificate(der: bytes) -> Certificate:
    tag, certificate, _ = _tlv(der)
    if tag != 0x30:
        raise ValueError("not a DER SEQUENCE")
    tbs = _elements(_elements(certificate)[0][1])
    if tbs and tbs[0][0] == 0xA0:  # [0] version
        tbs = tbs[1:]
    if len(tbs) < 6:
        raise ValueError("too few certificate fields")
    issuer, validity, subject, spki = tbs[2][2], tbs[3][1], tbs[4][2], tbs[5][1]
    is_ca, key_usage = False, None
    for tag, content, _ in tbs[6:]:
        if tag == 0xA3:
            is_ca, key_usage = _extensions(_elements(content)[0][1])
    public_key = _spki(spki)
    return Certificate(
        subject=subject,
        issuer=issuer,
        not_after=_time(*_elements(validity)[1][:2]),
        is_ca=is_ca,
        key_usage=key_usage,
        public_key=public_key,
        key_type=("RSA", public_key[1].bit_length()) if public_key[0] == "RSA" else ("EC", public_key[1]),
    )


def _extensions(content: bytes) -> tuple[bool, int | None]:
    is_ca, key_usage = False, None
    for _, extension, _ in _elements(content):
        parts = _elements(extension)
        oid, value = parts[0][1], parts[-1][1]
        if oid == OID_BASIC_CONSTRAINTS:
            fields = _elements(_tlv(value)[1])
            is_ca = bool(fields) and fields[0][0] == 0x01 and fields[0][1] != b"\x00"
        elif oid == OID_KEY_USAGE:
            bits = _tlv(value)[1]
            key_usage = bits[1] if len(bits) > 1 else 0
    return is_ca, key_usage


def _time(tag: int, content: bytes) -> datetime:
    text = content.decode("ascii")
    if tag == 0x17:  # UTCTime: YYMMDDHHMMSSZ, years 1950-2049 (RFC 5280 4.1.2.5.1)
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)


# --- public keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    name: str
    oid: bytes
    p: int
    a: int
    gx: int
    gy: int


CURVES = (
    Curve(
        "P-256",
        bytes.fromhex("2a8648ce3d030107"),
        0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
        -3,
        0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
        0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
    ),
    Curve(
        "P-384",
        bytes.fromhex("2b81040022"),
        2**384 - 2**128 - 2**96 + 2**32 - 1,
        -3,
        0xAA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7,
        0x3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F,
    ),
)


def _curve(oid: bytes) -> Curve:
    curve = next((c for c in CURVES if c.oid == oid), None)
    if curve is None:
        raise ValueError("uses an elliptic curve other than P-256 or P-384")
    return curve


def _spki(content: bytes) -> PublicKey:
    algorithm, key = _elements(content)[:2]
    oids = _elements(algorithm[1])
    bits = key[1][1:]  # a BIT STRING: the unused-bits byte first
    if oids[0][1] == OID_RSA:
        n, e = (_integer(v) for _, v, _ in _elements(_tlv(bits)[1])[:2])
        return ("RSA", n, e)
    if oids[0][1] == OID_EC:
        return _ec_point(_curve(oids[1][1]), bits)
    raise ValueError("has a public key that is neither RSA nor EC")


def _ec_point(curve: Curve, point: bytes) -> EcPublicKey:
    size = (curve.p.bit_length() + 7) // 8
    if point[:1] == b"\x04" and len(point) == 1 + 2 * size:
        return ("EC", curve.name, int.from_bytes(point[1 : 1 + size], "big"), int.from_bytes(point[1 + size :], "big"))
    raise ValueError("has an EC public key that is not an uncompressed point")


def private_key_public(text: str) -> PublicKey:
    """The public key of the one PEM private key in `text` (compared with the certificate's)."""
    try:
        blocks = pem_blocks(text)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    keys = [(label, der, encrypted) for label, der, encrypted in blocks if label.endswith("PRIVATE KEY")]
    if len(keys) != 1 or len(blocks) != 1:
        raise ValueError("is not one PEM private key (-----BEGIN PRIVATE KEY----- or RSA/EC PRIVATE KEY)")
    label, der, encrypted = keys[0]
    if encrypted:
        raise ValueError("is encrypted: istiod and Linkerd's identity read an unencrypted key (the secret protects it)")
    try:
        if label == "RSA PRIVATE KEY":
            return _rsa_private(der)
        if label == "EC PRIVATE KEY":
            return _ec_private(der, None)
        return _pkcs8(der)
    except (ValueError, IndexError):
        raise ValueError(f"is not a valid {label} (DER)") from None


def _rsa_private(der: bytes) -> RsaPublicKey:
    fields = _elements(_tlv(der)[1])
    return ("RSA", _integer(fields[1][1]), _integer(fields[2][1]))


def _ec_private(der: bytes, curve_oid: bytes | None) -> EcPublicKey:
    fields = _elements(_tlv(der)[1])
    scalar = _integer(fields[1][1])
    public = None
    for tag, content, _ in fields[2:]:
        if tag == 0xA0:
            curve_oid = _tlv(content)[1]
        elif tag == 0xA1:
            public = _tlv(content)[1][1:]
    if curve_oid is None:
        raise ValueError("no curve")
    curve = _curve(curve_oid)
    if public is not None:
        return _ec_point(curve, public)
    x, y = _multiply(curve, scalar)
    return ("EC", curve.name, x, y)


def _pkcs8(der: bytes) -> PublicKey:
    fields = _elements(_tlv(der)[1])
    oids = _elements(fields[1][1])
    if oids[0][1] == OID_RSA:
        return _rsa_private(fields[2][1])
    if oids[0][1] == OID_EC:
        return _ec_private(fields[2][1], oids[1][1])
    raise ValueError("neither RSA nor EC")


def _multiply(curve: Curve, scalar: int) -> tuple[int, int]:
    """scalar x G on a short Weierstrass curve (affine double-and-add): a key written without its public part."""
    p = curve.p

    def add(first: tuple[int, int] | None, second: tuple[int, int] | None) -> tuple[int, int] | None:
        if first is None or second is None:
            return first or second
        (x1, y1), (x2, y2) = first, second
        if x1 == x2 and (y1 + y2) % p == 0:
            return None
        if first == second:
            slope = (3 * x1 * x1 + curve.a) * pow(2 * y1, -1, p) % p
        else:
            slope = (y2 - y1) * pow(x2 - x1, -1, p) % p
        x3 = (slope * slope - x1 - x2) % p
        return x3, (slope * (x1 - x3) - y1) % p

    result, addend = None, (curve.gx, curve.gy)
    while scalar:
        if scalar & 1:
            result = add(result, addend)
        addend = add(addend, addend)
        scalar >>= 1
    if result is None:
        raise ValueError("the private scalar is zero")
    return result


# Declared by the `multicluster:mesh` field of StackConfig: what validation and the fleet's needs call.
MESH_RULES = BlockRules(check, needs)
