"""Helm releases as Helm would take them: a chart the program lists, a published version, values its schema accepts.

- Every release names a chart of the one table in components/charts.py (repository and chart).
- With the upstream data (../shared/upstream/, see its SOURCES.md): the pinned version is one the repository
  published (chart-versions.json) — `helm pull` fails otherwise; and the values, coalesced over the chart's
  values.yaml as Helm does (helm.sh/helm/v3/pkg/chartutil CoalesceValues), validate against the chart's
  values.schema.json — `helm install` refuses them otherwise (pkg/chartutil ValidateAgainstSchema).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from components.charts import CHARTS, find

from . import Context, plan_check
from .rules import UNKNOWN_PLACEHOLDER, Finding, is_map, known_or_placeholder, of_type

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

RELEASE = "kubernetes:helm.sh/v3:Release"
HELM = "Helm"
SCHEMA_SOURCE = "helm.sh/helm/v3/pkg/chartutil ValidateAgainstSchema, over CoalesceValues(values.yaml, values)"


@functools.lru_cache(maxsize=4)
def published_versions(upstream: Path) -> dict[str, frozenset[str]]:
    """chart-versions.json: upstream key -> the versions its repository published."""
    path = upstream / "chart-versions.json"
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return {key: frozenset(entry["versions"]) for key, entry in data.items() if is_map(entry)}


@functools.lru_cache(maxsize=32)
def chart_files(upstream: Path, directory: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The chart's default values and its values.schema.json (None when the chart has none)."""
    folder = upstream / directory
    values_file, schema_file = folder / "values.yaml", folder / "values.schema.json"
    # The C parser where PyYAML has it: a chart's values.yaml is thousands of lines.
    loader: type[yaml.SafeLoader | yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    defaults: dict[str, Any] = (yaml.load(values_file.read_text(), Loader=loader) or {}) if values_file.exists() else {}
    schema: dict[str, Any] | None = json.loads(schema_file.read_text()) if schema_file.exists() else None
    return defaults, schema


def coalesce(defaults: Any, values: Any) -> Any:
    """Helm's CoalesceValues: user maps merge into the chart's, a user null removes a default key."""
    if not is_map(defaults) or not is_map(values):
        return values
    merged = dict(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        elif is_map(value) and is_map(merged.get(key)):
            merged[key] = coalesce(merged[key], value)
        else:
            merged[key] = value
    return merged


def validator_for(schema: dict[str, Any]) -> Validator:
    """The validator Helm's schema check amounts to (the schema's $schema draft, Draft 7 by default)."""
    import jsonschema
    import jsonschema.validators

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


@functools.lru_cache(maxsize=32)
def chart_validator(upstream: Path, directory: str) -> Validator | None:
    """One validator per chart folder (building one per release cost more than validating)."""
    _, schema = chart_files(upstream, directory)
    return validator_for(schema) if schema is not None else None


def schema_errors(schema: dict[str, Any] | Validator, values: Any) -> list[str]:
    """Errors of `values` against a schema (or a validator built for it), unknown values left out."""
    validator = validator_for(schema) if isinstance(schema, dict) else schema
    found: list[str] = []
    for error in sorted(validator.iter_errors(known_or_placeholder(values)), key=lambda e: list(e.absolute_path)):
        if error.instance == UNKNOWN_PLACEHOLDER:
            continue
        where = ".".join(str(p) for p in error.absolute_path) or "(values)"
        found.append(f"{where}: {error.message}")
    return found


@plan_check
def helm_releases(plan: Any, context: Context) -> Iterator[Finding]:
    versions = published_versions(context.upstream) if context.upstream else {}
    for release in of_type(plan, RELEASE):
        inputs = release.checked or release.inputs
        repository = (
            inputs.get("repositoryOpts", {}).get("repo") if isinstance(inputs.get("repositoryOpts"), dict) else None
        )
        name, version = inputs.get("chart"), inputs.get("version")
        if not isinstance(name, str) or not isinstance(repository, str):
            continue
        chart = find(repository, name)
        if chart is None:
            yield Finding(
                release.urn,
                "the project",
                f"chart '{name}' of {repository} is not in the chart table (components/charts.py)",
                "components/charts.py: every chart the program installs is listed there",
            )
            continue
        if not context.upstream:
            continue
        published = versions.get(chart.upstream_versions)
        if published is not None and isinstance(version, str) and version not in published:
            newest = max(published, key=_version_key)
            yield Finding(
                release.urn,
                HELM,
                f"chart {name} {version} is not published by {repository} (newest: {newest})",
                f"{context.upstream.name}/chart-versions.json '{chart.upstream_versions}'",
            )
        if chart.upstream_dir and version == chart.version:
            yield from _values(release.urn, chart.name, chart.upstream_dir, inputs.get("values"), context.upstream)


def _values(urn: str, name: str, directory: str, values: Any, upstream: Path) -> Iterator[Finding]:
    defaults, _ = chart_files(upstream, directory)
    validator = chart_validator(upstream, directory)
    if validator is None:
        return
    for problem in schema_errors(validator, coalesce(defaults, values if isinstance(values, dict) else {})):
        yield Finding(
            urn,
            HELM,
            f"values of chart {name} fail its schema: {problem}",
            f"{directory}/values.schema.json; {SCHEMA_SOURCE}",
        )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("-")[0].split("."))


__all__ = ["CHARTS", "coalesce", "helm_releases", "schema_errors"]
