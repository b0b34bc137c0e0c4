"""The fleet's own settings (not a capability's) and `FleetView`, what a config block's rules may read of the fleet.

The blocks (config/mesh.py, config/gitops.py ...) sit below the stack config: their rules are typed against
`FleetView`, which `StackConfig` (config/stack.py) fulfils, and read another block only by its model type
(`fleet.block(AccessConfig)`), so no block module names `StackConfig` and the stack config imports them one way.
`PlannedFleet` is what their plan checks read of the fleet plan (components/fleetplan.py), and `BlockRules` what a
block module declares for its field of StackConfig.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol, TypeVar

from pydantic import AfterValidator, Field

from .base import Issue, Model
from .clusters import ClusterConfig, PrivateAsn, any_cidr, suggest
from .links import Link, Vpn
from .needs import FleetNeeds, Needs
from .regions import AWS_REGIONS, CONTINENTS, any_region

# "Inbound or outbound rules per security group: 60 ... multiplied by the quota for security groups per network
# interface cannot exceed 1,000" (Amazon VPC quotas, https://docs.aws.amazon.com/vpc/latest/userguide/
# amazon-vpc-limits.html); raised per region in Service Quotas (L-0EA8095F).
RULES_PER_GROUP = 60  # inbound rules per security group
SECURITY_GROUP_RULES_QUOTA = "Service Quotas: Amazon VPC 'Inbound or outbound rules per security group' (L-0EA8095F)"

Mode = Literal["full-mesh", "hub-spoke", "none"]
AwsGateway = Literal["virtual-private-gateway", "transit-gateway"]
VGW = "virtual-private-gateway"
TGW = "transit-gateway"


class ConnectivityConfig(Model):
    """`multicluster:connectivity`."""

    mode: Mode = Field(
        default="none", description="full-mesh links every pair, hub-spoke links the hub to each other cluster."
    )
    hub: str | None = Field(default=None, description="hub-spoke only: the name of the hub cluster.")
    hubs: dict[str, str] | None = Field(
        default=None,
        description="hub-spoke, partitioned only (instead of hub): residency -> its hub cluster, inside it; each "
        "cluster is linked to its residency's hub and no link crosses residencies.",
    )
    aws_gateway: AwsGateway = Field(
        default=VGW,
        description="Where the HA VPN tunnels from GKE end on AWS: each EKS VPC's own virtual private gateway "
        "(10 VPN connections each: at most 5 linked GKE clusters), or one transit gateway per AWS region, shared by "
        "the region's EKS clusters. Changing it replaces every HA VPN of the fleet.",
    )
    transit_gateway_asns: dict[str, PrivateAsn] = Field(
        default_factory=dict,
        description="transit-gateway only: Amazon-side ASN of the transit gateway of a region, by region; default: "
        "derived from the region name in the 4-byte private range.",
    )

    def hub_of(self, cluster: ClusterConfig) -> str | None:
        """The hub `cluster` is linked to in hub-spoke (itself when it is one), None in the other modes."""
        if self.mode != "hub-spoke":
            return None
        if self.hubs is not None:
            return self.hubs.get(cluster.residency or "")
        return self.hub


def continent_code(value: str) -> str:
    if value not in CONTINENTS:
        raise ValueError(f"'{value}' is not a continent code (one of {', '.join(CONTINENTS)})")
    return value


def country_code(value: str) -> str:
    if len(value) != 2 or not value.isalpha() or not value.isupper():
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code (e.g. DE)")
    return value


def known_region(value: str) -> str:
    if any_region(value) is None:
        raise ValueError(f"'{value}' is not an AWS or GCP region")
    return value


class Residency(Model):
    """A data-residency zone of a partitioned fleet: where its data lives and whom it serves."""

    regions: list[Annotated[str, AfterValidator(known_region)]] = Field(
        min_length=1, description="AWS and GCP regions allowed to hold this residency's clusters and data."
    )
    continents: list[Annotated[str, AfterValidator(continent_code)]] = Field(
        default_factory=list, description="Continent codes whose users are routed here."
    )
    countries: list[Annotated[str, AfterValidator(country_code)]] = Field(
        default_factory=list, description="ISO country codes whose users are routed here."
    )
    default: bool = Field(default=False, description="Serves users from anywhere not listed; exactly one residency.")


class DeployerConfig(Model):
    """Where `pulumi up` runs: what the API servers must admit (the judge checks every path)."""

    network: str | None = Field(
        default=None,
        description="Name of the cluster whose network the runner is in (a self-hosted runner): it reaches private "
        "API servers over that network and the fleet's links.",
    )
    egress_cidrs: list[Annotated[str, AfterValidator(any_cidr)]] = Field(
        default_factory=list, description="Public addresses the runner leaves from (for public endpoints)."
    )


class OutageConfig(Model):
    """A region is down: deploy the rest of the fleet without its API servers."""

    unreachable: list[str] = Field(
        default_factory=list,
        description="Clusters whose API servers cannot be reached: updates of their Kubernetes resources are "
        "skipped and they keep their state (pulumi-kubernetes skipUpdateUnreachable); nothing else waits for them.",
    )
    lost: list[str] = Field(
        default_factory=list,
        description="Unreachable clusters that will not come back: their Kubernetes resources may leave the state "
        "without being deleted (pulumi-kubernetes deleteUnreachable), so the cluster can be removed.",
    )

    def down(self, cluster: str) -> bool:
        return cluster in self.unreachable or cluster in self.lost


# Amazon VPC quotas: "Elastic IP addresses per Region: 5" (https://docs.aws.amazon.com/vpc/latest/userguide/
# amazon-vpc-limits.html); raised per region in Service Quotas (Amazon EC2, "EC2-VPC Elastic IPs", L-0263D0A3).
DEFAULT_ELASTIC_IPS = 5
ELASTIC_IPS_QUOTA = "Service Quotas: Amazon EC2 'EC2-VPC Elastic IPs' (L-0263D0A3)"


# Amazon Route 53 quotas: "Health checks: 200 active health checks per AWS account" (a higher quota on request).
DEFAULT_HEALTH_CHECKS = 200
ROUTE53_QUOTAS_DOC = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html"


def aws_region_name(value: str) -> str:
    if value not in AWS_REGIONS:
        raise ValueError(f"'{value}' is not an AWS region{suggest(value, AWS_REGIONS)}")
    return value


class AwsQuotas(Model):
    """Quotas the AWS account holds above their defaults (the plan counts against these instead)."""

    elastic_ips: dict[Annotated[str, AfterValidator(aws_region_name)], Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict,
        description=f"Elastic IP addresses this stack may hold per region, where more than the default "
        f"{DEFAULT_ELASTIC_IPS} ({ELASTIC_IPS_QUOTA}): the account's raised quota less what others hold there; each "
        "EKS cluster takes one per NAT gateway and, with multicluster:dns, one per zone.",
    )
    security_group_rules: dict[
        Annotated[str, AfterValidator(aws_region_name)], Annotated[int, Field(ge=1, le=1000)]
    ] = Field(
        default_factory=dict,
        description=f"Inbound rules per security group in a region, where raised above the default "
        f"{RULES_PER_GROUP} ({SECURITY_GROUP_RULES_QUOTA}; times the security groups per network "
        "interface at most 1000, so at most 200 with the default 5): an EKS cluster's security group holds its "
        "links' rules and those the AWS cloud provider adds for its NLBs, one per port per source of a public "
        "east-west gateway's mesh peers.",
    )
    route53_health_checks: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=f"Route 53 health checks this stack may create in the account, where raised above the default "
        f"{DEFAULT_HEALTH_CHECKS} (Amazon Route 53 quotas, {ROUTE53_QUOTAS_DOC}): the raised quota less what others "
        "hold; with multicluster:dns each EKS cluster takes one per zone and one calculated check, each GKE "
        "cluster one.",
    )


class QuotasConfig(Model):
    """What the accounts hold above the clouds' default quotas: state the raised value once it is granted."""

    aws: AwsQuotas = Field(default_factory=AwsQuotas)


