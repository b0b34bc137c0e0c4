"""Run the real program under Pulumi mocks and capture what the engine would receive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import pulumi
from google.protobuf import empty_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import alias_pb2, resource_pb2
from pulumi.runtime.stack import run_in_stack

# The SDK's own MockMonitor drives the event loop with these; the SDK has no public equivalent.
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await  # pyright: ignore[reportPrivateUsage]

from .mocks import FleetMocks, Observer
from .values import contains_secret, is_dict, is_list, mark_secret, plain

PROJECT = "multicluster"
Mode = Literal["up", "preview"]


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
    ignore_changes: list[str] = field(default_factory=list[str])
    id: str | None = None
    # The inputs after the provider's Check (its auto-names added): what resource policies and the clouds see.
    checked: dict[str, Any] = field(default_factory=dict[str, Any])
    auto_names: dict[str, str] = field(default_factory=dict[str, str])
    aliases: list[str] = field(default_factory=list[str])
    # As registered, with secrets still wrapped: what masking works from.
    raw_inputs: dict[str, Any] = field(default_factory=dict[str, Any], repr=False)
    raw_outputs: dict[str, Any] = field(default_factory=dict[str, Any], repr=False)

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
    mode: Mode = "up"
    # The stack's config as the program received it (`project:key` -> text).
    config: dict[str, str] = field(default_factory=dict[str, str])
    # Providers whose configuration held an unknown (preview): what they deploy has no outputs yet.
    unconfigured_providers: list[str] = field(default_factory=list[str])

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
        found: list[PlannedResource] = []
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

    def waits_for(self, resource: PlannedResource) -> frozenset[str]:
        """Every URN the engine finishes before it starts `resource`: its dependencies and theirs (the engine's
        dependencies are transitive, so a resource names only the ends of a chain it waits for)."""
        seen: set[str] = set()
        todo = list(resource.dependencies)
        by_urn = {r.urn: r for r in self.resources}
        while todo:
            urn = todo.pop()
            if urn not in seen:
                seen.add(urn)
                todo.extend(by_urn[urn].dependencies if urn in by_urn else ())
        return frozenset(seen)

    @property
    def _parents(self) -> dict[str, str | None]:
        return {r.urn: r.parent for r in self.resources}


@dataclass
class Captured:
    """One registration: the request, and what the mocks answered."""

    request: resource_pb2.RegisterResourceRequest
    id: str | None
    state: dict[str, Any]
    checked: dict[str, Any]
    auto_names: dict[str, str]


class CaptureMonitor(pulumi_mocks.MockMonitor):
    """A resource monitor that keeps the whole registration request and routes it to the fleet's mocks."""

    def __init__(self, mocks: FleetMocks):
        # Not a pulumi Mocks: the methods below route every request to the fleet's mocks themselves.
        super().__init__(cast(pulumi_mocks.Mocks, mocks))
        self.fleet = mocks
        self.captured: dict[str, Captured] = {}
        self.registered_outputs: dict[str, Any] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return engine_urn(pulumi.get_stack(), PROJECT, parent, type_, name)

    @property
    def requests(self) -> dict[str, resource_pb2.RegisterResourceRequest]:
        """URN -> the registration request, in registration order."""
        return {urn: captured.request for urn, captured in self.captured.items()}

    def RegisterResource(  # noqa: N802 (gRPC method name)
        self, request: resource_pb2.RegisterResourceRequest
    ) -> resource_pb2.RegisterResourceResponse:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.captured[urn] = Captured(request, None, {}, {}, {})
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        answer = self.fleet.register(
            urn, request.type, request.name, inputs, request.provider or None, bool(request.custom)
        )
        self.captured[urn] = Captured(request, answer.id, answer.state, answer.checked, answer.auto_names)
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, answer.id or "", answer.state)
        state = _sync_await(rpc.serialize_properties(answer.state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=answer.id or "", object=state)

    def ReadResource(self, request: resource_pb2.ReadResourceRequest) -> resource_pb2.ReadResourceResponse:  # noqa: N802
        _ensure_event_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        properties = rpc.deserialize_properties(request.properties, keep_unknowns=True)
        answer = self.fleet.register(urn, request.type, request.name, properties, request.provider or None, True)
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, request.id, answer.state)
        state = _sync_await(rpc.serialize_properties(answer.state, {}))
        return resource_pb2.ReadResourceResponse(urn=urn, properties=state)

    def Invoke(self, request: resource_pb2.ResourceInvokeRequest) -> resource_pb2.ResourceInvokeResponse:  # noqa: N802
        _ensure_event_loop()
        if request.tok == "pulumi:pulumi:getResource":
            # The SDK's MockMonitor leaves its request parameters unannotated.
            return super().Invoke(request)  # pyright: ignore[reportUnknownMemberType]
        args = rpc.deserialize_properties(request.args, keep_unknowns=True)
        result = self.fleet.call(request.tok, args, request.provider or None)
        payload = _sync_await(rpc.serialize_properties(result, {}))
        # The stub leaves out the `return` field (a Python keyword), which the message has.
        return resource_pb2.ResourceInvokeResponse(failures=None, **{"return": payload})  # pyright: ignore[reportArgumentType]

    def RegisterResourceOutputs(self, request: resource_pb2.RegisterResourceOutputsRequest) -> empty_pb2.Empty:  # noqa: N802
        self.registered_outputs[request.urn] = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        # The SDK's MockMonitor leaves its request parameters unannotated.
        return super().RegisterResourceOutputs(request)  # pyright: ignore[reportUnknownMemberType]


