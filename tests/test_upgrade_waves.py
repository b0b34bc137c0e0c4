"""Upgrade waves: a change that moves the Kubernetes version of every cluster of a failover group at once is
refused where the stack is protected (prod) and warned elsewhere (`--diff BASE.json`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from offline_plan.cli import run
from offline_plan.diff import VersionChange, upgrade_waves
from tests.support import SHIPPED

GROUPS = {"fleet": ("a", "b", "c")}


def change(cluster: str) -> VersionChange:
    return VersionChange(cluster, f"urn:{cluster}", "1.33", "1.34")


def test_moving_every_serving_cluster_of_a_group_is_refused_in_prod():
    refusals, warnings = upgrade_waves([change("a"), change("b"), change("c")], GROUPS, {"a", "b", "c"}, True)
    assert [f.urn for f in refusals] == ["urn:a", "urn:b", "urn:c"]
    assert warnings == []
    assert "every cluster of failover group 'fleet' at once (a 1.33 -> 1.34, b 1.33 -> 1.34, c 1.33 -> 1.34)" in str(
        refusals[0]
    )
    assert str(refusals[0]).startswith("urn:a would be rejected by the upgrade-wave rule: ")


def test_the_same_change_elsewhere_is_a_warning():
    refusals, warnings = upgrade_waves([change("a"), change("b"), change("c")], GROUPS, {"a", "b", "c"}, False)
    assert refusals == []
    assert len(warnings) == 1 and warnings[0].startswith("warning: this change moves the Kubernetes version")


def test_one_cluster_of_a_group_per_change_is_a_wave_and_passes():
    assert upgrade_waves([change("a")], GROUPS, {"a", "b", "c"}, True) == ([], [])
    assert upgrade_waves([change("a"), change("b")], GROUPS, {"a", "b", "c"}, True) == ([], [])


def test_a_drained_cluster_does_not_serve_so_the_rest_of_its_group_is_the_group():
    # c is drained: moving a and b moves every serving cluster.
    refusals, _ = upgrade_waves([change("a"), change("b")], GROUPS, {"a", "b"}, True)
    assert [f.urn for f in refusals] == ["urn:a", "urn:b"]


def test_a_group_of_one_cannot_wave_and_is_not_flagged():
    assert upgrade_waves([change("a")], {"eu": ("a",)}, {"a"}, True) == ([], [])


def bumped_stack(tmp_path: Path, name: str, clusters: int | None = None) -> Path:
    """The shipped stack with the first `clusters` clusters (all when None) on Kubernetes 1.34."""
    lines = SHIPPED[name].read_text().splitlines(keepends=True)
    seen = 0
    for i, line in enumerate(lines):
        if re.match(r'\s+kubernetesVersion: "1\.33"', line):
            seen += 1
            if clusters is None or seen <= clusters:
                lines[i] = line.replace('"1.33"', '"1.34"')
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text("".join(lines))
    return path


def base_plan(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> Path:
    assert run(["--stack", name, "--format", "json"]) == 0
    base = tmp_path / "base.json"
    base.write_text(capsys.readouterr().out)
    return base


def test_prod_refuses_upgrading_its_whole_failover_group_in_one_update(capsys, tmp_path):
    base = base_plan(capsys, tmp_path, "prod")
    config = bumped_stack(tmp_path, "prod")
    code = run(["--stack", "prod", "--config", str(config), "--diff", str(base), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 3
    waves = [f for f in document["judge"]["findings"] if f["authority"] == "the upgrade-wave rule"]
    assert sorted(f["urn"].rsplit("::", 1)[1] for f in waves) == ["aws-use1-eks", "aws-usw2-eks", "gcp-euw1-gke"]


def test_prod_upgrades_one_cluster_per_change(capsys, tmp_path):
    base = base_plan(capsys, tmp_path, "prod")
    config = bumped_stack(tmp_path, "prod", clusters=1)
    code = run(["--stack", "prod", "--config", str(config), "--diff", str(base), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert [f for f in document["judge"]["findings"] if f["authority"] == "the upgrade-wave rule"] == []
    assert document["diff"]["warnings"] == []
    assert code == 0


def test_staging_is_warned_not_refused(capsys, tmp_path):
    base = base_plan(capsys, tmp_path, "staging")
    config = bumped_stack(tmp_path, "staging")
    code = run(["--stack", "staging", "--config", str(config), "--diff", str(base), "--format", "json"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code == 0
    assert "warning: this change moves the Kubernetes version of every cluster of failover group" in captured.err
    assert document["diff"]["warnings"] and document["diff"]["warnings"][0].startswith("warning: ")
