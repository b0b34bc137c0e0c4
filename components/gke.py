"""GKE cluster component: VPC-native private regional cluster with Workload Identity and CMEK Secrets."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import pulumi
import pulumi_gcp as gcp

from .cluster import ClusterArgs, KubernetesCluster
from .config import NodePoolConfig
from .config.clusters import PRIVATE_RANGES

# APIs the cluster, its network, its KMS key and its node logging need.
REQUIRED_APIS = (
    "compute.googleapis.com",
    "container.googleapis.com",
    "cloudkms.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
)
# What nodes need and nothing more (never the default compute service account).
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)
POD_RANGE = "pods"
SERVICE_RANGE = "services"
KEY_ROTATION = f"{90 * 24 * 3600}s"
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GKE_ZONES_PER_REGION = 3


def service_account_id(environment: str, name: str, purpose: str) -> str:
    """A service account id (6-30 chars) unique per environment and cluster, stable across runs."""
    wanted = f"{environment}-{name}-{purpose}"
    if len(wanted) <= 30:
        return wanted
    suffix = hashlib.sha256(wanted.encode()).hexdigest()[:6]
    return f"{wanted[:23].rstrip('-')}-{suffix}"


def authorized_networks(public_cidrs: list[str]) -> list[dict[str, str]]:
    """Who may call the API server: the listed public CIDRs, plus private ranges.

    Private ranges are reachable only over the fleet's peering/VPN, so the network is the real gate;
    listing the ranges (not each peer's CIDR) keeps this input unchanged when clusters are added,
    while Argo CD on the hub and istiod in peer clusters can still reach a private endpoint.
    """
    private = [{"cidr_block": str(r), "display_name": f"fleet-private-{i}"} for i, r in enumerate(PRIVATE_RANGES)]
    public = [{"cidr_block": cidr, "display_name": f"public-{i}"} for i, cidr in enumerate(public_cidrs)]
    return public + private


class GkeCluster(KubernetesCluster):
    """One GKE cluster of the fleet, with its own GCP provider (project and region)."""

    TYPE = "multicluster:gke:GkeCluster"

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, args, opts)
        if args.project is None:
            raise ValueError(f"GKE cluster {name} needs a project")
        self.project = args.project
        self.gke_name = f"{args.environment}-{name}"
        self.workload_identity_pool = f"{self.project}.svc.id.goog"
        labels = {k.replace(":", "_"): v for k, v in {**args.tags, "multicluster_cluster": name}.items()}
        self.gcp_provider = gcp.Provider(
            f"{name}-gcp",
            project=self.project,
            region=args.spec.region,
            default_labels=labels,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._apis()
        self._network()
        self._node_identity()
        self._encryption()
        self._control_plane()
        self.node_pools = [self._node_pool(pool) for pool in self.spec.node_pools]
        self.ready = list(self.node_pools)
        self._kubernetes_access()
        self.register_outputs({**self.outputs(), "kubeconfig": self.kubeconfig})

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.gcp_provider, **kwargs)

    def _apis(self) -> None:
        self.apis = [
            gcp.projects.Service(
                f"{self._name}-{api.split('.')[0]}-api",
                project=self.project,
                service=api,
                disable_on_destroy=False,  # other workloads in the project may use the API
                disable_dependent_services=False,
                opts=self.child_opts(),
            )
            for api in REQUIRED_APIS
        ]

    # --- network -------------------------------------------------------------------------
    def _network(self) -> None:
        name, net = self._name, self.spec.network
        self.network = gcp.compute.Network(
            f"{name}-network",
            auto_create_subnetworks=False,
            routing_mode="GLOBAL",
            description=f"Fleet network of {self.gke_name}",
            opts=self.child_opts(depends_on=self.apis),
        )
        self.network_id = self.network.self_link
        self.subnetwork = gcp.compute.Subnetwork(
            f"{name}-nodes",
            network=self.network.id,
            region=self.region,
            ip_cidr_range=net.cidr,
            private_ip_google_access=True,
            secondary_ip_ranges=[
                {"range_name": POD_RANGE, "ip_cidr_range": net.pod_cidr},
                {"range_name": SERVICE_RANGE, "ip_cidr_range": net.service_cidr},
            ],
            log_config={
                "aggregation_interval": "INTERVAL_5_SEC",
                "flow_sampling": 0.5,
                "metadata": "INCLUDE_ALL_METADATA",
            },
            opts=self.child_opts(),
        )
        self.router = gcp.compute.Router(
            f"{name}-nat", network=self.network.id, region=self.region, opts=self.child_opts()
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            router=self.router.name,
            region=self.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=self.child_opts(),
        )

    # --- identities and keys -----------------------------------------------------------------
    def _node_identity(self) -> None:
        name = self._name
        self.node_service_account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            account_id=service_account_id(self.args.environment, name, "nodes"),
            display_name=f"GKE nodes of {self.gke_name}",
            opts=self.child_opts(depends_on=self.apis),
        )
        self.node_roles = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[-1]}",
                project=self.project,
                role=role,
                member=self.node_service_account.member,
                opts=self.child_opts(),
            )
            for role in NODE_ROLES
        ]

    def _encryption(self) -> None:
        name, protect = self._name, self.args.protect
        project = gcp.organizations.get_project_output(
            project_id=self.project, opts=pulumi.InvokeOutputOptions(parent=self, provider=self.gcp_provider)
        )
        # Key rings cannot be deleted: let Pulumi suffix the name so a rebuilt stack never collides.
        key_ring = gcp.kms.KeyRing(
            f"{name}-gke", location=self.region, opts=self.child_opts(protect=protect, depends_on=self.apis)
        )
        self.kms_key = gcp.kms.CryptoKey(
            f"{name}-secrets",
            key_ring=key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=KEY_ROTATION,
            opts=self.child_opts(protect=protect),
        )
        self.kms_grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-secrets-gke-agent",
            crypto_key_id=self.kms_key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=project.number.apply(
                lambda number: f"serviceAccount:service-{number}@container-engine-robot.iam.gserviceaccount.com"
            ),
            opts=self.child_opts(),
        )

    # --- control plane ---------------------------------------------------------------------
    def _control_plane(self) -> None:
        spec, protect = self.spec, self.args.protect
        public_cidrs = spec.endpoint.public_access_cidrs
        self.cluster = gcp.container.Cluster(
            f"{self._name}-gke",
            name=self.gke_name,
            location=self.region,
            network=self.network.id,
            subnetwork=self.subnetwork.id,
            networking_mode="VPC_NATIVE",
            remove_default_node_pool=True,
            initial_node_count=1,
            # The default pool exists briefly at creation: even then, not the default service account.
            node_config=self._node_config_base(),
            ip_allocation_policy={
                "cluster_secondary_range_name": POD_RANGE,
                "services_secondary_range_name": SERVICE_RANGE,
            },
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": not public_cidrs,
                "master_ipv4_cidr_block": spec.network.master_cidr,
                "master_global_access_config": {"enabled": True},
            },
            master_authorized_networks_config={"cidr_blocks": authorized_networks(public_cidrs)},
            workload_identity_config={"workload_pool": self.workload_identity_pool},
            datapath_provider="ADVANCED_DATAPATH",
            release_channel={"channel": spec.release_channel},
            min_master_version=spec.kubernetes_version,
            database_encryption={"state": "ENCRYPTED", "key_name": self.kms_key.id},
            enable_shielded_nodes=True,
            enable_legacy_abac=False,
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            logging_config={"enable_components": ["SYSTEM_COMPONENTS", "APISERVER", "WORKLOADS"]},
            monitoring_config={
                "enable_components": ["SYSTEM_COMPONENTS", "APISERVER", "SCHEDULER", "CONTROLLER_MANAGER"],
                "managed_prometheus": {"enabled": True},
            },
            maintenance_policy={
                "recurring_window": {
                    "start_time": "2026-01-04T02:00:00Z",
                    "end_time": "2026-01-04T06:00:00Z",
                    "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU",
                }
            },
            resource_labels={"environment": self.args.environment, "cluster": self._name},
            deletion_protection=protect,
            opts=self.child_opts(
                protect=protect,
                depends_on=[*self.apis, self.kms_grant, *self.node_roles],
                ignore_changes=["nodeConfig", "initialNodeCount"],
            ),
        )
        self.cluster_name = self.cluster.name
        self.endpoint = self.cluster.endpoint.apply(lambda ip: f"https://{ip}")
        self.certificate_authority = self.cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate)

    def _node_config_base(self) -> dict[str, Any]:
        return {
            "service_account": self.node_service_account.email,
            "oauth_scopes": [CLOUD_PLATFORM_SCOPE],
            "workload_metadata_config": {"mode": "GKE_METADATA"},
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            "metadata": {"disable-legacy-endpoints": "true"},
        }

    def _node_pool(self, pool: NodePoolConfig) -> gcp.container.NodePool:
        per_zone = max(1, math.ceil(pool.desired_size / GKE_ZONES_PER_REGION))
        return gcp.container.NodePool(
            f"{self._name}-{pool.name}",
            cluster=self.cluster.id,
            location=self.region,
            initial_node_count=per_zone,
            autoscaling={
                "total_min_node_count": pool.min_size,
                "total_max_node_count": pool.max_size,
                "location_policy": "BALANCED",
            },
            management={"auto_repair": True, "auto_upgrade": True},
            upgrade_settings={"strategy": "SURGE", "max_surge": 1, "max_unavailable": 0},
            node_config={
                **self._node_config_base(),
                "machine_type": pool.machine_type,
                "disk_size_gb": pool.disk_size_gb,
                "disk_type": "pd-balanced",
                "spot": pool.spot,
                "labels": {"multicluster/node-pool": pool.name, **pool.labels},
                "taints": [{"key": t.key, "value": t.value, "effect": TAINT_EFFECTS[t.effect]} for t in pool.taints],
            },
            # The autoscaler owns the node count once the pool exists.
            opts=self.child_opts(ignore_changes=["initialNodeCount"]),
        )

    # --- access ------------------------------------------------------------------------------
    def _kubernetes_access(self) -> None:
        self._connect(
            self.cluster.name,
            lambda _name: {
                "command": "gke-gcloud-auth-plugin",
                "provideClusterInfo": True,
                "installHint": "gcloud components install gke-gcloud-auth-plugin",
            },
        )

    def outputs(self) -> dict[str, Any]:
        return {
            **self.common_outputs(),
            "project": self.project,
            "networkName": self.network.name,
            "subnetwork": self.subnetwork.self_link,
            "podCidr": self.spec.network.pod_cidr,
            "serviceCidr": self.spec.network.service_cidr,
            "workloadIdentityPool": self.workload_identity_pool,
        }
