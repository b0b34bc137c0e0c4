"""Access on EKS: one access entry per principal; cluster-wide rights through access policies, team rights
through Kubernetes RBAC.

EKS allows one access entry per principal ARN ("You can't specify the same ARN in more than one access entry",
AWS API model eks CreateAccessEntryRequest.principalArn). Admins and viewers get a cluster-scoped association
(`AmazonEKSClusterAdminPolicy`, `AmazonEKSViewPolicy`), whose scope never changes. Namespace editors get no edit
association: an association's scope cannot be updated (terraform-provider-aws eks access_policy_association: every
argument ForceNew, no update), so adding a namespace would replace it, and the replacement's create is an update of
the same association that the old one's delete then removes. Instead each entry carries Kubernetes groups, one per
team it edits (`kubernetesGroups`: "Kubernetes authorizes the principalArn of the access entry to access any cluster
objects that you've specified in a Kubernetes Role or ClusterRole object that is also specified in a binding's
roleRef"), bound to the `edit` ClusterRole in the team namespace: `edit` also aggregates the rights the charts add
for their resources (External Secrets' ExternalSecret), which the fixed `AmazonEKSEditPolicy` does not. The
deploying identity keeps its own entry (components/eks.py _access): do not list the role that runs `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from .access_common import RBAC, AccessProps, edit_binding, members_of, resource_key
from .eks import EksCluster

# AWS managed EKS access policies (https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html):
# cluster admin, and read-only without Secrets (the Kubernetes `view` role).
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


def eks_grants(
    name: str, props: AccessProps, parent: pulumi.Resource, namespaces: Mapping[str, pulumi.Resource]
) -> list[pulumi.Resource]:
    """Access entries, cluster-scoped policy associations and the team editors' RoleBindings."""
    cluster = props.cluster
    if not isinstance(cluster, EksCluster):
        raise TypeError(f"{name}: EKS access entries need an EKS cluster")
    access, editors = props.access, props.editors("aws")
    opts = pulumi.ResourceOptions(parent=parent, provider=cluster.aws_provider, depends_on=cluster.ready)
    made: list[pulumi.Resource] = []
    for principal in members_of(access.admins.aws, access.viewers.aws, list(editors)):
        key = f"{name}-{resource_key(principal)}"
        entry = aws.eks.AccessEntry(
            key,
            cluster_name=cluster.cluster.name,
            principal_arn=principal,
            type="STANDARD",
            kubernetes_groups=[team_group(team) for team in sorted(editors.get(principal, []))] or None,
            opts=opts,
        )
        made.append(entry)
        after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[entry]))
        rights = [("admin", ADMIN_POLICY)] if principal in access.admins.aws else []
        rights += [("view", VIEW_POLICY)] if principal in access.viewers.aws else []
        for right, policy in rights:
            made.append(
                aws.eks.AccessPolicyAssociation(
                    f"{key}-{right}",
                    cluster_name=cluster.cluster.name,
                    principal_arn=principal,
                    policy_arn=policy,
                    access_scope={"type": "cluster"},
                    opts=after,
                )
            )
    k8s_opts = pulumi.ResourceOptions(parent=parent, provider=cluster.k8s_provider, depends_on=cluster.ready)
    for team in props.teams:
        if team.editors.aws:
            group = {"kind": "Group", "name": team_group(team.name), "apiGroup": RBAC}
            made.append(
                edit_binding(
                    f"{name}-team-{team.name}-eks-editors",
                    "multicluster-eks-editors",
                    team.name,
                    [group],
                    k8s_opts,
                    namespaces,
                )
            )
    return made


def team_group(team: str) -> str:
    """The Kubernetes group an EKS access entry puts a team's editors in (bound to `edit` in its namespace)."""
    return f"multicluster:team:{team}:editors"
