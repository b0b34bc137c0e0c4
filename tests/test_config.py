"""The stack config contract: every rule reports its exact message at its key path, all at once."""

from __future__ import annotations

import copy

import pulumi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config import ConfigError, namespace_settings, parse_stack_config
from components.fleetplan import plan_fleet, validate_stack
from components.program import main
from offline_plan.capture import CaptureMonitor, run_program
from offline_plan.mocks import FleetMocks
from tests.support import aws_cluster, fleet, gcp_cluster, settings_of, stack_config


def raw(config: dict) -> tuple[dict, str | None]:
    return namespace_settings(settings_of(config))


def problems(config: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        validate_stack(*raw(config))
    return [str(issue) for issue in err.value.issues]


def two_aws(**settings) -> dict:
    return fleet(
        aws_cluster("aws-use1", "us-east-1", 10), aws_cluster("aws-usw2", "us-west-2", 11, role="standby"), **settings
    )


@pytest.mark.parametrize("name", ["staging", "prod", "examples/partitioned"])
def test_shipped_stacks_are_valid(name):
    config = parse_stack_config(*raw(stack_config(name)))
    assert config.clusters


def test_protect_defaults_to_environment():
    assert parse_stack_config(*raw(two_aws(environment="prod"))).protected is True
    assert parse_stack_config(*raw(two_aws(environment="staging"))).protected is False
    assert parse_stack_config(*raw(two_aws(environment="prod", protect=False))).protected is False


def test_unknown_keys_suggest_the_close_name():
    config = two_aws()
    config["multicluster:clustrs"] = []
    config["multicluster:clusters"][0]["regoin"] = "us-east-1"
    config["multicluster:clusters"][0]["network"]["natGateway"] = "single"
    assert problems(config) == [
        "multicluster:clusters[0].network.natGateway is not a known key (did you mean 'natGateways'?)",
        "multicluster:clusters[0].regoin is not a known key (did you mean 'region'?)",
        "multicluster:clustrs is not a known key (did you mean 'clusters'?)",
    ]


def test_bad_and_duplicate_names():
    config = two_aws()
    config["multicluster:clusters"][0]["name"] = "AWS_use1"
    config["multicluster:clusters"].append(aws_cluster("aws-usw2", "eu-west-1", 12, role="standby"))
    config["multicluster:clusters"].append(aws_cluster("a" * 25, "eu-west-2", 13, role="standby"))
    assert problems(config) == [
        "multicluster:clusters[0].name 'AWS_use1' is not a DNS-1123 label (lowercase letters, digits and '-', "
        "starting with a letter)",
        "multicluster:clusters[2].name 'aws-usw2' is already used by clusters[1]",
        f"multicluster:clusters[3].name '{'a' * 25}' is longer than 24 characters",
    ]


def test_regions_must_exist_for_the_cloud():
    config = fleet(aws_cluster("a", "us-central1", 1), gcp_cluster("g", "us-east-1", 2, role="standby"))
    assert problems(config) == [
        "multicluster:clusters[0].region 'us-central1' is not an AWS region (it is a GCP region)",
        "multicluster:clusters[1].region 'us-east-1' is not a GCP region (it is an AWS region)",
    ]
    config["multicluster:clusters"][0]["region"] = "us-eastt-1"
    assert problems(config)[0] == (
        "multicluster:clusters[0].region 'us-eastt-1' is not an AWS region (did you mean 'us-east-1'?)"
    )


def test_cidrs_must_be_valid_and_private():
    config = two_aws()
    config["multicluster:clusters"][0]["network"]["cidr"] = "10.10.0.1/16"
    config["multicluster:clusters"][1]["network"]["cidr"] = "8.8.0.0/16"
    config["multicluster:clusters"][1]["network"]["serviceCidr"] = "172.30.0.0/8"
    assert problems(config) == [
        "multicluster:clusters[0].network.cidr '10.10.0.1/16' is not a valid IPv4 CIDR "
        "(10.10.0.1/16 has host bits set)",
        "multicluster:clusters[1].network.cidr 8.8.0.0/16 is not a private range (use 10.0.0.0/8, 172.16.0.0/12, "
        "192.168.0.0/16 or 100.64.0.0/10)",
        "multicluster:clusters[1].network.serviceCidr '172.30.0.0/8' is not a valid IPv4 CIDR "
        "(172.30.0.0/8 has host bits set)",
    ]


def test_any_overlap_across_the_fleet_is_reported_once_per_pair():
    config = fleet(
        aws_cluster("a", "us-east-1", 1),
        aws_cluster("b", "us-west-2", 2, role="standby"),
        gcp_cluster("c", "us-central1", 3, role="standby"),
    )
    config["multicluster:clusters"][2]["network"]["cidr"] = "10.1.0.0/16"  # = a.cidr
    config["multicluster:clusters"][1]["network"]["serviceCidr"] = "10.1.128.0/20"  # inside a.cidr
    config["multicluster:clusters"][2]["network"]["podCidr"] = "172.17.0.0/16"  # = a.serviceCidr
    assert problems(config) == [
        "multicluster:clusters[1].network.serviceCidr 10.1.128.0/20 overlaps clusters[0].network.cidr",
        "multicluster:clusters[2].network.cidr 10.1.0.0/16 overlaps clusters[0].network.cidr",
        "multicluster:clusters[2].network.cidr 10.1.0.0/16 overlaps clusters[1].network.serviceCidr",
        "multicluster:clusters[2].network.podCidr 172.17.0.0/16 overlaps clusters[0].network.serviceCidr",
    ]


def test_impossible_node_pool_sizes():
    config = two_aws()
    pool = config["multicluster:clusters"][0]["nodePools"][0]
    pool.update(minSize=4, desiredSize=2, maxSize=3)
    config["multicluster:clusters"][1]["nodePools"][0]["maxSize"] = 0
    assert problems(config) == [
        "multicluster:clusters[0].nodePools[0] sizes must satisfy minSize <= desiredSize <= maxSize (got 4 <= 2 <= 3)",
        "multicluster:clusters[1].nodePools[0].maxSize must be >= 1 (got 0)",
    ]


def test_kubernetes_versions_per_service():
    config = fleet(
        aws_cluster("a", "us-east-1", 1, kubernetesVersion="1.29"),
        gcp_cluster("g", "us-central1", 2, role="standby", kubernetesVersion="1.32"),
    )
    assert problems(config) == [
        "multicluster:clusters[0].kubernetesVersion '1.29' is not offered by EKS (supported: 1.32, 1.33, 1.34, "
        "1.35, 1.36)",
        "multicluster:clusters[1].kubernetesVersion '1.32' is not offered by GKE (supported: 1.33, 1.34, 1.35, 1.36)",
    ]


def test_active_passive_needs_exactly_one_primary_in_a_replicated_fleet():
    config = two_aws()
    config["multicluster:clusters"][1]["role"] = "primary"
    assert problems(config) == [
        "multicluster:clusters active-passive needs exactly one primary in the fleet, found 2 (aws-use1, aws-usw2)"
    ]
    config["multicluster:clusters"][0]["role"] = config["multicluster:clusters"][1]["role"] = "standby"
    assert problems(config) == ["multicluster:clusters active-passive needs exactly one primary in the fleet, found 0"]


def test_active_active_has_no_standby():
    assert problems(two_aws(failover="active-active")) == [
        "multicluster:clusters[1].role 'standby' is never sent traffic in an active-active fleet "
        "(use role: primary, or failover: active-passive)"
    ]


def partitioned() -> dict:
    """The partitioned example without its capability blocks (its links and deployer stay: its EKS clusters are
    private): these tests are about the topology rules."""
    blocks = ("mesh", "gitops", "backup", "dns")
    capabilities = {f"multicluster:{block}" for block in blocks}
    return {k: v for k, v in stack_config("examples/partitioned").items() if k not in capabilities}


def test_partitioned_rules():
    config = partitioned()
    clusters = config["multicluster:clusters"]
    del clusters[0]["residency"]  # aws-euc1
    clusters[1]["region"] = "europe-west4"  # gcp-euw1, eu
    clusters[3]["residency"] = "apac"  # gcp-usc1
    config["multicluster:residencies"]["eu"]["default"] = True
    assert problems(config) == [
        "multicluster:clusters[0].residency is required by the partitioned topology",
        "multicluster:clusters[1].region 'europe-west4' is outside residency 'eu' (regions: europe-west1, "
        "eu-central-1)",
        "multicluster:clusters[3].residency 'apac' is not a key of multicluster:residencies (eu, us)",
        "multicluster:residencies must have exactly one residency with default: true (found 2: eu, us)",
        # aws-euc1 was eu's primary: without a residency it no longer counts there.
        "multicluster:residencies.eu active-passive needs exactly one primary in residency 'eu', found 0",
        # ... nor does it read eu's shared AWS secret store: no cluster may read it now.
        "multicluster:secrets.stores[0] no aws cluster may read it (same cloud, same residency)",
    ]


def test_active_passive_is_per_residency_when_partitioned():
    config = partitioned()
    config["multicluster:clusters"][1]["role"] = "primary"  # a second primary in eu
    assert problems(config) == [
        "multicluster:residencies.eu active-passive needs exactly one primary in residency 'eu', found 2 "
        "(aws-euc1, gcp-euw1)"
    ]


def test_residency_settings_are_rejected_in_a_replicated_fleet():
    config = two_aws(residencies={"us": {"regions": ["us-east-1"], "default": True}})
    config["multicluster:clusters"][0]["residency"] = "us"
    assert problems(config) == [
        "multicluster:clusters[0].residency applies to the partitioned topology only",
        "multicluster:residencies applies to the partitioned topology only",
    ]


def test_gcp_and_aws_specific_fields():
    gke = gcp_cluster("g", "us-central1", 2, role="standby")
    del gke["network"]["podCidr"]
    gke["network"]["masterCidr"] = "192.168.2.0/27"
    gke["nodePools"][0]["machineType"] = "m7i.large"
    eks = aws_cluster("a", "us-east-1", 1, project="acme")
    eks["nodePools"][0]["machineType"] = "e2-standard-4"
    eks["network"]["masterCidr"] = "192.168.1.0/28"
    assert problems(fleet(eks, gke)) == [
        "multicluster:clusters[0].network.masterCidr applies to GCP clusters only",
        "multicluster:clusters[0].nodePools[0].machineType 'e2-standard-4' is not an AWS machine type (e.g. m7i.large)",
        "multicluster:clusters[0].project applies to GCP clusters only",
        "multicluster:clusters[1].network.masterCidr 192.168.2.0/27 must be a /28",
    ]
    # Without masterCidr the control plane is reached over Private Service Connect: nothing to set.
    del gke["network"]["masterCidr"]
    assert problems(fleet(aws_cluster("a", "us-east-1", 1), gke)) == [
        "multicluster:clusters[1].network.podCidr is required on GCP (the GKE pod secondary range)",
        "multicluster:clusters[1].nodePools[0].machineType 'm7i.large' is not a GCP machine type (e.g. e2-standard-4)",
    ]


def test_gcp_project_must_be_known():
    config = fleet(aws_cluster("a", "us-east-1", 1), gcp_cluster("g", "us-central1", 2, role="standby"))
    del config["gcp:project"]
    assert problems(config) == ["multicluster:clusters[1].project is required when gcp:project is not set"]


def test_master_cidr_joins_the_overlap_check():
    config = fleet(gcp_cluster("g1", "us-central1", 1), gcp_cluster("g2", "us-east1", 2, role="standby"))
    config["multicluster:clusters"][1]["network"]["masterCidr"] = "192.168.1.0/28"
    assert problems(config) == [
        "multicluster:clusters[1].network.masterCidr 192.168.1.0/28 overlaps clusters[0].network.masterCidr"
    ]


def test_structural_and_fleet_problems_are_reported_together():
    config = two_aws()
    config["multicluster:clusters"][0]["region"] = "us-east-9"
    config["multicluster:clusters"][1]["network"]["cidr"] = "10.10.0.0/16"
    config["multicluster:clusters"][1]["name"] = "aws-use1"
    assert problems(config) == [
        "multicluster:clusters[0].region 'us-east-9' is not an AWS region (did you mean 'us-east-2'?)",
        "multicluster:clusters[1].name 'aws-use1' is already used by clusters[0]",
        "multicluster:clusters[1].network.cidr 10.10.0.0/16 overlaps clusters[0].network.cidr",
    ]


def plan_must_fail(settings: dict[str, str]) -> tuple[str, CaptureMonitor]:
    monitor = CaptureMonitor(FleetMocks(stack="test"))
    with pytest.raises(pulumi.RunError) as err:
        run_program(main, settings, [], "test", monitor=monitor)
    return str(err.value), monitor


def test_a_bad_config_stops_the_program_before_any_resource():
    config = two_aws()
    config["multicluster:clusters"][1]["network"]["cidr"] = "10.10.0.0/16"
    message, monitor = plan_must_fail(settings_of(config))
    assert message.splitlines() == [
        "invalid stack configuration (1 problem(s)):",
        "  - multicluster:clusters[1].network.cidr 10.10.0.0/16 overlaps clusters[0].network.cidr",
    ]
    assert [r.type for r in monitor.requests.values()] == ["pulumi:pulumi:Stack"]


# --- property-based: malformed configs never crash and never register anything ---------------

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.text(max_size=12),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
PATHS = [
    ("clusters", 0, "name"),
    ("clusters", 0, "region"),
    ("clusters", 1, "cloud"),
    ("clusters", 0, "network", "cidr"),
    ("clusters", 1, "network", "serviceCidr"),
    ("clusters", 0, "nodePools", 0, "minSize"),
    ("clusters", 0, "nodePools"),
    ("clusters", 1, "role"),
    ("clusters", 0, "endpoint", "publicAccessCidrs"),
    ("clusters", 0, "kubernetesVersion"),
    ("topology",),
    ("failover",),
    ("environment",),
    ("clusters",),
    ("residencies",),
    ("protect",),
    ("clusters", 0, "labels"),
    ("clusters", 1, "network"),
    (
        "clusters",
        0,
        "bogus",
    ),
]


def mutate(config: dict, path: tuple, value) -> dict:
    config = copy.deepcopy(config)
    target = config
    keys = (f"multicluster:{path[0]}", *path[1:])
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return config


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), JUNK), min_size=1, max_size=3))
def test_malformed_configs_give_a_report_never_a_traceback(mutations):
    config = two_aws()
    for path, value in mutations:
        try:
            config = mutate(config, path, value)
        except (TypeError, KeyError, IndexError):
            continue  # an earlier mutation removed the container; keep what we have
    try:
        validate_stack(*raw(config))  # both steps: the config's own rules, then its plan's
    except ConfigError as exc:
        assert exc.issues
        assert all(issue.path.startswith("multicluster") for issue in exc.issues)
        message, monitor = plan_must_fail(settings_of(config))
        assert message.startswith("invalid stack configuration")
        assert [r.type for r in monitor.requests.values()] == ["pulumi:pulumi:Stack"]


