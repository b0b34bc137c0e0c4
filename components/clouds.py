"""What the fleet's rules and the cloud-neutral capabilities know of each cloud, chosen once by its name.

Pure: no Pulumi. Adding a cloud: its cluster implementation (components.fleet CLUSTER_IMPLEMENTATIONS), its config
variant, its line in CLOUDS, its mocks and its tests (docs/architecture.md, "Where a change goes").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from .config import ClusterConfig
from .config.regions import GCP_REGIONS

# IAM and Route 53 are global AWS services whose APIs live in us-east-1.
AWS_GLOBAL_REGION = "us-east-1"


@dataclass(frozen=True)
class CloudTraits:
    """What the fleet's rules and the cloud-neutral capabilities know of a cloud, chosen once by its name.

    Adding a cloud: its cluster implementation (components.fleet CLUSTER_IMPLEMENTATIONS), its config variant,
    its line here, its mocks and its tests."""

    # What a LoadBalancer Service's status reports: a hostname (an AWS NLB) or an IP (a GCP forwarding rule).
    load_balancer_answer: Literal["hostname", "ip"]
    # The public entry (the Service DNS answers for) gets addresses reserved by the cluster, because the load
    # balancer's own ones are not fixed (an NLB's change with its nodes unless Elastic IPs are attached): DNS then
    # answers them in A records with the zone's TTL (multicluster:dns.ttl) instead of an alias with the ELB's 60 s.
    reserves_entry_addresses: bool
    projects: bool  # its clusters live in a project (the config's `project`, else gcp:project)
    # The fleet staggers the provider's maintenance windows (multicluster:clusters[i].maintenance).
    maintenance_windows: bool
    # The AWS region Route 53 measures latency from for a cluster in one of this cloud's regions.
    latency_region: Callable[[str], str]
    # Its clusters provide the Gateway API CRDs themselves (GKE: gatewayApiConfig, components/gke.py).
    provides_gateway_api: bool
    display_name: str  # in reports


CLOUDS: Mapping[str, CloudTraits] = {
    "aws": CloudTraits(
        "hostname",
        reserves_entry_addresses=True,
        projects=False,
        maintenance_windows=False,
        latency_region=lambda region: region,
        provides_gateway_api=False,
        display_name="AWS",
    ),
    "gcp": CloudTraits(
        "ip",
        reserves_entry_addresses=False,
        projects=True,
        maintenance_windows=True,
        latency_region=lambda region: GCP_REGIONS[region].nearest_aws or AWS_GLOBAL_REGION,
        provides_gateway_api=True,
        display_name="Google Cloud",
    ),
}


def traits(cluster: ClusterConfig) -> CloudTraits:
    return CLOUDS[cluster.cloud]
