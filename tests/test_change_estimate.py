"""Deploy-time estimates of a change (`--diff BASE.json`, issue 21): only what the change creates or updates takes
time, along the fleet's dependency graph; the PR report and the text plan show it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.fleetgen import fleet_config, probe_capabilities
from components.config import namespace_settings, parse_stack_config
from offline_plan.cli import raised_quotas
from offline_plan.diff import diff, load_base
from offline_plan.estimate import Graph, change_urns, critical_path, estimate
from offline_plan.judge import Context, judge_plan
from offline_plan.markdown import render
from offline_plan.report import ReportOptions, to_json
from tests.support import UPSTREAM, aws_cluster, fleet, gcp_cluster, plan_config, settings_of, stack_config


def change_of(base_config: dict[str, Any] | str, config: dict[str, Any], tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    """The plan of `config` and its diff to the plan of `base_config`, through a saved --format json base."""
    base = plan_config(base_config)
    saved = tmp_path / "base.json"
    saved.write_text(json.dumps(to_json(base)))
    plan = plan_config(config, stack=base.stack)
    return plan, diff(load_base(saved), plan)


def test_unchanged_resources_take_no_time_but_still_order_the_change():
    graph = Graph({"a": 10.0, "b": 0.0, "c": 3.0}, {"a": (), "b": ("a",), "c": ("b",)})
    assert critical_path(graph) == (13.0, ["a", "b", "c"])
    # The same graph with only c changed: a and b are "same" steps.
    changed = Graph({"a": 0.0, "b": 0.0, "c": 3.0}, graph.predecessors)
    assert critical_path(changed)[0] == 3.0


def test_a_dns_only_change_estimates_in_minutes_not_the_fleet_s_half_hour(tmp_path):
    config = stack_config("staging")
    config["multicluster:dns"]["records"].append({"name": "status"})
    plan, changes = change_of("staging", config, tmp_path)
    assert {e["type"] for e in changes["create"]} <= {
        "aws:route53/record:Record",
        "aws:route53/healthCheck:HealthCheck",
    }
    change = estimate(plan, changed=change_urns(changes))
    scratch = estimate(plan)
    assert 0 < change["unboundedMinutes"] <= 5 < 25 <= scratch["unboundedMinutes"]
    options = ReportOptions(diff=changes)
    assert f"this change: {change['unboundedMinutes']} min unbounded" in render(plan, options)
    assert to_json(plan, options)["changeEstimate"]["unboundedMinutes"] == change["unboundedMinutes"]


def test_adding_a_cluster_to_a_hand_made_fleet_costs_about_that_cluster_s_critical_path(tmp_path):
    two = fleet(aws_cluster("aws-use1", "us-east-1", 1), gcp_cluster("gcp-usc1", "us-central1", 2, role="standby"))
    three = fleet(
        aws_cluster("aws-use1", "us-east-1", 1),
        gcp_cluster("gcp-usc1", "us-central1", 2, role="standby"),
        aws_cluster("aws-usw2", "us-west-2", 3, role="standby"),
    )
    plan, changes = change_of(two, three, tmp_path)
    change = estimate(plan, changed=change_urns(changes))["unboundedMinutes"]
    alone = estimate(plan_config(fleet(aws_cluster("aws-usw2", "us-west-2", 3))))["unboundedMinutes"]
    assert abs(change - alone) <= 0.1 * alone


@pytest.mark.parametrize("size", [20])
def test_adding_one_cluster_to_a_generated_fleet_costs_one_cluster_s_critical_path(size, tmp_path):
    capabilities = probe_capabilities()
    plan, changes = change_of(fleet_config(size, capabilities), fleet_config(size + 1, capabilities), tmp_path)
    assert changes["summary"]["delete"] == 0
    change = estimate(plan, changed=change_urns(changes))
    one = estimate(plan_config(fleet_config(1, capabilities)))
    assert abs(change["unboundedMinutes"] - one["unboundedMinutes"]) <= 0.1 * one["unboundedMinutes"]
    # The work it counts is the new cluster's and what its peers update, not the fleet's.
    assert change["serialMinutes"] < estimate(plan)["serialMinutes"] / 5
    # And the generated fleet is one the clouds would take: the judge passes it, with the quotas it states.
    stated = raised_quotas(parse_stack_config(*namespace_settings(settings_of(fleet_config(size + 1, capabilities)))))
    upstream = UPSTREAM if UPSTREAM.is_dir() else None
    assert [str(f) for f in judge_plan(plan, Context(upstream=upstream, raised_quotas=stated))] == []
