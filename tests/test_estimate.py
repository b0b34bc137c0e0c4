"""Deploy-time estimate: critical path and list scheduling on hand-made graphs, and on planned fleets."""

from __future__ import annotations

import importlib.util

import pytest

from offline_plan import Plan, PlannedResource
from offline_plan.estimate import (
    CREATE_MINUTES,
    DEFAULT_PARALLELISM,
    Graph,
    create_minutes,
    critical_path,
    estimate,
    recommended_parallelism,
    schedule,
)
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config

HAS_GKE = importlib.util.find_spec("components.gke") is not None
from offline_plan.owners import CLUSTER_TYPES  # noqa: E402  (the program's own type tokens)


def graph(minutes: dict[str, float], edges: dict[str, tuple[str, ...]]) -> Graph:
    return Graph(minutes, {node: edges.get(node, ()) for node in minutes})


# --- hand-made graphs ---------------------------------------------------------------------------


def test_critical_path_of_a_diamond_takes_the_longer_branch():
    g = graph({"a": 1, "b": 5, "c": 2, "d": 1}, {"b": ("a",), "c": ("a",), "d": ("b", "c")})
    assert critical_path(g) == (7, ["a", "b", "d"])


def test_critical_path_of_independent_chains_is_the_longest_chain():
    g = graph({"x1": 3, "x2": 3, "y1": 10, "z": 0.5}, {"x2": ("x1",)})
    assert critical_path(g) == (10, ["y1"])


def test_critical_path_ties_are_broken_by_urn():
    g = graph({"b": 2, "a": 2, "end": 1}, {"end": ("a", "b")})
    assert critical_path(g) == (3, ["a", "end"])


def test_zero_time_components_pass_waits_through():
    # component `c` waits for `a`; its child `d` waits for `c`: d cannot start before a is done.
    g = graph({"a": 4, "c": 0, "d": 1, "e": 2}, {"c": ("a",), "d": ("c",)})
    assert critical_path(g) == (5, ["a", "c", "d"])
    assert schedule(g, 1) == 7


def test_schedule_unbounded_equals_critical_path():
    g = graph({"a": 1, "b": 5, "c": 2, "d": 1, "e": 3}, {"b": ("a",), "c": ("a",), "d": ("b", "c")})
    assert schedule(g, 100) == critical_path(g)[0] == 7


def test_schedule_serial_is_the_sum_of_all_steps():
    g = graph({"a": 1, "b": 5, "c": 2, "d": 1, "e": 3}, {"b": ("a",), "c": ("a",), "d": ("b", "c")})
    assert schedule(g, 1) == 12


def test_schedule_starts_steps_in_ready_order_not_by_priority():
    # Two slots. At t=0, `long` and `s1` are ready (s1, s2, s3 are ready in URN order); the engine
    # does not know `long` is critical, but it is ready at t=0 like the others: ready order is the
    # URN among equally-ready steps, so s1 and long start first.
    g = graph({"long": 10, "s1": 1, "s2": 1, "s3": 1}, {})
    assert schedule(g, 2) == 10
    # With one slot everything runs back to back.
    assert schedule(g, 1) == 13


def test_schedule_two_slots_on_a_fork():
    # a(2) then b(3), c(3), d(3) in parallel on 2 slots: 2 + 3 + 3.
    g = graph({"a": 2, "b": 3, "c": 3, "d": 3}, {"b": ("a",), "c": ("a",), "d": ("a",)})
    assert schedule(g, 2) == 8
    assert schedule(g, 3) == 5


def test_cycles_are_reported():
    g = graph({"a": 1, "b": 1}, {"a": ("b",), "b": ("a",)})
    with pytest.raises(ValueError, match="cycle"):
        critical_path(g)
    with pytest.raises(ValueError, match="cycle"):
        schedule(g, 4)


def test_parallelism_must_be_positive():
    with pytest.raises(ValueError, match="parallelism must be >= 1"):
        schedule(graph({"a": 1}, {}), 0)


def test_recommended_parallelism_is_the_smallest_candidate_within_tolerance():
    # 40 independent 1-minute steps: unbounded 1 min; 32 slots take 2 min, 48 take 1 min.
    g = graph({f"s{i:02d}": 1 for i in range(40)}, {})
    assert recommended_parallelism(g, 1.0) == 48


def resource(urn: str, type_: str, *, custom: bool = True, parent=None, provider=None, deps=(), inputs=None):
    return PlannedResource(
        urn=urn,
        type=type_,
        name=urn,
        custom=custom,
        parent=parent,
        provider=f"{provider}::id" if provider else None,
        dependencies=list(deps),
        inputs=inputs or {},
        outputs={},
        secret_inputs=[],
        protect=False,
        retain_on_delete=False,
        delete_before_replace=False,
    )


def test_graph_of_plan_waits_for_dependencies_parent_and_provider():
    plan = Plan(
        "p",
        "s",
        [
            resource("comp", "multicluster:eks:EksCluster", custom=False, parent="stack-not-in-plan"),
            resource("prov", "pulumi:providers:aws", parent="comp"),
            resource("vpc", "aws:ec2/vpc:Vpc", parent="comp", provider="prov"),
            resource("eks", "aws:eks/cluster:Cluster", parent="comp", provider="prov", deps=["vpc", "ghost"]),
        ],
        {},
        {},
        [],
    )
    g = Graph.of_plan(plan)
    assert g.predecessors["eks"] == ("comp", "prov", "vpc")
    assert g.predecessors["comp"] == ()
    assert g.minutes["comp"] == g.minutes["prov"] == 0
    assert g.minutes["eks"] == CREATE_MINUTES["aws:eks/cluster:Cluster"]
    result = estimate(plan, parallelism=1)
    assert result["unboundedMinutes"] == 13.2
    # vpc waits for comp and prov, both done at 0: the tie goes to comp, a component (not listed).
    assert [step["name"] for step in result["criticalPath"]] == ["vpc", "eks"]
    assert result["criticalPath"][-1]["startMinute"] == 0.2


