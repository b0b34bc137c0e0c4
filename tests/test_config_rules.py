"""Config rules that stand for what AWS, GCP and Velero refuse: each tested both ways, with its exact message."""

from __future__ import annotations

import pytest

from components.config import ConfigError, namespace_settings, parse_stack_config
from components.config.stack import default_slots, maintenance_window
from tests.support import aws_cluster, fleet, gcp_cluster, settings_of


def parse(config: dict, stack: str | None = "test"):
    return parse_stack_config(*namespace_settings(settings_of(config)), stack=stack)


def problems(config: dict, stack: str | None = "test") -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse(config, stack)
    return [str(issue) for issue in err.value.issues]


def one_aws(**changes) -> dict:
    cluster = aws_cluster("aws-use1", "us-east-1", 1)
    for key, value in changes.items():
        cluster["network"][key] = value
    return fleet(cluster)


# --- AWS networks -------------------------------------------------------------------------------


def test_an_aws_vpc_is_a_slash_16_or_smaller():
    parse(one_aws(cidr="10.1.0.0/16"))
    assert problems(one_aws(cidr="10.0.0.0/12")) == [
        "multicluster:clusters[0].network.cidr 10.0.0.0/12 must be between /16 and /28 for an AWS VPC"
    ]


def test_the_eks_service_range_is_rfc_1918():
    parse(one_aws(serviceCidr="192.168.0.0/16"))
    assert problems(one_aws(serviceCidr="100.64.0.0/16")) == [
        "multicluster:clusters[0].network.serviceCidr 100.64.0.0/16 must be within 10.0.0.0/8, 172.16.0.0/12 or "
        "192.168.0.0/16 (the EKS service range)"
    ]


def test_node_group_names_fit_eks_after_the_providers_suffix():
    cluster = aws_cluster("a" * 24, "us-east-1", 1)
    cluster["nodePools"][0]["name"] = "p" * 30  # 24 + 1 + 30 + 8 = 63: fits exactly
    parse(fleet(cluster))
    cluster["nodePools"][0]["name"] = "p" * 31
    assert problems(fleet(cluster)) == [
        f"multicluster:clusters[0].nodePools[0].name makes the node group name '{'a' * 24}-{'p' * 31}-xxxxxxx' "
        "64 characters long; EKS allows 63 (shorten the pool or cluster name)"
    ]


def test_zone_ids_are_of_the_region_and_supported_by_eks():
    parse(one_aws(zoneIds=["use1-az1", "use1-az2", "use1-az4"]))
    assert sorted(problems(one_aws(zoneIds=["use1-az1", "usw2-az1", "use1-az3"]))) == [
        "multicluster:clusters[0].network.zoneIds 'use1-az3' is a zone where EKS does not run control planes",
        "multicluster:clusters[0].network.zoneIds 'usw2-az1' is not a zone of us-east-1 (its zone ids are use1-az<n>)",
    ]
    assert problems(one_aws(zoneIds=["use1-az1"])) == [
        "multicluster:clusters[0].network.zoneIds needs at least two distinct zone ids (EKS requires subnets in "
        "two zones)"
    ]
    assert problems(one_aws(zoneIds=["us-east-1a", "us-east-1b"]))[0].startswith(
        "multicluster:clusters[0].network.zoneIds[0] 'us-east-1a' is not an availability zone id"
    )


# --- versions --------------------------------------------------------------------------------------


def with_pool_version(cloud: str, version: str) -> dict:
    make = aws_cluster if cloud == "aws" else gcp_cluster
    cluster = make("c", "us-east-1" if cloud == "aws" else "us-central1", 1)
    cluster["nodePools"][0]["kubernetesVersion"] = version
    return fleet(cluster)


def test_eks_nodes_follow_the_control_plane_within_the_skew_policy():
    parse(with_pool_version("aws", "1.32"))
    parse(with_pool_version("aws", "1.30"))  # three minors behind: allowed
    assert problems(with_pool_version("aws", "1.34")) == [
        "multicluster:clusters[0].nodePools[0].kubernetesVersion 1.34 is newer than the control plane (1.33)"
    ]
    assert problems(with_pool_version("aws", "1.29")) == [
        "multicluster:clusters[0].nodePools[0].kubernetesVersion 1.29 is more than 3 minor versions older than the "
        "control plane (1.33)"
    ]


