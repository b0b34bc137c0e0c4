"""GCP resources and invokes: self links, GKE endpoint/CA, service account emails, project number."""

from __future__ import annotations

import ipaddress
from typing import Any

from . import GCP_PROJECT_NUMBER, MockCall, MockResource, call, fake_certificate, resource

COMPUTE = "https://www.googleapis.com/compute/v1"


def _name(r: MockResource) -> str:
    return r.inputs.get("name", "")


@resource("gcp:compute/network:Network")
def network(r: MockResource) -> dict[str, Any]:
    name = _name(r)
    path = f"projects/{r.project}/global/networks/{name}"
    return {
        "id": path,
        "name": name,
        "selfLink": f"{COMPUTE}/{path}",
        "numericId": str(int(r.hex(12), 16)),
        "gatewayIpv4": "",
    }


@resource("gcp:compute/subnetwork:Subnetwork")
def subnetwork(r: MockResource) -> dict[str, Any]:
    name = _name(r)
    path = f"projects/{r.project}/regions/{r.region}/subnetworks/{name}"
    return {
        "id": path,
        "name": name,
        "selfLink": f"{COMPUTE}/{path}",
        "gatewayAddress": r.inputs["ipCidrRange"].rsplit(".", 2)[0] + ".0.1",
    }


@resource("gcp:compute/router:Router")
def router(r: MockResource) -> dict[str, Any]:
    name = _name(r)
    path = f"projects/{r.project}/regions/{r.region}/routers/{name}"
    return {"id": path, "name": name, "selfLink": f"{COMPUTE}/{path}"}


@resource("gcp:compute/routerNat:RouterNat")
def router_nat(r: MockResource) -> dict[str, Any]:
    name = _name(r)
    return {"id": f"{r.project}/{r.region}/{r.inputs['router']}/{name}", "name": name}


@resource("gcp:projects/service:Service")
def project_service(r: MockResource) -> dict[str, Any]:
    return {"id": f"{r.project}/{r.inputs['service']}"}


@resource("gcp:serviceaccount/account:Account")
def service_account(r: MockResource) -> dict[str, Any]:
    email = f"{r.inputs['accountId']}@{r.project}.iam.gserviceaccount.com"
    return {
        "id": f"projects/{r.project}/serviceAccounts/{email}",
        "email": email,
        "member": f"serviceAccount:{email}",
        "name": f"projects/{r.project}/serviceAccounts/{email}",
        "uniqueId": str(int(r.hex(20), 16))[:21],
    }


@resource("gcp:projects/iAMMember:IAMMember")
def project_iam_member(r: MockResource) -> dict[str, Any]:
    return {"id": f"{r.project}/{r.inputs['role']}/{r.inputs['member']}", "etag": f"BwY{r.hex(8)}="}


@resource("gcp:kms/keyRing:KeyRing")
def key_ring(r: MockResource) -> dict[str, Any]:
    name = _name(r)
    path = f"projects/{r.project}/locations/{r.inputs['location']}/keyRings/{name}"
    return {"id": path, "name": name}


@resource("gcp:kms/cryptoKey:CryptoKey")
def crypto_key(r: MockResource) -> dict[str, Any]:
    name = _name(r)
    return {"id": f"{r.inputs['keyRing']}/cryptoKeys/{name}", "name": name}


