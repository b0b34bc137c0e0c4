"""Config of one cluster of the fleet: `multicluster:clusters[i]`."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from .base import Model, dns_label
from .regions import AWS_REGIONS, KUBERNETES_VERSIONS, REGIONS_BY_CLOUD

Cloud = Literal["aws", "gcp"]

# Ranges a fleet may use for nodes, pods and services (RFC 1918 plus RFC 6598 shared space).
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
AWS_MACHINE_TYPE = re.compile(r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[a-z0-9]+$")
GCP_MACHINE_TYPE = re.compile(r"^[a-z][a-z0-9]*-[a-z]+(-[0-9]+)*(-lssd)?$")


def parse_cidr(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid IPv4 CIDR ({exc})") from None


def private_cidr(value: str) -> str:
    network = parse_cidr(value)
    if not any(network.subnet_of(r) for r in PRIVATE_RANGES):
        raise ValueError(
            f"{value} is not a private range (use 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10)"
        )
    return value


ZONE_ID = re.compile(r"^[a-z]+[0-9]+-az[0-9]+$")


def zone_id(value: str) -> str:
    if not ZONE_ID.match(value):
        raise ValueError(f"'{value}' is not an availability zone id (e.g. use1-az1; not a zone name like us-east-1a)")
    return value


def any_cidr(value: str) -> str:
    parse_cidr(value)
    return value


PrivateCidr = Annotated[str, AfterValidator(private_cidr)]
Cidr = Annotated[str, AfterValidator(any_cidr)]
ClusterName = Annotated[str, AfterValidator(lambda v: dns_label(v, 24))]
PoolName = Annotated[str, AfterValidator(lambda v: dns_label(v, 32))]


# RFC 6996 private ASNs, which every BGP speaker of the fleet accepts: AWS (EC2 API, CreateVpnGateway and
# CreateTransitGateway AmazonSideAsn: "If you're using a 16-bit ASN, it must be in the 64512 to 65534 range. If you're
# using a 32-bit ASN, it must be in the 4200000000 to 4294967294 range") and Google Cloud (compute v1 discovery
# document, RouterBgp.asn: "Must be an RFC6996 private ASN, either 16-bit or 32-bit").
PRIVATE_ASN_RANGES = ((64512, 65534), (4200000000, 4294967294))


def private_asn(value: int) -> int:
    if not any(low <= value <= high for low, high in PRIVATE_ASN_RANGES):
        raise ValueError(f"{value} is not a private ASN (64512-65534 or 4200000000-4294967294, RFC 6996)")
    return value


PrivateAsn = Annotated[int, AfterValidator(private_asn)]


def prefix_between(low: int, high: int) -> AfterValidator:
    def check(value: str) -> str:
        length = parse_cidr(value).prefixlen
        if not low <= length <= high:
            wanted = f"a /{low}" if low == high else f"between /{low} and /{high}"
            raise ValueError(f"{value} must be {wanted}")
        return value

    return AfterValidator(check)


class NetworkConfig(Model):
    """Address plan of a cluster. Every range is checked against every other range of the fleet."""

    cidr: Annotated[PrivateCidr, prefix_between(8, 20)] = Field(
        description="VPC (AWS) or subnetwork (GCP) primary range, /8 to /20."
    )
    pod_cidr: Annotated[PrivateCidr, prefix_between(8, 21)] | None = Field(
        default=None, description="Pod range: GKE secondary range (required on GCP); reserved on AWS."
    )
    service_cidr: Annotated[PrivateCidr, prefix_between(12, 24)] = Field(
        description="Kubernetes Service range, /12 to /24."
    )
    master_cidr: Annotated[PrivateCidr, prefix_between(28, 28)] | None = Field(
        default=None,
        description="GCP only: a /28 for a GKE control plane on VPC Network Peering; without it the cluster uses "
        "Private Service Connect (the default).",
    )
    nat_gateways: Literal["perZone", "single"] = Field(
        default="perZone", description="One NAT gateway per zone (HA) or a single one (cheaper)."
    )
    zone_ids: list[Annotated[str, AfterValidator(zone_id)]] | None = Field(
        default=None,
        description="AWS only: the availability zone ids to use (use1-az1 ...); default: the region's first three "
        "standard zone ids EKS supports, in id order.",
    )
    asn: PrivateAsn | None = Field(
        default=None,
        description="Private BGP ASN of the cluster's HA VPN Cloud Router (GCP) or virtual private gateway (AWS, "
        "awsGateway virtual-private-gateway); default: derived from the cluster name in the 4-byte private range. "
        "Set it to keep an existing gateway's ASN, or when two clusters' derived ASNs collide.",
    )


class EndpointConfig(Model):
    """Who can reach the Kubernetes API server."""

    private_access: bool = Field(default=True, description="API server reachable from inside the network.")
    public_access_cidrs: list[Cidr] = Field(
        default_factory=list, description="CIDRs allowed on the public endpoint; [] = private only."
    )

    @model_validator(mode="after")
    def _reachable(self) -> EndpointConfig:
        if not self.private_access and not self.public_access_cidrs:
            raise ValueError("privateAccess is false and publicAccessCidrs is empty: the API would be unreachable")
        return self


class Taint(Model):
    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodePoolConfig(Model):
    """A managed node group (EKS) or node pool (GKE)."""

    name: PoolName
    kubernetes_version: str | None = Field(
        default=None,
        description="EKS only: Kubernetes version of the nodes (at most 3 minors behind); defaults to the "
        "cluster's. GKE nodes auto-upgrade after the control plane.",
    )
    machine_type: str = Field(description="Instance type: m7i.large on AWS, e2-standard-4 on GCP.")
    min_size: int = Field(ge=0, le=1000)
    max_size: int = Field(ge=1, le=1000)
    desired_size: int = Field(ge=0, le=1000)
    spot: bool = False
    disk_size_gb: int = Field(default=50, ge=20, le=2000)
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list[Taint])

    @model_validator(mode="after")
    def _sizes(self) -> NodePoolConfig:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"sizes must satisfy minSize <= desiredSize <= maxSize "
                f"(got {self.min_size} <= {self.desired_size} <= {self.max_size})"
            )
        return self


def rbac_group(value: str) -> str:
    if not re.match(r"^gke-security-groups@[a-z0-9.-]+\.[a-z]{2,}$", value):
        raise ValueError(f"'{value}' must be gke-security-groups@<your domain> (GKE's Google Groups for RBAC)")
    return value


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def hh_mm(value: str) -> str:
    if not HH_MM.match(value):
        raise ValueError(f"'{value}' is not a time of day in UTC (HH:MM, e.g. 03:00)")
    return value


class MaintenanceConfig(Model):
    """GKE only: when the control plane and nodes may be upgraded (a weekly window, UTC)."""

    days: list[Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]] = Field(min_length=1, description="Weekdays.")
    start_time: Annotated[str, AfterValidator(hh_mm)] = Field(description="Start, HH:MM UTC.")
    hours: int = Field(ge=4, le=24, description="Length of each window, 4 to 24 hours.")

    @model_validator(mode="after")
    def _availability(self) -> MaintenanceConfig:
        # Any 32 days hold each weekday at least 4 times: GKE wants 48 h of windows of 4 h or more in them.
        weekly = len(set(self.days)) * self.hours
        if weekly * 4 < 48:
            raise ValueError(
                f"gives {weekly} h a week, {weekly * 4} h in the worst 32 days; GKE requires at least 48 h "
                "(e.g. days: [SA, SU], hours: 6)"
            )
        return self


class ClusterConfig(Model):
    """One Kubernetes cluster of the fleet."""

    name: ClusterName = Field(description="Unique DNS-1123 label, at most 24 characters.")
    cloud: Cloud
    region: str
    role: Literal["primary", "standby"] = "primary"
    residency: str | None = Field(default=None, description="Partitioned only: a key of multicluster:residencies.")
    kubernetes_version: str
    project: str | None = Field(default=None, description="GCP only: project id; defaults to gcp:project.")
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = Field(
        default="REGULAR", description="GCP only: GKE release channel."
    )
    network: NetworkConfig
    endpoint: EndpointConfig = Field(default_factory=EndpointConfig)
    node_pools: list[NodePoolConfig] = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels, exposed to Argo CD.")
    protect: bool | None = Field(
        default=None, description="Protect this cluster's stateful resources; overrides multicluster:protect."
    )
    drain: bool = Field(
        default=False,
        description="Move traffic away before removing the cluster: no DNS answers, no mesh endpoints, no gitops "
        "placement; backups kept and still readable by peers.",
    )
    maintenance: MaintenanceConfig | None = Field(
        default=None, description="GCP only: the GKE maintenance window; default: staggered within the failover group."
    )
    upgrade_policy: Literal["STANDARD", "EXTENDED"] = Field(
        default="STANDARD",
        description="AWS only: EKS support policy (EXTENDED keeps a version past standard support, billed).",
    )
    rbac_google_group: Annotated[str, AfterValidator(rbac_group)] | None = Field(
        default=None,
        description="GCP only: gke-security-groups@<domain>, to bind Kubernetes RBAC to Google Groups.",
    )
    binary_authorization: bool = Field(
        default=False, description="GCP only: enforce the project's Binary Authorization policy."
    )

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str, info: ValidationInfo) -> str:
        cloud = info.data.get("cloud")
        regions = REGIONS_BY_CLOUD.get(cloud or "", {})
        if cloud and value not in regions:
            other = "gcp" if cloud == "aws" else "aws"
            in_other = value in REGIONS_BY_CLOUD[other]
            hint = f" (it is {_article(other)} {other.upper()} region)" if in_other else suggest(value, regions)
            raise ValueError(f"'{value}' is not {_article(cloud)} {cloud.upper()} region{hint}")
        return value

    @field_validator("kubernetes_version")
    @classmethod
    def _offered_version(cls, value: str, info: ValidationInfo) -> str:
        cloud = info.data.get("cloud")
        versions = KUBERNETES_VERSIONS.get(cloud or "", ())
        if cloud and value not in versions:
            service = "EKS" if cloud == "aws" else "GKE"
            raise ValueError(f"'{value}' is not offered by {service} (supported: {', '.join(versions)})")
        return value

    @property
    def aws_zones(self) -> int:
        """How many zones an EKS cluster spans: its zoneIds, else up to three of its region's."""
        configured = self.network.zone_ids
        return len(configured) if configured else min(3, AWS_REGIONS[self.region].zones)

    @property
    def nat_addresses(self) -> int:
        """The public addresses this cluster's pods leave from, what peers' allow-lists hold: one Elastic IP per
        NAT gateway on EKS (one per zone, or one; components/eks.py), the static Cloud NAT addresses on GKE (two
        with perZone, or one; components/gke.py)."""
        per_zone = self.network.nat_gateways == "perZone"
        if self.cloud == "aws":
            return self.aws_zones if per_zone else 1
        return 2 if per_zone else 1

    @property
    def ranges(self) -> dict[str, str]:
        """Every address range this cluster uses, by config key."""
        keys = {
            "cidr": self.network.cidr,
            "podCidr": self.network.pod_cidr,
            "serviceCidr": self.network.service_cidr,
            "masterCidr": self.network.master_cidr,
        }
        return {k: v for k, v in keys.items() if v}


def cluster_labels(cluster: ClusterConfig, environment: str) -> dict[str, str]:
    """Fleet labels of a cluster (also its Argo CD registration labels): the fleet's keys, then its own labels."""
    labels = {"environment": environment, "cloud": cluster.cloud, "region": cluster.region, "role": cluster.role}
    if cluster.residency:
        labels["residency"] = cluster.residency
    if cluster.drain:
        labels["multicluster/drain"] = "true"
    return {**labels, **cluster.labels}


def _article(cloud: str) -> str:
    return "an" if cloud == "aws" else "a"


def suggest(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
