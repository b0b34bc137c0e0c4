"""Telemetry buckets on AWS: a hardened S3 bucket with its KMS key, and the IRSA role of the service accounts
that write and read it (Thanos on every EKS cluster, Loki and Tempo on an EKS hub)."""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from .eks import EksCluster
from .observability_common import NAMESPACE, TelemetryStoreProps, telemetry_bucket
from .storage_aws import policy_document

# What Thanos, Loki and Tempo do in their bucket (thanos.io storage.md "S3" minimum policy: list, get, put,
# delete objects; Loki and Tempo document the same set), and the key that encrypts it.
OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]


class S3TelemetryStore:
    cloud: ClassVar[str] = "aws"

    def __init__(self, props: TelemetryStoreProps):
        cluster = props.cluster
        if not isinstance(cluster, EksCluster):
            raise TypeError(f"{props.name}: an S3 telemetry store needs an EKS cluster")
        self.props, self.cluster, self.region = props, cluster, cluster.region
        self.grants: list[pulumi.Resource] = []
        made = cluster.object_store(telemetry_bucket(props), props.parent)
        self.bucket = made.bucket
        self.bucket_name: pulumi.Output[str] = made.bucket.bucket
        self.key_ref: pulumi.Output[str] = made.key.arn
        self._identity(made.bucket.arn, made.key.arn)

    def opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.props.parent, provider=self.cluster.aws_provider, **kwargs)

    def _identity(self, bucket_arn: pulumi.Output[str], key_arn: pulumi.Output[str]) -> None:
        props, cluster = self.props, self.cluster
        role = aws.iam.Role(
            props.name,
            assume_role_policy=cluster.irsa_trust([(NAMESPACE, a) for a in props.accounts]),
            description=f"IRSA for the {props.purpose} of {props.qualified}",
            opts=self.opts(),
        )

        def document(v: list[str]) -> str:
            return policy_document(
                {"Sid": "Objects", "Effect": "Allow", "Action": OBJECT_ACTIONS, "Resource": f"{v[0]}/*"},
                {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": v[0]},
                {"Sid": "Key", "Effect": "Allow", "Action": KMS_ACTIONS, "Resource": v[1]},
            )

        self.grants.append(
            aws.iam.RolePolicy(
                props.name,
                role=role.id,
                policy=pulumi.Output.all(bucket_arn, key_arn).apply(document),
                opts=self.opts(),
            )
        )
        self.identity: pulumi.Output[str] = role.arn
        self.service_account_annotations: dict[str, pulumi.Input[str]] = {"eks.amazonaws.com/role-arn": role.arn}

    def thanos_objstore(self) -> pulumi.Output[dict[str, Any]]:
        # No keys: minio-go's credential chain reads the IRSA web identity (AWS_WEB_IDENTITY_TOKEN_FILE).
        region = self.region
        return self.bucket_name.apply(
            lambda bucket: {
                "type": "S3",
                "config": {"bucket": bucket, "endpoint": f"s3.{region}.amazonaws.com", "region": region},
            }
        )

    def loki_storage(self) -> dict[str, Any]:
        bucket = self.bucket_name
        return {
            "type": "s3",
            "bucketNames": {"chunks": bucket, "ruler": bucket, "admin": bucket},
            "s3": {"region": self.region},
        }

    def tempo_storage(self) -> dict[str, Any]:
        return {
            "backend": "s3",
            "s3": {"bucket": self.bucket_name, "endpoint": f"s3.{self.region}.amazonaws.com", "region": self.region},
        }
