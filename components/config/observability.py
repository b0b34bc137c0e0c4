"""Config block `multicluster:observability`: metrics, logs, traces and alerts of the fleet, one hub per scope.

A hub is a cluster of the fleet that runs the query and storage layer (Thanos query, Loki, Tempo), Grafana and
the alerting (Thanos ruler, Alertmanager). In a replicated fleet one hub serves every cluster; in a partitioned
one each residency has its own hub, inside it, and serves only its residency's clusters: no metric, log or trace
of a residency is stored, queried or shipped outside its regions. Telemetry travels over the fleet's private
links only, so every cluster of a scope must be linked to its hub (multicluster:connectivity).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field

from .base import UNDECRYPTED, Issue, Model, Undecrypted, format_path
from .fleetview import BlockRules
from .needs import FleetPort, Needs

if TYPE_CHECKING:
    from .fleetview import FleetView, PlannedFleet

# Ports of the telemetry paths between a cluster and its hub (opened over the links by connectivity):
# the hub's Thanos query calls each cluster's Thanos sidecar and store gateway (StoreAPI gRPC, thanos.io
# "Sidecar"/"Store" --grpc-address, 10901 by default; the store gateway listens on 10903 here to keep the two apart),
# and each cluster pushes logs to the hub's Loki (HTTP 3100, grafana.com/docs/loki "Configure Loki": server
# http_listen_port) and traces to the hub's Tempo (OTLP gRPC 4317, opentelemetry.io "OTLP Specification").
THANOS_SIDECAR = FleetPort("thanos-sidecar", 10901)
THANOS_STORE = FleetPort("thanos-store", 10903)
LOKI_PUSH = FleetPort("loki-push", 3100)
OTLP_GRPC = FleetPort("otlp-grpc", 4317)
# Where every cluster's workloads and mesh proxies send traces: its own collector (components/observability.py).
COLLECTOR_SERVICE = "otel-collector.monitoring.svc.cluster.local"
COLLECTOR_PORT = OTLP_GRPC.port
# Where in-cluster jobs (the restore drills) send their metrics: the collector's OTLP/HTTP receiver.
COLLECTOR_METRICS_URL = "http://otel-collector.monitoring.svc.cluster.local:4318/v1/metrics"
QUERIED_PORTS = (THANOS_SIDECAR, THANOS_STORE)  # a cluster opens these to its hub
PUSHED_PORTS = (LOKI_PUSH, OTLP_GRPC)  # the hub opens these to its clusters

# An addr-spec as far as Alertmanager's `to` needs it (net/mail ParseAddress accepts more; nothing here needs it).
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# Alertmanager's smarthost: host:port (config.HostPort, prometheus/alertmanager config/config.go).
HOST_PORT = re.compile(r"^[A-Za-z0-9.-]+:\d{1,5}$")
SLACK_WEBHOOK = re.compile(r"^https://hooks\.slack\.com/")


def email_address(value: str) -> str:
    if not EMAIL.match(value):
        raise ValueError(f"'{value}' is not an email address (e.g. oncall@acme.example)")
    return value


def host_port(value: str) -> str:
    if not HOST_PORT.match(value) or not 0 < int(value.rsplit(":", 1)[1]) < 65536:
        raise ValueError(f"'{value}' is not host:port (e.g. smtp.acme.example:587)")
    return value


def secret_webhook(value: Any) -> str | Undecrypted:
    """The Slack webhook URL as the engine passes it (plain text of a secret), or UNDECRYPTED offline."""
    if isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str):  # pyright: ignore[reportUnknownArgumentType]
        return UNDECRYPTED
    if isinstance(value, str) and SLACK_WEBHOOK.match(value):
        return value
    # Never echo the value: it is a credential.
    raise ValueError(
        "must be a Slack incoming-webhook URL (https://hooks.slack.com/...) set as a Pulumi secret: "
        "pulumi config set --secret --path 'observability.alerts.slackWebhook' <url>"
    )


def secret_password(value: Any) -> str | Undecrypted:
    if isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str):  # pyright: ignore[reportUnknownArgumentType]
        return UNDECRYPTED
    if isinstance(value, str) and value:
        return value
    raise ValueError(
        "must be the SMTP password set as a Pulumi secret: "
        "pulumi config set --secret --path 'observability.alerts.smtp.password' <password>"
    )


Email = Annotated[str, AfterValidator(email_address)]


class MetricsConfig(Model):
    retention_days: int = Field(
        default=30, ge=1, le=3650, description="Days metrics are kept in object storage (Thanos compactor)."
    )


class LogsConfig(Model):
    retention_days: int = Field(default=14, ge=1, le=3650, description="Days logs are kept (Loki's compactor).")


class TracesConfig(Model):
    sampling_percent: float = Field(
        default=10, ge=0, le=100, description="Share of traces kept (head sampling); 0 turns tracing off."
    )
    retention_days: int = Field(default=7, ge=1, le=3650, description="Days traces are kept (Tempo's compactor).")


class SmtpConfig(Model):
    """Where Alertmanager sends mail: it refuses an email receiver without a smarthost and a sender."""

    smarthost: Annotated[str, AfterValidator(host_port)] = Field(description="host:port of the SMTP relay.")
    sender: Email = Field(alias="from", description="The From address of alert mail.")
    username: str | None = Field(default=None, description="SMTP AUTH user, if the relay asks for one.")
    password: Annotated[Any, AfterValidator(secret_password)] | None = Field(
        default=None, repr=False, description="SMTP AUTH password, a Pulumi secret."
    )


class AlertsConfig(Model):
    email: list[Email] = Field(default_factory=list, description="Who receives alert mail.")
    smtp: SmtpConfig | None = Field(default=None, description="The relay alert mail goes through (email only).")
    slack_webhook: Annotated[Any, AfterValidator(secret_webhook)] | None = Field(
        default=None, repr=False, description="Slack incoming-webhook URL, a Pulumi secret: never in chart values."
    )


class ObservabilityConfig(Model):
    """`multicluster:observability`: metrics, logs and traces of every cluster, queried and alerted on its hub."""

    hub: str | None = Field(default=None, description="replicated: the cluster running the query/storage layer.")
    hubs: dict[str, str] | None = Field(default=None, description="partitioned: residency -> its hub cluster.")
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    traces: TracesConfig = Field(default_factory=TracesConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)

    @property
    def tracing(self) -> bool:
        return self.traces.sampling_percent > 0


def telemetry_scopes(config: FleetView) -> dict[str, tuple[str, ...]]:
    """Hub -> the clusters whose telemetry it stores and queries (itself included). Hubs that are not clusters
    of the fleet are left out (the checks report them; other blocks' checks still ask for the needs)."""
    block = config.block(ObservabilityConfig)
    if block is None:
        return {}
    names = {c.name for c in config.clusters}
    if config.topology == "partitioned":
        return {
            hub: tuple(c.name for c in config.clusters if c.residency == residency)
            for residency, hub in sorted((block.hubs or {}).items())
            if hub in names
        }
    if block.hub not in names:
        return {}
    return {block.hub: tuple(c.name for c in config.clusters)}


def needs(config: FleetView) -> Needs:
    """The hub queries each cluster of its scope (Thanos StoreAPI); each cluster pushes logs and traces to it."""
    ports: dict[tuple[str, str], tuple[FleetPort, ...]] = {}
    for hub, members in telemetry_scopes(config).items():
        for cluster in members:
            if cluster != hub:
                ports[(cluster, hub)] = QUERIED_PORTS
                ports[(hub, cluster)] = PUSHED_PORTS
    return Needs(ports=ports)


def check(config: FleetView) -> list[Issue]:
    """Hubs that are clusters of the fleet (one per residency, inside it, when partitioned); mail receivers with
    a relay. That each hub is linked to the clusters it serves is judged on the plan (plan_check)."""
    block = config.block(ObservabilityConfig)
    if block is None:
        return []
    return _hub_issues(config, block) + _alert_issues(block)


def plan_check(config: FleetView, plan: PlannedFleet) -> list[Issue]:
    """Each hub is linked to every cluster it serves: telemetry travels over the planned links only."""
    block = config.block(ObservabilityConfig)
    assert block is not None  # run for the blocks present
    issues: list[Issue] = []
    for hub, members in plan.telemetry_scopes.items():
        unlinked = [c for c in members if c != hub and frozenset((c, hub)) not in plan.network.connected]
        if unlinked:
            at = ("observability", "hub") if block.hub is not None else ("observability", "hubs")
            issues.append(
                Issue(
                    format_path(at),
                    f"'{hub}' is not linked to {', '.join(unlinked)} "
                    f"(multicluster:connectivity.mode is {config.connectivity.mode}): telemetry "
                    "travels over the fleet's private links only",
                )
            )
    return issues


def _hub_issues(config: FleetView, block: ObservabilityConfig) -> list[Issue]:
    names = [c.name for c in config.clusters]
    if config.topology == "partitioned":
        if block.hub is not None:
            return [
                Issue(
                    format_path(("observability", "hub")),
                    "is for replicated fleets: a partitioned fleet "
                    "keeps each residency's telemetry apart, with one hub per residency (use hubs)",
                )
            ]
        return _residency_hub_issues(config, block.hubs)
    if block.hubs is not None:
        return [Issue(format_path(("observability", "hubs")), "applies to the partitioned topology only (use hub)")]
    if block.hub is None:
        return [
            Issue(
                format_path(("observability", "hub")),
                "is required: the cluster that stores and queries the fleet's telemetry",
            )
        ]
    return _hub_cluster_issues(config, ("observability", "hub"), block.hub, names)


def _residency_hub_issues(config: FleetView, hubs: dict[str, str] | None) -> list[Issue]:
    names = [c.name for c in config.clusters]
    if hubs is None:
        return [
            Issue(
                format_path(("observability", "hubs")),
                f"is required in a partitioned fleet: one hub per residency ({', '.join(sorted(config.residencies))})",
            )
        ]
    issues: list[Issue] = []
    for residency in sorted(set(config.residencies) - set(hubs)):
        issues.append(
            Issue(
                format_path(("observability", "hubs")),
                f"has no hub for residency '{residency}': its "
                "clusters' telemetry would have nowhere to go inside the residency",
            )
        )
    for residency, hub in hubs.items():
        at = ("observability", "hubs", residency)
        if residency not in config.residencies:
            issues.append(
                Issue(
                    format_path(at),
                    f"'{residency}' is not a residency (residencies: {', '.join(sorted(config.residencies))})",
                )
            )
            continue
        found = _hub_cluster_issues(config, at, hub, names)
        if found:
            issues += found
            continue
        cluster = config.cluster(hub)
        if cluster.residency != residency:
            issues.append(
                Issue(
                    format_path(at),
                    f"'{hub}' is in residency '{cluster.residency}', not '{residency}': "
                    "a residency's telemetry may not be stored or queried outside it",
                )
            )
    return issues


def _hub_cluster_issues(config: FleetView, at: tuple[str, ...], hub: str, names: list[str]) -> list[Issue]:
    if hub not in names:
        return [Issue(format_path(at), f"'{hub}' is not a cluster of the fleet (clusters: {', '.join(names)})")]
    if hub in config.outage.lost:
        return [
            Issue(
                format_path(at),
                f"'{hub}' is lost (multicluster:outage.lost): move the hub to a surviving cluster of its scope",
            )
        ]
    return []


def _alert_issues(block: ObservabilityConfig) -> list[Issue]:
    alerts = block.alerts
    if alerts.email and alerts.smtp is None:
        # prometheus/alertmanager config/config.go: "no global SMTP smarthost set" / "no global mail from address set"
        return [
            Issue(
                format_path(("observability", "alerts", "smtp")),
                "is required when alerts.email is set: "
                "Alertmanager refuses an email receiver without a smarthost and a From address",
            )
        ]
    if alerts.smtp is not None and not alerts.email:
        return [Issue(format_path(("observability", "alerts", "smtp")), "is set but alerts.email lists nobody")]
    return []


# Declared by the `multicluster:observability` field of StackConfig: what validation and the fleet's needs call.
OBSERVABILITY_RULES = BlockRules(check, needs, plan_check)
