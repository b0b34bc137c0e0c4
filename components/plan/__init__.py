"""The offline plan: run the real program under mocks and show what `pulumi up` would do."""

from .capture import Plan, PlannedResource, run_program

__all__ = ["Plan", "PlannedResource", "run_program"]
