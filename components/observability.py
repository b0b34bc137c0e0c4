"""Observability across the fleet: metrics, logs, traces and alerts, queried on one hub per scope.

Every cluster (`ClusterTelemetry`): kube-prometheus-stack (Prometheus operator, node exporter, kube-state-metrics;
two Prometheus replicas when protected) with a Thanos sidecar that uploads two-hour blocks to the cluster's own
bucket, a Thanos store gateway and compactor beside that bucket, Fluent Bit shipping logs to the hub's Loki, and an
OpenTelemetry Collector exporting traces to the hub's Tempo. Each hub (`TelemetryHub`): Thanos query over the
sidecars and store gateways of its scope, Loki and Tempo with their buckets, Grafana with its datasources and
dashboards, and the alerting: a Thanos ruler evaluating the fleet's rules (components/observability_rules.py)
and Alertmanager sending to the configured receivers.

Every series, stream and span carries `cluster`, `cloud`, `region` and `residency`. Telemetry crosses clusters
only between a cluster and its hub, over the private links (the ports are declared in config/observability.py
`needs`, opened by connectivity), to internal load balancers that admit only the other side's ranges. In a
partitioned fleet a hub's scope is its residency: nothing is stored, queried or shipped outside it. Buckets stay
in the region of the cluster that writes them, with keyless identities of their own cloud (no cross-cloud
credential exists). See docs/observability.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from . import gatekeeper, istio, linkerd, observability_aws, observability_gcp
from .charts import chart
from .cluster import ClusterPort
from .config.backup import BackupConfig
from .config.base import UNDECRYPTED
from .config.connectivity import source_ranges
from .config.dns import DnsConfig
from .config.mesh import MeshConfig
from .config.observability import (
    LOKI_PUSH,
    OTLP_GRPC,
    THANOS_SIDECAR,
    THANOS_STORE,
    ObservabilityConfig,
)
from .config.policy import PolicyConfig
from .config.stackfile import SECURE_PLACEHOLDER
from .dns import GlobalDns
from .fleetplan import FleetPlan
from .mesh import load_balancer_address, summarized
from .observability_common import (
    COMPACTOR_ACCOUNT,
    LOKI_ACCOUNT,
    NAMESPACE,
    OBJSTORE_KEY,
    OBJSTORE_SECRET,
    PROMETHEUS_ACCOUNT,
    REPLICA_LABEL,
    STORE_ACCOUNT,
    TEMPO_ACCOUNT,
    THANOS_IMAGE,
    THANOS_VERSION,
    Purpose,
    TelemetryProps,
    TelemetryStore,
    TelemetryStoreProps,
    telemetry_labels,
)
from .observability_rules import (
    RULER_LABEL,
    MeshWorkloads,
    PoolLimit,
    RuleInputs,
    cluster_rule_groups,
    dashboard_json,
    dashboards,
    fleet_rule_groups,
)
from .outputs import ObservabilityOutputs, TelemetryHubOutputs, TelemetryOutputs
from .routing import failover_seconds
from .service_mesh import MeshHandle

__all__ = ["ClusterTelemetry", "ObservabilityFleet", "TelemetryHub", "build_observability"]

# The registry of telemetry stores by cloud: the one place a cloud is chosen.
STORES: Mapping[str, Callable[[TelemetryStoreProps], TelemetryStore]] = {
    "aws": observability_aws.S3TelemetryStore,
    "gcp": observability_gcp.GcsTelemetryStore,
}
# What the rules and dashboards watch of each mesh (its east-west gateway workload, its certificates' expiry).
MESH_WORKLOADS: Mapping[str, MeshWorkloads] = {
    # istiod: the expiry time of its CA chain (security/pkg/server/ca/monitoring.go); Linkerd's identity controller:
    # the seconds its issuer certificate has left (pkg/identity/service.go issuer_cert_ttl_seconds).
    "istio": MeshWorkloads(
        istio.NAMESPACE,
        istio.EASTWEST,
        "citadel_server_cert_chain_expiry_timestamp - time()",
        # Istio's standard metrics label both ends with their cluster (istio.io "Istio Standard Metrics").
        'sum by (source_cluster, destination_cluster) (rate(istio_requests_total{reporter="source",'
        'response_code=~"5.."}[5m]))',
    ),
    "linkerd": MeshWorkloads(linkerd.MULTICLUSTER_NAMESPACE, linkerd.GATEWAY, "issuer_cert_ttl_seconds"),
}
# Release and object names inside each cluster (fullnameOverride keeps them short and predictable).
KPS = "kps"
PROMETHEUS_SELECTOR = {"app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": f"{KPS}-prometheus"}
SIDECAR_DISCOVERY = f"dnssrv+_grpc._tcp.{KPS}-thanos-discovery.{NAMESPACE}.svc.cluster.local"
ALERTMANAGER = f"{KPS}-alertmanager.{NAMESPACE}.svc.cluster.local:9093"
LOKI_SELECTOR = {"app.kubernetes.io/name": "loki", "app.kubernetes.io/component": "single-binary"}
TEMPO_SELECTOR = {"app.kubernetes.io/name": "tempo"}
QUERY_PORT = 9090
SLACK_SECRET = "alertmanager-slack"
SMTP_SECRET = "alertmanager-smtp"
SECRETS_DIR = "/etc/alertmanager/secrets"  # where the operator mounts alertmanagerSpec.secrets
# Loki's TSDB schema, from the day this program first wrote one (grafana.com/docs/loki "Schema config": v13).
LOKI_SCHEMA_FROM = "2026-01-01"


def service_url(name: str, port: int) -> str:
    return f"http://{name}.{NAMESPACE}.svc.cluster.local:{port}"


LOKI_URL = service_url("loki", LOKI_PUSH.port)
TEMPO_URL = service_url("tempo", 3200)
QUERY_URL = service_url("thanos-query", QUERY_PORT)
GRAFANA_URL = f"http://grafana.{NAMESPACE}.svc.cluster.local"

RESTRICTED = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def telemetry_release(
    resource_name: str,
    parent: pulumi.Resource,
    cluster: ClusterPort,
    release: str,
    chart_name: str,
    values: Any,
    after: list[pulumi.Resource],
) -> k8s.helm.v3.Release:
    """A pinned chart of components/charts.py in the monitoring namespace of `cluster` (atomic, 15 minutes)."""
    pinned = chart(chart_name)
    return k8s.helm.v3.Release(
        resource_name,
        name=release,
        chart=pinned.name,
        version=pinned.version,
        repository_opts={"repo": pinned.repository},
        namespace=NAMESPACE,
        create_namespace=False,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=900,
        opts=pulumi.ResourceOptions(parent=parent, provider=cluster.k8s_provider, depends_on=[*cluster.ready, *after]),
    )


def internal_service(
    resource_name: str,
    parent: pulumi.Resource,
    cluster: ClusterPort,
    service: str,
    selector: dict[str, str],
    port: tuple[int, str | int],
    ranges: list[str],
    after: list[pulumi.Resource],
) -> pulumi.Output[str]:
    """An internal load balancer in the monitoring namespace admitting only `ranges` (over the private links);
    its address. `port`: (port, target port)."""
    made = k8s.core.v1.Service(
        resource_name,
        metadata={"name": service, "namespace": NAMESPACE, "annotations": cluster.load_balancer_annotations(True)},
        spec={  # pyright: ignore[reportArgumentType]  # the manifest's camelCase keys
            "type": "LoadBalancer",
            "selector": selector,
            # Without source ranges the in-tree AWS provider and GKE admit any source (components/mesh.py).
            "loadBalancerSourceRanges": ranges,
            "ports": [{"name": service.removesuffix("-lb"), "port": port[0], "targetPort": port[1], "protocol": "TCP"}],
        },
        opts=pulumi.ResourceOptions(parent=parent, provider=cluster.k8s_provider, depends_on=after),
    )
    return load_balancer_address(made)


class ClusterTelemetry(pulumi.ComponentResource):
    """One cluster's telemetry: its metrics bucket and Thanos, kube-prometheus-stack, and, once its hub exists
    (`ship`), Fluent Bit and the OpenTelemetry Collector pointed at it."""

    TYPE = "multicluster:observability:ClusterTelemetry"

    def __init__(self, name: str, props: TelemetryProps, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self._name, self.props, self.cluster = name, props, props.cluster
        self.labels = telemetry_labels(self.cluster)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": NAMESPACE,
                # node-exporter (host network, PID and paths) and Fluent Bit (host log paths) need it.
                "labels": {
                    "pod-security.kubernetes.io/enforce": "privileged",
                    "app.kubernetes.io/part-of": "observability",
                },
            },
            opts=self._k8s_opts(depends_on=list(self.cluster.ready)),
        )
        self.metrics = STORES[self.cluster.cloud](
            TelemetryStoreProps(
                owner=name,
                parent=self,
                cluster=self.cluster,
                purpose="metrics",
                retention_days=props.block.metrics.retention_days,
                accounts=(PROMETHEUS_ACCOUNT, STORE_ACCOUNT, COMPACTOR_ACCOUNT),
                protect=props.protect,
                qualified=props.qualified,
                prefix=props.prefix or props.environment,
            )
        )
        self.objstore = k8s.core.v1.Secret(
            f"{name}-objstore",
            metadata={"name": OBJSTORE_SECRET, "namespace": NAMESPACE},
            string_data={OBJSTORE_KEY: self.metrics.thanos_objstore().apply(lambda c: yaml.safe_dump(c))},
            opts=self._k8s_opts(depends_on=[self.namespace]),
        )
        self.alerting: list[pulumi.Resource] = self._alerting_secrets() if props.is_hub else []
        self.stack = self._release(
            "kps", "kube-prometheus-stack", self.stack_values(), [self.objstore, *self.alerting, *self.metrics.grants]
        )
        self._thanos_store()
        self._thanos_compactor()
        self.query_targets: list[pulumi.Input[str]] = [
            SIDECAR_DISCOVERY,
            f"thanos-store.{NAMESPACE}.svc.cluster.local:{THANOS_STORE.port}",
        ]
        self.sidecar_address: pulumi.Output[str] | None = None
        self.store_address: pulumi.Output[str] | None = None
        self.ships_to: dict[str, pulumi.Input[str]] = {}

    # --- helpers --------------------------------------------------------------------------
    def _k8s_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.cluster.k8s_provider, **kwargs)

    def _release(self, release: str, chart_name: str, values: Any, after: list[pulumi.Resource]) -> k8s.helm.v3.Release:
        return telemetry_release(
            f"{self._name}-{release}", self, self.cluster, release, chart_name, values, [self.namespace, *after]
        )

    # --- metrics ---------------------------------------------------------------------------
    def stack_values(self) -> dict[str, Any]:
        hub, protect = self.props.is_hub, self.props.protect
        prometheus_spec: dict[str, Any] = {
            "replicas": 2 if protect else 1,
            "externalLabels": dict(self.labels),
            # Recent data stays local for the sidecar; history is read from the bucket by the store gateway.
            "retention": "2d",
            # Every ServiceMonitor/PodMonitor of the cluster, not only the chart's (the fleet's own monitors).
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "probeSelectorNilUsesHelmValues": False,
            # The chart renders only objectStorageConfig.existingSecret (or .secret) into the CR
            # (templates/prometheus/prometheus.yaml), and the operator keeps a tagged default image whatever
            # `version` says: the image is pinned itself.
            "thanos": {
                "image": THANOS_IMAGE,
                "objectStorageConfig": {"existingSecret": {"name": OBJSTORE_SECRET, "key": OBJSTORE_KEY}},
            },
        }
        values: dict[str, Any] = {
            "fullnameOverride": KPS,
            # The fleet's alerts are the hub ruler's (observability_rules): they see every cluster, dead ones too.
            "defaultRules": {"create": False},
            "grafana": {"enabled": False},  # the hub's Grafana is a release of its own
            "kube-state-metrics": {"metricLabelsAllowlist": ["nodes=[multicluster/node-pool]"]},
            "prometheus": {
                "serviceAccount": {
                    "create": True,
                    "name": PROMETHEUS_ACCOUNT,
                    "annotations": self.metrics.service_account_annotations,
                },
                "thanosService": {"enabled": True},
                "prometheusSpec": prometheus_spec,
            },
            "alertmanager": {"enabled": hub},
        }
        if hub:
            values["alertmanager"] = self._alertmanager_values()
            values["thanosRuler"] = {
                "enabled": True,
                "thanosRulerSpec": {
                    "image": {"tag": THANOS_VERSION},
                    "replicas": 2 if protect else 1,
                    "queryEndpoints": [f"thanos-query.{NAMESPACE}.svc.cluster.local:{QUERY_PORT}"],
                    "ruleSelector": {"matchLabels": dict(RULER_LABEL)},
                    "ruleSelectorNilUsesHelmValues": False,
                    "alertmanagersConfig": {
                        "secret": {"alertmanagers": [{"api_version": "v2", "static_configs": [ALERTMANAGER]}]}
                    },
                },
            }
        return values

    def _alertmanager_values(self) -> dict[str, Any]:
        alerts = self.props.block.alerts
        receiver: dict[str, Any] = {"name": "fleet"}
        secrets: list[str] = []
        if alerts.email:
            smtp = alerts.smtp
            assert smtp is not None  # config.observability.check
            email: dict[str, Any] = {"to": ", ".join(alerts.email), "send_resolved": True}
            receiver["email_configs"] = [email]
            if smtp.password is not None:
                email["auth_password_file"] = f"{SECRETS_DIR}/{SMTP_SECRET}/password"
                secrets.append(SMTP_SECRET)
        if alerts.slack_webhook is not None:
            # The webhook is read from a mounted Secret: it never appears in the chart's values or the release.
            receiver["slack_configs"] = [{"api_url_file": f"{SECRETS_DIR}/{SLACK_SECRET}/url", "send_resolved": True}]
            secrets.append(SLACK_SECRET)
        config: dict[str, Any] = {
            "route": {
                "receiver": "fleet",
                "group_by": ["alertname", "cluster"],
                "routes": [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}],
            },
            "receivers": [{"name": "null"}, receiver],
        }
        if alerts.smtp is not None:
            config["global"] = {
                "smtp_smarthost": alerts.smtp.smarthost,
                "smtp_from": alerts.smtp.sender,
                **({"smtp_auth_username": alerts.smtp.username} if alerts.smtp.username else {}),
            }
        return {
            "enabled": True,
            "config": config,
            "alertmanagerSpec": {"replicas": 2 if self.props.protect else 1, "secrets": secrets},
        }

    def _alerting_secrets(self) -> list[pulumi.Resource]:
        alerts = self.props.block.alerts
        made: list[pulumi.Resource] = []
        for secret_name, key, value in (
            (SLACK_SECRET, "url", alerts.slack_webhook),
            (SMTP_SECRET, "password", alerts.smtp.password if alerts.smtp is not None else None),
        ):
            if value is None:
                continue
            text = SECURE_PLACEHOLDER if value is UNDECRYPTED else str(value)
            made.append(
                k8s.core.v1.Secret(
                    f"{self._name}-{secret_name}",
                    metadata={"name": secret_name, "namespace": NAMESPACE},
                    string_data={key: pulumi.Output.secret(text)},
                    opts=self._k8s_opts(depends_on=[self.namespace]),
                )
            )
        return made

    def _account(self, account: str) -> k8s.core.v1.ServiceAccount:
        return k8s.core.v1.ServiceAccount(
            f"{self._name}-{account}",
            metadata={"name": account, "namespace": NAMESPACE, "annotations": self.metrics.service_account_annotations},
            opts=self._k8s_opts(depends_on=[self.namespace]),
        )

    def _thanos_workload(
        self, component: str, account: str, args: list[str], ports: list[dict[str, Any]], *, singleton: bool = False
    ) -> k8s.apps.v1.Deployment:
        labels = {"app.kubernetes.io/name": component, "app.kubernetes.io/part-of": "thanos"}
        service_account = self._account(account)
        return k8s.apps.v1.Deployment(
            f"{self._name}-{component}",
            metadata={"name": component, "namespace": NAMESPACE, "labels": labels},
            spec={  # pyright: ignore[reportArgumentType]  # the manifest's camelCase keys
                "replicas": 1,
                # A second compactor on one bucket corrupts it (thanos.io compact.md): never two, even in a rollout.
                "strategy": {"type": "Recreate" if singleton else "RollingUpdate"},
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": account,
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 1001, "fsGroup": 1001},
                        "containers": [
                            {
                                "name": component,
                                "image": THANOS_IMAGE,
                                "args": args,
                                "ports": ports,
                                "securityContext": RESTRICTED,
                                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
                                "volumeMounts": [
                                    {"name": "objstore", "mountPath": "/etc/thanos", "readOnly": True},
                                    {"name": "data", "mountPath": "/var/thanos"},
                                ],
                            }
                        ],
                        "volumes": [
                            {"name": "objstore", "secret": {"secretName": OBJSTORE_SECRET}},
                            {"name": "data", "emptyDir": {}},
                        ],
                    },
                },
            },
            opts=self._k8s_opts(depends_on=[service_account, self.objstore, *self.metrics.grants]),
        )

    def _thanos_store(self) -> None:
        self.store = self._thanos_workload(
            "thanos-store",
            STORE_ACCOUNT,
            [
                "store",
                "--data-dir=/var/thanos/store",
                f"--objstore.config-file=/etc/thanos/{OBJSTORE_KEY}",
                f"--grpc-address=0.0.0.0:{THANOS_STORE.port}",
                "--http-address=0.0.0.0:10902",
            ],
            [{"name": "grpc", "containerPort": THANOS_STORE.port}, {"name": "http", "containerPort": 10902}],
        )
        k8s.core.v1.Service(
            f"{self._name}-thanos-store",
            metadata={"name": "thanos-store", "namespace": NAMESPACE},
            spec={  # pyright: ignore[reportArgumentType]  # the manifest's camelCase keys
                "selector": {"app.kubernetes.io/name": "thanos-store"},
                "ports": [{"name": "grpc", "port": THANOS_STORE.port, "targetPort": "grpc"}],
            },
            opts=self._k8s_opts(depends_on=[self.namespace]),
        )

    def _thanos_compactor(self) -> None:
        days = self.props.block.metrics.retention_days
        self.compactor = self._thanos_workload(
            "thanos-compactor",
            COMPACTOR_ACCOUNT,
            [
                "compact",
                "--wait",
                "--data-dir=/var/thanos/compact",
                f"--objstore.config-file=/etc/thanos/{OBJSTORE_KEY}",
                "--http-address=0.0.0.0:10902",
                f"--retention.resolution-raw={days}d",
                f"--retention.resolution-5m={days}d",
                f"--retention.resolution-1h={days}d",
            ],
            [{"name": "http", "containerPort": 10902}],
            singleton=True,
        )

    def expose(self, hub: ClusterPort) -> None:
        """Internal load balancers for the hub's query: the sidecar and the store gateway, admitting only the
        hub's ranges (over the private link)."""
        ranges = sorted(set(source_ranges(hub.spec).values()))
        self.sidecar_address = self._internal_service(
            "thanos-sidecar-lb", PROMETHEUS_SELECTOR, THANOS_SIDECAR.port, "grpc", ranges, self.stack
        )
        self.store_address = self._internal_service(
            "thanos-store-lb", {"app.kubernetes.io/name": "thanos-store"}, THANOS_STORE.port, "grpc", ranges, self.store
        )
        self.query_targets = [
            self.sidecar_address.apply(lambda a: f"{a}:{THANOS_SIDECAR.port}"),
            self.store_address.apply(lambda a: f"{a}:{THANOS_STORE.port}"),
        ]

    def _internal_service(
        self,
        service: str,
        selector: dict[str, str],
        port: int,
        target: str | int,
        ranges: list[str],
        after: pulumi.Resource,
    ) -> pulumi.Output[str]:
        return internal_service(
            f"{self._name}-{service}",
            self,
            self.cluster,
            service,
            selector,
            (port, target),
            ranges,
            [self.namespace, after],
        )

    # --- logs and traces -------------------------------------------------------------------
    def ship(
        self,
        hub: TelemetryHub,
        *,
        sampling: float | None,
        probes: list[pulumi.Output[str]],
        job_metrics_minutes: int | None = None,
    ) -> None:
        """Fluent Bit to the hub's Loki, the collector to its Tempo (and, on a hub, its DNS probes); then the
        outputs. `sampling`: the collector's share of traces (None: the mesh samples at its edge already);
        `job_metrics_minutes`: how long metrics pushed by in-cluster jobs (the restore drill) stay exported."""
        remote = hub.cluster.spec.name != self.cluster.spec.name
        loki_host = hub.loki_address if remote else pulumi.Output.from_input(f"loki.{NAMESPACE}.svc.cluster.local")
        self.ships_to["logs"] = loki_host.apply(lambda h: f"http://{h}:{LOKI_PUSH.port}")
        self.fluent_bit = self._release("fluent-bit", "fluent-bit", self.fluent_bit_values(loki_host), [self.stack])
        tracing = self.props.block.tracing
        if tracing:
            tempo = pulumi.Output.from_input(f"tempo.{NAMESPACE}.svc.cluster.local")
            if remote:
                assert hub.tempo_address is not None  # a hub with tracing exposes its Tempo to its scope
                tempo = hub.tempo_address
            self.ships_to["traces"] = tempo.apply(lambda h: f"{h}:{OTLP_GRPC.port}")
        else:
            tempo = None
        if tracing or probes or job_metrics_minutes:
            self.collector = self._release(
                "otel-collector",
                "opentelemetry-collector",
                self.collector_values(tempo, sampling, probes, job_metrics_minutes),
                [self.stack],
            )
            if probes or job_metrics_minutes:
                self._monitor(
                    "otel-metrics",
                    {"app.kubernetes.io/name": "opentelemetry-collector"},
                    "promexporter",
                    self.collector,
                )
        self.register_outputs(dict(self.outputs()))

    def fluent_bit_values(self, loki_host: pulumi.Output[str]) -> dict[str, Any]:
        labels = ", ".join(f"{k}={v}" for k, v in self.labels.items())

        def outputs(host: str) -> str:
            return "\n".join(
                [
                    "[OUTPUT]",
                    "    Name loki",
                    "    Match kube.*",
                    f"    Host {host}",
                    f"    Port {LOKI_PUSH.port}",
                    f"    Labels job=fluent-bit, {labels}",
                    "    Label_keys "
                    + ",".join(f"$kubernetes['{k}']" for k in ("namespace_name", "pod_name", "container_name")),
                    "    Line_format json",
                    "    Retry_Limit False",
                    "",
                ]
            )

        return {"fullnameOverride": "fluent-bit", "config": {"outputs": loki_host.apply(outputs)}}

    def collector_values(
        self,
        tempo: pulumi.Output[str] | None,
        sampling: float | None,
        probes: list[pulumi.Output[str]],
        job_metrics_minutes: int | None = None,
    ) -> dict[str, Any]:
        """The collector's whole configuration in `alternateConfig`, which the chart does not merge with its
        default pipelines (a null in `config` to remove them is not passed on by every Helm client:
        pulumi/pulumi-kubernetes#2034)."""
        attributes = [
            {"key": "k8s.cluster.name" if k == "cluster" else k, "value": v, "action": "upsert"}
            for k, v in self.labels.items()
        ]
        pipelines: dict[str, Any] = {}
        receivers: dict[str, Any] = {}
        exporters: dict[str, Any] = {}
        processors: dict[str, Any] = {
            # The chart's defaults, which alternateConfig does not inherit.
            "memory_limiter": {"check_interval": "5s", "limit_percentage": 80, "spike_limit_percentage": 25},
            "batch": {},
            "resource": {"attributes": attributes},
        }
        if tempo is not None or job_metrics_minutes:
            receivers["otlp"] = {
                "protocols": {
                    "grpc": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_GRPC.port}"},
                    "http": {"endpoint": "${env:MY_POD_IP}:4318"},
                }
            }
        if tempo is not None:
            trace_processors = ["memory_limiter", "resource", "batch"]
            if sampling is not None:
                # Hash-based on the trace id: every cluster keeps or drops a cross-cluster trace whole.
                processors["probabilistic_sampler"] = {"sampling_percentage": sampling}
                trace_processors.insert(1, "probabilistic_sampler")
            exporters["otlp/tempo"] = {
                "endpoint": tempo.apply(lambda h: f"{h}:{OTLP_GRPC.port}"),
                "tls": {"insecure": True},
            }
            pipelines["traces"] = {"receivers": ["otlp"], "processors": trace_processors, "exporters": ["otlp/tempo"]}
        ports: dict[str, Any] = {}
        metric_receivers = [*(["httpcheck"] if probes else []), *(["otlp"] if job_metrics_minutes else [])]
        if probes:
            # What DNS health-checks, probed from the hub as well: the state behind every record's failover.
            receivers["httpcheck"] = {
                "collection_interval": "10s",
                "targets": [{"endpoint": p, "method": "GET"} for p in probes],
            }
        if metric_receivers:
            exporters["prometheus"] = {
                "endpoint": "${env:MY_POD_IP}:8889",
                # Names as the jobs write them (no unit suffixes), and a pushed gauge kept until the next push:
                # the exporter forgets a series after metric_expiration (5m by default).
                "add_metric_suffixes": False,
                "metric_expiration": f"{job_metrics_minutes or 5}m",
            }
            pipelines["metrics"] = {
                "receivers": metric_receivers,
                "processors": ["memory_limiter", "batch"],
                "exporters": ["prometheus"],
            }
            ports["promexporter"] = {"enabled": True, "containerPort": 8889, "servicePort": 8889, "protocol": "TCP"}
        values: dict[str, Any] = {
            "fullnameOverride": "otel-collector",
            "mode": "deployment",
            "image": {"repository": "otel/opentelemetry-collector-contrib"},
            "replicaCount": 2 if self.props.protect else 1,
            "alternateConfig": {
                # The chart's NOTES.txt requires the health_check extension (its probes call it).
                "extensions": {"health_check": {"endpoint": "${env:MY_POD_IP}:13133"}},
                "receivers": receivers,
                "processors": processors,
                "exporters": exporters,
                "service": {"extensions": ["health_check"], "pipelines": pipelines},
            },
        }
        if ports:
            values["ports"] = ports
        return values

    def _monitor(
        self,
        name: str,
        selector: dict[str, str],
        port: str,
        after: pulumi.Resource,
        namespace: str = NAMESPACE,
        *,
        pods: bool = False,
    ) -> None:
        """A ServiceMonitor (or PodMonitor, for metrics no Service exposes) the cluster's Prometheus scrapes."""
        endpoints = [{"port": port, "interval": "30s"}]
        k8s.apiextensions.CustomResource(
            f"{self._name}-{name}",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor" if pods else "ServiceMonitor",
            metadata={"name": name, "namespace": NAMESPACE},
            spec={
                "selector": {"matchLabels": selector},
                "namespaceSelector": {"matchNames": [namespace]},
                ("podMetricsEndpoints" if pods else "endpoints"): endpoints,
            },
            opts=self._k8s_opts(depends_on=[self.stack, after]),
        )

    def _proxy_monitor(self) -> None:
        """Every Istio sidecar's Envoy statistics (istio.io "Prometheus" integration: the injected proxy serves
        them on its http-envoy-prom port, /stats/prometheus), in every namespace."""
        k8s.apiextensions.CustomResource(
            f"{self._name}-istio-proxies",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata={"name": "istio-proxies", "namespace": NAMESPACE},
            spec={
                "selector": {"matchExpressions": [{"key": "security.istio.io/tlsMode", "operator": "Exists"}]},
                "namespaceSelector": {"any": True},
                "podMetricsEndpoints": [{"port": "http-envoy-prom", "path": "/stats/prometheus", "interval": "30s"}],
            },
            opts=self._k8s_opts(depends_on=[self.stack]),
        )

    def watch(self, *, backup: bool, mesh: str | None, policy: bool = False) -> None:
        """Monitors of what the fleet's alerts watch on this cluster: Velero, the mesh's control plane, Gatekeeper."""
        if policy:
            # Gatekeeper's controller and audit pods serve Prometheus metrics on their `metrics` port (8888); the
            # chart has no Service or monitor for it (values.yaml metricsBackends; templates/*-deployment.yaml).
            self._monitor(
                "gatekeeper", {"gatekeeper.sh/system": "yes"}, "metrics", self.stack, gatekeeper.NAMESPACE, pods=True
            )
        if backup:
            # The velero chart's metrics Service (metrics.enabled, on by default) serves port http-monitoring.
            self._monitor("velero", {"app.kubernetes.io/name": "velero"}, "http-monitoring", self.stack, "velero")
        if mesh == "istio":
            self._monitor("istiod", {"app": "istiod"}, "http-monitoring", self.stack, istio.NAMESPACE)
            self._proxy_monitor()
        elif mesh == "linkerd":
            # The identity controller's admin port serves its metrics; no Service exposes it.
            self._monitor(
                "linkerd-identity",
                {"linkerd.io/control-plane-component": "identity"},
                "ident-admin",  # charts/linkerd-control-plane/templates/identity.yaml
                self.stack,
                linkerd.NAMESPACE,
                pods=True,
            )

    def outputs(self) -> TelemetryOutputs:
        return {
            "hub": self.props.hub,
            "metricsBucket": self.metrics.bucket_name,
            "metricsIdentity": self.metrics.identity,
            "labels": dict(self.labels),
            "shipsTo": dict(self.ships_to),
        }


