"""Region-loss simulation (`--region-down REGION`): what losing whole regions would do to the fleet, without
changing anything.

From the fleet plan and the DNS routing the program builds (components.dns.plan_record), for the lost regions:
the clusters lost; for each public name who answers after failover and after how many seconds; the residencies
left without a cluster and where their users go; which backups the survivors can still read (a bucket lives in
its cluster's region, so a lost cluster's backups are out of reach until the region returns); whether gitops
can still deploy; and how long rebuilding the lost clusters elsewhere takes (the critical path of creating their
resources with the rest in place) with the config change that does it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from components.config import ClusterConfig, StackConfig
from components.config.dns import DnsConfig
from components.config.regions import REGIONS_BY_CLOUD, any_region
from components.fleetplan import FleetPlan, plan_fleet
from components.routing import EndpointSet, RecordPlan

from .capture import Plan
from .estimate import estimate
from .report import cluster_owners

# Route 53: "If you create a record for a geographic region and the health check for that record fails, Route 53
# responds with the record for a larger geographic region that includes it ... or the default record"
# (docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-geo.html, "How Amazon Route 53 uses EDNS0").
ROUTE53_GEO_FALLBACK = "the default geolocation record"
# Cloud DNS: with health checks and geo fencing off (the default), "if all endpoints in the closest location are
# unhealthy, Cloud DNS returns the next closest healthy location" (cloud.google.com/dns/docs/routing-policies).
CLOUDDNS_GEO_FALLBACK = "the next closest geolocation with a healthy answer"


def regions_of(config: StackConfig) -> list[str]:
    """The regions the fleet's clusters run in, in config order."""
    return list(dict.fromkeys(c.region for c in config.clusters))


def simulate(config: StackConfig, plan: Plan, down: Iterable[str]) -> dict[str, Any]:
    """What losing the regions `down` would do (see the module docstring)."""
    regions = sorted(set(down))
    fleet = plan_fleet(config)
    lost = [c.name for c in config.clusters if c.region in regions]
    records, residencies = answers_after(config, fleet, regions)
    return {
        "regionsDown": regions,
        "clustersLost": lost,
        "records": records,
        "residenciesUnserved": residencies,
        "backups": backups_after(fleet, config, regions),
        "gitops": gitops_after(config, set(lost)),
        "rebuild": rebuild(config, plan, lost, regions),
        "survives": all(r["answeredBy"] for r in records) and not residencies,
    }


