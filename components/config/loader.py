"""Reading the stack config (from the Pulumi runtime or a stack file) and reporting its problems."""

from __future__ import annotations

import difflib
import json
import types
import typing
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from . import stackfile
from .base import NAMESPACE, ConfigError, Issue, Loc, format_path
from .clusters import ClusterConfig
from .stack import (
    Failover,
    Residency,
    StackConfig,
    Topology,
    check_cloud_fields,
    check_overlaps,
    check_topology,
    check_unique_names,
    fleet_issues,
)
from .stackfile import SECURE_PLACEHOLDER, StackFile, StackFileError


def parse_stack_config(raw: dict[str, Any], gcp_project: str | None = None, stack: str | None = None) -> StackConfig:
    """Validate the `multicluster:` settings of stack `stack`: each block's rules and the fleet's own; raise
    ConfigError listing every problem. The rules across blocks judge the fleet plan next (fleetplan.plan_fleet;
    fleetplan.validate_stack runs both)."""
    try:
        config = StackConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(pydantic_issues(exc) + salvaged_fleet_issues(raw, gcp_project)) from None
    config.set_context(gcp_project, stack)
    issues = fleet_issues(config)
    if issues:
        raise ConfigError(issues)
    return config


def load_stack_config() -> StackConfig:
    """Read the config the Pulumi engine gave this program and validate it."""
    import pulumi

    raw, gcp_project = namespace_settings(runtime_config())
    return parse_stack_config(raw, gcp_project, pulumi.get_stack())


def runtime_config() -> dict[str, str]:
    """All `project:key` settings the engine passed to the program."""
    from pulumi.runtime import config as runtime

    return {**runtime.get_config_env(), **runtime.CONFIG.get()}


def namespace_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Split `project:key` settings into the multicluster mapping and gcp:project."""
    raw = {key.split(":", 1)[1]: _decode(value) for key, value in settings.items() if key.startswith(f"{NAMESPACE}:")}
    project = settings.get("gcp:project")
    return raw, project if isinstance(project, str) else None


def _decode(value: Any) -> Any:
    # The engine passes objects, lists and booleans as JSON text, plain strings as they are.
    if isinstance(value, str) and (value[:1] in "[{" or value in ("true", "false")) and value:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def read_stack_file(path: Path) -> tuple[dict[str, str], list[str]]:
    """A `Pulumi.<stack>.yaml` file as the engine would pass it: values as text, secure ones masked.

    Raises StackFileError (syntax, shape, duplicate keys, ambiguous scalars: every problem with its line).
    """
    stack = stackfile.read(path)
    return stack.settings, stack.secret_keys


# --- turning pydantic errors into key-path messages -----------------------------------------


def pydantic_issues(exc: ValidationError) -> list[Issue]:
    return [
        Issue(format_path(tuple(err["loc"])), _message(err), number=_number_for_text(err))
        for err in exc.errors(include_url=False)
    ]


def _number_for_text(err: ErrorDetails) -> Any:
    value = err.get("input")
    if err["type"] == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _message(err: ErrorDetails) -> str:
    kind, value = err["type"], err.get("input")
    ctx: dict[str, Any] = err.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if _number_for_text(err) is not None:
        return f"must be text, not the number {value}: quote it in the stack file"
    if kind == "extra_forbidden":
        return f"is not a known key{_did_you_mean(tuple(err['loc']))}"
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected')} (got {value!r})"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    if kind in ("too_short", "too_long"):
        return (
            f"must have {'at least' if kind == 'too_short' else 'at most'} "
            f"{ctx.get('min_length', ctx.get('max_length'))} item(s)"
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = next(iter(ctx.items()))
        symbol = {"ge": ">=", "le": "<=", "gt": ">", "lt": "<"}[bound[0]]
        return f"must be {symbol} {bound[1]} (got {value!r})"
    return f"is invalid: {err['msg'].lower()} (got {value!r})"


def _did_you_mean(loc: Loc) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    keys = [field.alias or name for name, field in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), keys, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(keys)})"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    current: Any = StackConfig
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is list and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation


# --- fleet checks on a config that did not validate as a whole ------------------------------


def salvaged_fleet_issues(raw: dict[str, Any], gcp_project: str | None) -> list[Issue]:
    """Run the fleet checks on the entries that are valid, so one run reports every problem."""
    entries = raw.get("clusters")
    if not isinstance(entries, list):
        return []
    clusters = [_partial_cluster(entry) for entry in cast(list[Any], entries)]
    issues = check_unique_names(clusters) + check_overlaps(clusters) + check_cloud_fields(clusters, gcp_project)
    topology = _valid_or_none(Topology, raw.get("topology", "replicated"))
    failover = _valid_or_none(Failover, raw.get("failover", "active-passive"))
    residencies = _valid_or_none(dict[str, Residency], raw.get("residencies", {}))
    if None not in (topology, failover, residencies):
        issues += check_topology(None, clusters, topology, failover, residencies)
    return issues


def _partial_cluster(entry: Any) -> ClusterConfig | None:
    """The cluster entry if valid; otherwise its fields that are valid on their own."""
    if not isinstance(entry, dict):
        return None
    whole = _valid_or_none(ClusterConfig, entry)
    if whole is not None:
        return whole
    written = cast(dict[str, Any], entry)
    fields: dict[str, Any] = {}
    for name, field in ClusterConfig.model_fields.items():
        value = written.get(field.alias or name)
        valid = None if value is None else _valid_or_none(field.annotation, value)
        if valid is not None:
            fields[name] = valid
    return ClusterConfig.model_construct(**fields)


def _valid_or_none(annotation: Any, value: Any) -> Any:
    try:
        return TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        return None


__all__ = ["SECURE_PLACEHOLDER", "StackFile", "StackFileError", "load_stack_config", "parse_stack_config"]
