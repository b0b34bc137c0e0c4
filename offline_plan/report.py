"""Rendering a captured plan: JSON for machines, a tree and a summary for people.

The Markdown report (markdown.py) builds on this module's options and figures; this module never imports it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from components.outputs import DnsOutputs, DnsRecordOutputs, ObservabilityOutputs, TelemetryHubOutputs

from .capture import Plan, PlannedResource
from .costs import CostEstimate, estimate_cost
from .estimate import DEFAULT_PARALLELISM, change_urns, estimate
from .owners import FLEET, cluster_owners
from .values import is_dict, masked, shown

if TYPE_CHECKING:
    from .judge.rules import Finding


@dataclass(frozen=True)
class ReportOptions:
    show_secrets: bool = False
    policy: bool = False
    parallelism: int = DEFAULT_PARALLELISM
    # Guardrail results already computed (the CLI needs them for its exit code too): run them once.
    computed_policy_results: list[dict[str, Any]] | None = None
    # What the judge found (None: the judge did not run), the upstream data it used, the diff to a base plan.
    findings: list[Finding] | None = None
    upstream: Path | None = None
    diff: dict[str, Any] | None = None

    def policy_results(self, plan: Plan) -> list[dict[str, Any]]:
        if self.computed_policy_results is not None:
            return self.computed_policy_results
        return policy_results(plan)


def to_json(plan: Plan, options: ReportOptions | None = None) -> dict[str, Any]:
    """The plan as one JSON object (see README: offline plan)."""
    options = options or ReportOptions()
    view = shown if options.show_secrets else masked
    document: dict[str, Any] = {
        "project": plan.project,
        "stack": plan.stack,
        "mode": plan.mode,
        "resources": [_resource_json(r, view) for r in plan.resources],
        "outputs": view(plan.raw_outputs),
        "estimates": estimate(plan, options.parallelism),
        "costEstimate": estimate_cost(plan),
    }
    if options.diff is not None:
        document["changeEstimate"] = estimate(plan, options.parallelism, change_urns(options.diff))
    if options.findings is not None:
        document["judge"] = judge_json(options)
    if options.policy:
        document["policies"] = options.policy_results(plan)
    if options.diff is not None:
        document["diff"] = options.diff
    return document


def cost_line(cost: CostEstimate) -> str:
    """The text summary's cost line: the monthly floor, the largest shares, and the budget when it is exceeded."""
    shares = sorted(cost["perCapability"].items(), key=lambda kv: -kv[1])[:4]
    parts = ", ".join(f"{k} ${v:,.0f}" for k, v in shares)
    line = f"estimated cost: ${cost['monthly']:,.0f}/month at list prices ({parts})"
    budget = cost["budget"]
    if budget is not None and budget["exceeded"]:
        line += f"; WARNING: over the monthly budget of ${budget['amount']:,.0f}"
    if cost["unpriced"]:
        line += f"; no price for {', '.join(cost['unpriced'])}"
    return line


def judge_json(options: ReportOptions) -> dict[str, Any]:
    findings = options.findings or []
    return {
        "passed": not findings,
        "findings": [f.as_json() for f in findings],
        "upstream": options.upstream.name if options.upstream else None,
        "notes": judge_notes(options),
    }


def judge_notes(options: ReportOptions) -> list[str]:
    if options.upstream is None:
        return ["no upstream chart data (--upstream): chart versions, chart values and custom resources not checked"]
    return []


def policy_results(plan: Plan) -> list[dict[str, Any]]:
    """Guardrail policy results over the plan (the pack in policy/, run offline)."""
    from .policy import run_policies

    return run_policies(plan)


def _resource_json(r: PlannedResource, view: Callable[[Any], Any]) -> dict[str, Any]:
    return {
        "urn": r.urn,
        "id": r.id if r.custom else None,
        "type": r.type,
        "name": r.name,
        "custom": r.custom,
        "parent": r.parent,
        "provider": r.provider_urn,
        "dependencies": r.dependencies,
        "inputs": view(r.raw_inputs),
        "outputs": view(r.raw_outputs),
        "secretInputs": r.secret_inputs,
        "protect": r.protect,
        "retainOnDelete": r.retain_on_delete,
        "deleteBeforeReplace": r.delete_before_replace,
    }


def resources_per_cluster(plan: Plan) -> Counter[str]:
    """Custom resources that land in or belong to each cluster: under its component or through its providers."""
    owner = cluster_owners(plan)
    counts: Counter[str] = Counter()
    for r in plan.resources:
        if r.custom and not r.type.startswith("pulumi:providers:"):
            counts[owner(r) or FLEET] += 1
    return counts


