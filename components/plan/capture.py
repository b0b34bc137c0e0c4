"""Run the real program under Pulumi mocks and capture what the engine would receive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_in_stack

from .mocks import FleetMocks
from .secrets import contains_secret, mark_secret, unwrap_secrets

PROJECT = "multicluster"


@dataclass
class PlannedResource:
    """One registration request, as the engine would see it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    dependencies: list[str]
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    secret_inputs: list[str]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    ignore_changes: list[str] = field(default_factory=list)
    id: str | None = None
    # As registered, with secrets still wrapped: what masking works from.
    raw_inputs: dict[str, Any] = field(default_factory=dict, repr=False)
    raw_outputs: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def provider_urn(self) -> str | None:
        return self.provider.rsplit("::", 1)[0] if self.provider else None

    def input(self, path: str, default: Any = None) -> Any:
        """Dotted lookup in the (secret-unwrapped) inputs: 'vpcConfig.endpointPublicAccess'."""
        return _lookup(self.inputs, path, default)

    def output(self, path: str, default: Any = None) -> Any:
        return _lookup(self.outputs, path, default)


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    raw_outputs: dict[str, Any]
    secret_outputs: list[str]

    def __iter__(self) -> Iterator[PlannedResource]:
        return iter(self.resources)

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str, type_: str | None = None) -> PlannedResource:
        matches = [r for r in self.resources if r.name == name and (type_ is None or r.type == type_)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r} (type {type_})")
        return matches[0]

    def by_urn(self, urn: str) -> PlannedResource:
        return next(r for r in self.resources if r.urn == urn)

    def children(self, parent: PlannedResource | str, type_: str | None = None) -> list[PlannedResource]:
        """Resources whose parent chain includes `parent`."""
        root = parent if isinstance(parent, str) else parent.urn
        parents = self._parents  # built once: rebuilding it per step made this quadratic
        found = []
        for r in self.resources:
            ancestor = r.parent
            while ancestor:
                if ancestor == root:
                    if type_ is None or r.type == type_:
                        found.append(r)
                    break
                ancestor = parents.get(ancestor)
        return found

    def component(self, name: str) -> PlannedResource:
        return next(r for r in self.resources if r.name == name and not r.custom)

    @property
    def _parents(self) -> dict[str, str | None]:
        return {r.urn: r.parent for r in self.resources}


class CaptureMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps the whole registration request, not just inputs."""

    def __init__(self, mocks: FleetMocks):
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}
        self.registered_outputs: dict[str, Any] = {}
        self.ids: dict[str, str] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        self.requests[response.urn] = request
        self.ids[response.urn] = response.id
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        self.registered_outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


def run_program(
    program: Callable[[], Any],
    config: dict[str, str],
    secret_keys: list[str],
    stack: str,
    monitor: CaptureMonitor | None = None,
) -> Plan:
    """Run `program` as `pulumi up` would, against mocks, and return what it registered.

    Pass `monitor` to inspect what was registered even when the program fails.
    """
    monitor = monitor or CaptureMonitor(FleetMocks(stack=stack))
    mocks = monitor.mocks
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi_mocks.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
        settings.set_root_resource(None)  # run_in_stack creates the stack resource, as the engine does
        pulumi.runtime.set_all_config(dict(config), list(secret_keys))
        loop.run_until_complete(run_in_stack(program))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)
        pulumi.runtime.set_all_config({}, [])
        settings.set_root_resource(None)
    return _plan(monitor, stack)


def _plan(monitor: CaptureMonitor, stack: str) -> Plan:
    resources = []
    stack_urn = None
    for urn, request in monitor.requests.items():
        if request.type == "pulumi:pulumi:Stack":
            stack_urn = urn
            continue
        raw_inputs = rpc.deserialize_properties(request.object)
        custom = bool(request.custom)
        registration = monitor.resources.get(urn)
        outputs = (registration.state if registration else {}) if custom else monitor.registered_outputs.get(urn, {})
        # The engine keeps these outputs secret (private keys, passwords, tokens): so does the plan.
        outputs = mark_secret(outputs, set(request.additionalSecretOutputs))
        resources.append(
            PlannedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=custom,
                parent=request.parent or None,
                provider=request.provider or None,
                dependencies=sorted(set(request.dependencies)),
                inputs=unwrap_secrets(raw_inputs),
                outputs=unwrap_secrets(outputs),
                secret_inputs=sorted(k for k, v in raw_inputs.items() if contains_secret(v)),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                ignore_changes=sorted(request.ignoreChanges),
                id=monitor.ids.get(urn) or None,
                raw_inputs=raw_inputs,
                raw_outputs=outputs,
            )
        )
    resources.sort(key=lambda r: r.urn)
    stack_outputs = monitor.registered_outputs.get(stack_urn, {}) if stack_urn else {}
    return Plan(
        project=PROJECT,
        stack=stack,
        resources=resources,
        outputs=unwrap_secrets(stack_outputs),
        raw_outputs=stack_outputs,
        secret_outputs=sorted(k for k, v in stack_outputs.items() if contains_secret(v)),
    )


def _lookup(data: Any, path: str, default: Any) -> Any:
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return default
    return data
