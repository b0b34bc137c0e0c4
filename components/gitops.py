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
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from .cluster import ClusterPort
from .config.gitops import PATH_PLACEHOLDER, ApplicationConfig, GitopsConfig, Placement
from .federation import AwsOidcTrust, AwsTrusts
from .fleetplan import FleetPlan
from .gcp_project import ProjectServices
from .gitops_aws import AwsTargets
from .gitops_common import (
    GCP_CREDENTIALS_SECRET,
    NAMESPACE,
    SERVICE_ACCOUNTS,
    GitopsArgs,
    IdentityOwner,
    PodIdentity,
    TargetCloud,
)
from .gitops_gcp import GoogleTargets
from .outputs import GitopsOutputs, RegistrationOutputs

CHART = "argo-cd"
CHART_REPO = "https://argoproj.github.io/argo-helm"
ARGO_API = "argoproj.io/v1alpha1"
# Components that open connections to the registered clusters and so need the cloud credentials mounted.
CLUSTER_CLIENTS = ("controller", "server")
DRAIN_LABEL = "multicluster/drain"
RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}}


@dataclass(frozen=True)
class TargetKind:
    """How Argo CD reaches one cloud's clusters, and the stack outputs that identity has (None without it)."""

    build: Callable[[IdentityOwner, list[ClusterPort]], TargetCloud]
    output_keys: tuple[str, ...]


# The registry of target clouds: the one place a cloud is chosen.
TARGETS: Mapping[str, TargetKind] = {
    "aws": TargetKind(AwsTargets, AwsTargets.output_keys),
    "gcp": TargetKind(GoogleTargets, GoogleTargets.output_keys),
}


def build_gitops(
    plan: FleetPlan,
    clusters: Mapping[str, ClusterPort],
    aws_trusts: AwsTrusts,
    project_services: ProjectServices | None,
) -> Gitops | None:
    """Create the gitops components for the fleet, or None when the block is absent: Argo CD on the hub, and on
    the standby hub when there is one (the same registrations and applications; passive unless promoted)."""
    spec = plan.block(GitopsConfig)
    if spec is None:
        return None

    def on(hub_name: str, name: str) -> Gitops:
        hub = clusters[hub_name]
        args = GitopsArgs(
            spec=spec,
            environment=plan.environment,
            highly_available=plan.protected,
            tags=dict(hub.args.tags),
            prefix=plan.prefix,
            project_services=project_services,
            passive=not spec.reconciles(hub_name),
            name_suffix="" if hub_name == spec.hub else "-standby",
        )
        # A drained cluster gets no applications: it leaves the placement, it keeps its registration.
        return Gitops(name, args, hub, dict(clusters), gcp_project=plan.gcp_project, aws_trust=aws_trusts.of(hub_name))

    primary = on(spec.hub, "gitops")
    if spec.standby_hub is not None:
        primary.standby = on(spec.standby_hub, "gitops-standby")
    return primary


class Gitops(pulumi.ComponentResource):
    """Argo CD on the hub, the cluster registrations and the applications of the environment."""

    TYPE = "multicluster:gitops:Gitops"

    def __init__(
        self,
        name: str,
        args: GitopsArgs,
        hub: ClusterPort,
        clusters: dict[str, ClusterPort],
        gcp_project: str | None = None,
        aws_trust: AwsOidcTrust | None = None,
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
            aws_trust=aws_trust,
        )
        self.argocd = ArgoCd(f"{name}-argocd", args, hub, self.identity, child)
        self.registrations = [
            ClusterRegistration(f"{name}-{cluster_name}", args, cluster, self.argocd, self.identity, child)
            for cluster_name, cluster in clusters.items()
        ]
        self.applications = FleetApplications(f"{name}-apps", args, self.argocd, self.registrations, child)
        self.standby: Gitops | None = None  # set by build_gitops on the primary, when there is a standby hub
        self.register_outputs(self.outputs())

    def outputs(self) -> GitopsOutputs:
        identity = self.identity.outputs()
        outputs: GitopsOutputs = {
            "hub": self.hub.spec.name,
            "url": self.argocd.url,
            "namespace": NAMESPACE,
            "chartVersion": self.args.spec.chart_version,
            "highlyAvailable": self.args.highly_available,
            "project": self.applications.project_name,
            "clusters": [r.outputs() for r in self.registrations],
            "applications": self.applications.targets,
            "deployerRoleArn": identity.get("deployerRoleArn"),
            "googleServiceAccount": identity.get("googleServiceAccount"),
            "reconciles": not self.args.passive,
        }
        if self.standby is not None:
            outputs["standby"] = self.standby.outputs()
        return outputs


