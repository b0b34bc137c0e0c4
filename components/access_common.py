"""What the access capability's component (components/access.py) and its per-cloud grants
(components/access_aws.py, components/access_gcp.py) share: the props and the names."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .cluster import ClusterPort
from .config.access import AccessConfig, TeamNamespace

# Label of a team namespace: the secrets block keeps the fleet's own store out of these, the cost block's quotas
# and the policy block's constraints select them.
TEAM_LABEL = "multicluster.io/team"


def resource_key(member: str) -> str:
    """A stable resource-name part for an IAM principal or a Google member (the same person, the same name)."""
    if member.startswith("arn:"):
        account, kind_and_name = member.split(":", 5)[4:6]
        return f"{account}-{kind_and_name}".replace("/", "-")
    return re.sub(r"[^A-Za-z0-9-]+", "-", member).strip("-").lower()


@dataclass(frozen=True)
class AccessProps:
    """Props of one cluster's access: who holds which rights there, and its team namespaces."""

    cluster: ClusterPort
    access: AccessConfig
    teams: tuple[TeamNamespace, ...]  # the team namespaces on this cluster

    def editors(self, cloud: str) -> dict[str, list[str]]:
        """Member -> the team namespaces of this cluster it edits."""
        found: dict[str, list[str]] = {}
        for team in self.teams:
            for member in team.editors.aws if cloud == "aws" else team.editors.gcp:
                found.setdefault(member, []).append(team.name)
        return found


def members_of(*groups: Sequence[str]) -> list[str]:
    """Members in order of first appearance, once each."""
    return list(dict.fromkeys(m for group in groups for m in group))


RBAC = "rbac.authorization.k8s.io"


def edit_binding(
    resource_name: str,
    binding: str,
    team: str,
    subjects: list[dict[str, Any]],
    opts: pulumi.ResourceOptions,
    namespaces: Mapping[str, pulumi.Resource],
) -> k8s.rbac.v1.RoleBinding:
    """A RoleBinding of `subjects` to the `edit` ClusterRole in a team namespace, after the namespace exists."""
    return k8s.rbac.v1.RoleBinding(
        resource_name,
        metadata={"name": binding, "namespace": team},
        role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": "edit"},
        subjects=subjects,  # pyright: ignore[reportArgumentType] (the manifest's camelCase keys)
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[namespaces[team]])),
    )
