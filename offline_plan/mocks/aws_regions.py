"""What AWS regions look like to the mock account: zones (names, ids, types).

Zone ids per region: the AZ ids AWS offers (moto 5.2.5's captured DescribeInstanceTypeOfferings data for
one account; https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html).
Zone names map to zone ids per account in the older regions: the mock account's mapping is a fixed
shuffle, so a zone's name says nothing about its id (as on AWS). The account has opted into one Local Zone
in us-east-1 and us-west-2 (ZoneType local-zone), which DescribeAvailabilityZones then lists with the
Availability Zones. Regions not listed get three zones <region>a..c (an approximation, noted in docs/judge.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

AZ_IDS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"),
    "us-east-2": ("use2-az1", "use2-az2", "use2-az3"),
    "us-west-1": ("usw1-az1", "usw1-az3"),
    "us-west-2": ("usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"),
    "eu-west-1": ("euw1-az1", "euw1-az2", "euw1-az3"),
    "eu-central-1": ("euc1-az1", "euc1-az2", "euc1-az3"),
    "eu-west-2": ("euw2-az1", "euw2-az2", "euw2-az3", "euw2-az4"),
    "ap-southeast-1": ("apse1-az1", "apse1-az2", "apse1-az3"),
    "ca-central-1": ("cac1-az1", "cac1-az2", "cac1-az4"),
    "ap-northeast-1": ("apne1-az1", "apne1-az2", "apne1-az4"),
    "eu-west-3": ("euw3-az1", "euw3-az2", "euw3-az3"),
    "eu-north-1": ("eun1-az1", "eun1-az2", "eun1-az3"),
    "ap-southeast-2": ("apse2-az1", "apse2-az2", "apse2-az3"),
    "ap-south-1": ("aps1-az1", "aps1-az2", "aps1-az3"),
    "sa-east-1": ("sae1-az1", "sae1-az2", "sae1-az3"),
}
# Local Zones the mock account has opted into: (zone name, zone id, group name, parent zone id).
LOCAL_ZONES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "us-east-1": (("us-east-1-bos-1a", "use1-bos1-az1", "us-east-1-bos-1", "use1-az4"),),
    "us-west-2": (("us-west-2-lax-1a", "usw2-lax1-az1", "us-west-2-lax-1", "usw2-az1"),),
}


@dataclass(frozen=True)
class Zone:
    name: str
    zone_id: str
    zone_type: str  # availability-zone | local-zone
    group_name: str
    parent_zone_id: str | None = None


def _short(region: str) -> str:
    """us-east-1 -> use1, ap-southeast-2 -> apse2 (how AWS spells zone ids)."""
    parts = region.split("-")
    words = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne",
             "southeast": "se", "northwest": "nw", "southwest": "sw"}  # fmt: skip
    return parts[0] + "".join(words.get(p, p[:1]) for p in parts[1:-1]) + parts[-1]


def zones(region: str) -> list[Zone]:
    """Every zone of the region the account sees, sorted by name as DescribeAvailabilityZones returns them."""
    ids = AZ_IDS.get(region) or tuple(f"{_short(region)}-az{i}" for i in (1, 2, 3))
    # The account's own mapping of names to ids: a shuffle fixed per region.
    order = sorted(ids, key=lambda zone_id: hashlib.sha256(f"{region}/{zone_id}".encode()).hexdigest())
    found = [
        Zone(f"{region}{chr(ord('a') + i)}", zone_id, "availability-zone", region) for i, zone_id in enumerate(order)
    ]
    found += [
        Zone(name, zone_id, "local-zone", group, parent) for name, zone_id, group, parent in LOCAL_ZONES.get(region, ())
    ]
    return sorted(found, key=lambda z: z.name)


def zone_named(region: str, name: str) -> Zone | None:
    return next((z for z in zones(region) if z.name == name), None)
