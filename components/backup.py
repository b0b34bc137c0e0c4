"""Backup and disaster recovery with Velero: one hardened bucket, one keyless identity and one Velero
install per cluster, plus read-only access to the buckets of the cluster's failover peers.

Cross-cloud peers stay keyless: a GKE cluster reads an S3 peer bucket through an IAM role that trusts
the GKE cluster's own OIDC issuer (a projected service-account token); an EKS cluster reads a GCS peer
bucket through a workload identity pool whose provider trusts the EKS OIDC issuer. See docs/backup.md.

This component is cloud-neutral: what differs per cloud is a store (components/backup_aws.py,
components/backup_gcp.py), chosen once by the cluster's cloud in STORES.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import backup_aws, backup_gcp
from .backup_common import (
    CHART_REPOSITORY,
    NAMESPACE,
    SERVICE_ACCOUNT,
    BackupOwner,
    BackupStore,
    ForeignReader,
    PodIdentityPatch,
    VeleroBackupProps,
    plugin_container,
    schedule_key,
    storage_location_name,
)
from .backup_drills import build_drill
from .cluster import ClusterPort
from .config.backup import BackupConfig, format_minutes
from .config.observability import COLLECTOR_METRICS_URL, ObservabilityConfig
from .federation import AwsTrusts
from .fleetplan import FleetPlan
from .gcp_project import ProjectServices
from .outputs import BackupOutputs, DrillOutputs

__all__ = ["BackupFleet", "VeleroBackup", "VeleroBackupProps", "build_backup"]


@dataclass(frozen=True)
class StoreKind:
    """One cloud's backup store: how to build it, and how that cloud lets a Velero of another cloud read it."""

    build: Callable[[BackupOwner], BackupStore]
    federate_reader: ForeignReader


# The registry of backup stores by cloud: the one place a cloud is chosen.
STORES: Mapping[str, StoreKind] = {
    "aws": StoreKind(backup_aws.S3Store, backup_aws.federate_reader),
    "gcp": StoreKind(backup_gcp.GcsStore, backup_gcp.federate_reader),
}


