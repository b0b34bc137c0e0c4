"""Alert rules and Grafana dashboards of the fleet, as data (pure: no Pulumi).

The rules are evaluated by the Thanos ruler of each hub over the Thanos query of its scope, so they see every
cluster's series (labelled `cluster`, `cloud`, `region`, `residency`) and go on firing when a whole cluster is
gone: a dead cluster cannot alert about itself. They cover what breaks HA/DR: a cluster or its API server
unreachable, a DNS health check failing, a backup older than the RPO, a failed backup or restore, mesh
certificates near expiry, a node pool at its maximum, an east-west gateway down.

Metric names are the exporters' own: kube-prometheus-stack's `up{job="apiserver"}`, kube-state-metrics'
`kube_node_labels`/`kube_deployment_status_replicas_available`, Velero's
`velero_backup_last_successful_timestamp`/`velero_backup_failure_total`/`velero_restore_failed_total`
(pkg/metrics/metrics.go), istiod's `citadel_server_cert_chain_expiry_timestamp`, Linkerd identity's
`issuer_cert_ttl_seconds`, and the OpenTelemetry httpcheck receiver's `httpcheck_status`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Rules the hub's Thanos ruler evaluates carry this label (its ruleSelector); Prometheus ignores them.
RULER_LABEL = {"multicluster.io/evaluated-by": "thanos-ruler"}
CERT_WARNING_DAYS = 30
DRILL_CRONJOB = 'namespace="velero",cronjob="velero-restore-drill"'
NODE_POOL_LABEL = "multicluster/node-pool"  # set on every node by components/eks.py and components/gke.py
NODE_POOL_METRIC_LABEL = "label_multicluster_node_pool"  # kube-state-metrics' sanitised form


@dataclass(frozen=True)
class MeshWorkloads:
    """What the rules watch of a mesh: its east-west gateway and the metric of its certificates' expiry."""

    namespace: str
    gateway: str
    cert_seconds_left: str  # a PromQL expression: seconds until the mesh's CA certificates expire
    # Request errors between each pair of clusters, from the proxies' metrics (None: the mesh exports none).
    cross_cluster_errors: str | None = None


@dataclass(frozen=True)
class PoolLimit:
    name: str
    max_size: int


@dataclass(frozen=True)
class RuleInputs:
    """What a hub's rules are made of."""

    backup_rpo_minutes: int | None = None
    mesh: MeshWorkloads | None = None
    dns_probes: bool = False
    drill_period_minutes: int | None = None  # multicluster:backup.drills, when on
    # Per record: cluster -> the seconds the plan computed for traffic to leave it (dashboards).
    failover_seconds: Mapping[str, int | None] = field(default_factory=dict[str, "int | None"])
    policy_audit: bool = False  # multicluster:policy: Gatekeeper's audit reports violations


def alert(name: str, expr: str, summary: str, *, for_: str = "5m", severity: str = "critical") -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity},
        "annotations": {"summary": summary},
    }


