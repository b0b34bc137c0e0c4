"""The GitHub Actions workflows: schema-valid, actionlint-clean, OIDC only, least privilege, inputs that exist."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
CI_RUN = ROOT / ".ci" / "run"
# Every stack CI judges: the shipped stacks and every example (the name is the file's stem).
STACKS = ["staging", "prod"]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))
RUNNER = """${{ fromJSON(vars.PULUMI_RUNNER || '"ubuntu-latest"') }}"""
FIRST_PREVIEW = "First preview of every stack (judge and guardrails)"
REPORT = "Offline plan and guardrails of every stack, with the diff against the base branch"
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


def step_named(name: str, job: str, step: str) -> dict:
    return next(s for s in steps(name, job) if s.get("name") == step)


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
    # A non-zero plan (exit 2 on a guardrail violation, 3 when the judge rejects) fails the job, naming the
    # stack and what the exit code means.
    report = step_named("pull-request.yml", "checks", REPORT)["run"]
    assert '--format markdown --policy "${diff[@]}" >> plan-report.md' in report
    assert 'echo "::error::plan of stack $1: exit $rc, ${meaning[$rc]:-unexpected exit code}"' in report
    assert 'exit "$failed"' in report


def test_pull_request_checkouts_keep_no_credentials():
    checkouts = [s for s in steps("pull-request.yml", "checks") if "uses" in s and uses(s)[0] == "actions/checkout"]
    assert len(checkouts) == 2  # the pull request, and its base commit for the diff
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_plans_run_after_lint_and_tests_even_when_they_fail():
    names = [s.get("name", s.get("uses")) for s in steps("pull-request.yml", "checks")]
    base = step_named("pull-request.yml", "checks", "Check out the base branch")
    # base/ appears only after ruff and pytest have run, so neither sees the base branch's files.
    assert names.index("Lint") < names.index("Tests") < names.index(base["name"])
    assert names.index(base["name"]) < names.index(FIRST_PREVIEW) < names.index(REPORT)
    for name in (base["name"], FIRST_PREVIEW, REPORT):
        assert step_named("pull-request.yml", "checks", name)["if"] == (
            "${{ !cancelled() && steps.install.outcome == 'success' }}"
        ), name
    assert step_named("pull-request.yml", "checks", "Install")["id"] == "install"


def test_the_base_commit_is_checked_out_and_may_fail_without_failing_the_report():
    base = step_named("pull-request.yml", "checks", "Check out the base branch")
    assert uses(base) == ("actions/checkout", "v7")
    assert base["with"] == {
        "ref": "${{ github.event.pull_request.base.sha }}",
        "path": "base",
        "persist-credentials": False,
    }
    assert base["continue-on-error"] is True
    report = step_named("pull-request.yml", "checks", REPORT)
    assert report["env"]["BASE_CHECKOUT"] == "${{ steps.base.outcome }}"
    assert base["id"] == "base"


# --- running the plan steps and .ci/run against a stand-in for `python -m offline_plan` ----------------

FAKE_PLAN = """#!{python}
# Stands in for venv/bin/python: `-c` runs the real interpreter, `-m offline_plan` logs its call and
# exits with FAKE_EXITS["<head|base>:<stack>"] (default 0), printing what the format asks for.
import json, os, sys
args = sys.argv[1:]
if args[:1] == ["-c"]:
    os.execv({python!r}, [{python!r}, *args])
assert args[:2] == ["-m", "offline_plan"], args
args = args[2:]
stack = args[args.index("--stack") + 1]
where = "base" if os.path.basename(os.getcwd()) == "base" else "head"
with open({log!r}, "a") as log:
    log.write(json.dumps({{"where": where, "args": args}}) + "\\n")
code = json.loads(os.environ.get("FAKE_EXITS", "{{}}")).get(f"{{where}}:{{stack}}", 0)
form = args[args.index("--format") + 1] if "--format" in args else "text"
if form == "json" and os.environ.get("FAKE_BASE") != "not-a-plan":
    print(json.dumps({{"stack": stack, "resources": [{{"urn": f"urn:pulumi:{{stack}}::multicluster::x"}}]}}))
