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
    # Prefix of physical names (the stack name by default): <prefix>-<cluster>.
    prefix: str = ""
    # The API server cannot be reached (an outage): skip updates of what runs on it.
    unreachable: bool = False
    lost: bool = False  # unreachable for good: its Kubernetes resources may leave the state undeleted
    # Public addresses the runner of `pulumi up` leaves from (admitted on a public endpoint).
    deployer_egress: tuple[str, ...] = ()
    # GKE only: the maintenance window (days, start minute of the day UTC, hours).
    maintenance: tuple[tuple[str, ...], int, int] | None = None
    # Who calls this API server with a Kubernetes token (mesh peers): GKE's DNS endpoint must accept tokens.
    token_callers: bool = False
    # GKE only: webhook ports on the nodes the control plane must reach (GKE opens 443 and 10250 only).
    webhook_ports: tuple[int, ...] = ()
    # Position in multicluster:clusters, for messages that name the config key.
    index: int = 0

    @property
    def physical_name(self) -> str:
        return f"{self.prefix or self.environment}-{self.spec.name}"

    @property
    def labels(self) -> dict[str, str]:
        """Fleet labels of this cluster (also the Argo CD registration labels)."""
        spec = self.spec
        labels = {"environment": self.environment, "cloud": spec.cloud, "region": spec.region, "role": spec.role}
        if spec.residency:
            labels["residency"] = spec.residency
        if spec.drain:
            labels["multicluster/drain"] = "true"
        return {**labels, **spec.labels}


class KubernetesCluster(pulumi.ComponentResource):
    """Base of EksCluster and GkeCluster: the outputs later components rely on.

    Attributes every subclass sets:
      cluster_name, endpoint (https URL), certificate_authority (base64 PEM),
      api_server (the URL fleet callers and Pulumi use), api_ca (the CA they pin, None for a publicly trusted
      certificate), kubeconfig (secret), k8s_provider, network_id (VPC id or network self link),
      egress_addresses (public addresses its pods leave from), ready (what to wait for before workloads).

    Built in two steps: the constructor creates the network (its egress addresses exist then), `complete`
    the rest, once every cluster's egress addresses can be admitted by the others' public endpoints.
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
    api_server: pulumi.Output[str]
    api_ca: pulumi.Output[str] | None
    egress_addresses: pulumi.Output[list[str]]

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

    def complete(self, public_callers: pulumi.Input[list[str]]) -> None:
        """Everything after the network; `public_callers` are the public addresses of the fleet's callers."""
        raise NotImplementedError

    def _connect(
        self, name: pulumi.Output[str], exec_config: Callable[[str], dict[str, Any]], identity: pulumi.Output[str]
    ) -> None:
        """The secret kubeconfig and the Kubernetes provider later components deploy through.

        Built from the cluster's name, the API server callers use and its CA only. `identity` changes only
        when the cluster is replaced: pulumi-kubernetes (`clusterIdentifier`) then never replaces the
        provider, and everything deployed through it, for an endpoint or CA change of the same cluster.
        """
        ca = self.api_ca if self.api_ca is not None else pulumi.Output.from_input("")
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(name, self.api_server, ca).apply(
                lambda v: kubeconfig_json(v[0], v[1], v[2] or None, exec_user(exec_config(v[0])))
            )
        )
        self.k8s_provider = k8s.Provider(
            f"{self._name}-k8s",
            kubeconfig=self.kubeconfig,
            cluster_identifier=identity,
            # An outage: what runs on an unreachable cluster keeps its state instead of failing the update;
            # a lost cluster's resources leave the state when removed (Helm releases still refuse: see
            # docs/lifecycle.md).
            skip_update_unreachable=True if self.args.unreachable else None,
            delete_unreachable=True if self.args.lost else None,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def common_outputs(self) -> dict[str, Any]:
        return {
            "name": self.cluster_name,
            "cloud": self.spec.cloud,
            "region": self.spec.region,
            "role": self.spec.role,
            "endpoint": self.endpoint,
            "certificateAuthority": self.certificate_authority,
            # What the fleet's callers and Pulumi use (GKE: the DNS-based endpoint, no CA to pin).
            "apiServer": self.api_server,
            "apiServerCa": self.api_ca,
            "networkId": self.network_id,
            "cidr": self.spec.network.cidr,
        }


def kubeconfig_json(name: str, endpoint: str, ca_data: str | None, user: dict[str, Any], **extra: Any) -> str:
    """A kubeconfig (JSON is valid YAML) for one cluster and one user; no CA pinned when `ca_data` is None
    (an API server with a publicly trusted certificate, such as GKE's DNS-based endpoint)."""
    cluster: dict[str, Any] = {"server": endpoint}
    if ca_data:
        cluster["certificate-authority-data"] = ca_data
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": cluster}],
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
