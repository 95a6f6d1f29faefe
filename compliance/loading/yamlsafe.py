"""YAML loading that is safe on hostile input and remembers where every value came from.

PyYAML alone accepts duplicate keys, expands alias bombs and knows Python tags; this loader composes the
node tree itself and rebuilds plain data from it with limits, so every value keeps its line.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, Problem

MAX_BYTES = 10 * 1024 * 1024
MAX_NODES = 500_000
MAX_ALIASES = 100
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]
_ALLOWED_TAGS = {
    "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str", "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_BOMS = [
    (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"),
]


def render_path(path: PathKey) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


@dataclass
class SourceMap:
    """Field path -> (line, column), 1-based."""

    file: str
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int | None:
        """The line of the path, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.positions:
                return self.positions[path][0]
            if not path:
                return None
            path = path[:-1]


@dataclass
class LoadedYaml:
    data: Any
    source: SourceMap
    raw: bytes


def decode_text(raw: bytes, file: str, what: str = "YAML") -> str:
    """Strict UTF-8 (with or without BOM); anything else is a clear error."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise InputError(Problem("E102", f"file is {name}-encoded", file, 1, expected="UTF-8 text (save the file as UTF-8)"))
    head = raw[:8192]
    if len(head) >= 4 and head.count(b"\x00") * 3 >= len(head) and (head[1::2].count(0) * 2 >= len(head) // 2
                                                                      or head[0::2].count(0) * 2 >= len(head) // 2):
        # text in UTF-16 without a byte-order mark: every other byte is NUL
        raise InputError(Problem("E102", "file looks UTF-16-encoded (no byte-order mark)", file, 1,
                                 expected="UTF-8 text (save the file as UTF-8)"))
    if b"\x00" in head:
        raise InputError(Problem("E103", "file contains binary data (NUL bytes)", file, 1, expected=f"UTF-8 {what} text"))
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Problem(
            "E102", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "it may be GBK/GB18030 or Latin-1", file, line, expected="UTF-8 text (save the file as UTF-8)",
        )) from None


def read_limited(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    display = str(path)
    try:
        if path.is_symlink():
            raise InputError(Problem("E104", "file is a symbolic link; refusing to follow it", display, expected="a regular file"))
        size = path.stat().st_size
        if not path.is_file():
            raise InputError(Problem("E101", "not a regular file", display, expected="a YAML file"))
        if size > max_bytes:
            raise InputError(Problem("E105", f"file is {size:,} bytes, over the {max_bytes:,}-byte limit", display,
                                     expected=f"a file under {max_bytes // (1024 * 1024)} MiB"))
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(Problem("E101", "file not found", display, expected="an existing file")) from None
    except IsADirectoryError:
        raise InputError(Problem("E101", "is a directory", display, expected="a file")) from None
    except PermissionError:
        raise InputError(Problem("E101", "permission denied", display, expected="a readable file")) from None


class _Builder:
    def __init__(self, file: str):
        self.source = SourceMap(file)
        self.file = file
        self.nodes = 0
        self.aliases = 0
        self._seen: set[int] = set()
        self._scalar_loader = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self._error("E107", f"nesting deeper than {MAX_DEPTH} levels", node, path, "a shallower document")
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self._error("E108", f"document has more than {MAX_NODES:,} values", node, path, "a smaller document")
        if id(node) in self._seen and not isinstance(node, yaml.ScalarNode):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise self._error("E109", f"more than {MAX_ALIASES} alias expansions (possible alias bomb)", node, path,
                                  "a document without heavy anchor/alias reuse")
        self._seen.add(id(node))
        if node.tag not in _ALLOWED_TAGS:
            raise self._error("E110", f"tag {node.tag!r} is not allowed", node, path, "plain YAML data (no language-specific tags)")
        self.source.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        try:
            return self._scalar_loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            if node.tag == "tag:yaml.org,2002:timestamp":
                raise self._error("E124", f"invalid date {node.value!r}: {exc}", node, path, "a real date YYYY-MM-DD") from None
            raise self._error("E111", f"invalid value {node.value!r}: {exc}", node, path, "a valid scalar") from None

    def _mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> dict:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self._error("E112", "merge keys (<<) are not supported", key_node, path, "explicit keys")
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._error("E113", "mapping key is not a plain value", key_node, path, "a string key")
            key = str(key_node.value)
            if key in out:
                first = self.source.positions.get(path + (key,), (None,))[0]
                raise self._error("E114", f"duplicate key {key!r} (first defined on line {first})", key_node,
                                  path + (key,), "each key once per mapping")
            self.source.positions[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, path + (key,), depth + 1)
        return out

    def _error(self, code: str, message: str, node: yaml.Node, path: PathKey, expected: str) -> InputError:
        mark = node.start_mark
        return InputError(Problem(code, message, self.file, mark.line + 1, mark.column + 1, render_path(path), expected))


# libyaml's composer when available: the same node tree and marks, about ten times faster.
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "nesting depth" in str(exc.problem):
            raise InputError(Problem("E107", "nesting too deep to parse", file, mark.line + 1 if mark else 1,
                                     expected=f"at most {MAX_DEPTH} levels")) from None
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise InputError(Problem("E106", f"malformed YAML: {exc.problem or exc}", file, line, col,
                                 expected="valid YAML")) from None
    except yaml.reader.ReaderError as exc:  # control characters: positioned by character offset, not by a mark
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise InputError(Problem("E106", f"malformed YAML: control character U+{exc.character if isinstance(exc.character, int) else ord(exc.character):04X} is not allowed", file, line, col,
                                 expected="printable text (no control characters)")) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem("E106", f"malformed YAML: {exc}", file, expected="valid YAML")) from None
    except RecursionError:
        raise InputError(Problem("E107", "nesting too deep to parse", file, 1, expected=f"at most {MAX_DEPTH} levels")) from None
    if node is None:
        raise InputError(Problem("E100", "file is empty", file, 1, expected="a YAML mapping"))
    builder = _Builder(file)
    try:
        data = builder.build(node, (), 0)
    except RecursionError:
        raise InputError(Problem("E107", "nesting too deep", file, 1, expected=f"at most {MAX_DEPTH} levels")) from None
    return data, builder.source


def load_yaml_file(path: Path, display: str | None = None, max_bytes: int = MAX_BYTES) -> LoadedYaml:
    display = display or str(path)
    return load_yaml_bytes(read_limited(path, max_bytes), display)


def load_yaml_bytes(raw: bytes, display: str) -> LoadedYaml:
    """Parse bytes already read (and size-checked) by read_limited; `display` names the file in errors."""
    if not raw.strip():
        raise InputError(Problem("E100", "file is empty", display, 1, expected="a YAML mapping"))
    text = decode_text(raw, display)
    data, source = parse_yaml(text, display)
    return LoadedYaml(data, source, raw)