elif form == "json":
    print("Traceback (most recent call last):")
elif form == "markdown":
    print(f"## Plan for stack `{{stack}}`")
sys.exit(code)
"""


def workspace(tmp_path: Path, base: bool = True) -> Path:
    """A job's workspace: the fake venv, the shipped stack files and examples (and a base/ copy of them)."""
    work = tmp_path / "work"
    (work / "venv" / "bin").mkdir(parents=True)
    fake = work / "venv" / "bin" / "python"
    fake.write_text(FAKE_PLAN.format(python=sys.executable, log=str(tmp_path / "calls.jsonl")))
    fake.chmod(0o755)
    for root in [work, work / "base"] if base else [work]:
        (root / "examples").mkdir(parents=True)
        for stack in STACKS:
            (root / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
        for example in EXAMPLES:
            (root / "examples" / f"{example}.yaml").write_text("config: {}\n")
    return work


def calls(tmp_path: Path) -> list[dict]:
    log = tmp_path / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def run_script(work: Path, script: str, **env: str) -> subprocess.CompletedProcess:
    """As a `run:` step runs: bash --noprofile --norc -eo pipefail, in the workspace."""
    path = work.parent / "step.sh"
    path.write_text(script)
    environment = {"PATH": os.environ["PATH"], "HOME": str(work.parent), **env}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
        cwd=work,
        env=environment,
        capture_output=True,
        text=True,
    )


def run_step(work: Path, step: str, **env: str) -> subprocess.CompletedProcess:
    summary = work.parent / "summary.md"
    summary.touch()
    return run_script(
        work, step_named("pull-request.yml", "checks", step)["run"], GITHUB_STEP_SUMMARY=str(summary), **env
    )


def stack_of(call: dict) -> str:
    return call["args"][call["args"].index("--stack") + 1]


def expected_args(stack: str) -> list[str]:
    return ["--stack", stack] if stack in STACKS else ["--stack", stack, "--config", f"examples/{stack}.yaml"]


BASE_ENV = {"BASE_CHECKOUT": "success", "BASE_SHA": "0123456789abcdef0123456789abcdef01234567"}


def test_first_preview_judges_every_stack_and_example_and_passes_when_all_pass(tmp_path):
    assert EXAMPLES, "no examples/*.yaml"
    work = workspace(tmp_path)
    result = run_step(work, FIRST_PREVIEW)
    assert result.returncode == 0, result.stdout + result.stderr
    made = calls(tmp_path)
    assert [stack_of(c) for c in made] == STACKS + EXAMPLES
    for call in made:
        stack = stack_of(call)
        assert call["where"] == "head"
        assert call["args"][: len(expected_args(stack))] == expected_args(stack)
        assert {"--engine-preview", "--policy"} <= set(call["args"]) and "--diff" not in call["args"]
    table = (work / "first-preview.md").read_text()
    assert all(f"| `{stack}` | 0 | ✅ passed |" in table for stack in STACKS + EXAMPLES)


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        (1, "bad input (arguments, stack file, config)"),
        (2, "guardrail policies violated"),
        (3, "rejected by the judge"),
        (4, "program error"),
    ],
)
def test_first_preview_fails_the_job_naming_the_stack_and_the_exit_code(tmp_path, code, meaning):
    work = workspace(tmp_path)
    failing = EXAMPLES[0]
    result = run_step(work, FIRST_PREVIEW, FAKE_EXITS=json.dumps({f"head:{failing}": code}))
    assert result.returncode == 1
    assert f"::error::first preview of stack {failing}: exit {code}, {meaning}" in result.stdout
    assert [stack_of(c) for c in calls(tmp_path)] == STACKS + EXAMPLES  # one failure does not stop the rest
    assert f"| `{failing}` | {code} | ❌ {meaning}" in (work / "first-preview.md").read_text()


