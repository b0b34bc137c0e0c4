"""What the backup capability's cloud-neutral component (components/backup.py) and its per-cloud stores
(components/backup_aws.py, components/backup_gcp.py) share: constants, props, the store interface.

A store is one cloud's half of a cluster's backups: its bucket and key, the cluster's keyless identity, how
the cluster's own-cloud peers are granted read access, how a reader in another cloud is federated in, and the
Velero locations that point at it. The component picks its store once, by the cluster's cloud (STORES in
components/backup.py), and never branches on a cloud itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import pulumi

from .cluster import ClusterPort, ObjectStoreSpec, Retention
from .config.backup import BackupConfig
from .federation import AwsOidcTrust
from .gcp_project import ProjectServices

CHART_REPOSITORY = "https://vmware-tanzu.github.io/helm-charts"
NAMESPACE = "velero"
SERVICE_ACCOUNT = "velero"
SUBJECT = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
ABORT_MULTIPART_DAYS = 7
# EC2 actions the AWS plugin documents for volume snapshots.
EC2_SNAPSHOT_ACTIONS = [
    "ec2:DescribeVolumes",
    "ec2:DescribeSnapshots",
    "ec2:CreateTags",
    "ec2:CreateVolume",
    "ec2:CreateSnapshot",
    "ec2:DeleteSnapshot",
]
S3_OBJECT_ACTIONS = [
    "s3:GetObject",
    "s3:DeleteObject",
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]
KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
# Permissions the GCP plugin documents for disk snapshots (bucket rights are granted on the bucket).
GCE_SNAPSHOT_PERMISSIONS = [
    "compute.disks.get",
    "compute.disks.create",
    "compute.disks.createSnapshot",
    "compute.projects.get",
    "compute.snapshots.get",
    "compute.snapshots.create",
    "compute.snapshots.useReadOnly",
    "compute.snapshots.delete",
    "compute.zones.get",
]
AWS_TOKEN_DIR = "/var/run/secrets/velero-aws"
GCP_FEDERATION_DIR = "/var/run/secrets/velero-gcp"
GCP_FEDERATION_CONFIGMAP = "velero-gcp-federation"
# Where Velero writes restore logs and results in a backup's location, read-only or not.
RESTORES_PREFIX = "restores/"


def storage_location_name(cluster: str) -> str:
    """Every storage location is named after the cluster whose bucket it is, in every cluster."""
    return cluster


def schedule_key(cluster: str, schedule: str) -> str:
    """Chart key of a schedule; per cluster so that peers' backup names never collide on restore."""
    return f"{cluster}-{schedule}"


def plugin_container(cloud: str, image: str) -> dict[str, Any]:
    return {
        "name": f"velero-plugin-for-{cloud}",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
    }


@dataclass(frozen=True)
class VeleroBackupProps:
    """Props of one cluster's backup component."""

    cluster: ClusterPort
    backup: BackupConfig
    environment: str
    protect: bool
    # GCP project (gcp:project) holding the workload identity pools that let EKS clusters read GCS peers.
    federation_project: str | None = None
    # GKE only: AWS trust of this cluster's issuer, when it reads S3 peers (components/federation.py).
    aws_trust: AwsOidcTrust | None = None
    prefix: str = ""  # of physical names (the stack name by default)
    # The APIs of gcp:project the workload identity pools call (EKS clusters reading GCS peers).
    project_services: ProjectServices | None = None
    # Where the restore drill sends its metrics (the observability collector), if anywhere.
    drill_metrics: str | None = None

    @property
    def qualified(self) -> str:
        """<prefix>-<cluster>: what physical names and descriptions say."""
        return f"{self.prefix or self.environment}-{self.cluster.spec.name}"


@dataclass
class PodIdentityPatch:
    """Env, volumes and manifests added to the Velero server and node-agent for cross-cloud reads."""

    env: list[dict[str, Any]]
    volumes: list[dict[str, Any]]
    mounts: list[dict[str, Any]]
    objects: list[Any]

    @staticmethod
    def empty() -> PodIdentityPatch:
        return PodIdentityPatch([], [], [], [])

    def merge(self, other: PodIdentityPatch) -> PodIdentityPatch:
        return PodIdentityPatch(
            self.env + other.env, self.volumes + other.volumes, self.mounts + other.mounts, self.objects + other.objects
        )


class BackupOwner(Protocol):
    """The backup component of one cluster, as its store sees it (the parent of what the store creates)."""

    @property
    def resource_name(self) -> str: ...

    @property
    def props(self) -> VeleroBackupProps: ...

    @property
    def access(self) -> list[pulumi.Resource]: ...  # what the Velero release waits for (grants)

    def as_parent(self) -> pulumi.Resource: ...


def backup_bucket(owner: BackupOwner) -> ObjectStoreSpec:
    """The bucket of a cluster's backups, in either cloud: old versions kept for the retention, delete markers
    and incomplete uploads cleaned up (Velero deletes expired backups itself, see VeleroBackupProps)."""
    name, props = owner.resource_name, owner.props
    return ObjectStoreSpec(
        name=name,
        purpose="velero-backups",
        description=f"Velero backups of {props.qualified}",
        alias=f"alias/velero/{props.qualified}",
        key_name=f"{name}-backups",
        retention=Retention(noncurrent_days=props.backup.retention_days, abort_multipart_days=ABORT_MULTIPART_DAYS),
        protect=props.protect,
    )


class BackupStore(Protocol):
    """One cloud's half of a cluster's backups. Implementations: S3Store, GcsStore."""

    cloud: ClassVar[str]
    velero_provider: ClassVar[str]  # the Velero object-store plugin's provider name
    plugin_image: ClassVar[str]
    owner: BackupOwner
    bucket_name: pulumi.Output[str]
    key_ref: pulumi.Output[str]  # the bucket's KMS key (ARN or resource id)
    identity: pulumi.Output[str]  # the cluster's Velero identity (role ARN or service-account email)
    service_account_annotations: dict[str, pulumi.Input[str]]
    # The Google service account that signs URLs for Velero, if this identity is one (GCS locations use it).
    signing_account: pulumi.Output[str] | None
    # The OIDC issuer of this cluster's service-account tokens, where another cloud can trust it directly.
    oidc_issuer: pulumi.Output[str] | None

    def opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for what this store creates: parented to the component, on the cluster's cloud provider."""
        ...

    def grant_peers(self, peers: list[BackupStore]) -> None:
        """Let this cluster's own identity read the backups of peers of its own cloud."""
        ...

    def location_config(self, reader: BackupStore, read_only: bool) -> dict[str, Any]:
        """The `config` of a Velero BackupStorageLocation on this store, as `reader`'s Velero uses it."""
        ...

    def snapshot_config(self) -> dict[str, Any]:
        """The `config` of this cluster's VolumeSnapshotLocation."""
        ...


class ForeignReader(Protocol):
    """How a store's cloud federates a Velero of another cloud in to read its buckets (keyless)."""

    def __call__(self, reader: BackupStore, peers: list[BackupStore]) -> PodIdentityPatch: ...
