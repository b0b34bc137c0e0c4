"""What the gitops capability (components/gitops.py) and its per-cloud target identities (components/gitops_aws.py,
components/gitops_gcp.py) share: names, the props, and how a target cloud sees Argo CD's identity component.

A target cloud is how Argo CD reaches the fleet's clusters of one cloud without a static credential: the cloud
identity it assumes, how the hub's pods come to hold it (natively when the hub is of that cloud, federated
otherwise), the grant on each target cluster and the auth config of its cluster Secret. The identity component
picks one per cloud of the fleet (TARGETS in components/gitops.py) and never branches on a cloud itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import pulumi

from .cluster import ClusterPort
from .config.gitops import GitopsConfig
from .federation import AwsOidcTrust
from .gcp_project import ProjectServices

NAMESPACE = "argocd"
# Chart component key -> the service account the chart creates for it (names pinned in values.yaml).
SERVICE_ACCOUNTS = {
    "controller": "argocd-application-controller",
    "server": "argocd-server",
    "applicationSet": "argocd-applicationset-controller",
}
SERVICE_ACCOUNT_SUBJECTS = [(NAMESPACE, sa) for sa in SERVICE_ACCOUNTS.values()]
GCP_CREDENTIALS_SECRET = "argocd-gcp-workload-identity"


@dataclass(frozen=True)
class GitopsArgs:
    """Props of the gitops component."""

    spec: GitopsConfig
    environment: str
    highly_available: bool  # config.protected: prod by default, or any stack that sets protect: true
    tags: dict[str, str] = field(default_factory=dict[str, str])
    prefix: str = ""  # of physical names (the stack name by default)
    # The APIs of gcp:project Argo CD's Google identity calls (None without GCP clusters).
    project_services: ProjectServices | None = None
    # A passive Argo CD (the standby hub's, until promoted): its application controller does not run.
    passive: bool = False
    # Added to the names two Argo CDs would otherwise share in one project or target cluster ("" for the hub's,
    # so that adding a standby renames nothing that exists).
    name_suffix: str = ""


@dataclass
class PodIdentity:
    """What Argo CD's pods get to hold the target identities: annotations, env, volumes and credential files."""

    annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict[str, pulumi.Input[str]])
    env: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    volumes: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    volume_mounts: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    # Files (secret) Argo CD mounts from the GCP_CREDENTIALS_SECRET Secret.
    credential_files: dict[str, pulumi.Output[str]] = field(default_factory=dict[str, pulumi.Output[str]])


class IdentityOwner(Protocol):
    """Argo CD's identity component, as a target cloud sees it (the parent of what it creates)."""

    @property
    def resource_name(self) -> str: ...

    @property
    def args(self) -> GitopsArgs: ...

    @property
    def hub(self) -> ClusterPort: ...

    @property
    def aws_trust(self) -> AwsOidcTrust | None: ...  # a GKE hub's issuer as AWS trusts it

    @property
    def gcp_project(self) -> str | None: ...

    @property
    def pods(self) -> PodIdentity: ...

    def as_parent(self) -> pulumi.Resource: ...


class TargetCloud(Protocol):
    """Argo CD's identity towards the fleet's clusters of one cloud. Implementations: AwsTargets, GoogleTargets."""

    cloud: ClassVar[str]
    output_keys: ClassVar[tuple[str, ...]]

    def grant(self, registration: pulumi.Resource, name: str, cluster: ClusterPort) -> list[pulumi.Resource]:
        """What lets Argo CD deploy to `cluster` (created under the registration component `name`)."""
        ...

    def auth_config(self, cluster: ClusterPort) -> pulumi.Output[dict[str, Any]]:
        """The auth part of the cluster Secret's `config`."""
        ...

    def outputs(self) -> dict[str, Any]: ...


def projected_token(volume: str, audience: pulumi.Input[str]) -> dict[str, Any]:
    token = {"audience": audience, "expirationSeconds": 3600, "path": "token"}
    return {"name": volume, "projected": {"sources": [{"serviceAccountToken": token}]}}
