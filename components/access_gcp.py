"""Access on GKE: Kubernetes RBAC bound to Google members, and the project IAM they need to fetch credentials.

GKE authorizes Kubernetes requests with IAM and RBAC together; the program grants the least IAM
(`roles/container.clusterViewer`: container.clusters.get, which `gcloud container clusters get-credentials`
needs, and nothing in the clusters) and puts the rights in RBAC: `cluster-admin` for admins, `view` for viewers
(no Secrets), `edit` in a team namespace for its editors. Users and service accounts are RBAC Users named by
their email; groups are RBAC Groups, which GKE resolves through Google Groups for RBAC
(clusters[i].rbacGoogleGroup, checked with the config;
https://cloud.google.com/kubernetes-engine/docs/how-to/role-based-access-control#iam-rolebinding-bootstrap).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from .access_common import RBAC, AccessProps, edit_binding, members_of, resource_key
from .cluster import ClusterPort
from .config.access import AccessConfig
from .gcp_apis import CONTAINER, RESOURCE_MANAGER
from .gke import GkeCluster

CLUSTER_VIEWER = "roles/container.clusterViewer"


def subject(member: str) -> dict[str, str]:
    """The RBAC subject of a Google member: a Group for group:, a User (the email) for user: and serviceAccount:."""
    kind, email = member.split(":", 1)
    return {"kind": "Group" if kind == "group" else "User", "name": email, "apiGroup": RBAC}


def gke_grants(
    name: str, props: AccessProps, parent: pulumi.Resource, namespaces: Mapping[str, pulumi.Resource]
) -> list[pulumi.Resource]:
    cluster = props.cluster
    access = props.access
    opts = pulumi.ResourceOptions(parent=parent, provider=cluster.k8s_provider, depends_on=cluster.ready)
    made: list[pulumi.Resource] = []
    for key, role, members in (("admins", "cluster-admin", access.admins.gcp), ("viewers", "view", access.viewers.gcp)):
        if members:
            made.append(
                k8s.rbac.v1.ClusterRoleBinding(
                    f"{name}-{key}",
                    metadata={"name": f"multicluster-{key}", "labels": {"app.kubernetes.io/managed-by": "pulumi"}},
                    role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": role},
                    subjects=[subject(m) for m in members],  # pyright: ignore[reportArgumentType] (camelCase)
                    opts=opts,
                )
            )
    for team in props.teams:
        if team.editors.gcp:
            subjects = [subject(m) for m in team.editors.gcp]
            made.append(
                edit_binding(
                    f"{name}-team-{team.name}-editors", "multicluster-editors", team.name, subjects, opts, namespaces
                )
            )
    return made


def project_viewers(
    name: str, access: AccessConfig, clusters: Mapping[str, ClusterPort], parent: pulumi.Resource
) -> list[pulumi.Resource]:
    """`roles/container.clusterViewer` once per project and Google member who has rights on one of its GKE clusters
    (admins and viewers everywhere, editors where their team's placement puts it)."""
    members: dict[str, list[str]] = {}
    providers: dict[str, GkeCluster] = {}
    for cluster in clusters.values():
        if not isinstance(cluster, GkeCluster):
            continue
        teams = [t for t in access.namespaces if t.placement.selects(cluster.args.labels)]
        found = members_of(
            members.get(cluster.project, []), access.admins.gcp, access.viewers.gcp, *[t.editors.gcp for t in teams]
        )
        members[cluster.project] = found
        providers.setdefault(cluster.project, cluster)
    made: list[pulumi.Resource] = []
    for project, found in members.items():
        cluster = providers[project]
        for member in found:
            made.append(
                gcp.projects.IAMMember(
                    f"{name}-{project}-{resource_key(member)}",
                    project=project,
                    role=CLUSTER_VIEWER,
                    member=member,
                    opts=pulumi.ResourceOptions(
                        parent=parent,
                        provider=cluster.gcp_provider,
                        depends_on=[*cluster.waits_for(RESOURCE_MANAGER), *cluster.waits_for(CONTAINER)],
                    ),
                )
            )
    return made
