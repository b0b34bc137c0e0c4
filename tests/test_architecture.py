"""The structure the program keeps: a pure fleet plan, a typed capability registry, the import layers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest

from components.config import StackConfig, namespace_settings, parse_stack_config
from components.config.access import AccessConfig
from components.config.backup import BackupConfig
from components.config.base import Issue, Model
from components.config.cost import CostConfig
from components.config.dns import DnsConfig
from components.config.fleetview import BlockRules, ConnectivityConfig, FleetView
from components.config.gitops import GitopsConfig
from components.config.mesh import MeshConfig
from components.config.needs import FleetPort, Needs
from components.config.observability import PUSHED_PORTS, QUERIED_PORTS, ObservabilityConfig
from components.config.policy import PolicyConfig
from components.config.secrets import SecretsConfig
from components.config.stack import BLOCKS, declared_blocks
from components.fleet import CAPABILITIES, FleetParts
from components.fleetplan import FleetPlan, plan_fleet
from components.service_mesh import MeshHandle
from tests.support import settings_of, stack_config

ROOT = Path(__file__).resolve().parents[1]


def config_of(name: str) -> StackConfig:
    raw, project = namespace_settings(settings_of(stack_config(name)))
    return parse_stack_config(raw, project, name.rsplit("/", 1)[-1])


@pytest.fixture(scope="module")
def prod() -> FleetPlan:
    # No Pulumi runtime, no mocks: the plan is pure.
    return plan_fleet(config_of("prod"))


def test_the_plan_decides_who_restores_whom_by_name(prod: FleetPlan):
    assert prod.failover_groups == {"fleet": ("aws-use1", "aws-usw2", "gcp-euw1")}
    assert prod.restore_peers == {
        "aws-use1": ("aws-usw2", "gcp-euw1"),
        "aws-usw2": ("aws-use1", "gcp-euw1"),
        "gcp-euw1": ("aws-use1", "aws-usw2"),
    }


def test_the_plan_declares_the_mesh_ports_on_every_linked_pair_and_nothing_else(prod: FleetPlan):
    # Istio multi-network: peers reach each other's east-west gateway on 15443 only (components/config/connectivity).
    pairs = {pair: {p.port for p in ports} for pair, ports in prod.network.ports.items()}
    assert set(pairs) == {(a, b) for a in prod.clusters for b in prod.clusters if a != b}
    assert all(15443 in ports for ports in pairs.values())
    telemetry = {p.port for p in (*QUERIED_PORTS, *PUSHED_PORTS)}  # declared by observability (its own tests)
    assert all(ports <= {15443, 443} | telemetry for ports in pairs.values())


def test_the_plan_names_every_api_caller_and_why(prod: FleetPlan):
    callers = prod.cluster("gcp-euw1").api_callers
    assert callers["aws-use1"] in {"the gitops hub", "a mesh peer"}
    assert set(callers) == {"aws-use1", "aws-usw2"}
    assert prod.cluster("aws-use1").token_callers  # mesh peers read it with Kubernetes tokens


def test_the_plan_asks_aws_to_trust_a_gke_issuer_only_where_a_gke_pod_assumes_an_aws_role(prod: FleetPlan):
    # Velero on gcp-euw1 reads its two S3 peers; the hub is EKS, so Argo CD needs no trust of a GKE issuer.
    assert prod.aws_trusts == ("gcp-euw1",)
    config = config_of("prod")
    assert config.backup is not None
    without_backup = config.model_copy(update={"backup": None})
    assert plan_fleet(without_backup).aws_trusts == ()


def test_mesh_groups_follow_the_residencies_of_a_partitioned_fleet():
    plan = plan_fleet(config_of("examples/partitioned"))
    groups = {g.key: g.clusters for g in plan.mesh_groups}
    residencies = {name: c.spec.residency for name, c in plan.clusters.items()}
    assert groups  # the example carries a mesh
    for key, members in groups.items():
        assert {residencies[m] for m in members} == {key}


def test_the_registry_builds_in_dependency_order_and_each_key_is_a_config_block():
    keys = [c.key for c in CAPABILITIES]
    assert keys.index("mesh") < keys.index("dns")  # DNS routes users to the mesh's ingress gateways
    assert len(set(keys)) == len(keys)
    # A block without a builder, or a builder without a block, fails here rather than doing nothing.
    assert set(keys) == {block.key for block in BLOCKS}


class TraceConfig(Model):
    """A block no stack has: what a new capability's config module would hold."""

    sampling: int = 1


