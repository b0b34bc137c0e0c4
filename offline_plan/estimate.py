"""Deploy-time estimate: how long a from-scratch `pulumi up` of the plan would take.

The planned dependency graph says what must wait for what; a table of typical creation times
per resource type (sources in docs/performance.md) says how long each step takes. From both:
  - the critical path and its length (`unboundedMinutes`: time with unlimited `--parallel`);
  - a list-scheduling simulation of the engine with `parallelism` concurrent steps
    (`parallelMinutes`), which is what `pulumi up --parallel N` would take;
  - the smallest `--parallel` that keeps the estimate within 20% of unbounded.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from .capture import Plan, PlannedResource

# Pulumi >= 3.100 defaults `--parallel` to 4 x CPUs (pulumi/pulumi#15016); 16 is a 4-vCPU CI runner.
DEFAULT_PARALLELISM = 16
# The estimate with the recommended `--parallel` stays within this fraction of unbounded.
RECOMMENDATION_TOLERANCE = 0.2
CANDIDATE_PARALLELISM = (4, 8, 10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


class CriticalStep(TypedDict):
    """One custom resource on the critical path, as the JSON plan carries it."""

    name: str
    type: str
    urn: str
    startMinute: float
    minutes: float


class Estimate(TypedDict):
    """What `estimate` returns: the plan's `estimates` (see README: offline plan)."""

    parallelism: int
    unboundedMinutes: float
    parallelMinutes: float
    serialMinutes: float
    recommendedParallelism: int
    criticalPath: list[CriticalStep]
    typesWithDefaultTime: list[str]


# Typical minutes from "create requested" to "ready" as the provider waits for it.
# Sources and measurements: docs/performance.md ("Creation times"); tests/test_estimate.py keeps its figures equal.
CREATE_MINUTES: dict[str, float] = {
    # AWS: the long poles are the EKS control plane, node groups, NAT gateways and VPN connections.
    "aws:eks/cluster:Cluster": 13.0,
    "aws:eks/nodeGroup:NodeGroup": 4.0,
    "aws:eks/addon:Addon": 1.0,
    "aws:eks/accessEntry:AccessEntry": 0.1,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": 0.1,
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": 0.1,
    "aws:ec2/natGateway:NatGateway": 2.0,
    "aws:ec2/vpnConnection:VpnConnection": 5.0,
    "aws:ec2/vpnGateway:VpnGateway": 1.0,
    "aws:ec2/vpnGatewayAttachment:VpnGatewayAttachment": 1.0,
    "aws:ec2transitgateway/transitGateway:TransitGateway": 3.0,
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": 1.0,
    "aws:ec2transitgateway/peeringAttachment:PeeringAttachment": 2.0,
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": 0.2,
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": 0.2,
    "aws:ec2/vpc:Vpc": 0.2,
    "aws:ec2/subnet:Subnet": 0.1,
    "aws:ec2/internetGateway:InternetGateway": 0.1,
    "aws:ec2/eip:Eip": 0.05,
    "aws:ec2/routeTable:RouteTable": 0.05,
    "aws:ec2/route:Route": 0.05,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 0.05,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": 0.05,
    "aws:ec2/securityGroup:SecurityGroup": 0.1,
    "aws:ec2/securityGroupRule:SecurityGroupRule": 0.05,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 0.05,
    "aws:ec2/launchTemplate:LaunchTemplate": 0.05,
    "aws:ec2/customerGateway:CustomerGateway": 0.1,
    # IAM is global and eventually consistent: the provider retries for a few seconds.
    "aws:iam/role:Role": 0.1,
    "aws:iam/policy:Policy": 0.1,
    "aws:iam/rolePolicy:RolePolicy": 0.05,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 0.05,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": 0.05,
    "aws:kms/key:Key": 0.1,
    "aws:kms/alias:Alias": 0.05,
    "aws:cloudwatch/logGroup:LogGroup": 0.05,
    "aws:s3/bucket:Bucket": 0.1,
    "aws:s3/bucketVersioning:BucketVersioning": 0.05,
    "aws:s3/bucketPolicy:BucketPolicy": 0.05,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 0.05,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 0.05,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 0.05,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 0.05,
    "aws:lb/loadBalancer:LoadBalancer": 3.0,
    "aws:route53/record:Record": 1.0,
    "aws:route53/zone:Zone": 1.0,
    "aws:route53/healthCheck:HealthCheck": 0.2,
    "aws:acm/certificateValidation:CertificateValidation": 3.0,
    # GCP: regional GKE control plane, node pools, Cloud NAT and HA VPN.
    "gcp:container/cluster:Cluster": 10.0,
    "gcp:container/nodePool:NodePool": 4.0,
    # Enabling an API (serviceusage) is a long-running operation of up to a couple of minutes.
    "gcp:projects/service:Service": 1.0,
    "gcp:projects/iAMMember:IAMMember": 0.2,
    "gcp:serviceaccount/account:Account": 0.1,
    "gcp:kms/keyRing:KeyRing": 0.1,
    "gcp:kms/cryptoKey:CryptoKey": 0.1,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": 0.2,
    "gcp:compute/firewall:Firewall": 0.2,
    "gcp:storage/bucket:Bucket": 0.1,
    "gcp:storage/bucketIAMMember:BucketIAMMember": 0.2,
    "gcp:serviceaccount/iAMMember:IAMMember": 0.2,
    "gcp:projects/iAMCustomRole:IAMCustomRole": 0.1,
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": 0.2,
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": 0.2,
    "gcp:compute/network:Network": 0.4,
    "gcp:compute/subnetwork:Subnetwork": 0.3,
    "gcp:compute/router:Router": 0.3,
    "gcp:compute/routerNat:RouterNat": 0.5,
    "gcp:compute/haVpnGateway:HaVpnGateway": 0.3,
    "gcp:compute/vpnTunnel:VpnTunnel": 1.0,
    "gcp:compute/routerInterface:RouterInterface": 0.2,
    "gcp:compute/routerPeer:RouterPeer": 0.3,
    "gcp:compute/networkPeering:NetworkPeering": 0.5,
    "gcp:dns/managedZone:ManagedZone": 0.2,
    "gcp:dns/recordSet:RecordSet": 0.2,
    # Kubernetes: Pulumi's await logic waits for workloads to become ready.
    "kubernetes:helm.sh/v3:Release": 3.0,
    "kubernetes:apps/v1:Deployment": 1.0,
    "kubernetes:apps/v1:StatefulSet": 2.0,
    "kubernetes:apps/v1:DaemonSet": 1.0,
    "kubernetes:batch/v1:Job": 1.0,
    "kubernetes:core/v1:Namespace": 0.05,
    "kubernetes:core/v1:Secret": 0.05,
    "kubernetes:core/v1:ConfigMap": 0.05,
    "kubernetes:core/v1:ServiceAccount": 0.05,
    "kubernetes:core/v1:Service": 0.05,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": 0.05,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": 0.05,
    "kubernetes:rbac.authorization.k8s.io/v1:Role": 0.05,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 0.05,
    # TLS keys and certificates are computed locally by the provider.
    "tls:index/privateKey:PrivateKey": 0.0,
    "tls:index/selfSignedCert:SelfSignedCert": 0.0,
    "tls:index/certRequest:CertRequest": 0.0,
    "tls:index/locallySignedCert:LocallySignedCert": 0.0,
}
# Per cloud/package, for types the table does not list: one API call plus the provider's polling.
PACKAGE_MINUTES: dict[str, float] = {
    "aws": 0.1,
    "gcp": 0.2,
    "kubernetes": 0.05,
    "random": 0.0,
    "tls": 0.0,
}
DEFAULT_MINUTES = 0.1
# A Service of type LoadBalancer waits for the cloud load balancer to get an address.
LOAD_BALANCER_SERVICE_MINUTES = 2.0


