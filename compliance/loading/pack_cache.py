"""The validated-pack cache: a pack file that loaded cleanly once is rebuilt from JSON data, not from YAML.

An entry is keyed by the pack file's SHA-256 (and, through compliance.cache, by the code that wrote it) and holds
the composed YAML data, the source lines of the document's top levels (enough for every rule's line), and each
rule's outcome DNF, which is also the proof that the rule passed the engine's load-time check. Only packs that
loaded without error are written, so a broken pack is parsed, and fails, on every load. Entries are plain JSON:
reading one never runs code, and a missing, truncated or malformed entry is a miss.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml

from .. import cache
from ..engine.logic import RuleLogic, encode_dnf, outcome_dnf
from .yamlsafe import LoadedYaml, PathKey, SourceMap

NAMESPACE = "packs"
ENTRY_VERSION = 1
_POSITION_DEPTH = 2  # ("rules", i) gives each rule's line; deeper paths only matter for errors, never cached


@dataclass
class CachedPack:
    data: Any
    source: SourceMap
    dnfs: list[Any]  # one engine.logic.encode_dnf payload per rule, in rule order


def _entry(sha256: str) -> Path | None:
    # The composed data could change with the YAML library and validation with pydantic: both are in the key.
    return cache.entry_path(NAMESPACE, sha256, f"pyyaml {yaml.__version__}", f"pydantic {pydantic.VERSION}")


def read(sha256: str, file: str) -> CachedPack | None:
    """The cached load of the pack whose bytes hash to `sha256`, or None on a miss or an unusable entry."""
    value = cache.read_json(_entry(sha256))
    if value is None:
        return None
    try:
        return _decode(value, sha256, file)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None


def write(sha256: str, loaded: LoadedYaml, logics: list[RuleLogic]) -> None:
    """Cache a pack that loaded without error; data that JSON cannot hold exactly is simply not cached."""
    path = _entry(sha256)
    if path is None:  # caching off or no usable directory: encode nothing
        return
    dates: list[list] = []
    try:
        data = _encode_data(loaded.data, [], dates)
    except TypeError:
        return
    positions = [[list(path), line, column] for path, (line, column) in loaded.source.positions.items()
                 if len(path) <= _POSITION_DEPTH]
    dnfs = [encode_dnf(outcome_dnf(logic)) for logic in logics]
    cache.write_json(path, {"version": ENTRY_VERSION, "sha256": sha256, "data": data, "dates": dates,
                            "positions": positions, "dnfs": dnfs})


def _decode(value: Any, sha256: str, file: str) -> CachedPack:
    if value["version"] != ENTRY_VERSION or value["sha256"] != sha256:
        raise ValueError("entry for another pack or format")
    data = value["data"]
    for path, kind, text in value["dates"]:
        _set_at(data, path, _decode_date(kind, text))
    positions: dict[PathKey, tuple[int, int]] = {}
    for path, line, column in value["positions"]:
        if not all(isinstance(p, (str, int)) for p in path) or not isinstance(line, int) or not isinstance(column, int):
            raise ValueError("bad position")
        positions[tuple(path)] = (line, column)
    dnfs = value["dnfs"]
    if not isinstance(dnfs, list):
        raise ValueError("bad DNF list")
    return CachedPack(data, SourceMap(file, positions), dnfs)


def _encode_data(value: Any, path: list, dates: list[list]) -> Any:
    """A JSON-ready copy of composed YAML data; dates and datetimes become ISO text listed in `dates` by path."""
    if isinstance(value, dict):
        return {key: _encode_data(item, path + [key], dates) for key, item in value.items()}
    if isinstance(value, list):
        return [_encode_data(item, path + [i], dates) for i, item in enumerate(value)]
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        dates.append([path, "datetime", value.isoformat()])
        return None
    if isinstance(value, dt.date):
        dates.append([path, "date", value.isoformat()])
        return None
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise TypeError(f"{type(value).__name__} has no JSON form")


def _decode_date(kind: str, text: str) -> dt.date:
    if kind == "datetime":
        return dt.datetime.fromisoformat(text)
    if kind == "date":
        return dt.date.fromisoformat(text)
    raise ValueError(f"unknown date kind {kind!r}")


def _set_at(data: Any, path: list, value: Any) -> None:
    if not isinstance(path, list) or not path:
        raise ValueError("bad date path")
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if parent[path[-1]] is not None:
        raise ValueError("date path does not point at a placeholder")
    parent[path[-1]] = value
