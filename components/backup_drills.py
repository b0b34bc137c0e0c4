"""Scheduled restore drills (multicluster:backup.drills): in every cluster that has peers, a CronJob restores the
newest backup of each peer, in turn, from the peer's read-only storage location into `<ns>-drill`, checks it,
records the measured RTO and achieved RPO (an Event, and metrics to the observability collector when that block
is on) and deletes what it restored. The job's script is components/restore_drill.py.

Least privilege: the job's ServiceAccount holds no cloud identity (Velero reads the buckets); in the velero
namespace it may read Backups, create, read and delete Restores and create Events; across the cluster it may
get and delete only the drill namespaces, by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .cluster import ClusterPort
from .config.backup import DrillConfig

NAME = "velero-restore-drill"
NAMESPACE = "velero"
SCRIPT = Path(__file__).with_name("restore_drill.py")
SCRIPT_KEY = "restore_drill.py"
# The official Python image (docker.io/library/python), pinned to a release: the script needs the standard
# library only.
IMAGE = "python:3.13.2-slim"
RESTRICTED = {
    "runAsNonRoot": True,
    "runAsUser": 65534,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def drill_namespaces(drills: DrillConfig) -> list[str]:
    return [f"{ns}-drill" for ns in drills.namespaces]


def rules(drills: DrillConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the Role's rules in the velero namespace, the ClusterRole's): nothing else is granted."""
    namespaced = [
        {"apiGroups": ["velero.io"], "resources": ["backups"], "verbs": ["get", "list"]},
        {"apiGroups": ["velero.io"], "resources": ["restores"], "verbs": ["create", "get", "delete"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
    ]
    cluster = [
        {
            "apiGroups": [""],
            "resources": ["namespaces"],
            "verbs": ["get", "delete"],
            "resourceNames": drill_namespaces(drills),
        }
    ]
    return namespaced, cluster


def build_drill(
    name: str,
    parent: pulumi.Resource,
    cluster: ClusterPort,
    drills: DrillConfig,
    sources: list[str],
    metrics_endpoint: str | None,
    after: list[pulumi.Resource],
) -> k8s.batch.v1.CronJob:
    """The drill of one cluster over `sources` (its peers' read-only storage locations), after Velero."""

    def opts(*more: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=cluster.k8s_provider, depends_on=[*after, *more])

    meta: k8s.meta.v1.ObjectMetaArgsDict = {
        "name": NAME,
        "namespace": NAMESPACE,
        "labels": {"app.kubernetes.io/name": NAME},
    }
    script = k8s.core.v1.ConfigMap(
        f"{name}-drill-script", metadata=meta, data={SCRIPT_KEY: SCRIPT.read_text()}, opts=opts()
    )
    account = k8s.core.v1.ServiceAccount(
        f"{name}-drill", metadata=meta, automount_service_account_token=True, opts=opts()
    )
    namespaced, cluster_wide = rules(drills)
    role = k8s.rbac.v1.Role(f"{name}-drill", metadata=meta, rules=namespaced, opts=opts())  # pyright: ignore[reportArgumentType]
    subject: list[k8s.rbac.v1.SubjectArgsDict] = [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
    binding = k8s.rbac.v1.RoleBinding(
        f"{name}-drill",
        metadata=meta,
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=NAME),
        subjects=subject,
        opts=opts(role),
    )
    cluster_meta: k8s.meta.v1.ObjectMetaArgsDict = {"name": NAME, "labels": {"app.kubernetes.io/name": NAME}}
    cluster_role = k8s.rbac.v1.ClusterRole(f"{name}-drill", metadata=cluster_meta, rules=cluster_wide, opts=opts())  # pyright: ignore[reportArgumentType]
    cluster_binding = k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-drill",
        metadata=cluster_meta,
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=NAME),
        subjects=subject,
        opts=opts(cluster_role),
    )
    env = {
        "DRILL_CLUSTER": cluster.spec.name,
        "DRILL_SOURCES": ",".join(sources),
        "DRILL_NAMESPACES": ",".join(drills.namespaces),
        "DRILL_TIMEOUT_SECONDS": str(drills.timeout_minutes * 60),
        **({"DRILL_OTLP_ENDPOINT": metrics_endpoint} if metrics_endpoint else {}),
    }
    return k8s.batch.v1.CronJob(
        f"{name}-drill",
        metadata=meta,
        spec={  # pyright: ignore[reportArgumentType]  # the manifest's camelCase keys
            "schedule": drills.cron,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    # Every source may take the whole timeout, plus the cleanup.
                    "activeDeadlineSeconds": drills.timeout_minutes * 60 * max(len(sources), 1) + 600,
                    "template": {
                        "metadata": {"labels": {"app.kubernetes.io/name": NAME}},
                        "spec": {
                            "serviceAccountName": NAME,
                            "restartPolicy": "Never",
                            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                            "containers": [
                                {
                                    "name": "drill",
                                    "image": IMAGE,
                                    # -B: no bytecode written (the root filesystem is read-only).
                                    "command": ["python", "-B", f"/drill/{SCRIPT_KEY}"],
                                    "env": [{"name": k, "value": v} for k, v in env.items()],
                                    "securityContext": RESTRICTED,
                                    "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
                                    "volumeMounts": [{"name": "script", "mountPath": "/drill", "readOnly": True}],
                                }
                            ],
                            "volumes": [{"name": "script", "configMap": {"name": NAME}}],
                        },
                    },
                }
            },
        },
        opts=opts(script, account, binding, cluster_binding),
    )