def create_minutes(resource: PlannedResource) -> float:
    """Typical creation time of one planned resource; components and providers take none."""
    if not resource.custom or resource.type.startswith("pulumi:providers:"):
        return 0.0
    if resource.type == "kubernetes:core/v1:Service" and resource.input("spec.type") == "LoadBalancer":
        return LOAD_BALANCER_SERVICE_MINUTES
    if resource.type in CREATE_MINUTES:
        return CREATE_MINUTES[resource.type]
    return PACKAGE_MINUTES.get(resource.type.split(":", 1)[0], DEFAULT_MINUTES)


@dataclass(frozen=True)
class Graph:
    """Steps (by URN), how long each takes, and what each waits for."""

    minutes: Mapping[str, float]
    predecessors: Mapping[str, tuple[str, ...]]

    @classmethod
    def of_plan(cls, plan: Plan, changed: Collection[str] | None = None) -> Graph:
        """A resource waits for its dependencies, its parent (URN known once registered) and its provider.

        With `changed` (the URNs a change creates, replaces or updates), only those take time: the engine
        steps over an unchanged resource at once ("same"), whatever it waits for, so the estimate is the change's
        own critical path through the fleet's dependency graph. An update is counted as long as a create (a
        Helm upgrade or a node-group rollout is of that order; an in-place tag update is less, so this errs long).
        """
        known = {r.urn for r in plan.resources}
        minutes: dict[str, float] = {}
        predecessors: dict[str, tuple[str, ...]] = {}
        for r in plan.resources:
            waits = {*r.dependencies, r.parent, r.provider_urn}
            predecessors[r.urn] = tuple(sorted(u for u in waits if u in known and u != r.urn))
            minutes[r.urn] = create_minutes(r) if changed is None or r.urn in changed else 0.0
        return cls(minutes, predecessors)

    def topological_order(self) -> list[str]:
        successors = self.successors()
        waiting = {u: len(p) for u, p in self.predecessors.items()}
        ready = sorted(u for u, n in waiting.items() if n == 0)
        order: list[str] = []
        while ready:
            node = ready.pop()
            order.append(node)
            for s in successors[node]:
                waiting[s] -= 1
                if waiting[s] == 0:
                    ready.append(s)
        if len(order) != len(self.minutes):
            raise ValueError(f"dependency cycle among {sorted(set(self.minutes) - set(order))[:5]}")
        return order

    def successors(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {u: [] for u in self.minutes}
        for node, preds in self.predecessors.items():
            for p in preds:
                result[p].append(node)
        return result


def critical_path(graph: Graph) -> tuple[float, list[str]]:
    """Length of the longest chain of waits, and that chain (first step first)."""
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    # Ties go to the lexically smallest URN, so the reported path is deterministic.
    rank = {u: -i for i, u in enumerate(sorted(graph.minutes))}
    for node in graph.topological_order():
        latest = max(graph.predecessors[node], key=lambda p: (finish[p], rank[p]), default=None)
        via[node] = latest
        finish[node] = (finish[latest] if latest else 0.0) + graph.minutes[node]
    if not finish:
        return 0.0, []
    end = max(finish, key=lambda u: (finish[u], rank[u]))
    path: list[str] = []
    node: str | None = end
    while node is not None:
        path.append(node)
        node = via[node]
    return finish[end], path[::-1]


def schedule(graph: Graph, parallelism: int) -> float:
    """Makespan when at most `parallelism` steps run at once, started in the order they become ready.

    This is how the engine behaves: a step starts as soon as what it waits for is done and a
    slot is free; it does not prioritise the critical path. Zero-time steps (components,
    providers) take no slot.
    """
    if parallelism < 1:
        raise ValueError(f"parallelism must be >= 1 (got {parallelism})")
    successors = graph.successors()
    waiting = {u: len(p) for u, p in graph.predecessors.items()}
    ready: list[tuple[float, str]] = []
    running: list[tuple[float, str]] = []
    done = 0
    now = 0.0

    def complete(nodes: Iterable[str], at: float) -> int:
        count, stack = 0, list(nodes)
        while stack:
            node = stack.pop()
            count += 1
            for s in successors[node]:
                waiting[s] -= 1
                if waiting[s] == 0:
                    if graph.minutes[s] == 0:
                        stack.append(s)
                    else:
                        heapq.heappush(ready, (at, s))
        return count

    roots = [u for u, n in waiting.items() if n == 0]
    for root in roots:
        if graph.minutes[root] > 0:
            heapq.heappush(ready, (0.0, root))
    done += complete((r for r in roots if graph.minutes[r] == 0), 0.0)
    while ready or running:
        while ready and len(running) < parallelism:
            _, node = heapq.heappop(ready)
            heapq.heappush(running, (now + graph.minutes[node], node))
        now, node = heapq.heappop(running)
        finished = [node]
        while running and running[0][0] == now:
            finished.append(heapq.heappop(running)[1])
        done += complete(finished, now)
    if done != len(graph.minutes):
        raise ValueError("dependency cycle: some steps never became ready")
    return now


def recommended_parallelism(graph: Graph, unbounded: float) -> int:
    """Smallest candidate `--parallel` whose estimate is within the tolerance of unbounded."""
    steps = sum(1 for m in graph.minutes.values() if m > 0)
    for candidate in CANDIDATE_PARALLELISM:
        if candidate >= steps or schedule(graph, candidate) <= unbounded * (1 + RECOMMENDATION_TOLERANCE):
            return candidate
    return max(steps, CANDIDATE_PARALLELISM[-1])


def change_urns(diff: Mapping[str, Any]) -> set[str]:
    """What a diff (offline_plan.diff) creates or updates: what the engine spends time on (an aliased rename
    alone is a "same" step; deletions are left out: they run after the rest and take seconds for most types)."""
    return {entry["urn"] for key in ("create", "update") for entry in diff.get(key, [])}


def estimate(plan: Plan, parallelism: int = DEFAULT_PARALLELISM, changed: Collection[str] | None = None) -> Estimate:
    """Critical path and estimated minutes of a from-scratch `pulumi up` (see module docstring), or, with
    `changed`, of a `pulumi up` that makes only those changes (Graph.of_plan)."""
    graph = Graph.of_plan(plan, changed)
    unbounded, path = critical_path(graph)
    by_urn = {r.urn: r for r in plan.resources}
    steps: list[CriticalStep] = []
    start = 0.0
    for urn in path:
        resource = by_urn[urn]
        if resource.custom:
            minutes = graph.minutes[urn]
            steps.append(
                {
                    "name": resource.name,
                    "type": resource.type,
                    "urn": urn,
                    "startMinute": _round(start),
                    "minutes": minutes,
                }
            )
            start += minutes
    unknown = sorted(
        {
            r.type
            for r in plan.resources
            if r.custom and not r.type.startswith("pulumi:") and r.type not in CREATE_MINUTES
        }
    )
    return {
        "parallelism": parallelism,
        "unboundedMinutes": _round(unbounded),
        "parallelMinutes": _round(schedule(graph, parallelism)),
        "serialMinutes": _round(sum(graph.minutes.values())),
        "recommendedParallelism": recommended_parallelism(graph, unbounded),
        "criticalPath": steps,
        "typesWithDefaultTime": unknown,
    }


def _round(minutes: float) -> float:
    return round(minutes, 1)
