"""Deterministic mock outputs for every resource type and invoke the program uses.

Each submodule registers the types of one cloud or capability with `@resource` / `@call`;
all submodules are imported here, so adding a file is enough to add mocks.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from ..secrets import unwrap_secrets

ACCOUNT_ID = "123456789012"
GCP_PROJECT_NUMBER = "481516234200"

ResourceMock = Callable[["MockResource"], dict[str, Any]]
CallMock = Callable[["MockCall"], dict[str, Any]]
RESOURCES: dict[str, ResourceMock] = {}
CALLS: dict[str, CallMock] = {}


def resource(*types: str) -> Callable[[ResourceMock], ResourceMock]:
    def register(fn: ResourceMock) -> ResourceMock:
        for type_ in types:
            RESOURCES[type_] = fn
        return fn

    return register


def call(*tokens: str) -> Callable[[CallMock], CallMock]:
    def register(fn: CallMock) -> CallMock:
        for token in tokens:
            CALLS[token] = fn
        return fn

    return register


def digest(*parts: Any, length: int = 16) -> str:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:length]


def fake_certificate(*parts: Any) -> str:
    """A base64 PEM block, shaped like the CA data clouds return (content is not a real cert)."""
    body = base64.b64encode(hashlib.sha512("/".join(parts).encode()).digest() * 6).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    pem = f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"
    return base64.b64encode(pem.encode()).decode()


@dataclass
class MockResource:
    type: str
    name: str
    inputs: dict[str, Any]
    provider: dict[str, Any]

    def hex(self, length: int = 17) -> str:
        return digest(self.type, self.name, length=length)

    @property
    def region(self) -> str:
        return self.inputs.get("region") or self.provider.get("region") or "us-east-1"

    @property
    def project(self) -> str:
        return self.inputs.get("project") or self.provider.get("project") or "mock-project"

    def auto_name(self, max_length: int = 64) -> str:
        """What Pulumi auto-naming gives: the resource name and a random-looking suffix."""
        return f"{self.name[: max_length - 8]}-{self.hex(7)}"


@dataclass
class MockCall:
    token: str
    args: dict[str, Any]
    provider: dict[str, Any]

    @property
    def region(self) -> str:
        return self.args.get("region") or self.provider.get("region") or "us-east-1"

    @property
    def project(self) -> str:
        return self.args.get("project") or self.provider.get("project") or "mock-project"


@dataclass
class FleetMocks(pulumi_mocks.Mocks):
    stack: str = "stack"
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = unwrap_secrets(args.inputs)
        if args.custom is False:  # component resources; reads (Resource.get) arrive with custom=None
            return None, {}
        if args.typ.startswith("pulumi:providers:"):
            self.providers[args.name] = inputs
            return f"{args.name}-{digest(args.typ, args.name, length=8)}", dict(args.inputs)
        mock = MockResource(args.typ, args.name, inputs, self._provider_inputs(args.provider))
        computed = RESOURCES[args.typ](mock) if args.typ in RESOURCES else {}
        # Echo the raw inputs so that secret inputs stay secret in the outputs, as with a real engine.
        outputs = {**args.inputs, **computed}
        resource_id = outputs.pop("id", None) or f"{args.name}-{mock.hex(8)}"
        return resource_id, outputs

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict:
        if args.token not in CALLS:
            raise NotImplementedError(f"no mock for invoke {args.token}: add one in components/plan/mocks/")
        return CALLS[args.token](MockCall(args.token, unwrap_secrets(args.args), self._provider_inputs(args.provider)))

    def _provider_inputs(self, reference: str | None) -> dict[str, Any]:
        # A provider reference is "<urn>::<id>"; the URN ends with the provider's name.
        if not reference:
            return {}
        urn = reference.rsplit("::", 1)[0]
        return self.providers.get(urn.rsplit("::", 1)[-1], {})


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