def trace_check(fleet: FleetView) -> list[Issue]:
    return [Issue("trace.sampling", f"judged over {len(fleet.clusters)} clusters")]


def test_a_block_is_one_field_of_stack_config_that_names_its_rules():
    """Adding a block: its module (model, check, needs, RULES) and its field; BLOCKS is read from the fields."""

    class Extended(StackConfig):
        trace: Annotated[TraceConfig | None, BlockRules(trace_check)] = None

    blocks = declared_blocks(Extended)
    assert [b.key for b in blocks] == [*(b.key for b in BLOCKS), "trace"]
    assert (blocks[-1].model, blocks[-1].check, blocks[-1].needs) == (TraceConfig, trace_check, None)
    assert [b.key for b in BLOCKS] == list(BLOCK_MODELS)  # StackConfig's field order
    assert all(block.model is BLOCK_MODELS[block.key] for block in BLOCKS)


BLOCK_MODELS = {
    "connectivity": ConnectivityConfig,
    "mesh": MeshConfig,
    "gitops": GitopsConfig,
    "backup": BackupConfig,
    "dns": DnsConfig,
    "observability": ObservabilityConfig,
    "access": AccessConfig,
    "secrets": SecretsConfig,
    "policy": PolicyConfig,
    "cost": CostConfig,
}


def test_the_plan_and_the_config_hand_each_block_by_its_model_and_refuse_an_unknown_one(prod: FleetPlan):
    config = config_of("prod")
    assert prod.block(MeshConfig) == config.mesh and config.block(MeshConfig) is config.mesh
    assert prod.block(ConnectivityConfig) == config.connectivity
    assert prod.block(SecretsConfig) == config.secrets is not None
    without = config.model_copy(update={"secrets": None})
    assert without.block(SecretsConfig) is None and plan_fleet(without).block(SecretsConfig) is None
    with pytest.raises(KeyError, match="TraceConfig"):
        prod.block(TraceConfig)
    with pytest.raises(KeyError, match="TraceConfig"):
        config.block(TraceConfig)


def test_a_capability_handle_of_the_wrong_type_is_refused_not_ignored(prod: FleetPlan):
    parts = FleetParts(prod, {})
    parts.handles["mesh"] = None
    assert parts.get("mesh", MeshHandle) is None
    parts.handles["mesh"] = parts.aws_trusts  # not a mesh handle
    with pytest.raises(TypeError, match="capability mesh built a AwsTrusts, not a MeshHandle"):
        parts.get("mesh", MeshHandle)


def test_the_import_layers_hold():
    """.importlinter: layers of the program and of the offline plan, pure config, standalone policy pack."""
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


class TelemetryConfig(Model):
    """A block no stack has, whose clusters talk to each other."""


TELEMETRY = FleetPort("telemetry", 4317)


def telemetry_needs(c: FleetView) -> Needs:
    return Needs(ports={("gcp-euw1", "aws-use1"): (TELEMETRY,)}, api_callers={"gcp-euw1": {"aws-use1": "x"}})


class WithTelemetry(StackConfig):
    telemetry: Annotated[TelemetryConfig | None, BlockRules(lambda c: [], telemetry_needs)] = None


def test_connectivity_opens_what_a_block_declares_without_knowing_the_block(monkeypatch: pytest.MonkeyPatch):
    """A new capability with cross-cluster traffic declares it (config/needs.py); the links open it. Its needs
    count only when the stack has the block."""
    from components import fleetplan as fleetplan_module
    from components.config import stack as stack_module
    from components.config.connectivity import ingress_ports

    blocks = declared_blocks(WithTelemetry)
    monkeypatch.setattr(stack_module, "BLOCKS", blocks)
    monkeypatch.setattr(stack_module, "BLOCK_KEYS", {b.model: b.key for b in blocks})
    monkeypatch.setattr(fleetplan_module, "BLOCKS", blocks)
    raw, project = namespace_settings(settings_of(stack_config("prod")))
    without = WithTelemetry.model_validate(raw)
    without.set_context(project, "prod")
    assert TELEMETRY not in plan_fleet(without).network.ports[("gcp-euw1", "aws-use1")]
    config = WithTelemetry.model_validate({**raw, "telemetry": {}})
    config.set_context(project, "prod")
    plan = plan_fleet(config)
    assert TELEMETRY in plan.network.ports[("gcp-euw1", "aws-use1")]
    assert TELEMETRY not in plan.network.ports[("aws-use1", "gcp-euw1")]
    assert TELEMETRY in ingress_ports(config, config.cluster("gcp-euw1"), config.cluster("aws-use1"))
    # A later declaration renames a caller an earlier one named; the mesh's own ports stay.
    assert plan.cluster("gcp-euw1").api_callers["aws-use1"] == "x"
    assert 15443 in {p.port for p in plan.network.ports[("gcp-euw1", "aws-use1")]}