# --- private API servers must be reachable by the clusters that call them ---------------------

GITOPS = {"hub": "aws-use1", "chartVersion": "10.1.1", "repoUrl": "https://github.com/acme/apps", "revision": "main"}
MESH = {"provider": "istio", "version": "1.30.3", "meshId": "m"}
PRIVATE = {"privateAccess": True, "publicAccessCidrs": []}


def test_a_private_api_server_needs_a_link_to_each_caller():
    """Details and the GKE cases are in tests/test_connectivity.py (the link plan)."""
    clusters = [
        aws_cluster("aws-use1", "us-east-1", 1),
        aws_cluster("aws-usw2", "us-west-2", 2, role="standby", endpoint=PRIVATE),
    ]
    assert problems(fleet(*clusters, gitops=GITOPS, deployer={"network": "aws-usw2"})) == [
        "multicluster:clusters[1].endpoint.publicAccessCidrs is empty (private-only API server) but aws-use1, the "
        "gitops hub, has no private link to aws-usw2: link them in multicluster:connectivity, or give aws-usw2 a "
        "public endpoint (publicAccessCidrs; it admits its callers' NAT addresses)"
    ]
    validate_stack(
        *raw(fleet(*clusters, gitops=GITOPS, connectivity={"mode": "full-mesh"}, deployer={"network": "aws-usw2"}))
    )


