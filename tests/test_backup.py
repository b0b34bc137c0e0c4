"""Backup and DR (issue 7): buckets, identities, Velero values, peer locations, residency and RPO."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
import yaml

from components.backup_aws import S3Store
from components.backup_gcp import GcsStore
from components.config import ConfigError, namespace_settings, parse_stack_config
from components.config.backup import BackupConfig, Cron, format_minutes, max_gap_minutes, parse_cron
from components.fleetplan import plan_fleet
from offline_plan import Plan
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config, settings_of

RELEASE = "kubernetes:helm.sh/v3:Release"
HOURLY_FS = {
    "name": "hourly",
    "cron": "0 * * * *",
    "ttl": "720h",
    "includedNamespaces": ["production", "database"],
    "fileSystemBackup": True,
}
NIGHTLY = {"name": "nightly", "cron": "30 2 * * *", "ttl": "168h"}
RESIDENCIES = {
    "eu": {"regions": ["eu-west-1", "europe-west1"], "continents": ["EU"]},
    "us": {"regions": ["us-east-1", "us-central1"], "default": True},
}


def replicated(**settings: Any) -> dict[str, Any]:
    """AWS primary, AWS standby, GCP standby: same-cloud and cross-cloud peers."""
    return fleet(
        aws_cluster("aws-use1", "us-east-1", 1),
        aws_cluster("aws-usw2", "us-west-2", 2, role="standby"),
        gcp_cluster("gcp-usc1", "us-central1", 3, role="standby"),
        **settings,
    )


def partitioned(**settings: Any) -> dict[str, Any]:
    return fleet(
        aws_cluster("aws-euw1", "eu-west-1", 1, residency="eu"),
        gcp_cluster("gcp-euw1", "europe-west1", 2, role="standby", residency="eu"),
        aws_cluster("aws-use1", "us-east-1", 3, residency="us"),
        gcp_cluster("gcp-usc1", "us-central1", 4, role="standby", residency="us"),
        topology="partitioned",
        residencies=RESIDENCIES,
        **settings,
    )


@pytest.fixture(scope="module")
def staging_plan() -> Plan:
    """Replicated, unprotected, one schedule with the defaults (file-system backups: peers in other clouds)."""
    return plan_config(replicated(environment="staging", backup={"schedules": [NIGHTLY], "retentionDays": 14}))


@pytest.fixture(scope="module")
def prod_plan() -> Plan:
    """Partitioned, protected, with file-system backups."""
    return plan_config(partitioned(environment="prod", backup={"schedules": [HOURLY_FS, NIGHTLY]}))


def problems(config: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_stack_config(*namespace_settings(settings_of(config)))
    return [str(issue) for issue in err.value.issues]


def component(plan: Plan, cluster: str):
    return plan.component(f"{cluster}-backup")


def child(plan: Plan, cluster: str, type_: str, suffix: str):
    return plan.named(f"{cluster}-backup-{suffix}", type_)


def values(plan: Plan, cluster: str) -> dict[str, Any]:
    return child(plan, cluster, RELEASE, "velero").input("values")


# --- config validation -------------------------------------------------------------------


def test_valid_block_gets_defaults():
    config = parse_stack_config(*namespace_settings(settings_of(replicated(backup={"schedules": [NIGHTLY]}))))
    assert config.backup.chart_version == "12.1.0"
    assert config.backup.retention_days == 30
    assert config.backup.schedules[0].included_namespaces == ["*"]
    # File-system backups by default: peers in any cloud or region can restore them.
    assert config.backup.schedules[0].file_system_backup is True


def test_invalid_crons_ttls_and_names_are_reported_at_their_paths():
    schedules = [
        {"name": "a", "cron": "0 24 * * *"},
        {"name": "b", "cron": "0 * * *", "ttl": "30d"},
        {"name": "c", "cron": "0 0 31 2 *", "ttl": "0h"},
        {"name": "d", "cron": "*/0 * * * *"},
        {"name": "e", "cron": "0 0 * * 7", "includedNamespaces": ["Prod"]},
    ]
    assert problems(replicated(backup={"schedules": schedules, "chartVersion": "12.x"})) == [
        "multicluster:backup.chartVersion '12.x' is not an exact chart version (e.g. 12.1.0)",
        "multicluster:backup.schedules[0].cron '0 24 * * *': hour value 24 is outside 0-23",
        "multicluster:backup.schedules[1].cron '0 * * *' is not a cron expression: expected 5 fields "
        "(minute hour day-of-month month day-of-week), got 4",
        "multicluster:backup.schedules[1].ttl '30d' is not a duration (use Go syntax, e.g. 720h, 90m, 1h30m)",
        "multicluster:backup.schedules[2].cron '0 0 31 2 *' never fires (no such date)",
        "multicluster:backup.schedules[2].ttl '0h' must be longer than zero",
        "multicluster:backup.schedules[3].cron '*/0 * * * *': minute step must be at least 1 (got '*/0')",
        "multicluster:backup.schedules[4].cron '0 0 * * 7': day of week value 7 is outside 0-6",
        "multicluster:backup.schedules[4].includedNamespaces[0] 'Prod' is not a DNS-1123 label "
        "(lowercase letters, digits and '-', starting with a letter)",
    ]


def test_schedule_names_must_be_unique():
    schedules = [NIGHTLY, {**NIGHTLY, "cron": "0 3 * * *"}]
    assert problems(replicated(backup={"schedules": schedules})) == [
        "multicluster:backup.schedules[1].name 'nightly' is already used by schedules[0]"
    ]


def without_gcp_project(config: dict[str, Any], project: str = "acme-gke") -> dict[str, Any]:
    """The config with gcp:project unset and the project set on each GKE cluster instead."""
    config = {k: v for k, v in config.items() if k != "gcp:project"}
    for cluster in config["multicluster:clusters"]:
        if cluster["cloud"] == "gcp":
            cluster["project"] = project
    return config


def test_eks_readers_of_gcs_peers_require_gcp_project():
    assert problems(without_gcp_project(replicated(backup={"schedules": [NIGHTLY]}))) == [
        f"multicluster:backup cluster '{name}' (EKS) reads the backups of GCP peers (gcp-usc1) through a "
        "workload identity pool, which requires gcp:project (the project holding the pool)"
        for name in ("aws-use1", "aws-usw2")
    ]


def test_gcp_project_is_not_required_without_cross_cloud_readers():
    config = without_gcp_project(
        fleet(
            gcp_cluster("gcp-usc1", "us-central1", 1),
            gcp_cluster("gcp-euw1", "europe-west1", 2, role="standby"),
            backup={"schedules": [NIGHTLY]},
        )
    )
    parse_stack_config(*namespace_settings(settings_of(config)))


def test_federation_project_is_gcp_project_wherever_the_gke_clusters_are():
    config = replicated(backup={"schedules": [NIGHTLY]})
    clusters = config["multicluster:clusters"]
    clusters[2]["project"] = "acme-gke"
    clusters.insert(0, clusters.pop())  # a GKE cluster of another project first
    parsed = parse_stack_config(*namespace_settings(settings_of(config)))
    # EKS clusters' workload identity pools live in gcp:project, never in the first GKE cluster's project.
    assert plan_fleet(parsed).gcp_project == "acme-test"


def test_residency_rule_rejects_a_bucket_outside_its_residency():
    config = partitioned(backup={"schedules": [NIGHTLY]})
    config["multicluster:clusters"][1]["region"] = "us-central1"  # an eu cluster placed in the us
    config["multicluster:clusters"][1]["residency"] = "eu"
    assert (
        "multicluster:backup the backup bucket of cluster 'gcp-euw1' would be in us-central1, "
        "outside residency 'eu' (regions: eu-west-1, europe-west1)"
    ) in problems(config)


# --- cron and RPO ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crons", "rpo"),
    [
        (["0 * * * *"], "1h"),
        (["*/15 * * * *"], "15m"),
        (["0 */6 * * *"], "6h"),
        (["30 1 * * 1-5"], "72h"),  # Friday 01:30 to Monday 01:30
        (["0 2 * * *", "0 14 * * *"], "12h"),
        (["0 2 * * *", "0 3 * * *"], "23h"),
        (["0 3 * * 0"], "168h"),
        (["0 0 1,15 * 1"], "168h"),  # both day fields restricted: either matches
        (["0 0 1 * *"], "744h"),  # 31-day months
        (["0 0 29 2 *"], "35064h"),  # leap days: 4 years
        (["@daily", "@hourly"], "1h"),
    ],
)
def test_rpo_is_the_longest_gap_between_firings(crons, rpo):
    assert format_minutes(max_gap_minutes([parse_cron(c) for c in crons])) == rpo


def test_rpo_walks_the_calendar_once_per_set_of_schedules(monkeypatch):
    days: list = []
    fires_on = Cron.fires_on
    monkeypatch.setattr(Cron, "fires_on", lambda self, day: days.append(day) or fires_on(self, day))
    crons = ["17 5 * * 3", "41 */7 * * *"]  # used by no other test: not cached yet
    rpo = max_gap_minutes([parse_cron(c) for c in crons])
    walked = len(days)
    assert walked > 0
    assert max_gap_minutes(parse_cron(c) for c in crons) == rpo  # equal crons, parsed again
    assert len(days) == walked


def test_rpo_is_computed_once_per_component(monkeypatch):
    calls: list[BackupConfig] = []
    rpo_minutes = BackupConfig.rpo_minutes
    monkeypatch.setattr(BackupConfig, "rpo_minutes", lambda self: calls.append(self) or rpo_minutes(self))
    plan = plan_config(fleet(aws_cluster("aws-use1", "us-east-1", 1), backup={"schedules": [NIGHTLY]}))
    assert plan.outputs["backup"]["aws-use1"]["rpoMinutes"] == 24 * 60
    assert len(calls) == 1


def test_step_and_names_follow_robfig_cron():
    cron = parse_cron("5/20 9-17 * JAN-MAR MON,fri")
    assert sorted(cron.minutes) == [5, 25, 45]
    assert sorted(cron.months) == [1, 2, 3]
    assert sorted(cron.weekdays) == [1, 5]
    assert cron.dom_star and not cron.dow_star


def test_rpo_output_per_cluster(prod_plan, staging_plan):
    for cluster in ("aws-euw1", "gcp-usc1"):
        assert prod_plan.outputs["backup"][cluster]["rpo"] == "1h"
        assert prod_plan.outputs["backup"][cluster]["rpoMinutes"] == 60
    assert staging_plan.outputs["backup"]["aws-use1"]["rpo"] == "24h"


# --- buckets -----------------------------------------------------------------------------


def test_s3_bucket_is_hardened(staging_plan):
    plan, name = staging_plan, "aws-usw2"
    bucket = child(plan, name, "aws:s3/bucket:Bucket", "bucket")
    key = child(plan, name, "aws:kms/key:Key", "key")
    bucket_id, bucket_arn, key_arn = bucket.id, bucket.output("arn"), key.output("arn")
    assert bucket.input("forceDestroy") is False
    assert bucket.provider_urn.endswith("::aws-usw2-aws")
    assert key.input("enableKeyRotation") is True
    versioning = child(plan, name, "aws:s3/bucketVersioning:BucketVersioning", "versioning")
    assert versioning.input("bucket") == bucket_id
    assert versioning.input("versioningConfiguration") == {"status": "Enabled"}
    sse = child(
        plan,
        name,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "encryption",
    )
    assert sse.input("rules") == [
        {
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn},
            "bucketKeyEnabled": True,
        }
    ]
    block = child(plan, name, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "public-access")
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block.input(flag) is True, flag
    ownership = child(plan, name, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ownership")
    assert ownership.input("rule") == {"objectOwnership": "BucketOwnerEnforced"}
    policy = json.loads(child(plan, name, "aws:s3/bucketPolicy:BucketPolicy", "tls-only").input("policy"))
    assert policy["Statement"] == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    lifecycle = child(plan, name, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lifecycle")
    [rule] = lifecycle.input("rules")
    assert rule["status"] == "Enabled"
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 14}
    assert versioning.urn in lifecycle.dependencies


def test_gcs_bucket_is_hardened(staging_plan):
    plan, name = staging_plan, "gcp-usc1"
    bucket = child(plan, name, "gcp:storage/bucket:Bucket", "bucket")
    key = child(plan, name, "gcp:kms/cryptoKey:CryptoKey", "backups")
    ring = child(plan, name, "gcp:kms/keyRing:KeyRing", "backups")
    assert bucket.input("location") == "US-CENTRAL1"
    assert ring.input("location") == "us-central1"
    assert bucket.input("uniformBucketLevelAccess") is True
    assert bucket.input("publicAccessPrevention") == "enforced"
    assert bucket.input("versioning") == {"enabled": True}
    assert bucket.input("encryption") == {"defaultKmsKeyName": key.id}
    assert bucket.input("softDeletePolicy") == {"retentionDurationSeconds": 7 * 24 * 3600}
    assert bucket.input("lifecycleRules") == [
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 14, "withState": "ARCHIVED"}}
    ]
    assert bucket.input("forceDestroy") is False
    assert key.input("rotationPeriod") == "7776000s"
    grant = child(plan, name, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gcs-agent")
    assert grant.input("cryptoKeyId") == key.id
    assert grant.input("role") == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant.input("member").endswith("@gs-project-accounts.iam.gserviceaccount.com")
    assert grant.urn in bucket.dependencies  # CMEK must be usable before the bucket exists


@pytest.mark.parametrize(
    ("fixture", "protected"), [("staging_plan", False), ("prod_plan", True)], ids=["staging", "prod"]
)
def test_buckets_and_keys_are_protected_as_their_cluster_and_always_retained(request, fixture, protected):
    plan: Plan = request.getfixturevalue(fixture)
    data = [r for r in plan.of_type("aws:s3/bucket:Bucket") + plan.of_type("gcp:storage/bucket:Bucket")]
    data += plan.of_type("aws:kms/key:Key") + plan.of_type("gcp:kms/cryptoKey:CryptoKey")
    data = [r for r in data if "-backup-" in r.name]
    assert len(data) == (8 if protected else 6)
    # Retained even unprotected: deleting a bucket that holds backups fails (force_destroy is off) and would
    # stop the removal of a cluster halfway; retained, it leaves the stack and its backups stay restorable.
    for resource in data:
        assert (resource.protect, resource.retain_on_delete) == (protected, True), resource.name


S3_COMPANIONS = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
)


@pytest.mark.parametrize(
    ("fixture", "protected", "aws_clusters"),
    [("staging_plan", False, ("aws-use1", "aws-usw2")), ("prod_plan", True, ("aws-euw1", "aws-use1"))],
    ids=["staging", "prod"],
)
def test_bucket_companions_are_retained_with_the_bucket(request, fixture, protected, aws_clusters):
    plan: Plan = request.getfixturevalue(fixture)
    for name in aws_clusters:
        for type_ in S3_COMPANIONS:
            [companion] = plan.children(component(plan, name), type_)
            assert (companion.protect, companion.retain_on_delete) == (protected, True), companion.name
    rings = [r for r in plan.of_type("gcp:kms/keyRing:KeyRing") if "-backup-" in r.name]
    assert len(rings) == (2 if protected else 1)
    for ring in rings:
        assert ring.protect is protected, ring.name


# --- identity ----------------------------------------------------------------------------


def test_irsa_role_trusts_only_velero_and_is_scoped_to_the_bucket(staging_plan):
    plan, name = staging_plan, "aws-use1"
    role = child(plan, name, "aws:iam/role:Role", "velero")
    issuer = plan.named("aws-use1-eks").output("identities")[0]["oidcs"][0]["issuer"].removeprefix("https://")
    [statement] = json.loads(role.input("assumeRolePolicy"))["Statement"]
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"}
    assert statement["Condition"] == {
        "StringEquals": {f"{issuer}:aud": "sts.amazonaws.com", f"{issuer}:sub": "system:serviceaccount:velero:velero"}
    }
    bucket_arn = child(plan, name, "aws:s3/bucket:Bucket", "bucket").output("arn")
    key_arn = child(plan, name, "aws:kms/key:Key", "key").output("arn")
    policy = json.loads(child(plan, name, "aws:iam/rolePolicy:RolePolicy", "velero").input("policy"))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["Objects"]["Resource"] == f"{bucket_arn}/*"
    assert "s3:PutObject" in by_sid["Objects"]["Action"]
    assert by_sid["List"] == {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn}
    assert by_sid["Key"]["Resource"] == key_arn
    assert by_sid["Snapshots"]["Action"] == [
        "ec2:DescribeVolumes",
        "ec2:DescribeSnapshots",
        "ec2:CreateTags",
        "ec2:CreateVolume",
        "ec2:CreateSnapshot",
        "ec2:DeleteSnapshot",
    ]
    assert by_sid["Snapshots"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    assert [s["Sid"] for s in policy["Statement"] if s["Resource"] == "*"] == ["Snapshots"]


def test_gke_service_account_is_bound_to_velero_through_workload_identity(staging_plan):
    plan, name = staging_plan, "gcp-usc1"
    account = child(plan, name, "gcp:serviceaccount/account:Account", "velero")
    binding = child(plan, name, "gcp:serviceaccount/iAMMember:IAMMember", "velero-workload-identity")
    assert binding.input("role") == "roles/iam.workloadIdentityUser"
    assert binding.input("member") == "serviceAccount:acme-test.svc.id.goog[velero/velero]"
    assert binding.input("serviceAccountId") == account.output("name")
    objects = child(plan, name, "gcp:storage/bucketIAMMember:BucketIAMMember", "velero-objects")
    assert objects.input("bucket") == child(plan, name, "gcp:storage/bucket:Bucket", "bucket").output("name")
    assert (objects.input("role"), objects.input("member")) == ("roles/storage.objectAdmin", account.output("member"))
    role = child(plan, name, "gcp:projects/iAMCustomRole:IAMCustomRole", "velero-snapshots")
    assert "compute.snapshots.create" in role.input("permissions")
    assert not any(p.startswith("storage.") for p in role.input("permissions"))  # bucket rights stay on the bucket


# --- Velero chart --------------------------------------------------------------------------


def test_chart_is_pinned_with_keyless_credentials(staging_plan):
    for name, annotation in (
        ("aws-use1", "eks.amazonaws.com/role-arn"),
        ("gcp-usc1", "iam.gke.io/gcp-service-account"),
    ):
        release = child(staging_plan, name, RELEASE, "velero")
        assert release.input("chart") == "velero"
        assert release.input("version") == "12.1.0"
        assert release.input("repositoryOpts") == {"repo": "https://vmware-tanzu.github.io/helm-charts"}
        assert release.input("namespace") == "velero"
        v = release.input("values")
        assert v["credentials"] == {"useSecret": False}
        identity = staging_plan.outputs["backup"][name]["identity"]
        assert v["serviceAccount"]["server"]["annotations"] == {annotation: identity}
        assert v["serviceAccount"]["server"]["name"] == "velero"


def test_releases_deploy_through_the_cluster_provider_after_it_is_ready(staging_plan):
    for name in ("aws-use1", "gcp-usc1"):
        release = child(staging_plan, name, RELEASE, "velero")
        assert release.provider_urn.endswith(f"::{name}-k8s")
        node_pools = [r.urn for r in staging_plan.of_type("aws:eks/nodeGroup:NodeGroup") if r.name.startswith(name)]
        node_pools += [
            r.urn for r in staging_plan.of_type("gcp:container/nodePool:NodePool") if r.name.startswith(name)
        ]
        assert node_pools and set(node_pools) <= staging_plan.waits_for(release)


def test_plugins_node_agent_and_schedules(staging_plan, prod_plan):
    aws_values = values(staging_plan, "aws-use1")
    # Cross-cloud peers need both plugins.
    assert [c["image"] for c in aws_values["initContainers"]] == [S3Store.plugin_image, GcsStore.plugin_image]
    assert aws_values["initContainers"][0]["volumeMounts"] == [{"mountPath": "/target", "name": "plugins"}]
    # File-system backups by default: the node agent runs, and no volume is snapshotted (a GKE peer could not
    # restore an EBS snapshot).
    assert aws_values["deployNodeAgent"] is True
    assert aws_values["schedules"] == {
        "aws-use1-nightly": {
            "disabled": False,
            "schedule": "30 2 * * *",
            "useOwnerReferencesInBackup": False,
            "template": {
                "ttl": "168h",
                "storageLocation": "aws-use1",
                "includedNamespaces": ["*"],
                "defaultVolumesToFsBackup": True,
                "snapshotVolumes": False,
                "volumeSnapshotLocations": [],
            },
        }
    }
    prod = values(prod_plan, "gcp-euw1")
    assert prod["deployNodeAgent"] is True
    hourly = prod["schedules"]["gcp-euw1-hourly"]
    assert hourly["template"]["includedNamespaces"] == ["production", "database"]
    assert hourly["template"]["defaultVolumesToFsBackup"] is True
    assert prod_plan.outputs["backup"]["gcp-euw1"]["schedules"] == ["velero-gcp-euw1-hourly", "velero-gcp-euw1-nightly"]
    namespace = child(prod_plan, "gcp-euw1", "kubernetes:core/v1:Namespace", "namespace")
    assert namespace.input("metadata.labels")["pod-security.kubernetes.io/enforce"] == "privileged"


def rendered_env(chart_values: dict[str, Any], workload: str) -> list[str]:
    """Names of the extra env vars chart 12.1.0 renders into a workload: the Velero Deployment reads
    configuration.extraEnvVars, the node-agent DaemonSet reads it and nodeAgent.extraEnvVars."""
    env = list(chart_values["configuration"].get("extraEnvVars", []))
    if workload == "node-agent":
        env += chart_values.get("nodeAgent", {}).get("extraEnvVars", [])
    return [e["name"] for e in env]


@pytest.mark.parametrize(
    ("cluster", "identity_env"),
    [("aws-euw1", "GOOGLE_APPLICATION_CREDENTIALS"), ("gcp-euw1", "AWS_ROLE_ARN")],
)
def test_identity_env_is_set_once_in_the_server_and_the_node_agent(prod_plan, cluster, identity_env):
    v = values(prod_plan, cluster)
    assert v["deployNodeAgent"] is True
    for workload in ("velero", "node-agent"):
        names = rendered_env(v, workload)
        assert len(names) == len(set(names)), (workload, names)
        assert names.count(identity_env) == 1, workload
    # The node-agent mounts what the env points at (volumes are not shared with the Deployment).
    assert v["nodeAgent"]["extraVolumeMounts"] == v["extraVolumeMounts"]
    assert v["nodeAgent"]["extraVolumes"] == v["extraVolumes"]


def test_storage_locations_are_lists_with_the_own_bucket_as_default(staging_plan):
    v = values(staging_plan, "gcp-usc1")
    locations = v["configuration"]["backupStorageLocation"]
    own = staging_plan.outputs["backup"]["gcp-usc1"]
    assert locations[0] == {
        "name": "gcp-usc1",
        "provider": "velero.io/gcp",
        "bucket": own["bucket"],
        "default": True,
        "accessMode": "ReadWrite",
        "config": {"serviceAccount": own["identity"]},
    }
    assert v["configuration"]["volumeSnapshotLocation"] == [
        {
            "name": "gcp-usc1",
            "provider": "velero.io/gcp",
            "config": {"project": "acme-test", "snapshotLocation": "us-central1"},
        }
    ]


# --- peers ---------------------------------------------------------------------------------


def peer_locations(plan: Plan, cluster: str) -> dict[str, dict]:
    locations = values(plan, cluster)["configuration"]["backupStorageLocation"]
    return {loc["name"]: loc for loc in locations if loc["accessMode"] == "ReadOnly"}


def test_replicated_clusters_read_every_other_cluster(staging_plan):
    outputs = staging_plan.outputs["backup"]
    for name in ("aws-use1", "aws-usw2", "gcp-usc1"):
        others = sorted(set(outputs) - {name})
        peers = peer_locations(staging_plan, name)
        assert sorted(peers) == others
        assert sorted(outputs[name]["restoreLocations"]) == others
        for peer, location in peers.items():
            assert location["bucket"] == outputs[peer]["bucket"]
            assert location["default"] is False


def test_same_cloud_peers_get_read_only_rights(staging_plan):
    plan = staging_plan
    policy = json.loads(child(plan, "aws-use1", "aws:iam/rolePolicy:RolePolicy", "read-peers").input("policy"))
    peer_arn = child(plan, "aws-usw2", "aws:s3/bucket:Bucket", "bucket").output("arn")
    peer_key = child(plan, "aws-usw2", "aws:kms/key:Key", "key").output("arn")
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadPeerObjects"]["Action"] == ["s3:GetObject"]
    assert by_sid["ReadPeerObjects"]["Resource"] == [f"{peer_arn}/*"]
    assert by_sid["ListPeerBuckets"]["Resource"] == [peer_arn]
    # Velero writes a restore's logs and results to the backup's location, even a read-only one: only there.
    assert by_sid["WriteRestoreResults"]["Action"] == ["s3:PutObject", "s3:DeleteObject"]
    assert by_sid["WriteRestoreResults"]["Resource"] == [f"{peer_arn}/restores/*"]
    assert by_sid["PeerKeys"] == {
        "Sid": "PeerKeys",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
        "Resource": [peer_key],
    }


def test_cross_cloud_peers_are_keyless(staging_plan):
    plan = staging_plan
    # GKE -> S3: a role trusting the GKE issuer for velero/velero, token projected into the pods.
    oidc = plan.named("gcp-usc1-aws-trust-oidc")  # shared with gitops: components/federation.py
    gke = plan.named("gcp-usc1-gke", "gcp:container/cluster:Cluster")
    assert oidc.input("url") == gke.output("selfLink")
    role = child(plan, "gcp-usc1", "aws:iam/role:Role", "velero-aws")
    [statement] = json.loads(role.input("assumeRolePolicy"))["Statement"]
    host = gke.output("selfLink").removeprefix("https://")
    assert statement["Condition"]["StringEquals"][f"{host}:sub"] == "system:serviceaccount:velero:velero"
    env = {e["name"]: e["value"] for e in values(plan, "gcp-usc1")["configuration"]["extraEnvVars"]}
    assert env["AWS_ROLE_ARN"] == role.output("arn")
    # EKS -> GCS: a federated principal, read-only on the peer bucket.
    pool = child(plan, "aws-use1", "gcp:iam/workloadIdentityPool:WorkloadIdentityPool", "velero-pool")
    provider = child(
        plan, "aws-use1", "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", "velero-eks"
    )
    assert provider.input("oidc.issuerUri") == plan.outputs["clusters"]["aws-use1"]["oidcIssuer"]
    grant = child(plan, "aws-use1", "gcp:storage/bucketIAMMember:BucketIAMMember", "read-gcp-usc1")
    assert grant.input("role") == "roles/storage.objectViewer"
    assert grant.input("bucket") == plan.outputs["backup"]["gcp-usc1"]["bucket"]
    assert grant.input("member") == (
        f"principal://iam.googleapis.com/{pool.output('name')}/subject/system:serviceaccount:velero:velero"
    )
    aws_values = values(plan, "aws-use1")
    [config_map] = aws_values["extraObjects"]
    credentials = json.loads(config_map["data"]["credentials.json"])
    assert credentials["type"] == "external_account"
    assert credentials["audience"] == f"//iam.googleapis.com/{provider.output('name')}"
    assert "private_key" not in json.dumps(aws_values)


def test_partitioned_peers_stay_in_their_residency(prod_plan):
    outputs = prod_plan.outputs["backup"]
    residency = {"aws-euw1": "eu", "gcp-euw1": "eu", "aws-use1": "us", "gcp-usc1": "us"}
    regions = {key: set(r["regions"]) for key, r in RESIDENCIES.items()}
    for name, home in residency.items():
        assert outputs[name]["region"] in regions[home]
        peers = peer_locations(prod_plan, name)
        assert sorted(peers) == sorted(c for c, r in residency.items() if r == home and c != name)
        for peer, location in peers.items():
            assert outputs[peer]["region"] in regions[home]
            assert location["bucket"] == outputs[peer]["bucket"]
    # No grant on a bucket of the other residency.
    buckets_by_residency = {name: outputs[name]["bucket"] for name in residency}
    for grant in prod_plan.of_type("gcp:storage/bucketIAMMember:BucketIAMMember"):
        reader = grant.name.split("-backup-")[0]
        owner = next(n for n, b in buckets_by_residency.items() if b == grant.input("bucket"))
        assert residency[reader] == residency[owner], grant.name


# --- wiring and conventions ----------------------------------------------------------------


def test_every_backup_resource_uses_an_explicit_provider(staging_plan):
    for name in ("aws-use1", "aws-usw2", "gcp-usc1"):
        resources = staging_plan.children(component(staging_plan, name))
        assert resources
        for resource in resources:
            if resource.custom and not resource.type.startswith("pulumi:providers:"):
                assert resource.provider and "::default" not in resource.provider, resource.name


def test_upstream_schema_accepts_the_chart_values(upstream, staging_plan, prod_plan):
    chart = upstream / "velero" / "chart"
    schema = json.loads((chart / "values.schema.json").read_text())
    defaults = yaml.safe_load((chart / "values.yaml").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    for plan, clusters in ((staging_plan, ("aws-use1", "gcp-usc1")), (prod_plan, ("aws-euw1", "gcp-euw1"))):
        for name in clusters:
            merged = helm_merge(defaults, values(plan, name))
            errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(merged)]
            assert errors == [], name


def test_upstream_crds_accept_the_velero_resources(upstream, staging_plan, prod_plan):
    crds = upstream / "velero" / "crds"
    schemas = {kind: crd_schema(crds / f"velero.io_{kind.lower()}s.yaml") for kind in KINDS}
    for plan, name in ((staging_plan, "gcp-usc1"), (staging_plan, "aws-use1"), (prod_plan, "aws-euw1")):
        for kind, spec in rendered_specs(values(plan, name)):
            jsonschema.validate({"spec": spec}, schemas[kind])


def test_two_plans_are_identical(staging_plan):
    again = plan_config(replicated(environment="staging", backup={"schedules": [NIGHTLY], "retentionDays": 14}))
    assert json.dumps(again.outputs, sort_keys=True) == json.dumps(staging_plan.outputs, sort_keys=True)


# --- helpers for the upstream checks ---------------------------------------------------------

KINDS = ("BackupStorageLocation", "VolumeSnapshotLocation", "Schedule")


def helm_merge(defaults: Any, overrides: Any) -> Any:
    """Helm's coalescing of user values over chart defaults: maps merge, anything else replaces."""
    if isinstance(defaults, dict) and isinstance(overrides, dict):
        merged = copy.deepcopy(defaults)
        for key, value in overrides.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = helm_merge(defaults.get(key), value)
        return merged
    return copy.deepcopy(overrides)


def crd_schema(path) -> dict:
    crd = yaml.safe_load(path.read_text())
    [version] = [v for v in crd["spec"]["versions"] if v.get("served")]
    schema = version["schema"]["openAPIV3Schema"]
    return {"type": "object", "properties": {"spec": schema["properties"]["spec"]}}


def rendered_specs(chart_values: dict) -> list[tuple[str, dict]]:
    """The spec of each Velero resource the chart renders from these values (as its templates do)."""
    specs = []
    for location in chart_values["configuration"]["backupStorageLocation"]:
        specs.append(
            (
                "BackupStorageLocation",
                {
                    "provider": location["provider"],
                    "accessMode": location["accessMode"],
                    "default": location["default"],
                    "objectStorage": {"bucket": location["bucket"]},
                    "config": location["config"],
                },
            )
        )
    for location in chart_values["configuration"]["volumeSnapshotLocation"]:
        specs.append(("VolumeSnapshotLocation", {"provider": location["provider"], "config": location["config"]}))
    for schedule in chart_values["schedules"].values():
        spec = {k: v for k, v in schedule.items() if k != "disabled"}
        specs.append(("Schedule", spec))
    return specs
