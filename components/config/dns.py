"""Config block `multicluster:dns` (stub: filled in by its issue)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Issue, Model

if TYPE_CHECKING:
    from .stack import StackConfig


class DnsConfig(Model):
    """`multicluster:dns`."""


def check(config: StackConfig) -> list[Issue]:
    """Problems of this block that need the rest of the config (e.g. cluster names)."""
    return []
