"""DNS resources and invokes: Route53 zones/checks/records, Cloud DNS zones/record sets/checks.

LoadBalancer Services (the ingress addresses) are mocked in mesh.py, shared with the mesh gateways.
"""

from __future__ import annotations

import uuid
from typing import Any

from . import MockResource, digest, resource


@resource("aws:route53/zone:Zone")
def route53_zone(r: MockResource) -> dict[str, Any]:
    zone_id = "Z" + r.random("zone", length=20).upper()
    n = int(digest("ns", zone_id, length=6), 16)
    return {
        "id": zone_id,
        "zoneId": zone_id,
        "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
        "nameServers": [
            f"ns-{n % 512}.awsdns-{n % 64:02d}.com",
            f"ns-{512 + n % 512}.awsdns-{n % 64:02d}.net",
            f"ns-{1024 + n % 512}.awsdns-{n % 64:02d}.org",
            f"ns-{1536 + n % 512}.awsdns-{n % 64:02d}.co.uk",
        ],
        "primaryNameServer": f"ns-{n % 512}.awsdns-{n % 64:02d}.com",
    }


@resource("aws:route53/healthCheck:HealthCheck")
def route53_health_check(r: MockResource) -> dict[str, Any]:
    check_id = str(uuid.UUID(r.hex(32)))
    return {"id": check_id, "arn": f"arn:aws:route53:::healthcheck/{check_id}"}


@resource("aws:route53/record:Record")
def route53_record(r: MockResource) -> dict[str, Any]:
    parts = [r.inputs.get("zoneId"), r.inputs.get("name"), r.inputs.get("type")]
    if r.inputs.get("setIdentifier"):
        parts.append(r.inputs["setIdentifier"])
    return {"id": "_".join(str(p) for p in parts), "fqdn": r.inputs.get("name")}


@resource("gcp:dns/managedZone:ManagedZone")
def managed_zone(r: MockResource) -> dict[str, Any]:
    shard = int(r.random("ns", length=4), 16) % 5 + 1
    return {
        "id": f"projects/{r.project}/managedZones/{r.inputs['name']}",
        "managedZoneId": str(int(r.random("zone-id", length=12), 16)),
        "nameServers": [f"ns-cloud-{letter}{shard}.googledomains.com." for letter in "abcd"],
        "creationTime": "2026-01-01T00:00:00.000Z",
    }


@resource("gcp:dns/recordSet:RecordSet")
def record_set(r: MockResource) -> dict[str, Any]:
    zone, name, type_ = r.inputs.get("managedZone"), r.inputs.get("name"), r.inputs.get("type")
    return {"id": f"projects/{r.project}/managedZones/{zone}/rrsets/{name}/{type_}", "project": r.project}


@resource("gcp:compute/healthCheck:HealthCheck")
def compute_health_check(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("name", "")
    path = f"projects/{r.project}/global/healthChecks/{name}"
    kind = next(
        (k.removesuffix("HealthCheck").upper() for k in r.inputs if k.endswith("HealthCheck") and k != "type"), "TCP"
    )
    return {
        "id": path,
        "name": name,
        "selfLink": f"https://www.googleapis.com/compute/v1/{path}",
        "type": kind,
        "creationTimestamp": "2026-01-01T00:00:00.000-07:00",
    }