def test_gke_node_versions_are_left_to_the_release_channel():
    assert problems(with_pool_version("gcp", "1.33")) == [
        "multicluster:clusters[0].nodePools[0].kubernetesVersion is not set on GKE: nodes of a release-channel "
        "cluster auto-upgrade after the control plane (hold upgrades with maintenance windows and exclusions instead)"
    ]


# --- GKE names and sizes ------------------------------------------------------------------------


def test_gke_cluster_names_fit_40_characters_with_the_prefix():
    name = "g" * 24
    # A stack name or namePrefix prefixes names and is at most 15 characters: 15 + 1 + 24 = 40 always fits.
    parse(fleet(gcp_cluster(name, "us-central1", 1)), stack="s" * 15)
    # Without a stack (a tool validating a file), the environment (up to 16 characters) is the prefix.
    assert problems(fleet(gcp_cluster(name, "us-central1", 1), environment="e" * 16), stack=None) == [
        f"multicluster:clusters[0].name makes the GKE cluster name '{'e' * 16}-{name}' 41 characters long; GKE "
        "allows 40 (shorten the cluster name or multicluster:namePrefix)"
    ]


def test_gke_pool_sizes_are_multiples_of_the_regions_three_zones():
    cluster = gcp_cluster("g", "us-central1", 1)
    cluster["nodePools"][0] |= {"minSize": 3, "maxSize": 9, "desiredSize": 6}
    parse(fleet(cluster))
    cluster["nodePools"][0]["desiredSize"] = 4
    assert problems(fleet(cluster)) == [
        "multicluster:clusters[0].nodePools[0].desiredSize is 4, but a regional GKE node pool starts the same "
        "number of nodes in each of its 3 zones: use a multiple of 3 (minSize and maxSize are fleet-wide totals)"
    ]


# --- names of the stack --------------------------------------------------------------------------


def test_the_stack_name_prefixes_physical_names_unless_it_cannot():
    assert parse(fleet(aws_cluster("a", "us-east-1", 1)), stack="prod").physical_name("a") == "prod-a"
    assert parse(fleet(aws_cluster("a", "us-east-1", 1), namePrefix="acme"), stack="prod").physical_name("a") == (
        "acme-a"
    )
    assert problems(fleet(aws_cluster("a", "us-east-1", 1)), stack="Prod_EU") == [
        "multicluster:namePrefix is required: the stack name 'Prod_EU' is not a DNS-1123 label (lowercase letters, "
        "digits and '-', starting with a letter), so it cannot prefix physical names (set multicluster:namePrefix "
        "to a DNS label of at most 15 characters)"
    ]


# --- references, drain, outage ---------------------------------------------------------------------


def pair(**settings) -> dict:
    return fleet(
        aws_cluster("aws-use1", "us-east-1", 1), aws_cluster("aws-usw2", "us-west-2", 2, role="standby"), **settings
    )


def test_deployer_and_outage_name_clusters_of_the_fleet():
    parse(pair(deployer={"network": "aws-use1"}, outage={"unreachable": ["aws-usw2"]}))
    assert problems(pair(deployer={"network": "aws-euc1"}, outage={"unreachable": ["gone"]})) == [
        "multicluster:deployer.network 'aws-euc1' is not a cluster of the fleet (clusters: aws-use1, aws-usw2)",
        "multicluster:outage.unreachable[0] 'gone' is not a cluster of the fleet (clusters: aws-use1, aws-usw2)",
    ]


def test_a_drained_cluster_leaves_one_serving_and_holds_no_fleet_role():
    config = pair()
    config["multicluster:clusters"][1]["drain"] = True
    assert [c.name for c in parse(config).serving] == ["aws-use1"]
    config["multicluster:clusters"][0]["drain"] = True
    assert problems(config) == [
        "multicluster:clusters drains every cluster of the fleet: keep one serving",
        "multicluster:clusters[0].drain 'aws-use1' is the primary: make a standby the primary first",
    ]
    hub = pair(deployer={"network": "aws-usw2"})
    hub["multicluster:clusters"][1]["drain"] = True
    assert problems(hub) == [
        "multicluster:clusters[1].drain 'aws-usw2' is where the deployer runs: move that role first"
    ]


# --- GKE maintenance -----------------------------------------------------------------------------


def gke_fleet(*names: str, **settings) -> dict:
    regions = ["us-central1", "europe-west1", "asia-east1", "us-east4", "europe-west4", "asia-northeast1"]
    return fleet(
        *(gcp_cluster(n, regions[i % len(regions)], i + 1) for i, n in enumerate(names)),
        failover="active-active",
        **settings,
    )


