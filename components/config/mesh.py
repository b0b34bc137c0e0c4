"""Config block `multicluster:mesh` (stub: filled in by its issue)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Issue, Model

if TYPE_CHECKING:
    from .stack import StackConfig


class MeshConfig(Model):
    """`multicluster:mesh`."""


def check(config: StackConfig) -> list[Issue]:
    """Problems of this block that need the rest of the config (e.g. cluster names)."""
    return []
