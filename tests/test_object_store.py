"""Object stores through the cluster port: a capability asks its cluster for a bucket, whatever the cloud."""

from __future__ import annotations

import pulumi

from components.cluster import ObjectStoreSpec, Retention
from components.config import load_stack_config
from components.fleet import build_fleet
from components.storage_aws import s3_lifecycle
from components.storage_gcp import gcs_lifecycle
from offline_plan import run_program
from offline_plan.judge import judge_plan
from tests.support import aws_cluster, fleet, gcp_cluster, settings_of

KEPT = Retention(noncurrent_days=30, abort_multipart_days=7)
EXPIRING = Retention(noncurrent_days=7, expire_days=97)


def test_s3_rules_keep_current_objects_or_expire_them():
    assert s3_lifecycle(KEPT) == [
        {
            "id": "noncurrent-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrent_version_expiration": {"noncurrent_days": 30},
            "expiration": {"expired_object_delete_marker": True},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        }
    ]
    assert s3_lifecycle(EXPIRING) == [
        {
            "id": "retention",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"days": 97},
            "noncurrent_version_expiration": {"noncurrent_days": 7},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
        }
    ]


def test_gcs_rules_keep_current_objects_or_expire_them():
    noncurrent = {
        "action": {"type": "Delete"},
        "condition": {"days_since_noncurrent_time": 30, "with_state": "ARCHIVED"},
    }
    assert gcs_lifecycle(KEPT) == [noncurrent]
    assert gcs_lifecycle(EXPIRING) == [
        {"action": {"type": "Delete"}, "condition": {"age": 97}},
        {"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": 7, "with_state": "ARCHIVED"}},
    ]


class Archive(pulumi.ComponentResource):
    """A capability that knows no cloud: one bucket per cluster, through the port only."""

    def __init__(self, clusters, protect: bool):
        super().__init__("multicluster:test:Archive", "archive")
        self.stores = {
            name: cluster.object_store(
                ObjectStoreSpec(
                    name=f"archive-{name}",
                    purpose="archive",
                    description=f"Archive of {name}",
                    alias=f"alias/archive/{name}",
                    key_name=f"archive-{name}",
                    retention=KEPT,
                    protect=protect,
                ),
                self,
            )
            for name, cluster in clusters.items()
        }
        self.register_outputs({name: store.bucket_name for name, store in self.stores.items()})


def plan_archive(protect: bool):
    config = fleet(aws_cluster("aws-use1", "us-east-1", 1), gcp_cluster("gcp-usc1", "us-central1", 2, role="standby"))

    def program():
        built = build_fleet(load_stack_config())
        Archive(built.clusters, protect)

    return run_program(program, settings_of(config), [], "test")


def test_a_cloud_neutral_capability_gets_a_hardened_bucket_from_either_cluster():
    plan = plan_archive(protect=True)
    archive = plan.component("archive")
    s3 = plan.named("archive-aws-use1-bucket", "aws:s3/bucket:Bucket")
    gcs = plan.named("archive-gcp-usc1-bucket", "gcp:storage/bucket:Bucket")
    for bucket in (s3, gcs):
        assert bucket.parent == archive.urn
        assert bucket.protect and bucket.retain_on_delete
    # Each in its cluster's cloud, region and account or project, on the cluster's provider.
    assert s3.provider_urn.endswith("::aws-use1-aws")
    assert gcs.provider_urn.endswith("::gcp-usc1-gcp")
    assert gcs.input("location") == "US-CENTRAL1" and gcs.input("project") == "acme-test"
    # Encrypted with a key of its own, which the bucket's service reaches.
    key = plan.named("archive-gcp-usc1", "gcp:kms/cryptoKey:CryptoKey")
    assert gcs.input("encryption") == {"defaultKmsKeyName": key.id}
    encryption = plan.named("archive-aws-use1-encryption")
    rule = encryption.input("rules")[0]["applyServerSideEncryptionByDefault"]
    assert rule["kmsMasterKeyId"] == plan.named("archive-aws-use1-key", "aws:kms/key:Key").output("arn")
    assert plan.named("archive-aws-use1-public-access").input("restrictPublicBuckets") is True
    assert gcs.input("publicAccessPrevention") == "enforced"
    # The same lifecycle in each cloud's terms; the GCP key waits for Cloud KMS in the cluster's project.
    assert plan.named("archive-aws-use1-lifecycle").input("rules")[0]["noncurrentVersionExpiration"] == {
        "noncurrentDays": 30
    }
    assert gcs.input("lifecycleRules")[0]["condition"]["daysSinceNoncurrentTime"] == 30
    assert "gcp-usc1-cloudkms-api" in {plan.by_urn(urn).name for urn in plan.waits_for(key)}
    assert [str(f) for f in judge_plan(plan)] == []


def test_an_unprotected_store_is_still_retained_on_delete():
    """Protection follows the spec (the cluster's), retention never: a bucket with objects cannot be deleted."""
    plan = plan_archive(protect=False)
    for name in ("archive-aws-use1-bucket", "archive-gcp-usc1-bucket"):
        bucket = plan.named(name)
        assert not bucket.protect and bucket.retain_on_delete
