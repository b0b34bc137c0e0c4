"""GitOps: Argo CD on a hub cluster, every fleet cluster registered declaratively, one ApplicationSet per application.

Identity paths (no static credential anywhere):
  EKS targets: Argo CD assumes a "deployer" IAM role (awsAuthConfig.roleARN) that has an EKS access entry on
    each EKS target. It gets there from a "hub" IAM role its service accounts hold through web identity:
    IRSA when the hub is EKS, or an IAM OIDC provider for the GKE hub's issuer when the hub is GKE.
  GKE targets: a Google service account, bound to Kubernetes cluster-admin on each GKE target. Argo CD's
    service accounts impersonate it through GKE Workload Identity when the hub is GKE, or through Workload
    Identity Federation trusting the EKS hub's OIDC issuer when the hub is EKS (see docs/gitops.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random

from .aws_iam import irsa_trust_policy
from .cluster import KubernetesCluster
from .config import StackConfig
from .config.gitops import PATH_PLACEHOLDER, ApplicationConfig, GitopsConfig, Placement
from .federation import AwsOidcTrust
from .gcp_project import ProjectServices

NAMESPACE = "argocd"
CHART = "argo-cd"
CHART_REPO = "https://argoproj.github.io/argo-helm"
ARGO_API = "argoproj.io/v1alpha1"
# Chart component key -> the service account the chart creates for it (names pinned in values.yaml).
SERVICE_ACCOUNTS = {
    "controller": "argocd-application-controller",
    "server": "argocd-server",
    "applicationSet": "argocd-applicationset-controller",
}
# Components that open connections to the registered clusters and so need the cloud credentials mounted.
CLUSTER_CLIENTS = ("controller", "server")
EKS_CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
STS_AUDIENCE = "sts.amazonaws.com"
AWS_TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
GCP_TOKEN_DIR = "/var/run/secrets/gcp-workload-identity"
GCP_CREDENTIALS_DIR = "/etc/gcp-workload-identity"
GCP_CREDENTIALS_SECRET = "argocd-gcp-workload-identity"
EXEC_API = "client.authentication.k8s.io/v1beta1"
# What Argo CD's Google identity needs on GKE targets reached through their DNS-based endpoint: to find the
# cluster and to connect to it. RBAC decides the rest (container.developer would grant Kubernetes rights
# through IAM, bypassing RBAC).
GKE_CONNECT_PERMISSIONS = ["container.clusters.get", "container.clusters.connect"]
DRAIN_LABEL = "multicluster/drain"
RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}}


@dataclass(frozen=True)
class GitopsArgs:
    """Props of the gitops component."""

    spec: GitopsConfig
    environment: str
    highly_available: bool  # config.protected: prod by default, or any stack that sets protect: true
    tags: dict[str, str] = field(default_factory=dict)
    prefix: str = ""  # of physical names (the stack name by default)
    # The APIs of gcp:project Argo CD's Google identity calls (None without GCP clusters).
    project_services: ProjectServices | None = None


def build_gitops(config: StackConfig, clusters: dict[str, KubernetesCluster], **wiring: Any) -> Gitops | None:
    """Create the gitops components for the fleet, or None when the block is absent."""
    if config.gitops is None:
        return None
    hub = clusters[config.gitops.hub]
    args = GitopsArgs(
        spec=config.gitops,
        environment=config.environment,
        highly_available=config.protected,
        tags=hub.args.tags,
        prefix=config.prefix,
        project_services=wiring.get("project_services"),
    )
    # A drained cluster gets no applications: it leaves the placement, it keeps its registration.
    return Gitops("gitops", args, hub, clusters, gcp_project=config.gcp_project, aws_trusts=wiring.get("aws_trusts"))


class Gitops(pulumi.ComponentResource):
    """Argo CD on the hub, the cluster registrations and the applications of the environment."""

    TYPE = "multicluster:gitops:Gitops"

    def __init__(
        self,
        name: str,
        args: GitopsArgs,
        hub: KubernetesCluster,
        clusters: dict[str, KubernetesCluster],
        gcp_project: str | None = None,
        aws_trusts: dict[str, AwsOidcTrust] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.args, self.hub, self.clusters = args, hub, clusters
        child = pulumi.ResourceOptions(parent=self)
        self.identity = ArgoCdIdentity(
            f"{name}-identity",
            args,
            hub,
            list(clusters.values()),
            gcp_project,
            child,
            aws_trust=(aws_trusts or {}).get(hub.spec.name),
        )
        self.argocd = ArgoCd(f"{name}-argocd", args, hub, self.identity, child)
        self.registrations = [
            ClusterRegistration(f"{name}-{cluster_name}", args, cluster, self.argocd, self.identity, child)
            for cluster_name, cluster in clusters.items()
        ]
        self.applications = FleetApplications(f"{name}-apps", args, self.argocd, self.registrations, child)
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, Any]:
        return {
            "hub": self.hub.spec.name,
            "url": self.argocd.url,
            "namespace": NAMESPACE,
            "chartVersion": self.args.spec.chart_version,
            "highlyAvailable": self.args.highly_available,
            "project": self.applications.project_name,
            "clusters": [r.outputs() for r in self.registrations],
            "applications": self.applications.targets,
            **self.identity.outputs(),
        }


# --- identities ----------------------------------------------------------------------------------


class ArgoCdIdentity(pulumi.ComponentResource):
    """The cloud identities Argo CD's service accounts use to reach the clusters, and how the pods get them.

    `chart_values` holds per chart component the service account annotations, env and volumes to set;
    `credential_files` the files (secret) Argo CD mounts from the GCP_CREDENTIALS_SECRET Secret.
    """

    TYPE = "multicluster:gitops:ArgoCdIdentity"

    def __init__(
        self,
        name: str,
        args: GitopsArgs,
        hub: KubernetesCluster,
        clusters: list[KubernetesCluster],
        gcp_project: str | None,
        opts: pulumi.ResourceOptions,
        aws_trust: AwsOidcTrust | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self._name_prefix, self.args, self.hub = name, args, hub
        self.aws_trust = aws_trust
        self.deployer_role: aws.iam.Role | None = None
        self.google_account: gcp.serviceaccount.Account | None = None
        self.annotations: dict[str, pulumi.Input[str]] = {}
        self.env: list[dict[str, Any]] = []
        self.volumes: list[dict[str, Any]] = []
        self.volume_mounts: list[dict[str, Any]] = []
        self.credential_files: dict[str, pulumi.Output[str]] = {}
        gke_projects = sorted({c.project for c in clusters if c.cloud == "gcp"})
        if any(c.cloud == "aws" for c in clusters):
            self._aws()
        if gke_projects:
            if gcp_project is None:
                raise ValueError("gitops with GCP clusters needs gcp:project (validated in config)")
            self._google(gcp_project, gke_projects)
        self.register_outputs(self.outputs())

    @property
    def service_account_subjects(self) -> list[tuple[str, str]]:
        return [(NAMESPACE, sa) for sa in SERVICE_ACCOUNTS.values()]

    def chart_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for component in SERVICE_ACCOUNTS:
            part: dict[str, Any] = {"serviceAccount": {"annotations": dict(self.annotations)}}
            if component in CLUSTER_CLIENTS and self.volumes:
                part.update(env=list(self.env), volumes=list(self.volumes), volumeMounts=list(self.volume_mounts))
            values[component] = part
        return values

    # --- AWS: hub role (web identity) -> deployer role (access entries on EKS targets) ---------------
    def _aws(self) -> None:
        name = self._name_prefix
        # IAM is global: one provider of our own, so that no cluster's provider owns fleet-wide roles.
        self.aws_provider = aws.Provider(
            f"{name}-aws",
            region=self.hub.region if self.hub.cloud == "aws" else "us-east-1",
            default_tags={"tags": {**self.args.tags, "multicluster:capability": "gitops"}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        issuer, provider_arn = self._web_identity_issuer()
        self.hub_role = aws.iam.Role(
            f"{name}-hub",
            description="Argo CD service accounts on the hub (web identity)",
            assume_role_policy=irsa_trust_policy(provider_arn, issuer, self.service_account_subjects),
            opts=self._aws_opts(),
        )
        self.deployer_role = aws.iam.Role(
            f"{name}-deployer",
            description="Assumed by Argo CD to deploy to the fleet's EKS clusters (access entries)",
            assume_role_policy=self.hub_role.arn.apply(assume_from(("sts:AssumeRole", "sts:TagSession"))),
            max_session_duration=3600,
            opts=self._aws_opts(),
        )
        aws.iam.RolePolicy(
            f"{name}-hub-assume-deployer",
            role=self.hub_role.id,
            policy=self.deployer_role.arn.apply(allow_assume),
            opts=self._aws_opts(),
        )
        self._hold_hub_role()

    def _web_identity_issuer(self) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The OIDC issuer that signs the hub's service account tokens, as an IAM OIDC provider."""
        if self.hub.cloud == "aws":
            return self.hub.oidc_issuer, self.hub.oidc_provider_arn
        # GKE publishes its issuer publicly: AWS trusts it like an EKS issuer (one IAM provider per issuer,
        # shared with other capabilities: components/federation.py); the pod gets a projected token.
        if self.aws_trust is None:
            raise ValueError(f"GKE hub {self.hub.spec.name} has no AWS trust of its issuer")
        return self.aws_trust.issuer, self.aws_trust.oidc_provider_arn

    def _hold_hub_role(self) -> None:
        """How the pods hold the hub role: the IRSA annotation on EKS, a projected token and env on GKE."""
        if self.hub.cloud == "aws":
            self.annotations["eks.amazonaws.com/role-arn"] = self.hub_role.arn
            return
        self.volumes.append(projected_token("aws-web-identity", STS_AUDIENCE))
        self.volume_mounts.append({"name": "aws-web-identity", "mountPath": AWS_TOKEN_DIR, "readOnly": True})
        self.env += [
            {"name": "AWS_ROLE_ARN", "value": self.hub_role.arn},
            {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": f"{AWS_TOKEN_DIR}/token"},
            {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
            {"name": "AWS_REGION", "value": "us-east-1"},
        ]

    def _aws_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.aws_provider, **kwargs)

    # --- Google: one service account, reached by workload identity (GKE hub) or federation (EKS hub) ---
    def _google(self, project: str, cluster_projects: list[str]) -> None:
        name, prefix = self._name_prefix, self.args.prefix or self.args.environment
        self.google_project = project
        self.gcp_provider = gcp.Provider(f"{name}-gcp", project=project, opts=pulumi.ResourceOptions(parent=self))
        self.google_account = gcp.serviceaccount.Account(
            f"{name}-google",
            account_id=f"{prefix}-argocd",
            display_name=f"Argo CD ({prefix}) deploying to the fleet's GKE clusters",
            opts=self._gcp_opts(),
        )
        if self.hub.cloud == "gcp":
            members = [
                f"serviceAccount:{self.hub.workload_identity_pool}[{ns}/{sa}]"
                for ns, sa in self.service_account_subjects
            ]
            self.annotations["iam.gke.io/gcp-service-account"] = self.google_account.email
            # The pool <project>.svc.id.goog exists once a Workload Identity cluster does in the project.
            bind_after: list[pulumi.Resource] = [self.hub.cluster]  # type: ignore[attr-defined]
        else:
            members = self._federation()
            bind_after = []
        # GKE authenticates identities that may get and connect to the cluster; RBAC decides what they may do.
        self.gke_viewers = []
        for cluster_project in cluster_projects:
            role = gcp.projects.IAMCustomRole(
                f"{name}-google-connect-{cluster_project}",
                project=cluster_project,
                role_id=f"{prefix}_argocd_connect".replace("-", "_"),
                title=f"Argo CD ({prefix}) connects to GKE clusters",
                permissions=GKE_CONNECT_PERMISSIONS,
                opts=self._gcp_opts(),
            )
            self.gke_viewers.append(
                gcp.projects.IAMMember(
                    f"{name}-google-viewer-{cluster_project}",
                    project=cluster_project,
                    role=role.name,
                    member=self.google_account.email.apply(lambda e: f"serviceAccount:{e}"),
                    opts=self._gcp_opts(),
                )
            )
        for (_, sa), member in zip(self.service_account_subjects, members, strict=True):
            gcp.serviceaccount.IAMMember(
                f"{name}-google-{sa}",
                service_account_id=self.google_account.name,
                role="roles/iam.workloadIdentityUser",
                member=member,
                opts=self._gcp_opts(*bind_after),
            )

    def _federation(self) -> list[pulumi.Output[str]]:
        """Workload Identity Federation trusting the EKS hub's OIDC issuer for Argo CD's service accounts.

        Not an AWS provider on the pool: the Google libraries read AWS credentials from env keys or EC2
        metadata, which under IRSA would be the node role; the service account token is Argo CD's own.
        """
        name, prefix = self._name_prefix, self.args.prefix or self.args.environment
        # Deleted pools keep their id for 30 days: a new id per creation, so a rebuilt stack never collides.
        random_provider = random.Provider(f"{name}-random", opts=pulumi.ResourceOptions(parent=self))
        suffix = random.RandomString(
            f"{name}-pool-suffix",
            length=4,
            special=False,
            upper=False,
            keepers={"project": self.google_project},
            opts=pulumi.ResourceOptions(parent=self, provider=random_provider),
        )
        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            workload_identity_pool_id=suffix.result.apply(lambda s: f"{prefix}-argocd-{s}"),
            display_name=f"Argo CD {prefix}"[:32],
            description="Argo CD service accounts of the EKS hub",
            opts=self._gcp_opts(),
        )
        subjects = [f"system:serviceaccount:{ns}:{sa}" for ns, sa in self.service_account_subjects]
        provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-pool-hub",
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="eks-hub",
            attribute_mapping={"google.subject": "assertion.sub"},
            attribute_condition="assertion.sub in [" + ", ".join(f"'{s}'" for s in subjects) + "]",
            oidc={"issuer_uri": self.hub.oidc_issuer},
            opts=self._gcp_opts(),
        )
        # Default audience of an OIDC pool provider: its full resource name over https.
        audience = provider.name.apply(lambda n: f"https://iam.googleapis.com/{n}")
        self.credential_files["credentials.json"] = pulumi.Output.secret(
            pulumi.Output.all(provider.name, self.google_account.email).apply(
                lambda v: external_account_credentials(v[0], v[1])
            )
        )
        self.volumes += [
            projected_token("gcp-web-identity", audience),
            {"name": "gcp-credentials", "secret": {"secretName": GCP_CREDENTIALS_SECRET}},
        ]
        self.volume_mounts += [
            {"name": "gcp-web-identity", "mountPath": GCP_TOKEN_DIR, "readOnly": True},
            {"name": "gcp-credentials", "mountPath": GCP_CREDENTIALS_DIR, "readOnly": True},
        ]
        self.env.append({"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": f"{GCP_CREDENTIALS_DIR}/credentials.json"})
        return [pool.name.apply(lambda p, s=s: f"principal://iam.googleapis.com/{p}/subject/{s}") for s in subjects]

    def _gcp_opts(self, *after: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
        """In gcp:project, after its APIs (IAM, STS, IAM Credentials, Resource Manager) are enabled."""
        services = self.args.project_services
        apis = services.for_purpose("federation") if services is not None else []
        return pulumi.ResourceOptions(parent=self, provider=self.gcp_provider, depends_on=[*apis, *after], **kwargs)

    def outputs(self) -> dict[str, Any]:
        return {
            "deployerRoleArn": self.deployer_role.arn if self.deployer_role else None,
            "googleServiceAccount": self.google_account.email if self.google_account else None,
        }


def assume_from(actions: tuple[str, ...]):
    def document(principal_arn: str) -> str:
        statement = {"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": list(actions)}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)

    return document


