"""Adding a capability: its block module, its builder, one field of StackConfig and one line of CAPABILITIES.

A capability no stack has ("trace": a ConfigMap on every cluster) is added here with exactly those pieces, and
nothing else of the program (fleet plan, composition, outputs) learns of it: the field's rules validate it, the
plan hands its settings to its builder, the composition builds it through the cluster port and exports its outputs.
The monkeypatches stand for the two lines a real capability writes into config/stack.py and components/fleet.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pydantic import ValidationError

from components import fleet as fleet_module
from components import fleetplan as fleetplan_module
from components.cluster import ClusterPort
from components.config import StackConfig, namespace_settings, read_stack_file
from components.config import stack as stack_module
from components.config.base import Issue, Model, format_path
from components.config.fleetview import BlockRules, FleetView
from components.fleet import Capability, Fleet, build_fleet
from components.fleetplan import FleetPlan, plan_fleet
from offline_plan.capture import run_program
from offline_plan.judge import judge_plan
from tests.support import SHIPPED

# --- what the capability's block module holds (components/config/trace.py) -------------------------------


class TraceConfig(Model):
    """`multicluster:trace`."""

    sampling: int = 1


def check(fleet: FleetView) -> list[Issue]:
    block = fleet.block(TraceConfig)
    assert block is not None  # run for the blocks present
    if block.sampling > len(fleet.clusters) * 10:
        return [Issue(format_path(("trace", "sampling")), f"is over {len(fleet.clusters) * 10} for this fleet")]
    return []


TRACE_RULES = BlockRules(check)


# --- what its component module holds (components/trace.py) ------------------------------------------------


class Trace(pulumi.ComponentResource):
    TYPE = "multicluster:trace:Trace"

    def __init__(self, plan: FleetPlan, clusters: Mapping[str, ClusterPort]):
        super().__init__(self.TYPE, "trace", None, None)
        block = plan.block(TraceConfig)
        assert block is not None
        self.maps = {
            name: k8s.core.v1.ConfigMap(
                f"{name}-trace",
                metadata={"name": "trace", "namespace": "kube-system"},
                data={"sampling": str(block.sampling), "cluster": name},
                opts=pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider, depends_on=cluster.ready),
            )
            for name, cluster in clusters.items()
        }
        self.register_outputs({})

    def outputs(self) -> dict[str, Any]:
        return {"clusters": sorted(self.maps)}


def build_trace(plan: FleetPlan, clusters: Mapping[str, ClusterPort]) -> Trace | None:
    return Trace(plan, clusters) if plan.block(TraceConfig) is not None else None


# --- the two registry lines ----------------------------------------------------------------------------------


class WithTrace(StackConfig):
    trace: Annotated[TraceConfig | None, TRACE_RULES] = None  # the field line of config/stack.py


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = stack_module.declared_blocks(WithTrace)
    monkeypatch.setattr(stack_module, "BLOCKS", blocks)
    monkeypatch.setattr(stack_module, "BLOCK_KEYS", {b.model: b.key for b in blocks})
    monkeypatch.setattr(fleetplan_module, "BLOCKS", blocks)  # the plan's import of the same tuple
    line = Capability("trace", lambda p: build_trace(p.plan, p.clusters))  # the line of CAPABILITIES
    monkeypatch.setattr(fleet_module, "CAPABILITIES", (*fleet_module.CAPABILITIES, line))


def staging_with(trace: dict[str, Any]) -> tuple[dict[str, str], list[str], WithTrace]:
    settings, secret_keys = read_stack_file(SHIPPED["staging"])
    raw, project = namespace_settings(settings)
    config = WithTrace.model_validate({**raw, "trace": trace})
    config.set_context(project, "staging")
    return settings, secret_keys, config


@pytest.mark.usefixtures("registered")
def test_the_field_validates_the_block_with_its_rules():
    _, _, config = staging_with({"sampling": 1000})
    assert [str(i) for i in stack_module.fleet_issues(config)] == [
        f"multicluster:trace.sampling is over {len(config.clusters) * 10} for this fleet"
    ]
    with pytest.raises(ValidationError) as err:
        staging_with({"sampling": "many"})
    assert [e["loc"] for e in err.value.errors()] == [("trace", "sampling")]


@pytest.mark.usefixtures("registered")
def test_a_stack_without_the_block_runs_none_of_its_rules_and_builds_none_of_it():
    settings, secret_keys, config = staging_with({"sampling": 5})
    config = config.model_copy(update={"trace": None})
    assert stack_module.fleet_issues(config) == []  # its check (which expects its block) is not run
    built: list[Fleet] = []
    planned = run_program(lambda: built.append(build_fleet(config)), settings, secret_keys, "staging")
    assert "trace" not in built[0].outputs()
    assert planned.of_type(Trace.TYPE) == []


@pytest.mark.usefixtures("registered")
def test_the_composition_builds_it_through_the_port_and_exports_it():
    settings, secret_keys, config = staging_with({"sampling": 5})
    assert stack_module.fleet_issues(config) == []
    plan = plan_fleet(config)
    assert plan.block(TraceConfig) == TraceConfig(sampling=5)
    built: list[Fleet] = []
    planned = run_program(lambda: built.append(build_fleet(config, plan)), settings, secret_keys, "staging")
    (fleet,) = built
    assert fleet.outputs()["trace"] == {"clusters": sorted(plan.clusters)}
    component = planned.component("trace")
    maps = planned.children(component, "kubernetes:core/v1:ConfigMap")
    assert sorted(m.name for m in maps) == sorted(f"{name}-trace" for name in plan.clusters)
    for name in plan.clusters:
        configmap = planned.named(f"{name}-trace")
        assert configmap.inputs["data"] == {"sampling": "5", "cluster": name}
        assert configmap.provider_urn == planned.named(f"{name}-k8s").urn  # that cluster's own provider
    assert [str(f) for f in judge_plan(planned)] == []
