"""The benchmark's floor registers the same plan as the program: resources, parents, providers and dependencies."""

from __future__ import annotations

from bench.child import STACK, _floor, floor_spec
from components.program import main
from offline_plan import run_program
from tests.support import aws_cluster, fleet, gcp_cluster, settings_of


def test_the_floor_replays_every_resource_with_its_dependencies():
    config = fleet(aws_cluster("aws-use1", "us-east-1", 1), gcp_cluster("gcp-usc1", "us-central1", 2, role="standby"))
    program = run_program(main, settings_of(config), [], STACK)
    spec = floor_spec(program)
    position = {entry["urn"]: i for i, entry in enumerate(spec)}
    for entry in spec:  # what a resource refers to is registered before it
        for earlier in (entry["parent"], entry["provider"], *entry["dependencies"]):
            if earlier is not None and earlier in position:
                assert position[earlier] < position[entry["urn"]]
    replayed = {r.urn: r for r in _floor(spec)["plan"].resources}
    assert replayed.keys() == {r.urn for r in program.resources}
    waits = {r.urn: set(r.dependencies) for r in program.resources}
    assert sum(map(len, waits.values())) > 100
    assert {urn: set(r.dependencies) for urn, r in replayed.items()} == waits
