"""Monthly cost estimate of a plan: what the fleet's resources cost at list prices, per cluster and capability.

Read from the planned resources (what `pulumi up` would create), not from the config: control planes, nodes by
machine type and count, their disks, NAT gateways, public IPv4 addresses, load balancers, VPN tunnels and
attachments, KMS keys, DNS zones and health checks. Usage-priced items (data processed, transfer, storage in
buckets, requests, logs) depend on traffic and are left out; the estimate is a floor, stated as such.

PRICES: on-demand list prices in USD, taken from the providers' pricing pages (below) as published in 2025,
for us-east-1 and us-central1; other regions usually cost up to ~20% more and are not modelled. SPOT_FACTOR stands
for the spot discount, which varies by hour and zone. Re-read the pages before relying on a figure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from .capture import Plan, PlannedResource
from .owners import cluster_owners
from .values import is_dict

HOURS_PER_MONTH = 730  # AWS and Google price monthly figures at 730 hours
PRICES_DATE = "2025"
PRICES_SOURCE = (
    "list prices, USD, us-east-1 / us-central1: aws.amazon.com/eks/pricing, aws.amazon.com/ec2/pricing/on-demand, "
    "aws.amazon.com/ebs/pricing, aws.amazon.com/vpc/pricing (NAT gateway, public IPv4), "
    "aws.amazon.com/elasticloadbalancing/pricing, aws.amazon.com/vpn/pricing, aws.amazon.com/transit-gateway/pricing, "
    "aws.amazon.com/kms/pricing, aws.amazon.com/route53/pricing; cloud.google.com/kubernetes-engine/pricing, "
    "cloud.google.com/compute/all-pricing (VM instances, disks), cloud.google.com/nat/pricing, "
    "cloud.google.com/vpc/network-pricing (forwarding rules), cloud.google.com/network-connectivity/docs/vpn/pricing, "
    "cloud.google.com/kms/pricing, cloud.google.com/dns/pricing"
)
SPOT_FACTOR = 0.35  # spot / preemptible capacity at about 65% off on-demand (it varies)

# Per hour.
EKS_CONTROL_PLANE = {"STANDARD": 0.10, "EXTENDED": 0.60}
GKE_CLUSTER_FEE = 0.10  # GKE Standard, per cluster (the free tier covers one zonal cluster; these are regional)
AWS_NAT_GATEWAY = 0.045
AWS_PUBLIC_IPV4 = 0.005
AWS_NLB = 0.0225
AWS_VPN_CONNECTION = 0.05
AWS_TGW_ATTACHMENT = 0.05
GCP_VPN_TUNNEL = 0.05
GCP_NAT_PER_VM = 0.0014  # Cloud NAT: per VM-hour of the VMs using the gateway, up to 32 VMs
GCP_NAT_VM_CAP = 32
GCP_EXTERNAL_IPV4 = 0.005  # a static external IPv4 address in use (the NAT gateway's)
GCP_FORWARDING_RULE = 0.025
# Per month.
AWS_KMS_KEY = 1.0
GCP_KMS_KEY = 0.06
ROUTE53_ZONE = 0.50
ROUTE53_HEALTH_CHECK = 0.50  # an AWS endpoint (Elastic IPs count as AWS), and a calculated check
ROUTE53_LATENCY_MEASUREMENT = 1.00  # optional feature, per check
CLOUD_DNS_ZONE = 0.20
EBS_GP3_GB = 0.08
GCP_PD_BALANCED_GB = 0.10
GCP_PD_STANDARD_GB = 0.04
# Per hour, by machine type.
EC2: dict[str, float] = {
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
    "m6i.large": 0.096,
    "m6i.xlarge": 0.192,
    "m6i.2xlarge": 0.384,
    "m7i.large": 0.1008,
    "m7i.xlarge": 0.2016,
    "m7i.2xlarge": 0.4032,
    "m7i.4xlarge": 0.8064,
    "c7i.large": 0.0893,
    "c7i.xlarge": 0.1785,
    "r7i.large": 0.1323,
    "r7i.xlarge": 0.2646,
}
GCE: dict[str, float] = {
    "e2-standard-2": 0.067006,
    "e2-standard-4": 0.134012,
    "e2-standard-8": 0.268024,
    "n2-standard-2": 0.097118,
    "n2-standard-4": 0.194236,
    "n2-standard-8": 0.388472,
    "n2-standard-16": 0.776944,
    "c3-standard-4": 0.201608,
}
GCP_REGION_ZONES = 3  # a regional node pool without nodeLocations spans the region's three zones
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


class CostItem(TypedDict):
    urn: str
    what: str
    cluster: str | None
    capability: str
    monthly: float


class CostEstimate(TypedDict):
    """The plan's `costEstimate`."""

    currency: str
    monthly: float
    perCluster: dict[str, float]
    perCapability: dict[str, float]
    items: list[CostItem]
    unpriced: list[str]
    excluded: str
    source: str
    pricesDate: str
    budget: dict[str, Any] | None


