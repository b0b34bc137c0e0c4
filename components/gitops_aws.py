"""Argo CD towards EKS targets: a "deployer" IAM role (awsAuthConfig.roleARN) with an EKS access entry on each EKS
target, assumed from a "hub" IAM role that Argo CD's service accounts hold through web identity: IRSA when the hub
is EKS, an IAM OIDC provider for the GKE hub's issuer (components/federation.py) when the hub is GKE.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from .aws_iam import irsa_trust_policy
from .cluster import ClusterPort
from .eks import EksCluster
from .gitops_common import SERVICE_ACCOUNT_SUBJECTS, IdentityOwner, projected_token

EKS_CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
# What a passive (standby) Argo CD may do on a target (EKS access policies: AmazonEKSViewPolicy).
EKS_VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
STS_AUDIENCE = "sts.amazonaws.com"
AWS_TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
# IAM is global; its API lives in us-east-1.
IAM_REGION = "us-east-1"


class AwsTargets:
    """The hub and deployer roles, and how the hub's pods hold the hub role."""

    cloud: ClassVar[str] = "aws"
    output_keys: ClassVar[tuple[str, ...]] = ("deployerRoleArn",)

    def __init__(self, owner: IdentityOwner, clusters: list[ClusterPort]):
        self.owner = owner
        name, hub = owner.resource_name, owner.hub
        self.native_hub = hub if isinstance(hub, EksCluster) else None
        # IAM is global: one provider of our own, so that no cluster's provider owns fleet-wide roles.
        self.provider = aws.Provider(
            f"{name}-aws",
            region=hub.region if self.native_hub is not None else IAM_REGION,
            default_tags={"tags": {**owner.args.tags, "multicluster:capability": "gitops"}},
            opts=pulumi.ResourceOptions(parent=owner.as_parent()),
        )
        issuer, provider_arn = self._web_identity_issuer()
        self.hub_role = aws.iam.Role(
            f"{name}-hub",
            description="Argo CD service accounts on the hub (web identity)",
            assume_role_policy=irsa_trust_policy(provider_arn, issuer, SERVICE_ACCOUNT_SUBJECTS),
            opts=self._opts(),
        )
        self.deployer_role = aws.iam.Role(
            f"{name}-deployer",
            description="Assumed by Argo CD to deploy to the fleet's EKS clusters (access entries)",
            assume_role_policy=self.hub_role.arn.apply(assume_from(("sts:AssumeRole", "sts:TagSession"))),
            max_session_duration=3600,
            opts=self._opts(),
        )
        aws.iam.RolePolicy(
            f"{name}-hub-assume-deployer",
            role=self.hub_role.id,
            policy=self.deployer_role.arn.apply(allow_assume),
            opts=self._opts(),
        )
        self._hold_hub_role()

    def _opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.owner.as_parent(), provider=self.provider, **kwargs)

    def _web_identity_issuer(self) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The OIDC issuer that signs the hub's service account tokens, as an IAM OIDC provider."""
        if self.native_hub is not None:
            return self.native_hub.oidc_issuer, self.native_hub.oidc_provider_arn
        # A GKE hub publishes its issuer publicly: AWS trusts it like an EKS issuer (one IAM provider per issuer,
        # shared with other capabilities: components/federation.py); the pod gets a projected token.
        trust = self.owner.aws_trust
        if trust is None:
            raise ValueError(f"hub {self.owner.hub.spec.name} has no AWS trust of its issuer")
        return trust.issuer, trust.oidc_provider_arn

    def _hold_hub_role(self) -> None:
        """How the pods hold the hub role: the IRSA annotation on EKS, a projected token and env elsewhere."""
        pods = self.owner.pods
        if self.native_hub is not None:
            pods.annotations["eks.amazonaws.com/role-arn"] = self.hub_role.arn
            return
        pods.volumes.append(projected_token("aws-web-identity", STS_AUDIENCE))
        pods.volume_mounts.append({"name": "aws-web-identity", "mountPath": AWS_TOKEN_DIR, "readOnly": True})
        pods.env += [
            {"name": "AWS_ROLE_ARN", "value": self.hub_role.arn},
            {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": f"{AWS_TOKEN_DIR}/token"},
            {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
            {"name": "AWS_REGION", "value": IAM_REGION},
        ]

    def grant(self, registration: pulumi.Resource, name: str, cluster: ClusterPort) -> list[pulumi.Resource]:
        """The deployer role as cluster admin: Argo CD applies CRDs, namespaces and RBAC of platform apps. A passive
        (standby) Argo CD gets view only: promoting it moves admin to it and locks the demoted hub out on every
        target, even when the demoted hub itself cannot be reached to stop its controller."""
        eks = eks_cluster(cluster)
        opts = pulumi.ResourceOptions(parent=registration, provider=eks.aws_provider)
        entry = aws.eks.AccessEntry(
            f"{name}-access",
            cluster_name=eks.cluster_name,
            principal_arn=self.deployer_role.arn,
            type="STANDARD",
            opts=opts,
        )
        policy = aws.eks.AccessPolicyAssociation(
            f"{name}-admin",
            cluster_name=eks.cluster_name,
            principal_arn=self.deployer_role.arn,
            policy_arn=EKS_VIEW if self.owner.args.passive else EKS_CLUSTER_ADMIN,
            access_scope={"type": "cluster"},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[entry])),
        )
        return [entry, policy]

    def auth_config(self, cluster: ClusterPort) -> pulumi.Output[dict[str, Any]]:
        def config(v: list[str]) -> dict[str, Any]:
            return {"awsAuthConfig": {"clusterName": v[0], "roleARN": v[1]}}

        return pulumi.Output.all(cluster.cluster_name, self.deployer_role.arn).apply(config)

    def outputs(self) -> dict[str, Any]:
        return {"deployerRoleArn": self.deployer_role.arn}


def eks_cluster(cluster: ClusterPort) -> EksCluster:
    if not isinstance(cluster, EksCluster):
        raise TypeError(f"{cluster.spec.name}: not an EKS cluster")
    return cluster


def assume_from(actions: tuple[str, ...]) -> Callable[[str], str]:
    def document(principal_arn: str) -> str:
        statement = {"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": list(actions)}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)

    return document


def allow_assume(role_arn: str) -> str:
    statement = {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": role_arn}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)
