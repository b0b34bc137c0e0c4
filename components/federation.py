"""AWS trust of GKE clusters' OIDC issuers, shared by every capability that needs it.

IAM allows one OIDC provider per issuer URL in an account, so the provider for a GKE cluster's issuer
exists once here, not once per consumer (Argo CD on a GKE hub, Velero on GKE reading S3 peers).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from .cluster import KubernetesCluster
from .config import StackConfig
from .config.backup import restore_peers

STS_AUDIENCE = "sts.amazonaws.com"
# IAM is global; its API lives in us-east-1.
IAM_REGION = "us-east-1"


def gke_issuer(cluster: KubernetesCluster) -> pulumi.Output[str]:
    """The OIDC issuer that signs a GKE cluster's service account tokens (public discovery document)."""
    gke = cluster.cluster  # type: ignore[attr-defined]
    return pulumi.Output.all(cluster.project, gke.location, gke.name).apply(  # type: ignore[attr-defined]
        lambda v: f"https://container.googleapis.com/v1/projects/{v[0]}/locations/{v[1]}/clusters/{v[2]}"
    )


class AwsOidcTrust(pulumi.ComponentResource):
    """An IAM OIDC provider for one GKE cluster's issuer: its pods may assume AWS roles that trust it."""

    TYPE = "multicluster:federation:AwsOidcTrust"

    def __init__(self, name: str, cluster: KubernetesCluster, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        provider = aws.Provider(
            f"{name}-aws",
            region=IAM_REGION,
            default_tags={"tags": {**cluster.args.tags, "multicluster:cluster": cluster.spec.name}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.issuer = gke_issuer(cluster)
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=self.issuer,
            client_id_lists=[STS_AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.oidc_provider_arn = self.oidc_provider.arn
        self.register_outputs({"issuer": self.issuer, "oidcProviderArn": self.oidc_provider_arn})


def gke_clusters_trusted_by_aws(config: StackConfig) -> list[str]:
    """GKE clusters whose pods need AWS roles: an Argo CD hub with EKS targets, Velero with S3 peers."""
    if not any(c.cloud == "aws" for c in config.clusters):
        return []
    needed: set[str] = set()
    if config.gitops is not None and config.cluster(config.gitops.hub).cloud == "gcp":
        needed.add(config.gitops.hub)
    if config.backup is not None:
        for name, peers in restore_peers(config).items():
            if config.cluster(name).cloud == "gcp" and any(p.cloud == "aws" for p in peers):
                needed.add(name)
    return [c.name for c in config.clusters if c.name in needed]


def build_aws_trusts(
    config: StackConfig, clusters: dict[str, KubernetesCluster], **wiring: Any
) -> dict[str, AwsOidcTrust]:
    return {name: AwsOidcTrust(f"{name}-aws-trust", clusters[name]) for name in gke_clusters_trusted_by_aws(config)}