def test_load_balancer_services_wait_for_an_address():
    service = resource("svc", "kubernetes:core/v1:Service", inputs={"spec": {"type": "LoadBalancer"}})
    cluster_ip = resource("svc2", "kubernetes:core/v1:Service", inputs={"spec": {"type": "ClusterIP"}})
    assert create_minutes(service) == 2.0
    assert create_minutes(cluster_ip) == 0.05


# --- planned fleets ------------------------------------------------------------------------------


REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1")


@pytest.fixture(scope="module")
def one_and_five():
    clusters = [aws_cluster(f"c{i}", region, i) for i, region in enumerate(REGIONS, start=1)]
    return plan_config(fleet(clusters[0])), plan_config(fleet(*clusters, failover="active-active"))


def test_adding_clusters_does_not_lengthen_the_critical_path(one_and_five):
    one, five = one_and_five
    e1, e5 = estimate(one), estimate(five)
    assert e5["unboundedMinutes"] == e1["unboundedMinutes"]
    assert e5["unboundedMinutes"] >= CREATE_MINUTES["aws:eks/cluster:Cluster"]
    assert e5["serialMinutes"] == pytest.approx(5 * e1["serialMinutes"], rel=0.01)


def test_the_critical_path_runs_through_the_control_plane_and_nodes(one_and_five):
    path = estimate(one_and_five[1])["criticalPath"]
    types = [step["type"] for step in path]
    assert "aws:eks/cluster:Cluster" in types
    assert types.index("aws:eks/cluster:Cluster") < types.index("aws:eks/nodeGroup:NodeGroup")
    assert all(step["urn"].startswith("urn:pulumi:test::multicluster::") for step in path)
    assert sum(step["minutes"] for step in path) == pytest.approx(estimate(one_and_five[1])["unboundedMinutes"], 0.01)


def test_estimates_are_in_the_plan_json_shape(one_and_five):
    result = estimate(one_and_five[1], 4)
    assert set(result) >= {"criticalPath", "unboundedMinutes", "parallelMinutes", "parallelism"}
    assert result["parallelism"] == 4
    assert result["parallelMinutes"] >= result["unboundedMinutes"]
    assert estimate(one_and_five[1])["parallelism"] == DEFAULT_PARALLELISM


def clusters_of(plan: Plan) -> dict[str, str]:
    """URN -> cluster component name, for every resource inside a cluster component."""
    parents = {r.urn: r.parent for r in plan.resources}
    roots = {r.urn: r.name for r in plan.resources if r.type in CLUSTER_TYPES}
    owner = {}
    for r in plan.resources:
        urn = r.urn
        while urn and urn not in roots:
            urn = parents.get(urn)
        if urn:
            owner[r.urn] = roots[urn]
    return owner


def assert_clusters_independent(plan: Plan) -> None:
    """No resource of a cluster waits, even transitively, for a resource of another cluster."""
    g = Graph.of_plan(plan)
    owner = clusters_of(plan)
    for urn, name in owner.items():
        seen, stack = set(), list(g.predecessors[urn])
        while stack:
            pred = stack.pop()
            if pred in seen:
                continue
            seen.add(pred)
            assert owner.get(pred, name) == name, f"{urn} waits for {pred} of cluster {owner[pred]}"
            stack.extend(g.predecessors[pred])


def test_no_cluster_waits_for_another(one_and_five):
    assert_clusters_independent(one_and_five[1])


@pytest.mark.skipif(not HAS_GKE, reason="components/gke.py not present yet")
def test_mixed_fleet_critical_path_does_not_grow_with_clusters():
    small = fleet(aws_cluster("a1", "us-east-1", 1), gcp_cluster("g1", "us-central1", 2), failover="active-active")
    large = fleet(
        aws_cluster("a1", "us-east-1", 1),
        gcp_cluster("g1", "us-central1", 2),
        aws_cluster("a2", "eu-west-1", 3),
        gcp_cluster("g2", "europe-west1", 4),
        aws_cluster("a3", "ap-southeast-1", 5),
        gcp_cluster("g3", "asia-east1", 6),
        failover="active-active",
    )
    small_plan, large_plan = plan_config(small), plan_config(large)
    assert estimate(large_plan)["unboundedMinutes"] == estimate(small_plan)["unboundedMinutes"]
    assert_clusters_independent(large_plan)


def test_the_creation_times_in_docs_are_the_ones_the_estimate_uses():
    """docs/performance.md "Creation times" states the minutes of the long poles; the estimate must use the same
    (a row with one type and one number; ranges and wildcards summarise several entries)."""
    import re
    from pathlib import Path

    from offline_plan.estimate import CREATE_MINUTES

    text = (Path(__file__).resolve().parents[1] / "docs" / "performance.md").read_text()
    table = text.split("### Creation times", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9]+:[^`*]+:[A-Za-z0-9]+)`[^|]* \| ([0-9.]+) \|", table, re.MULTILINE)
    assert len(rows) >= 10
    stated = {resource_type: float(minutes) for resource_type, minutes in rows}
    assert {t: CREATE_MINUTES.get(t) for t in stated} == stated
