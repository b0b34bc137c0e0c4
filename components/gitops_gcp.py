"""Argo CD towards GKE targets: a Google service account, bound to Kubernetes cluster-admin on each GKE target and
allowed to connect to it. Argo CD's service accounts impersonate it through GKE Workload Identity when the hub is
GKE, or through Workload Identity Federation trusting the hub's OIDC issuer otherwise (docs/gitops.md).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random

from .cluster import ClusterPort
from .gcp_apis import IAM, RESOURCE_MANAGER
from .gitops_common import GCP_CREDENTIALS_SECRET, SERVICE_ACCOUNT_SUBJECTS, IdentityOwner, projected_token
from .gke import GkeCluster, workload_identity_user

GCP_TOKEN_DIR = "/var/run/secrets/gcp-workload-identity"
GCP_CREDENTIALS_DIR = "/etc/gcp-workload-identity"
EXEC_API = "client.authentication.k8s.io/v1beta1"
RBAC_API = "rbac.authorization.k8s.io"
# What Argo CD's Google identity needs on GKE targets reached through their DNS-based endpoint: to find the
# cluster and to connect to it. RBAC decides the rest (container.developer would grant Kubernetes rights
# through IAM, bypassing RBAC).
GKE_CONNECT_PERMISSIONS = ["container.clusters.get", "container.clusters.connect"]


class GoogleTargets:
    """One Google service account, reached by workload identity (GKE hub) or federation (another hub)."""

    cloud: ClassVar[str] = "gcp"
    output_keys: ClassVar[tuple[str, ...]] = ("googleServiceAccount",)

    def __init__(self, owner: IdentityOwner, clusters: list[ClusterPort]):
        self.owner = owner
        project = owner.gcp_project
        if project is None:
            raise ValueError("gitops with GCP clusters needs gcp:project (validated in config)")
        self.project = project
        name, prefix = owner.resource_name, owner.args.prefix or owner.args.environment
        self.gcp_provider = gcp.Provider(
            f"{name}-gcp", project=project, opts=pulumi.ResourceOptions(parent=owner.as_parent())
        )
        self.google_account = gcp.serviceaccount.Account(
            f"{name}-google",
            account_id=f"{prefix}-argocd{owner.args.name_suffix}",
            display_name=f"Argo CD ({prefix}) deploying to the fleet's GKE clusters",
            opts=self._opts(),
        )
        hub = owner.hub
        bind_after: list[pulumi.Resource] = []
        if isinstance(hub, GkeCluster):
            members: list[pulumi.Input[str]] = [
                hub.workload_identity_member(ns, sa) for ns, sa in SERVICE_ACCOUNT_SUBJECTS
            ]
            owner.pods.annotations["iam.gke.io/gcp-service-account"] = self.google_account.email
            # The pool <project>.svc.id.goog exists once a Workload Identity cluster does in the project.
            bind_after = [hub.cluster]
        else:
            members = list(self._federation(hub))
        # GKE authenticates identities that may get and connect to the cluster; RBAC decides what they may do.
        self.gke_viewers: list[pulumi.Resource] = []
        by_project: dict[str, list[GkeCluster]] = {}
        for target in map(gke_cluster, clusters):
            by_project.setdefault(target.project, []).append(target)
        for cluster_project, targets in sorted(by_project.items()):
            # A cluster project other than gcp:project has IAM and Resource Manager enabled by its clusters: the
            # first cluster's Services will do (each cluster enables them, none disables them on destroy).
            role = gcp.projects.IAMCustomRole(
                f"{name}-google-connect-{cluster_project}",
                project=cluster_project,
                role_id=f"{prefix}_argocd{owner.args.name_suffix}_connect".replace("-", "_"),
                title=f"Argo CD ({prefix}) connects to GKE clusters",
                permissions=GKE_CONNECT_PERMISSIONS,
                opts=self._opts(*targets[0].waits_for(IAM)),
            )
            self.gke_viewers.append(
                gcp.projects.IAMMember(
                    f"{name}-google-viewer-{cluster_project}",
                    project=cluster_project,
                    role=role.name,
                    member=self.google_account.email.apply(lambda e: f"serviceAccount:{e}"),
                    opts=self._opts(*targets[0].waits_for(RESOURCE_MANAGER)),
                )
            )
        # The members are federated principals with another hub, hence the plain binding, not the hub's own.
        for (_, sa), member in zip(SERVICE_ACCOUNT_SUBJECTS, members, strict=True):
            workload_identity_user(f"{name}-google-{sa}", self.google_account, member, self._opts(*bind_after))

    def _federation(self, hub: ClusterPort) -> list[pulumi.Output[str]]:
        """Workload Identity Federation trusting the hub's OIDC issuer for Argo CD's service accounts.

        Not an AWS provider on the pool: the Google libraries read AWS credentials from env keys or EC2
        metadata, which under IRSA would be the node role; the service account token is Argo CD's own.
        """
        owner = self.owner
        name, prefix = owner.resource_name, owner.args.prefix or owner.args.environment
        parent = owner.as_parent()
        # Deleted pools keep their id for 30 days: a new id per creation, so a rebuilt stack never collides.
        random_provider = random.Provider(f"{name}-random", opts=pulumi.ResourceOptions(parent=parent))
        suffix = random.RandomString(
            f"{name}-pool-suffix",
            length=4,
            special=False,
            upper=False,
            keepers={"project": self.project},
            opts=pulumi.ResourceOptions(parent=parent, provider=random_provider),
        )
        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            workload_identity_pool_id=suffix.result.apply(lambda s: f"{prefix}-argocd-{s}"),
            display_name=f"Argo CD {prefix}"[:32],
            description="Argo CD service accounts of the EKS hub",
            opts=self._opts(),
        )
        subjects = [f"system:serviceaccount:{ns}:{sa}" for ns, sa in SERVICE_ACCOUNT_SUBJECTS]
        provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-pool-hub",
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="eks-hub",
            attribute_mapping={"google.subject": "assertion.sub"},
            attribute_condition="assertion.sub in [" + ", ".join(f"'{s}'" for s in subjects) + "]",
            oidc={"issuer_uri": hub.oidc_issuer},
            opts=self._opts(),
        )
        # Default audience of an OIDC pool provider: its full resource name over https.
        audience = provider.name.apply(lambda n: f"https://iam.googleapis.com/{n}")

        def credentials(v: list[str]) -> str:
            return external_account_credentials(v[0], v[1])

        pods = owner.pods
        pods.credential_files["credentials.json"] = pulumi.Output.secret(
            pulumi.Output.all(provider.name, self.google_account.email).apply(credentials)
        )
        pods.volumes += [
            projected_token("gcp-web-identity", audience),
            {"name": "gcp-credentials", "secret": {"secretName": GCP_CREDENTIALS_SECRET}},
        ]
        pods.volume_mounts += [
            {"name": "gcp-web-identity", "mountPath": GCP_TOKEN_DIR, "readOnly": True},
            {"name": "gcp-credentials", "mountPath": GCP_CREDENTIALS_DIR, "readOnly": True},
        ]
        pods.env.append({"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": f"{GCP_CREDENTIALS_DIR}/credentials.json"})
        return [pool.name.apply(lambda p, s=s: f"principal://iam.googleapis.com/{p}/subject/{s}") for s in subjects]

    def _opts(self, *after: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
        """In gcp:project, after its APIs (IAM, STS, IAM Credentials, Resource Manager) are enabled."""
        services = self.owner.args.project_services
        apis = services.for_purpose("federation") if services is not None else []
        return pulumi.ResourceOptions(
            parent=self.owner.as_parent(), provider=self.gcp_provider, depends_on=[*apis, *after], **kwargs
        )

    def grant(self, registration: pulumi.Resource, name: str, cluster: ClusterPort) -> list[pulumi.Resource]:
        """Admin inside the cluster through RBAC (IAM only lets the account authenticate: gke_viewers); view only
        for a passive (standby) Argo CD, so that promotion locks the demoted hub out (see AwsTargets.grant)."""
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-admin",
            metadata={"name": f"argocd-manager{self.owner.args.name_suffix}"},
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group=RBAC_API, kind="ClusterRole", name="view" if self.owner.args.passive else "cluster-admin"
            ),
            subjects=[k8s.rbac.v1.SubjectArgs(api_group=RBAC_API, kind="User", name=self.google_account.email)],
            opts=pulumi.ResourceOptions(parent=registration, provider=cluster.k8s_provider, depends_on=cluster.ready),
        )
        return [*self.gke_viewers, binding]

    def auth_config(self, cluster: ClusterPort) -> pulumi.Output[dict[str, Any]]:
        exec_provider = {"command": "argocd-k8s-auth", "args": ["gcp"], "apiVersion": EXEC_API}
        return pulumi.Output.from_input({"execProviderConfig": exec_provider})

    def outputs(self) -> dict[str, Any]:
        return {"googleServiceAccount": self.google_account.email}


def gke_cluster(cluster: ClusterPort) -> GkeCluster:
    if not isinstance(cluster, GkeCluster):
        raise TypeError(f"{cluster.spec.name}: not a GKE cluster")
    return cluster


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
