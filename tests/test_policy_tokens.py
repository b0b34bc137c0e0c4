"""The component type tokens the guardrails copy are the program's own.

Why the copies exist: `pulumi preview --policy-pack policy` runs the pack in its own process from the pack's
folder (policy/__main__.py puts that folder on sys.path, and policy/guardrails.py needs nothing but the standard
library), so the pack cannot import `components` for the tokens. The copies must not drift from the program's
`TYPE` attributes: a rule that looks for a component by its URN would silently match nothing.
"""

from __future__ import annotations

import pytest

from components.backup import VeleroBackup
from components.gitops import ArgoCd, ClusterRegistration
from policy import guardrails

# guardrails constant -> the program's type token it copies
COPIES: dict[str, str] = {
    "VELERO_COMPONENT": VeleroBackup.TYPE,
    "ARGOCD_COMPONENT": ArgoCd.TYPE,
    "REGISTRATION_COMPONENT": ClusterRegistration.TYPE,
}


@pytest.mark.parametrize(("constant", "token"), sorted(COPIES.items()))
def test_the_guardrails_copy_of_a_component_type_is_the_program_s(constant: str, token: str) -> None:
    assert getattr(guardrails, constant) == token


def test_every_component_type_the_guardrails_copy_is_checked() -> None:
    copied = {name for name in vars(guardrails) if name.endswith("_COMPONENT")}
    assert copied == set(COPIES)
