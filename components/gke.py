"""GKE cluster component: a private regional VPC-native cluster reached through its DNS-based endpoint.

Every caller of the API server (Pulumi, Argo CD, istiod, Linkerd's service mirror) uses the DNS-based
control-plane endpoint: reachable wherever Google APIs are, IAM-checked (`container.clusters.connect`)
before a request reaches the API server, with a publicly trusted certificate (no cluster CA pinned).
The IP endpoints stay private. The control plane is on Private Service Connect unless the config gives a
/28 master range (VPC Network Peering, the legacy design).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_gcp as gcp

from .cluster import KubernetesCluster, ObjectStoreSpec, reported
from .config import NodePoolConfig
from .config.stack import GKE_ZONES, RFC1918
from .fleetplan import ClusterPlan
from .gcp_apis import COMPUTE, CONTAINER, IAM, KMS, LOGGING, MONITORING, RESOURCE_MANAGER, STORAGE
from .outputs import GkeClusterOutputs
from .storage_gcp import GcsBucket, gcs_lifecycle, hardened_gcs_bucket

# APIs the cluster, its network, its keys, its identities and its node logging need.
REQUIRED_APIS = (
    COMPUTE,
    CONTAINER,
    KMS,
    IAM,
    LOGGING,
    MONITORING,
    RESOURCE_MANAGER,
    STORAGE,  # the buckets of backups and telemetry, and the GCS service agent their keys trust
)
# What nodes need and nothing more (never the default compute service account).
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)
# Some predefined roles exist in a project only once their service is on
# (https://cloud.google.com/service-usage/docs/enabled-service): a grant of one waits for its API as well.
ROLE_SERVICES = {"roles/logging.": LOGGING, "roles/monitoring.": MONITORING, "roles/stackdriver.": MONITORING}
POD_RANGE = "pods"
SERVICE_RANGE = "services"
KEY_ROTATION = f"{90 * 24 * 3600}s"
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# The first occurrence of every maintenance window: a Monday, so weekday rules start from it.
MAINTENANCE_EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
# Lets a member act as a Google service account: what Workload Identity (and Workload Identity Federation) needs.
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


def service_account_id(prefix: str, name: str, purpose: str) -> str:
    """A service account id (6-30 chars) unique per stack and cluster, stable across runs."""
    wanted = f"{prefix}-{name}-{purpose}"
    if len(wanted) <= 30:
        return wanted
    suffix = hashlib.sha256(wanted.encode()).hexdigest()[:6]
    return f"{wanted[:23].rstrip('-')}-{suffix}"


def workload_identity_user(
    name: str, account: gcp.serviceaccount.Account, member: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> gcp.serviceaccount.IAMMember:
    """Let `member` (a GKE Kubernetes service account, or a federated principal) act as the Google `account`."""
    return gcp.serviceaccount.IAMMember(
        name, service_account_id=account.name, role=WORKLOAD_IDENTITY_USER, member=member, opts=opts
    )


# Annotations only: naming the type at import would load pulumi_gcp.container (~0.2 s) in fleets without GKE.
if TYPE_CHECKING:
    AuthorizedNetwork = gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgsDict


def authorized_networks(public_cidrs: list[str]) -> list[AuthorizedNetwork]:
    """Who may call the IP endpoints: the listed public CIDRs, plus the RFC 1918 ranges.

    A private endpoint accepts reserved (RFC 1918) ranges only. Callers of the fleet use the DNS-based
    endpoint, which authorized networks do not govern; these are for kubectl from inside the network.
    """
    private: list[AuthorizedNetwork] = [
        {"cidr_block": str(r), "display_name": f"fleet-private-{i}"} for i, r in enumerate(RFC1918)
    ]
    public: list[AuthorizedNetwork] = [
        {"cidr_block": cidr, "display_name": f"public-{i}"} for i, cidr in enumerate(public_cidrs)
    ]
    return public + private


def maintenance_policy(
    days: tuple[str, ...], start_minute: int, hours: int
) -> gcp.container.ClusterMaintenancePolicyArgsDict:
    """A weekly recurring window (RFC 5545) from the cluster's slot or its own maintenance setting."""
    start = MAINTENANCE_EPOCH + timedelta(minutes=start_minute)
    end = start + timedelta(hours=hours)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "recurring_window": {
            "start_time": start.strftime(fmt),
            "end_time": end.strftime(fmt),
            "recurrence": f"FREQ=WEEKLY;BYDAY={','.join(days)}",
        }
    }


