"""Markdown report of a plan for pull requests (stub: filled in by the delivery issue)."""

from __future__ import annotations

from typing import Any

from .capture import Plan


def render(plan: Plan, options: Any) -> str:
    return f"# Plan for stack `{plan.stack}`\n\n{sum(1 for r in plan.resources if r.custom)} resources.\n"
