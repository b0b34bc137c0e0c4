"""The Pulumi program: validate the stack config and its fleet plan, build the fleet, export its outputs."""

from __future__ import annotations

import pulumi

from .config import ConfigError, load_stack_config
from .fleet import Fleet, build_fleet
from .fleetplan import plan_fleet
from .runtime import tune_garbage_collection


def main() -> Fleet:
    """Entry point shared by `__main__.py` and the offline plan."""
    tune_garbage_collection()
    try:
        config = load_stack_config()
        plan = plan_fleet(config)  # judged across blocks
    except ConfigError as exc:
        # RunError ends `pulumi up` with the message only, before any resource is registered.
        raise pulumi.RunError(str(exc)) from None
    fleet = build_fleet(config, plan)
    for key, value in fleet.outputs().items():
        pulumi.export(key, value)
    return fleet
