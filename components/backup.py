"""Backup and disaster recovery with Velero: one hardened bucket, one keyless identity and one Velero
install per cluster, plus read-only access to the buckets of the cluster's failover peers.

Cross-cloud peers stay keyless: a GKE cluster reads an S3 peer bucket through an IAM role that trusts
the GKE cluster's own OIDC issuer (a projected service-account token); an EKS cluster reads a GCS peer
bucket through a workload identity pool whose provider trusts the EKS OIDC issuer. See docs/backup.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from .aws_iam import irsa_trust_policy
from .cluster import KubernetesCluster
from .config import StackConfig
from .config.backup import BackupConfig, format_minutes, restore_peers
from .config.regions import GCP_REGIONS
from .federation import AwsOidcTrust
from .gcp_project import ProjectServices

CHART_REPOSITORY = "https://vmware-tanzu.github.io/helm-charts"
NAMESPACE = "velero"
SERVICE_ACCOUNT = "velero"
SUBJECT = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
# Plugin releases built for Velero 1.18 (the 12.1.0 chart's appVersion 1.18.1).
PLUGIN_IMAGES = {
    "aws": "velero/velero-plugin-for-aws:v1.14.2",
    "gcp": "velero/velero-plugin-for-gcp:v1.14.2",
}
PROVIDERS = {"aws": "velero.io/aws", "gcp": "velero.io/gcp"}
KEY_ROTATION = f"{90 * 24 * 3600}s"
SOFT_DELETE_SECONDS = 7 * 24 * 3600
ABORT_MULTIPART_DAYS = 7
# EC2 actions the AWS plugin documents for volume snapshots.
EC2_SNAPSHOT_ACTIONS = [
    "ec2:DescribeVolumes",
    "ec2:DescribeSnapshots",
    "ec2:CreateTags",
    "ec2:CreateVolume",
    "ec2:CreateSnapshot",
    "ec2:DeleteSnapshot",
]
S3_OBJECT_ACTIONS = [
    "s3:GetObject",
    "s3:DeleteObject",
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]
KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
# Permissions the GCP plugin documents for disk snapshots (bucket rights are granted on the bucket).
GCE_SNAPSHOT_PERMISSIONS = [
    "compute.disks.get",
    "compute.disks.create",
    "compute.disks.createSnapshot",
    "compute.projects.get",
    "compute.snapshots.get",
    "compute.snapshots.create",
    "compute.snapshots.useReadOnly",
    "compute.snapshots.delete",
    "compute.zones.get",
]
AWS_TOKEN_DIR = "/var/run/secrets/velero-aws"
GCP_FEDERATION_DIR = "/var/run/secrets/velero-gcp"
GCP_FEDERATION_CONFIGMAP = "velero-gcp-federation"


def storage_location_name(cluster: str) -> str:
    """Every storage location is named after the cluster whose bucket it is, in every cluster."""
    return cluster


def schedule_key(cluster: str, schedule: str) -> str:
    """Chart key of a schedule; per cluster so that peers' backup names never collide on restore."""
    return f"{cluster}-{schedule}"


def policy_document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def plugin_container(cloud: str) -> dict[str, Any]:
    return {
        "name": f"velero-plugin-for-{cloud}",
        "image": PLUGIN_IMAGES[cloud],
        "imagePullPolicy": "IfNotPresent",
        "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
    }


@dataclass(frozen=True)
class VeleroBackupProps:
    """Props of one cluster's backup component."""

    cluster: KubernetesCluster
    backup: BackupConfig
    environment: str
    protect: bool
    # GCP project (gcp:project) holding the workload identity pools that let EKS clusters read GCS peers.
    federation_project: str | None = None
    # GKE only: AWS trust of this cluster's issuer, when it reads S3 peers (components/federation.py).
    aws_trust: AwsOidcTrust | None = None
    prefix: str = ""  # of physical names (the stack name by default)
    # The APIs of gcp:project the workload identity pools call (EKS clusters reading GCS peers).
    project_services: ProjectServices | None = None


@dataclass
class PodIdentityPatch:
    """Env, volumes and manifests added to the Velero server and node-agent for cross-cloud reads."""

    env: list[dict[str, Any]]
    volumes: list[dict[str, Any]]
    mounts: list[dict[str, Any]]
    objects: list[Any]

    @staticmethod
    def empty() -> PodIdentityPatch:
        return PodIdentityPatch([], [], [], [])

    def merge(self, other: PodIdentityPatch) -> PodIdentityPatch:
        return PodIdentityPatch(
            self.env + other.env, self.volumes + other.volumes, self.mounts + other.mounts, self.objects + other.objects
        )