def test_report_plans_the_base_branch_and_diffs_every_stack_against_it(tmp_path):
    work = workspace(tmp_path)
    (work / "first-preview.md").write_text("FIRST PREVIEW TABLE\n")
    # The judge rejecting the base (exit 3) still leaves a whole plan to compare with.
    result = run_step(work, REPORT, FAKE_EXITS=json.dumps({"base:prod": 3}), **BASE_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    made = calls(tmp_path)
    assert [(c["where"], stack_of(c)) for c in made] == [
        (where, stack) for stack in STACKS + EXAMPLES for where in ("base", "head")
    ]
    for base, head in zip(made[::2], made[1::2], strict=True):
        stack = stack_of(head)
        assert base["args"] == [*expected_args(stack), "--format", "json"]
        assert head["args"] == [
            *expected_args(stack),
            "--format",
            "markdown",
            "--policy",
            "--diff",
            f"base-{stack}.json",
        ]
        assert json.loads((work / f"base-{stack}.json").read_text())["stack"] == stack
    report = (work / "plan-report.md").read_text()
    assert report.startswith("FIRST PREVIEW TABLE\n")  # the first-preview verdicts lead the report
    assert "No diff" not in report
    assert report in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"BASE_CHECKOUT": "failure"}, "the base commit `0123456789ab` could not be checked out"),
        ({"FAKE_EXITS": json.dumps({"base:staging": 1})}, "could not be planned (exit 1; the job log has its error)"),
        ({"FAKE_EXITS": json.dumps({"base:staging": 4})}, "could not be planned (exit 4; the job log has its error)"),
        ({"FAKE_BASE": "not-a-plan"}, "is not a JSON plan this version can compare with"),
    ],
)
def test_report_without_a_base_plan_says_why_and_goes_on_without_a_diff(tmp_path, env, reason):
    work = workspace(tmp_path)
    result = run_step(work, REPORT, **(BASE_ENV | env))
    assert result.returncode == 0, result.stdout + result.stderr
    heads = [c for c in calls(tmp_path) if c["where"] == "head"]
    assert [stack_of(c) for c in heads] == STACKS + EXAMPLES
    staging = next(c for c in heads if stack_of(c) == "staging")
    assert "--diff" not in staging["args"] and "--policy" in staging["args"]
    assert not (work / "base-staging.json").exists()
    note = "> **No diff against the base branch for `staging`**: "
    lines = [line for line in (work / "plan-report.md").read_text().splitlines() if line.startswith(note)]
    assert len(lines) == 1 and reason in lines[0], lines


