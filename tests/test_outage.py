"""`--region-down`: what losing regions would do, computed here independently from the stack files' own numbers
(health-check interval x failure threshold, the answer's TTL, 60 s for a Route 53 alias to an ELB)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components.config import StackConfig, namespace_settings, parse_stack_config
from offline_plan.cli import run
from offline_plan.outage import require_survival, simulate
from tests.support import aws_cluster, fleet, plan_config, settings_of, stack_config

# Both shipped fleets: healthCheck {intervalSeconds: 10, failureThreshold: 3}, ttl 30, Route 53, AWS members.
DETECTION = 10 * 3
ZONE_TTL = 30  # every answer is an A record with the zone's TTL (AWS entries answer their Elastic IPs)


def config_of(name: str) -> StackConfig:
    raw, project = namespace_settings(settings_of(stack_config(name)))
    return parse_stack_config(raw, project, name.rsplit("/", 1)[-1])


@pytest.fixture(scope="module")
def prod():
    return config_of("prod"), plan_config("prod")


@pytest.fixture(scope="module")
def partitioned():
    return config_of("examples/partitioned"), plan_config("examples/partitioned")


def test_prod_losing_us_east_1(prod):
    config, plan = prod
    result = simulate(config, plan, ["us-east-1"])
    assert result["clustersLost"] == ["aws-use1"]
    for record in result["records"]:  # latency: the survivors keep answering, the lost one's users move
        assert record["answeredBy"] == ["aws-usw2", "gcp-euw1"]
        assert record["failoverSeconds"] == DETECTION + ZONE_TTL == 60
    assert result["backups"]["readableBySurvivors"] == {"aws-usw2": ["gcp-euw1"], "gcp-euw1": ["aws-usw2"]}
    assert result["backups"]["unreachableUntilRegionReturns"] == ["aws-use1"]
    # The hub is aws-use1; the standby in us-west-2 deploys once promoted (tests/test_gitops_standby.py).
    assert (result["gitops"]["canDeploy"], result["gitops"]["hub"]) == (True, "aws-usw2")
    assert result["survives"] is True
    assert result["rebuild"]["minutes"] > 13  # at least an EKS control plane (docs/performance.md)
    assert result["rebuild"]["changes"] == [
        "aws-use1: set multicluster:clusters[0].region to us-east-2 (and a network range that does not overlap "
        "the fleet's)"
    ]


def test_prod_losing_a_region_without_a_cluster_changes_nothing(prod):
    config, plan = prod
    result = simulate(config, plan, ["ap-southeast-1"])
    assert result["clustersLost"] == []
    assert all(r["failoverSeconds"] == 0 and len(r["answeredBy"]) == 3 for r in result["records"])
    assert result["gitops"]["canDeploy"] is True
    assert result["rebuild"] == {"minutes": 0.0, "changes": []}


def test_partitioned_losing_a_primary_fails_over_inside_its_residency(partitioned):
    config, plan = partitioned
    result = simulate(config, plan, ["eu-central-1"])
    (record,) = result["records"]
    assert record["residencies"]["eu"] == {"answeredBy": ["gcp-euw1"], "servedInResidency": True}
    assert record["residencies"]["us"] == {"answeredBy": ["aws-use1"], "servedInResidency": True}
    assert record["failoverSeconds"] == DETECTION + ZONE_TTL == 60  # the eu set's AWS member answers its EIPs
    assert result["residenciesUnserved"] == []
    # Backups never cross residencies: the eu survivor reads only eu backups, and aws-euc1's are out of reach.
    assert result["backups"]["readableBySurvivors"]["gcp-euw1"] == []
    assert result["backups"]["readableBySurvivors"]["aws-use1"] == ["gcp-usc1"]


def test_partitioned_losing_a_standby_changes_no_answer(partitioned):
    config, plan = partitioned
    (record,) = simulate(config, plan, ["europe-west1"])["records"]
    assert record["failoverSeconds"] == 0
    assert record["residencies"]["eu"]["answeredBy"] == ["aws-euc1"]


def test_partitioned_losing_both_eu_regions_leaves_the_residency_unserved(partitioned):
    config, plan = partitioned
    result = simulate(config, plan, ["eu-central-1", "europe-west1"])
    (record,) = result["records"]
    assert result["residenciesUnserved"] == ["eu"]
    assert record["residencies"]["eu"]["servedInResidency"] is False
    assert record["residencies"]["eu"]["usersGoTo"] == "the default geolocation record (residency 'us')"
    assert result["survives"] is False
    # Rebuilt inside the residency: eu regions or continent EU only.
    assert all("eu-" in change or "europe-" in change for change in result["rebuild"]["changes"])


def test_both_shipped_fleets_survive_the_loss_of_any_single_region(prod, partitioned):
    assert require_survival(*prod) == []
    assert require_survival(*partitioned) == []


def test_require_survive_exits_5_for_a_fleet_in_one_region(tmp_path: Path, capsys):
    dns = stack_config("prod")["multicluster:dns"]
    # Two EKS clusters with DNS hold 8 Elastic IPs in us-east-1 (1 NAT + 3 for the entry each).
    config = fleet(
        aws_cluster("a", "us-east-1", 1),
        aws_cluster("b", "us-east-1", 2, role="standby"),
        dns=dns,
        quotas={"aws": {"elasticIps": {"us-east-1": 8}}},
    )
    path = tmp_path / "Pulumi.one.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    code = run(["--stack", "one", "--config", str(path), "--require-survive", "region", "--format", "json"])
    captured = capsys.readouterr()
    assert code == 5
    assert "losing us-east-1 leaves webapp.example.com unanswered" in captured.err
    assert json.loads(captured.out)["survival"]["problems"][0].startswith("losing us-east-1 leaves")


def test_region_down_reports_in_text_and_refuses_an_unknown_region(capsys):
    assert run(["--stack", "prod", "--region-down", "us-east-1"]) == 0
    out = capsys.readouterr().out
    assert "if us-east-1 went down: clusters lost: aws-use1" in out
    assert "gitops: can deploy after promoting the standby: the active hub aws-use1 is lost" in out
    assert run(["--stack", "prod", "--region-down", "moon-1"]) == 1
    assert "--region-down moon-1: not an AWS or GCP region" in capsys.readouterr().err