def fleet_rule_groups(inputs: RuleInputs) -> list[dict[str, Any]]:
    """The rules of a hub that do not depend on which clusters it serves (adding a cluster changes none)."""
    groups: list[dict[str, Any]] = [
        {
            "name": "fleet-api",
            "rules": [
                alert(
                    "KubernetesApiServerDown",
                    'up{job="apiserver"} == 0',
                    "The API server of {{ $labels.cluster }} does not answer its Prometheus.",
                ),
            ],
        }
    ]
    if inputs.backup_rpo_minutes is not None:
        rpo = inputs.backup_rpo_minutes * 60
        groups.append(
            {
                "name": "fleet-backups",
                "rules": [
                    alert(
                        "BackupOlderThanRpo",
                        f'time() - max by (cluster, schedule) (velero_backup_last_successful_timestamp{{schedule!=""}})'
                        f" > {rpo}",
                        f"The newest completed backup of {{{{ $labels.schedule }}}} on {{{{ $labels.cluster }}}} is "
                        f"older than the RPO ({inputs.backup_rpo_minutes} minutes).",
                        for_="15m",
                    ),
                    alert(
                        "BackupFailed",
                        "increase(velero_backup_failure_total[1h]) > 0",
                        "A Velero backup failed on {{ $labels.cluster }}.",
                        for_="0m",
                        severity="warning",
                    ),
                    alert(
                        "RestoreFailed",
                        "increase(velero_restore_failed_total[6h]) > 0",
                        "A Velero restore (or restore drill) failed on {{ $labels.cluster }}.",
                        for_="0m",
                    ),
                ],
            }
        )
    if inputs.drill_period_minutes is not None:
        stale = 2 * inputs.drill_period_minutes * 60
        groups.append(
            {
                "name": "fleet-drills",
                "rules": [
                    alert(
                        "RestoreDrillFailed",
                        "min by (cluster, source) (velero_drill_success) < 1",
                        "The restore drill of {{ $labels.source }}'s newest backup into {{ $labels.cluster }} failed.",
                        for_="0m",
                    ),
                    # From kube-state-metrics, not the drill's own metrics: a job that never starts or dies before
                    # it reports still shows here, and the series outlives the collector's memory.
                    alert(
                        "RestoreDrillStale",
                        f"time() - max by (cluster) (kube_cronjob_status_last_successful_time{{{DRILL_CRONJOB}}}) "
                        f"> {stale}",
                        "{{ $labels.cluster }} has had no successful restore drill for two drill periods.",
                        for_="0m",
                        severity="warning",
                    ),
                ],
            }
        )
    if inputs.mesh is not None:
        mesh = inputs.mesh
        groups.append(
            {
                "name": "fleet-mesh",
                "rules": [
                    alert(
                        "MeshCertificateExpiringSoon",
                        f"min by (cluster) ({mesh.cert_seconds_left}) < {CERT_WARNING_DAYS * 86400}",
                        f"The mesh certificates of {{{{ $labels.cluster }}}} expire within {CERT_WARNING_DAYS} days.",
                        for_="1h",
                        severity="warning",
                    ),
                    alert(
                        "EastWestGatewayDown",
                        f'max by (cluster) (kube_deployment_status_replicas_available{{namespace="{mesh.namespace}",'
                        f'deployment="{mesh.gateway}"}}) < 1',
                        "The east-west gateway of {{ $labels.cluster }} has no available replica: its peers "
                        "cannot reach its services.",
                        for_="2m",
                    ),
                ],
            }
        )
    if inputs.policy_audit:
        # Gatekeeper's audit metric: "gatekeeper_violations: Total number of audited violations", by
        # enforcement_action (open-policy-agent/gatekeeper pkg/audit/stats_reporter.go; docs "Metrics & Observability").
        groups.append(
            {
                "name": "fleet-policy",
                "rules": [
                    alert(
                        "PolicyViolations",
                        "max by (cluster, enforcement_action) (gatekeeper_violations) > 0",
                        "{{ $labels.cluster }} holds objects that break the fleet's policy "
                        "({{ $labels.enforcement_action }}): see the constraints' status.violations.",
                        for_="1h",
                        severity="warning",
                    ),
                ],
            }
        )
    if inputs.dns_probes:
        groups.append(
            {
                "name": "fleet-dns",
                "rules": [
                    alert(
                        "DnsHealthCheckFailing",
                        'max by (http_url) (httpcheck_status{http_status_class="2xx"}) < 1',
                        "The health check DNS uses for {{ $labels.http_url }} fails: DNS is taking this "
                        "cluster out of its records.",
                        for_="1m",
                    ),
                ],
            }
        )
    return groups


def cluster_rule_groups(cluster: str, pools: Sequence[PoolLimit]) -> list[dict[str, Any]]:
    """The rules about one cluster: kept in a resource of their own, so that adding a cluster adds one."""
    rules = [
        alert(
            "ClusterUnreachable",
            f'absent(up{{job="apiserver",cluster="{cluster}"}} == 1)',
            f"No series of {cluster}'s API server reach the hub: the cluster, its Prometheus or the link is down.",
            for_="5m",
        )
    ]
    for pool in pools:
        rules.append(
            alert(
                "NodePoolAtMaximum",
                f'count(kube_node_labels{{cluster="{cluster}",{NODE_POOL_METRIC_LABEL}="{pool.name}"}})'
                f" >= {pool.max_size}",
                f"Node pool {pool.name} of {cluster} is at its maximum ({pool.max_size} nodes): it cannot absorb "
                "a failover.",
                for_="15m",
                severity="warning",
            )
        )
    return [{"name": f"cluster-{cluster}", "rules": rules}]


def expressions(groups: Sequence[Mapping[str, Any]]) -> list[str]:
    return [rule["expr"] for group in groups for rule in group["rules"]]


# --- dashboards --------------------------------------------------------------------------------

THANOS_UID = "thanos"
LOKI_UID = "loki"
TEMPO_UID = "tempo"


def _panel(title: str, expr: str, x: int, y: int, kind: str = "timeseries", legend: str = "") -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "datasource": {"type": "prometheus", "uid": THANOS_UID},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "targets": [{"refId": "A", "expr": expr, "legendFormat": legend}],
    }


