"""The Markdown plan report: fleet table, Mermaid diagram (rendered where the Mermaid CLI exists), DR, policies."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from offline_plan import cli as plan_cli
from offline_plan.markdown import mermaid, render
from tests.support import SHIPPED, aws_cluster, fleet, gcp_cluster, plan_config

CONFIG = fleet(
    aws_cluster("aws-use1", "us-east-1", 1),
    gcp_cluster("gcp-euw1", "europe-west1", 2, role="standby"),
    environment="prod",
    connectivity={"mode": "full-mesh"},
    mesh={"provider": "istio", "version": "1.30.3", "meshId": "acme-mesh", "mtls": "strict"},
    gitops={"hub": "aws-use1", "chartVersion": "10.1.1", "repoUrl": "https://github.com/acme/apps", "revision": "main"},
    backup={"schedules": [{"name": "six-hourly", "cron": "0 */6 * * *"}]},
    dns={"provider": "route53", "zone": "example.com", "ttl": 30, "records": [{"name": "webapp"}]},
)


@pytest.fixture(scope="module")
def plan():
    return plan_config(CONFIG)


@pytest.fixture(scope="module")
def report(plan):
    return render(plan)


def test_header_says_stack_size_protection_and_policy_verdict(plan, report):
    resources = sum(1 for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:"))
    protected = sum(1 for r in plan.resources if r.protect)
    assert report.startswith("## Plan for stack `test` (prod, replicated, active-passive)\n\n")
    assert f"**{resources} resources** in 2 cluster(s) · {protected} protected · ✅ all 21 guardrails pass" in report


def test_clusters_by_cloud_and_region_with_their_resources(report):
    rows = [line for line in report.splitlines() if line.startswith("| AWS") or line.startswith("| Google")]
    assert re.fullmatch(r"\| AWS \| us-east-1 \| `aws-use1` \| primary \| \d+ \|", rows[0])
    assert re.fullmatch(r"\| Google Cloud \| europe-west1 \| `gcp-euw1` \| standby \| \d+ \|", rows[1])


def test_resources_per_component_and_protected_list(plan, report):
    assert "| `multicluster:eks:EksCluster` | aws-use1 |" in report
    assert "| `multicluster:backup:VeleroBackup` | gcp-euw1-backup |" in report
    assert "- `aws-use1-backup-bucket` (aws:s3/bucket:Bucket) · retained on delete" in report


def test_dr_figures_come_from_the_exported_outputs(plan, report):
    seconds = plan.outputs["dns"]["records"]["webapp"]["failoverSeconds"]
    assert f"| DNS failover `webapp.example.com` (failover) | {seconds:g} s |" in report
    assert "| Backup RPO `aws-use1` (restorable from: gcp-euw1) | 6h |" in report


def test_policy_results_table(report):
    assert "| `eks-secrets-encryption` | ✅ pass |" in report
    assert "| `every-cluster-in-gitops` | ✅ pass |" in report


def test_mermaid_groups_clusters_by_cloud_and_region_with_links_mesh_hub_and_dns(plan):
    diagram = mermaid(plan)
    assert diagram.splitlines()[0] == "flowchart LR"
    assert '  subgraph cloud_aws["AWS"]\n    subgraph region_aws_us_east_1["us-east-1"]' in diagram
    assert '      c_aws_use1["aws-use1<br/>primary · Argo CD hub"]' in diagram
    assert '      c_gcp_euw1["gcp-euw1<br/>standby"]' in diagram
    assert '  c_aws_use1 <-->|"vpn"| c_gcp_euw1' in diagram or '  c_aws_use1 <-->|"ha-vpn"| c_gcp_euw1' in diagram
    assert '  c_aws_use1 -.-|"istio mesh acme-mesh"| c_gcp_euw1' in diagram
    assert '  c_aws_use1 ==>|"Argo CD"| c_gcp_euw1' in diagram
    assert '  dns_webapp(["webapp.example.com · failover"])' in diagram
    assert "  dns_webapp --> c_aws_use1\n  dns_webapp --> c_gcp_euw1" in diagram
    # Structure: every subgraph closed, every edge between declared nodes.
    assert diagram.count("subgraph ") == diagram.count("\n    end") + diagram.count("\n  end") - 0
    declared = set(re.findall(r"^\s+(\w+)[\[(]", diagram, flags=re.M)) - {"subgraph"}
    for a, b in re.findall(r"^\s+(\w+) [-.<=>]+(?:\|[^|]*\|)? (\w+)$", diagram, flags=re.M):
        assert {a, b} <= declared, (a, b)


def test_a_stack_without_capabilities_has_no_dr_figures_yet():
    plan = plan_config(fleet(aws_cluster("solo", "us-east-1", 1)))
    text = render(plan)
    assert "No DR figures yet (configure `multicluster:dns` and `multicluster:backup`)." in text
    assert "Nothing is protected" in text
    assert "dns_" not in mermaid(plan)


def test_the_cli_prints_the_report(capsys):
    assert plan_cli.run(["--stack", "staging", "--format", "markdown", "--policy"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Plan for stack `staging`") and "```mermaid\nflowchart LR" in out


def mermaid_cli() -> list[str] | None:
    """MERMAID_CLI='npx -y -p @mermaid-js/mermaid-cli mmdc' style command, or mmdc on PATH."""
    command = os.environ.get("MERMAID_CLI")
    if command:
        return command.split()
    found = shutil.which("mmdc")
    return [found] if found else None


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_mermaid_renders_with_the_mermaid_cli(tmp_path, plan, name):
    command = mermaid_cli()
    if command is None:
        pytest.skip("Mermaid CLI not installed (npm i -g @mermaid-js/mermaid-cli, or set MERMAID_CLI)")
    diagrams = {"staging": mermaid(plan_config(name)) if name in SHIPPED else "", "prod": mermaid(plan)}
    source = tmp_path / "fleet.mmd"
    source.write_text(diagrams[name])
    extra = ["-p", os.environ["MERMAID_PUPPETEER_CONFIG"]] if os.environ.get("MERMAID_PUPPETEER_CONFIG") else []
    result = subprocess.run(
        [*command, *extra, "-i", str(source), "-o", str(tmp_path / "fleet.svg")],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<svg" in (tmp_path / "fleet.svg").read_text()