def allow_assume(role_arn: str) -> str:
    statement = {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": role_arn}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def projected_token(volume: str, audience: pulumi.Input[str]) -> dict[str, Any]:
    token = {"audience": audience, "expirationSeconds": 3600, "path": "token"}
    return {"name": volume, "projected": {"sources": [{"serviceAccountToken": token}]}}


def external_account_credentials(provider_name: str, account_email: str) -> str:
    """A Google credential configuration (no key): exchange the mounted token, then impersonate."""
    return json.dumps(
        {
            "type": "external_account",
            "audience": f"//iam.googleapis.com/{provider_name}",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": "https://sts.googleapis.com/v1/token",
            "service_account_impersonation_url": (
                "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
                f"{account_email}:generateAccessToken"
            ),
            "credential_source": {"file": f"{GCP_TOKEN_DIR}/token", "format": {"type": "text"}},
        },
        sort_keys=True,
    )


# --- Argo CD on the hub ---------------------------------------------------------------------------


def chart_values(args: GitopsArgs, identity: ArgoCdIdentity) -> dict[str, Any]:
    """Values of the argo-cd chart: sized for the environment, wired to the cloud identities."""
    values: dict[str, Any] = {
        # No SSO is configured by this program; dex would run for nothing.
        "dex": {"enabled": False},
    }
    sizing = highly_available_values() if args.highly_available else small_values()
    return merge(merge(values, sizing), identity.chart_values())


def highly_available_values() -> dict[str, Any]:
    """Prod: redis-ha, several replicas and a PodDisruptionBudget per component (argo-helm HA guidance)."""
    replicas = {"controller": 2, "server": 3, "repoServer": 3, "applicationSet": 2}
    values: dict[str, Any] = {"redis-ha": {"enabled": True}}
    for component, count in replicas.items():
        values[component] = {"replicas": count, "pdb": {"enabled": True, "minAvailable": 1}}
    return values


def small_values() -> dict[str, Any]:
    """Staging: one replica each, single-pod Redis, modest requests."""
    requests = {
        "controller": {"cpu": "250m", "memory": "512Mi"},
        "server": {"cpu": "50m", "memory": "128Mi"},
        "repoServer": {"cpu": "100m", "memory": "256Mi"},
        "applicationSet": {"cpu": "50m", "memory": "128Mi"},
    }
    values: dict[str, Any] = {"redis-ha": {"enabled": False}}
    for component, request in requests.items():
        values[component] = {"replicas": 1, "resources": {"requests": request}}
    return values


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class ArgoCd(pulumi.ComponentResource):
    """The argo-cd Helm release (pinned) in namespace argocd on the hub."""

    TYPE = "multicluster:gitops:ArgoCd"

    def __init__(
        self,
        name: str,
        args: GitopsArgs,
        hub: KubernetesCluster,
        identity: ArgoCdIdentity,
        opts: pulumi.ResourceOptions,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.hub = hub
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": NAMESPACE, "labels": {"app.kubernetes.io/part-of": "argocd"}},
            opts=self._opts(depends_on=hub.ready),
        )
        before_release: list[pulumi.Resource] = [self.namespace]
        if identity.credential_files:
            before_release.append(
                k8s.core.v1.Secret(
                    f"{name}-gcp-credentials",
                    metadata={"name": GCP_CREDENTIALS_SECRET, "namespace": NAMESPACE},
                    type="Opaque",
                    string_data=identity.credential_files,
                    opts=self._opts(depends_on=[self.namespace], additional_secret_outputs=["data", "stringData"]),
                )
            )
        self.release = k8s.helm.v3.Release(
            f"{name}",
            name="argocd",
            chart=CHART,
            version=args.spec.chart_version,
            repository_opts={"repo": CHART_REPO},
            namespace=NAMESPACE,
            create_namespace=False,
            values=chart_values(args, identity),
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,
            max_history=10,
            opts=self._opts(depends_on=[*hub.ready, *before_release, identity]),
        )
        # The server stays a ClusterIP: reach it with kubectl port-forward or from inside (docs/gitops.md).
        self.url = f"https://argocd-server.{NAMESPACE}.svc.cluster.local"
        self.register_outputs({"url": self.url})

    def _opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.hub.k8s_provider, **kwargs)


