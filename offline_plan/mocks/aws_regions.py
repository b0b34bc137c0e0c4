"""What AWS regions look like to the mock account: zones (names, ids, types) and load-balancer zone ids.

Zone ids per region: the AZ ids AWS offers (moto 5.2.5's captured DescribeInstanceTypeOfferings data for
one account; https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html).
Zone names map to zone ids per account in the older regions: the mock account's mapping is a fixed
shuffle, so a zone's name says nothing about its id (as on AWS). The account has opted into one Local Zone
in us-east-1 and us-west-2 (ZoneType local-zone), which DescribeAvailabilityZones then lists with the
Availability Zones. Regions not listed get three zones <region>a..c (an approximation, noted in docs/judge.md).

ELB canonical hosted zone ids: terraform-provider-aws internal/service/elbv2/hosted_zone_id_data_source.go
(the table pulumi-aws's aws.lb.get_hosted_zone_id answers from); a region missing there is an error.
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

NLB_ZONE_IDS: dict[str, str] = {
    "af-south-1": "Z203XCE67M25HM",
    "ap-east-1": "Z12Y7K3UBGUAD1",
    "ap-northeast-1": "Z31USIVHYNEOWT",
    "ap-northeast-2": "ZIBE1TIR4HY56",
    "ap-northeast-3": "Z1GWIQ4HH19I5X",
    "ap-south-1": "ZVDDRBQ08TROA",
    "ap-south-2": "Z0711778386UTO08407HT",
    "ap-southeast-1": "ZKVM4W9LS7TM",
    "ap-southeast-2": "ZCT6FZBF4DROD",
    "ap-southeast-3": "Z01971771FYVNCOVWJU1G",
    "ap-southeast-4": "Z01156963G8MIIL7X90IV",
    "ap-southeast-5": "Z026317210H9ACVTRO6FB",
    "ap-southeast-7": "Z054363131YWATEMWRG5L",
    "ca-central-1": "Z2EPGBW3API2WT",
    "ca-west-1": "Z02754302KBB00W2LKWZ9",
    "cn-north-1": "Z3QFB96KMJ7ED6",
    "cn-northwest-1": "ZQEIKTCZ8352D",
    "eu-central-1": "Z3F0SRJ5LGBH90",
    "eu-central-2": "Z02239872DOALSIDCX66S",
    "eu-north-1": "Z1UDT6IFJ4EJM",
    "eu-south-1": "Z23146JA1KNAFP",
    "eu-south-2": "Z1011216NVTVYADP1SSV",
    "eu-west-1": "Z2IFOLAFXWLO4F",
    "eu-west-2": "ZD4D7Y8KGAS4G",
    "eu-west-3": "Z1CMS0P5QUZ6D5",
    "il-central-1": "Z0313266YDI6ZRHTGQY4",
    "me-central-1": "Z00282643NTTLPANJJG2P",
    "me-south-1": "Z3QSRYVP46NYYV",
    "mx-central-1": "Z02031231H3ID6HYJ9A7U",
    "sa-east-1": "ZTK26PT1VY4CU",
    "us-east-1": "Z26RNL4JYFTOTI",
    "us-east-2": "ZLMOA37VPKANP",
    "us-gov-east-1": "Z1ZSMQQ6Q24QQ8",
    "us-gov-west-1": "ZMG1MZ2THAWF1",
    "us-west-1": "Z24FKFUX50B4VW",
    "us-west-2": "Z18D5FSROUN65G",
}
ALB_ZONE_IDS: dict[str, str] = {
    "af-south-1": "Z268VQBMOI5EKX",
    "ap-east-1": "Z3DQVH9N71FHZ0",
    "ap-northeast-1": "Z14GRHDCWA56QT",
    "ap-northeast-2": "ZWKZPGTI48KDX",
    "ap-northeast-3": "Z5LXEXXYW11ES",
    "ap-south-1": "ZP97RAFLXTNZK",
    "ap-south-2": "Z0173938T07WNTVAEPZN",
    "ap-southeast-1": "Z1LMS91P8CMLE5",
    "ap-southeast-2": "Z1GM3OXH4ZPM65",
    "ap-southeast-3": "Z08888821HLRG5A9ZRTER",
    "ap-southeast-4": "Z09517862IB2WZLPXG76F",
    "ap-southeast-5": "Z06010284QMVVW7WO5J",
    "ap-southeast-7": "Z0390008CMBRTHFGWBCB",
    "ca-central-1": "ZQSVJUPU6J1EY",
    "ca-west-1": "Z06473681N0SF6OS049SD",
    "cn-north-1": "Z1GDH35T77C1KE",
    "cn-northwest-1": "ZM7IZAIOVVDZF",
    "eu-central-1": "Z215JYRZR1TBD5",
    "eu-central-2": "Z06391101F2ZOEP8P5EB3",
    "eu-north-1": "Z23TAZ6LKFMNIO",
    "eu-south-1": "Z3ULH7SSC9OV64",
    "eu-south-2": "Z0956581394HF5D5LXGAP",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-west-2": "ZHURV8PSTC4K8",
    "eu-west-3": "Z3Q77PNBQS71R4",
    "il-central-1": "Z09170902867EHPV2DABU",
    "me-central-1": "Z08230872XQRWHG2XF6I",
    "me-south-1": "ZS929ML54UICD",
    "mx-central-1": "Z023552324OKD1BB28BH5",
    "sa-east-1": "Z2P70J7HTTTPLU",
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-gov-east-1": "Z166TLBEWOO7G0",
    "us-gov-west-1": "Z33AYJ8TM3BH4J",
    "us-west-1": "Z368ELLRRE2KJ0",
    "us-west-2": "Z1H1FL5HABSF5",
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
