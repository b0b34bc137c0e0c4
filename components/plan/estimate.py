"""Deploy-time estimate from the planned dependency graph (stub: filled in by the performance issue)."""

from __future__ import annotations

from typing import Any

from .capture import Plan

DEFAULT_PARALLELISM = 16


def estimate(plan: Plan, parallelism: int = DEFAULT_PARALLELISM) -> dict[str, Any]:
    """Critical path and estimated `pulumi up` minutes; {} until implemented."""
    return {}