@dataclass(frozen=True)
class HubProps:
    """Props of one hub: its cluster's telemetry, its scope, what its rules and dashboards watch."""

    agent: ClusterTelemetry
    scope: tuple[str, ...]
    block: ObservabilityConfig
    rules: RuleInputs
    pools: Mapping[str, tuple[PoolLimit, ...]]
    protect: bool
    prefix: str


class TelemetryHub(pulumi.ComponentResource):
    """One hub: Loki and Tempo with their buckets, Thanos query over its scope, Grafana, the fleet's rules."""

    TYPE = "multicluster:observability:TelemetryHub"

    def __init__(
        self, name: str, props: HubProps, members: Mapping[str, ClusterPort], opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(self.TYPE, name, None, opts)
        self._name, self.props = name, props
        self.agent = props.agent
        self.cluster = props.agent.cluster
        self.stores: dict[Purpose, TelemetryStore] = {}
        self.loki = self._loki()
        self.tempo = self._tempo() if props.block.tracing else None
        remote = [members[m] for m in props.scope if m != self.cluster.spec.name]
        ranges = summarized({cidr for peer in remote for cidr in source_ranges(peer.spec).values()}) if remote else []
        self.loki_address = self._push_service("loki-push-lb", LOKI_SELECTOR, LOKI_PUSH.port, ranges, self.loki)
        self.tempo_address = (
            self._push_service("otlp-lb", TEMPO_SELECTOR, OTLP_GRPC.port, ranges, self.tempo)
            if self.tempo is not None and remote
            else None
        )
        self._rules()

    def _k8s_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.cluster.k8s_provider, **kwargs)

    def _store(self, purpose: Purpose, days: int, account: str) -> TelemetryStore:
        props = self.agent.props
        store = STORES[self.cluster.cloud](
            TelemetryStoreProps(
                owner=self._name,
                parent=self,
                cluster=self.cluster,
                purpose=purpose,
                retention_days=days,
                accounts=(account,),
                protect=self.props.protect,
                qualified=props.qualified,
                prefix=self.props.prefix,
            )
        )
        self.stores[purpose] = store
        return store

    def _release(self, release: str, chart_name: str, values: Any, after: list[pulumi.Resource]) -> k8s.helm.v3.Release:
        return telemetry_release(
            f"{self._name}-{release}", self, self.cluster, release, chart_name, values, [self.agent.namespace, *after]
        )

    def _loki(self) -> k8s.helm.v3.Release:
        days = self.props.block.logs.retention_days
        store = self._store("logs", days, LOKI_ACCOUNT)
        storage = store.loki_storage()
        replicas = 3 if self.props.protect else 1
        values = {
            "deploymentMode": "SingleBinary",
            "serviceAccount": {"create": True, "name": LOKI_ACCOUNT, "annotations": store.service_account_annotations},
            "loki": {
                "auth_enabled": False,  # one tenant: the hub's scope
                "commonConfig": {"replication_factor": replicas},
                "storage": storage,
                "schemaConfig": {
                    "configs": [
                        {
                            "from": LOKI_SCHEMA_FROM,
                            "store": "tsdb",
                            "object_store": storage["type"],
                            "schema": "v13",
                            "index": {"prefix": "loki_index_", "period": "24h"},
                        }
                    ]
                },
                "limits_config": {"retention_period": f"{days * 24}h"},
                "compactor": {"retention_enabled": True, "delete_request_store": storage["type"]},
            },
            "singleBinary": {"replicas": replicas},
            "write": {"replicas": 0},
            "read": {"replicas": 0},
            "backend": {"replicas": 0},
            "gateway": {"enabled": False},
            "chunksCache": {"enabled": False},
            "resultsCache": {"enabled": False},
            "lokiCanary": {"enabled": False},
            "test": {"enabled": False},
        }
        return self._release("loki", "loki", values, store.grants)

    def _tempo(self) -> k8s.helm.v3.Release:
        days = self.props.block.traces.retention_days
        store = self._store("traces", days, TEMPO_ACCOUNT)
        values = {
            "fullnameOverride": "tempo",
            "serviceAccount": {"create": True, "name": TEMPO_ACCOUNT, "annotations": store.service_account_annotations},
            "tempo": {
                "retention": f"{days * 24}h",
                "storage": {"trace": store.tempo_storage()},
                "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC.port}"}}}},
                "reportingEnabled": False,
            },
        }
        return self._release("tempo", "tempo", values, store.grants)

    def _push_service(
        self, service: str, selector: dict[str, str], port: int, ranges: list[str], after: pulumi.Resource
    ) -> pulumi.Output[str]:
        # A hub alone in its scope admits only its own ranges: an empty list would admit everyone.
        admitted = ranges or sorted(set(source_ranges(self.cluster.spec).values()))
        return internal_service(
            f"{self._name}-{service}",
            self,
            self.cluster,
            service,
            selector,
            (port, port),
            admitted,
            [self.agent.namespace, after],
        )

    def _rules(self) -> None:
        groups = fleet_rule_groups(self.props.rules)
        self._rule("fleet", groups)
        for cluster in self.props.scope:
            self._rule(f"cluster-{cluster}", cluster_rule_groups(cluster, self.props.pools.get(cluster, ())))

    def _rule(self, name: str, groups: list[dict[str, Any]]) -> None:
        k8s.apiextensions.CustomResource(
            f"{self._name}-rules-{name}",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={
                "name": f"fleet-{name}" if name != "fleet" else "fleet",
                "namespace": NAMESPACE,
                "labels": dict(RULER_LABEL),
            },
            spec={"groups": groups},
            opts=self._k8s_opts(depends_on=[self.agent.stack]),
        )

    def query(self, agents: Mapping[str, ClusterTelemetry]) -> None:
        """Thanos query over every cluster of the scope (the one list that grows with the fleet), Grafana."""
        targets = [t for member in self.props.scope for t in agents[member].query_targets]
        args = pulumi.Output.all(*targets).apply(
            lambda endpoints: [
                "query",
                f"--http-address=0.0.0.0:{QUERY_PORT}",
                "--grpc-address=0.0.0.0:10901",
                f"--query.replica-label={REPLICA_LABEL}",
                *(f"--endpoint={e}" for e in endpoints),
            ]
        )
        labels = {"app.kubernetes.io/name": "thanos-query", "app.kubernetes.io/part-of": "thanos"}
        k8s.apps.v1.Deployment(
            f"{self._name}-thanos-query",
            metadata={"name": "thanos-query", "namespace": NAMESPACE, "labels": labels},
            spec={  # pyright: ignore[reportArgumentType]  # the manifest's camelCase keys
                "replicas": 2 if self.props.protect else 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 1001},
                        "containers": [
                            {
                                "name": "thanos-query",
                                "image": THANOS_IMAGE,
                                "args": args,
                                "ports": [
                                    {"name": "http", "containerPort": QUERY_PORT},
                                    {"name": "grpc", "containerPort": 10901},
                                ],
                                "securityContext": RESTRICTED,
                                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
                            }
                        ],
                    },
                },
            },
            opts=self._k8s_opts(depends_on=[self.agent.namespace]),
        )
        k8s.core.v1.Service(
            f"{self._name}-thanos-query",
            metadata={"name": "thanos-query", "namespace": NAMESPACE},
            spec={  # pyright: ignore[reportArgumentType]  # the manifest's camelCase keys
                "selector": labels,
                "ports": [{"name": "http", "port": QUERY_PORT, "targetPort": "http"}],
            },
            opts=self._k8s_opts(depends_on=[self.agent.namespace]),
        )
        self.grafana = self._release("grafana", "grafana", self.grafana_values(), [])

    def grafana_values(self) -> dict[str, Any]:
        datasources: list[dict[str, Any]] = [
            {
                "name": "Thanos",
                "uid": "thanos",
                "type": "prometheus",
                "url": QUERY_URL,
                "access": "proxy",
                "isDefault": True,
            },
            {"name": "Loki", "uid": "loki", "type": "loki", "url": LOKI_URL, "access": "proxy"},
        ]
        if self.tempo is not None:
            datasources.append({"name": "Tempo", "uid": "tempo", "type": "tempo", "url": TEMPO_URL, "access": "proxy"})
        boards = dashboards(self.props.rules)
        return {
            "replicas": 1,
            "datasources": {"datasources.yaml": {"apiVersion": 1, "datasources": datasources}},
            "dashboardProviders": {
                "dashboardproviders.yaml": {
                    "apiVersion": 1,
                    "providers": [
                        {
                            "name": "fleet",
                            "folder": "Fleet",
                            "type": "file",
                            "disableDeletion": True,
                            "editable": False,
                            "options": {"path": "/var/lib/grafana/dashboards/fleet"},
                        }
                    ],
                }
            },
            "dashboards": {"fleet": {key: {"json": dashboard_json(board)} for key, board in boards.items()}},
        }

    def outputs(self) -> TelemetryHubOutputs:
        block = self.props.block
        alerts = block.alerts
        receivers = [*alerts.email, *(["slack"] if alerts.slack_webhook is not None else [])]
        traces = self.stores.get("traces")
        return {
            "scope": list(self.props.scope),
            "grafanaUrl": GRAFANA_URL,
            "queryUrl": QUERY_URL,
            "lokiUrl": LOKI_URL,
            "tempoUrl": TEMPO_URL if self.tempo is not None else None,
            "logsBucket": self.stores["logs"].bucket_name,
            "tracesBucket": traces.bucket_name if traces is not None else None,
            "retentionDays": {
                "metrics": block.metrics.retention_days,
                "logs": block.logs.retention_days,
                **({"traces": block.traces.retention_days} if block.tracing else {}),
            },
            "alertReceivers": receivers,
        }

    def finish(self) -> None:
        self.register_outputs(dict(self.outputs()))


