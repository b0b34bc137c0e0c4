"""Planning configs in tests through the same capture the offline plan uses."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from components.config import ConfigError, read_stack_file
from components.fleetplan import validate_stack
from components.program import main
from offline_plan import Plan, run_program

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT.parent / "shared" / "upstream"
SHIPPED = {
    "staging": ROOT / "Pulumi.staging.yaml",
    "prod": ROOT / "Pulumi.prod.yaml",
    **{f"examples/{p.stem}": p for p in sorted((ROOT / "examples").glob("*.yaml"))},
}


def stack_config(name: str) -> dict[str, Any]:
    """The `config:` mapping of a shipped stack or example, as a fresh dict to modify."""
    return copy.deepcopy(yaml.safe_load(SHIPPED[name].read_text())["config"])


def settings_of(config: dict[str, Any]) -> dict[str, str]:
    """A `config:` mapping as the engine passes it: `project:key` to text (objects as JSON)."""
    settings = {}
    for key, value in config.items():
        full_key = key if ":" in key else f"multicluster:{key}"
        settings[full_key] = value if isinstance(value, str) else json.dumps(value)
    return settings


def plan_config(config: str | dict[str, Any], stack: str = "test") -> Plan:
    """Plan a shipped stack (by name) or a `config:` mapping through the real program."""
    if isinstance(config, str):
        settings, secret_keys = read_stack_file(SHIPPED[config])
        return run_program(main, settings, secret_keys, config.rsplit("/", 1)[-1])
    return run_program(main, settings_of(config), [], stack)


# Test clusters expose their API to a documentation range, so that fleets without connectivity stay valid
# (a private API server must be reachable over a link by the clusters that call it).
TEST_ENDPOINT = {"privateAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}


def aws_cluster(name: str, region: str, index: int, role: str = "primary", **extra: Any) -> dict[str, Any]:
    """A valid AWS cluster entry whose ranges do not overlap others of a different index."""
    return {
        "name": name,
        "cloud": "aws",
        "region": region,
        "role": role,
        "kubernetesVersion": "1.33",
        "network": {"cidr": f"10.{index}.0.0/16", "serviceCidr": f"172.{16 + index}.0.0/16", "natGateways": "single"},
        "endpoint": dict(TEST_ENDPOINT),
        "nodePools": [{"name": "system", "machineType": "m7i.large", "minSize": 1, "maxSize": 3, "desiredSize": 1}],
        **extra,
    }


def gcp_cluster(name: str, region: str, index: int, role: str = "primary", **extra: Any) -> dict[str, Any]:
    """A valid GCP cluster entry whose ranges do not overlap others of a different index."""
    return {
        "name": name,
        "cloud": "gcp",
        "region": region,
        "role": role,
        "kubernetesVersion": "1.33",
        "network": {
            "cidr": f"10.{index}.0.0/16",
            "podCidr": f"10.{100 + index}.0.0/16",
            "serviceCidr": f"172.{16 + index}.0.0/16",
            "masterCidr": f"192.168.{index}.0/28",
        },
        "endpoint": dict(TEST_ENDPOINT),
        "nodePools": [{"name": "system", "machineType": "e2-standard-4", "minSize": 3, "maxSize": 6, "desiredSize": 3}],
        **extra,
    }


def fleet(*clusters: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """A `config:` mapping for a fleet of the given clusters."""
    return {
        "gcp:project": "acme-test",
        "multicluster:environment": settings.pop("environment", "test"),
        "multicluster:clusters": list(clusters),
        **{f"multicluster:{k}": v for k, v in settings.items()},
    }


def config_issues(config: dict[str, Any]) -> list[str]:
    """The validation problems of a `config:` mapping, as their messages ([] when it is valid)."""
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("multicluster:")}
    try:
        validate_stack(raw, config.get("gcp:project"))
    except ConfigError as err:
        return [str(issue) for issue in err.issues]
    return []