@dataclass(frozen=True)
class Priced:
    what: str
    monthly: float


Pricer = Callable[[PlannedResource, "Context"], Iterator[Priced]]
PRICERS: dict[str, Pricer] = {}


@dataclass
class Context:
    plan: Plan
    unpriced: set[str]
    by_urn: Mapping[str, PlannedResource]
    owner: Callable[[PlannedResource], str | None]
    gke_nodes: dict[str, float]  # cluster -> its GKE nodes (what Cloud NAT is charged per)


def priced(*types: str) -> Callable[[Pricer], Pricer]:
    def register(fn: Pricer) -> Pricer:
        for type_ in types:
            PRICERS[type_] = fn
        return fn

    return register


def hourly(what: str, rate: float, count: float = 1) -> Priced:
    return Priced(what, rate * HOURS_PER_MONTH * count)


def _number(value: Any, default: float = 0) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


@priced("aws:eks/cluster:Cluster")
def _eks(r: PlannedResource, _: Context) -> Iterator[Priced]:
    policy: Any = r.inputs.get("upgradePolicy") or {}
    support = str(policy.get("supportType") or "STANDARD")
    yield hourly(f"EKS control plane ({support.lower()} support)", EKS_CONTROL_PLANE.get(support, 0.10))


@priced("aws:eks/nodeGroup:NodeGroup")
def _node_group(r: PlannedResource, context: Context) -> Iterator[Priced]:
    scaling: Any = r.inputs.get("scalingConfig") or {}
    count = _number(scaling.get("desiredSize"))
    types: Any = r.inputs.get("instanceTypes") or []
    kind = str(types[0]) if types else "?"
    spot = r.inputs.get("capacityType") == "SPOT"
    rate = EC2.get(kind)
    if rate is None:
        context.unpriced.add(f"EC2 {kind}")
        return
    yield hourly(f"{count:g} x {kind}{' (spot)' if spot else ''}", rate * (SPOT_FACTOR if spot else 1), count)
    # The node group's launch template, by its dependency (its id is unknown in a first preview).
    templates = [context.by_urn.get(urn) for urn in r.dependencies]
    template = next((t for t in templates if t is not None and t.type == LAUNCH_TEMPLATE), None)
    mappings: Any = (template.inputs.get("blockDeviceMappings") or []) if template is not None else []
    for mapping in mappings:
        ebs: Any = mapping.get("ebs") or {}
        size = _number(ebs.get("volumeSize"))
        if size:
            yield Priced(f"{count:g} x {size:g} GB gp3", size * EBS_GP3_GB * count)


@priced("gcp:container/cluster:Cluster")
def _gke(r: PlannedResource, _: Context) -> Iterator[Priced]:
    yield hourly("GKE cluster management", GKE_CLUSTER_FEE)