class GkeCluster(KubernetesCluster):
    """One GKE cluster of the fleet, with its own GCP provider (project and region)."""

    TYPE = "multicluster:gke:GkeCluster"

    def __init__(self, name: str, args: ClusterPlan, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, args, opts)
        if args.project is None:
            raise ValueError(f"GKE cluster {name} needs a project")
        self.project = args.project
        self.gke_name = args.physical_name
        self.workload_identity_pool = f"{self.project}.svc.id.goog"
        self.peering_based = args.spec.network.master_cidr is not None
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

    def workload_identity_member(self, namespace: str, service_account: str) -> str:
        """The IAM member of the Kubernetes service account `namespace/service_account` of this cluster's pods.

        The pool `<project>.svc.id.goog` is the project's, not the cluster's: every Workload Identity cluster
        of the project shares it (https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity).
        """
        return f"serviceAccount:{self.workload_identity_pool}[{namespace}/{service_account}]"

    def bind_workload_identity(
        self,
        name: str,
        account: gcp.serviceaccount.Account,
        subject: tuple[str, str],
        opts: pulumi.ResourceOptions,
    ) -> gcp.serviceaccount.IAMMember:
        """Let pods of this cluster running as `subject` (namespace, Kubernetes service account) act as `account`.

        `opts` are the caller's (its parent, provider and the APIs it waits for): the binding belongs to it.
        """
        return workload_identity_user(name, account, self.workload_identity_member(*subject), opts)

    def complete(self, public_callers: pulumi.Input[list[str]]) -> None:
        self._node_identity()
        self._encryption()
        self._control_plane()
        self._webhooks()
        self.node_pools = [self._node_pool(pool) for pool in self.spec.node_pools]
        self.ready = list(self.node_pools)
        self._kubernetes_access()
        self.register_outputs({**self.outputs(), "kubeconfig": self.kubeconfig})

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.gcp_provider, **kwargs)

    def object_store(self, spec: ObjectStoreSpec, parent: pulumi.Resource) -> GcsBucket:
        """A hardened GCS bucket with its own Cloud KMS key (components/storage_gcp.py), in this cluster's project
        and region; its key ring waits for the cluster's nodes, by which time the project's APIs are on."""

        def opts(api: str, **kwargs: Any) -> pulumi.ResourceOptions:
            after = [*self.waits_for(api), *kwargs.pop("depends_on", [])]
            return pulumi.ResourceOptions(parent=parent, provider=self.gcp_provider, depends_on=after, **kwargs)

        def data_opts(api: str, **kwargs: Any) -> pulumi.ResourceOptions:
            return opts(api, protect=spec.protect, retain_on_delete=True, **kwargs)

        return hardened_gcs_bucket(
            spec.name,
            key_name=spec.key_name,
            project=self.project,
            region=self.region,
            purpose=spec.purpose,
            protect=spec.protect,
            lifecycle=gcs_lifecycle(spec.retention),
            opts=opts,
            data_opts=data_opts,
            # Asking for the project's GCS service agent is a Cloud Storage call too: after the API is on (on a first
            # preview, while the Service is still to be created, the engine answers it as unknown).
            invoke_opts=pulumi.InvokeOutputOptions(
                parent=parent, provider=self.gcp_provider, depends_on=self.waits_for(STORAGE)
            ),
            ring_after=list(self.ready),
        )

    @staticmethod
    def load_balancer_annotations(internal: bool, *, cross_zone: bool = False) -> dict[str, str]:
        """GKE's passthrough Network Load Balancer (cross-zone by design); internal when only peers over private
        links reach it, with global access since peers sit in other regions (an internal LB is regional
        otherwise: cloud.google.com/kubernetes-engine/docs/concepts/service-load-balancer-parameters)."""
        if internal:
            return {
                "networking.gke.io/load-balancer-type": "Internal",
                "networking.gke.io/internal-load-balancer-allow-global-access": "true",
            }
        return {}

    def _apis(self) -> None:
        self.api_services = {
            api: gcp.projects.Service(
                f"{self._name}-{api.split('.')[0]}-api",
                project=self.project,
                service=api,
                disable_on_destroy=False,  # other workloads in the project may use the API
                disable_dependent_services=False,
                opts=self.child_opts(),
            )
            for api in (*REQUIRED_APIS, *self.args.extra_apis)
        }

    def waits_for(self, api: str) -> list[pulumi.Resource]:
        """What a resource calling `api` in this cluster's project waits for: the Service enabling it (a new
        project refuses calls to a disabled API: SERVICE_DISABLED)."""
        return [self.api_services[api]]

    def role_services(self, role: str) -> list[pulumi.Resource]:
        """The Service of the API whose role `role` is, when the cluster enables it (ROLE_SERVICES)."""
        return [self.api_services[api] for prefix, api in ROLE_SERVICES.items() if role.startswith(prefix)]

    def calling(self, api: str, *more: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options of a child resource that calls `api`: it waits for that API's Service (and for `more`)."""
        return self.child_opts(depends_on=[*self.waits_for(api), *more], **kwargs)

    def after_apis(self, *more: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options of a resource that uses every API of the cluster (the GKE cluster itself: its network, keys,
        node identity, logging and monitoring)."""
        return self.child_opts(depends_on=[*self.api_services.values(), *more], **kwargs)

    # --- network -------------------------------------------------------------------------
    def _network(self) -> None:
        name, net = self._name, self.spec.network
        self.network = gcp.compute.Network(
            f"{name}-network",
            auto_create_subnetworks=False,
            routing_mode="GLOBAL",
            description=f"Fleet network of {self.gke_name}",
            opts=self.calling(COMPUTE),
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
            opts=self.calling(COMPUTE),
        )
        self.router = gcp.compute.Router(
            f"{name}-nat", network=self.network.id, region=self.region, opts=self.calling(COMPUTE)
        )
        # Static egress addresses: peers' public endpoints can admit them (Cloud NAT's automatic addresses
        # exist only after deploy and change).
        count = self.spec.nat_addresses
        self.nat_ips = [
            gcp.compute.Address(
                f"{name}-nat-{i}",
                region=self.region,
                address_type="EXTERNAL",
                network_tier="PREMIUM",
                description=f"Cloud NAT egress of {self.gke_name}",
                opts=self.calling(COMPUTE),
            )
            for i in range(count)
        ]
        self.egress_addresses = pulumi.Output.all(*[a.address for a in self.nat_ips]).apply(list)
        gcp.compute.RouterNat(
            f"{name}-nat",
            router=self.router.name,
            region=self.region,
            nat_ip_allocate_option="MANUAL_ONLY",
            nat_ips=[a.self_link for a in self.nat_ips],
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=self.calling(COMPUTE),
        )

    # --- identities and keys -----------------------------------------------------------------
    def _node_identity(self) -> None:
        name = self._name
        self.node_service_account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            account_id=service_account_id(self.args.prefix or self.args.environment, name, "nodes"),
            display_name=f"GKE nodes of {self.gke_name}",
            opts=self.calling(IAM),
        )
        self.node_roles = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[-1]}",
                project=self.project,
                role=role,
                member=self.node_service_account.member,
                opts=self.calling(RESOURCE_MANAGER, *self.role_services(role)),
            )
            for role in NODE_ROLES
        ]

    def _encryption(self) -> None:
        """Secrets (GKE service agent) and node boot disks (Compute Engine service agent) under Cloud KMS keys."""
        name, protect = self._name, self.args.protect
        # Key rings cannot be deleted: let Pulumi suffix the name so a rebuilt stack never collides.
        key_ring = gcp.kms.KeyRing(f"{name}-gke", location=self.region, opts=self.calling(KMS, protect=protect))
        self.kms_key = gcp.kms.CryptoKey(
            f"{name}-secrets",
            key_ring=key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=KEY_ROTATION,
            opts=self.calling(KMS, protect=protect),
        )
        self.boot_key = gcp.kms.CryptoKey(
            f"{name}-boot-disks",
            key_ring=key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=KEY_ROTATION,
            opts=self.calling(KMS, protect=protect),
        )
        # The service agents exist once their API is enabled; ServiceIdentity makes sure before the grants.
        grants: list[gcp.kms.CryptoKeyIAMMember] = []
        # The project's number, which the service agents' addresses carry: asked once for both.
        project = gcp.organizations.get_project_output(
            project_id=self.project, opts=pulumi.InvokeOutputOptions(parent=self, provider=self.gcp_provider)
        )
        for service, key, member in (
            ("container.googleapis.com", self.kms_key, "container-engine-robot"),
            ("compute.googleapis.com", self.boot_key, "compute-system"),
        ):
            agent = gcp.projects.ServiceIdentity(
                f"{name}-{service.split('.')[0]}-agent",
                project=self.project,
                service=service,
                opts=self.calling(service),
            )
            grants.append(
                gcp.kms.CryptoKeyIAMMember(
                    f"{name}-{'secrets' if key is self.kms_key else 'boot-disks'}-{service.split('.')[0]}-agent",
                    crypto_key_id=key.id,
                    role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
                    member=project.number.apply(
                        lambda number, m=member: f"serviceAccount:service-{number}@{m}.iam.gserviceaccount.com"
                    ),
                    opts=self.calling(KMS, agent),
                )
            )
        self.kms_grants = grants

    # --- control plane ---------------------------------------------------------------------
    def _control_plane(self) -> None:
        spec, args = self.spec, self.args
        public_cidrs = spec.endpoint.public_access_cidrs
        private_config: gcp.container.ClusterPrivateClusterConfigArgsDict = {
            "enable_private_nodes": True,
            "enable_private_endpoint": not public_cidrs,
            "master_global_access_config": {"enabled": True},
        }
        if self.peering_based:
            private_config["master_ipv4_cidr_block"] = spec.network.master_cidr
        days, start, hours = args.maintenance or (("SA", "SU"), 2 * 60, 6)
        cluster_args: dict[str, Any] = {}
        if spec.rbac_google_group:
            cluster_args["authenticator_groups_config"] = {"security_group": spec.rbac_google_group}
        if spec.binary_authorization:
            cluster_args["binary_authorization"] = {"evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE"}
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
            private_cluster_config=private_config,
            master_authorized_networks_config={"cidr_blocks": authorized_networks(public_cidrs)},
            control_plane_endpoints_config={
                "dns_endpoint_config": {
                    "allow_external_traffic": True,
                    # Mesh peers present Kubernetes service-account tokens; IAM callers present Google tokens.
                    "enable_k8s_tokens_via_dns": args.token_callers,
                },
                "ip_endpoints_config": {"enabled": True},
            },
            workload_identity_config={"workload_pool": self.workload_identity_pool},
            datapath_provider="ADVANCED_DATAPATH",
            # GKE owns the Gateway API CRDs (standard channel), so no chart installs them over it: a Linkerd mesh
            # needs HTTPRoute/GRPCRoute (https://cloud.google.com/kubernetes-engine/docs/how-to/deploying-gateways).
            gateway_api_config={"channel": "CHANNEL_STANDARD"},
            release_channel={"channel": spec.release_channel},
            min_master_version=spec.kubernetes_version,
            database_encryption={"state": "ENCRYPTED", "key_name": self.kms_key.id},
            enable_shielded_nodes=True,
            enable_legacy_abac=False,
            enable_intranode_visibility=True,
            security_posture_config={"mode": "BASIC"},
            node_pool_defaults={"node_config_defaults": {"insecure_kubelet_readonly_port_enabled": "FALSE"}},
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            logging_config={"enable_components": ["SYSTEM_COMPONENTS", "APISERVER", "WORKLOADS"]},
            monitoring_config={
                "enable_components": ["SYSTEM_COMPONENTS", "APISERVER", "SCHEDULER", "CONTROLLER_MANAGER"],
                "managed_prometheus": {"enabled": True},
            },
            maintenance_policy=maintenance_policy(days, start, hours),
            resource_labels={"environment": args.environment, "cluster": self._name},
            deletion_protection=args.protect,
            **cluster_args,
            opts=self.after_apis(
                *self.kms_grants,
                *self.node_roles,
                protect=args.protect,
                # A replacement keeps the name: the old cluster must be gone first.
                delete_before_replace=True,
                ignore_changes=["nodeConfig", "initialNodeCount"],
            ),
        )
        self.cluster_name = self.cluster.name
        # The issuer of its service-account tokens (a public discovery document): what other clouds trust.
        self.oidc_issuer = pulumi.Output.all(self.project, self.cluster.location, self.cluster.name).apply(
            lambda v: f"https://container.googleapis.com/v1/projects/{v[0]}/locations/{v[1]}/clusters/{v[2]}"
        )
        self.endpoint = self.cluster.endpoint.apply(lambda ip: f"https://{ip}")
        self.certificate_authority = self.cluster.master_auth.apply(
            lambda auth: reported(auth.cluster_ca_certificate, "the GKE cluster's certificate authority")
        )
        self.dns_endpoint = self.cluster.control_plane_endpoints_config.apply(
            lambda c: c.dns_endpoint_config.endpoint if c and c.dns_endpoint_config else None
        )
        self.api_server = self.dns_endpoint.apply(lambda host: f"https://{host}")
        self.api_ca = None  # the DNS endpoint's certificate is publicly trusted: never pin the cluster CA

    def _webhooks(self) -> None:
        """Let the control plane reach the admission webhooks of what runs on the nodes (GKE's own rule opens
        443 and 10250 only). The control plane comes from the master CIDR (VPC peering) or, on Private Service
        Connect, from its private endpoint address (terraform-google-kubernetes-engine does the same)."""
        ports = sorted(set(self.args.webhook_ports))
        if not ports:
            return
        if self.peering_based:
            sources: pulumi.Input[list[str]] = [self.spec.network.master_cidr or ""]
        else:
            sources = self.cluster.private_cluster_config.apply(lambda c: [f"{c.private_endpoint}/32"])
        gcp.compute.Firewall(
            f"{self._name}-control-plane-webhooks",
            name=f"{self.gke_name}-webhooks",  # gke_name is at most 40 characters (checked in the config)
            network=self.network.id,
            direction="INGRESS",
            source_ranges=sources,
            allows=[{"protocol": "tcp", "ports": [str(p) for p in ports]}],
            description=f"GKE control plane of {self.gke_name} to admission webhooks on its nodes",
            opts=self.calling(COMPUTE, delete_before_replace=True),
        )

    def _node_config_base(self) -> gcp.container.ClusterNodeConfigArgsDict:
        return {
            "service_account": self.node_service_account.email,
            "oauth_scopes": [CLOUD_PLATFORM_SCOPE],
            "workload_metadata_config": {"mode": "GKE_METADATA"},
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            "metadata": {"disable-legacy-endpoints": "true"},
            "image_type": "COS_CONTAINERD",
            "boot_disk_kms_key": self.boot_key.id,
        }

    def _node_pool(self, pool: NodePoolConfig) -> gcp.container.NodePool:
        # Sizes in the config are totals: a regional pool starts the same count in each of its zones.
        per_zone = pool.desired_size // GKE_ZONES
        return gcp.container.NodePool(
            # Auto-named (`<cluster>-<pool>-<suffix>`): a change that replaces the pool creates the new one
            # before deleting the old, so the pool never loses its capacity (a fixed name would have to go first).
            f"{self._name}-{pool.name}",
            cluster=self.cluster.id,
            location=self.region,
            initial_node_count=per_zone,
            autoscaling={
                "total_min_node_count": pool.min_size,
                "total_max_node_count": pool.max_size,
                "location_policy": "BALANCED",
            },
            # A release-channel cluster upgrades its nodes itself (auto-upgrade cannot be turned off there).
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
                "kubelet_config": {"insecure_kubelet_readonly_port_enabled": "FALSE"},
            },
            # The autoscaler owns the node count once the pool exists.
            opts=self.calling(CONTAINER, ignore_changes=["initialNodeCount"]),
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
            # The DNS endpoint's host is minted per cluster: it changes only when the cluster is replaced.
            identity=self.dns_endpoint,
        )

    def outputs(self) -> GkeClusterOutputs:
        return {
            **self.common_outputs(),
            "project": self.project,
            "networkName": self.network.name,
            "subnetwork": self.subnetwork.self_link,
            "podCidr": self.spec.network.pod_cidr,
            "serviceCidr": self.spec.network.service_cidr,
            "workloadIdentityPool": self.workload_identity_pool,
            "dnsEndpoint": self.dns_endpoint,
            "controlPlane": "vpc-peering" if self.peering_based else "private-service-connect",
        }
