"""`--engine-preview`: the plan as the first `pulumi preview` of a new stack sees it, and as an update sees it.

The engine previews a new stack with every computed output unknown; a provider whose configuration holds
an unknown (a kubeconfig built from a cluster not created yet) stays unconfigured, so what it deploys gets
no outputs at all. The program must register the same resources as in `pulumi up`, and the policies must
judge what they can see without a false violation.
"""

from __future__ import annotations

import json

import pytest

from components.config import read_stack_file
from components.program import main
from offline_plan import run_program
from offline_plan.cli import run
from offline_plan.policy import run_policies
from offline_plan.values import UNKNOWN_TEXT, contains_unknown, is_unknown
from tests.support import SHIPPED, aws_cluster, plan_config, settings_of, stack_config
from tests.test_lifecycle import config_of, four_clusters, saved_as_base


def preview_of(name: str, state: dict | None = None):
    settings, secret_keys = read_stack_file(SHIPPED[name])
    return run_program(main, settings, secret_keys, name.rsplit("/", 1)[-1], preview=True, state=state)


def failures(plan) -> dict[str, list[str]]:
    return {r["policy"]: [v["message"] for v in r["violations"]] for r in run_policies(plan) if r["violations"]}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_first_preview_registers_exactly_the_resources_of_an_update(name):
    up, preview = plan_config(name), preview_of(name)
    assert [r.urn for r in preview.resources] == [r.urn for r in up.resources]
    assert preview.mode == "preview" and up.mode == "up"
    # ... and every guardrail passes on what the engine shows a first preview.
    assert failures(preview) == {}


def test_kubernetes_providers_of_new_clusters_stay_unconfigured_and_their_resources_get_no_outputs(
    staging_preview,
):
    k8s = [p for p in staging_preview.of_type("pulumi:providers:kubernetes")]
    assert k8s and {p.urn for p in k8s} <= set(staging_preview.unconfigured_providers)
    through = [r for r in staging_preview.resources if r.provider_urn in staging_preview.unconfigured_providers]
    assert through and all(r.outputs == {} for r in through)
    # No auto-name either: an unconfigured provider's Check echoes the inputs.
    assert all(not r.auto_names for r in through)


def test_new_resources_echo_their_inputs_with_every_computed_output_unknown(staging_preview):
    cluster = staging_preview.named("aws-use1-eks", "aws:eks/cluster:Cluster")
    assert is_unknown(cluster.output("endpoint")) and is_unknown(cluster.output("arn"))
    assert is_unknown(cluster.output("certificateAuthority"))
    assert cluster.output("version") == cluster.input("version") == "1.33"  # an input echoes back known
    gke = staging_preview.named("gcp-usc1-gke", "gcp:container/cluster:Cluster")
    assert contains_unknown(gke.output("controlPlaneEndpointsConfig"))
    assert staging_preview.named("aws-use1-vpc").id is None  # the engine has no id before the create


def test_auto_names_are_known_in_a_preview(staging_preview):
    role = staging_preview.named("aws-use1-node", "aws:iam/role:Role")
    assert role.auto_names and not contains_unknown(role.checked.get("name"))


def test_unknown_values_print_as_unknown_in_every_format(capsys):
    assert run(["--stack", "staging", "--engine-preview", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    eks = next(r for r in document["resources"] if r["name"] == "aws-use1-eks" and r["custom"])
    assert eks["outputs"]["endpoint"] == UNKNOWN_TEXT
    assert document["mode"] == "preview" and document["judge"]["passed"] is True
    assert run(["--stack", "staging", "--engine-preview", "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "Traceback" not in markdown and "object at 0x" not in markdown


def test_previewing_an_update_that_adds_a_cluster_passes_every_guardrail():
    saved = plan_config(config_of(four_clusters()))
    state = {urn: {"id": r["id"], "outputs": r["outputs"]} for urn, r in _as_saved(saved).items()}
    grown = settings_of(config_of(four_clusters(aws_cluster("aws-euc1", "eu-central-1", 5))))
    preview = run_program(main, grown, [], "test", preview=True, state=state)
    # Existing resources keep their known outputs; only the new cluster's are unknown.
    assert preview.named("aws-use1-eks", "aws:eks/cluster:Cluster").output("endpoint") == saved.named(
        "aws-use1-eks", "aws:eks/cluster:Cluster"
    ).output("endpoint")
    assert is_unknown(preview.named("aws-euc1-eks", "aws:eks/cluster:Cluster").output("endpoint"))
    assert failures(preview) == {}
    assert saved_as_base(saved).resources  # the saved plan reads back as a diff base


def _as_saved(plan) -> dict:
    return {r.urn: {"id": r.id, "outputs": r.outputs} for r in plan.resources}


def test_the_cli_previews_an_update_of_a_saved_plan(capsys, tmp_path):
    assert run(["--stack", "staging", "--format", "json"]) == 0
    base = tmp_path / "base.json"
    base.write_text(capsys.readouterr().out)
    assert run(["--stack", "staging", "--engine-preview", "--policy", "--diff", str(base), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["diff"]["summary"] == {"create": 0, "delete": 0, "update": 0, "rename": 0}
    assert stack_config("staging")  # the shipped file was read, not modified
