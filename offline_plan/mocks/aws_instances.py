"""What EC2 says about instance types (DescribeInstanceTypes / DescribeInstanceTypeOfferings), for the mocks.

Families and their facts from the Amazon EC2 instance type pages (https://aws.amazon.com/ec2/instance-types/,
https://docs.aws.amazon.com/ec2/latest/instancetypes/): processor architecture, NVIDIA GPUs, AWS Inferentia
and Trainium (Neuron) devices. Offerings: every region of the project's table, except the accelerated
families, which AWS offers in fewer regions (listed here as far as the pages say; an approximation,
noted in docs/judge.md). A type outside the catalogue does not exist, as DescribeInstanceTypes says.
"""

from __future__ import annotations

from dataclasses import dataclass

SIZES = ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")


@dataclass(frozen=True)
class Family:
    architecture: str  # x86_64 | arm64
    gpu: str | None = None  # NVIDIA model
    neuron: str | None = None  # Inferentia2 / Trainium
    inference: str | None = None  # Inferentia (inf1)
    regions: tuple[str, ...] | None = None  # None: every region


ACCELERATED_REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")
FAMILIES: dict[str, Family] = {
    **{f: Family("x86_64") for f in ("m7i", "m6i", "m5", "c7i", "c6i", "c5", "r7i", "r6i", "r5", "t3", "m7a", "c7a")},
    **{f: Family("arm64") for f in ("m7g", "c7g", "r7g", "t4g", "m6g", "c6g", "r6g", "m8g", "c8g", "r8g", "a1")},
    "g5": Family("x86_64", gpu="NVIDIA A10G", regions=ACCELERATED_REGIONS),
    "g6": Family("x86_64", gpu="NVIDIA L4", regions=ACCELERATED_REGIONS),
    "g5g": Family("arm64", gpu="NVIDIA T4G", regions=ACCELERATED_REGIONS),
    "p4d": Family("x86_64", gpu="NVIDIA A100", regions=("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")),
    "p5": Family("x86_64", gpu="NVIDIA H100", regions=("us-east-1", "us-east-2", "us-west-2", "eu-north-1")),
    "inf1": Family("x86_64", inference="AWS Inferentia", regions=ACCELERATED_REGIONS),
    "inf2": Family("x86_64", neuron="AWS Inferentia2", regions=ACCELERATED_REGIONS),
    "trn1": Family("x86_64", neuron="AWS Trainium", regions=("us-east-1", "us-east-2", "us-west-2")),
}


def family_of(instance_type: str) -> Family | None:
    family, _, size = instance_type.partition(".")
    found = FAMILIES.get(family)
    return found if found is not None and (size in SIZES or size == "metal") else None


def offered(instance_type: str, region: str) -> bool:
    family = family_of(instance_type)
    return family is not None and (family.regions is None or region in family.regions)
