"""Detector findings cached across processes, as JSON data in the per-user cache (``compliance.cache``).

An entry maps one detection request (exact text, canonical jurisdiction, requested language and the
ordered substantiation pairs) to its findings. What else a result depends on is in the shard's cache
key: the package's code (``entry_path`` adds it), a hash of every YAML file in the claims data
directory, and the installed spaCy, spacy-lookups-data and jieba distributions.

Granularity: requests are spread over ``SHARDS`` files by their hash, so a catalogue of 10,000 texts
costs at most that many files instead of 10,000, and a small launch reads only the few shards its texts
fall in. A shard is read at most once per process; new results are kept in memory and written back once
per shard (at ``flush``: when the detector is collected or the process exits, or early when many are
pending). Concurrent writers merge with what is on disk, so at worst an entry is lost (a later miss).
"""
from __future__ import annotations

import hashlib
import json
import os
import weakref
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from compliance.cache import entry_path, read_json, tree_hash, write_json

if TYPE_CHECKING:  # pragma: no cover
    from compliance.nlp.claims import ClaimHit

NAMESPACE = "claims"
SHARDS = 64
MAX_PER_SHARD = 1024      # oldest entries go first: bounds a shard (and the cache) for a long-lived user
FLUSH_PENDING = 4096      # a long-running process writes back before it holds more than this
_DEPENDENCIES = ("spacy", "spacy_lookups_data", "jieba")
_FIELDS = ("start", "end", "text", "category", "lang", "severity", "rule", "citation", "explanation",
           "suggestion", "context", "exception", "substantiated_by")
_OPTIONAL = frozenset({"suggestion", "exception", "substantiated_by"})


def data_hash(directory: Path) -> str:
    """SHA-256 over every YAML file under the claims data directory (relative path and bytes)."""
    return tree_hash(directory, "*.yaml")[:32]


@cache
def dependency_versions() -> str:
    """The installed distributions the detector's results depend on, read from their dist-info names
    (importlib.metadata would cost ~50 ms, more than a whole cached audit's claim lookups)."""
    parts = []
    for name in _DEPENDENCIES:
        spec = find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None:
            parts.append(f"{name}=absent")
            continue
        site = Path(origin).parent.parent
        prefix = name.lower().replace("-", "_") + "-"
        try:
            infos = sorted(e for e in os.listdir(site) if e.lower().replace("-", "_").startswith(prefix)
                           and e.endswith((".dist-info", ".egg-info")))
        except OSError:
            infos = []
        parts.append(f"{name}={','.join(infos) or origin}")
    return ";".join(parts)


def request_key(text: str, jurisdiction: str, lang: str, substantiation: Sequence[tuple[str, str]]) -> str:
    payload = json.dumps([text, jurisdiction, lang, [list(pair) for pair in substantiation]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def encode(hits: Sequence[ClaimHit]) -> list[list[Any]]:
    return [[getattr(hit, name) if name != "context" else list(hit.context) for name in _FIELDS] for hit in hits]


def _valid_field(name: str, value: Any) -> bool:
    if name in ("start", "end"):
        return type(value) is int
    if name == "citation":
        return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    if name == "context":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, str) or (value is None and name in _OPTIONAL)


def decode(value: Any) -> list[ClaimHit] | None:
    """The findings of one entry, or None when it is not exactly what ``encode`` writes (a miss)."""
    from compliance.nlp.claims import ClaimHit

    if not isinstance(value, list):
        return None
    hits = []
    for row in value:
        if not isinstance(row, list) or len(row) != len(_FIELDS):
            return None
        if not all(_valid_field(name, item) for name, item in zip(_FIELDS, row)):
            return None
        fields = dict(zip(_FIELDS, row))
        fields["context"] = tuple(fields["context"])
        hits.append(ClaimHit(**fields))
    return hits


class _Store:
    """The shards of one (data, dependencies) key: loaded on first use, written back on flush."""

    def __init__(self, key_parts: tuple[str, ...]):
        self.key_parts = key_parts
        self.loaded: dict[int, dict[str, Any]] = {}
        self.pending: dict[int, dict[str, Any]] = {}
        self.pending_count = 0

    def _path(self, shard: int) -> Path | None:
        return entry_path(NAMESPACE, *self.key_parts, f"shard-{shard:02x}")

    def shard(self, shard: int) -> dict[str, Any]:
        entries = self.loaded.get(shard)
        if entries is None:
            value = read_json(self._path(shard))
            entries = value if isinstance(value, dict) else {}
            self.loaded[shard] = entries
        return entries

    def add(self, shard: int, key: str, value: Any) -> None:
        self.pending.setdefault(shard, {})[key] = value
        self.pending_count += 1
        if self.pending_count >= FLUSH_PENDING:
            self.flush()

    def flush(self) -> None:
        pending, self.pending, self.pending_count = self.pending, {}, 0
        for shard, new in pending.items():
            path = self._path(shard)
            on_disk = read_json(path)
            merged = on_disk if isinstance(on_disk, dict) else {}
            for key, value in new.items():
                merged.pop(key, None)   # re-inserted last: the newest entries survive trimming
                merged[key] = value
            if len(merged) > MAX_PER_SHARD:
                merged = dict(list(merged.items())[-MAX_PER_SHARD:])
            write_json(path, merged)


class ResultCache:
    """Per-request findings for one detector (one claims data directory)."""

    def __init__(self, lexicon_dir: Path):
        self._key_parts = (data_hash(lexicon_dir), dependency_versions())
        self._store = _Store(self._key_parts)
        self._memory: dict[str, list[ClaimHit]] = {}
        # Written back when the detector goes away or, for one still alive, at process exit.
        weakref.finalize(self, self._store.flush)

    @staticmethod
    def _shard_of(key: str) -> int:
        return int(key[:4], 16) % SHARDS

    def get(self, key: str) -> list[ClaimHit] | None:
        hits = self._memory.get(key)
        if hits is None:
            hits = decode(self._store.shard(self._shard_of(key)).get(key))
            if hits is None:
                return None
            self._memory[key] = hits
        return list(hits)

    def put(self, key: str, hits: list[ClaimHit]) -> None:
        self._memory[key] = list(hits)
        self._store.add(self._shard_of(key), key, encode(hits))

    def flush(self) -> None:
        self._store.flush()