B = TypeVar("B", bound=Model)


class FleetView(Protocol):
    """The fleet as a config block's rules see it: clusters, fleet-wide settings, any block by its model type, and
    the needs every block declares (config/needs.py). `StackConfig` is one."""

    @property
    def environment(self) -> str: ...
    @property
    def topology(self) -> str: ...
    @property
    def failover(self) -> str: ...
    @property
    def clusters(self) -> Sequence[ClusterConfig]: ...
    @property
    def residencies(self) -> Mapping[str, Residency]: ...
    @property
    def connectivity(self) -> ConnectivityConfig: ...
    @property
    def deployer(self) -> DeployerConfig: ...
    @property
    def outage(self) -> OutageConfig: ...
    @property
    def quotas(self) -> QuotasConfig: ...
    @property
    def prefix(self) -> str: ...
    @property
    def gcp_project(self) -> str | None: ...

    def cluster(self, name: str) -> ClusterConfig: ...

    def failover_groups(self) -> dict[str, list[ClusterConfig]]:
        """Clusters that fail over to each other: the fleet, or each residency when partitioned."""
        ...

    def block(self, kind: type[B]) -> B | None:
        """The settings of the block whose model is `kind` (None when the stack leaves it out)."""
        ...

    def needs(self) -> FleetNeeds:
        """What every block declares its clusters need from each other and from the clouds, aggregated."""
        ...


class PlannedNetwork(Protocol):
    """The links the fleet plan decided (components/fleetplan.NetworkPlan is one)."""

    @property
    def links(self) -> Sequence[Link]: ...
    @property
    def vpns(self) -> Sequence[Vpn]: ...
    @property
    def connected(self) -> frozenset[frozenset[str]]: ...


class PlannedFleet(Protocol):
    """What the fleet plan decided that the rules across blocks judge (components/fleetplan.FleetPlan is one):
    the links and what crosses them, and whose telemetry each hub keeps."""

    @property
    def network(self) -> PlannedNetwork: ...
    @property
    def telemetry_scopes(self) -> Mapping[str, tuple[str, ...]]: ...


@dataclass(frozen=True)
class BlockRules:
    """What a block module declares beside its model, named by its field of StackConfig: its checks (problems of
    its settings with the rest of the fleet, before the plan), its needs (config/needs.py) if its clusters need
    something of each other or of the clouds, and its plan checks if it judges what the plan decided (links and
    what crosses them: the same values the program builds, so validation judges exactly what `pulumi up` creates).
    All three run only for a block the stack has.
    """

    check: Callable[[FleetView], list[Issue]]
    needs: Callable[[FleetView], Needs] | None = None
    plan_check: Callable[[FleetView, PlannedFleet], list[Issue]] | None = None
