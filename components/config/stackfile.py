"""Reading a `Pulumi.<stack>.yaml` file as the Pulumi CLI does, and saying where each value is.

The CLI reads stack files with a YAML 1.2 parser (gopkg.in/yaml.v3): only `true`/`false` are booleans
and `1.30` is the number 1.3. YAML 1.1 readers (PyYAML, many editors and linters) also read `yes`, `no`,
`on`, `off`, `y` and `n` as booleans, so `countries: [NO]` means Norway to one and false to another.
This reader resolves scalars as YAML 1.2 does, refuses such ambiguous plain scalars with a fix, refuses
duplicate keys (YAML forbids them; PyYAML would keep the last one silently) and remembers the line and
column of every value, so a config problem can point at the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from .base import NAMESPACE, Loc

SECURE_PLACEHOLDER = "[secure value: not decrypted offline]"

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), as yaml.v3 resolves plain scalars.
NULL = re.compile(r"~|null|Null|NULL|")
BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
# Plain scalars that YAML 1.1 reads as booleans and YAML 1.2 as strings.
YAML11_BOOL = re.compile(r"y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF")


@dataclass(frozen=True)
class Position:
    line: int  # 1-based, as editors show them
    column: int
    text: str  # the scalar as written (plain scalars only), for messages

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


class StackFileError(Exception):
    """The file cannot be read as a stack file: syntax, shape, duplicate keys, ambiguous scalars."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"cannot read stack file {path} ({len(problems)} problem(s)):\n{lines}")


@dataclass
class StackFile:
    """A stack file as the engine would pass it: `project:key` -> text (objects as JSON), secure keys masked."""

    path: Path
    settings: dict[str, str]
    secret_keys: list[str]
    # (`project:key`, index or key, ...) -> where the value is written.
    positions: dict[Loc, Position] = field(default_factory=dict[Loc, Position])

    def position_of(self, loc: Loc) -> Position | None:
        """The position of a config value, or of its closest written parent (a missing key's mapping)."""
        while loc:
            if loc in self.positions:
                return self.positions[loc]
            loc = loc[:-1]
        return None


def read(path: Path) -> StackFile:
    """Read a stack file; raise StackFileError listing what is wrong and where."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise StackFileError(path, [f"cannot be read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise StackFileError(
            path, [f"{path.name}:{line}: is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"]
        ) from None
    reader = _Reader(path)
    document = reader.load(text)
    if reader.problems:
        raise StackFileError(path, reader.problems)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise StackFileError(path, [f"{path.name}:1:1: is not a mapping (a stack file starts with 'config:')"])
    config: Any = cast(dict[str, Any], document).get("config") or {}
    if not isinstance(config, dict):
        where = reader.positions.get(("config",))
        raise StackFileError(path, [f"{path.name}:{where or '1:1'}: 'config' must be a mapping of keys to values"])
    settings: dict[str, str] = {}
    secret_keys: list[str] = []
    positions: dict[Loc, Position] = {}
    for key, value in cast(dict[str, Any], config).items():
        full_key = key if ":" in str(key) else f"{NAMESPACE}:{key}"
        if isinstance(value, dict) and set(cast(dict[str, Any], value)) == {"secure"}:
            settings[full_key] = SECURE_PLACEHOLDER
            secret_keys.append(full_key)
        else:
            settings[full_key] = value if isinstance(value, str) else json.dumps(value)
            if has_secure_leaf(value):
                # `pulumi config set --secret --path`: the engine passes the object decrypted, and the key as secret.
                secret_keys.append(full_key)
        for loc, position in reader.positions.items():
            if loc[:2] == ("config", key):
                positions[(full_key, *loc[2:])] = position
    return StackFile(path, settings, secret_keys, positions)


def has_secure_leaf(value: Any) -> bool:
    """Whether an object holds a `{secure: ...}` leaf somewhere."""
    if isinstance(value, dict):
        mapping = cast(dict[str, Any], value)
        return set(mapping) == {"secure"} or any(has_secure_leaf(v) for v in mapping.values())
    if isinstance(value, list):
        return any(has_secure_leaf(v) for v in cast(list[Any], value))
    return False


class _TagKeepingLoader(yaml.SafeLoader):
    """Remembers which scalars carry an explicit tag (`!!str 12`): only those keep PyYAML's tag."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.explicit_tags: set[yaml.ScalarNode] = set()

    def compose_scalar_node(self, anchor: Any) -> yaml.ScalarNode:
        # The PyYAML stubs leave Parser.peek_event unannotated: here it is the scalar's event, about to be composed.
        event = cast(yaml.ScalarEvent, self.peek_event())  # pyright: ignore[reportUnknownMemberType]
        node = super().compose_scalar_node(anchor)
        if event.tag not in (None, "!"):
            self.explicit_tags.add(node)
        return node


