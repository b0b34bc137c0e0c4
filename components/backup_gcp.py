"""The backup store on Google Cloud: a GCS bucket with its Cloud KMS key and the GKE cluster's Google service
account for Velero (Workload Identity); GCS peers read through bucket grants; an EKS cluster's Velero federated in
through a workload identity pool whose OIDC provider trusts its issuer.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pulumi
import pulumi_gcp as gcp

from .backup_common import (
    GCE_SNAPSHOT_PERMISSIONS,
    GCP_FEDERATION_CONFIGMAP,
    GCP_FEDERATION_DIR,
    NAMESPACE,
    RESTORES_PREFIX,
    SERVICE_ACCOUNT,
    SUBJECT,
    BackupOwner,
    BackupStore,
    PodIdentityPatch,
    backup_bucket,
)
from .gcp_apis import IAM, RESOURCE_MANAGER, STORAGE
from .gke import GkeCluster, service_account_id


class GcsStore:
    """Bucket, key and Workload Identity of a GKE cluster's backups."""

    cloud: ClassVar[str] = "gcp"
    velero_provider: ClassVar[str] = "velero.io/gcp"
    # The plugin release built for Velero 1.18 (the 12.1.0 chart's appVersion 1.18.1).
    plugin_image: ClassVar[str] = "velero/velero-plugin-for-gcp:v1.14.2"

    def __init__(self, owner: BackupOwner):
        cluster = owner.props.cluster
        if not isinstance(cluster, GkeCluster):
            raise TypeError(f"{owner.resource_name}: a GCS backup store needs a GKE cluster")
        self.owner, self.cluster = owner, cluster
        self.region = cluster.region
        self.oidc_issuer: pulumi.Output[str] | None = None  # a GKE reader of S3 peers goes through its AWS trust
        self._bucket()
        self._identity()

    def opts(self, api: str, **kwargs: Any) -> pulumi.ResourceOptions:
        """A GCP resource calling `api` in the cluster's project waits for its Service (components.gke)."""
        after = [*self.cluster.waits_for(api), *kwargs.pop("depends_on", [])]
        return pulumi.ResourceOptions(
            parent=self.owner.as_parent(), provider=self.cluster.gcp_provider, depends_on=after, **kwargs
        )

    def _bucket(self) -> None:
        made = self.cluster.object_store(backup_bucket(self.owner), self.owner.as_parent())
        self.key, self.bucket = made.key, made.bucket
        self.key_ref: pulumi.Output[str] = self.key.id
        self.bucket_name: pulumi.Output[str] = self.bucket.name

    def _identity(self) -> None:
        name, cluster, props = self.owner.resource_name, self.cluster, self.owner.props
        self.service_account = gcp.serviceaccount.Account(
            f"{name}-velero",
            account_id=service_account_id(props.prefix or props.environment, cluster.spec.name, "velero"),
            display_name=f"Velero on {props.qualified}",
            project=cluster.project,
            opts=self.opts(IAM, depends_on=list(cluster.ready)),
        )
        member = self.service_account.member
        bucket_rights = gcp.storage.BucketIAMMember(
            f"{name}-velero-objects",
            bucket=self.bucket.name,
            role="roles/storage.objectAdmin",
            member=member,
            opts=self.opts(STORAGE),
        )
        snapshot_role = gcp.projects.IAMCustomRole(
            f"{name}-velero-snapshots",
            project=cluster.project,
            role_id=f"velero_{props.qualified}".replace("-", "_"),
            title=f"Velero disk snapshots ({props.qualified})",
            permissions=GCE_SNAPSHOT_PERMISSIONS,
            opts=self.opts(IAM),
        )
        snapshot_rights = gcp.projects.IAMMember(
            f"{name}-velero-snapshots",
            project=cluster.project,
            role=snapshot_role.name,
            member=member,
            opts=self.opts(RESOURCE_MANAGER),
        )
        # Signed URLs (velero backup logs / describe --details) are signed by the account itself.
        signer = gcp.serviceaccount.IAMMember(
            f"{name}-velero-signer",
            service_account_id=self.service_account.name,
            role="roles/iam.serviceAccountTokenCreator",
            member=member,
            opts=self.opts(IAM),
        )
        workload_identity = cluster.bind_workload_identity(
            f"{name}-velero-workload-identity", self.service_account, (NAMESPACE, SERVICE_ACCOUNT), self.opts(IAM)
        )
        self.identity: pulumi.Output[str] = self.service_account.email
        self.signing_account: pulumi.Output[str] | None = self.service_account.email
        self.service_account_annotations: dict[str, pulumi.Input[str]] = {
            "iam.gke.io/gcp-service-account": self.service_account.email
        }
        self.owner.access.extend([bucket_rights, snapshot_rights, signer, workload_identity])

    def grant_peers(self, peers: list[BackupStore]) -> None:
        read_gcs_peers(self.owner, self.service_account.member, peers, self.opts(STORAGE))

    def location_config(self, reader: BackupStore, read_only: bool) -> dict[str, Any]:
        # Signing URLs needs a Google service account; federated (EKS) readers have none.
        return {"serviceAccount": reader.signing_account} if reader.signing_account is not None else {}

    def snapshot_config(self) -> dict[str, Any]:
        return {"project": self.cluster.project, "snapshotLocation": self.region}


