"""The interface every cluster component offers to the rest of the fleet, whatever its cloud."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .config import ClusterConfig


@dataclass(frozen=True)
class ClusterArgs:
    """Props of a cluster component (EKS or GKE)."""

    spec: ClusterConfig
    environment: str
    protect: bool
    project: str | None = None  # GCP project, resolved from the entry or gcp:project
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        """Fleet labels of this cluster (also the Argo CD registration labels)."""
        spec = self.spec
        labels = {"environment": self.environment, "cloud": spec.cloud, "region": spec.region, "role": spec.role}
        if spec.residency:
            labels["residency"] = spec.residency
        return {**labels, **spec.labels}


class KubernetesCluster(pulumi.ComponentResource):
    """Base of EksCluster and GkeCluster: the outputs later components rely on.

    Attributes every subclass sets:
      cluster_name, endpoint (https URL), certificate_authority (base64 PEM),
      kubeconfig (secret), k8s_provider, network_id (VPC id or network self link),
      ready (resources to depend on before deploying workloads).
    """

    spec: ClusterConfig
    args: ClusterArgs
    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    k8s_provider: k8s.Provider
    network_id: pulumi.Output[str]
    ready: list[pulumi.Resource]

    def __init__(self, type_: str, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None):
        super().__init__(type_, name, None, opts)
        self.args = args
        self.spec = args.spec

    @property
    def cloud(self) -> str:
        return self.spec.cloud

    @property
    def region(self) -> str:
        return self.spec.region

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a child resource: parented here, on this cluster's cloud provider."""
        raise NotImplementedError

    def _connect(self, name: pulumi.Output[str], exec_config: Callable[[str], dict[str, Any]]) -> None:
        """The secret kubeconfig and the Kubernetes provider later components deploy through.

        Built from the cluster's name, endpoint and CA only, so that unrelated changes to the cluster
        never replace the provider (and everything deployed through it).
        """
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(name, self.endpoint, self.certificate_authority).apply(
                lambda v: kubeconfig_json(v[0], v[1], v[2], exec_user(exec_config(v[0])))
            )
        )
        self.k8s_provider = k8s.Provider(
            f"{self._name}-k8s", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )

    def common_outputs(self) -> dict[str, Any]:
        return {
            "name": self.cluster_name,
            "cloud": self.spec.cloud,
            "region": self.spec.region,
            "role": self.spec.role,
            "endpoint": self.endpoint,
            "certificateAuthority": self.certificate_authority,
            "networkId": self.network_id,
            "cidr": self.spec.network.cidr,
        }


def kubeconfig_json(name: str, endpoint: str, ca_data: str, user: dict[str, Any], **extra: Any) -> str:
    """A kubeconfig (JSON is valid YAML) for one cluster and one user."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [{"name": name, "user": user}],
            **extra,
        },
        sort_keys=True,
    )


def exec_user(exec_config: dict[str, Any]) -> dict[str, Any]:
    """A kubeconfig user that authenticates through an exec plugin (aws eks get-token, gke-gcloud-auth-plugin)."""
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "interactiveMode": "Never", **exec_config}}
