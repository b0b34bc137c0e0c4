"""The restore drill, run in each cluster by its CronJob `velero-restore-drill` (components/backup_drills.py).

Not imported by the program: its text is mounted into the job's pod from a ConfigMap and run there with the
standard library only (python:3.13 slim image). For each source (DRILL_SOURCES: the read-only storage locations
of the cluster's peers, one per peer, named after it), in turn: the newest Completed backup Velero synced from
that location is restored into `<ns>-drill` for every namespace of DRILL_NAMESPACES; the restore is waited for
(DRILL_TIMEOUT_SECONDS); it passes when its phase is Completed with no errors and every item it set out to
restore came back (Velero's own count: status.progress.itemsRestored == totalItems > 0). The restore's
duration (the measured RTO) and the backup's age (the achieved RPO) are recorded as a Kubernetes Event on the
Restore and, when DRILL_OTLP_ENDPOINT is set, as metrics to the cluster's OpenTelemetry Collector; then the
drill namespaces and the Restore are deleted. The job fails when any source fails, so Kubernetes records it too.

What it may do is its ServiceAccount's RBAC, nothing more: read Backups, create/read/delete Restores and
create Events in the velero namespace, get/delete the named drill namespaces. It holds no cloud identity: the
bucket is read by Velero, through the read-only location.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NAMESPACE = "velero"
API = "https://kubernetes.default.svc"
ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
TERMINAL = {"Completed", "PartiallyFailed", "Failed", "FailedValidation"}
VELERO = f"/apis/velero.io/v1/namespaces/{NAMESPACE}"

# What a drill leaves out of the copy (group-qualified, as Velero's includedResources/excludedResources take them).
QUARANTINED = (
    "services",
    "ingresses.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
    "grpcroutes.gateway.networking.k8s.io",
    "gateways.gateway.networking.k8s.io",
    "virtualservices.networking.istio.io",
    "gateways.networking.istio.io",
    "cronjobs.batch",
    "jobs.batch",
)
NAMESPACE_GONE_SECONDS = 600  # Velero's own wait for a terminating namespace (--terminating-resource-timeout)

Request = Callable[[str, str, "dict[str, Any] | None"], "dict[str, Any]"]


def kubernetes_api() -> Request:
    """Calls to the API server with the pod's service-account token, verified against the cluster CA."""
    with open(f"{ACCOUNT}/token") as handle:
        token = handle.read().strip()
    context = ssl.create_default_context(cafile=f"{ACCOUNT}/ca.crt")

    def request(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        call = urllib.request.Request(f"{API}{path}", data=data, method=method)
        call.add_header("Authorization", f"Bearer {token}")
        call.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(call, context=context, timeout=60) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            if error.code == 404 and method == "DELETE":
                return {}
            raise

    return request


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def covers(backup: dict[str, Any], namespaces: list[str]) -> bool:
    """Whether the backup holds every namespace the drill restores (no includedNamespaces, or '*', is all)."""
    included = backup.get("spec", {}).get("includedNamespaces") or ["*"]
    return "*" in included or all(ns in included for ns in namespaces)


def newest_backup(api: Request, location: str, namespaces: list[str]) -> dict[str, Any] | None:
    """The newest Completed backup Velero synced from `location` (its backups carry the location's label) that
    holds the drill's namespaces: another schedule's newest backup may not."""
    found = api("GET", f"{VELERO}/backups?labelSelector=velero.io/storage-location%3D{location}", None)
    done = [
        b for b in found.get("items", []) if b.get("status", {}).get("phase") == "Completed" and covers(b, namespaces)
    ]
    return max(done, key=lambda b: b["status"].get("startTimestamp", ""), default=None)


def restore_body(name: str, backup: str, namespaces: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"multicluster.io/drill": "true"}},
        "spec": {
            "backupName": backup,
            "includedNamespaces": namespaces,
            # Into <ns>-drill: nothing already in <ns> is touched.
            "namespaceMapping": {ns: f"{ns}-drill" for ns in namespaces},
            # Quarantined: what routes traffic to the copy (Services, ingress and mesh routes) or acts on a
            # schedule is not restored, so the copy never answers users or runs production jobs.
            "excludedResources": list(QUARANTINED),
            "restorePVs": True,
        },
    }


