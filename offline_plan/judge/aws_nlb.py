"""The inbound rules the AWS cloud provider adds to an EKS cluster's node security group for NLB Services.

A Kubernetes Service of type LoadBalancer annotated `service.beta.kubernetes.io/aws-load-balancer-type: nlb`
is reconciled by the cloud provider in EKS's control plane (kubernetes/cloud-provider-aws, the former
in-tree provider), which creates an NLB with instance targets and opens the nodes' security group to it at
runtime: rules the plan never registers, counted by AWS against the same 60-rule inbound quota. This module
works out which rules those are, as `updateInstanceSecurityGroupsForNLB` does, so that the quota check sees
what the cloud will hold.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from ..values import is_unknown
from .rules import is_map, value_at

# kubernetes/cloud-provider-aws at 63ec440 (2026-07-07):
#   pkg/providers/v1/aws.go EnsureLoadBalancer: one mapping per Service port with a NodePort; source ranges from
#     servicehelpers.GetLoadBalancerSourceRanges, 0.0.0.0/0 when none; the load balancer's subnets, one per regular
#     Availability Zone, from findELBSubnets (or the subnets annotation);
#   buildNLBHealthCheckConfiguration: health checks on the traffic port, on the Service's healthCheckNodePort with
#     externalTrafficPolicy Local, or on the healthcheck-port annotation;
#   pkg/providers/v1/aws_loadbalancer.go updateInstanceSecurityGroupsForNLB: client rules, each NodePort from each
#     source CIDR; health rules, each health-check port from each load balancer subnet CIDR, left out when the client
#     rule is tcp from 0.0.0.0/0 on the same ports; updateInstanceSecurityGroupForNLBMTU: an ICMP type 3 code 4 rule
#     from each client CIDR. A rule the group already holds (same protocol, ports, CIDR) is not added again
#     (IPPermissionSet.Difference).
NLB_RULES_SOURCE = (
    "kubernetes/cloud-provider-aws pkg/providers/v1/aws_loadbalancer.go updateInstanceSecurityGroupsForNLB: each "
    "NodePort from each loadBalancerSourceRanges CIDR (0.0.0.0/0 when none), the health-check ports from each load "
    "balancer subnet CIDR (unless the client rule is tcp from 0.0.0.0/0 on the same ports), an ICMP 3/4 rule from "
    "each client CIDR"
)
TYPE_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type"
INTERNAL_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-internal"
SUBNETS_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-subnets"
EIP_ALLOCATIONS_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-eip-allocations"
HEALTH_PORT_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port"
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/"
TRAFFIC_PORT = "traffic-port"

Rule = tuple[str, Any, Any, str]  # (protocol, from port, to port, source CIDR)


class UnknownValueError(Exception):
    """A value the rules depend on is not known yet (a first preview): the Service is not counted."""


SUBNETS_SOURCE = (
    "kubernetes/cloud-provider-aws pkg/providers/v1/aws.go resolveSubnetNameOrIDs: subnet ids and Name tags of the "
    "VPC, each name or id resolving to exactly one subnet"
)


class SubnetsNotFoundError(ValueError):
    """The subnets annotation names subnets the VPC does not hold once each (the provider's own error)."""

    def __init__(self, wanted: int, found: int):
        super().__init__(f"expected to find {wanted}, but found {found} subnets")


def is_nlb_service(service: Any) -> bool:
    """A Service the cloud provider makes an instance-target NLB for (isNLB; not an nlb-ip/external one, which the
    AWS Load Balancer Controller owns, and not one with a loadBalancerClass, which the provider leaves alone)."""
    spec: object = service.inputs.get("spec") or {}
    annotations: object = value_at(service.inputs, "metadata.annotations") or {}
    return (
        is_map(spec)
        and spec.get("type") == "LoadBalancer"
        and not spec.get("loadBalancerClass")
        and is_map(annotations)
        and annotations.get(TYPE_ANNOTATION) == "nlb"
    )


def is_internal(annotations: dict[str, Any]) -> bool:
    """The internal annotation as EnsureLoadBalancer reads it: any value but "" and "false"."""
    return str(annotations.get(INTERNAL_ANNOTATION, "")) not in ("", "false")


def nlb_rules(service: Any, lb_subnet_cidrs: Callable[[bool, Any], list[str]]) -> set[Rule]:
    """The inbound rules the provider puts on the node group for one NLB Service; raises UnknownValueError.

    `lb_subnet_cidrs(internal, annotation)` gives the CIDRs of the subnets the load balancer is placed in."""
    spec = _known(service.inputs.get("spec"))
    annotations = _known(value_at(service.inputs, "metadata.annotations") or {})
    ports = _known(spec.get("ports") or [])
    traffic: list[Any] = []
    protocol = "tcp"
    for index, port in enumerate(ports):
        node_port = _known(port.get("nodePort"))
        if node_port in (None, 0) and spec.get("allocateLoadBalancerNodePorts") is False:
            continue  # no NodePort: the provider skips the port
        # NodePorts are allocated by the API server, distinct across the cluster: one placeholder per port.
        traffic.append(int(node_port) if node_port else ("nodePort", service.urn, index))
        if str(_known(port.get("protocol") or "TCP")).upper() == "UDP":
            protocol = "udp"
    clients = _client_cidrs(spec, annotations)
    health = _health_ports(service, spec, annotations, traffic)
    rules: set[Rule] = {(protocol, p, p, cidr) for p in traffic for cidr in clients}
    if traffic and not (clients == ["0.0.0.0/0"] and protocol == "tcp" and set(health) == set(traffic)):
        internal = is_internal(annotations)
        subnets = lb_subnet_cidrs(internal, annotations.get(SUBNETS_ANNOTATION))
        rules |= {("tcp", p, p, cidr) for p in health for cidr in subnets}
    if traffic:
        rules |= {("icmp", 3, 4, cidr) for cidr in clients}
    return rules


def _client_cidrs(spec: dict[str, Any], annotations: dict[str, Any]) -> list[str]:
    """GetLoadBalancerSourceRanges: the spec's ranges, else the annotation's, else everyone; IPv4 rules only
    (IPv6 ranges are counted against their own quota)."""
    given = _known(spec.get("loadBalancerSourceRanges") or [])
    if not given:
        text = _known(annotations.get(SOURCE_RANGES_ANNOTATION) or "")
        given = [part.strip() for part in str(text).split(",") if part.strip()]
    cidrs: set[str] = set()
    for value in given or ["0.0.0.0/0"]:
        network = ipaddress.ip_network(str(_known(value)).strip(), strict=False)
        if network.version == 4:
            cidrs.add(str(network))
    return sorted(cidrs)


def _health_ports(service: Any, spec: dict[str, Any], annotations: dict[str, Any], traffic: list[Any]) -> list[Any]:
    port: Any = TRAFFIC_PORT
    if spec.get("externalTrafficPolicy") == "Local":
        port = _known(spec.get("healthCheckNodePort")) or ("healthCheckNodePort", service.urn)
    port = _known(annotations.get(HEALTH_PORT_ANNOTATION, port))
    if port == TRAFFIC_PORT:
        return list(traffic)
    if isinstance(port, int | float) or (isinstance(port, str) and port.isdigit()):
        return [int(port)]
    return [port]


def _known(value: Any) -> Any:
    if is_unknown(value):
        raise UnknownValueError
    return value


def lb_subnets(
    subnets: Iterable[Any],
    cluster_name: str,
    internal: bool,
    is_public: Callable[[Any], bool],
    zone_of: Callable[[Any], str | None],
    regular_zone: Callable[[str], bool],
) -> list[Any]:
    """findELBSubnets: among the VPC's subnets tagged for the cluster (or for no cluster), one per regular
    Availability Zone, public ones only for an internet-facing load balancer; ties go to the subnet with the
    role tag, then the cluster tag, then the lowest subnet id."""
    role = "kubernetes.io/role/internal-elb" if internal else "kubernetes.io/role/elb"
    own = f"{CLUSTER_TAG_PREFIX}{cluster_name}"
    chosen: dict[str, Any] = {}
    for subnet in subnets:
        tags = _known(subnet.inputs.get("tags") or {})
        if own not in tags and any(str(k).startswith(CLUSTER_TAG_PREFIX) for k in tags):
            continue  # another cluster's subnet
        if not internal and not is_public(subnet):
            continue
        zone = zone_of(subnet)
        if zone is None:
            raise UnknownValueError
        if not regular_zone(zone):
            continue  # Local, Wavelength and Outposts zones take no NLB
        rank = (role not in tags, own not in tags, str(_known(subnet.id)))
        if zone not in chosen or rank < chosen[zone][0]:
            chosen[zone] = (rank, subnet)
    return [subnet for _, subnet in (chosen[z] for z in sorted(chosen))]