def run_program(
    program: Callable[[], Any],
    config: dict[str, str],
    secret_keys: list[str],
    stack: str,
    monitor: CaptureMonitor | None = None,
    preview: bool = False,
    state: dict[str, dict[str, Any]] | None = None,
    observers: list[Observer] | None = None,
) -> Plan:
    """Run `program` as `pulumi up` (or, with `preview`, a `pulumi preview`) would, against mocks.

    `state` holds the resources of an existing stack (URN -> {"id", "outputs"}): a preview then treats
    them as existing. Pass `monitor` to inspect what was registered even when the program fails.
    """
    monitor = monitor or CaptureMonitor(
        FleetMocks(stack=stack, preview=preview, state=dict(state or {}), observers=list(observers or []))
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi_mocks.set_mocks(
            monitor.mocks, project=PROJECT, stack=stack, preview=monitor.fleet.preview, monitor=monitor
        )
        # MockSettings keeps the previous run's pending outputs (a failed run leaves tasks of its closed loop).
        # (The SDK types its context properties as methods, so pyright sees no setter.)
        settings.SETTINGS.outputs = set()  # pyright: ignore[reportAttributeAccessIssue]
        # run_in_stack creates the stack resource, as the engine does. (The SDK's `root` parameter leaves out the
        # None it accepts and stores.)
        settings.set_root_resource(None)  # pyright: ignore[reportArgumentType]
        pulumi.runtime.set_all_config(dict(config), list(secret_keys))
        loop.run_until_complete(run_in_stack(program))
    finally:
        # A failed program leaves registrations in flight: cancel them, as the engine ends the run.
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)
        pulumi.runtime.set_all_config({}, [])
        settings.set_root_resource(None)  # pyright: ignore[reportArgumentType] (None: see above)
    return capture_plan(monitor, stack, config)


def capture_plan(monitor: CaptureMonitor, stack: str, config: dict[str, str] | None = None) -> Plan:
    resources: list[PlannedResource] = []
    stack_urn = None
    for urn, captured in monitor.captured.items():
        request = captured.request
        if request.type == "pulumi:pulumi:Stack":
            stack_urn = urn
            continue
        raw_inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        custom = bool(request.custom)
        outputs = captured.state if custom else monitor.registered_outputs.get(urn, {})
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
                inputs=plain(raw_inputs),
                outputs=plain(outputs),
                secret_inputs=sorted(k for k, v in raw_inputs.items() if contains_secret(v)),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                ignore_changes=sorted(request.ignoreChanges),
                id=captured.id or None,
                checked=captured.checked if custom else {},
                auto_names=dict(captured.auto_names),
                aliases=_aliases(request),
                raw_inputs=raw_inputs,
                raw_outputs=outputs,
            )
        )
    resources.sort(key=lambda r: r.urn)
    stack_outputs: dict[str, Any] = monitor.registered_outputs.get(stack_urn, {}) if stack_urn else {}
    fleet = monitor.fleet
    return Plan(
        project=PROJECT,
        stack=stack,
        resources=resources,
        outputs=plain(stack_outputs),
        raw_outputs=stack_outputs,
        secret_outputs=sorted(k for k, v in stack_outputs.items() if contains_secret(v)),
        mode="preview" if fleet.preview else "up",
        config=dict(config or {}),
        unconfigured_providers=sorted(fleet.unconfigured),
    )


ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def engine_urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """A URN as the engine makes it (pkg/resource/deploy step_generator generateURN): the parent's qualified
    type prefixes the type, except the root stack's, so top-level resources carry no `pulumi:pulumi:Stack$`
    (the SDK's MockMonitor adds it; real URNs do not)."""
    qualified = parent.split("::")[2] if parent else ""
    if qualified and qualified.split("$")[-1] != ROOT_STACK_TYPE:
        type_ = f"{qualified}${type_}"
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def _aliases(request: resource_pb2.RegisterResourceRequest) -> list[str]:
    """The URNs a resource was known by before, resolved as the engine resolves alias specs
    (pkg/resource/deploy source_eval.go: name, type, stack and project default to the resource's own; the
    parent to its current parent unless the spec sets parentUrn or noParent)."""
    found: list[str] = []
    current_stack = request.name and pulumi.get_stack()
    # The stub names the element type pulumi.alias_pb2.Alias, a module that is pulumi.runtime.proto.alias_pb2.
    aliases = cast(Iterable[alias_pb2.Alias], request.aliases)  # pyright: ignore[reportUnknownMemberType]
    for alias in aliases:
        if alias.urn:
            found.append(alias.urn)
            continue
        spec = alias.spec
        parent = "" if spec.noParent else (spec.parentUrn or request.parent)
        found.append(
            engine_urn(
                spec.stack or current_stack, spec.project or PROJECT, parent, spec.type or request.type,
                spec.name or request.name,
            )
        )  # fmt: skip
    return sorted(found)


def _lookup(data: Any, path: str, default: Any) -> Any:
    for part in path.split("."):
        if is_dict(data) and part in data:
            data = data[part]
        elif is_list(data) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return default
    return data
