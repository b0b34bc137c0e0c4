"""Fallback north-south entry of a cluster: Traefik behind a cloud load balancer.

Installed by the DNS capability (as a child of its GlobalDns component, deploying through the
cluster's own k8s provider) when the mesh does not provide an ingress gateway. The
LoadBalancer Service is created here (not by the chart) so that Pulumi waits for the cloud to
assign it an address and exposes that address as an output, on a real `pulumi up` as in a plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .cluster import KubernetesCluster

# Traefik Proxy v3.7.13; ingress-nginx is retired, Traefik is maintained and needs no CRD-only setup.
TRAEFIK_CHART = "traefik"
TRAEFIK_VERSION = "41.5.0"
TRAEFIK_REPO = "https://traefik.github.io/charts"
NAMESPACE = "traefik"
RELEASE = "traefik"
# Pod labels the chart sets: app.kubernetes.io/instance is "<release>-<namespace>".
SELECTOR = {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": f"{RELEASE}-{NAMESPACE}"}
# In-tree AWS cloud provider: a Network Load Balancer (alias-able, static per-AZ addresses).
AWS_SERVICE_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
}


@dataclass(frozen=True)
class IngressControllerArgs:
    """Props of the ingress controller of one cluster."""

    cluster: KubernetesCluster
    replicas: int = 2


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
            metadata={"name": NAMESPACE, "labels": {"app.kubernetes.io/part-of": "multicluster-ingress"}},
            opts=self._opts(depends_on=cluster.ready),
        )
        release = k8s.helm.v3.Release(
            f"{name}-traefik",
            name=RELEASE,
            chart=TRAEFIK_CHART,
            version=TRAEFIK_VERSION,
            repository_opts={"repo": TRAEFIK_REPO},
            namespace=namespace.metadata.name,
            values=chart_values(args.replicas),
            atomic=True,
            timeout=600,
            opts=self._opts(depends_on=[*cluster.ready, namespace]),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-lb",
            metadata={
                "name": f"{RELEASE}-public",
                "namespace": namespace.metadata.name,
                "annotations": AWS_SERVICE_ANNOTATIONS if cluster.cloud == "aws" else {},
            },
            spec={
                "type": "LoadBalancer",
                # Keeps client source IPs and skips the extra node hop.
                "externalTrafficPolicy": "Local",
                "selector": SELECTOR,
                "ports": [
                    {"name": "web", "port": 80, "targetPort": "web", "protocol": "TCP"},
                    {"name": "websecure", "port": 443, "targetPort": "websecure", "protocol": "TCP"},
                ],
            },
            opts=self._opts(depends_on=[release]),
        )
        self.address = self.service.status.apply(load_balancer_address)
        self.register_outputs({"address": self.address})

    def _opts(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._provider, **kwargs)


def chart_values(replicas: int) -> dict:
    return {
        "deployment": {"replicas": replicas},
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        # The public Service is ours (see module docstring).
        "service": {"enabled": False},
        "ingressClass": {"enabled": True, "isDefaultClass": True},
        "providers": {"kubernetesIngress": {"publishedService": {"enabled": False}}},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": SELECTOR},
            }
        ],
    }


def load_balancer_address(status) -> str:
    """The LB hostname (AWS) or IP (GCP) the cloud assigned to the Service."""
    ingress = (status.load_balancer.ingress or []) if status and status.load_balancer else []
    if not ingress:
        raise ValueError("the ingress Service has no load-balancer address yet")
    return ingress[0].hostname or ingress[0].ip
