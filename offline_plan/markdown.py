"""Markdown report of a plan, for the pull-request comment and the job summary.

Read in ten seconds: the fleet (table and Mermaid diagram), where the resources go, what is protected,
the DR figures the capabilities export, and the guardrail results. Capability outputs are read
defensively: a stack without a capability simply has no row or edge for it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from components.clouds import CLOUDS

from .capture import Plan, PlannedResource
from .costs import estimate_cost
from .estimate import change_urns, estimate
from .report import FLEET, ReportOptions, describe_hub, judge_notes, resources_per_cluster, telemetry_hubs
from .values import is_dict

if TYPE_CHECKING:
    from components.outputs import (
        BackupOutputs,
        ClusterOutputs,
        DnsRecordOutputs,
        GitopsOutputs,
        LinkOutputs,
        MeshGroupOutputs,
        MeshOutputs,
        RegistrationOutputs,
    )

MAX_LISTED = 40
CLOUD_DISPLAY = {cloud: t.display_name for cloud, t in CLOUDS.items()}


@dataclass(frozen=True)
class FleetCluster:
    name: str
    cloud: str
    region: str
    role: str
    residency: str | None


def render(plan: Plan, options: ReportOptions | None = None) -> str:
    options = options or ReportOptions()
    results = options.policy_results(plan)
    sections = [
        _header(plan, results, options),
        _judge_section(options),
        _diff_section(options),
        _clusters_section(plan),
        _diagram_section(plan),
        _resources_section(plan),
        _protected_section(plan),
        _dr_section(plan),
        _observability_section(plan),
        _estimate_section(plan, options.parallelism, options.diff),
        _cost_section(plan),
        _policy_section(results),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


# --- reading the plan --------------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if is_dict(value) else {}


def _records(outputs: dict[str, Any]) -> dict[str, DnsRecordOutputs]:
    """`dns.records`, each as the program exports it (entries still unknown in a preview left out)."""
    records = _dict(_dict(outputs.get("dns")).get("records"))
    return {name: cast("DnsRecordOutputs", r) for name, r in records.items() if is_dict(r)}


def _gitops(outputs: dict[str, Any]) -> GitopsOutputs | None:
    gitops = outputs.get("gitops")
    return cast("GitopsOutputs", gitops) if is_dict(gitops) else None


def _list_at(data: dict[str, Any], key: str) -> list[Any]:
    """`data.get(key, [])`: the list an output holds under `key`."""
    return data.get(key, [])


def fleet_clusters(plan: Plan) -> list[FleetCluster]:
    """The clusters from the exported `clusters` output (cloud, region, role), labels from gitops when known."""
    gitops = _dict(plan.outputs.get("gitops"))
    registrations = cast("list[RegistrationOutputs]", [c for c in _list_at(gitops, "clusters") if is_dict(c)])
    residencies = {c.get("name"): c.get("labels", {}).get("residency") for c in registrations}
    clusters: list[FleetCluster] = []
    exported = {n: cast("ClusterOutputs", d) for n, d in _dict(plan.outputs.get("clusters")).items() if is_dict(d)}
    for name, data in sorted(exported.items()):
        clusters.append(
            FleetCluster(
                name=name,
                cloud=str(data.get("cloud", "?")),
                region=str(data.get("region", "?")),
                role=str(data.get("role", "?")),
                residency=residencies.get(name),
            )
        )
    return clusters


def _component_of(plan: Plan) -> dict[str, PlannedResource]:
    """Each resource's top-level component (the child of the stack it sits under)."""
    by_urn = {r.urn: r for r in plan.resources}
    top: dict[str, PlannedResource] = {}
    for r in plan.resources:
        node = r
        while node.parent in by_urn:
            node = by_urn[node.parent]
        top[r.urn] = node
    return top


def resources_per_component(plan: Plan) -> list[tuple[str, str, int]]:
    """(component type, component name, custom resources under it), for each top-level component."""
    top = _component_of(plan)
    counts: Counter[str] = Counter(
        top[r.urn].urn for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:")
    )
    by_urn = {r.urn: r for r in plan.resources}
    rows = [(by_urn[urn].type, by_urn[urn].name, count) for urn, count in counts.items()]
    return sorted(rows)


# --- sections ------------------------------------------------------------------------------------------


