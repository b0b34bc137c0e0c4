"""Config block `multicluster:access`: who may use the fleet's API servers, the same on every cluster it covers.

Admins and viewers hold cluster-wide rights on every cluster; a team namespace's editors hold edit rights in their
namespace on every cluster of its placement (placements as in gitops). AWS principals become EKS access entries;
Google members get Kubernetes RBAC bindings on GKE (groups through Google Groups for RBAC) and the project's
`roles/container.clusterViewer`, which `gcloud container clusters get-credentials` needs and nothing more.
Team namespaces are also where the cost block's quotas and the secrets block's team stores go.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from .base import Issue, Model, dns_label, format_path
from .fleetview import BlockRules
from .gitops import Placement, parse_placement, placement_issues

if TYPE_CHECKING:
    from .clusters import ClusterConfig
    from .fleetview import FleetView

# An IAM role or user ARN (EKS access entries take "every IAM principal type" for STANDARD entries, not STS
# sessions: AWS API model eks CreateAccessEntryRequest.principalArn). Paths are allowed (role/team/name).
IAM_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")
# A Google member as IAM writes it: user:, group: or serviceAccount: and an email
# (https://cloud.google.com/iam/docs/principal-identifiers).
GOOGLE_MEMBER = re.compile(r"^(user|group|serviceAccount):[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# Namespaces the platform owns: a team may not claim them.
RESERVED_NAMESPACES = frozenset(
    {"default", "kube-system", "kube-public", "kube-node-lease", "argocd", "velero", "monitoring", "istio-system",
     "linkerd", "linkerd-multicluster", "traefik", "gatekeeper-system", "external-secrets", "opencost"}
)  # fmt: skip


def iam_principal(value: str) -> str:
    if not IAM_PRINCIPAL.match(value):
        raise ValueError(
            f"'{value}' is not an IAM role or user ARN (e.g. arn:aws:iam::123456789012:role/platform-admin; "
            "EKS access entries refuse STS session ARNs)"
        )
    return value


def google_member(value: str) -> str:
    if not GOOGLE_MEMBER.match(value):
        raise ValueError(f"'{value}' is not a Google member (group:, user: or serviceAccount: and an email)")
    return value


def team_namespace(value: str) -> str:
    dns_label(value, 63)
    if value in RESERVED_NAMESPACES:
        raise ValueError(f"'{value}' is a namespace of the platform; choose a team namespace of its own")
    return value


class Members(Model):
    """People and identities, per cloud: AWS principals on EKS, Google members on GKE."""

    aws: list[Annotated[str, AfterValidator(iam_principal)]] = Field(
        default_factory=list, description="IAM role or user ARNs."
    )
    gcp: list[Annotated[str, AfterValidator(google_member)]] = Field(
        default_factory=list, description="Google members: group:, user: or serviceAccount:."
    )

    def __bool__(self) -> bool:
        return bool(self.aws or self.gcp)


class TeamNamespace(Model):
    """A team's namespace, on every cluster of its placement, with its editors."""

    name: Annotated[str, AfterValidator(team_namespace)] = Field(description="The namespace (a DNS label).")
    placement: Annotated[Placement, BeforeValidator(parse_placement)] = Field(
        default_factory=lambda: Placement(kind="all"),
        description="'all', 'residency:<key>' or {labels: {...}}, as in gitops.",
    )
    editors: Members = Field(default_factory=Members, description="Edit rights in the namespace.")


class AccessConfig(Model):
    """Cluster admins, viewers and team namespaces, kept the same on every cluster by the program."""

    admins: Members = Field(default_factory=Members, description="Cluster admin on every cluster.")
    viewers: Members = Field(default_factory=Members, description="Read-only on every cluster (no Secrets).")
    namespaces: list[TeamNamespace] = Field(default_factory=list[TeamNamespace], description="Team namespaces.")


def team_clusters(config: FleetView, team: TeamNamespace) -> list[ClusterConfig]:
    """The clusters a team namespace is on: those its placement selects (serving or drained alike)."""
    from .gitops import registration_labels

    return [c for c in config.clusters if team.placement.selects(registration_labels(config, c))]


def check(config: FleetView) -> list[Issue]:
    """Unique team namespaces whose placements select clusters; Google groups only where GKE binds them."""
    block = config.block(AccessConfig)
    if block is None:
        return []
    issues: list[Issue] = []
    for i, team in enumerate(block.namespaces):
        at = ("access", "namespaces", i)
        issues += placement_issues(config, at, team.placement)
        # One name may serve disjoint placements (a residency's team each), never one cluster twice.
        mine = {c.name for c in team_clusters(config, team)}
        for j, other in enumerate(block.namespaces[:i]):
            both = sorted(mine & {c.name for c in team_clusters(config, other)}) if other.name == team.name else []
            if both:
                issues.append(
                    Issue(
                        format_path((*at, "name")),
                        f"'{team.name}' is already on {', '.join(both)} through namespaces[{j}]: one entry per "
                        "namespace and cluster",
                    )
                )
    return issues + _group_issues(config, block)


def _group_issues(config: FleetView, block: AccessConfig) -> list[Issue]:
    """A Google group in Kubernetes RBAC needs the cluster's Google Groups for RBAC (clusters[i].rbacGoogleGroup)."""
    wants_groups = any(m.startswith("group:") for m in [*block.admins.gcp, *block.viewers.gcp])
    issues: list[Issue] = []
    for i, cluster in enumerate(config.clusters):
        if cluster.cloud != "gcp" or cluster.rbac_google_group:
            continue
        team_groups = any(
            m.startswith("group:") and cluster in team_clusters(config, t)
            for t in block.namespaces
            for m in t.editors.gcp
        )
        if wants_groups or team_groups:
            issues.append(
                Issue(
                    format_path(("clusters", i, "rbacGoogleGroup")),
                    "multicluster:access binds Google groups in Kubernetes RBAC, which GKE resolves only with Google "
                    "Groups for RBAC: set it to gke-security-groups@<your domain> (the groups must be its members, "
                    "https://cloud.google.com/kubernetes-engine/docs/how-to/google-groups-rbac)",
                )
            )
    return issues


# Declared by the `multicluster:access` field of StackConfig: what validation and the fleet's needs call.
ACCESS_RULES = BlockRules(check)
