"""Telemetry buckets on Google Cloud: a hardened GCS bucket with its Cloud KMS key, and a Google service account
for the service accounts that write and read it (Workload Identity): Thanos on every GKE cluster, Loki and Tempo on
a GKE hub."""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
import pulumi_gcp as gcp

from .gcp_apis import IAM, STORAGE
from .gke import GkeCluster, service_account_id
from .observability_common import NAMESPACE, TelemetryStoreProps, telemetry_bucket

# Thanos, Loki: roles/storage.objectAdmin on the bucket (thanos.io storage.md "GCS"; grafana.com/docs/loki
# "GCS"). Tempo also reads the bucket's metadata (storage.buckets.get, grafana.com/docs/tempo "GCS permissions"),
# which roles/storage.legacyBucketReader holds.
BUCKET_ROLES = {
    "metrics": ("roles/storage.objectAdmin",),
    "logs": ("roles/storage.objectAdmin",),
    "traces": ("roles/storage.objectAdmin", "roles/storage.legacyBucketReader"),
}


class GcsTelemetryStore:
    cloud: ClassVar[str] = "gcp"

    def __init__(self, props: TelemetryStoreProps):
        cluster = props.cluster
        if not isinstance(cluster, GkeCluster):
            raise TypeError(f"{props.name}: a GCS telemetry store needs a GKE cluster")
        self.props, self.cluster = props, cluster
        self.grants: list[pulumi.Resource] = []
        made = cluster.object_store(telemetry_bucket(props), props.parent)
        self.bucket = made.bucket
        self.bucket_name: pulumi.Output[str] = made.bucket.name
        self.key_ref: pulumi.Output[str] = made.key.id
        self._identity()

    def opts(self, api: str, **kwargs: Any) -> pulumi.ResourceOptions:
        """A GCP resource calling `api` in the cluster's project waits for its Service (components.gke)."""
        after = [*self.cluster.waits_for(api), *kwargs.pop("depends_on", [])]
        return pulumi.ResourceOptions(
            parent=self.props.parent, provider=self.cluster.gcp_provider, depends_on=after, **kwargs
        )

    def _identity(self) -> None:
        props, cluster = self.props, self.cluster
        account = gcp.serviceaccount.Account(
            props.name,
            account_id=service_account_id(props.prefix, cluster.spec.name, props.purpose),
            display_name=f"{props.purpose} of {props.qualified}",
            project=cluster.project,
            opts=self.opts(IAM, depends_on=list(cluster.ready)),
        )
        for role in BUCKET_ROLES[props.purpose]:
            self.grants.append(
                gcp.storage.BucketIAMMember(
                    f"{props.name}-{role.rsplit('.', 1)[-1].lower()}",
                    bucket=self.bucket_name,
                    role=role,
                    member=account.member,
                    opts=self.opts(STORAGE),
                )
            )
        for kubernetes_account in props.accounts:
            self.grants.append(
                cluster.bind_workload_identity(
                    f"{props.name}-{kubernetes_account}", account, (NAMESPACE, kubernetes_account), self.opts(IAM)
                )
            )
        self.identity: pulumi.Output[str] = account.email
        self.service_account_annotations: dict[str, pulumi.Input[str]] = {
            "iam.gke.io/gcp-service-account": account.email
        }

    def thanos_objstore(self) -> pulumi.Output[dict[str, Any]]:
        # No key file: the Google client library's default credentials are the Workload Identity ones.
        return self.bucket_name.apply(lambda bucket: {"type": "GCS", "config": {"bucket": bucket}})

    def loki_storage(self) -> dict[str, Any]:
        bucket = self.bucket_name
        return {"type": "gcs", "bucketNames": {"chunks": bucket, "ruler": bucket, "admin": bucket}}

    def tempo_storage(self) -> dict[str, Any]:
        return {"backend": "gcs", "gcs": {"bucket_name": self.bucket_name}}
