"""Mesh resources: TLS keys and certificates, token Secrets, gateway Services.

PEM values have the right block types and base64 bodies derived from the resource, so that
they are deterministic and distinct; they are not parseable keys or certificates.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from . import MockResource, resource

OPENSSH_TYPES = {"RSA": "ssh-rsa", "ECDSA": "ecdsa-sha2-nistp256"}
VALIDITY_START = "2026-01-01T00:00:00Z"


def pem(kind: str, *parts: object, size: int = 6) -> str:
    body = base64.b64encode(hashlib.sha512("/".join(map(str, parts)).encode()).digest() * size).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n"


def _key_size(r: MockResource) -> int:
    # DER sizes are about 1/6 of the modulus bits for RSA keys; EC P-256 keys are small.
    return max(2, int(r.inputs.get("rsaBits", 2048)) // 340) if r.inputs.get("algorithm") == "RSA" else 2


@resource("tls:index/privateKey:PrivateKey")
def private_key(r: MockResource) -> dict[str, Any]:
    algorithm = r.inputs.get("algorithm", "RSA")
    kind = "RSA PRIVATE KEY" if algorithm == "RSA" else "EC PRIVATE KEY"
    size = _key_size(r)
    return {
        "id": r.random(length=40),
        "privateKeyPem": pem(kind, r.stack, r.name, "private", size=size),
        "privateKeyPemPkcs8": pem("PRIVATE KEY", r.stack, r.name, "private", size=size),
        "publicKeyPem": pem("PUBLIC KEY", r.stack, r.name, "public", size=max(1, size // 4)),
        "publicKeyOpenssh": f"{OPENSSH_TYPES.get(algorithm, 'ssh-ed25519')} {r.random('openssh', length=64)}\n",
        "publicKeyFingerprintSha256": f"SHA256:{r.random('sha256', length=43)}",
        "publicKeyFingerprintMd5": ":".join(r.random("md5", length=32)[i : i + 2] for i in range(0, 32, 2)),
        "ecdsaCurve": r.inputs.get("ecdsaCurve", "P224"),
    }


def _validity(r: MockResource) -> dict[str, Any]:
    hours = int(r.inputs.get("validityPeriodHours", 8760))
    end_year = 2026 + hours // 8760
    return {
        "validityStartTime": VALIDITY_START,
        "validityEndTime": f"{end_year}-01-01T00:00:00Z",
        "readyForRenewal": False,
    }


@resource("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert")
def certificate(r: MockResource) -> dict[str, Any]:
    serial = str(int(r.random("serial", length=30), 16))
    return {
        "id": serial,
        "certPem": pem("CERTIFICATE", r.stack, r.type, r.name, json.dumps(r.inputs, sort_keys=True)),
        **_validity(r),
    }


@resource("tls:index/certRequest:CertRequest")
def cert_request(r: MockResource) -> dict[str, Any]:
    return {
        "id": r.random(length=40),
        "certRequestPem": pem("CERTIFICATE REQUEST", r.stack, r.name, json.dumps(r.inputs, sort_keys=True), size=3),
    }


@resource("kubernetes:core/v1:Secret")
def secret(r: MockResource) -> dict[str, Any]:
    """The token controller fills service-account-token Secrets; others echo their inputs."""
    if r.inputs.get("type") != "kubernetes.io/service-account-token":
        return {}
    metadata = r.inputs.get("metadata", {})
    namespace = metadata.get("namespace", "default")
    account = metadata.get("annotations", {}).get("kubernetes.io/service-account.name", "default")
    header = f"eyJhbGciOiJSUzI1NiIsImtpZCI6I{r.random('kid', length=20)}"
    token = f"{header}.{r.random('claims', namespace, account, length=120)}.{r.random('sig', length=86)}"
    return {
        "data": {
            "ca.crt": base64.b64encode(pem("CERTIFICATE", "cluster-ca", r.stack, r.name).encode()).decode(),
            "namespace": base64.b64encode(namespace.encode()).decode(),
            "token": base64.b64encode(token.encode()).decode(),
        }
    }


@resource("kubernetes:core/v1:Service")
def service(r: MockResource) -> dict[str, Any]:
    """LoadBalancer status: an NLB hostname on EKS, an IP on GKE (from the provider's kubeconfig).

    Reads (`Service.get`) carry no inputs and get a LoadBalancer; created Services keep their spec.
    """
    spec = r.inputs.get("spec")
    if spec is not None and spec.get("type") != "LoadBalancer":
        return {}
    kubeconfig = str(r.provider.get("kubeconfig", ""))
    h = int(r.random("lb", length=8), 16)
    if "eks.amazonaws.com" in kubeconfig:
        region = kubeconfig.split(".eks.amazonaws.com")[0].rsplit(".", 1)[-1]
        elb = f"a{r.random('elb', length=31)}-{r.random('nlb', length=16)}"
        ingress = {"hostname": f"{elb}.elb.{region}.amazonaws.com"}
    else:
        ingress = {"ip": f"34.{h % 200 + 20}.{(h >> 8) % 250}.{(h >> 16) % 250 + 1}"}
    outputs: dict[str, Any] = {"status": {"loadBalancer": {"ingress": [ingress]}}}
    if spec is None:
        outputs["spec"] = {"type": "LoadBalancer", "clusterIP": f"172.20.{h % 250}.{(h >> 8) % 250 + 1}"}
    return outputs
