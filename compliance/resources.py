"""Where the bundled rule packs and jurisdiction profiles live.

A wheel carries them as ``compliance/_bundled/<name>``; a source checkout keeps them at the repo root.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    bundled = _PACKAGE_DIR / "_bundled" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / name