@resource("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
def crypto_key_iam_member(r: MockResource) -> dict[str, Any]:
    return {"id": f"{r.inputs['cryptoKeyId']}/{r.inputs['role']}/{r.inputs['member']}", "etag": f"BwY{r.hex(8)}="}


@resource("gcp:container/cluster:Cluster")
def gke_cluster(r: MockResource) -> dict[str, Any]:
    """GKE's answer. A cluster with a master CIDR is on VPC Network Peering (a peering name); one without is on
    Private Service Connect (no peering; its private endpoint is an address of its node subnetwork). The
    DNS-based endpoint is always present (DNSEndpointConfig.endpoint: 'Always present')."""
    name = r.inputs["name"]
    location = r.inputs["location"]
    private = dict(r.inputs.get("privateClusterConfig", {}))
    master = private.get("masterIpv4CidrBlock")
    h = int(r.random("public-endpoint", length=8), 16)
    public_ip = f"34.{h % 200 + 20}.{(h >> 8) % 250}.{(h >> 16) % 250 + 1}"
    if master:
        base = ipaddress.ip_network(master).network_address
        private_ip = str(base + 2)
        private["peeringName"] = f"gke-n{r.random('peering', length=16)}-{r.random('peering-suffix', length=4)}-peer"
    else:
        subnet = r.lookup(r.inputs.get("subnetwork")) or {}
        cidr = subnet.get("ipCidrRange") or "10.0.0.0/24"
        private_ip = str(ipaddress.ip_network(cidr).network_address + 2)
    private |= {"privateEndpoint": private_ip, "publicEndpoint": public_ip}
    endpoints = dict(r.inputs.get("controlPlaneEndpointsConfig", {}))
    dns = dict(endpoints.get("dnsEndpointConfig", {}))
    dns["endpoint"] = f"gke-{r.random('dns-endpoint', length=32)}.{location}.gke.goog"
    endpoints["dnsEndpointConfig"] = dns
    private_endpoint = private.get("enablePrivateEndpoint", False)
    return {
        "id": f"projects/{r.project}/locations/{location}/clusters/{name}",
        "endpoint": private_ip if private_endpoint else public_ip,
        "masterAuth": {
            "clusterCaCertificate": fake_certificate("gke", r.stack, r.project, name),
            "clientCertificateConfig": {"issueClientCertificate": False},
        },
        "privateClusterConfig": private,
        "controlPlaneEndpointsConfig": endpoints,
        "selfLink": f"https://container.googleapis.com/v1/projects/{r.project}/locations/{location}/clusters/{name}",
        "masterVersion": f"{r.inputs.get('minMasterVersion', '1.33')}.5-gke.1080000",
        "labelFingerprint": r.hex(8),
        "operation": "",
    }


@resource("gcp:container/nodePool:NodePool")
def node_pool(r: MockResource) -> dict[str, Any]:
    name = _name(r)
    cluster = r.inputs["cluster"]
    return {
        "id": f"{cluster}/nodePools/{name}",
        "name": name,
        "instanceGroupUrls": [
            f"{COMPUTE}/projects/{r.project}/zones/{r.region}-{z}/instanceGroupManagers/"
            f"gke-{r.random(name, z, length=8)}-grp"
            for z in "abc"
        ],
        "version": "1.33.5-gke.1080000",
    }


@call("gcp:organizations/getProject:getProject")
def get_project(c: MockCall) -> dict[str, Any]:
    project = c.args.get("projectId") or c.project
    return {"id": f"projects/{project}", "projectId": project, "number": GCP_PROJECT_NUMBER, "name": project}


# --- identity federation and service-account bindings (gitops and backup) ---------------------


def _pool_path(r: MockResource) -> str:
    return f"projects/{GCP_PROJECT_NUMBER}/locations/global/workloadIdentityPools/{r.inputs['workloadIdentityPoolId']}"


@resource("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
def workload_identity_pool(r: MockResource) -> dict[str, Any]:
    return {
        "id": f"projects/{r.project}/locations/global/workloadIdentityPools/{r.inputs['workloadIdentityPoolId']}",
        "name": _pool_path(r),
        "state": "ACTIVE",
    }


@resource("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
def workload_identity_pool_provider(r: MockResource) -> dict[str, Any]:
    path = f"{_pool_path(r)}/providers/{r.inputs['workloadIdentityPoolProviderId']}"
    return {"id": path, "name": path, "state": "ACTIVE"}


@resource("gcp:serviceaccount/iAMMember:IAMMember")
def service_account_iam_member(r: MockResource) -> dict[str, Any]:
    return {
        "id": f"{r.inputs['serviceAccountId']}/{r.inputs['role']}/{r.inputs['member']}",
        "etag": f"BwY{r.hex(9)}=",
    }


@resource("gcp:compute/address:Address")
def address(r: MockResource) -> dict[str, Any]:
    """A reserved external address: a public IP of the region, random per stack."""
    name = _name(r)
    h = int(r.random("address", length=8), 16)
    path = f"projects/{r.project}/regions/{r.region}/addresses/{name}"
    return {
        "id": path,
        "name": name,
        "address": f"35.{h % 200 + 20}.{(h >> 8) % 250}.{(h >> 16) % 250 + 1}",
        "selfLink": f"{COMPUTE}/{path}",
        "users": [],
    }


@resource("gcp:projects/serviceIdentity:ServiceIdentity")
def service_identity(r: MockResource) -> dict[str, Any]:
    """generateServiceIdentity: the service agent of the API in the project."""
    agents = {
        "container.googleapis.com": "container-engine-robot",
        "compute.googleapis.com": "compute-system",
        "storage.googleapis.com": "gs-project-accounts",
    }
    service = r.inputs["service"]
    agent = agents.get(service, f"gcp-sa-{service.split('.')[0]}")
    email = f"service-{GCP_PROJECT_NUMBER}@{agent}.iam.gserviceaccount.com"
    return {"id": f"projects/{r.project}/services/{service}", "email": email, "member": f"serviceAccount:{email}"}
