from __future__ import annotations

import pytest
from pulumi.runtime import settings

from tests.support import UPSTREAM


@pytest.fixture(autouse=True)
def reset_pulumi_runtime():
    """Every test starts and ends with no Pulumi runtime state (stack, config, mocks)."""
    settings.set_root_resource(None)
    yield
    settings.set_root_resource(None)
    import pulumi.runtime

    pulumi.runtime.set_all_config({}, [])


@pytest.fixture(scope="session")
def upstream():
    """../shared/upstream/ (charts, CRDs, action.yml); tests that need it skip without it."""
    if not UPSTREAM.is_dir():
        pytest.skip("../shared/upstream/ is not present")
    return UPSTREAM


@pytest.fixture(scope="session")
def staging():
    """The staging stack, planned once per test session (tests only read it)."""
    from tests.support import plan_config

    return plan_config("staging")


@pytest.fixture(scope="session")
def prod():
    """The prod stack, planned once per test session (tests only read it)."""
    from tests.support import plan_config

    return plan_config("prod")


@pytest.fixture(scope="session")
def staging_preview():
    """The staging stack as a first `pulumi preview` sees it (unknown outputs), planned once per session."""
    from components.config import read_stack_file
    from components.program import main
    from offline_plan import run_program
    from tests.support import SHIPPED

    settings_, secret_keys = read_stack_file(SHIPPED["staging"])
    return run_program(main, settings_, secret_keys, "staging", preview=True)