class _Reader:
    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []
        self.positions: dict[Loc, Position] = {}
        self.explicit_tags: set[yaml.ScalarNode] = set()

    def load(self, text: str) -> Any:
        try:
            # What yaml.compose(text, Loader=_TagKeepingLoader) does, keeping the loader for its explicit tags.
            loader = _TagKeepingLoader(text)
            try:
                node = loader.get_single_node()
            finally:
                # Parser.dispose is unannotated in the PyYAML stubs.
                loader.dispose()  # pyright: ignore[reportUnknownMemberType]
            self.explicit_tags = loader.explicit_tags
        except yaml.MarkedYAMLError as exc:
            self.problems.append(self._syntax(exc))
            return None
        except yaml.YAMLError as exc:
            self.problems.append(f"{self.path.name}: not valid YAML: {exc}")
            return None
        return None if node is None else self._value(node, ())

    def _syntax(self, exc: yaml.MarkedYAMLError) -> str:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "?"
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        hint = ""
        if "tab" in what.lower():
            hint = " (indent with spaces, not tabs)"
        elif "mapping values are not allowed" in what:
            hint = " (quote a value that contains ': ', or check the indentation above)"
        elif "found character" in what and ("@" in what or "`" in what):
            hint = " (quote the value)"
        elif "expected <block end>" in what or "could not find expected ':'" in what:
            hint = " (check the indentation of this line against the lines above)"
        return f"{self.path.name}:{where}: not valid YAML: {what}{hint}"

    def _where(self, node: yaml.Node) -> Position:
        mark = node.start_mark
        text = node.value if isinstance(node, yaml.ScalarNode) else ""
        return Position(mark.line + 1, mark.column + 1, text)

    def _value(self, node: yaml.Node, loc: Loc) -> Any:
        self.positions[loc] = self._where(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self._value(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self._scalar(cast(yaml.ScalarNode, node), loc)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first: dict[Any, Position] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(f"{self.path.name}:{self._where(key_node)}: merge keys (<<) are not supported")
                continue
            key = self._scalar(key_node, loc) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int) or isinstance(key, bool):
                self.problems.append(f"{self.path.name}:{self._where(key_node)}: a key must be a plain string")
                continue
            key = str(key)
            if key in first:
                self.problems.append(
                    f"{self.path.name}:{self._where(key_node)}: duplicate key '{key}' "
                    f"(first at line {first[key].line}); YAML forbids it and readers disagree on which one wins"
                )
                continue
            first[key] = self._where(key_node)
            result[key] = self._value(value_node, (*loc, key))
        return result

    def _scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        value, tag = node.value, node.tag
        if node.style in ("'", '"', "|", ">") or (node in self.explicit_tags and tag.endswith(":str")):
            return value
        # A plain scalar resolves by the YAML 1.2 core schema below, whatever PyYAML's YAML 1.1 resolver tagged it
        # (it calls 1.5e3 and 0o17 strings, 2026-01-01 a timestamp); other explicit tags keep the text.
        if tag not in (
            "tag:yaml.org,2002:str",
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:null",
            "tag:yaml.org,2002:timestamp",
        ) and tag.startswith("tag:yaml.org"):
            return value
        if NULL.fullmatch(value):
            return None
        if BOOL.fullmatch(value):
            return value.lower() == "true"
        if YAML11_BOOL.fullmatch(value):
            meaning = "true" if value.lower() in ("y", "yes", "on") else "false"
            self.problems.append(
                f"{self.path.name}:{self._where(node)}: '{value}' is the boolean {meaning} to YAML 1.1 readers and the "
                f"string '{value}' to YAML 1.2 (the Pulumi CLI): quote it (\"{value}\") or write {meaning}"
            )
            return value
        if INT.fullmatch(value):
            return int(value, 0) if value.startswith(("0o", "0x")) else int(value)
        if FLOAT.fullmatch(value):
            # YAML 1.2 spells infinity and not-a-number .inf/.Inf/.INF (signed) and .nan; Python does not.
            if value.lower().endswith((".inf", ".nan")):
                # The Pulumi CLI passes object settings to the program as JSON, which has no such numbers.
                self.problems.append(
                    f"{self.path.name}:{self._where(node)}: '{value}' is not a number JSON can carry (the Pulumi "
                    f'CLI passes config to the program as JSON): write a finite number, or quote it ("{value}")'
                )
                return value
            return float(value)
        return value


def number_hint(position: Position | None, value: Any) -> str:
    """For a number where text is expected: how it was written, and how to write it as text."""
    if position is not None and position.text and str(value) != position.text:
        return f'YAML reads {position.text} as the number {value}: quote it ("{position.text}")'
    written = position.text if position is not None and position.text else value
    return f'quote it ("{written}")'
