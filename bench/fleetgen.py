"""Synthetic fleets for the benchmark: n clusters over both clouds, every capability the config accepts.

The capability blocks grow while the program is written, so the generator does not hard-code
them: it fills each block from its pydantic model (turning optional features on, choosing the
richest literal), validates the whole stack config, drops what the validation rejects and
keeps the block only if what remains validates. The benchmark therefore runs today and picks
up capabilities as they land.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from components.config import ConfigError, StackConfig, namespace_settings
from components.config.regions import AWS_REGIONS, GCP_REGIONS
from components.config.stack import BLOCKS
from components.fleetplan import validate_stack
from tests.support import settings_of

GCP_PROJECT = "acme-bench"
# Every block of the stack config (config/stack.py BLOCKS, read from StackConfig's fields): a new capability is
# benchmarked as soon as its field exists.
CAPABILITIES = tuple(block.key for block in BLOCKS)
# Preferred literal values, richest first; otherwise the first literal that is not "none".
# Links: hub-spoke grows linearly; full-mesh (pairwise) is measured separately (bench --pairwise).
PREFERRED = ("hub-spoke", "istio", "route53", "velero", "auto", "strict", "fleet", "all")
MAX_REPAIRS = 12
# Optional keys other keys of their block need with the fleet's clouds (a GCP budget needs its billing account).
NEEDED_OPTIONALS = frozenset({"billingAccount"})


def cluster(index: int) -> dict[str, Any]:
    """Cluster `index`: even on AWS, odd on GCP, with address ranges that never overlap (index < 64)."""
    aws = index % 2 == 0
    regions = list(AWS_REGIONS) if aws else list(GCP_REGIONS)
    # Services in 172.16.0.0/12 (EKS takes RFC 1918 service ranges only): a /20 each, 64 clusters fit.
    service = f"172.{16 + index // 16}.{(index % 16) * 16}.0/20"
    network: dict[str, Any] = {"cidr": f"10.{index}.0.0/16", "serviceCidr": service}
    if aws:
        network["natGateways"] = "single"
    else:
        network |= {"podCidr": f"10.{100 + index}.0.0/16", "masterCidr": f"192.168.{index}.0/28"}
    return {
        "name": f"{'aws' if aws else 'gcp'}-{index:02d}",
        "cloud": "aws" if aws else "gcp",
        "region": regions[(index // 2) % len(regions)],
        "role": "primary",
        "kubernetesVersion": "1.33",
        "network": network,
        # Hub-spoke links do not join spokes privately: mesh peers reach each other's API servers through
        # an allow-listed public endpoint (a private one would be rejected by validation).
        "endpoint": {"privateAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
        # A regional GKE pool starts the same number of nodes in each of its 3 zones: multiples of 3 there.
        "nodePools": [
            {
                "name": "system",
                "machineType": "m7i.large" if aws else "e2-standard-4",
                "minSize": 1 if aws else 3,
                "maxSize": 3 if aws else 6,
                "desiredSize": 1 if aws else 3,
            }
        ],
    }


def base_config(size: int) -> dict[str, Any]:
    """The `config:` mapping of a replicated, active-active fleet of `size` clusters."""
    return {
        "gcp:project": GCP_PROJECT,
        "multicluster:environment": "bench",
        "multicluster:topology": "replicated",
        "multicluster:failover": "active-active",
        "multicluster:clusters": [cluster(i) for i in range(size)],
    }


@dataclass
class Capabilities:
    """The block chosen for each capability, and why the others are off."""

    blocks: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def probe_capabilities(size: int = 2) -> Capabilities:
    """Fill every capability block the config model accepts, on a fleet of `size` clusters."""
    config = base_config(size)
    found = Capabilities()
    for key in CAPABILITIES:
        annotation = StackConfig.model_fields[_field_name(key)].annotation
        model = _model_of(annotation)
        if model is None:
            found.skipped[key] = "no config model"
            continue
        block, reason = _accepted_block(config, key, fill_model(model, config))
        if block is None:
            found.skipped[key] = reason
        else:
            config[f"multicluster:{key}"] = block
            found.blocks[key] = block
    return found


def fleet_config(size: int, capabilities: Capabilities) -> dict[str, Any]:
    """The benchmark fleet of `size` clusters with the probed capability blocks."""
    # Blocks name the first cluster (hubs, primaries): it is aws-00 at every size.
    config = base_config(size) | {f"multicluster:{key}": block for key, block in capabilities.blocks.items()}
    if validate(config):
        return within_quotas(config)
    return config


# GKE clusters of one failover group never share a maintenance window: 12 staggered defaults per group.
CLUSTERS_PER_RESIDENCY = 24
COUNTRIES = ("DE", "FR", "JP", "BR", "IN", "AU", "CA", "GB", "KR", "SG", "ZA", "MX")
# What a platform team running a large fleet asks AWS for (Service Quotas), stated as the config asks:
# inbound rules per security group at the most the default 5 groups per interface allow (1000 / 5), and per
# region 4 Elastic IPs per EKS cluster (a NAT gateway and, with DNS, its entry in up to three zones).
RAISED_SECURITY_GROUP_RULES = 200
ELASTIC_IPS_PER_EKS = 4
# Route 53 health checks per account (default 200): with DNS, one per zone and a calculated one per EKS cluster,
# one per GKE cluster.
HEALTH_CHECKS_PER_EKS, HEALTH_CHECKS_PER_GKE, DEFAULT_HEALTH_CHECKS = 4, 1, 200


def within_quotas(config: dict[str, Any]) -> dict[str, Any]:
    """A large fleet the config would refuse as replicated, shaped as a platform team would run it: partitioned
    into residencies of 24 clusters (12 GKE clusters, one per default maintenance window), each with its own
    connectivity hub (its first GKE cluster: an EKS hub's security group would need more than its inbound
    rules), mesh and observability hub, and the AWS quotas raised that such a fleet needs. Smaller fleets keep
    the replicated shape."""
    config = dict(config) | {"multicluster:topology": "partitioned"}
    clusters = [dict(c) for c in config["multicluster:clusters"]]
    members: dict[str, list[dict[str, Any]]] = {}
    for i, cluster in enumerate(clusters):
        cluster["residency"] = f"r{i // CLUSTERS_PER_RESIDENCY}"
        members.setdefault(cluster["residency"], []).append(cluster)
        if cluster["cloud"] == "gcp":  # a project per residency: its data stays there, and IAM quotas are per project
            cluster["project"] = f"{GCP_PROJECT}-{cluster['residency']}"
    config["multicluster:clusters"] = clusters
    countries = iter(COUNTRIES)
    config["multicluster:residencies"] = {
        key: {
            "regions": [c["region"] for c in group],
            **({"default": True} if key == "r0" else {"countries": [next(countries)]}),
        }
        for key, group in members.items()
    }
    hubs = {
        key: next((c["name"] for c in group if c["cloud"] == "gcp"), group[0]["name"]) for key, group in members.items()
    }
    connectivity = config.get("multicluster:connectivity")
    if isinstance(connectivity, dict) and connectivity.get("mode") == "hub-spoke":
        config["multicluster:connectivity"] = {k: v for k, v in connectivity.items() if k != "hub"} | {"hubs": hubs}
    mesh = config.get("multicluster:mesh")
    if isinstance(mesh, dict):
        config["multicluster:mesh"] = mesh | {"scope": "residency"}
    observability = config.get("multicluster:observability")
    if isinstance(observability, dict):
        config["multicluster:observability"] = {k: v for k, v in observability.items() if k != "hub"} | {"hubs": hubs}
    return config | {"multicluster:quotas": raised_quotas(clusters)}


def raised_quotas(clusters: list[dict[str, Any]]) -> dict[str, Any]:
    eks_per_region: dict[str, int] = {}
    for cluster in clusters:
        if cluster["cloud"] == "aws":
            eks_per_region[cluster["region"]] = eks_per_region.get(cluster["region"], 0) + 1
    eks = sum(eks_per_region.values())
    checks = HEALTH_CHECKS_PER_EKS * eks + HEALTH_CHECKS_PER_GKE * (len(clusters) - eks)
    return {
        "aws": {
            "securityGroupRules": dict.fromkeys(sorted(eks_per_region), RAISED_SECURITY_GROUP_RULES),
            "elasticIps": {region: max(5, ELASTIC_IPS_PER_EKS * n) for region, n in sorted(eks_per_region.items())},
            **({"route53HealthChecks": checks} if checks > DEFAULT_HEALTH_CHECKS else {}),
        }
    }


def validate(config: dict[str, Any]) -> list[str]:
    """The config's problems, as the program would report them (empty when valid)."""
    try:
        validate_stack(*namespace_settings(settings_of(config)))
    except ConfigError as exc:
        return [str(issue) for issue in exc.issues]
    return []


