"""Deterministic mock outputs for every resource type and invoke the program uses.

Each submodule registers the types of one cloud or capability with `@resource` / `@call`;
all submodules are imported here, so adding a file is enough to add mocks. A type registered
twice is an error: the second registration would silently replace the first.

The mocks answer as the engine and the providers would:
  - `pulumi up` (the default): a resource's outputs are its inputs (after the provider's auto-naming)
    plus what the provider computes;
  - `--engine-preview` (the first `pulumi preview` of a new stack): a provider whose configuration holds
    an unknown stays unconfigured and every resource through it gets no outputs at all (the engine hands
    back an empty property map, which the SDK reads as all unknown); every other new resource gets its
    inputs back with every computed output unknown, nested ones included; auto-names stay known, as the
    provider computes them in Check; ids are unknown. Resources already in a saved state (an update
    preview) keep the outputs the state holds.
See docs/judge.md for the sources and for where this still differs from the engine.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc

from ..autonames import apply_auto_names
from ..values import UNKNOWN, UNKNOWN_TEXT, contains_unknown, from_view, is_dict, is_list, is_unknown, plain, to_wire

ACCOUNT_ID = "123456789012"
GCP_PROJECT_NUMBER = "481516234200"
# The engine gives a provider created during a preview this id (plugin.UnknownStringValue).
UNKNOWN_ID = rpc.UNKNOWN

ResourceMock = Callable[["MockResource"], dict[str, Any]]
CallMock = Callable[["MockCall"], dict[str, Any]]
RESOURCES: dict[str, ResourceMock] = {}
CALLS: dict[str, CallMock] = {}


class DuplicateMockError(Exception):
    """A type or invoke token registered twice: the second mock would silently replace the first."""


def resource(*types: str) -> Callable[[ResourceMock], ResourceMock]:
    def register(fn: ResourceMock) -> ResourceMock:
        for type_ in types:
            if type_ in RESOURCES:
                raise DuplicateMockError(f"{type_} is mocked twice ({RESOURCES[type_].__module__} and {fn.__module__})")
            RESOURCES[type_] = fn
        return fn

    return register


def call(*tokens: str) -> Callable[[CallMock], CallMock]:
    def register(fn: CallMock) -> CallMock:
        for token in tokens:
            if token in CALLS:
                raise DuplicateMockError(f"{token} is mocked twice ({CALLS[token].__module__} and {fn.__module__})")
            CALLS[token] = fn
        return fn

    return register


def digest(*parts: Any, length: int = 16) -> str:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:length]


def fake_certificate(*parts: Any) -> str:
    """A base64 PEM block, shaped like the CA data clouds return (content is not a real cert)."""
    body = base64.b64encode(hashlib.sha512("/".join(map(str, parts)).encode()).digest() * 6).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    pem = f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"
    return base64.b64encode(pem.encode()).decode()


@dataclass
class MockResource:
    """A resource as its provider sees it: inputs after Check (auto-names included), its provider's config."""

    type: str
    name: str
    inputs: dict[str, Any]
    provider: dict[str, Any]
    stack: str = "stack"
    # The state of an already created resource by its id (a cluster's subnets, say), or None.
    lookup: Callable[[Any], dict[str, Any] | None] = field(default=lambda _id: None, repr=False)

    def hex(self, length: int = 17) -> str:
        """Random-looking, deterministic per stack: two stacks never share an id (as real clouds do)."""
        return digest(self.stack, self.type, self.name, length=length)

    def random(self, *parts: Any, length: int = 16) -> str:
        """Another random-looking value of this resource (hex), deterministic per stack."""
        return digest(self.stack, self.type, self.name, *parts, length=length)

    @property
    def region(self) -> str:
        return self.inputs.get("region") or self.provider.get("region") or "us-east-1"

    @property
    def project(self) -> str:
        return self.inputs.get("project") or self.provider.get("project") or "mock-project"


@dataclass
class MockCall:
    token: str
    args: dict[str, Any]
    provider: dict[str, Any]
    stack: str = "stack"

    @property
    def region(self) -> str:
        return self.args.get("region") or self.provider.get("region") or "us-east-1"

    @property
    def project(self) -> str:
        return self.args.get("project") or self.provider.get("project") or "mock-project"


@dataclass
class Registration:
    """What the provider answers for one resource: its id, its state and its inputs after Check."""

    id: str | None
    state: dict[str, Any]
    checked: dict[str, Any]
    auto_names: dict[str, str] = field(default_factory=dict[str, str])


