"""What a change does, against a saved plan: resources created, deleted and changed (input by input).

The base is a plan saved with `--format json` (for a pull request: the base branch's plan). Both sides are
compared through the same masked view, so secrets never show and never count as changes. A resource
renamed with an alias to its old URN is a rename, not a delete and a create.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .capture import Plan
from .judge.rules import Finding
from .values import is_dict, is_list, masked

MAX_VALUE = 120


class BasePlanError(Exception):
    """The base plan cannot be read."""


@dataclass(frozen=True)
class BasePlan:
    path: Path
    stack: str
    resources: dict[str, dict[str, Any]]  # URN -> the saved resource

    def state(self) -> dict[str, dict[str, Any]]:
        """What an update preview starts from: each resource's id and outputs."""
        return {urn: {"id": r.get("id"), "outputs": r.get("outputs") or {}} for urn, r in self.resources.items()}


def load_base(path: Path) -> BasePlan:
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise BasePlanError(f"cannot read the base plan {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise BasePlanError(
            f"the base plan {path} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "save it with: python -m offline_plan --stack NAME --format json > base.json"
        ) from None
    resources = document.get("resources") if is_dict(document) else None
    if not is_list(resources) or not all(is_dict(r) and "urn" in r for r in resources):
        raise BasePlanError(f"the base plan {path} is not a plan saved with --format json (no 'resources' list)")
    return BasePlan(path, str(document.get("stack", "")), {r["urn"]: r for r in resources})