def read_gcs_peers(
    owner: BackupOwner, member: pulumi.Input[str], peers: list[BackupStore], opts: pulumi.ResourceOptions
) -> None:
    # Objects are en- and decrypted by the peer's GCS service agent: the reader needs no key rights.
    name = owner.resource_name
    for peer in peers:
        peer_name = peer.owner.props.cluster.spec.name
        owner.access.append(
            gcp.storage.BucketIAMMember(
                f"{name}-read-{peer_name}",
                bucket=peer.bucket_name,
                role="roles/storage.objectViewer",
                member=member,
                opts=opts,
            )
        )
        # Velero writes a restore's logs and results to the backup's location, read-only or not.
        owner.access.append(
            gcp.storage.BucketIAMMember(
                f"{name}-restores-{peer_name}",
                bucket=peer.bucket_name,
                # objectUser (create, get, list, update, delete objects), limited to restores/ by the condition:
                # Velero writes a restore's files there and deletes them with the Restore (see backup_aws).
                role="roles/storage.objectUser",
                member=member,
                condition=peer.bucket_name.apply(restores_condition),
                opts=opts,
            )
        )


def federate_reader(reader: BackupStore, peers: list[BackupStore]) -> PodIdentityPatch:
    """EKS -> GCS: a workload identity pool whose OIDC provider trusts the EKS cluster's issuer."""
    owner = reader.owner
    name, props = owner.resource_name, owner.props
    issuer = federation_issuer(reader)
    project = props.federation_project
    if project is None:  # reported by components.config.backup.check
        raise ValueError(f"{name}: reading GCS peers from EKS needs gcp:project (the pool's project)")
    parent = owner.as_parent()
    provider = gcp.Provider(f"{name}-gcp", project=project, opts=pulumi.ResourceOptions(parent=parent))
    services = props.project_services
    apis = services.for_purpose("federation") if services is not None else []
    opts = pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=apis)
    pool = gcp.iam.WorkloadIdentityPool(
        f"{name}-velero-pool",
        project=project,
        workload_identity_pool_id=service_account_id(
            props.prefix or props.environment, props.cluster.spec.name, "velero"
        ),
        display_name=f"Velero on {props.qualified}"[:32],
        description="EKS service-account tokens of velero/velero, for reading GCS peer backups",
        opts=opts,
    )
    oidc = gcp.iam.WorkloadIdentityPoolProvider(
        f"{name}-velero-eks",
        project=project,
        workload_identity_pool_id=pool.workload_identity_pool_id,
        workload_identity_pool_provider_id="eks-oidc",
        attribute_mapping={"google.subject": "assertion.sub"},
        attribute_condition=f"assertion.sub == '{SUBJECT}'",
        oidc={"issuer_uri": issuer},
        opts=opts,
    )
    member = pool.name.apply(lambda pool_name: f"principal://iam.googleapis.com/{pool_name}/subject/{SUBJECT}")
    # The grants call Cloud Storage in the peers' projects: they wait for it there through the peer's bucket (which
    # waits for its cluster's Service), and for the pool through the member; not for the federation APIs.
    read_gcs_peers(owner, member, peers, pulumi.ResourceOptions(parent=parent, provider=provider))
    audience = oidc.name.apply(lambda provider_name: f"//iam.googleapis.com/{provider_name}")
    credentials = audience.apply(external_account_credentials)
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": GCP_FEDERATION_CONFIGMAP},
        "data": {"credentials.json": credentials},
    }
    volume = {
        "name": "velero-gcp-federation",
        "projected": {
            "sources": [
                {
                    "serviceAccountToken": {
                        "audience": audience.apply(lambda a: f"https:{a}"),
                        "expirationSeconds": 3600,
                        "path": "token",
                    }
                },
                {"configMap": {"name": GCP_FEDERATION_CONFIGMAP}},
            ]
        },
    }
    return PodIdentityPatch(
        env=[{"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": f"{GCP_FEDERATION_DIR}/credentials.json"}],
        volumes=[volume],
        mounts=[{"name": "velero-gcp-federation", "mountPath": GCP_FEDERATION_DIR, "readOnly": True}],
        objects=[config_map],
    )


def federation_issuer(reader: BackupStore) -> pulumi.Input[str]:
    """The OIDC issuer a pool trusts: the reader's own cluster's (an EKS cluster)."""
    if reader.oidc_issuer is None:
        raise TypeError(f"{reader.owner.resource_name}: a federated GCS reader needs an OIDC issuer")
    return reader.oidc_issuer


def restores_condition(bucket: str) -> gcp.storage.BucketIAMMemberConditionArgsDict:
    """An IAM condition limiting a grant to the objects under restores/ of one bucket."""
    return {
        "title": "velero-restore-results",
        "description": "Velero writes restore logs and results here, whatever the location's access mode",
        "expression": f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{RESTORES_PREFIX}")',
    }


def external_account_credentials(audience: str) -> str:
    """A credential configuration (no secret in it) exchanging the projected token at Google STS."""
    return json.dumps(
        {
            "type": "external_account",
            "audience": audience,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": "https://sts.googleapis.com/v1/token",
            "credential_source": {"file": f"{GCP_FEDERATION_DIR}/token", "format": {"type": "text"}},
        },
        sort_keys=True,
    )
