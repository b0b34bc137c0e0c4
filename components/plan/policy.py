"""Run the guardrail policies offline over a plan (stub: filled in by the delivery issue)."""

from __future__ import annotations

from typing import Any

from .capture import Plan


def run_policies(plan: Plan) -> list[dict[str, Any]]:
    return []