# --- filling a block from its model -----------------------------------------------------------


def fill_model(model: type[BaseModel], config: dict[str, Any]) -> dict[str, Any]:
    """A value for `model` with every field set: features on, richest choices, plausible strings."""
    value = {}
    for name, info in model.model_fields.items():
        alias = info.alias or name
        if info.default is None and not _is_feature(info.annotation) and alias not in NEEDED_OPTIONALS:
            continue  # an optional override (version, id, hostname): its default is the realistic value
        filled = _fill(info.annotation, alias, config, info.default)
        if filled is not _SKIP:
            value[alias] = filled
    return value


_SKIP = object()


def _fill(annotation: Any, key: str, config: dict[str, Any], default: Any = PydanticUndefined) -> Any:
    annotation = _strip_annotated(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _fill(options[0], key, config, default) if options else _SKIP
    if origin is typing.Literal:
        return _choose(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return fill_model(annotation, config)
    if origin is list:
        item = _fill(typing.get_args(annotation)[0], key, config)
        return [] if item is _SKIP else [item]
    if origin is dict:
        return {}
    if annotation is bool:
        return not any(word in key.lower() for word in ("disable", "skip", "dry"))
    if annotation in (int, float):
        return default if default is not PydanticUndefined and default is not None else 1
    if annotation is str:
        return default if isinstance(default, str) else _string_for(key, config)
    return _SKIP


def _is_feature(annotation: Any) -> bool:
    """An optional sub-block or switch: filling it turns a feature on."""
    inner = _model_of(annotation)
    return inner is not None or bool in typing.get_args(_strip_annotated(annotation))


def _strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _choose(options: tuple[Any, ...]) -> Any:
    for preferred in PREFERRED:
        if preferred in options:
            return preferred
    return next((o for o in options if o != "none"), options[0])


def _string_for(key: str, config: dict[str, Any]) -> str:
    """A plausible string for a field, from its name."""
    lowered = key.lower()
    first = config["multicluster:clusters"][0]
    first_cluster = first["name"]
    # Members of the access block, by cloud (the field is named after the cloud).
    exact = {"aws": "arn:aws:iam::123456789012:role/bench", "gcp": "user:bench@example.com"}
    if key in exact:
        return exact[key]
    guesses = (
        (("billingaccount",), "01A2B3-C4D5E6-F7A8B9"),
        (("registries",), "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        (("region",), first["region"]),
        (("smarthost",), "smtp.example.com:587"),
        (("hub", "cluster", "primary"), first_cluster),
        (("url", "repo"), "https://github.com/acme/fleet-gitops.git"),
        (("zone", "domain", "host"), "bench.example.com"),
        (("bucket",), "acme-bench-backups"),
        (("email", "from"), "platform@example.com"),
        (("path",), "apps/bench"),
        (("namespace",), "bench"),
        (("schedule", "cron"), "0 3 * * *"),
        (("revision", "branch"), "main"),
        (("version",), "1.0.0"),
    )
    for words, guess in guesses:
        if any(word in lowered for word in words):
            return guess
    return "bench"


# --- repairing a block until the config accepts it ---------------------------------------------


def _accepted_block(config: dict[str, Any], key: str, block: dict[str, Any]) -> tuple[Any, str]:
    """The block minus the keys validation rejects, or (None, reason) when nothing validates."""
    prefix = f"multicluster:{key}"
    issues: list[str] = []
    for _ in range(MAX_REPAIRS):
        issues = validate({**config, prefix: block})
        mine = [i for i in issues if i.startswith(prefix)]
        if not issues:
            return block, ""
        if not mine or not _repair(block, mine, prefix, config):
            break
    return None, issues[0] if issues else "rejected"


def _repair(block: dict[str, Any], issues: list[str], prefix: str, config: dict[str, Any]) -> bool:
    """Fill the keys reported missing, remove the others the issues point at; True if anything changed."""
    changed = False
    for issue in issues:
        location, _, message = issue.partition(" ")
        path = location.removeprefix(prefix).lstrip(".")
        parts = [p for p in path.replace("[", ".").replace("]", "").split(".") if p]
        if not parts:
            return False
        if message.startswith("is required") and isinstance(target := _at(block, parts[:-1]), dict):
            changed |= parts[-1] not in target
            target.setdefault(parts[-1], _string_for(parts[-1], config))
        else:
            changed |= _drop(block, parts)
    return changed


def _at(data: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


def _drop(data: Any, parts: list[str]) -> bool:
    data = _at(data, parts[:-1])
    last = parts[-1]
    if isinstance(data, dict) and last in data:
        del data[last]
        return True
    if isinstance(data, list) and last.isdigit() and int(last) < len(data):
        del data[int(last)]
        return True
    return False


def _field_name(alias: str) -> str:
    return next(n for n, f in StackConfig.model_fields.items() if (f.alias or n) == alias)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip_annotated(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = options[0] if options else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