def gke_pool_nodes(pool: PlannedResource) -> float:
    """A regional node pool's nodes: its per-zone count times its zones."""
    locations: Any = pool.inputs.get("nodeLocations") or []
    zones = len(locations) or GCP_REGION_ZONES
    return _number(pool.inputs.get("initialNodeCount") or pool.inputs.get("nodeCount")) * zones


@priced("gcp:container/nodePool:NodePool")
def _node_pool(r: PlannedResource, context: Context) -> Iterator[Priced]:
    config: Any = r.inputs.get("nodeConfig") or {}
    kind = str(config.get("machineType") or "?")
    count = gke_pool_nodes(r)
    spot = bool(config.get("spot") or config.get("preemptible"))
    rate = GCE.get(kind)
    if rate is None:
        context.unpriced.add(f"Compute Engine {kind}")
        return
    yield hourly(f"{count:g} x {kind}{' (spot)' if spot else ''}", rate * (SPOT_FACTOR if spot else 1), count)
    size = _number(config.get("diskSizeGb"), 100)
    per_gb = GCP_PD_STANDARD_GB if config.get("diskType") == "pd-standard" else GCP_PD_BALANCED_GB
    yield Priced(f"{count:g} x {size:g} GB {config.get('diskType') or 'pd-balanced'}", size * per_gb * count)


@priced("gcp:compute/routerNat:RouterNat")
def _cloud_nat(r: PlannedResource, context: Context) -> Iterator[Priced]:
    vms = min(context.gke_nodes.get(context.owner(r) or "", 0.0), GCP_NAT_VM_CAP)
    yield hourly(f"Cloud NAT gateway ({vms:g} VMs)", GCP_NAT_PER_VM, vms)


@priced("gcp:compute/address:Address")
def _address(r: PlannedResource, _: Context) -> Iterator[Priced]:
    if r.inputs.get("addressType", "EXTERNAL") == "EXTERNAL":
        yield hourly("static external IPv4 address", GCP_EXTERNAL_IPV4)


@priced("aws:route53/healthCheck:HealthCheck")
def _check(r: PlannedResource, _: Context) -> Iterator[Priced]:
    yield Priced("Route 53 health check", ROUTE53_HEALTH_CHECK)
    if r.inputs.get("measureLatency") is True:
        yield Priced("Route 53 latency measurement", ROUTE53_LATENCY_MEASUREMENT)


@priced("kubernetes:core/v1:Service")
def _load_balancer(r: PlannedResource, context: Context) -> Iterator[Priced]:
    """A LoadBalancer Service: an NLB on EKS (its annotations say nlb), a forwarding rule on GKE."""
    spec: Any = r.inputs.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return
    metadata: Any = r.inputs.get("metadata") or {}
    annotations: Any = metadata.get("annotations") or {}
    if annotations.get("service.beta.kubernetes.io/aws-load-balancer-type") == "nlb":
        yield hourly("Network Load Balancer", AWS_NLB)
    else:
        yield hourly("forwarding rule (load balancer)", GCP_FORWARDING_RULE)


# Resources with one fixed price each: type -> (what, USD per hour, USD per month). Buckets are listed at no cost:
# they bill for what they store and serve, which the plan cannot know (their keys are priced on their own).
FIXED: dict[str, tuple[str, float, float]] = {
    "aws:ec2/natGateway:NatGateway": ("NAT gateway", AWS_NAT_GATEWAY, 0.0),
    "aws:ec2/eip:Eip": ("public IPv4 address", AWS_PUBLIC_IPV4, 0.0),
    "aws:ec2/vpnConnection:VpnConnection": ("Site-to-Site VPN connection", AWS_VPN_CONNECTION, 0.0),
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": ("transit gateway attachment", AWS_TGW_ATTACHMENT, 0.0),
    "aws:ec2transitgateway/peeringAttachment:PeeringAttachment": (
        "transit gateway attachment",
        AWS_TGW_ATTACHMENT,
        0.0,
    ),
    "gcp:compute/vPNTunnel:VPNTunnel": ("HA VPN tunnel", GCP_VPN_TUNNEL, 0.0),
    "aws:kms/key:Key": ("KMS key", 0.0, AWS_KMS_KEY),
    "gcp:kms/cryptoKey:CryptoKey": ("Cloud KMS key version", 0.0, GCP_KMS_KEY),
    "aws:route53/zone:Zone": ("Route 53 hosted zone", 0.0, ROUTE53_ZONE),
    "gcp:dns/managedZone:ManagedZone": ("Cloud DNS zone", 0.0, CLOUD_DNS_ZONE),
    "aws:s3/bucket:Bucket": ("bucket (storage and requests billed by use)", 0.0, 0.0),
    "gcp:storage/bucket:Bucket": ("bucket (storage and requests billed by use)", 0.0, 0.0),
}


