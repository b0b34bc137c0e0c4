"""The README documents every config key the program reads, and its commands are the ones CI runs."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from components.config.stack import StackConfig

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _models(annotation: typing.Any) -> list[type[BaseModel]]:
    """The pydantic models inside a field's annotation (lists, dicts, optionals, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def config_keys(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    """Every key a stack file may hold under `model`, as the file spells it (camelCase)."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        for inner in _models(field.annotation):
            keys |= config_keys(inner, seen)
    return keys


def documented(key: str) -> bool:
    """Whether the README names the key in code: `key`, `a.key`, `key[i]`, `{key: ...}` all count."""
    return re.search(rf"`[^`]*\b{re.escape(key)}\b[^`]*`", README) is not None


def test_every_config_key_is_in_the_readme():
    missing = sorted(k for k in config_keys(StackConfig) if not documented(k))
    assert missing == []


def test_the_readme_setup_commands_are_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "venv/bin/pip install --quiet -r requirements-dev.txt" in ci
    assert "venv/bin/python -m pytest -n 2" in ci
    assert "venv/bin/pip install -r requirements-dev.txt && venv/bin/python -m offline_plan --stack staging" in (README)
    assert "\nvenv/bin/python -m pytest -n 2\n" in README


def test_docs_the_readme_links_exist():
    for link in re.findall(r"\]\(((?:docs|components)/[^)#]+)", README):
        assert (ROOT / link).exists(), link
