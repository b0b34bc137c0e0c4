"""Static facts about the clouds that validation relies on.

Kept as data (not fetched) so that validation runs offline and before any resource is
registered. Update the tables when a cloud adds a region or a Kubernetes version.
"""

from __future__ import annotations

from dataclasses import dataclass

# Route53 / Cloud DNS continent codes.
CONTINENTS = ("AF", "AN", "AS", "EU", "NA", "OC", "SA")


@dataclass(frozen=True)
class Region:
    name: str
    continent: str
    zones: int = 3
    # GCP only: the AWS region with the lowest latency, used for Route53 latency records.
    nearest_aws: str | None = None


AWS_REGIONS: dict[str, Region] = {
    r.name: r
    for r in (
        Region("us-east-1", "NA"),
        Region("us-east-2", "NA"),
        Region("us-west-1", "NA", zones=2),
        Region("us-west-2", "NA"),
        Region("ca-central-1", "NA"),
        Region("ca-west-1", "NA"),
        Region("mx-central-1", "NA"),
        Region("sa-east-1", "SA"),
        Region("eu-west-1", "EU"),
        Region("eu-west-2", "EU"),
        Region("eu-west-3", "EU"),
        Region("eu-central-1", "EU"),
        Region("eu-central-2", "EU"),
        Region("eu-north-1", "EU"),
        Region("eu-south-1", "EU"),
        Region("eu-south-2", "EU"),
        Region("il-central-1", "AS"),
        Region("me-south-1", "AS"),
        Region("me-central-1", "AS"),
        Region("af-south-1", "AF"),
        Region("ap-east-1", "AS"),
        Region("ap-east-2", "AS"),
        Region("ap-south-1", "AS"),
        Region("ap-south-2", "AS"),
        Region("ap-southeast-1", "AS"),
        Region("ap-southeast-2", "OC"),
        Region("ap-southeast-3", "AS"),
        Region("ap-southeast-4", "OC"),
        Region("ap-southeast-5", "AS"),
        Region("ap-southeast-6", "OC"),
        Region("ap-southeast-7", "AS"),
        Region("ap-northeast-1", "AS"),
        Region("ap-northeast-2", "AS"),
        Region("ap-northeast-3", "AS"),
    )
}

GCP_REGIONS: dict[str, Region] = {
    r.name: r
    for r in (
        Region("us-central1", "NA", nearest_aws="us-east-2"),
        Region("us-east1", "NA", nearest_aws="us-east-1"),
        Region("us-east4", "NA", nearest_aws="us-east-1"),
        Region("us-east5", "NA", nearest_aws="us-east-2"),
        Region("us-south1", "NA", nearest_aws="us-east-2"),
        Region("us-west1", "NA", nearest_aws="us-west-2"),
        Region("us-west2", "NA", nearest_aws="us-west-1"),
        Region("us-west3", "NA", nearest_aws="us-west-2"),
        Region("us-west4", "NA", nearest_aws="us-west-1"),
        Region("northamerica-northeast1", "NA", nearest_aws="ca-central-1"),
        Region("northamerica-northeast2", "NA", nearest_aws="ca-central-1"),
        Region("northamerica-south1", "NA", nearest_aws="mx-central-1"),
        Region("southamerica-east1", "SA", nearest_aws="sa-east-1"),
        Region("southamerica-west1", "SA", nearest_aws="sa-east-1"),
        Region("europe-west1", "EU", nearest_aws="eu-west-3"),
        Region("europe-west2", "EU", nearest_aws="eu-west-2"),
        Region("europe-west3", "EU", nearest_aws="eu-central-1"),
        Region("europe-west4", "EU", nearest_aws="eu-central-1"),
        Region("europe-west6", "EU", nearest_aws="eu-central-2"),
        Region("europe-west8", "EU", nearest_aws="eu-south-1"),
        Region("europe-west9", "EU", nearest_aws="eu-west-3"),
        Region("europe-west10", "EU", nearest_aws="eu-central-1"),
        Region("europe-west12", "EU", nearest_aws="eu-south-1"),
        Region("europe-central2", "EU", nearest_aws="eu-central-1"),
        Region("europe-north1", "EU", nearest_aws="eu-north-1"),
        Region("europe-north2", "EU", nearest_aws="eu-north-1"),
        Region("europe-southwest1", "EU", nearest_aws="eu-south-2"),
        Region("me-central1", "AS", nearest_aws="me-central-1"),
        Region("me-central2", "AS", nearest_aws="me-central-1"),
        Region("me-west1", "AS", nearest_aws="il-central-1"),
        Region("africa-south1", "AF", nearest_aws="af-south-1"),
        Region("asia-east1", "AS", nearest_aws="ap-east-2"),
        Region("asia-east2", "AS", nearest_aws="ap-east-1"),
        Region("asia-northeast1", "AS", nearest_aws="ap-northeast-1"),
        Region("asia-northeast2", "AS", nearest_aws="ap-northeast-3"),
        Region("asia-northeast3", "AS", nearest_aws="ap-northeast-2"),
        Region("asia-south1", "AS", nearest_aws="ap-south-1"),
        Region("asia-south2", "AS", nearest_aws="ap-south-1"),
        Region("asia-southeast1", "AS", nearest_aws="ap-southeast-1"),
        Region("asia-southeast2", "AS", nearest_aws="ap-southeast-3"),
        Region("australia-southeast1", "OC", nearest_aws="ap-southeast-2"),
        Region("australia-southeast2", "OC", nearest_aws="ap-southeast-4"),
    )
}

REGIONS_BY_CLOUD: dict[str, dict[str, Region]] = {"aws": AWS_REGIONS, "gcp": GCP_REGIONS}

# Minor versions each managed service offers (standard or extended support) as of 2026-11.
KUBERNETES_VERSIONS: dict[str, tuple[str, ...]] = {
    "aws": ("1.32", "1.33", "1.34", "1.35", "1.36"),
    "gcp": ("1.33", "1.34", "1.35", "1.36"),
}


def region(cloud: str, name: str) -> Region:
    return REGIONS_BY_CLOUD[cloud][name]


def any_region(name: str) -> Region | None:
    return AWS_REGIONS.get(name) or GCP_REGIONS.get(name)


ZONE_ID_WORDS = {
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "central": "c",
    "northeast": "ne",
    "southeast": "se",
    "northwest": "nw",
    "southwest": "sw",
}


def zone_id_prefix(aws_region: str) -> str:
    """How AWS spells a region in its zone ids: us-east-1 -> use1, ap-southeast-2 -> apse2 (use1-az1...).

    Amazon EC2 User Guide, "Availability Zone IDs for your AWS resources"."""
    parts = aws_region.split("-")
    return parts[0] + "".join(ZONE_ID_WORDS.get(p, p[:1]) for p in parts[1:-1]) + parts[-1]