class VeleroBackup(pulumi.ComponentResource):
    """Velero for one cluster: bucket + key, identity, chart, schedules and peer storage locations.

    Built in two steps because peers need each other's buckets: the constructor creates the bucket
    and the identity (the cluster's store); `install(peers)` grants read access to the peers' buckets and
    installs Velero.
    """

    TYPE = "multicluster:backup:VeleroBackup"

    def __init__(self, name: str, props: VeleroBackupProps, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self._resource_name = name
        self._props = props
        self._access: list[pulumi.Resource] = []
        self.cluster = props.cluster
        self.cloud = self.cluster.cloud
        self.region = self.cluster.region
        self.location_name = storage_location_name(self.cluster.spec.name)
        self.peers: list[VeleroBackup] = []
        self.rpo_minutes = props.backup.rpo_minutes()
        self.store = STORES[self.cloud].build(self)

    # --- what the store sees (BackupOwner) ------------------------------------------------
    @property
    def resource_name(self) -> str:
        return self._resource_name

    @property
    def props(self) -> VeleroBackupProps:
        return self._props

    @property
    def access(self) -> list[pulumi.Resource]:
        return self._access

    def as_parent(self) -> pulumi.Resource:
        return self

    # --- peers -----------------------------------------------------------------------------
    def install(self, peers: list[VeleroBackup]) -> None:
        """Grant read access to the peers' buckets, install Velero and register the outputs.

        Peers of the cluster's own cloud are read with its own identity; peers of another cloud through the
        identity that cloud federates in (keyless), which the Velero pods receive as a patch."""
        self.peers = peers
        patch = PodIdentityPatch.empty()
        clouds = [self.cloud, *sorted({p.cloud for p in peers} - {self.cloud})]
        for cloud in clouds:
            stores = [p.store for p in peers if p.cloud == cloud]
            if cloud == self.cloud:
                self.store.grant_peers(stores)
            elif stores:
                patch = patch.merge(STORES[cloud].federate_reader(self.store, stores))
        self.release = self._release(patch)
        drills = self.props.backup.drills
        if drills is not None and peers:
            build_drill(
                self._resource_name,
                self,
                self.cluster,
                drills,
                [peer.location_name for peer in peers],
                self.props.drill_metrics,
                [self.release],
            )
        self.register_outputs(self.outputs())

    # --- Velero ----------------------------------------------------------------------------
    def _storage_location(self, owner: VeleroBackup, read_only: bool) -> dict[str, Any]:
        return {
            "name": storage_location_name(owner.cluster.spec.name),
            "provider": owner.store.velero_provider,
            "bucket": owner.store.bucket_name,
            "default": not read_only,
            "accessMode": "ReadOnly" if read_only else "ReadWrite",
            "config": owner.store.location_config(self.store, read_only),
        }

    def _snapshot_location(self) -> dict[str, Any]:
        store = self.store
        return {"name": self.location_name, "provider": store.velero_provider, "config": store.snapshot_config()}

    def _schedules(self) -> dict[str, Any]:
        return {
            schedule_key(self.cluster.spec.name, s.name): {
                "disabled": False,
                "schedule": s.cron,
                "useOwnerReferencesInBackup": False,
                "template": {
                    "ttl": s.ttl,
                    "storageLocation": self.location_name,
                    "includedNamespaces": list(s.included_namespaces),
                    "defaultVolumesToFsBackup": s.file_system_backup,
                    "snapshotVolumes": not s.file_system_backup,
                    "volumeSnapshotLocations": [] if s.file_system_backup else [self.location_name],
                },
            }
            for s in self.props.backup.schedules
        }

    def chart_values(self, patch: PodIdentityPatch) -> dict[str, Any]:
        node_agent = self.props.backup.file_system_backup
        stores = {s.cloud: s for s in (self.store, *(p.store for p in self.peers))}
        values: dict[str, Any] = {
            "fullnameOverride": "velero",
            "initContainers": [plugin_container(cloud, stores[cloud].plugin_image) for cloud in sorted(stores)],
            # Lets the non-root Velero user read projected identity tokens.
            "podSecurityContext": {"fsGroup": 65534},
            "credentials": {"useSecret": False},
            "serviceAccount": {
                "server": {
                    "create": True,
                    "name": SERVICE_ACCOUNT,
                    "annotations": self.store.service_account_annotations,
                    "automountServiceAccountToken": True,
                }
            },
            "configuration": {
                "backupStorageLocation": [
                    self._storage_location(self, read_only=False),
                    *(self._storage_location(peer, read_only=True) for peer in self.peers),
                ],
                "volumeSnapshotLocation": [self._snapshot_location()],
                "uploaderType": "kopia",
                # Rendered into both the Velero Deployment and the node-agent DaemonSet.
                "extraEnvVars": patch.env,
            },
            "backupsEnabled": True,
            "snapshotsEnabled": True,
            "deployNodeAgent": node_agent,
            "extraVolumes": patch.volumes,
            "extraVolumeMounts": patch.mounts,
            "extraObjects": patch.objects,
            "schedules": self._schedules(),
        }
        if node_agent:
            # The node-agent DaemonSet renders configuration.extraEnvVars too: setting the env here as
            # well would duplicate each variable (rejected by server-side apply, failing upgrades).
            # Volumes are not shared: the DaemonSet renders only nodeAgent.extraVolumes/Mounts.
            values["nodeAgent"] = {
                "extraVolumes": patch.volumes,
                "extraVolumeMounts": patch.mounts,
            }
        return values

    def _release(self, patch: PodIdentityPatch) -> k8s.helm.v3.Release:
        cluster = self.cluster
        # The node-agent mounts host paths: only then does the namespace need the privileged level.
        level = "privileged" if self.props.backup.file_system_backup else "baseline"
        namespace = k8s.core.v1.Namespace(
            f"{self._resource_name}-namespace",
            metadata={
                "name": NAMESPACE,
                "labels": {"pod-security.kubernetes.io/enforce": level, "app.kubernetes.io/part-of": "velero"},
            },
            opts=pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider, depends_on=list(cluster.ready)),
        )
        return k8s.helm.v3.Release(
            f"{self._resource_name}-velero",
            name="velero",
            chart="velero",
            version=self.props.backup.chart_version,
            repository_opts={"repo": CHART_REPOSITORY},
            namespace=NAMESPACE,
            create_namespace=False,
            values=self.chart_values(patch),
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,
            opts=pulumi.ResourceOptions(
                parent=self, provider=cluster.k8s_provider, depends_on=[*cluster.ready, namespace, *self._access]
            ),
        )

    def outputs(self) -> BackupOutputs:
        backup, rpo = self.props.backup, self.rpo_minutes
        outputs: BackupOutputs = {
            "cloud": self.cloud,
            "region": self.region,
            "bucket": self.store.bucket_name,
            "kmsKey": self.store.key_ref,
            "identity": self.store.identity,
            "storageLocation": self.location_name,
            "restoreLocations": [peer.location_name for peer in self.peers],
            "schedules": [f"velero-{schedule_key(self.cluster.spec.name, s.name)}" for s in backup.schedules],
            "chartVersion": backup.chart_version,
            "rpo": format_minutes(rpo),
            "rpoMinutes": rpo,
        }
        drill = self._drill_outputs()
        if drill is not None:
            outputs["drill"] = drill
        return outputs

    def _drill_outputs(self) -> DrillOutputs | None:
        drills = self.props.backup.drills
        if drills is None or not self.peers:
            return None
        return {
            "cron": drills.cron,
            "namespaces": list(drills.namespaces),
            "sources": [peer.location_name for peer in self.peers],
            "timeoutMinutes": drills.timeout_minutes,
            # What a passing drill shows at worst: the schedules' RPO (the newest backup is restored).
            "expectedRpoMinutes": self.rpo_minutes,
        }


@dataclass
class BackupFleet:
    """Handle on the backup components, one per cluster."""

    components: dict[str, VeleroBackup]

    def outputs(self) -> dict[str, BackupOutputs]:
        return {name: component.outputs() for name, component in self.components.items()}


def build_backup(
    plan: FleetPlan,
    clusters: Mapping[str, ClusterPort],
    aws_trusts: AwsTrusts,
    project_services: ProjectServices | None,
) -> BackupFleet | None:
    """Create the backup components for the fleet, or None when the block is absent.

    EKS clusters' workload identity pools (to read GCS peers) live in gcp:project, which never moves when
    clusters are added or reordered (config.backup.check requires it when an EKS cluster has a GCP peer)."""
    backup = plan.block(BackupConfig)
    if backup is None:
        return None
    components = {
        name: VeleroBackup(
            f"{name}-backup",
            VeleroBackupProps(
                cluster=cluster,
                backup=backup,
                environment=plan.environment,
                protect=plan.cluster(name).protect,
                federation_project=plan.gcp_project,
                aws_trust=aws_trusts.of(name),
                prefix=plan.prefix,
                project_services=project_services,
                drill_metrics=COLLECTOR_METRICS_URL if plan.block(ObservabilityConfig) is not None else None,
            ),
        )
        for name, cluster in clusters.items()
    }
    for name, component in components.items():
        component.install([components[peer] for peer in plan.restore_peers.get(name, ())])
    return BackupFleet(components)
