"""A hardened S3 bucket with its own KMS key: what every capability that keeps data in S3 creates (backups,
telemetry). Versioned, encrypted with a rotating customer key (bucket keys on), no public access, owner-enforced
objects, TLS only, and expiry by lifecycle rules. The caller names the purpose and the retention and says how
its resources are protected (`data_opts`) and parented (`opts`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from .cluster import Retention

Options = Callable[..., pulumi.ResourceOptions]
# Annotations only: naming the type at import would load pulumi_aws.s3 in fleets without EKS.
if TYPE_CHECKING:
    LifecycleRule = aws.s3.BucketLifecycleConfigurationRuleArgsDict


@dataclass(frozen=True)
class S3Bucket:
    key: aws.kms.Key
    bucket: aws.s3.Bucket

    @property
    def bucket_name(self) -> pulumi.Output[str]:
        return self.bucket.bucket

    @property
    def key_ref(self) -> pulumi.Output[str]:
        return self.key.arn


def s3_lifecycle(retention: Retention) -> list[LifecycleRule]:
    """One rule for the whole bucket: current objects expire (or, kept, their expired delete markers go),
    old versions after `noncurrent_days`, incomplete multipart uploads after `abort_multipart_days`."""
    noncurrent_days, abort_days = retention.noncurrent_days, retention.abort_multipart_days
    if retention.expire_days is None:
        return [
            {
                "id": "noncurrent-versions",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "noncurrent_version_expiration": {"noncurrent_days": noncurrent_days},
                "expiration": {"expired_object_delete_marker": True},
                "abort_incomplete_multipart_upload": {"days_after_initiation": abort_days},
            }
        ]
    return [
        {
            "id": "retention",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"days": retention.expire_days},
            "noncurrent_version_expiration": {"noncurrent_days": noncurrent_days},
            "abort_incomplete_multipart_upload": {"days_after_initiation": abort_days},
        }
    ]


def hardened_s3_bucket(
    name: str,
    *,
    description: str,
    alias: str,
    purpose: str,
    lifecycle: Sequence[LifecycleRule],
    opts: Options,
    data_opts: Options,
) -> S3Bucket:
    """Key, alias, bucket and its companions, named `<name>-<part>`; `data_opts` for what holds data (the
    companions too: a retained bucket must keep its encryption, public access block, policy and lifecycle)."""
    key = aws.kms.Key(
        f"{name}-key", description=description, enable_key_rotation=True, deletion_window_in_days=30, opts=data_opts()
    )
    aws.kms.Alias(f"{name}-key", name=alias, target_key_id=key.key_id, opts=opts())
    bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=False, tags={"purpose": purpose}, opts=data_opts())
    bucket_id = bucket.id
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning", bucket=bucket_id, versioning_configuration={"status": "Enabled"}, opts=data_opts()
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket_id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
                "bucket_key_enabled": True,
            }
        ],
        opts=data_opts(),
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket_id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=data_opts(),
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership", bucket=bucket_id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=data_opts()
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket_id,
        policy=bucket.arn.apply(deny_insecure_transport),
        opts=data_opts(depends_on=[public_access]),
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle", bucket=bucket_id, rules=list(lifecycle), opts=data_opts(depends_on=[versioning])
    )
    return S3Bucket(key, bucket)


def policy_document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def deny_insecure_transport(bucket_arn: str) -> str:
    return policy_document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
