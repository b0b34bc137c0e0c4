"""The offline plan command: JSON contract, secrets, determinism, and bad configs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.config import read_stack_file
from components.config.loader import SECURE_PLACEHOLDER
from offline_plan.cli import run
from tests.support import ROOT, stack_config

RESOURCE_KEYS = {
    "urn",
    "type",
    "name",
    "custom",
    "parent",
    "provider",
    "dependencies",
    "inputs",
    "outputs",
    "secretInputs",
    "protect",
    "retainOnDelete",
    "deleteBeforeReplace",
}


def plan_json(capsys, *args: str) -> dict:
    assert run(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def plan_command_json(stack: str) -> str:
    """What `python -m offline_plan --stack STACK --format json` prints, run as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "offline_plan", "--stack", stack, "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def staging_json():
    return plan_command_json("staging")


def test_json_contract(staging_json):
    document = json.loads(staging_json)
    assert document["project"] == "multicluster" and document["stack"] == "staging"
    assert {"resources", "outputs"} <= set(document)
    resources = {r["urn"]: r for r in document["resources"]}
    assert all(set(r) >= RESOURCE_KEYS for r in resources.values())
    cluster = next(r for r in resources.values() if r["type"] == "aws:eks/cluster:Cluster")
    component = resources[cluster["parent"]]
    assert component["type"] == "multicluster:eks:EksCluster" and component["custom"] is False
    provider = resources[cluster["provider"]]
    assert provider["type"] == "pulumi:providers:aws" and provider["inputs"]["region"] == "us-east-1"
    assert cluster["inputs"]["name"] == "staging-aws-use1"
    assert cluster["outputs"]["endpoint"].startswith("https://")
    assert all(dep in resources for dep in cluster["dependencies"])
    assert component["outputs"]["kubeconfig"] == "[secret]"


def test_secrets_are_masked_unless_asked(staging_json, capsys):
    masked = json.loads(staging_json)
    provider = next(r for r in masked["resources"] if r["name"] == "aws-use1-k8s")
    assert provider["secretInputs"] == ["kubeconfig"]
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert masked["outputs"]["kubeconfigs"] == "[secret]"
    assert "get-token" not in staging_json
    shown = plan_json(capsys, "--stack", "staging", "--format", "json", "--show-secrets")
    provider = next(r for r in shown["resources"] if r["name"] == "aws-use1-k8s")
    assert json.loads(provider["inputs"]["kubeconfig"])["users"][0]["user"]["exec"]["command"] == "aws"


def test_two_runs_print_identical_json(staging_json):
    assert plan_command_json("staging") == staging_json


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_text_plan_shows_the_tree_and_summary(capsys, stack):
    assert run(["--stack", stack]) == 0
    out = capsys.readouterr().out
    names = [c["name"] for c in stack_config(stack)["multicluster:clusters"]]
    for name in names:
        assert f"multicluster:{'eks:EksCluster' if name.startswith('aws') else 'gke:GkeCluster'} {name}" in out
    assert f"Plan for stack {stack}" in out


def test_examples_plan_through_config_flag(capsys):
    document = plan_json(
        capsys, "--stack", "partitioned", "--config", str(ROOT / "examples/partitioned.yaml"), "--format", "json"
    )
    assert sorted(document["outputs"]["clusters"]) == ["aws-euc1", "aws-use1", "gcp-euw1", "gcp-usc1"]


def position(path, *keys) -> str:
    """line:column (1-based) of the value at `keys` under config:, read back with PyYAML."""
    node = yaml.compose(path.read_text())
    for part in ("config", *keys):
        if isinstance(part, int):
            node = node.value[part]
            continue
        node = next(v for k, v in node.value if k.value == part)
    return f"{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def test_bad_config_exits_1_with_the_message_on_stderr(tmp_path, capsys):
    config = stack_config("staging")
    config["multicluster:clusters"][1]["network"]["cidr"] = "10.10.0.0/16"
    config["multicluster:topolgy"] = "replicated"
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    assert run(["--stack", "bad", "--config", str(path), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "invalid stack configuration (2 problem(s)):",
        # Where in the file each problem is (line:column of the value), as an editor would jump to it.
        f"  - {path.name}:{position(path, 'multicluster:clusters', 1, 'network', 'cidr')}: "
        "multicluster:clusters[1].network.cidr "
        "10.10.0.0/16 overlaps clusters[0].network.cidr",
        f"  - {path.name}:{position(path, 'multicluster:topolgy')}: multicluster:topolgy is not a known key "
        "(did you mean 'topology'?)",
    ]


def test_missing_stack_file_is_an_error(capsys):
    assert run(["--stack", "nope"]) == 1
    assert "no stack file" in capsys.readouterr().err


def test_secure_values_become_placeholders(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "multicluster:environment": "s",
                    "acme:token": {"secure": "v1:abc"},
                    "multicluster:protect": False,
                }
            }
        )
    )
    settings, secret_keys = read_stack_file(path)
    assert settings == {
        "multicluster:environment": "s",
        "acme:token": SECURE_PLACEHOLDER,
        "multicluster:protect": "false",
    }
    assert secret_keys == ["acme:token"]


