"""The GitHub Actions workflows: schema-valid, actionlint-clean, OIDC only, least privilege, inputs that exist."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
# action repository -> file name of its action.yml under ../shared/upstream/actions/
UPSTREAM_ACTIONS = {
    "actions/checkout": "actions-checkout.yml",
    "actions/setup-python": "actions-setup-python.yml",
    "aws-actions/configure-aws-credentials": "aws-actions-configure-aws-credentials.yml",
    "google-github-actions/auth": "google-github-actions-auth.yml",
    "pulumi/actions": "pulumi-actions.yml",
}


def load(name: str) -> dict:
    # PyYAML reads the `on:` key as True (YAML 1.1); put it back.
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def jobs(name: str) -> dict:
    return load(name)["jobs"]


def steps(name: str, job: str) -> list[dict]:
    return jobs(name)[job]["steps"]


def uses(step: dict) -> tuple[str, str]:
    action, _, version = step["uses"].partition("@")
    return action, version


def step_using(name: str, job: str, action: str) -> dict:
    return next(s for s in steps(name, job) if "uses" in s and uses(s)[0] == action)


def all_steps():
    for path in FILES:
        for job_name, job in load(path.name)["jobs"].items():
            for step in job.get("steps", []):
                yield path.name, job_name, step


def test_every_workflow_is_valid_for_github(tmp_path):
    """check-jsonschema's vendored GitHub workflow schema (no network)."""
    check = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    if check is None:
        pytest.skip("check-jsonschema is not installed")
    result = subprocess.run(
        [check, "--builtin-schema", "vendor.github-workflows", *map(str, FILES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_nothing():
    binary = os.environ.get("ACTIONLINT") or shutil.which("actionlint")
    if binary is None:
        pytest.skip("actionlint is not installed (set ACTIONLINT or put it on PATH)")
    result = subprocess.run([binary, *map(str, FILES)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("action", sorted(UPSTREAM_ACTIONS))
def test_with_keys_are_inputs_the_action_declares(upstream, action):
    declared = yaml.safe_load((upstream / "actions" / UPSTREAM_ACTIONS[action]).read_text())["inputs"]
    used = [(f, j, s) for f, j, s in all_steps() if "uses" in s and uses(s)[0] == action]
    assert used, f"{action} is not used"
    for file, job, step in used:
        unknown = sorted(set(step.get("with", {})) - set(declared))
        assert not unknown, f"{file} {job}: {action} has no input(s) {unknown}"
        required = {k for k, v in declared.items() if v.get("required") and "default" not in v}
        assert required <= set(step.get("with", {})), f"{file} {job}: {action} needs {required}"


def test_called_workflows_get_only_inputs_and_secrets_they_declare():
    for path in FILES:
        for name, job in load(path.name)["jobs"].items():
            if "uses" not in job:
                continue
            called = load(Path(job["uses"]).name)["on"]["workflow_call"]
            assert set(job.get("with", {})) <= set(called["inputs"]), f"{path.name} {name}"
            required = {k for k, v in called["inputs"].items() if v.get("required")}
            assert required <= set(job.get("with", {})), f"{path.name} {name}"
            assert set(job.get("secrets", {})) == set(called.get("secrets", {})), f"{path.name} {name}"


def test_actions_are_pinned_to_the_upstream_major():
    majors = {"actions/checkout": "v7", "actions/setup-python": "v7", "pulumi/actions": "v7"}
    majors |= {"aws-actions/configure-aws-credentials": "v6", "google-github-actions/auth": "v3"}
    for file, job, step in all_steps():
        if "uses" in step and uses(step)[0] in majors:
            assert uses(step)[1] == majors[uses(step)[0]], f"{file} {job} {step['uses']}"


# --- pull requests without credentials ---------------------------------------------------------------


def test_pull_request_checks_need_no_credentials_and_cannot_write():
    workflow = load("pull-request.yml")
    assert workflow["on"] == {"pull_request": None}
    assert workflow["permissions"] == {"contents": "read"}
    assert jobs("pull-request.yml")["checks"]["permissions"] == {"contents": "read"}
    text = (WORKFLOWS / "pull-request.yml").read_text()
    assert "secrets." not in text and "id-token" not in text
    assert step_using("pull-request.yml", "checks", "actions/checkout")["with"]["persist-credentials"] is False


def test_pull_request_runs_install_lint_tests_and_the_offline_plan_of_every_stack():
    runs = "\n".join(s.get("run", "") for s in steps("pull-request.yml", "checks"))
    for command in (
        "pip install -r requirements-dev.txt",
        "ruff check .",
        "ruff format --check .",
        "python -m pytest",
        "plan staging",
        "plan prod",
        'plan "$(basename "$example" .yaml)" --config "$example"',
        "--format markdown --policy",
        '>> "$GITHUB_STEP_SUMMARY"',
    ):
        assert command in runs, command
    # Guardrail violations fail the job: the plan exits 2 on a violation, and the step records it.
    assert "--policy >> plan-report.md \\\n" in runs
    assert '|| { echo "::error::plan failed or guardrails violated for stack $1"; failed=1; }' in runs
    assert 'exit "$failed"' in runs


def test_report_comment_is_one_comment_updated_by_a_privileged_workflow_that_runs_no_pr_code():
    workflow = load("plan-comment.yml")
    assert workflow["on"] == {"workflow_run": {"workflows": ["pull-request"], "types": ["completed"]}}
    job = workflow["jobs"]["comment"]
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert not any("uses" in s for s in job["steps"])  # no checkout of the PR's code
    script = job["steps"][1]["run"]
    assert "<!-- multicluster-plan-report -->" in script
    assert "--method PATCH" in script and "--method POST" in script  # update when it exists, else create
    assert "*[!0-9]*" in script  # the artifact is untrusted: the PR number must be digits


# --- previews and deploys -------------------------------------------------------------------------------


def test_preview_matrix_runs_only_for_same_repository_pull_requests():
    job = jobs("preview.yml")["preview"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert job["strategy"]["matrix"]["stack"] == ["staging", "prod"]
    assert job["uses"] == "./.github/workflows/pulumi-preview.yml"
    assert job["with"]["stack"] == "${{ matrix.stack }}"


def test_preview_comments_with_fully_qualified_stack_and_policy_pack():
    pulumi = step_using("pulumi-preview.yml", "preview", "pulumi/actions")["with"]
    assert pulumi["command"] == "preview"
    assert pulumi["comment-on-pr"] is True and pulumi["edit-pr-comment"] is True
    assert pulumi["stack-name"] == "${{ vars.PULUMI_ORG }}/multicluster/${{ inputs.stack }}"
    assert pulumi["policyPacks"] == "policy"


@pytest.mark.parametrize(("file", "job"), [("pulumi-preview.yml", "preview"), ("pulumi-up.yml", "up")])
def test_cloud_credentials_by_oidc_only(file, job):
    aws = step_using(file, job, "aws-actions/configure-aws-credentials")["with"]
    assert aws["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(aws)
    gcp = step_using(file, job, "google-github-actions/auth")["with"]
    assert gcp["workload_identity_provider"] == "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}"
    assert "credentials_json" not in gcp
    assert jobs(file)[job]["permissions"]["id-token"] == "write"
    assert step_using(file, job, "pulumi/actions")["with"]["policyPacks"] == "policy"


def test_id_token_is_granted_only_where_oidc_is_used():
    for path in FILES:
        workflow = load(path.name)
        assert "id-token" not in workflow.get("permissions", {}), path.name
        for name, job in workflow["jobs"].items():
            if job.get("permissions", {}).get("id-token") != "write":
                continue
            called = [jobs(Path(job["uses"]).name)] if "uses" in job else [{name: job}]
            for target in called:
                for inner in target.values():
                    actions = {uses(s)[0] for s in inner.get("steps", []) if "uses" in s}
                    assert "aws-actions/configure-aws-credentials" in actions, f"{path.name} {name}"


def test_only_previews_may_write_to_pull_requests():
    assert "pull-requests" not in jobs("pulumi-up.yml")["up"]["permissions"]
    for name, job in jobs("deploy.yml").items():
        assert job["permissions"] == {"contents": "read", "id-token": "write"}, name


def test_concurrency_per_stack_and_updates_never_cancelled():
    up = jobs("pulumi-up.yml")["up"]["concurrency"]
    assert up == {"group": "pulumi-up-${{ inputs.stack }}", "cancel-in-progress": False}
    preview = jobs("pulumi-preview.yml")["preview"]["concurrency"]
    assert preview["group"] == "preview-${{ inputs.stack }}-${{ github.event.pull_request.number }}"


def test_push_to_main_deploys_staging_then_prod_behind_its_environment():
    workflow = load("deploy.yml")
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    staging, prod = workflow["jobs"]["staging"], workflow["jobs"]["prod"]
    assert staging["uses"] == prod["uses"] == "./.github/workflows/pulumi-up.yml"
    assert (staging["with"]["stack"], staging["with"]["environment"]) == ("staging", "staging")
    assert (prod["with"]["stack"], prod["with"]["environment"]) == ("prod", "prod")
    assert prod["needs"] == "staging"
    assert jobs("pulumi-up.yml")["up"]["environment"] == "${{ inputs.environment }}"
    assert step_using("pulumi-up.yml", "up", "pulumi/actions")["with"]["command"] == "up"
