"""Values in captured requests as the engine sees them: secrets (wrapped) and unknowns (not computed yet).

A registration request arrives with secrets wrapped (`rpc.wrap_rpc_secret`) and, during a preview,
unknowns as `pulumi.output.Unknown` objects or the wire sentinel `rpc.UNKNOWN`. The plan keeps three
views of the same value:
  - `plain`: secrets unwrapped and every unknown as the `UNKNOWN` marker (what rules and tests read);
  - `masked`: secrets as "[secret]", unknowns as "[unknown]" (what the reports print by default);
  - `shown`: secrets in clear, unknowns as "[unknown]" (`--show-secrets`).
"""

from __future__ import annotations

from typing import Any, TypeGuard

from pulumi.output import Unknown
from pulumi.runtime import rpc

SECRET = "[secret]"
UNKNOWN_TEXT = "[unknown]"


class _UnknownValue:
    """A value the engine does not know yet (computed during the update): the plan's single marker."""

    _instance: _UnknownValue | None = None

    def __new__(cls) -> _UnknownValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return UNKNOWN_TEXT

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _UnknownValue()


def is_dict(value: Any) -> TypeGuard[dict[Any, Any]]:
    """`isinstance(value, dict)` for values of unknown shape (JSON-like data), keys and values left open."""
    return isinstance(value, dict)


def is_list(value: Any) -> TypeGuard[list[Any]]:
    """`isinstance(value, list)` for values of unknown shape (JSON-like data)."""
    return isinstance(value, list)


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN or isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


def mark_secret(outputs: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: rpc.wrap_rpc_secret(v) if k in keys and not rpc.is_rpc_secret(v) else v for k, v in outputs.items()}


def contains_secret(value: Any) -> bool:
    if rpc.is_rpc_secret(value):
        return True
    if is_dict(value):
        return any(contains_secret(v) for v in value.values())
    if is_list(value):
        return any(contains_secret(v) for v in value)
    return False


def contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if rpc.is_rpc_secret(value):
        return contains_unknown(rpc.unwrap_rpc_secret(value))
    if is_dict(value):
        return any(contains_unknown(v) for v in value.values())
    if is_list(value):
        return any(contains_unknown(v) for v in value)
    return False


def _view(value: Any, secret: Any, unknown: Any) -> Any:
    if is_unknown(value):
        return unknown
    if rpc.is_rpc_secret(value):
        return _view(rpc.unwrap_rpc_secret(value), secret, unknown) if secret is None else secret
    if is_dict(value):
        return {k: _view(v, secret, unknown) for k, v in value.items()}
    if is_list(value):
        return [_view(v, secret, unknown) for v in value]
    return value


def plain(value: Any) -> Any:
    """Secrets unwrapped, unknowns as UNKNOWN."""
    return _view(value, None, UNKNOWN)


def masked(value: Any) -> Any:
    """For output that must not leak credentials: secrets as "[secret]", unknowns as "[unknown]"."""
    return _view(value, SECRET, UNKNOWN_TEXT)


def shown(value: Any) -> Any:
    """Secrets in clear (--show-secrets), unknowns as "[unknown]"."""
    return _view(value, None, UNKNOWN_TEXT)


def to_wire(value: Any) -> Any:
    """A deserialized value ready to be serialized back (a mock's state): unknowns as the wire sentinel."""
    if is_unknown(value):
        return rpc.UNKNOWN
    if rpc.is_rpc_secret(value):
        return rpc.wrap_rpc_secret(to_wire(rpc.unwrap_rpc_secret(value)))
    if is_dict(value):
        return {k: to_wire(v) for k, v in value.items()}
    if is_list(value):
        return [to_wire(v) for v in value]
    return value


def from_view(value: Any) -> Any:
    """A value read back from a JSON plan: "[unknown]" becomes UNKNOWN again, and "[secret]" a secret whose
    value the plan never saved (the engine's state has it; a preview from a saved plan cannot): an unknown
    secret, so what is computed from it stays unknown instead of being computed from the mask."""
    if value == UNKNOWN_TEXT:
        return UNKNOWN
    if value == SECRET:
        return rpc.wrap_rpc_secret(UNKNOWN)
    if is_dict(value):
        return {k: from_view(v) for k, v in value.items()}
    if is_list(value):
        return [from_view(v) for v in value]
    return value
