"""Backup resources and invokes: S3/GCS bucket names and ARNs, IAM roles and pools, the GCS agent."""

from __future__ import annotations

from typing import Any

from . import GCP_PROJECT_NUMBER, MockCall, MockResource, call, resource


@resource("aws:s3/bucket:Bucket")
def s3_bucket(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("bucket", "")
    return {
        "id": name,
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{r.region}.amazonaws.com",
        "bucketRegion": r.region,
        "region": r.region,
        "hostedZoneId": "Z3AQBSTGFYJSTF",
    }


@resource("gcp:storage/bucket:Bucket")
def gcs_bucket(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("name", "")
    return {
        "id": name,
        "name": name,
        "url": f"gs://{name}",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}",
        "projectNumber": int(GCP_PROJECT_NUMBER),
    }


@resource("gcp:storage/bucketIAMMember:BucketIAMMember")
def bucket_iam_member(r: MockResource) -> dict[str, Any]:
    return {"id": f"b/{r.inputs['bucket']}/{r.inputs['role']}/{r.inputs['member']}", "etag": f"CAE{r.hex(6)}="}


@resource("gcp:projects/iAMCustomRole:IAMCustomRole")
def custom_role(r: MockResource) -> dict[str, Any]:
    path = f"projects/{r.project}/roles/{r.inputs['roleId']}"
    return {"id": path, "name": path, "deleted": False}


@call("gcp:storage/getProjectServiceAccount:getProjectServiceAccount")
def gcs_service_agent(c: MockCall) -> dict[str, Any]:
    email = f"service-{GCP_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
    return {"id": email, "emailAddress": email, "member": f"serviceAccount:{email}", "project": c.project}
