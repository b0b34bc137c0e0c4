"""A hardened GCS bucket with its own Cloud KMS key: what every capability that keeps data in GCS creates
(backups, telemetry). Uniform access, public access prevention enforced, versioned, encrypted with a rotating
customer key that the project's GCS service agent may use, soft delete, and expiry by lifecycle rules. The caller
names the purpose and retention and says how its resources are protected (`data_opts`) and parented (`opts`);
both take `api`, the API the resource calls (components.gke), which it waits for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from .cluster import Retention
from .gcp_apis import KMS, STORAGE

Options = Callable[..., pulumi.ResourceOptions]
# Annotations only: naming the type at import would load pulumi_gcp.storage in fleets without GKE.
if TYPE_CHECKING:
    LifecycleRule = gcp.storage.BucketLifecycleRuleArgsDict
KEY_ROTATION = f"{90 * 24 * 3600}s"
SOFT_DELETE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class GcsBucket:
    key: gcp.kms.CryptoKey
    bucket: gcp.storage.Bucket

    @property
    def bucket_name(self) -> pulumi.Output[str]:
        return self.bucket.name

    @property
    def key_ref(self) -> pulumi.Output[str]:
        return self.key.id


def gcs_lifecycle(retention: Retention) -> list[LifecycleRule]:
    """Current objects deleted at `expire_days` (when set), old versions `noncurrent_days` after they were
    replaced. No rule for incomplete uploads: Velero's and Thanos' Google clients upload through the JSON API,
    whose resumable sessions expire after a week, not through XML multipart uploads."""
    rules: list[LifecycleRule] = []
    if retention.expire_days is not None:
        rules.append({"action": {"type": "Delete"}, "condition": {"age": retention.expire_days}})
    rules.append(
        {
            "action": {"type": "Delete"},
            "condition": {"days_since_noncurrent_time": retention.noncurrent_days, "with_state": "ARCHIVED"},
        }
    )
    return rules


def hardened_gcs_bucket(
    name: str,
    *,
    key_name: str,
    project: str,
    region: str,
    purpose: str,
    protect: bool,
    lifecycle: Sequence[LifecycleRule],
    opts: Options,
    data_opts: Options,
    invoke_opts: pulumi.InvokeOutputOptions,
    ring_after: Sequence[pulumi.Resource] = (),
) -> GcsBucket:
    """Key ring, key, the GCS agent's grant on it and the bucket (`<name>-bucket`), in `region`; the key ring
    waits for `ring_after` (the project services KMS needs)."""
    gcs_agent = gcp.storage.get_project_service_account_output(project=project, opts=invoke_opts)
    # Key rings cannot be deleted: Pulumi suffixes the name, so a rebuilt stack never collides.
    # Protected with the key, so that a change replacing the ring cannot cascade to the protected key.
    key_ring = gcp.kms.KeyRing(
        key_name, location=region, project=project, opts=opts(api=KMS, protect=protect, depends_on=list(ring_after))
    )
    key = gcp.kms.CryptoKey(
        key_name, key_ring=key_ring.id, purpose="ENCRYPT_DECRYPT", rotation_period=KEY_ROTATION, opts=data_opts(api=KMS)
    )
    grant = gcp.kms.CryptoKeyIAMMember(
        f"{name}-gcs-agent",
        crypto_key_id=key.id,
        role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member=gcs_agent.email_address.apply(lambda email: f"serviceAccount:{email}"),
        opts=opts(api=KMS),
    )
    bucket = gcp.storage.Bucket(
        f"{name}-bucket",
        project=project,
        location=region.upper(),
        storage_class="STANDARD",
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning={"enabled": True},
        encryption={"default_kms_key_name": key.id},
        soft_delete_policy={"retention_duration_seconds": SOFT_DELETE_SECONDS},
        lifecycle_rules=list(lifecycle),
        force_destroy=False,
        labels={"purpose": purpose},
        opts=data_opts(api=STORAGE, depends_on=[grant]),
    )
    return GcsBucket(key, bucket)
