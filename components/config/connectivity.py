"""Config block `multicluster:connectivity` (stub: filled in by its issue)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .base import Issue, Model

if TYPE_CHECKING:
    from .stack import StackConfig


class ConnectivityConfig(Model):
    """`multicluster:connectivity`."""

    mode: Literal["full-mesh", "hub-spoke", "none"] = "none"
    hub: str | None = None


def check(config: StackConfig) -> list[Issue]:
    """Problems of this block that need the rest of the config (e.g. cluster names)."""
    return []