# --- identities ----------------------------------------------------------------------------------


class ArgoCdIdentity(pulumi.ComponentResource):
    """The cloud identities Argo CD's service accounts use to reach the clusters, and how the pods get them.

    One target identity per cloud of the fleet (TARGETS); `pods` holds what the chart components get to hold
    them: service account annotations, env, volumes and the credential files (secret) of GCP_CREDENTIALS_SECRET.
    """

    TYPE = "multicluster:gitops:ArgoCdIdentity"

    def __init__(
        self,
        name: str,
        args: GitopsArgs,
        hub: ClusterPort,
        clusters: list[ClusterPort],
        gcp_project: str | None,
        opts: pulumi.ResourceOptions,
        aws_trust: AwsOidcTrust | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self._resource_name, self._args, self._hub = name, args, hub
        self._aws_trust, self._gcp_project = aws_trust, gcp_project
        self._pods = PodIdentity()
        self.targets: dict[str, TargetCloud] = {}
        for cloud in sorted({c.cloud for c in clusters}):
            self.targets[cloud] = TARGETS[cloud].build(self, [c for c in clusters if c.cloud == cloud])
        self.register_outputs(self.outputs())

    # --- what a target cloud sees (IdentityOwner) -------------------------------------------
    @property
    def resource_name(self) -> str:
        return self._resource_name

    @property
    def args(self) -> GitopsArgs:
        return self._args

    @property
    def hub(self) -> ClusterPort:
        return self._hub

    @property
    def aws_trust(self) -> AwsOidcTrust | None:
        return self._aws_trust

    @property
    def gcp_project(self) -> str | None:
        return self._gcp_project

    @property
    def pods(self) -> PodIdentity:
        return self._pods

    def as_parent(self) -> pulumi.Resource:
        return self

    @property
    def credential_files(self) -> dict[str, pulumi.Output[str]]:
        return self._pods.credential_files

    def target(self, cluster: ClusterPort) -> TargetCloud:
        return self.targets[cluster.cloud]

    def chart_values(self) -> dict[str, Any]:
        pods = self._pods
        values: dict[str, Any] = {}
        for component in SERVICE_ACCOUNTS:
            part: dict[str, Any] = {"serviceAccount": {"annotations": dict(pods.annotations)}}
            if component in CLUSTER_CLIENTS and pods.volumes:
                part.update(env=list(pods.env), volumes=list(pods.volumes), volumeMounts=list(pods.volume_mounts))
            values[component] = part
        return values

    def outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {key: None for kind in TARGETS.values() for key in kind.output_keys}
        for target in self.targets.values():
            outputs.update(target.outputs())
        return outputs


# --- Argo CD on the hub ---------------------------------------------------------------------------


def chart_values(args: GitopsArgs, identity: ArgoCdIdentity) -> dict[str, Any]:
    """Values of the argo-cd chart: sized for the environment, wired to the cloud identities."""
    values: dict[str, Any] = {
        # No SSO is configured by this program; dex would run for nothing.
        "dex": {"enabled": False},
    }
    sizing = highly_available_values() if args.highly_available else small_values()
    if args.passive:
        # Passive until promoted: no application controller, so nothing is reconciled from here (the
        # ApplicationSet controller still renders the Applications, ready for the controller to take over).
        sizing = merge(sizing, {"controller": {"replicas": 0, "pdb": {"enabled": False}}})
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
        current = merged.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = merge(cast(dict[str, Any], current), cast(dict[str, Any], value))
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
        hub: ClusterPort,
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
        cluster: ClusterPort,
        argocd: ArgoCd,
        identity: ArgoCdIdentity,
        opts: pulumi.ResourceOptions,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.cluster = cluster
        self.labels = cluster.args.labels
        target = identity.target(cluster)
        grants = target.grant(self, name, cluster)
        auth = target.auth_config(cluster)
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

    def outputs(self) -> RegistrationOutputs:
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

    def placeholder(match: re.Match[str]) -> str:
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
