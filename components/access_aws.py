"""Access on EKS: one access entry per principal and one access policy association per right it holds.

EKS allows one access entry per principal ARN ("You can't specify the same ARN in more than one access entry",
AWS API model eks CreateAccessEntryRequest.principalArn), so a person who is an admin and edits a namespace holds
one entry with two associations; a principal editing several team namespaces holds one namespace-scoped edit
association listing them all (one association per principal and policy). The deploying identity keeps its own
entry (components/eks.py _access): do not list the role that runs `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from .access_common import AccessProps, members_of, resource_key
from .eks import EksCluster

# AWS managed EKS access policies (https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html):
# cluster admin, read-only without Secrets (the Kubernetes `view` role), and edit.
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
EDIT_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"


def eks_grants(
    name: str, props: AccessProps, parent: pulumi.Resource, namespaces: Mapping[str, pulumi.Resource]
) -> list[pulumi.Resource]:
    """Access entries and policy associations (EKS scopes them to namespace names: `namespaces` need not exist)."""
    cluster = props.cluster
    if not isinstance(cluster, EksCluster):
        raise TypeError(f"{name}: EKS access entries need an EKS cluster")
    access, editors = props.access, props.editors("aws")
    opts = pulumi.ResourceOptions(parent=parent, provider=cluster.aws_provider, depends_on=cluster.ready)
    made: list[pulumi.Resource] = []
    for principal in members_of(access.admins.aws, access.viewers.aws, list(editors)):
        key = f"{name}-{resource_key(principal)}"
        entry = aws.eks.AccessEntry(
            key, cluster_name=cluster.cluster.name, principal_arn=principal, type="STANDARD", opts=opts
        )
        made.append(entry)
        after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[entry]))
        rights: list[tuple[str, str, aws.eks.AccessPolicyAssociationAccessScopeArgsDict]] = []
        if principal in access.admins.aws:
            rights.append(("admin", ADMIN_POLICY, {"type": "cluster"}))
        if principal in access.viewers.aws:
            rights.append(("view", VIEW_POLICY, {"type": "cluster"}))
        if principal in editors:
            rights.append(("edit", EDIT_POLICY, {"type": "namespace", "namespaces": sorted(editors[principal])}))
        for right, policy, scope in rights:
            made.append(
                aws.eks.AccessPolicyAssociation(
                    f"{key}-{right}",
                    cluster_name=cluster.cluster.name,
                    principal_arn=principal,
                    policy_arn=policy,
                    access_scope=scope,
                    opts=after,
                )
            )
    return made
