"""Shared pieces of the config models: the base model, key paths and the error type."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

NAMESPACE = "multicluster"
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")

Loc = tuple[str | int, ...]


class Model(BaseModel):
    """Base of every config model: camelCase keys as in the YAML, unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        use_enum_values=True,
    )


class Undecrypted:
    """A `{secure: ...}` value the offline plan cannot decrypt (the engine always hands the program plain text)."""

    def __repr__(self) -> str:
        return "[secure value: not decrypted offline]"


UNDECRYPTED = Undecrypted()


def format_path(loc: Loc) -> str:
    """('clusters', 2, 'network', 'cidr') -> 'multicluster:clusters[2].network.cidr'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return f"{NAMESPACE}:{text}" if text else NAMESPACE


def short_path(loc: Loc) -> str:
    """The path without the namespace, for references inside a message."""
    return format_path(loc).removeprefix(f"{NAMESPACE}:")


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in the stack config, at a key path."""

    path: str
    message: str
    # A number given where text was expected (YAML read `1.30` as 1.3): the stack file says how it was written.
    number: Any = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.path} {self.message}"

    @property
    def loc(self) -> Loc:
        """The key path as a tuple: ('multicluster:clusters', 2, 'network', 'cidr')."""
        return parse_path(self.path)


PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def parse_path(path: str) -> Loc:
    """'multicluster:clusters[2].network.cidr' -> ('multicluster:clusters', 2, 'network', 'cidr')."""
    parts: list[str | int] = []
    for index, key in PATH_PART.findall(path):
        parts.append(int(index) if index else key)
    return tuple(parts)


class ConfigError(Exception):
    """The stack config is invalid; `issues` lists every problem found."""

    def __init__(self, issues: list[Issue]):
        self.issues = sorted(set(issues), key=_issue_order)
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        super().__init__(f"invalid stack configuration ({len(self.issues)} problem(s)):\n{lines}")


def _issue_order(issue: Issue) -> tuple[tuple[str | int, ...], str]:
    # Natural order, so that clusters[10] sorts after clusters[2].
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", issue.path)), issue.message


def dns_label(value: str, max_length: int) -> str:
    if len(value) > max_length:
        raise ValueError(f"'{value}' is longer than {max_length} characters")
    if not DNS_LABEL.match(value):
        raise ValueError(
            f"'{value}' is not a DNS-1123 label (lowercase letters, digits and '-', starting with a letter)"
        )
    return value
