"""Fallback north-south entry of a cluster: Traefik behind a cloud load balancer.

Installed by the DNS capability (as a child of its GlobalDns component, deploying through the
cluster's own k8s provider) when the mesh does not provide an ingress gateway. The
LoadBalancer Service is created here (not by the chart) so that Pulumi waits for the cloud to
assign it an address and exposes that address as an output, on a real `pulumi up` as in a plan.

Everything here is one Namespace, one Release and one Service per cluster, changed in place when
the fleet changes: during an outage (`outage.unreachable`) the provider skips their updates
(skipUpdateUnreachable) and nothing new has to be created on an API server that cannot be called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from .charts import chart
from .cluster import ClusterPort, ReadinessProbe, reported

# Chart, repository and pinned version come from the one table of charts (components/charts.py).
TRAEFIK = chart("traefik")
NAMESPACE = "traefik"
RELEASE = "traefik"
SERVICE = f"{RELEASE}-public"
# Pod labels the chart sets: app.kubernetes.io/instance is "<release>-<namespace>".
SELECTOR = {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": f"{RELEASE}-{NAMESPACE}"}
# The public entry serves the internet: every source is admitted on purpose (the honest value, stated so that
# no default of a cloud controller decides it). Route53 and Cloud DNS health checkers come from public ranges too.
PUBLIC_SOURCE_RANGES = ["0.0.0.0/0"]
# The chart's web entrypoint (container port 8000, exposedPort 80 in traefik/chart/values.yaml `ports.web`).
WEB_CONTAINER_PORT = 8000
WEB_PORT = 80
# Traefik's ping endpoint answers 200 while Traefik is up and serving (503 while it shuts down). The chart always
# passes --ping=true on the internal `traefik` entrypoint (templates/_podtemplate.tpl), which is not exposed;
# `--ping.entrypoint=web` serves it on the public web entrypoint instead, reachable through the load balancer
# (https://doc.traefik.io/traefik/reference/install-configuration/observability/healthcheck/ping: ping.entryPoint).
PING_PATH = "/ping"
PING_ARGUMENT = "--ping.entrypoint=web"

MeshProvider = Literal["none", "istio", "linkerd"]
# Linkerd: "Meshing your ingress pods ... allows Linkerd to provide features like L7 metrics and mutual TLS the
# moment the traffic enters the cluster" (https://linkerd.io/2-edge/tasks/using-ingress/). Default mode
# (`enabled`): Traefik picks the endpoints and its proxy keeps that choice, with mTLS to meshed apps. Linkerd
# suggests `ingress` mode for Traefik for per-route L7 features, but that mode routes by Host/l5d-dst-override and
# needs every Ingress to set that header (and strip it from clients: "you must configure it to remove the
# l5d-dst-override header to avoid creating an open relay"), which the platform cannot guarantee for its users.
LINKERD_POD_ANNOTATIONS = {"linkerd.io/inject": "enabled"}
# With `mtls: strict` the cluster-wide default inbound policy is all-authenticated, which refuses the load
# balancer's (unmeshed) connections to the meshed Traefik. "This cluster-wide default can be overridden for
# specific resources by setting the annotation config.linkerd.io/default-inbound-policy on either a pod spec or
# its namespace" (https://linkerd.io/2/reference/authorization-policy/#default-policies): the ingress namespace
# admits the internet, what Traefik sends to the apps stays mTLS-authenticated.
LINKERD_NAMESPACE_ANNOTATIONS = {"config.linkerd.io/default-inbound-policy": "all-unauthenticated"}


# Traefik's ping on the web entrypoint, through the public Service's port 80.
TRAEFIK_PROBE = ReadinessProbe(port=WEB_PORT, path=PING_PATH)


@dataclass(frozen=True)
class IngressControllerArgs:
    """Props of the ingress controller of one cluster."""

    cluster: ClusterPort
    replicas: int = 2
    # The fleet's mesh: with Linkerd the ingress is meshed (see LINKERD_POD_ANNOTATIONS).
    mesh: MeshProvider = "none"
    # What must run before Traefik's pods are created (Linkerd's proxy injector on this cluster).
    mesh_ready: Sequence[pulumi.Resource] = field(default_factory=tuple)


class IngressController(pulumi.ComponentResource):
    """Traefik and its public LoadBalancer Service on one cluster; `address` is the LB hostname or IP."""

    TYPE = "multicluster:ingress:IngressController"

    address: pulumi.Output[str]

    def __init__(self, name: str, args: IngressControllerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        cluster = args.cluster
        self._provider = cluster.k8s_provider
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={
                "name": NAMESPACE,
                "labels": {"app.kubernetes.io/part-of": "multicluster-ingress"},
                "annotations": namespace_annotations(args.mesh),
            },
            opts=self._opts(depends_on=cluster.ready),
        )
        # The public entry DNS answers for: with the cluster's reserved addresses when it has some.
        service_name = cluster.entry_service_name(SERVICE)
        release = k8s.helm.v3.Release(
            f"{name}-traefik",
            name=RELEASE,
            chart=TRAEFIK.name,
            version=TRAEFIK.version,
            repository_opts={"repo": TRAEFIK.repository},
            namespace=namespace.metadata.name,
            values=chart_values(args.replicas, args.mesh, service_name),
            atomic=True,
            timeout=600,
            opts=self._opts(depends_on=[*cluster.ready, *args.mesh_ready, namespace]),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-lb",
            metadata={
                "name": service_name,
                "namespace": namespace.metadata.name,
                "annotations": cluster.entry_annotations(cross_zone=True),
            },
            spec=service_spec(),  # pyright: ignore[reportArgumentType] (camelCase: see service_spec)
            opts=self._opts(depends_on=[release]),
        )
        self.address = self.service.status.apply(load_balancer_address)
        self.register_outputs({"address": self.address})

    def _opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._provider, **kwargs)


def namespace_annotations(mesh: MeshProvider) -> dict[str, str]:
    return dict(LINKERD_NAMESPACE_ANNOTATIONS) if mesh == "linkerd" else {}


def service_spec() -> dict[str, Any]:
    """The Service's spec with the manifest's camelCase keys, which pulumi passes through unchanged (it translates
    only the snake_case names it knows); the SDK types the argument as its snake_case TypedDict alone."""
    return {
        "type": "LoadBalancer",
        # Keeps client source IPs and skips the extra node hop.
        "externalTrafficPolicy": "Local",
        "loadBalancerSourceRanges": list(PUBLIC_SOURCE_RANGES),
        "selector": SELECTOR,
        # Port 80 also carries the DNS health checks (TRAEFIK_PROBE: /ping on the web entrypoint).
        "ports": [
            {"name": "web", "port": WEB_PORT, "targetPort": "web", "protocol": "TCP"},
            {"name": "websecure", "port": 443, "targetPort": "websecure", "protocol": "TCP"},
        ],
    }


def chart_values(replicas: int, mesh: MeshProvider = "none", service: str = SERVICE) -> dict[str, Any]:
    deployment: dict[str, Any] = {
        "replicas": replicas,
        # Ping moves to the web entrypoint (PING_ARGUMENT): the kubelet probes it there too.
        "healthchecksPort": WEB_CONTAINER_PORT,
    }
    if mesh == "linkerd":
        deployment["podAnnotations"] = dict(LINKERD_POD_ANNOTATIONS)
    return {
        "deployment": deployment,
        "additionalArguments": [PING_ARGUMENT],
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        # The public Service is ours (see module docstring).
        "service": {"enabled": False},
        "ingressClass": {"enabled": True, "isDefaultClass": True},
        # Ingress status gets the load balancer's address from our Service (else Argo CD keeps every Ingress
        # Progressing): "It's possible to use it with an external Service using pathOverride" (values.yaml).
        "providers": {
            "kubernetesIngress": {"publishedService": {"enabled": True, "pathOverride": f"{NAMESPACE}/{service}"}}
        },
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": SELECTOR},
            }
        ],
    }


def load_balancer_address(status: k8s.core.v1.outputs.ServiceStatus | None) -> str:
    """The LB hostname (AWS) or IP (GCP) the cloud assigned to the Service."""
    ingress = (status.load_balancer.ingress or []) if status and status.load_balancer else []
    if not ingress:
        raise ValueError("the ingress Service has no load-balancer address yet")
    return reported(ingress[0].hostname or ingress[0].ip, "the ingress Service's load-balancer address")