def test_policy_flag_exits_2_on_a_guardrail_violation(tmp_path, capsys):
    config = stack_config("prod")
    config["multicluster:clusters"][0]["endpoint"]["publicAccessCidrs"] = ["0.0.0.0/0"]
    path = tmp_path / "Pulumi.open.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    assert run(["--stack", "open", "--config", str(path), "--policy"]) == 2
    assert "guardrail policies failed" in capsys.readouterr().err
    assert run(["--stack", "prod", "--policy"]) == 0


def test_outputs_the_engine_keeps_secret_are_masked(staging_json):
    """Private keys, pre-shared keys and tokens (additionalSecretOutputs) never print without --show-secrets."""
    document = json.loads(staging_json)
    assert "PRIVATE KEY" not in staging_json
    keys = [r for r in document["resources"] if r["type"] == "tls:index/privateKey:PrivateKey"]
    psks = [r for r in document["resources"] if r["type"] == "random:index/randomPassword:RandomPassword"]
    assert keys and psks
    assert all(r["outputs"]["privateKeyPem"] == "[secret]" for r in keys)
    assert all(r["outputs"]["result"] == "[secret]" for r in psks)


BASE_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"


def base_python_lacks_pulumi() -> bool:
    probe = subprocess.run([BASE_PYTHON, "-c", "import pulumi"], capture_output=True)
    return probe.returncode != 0


@pytest.mark.skipif(not BASE_PYTHON.exists(), reason="no base interpreter outside the virtualenv")
def test_plain_python_plans_through_the_project_venv():
    """`python -m offline_plan` works from a shell without the venv activated, as `pulumi up` does."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    out = subprocess.run(
        [BASE_PYTHON, "-m", "offline_plan", "--stack", "staging", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert json.loads(out)["stack"] == "staging"


@pytest.mark.skipif(
    not BASE_PYTHON.exists() or not base_python_lacks_pulumi(), reason="needs a base interpreter without the Pulumi SDK"
)
def test_without_sdk_or_venv_the_plan_says_how_to_set_up():
    script = (
        "import offline_plan.__main__ as launcher; "
        "launcher.VENV_PYTHON = launcher.Path('/nonexistent/python'); launcher.ensure_project_python()"
    )
    result = subprocess.run([BASE_PYTHON, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "  python3 -m venv venv && venv/bin/pip install -r requirements-dev.txt"
    assert result.stderr.startswith("error: pulumi") and " not installed for " in result.stderr
    assert "Traceback" not in result.stderr


def test_text_and_markdown_reports_give_the_same_count_per_cluster(staging):
    """Both count what lands in a cluster: under its component, or deployed through its providers."""
    from offline_plan.markdown import render
    from offline_plan.report import summary

    per_cluster = summary(staging)["perCluster"]
    under_component = [
        r for r in staging.children(staging.component("aws-use1")) if r.custom and not r.type.startswith("pulumi:")
    ]
    assert per_cluster["aws-use1"] > len(under_component)  # the mesh, gitops and backup releases count too
    report = render(staging)
    for name in ("aws-use1", "gcp-usc1"):
        assert re.search(rf"\| `{name}` \| \w+ \| {per_cluster[name]} \|", report)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_policy_flag_runs_the_guardrails_once(monkeypatch, capsys, fmt):
    """The report and the exit code share one run of the policies (they cost ~1 ms per resource)."""
    import offline_plan.policy as policy

    runs = []
    real = policy.run_policies
    monkeypatch.setattr(policy, "run_policies", lambda plan: runs.append(plan) or real(plan))
    assert run(["--stack", "staging", "--format", fmt, "--policy"]) == 0
    capsys.readouterr()
    assert len(runs) == 1


def test_the_program_collects_garbage_with_the_fleet_sized_thresholds():
    import gc

    from components.runtime import GC_THRESHOLDS
    from tests.support import plan_config

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        plan_config("staging")
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.set_threshold(*before)