@dataclass(frozen=True)
class Observed:
    """A custom resource as its provider's Check saw it: what the judge looks at."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]  # plain, after Check (auto-names added where the provider adds them)
    provider: dict[str, Any]  # the provider's plain configuration
    refused: Exception | None = None  # the provider's Check failed (an auto-name that does not fit)


Observer = Callable[[Observed], None]


@dataclass
class FleetMocks:
    """The providers of the fleet, as the engine drives them in an update or a preview."""

    stack: str = "stack"
    preview: bool = False
    # URN -> the saved resource ({"id", "outputs"}) of an existing stack, for an update preview.
    state: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    observers: list[Observer] = field(default_factory=list[Observer])
    # Provider URN -> its (plain) configuration; the URNs whose configuration holds an unknown.
    providers: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    unconfigured: set[str] = field(default_factory=set[str])
    # id -> the plain state of every resource created so far (what a later resource can refer to).
    created: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])

    # --- what the monitor calls ---------------------------------------------------------------
    def register(
        self, urn: str, type_: str, name: str, inputs: dict[str, Any], provider_ref: str | None, custom: bool
    ) -> Registration:
        if not custom:  # component resources: the engine keeps what register_outputs says
            return Registration(None, {}, {})
        if type_.startswith("pulumi:providers:"):
            return self._provider(urn, inputs)
        provider_urn = _provider_urn(provider_ref)
        configuration = self.providers.get(provider_urn or "", {})
        if self.preview and provider_urn in self.unconfigured:
            # Check echoes the inputs (no auto-names) and Create hands back an empty property map:
            # every output, the id included, is unknown.
            checked_plain = plain(inputs)
            self._observe(Observed(urn, type_, name, checked_plain, configuration))
            return Registration(None, {}, checked_plain)
        checked_plain, auto_names, refused = apply_auto_names(type_, name, plain(inputs), self.stack, urn)
        self._observe(Observed(urn, type_, name, checked_plain, configuration, refused))
        wire_inputs = {**inputs, **auto_names}
        if urn in self.state:
            saved = self.state[urn]
            return Registration(
                saved.get("id") or None, to_wire(from_view(saved["outputs"])), checked_plain, auto_names
            )
        mock = RESOURCES.get(type_)
        if self.preview:
            computed = self._computed_in_preview(mock, type_, name, checked_plain, configuration)
            return Registration(None, preview_state(wire_inputs, computed), checked_plain, auto_names)
        resource = MockResource(type_, name, checked_plain, configuration, self.stack, self.created.get)
        computed = mock(resource) if mock else {}
        resource_id = computed.pop("id", None) or f"{name}-{digest(self.stack, type_, name, length=8)}"
        # Echo the raw inputs so that secret inputs stay secret in the outputs, as with a real engine.
        state = {**wire_inputs, **computed}
        self.created[resource_id] = plain(state)
        return Registration(resource_id, state, checked_plain, auto_names)

    def call(self, token: str, args: dict[str, Any], provider_ref: str | None) -> dict[str, Any]:
        if token not in CALLS:
            raise NotImplementedError(f"no mock for invoke {token}: add one in offline_plan/mocks/")
        provider_urn = _provider_urn(provider_ref)
        if self.preview and provider_urn in self.unconfigured:
            return {}  # an unconfigured provider answers every invoke with an empty property map
        configuration = self.providers.get(provider_urn or "", {})
        return CALLS[token](MockCall(token, plain(args), configuration, self.stack))

    def _observe(self, observed: Observed) -> None:
        for observe in self.observers:
            observe(observed)

    # --- providers -----------------------------------------------------------------------------
    def _provider(self, urn: str, inputs: dict[str, Any]) -> Registration:
        configuration = plain(inputs)
        self.providers[urn] = configuration
        if contains_unknown(configuration):
            self.unconfigured.add(urn)
        if urn in self.state:
            return Registration(self.state[urn].get("id") or UNKNOWN_ID, dict(inputs), configuration)
        name = urn.rsplit("::", 1)[-1]
        resource_id = UNKNOWN_ID if self.preview else f"{name}-{digest(self.stack, urn, length=8)}"
        return Registration(resource_id, dict(inputs), configuration)

    def _computed_in_preview(
        self, mock: ResourceMock | None, type_: str, name: str, inputs: dict[str, Any], configuration: dict[str, Any]
    ) -> dict[str, Any]:
        """Which outputs the provider computes (their values are not known before the create)."""
        if mock is None:
            return {}
        try:
            resource = MockResource(type_, name, _placeholders(inputs), _placeholders(configuration), self.stack)
            return mock(resource)
        except Exception:  # a mock that needs a value not known yet: every output stays unknown
            return {}


def preview_state(inputs: dict[str, Any], computed: dict[str, Any]) -> dict[str, Any]:
    """The planned state of a create: the inputs, and every computed attribute unknown (nested ones too)."""
    state = dict(inputs)
    for key, value in computed.items():
        if key == "id":
            continue
        given = inputs.get(key)
        if key not in inputs or given is None:
            state[key] = rpc.UNKNOWN
        elif is_dict(value) and is_dict(given):
            state[key] = preview_state(given, value)
        elif is_list(value) and is_list(given) and len(value) == len(given):
            state[key] = [
                preview_state(g, v) if is_dict(g) and is_dict(v) else g for g, v in zip(given, value, strict=True)
            ]
    return state


def _placeholders(value: Any) -> Any:
    """Inputs for a mock run that only tells which outputs exist: unknowns as a placeholder string."""
    if is_unknown(value) or value is UNKNOWN:
        return UNKNOWN_TEXT
    if is_dict(value):
        return {k: _placeholders(v) for k, v in value.items()}
    if is_list(value):
        return [_placeholders(v) for v in value]
    return value


def _provider_urn(reference: str | None) -> str | None:
    # A provider reference is "<urn>::<id>".
    return reference.rsplit("::", 1)[0] if reference else None


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