def answers_after(config: StackConfig, fleet: FleetPlan, down: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Each public name's answers, and the residencies left without a cluster, once `down` is lost."""
    alive = {c.name for c in config.clusters if c.region not in down and not c.drain}
    return [record_after(config, record, alive) for record in fleet.records], residencies_after(config, alive)


def record_after(config: StackConfig, record: RecordPlan, alive: set[str]) -> dict[str, Any]:
    """Who answers a public name once the lost clusters' health checks fail, and how long traffic takes to move."""
    dns = config.dns
    assert dns is not None
    zone = dns.zone
    sets = {s.name: set_after(dns, s, alive) for s in record.sets}
    answered = sorted({name for s in sets.values() for name in s["answeredBy"]})
    moved = [s["seconds"] for s in sets.values() if s["seconds"]]
    result: dict[str, Any] = {
        "fqdn": f"{record.record.name}.{zone}",
        "answeredBy": answered,
        "failoverSeconds": max(moved) if moved else 0,
    }
    if record.geo:
        result["residencies"] = {
            key: geo_answer(dns, config, sets[name], key) for key, name in record.residency_names.items()
        }
    return result


def set_after(dns: DnsConfig, endpoints: EndpointSet, alive: set[str]) -> dict[str, Any]:
    """One set of endpoints: who answers after the loss, and the seconds until the answers change (0: unchanged)."""
    serving = [c.name for c in endpoints.clusters]
    survivors = [name for name in serving if name in alive]
    if not survivors:
        return {"answeredBy": [], "seconds": None}
    if endpoints.mode == "failover":
        before = [endpoints.primary.name]
        after = [endpoints.primary.name] if endpoints.primary.name in alive else survivors
    else:
        before, after = serving, survivors
    if after == before:
        return {"answeredBy": after, "seconds": 0}
    # Detection (interval x failure threshold) plus what resolvers may still cache (the answer's TTL, the zone's:
    # components.routing.failover_seconds).
    seconds = dns.interval * dns.health_check.failure_threshold + dns.ttl
    return {"answeredBy": after, "seconds": seconds}


def geo_answer(dns: DnsConfig, config: StackConfig, after: dict[str, Any], residency: str) -> dict[str, Any]:
    if after["answeredBy"]:
        return {"answeredBy": after["answeredBy"], "servedInResidency": True}
    fallback = ROUTE53_GEO_FALLBACK if dns.provider == "route53" else CLOUDDNS_GEO_FALLBACK
    default = next((k for k, r in config.residencies.items() if r.default), None)
    return {
        "answeredBy": [],
        "servedInResidency": False,
        "usersGoTo": f"{fallback}" + (f" (residency {default!r})" if dns.provider == "route53" and default else ""),
    }


def residencies_after(config: StackConfig, alive: set[str]) -> list[str]:
    """Residencies (partitioned) left without a serving cluster: their users are served elsewhere, or not at all."""
    if config.topology != "partitioned":
        return []
    return [
        key for key in config.residencies if not any(c.residency == key and c.name in alive for c in config.clusters)
    ]


def backups_after(fleet: FleetPlan, config: StackConfig, down: list[str]) -> dict[str, Any]:
    """Per surviving cluster, the peers' backups it can still restore; the lost clusters' backups are in their
    (lost) regions: Velero buckets are regional, so they are out of reach until the region returns."""
    if config.backup is None:
        return {}
    region = {c.name: c.region for c in config.clusters}
    readable = {
        name: [p for p in peers if region[p] not in down]
        for name, peers in fleet.restore_peers.items()
        if region[name] not in down
    }
    unreachable = sorted(name for name in region if region[name] in down)
    return {"readableBySurvivors": readable, "unreachableUntilRegionReturns": unreachable}


def gitops_after(config: StackConfig, lost: set[str]) -> dict[str, Any]:
    if config.gitops is None:
        return {}
    gitops = config.gitops
    hub, standby = gitops.hub, gitops.standby_hub
    active = standby if gitops.active == "standbyHub" and standby else hub
    if active not in lost:
        return {"canDeploy": True, "hub": active}
    other = hub if active == standby else standby
    if other is not None and other not in lost:
        change = "active: hub" if other == hub else "active: standbyHub"
        return {
            "canDeploy": True,
            "hub": other,
            "promote": f"multicluster:gitops.{change}",
            "reason": f"the active hub {active} is lost; {other} has the same registrations and applications "
            f"and reconciles once promoted ({change})",
        }
    return {
        "canDeploy": False,
        "hub": active,
        "reason": f"the gitops hub {active} is in a lost region (no standby hub)",
    }


def rebuild(config: StackConfig, plan: Plan, lost: list[str], down: list[str]) -> dict[str, Any]:
    """The critical path of creating the lost clusters' resources again with the rest in place, and where."""
    if not lost:
        return {"minutes": 0.0, "changes": []}
    owner = cluster_owners(plan)
    theirs = [r for r in plan.resources if owner(r) in lost]
    figures = estimate(replace(plan, resources=theirs))
    changes = [relocation(config, i, c, down) for i, c in enumerate(config.clusters) if c.name in lost]
    return {"minutes": figures["unboundedMinutes"], "resources": len(theirs), "changes": changes}


def relocation(config: StackConfig, index: int, cluster: ClusterConfig, down: list[str]) -> str:
    """The config change that rebuilds a lost cluster in the nearest region of its cloud and continent that is
    up (and in its residency's regions or continents when partitioned)."""
    here = any_region(cluster.region)
    continent = here.continent if here else None
    residency = config.residencies.get(cluster.residency or "")
    used = {c.region for c in config.clusters}

    def allowed(name: str, continent_of: str) -> bool:
        if name in down or name == cluster.region:
            return False
        if residency is not None:
            return name in residency.regions or continent_of in residency.continents
        return continent_of == continent

    candidates = [r.name for r in REGIONS_BY_CLOUD[cluster.cloud].values() if allowed(r.name, r.continent)]
    country = cluster.region.split("-", 1)[0]  # us, eu, europe, asia...: the same geography first
    # Prefer a region of the same geography, then one the fleet does not use yet.
    candidates.sort(key=lambda name: (name.split("-", 1)[0] != country, name in used, name))
    where = f"multicluster:clusters[{index}].region"
    if not candidates:
        return f"{cluster.name}: no region of {cluster.cloud} is allowed and up to move it to ({where})"
    return f"{cluster.name}: set {where} to {candidates[0]} (and a network range that does not overlap the fleet's)"


def require_survival(config: StackConfig, plan: Plan) -> list[str]:
    """For `--require-survive region`: the single regions whose loss leaves a name unanswered or a residency
    without a cluster, with why."""
    fleet = plan_fleet(config)
    problems: list[str] = []
    for region in regions_of(config):
        records, unserved = answers_after(config, fleet, [region])
        for record in records:
            if not record["answeredBy"]:
                problems.append(f"losing {region} leaves {record['fqdn']} unanswered")
        for key in unserved:
            problems.append(f"losing {region} leaves residency {key!r} without a cluster")
    return problems


def render_text(result: dict[str, Any]) -> list[str]:
    lost = ", ".join(result["clustersLost"]) or "none"
    lines = [f"if {', '.join(result['regionsDown'])} went down: clusters lost: {lost}"]
    for record in result["records"]:
        who = ", ".join(record["answeredBy"]) or "NOBODY"
        lines.append(f"  {record['fqdn']}: answered by {who} after {record['failoverSeconds']} s")
        by_residency: dict[str, dict[str, Any]] = record.get("residencies") or {}
        for key, answer in by_residency.items():
            if not answer["servedInResidency"]:
                lines.append(f"    residency {key}: no cluster left; users go to {answer['usersGoTo']}")
    for key in result["residenciesUnserved"]:
        lines.append(f"  residency {key} has no cluster left")
    backups = result["backups"]
    if backups:
        for name, peers in backups["readableBySurvivors"].items():
            lines.append(f"  {name} can restore backups of: {', '.join(peers) or 'no peer'}")
        if backups["unreachableUntilRegionReturns"]:
            lost = ", ".join(backups["unreachableUntilRegionReturns"])
            lines.append(f"  backups of {lost} are in the lost region: out of reach until it returns")
    gitops = result["gitops"]
    if gitops:
        if not gitops["canDeploy"]:
            lines.append(f"  gitops: cannot deploy: {gitops['reason']}")
        elif "promote" in gitops:
            lines.append(f"  gitops: can deploy after promoting the standby: {gitops['reason']}")
        else:
            lines.append("  gitops: can deploy")
    rebuild_figures = result["rebuild"]
    if result["clustersLost"]:
        lines.append(f"  rebuilding the lost clusters elsewhere: about {rebuild_figures['minutes']} min")
        lines += [f"    {change}" for change in rebuild_figures["changes"]]
    lines.append("  survives: " + ("yes" if result["survives"] else "NO"))
    return lines