class VeleroBackup(pulumi.ComponentResource):
    """Velero for one cluster: bucket + key, identity, chart, schedules and peer storage locations.

    Built in two steps because peers need each other's buckets: the constructor creates the bucket
    and the identity; `install(peers)` grants read access to the peers' buckets and installs Velero.
    """

    TYPE = "multicluster:backup:VeleroBackup"

    def __init__(self, name: str, props: VeleroBackupProps, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.props = props
        self.cluster = props.cluster
        self.cloud = self.cluster.cloud
        self.region = self.cluster.region
        self.location_name = storage_location_name(self.cluster.spec.name)
        self.peers: list[VeleroBackup] = []
        self.rpo_minutes = props.backup.rpo_minutes()
        self._access: list[pulumi.Resource] = []
        if self.cloud == "aws":
            self._s3_bucket()
            self._irsa_identity()
        else:
            self._gcs_bucket()
            self._gke_identity()

    # --- options ---------------------------------------------------------------------------
    def _opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        if self.cloud == "aws":
            return pulumi.ResourceOptions(parent=self, provider=self.cluster.aws_provider, **kwargs)
        # GCP resources wait for the cluster project's APIs (IAM, KMS, Resource Manager...).
        after = [*self.cluster.apis, *kwargs.pop("depends_on", [])]  # type: ignore[attr-defined]
        return pulumi.ResourceOptions(parent=self, provider=self.cluster.gcp_provider, depends_on=after, **kwargs)

    def _data_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for what holds backups: protected as the cluster is, and always retained on delete.

        The buckets keep force_destroy off, so deleting one that holds backups fails (BucketNotEmpty) and
        stops the update halfway through removing a cluster. Retained, the bucket, its key and companions
        leave the stack and stay in the cloud: peers can still restore from them, and their lifecycle rules
        expire the backups (docs/lifecycle.md says how to delete them afterwards).
        """
        return self._opts(protect=self.props.protect, retain_on_delete=True, **kwargs)

    @property
    def _qualified(self) -> str:
        return f"{self.props.prefix or self.props.environment}-{self.cluster.spec.name}"

    # --- AWS -------------------------------------------------------------------------------
    def _s3_bucket(self) -> None:
        name = self._name
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Velero backups of {self._qualified}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=self._data_opts(),
        )
        aws.kms.Alias(
            f"{name}-key", name=f"alias/velero/{self._qualified}", target_key_id=self.key.key_id, opts=self._opts()
        )
        self.key_ref = self.key.arn
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket", force_destroy=False, tags={"purpose": "velero-backups"}, opts=self._data_opts()
        )
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        bucket = self.bucket.id
        # The companions are retained with the bucket: a retained bucket must keep its encryption,
        # public access block, TLS-only policy and lifecycle after a teardown.
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=bucket, versioning_configuration={"status": "Enabled"}, opts=self._data_opts()
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": self.key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=self._data_opts(),
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._data_opts(),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=bucket, rule={"object_ownership": "BucketOwnerEnforced"}, opts=self._data_opts()
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket,
            policy=self.bucket_arn.apply(deny_insecure_transport),
            opts=self._data_opts(depends_on=[public_access]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket,
            rules=[
                {
                    "id": "noncurrent-versions",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "noncurrent_version_expiration": {"noncurrent_days": self.props.backup.retention_days},
                    "expiration": {"expired_object_delete_marker": True},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
                }
            ],
            opts=self._data_opts(depends_on=[versioning]),
        )

    def _irsa_identity(self) -> None:
        cluster = self.cluster
        self.role = aws.iam.Role(
            f"{self._name}-velero",
            assume_role_policy=irsa_trust_policy(
                cluster.oidc_provider_arn, cluster.oidc_issuer, [(NAMESPACE, SERVICE_ACCOUNT)]
            ),
            description=f"IRSA for {NAMESPACE}/{SERVICE_ACCOUNT} on {self._qualified}",
            opts=self._opts(),
        )
        region = self.region
        policy = aws.iam.RolePolicy(
            f"{self._name}-velero",
            role=self.role.id,
            policy=pulumi.Output.all(self.bucket_arn, self.key.arn).apply(
                lambda v: policy_document(
                    {"Sid": "Objects", "Effect": "Allow", "Action": S3_OBJECT_ACTIONS, "Resource": f"{v[0]}/*"},
                    {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": v[0]},
                    {"Sid": "Key", "Effect": "Allow", "Action": KMS_ACTIONS, "Resource": v[1]},
                    {
                        "Sid": "Snapshots",
                        "Effect": "Allow",
                        "Action": EC2_SNAPSHOT_ACTIONS,
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
                    },
                )
            ),
            opts=self._opts(),
        )
        self.identity = self.role.arn
        self.service_account_annotations = {"eks.amazonaws.com/role-arn": self.role.arn}
        self._access.append(policy)

    # --- GCP -------------------------------------------------------------------------------
    def _gcs_bucket(self) -> None:
        name, cluster = self._name, self.cluster
        project = cluster.project
        # Project services (KMS, IAM) are enabled by the cluster before its nodes are ready.
        after_apis = list(cluster.ready)
        gcs_agent = gcp.storage.get_project_service_account_output(
            project=project, opts=pulumi.InvokeOutputOptions(parent=self, provider=cluster.gcp_provider)
        )
        # Key rings cannot be deleted: Pulumi suffixes the name, so a rebuilt stack never collides.
        # Protected with the key, so that a change replacing the ring cannot cascade to the protected key.
        key_ring = gcp.kms.KeyRing(
            f"{name}-backups",
            location=self.region,
            project=project,
            opts=self._opts(protect=self.props.protect, depends_on=after_apis),
        )
        self.key = gcp.kms.CryptoKey(
            f"{name}-backups",
            key_ring=key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=KEY_ROTATION,
            opts=self._data_opts(),
        )
        self.key_ref = self.key.id
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-gcs-agent",
            crypto_key_id=self.key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=gcs_agent.email_address.apply(lambda email: f"serviceAccount:{email}"),
            opts=self._opts(),
        )
        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            project=project,
            location=self.region.upper(),
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            encryption={"default_kms_key_name": self.key.id},
            soft_delete_policy={"retention_duration_seconds": SOFT_DELETE_SECONDS},
            lifecycle_rules=[
                {
                    "action": {"type": "Delete"},
                    "condition": {
                        "days_since_noncurrent_time": self.props.backup.retention_days,
                        "with_state": "ARCHIVED",
                    },
                }
            ],
            force_destroy=False,
            labels={"purpose": "velero-backups"},
            opts=self._data_opts(depends_on=[grant]),
        )
        self.bucket_name = self.bucket.name
        self.bucket_arn = None

    def _gke_identity(self) -> None:
        from .gke import service_account_id

        name, cluster = self._name, self.cluster
        self.service_account = gcp.serviceaccount.Account(
            f"{name}-velero",
            account_id=service_account_id(self.props.prefix or self.props.environment, cluster.spec.name, "velero"),
            display_name=f"Velero on {self._qualified}",
            project=cluster.project,
            opts=self._opts(depends_on=list(cluster.ready)),
        )
        member = self.service_account.member
        bucket_rights = gcp.storage.BucketIAMMember(
            f"{name}-velero-objects",
            bucket=self.bucket.name,
            role="roles/storage.objectAdmin",
            member=member,
            opts=self._opts(),
        )
        snapshot_role = gcp.projects.IAMCustomRole(
            f"{name}-velero-snapshots",
            project=cluster.project,
            role_id=f"velero_{self._qualified}".replace("-", "_"),
            title=f"Velero disk snapshots ({self._qualified})",
            permissions=GCE_SNAPSHOT_PERMISSIONS,
            opts=self._opts(),
        )
        snapshot_rights = gcp.projects.IAMMember(
            f"{name}-velero-snapshots",
            project=cluster.project,
            role=snapshot_role.name,
            member=member,
            opts=self._opts(),
        )
        # Signed URLs (velero backup logs / describe --details) are signed by the account itself.
        signer = gcp.serviceaccount.IAMMember(
            f"{name}-velero-signer",
            service_account_id=self.service_account.name,
            role="roles/iam.serviceAccountTokenCreator",
            member=member,
            opts=self._opts(),
        )
        workload_identity = gcp.serviceaccount.IAMMember(
            f"{name}-velero-workload-identity",
            service_account_id=self.service_account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{cluster.workload_identity_pool}[{NAMESPACE}/{SERVICE_ACCOUNT}]",
            opts=self._opts(),
        )
        self.identity = self.service_account.email
        self.service_account_annotations = {"iam.gke.io/gcp-service-account": self.service_account.email}
        self._access += [bucket_rights, snapshot_rights, signer, workload_identity]

    # --- peers -----------------------------------------------------------------------------
    def install(self, peers: list[VeleroBackup]) -> None:
        """Grant read access to the peers' buckets, install Velero and register the outputs."""
        self.peers = peers
        patch = PodIdentityPatch.empty()
        by_cloud = {cloud: [p for p in peers if p.cloud == cloud] for cloud in ("aws", "gcp")}
        if self.cloud == "aws":
            self._read_s3_peers(self.role, by_cloud["aws"], self._opts())
            if by_cloud["gcp"]:
                patch = patch.merge(self._federate_to_gcp(by_cloud["gcp"]))
        else:
            self._read_gcs_peers(self.service_account.member, by_cloud["gcp"], self._opts())
            if by_cloud["aws"]:
                patch = patch.merge(self._federate_to_aws(by_cloud["aws"]))
        self.release = self._release(patch)
        self.register_outputs(self.outputs())

    def _read_s3_peers(self, role: aws.iam.Role, peers: list[VeleroBackup], opts: pulumi.ResourceOptions) -> None:
        if not peers:
            return
        resources = pulumi.Output.all(*[pulumi.Output.all(p.bucket_arn, p.key_ref) for p in peers])
        self._access.append(
            aws.iam.RolePolicy(
                f"{self._name}-read-peers",
                role=role.id,
                policy=resources.apply(peer_access_policy),
                opts=opts,
            )
        )

    def _read_gcs_peers(
        self, member: pulumi.Input[str], peers: list[VeleroBackup], opts: pulumi.ResourceOptions
    ) -> None:
        # Objects are en- and decrypted by the peer's GCS service agent: the reader needs no key rights.
        for peer in peers:
            self._access.append(
                gcp.storage.BucketIAMMember(
                    f"{self._name}-read-{peer.cluster.spec.name}",
                    bucket=peer.bucket_name,
                    role="roles/storage.objectViewer",
                    member=member,
                    opts=opts,
                )
            )
            # Velero writes a restore's logs and results to the backup's location, read-only or not.
            self._access.append(
                gcp.storage.BucketIAMMember(
                    f"{self._name}-restores-{peer.cluster.spec.name}",
                    bucket=peer.bucket_name,
                    role="roles/storage.objectCreator",
                    member=member,
                    condition=peer.bucket_name.apply(restores_condition),
                    opts=opts,
                )
            )

    def _federate_to_aws(self, peers: list[VeleroBackup]) -> PodIdentityPatch:
        """GKE -> S3: an IAM role trusting this GKE cluster's OIDC issuer for velero/velero tokens."""
        name, trust = self._name, self.props.aws_trust
        if trust is None:
            raise ValueError(f"{name}: reading S3 peers from GKE needs the AWS trust of its issuer")
        iam_region = GCP_REGIONS[self.region].nearest_aws or "us-east-1"
        provider = aws.Provider(f"{name}-aws", region=iam_region, opts=pulumi.ResourceOptions(parent=self))
        opts = pulumi.ResourceOptions(parent=self, provider=provider)
        role = aws.iam.Role(
            f"{name}-velero-aws",
            assume_role_policy=irsa_trust_policy(trust.oidc_provider_arn, trust.issuer, [(NAMESPACE, SERVICE_ACCOUNT)]),
            description=f"Velero on {self._qualified} (GKE) reading its AWS peers' backups",
            opts=opts,
        )
        self.aws_reader_role = role
        self._read_s3_peers(role, peers, opts)
        volume = {
            "name": "velero-aws-token",
            "projected": {
                "sources": [
                    {
                        "serviceAccountToken": {
                            "audience": "sts.amazonaws.com",
                            "expirationSeconds": 86400,
                            "path": "token",
                        }
                    }
                ]
            },
        }
        return PodIdentityPatch(
            env=[
                {"name": "AWS_ROLE_ARN", "value": role.arn},
                {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": f"{AWS_TOKEN_DIR}/token"},
                {"name": "AWS_REGION", "value": iam_region},
                {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
            ],
            volumes=[volume],
            mounts=[{"name": "velero-aws-token", "mountPath": AWS_TOKEN_DIR, "readOnly": True}],
            objects=[],
        )

    def _federate_to_gcp(self, peers: list[VeleroBackup]) -> PodIdentityPatch:
        """EKS -> GCS: a workload identity pool whose OIDC provider trusts this EKS cluster's issuer."""
        from .gke import service_account_id

        name, eks = self._name, self.cluster
        project = self.props.federation_project
        if project is None:  # reported by components.config.backup.check
            raise ValueError(f"{name}: reading GCS peers from EKS needs gcp:project (the pool's project)")
        provider = gcp.Provider(f"{name}-gcp", project=project, opts=pulumi.ResourceOptions(parent=self))
        services = self.props.project_services
        apis = services.for_purpose("federation") if services is not None else []
        opts = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=apis)
        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-velero-pool",
            project=project,
            workload_identity_pool_id=service_account_id(
                self.props.prefix or self.props.environment, eks.spec.name, "velero"
            ),
            display_name=f"Velero on {self._qualified}"[:32],
            description="EKS service-account tokens of velero/velero, for reading GCS peer backups",
            opts=opts,
        )
        oidc = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-velero-eks",
            project=project,
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="eks-oidc",
            attribute_mapping={"google.subject": "assertion.sub"},
            attribute_condition=f"assertion.sub == '{SUBJECT}'",
            oidc={"issuer_uri": eks.oidc_issuer},
            opts=opts,
        )
        member = pool.name.apply(lambda pool_name: f"principal://iam.googleapis.com/{pool_name}/subject/{SUBJECT}")
        self._read_gcs_peers(member, peers, opts)
        audience = oidc.name.apply(lambda provider_name: f"//iam.googleapis.com/{provider_name}")
        credentials = audience.apply(external_account_credentials)
        config_map = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": GCP_FEDERATION_CONFIGMAP},
            "data": {"credentials.json": credentials},
        }
        volume = {
            "name": "velero-gcp-federation",
            "projected": {
                "sources": [
                    {
                        "serviceAccountToken": {
                            "audience": audience.apply(lambda a: f"https:{a}"),
                            "expirationSeconds": 3600,
                            "path": "token",
                        }
                    },
                    {"configMap": {"name": GCP_FEDERATION_CONFIGMAP}},
                ]
            },
        }
        return PodIdentityPatch(
            env=[{"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": f"{GCP_FEDERATION_DIR}/credentials.json"}],
            volumes=[volume],
            mounts=[{"name": "velero-gcp-federation", "mountPath": GCP_FEDERATION_DIR, "readOnly": True}],
            objects=[config_map],
        )

    # --- Velero ----------------------------------------------------------------------------
    def _storage_location(self, owner: VeleroBackup, read_only: bool) -> dict[str, Any]:
        config: dict[str, Any]
        if owner.cloud == "aws":
            config = {"region": owner.region}
            if not read_only:
                config["kmsKeyId"] = owner.key_ref
        else:
            # Signing URLs needs a Google service account; federated (EKS) readers have none.
            config = {"serviceAccount": self.identity} if self.cloud == "gcp" else {}
        return {
            "name": storage_location_name(owner.cluster.spec.name),
            "provider": PROVIDERS[owner.cloud],
            "bucket": owner.bucket_name,
            "default": not read_only,
            "accessMode": "ReadOnly" if read_only else "ReadWrite",
            "config": config,
        }

    def _snapshot_location(self) -> dict[str, Any]:
        if self.cloud == "aws":
            config = {"region": self.region}
        else:
            config = {"project": self.cluster.project, "snapshotLocation": self.region}
        return {"name": self.location_name, "provider": PROVIDERS[self.cloud], "config": config}

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
        clouds = sorted({self.cloud, *(p.cloud for p in self.peers)})
        values: dict[str, Any] = {
            "fullnameOverride": "velero",
            "initContainers": [plugin_container(cloud) for cloud in clouds],
            # Lets the non-root Velero user read projected identity tokens.
            "podSecurityContext": {"fsGroup": 65534},
            "credentials": {"useSecret": False},
            "serviceAccount": {
                "server": {
                    "create": True,
                    "name": SERVICE_ACCOUNT,
                    "annotations": self.service_account_annotations,
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
        k8s_opts = {"parent": self, "provider": cluster.k8s_provider}
        # The node-agent mounts host paths: only then does the namespace need the privileged level.
        level = "privileged" if self.props.backup.file_system_backup else "baseline"
        namespace = k8s.core.v1.Namespace(
            f"{self._name}-namespace",
            metadata={
                "name": NAMESPACE,
                "labels": {"pod-security.kubernetes.io/enforce": level, "app.kubernetes.io/part-of": "velero"},
            },
            opts=pulumi.ResourceOptions(**k8s_opts, depends_on=list(cluster.ready)),
        )
        return k8s.helm.v3.Release(
            f"{self._name}-velero",
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
            opts=pulumi.ResourceOptions(**k8s_opts, depends_on=[*cluster.ready, namespace, *self._access]),
        )

    def outputs(self) -> dict[str, Any]:
        backup, rpo = self.props.backup, self.rpo_minutes
        return {
            "cloud": self.cloud,
            "region": self.region,
            "bucket": self.bucket_name,
            "kmsKey": self.key_ref,
            "identity": self.identity,
            "storageLocation": self.location_name,
            "restoreLocations": [peer.location_name for peer in self.peers],
            "schedules": [f"velero-{schedule_key(self.cluster.spec.name, s.name)}" for s in backup.schedules],
            "chartVersion": backup.chart_version,
            "rpo": format_minutes(rpo),
            "rpoMinutes": rpo,
        }


def deny_insecure_transport(bucket_arn: str) -> str:
    return policy_document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


RESTORES_PREFIX = "restores/"


def restores_condition(bucket: str) -> dict[str, str]:
    """An IAM condition limiting a grant to the objects under restores/ of one bucket."""
    return {
        "title": "velero-restore-results",
        "description": "Velero writes restore logs and results here, whatever the location's access mode",
        "expression": f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{RESTORES_PREFIX}")',
    }


def peer_access_policy(peers: list[list[str]]) -> str:
    """Read the peers' backups (list + get, decrypt), and write restore logs and results under restores/:
    Velero writes them to the backup's storage location even when it is read-only (PartiallyFailed otherwise)."""
    return policy_document(
        {"Sid": "ListPeerBuckets", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [a for a, _ in peers]},
        {
            "Sid": "ReadPeerObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{a}/*" for a, _ in peers],
        },
        {
            "Sid": "WriteRestoreResults",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"{a}/{RESTORES_PREFIX}*" for a, _ in peers],
        },
        {
            "Sid": "PeerKeys",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
            "Resource": [k for _, k in peers],
        },
    )


def external_account_credentials(audience: str) -> str:
    """A credential configuration (no secret in it) exchanging the projected token at Google STS."""
    return json.dumps(
        {
            "type": "external_account",
            "audience": audience,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": "https://sts.googleapis.com/v1/token",
            "credential_source": {"file": f"{GCP_FEDERATION_DIR}/token", "format": {"type": "text"}},
        },
        sort_keys=True,
    )


@dataclass
class BackupFleet:
    """Handle on the backup components, one per cluster."""

    components: dict[str, VeleroBackup]

    def outputs(self) -> dict[str, Any]:
        return {name: component.outputs() for name, component in self.components.items()}


def federation_project(config: StackConfig) -> str | None:
    """Where EKS clusters' workload identity pools live: gcp:project, which never moves when clusters
    are added or reordered (check() requires it when an EKS cluster has a GCP peer)."""
    return config.gcp_project


def build_backup(config: StackConfig, clusters: dict[str, KubernetesCluster], **wiring: Any) -> BackupFleet | None:
    """Create the backup components for the fleet, or None when the block is absent."""
    if config.backup is None:
        return None
    components = {
        name: VeleroBackup(
            f"{name}-backup",
            VeleroBackupProps(
                cluster=cluster,
                backup=config.backup,
                environment=config.environment,
                protect=config.protects(config.cluster(name)),
                federation_project=federation_project(config),
                aws_trust=(wiring.get("aws_trusts") or {}).get(name),
                prefix=config.prefix,
                project_services=wiring.get("project_services"),
            ),
        )
        for name, cluster in clusters.items()
    }
    peers = restore_peers(config)
    for name, component in components.items():
        component.install([components[peer.name] for peer in peers.get(name, [])])
    return BackupFleet(components)