def test_default_maintenance_windows_never_overlap_in_a_failover_group_and_stay_put_when_one_is_added():
    names = [f"gke-{i}" for i in range(6)]
    config = parse(gke_fleet(*names))
    windows = {c.name: maintenance_window(config, c) for c in config.clusters}
    grown = parse(gke_fleet(*names, "gke-new"))
    assert {c.name: maintenance_window(grown, c) for c in grown.clusters if c.name in windows} == windows
    assert len(set(default_slots(list(grown.clusters)).values())) == 7


def test_a_window_of_its_own_must_give_48_hours_in_32_days_and_not_overlap_the_group():
    config = gke_fleet("a", "b")
    config["multicluster:clusters"][0]["maintenance"] = {"days": ["SA"], "startTime": "02:00", "hours": 8}
    assert problems(config)[0] == (
        "multicluster:clusters[0].maintenance gives 8 h a week, 32 h in the worst 32 days; GKE requires at least "
        "48 h (e.g. days: [SA, SU], hours: 6)"
    )
    both = gke_fleet("a", "b")
    for cluster in both["multicluster:clusters"]:
        cluster["maintenance"] = {"days": ["SA", "SU"], "startTime": "02:00", "hours": 6}
    assert problems(both) == [
        "multicluster:clusters[1].maintenance overlaps the maintenance window of 'a' in the same failover group: "
        "both could upgrade at once"
    ]
    both["multicluster:clusters"][1]["maintenance"]["startTime"] = "08:00"
    parse(both)


def test_thirteen_gke_clusters_of_one_group_need_windows_of_their_own():
    names = [f"g{i}" for i in range(13)]
    found = problems(gke_fleet(*names))
    assert found == [
        "multicluster:clusters[12].maintenance is needed: the 12 staggered default windows of its failover group "
        "are taken"
    ]


# --- backups that peers can restore -----------------------------------------------------------------


def with_backup(*clusters: dict, file_system: bool) -> dict:
    schedule = {"name": "nightly", "cron": "0 3 * * *", "fileSystemBackup": file_system}
    return fleet(*clusters, failover="active-active", backup={"schedules": [schedule]})


@pytest.mark.parametrize(
    ("clusters", "message"),
    [
        (
            (aws_cluster("aws-use1", "us-east-1", 1), gcp_cluster("gcp-usc1", "us-central1", 2)),
            "EBS snapshots, but 'gcp-usc1' restores the backups of 'aws-use1' in another cloud",
        ),
        (
            (aws_cluster("aws-use1", "us-east-1", 1), aws_cluster("aws-usw2", "us-west-2", 2)),
            "EBS snapshots, but 'aws-usw2' restores the backups of 'aws-use1' in another AWS region (us-west-2)",
        ),
    ],
    ids=["cross-cloud", "cross-region-aws"],
)
def test_snapshot_backups_are_refused_where_a_peer_cannot_restore_them(clusters, message):
    parse(with_backup(*clusters, file_system=True))
    (problem,) = problems(with_backup(*clusters, file_system=False))
    assert problem.startswith(
        "multicluster:backup.schedules[0].fileSystemBackup is false, so volumes are backed up as "
    )
    assert message in problem
    assert problem.endswith(
        "where those snapshots cannot be restored (https://velero.io/docs/main/locations/#limitations--caveats): "
        "set fileSystemBackup: true (Kopia file-system backup)"
    )


def test_gke_peers_in_other_regions_can_restore_disk_snapshots():
    parse(with_backup(gcp_cluster("a", "us-central1", 1), gcp_cluster("b", "europe-west1", 2), file_system=False))


def test_gke_node_pool_names_fit_40_characters_after_the_providers_suffix():
    cluster = gcp_cluster("g" * 20, "us-central1", 1)
    cluster["nodePools"][0]["name"] = "p" * 11  # 20 + 1 + 11 + 8 = 40: fits exactly
    parse(fleet(cluster))
    cluster["nodePools"][0]["name"] = "p" * 12
    assert problems(fleet(cluster)) == [
        f"multicluster:clusters[0].nodePools[0].name makes the node pool name '{'g' * 20}-{'p' * 12}-xxxxxxx' 41 "
        "characters long; GKE allows 40 (shorten the pool or cluster name)"
    ]