# --- cluster registrations ------------------------------------------------------------------------


class ClusterRegistration(pulumi.ComponentResource):
    """One fleet cluster in Argo CD: the access grant on the cluster and the declarative cluster Secret."""

    TYPE = "multicluster:gitops:ClusterRegistration"

    def __init__(
        self,
        name: str,
        args: GitopsArgs,
        cluster: KubernetesCluster,
        argocd: ArgoCd,
        identity: ArgoCdIdentity,
        opts: pulumi.ResourceOptions,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.cluster = cluster
        self.labels = cluster.args.labels
        grants = self._eks_access(identity) if cluster.cloud == "aws" else self._gke_access(identity)
        auth = self._auth_config(identity)
        # The CA to verify the server with: EKS's; none for GKE's DNS endpoint (publicly trusted certificate).
        ca = cluster.api_ca if cluster.api_ca is not None else pulumi.Output.from_input("")
        config = pulumi.Output.all(auth, ca).apply(
            lambda v: json.dumps({**v[0], "tlsClientConfig": tls_client_config(v[1])}, sort_keys=True)
        )
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={
                "name": f"cluster-{cluster.spec.name}",
                "namespace": NAMESPACE,
                "labels": {"argocd.argoproj.io/secret-type": "cluster", **self.labels},
            },
            type="Opaque",
            string_data=pulumi.Output.secret(
                {"name": cluster.spec.name, "server": cluster.api_server, "config": config}
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=argocd.hub.k8s_provider,
                depends_on=[argocd.namespace, *grants],
                additional_secret_outputs=["data", "stringData"],
            ),
        )
        self.register_outputs(self.outputs())

    def _eks_access(self, identity: ArgoCdIdentity) -> list[pulumi.Resource]:
        """The deployer role as cluster admin: Argo CD applies CRDs, namespaces and RBAC of platform apps."""
        cluster, role = self.cluster, identity.deployer_role
        opts = pulumi.ResourceOptions(parent=self, provider=cluster.aws_provider)
        entry = aws.eks.AccessEntry(
            f"{self._name}-access",
            cluster_name=cluster.cluster_name,
            principal_arn=role.arn,
            type="STANDARD",
            opts=opts,
        )
        policy = aws.eks.AccessPolicyAssociation(
            f"{self._name}-admin",
            cluster_name=cluster.cluster_name,
            principal_arn=role.arn,
            policy_arn=EKS_CLUSTER_ADMIN,
            access_scope={"type": "cluster"},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[entry])),
        )
        return [entry, policy]

    def _gke_access(self, identity: ArgoCdIdentity) -> list[pulumi.Resource]:
        """Admin inside the cluster through RBAC (IAM only lets the account authenticate: gke_viewers)."""
        cluster, account = self.cluster, identity.google_account
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{self._name}-admin",
            metadata={"name": "argocd-manager"},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            subjects=[{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": account.email}],
            opts=pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider, depends_on=cluster.ready),
        )
        return [*identity.gke_viewers, binding]

    def _auth_config(self, identity: ArgoCdIdentity) -> pulumi.Output[dict[str, Any]]:
        if self.cluster.cloud == "aws":
            return pulumi.Output.all(self.cluster.cluster_name, identity.deployer_role.arn).apply(
                lambda v: {"awsAuthConfig": {"clusterName": v[0], "roleARN": v[1]}}
            )
        return pulumi.Output.from_input(
            {"execProviderConfig": {"command": "argocd-k8s-auth", "args": ["gcp"], "apiVersion": EXEC_API}}
        )

    def outputs(self) -> dict[str, Any]:
        return {"name": self.cluster.spec.name, "server": self.cluster.api_server, "labels": self.labels}