def _fixed(r: PlannedResource, _: Context) -> Iterator[Priced]:
    what, per_hour, per_month = FIXED[r.type]
    yield Priced(what, per_hour * HOURS_PER_MONTH + per_month)


for _type in FIXED:
    PRICERS[_type] = _fixed


def capability_of(plan: Plan) -> Callable[[PlannedResource], str]:
    """The capability a resource belongs to: the module of its outermost component (`multicluster:<module>:...`),
    `clusters` for what the cluster components hold."""
    parents = {r.urn: r.parent for r in plan.resources}
    types = {r.urn: r.type for r in plan.resources}

    def capability(resource: PlannedResource) -> str:
        module = None
        urn: str | None = resource.urn
        while urn is not None:
            type_ = types.get(urn, "")
            if type_.startswith("multicluster:"):
                module = type_.split(":")[1]
            urn = parents.get(urn)
        if module in (None, "eks", "gke"):
            return "clusters"
        return module

    return capability


def estimate_cost(plan: Plan) -> CostEstimate:
    owner, capability = cluster_owners(plan), capability_of(plan)
    nodes: dict[str, float] = defaultdict(float)
    for pool in plan.resources:
        if pool.type == "gcp:container/nodePool:NodePool":
            nodes[owner(pool) or ""] += gke_pool_nodes(pool)
    context = Context(plan, set(), {r.urn: r for r in plan.resources}, owner, dict(nodes))
    items: list[CostItem] = []
    for resource in plan.resources:
        pricer = PRICERS.get(resource.type)
        if pricer is None or not resource.custom:
            continue
        for found in pricer(resource, context):
            items.append(
                {
                    "urn": resource.urn,
                    "what": found.what,
                    "cluster": owner(resource),
                    "capability": capability(resource),
                    "monthly": round(found.monthly, 2),
                }
            )
    per_cluster: dict[str, float] = defaultdict(float)
    per_capability: dict[str, float] = defaultdict(float)
    for item in items:
        per_cluster[item["cluster"] or "fleet"] += item["monthly"]
        per_capability[item["capability"]] += item["monthly"]
    total = round(sum(i["monthly"] for i in items), 2)
    return {
        "currency": "USD",
        "monthly": total,
        "perCluster": {k: round(v, 2) for k, v in sorted(per_cluster.items())},
        "perCapability": {k: round(v, 2) for k, v in sorted(per_capability.items())},
        "items": items,
        "unpriced": sorted(context.unpriced),
        "excluded": "usage: data processed and transferred, bucket storage, requests, logs",
        "source": PRICES_SOURCE,
        "pricesDate": PRICES_DATE,
        "budget": budget_comparison(plan, total),
    }


def budget_comparison(plan: Plan, total: float) -> dict[str, Any] | None:
    """The estimate against multicluster:cost.monthlyBudget (from the plan's outputs), when there is one in USD."""
    cost: Any = plan.outputs.get("cost")
    budget: Any = cost.get("monthlyBudget") if is_dict(cost) else None
    if not is_dict(budget) or budget.get("currency") != "USD":
        return None
    amount = float(budget["amount"])
    return {"amount": amount, "currency": "USD", "exceeded": total > amount}