def _dashboard(uid: str, title: str, panels: list[dict[str, Any]]) -> dict[str, Any]:
    for i, panel in enumerate(panels, start=1):
        panel["id"] = i
    return {"uid": uid, "title": title, "schemaVersion": 39, "tags": ["multicluster"], "panels": panels}


def dashboards(inputs: RuleInputs) -> dict[str, dict[str, Any]]:
    """Grafana dashboards (JSON models) of a hub: fleet overview, failover, backups, mesh."""
    boards = {
        "fleet-overview": _dashboard(
            "fleet-overview",
            "Fleet overview",
            [
                _panel(
                    "API server up, per cluster", 'max by (cluster) (up{job="apiserver"})', 0, 0, "stat", "{{cluster}}"
                ),
                _panel(
                    "Nodes ready, per cluster",
                    'sum by (cluster) (kube_node_status_condition{condition="Ready",status="true"})',
                    12,
                    0,
                    legend="{{cluster}}",
                ),
                _panel(
                    "API server request errors, per cluster",
                    'sum by (cluster) (rate(apiserver_request_total{code=~"5.."}[5m]))',
                    0,
                    8,
                    legend="{{cluster}}",
                ),
                _panel(
                    "Nodes per pool",
                    f"count by (cluster, {NODE_POOL_METRIC_LABEL}) (kube_node_labels)",
                    12,
                    8,
                    legend=f"{{{{cluster}}}} {{{{{NODE_POOL_METRIC_LABEL}}}}}",
                ),
            ],
        ),
        "failover": _dashboard(
            "failover",
            "Failover",
            [
                _panel(
                    "DNS health checks (1 = healthy)",
                    'max by (http_url) (httpcheck_status{http_status_class="2xx"})',
                    0,
                    0,
                    legend="{{http_url}}",
                ),
                {
                    "type": "text",
                    "title": "Failover seconds the plan computed",
                    "gridPos": {"h": 8, "w": 12, "x": 12, "y": 0},
                    "options": {"mode": "markdown", "content": _failover_table(inputs.failover_seconds)},
                },
            ],
        ),
    }
    if inputs.backup_rpo_minutes is not None:
        boards["backups"] = _dashboard(
            "backups",
            "Backups",
            [
                _panel(
                    "Age of the newest completed backup (s), per schedule",
                    'time() - max by (cluster, schedule) (velero_backup_last_successful_timestamp{schedule!=""})',
                    0,
                    0,
                    legend="{{cluster}} {{schedule}}",
                ),
                _panel("RPO (s)", f"vector({inputs.backup_rpo_minutes * 60})", 12, 0, "stat"),
                _panel(
                    "Failed backups and restores (1h)",
                    "sum by (cluster) (increase(velero_backup_failure_total[1h]) + "
                    "increase(velero_restore_failed_total[1h]))",
                    0,
                    8,
                    legend="{{cluster}}",
                ),
            ],
        )
    if inputs.mesh is not None:
        mesh = inputs.mesh
        boards["mesh"] = _dashboard(
            "mesh",
            "Mesh",
            [
                _panel(
                    "East-west gateway replicas available",
                    f'max by (cluster) (kube_deployment_status_replicas_available{{namespace="{mesh.namespace}",'
                    f'deployment="{mesh.gateway}"}})',
                    0,
                    0,
                    legend="{{cluster}}",
                ),
                _panel(
                    "East-west gateway traffic (bytes/s)",
                    f'sum by (cluster) (rate(container_network_transmit_bytes_total{{namespace="{mesh.namespace}",'
                    f'pod=~"{mesh.gateway}.*"}}[5m]))',
                    12,
                    0,
                    legend="{{cluster}}",
                ),
                *(
                    [
                        _panel(
                            "Request errors between clusters (5xx/s)",
                            mesh.cross_cluster_errors,
                            12,
                            8,
                            legend="{{source_cluster}} → {{destination_cluster}}",
                        )
                    ]
                    if mesh.cross_cluster_errors
                    else []
                ),
                _panel(
                    "Days until the mesh certificates expire",
                    f"min by (cluster) ({mesh.cert_seconds_left}) / 86400",
                    0,
                    8,
                    legend="{{cluster}}",
                ),
            ],
        )
    return boards


def _failover_table(seconds: Mapping[str, int | None]) -> str:
    rows = [f"| {record} | {value if value is not None else 'single cluster'} |" for record, value in seconds.items()]
    return "\n".join(["| record | failover seconds |", "|---|---|", *rows]) if rows else "No DNS records."


def dashboard_json(board: Mapping[str, Any]) -> str:
    return json.dumps(board, sort_keys=True)


def panel_expressions(boards: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [t["expr"] for b in boards.values() for p in b["panels"] for t in p.get("targets", [])]