def _header(plan: Plan, results: list[dict[str, Any]], options: ReportOptions) -> str:
    o = plan.outputs
    custom = [r for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    failed = [r for r in results if r["violations"]]
    verdict = (
        f"✅ all {len(results)} guardrails pass"
        if not failed
        else f"❌ {len(failed)} of {len(results)} guardrails fail"
    )
    facts = ", ".join(str(o[k]) for k in ("environment", "topology", "failover") if isinstance(o.get(k), str))
    protected = sum(1 for r in plan.resources if r.protect)
    judged = ""
    if options.findings is not None:
        judged = (
            " · ✅ the judge passes" if not options.findings else f" · ❌ the judge rejects {len(options.findings)}"
        )
    mode = " (first preview)" if plan.mode == "preview" else ""
    return (
        f"## Plan for stack `{plan.stack}`{mode}" + (f" ({facts})" if facts else "") + "\n\n"
        f"**{len(custom)} resources** in {len(fleet_clusters(plan))} cluster(s) · "
        f"{protected} protected · {verdict}{judged}"
    )


def _judge_section(options: ReportOptions) -> str:
    if options.findings is None:
        return ""
    notes = "".join(f"\n\n_{note}_" for note in judge_notes(options))
    if not options.findings:
        return "### Judge (clouds, Kubernetes, Helm, engine)\n\nNothing would be rejected." + notes
    lines = [f"- {finding}" for finding in options.findings[:MAX_LISTED]]
    more = f"\n- … and {len(options.findings) - MAX_LISTED} more" if len(options.findings) > MAX_LISTED else ""
    return "### Judge (clouds, Kubernetes, Helm, engine)\n\n" + "\n".join(lines) + more + notes


def _diff_section(options: ReportOptions) -> str:
    if options.diff is None:
        return ""
    from .diff import render_markdown as render_diff

    return render_diff(options.diff)


def _clusters_section(plan: Plan) -> str:
    clusters = fleet_clusters(plan)
    if not clusters:
        return ""
    per_cluster = resources_per_cluster(plan)
    residency = any(c.residency for c in clusters)
    head = "| cloud | region | cluster | role |" + (" residency |" if residency else "") + " resources |"
    rule = "|---|---|---|---|" + ("---|" if residency else "") + "---:|"
    rows = [
        f"| {CLOUD_DISPLAY.get(c.cloud, c.cloud)} | {c.region} | `{c.name}` | {c.role} |"
        + (f" {c.residency or '-'} |" if residency else "")
        + f" {per_cluster.get(c.name, 0)} |"
        for c in sorted(clusters, key=lambda c: (c.cloud, c.region, c.name))
    ]
    shared = per_cluster.get(FLEET, 0)
    footer = f"\n\n{shared} resource(s) belong to no single cluster (links, DNS, identities)." if shared else ""
    return "### Clusters\n\n" + "\n".join([head, rule, *rows]) + footer


def _diagram_section(plan: Plan) -> str:
    diagram = mermaid(plan)
    return f"### Fleet\n\n```mermaid\n{diagram}\n```" if diagram else ""


def _resources_section(plan: Plan) -> str:
    rows = resources_per_component(plan)
    if not rows:
        return ""
    lines = ["| component | name | resources |", "|---|---|---:|"]
    lines += [f"| `{type_}` | {name} | {count} |" for type_, name, count in rows]
    return "### Resources per component\n\n" + "\n".join(lines)


def _protected_section(plan: Plan) -> str:
    protected = sorted((r.type, r.name, r.retain_on_delete) for r in plan.resources if r.protect)
    if not protected:
        return "### Protected\n\nNothing is protected (`multicluster:protect` is off)."
    lines = [f"- `{name}` ({type_}){' · retained on delete' if retain else ''}" for type_, name, retain in protected]
    shown = lines[:MAX_LISTED]
    more = f"\n- … and {len(lines) - MAX_LISTED} more" if len(lines) > MAX_LISTED else ""
    return (
        f"### Protected\n\n<details><summary>{len(protected)} protected resource(s): "
        "Pulumi refuses to delete them</summary>\n\n" + "\n".join(shown) + more + "\n\n</details>"
    )


def _dr_section(plan: Plan) -> str:
    o = plan.outputs
    lines: list[str] = []
    for name, record in sorted(_records(o).items()):
        seconds = record.get("failoverSeconds")
        figure = f"{seconds:g} s" if isinstance(seconds, int | float) else "no failover (single endpoint)"
        lines.append(f"| DNS failover `{record.get('fqdn', name)}` ({record.get('routing', '?')}) | {figure} |")
    backups = {n: cast("BackupOutputs", b) for n, b in _dict(o.get("backup")).items() if is_dict(b)}
    for cluster, backup in sorted(backups.items()):
        if "rpo" in backup or "rpoMinutes" in backup:
            restore = ", ".join(backup.get("restoreLocations", []) or []) or "-"
            lines.append(f"| Backup RPO `{cluster}` (restorable from: {restore}) | {backup.get('rpo', '?')} |")
        drill = backup.get("drill")
        if is_dict(drill):
            sources = ", ".join(drill.get("sources", []))
            lines.append(
                f"| Restore drill into `{cluster}` from {sources} (`{drill.get('cron')}`, "
                f"{', '.join(drill.get('namespaces', []))}) | expected RPO {drill.get('expectedRpoMinutes', 0):g} min |"
            )
    if not lines:
        return "### Disaster recovery\n\nNo DR figures yet (configure `multicluster:dns` and `multicluster:backup`)."
    return "### Disaster recovery\n\n| figure | value |\n|---|---|\n" + "\n".join(lines)


def _observability_section(plan: Plan) -> str:
    hubs = telemetry_hubs(plan)
    if not hubs:
        return ""
    return "### Observability\n\n" + "\n".join(f"- {describe_hub(name, hub)}" for name, hub in sorted(hubs.items()))


def _estimate_section(plan: Plan, parallelism: int, diff: dict[str, Any] | None = None) -> str:
    """Deploy time of the change (with --diff), and from scratch (also the rebuild time of a lost region), with
    the critical path of the first."""
    e = estimate(plan, parallelism, change_urns(diff) if diff is not None else None)
    if not e:
        return ""
    rows = "\n".join(
        f"| {s['startMinute']} | {s['minutes']} | `{s['type']}` | {s['name']} |"
        for s in e["criticalPath"]
        if s["minutes"]
    )
    what = "this change" if diff is not None else "from scratch"
    text = (
        f"## Deploy-time estimate\n\n{what}: {e['unboundedMinutes']} min unbounded, {e['parallelMinutes']} min at "
        f"`--parallel {e['parallelism']}` (recommended: `--parallel {e['recommendedParallelism']}`)."
    )
    if diff is not None:
        scratch = estimate(plan, parallelism)
        text += f" From scratch: {scratch['unboundedMinutes']} min unbounded."
    return f"{text}\n\n| start (min) | minutes | type | resource |\n|---:|---:|---|---|\n{rows}"


def _cost_section(plan: Plan) -> str:
    """The monthly cost at list prices, per cluster and capability, against the budget."""
    cost = estimate_cost(plan)
    budget = cost["budget"]
    verdict = ""
    if budget is not None:
        verdict = (
            f" ⚠️ over the monthly budget of ${budget['amount']:,.0f}."
            if budget["exceeded"]
            else f" Within the monthly budget of ${budget['amount']:,.0f}."
        )
    clusters = "\n".join(f"| {k} | ${v:,.2f} |" for k, v in cost["perCluster"].items())
    capabilities = "\n".join(f"| {k} | ${v:,.2f} |" for k, v in cost["perCapability"].items())
    return (
        f"## Cost estimate\n\n${cost['monthly']:,.2f}/month at list prices ({cost['pricesDate']}), without usage "
        f"({cost['excluded']}).{verdict}\n\n| cluster | per month |\n|---|---:|\n{clusters}\n\n"
        f"| capability | per month |\n|---|---:|\n{capabilities}"
    )


def _policy_section(results: list[dict[str, Any]]) -> str:
    if not results:
        return ""
    lines = ["| guardrail | result |", "|---|---|"]
    details: list[str] = []
    for result in results:
        count = len(result["violations"])
        lines.append(f"| `{result['policy']}` | {'✅ pass' if not count else f'❌ {count} violation(s)'} |")
        for v in result["violations"]:
            details.append(f"- **{result['policy']}**: {v['message']}")
    text = "### Guardrails (policy pack, run offline)\n\n" + "\n".join(lines)
    if details:
        text += "\n\n**Violations**\n\n" + "\n".join(details)
    return text


# --- Mermaid -------------------------------------------------------------------------------------------


def node_id(*parts: str) -> str:
    """A Mermaid-safe identifier (letters, digits, underscores)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def _quote(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(plan: Plan) -> str:
    """The fleet as a Mermaid flowchart: clusters by cloud and region, links, mesh, GitOps hub, DNS entries."""
    clusters = fleet_clusters(plan)
    if not clusters:
        return ""
    o = plan.outputs
    gitops = _gitops(o)
    hub = gitops.get("hub") if gitops else None
    lines = ["flowchart LR"]
    for cloud in sorted({c.cloud for c in clusters}):
        lines.append(f"  subgraph {node_id('cloud', cloud)}[{_quote(CLOUD_DISPLAY.get(cloud, cloud))}]")
        for region in sorted({c.region for c in clusters if c.cloud == cloud}):
            lines.append(f"    subgraph {node_id('region', cloud, region)}[{_quote(region)}]")
            for c in (c for c in clusters if c.cloud == cloud and c.region == region):
                lines.append(f"      {node_id('c', c.name)}[{_quote(_cluster_text(c, hub))}]")
            lines.append("    end")
        lines.append("  end")
    names = {c.name for c in clusters}
    lines += _link_edges(o, names)
    lines += _mesh_edges(o, names)
    lines += _gitops_edges(o, names)
    lines += _dns_edges(o, names)
    return "\n".join(lines)


def _cluster_text(c: FleetCluster, hub: Any) -> str:
    extras = (
        [c.role] + ([f"residency {c.residency}"] if c.residency else []) + (["Argo CD hub"] if c.name == hub else [])
    )
    return f"{c.name}<br/>{' · '.join(extras)}"


def _link_edges(o: dict[str, Any], names: set[str]) -> list[str]:
    edges: list[str] = []
    links = _dict(_dict(o.get("connectivity")).get("links"))
    for link in (cast("LinkOutputs", link) for link in links.values() if is_dict(link)):
        ends = [n for n in link.get("clusters", []) if n in names]
        if len(ends) == 2:
            kind = str(link.get("kind", "link"))
            edges.append(f"  {node_id('c', ends[0])} <-->|{_quote(kind)}| {node_id('c', ends[1])}")
    return edges


def _mesh_edges(o: dict[str, Any], names: set[str]) -> list[str]:
    mesh = cast("MeshOutputs", _dict(o.get("mesh")))
    edges: list[str] = []
    groups = {k: cast("MeshGroupOutputs", g) for k, g in _dict(mesh.get("meshes")).items() if is_dict(g)}
    for group, data in sorted(groups.items()):
        members = [n for n in data.get("clusters", []) if n in names]
        label = _quote(f"{mesh.get('provider', 'mesh')} mesh {data.get('meshId', group)}")
        for a, b in _pairs(members):
            edges.append(f"  {node_id('c', a)} -.-|{label}| {node_id('c', b)}")
    return edges


def _pairs(members: list[str]) -> Iterable[tuple[str, str]]:
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            yield a, b


def _gitops_edges(o: dict[str, Any], names: set[str]) -> list[str]:
    gitops = _gitops(o)
    hub = gitops.get("hub") if gitops else None
    if gitops is None or hub not in names:
        return []
    registered = [c.get("name") for c in gitops.get("clusters", []) if is_dict(c)]
    return [
        f"  {node_id('c', hub)} ==>|{_quote('Argo CD')}| {node_id('c', name)}"
        for name in registered
        if name in names and name != hub
    ]


def _dns_edges(o: dict[str, Any], names: set[str]) -> list[str]:
    lines: list[str] = []
    for name, record in sorted(_records(o).items()):
        entry = node_id("dns", name)
        lines.append(f"  {entry}([{_quote(str(record.get('fqdn', name)) + ' · ' + str(record.get('routing', '')))}])")
        targets: list[str] = []
        for members in _dict(record.get("endpoints")).values():
            listed: list[Any] = members or []
            targets += [m for m in listed if m in names and m not in targets]
        lines += [f"  {entry} --> {node_id('c', target)}" for target in targets]
    return lines
