"""Scheduled restore drills (issue 20, part 1): the config, the job's least privilege, what it restores from,
the drill script's logic against a fake API server, its metrics and alerts."""

from __future__ import annotations

import urllib.error
from datetime import UTC, datetime, timedelta
from typing import Any

import promql_parser
import pytest

from components import restore_drill
from components.backup_drills import IMAGE, SCRIPT
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config
from tests.test_observability import problems, rules_of, values

CRONJOB = "kubernetes:batch/v1:CronJob"
DRILLS = {"cron": "0 4 * * 1", "namespaces": ["production"], "timeoutMinutes": 60}
SCHEDULE = {"name": "hourly", "cron": "0 * * * *", "includedNamespaces": ["production"], "fileSystemBackup": True}


def with_drills(drills: dict[str, Any]) -> dict[str, Any]:
    return fleet(
        aws_cluster("aws-use1", "us-east-1", 1),
        gcp_cluster("gcp-usc1", "us-central1", 2, role="standby"),
        backup={"schedules": [SCHEDULE], "drills": drills},
    )


# --- config ---------------------------------------------------------------------------------------------


def test_a_drill_restores_only_what_a_schedule_backs_up():
    assert problems(with_drills({**DRILLS, "namespaces": ["billing"]})) == [
        "multicluster:backup.drills.namespaces[0] 'billing' is in no schedule's includedNamespaces: the drill "
        "would restore nothing"
    ]
    assert problems(with_drills({**DRILLS, "timeoutMinutes": 0})) == [
        "multicluster:backup.drills.timeoutMinutes must be >= 1 (got 0)"
    ]
    assert problems(with_drills({**DRILLS, "namespaces": ["n" * 58]})) == [
        f"multicluster:backup.drills.namespaces[0] '{'n' * 58}' is longer than 57 characters"
    ]
    assert problems(with_drills({**DRILLS, "cron": "0 4 31 2 *"})) == [
        "multicluster:backup.drills.cron '0 4 31 2 *' never fires (no such date)"
    ]


# --- what the fleet runs --------------------------------------------------------------------------------------