def wait(
    api: Request, name: str, timeout: float, clock: Callable[[], float], sleep: Callable[[float], None]
) -> dict[str, Any]:
    deadline = clock() + timeout
    while True:
        restore = api("GET", f"{VELERO}/restores/{name}", None)
        if restore.get("status", {}).get("phase") in TERMINAL or clock() >= deadline:
            return restore
        sleep(15)


def verdict(restore: dict[str, Any]) -> tuple[bool, str]:
    status = restore.get("status", {})
    phase = status.get("phase", "not finished")
    progress = status.get("progress", {})
    restored, total = progress.get("itemsRestored", 0), progress.get("totalItems", 0)
    if phase != "Completed":
        return False, f"restore {phase}"
    if status.get("errors", 0):
        return False, f"{status['errors']} error(s)"
    if total == 0 or restored != total:
        return False, f"{restored} of {total} items restored"
    warnings = status.get("warnings", 0)
    return True, f"{restored} items restored" + (f", {warnings} warning(s)" if warnings else "")


@dataclass(frozen=True)
class Result:
    source: str
    ok: bool
    reason: str
    rto_seconds: float | None
    rpo_seconds: float | None
    restore: str | None


def namespace_exists(api: Request, name: str) -> bool:
    try:
        api("GET", f"/api/v1/namespaces/{name}", None)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise
    return True


def drill_source(
    api: Request,
    source: str,
    namespaces: list[str],
    timeout: float,
    now: Callable[[], datetime],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> Result:
    left = [f"{ns}-drill" for ns in namespaces if namespace_exists(api, f"{ns}-drill")]
    if left:
        # Velero skips what exists: a leftover copy would make the drill pass with nothing restored.
        return Result(source, False, f"{', '.join(left)} already exists (a drill's leftover?)", None, None, None)
    backup = newest_backup(api, source, namespaces)
    if backup is None:
        return Result(source, False, "no completed backup of the drill's namespaces in the location", None, None, None)
    started = now()
    # The backup's point in time is its start (what Velero orders backups by).
    taken = backup["status"].get("startTimestamp") or backup["status"]["completionTimestamp"]
    rpo = (started - parse_time(taken)).total_seconds()
    name = f"drill-{source}-{started.strftime('%Y%m%d%H%M%S')}"[:63]
    api("POST", f"{VELERO}/restores", restore_body(name, backup["metadata"]["name"], namespaces))
    restore = wait(api, name, timeout, clock, sleep)
    ok, reason = verdict(restore)
    status = restore.get("status", {})
    rto = None
    if status.get("startTimestamp") and status.get("completionTimestamp"):
        rto = (parse_time(status["completionTimestamp"]) - parse_time(status["startTimestamp"])).total_seconds()
    return Result(source, ok, reason, rto, rpo, name)


def event_body(cluster: str, result: Result, when: datetime) -> dict[str, Any]:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"generateName": "restore-drill-", "namespace": NAMESPACE},
        "eventTime": stamp,
        "reportingController": "multicluster.io/restore-drill",
        "reportingInstance": cluster,
        "action": "RestoreDrill",
        "reason": "DrillSucceeded" if result.ok else "DrillFailed",
        "type": "Normal" if result.ok else "Warning",
        "regarding": {
            "apiVersion": "velero.io/v1",
            "kind": "Restore",
            "namespace": NAMESPACE,
            "name": result.restore or "",
        },
        "note": note(cluster, result),
    }


def note(cluster: str, result: Result) -> str:
    figures = f"RTO {result.rto_seconds} s, RPO {result.rpo_seconds} s"
    return f"{result.source} -> {cluster}: {result.reason}; {figures}"[:1024]  # events.k8s.io note: 1 kB at most