# --- applications ---------------------------------------------------------------------------------


class FleetApplications(pulumi.ComponentResource):
    """The environment's AppProject and one ApplicationSet per configured application."""

    TYPE = "multicluster:gitops:Applications"

    def __init__(
        self,
        name: str,
        args: GitopsArgs,
        argocd: ArgoCd,
        registrations: list[ClusterRegistration],
        opts: pulumi.ResourceOptions,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.args = args
        self.project_name = args.environment
        opts_ = pulumi.ResourceOptions(
            parent=self,
            provider=argocd.hub.k8s_provider,
            depends_on=[argocd.release, *(r.secret for r in registrations)],
        )
        self.project = k8s.apiextensions.CustomResource(
            f"{name}-project",
            api_version=ARGO_API,
            kind="AppProject",
            metadata={"name": self.project_name, "namespace": NAMESPACE},
            spec=app_project_spec(args, registrations),
            opts=opts_,
        )
        self.application_sets = [
            k8s.apiextensions.CustomResource(
                f"{name}-{app.name}",
                api_version=ARGO_API,
                kind="ApplicationSet",
                metadata={"name": app.name, "namespace": NAMESPACE},
                spec=application_set_spec(args, app),
                opts=pulumi.ResourceOptions.merge(opts_, pulumi.ResourceOptions(depends_on=[self.project])),
            )
            for app in args.spec.applications
        ]
        self.targets = {
            app.name: [r.cluster.spec.name for r in registrations if app.placement.selects(r.labels)]
            for app in args.spec.applications
        }
        self.register_outputs({"project": self.project_name, "applications": self.targets})


def app_project_spec(args: GitopsArgs, registrations: list[ClusterRegistration]) -> dict[str, Any]:
    return {
        "description": f"Applications of the {args.environment} fleet",
        "sourceRepos": [args.spec.repo_url],
        # By cluster name: reordering the clusters in the config changes nothing here.
        "destinations": [
            {"server": r.cluster.api_server, "namespace": "*"}
            for r in sorted(registrations, key=lambda r: r.cluster.spec.name)
        ],
        # Platform applications bring CRDs, namespaces and cluster roles.
        "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
    }


def tls_client_config(ca_data: str) -> dict[str, Any]:
    config: dict[str, Any] = {"insecure": False}
    if ca_data:
        config["caData"] = ca_data
    return config


def cluster_selector(environment: str, placement: Placement) -> dict[str, str]:
    """Secret labels the cluster generator matches: the environment plus what the placement asks."""
    selector = {"argocd.argoproj.io/secret-type": "cluster", "environment": environment}
    if placement.kind == "residency":
        selector["residency"] = placement.residency or ""
    elif placement.kind == "labels":
        selector.update(placement.labels)
    return selector


def templated_path(app: ApplicationConfig) -> str:
    """`deploy/{{environment}}` -> the generator's Go template over the cluster Secret's labels."""

    def placeholder(match) -> str:
        key = match.group(1)
        return "{{ .name }}" if key == "name" else f'{{{{ index .metadata.labels "{key}" }}}}'

    return PATH_PLACEHOLDER.sub(placeholder, app.path)


def application_set_spec(args: GitopsArgs, app: ApplicationConfig) -> dict[str, Any]:
    spec = args.spec
    return {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [
            {
                "clusters": {
                    "selector": {
                        "matchLabels": cluster_selector(args.environment, app.placement),
                        # A drained cluster keeps its registration and gets no application.
                        "matchExpressions": [{"key": DRAIN_LABEL, "operator": "NotIn", "values": ["true"]}],
                    }
                }
            }
        ],
        # In prod, removing an application from the config must not delete what it runs. Argo CD keeps a
        # finalizer the template sets explicitly, which would cascade the deletion anyway: set it only when
        # deletions may cascade (argo-cd docs, ApplicationSet "Application Pruning & Resource Deletion").
        "syncPolicy": {"preserveResourcesOnDeletion": args.highly_available},
        "template": {
            "metadata": {
                "name": f"{app.name}-{{{{ .name }}}}",
                "labels": {"app.kubernetes.io/part-of": app.name},
                **({} if args.highly_available else {"finalizers": ["resources-finalizer.argocd.argoproj.io"]}),
            },
            "spec": {
                "project": args.environment,
                "source": {"repoURL": spec.repo_url, "targetRevision": spec.revision, "path": templated_path(app)},
                "destination": {"server": "{{ .server }}", "namespace": app.namespace},
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "syncOptions": ["CreateNamespace=true"],
                    "retry": RETRY,
                },
            },
        },
    }