def summary(plan: Plan) -> dict[str, Any]:
    """Figures a reviewer wants first: counts per cluster and component, protection, DR numbers."""
    per_cluster = resources_per_cluster(plan)
    components = Counter(r.type for r in plan.resources if not r.custom)
    dns = cast("DnsOutputs | None", plan.outputs.get("dns"))
    records: dict[str, DnsRecordOutputs] = (dns.get("records") if dns else None) or {}
    return {
        "resources": sum(1 for r in plan.resources if r.custom),
        "components": sum(components.values()),
        "perCluster": dict(sorted(per_cluster.items())),
        "perComponentType": dict(sorted(components.items())),
        "protected": sorted(r.name for r in plan.resources if r.protect),
        "retainOnDelete": sorted(r.name for r in plan.resources if r.retain_on_delete),
        "failoverSeconds": {record["fqdn"]: record.get("failoverSeconds") for record in records.values()},
        "observability": {
            hub: {k: outputs.get(k) for k in ("scope", "grafanaUrl", "queryUrl", "retentionDays", "alertReceivers")}
            for hub, outputs in telemetry_hubs(plan).items()
        },
    }


def telemetry_hubs(plan: Plan) -> dict[str, TelemetryHubOutputs]:
    """`observability.hubs`, as the program exports it (empty without the block)."""
    block = cast("ObservabilityOutputs | None", plan.outputs.get("observability"))
    hubs: Any = block.get("hubs") if isinstance(block, dict) else None
    if not is_dict(hubs):
        return {}
    # In a first preview an entry may still be unknown: only the hubs that are there.
    return {str(name): cast("TelemetryHubOutputs", hub) for name, hub in hubs.items() if is_dict(hub)}


def describe_hub(name: str, hub: TelemetryHubOutputs) -> str:
    """One line per hub: whom it serves, where to query and look, how long it keeps what."""
    days = hub.get("retentionDays") or {}
    kept = ", ".join(f"{what} {days[what]:g} d" for what in ("metrics", "logs", "traces") if what in days)
    scope = ", ".join(hub.get("scope") or [])
    return f"observability hub {name} ({scope}): grafana {hub.get('grafanaUrl')}, query {hub.get('queryUrl')}; {kept}"


def render_text(plan: Plan, console: Console, options: ReportOptions | None = None) -> None:
    options = options or ReportOptions()
    console.print(_tree(plan))
    figures = summary(plan)
    table = Table(
        title=f"Plan for stack {plan.stack}: {figures['resources']} resources in {figures['components']} components"
    )
    table.add_column("cluster / scope")
    table.add_column("resources", justify="right")
    for name, count in figures["perCluster"].items():
        table.add_row(name, str(count))
    console.print(table)
    console.print(f"protected: {', '.join(figures['protected']) or 'nothing'}")
    for fqdn, seconds in figures["failoverSeconds"].items():
        console.print(
            f"dns {fqdn}: traffic leaves a failed cluster within {int(seconds)} s"
            if seconds is not None
            else f"dns {fqdn}: one cluster per name, no failover"
        )
    for name, hub in telemetry_hubs(plan).items():
        console.print(describe_hub(name, hub), markup=False, highlight=False)
    estimates = estimate(plan, options.parallelism)
    if estimates:
        console.print(
            f"estimated deploy time from scratch: {estimates.get('unboundedMinutes')} min unbounded, "
            f"{estimates.get('parallelMinutes')} min at --parallel {options.parallelism}"
        )
    console.print(cost_line(estimate_cost(plan)), markup=False, highlight=False)
    if options.diff is not None:
        change = estimate(plan, options.parallelism, change_urns(options.diff))
        console.print(
            f"estimated deploy time of this change: {change['unboundedMinutes']} min unbounded, "
            f"{change['parallelMinutes']} min at --parallel {options.parallelism}"
        )
    if options.policy:
        failed = [r for r in options.policy_results(plan) if r.get("violations")]
        console.print(f"policies: {'all passed' if not failed else f'{len(failed)} failed'}")
    if options.findings is not None:
        findings = options.findings
        console.print(f"judge: {'passed' if not findings else f'{len(findings)} rejection(s), see below'}")
        for note in judge_notes(options):
            console.print(f"judge: {note}")
    if plan.mode == "preview":
        console.print(
            f"first preview: {len(plan.unconfigured_providers)} provider(s) unconfigured "
            "(what they deploy has no outputs yet)"
        )
    if options.diff is not None:
        from .diff import render_text as render_diff

        for line in render_diff(options.diff):
            console.print(line, markup=False, highlight=False)


def _tree(plan: Plan) -> Tree:
    root = Tree(f"[bold]{plan.project}-{plan.stack}[/bold]")
    children: dict[str | None, list[PlannedResource]] = defaultdict(list)
    for r in plan.resources:
        children[r.parent].append(r)
    stack_urns = {r.parent for r in plan.resources if r.parent and r.parent.endswith(f"::{plan.project}-{plan.stack}")}

    def add(node: Tree, parent_urn: str) -> None:
        kids = children.get(parent_urn, [])
        for component in (k for k in kids if not k.custom):
            add(node.add(f"[cyan]{component.type}[/cyan] {component.name}"), component.urn)
        counts = Counter(k.type for k in kids if k.custom)
        for type_, count in sorted(counts.items()):
            protected = sum(1 for k in kids if k.type == type_ and k.protect)
            flag = f" [red](protected: {protected})[/red]" if protected else ""
            node.add(f"{type_} x{count}{flag}")

    for stack_urn in sorted(stack_urns):
        add(root, stack_urn)
    return root