def test_the_drill_job_holds_the_least_privilege_it_needs(prod):
    role = prod.named("aws-usw2-backup-drill", "kubernetes:rbac.authorization.k8s.io/v1:Role").inputs
    assert role["metadata"]["namespace"] == "velero"
    assert role["rules"] == [
        {"apiGroups": ["velero.io"], "resources": ["backups"], "verbs": ["get", "list"]},
        {"apiGroups": ["velero.io"], "resources": ["restores"], "verbs": ["create", "get", "delete"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
    ]
    cluster_role = prod.named("aws-usw2-backup-drill", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
    assert cluster_role.inputs["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["namespaces"],
            "verbs": ["get", "delete"],
            "resourceNames": ["production-drill"],
        }
    ]
    account = prod.named("aws-usw2-backup-drill", "kubernetes:core/v1:ServiceAccount").inputs
    assert "annotations" not in account["metadata"]  # no cloud identity: Velero reads the buckets
    bindings = [
        r
        for r in prod.resources
        if r.type.startswith("kubernetes:rbac.authorization.k8s.io/v1:")
        and "Binding" in r.type
        and any(s.get("name") == "velero-restore-drill" for s in r.inputs.get("subjects", []))
    ]
    assert sorted(
        (b.type.rsplit(":", 1)[-1], b.inputs["roleRef"]["name"]) for b in bindings if "aws-usw2" in b.name
    ) == [
        ("ClusterRoleBinding", "velero-restore-drill"),
        ("RoleBinding", "velero-restore-drill"),
    ]


def test_each_cluster_drills_its_peers_read_only_locations_in_turn(prod, example_plan):
    for plan in (prod, example_plan):
        for name, backup in plan.outputs["backup"].items():
            job = plan.named(f"{name}-backup-drill", CRONJOB).inputs
            env = {
                e["name"]: e["value"]
                for e in job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
            }
            assert env["DRILL_SOURCES"].split(",") == backup["restoreLocations"] == backup["drill"]["sources"]
            assert backup["drill"]["expectedRpoMinutes"] == backup["rpoMinutes"]
    # Partitioned: within a residency only (the restore peers are the residency's).
    assert example_plan.outputs["backup"]["aws-euc1"]["drill"]["sources"] == ["gcp-euw1"]


def test_the_drill_job_is_pinned_forbids_overlap_and_runs_the_shipped_script(prod):
    job = prod.named("gcp-euw1-backup-drill", CRONJOB).inputs["spec"]
    assert (job["schedule"], job["concurrencyPolicy"], job["timeZone"]) == ("0 4 * * 1", "Forbid", "Etc/UTC")
    container = job["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE and ":" in IMAGE and not IMAGE.endswith(":latest")
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    script = prod.named("gcp-euw1-backup-drill-script", "kubernetes:core/v1:ConfigMap").inputs["data"]
    assert script["restore_drill.py"] == SCRIPT.read_text()
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["DRILL_OTLP_ENDPOINT"] == "http://otel-collector.monitoring.svc.cluster.local:4318/v1/metrics"


def test_a_cluster_without_peers_runs_no_drill():
    config = fleet(aws_cluster("aws-use1", "us-east-1", 1), backup={"schedules": [SCHEDULE], "drills": DRILLS})
    plan = plan_config(config)
    assert plan.of_type(CRONJOB) == []
    assert "drill" not in plan.outputs["backup"]["aws-use1"]


def test_drill_results_reach_the_hub_and_alert_when_failed_or_stale(prod):
    collector = values(prod, "aws-usw2-telemetry-otel-collector")["alternateConfig"]
    assert collector["service"]["pipelines"]["metrics"]["receivers"] == ["otlp"]
    # Weekly drill: the exporter keeps a pushed gauge for two periods and an hour.
    assert collector["exporters"]["prometheus"]["metric_expiration"] == f"{2 * 7 * 24 * 60 + 60}m"
    assert prod.named("aws-usw2-telemetry-otel-metrics").inputs["spec"]["endpoints"][0]["port"] == "promexporter"
    rules = {r["alert"]: r for g in rules_of(prod, "aws-use1")["fleet"] for r in g["rules"]}
    assert rules["RestoreDrillFailed"]["expr"] == "min by (cluster, source) (velero_drill_success) < 1"
    assert rules["RestoreDrillStale"]["expr"] == (
        'time() - max by (cluster) (kube_cronjob_status_last_successful_time{namespace="velero",'
        f'cronjob="velero-restore-drill"}}) > {2 * 7 * 24 * 3600}'
    )
    for name in ("RestoreDrillFailed", "RestoreDrillStale"):
        promql_parser.parse(rules[name]["expr"])


@pytest.fixture(scope="module")
def example_plan():
    return plan_config("examples/partitioned")


# --- the script, against a fake API server ---------------------------------------------------------------------

NOW = datetime(2026, 12, 7, 4, 0, 0, tzinfo=UTC)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeApi:
    """The API server as far as the drill uses it: backups per location, restores that finish as told, and the
    namespaces they create (a deleted one is gone after `terminating` more GETs)."""

    def __init__(self, backups: dict[str, list[dict[str, Any]]], finish: dict[str, Any], *, existing=(), terminating=0):
        self.backups, self.finish = backups, finish
        self.calls: list[tuple[str, str, Any]] = []
        self.restores: dict[str, dict[str, Any]] = {}
        self.namespaces: dict[str, int] = {name: -1 for name in existing}  # name -> GETs left before gone
        self.terminating = terminating

    def __call__(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        self.calls.append((method, path, body))
        if path.startswith("/api/v1/namespaces/"):
            name = path.rsplit("/", 1)[1]
            if method == "DELETE":
                self.namespaces[name] = self.terminating
                return {}
            left = self.namespaces.get(name)
            if left is None or left == 0:
                self.namespaces.pop(name, None)
                raise urllib.error.HTTPError(path, 404, "not found", {}, None)  # type: ignore[arg-type]
            if left > 0:
                self.namespaces[name] = left - 1
            return {"metadata": {"name": name}}
        if method == "GET" and "/backups?" in path:
            location = path.rsplit("%3D", 1)[1]
            return {"items": self.backups.get(location, [])}
        if method == "POST" and path.endswith("/restores"):
            assert body is not None
            self.restores[body["metadata"]["name"]] = body
            for target in body["spec"]["namespaceMapping"].values():
                self.namespaces[target] = -1  # Velero creates the mapped namespace
            return body
        if method == "GET" and "/restores/" in path:
            return {**self.restores[path.rsplit("/", 1)[1]], "status": self.finish}
        return {}


def backup(name: str, started: datetime, phase: str = "Completed", namespaces=("*",)) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"includedNamespaces": list(namespaces)},
        "status": {
            "phase": phase,
            "startTimestamp": stamp(started),
            "completionTimestamp": stamp(started + timedelta(minutes=2)),
        },
    }


ENV = {
    "DRILL_CLUSTER": "aws-usw2",
    "DRILL_SOURCES": "aws-use1,gcp-euw1",
    "DRILL_NAMESPACES": "production",
    "DRILL_TIMEOUT_SECONDS": "3600",
    "DRILL_OTLP_ENDPOINT": "http://collector/v1/metrics",
}
DONE = {
    "phase": "Completed",
    "errors": 0,
    "progress": {"itemsRestored": 42, "totalItems": 42},
    "startTimestamp": stamp(NOW),
    "completionTimestamp": stamp(NOW + timedelta(minutes=7)),
}


def drill(api: FakeApi) -> tuple[list[restore_drill.Result], list[dict[str, Any]]]:
    posted: list[dict[str, Any]] = []
    results = restore_drill.run(
        api, ENV, lambda url, body: posted.append(body), now=lambda: NOW, clock=lambda: 0.0, sleep=lambda s: None
    )
    return results, posted


def test_the_drill_restores_each_source_s_newest_completed_backup_into_the_drill_namespace():
    api = FakeApi(
        {
            "aws-use1": [
                backup("velero-aws-use1-hourly-1", NOW - timedelta(minutes=90)),
                backup("velero-aws-use1-hourly-2", NOW - timedelta(minutes=30)),
                backup("velero-aws-use1-hourly-3", NOW - timedelta(minutes=5), phase="InProgress"),
            ],
            "gcp-euw1": [backup("velero-gcp-euw1-hourly-1", NOW - timedelta(minutes=45))],
        },
        DONE,
    )
    results, posted = drill(api)
    assert [(r.source, r.ok, r.rto_seconds, r.rpo_seconds) for r in results] == [
        ("aws-use1", True, 420.0, 1800.0),
        ("gcp-euw1", True, 420.0, 2700.0),
    ]
    created = [body for method, path, body in api.calls if method == "POST" and path.endswith("/restores")]
    assert [c["spec"]["backupName"] for c in created] == ["velero-aws-use1-hourly-2", "velero-gcp-euw1-hourly-1"]
    assert created[0]["spec"]["namespaceMapping"] == {"production": "production-drill"}
    deleted = [path for method, path, _ in api.calls if method == "DELETE"]
    assert "/api/v1/namespaces/production-drill" in deleted
    assert sum(1 for p in deleted if "/restores/drill-" in p) == 2
    events = [body for method, path, body in api.calls if path.endswith("/events")]
    assert [e["reason"] for e in events] == ["DrillSucceeded", "DrillSucceeded"]
    (metrics,) = posted
    gauges = {m["name"]: m["gauge"]["dataPoints"] for m in metrics["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]}
    assert [p["asDouble"] for p in gauges["velero_drill_rpo_seconds"]] == [1800.0, 2700.0]
    assert [p["asDouble"] for p in gauges["velero_drill_success"]] == [1.0, 1.0]


@pytest.mark.parametrize(
    ("finish", "reason"),
    [
        ({**DONE, "phase": "PartiallyFailed"}, "restore PartiallyFailed"),
        ({**DONE, "errors": 2}, "2 error(s)"),
        ({**DONE, "progress": {"itemsRestored": 40, "totalItems": 42}}, "40 of 42 items restored"),
        ({**DONE, "progress": {"itemsRestored": 0, "totalItems": 0}}, "0 of 0 items restored"),
    ],
)
def test_a_drill_fails_unless_everything_came_back(finish, reason):
    api = FakeApi({"aws-use1": [backup("b", NOW - timedelta(hours=1))], "gcp-euw1": []}, finish)
    results, posted = drill(api)
    assert [(r.ok, r.reason) for r in results] == [
        (False, reason),
        (False, "no completed backup of the drill's namespaces in the location"),
    ]
    events = [body for method, path, body in api.calls if path.endswith("/events")]
    assert [(e["reason"], e["type"]) for e in events] == [("DrillFailed", "Warning")] * 2
    gauges = {
        m["name"]: m["gauge"]["dataPoints"] for m in posted[0]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
    }
    assert [p["asDouble"] for p in gauges["velero_drill_success"]] == [0.0, 0.0]


def test_only_a_backup_holding_the_drill_s_namespaces_is_restored():
    api = FakeApi(
        {
            "aws-use1": [
                backup("velero-aws-use1-daily", NOW - timedelta(hours=5)),
                backup("velero-aws-use1-billing", NOW - timedelta(minutes=10), namespaces=("billing",)),
            ],
            "gcp-euw1": [backup("velero-gcp-euw1-hourly", NOW - timedelta(minutes=20), namespaces=("production",))],
        },
        DONE,
    )
    results, _ = drill(api)
    created = [
        body["spec"]["backupName"]
        for method, path, body in api.calls
        if method == "POST" and path.endswith("/restores")
    ]
    assert created == ["velero-aws-use1-daily", "velero-gcp-euw1-hourly"]
    assert [r.rpo_seconds for r in results] == [5 * 3600.0, 20 * 60.0]  # from the backups' start


def test_a_leftover_drill_namespace_fails_the_drill_instead_of_passing_it():
    api = FakeApi({"aws-use1": [backup("b", NOW)], "gcp-euw1": [backup("c", NOW)]}, DONE, existing=["production-drill"])
    results, _ = drill(api)
    assert [(r.source, r.ok, r.reason) for r in results] == [
        ("aws-use1", False, "production-drill already exists (a drill's leftover?)"),
        ("gcp-euw1", True, "42 items restored"),  # the leftover was cleaned up after the first source
    ]
    restores = [c[2]["spec"]["backupName"] for c in api.calls if c[0] == "POST" and c[1].endswith("/restores")]
    assert restores == ["c"]


def test_the_next_source_waits_until_the_drill_namespace_is_gone():
    api = FakeApi({"aws-use1": [backup("b", NOW)], "gcp-euw1": [backup("c", NOW)]}, DONE, terminating=3)
    results, _ = drill(api)
    assert [r.ok for r in results] == [True, True]
    deletes = [i for i, c in enumerate(api.calls) if c[0] == "DELETE" and c[1].endswith("production-drill")]
    second_restore = [i for i, c in enumerate(api.calls) if c[0] == "POST" and c[1].endswith("/restores")][1]
    gets_between = [
        c for c in api.calls[deletes[0] : second_restore] if c[0] == "GET" and c[1].endswith("production-drill")
    ]
    assert len(gets_between) >= 4  # polled until the 404


def test_the_copy_is_quarantined_from_traffic_and_schedules():
    api = FakeApi({"aws-use1": [backup("b", NOW)], "gcp-euw1": []}, DONE)
    drill(api)
    (body,) = [c[2] for c in api.calls if c[0] == "POST" and c[1].endswith("/restores")]
    assert {"services", "ingresses.networking.k8s.io", "virtualservices.networking.istio.io", "cronjobs.batch"} <= set(
        body["spec"]["excludedResources"]
    )


def test_one_source_s_error_does_not_stop_the_others_or_the_metrics():
    def flaky(method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        if "aws-use1" in path and "/backups?" in path:
            raise urllib.error.URLError("connection reset")
        return api(method, path, body)

    api = FakeApi({"gcp-euw1": [backup("c", NOW)]}, DONE)
    posted: list[dict[str, Any]] = []
    results = restore_drill.run(
        flaky, ENV, lambda url, body: posted.append(body), now=lambda: NOW, clock=lambda: 0.0, sleep=lambda s: None
    )
    assert [(r.source, r.ok) for r in results] == [("aws-use1", False), ("gcp-euw1", True)]
    assert posted  # the metrics went out
