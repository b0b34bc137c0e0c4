"""`python -m offline_plan --stack NAME`: what `pulumi up` would create, without a cloud.

Needs nothing but the standard library until it knows it runs where the project's packages are:
like `pulumi up` (Pulumi.yaml: `virtualenv: venv`), it uses the project's `venv` when the current
interpreter lacks them, and otherwise says how to create it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = PROJECT_ROOT / "venv" / "bin" / "python"
SETUP = "python3 -m venv venv && venv/bin/pip install -r requirements-dev.txt"
# The program's packages, and the judge's (the API models it reads its limits from).
NEEDED = ("pulumi", "botocore", "googleapiclient", "regex")
REEXEC_GUARD = "MULTICLUSTER_PLAN_REEXEC"


def ensure_project_python() -> None:
    """Re-run under the project's venv if this interpreter cannot import the program's packages."""
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if not missing:
        return
    if VENV_PYTHON.exists() and not os.environ.get(REEXEC_GUARD):
        os.environ[REEXEC_GUARD] = "1"
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), "-m", "offline_plan", *sys.argv[1:]])
    print(
        f"error: {', '.join(missing)} not installed for {sys.executable}; set up the project with:\n  {SETUP}",
        file=sys.stderr,
    )
    sys.exit(1)


if __name__ == "__main__":
    ensure_project_python()
    from .cli import run

    sys.exit(run())