# --- two steps: the config's own rules, then the rules across blocks over its plan ---------------


UNREACHABLE = (
    "multicluster:clusters[1].endpoint.publicAccessCidrs is empty (private-only API server) but aws-use1, the gitops "
    "hub, has no private link to aws-usw2: link them in multicluster:connectivity, or give aws-usw2 a public "
    "endpoint (publicAccessCidrs; it admits its callers' NAT addresses)"
)


def unreachable_hub() -> dict:
    clusters = [
        aws_cluster("aws-use1", "us-east-1", 1),
        aws_cluster("aws-usw2", "us-west-2", 2, role="standby", endpoint=PRIVATE),
    ]
    return fleet(*clusters, gitops=GITOPS, deployer={"network": "aws-usw2"})


def test_the_rules_across_blocks_judge_the_plan_not_the_config_alone():
    """parse_stack_config holds each block's and the fleet's own rules; whether the gitops hub reaches a private
    API server is a question of the planned links, judged by plan_fleet on the very plan the program builds."""
    config = parse_stack_config(*raw(unreachable_hub()))  # each block is valid on its own
    with pytest.raises(ConfigError) as err:
        plan_fleet(config)
    assert [str(i) for i in err.value.issues] == [UNREACHABLE]
    with pytest.raises(ConfigError) as err:
        validate_stack(*raw(unreachable_hub()))
    assert [str(i) for i in err.value.issues] == [UNREACHABLE]
    linked = validate_stack(*raw({**unreachable_hub(), "multicluster:connectivity": {"mode": "full-mesh"}}))[1]
    assert linked.network.connected == {frozenset({"aws-use1", "aws-usw2"})}


def test_a_config_whose_plan_breaks_a_rule_across_blocks_stops_the_program_before_any_resource():
    message, monitor = plan_must_fail(settings_of(unreachable_hub()))
    assert message.splitlines() == ["invalid stack configuration (1 problem(s)):", f"  - {UNREACHABLE}"]
    assert [r.type for r in monitor.requests.values()] == ["pulumi:pulumi:Stack"]


def test_the_rules_of_the_plan_wait_for_the_rules_it_needs():
    """A config the plan cannot be made from (here: a hub-spoke fleet without a hub) reports those problems only:
    the rules across blocks run on a plan, and there is none yet."""
    config = unreachable_hub()
    config["multicluster:connectivity"] = {"mode": "hub-spoke"}
    assert problems(config) == [
        "multicluster:connectivity.hub is required when mode is hub-spoke (or hubs, one per residency)"
    ]
