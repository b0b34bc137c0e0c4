"""Mocks of what the cloud computes for the gitops capability: federation pools, IAM bindings, Helm releases."""

from __future__ import annotations

from . import GCP_PROJECT_NUMBER, MockResource, resource


def _pool_path(r: MockResource) -> str:
    return f"projects/{GCP_PROJECT_NUMBER}/locations/global/workloadIdentityPools/{r.inputs['workloadIdentityPoolId']}"


@resource("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
def workload_identity_pool(r: MockResource) -> dict:
    return {
        "id": f"projects/{r.project}/locations/global/workloadIdentityPools/{r.inputs['workloadIdentityPoolId']}",
        "name": _pool_path(r),
        "state": "ACTIVE",
    }


@resource("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
def workload_identity_pool_provider(r: MockResource) -> dict:
    path = f"{_pool_path(r)}/providers/{r.inputs['workloadIdentityPoolProviderId']}"
    return {"id": path, "name": path, "state": "ACTIVE"}


@resource("gcp:serviceaccount/iAMMember:IAMMember")
def service_account_iam_member(r: MockResource) -> dict:
    return {
        "id": f"{r.inputs['serviceAccountId']}/{r.inputs['role']}/{r.inputs['member']}",
        "etag": f"BwY{r.hex(9)}=",
    }


@resource("kubernetes:helm.sh/v3:Release")
def helm_release(r: MockResource) -> dict:
    name = r.inputs.get("name") or r.auto_name(53)
    namespace = r.inputs.get("namespace", "default")
    return {
        "id": f"{namespace}/{name}",
        "name": name,
        "status": {
            "name": name,
            "namespace": namespace,
            "chart": r.inputs.get("chart"),
            "version": r.inputs.get("version"),
            "revision": 1,
            "status": "deployed",
        },
    }
