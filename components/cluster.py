"""The cluster port: what every cluster component offers to the rest of the fleet, whatever its cloud.

`ClusterPort` is the contract capabilities program against; `KubernetesCluster` is the base both
implementations (components/eks.py, components/gke.py) derive from and fulfils it. Cloud-specific code lives
in those implementations and in per-cloud builders (components/backup_aws.py, backup_gcp.py, gitops_aws.py,
gitops_gcp.py), chosen once per cluster by its cloud; a capability never branches on a cloud itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

import pulumi
import pulumi_kubernetes as k8s

from .config import ClusterConfig
from .fleetplan import ClusterPlan
from .outputs import ClusterOutputs

T = TypeVar("T")


def reported(value: T | None, what: str) -> T:
    """A value the cloud reports for every existing resource, which its SDK types as optional."""
    if value is None:
        raise ValueError(f"{what} is not reported")
    return value


@dataclass(frozen=True)
class Retention:
    """How long an object store keeps what it holds, in each cloud's lifecycle rules."""

    noncurrent_days: int  # old versions of replaced or deleted objects
    expire_days: int | None = None  # current objects (None: until their writer deletes them)
    abort_multipart_days: int = 1  # S3 only: incomplete multipart uploads (storage_gcp.gcs_lifecycle says why)


@dataclass(frozen=True)
class ObjectStoreSpec:
    """A bucket for a capability's data (backups, telemetry), encrypted with a key of its own.

    What holds data (the bucket, its key and companions) is protected as the cluster is, and always retained on
    delete: the buckets keep force_destroy off, so deleting one that holds objects fails (BucketNotEmpty) and would
    stop the update halfway through removing a cluster. Retained, they leave the stack and stay in the cloud: peers
    can still restore from them, and their lifecycle rules expire what they hold (docs/lifecycle.md says how to
    delete them afterwards)."""

    name: str  # its resources are named `<name>-bucket`, `<name>-key` ...
    purpose: str  # tag or label of the bucket
    description: str  # of the key (KMS)
    alias: str  # of the key (KMS)
    key_name: str  # key ring and key (Cloud KMS)
    retention: Retention
    protect: bool  # what holds data is protected as the cluster is, and always retained on delete


class ObjectStore(Protocol):
    """What a capability uses of an object store it asked a cluster for."""

    @property
    def bucket_name(self) -> pulumi.Output[str]: ...

    @property
    def key_ref(self) -> pulumi.Output[str]: ...  # the key that encrypts it (KMS key ARN, Cloud KMS key id)


class ClusterPort(Protocol):
    """What a capability may use of a cluster (read-only)."""

    @property
    def spec(self) -> ClusterConfig: ...

    @property
    def args(self) -> ClusterPlan: ...  # what the fleet plan decided for it (labels, protection, callers...)

    @property
    def cluster_name(self) -> pulumi.Output[str]: ...

    @property
    def endpoint(self) -> pulumi.Output[str]: ...

    @property
    def certificate_authority(self) -> pulumi.Output[str]: ...

    @property
    def api_server(self) -> pulumi.Output[str]: ...  # what fleet callers and Pulumi use

    @property
    def api_ca(self) -> pulumi.Output[str] | None: ...  # the CA they pin (None: publicly trusted)

    @property
    def kubeconfig(self) -> pulumi.Output[str]: ...  # secret

    @property
    def k8s_provider(self) -> k8s.Provider: ...  # everything deployed in the cluster goes through it

    @property
    def network_id(self) -> pulumi.Output[str]: ...

    @property
    def egress_addresses(self) -> pulumi.Output[list[str]]: ...  # public addresses its pods leave from

    @property
    def ready(self) -> list[pulumi.Resource]: ...  # what workloads wait for (node pools, add-ons)

    @property
    def oidc_issuer(self) -> pulumi.Output[str]: ...  # signs its service-account tokens (other clouds trust it)

    @property
    def cloud(self) -> str: ...

    @property
    def region(self) -> str: ...

    def load_balancer_annotations(self, internal: bool, *, cross_zone: bool = False) -> dict[str, str]: ...

    # A hardened bucket in the cluster's region and account or project, its resources children of `parent`.
    def object_store(self, spec: ObjectStoreSpec, parent: pulumi.Resource) -> ObjectStore: ...

    # The public entry, the LoadBalancer Service DNS answers for (the mesh's ingress gateway or the fallback ingress).
    @property
    def entry_addresses(self) -> pulumi.Output[list[str]] | None: ...  # reserved public IPs, None: the LB's own

    def entry_annotations(self, *, cross_zone: bool = False) -> Mapping[str, pulumi.Input[str]]: ...

    def entry_service_name(self, base: str) -> str: ...

    def outputs(self) -> ClusterOutputs: ...

    def as_parent(self) -> pulumi.Resource: ...  # the component, for parents and aliases of what moved out of it