def otlp_metrics(cluster: str, results: list[Result], when: datetime) -> dict[str, Any]:
    """OTLP/HTTP JSON (opentelemetry.io "OTLP Specification"): one gauge per figure, a point per source."""
    nanos = str(int(when.timestamp() * 1e9))

    def gauge(name: str, value: Callable[[Result], float | None]) -> dict[str, Any]:
        points = [
            {
                "asDouble": v,
                "timeUnixNano": nanos,
                "attributes": [{"key": "source", "value": {"stringValue": r.source}}],
            }
            for r in results
            if (v := value(r)) is not None
        ]
        return {"name": name, "gauge": {"dataPoints": points}}

    metrics = [
        gauge("velero_drill_success", lambda r: 1.0 if r.ok else 0.0),
        gauge("velero_drill_rto_seconds", lambda r: r.rto_seconds),
        gauge("velero_drill_rpo_seconds", lambda r: r.rpo_seconds),
        gauge("velero_drill_last_run_timestamp_seconds", lambda r: when.timestamp()),
    ]
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "restore-drill"}}]}
    return {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": metrics}]}]}


def cleanup(
    api: Request, namespaces: list[str], result: Result, clock: Callable[[], float], sleep: Callable[[float], None]
) -> str | None:
    """Delete the Restore (Velero then removes its logs from the peer's bucket) and the drill namespaces, and
    wait until they are gone: the next source restores into the same names. A problem, or None."""
    if result.restore:
        api("DELETE", f"{VELERO}/restores/{result.restore}", None)
    for ns in namespaces:
        api("DELETE", f"/api/v1/namespaces/{ns}-drill", None)
    deadline = clock() + NAMESPACE_GONE_SECONDS
    while True:
        left = [f"{ns}-drill" for ns in namespaces if namespace_exists(api, f"{ns}-drill")]
        if not left:
            return None
        if clock() >= deadline:
            return f"{', '.join(left)} still terminating after {NAMESPACE_GONE_SECONDS} s"
        sleep(10)


def run(
    api: Request,
    env: dict[str, str],
    post: Callable[[str, dict[str, Any]], None],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Result]:
    cluster = env["DRILL_CLUSTER"]
    namespaces = [n for n in env["DRILL_NAMESPACES"].split(",") if n]
    timeout = float(env["DRILL_TIMEOUT_SECONDS"])
    results: list[Result] = []
    for source in [s for s in env["DRILL_SOURCES"].split(",") if s]:
        try:
            result = drill_source(api, source, namespaces, timeout, now, clock, sleep)
            problem = cleanup(api, namespaces, result, clock, sleep)
            if problem is not None:
                result = Result(
                    source, False, f"{result.reason}; {problem}", result.rto_seconds, result.rpo_seconds, result.restore
                )
        except (urllib.error.URLError, OSError, KeyError, ValueError) as error:  # one source's failure, not the run's
            result = Result(source, False, f"{type(error).__name__}: {error}", None, None, None)
        results.append(result)
        try:
            api("POST", f"/apis/events.k8s.io/v1/namespaces/{NAMESPACE}/events", event_body(cluster, result, now()))
        except (urllib.error.URLError, OSError) as error:
            print(f"event for {source} not recorded: {error}", file=sys.stderr)
    endpoint = env.get("DRILL_OTLP_ENDPOINT")
    if endpoint:
        try:
            post(endpoint, otlp_metrics(cluster, results, now()))
        except (urllib.error.URLError, OSError) as error:
            print(f"metrics not sent: {error}", file=sys.stderr)
    return results


def post_json(url: str, body: dict[str, Any]) -> None:
    call = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    call.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(call, timeout=30):
        pass


if __name__ == "__main__":
    outcome = run(kubernetes_api(), dict(os.environ), post_json)
    for r in outcome:
        print(f"{r.source}: {'ok' if r.ok else 'FAILED'} ({r.reason}); RTO {r.rto_seconds} s, RPO {r.rpo_seconds} s")
    sys.exit(0 if outcome and all(r.ok for r in outcome) else 1)
