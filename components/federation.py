"""AWS trust of GKE clusters' OIDC issuers, shared by every capability that needs it.

IAM allows one OIDC provider per issuer URL in an account, so the provider for a GKE cluster's issuer
exists once here, not once per consumer (Argo CD on a GKE hub, Velero on GKE reading S3 peers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .cluster import ClusterPort
from .fleetplan import FleetPlan

STS_AUDIENCE = "sts.amazonaws.com"
# IAM is global; its API lives in us-east-1.
IAM_REGION = "us-east-1"


class AwsOidcTrust(pulumi.ComponentResource):
    """An IAM OIDC provider for one GKE cluster's issuer: its pods may assume AWS roles that trust it."""

    TYPE = "multicluster:federation:AwsOidcTrust"

    def __init__(self, name: str, cluster: ClusterPort, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        provider = aws.Provider(
            f"{name}-aws",
            region=IAM_REGION,
            default_tags={"tags": {**cluster.args.tags, "multicluster:cluster": cluster.spec.name}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.issuer = cluster.oidc_issuer
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=self.issuer,
            client_id_lists=[STS_AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.oidc_provider_arn = self.oidc_provider.arn
        self.register_outputs({"issuer": self.issuer, "oidcProviderArn": self.oidc_provider_arn})


@dataclass(frozen=True)
class AwsTrusts:
    """The AWS trusts of GKE issuers, by GKE cluster name (what the fleet plan says AWS must trust)."""

    by_cluster: Mapping[str, AwsOidcTrust] = field(default_factory=dict[str, AwsOidcTrust])

    def of(self, cluster: str) -> AwsOidcTrust | None:
        return self.by_cluster.get(cluster)


def build_aws_trusts(plan: FleetPlan, clusters: Mapping[str, ClusterPort]) -> AwsTrusts:
    return AwsTrusts({name: AwsOidcTrust(f"{name}-aws-trust", clusters[name]) for name in plan.aws_trusts})