# What the public entry's Service name carries once it holds reserved addresses (entry_service_name).
ENTRY_SUFFIX = "eip"


@dataclass(frozen=True)
class ReadinessProbe:
    """An HTTP readiness endpoint of a public entry (the mesh's ingress gateway or the fallback ingress), on a port
    its load balancer exposes: what DNS health checks probe."""

    port: int
    path: str
    protocol: Literal["HTTP"] = "HTTP"


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
    args: ClusterPlan
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
    oidc_issuer: pulumi.Output[str]
    # Set by a cloud whose load balancers have no fixed addresses (clouds.CloudTraits.reserves_entry_addresses).
    entry_addresses: pulumi.Output[list[str]] | None = None

    def __init__(self, type_: str, name: str, args: ClusterPlan, opts: pulumi.ResourceOptions | None):
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

    def object_store(self, spec: ObjectStoreSpec, parent: pulumi.Resource) -> ObjectStore:
        """A hardened, encrypted bucket of the cluster's cloud, in its region, for `parent`'s data."""
        raise NotImplementedError

    @staticmethod
    def load_balancer_annotations(internal: bool, *, cross_zone: bool = False) -> dict[str, str]:
        """Annotations of a LoadBalancer Service on this cluster: internal (reached over private links only) or
        public; `cross_zone` where every zone's nodes should serve every zone's address."""
        raise NotImplementedError

    def entry_annotations(self, *, cross_zone: bool = False) -> Mapping[str, pulumi.Input[str]]:
        """Annotations of the public entry's Service: public, with the reserved addresses when there are some."""
        return self.load_balancer_annotations(False, cross_zone=cross_zone)

    def entry_service_name(self, base: str) -> str:
        """The public entry Service's name: `base`, or `base-eip` once it holds reserved addresses.

        A cloud attaches reserved addresses only when it creates the load balancer (kubernetes/cloud-provider-aws
        ensureLoadBalancerv2 reads the eip-allocations annotation in its create branch alone), so a Service that
        exists must be replaced to get them. A new name makes Pulumi create the new Service (and load balancer)
        before it deletes the old one, and DNS moves to the new addresses once the new Service has its address.
        """
        return f"{base}-{ENTRY_SUFFIX}" if self.entry_addresses is not None else base

    def complete(self, public_callers: pulumi.Input[list[str]]) -> None:
        """Everything after the network; `public_callers` are the public addresses of the fleet's callers."""
        raise NotImplementedError

    def _connect(
        self,
        name: pulumi.Output[str],
        exec_config: Callable[[str], dict[str, Any]],
        identity: pulumi.Output[str | None],
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
            # An Output that resolves to None leaves the input unset (as None does); the SDK's
            # Input[str] has no room for an Output[str | None].
            cluster_identifier=identity,  # pyright: ignore[reportArgumentType]
            # An outage: what runs on an unreachable cluster keeps its state instead of failing the update;
            # a lost cluster's resources leave the state when removed (Helm releases still refuse: see
            # docs/lifecycle.md).
            skip_update_unreachable=True if self.args.unreachable else None,
            delete_unreachable=True if self.args.lost else None,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def as_parent(self) -> pulumi.Resource:
        return self

    def outputs(self) -> ClusterOutputs:
        """The cluster's stack outputs (common_outputs plus what its cloud adds)."""
        raise NotImplementedError

    def common_outputs(self) -> ClusterOutputs:
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
            "egressAddresses": self.egress_addresses,
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
