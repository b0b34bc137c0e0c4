"""IAM documents and roles shared by the AWS components (IRSA roles, service roles)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

MANAGED_POLICY = "arn:aws:iam::aws:policy/"


def service_trust_policy(service: str, actions: Sequence[str] = ("sts:AssumeRole",)) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions)}],
        }
    )


def irsa_trust_policy(
    oidc_provider_arn: pulumi.Input[str], oidc_issuer: pulumi.Input[str], service_accounts: Sequence[tuple[str, str]]
) -> pulumi.Output[str]:
    """Trust for pods of the given (namespace, service account) pairs through the cluster's OIDC issuer."""

    def document(arn: str, issuer: str) -> str:
        host = issuer.removeprefix("https://")
        subjects = [f"system:serviceaccount:{ns}:{sa}" for ns, sa in service_accounts]
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": arn},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        # Exact subjects (a list is OR-ed by IAM), and only tokens minted for STS.
                        "Condition": {
                            "StringEquals": {
                                f"{host}:aud": "sts.amazonaws.com",
                                f"{host}:sub": subjects if len(subjects) > 1 else subjects[0],
                            }
                        },
                    }
                ],
            },
            sort_keys=True,
        )

    return pulumi.Output.all(oidc_provider_arn, oidc_issuer).apply(lambda v: document(v[0], v[1]))


@dataclass(frozen=True)
class IrsaRole:
    """An IRSA role and what grants it its permissions: users of the role wait for all of them."""

    role: aws.iam.Role
    grants: tuple[pulumi.Resource, ...]

    @property
    def arn(self) -> pulumi.Output[str]:
        return self.role.arn

    @property
    def ready(self) -> list[pulumi.Resource]:
        return [self.role, *self.grants]


def irsa_role(
    name: str,
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer: pulumi.Input[str],
    service_accounts: Sequence[tuple[str, str]],
    managed_policies: Sequence[str],
    opts: pulumi.ResourceOptions,
    inline_policy: pulumi.Input[str] | None = None,
) -> IrsaRole:
    """An IAM role for Kubernetes service accounts (IRSA) with the given AWS managed (and inline) policies."""
    role = aws.iam.Role(
        name,
        assume_role_policy=irsa_trust_policy(oidc_provider_arn, oidc_issuer, service_accounts),
        description=f"IRSA for {', '.join(f'{ns}/{sa}' for ns, sa in service_accounts)}",
        opts=opts,
    )
    grants: list[pulumi.Resource] = [
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=policy,
            opts=opts,
        )
        for policy in managed_policies
    ]
    if inline_policy is not None:
        grants.append(aws.iam.RolePolicy(name, role=role.id, policy=inline_policy, opts=opts))
    return IrsaRole(role, tuple(grants))
