"""The URNs of the shipped stacks and examples are a contract: a change that renames one replaces a live resource.

tests/golden/<stack>.urns lists every URN the plan registers (URNs as the engine makes them). A change that
adds resources adds lines; one that removes or renames a URN must say why in its commit (an alias keeps a
renamed resource). After an intended change, regenerate with:

    UPDATE_GOLDEN=1 venv/bin/python -m pytest tests/test_golden_urns.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import SHIPPED, plan_config

GOLDEN = Path(__file__).parent / "golden"


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name.replace('/', '-')}.urns"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_shipped_urns_do_not_change_by_accident(name):
    urns = sorted(r.urn for r in plan_config(name).resources)
    path = golden_path(name)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text("\n".join(urns) + "\n")
    expected = path.read_text().splitlines()
    removed = sorted(set(expected) - set(urns))
    added = sorted(set(urns) - set(expected))
    assert (removed, added) == ([], []), (
        f"{len(removed)} URN(s) of {name} would be deleted (replaced, unless aliased) and {len(added)} created; "
        "if intended, regenerate tests/golden (see this module's docstring)"
    )


def test_no_urn_carries_the_root_stack_type():
    """The engine never prefixes a top-level resource's type with pulumi:pulumi:Stack (generateURN)."""
    plan = plan_config("staging")
    assert not [r.urn for r in plan.resources if "pulumi:pulumi:Stack$" in r.urn]
    top = [r for r in plan.resources if r.parent and r.parent.split("::")[2] == "pulumi:pulumi:Stack"]
    assert top and all(r.urn == f"urn:pulumi:staging::multicluster::{r.type}::{r.name}" for r in top)
