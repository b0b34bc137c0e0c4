"""Primitives of the judge's rules: what a value must be, where it sits in the inputs, and who says so.

A rule never fails on a value it cannot see: unknown (a first preview) and absent values are skipped;
the plan of `pulumi up` (every value known) is where they are judged.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard

from ..values import is_unknown

Value = Any


def is_map(value: object) -> TypeGuard[dict[str, Any]]:
    """A JSON-like object: inputs, outputs and config reach the judge as dicts with string keys."""
    return isinstance(value, dict)


def is_list(value: object) -> TypeGuard[list[Any]]:
    """A JSON-like array."""
    return isinstance(value, list)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def subnet_of(network: Network, other: Network) -> bool:
    """`network.subnet_of(other)` for networks of either IP version (across versions a TypeError, as ipaddress's)."""
    if isinstance(network, ipaddress.IPv4Network) and isinstance(other, ipaddress.IPv4Network):
        return network.subnet_of(other)
    if isinstance(network, ipaddress.IPv6Network) and isinstance(other, ipaddress.IPv6Network):
        return network.subnet_of(other)
    raise TypeError(f"{network} and {other} are not of the same version")


@dataclass(frozen=True)
class Finding:
    """A resource the real engine, a cloud or Kubernetes would refuse, or a path a working fleet lacks."""

    urn: str
    authority: str  # "AWS", "Google Cloud", "Kubernetes", "Helm", "the Pulumi engine", "the fleet's network"
    rule: str
    source: str
    kind: str = "rejected"  # rejected | unreachable

    def __str__(self) -> str:
        if self.kind == "unreachable":
            return f"{self.urn} would not work: {self.rule} ({self.source})"
        return f"{self.urn} would be rejected by {self.authority}: {self.rule} ({self.source})"

    def as_json(self) -> dict[str, str]:
        return {
            "urn": self.urn,
            "kind": self.kind,
            "authority": self.authority,
            "rule": self.rule,
            "source": self.source,
            "message": str(self),
        }


# --- constraints on one value -------------------------------------------------------------------


class Constraint:
    """What one value must satisfy; `problem` says what is wrong, or None."""

    def problem(self, value: Value) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Length(Constraint):
    minimum: int | None = None
    maximum: int | None = None
    utf8_bytes: bool = False  # a limit stated in UTF-8 bytes (Google's "100 UTF-8 bytes"), not characters

    def problem(self, value: Value) -> str | None:
        if isinstance(value, str):
            size, unit = (len(value.encode()), "UTF-8 bytes") if self.utf8_bytes else (len(value), "characters")
        elif is_list(value) or is_map(value):
            size, unit = len(value), "items"
        else:
            return None
        if self.maximum is not None and size > self.maximum:
            return f"has {size} {unit}, at most {self.maximum} allowed"
        if self.minimum is not None and size < self.minimum:
            return f"has {size} {unit}, at least {self.minimum} required"
        return None


@dataclass(frozen=True)
class Pattern(Constraint):
    regex: str
    meaning: str = ""  # how a person says it: "lowercase letters, digits and '-'"

    def problem(self, value: Value) -> str | None:
        if not isinstance(value, str):
            return None
        if _compiled(self.regex).fullmatch(value):
            return None
        return f"does not match {self.meaning or self.regex}"


@dataclass(frozen=True)
class OneOf(Constraint):
    values: tuple[Any, ...]

    def problem(self, value: Value) -> str | None:
        if value in self.values:
            return None
        shown = ", ".join(map(str, self.values)) if len(self.values) <= 12 else f"{len(self.values)} allowed values"
        return f"is not one of {shown}"


@dataclass(frozen=True)
class Between(Constraint):
    low: float | None = None
    high: float | None = None

    def problem(self, value: Value) -> str | None:
        number = _number(value)
        if number is None:
            return None
        if self.low is not None and number < self.low:
            return f"is {value}, below the minimum {_plain_number(self.low)}"
        if self.high is not None and number > self.high:
            return f"is {value}, above the maximum {_plain_number(self.high)}"
        return None


@dataclass(frozen=True)
class Check(Constraint):
    """Any other rule over one value: `test` returns the problem or None."""

    test: Callable[[Value], str | None]

    def problem(self, value: Value) -> str | None:
        return self.test(value)


def _number(value: Value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(regex: str) -> re.Pattern[str]:
    if regex not in _PATTERNS:
        _PATTERNS[regex] = re.compile(regex, re.DOTALL)
    return _PATTERNS[regex]


# A value not known yet (a first preview), for schema validators: errors about it are ignored.
UNKNOWN_PLACEHOLDER = "\x00unknown\x00"


def known_or_placeholder(value: Any) -> Any:
    if is_unknown(value):
        return UNKNOWN_PLACEHOLDER
    if is_map(value):
        return {k: known_or_placeholder(v) for k, v in value.items()}
    if is_list(value):
        return [known_or_placeholder(v) for v in value]
    return value


# --- where values sit -------------------------------------------------------------------------------


def values_at(data: Any, path: str) -> Iterator[tuple[str, Value]]:
    """Every known value at a dotted path. `a.b[]` walks each element of list b, `a.{}` each map value,
    `a.{keys}` each key of map a. Unknown and absent values yield nothing."""
    yield from _walk(data, path.split(".") if path else [], "")


def _walk(data: Any, parts: list[str], where: str) -> Iterator[tuple[str, Value]]:
    if is_unknown(data) or data is None:
        return
    if not parts:
        yield where, data
        return
    head, rest = parts[0], parts[1:]
    if head == "{keys}":
        if is_map(data):
            for key in data:
                yield f"{where}.{key}" if where else key, key
        return
    if head == "{}":
        if is_map(data):
            for key, value in data.items():
                yield from _walk(value, rest, f"{where}.{key}" if where else key)
        return
    each = head.endswith("[]")
    key = head[:-2] if each else head
    if not is_map(data) or key not in data:
        return
    value = data[key]
    step = f"{where}.{key}" if where else key
    if not each:
        yield from _walk(value, rest, step)
        return
    if is_list(value):
        for i, item in enumerate(value):
            yield from _walk(item, rest, f"{step}[{i}]")


def value_at(data: Any, path: str, default: Any = None) -> Any:
    """The value at a plain dotted path (no wildcards), unknowns included; `default` when absent."""
    for part in path.split("."):
        if is_map(data) and part in data:
            data = data[part]
        else:
            return default
    return data


@dataclass(frozen=True)
class FieldRule:
    """Constraints on the values at one input path of one resource type, and who states them."""

    path: str
    constraints: tuple[Constraint, ...]
    source: str
    authority: str
    what: str = ""  # how messages name the field; the path by default

    def findings(self, urn: str, inputs: dict[str, Any]) -> Iterator[Finding]:
        for where, value in values_at(inputs, self.path):
            for constraint in self.constraints:
                problem = constraint.problem(value)
                if problem:
                    shown = value if not isinstance(value, str) or len(value) <= 80 else value[:77] + "..."
                    label = self.what or where
                    yield Finding(urn, self.authority, f"{label} {_quote(shown)} {problem}", self.source)
                    break


def _quote(value: Value) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


# --- the plan by type, built once per plan ---------------------------------------------------------------

# Plan checks look resources up by type many times (Plan.of_type walks every resource each time: quadratic
# at 50 clusters). One index per plan, rebuilt when the plan's resource list is another object or grew.
_BY_TYPE: dict[int, tuple[list[Any], int, dict[str, list[Any]]]] = {}
_PLANS_KEPT = 4


def of_type(plan: Any, type_: str) -> list[Any]:
    """The plan's resources of one type, in plan order (as Plan.of_type), from an index built once."""
    return by_type(plan).get(type_, [])


def by_type(plan: Any) -> dict[str, list[Any]]:
    resources = plan.resources
    held = _BY_TYPE.get(id(plan))
    if held is None or held[0] is not resources or held[1] != len(resources):
        index: dict[str, list[Any]] = defaultdict(list)
        for r in resources:
            index[r.type].append(r)
        if len(_BY_TYPE) >= _PLANS_KEPT:
            _BY_TYPE.clear()
        held = (resources, len(resources), dict(index))
        _BY_TYPE[id(plan)] = held
    return held[2]


def dependency_closure(plan: Any) -> Callable[[str], frozenset[str]]:
    """Every URN a resource waits for, directly or through what it waits for (memoized per call)."""
    deps = {r.urn: list(r.dependencies) for r in plan.resources}
    memo: dict[str, frozenset[str]] = {}

    def closure(urn: str) -> frozenset[str]:
        if urn in memo:
            return memo[urn]
        memo[urn] = frozenset()  # cycles (none expected) end here
        found: set[str] = set()
        for dep in deps.get(urn, ()):
            found.add(dep)
            found |= closure(dep)
        memo[urn] = frozenset(found)
        return memo[urn]

    return closure
