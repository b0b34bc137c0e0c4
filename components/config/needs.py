"""What the capabilities need from each other across the fleet, declared by each block and acted on by others.

A block declares, from the validated config, the ports a cluster opens to a peer and the clusters that call a
cluster's API server (with why). Connectivity opens what is declared over the links it builds, public API
servers admit the declared callers, the judge checks the declared paths: none of them knows which capability
asked. The fleet plan (components/fleetplan.py) records the aggregate once.

Adding a capability with cross-cluster traffic: a `needs` function in its block module, named in its
`BlockRules`; `StackConfig.needs()` (config/stack.py) aggregates every block's, once per config.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FleetPort:
    """A TCP port the fleet opens between linked clusters, and why."""

    name: str
    port: int


@dataclass(frozen=True)
class Needs:
    """One block's declared cross-cluster needs."""

    # (target, peer) -> the ports `target` opens to `peer`.
    ports: Mapping[tuple[str, str], tuple[FleetPort, ...]] = field(
        default_factory=dict[tuple[str, str], tuple[FleetPort, ...]]
    )
    # target -> caller -> why the caller calls the target's API server.
    api_callers: Mapping[str, Mapping[str, str]] = field(default_factory=dict[str, Mapping[str, str]])
    # GKE clusters whose pods assume AWS roles: AWS must trust their issuers (components/federation.py).
    aws_trusts: frozenset[str] = frozenset()
    # What gcp:project must serve outside any cluster (components/gcp_project.py APIS purposes).
    gcp_project_purposes: tuple[str, ...] = ()
    # Callers that only add themselves where no other block already named them (the deployer's cluster).
    fallback: bool = False


DEPLOYER = "where Pulumi runs (multicluster:deployer.network)"


@dataclass(frozen=True)
class FleetNeeds:
    """The aggregate of every block's needs."""

    ports: Mapping[tuple[str, str], tuple[FleetPort, ...]]
    api_callers: Mapping[str, Mapping[str, str]]
    aws_trusts: frozenset[str] = frozenset()
    gcp_project_purposes: tuple[str, ...] = ()

    def ports_between(self, target: str, peer: str) -> tuple[FleetPort, ...]:
        return self.ports.get((target, peer), ())

    def callers_of(self, target: str) -> dict[str, str]:
        return dict(self.api_callers.get(target, {}))


def aggregate(declarations: Iterable[Needs]) -> FleetNeeds:
    """The needs of every block, in precedence order (a later block renames a caller an earlier one named; a
    fallback declaration only adds callers no other block named)."""
    ports: dict[tuple[str, str], tuple[FleetPort, ...]] = {}
    callers: dict[str, dict[str, str]] = {}
    trusts: set[str] = set()
    purposes: list[str] = []
    for needs in declarations:
        trusts |= needs.aws_trusts
        purposes += [p for p in needs.gcp_project_purposes if p not in purposes]
        for pair, declared in needs.ports.items():
            ports[pair] = (*ports.get(pair, ()), *(p for p in declared if p not in ports.get(pair, ())))
        for target, named in needs.api_callers.items():
            into = callers.setdefault(target, {})
            for caller, why in named.items():
                if caller == target:
                    continue
                if needs.fallback:
                    into.setdefault(caller, why)
                else:
                    into[caller] = why
    return FleetNeeds(ports, callers, frozenset(trusts), tuple(purposes))
