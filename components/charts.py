"""Every Helm chart the program installs: name, repository and the version pinned by default.

The one table of charts: components take their chart and repository from here, config blocks their
default versions, and the offline plan's judge checks every planned release against it (and, when the
upstream data is present, that the version is published and the values pass the chart's schema).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    """One chart of one repository."""

    name: str  # the chart's name in its repository
    repository: str
    version: str  # the version pinned when the config does not choose one
    # Where the published versions and the chart's values/schema are listed in ../shared/upstream/.
    upstream_versions: str
    upstream_dir: str | None = None
    # Why this chart, or how its version relates to the application it installs.
    note: str = ""


ISTIO_REPOSITORY = "https://istio-release.storage.googleapis.com/charts"
ISTIO_VERSIONS = "istio (base, istiod, gateway)"
LINKERD_REPOSITORY = "https://helm.linkerd.io/edge"
GRAFANA_COMMUNITY = "https://grafana-community.github.io/helm-charts"
LINKERD_VERSIONS = "linkerd edge (linkerd-crds, linkerd-control-plane, linkerd-multicluster)"

CHARTS: dict[str, Chart] = {
    chart.name: chart
    for chart in (
        Chart("argo-cd", "https://argoproj.github.io/argo-helm", "10.1.1", "argo-cd", "argocd/chart", "Argo CD v3.4.4"),
        Chart(
            "velero", "https://vmware-tanzu.github.io/helm-charts", "12.1.0", "velero", "velero/chart", "Velero 1.18.1"
        ),
        Chart("base", ISTIO_REPOSITORY, "1.30.3", ISTIO_VERSIONS, "istio/charts/base"),
        Chart("istiod", ISTIO_REPOSITORY, "1.30.3", ISTIO_VERSIONS, "istio/charts/istiod"),
        Chart("gateway", ISTIO_REPOSITORY, "1.30.3", ISTIO_VERSIONS, "istio/charts/gateway"),
        Chart("linkerd-crds", LINKERD_REPOSITORY, "2026.8.3", LINKERD_VERSIONS, "linkerd/charts/linkerd-crds"),
        Chart(
            "linkerd-control-plane",
            LINKERD_REPOSITORY,
            "2026.8.3",
            LINKERD_VERSIONS,
            "linkerd/charts/linkerd-control-plane",
        ),
        Chart(
            "linkerd-multicluster",
            LINKERD_REPOSITORY,
            "2026.8.3",
            LINKERD_VERSIONS,
            "linkerd/charts/linkerd-multicluster",
        ),
        Chart("traefik", "https://traefik.github.io/charts", "41.3.0", "traefik", "traefik/chart", "Traefik Proxy v3"),
        Chart(
            "kube-prometheus-stack",
            "https://prometheus-community.github.io/helm-charts",
            "88.5.3",
            "kube-prometheus-stack",
            "kube-prometheus-stack/chart",
            "Prometheus operator v0.93.1; its CRDs are the chart's crds sub-chart",
        ),
        # Grafana's charts moved to grafana-community/helm-charts in 2026 (grafana/helm-charts keeps only READMEs).
        Chart("grafana", GRAFANA_COMMUNITY, "12.11.1", "grafana", "grafana/chart", "Grafana 13.2.0"),
        Chart("tempo", GRAFANA_COMMUNITY, "2.2.4", "tempo", "tempo/chart", "Tempo 2.10.8, single binary"),
        # The OSS Loki chart (grafana/loki's own chart is now Grafana Enterprise Logs').
        Chart(
            "loki",
            GRAFANA_COMMUNITY,
            "18.11.0",
            "loki (grafana-community)",
            "loki/chart-community-18.11.0",
            "Loki 3.7.6",
        ),
        Chart(
            "fluent-bit",
            "https://fluent.github.io/helm-charts",
            "0.58.1",
            "fluent-bit",
            "fluent-bit/chart",
            "Fluent Bit 5.1.1",
        ),
        Chart(
            "opentelemetry-collector",
            "https://open-telemetry.github.io/opentelemetry-helm-charts",
            "0.170.0",
            "opentelemetry-collector",
            "opentelemetry-collector/chart",
            "Collector 0.158.0 (contrib image)",
        ),
        Chart(
            "gatekeeper",
            "https://open-policy-agent.github.io/gatekeeper/charts",
            "3.23.0",
            "gatekeeper",
            "gatekeeper/chart",
            "Gatekeeper v3.23.0",
        ),
        Chart(
            "external-secrets",
            "https://charts.external-secrets.io",
            "2.9.0",
            "external-secrets",
            "external-secrets/chart",
            "External Secrets Operator v2.9.0",
        ),
        Chart(
            "opencost",
            "https://opencost.github.io/opencost-helm-chart",
            "2.5.17",
            "opencost",
            "opencost/chart",
            "OpenCost 1.120.1",
        ),
    )
}


def chart(name: str) -> Chart:
    return CHARTS[name]


def find(repository: str, name: str) -> Chart | None:
    """The table's entry for a chart of a repository (None when the program installs a chart it does not list)."""
    found = CHARTS.get(name)
    return found if found is not None and found.repository.rstrip("/") == repository.rstrip("/") else None