def test_report_of_a_stack_new_in_the_pull_request_has_no_diff(tmp_path):
    work = workspace(tmp_path)
    (work / "base" / "examples" / f"{EXAMPLES[0]}.yaml").unlink()
    (work / "base" / "Pulumi.prod.yaml").unlink()
    result = run_step(work, REPORT, **BASE_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("base", "prod") not in [(c["where"], stack_of(c)) for c in calls(tmp_path)]
    report = (work / "plan-report.md").read_text()
    assert "for `prod`**: `Pulumi.prod.yaml` does not exist on the base branch." in report
    assert f"for `{EXAMPLES[0]}`**: `examples/{EXAMPLES[0]}.yaml` does not exist on the base branch." in report
    assert "for `staging`" not in report


@pytest.mark.parametrize("code", [1, 2, 3, 4])
def test_report_fails_the_job_when_a_head_plan_fails(tmp_path, code):
    work = workspace(tmp_path)
    result = run_step(work, REPORT, FAKE_EXITS=json.dumps({"head:prod": code}), **BASE_ENV)
    assert result.returncode == 1
    assert f"::error::plan of stack prod: exit {code}, " in result.stdout
    assert [stack_of(c) for c in calls(tmp_path) if c["where"] == "head"] == STACKS + EXAMPLES


def test_ci_run_keeps_its_venv_and_tests_then_judges_every_stack_and_example():
    text = CI_RUN.read_text()
    lines = text.splitlines()
    for command in (
        "python3 -m venv venv",
        "venv/bin/pip install --quiet -r requirements-dev.txt",
        "venv/bin/ruff check .",
    ):
        assert command in lines, command
    tests = lines.index("venv/bin/python -m pytest -n 2")
    judge = text.index("judge() {")
    assert text.index("venv/bin/python -m pytest -n 2") < judge
    body = text[judge:]
    assert 'venv/bin/python -m offline_plan --stack "$@" --engine-preview --policy --format json > /dev/null' in body
    assert lines[tests + 1 :].count("judge staging") == 1 and lines[tests + 1 :].count("judge prod") == 1
    assert (
        'for example in examples/*.yaml; do\n  judge "$(basename "$example" .yaml)" --config "$example"\ndone' in body
    )
    assert lines[0] == "#!/usr/bin/env bash" and "set -euo pipefail" in lines


def ci_judge_section() -> str:
    """.ci/run after its test command: the judge, run against the fake plan."""
    text = CI_RUN.read_text()
    return "set -euo pipefail\n" + text[text.index("venv/bin/python -m pytest -n 2") :].split("\n", 1)[1]


def test_ci_run_judge_passes_when_every_stack_passes(tmp_path):
    work = workspace(tmp_path, base=False)
    result = run_script(work, ci_judge_section())
    assert result.returncode == 0, result.stdout + result.stderr
    *made, survival = calls(tmp_path)
    # Then prod must survive the loss of any single region.
    assert survival["args"] == ["--stack", "prod", "--require-survive", "region", "--format", "json"]
    assert [stack_of(c) for c in made] == STACKS + EXAMPLES
    for call in made:
        stack = stack_of(call)
        assert call["args"] == [*expected_args(stack), "--engine-preview", "--policy", "--format", "json"]
    assert f"judge: 0 of {len(made)} stacks failed" in result.stdout.splitlines()


@pytest.mark.parametrize("code", [1, 2, 3, 4])
def test_ci_run_fails_when_any_stack_fails_the_judge(tmp_path, code):
    work = workspace(tmp_path, base=False)
    result = run_script(work, ci_judge_section(), FAKE_EXITS=json.dumps({"head:staging": code}))
    assert result.returncode != 0
    assert f"judge: stack staging failed: exit {code}" in result.stderr
    assert f"judge: 1 of {len(STACKS + EXAMPLES)} stacks failed" in result.stdout.splitlines()
    assert [stack_of(c) for c in calls(tmp_path)] == [*STACKS, *EXAMPLES, "prod"]  # every stack is still judged


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


# --- where previews and deploys run ------------------------------------------------------------------


@pytest.mark.parametrize(("file", "job"), [("pulumi-preview.yml", "preview"), ("pulumi-up.yml", "up")])
def test_previews_and_deploys_run_on_the_configured_runner_with_ubuntu_latest_by_default(file, job):
    runs_on = jobs(file)[job]["runs-on"]
    assert runs_on == RUNNER
    # What fromJSON receives when PULUMI_RUNNER is unset: the JSON text "ubuntu-latest".
    default = re.fullmatch(r"\$\{\{ fromJSON\(vars\.PULUMI_RUNNER \|\| '(.*)'\) \}\}", runs_on).group(1)
    assert json.loads(default) == "ubuntu-latest"


def test_pull_request_code_never_runs_on_the_configured_runner():
    # pull-request.yml runs fork code and plan-comment.yml holds a write token: GitHub-hosted only.
    assert jobs("pull-request.yml")["checks"]["runs-on"] == "ubuntu-latest"
    assert jobs("plan-comment.yml")["comment"]["runs-on"] == "ubuntu-latest"


def test_documented_runner_values_are_json_that_runs_on_accepts():
    doc = (ROOT / "docs" / "delivery.md").read_text()
    values = re.findall(r"gh variable set PULUMI_RUNNER --body '([^']*)'", doc)
    assert values, "docs/delivery.md shows no `gh variable set PULUMI_RUNNER --body '...'`"
    for value in values:
        parsed = json.loads(value)
        assert isinstance(parsed, str) or (isinstance(parsed, list) and all(isinstance(v, str) for v in parsed))