def test_a_block_is_one_model_and_no_two_blocks_share_one():
    class Union(StackConfig):
        odd: Annotated[TraceConfig | TelemetryConfig | None, BlockRules(trace_check)] = None

    class Twice(StackConfig):
        again: Annotated[MeshConfig | None, BlockRules(trace_check)] = None

    with pytest.raises(TypeError, match=r"block odd: its field must be one model, or that model \| None \(not "):
        declared_blocks(Union)
    with pytest.raises(TypeError, match="block again: MeshConfig is already the model of another block"):
        declared_blocks(Twice)


def import_cycles(packages: tuple[str, ...], *, annotations: bool = False) -> list[list[str]]:
    """Strongly connected groups of modules that import each other at run time (with `annotations`, also through
    imports under `if TYPE_CHECKING:`)."""
    import grimp

    graph = grimp.build_graph(*packages, exclude_type_checking_imports=not annotations, cache_dir=None)
    modules = [m for m in graph.modules if m.split(".")[0] in packages]
    edges = {m: [x for x in graph.find_modules_directly_imported_by(m) if x in modules] for m in modules}
    reach: dict[str, set[str]] = {}
    for start in modules:  # small graphs: a depth-first search per module is enough
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(edges[node])
        reach[start] = seen
    groups = {frozenset(b for b in modules if b in reach[a] and a in reach[b]) | {a} for a in modules}
    return sorted(sorted(g) for g in groups if len(g) > 1)


def test_no_module_of_the_program_or_its_tools_imports_itself_back():
    assert import_cycles(("components", "offline_plan", "policy")) == []


def test_no_module_imports_itself_back_even_for_annotations():
    """The config blocks are typed against FleetView (config/fleetview.py), below them, not the StackConfig that
    holds them, and read another block only by its model; the autoscaler against its own AutoscaledCluster."""
    assert import_cycles(("components", "offline_plan", "policy"), annotations=True) == []


def test_every_module_has_its_place_in_the_layers():
    """A module missing from .importlinter would be unconstrained while lint still passes."""
    import configparser

    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter")

    def layered(contract: str) -> set[str]:
        text = parser[f"importlinter:contract:{contract}"]["layers"]
        return {name.strip() for line in text.splitlines() for name in line.split("|") if name.strip()}

    def modules(package: str) -> set[str]:
        root = ROOT / package
        found = {p.stem for p in root.glob("*.py") if p.stem != "__init__"}
        return found | {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}

    # components/plan is the shim that keeps `python -m components.plan` working: it runs offline_plan.
    assert modules("components") - {"plan"} == layered("program-layers")
    assert modules("offline_plan") == layered("plan-layers")


def test_every_cloud_of_the_config_has_its_cluster_and_a_builder_in_every_per_cloud_table():
    """Adding a cloud is a checklist this test holds: its config variant (clusters.Cloud), its cluster
    implementation, its traits, and one builder in each capability's per-cloud table (docs/architecture.md)."""
    from typing import get_args

    from components import access, backup, gitops, observability, secrets
    from components.clouds import CLOUDS
    from components.config.clusters import Cloud
    from components.fleet import CLUSTER_IMPLEMENTATIONS

    clouds = set(get_args(Cloud))
    tables = {
        "fleet.CLUSTER_IMPLEMENTATIONS": CLUSTER_IMPLEMENTATIONS,
        "clouds.CLOUDS": CLOUDS,
        "access.GRANTS": access.GRANTS,
        "backup.STORES": backup.STORES,
        "gitops.TARGETS": gitops.TARGETS,
        "observability.STORES": observability.STORES,
        "secrets.CLOUD_SECRETS": secrets.CLOUD_SECRETS,
    }
    assert {name: set(table) for name, table in tables.items()} == dict.fromkeys(tables, clouds)