def changes(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """Input by input: the paths whose values differ, with both values."""
    if is_dict(before) and is_dict(after):
        found: list[dict[str, Any]] = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in before:
                found.append({"path": where, "before": None, "after": _short(after[key]), "kind": "added"})
            elif key not in after:
                found.append({"path": where, "before": _short(before[key]), "after": None, "kind": "removed"})
            else:
                found += changes(before[key], after[key], where)
        return found
    if before != after:
        return [{"path": path or "(value)", "before": _short(before), "after": _short(after), "kind": "changed"}]
    return []


def _short(value: Any) -> Any:
    text = json.dumps(value, sort_keys=True)
    return value if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


PROTECT_DOC = (
    "Pulumi resource options, protect: 'A protected resource cannot be deleted directly. Instead, you must first "
    "set protect: false and run pulumi up' (https://www.pulumi.com/docs/iac/concepts/options/protect/)"
)


def protected_deletions(base: BasePlan, plan: Plan) -> list[Finding]:
    """What the engine refuses in the update: deleting a resource the base protects (the run stops there,
    after whatever it already deleted: the half-deleted cluster). Unprotect first, then remove."""
    current = {r.urn for r in plan.resources} | {alias for r in plan.resources for alias in r.aliases}
    return [
        Finding(
            urn,
            "the Pulumi engine",
            "it is protected and no longer in the program, so the update would stop when it reaches it; "
            "unprotect it in one `pulumi up` first (clusters[i].protect: false), then remove it (docs/lifecycle.md)",
            PROTECT_DOC,
        )
        for urn, saved in sorted(base.resources.items())
        if saved.get("protect") and urn not in current
    ]


K8S_PROVIDER_DOC = (
    "pulumi-kubernetes provider.go: with the cluster unreachable, Create fails ('configured Kubernetes cluster is "
    "unreachable'), Delete fails unless deleteUnreachable, and a Helm release is never deleted ('can't delete Helm "
    "Release with unreachable cluster')"
)


def _provider_urn(reference: Any) -> str:
    return str(reference or "").rsplit("::", 1)[0]


def outage_refusals(base: BasePlan, plan: Plan) -> list[Finding]:
    """What pulumi-kubernetes refuses on a cluster the config says is down (multicluster:outage)."""
    inputs: dict[str, dict[str, Any]] = {urn: saved.get("inputs") or {} for urn, saved in base.resources.items()}
    inputs.update({r.urn: r.inputs for r in plan.resources if r.type == "pulumi:providers:kubernetes"})

    # Provider configuration reaches the plugin as text: "true", not true.
    def flag(provider: dict[str, Any], key: str) -> bool:
        return str(provider.get(key)).lower() == "true"

    down = {urn for urn, i in inputs.items() if flag(i, "skipUpdateUnreachable") or flag(i, "deleteUnreachable")}
    lost = {urn for urn in down if flag(inputs[urn], "deleteUnreachable")}
    found: list[Finding] = []
    current = {r.urn: r for r in plan.resources}
    for r in plan.resources:
        if r.urn not in base.resources and r.provider_urn in down:
            found.append(
                Finding(
                    r.urn,
                    "the Kubernetes provider",
                    "it would be created on a cluster listed in multicluster:outage, whose API server is unreachable: "
                    "leave it out of this update and add it once the cluster is back",
                    K8S_PROVIDER_DOC,
                )
            )
    for urn, saved in sorted(base.resources.items()):
        provider = _provider_urn(saved.get("provider"))
        if urn in current or provider not in down:
            continue
        if saved.get("type") == "kubernetes:helm.sh/v3:Release":
            rule = f"a Helm release on an unreachable cluster cannot be deleted: `pulumi state delete '{urn}'` first"
        elif provider not in lost:
            rule = (
                "it would be deleted on an unreachable cluster, which fails: list the cluster in "
                "multicluster:outage.lost to let its resources leave the state (docs/lifecycle.md)"
            )
        else:
            continue
        found.append(Finding(urn, "the Kubernetes provider", rule, K8S_PROVIDER_DOC))
    return found


def diff(base: BasePlan, plan: Plan) -> dict[str, Any]:
    current = {r.urn: r for r in plan.resources}
    renamed = {alias: r.urn for r in plan.resources for alias in r.aliases if alias in base.resources}
    created = sorted(urn for urn in current if urn not in base.resources and urn not in renamed.values())
    deleted = sorted(urn for urn in base.resources if urn not in current and urn not in renamed)
    updated: list[dict[str, Any]] = []
    for urn in sorted(set(current) & set(base.resources)):
        resource, saved = current[urn], base.resources[urn]
        found = changes(saved.get("inputs") or {}, masked(resource.raw_inputs))
        for option, key in (("protect", "protect"), ("retainOnDelete", "retain_on_delete")):
            if bool(saved.get(option)) != bool(getattr(resource, key)):
                found.append(
                    {"path": f"(option {option})", "before": saved.get(option), "after": getattr(resource, key)}
                )
        if found:
            updated.append({"urn": urn, "type": resource.type, "changes": found})
    return {
        "base": str(base.path),
        "create": [{"urn": urn, "type": current[urn].type} for urn in created],
        "delete": [{"urn": urn, "type": base.resources[urn].get("type")} for urn in deleted],
        "rename": [{"from": old, "to": new} for old, new in sorted(renamed.items())],
        "update": updated,
        "summary": {"create": len(created), "delete": len(deleted), "update": len(updated), "rename": len(renamed)},
    }


def render_text(document: dict[str, Any]) -> list[str]:
    s = document["summary"]
    lines = [
        f"against {document['base']}: {s['create']} to create, {s['update']} to update, "
        f"{s['delete']} to delete, {s['rename']} renamed"
    ]
    lines += [f"  + {r['urn']}" for r in document["create"]]
    lines += [f"  - {r['urn']}" for r in document["delete"]]
    lines += [f"  > {r['from']} -> {r['to']}" for r in document["rename"]]
    lines += [f"  ! {w}" for w in document.get("warnings", [])]
    for r in document["update"]:
        lines.append(f"  ~ {r['urn']}")
        lines += [f"      {c['path']}: {json.dumps(c['before'])} -> {json.dumps(c['after'])}" for c in r["changes"]]
    return lines


def render_markdown(document: dict[str, Any], limit: int = 60) -> str:
    s = document["summary"]
    head = (
        f"### Changes against the base plan\n\n**{s['create']}** to create · **{s['update']}** to update · "
        f"**{s['delete']}** to delete · {s['rename']} renamed"
    )
    if not any(s.values()):
        return head + "\n\nNo change."
    lines = render_text(document)[1:]
    shown = lines[:limit]
    more = f"\n… and {len(lines) - limit} more lines (see the JSON plan)" if len(lines) > limit else ""
    return (
        head
        + "\n\n<details><summary>Every change</summary>\n\n```diff\n"
        + "\n".join(shown)
        + more
        + "\n```\n\n</details>"
    )


# --- upgrade waves ------------------------------------------------------------------------------------------

# The resource input that carries each cloud's control-plane Kubernetes version (components/eks.py `version`,
# components/gke.py `min_master_version`).
VERSION_INPUTS = {"aws:eks/cluster:Cluster": "version", "gcp:container/cluster:Cluster": "minMasterVersion"}
WAVES_DOC = "docs/upgrading.md, upgrade waves: one cluster of a failover group per change, the next after its checks"


@dataclass(frozen=True)
class VersionChange:
    cluster: str  # the fleet cluster's name
    urn: str
    before: str
    after: str


def version_changes(base: BasePlan, plan: Plan, cluster_types: tuple[str, ...]) -> list[VersionChange]:
    """Clusters whose control-plane Kubernetes version this change moves (the version-bearing child of each
    cluster component, compared with the base plan's input)."""
    components = {r.urn: r.name for r in plan.resources if r.type in cluster_types}
    found: list[VersionChange] = []
    for r in plan.resources:
        key = VERSION_INPUTS.get(r.type)
        saved = base.resources.get(r.urn)
        if key is None or saved is None or r.parent not in components:
            continue
        inputs: dict[str, Any] = saved.get("inputs") or {}
        before, after = inputs.get(key), r.inputs.get(key)
        if isinstance(before, str) and isinstance(after, str) and before != after:
            found.append(VersionChange(components[r.parent], r.urn, before, after))
    return found


def upgrade_waves(
    changed: list[VersionChange], groups: dict[str, tuple[str, ...]], serving: set[str], refuse: bool
) -> tuple[list[Finding], list[str]]:
    """A change that moves the version of every serving cluster of a failover group (the fleet, or a residency)
    at once leaves the group nothing to fail over to if the new version breaks its workloads. Refused where the
    stack is protected (prod), warned elsewhere. Groups of one cluster cannot wave and are not flagged."""
    moved = {c.cluster: c for c in changed}
    refusals: list[Finding] = []
    warnings: list[str] = []
    for key, members in sorted(groups.items()):
        live = [m for m in members if m in serving]
        if len(live) < 2 or not all(m in moved for m in live):
            continue
        versions = ", ".join(f"{m} {moved[m].before} -> {moved[m].after}" for m in live)
        rule = (
            f"this change moves the Kubernetes version of every cluster of failover group {key!r} at once "
            f"({versions}): upgrade one cluster per change, the next after its health checks pass"
        )
        if refuse:
            refusals += [Finding(moved[m].urn, "the upgrade-wave rule", rule, WAVES_DOC) for m in live]
        else:
            warnings.append(f"warning: {rule} ({WAVES_DOC})")
    return refusals, warnings