@dataclass
class ObservabilityFleet:
    """Handle on the telemetry of every cluster and every hub."""

    agents: dict[str, ClusterTelemetry]
    hubs: dict[str, TelemetryHub]

    def outputs(self) -> ObservabilityOutputs:
        return {
            "hubs": {name: hub.outputs() for name, hub in self.hubs.items()},
            "clusters": {name: agent.outputs() for name, agent in self.agents.items()},
        }


def rule_inputs(plan: FleetPlan, dns: GlobalDns | None) -> RuleInputs:
    backup, mesh, records = plan.block(BackupConfig), plan.block(MeshConfig), plan.block(DnsConfig)
    provider = mesh.provider if mesh is not None else "none"
    return RuleInputs(
        backup_rpo_minutes=backup.rpo_minutes() if backup is not None else None,
        mesh=MESH_WORKLOADS.get(provider),
        dns_probes=dns is not None,
        drill_period_minutes=backup.drills.period_minutes() if backup is not None and backup.drills else None,
        failover_seconds={r.record.name: failover_seconds(records, r) for r in plan.records} if records else {},
        policy_audit=plan.block(PolicyConfig) is not None,
    )


def drill_metrics_minutes(plan: FleetPlan, cluster: str) -> int | None:
    """How long the collector keeps a restore drill's metrics: two drill periods (None: no drill runs here)."""
    backup = plan.block(BackupConfig)
    drills = backup.drills if backup is not None else None
    if drills is None or not plan.restore_peers.get(cluster):
        return None
    return 2 * drills.period_minutes() + 60


