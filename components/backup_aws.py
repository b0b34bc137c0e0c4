"""The backup store on AWS: an S3 bucket with its KMS key and the EKS cluster's IRSA role for Velero; S3 peers
read through an IAM policy; a GKE cluster's Velero federated in through an IAM role that trusts its OIDC issuer.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from .aws_iam import irsa_trust_policy
from .backup_common import (
    AWS_TOKEN_DIR,
    EC2_SNAPSHOT_ACTIONS,
    KMS_ACTIONS,
    NAMESPACE,
    RESTORES_PREFIX,
    S3_OBJECT_ACTIONS,
    SERVICE_ACCOUNT,
    BackupOwner,
    BackupStore,
    PodIdentityPatch,
    backup_bucket,
)
from .config.regions import GCP_REGIONS
from .eks import EksCluster
from .storage_aws import policy_document


class S3Store:
    """Bucket, key and IRSA identity of an EKS cluster's backups."""

    cloud: ClassVar[str] = "aws"
    velero_provider: ClassVar[str] = "velero.io/aws"
    # The plugin release built for Velero 1.18 (the 12.1.0 chart's appVersion 1.18.1).
    plugin_image: ClassVar[str] = "velero/velero-plugin-for-aws:v1.14.2"

    def __init__(self, owner: BackupOwner):
        cluster = owner.props.cluster
        if not isinstance(cluster, EksCluster):
            raise TypeError(f"{owner.resource_name}: an S3 backup store needs an EKS cluster")
        self.owner, self.cluster = owner, cluster
        self.region = cluster.region
        self.signing_account: pulumi.Output[str] | None = None
        self._bucket()
        self._identity()

    def opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.owner.as_parent(), provider=self.cluster.aws_provider, **kwargs)

    def _bucket(self) -> None:
        made = self.cluster.object_store(backup_bucket(self.owner), self.owner.as_parent())
        self.key, self.bucket = made.key, made.bucket
        self.key_ref: pulumi.Output[str] = self.key.arn
        self.bucket_name: pulumi.Output[str] = self.bucket.bucket
        self.bucket_arn: pulumi.Output[str] = self.bucket.arn

    def _identity(self) -> None:
        name, cluster = self.owner.resource_name, self.cluster
        self.role = aws.iam.Role(
            f"{name}-velero",
            assume_role_policy=cluster.irsa_trust([(NAMESPACE, SERVICE_ACCOUNT)]),
            description=f"IRSA for {NAMESPACE}/{SERVICE_ACCOUNT} on {self.owner.props.qualified}",
            opts=self.opts(),
        )
        region = self.region

        def document(v: list[str]) -> str:
            return policy_document(
                {"Sid": "Objects", "Effect": "Allow", "Action": S3_OBJECT_ACTIONS, "Resource": f"{v[0]}/*"},
                {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": v[0]},
                {"Sid": "Key", "Effect": "Allow", "Action": KMS_ACTIONS, "Resource": v[1]},
                {
                    "Sid": "Snapshots",
                    "Effect": "Allow",
                    "Action": EC2_SNAPSHOT_ACTIONS,
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
                },
            )

        policy = aws.iam.RolePolicy(
            f"{name}-velero",
            role=self.role.id,
            policy=pulumi.Output.all(self.bucket_arn, self.key.arn).apply(document),
            opts=self.opts(),
        )
        self.identity: pulumi.Output[str] = self.role.arn
        self.oidc_issuer: pulumi.Output[str] | None = cluster.oidc_issuer  # what a GCS peer's pool trusts
        self.service_account_annotations: dict[str, pulumi.Input[str]] = {"eks.amazonaws.com/role-arn": self.role.arn}
        self.owner.access.append(policy)

    def grant_peers(self, peers: list[BackupStore]) -> None:
        read_s3_peers(self.owner, self.role, peers, self.opts())

    def location_config(self, reader: BackupStore, read_only: bool) -> dict[str, Any]:
        config: dict[str, Any] = {"region": self.region}
        if not read_only:
            config["kmsKeyId"] = self.key_ref
        return config

    def snapshot_config(self) -> dict[str, Any]:
        return {"region": self.region}


def read_s3_peers(
    owner: BackupOwner, role: aws.iam.Role, peers: list[BackupStore], opts: pulumi.ResourceOptions
) -> None:
    """One policy on `role` reading every S3 peer's backups (see peer_access_policy)."""
    if not peers:
        return
    buckets = [s3_store(peer) for peer in peers]
    resources = pulumi.Output.all(*[pulumi.Output.all(p.bucket_arn, p.key_ref) for p in buckets])
    owner.access.append(
        aws.iam.RolePolicy(
            f"{owner.resource_name}-read-peers", role=role.id, policy=resources.apply(peer_access_policy), opts=opts
        )
    )


def federate_reader(reader: BackupStore, peers: list[BackupStore]) -> PodIdentityPatch:
    """GKE -> S3: an IAM role trusting the GKE cluster's OIDC issuer for velero/velero tokens."""
    owner = reader.owner
    name, trust = owner.resource_name, owner.props.aws_trust
    if trust is None:
        raise ValueError(f"{name}: reading S3 peers from GKE needs the AWS trust of its issuer")
    region = owner.props.cluster.region
    iam_region = GCP_REGIONS[region].nearest_aws or "us-east-1"
    provider = aws.Provider(f"{name}-aws", region=iam_region, opts=pulumi.ResourceOptions(parent=owner.as_parent()))
    opts = pulumi.ResourceOptions(parent=owner.as_parent(), provider=provider)
    role = aws.iam.Role(
        f"{name}-velero-aws",
        assume_role_policy=irsa_trust_policy(trust.oidc_provider_arn, trust.issuer, [(NAMESPACE, SERVICE_ACCOUNT)]),
        description=f"Velero on {owner.props.qualified} (GKE) reading its AWS peers' backups",
        opts=opts,
    )
    read_s3_peers(owner, role, peers, opts)
    volume = {
        "name": "velero-aws-token",
        "projected": {
            "sources": [
                {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}
            ]
        },
    }
    return PodIdentityPatch(
        env=[
            {"name": "AWS_ROLE_ARN", "value": role.arn},
            {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": f"{AWS_TOKEN_DIR}/token"},
            {"name": "AWS_REGION", "value": iam_region},
            {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
        ],
        volumes=[volume],
        mounts=[{"name": "velero-aws-token", "mountPath": AWS_TOKEN_DIR, "readOnly": True}],
        objects=[],
    )


def s3_store(store: BackupStore) -> S3Store:
    if not isinstance(store, S3Store):
        raise TypeError(f"{store.owner.resource_name}: not an S3 backup store")
    return store


def peer_access_policy(peers: list[list[str]]) -> str:
    """Read the peers' backups (list + get, decrypt), and write and delete restore logs and results under
    restores/: Velero writes them to the backup's storage location even when it is read-only (PartiallyFailed
    otherwise), and deletes them with the Restore."""
    return policy_document(
        {"Sid": "ListPeerBuckets", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [a for a, _ in peers]},
        {
            "Sid": "ReadPeerObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{a}/*" for a, _ in peers],
        },
        {
            # Deleting a Restore makes Velero delete its files there too (restores.velero.io/external-resources-
            # finalizer, pkg/controller/restore_controller.go deleteExternalResources): without it the Restore
            # stays Terminating.
            "Sid": "WriteRestoreResults",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:DeleteObject"],
            "Resource": [f"{a}/{RESTORES_PREFIX}*" for a, _ in peers],
        },
        {
            "Sid": "PeerKeys",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
            "Resource": [k for _, k in peers],
        },
    )
