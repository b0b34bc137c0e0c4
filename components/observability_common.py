"""What the observability capability (components/observability.py) and its per-cloud stores
(components/observability_aws.py, components/observability_gcp.py) share: constants, props, the store interface.

A store is one bucket of telemetry in the cluster's own cloud and region, with the keyless identity of the
Kubernetes service accounts that write and read it: each cluster's metrics (its Thanos sidecar, store gateway and
compactor), the hub's logs (Loki) and traces (Tempo). No cluster writes another cluster's bucket, so no identity
crosses a cloud and no telemetry leaves the region it was produced in, except what a cluster ships to its hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

import pulumi

from .cluster import ClusterPort, ObjectStoreSpec, Retention
from .config.observability import ObservabilityConfig

NAMESPACE = "monitoring"
# quay.io/thanos/thanos: the sidecar and ruler (through the Prometheus operator), the store gateways, compactors and
# queries run one release: the one kube-prometheus-stack 88.5.3 defaults to (values.yaml
# prometheusOperator.thanosImage and thanosRuler.thanosRulerSpec.image), pinned here so that all agree.
THANOS_VERSION = "v0.42.4"
THANOS_IMAGE = f"quay.io/thanos/thanos:{THANOS_VERSION}"
OBJSTORE_SECRET = "thanos-objstore"
OBJSTORE_KEY = "objstore.yml"
# Kubernetes service accounts that hold each store's keyless identity.
PROMETHEUS_ACCOUNT = "prometheus"
STORE_ACCOUNT = "thanos-store"
COMPACTOR_ACCOUNT = "thanos-compactor"
LOKI_ACCOUNT = "loki"
TEMPO_ACCOUNT = "tempo"
# The external label that tells Prometheus replicas apart (the operator's default), deduplicated by the query.
REPLICA_LABEL = "prometheus_replica"
# Days objects outlive the retention the compactors enforce: a safety net, so that nothing is kept for ever
# if a compactor stops, but never shorter than the compactors' own retention (Loki and Thanos both warn that a
# lifecycle rule expiring objects they still index corrupts queries).
LIFECYCLE_MARGIN_DAYS = 7
NONCURRENT_DAYS = 7

Purpose = Literal["metrics", "logs", "traces"]


@dataclass(frozen=True)
class TelemetryStoreProps:
    """One bucket: whose, for what, kept how long, written by which service accounts."""

    owner: str  # the component's resource name
    parent: pulumi.Resource
    cluster: ClusterPort
    purpose: Purpose
    retention_days: int
    accounts: tuple[str, ...]  # in NAMESPACE
    protect: bool
    qualified: str  # <prefix>-<cluster>, in descriptions and physical names
    prefix: str

    @property
    def name(self) -> str:
        return f"{self.owner}-{self.purpose}"

    @property
    def expire_days(self) -> int:
        return self.retention_days + LIFECYCLE_MARGIN_DAYS


class TelemetryStore(Protocol):
    """One cloud's telemetry bucket and its identity. Implementations: S3TelemetryStore, GcsTelemetryStore."""

    cloud: ClassVar[str]
    props: TelemetryStoreProps
    bucket_name: pulumi.Output[str]
    key_ref: pulumi.Output[str]
    identity: pulumi.Output[str]  # role ARN or Google service-account email
    service_account_annotations: dict[str, pulumi.Input[str]]
    grants: list[pulumi.Resource]  # what the workloads wait for

    def thanos_objstore(self) -> pulumi.Output[dict[str, Any]]:
        """Thanos' objstore configuration (thanos.io/tip/thanos/storage.md) for this bucket, keyless."""
        ...

    def loki_storage(self) -> dict[str, Any]:
        """The loki chart's `loki.storage` for this bucket, and the schema's `object_store` name."""
        ...

    def tempo_storage(self) -> dict[str, Any]:
        """The tempo chart's `tempo.storage.trace` for this bucket."""
        ...


def telemetry_labels(cluster: ClusterPort) -> dict[str, str]:
    """What every series, log stream and span of a cluster carries: cluster, cloud, region, residency."""
    spec = cluster.spec
    return {"cluster": spec.name, "cloud": spec.cloud, "region": spec.region, "residency": spec.residency or "none"}


@dataclass(frozen=True)
class TelemetryProps:
    """Props of one cluster's telemetry (and of its hub's, for a hub)."""

    cluster: ClusterPort
    block: ObservabilityConfig
    hub: str
    protect: bool
    prefix: str
    environment: str

    @property
    def qualified(self) -> str:
        return f"{self.prefix or self.environment}-{self.cluster.spec.name}"

    @property
    def is_hub(self) -> bool:
        return self.cluster.spec.name == self.hub


def telemetry_bucket(props: TelemetryStoreProps) -> ObjectStoreSpec:
    """The bucket of one kind of telemetry, in either cloud: objects expire after the retention (and a margin),
    old versions a week after they were replaced."""
    return ObjectStoreSpec(
        name=props.name,
        purpose=f"telemetry-{props.purpose}",
        description=f"{props.purpose} of {props.qualified}",
        alias=f"alias/telemetry/{props.qualified}-{props.purpose}",
        key_name=props.name,
        retention=Retention(noncurrent_days=NONCURRENT_DAYS, expire_days=props.expire_days),
        protect=props.protect,
    )
