"""Machine-readable API limits: AWS service models (botocore) and Google API discovery documents.

botocore ships every AWS API's Smithy-derived model: per shape `min`/`max` (length, or value for numbers),
`pattern` and `enum`. A model pattern is applied to the whole value, as the services apply them to names;
Java-style classes (\\p{L}) need the `regex` module. google-api-python-client ships the discovery
documents of Google APIs: mostly enums (the limits Google states in prose are written as field rules).
Both are read lazily, once per process.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from pathlib import Path
from typing import Any, Protocol, cast

from .rules import Between, Constraint, Length, OneOf, Pattern


class ModelError(LookupError):
    """A field rule names a shape or member the model does not have: the table is out of date."""


class _ModelLoader(Protocol):
    """What the judge uses of botocore.loaders.Loader (botocore ships no type stubs)."""

    def determine_latest_version(self, service_name: str, type_name: str) -> str: ...

    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> dict[str, Any]: ...


def _botocore_loader() -> tuple[_ModelLoader, str]:
    """botocore's model loader and botocore's version, typed here: botocore has no stubs, so it is imported by name."""
    botocore = importlib.import_module("botocore")
    loaders = importlib.import_module("botocore.loaders")
    return cast(_ModelLoader, loaders.Loader()), cast(str, botocore.__version__)


@functools.lru_cache(maxsize=32)
def botocore_model(service: str) -> tuple[dict[str, Any], str, str]:
    """(shapes, API version, botocore version) of an AWS service."""
    loader, library = _botocore_loader()
    version = loader.determine_latest_version(service, "service-2")
    model = loader.load_service_model(service, "service-2", api_version=version)
    return model["shapes"], version, library


def botocore_shape(service: str, shape: str, member_path: str) -> dict[str, Any]:
    """The shape a member path ends at: 'HealthCheckConfig.Regions[]', 'tags{key}', 'Tags[].Key'."""
    shapes = botocore_model(service)[0]
    current = shapes[shape]
    for step in _steps(member_path):
        if step == "[]":
            current = shapes[current["member"]["shape"]]
        elif step in ("{key}", "{value}"):
            current = shapes[current[step[1:-1]]["shape"]]
        else:
            members = current.get("members", {})
            if step not in members:
                raise ModelError(f"{service} {shape}: no member {step!r} on the way to {member_path!r}")
            current = shapes[members[step]["shape"]]
    return current


def _steps(path: str) -> list[str]:
    """'A.B[].C{key}' -> ['A', 'B', '[]', 'C', '{key}']."""
    return re.findall(r"\[\]|\{key\}|\{value\}|[^.\[\]{}]+", path)


def botocore_constraints(service: str, shape: str, member_path: str) -> tuple[tuple[Constraint, ...], str]:
    """The constraints of one model member, and where they come from."""
    target = botocore_shape(service, shape, member_path)
    _, api_version, library = botocore_model(service)
    found: list[Constraint] = []
    kind = target.get("type")
    if kind in ("integer", "long", "float", "double"):
        if "min" in target or "max" in target:
            found.append(Between(target.get("min"), target.get("max")))
    elif "min" in target or "max" in target:
        found.append(Length(target.get("min"), target.get("max")))
    if "enum" in target:
        found.append(OneOf(tuple(target["enum"])))
    if "pattern" in target:
        found.append(ModelPattern(target["pattern"]))
    source = f"AWS API model {service} {api_version} {shape}.{member_path} (botocore {library})"
    return tuple(found), source


class ModelPattern(Pattern):
    """A model pattern, matched on the whole value with Java-style classes understood."""

    def __init__(self, regex: str):
        object.__setattr__(self, "regex", regex)
        object.__setattr__(self, "meaning", f"the pattern {regex}")

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        return None if java_pattern(self.regex).fullmatch(value) else f"does not match {self.meaning}"


# Smithy patterns are ECMA 262 (smithy.io/2.0/spec/constraint-traits.html#pattern-trait) and the services
# match them in Java: in both, \w and \d are ASCII only and '.' does not match a line break. Python's
# classes are Unicode ('é' is a \w): spelled out, so that 'rôle' is refused as IAM refuses it.
_ASCII_CLASSES = {"\\w": "A-Za-z0-9_", "\\d": "0-9"}


def ascii_classes(pattern: str) -> str:
    """`pattern` with \\w and \\d as the ASCII classes Java and ECMA 262 mean by them."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        pair = pattern[i : i + 2]
        if pair in _ASCII_CLASSES:
            out.append(_ASCII_CLASSES[pair] if in_class else f"[{_ASCII_CLASSES[pair]}]")
            i += 2
            continue
        if pattern[i] == "\\":
            out.append(pair)
            i += 2
            continue
        if pattern[i] == "[" and not in_class:
            in_class = True
        elif pattern[i] == "]" and in_class:
            in_class = False
        out.append(pattern[i])
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def java_pattern(text: str) -> Any:
    """A model pattern compiled as the service reads it (\\p{L} classes need the `regex` module)."""
    import regex

    return regex.compile(ascii_classes(text))


# --- Google --------------------------------------------------------------------------------------


def _googleapiclient_folder() -> Path:
    """Where google-api-python-client is installed (it has no type stubs: imported by name, only its path is read)."""
    location = importlib.import_module("googleapiclient").__file__
    if location is None:  # a namespace package, not an installed google-api-python-client
        raise ModuleNotFoundError("googleapiclient has no __file__: google-api-python-client is not installed")
    return Path(location).parent


@functools.lru_cache(maxsize=16)
def discovery_document(api: str, version: str) -> dict[str, Any]:
    path = _googleapiclient_folder() / "discovery_cache" / "documents" / f"{api}.{version}.json"
    return json.loads(path.read_text())


def discovery_enum(api: str, version: str, schema: str, field_path: str) -> tuple[tuple[Constraint, ...], str]:
    """The enum of a schema field ('MaintenanceWindow.recurringWindow' style paths through $ref)."""
    document = discovery_document(api, version)
    schemas = document["schemas"]
    current = schemas[schema]
    for step in field_path.split("."):
        node = current.get("properties", {}).get(step)
        if node is None:
            raise ModelError(f"{api} {version} {schema}: no property {step!r} on the way to {field_path!r}")
        if "items" in node:
            node = node["items"]
        current = schemas[node["$ref"]] if "$ref" in node else node
    values = [v for v in current.get("enum", []) if v != "UNSPECIFIED" and not v.endswith("_UNSPECIFIED")]
    if not values:
        raise ModelError(f"{api} {version} {schema}.{field_path} has no enum")
    revision = document.get("revision", "?")
    return (
        OneOf(tuple(values)),
    ), f"Google API discovery document {api} {version} rev {revision} {schema}.{field_path}"
