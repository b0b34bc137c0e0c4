"""The offline plan: run the real program under mocks and show what `pulumi up` would do.

The exports load on first use, so that `python -m offline_plan` can start without the SDK and
find the project's virtualenv first (see __main__.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .capture import Plan, PlannedResource, run_program

__all__ = ["Plan", "PlannedResource", "run_program"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import capture

        return getattr(capture, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