def dns_probes(dns: GlobalDns | None, scope: tuple[str, ...]) -> list[pulumi.Output[str]]:
    """The URLs DNS health-checks for the clusters of a scope (the same port and path as its health checks)."""
    if dns is None:
        return []
    probe = dns.probe
    return [
        dns.addresses[name].apply(lambda a: f"http://{a}:{probe.port}{probe.path}")
        for name in scope
        if name in dns.addresses
    ]


def build_observability(
    plan: FleetPlan, clusters: Mapping[str, ClusterPort], mesh: MeshHandle | None, dns: GlobalDns | None
) -> ObservabilityFleet | None:
    """Create the telemetry of every cluster and the hubs, or None when the block is absent."""
    block = plan.block(ObservabilityConfig)
    if block is None:
        return None
    agents: dict[str, ClusterTelemetry] = {}
    for hub_name, scope in plan.telemetry_scopes.items():
        for name in scope:
            agents[name] = ClusterTelemetry(
                f"{name}-telemetry",
                TelemetryProps(
                    cluster=clusters[name],
                    block=block,
                    hub=hub_name,
                    protect=plan.cluster(name).protect,
                    prefix=plan.prefix,
                    environment=plan.environment,
                ),
            )
            if name != hub_name:
                agents[name].expose(clusters[hub_name])
    inputs = rule_inputs(plan, dns)
    mesh_block = plan.block(MeshConfig)
    provider = mesh_block.provider if mesh_block is not None else None
    # Istio samples at the edge (its Telemetry's randomSamplingPercentage): the collector keeps what comes.
    sampling = None if provider == "istio" else block.traces.sampling_percent
    hubs: dict[str, TelemetryHub] = {}
    for hub_name, scope in plan.telemetry_scopes.items():
        hub = TelemetryHub(
            f"{hub_name}-telemetry-hub",
            HubProps(
                agent=agents[hub_name],
                scope=scope,
                block=block,
                rules=inputs,
                pools={n: tuple(PoolLimit(p.name, p.max_size) for p in plan.cluster(n).spec.node_pools) for n in scope},
                protect=plan.cluster(hub_name).protect,
                prefix=plan.prefix,
            ),
            {n: clusters[n] for n in scope},
        )
        hub.query(agents)
        hubs[hub_name] = hub
        for name in scope:
            agents[name].watch(
                backup=plan.block(BackupConfig) is not None, mesh=provider, policy=plan.block(PolicyConfig) is not None
            )
            agents[name].ship(
                hub,
                sampling=sampling,
                probes=dns_probes(dns, scope) if name == hub_name else [],
                job_metrics_minutes=drill_metrics_minutes(plan, name),
            )
        hub.finish()
    return ObservabilityFleet(agents, hubs)
