"""The offline plan's command line: every bad input is a message and an exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offline_plan.cli import Exit, run
from tests.support import stack_config

SHORT = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean_failure(code: int, err: str, expected: int = Exit.INVALID_INPUT) -> None:
    assert code == expected
    assert err.strip(), "a failure says why"
    assert "Traceback" not in err and 'File "' not in err


# --- arguments -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "staging", "--parallel", "0"], "--parallel: must be at least 1 (got 0)"),
        (["--stack", "staging", "--parallel", "many"], "--parallel: 'many' is not a whole number"),
        (["--stack", "staging", "--format", "yaml"], "--format: invalid choice: 'yaml'"),
        ([], "the following arguments are required: --stack"),
        (["--stack", "staging", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_exit_1_with_the_reason(capsys, argv, message):
    code, out, err = cli(capsys, *argv)
    assert_clean_failure(code, err)
    assert message in err and err.rstrip().endswith("(see --help)")
    assert out == ""


def test_a_missing_config_file_is_named(capsys, tmp_path):
    missing = tmp_path / "nope.yaml"
    code, _, err = cli(capsys, "--stack", "x", "--config", str(missing))
    assert_clean_failure(code, err)
    assert err.strip() == f"error: no stack file {missing} (--config)"


def test_a_missing_base_plan_for_diff_is_named(capsys, tmp_path):
    code, _, err = cli(capsys, "--stack", "staging", "--diff", str(tmp_path / "base.json"))
    assert_clean_failure(code, err)
    assert f"cannot read the base plan {tmp_path / 'base.json'}" in err


def test_a_base_plan_that_is_not_json_says_how_to_save_one(capsys, tmp_path):
    base = tmp_path / "base.json"
    base.write_text("{not json")
    code, _, err = cli(capsys, "--stack", "staging", "--diff", str(base))
    assert_clean_failure(code, err)
    assert "is not JSON (line 1, column 2" in err
    assert "python -m offline_plan --stack NAME --format json > base.json" in err


# --- stack files ----------------------------------------------------------------------------------


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "Pulumi.junk.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config: [1, 2", "Pulumi.junk.yaml:1:14:"),
        ("- just\n- a list\n", "Pulumi.junk.yaml:1:1:"),
        ("config:\n  multicluster:environment: a\n  multicluster:environment: b\n", "multicluster:environment"),
        ("config:\n  multicluster:protect: NO\n", "NO"),
        (b"\xff\xfe\x00garbage", "Pulumi.junk.yaml"),
        ("", "multicluster:environment is required"),
        ("config:\n  multicluster:protect: -.inf\n", "'-.inf' is not a number JSON can carry"),
    ],
    ids=["syntax", "not-a-mapping", "duplicate-key", "yaml-1.1-boolean", "not-utf8", "empty", "infinity"],
)
def test_unreadable_stack_files_are_located(capsys, tmp_path, text, message):
    path = write(tmp_path, text)
    code, out, err = cli(capsys, "--stack", "junk", "--config", str(path))
    assert_clean_failure(code, err)
    assert message in err and out == ""


def test_a_yaml_number_where_text_is_meant_says_to_quote_it(capsys, tmp_path):
    config = stack_config("staging")
    text = yaml.safe_dump({"config": config}).replace("kubernetesVersion: '1.33'", "kubernetesVersion: 1.30", 1)
    code, _, err = cli(capsys, "--stack", "junk", "--config", str(write(tmp_path, text)))
    assert_clean_failure(code, err)
    assert 'YAML reads 1.30 as the number 1.3: quote it ("1.30")' in err


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@SHORT
@given(text=st.text(max_size=300))
def test_any_text_as_a_stack_file_is_a_message(capsys, tmp_path, text):
    code, _, err = cli(capsys, "--stack", "junk", "--config", str(write(tmp_path, text)))
    assert_clean_failure(code, err)


@SHORT
@given(key=st.sampled_from(sorted(stack_config("staging"))), value=JUNK)
def test_junk_under_any_key_of_a_real_stack_is_a_message(capsys, tmp_path, key, value):
    config = stack_config("staging")
    config[key] = value
    text = yaml.safe_dump({"config": config})
    code, _, err = cli(capsys, "--stack", "junk", "--config", str(write(tmp_path, text)), "--format", "json")
    # Junk is refused (1); the rare junk that is valid config plans (0) or is judged (3), never crashes (4).
    assert code in (Exit.OK, Exit.INVALID_INPUT, Exit.REJECTED), err
    assert "Traceback" not in err
    if code == Exit.INVALID_INPUT:
        assert err.startswith(("invalid stack configuration", "cannot read stack file", "error:")), err


@SHORT
@given(argv=st.lists(st.sampled_from(["--stack", "--config", "--format", "--parallel", "--diff", "x", "-1", ""])))
def test_any_argument_list_is_a_message_or_a_plan(capsys, argv):
    try:
        code = run(argv)
    except SystemExit as exc:  # only --help exits this way (not in the sample)
        pytest.fail(f"argparse exited {exc.code} for {argv}")
    err = capsys.readouterr().err
    assert code in (Exit.INVALID_INPUT,) or code == Exit.OK
    assert "Traceback" not in err


def test_a_config_value_only_the_cloud_can_judge_is_a_config_error_at_its_line(capsys, tmp_path):
    config = stack_config("prod")
    config["multicluster:clusters"][0]["nodePools"][0]["machineType"] = "m7z.xlarge"
    path = write(tmp_path, yaml.safe_dump({"config": config}, sort_keys=False))
    code, _, err = cli(capsys, "--stack", "junk", "--config", str(path), "--format", "json")
    assert_clean_failure(code, err)
    lines = err.strip().splitlines()
    assert lines[0] == "invalid stack configuration (found while planning):"
    assert lines[1].startswith("  - Pulumi.junk.yaml:")
    assert lines[1].endswith(
        "multicluster:clusters[0].nodePools[0].machineType 'm7z.xlarge' is not an instance type us-east-1 offers "
        "(DescribeInstanceTypeOfferings)"
    )
    assert "Task was destroyed" not in err


def test_plain_scalars_resolve_as_yaml_1_2_does():
    """What the Pulumi CLI (yaml.v3, YAML 1.2) passes, not what PyYAML's YAML 1.1 resolver would say."""
    from components.config import read_stack_file

    values = {"exp": "1.5e3", "octal": "0o17", "date": "2026-01-01", "tagged": "!!str 12", "plain": "12"}
    text = "config:\n" + "".join(f"  multicluster:{k}: {{v: {v}}}\n" for k, v in values.items())
    import json
    import tempfile

    path = Path(tempfile.mkdtemp()) / "Pulumi.x.yaml"
    path.write_text(text)
    settings, _ = read_stack_file(path)
    assert {k.split(":")[1]: json.loads(v)["v"] for k, v in settings.items()} == {
        "exp": 1500.0,
        "octal": 15,
        "date": "2026-01-01",
        "tagged": "12",
        "plain": 12,
    }
