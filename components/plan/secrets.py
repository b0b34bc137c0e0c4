"""Pulumi secrets in captured requests: wrapped values as the engine receives them, and views of them."""

from __future__ import annotations

from typing import Any

from pulumi.runtime import rpc

SECRET = "[secret]"


def mark_secret(outputs: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: rpc.wrap_rpc_secret(v) if k in keys and not rpc.is_rpc_secret(v) else v for k, v in outputs.items()}


def contains_secret(value: Any) -> bool:
    if rpc.is_rpc_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


def unwrap_secrets(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return unwrap_secrets(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def mask_secrets(value: Any) -> Any:
    """Replace every secret value by a marker, for output that must not leak credentials."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value
