"""The per-user cache: derived data only (never pickled objects, never code), keyed by what it derives from.

A cache entry is valid for one content hash and one build of the code that made it: every key includes
``code_fingerprint()``, a hash of this package's own source files, so an upgrade or a local edit never
reads an entry written by other code. Set ``COMPLIANCE_NO_CACHE=1`` to neither read nor write it, and
``COMPLIANCE_CACHE_DIR`` to move it (default ``$XDG_CACHE_HOME/launch-compliance``, else ``~/.cache/...``).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def enabled() -> bool:
    return os.environ.get("COMPLIANCE_NO_CACHE", "").strip().lower() in ("", "0", "false", "no")


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is off or the directory cannot be created or written."""
    if not enabled():
        return None
    root = os.environ.get("COMPLIANCE_CACHE_DIR")
    path = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "launch-compliance"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def tree_hash(directory: Path, pattern: str) -> str:
    """SHA-256 over the files matching `pattern` under `directory` (relative path and bytes of each)."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob(pattern)):
        digest.update(str(path.relative_to(directory)).encode("utf-8", "surrogatepass") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def code_fingerprint() -> str:
    """A hash of this package's Python sources, so cached results never outlive the code."""
    return tree_hash(_PACKAGE, "*.py")[:16]


def entry_path(namespace: str, *key_parts: str) -> Path | None:
    """Where the entry for `key_parts` lives, or None when there is no usable cache."""
    directory = cache_dir()
    if directory is None:
        return None
    digest = hashlib.sha256("\0".join((code_fingerprint(), *key_parts)).encode("utf-8", "surrogatepass")).hexdigest()
    return directory / namespace / f"{digest}.json"


def read_json(path: Path | None) -> Any | None:
    """The cached value, or None when absent or unreadable (a broken entry is a miss, never an error)."""
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path | None, value: Any) -> None:
    """Write atomically (temp file + rename), so concurrent audits never read half an entry; failures are ignored."""
    if path is None:
        return
    try:
        # json.dumps, not json.dump: dump streams through the pure-Python encoder, ~5x slower
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return
    write_atomic(path, [text.encode("utf-8", "surrogatepass")])


def write_atomic(path: Path, chunks: Iterable[bytes]) -> None:
    """Write a temp file beside `path` and rename it over `path`: readers see the old file or the whole new
    one. Failures leave no file behind and are ignored (a cache that cannot be written is a miss next time)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as handle:
            handle.writelines(chunks)
        os.replace(handle.name, path)
    except OSError:
        try:
            os.unlink(handle.name)
        except (OSError, UnboundLocalError):
            pass
