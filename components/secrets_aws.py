"""Secrets on EKS: AWS Secrets Manager through IRSA, each role allowed only the secrets under its prefix.

The platform role, assumed with a token of external-secrets/platform-secrets (which only the cluster stores
name), may read `<prefix>/*` in the cluster's region and in the regions of the extra AWS stores it reads; the
controller itself holds no role. Each team's role may read only `<prefix>/<team>/*` in the cluster's region,
assumed by External Secrets with a token of the team's own service account (SecretStore
`auth.jwt.serviceAccountRef`), so a team's store can never read another team's secrets or the platform's.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from .config.secrets import ExtraStore
from .eks import EksCluster
from .secrets_common import NAMESPACE, PLATFORM_ACCOUNT, TEAM_ACCOUNT, SecretsProps

# What reading a secret takes (AWS Secrets Manager API: GetSecretValue, DescribeSecret; External Secrets'
# provider docs, "AWS Secrets Manager": the policy it asks for).
READ_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"]
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def read_policy(account: str, regions: list[str], prefix: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadFleetSecrets",
                    "Effect": "Allow",
                    "Action": READ_ACTIONS,
                    # Secrets Manager appends six random characters to a secret's ARN: `<name>-AbCdEf`.
                    "Resource": [f"arn:aws:secretsmanager:{r}:{account}:secret:{prefix}/*" for r in regions],
                }
            ],
        },
        sort_keys=True,
    )


class AwsSecrets:
    def __init__(self, name: str, props: SecretsProps, parent: pulumi.Resource):
        cluster = props.cluster
        if not isinstance(cluster, EksCluster):
            raise TypeError(f"{name}: AWS Secrets Manager stores need an EKS cluster")
        self.cluster, self.props = cluster, props
        opts = pulumi.ResourceOptions(parent=parent, provider=cluster.aws_provider)
        account = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=parent, provider=cluster.aws_provider)
        ).account_id
        regions = sorted({cluster.region, *(s.region for s in props.extra)})
        self.access: list[pulumi.Resource] = []
        platform = self._role(f"{name}-platform", NAMESPACE, PLATFORM_ACCOUNT, account, regions, props.prefix, opts)
        self.platform_annotations: dict[str, pulumi.Input[str]] = {IRSA_ANNOTATION: platform.arn}
        self.team_annotations: dict[str, dict[str, pulumi.Input[str]]] = {}
        for team in props.teams:
            role = self._role(
                f"{name}-team-{team}", team, TEAM_ACCOUNT, account, [cluster.region], f"{props.prefix}/{team}", opts
            )
            self.team_annotations[team] = {IRSA_ANNOTATION: role.arn}

    def _role(
        self,
        name: str,
        namespace: str,
        account_name: str,
        account: pulumi.Output[str],
        regions: list[str],
        prefix: str,
        opts: pulumi.ResourceOptions,
    ) -> aws.iam.Role:
        cluster = self.cluster
        role = aws.iam.Role(
            name,
            assume_role_policy=cluster.irsa_trust([(namespace, account_name)]),
            description=f"External Secrets: {namespace}/{account_name} on {cluster.eks_name} reads {prefix}/*",
            opts=opts,
        )
        self.access.append(
            aws.iam.RolePolicy(
                name, role=role.id, policy=account.apply(lambda a: read_policy(a, regions, prefix)), opts=opts
            )
        )
        return role

    def provider(self, store: ExtraStore | None) -> dict[str, Any]:
        region = store.region if store is not None else self.cluster.region
        account = {"name": PLATFORM_ACCOUNT, "namespace": NAMESPACE}
        return {"aws": {"service": "SecretsManager", "region": region, "auth": {"jwt": {"serviceAccountRef": account}}}}

    def team_provider(self, team: str) -> dict[str, Any]:
        return {
            "aws": {
                "service": "SecretsManager",
                "region": self.cluster.region,
                "auth": {"jwt": {"serviceAccountRef": {"name": TEAM_ACCOUNT}}},
            }
        }
