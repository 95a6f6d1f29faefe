"""jieba's prefix dictionary, read from the per-user cache only where a segmentation looks.

jieba's ``Tokenizer.FREQ`` maps every dictionary word and every prefix of one (frequency 0) to its
frequency; segmenting a window looks up only keys that start with the window's characters. The cache
file groups the keys by their first character: a JSON header line (total, the first characters, the
end offset of each group) and then one ``word<TAB>freq`` block per character. Loading the whole dict
costs ~0.3 s of a cold start (~0.5 s to build it from dict.txt); this header loads in ~5 ms and a
group in well under one. The file holds data only; a damaged one is rebuilt (see ``LazyFreq``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from compliance.cache import write_atomic

_FORMAT = 1


def build_groups(lines: Iterator[bytes]) -> tuple[dict[str, dict[str, int]], int]:
    """jieba's ``Tokenizer.gen_pfdict`` (same parsing, same last-entry-wins and prefix rules), with the
    keys grouped by first character: every prefix of a word starts with the word's first character,
    so each group evolves exactly as its part of jieba's single dict would."""
    groups: dict[str, dict[str, int]] = {}
    total = 0
    for line in lines:
        word, freq_text = line.strip().decode("utf-8").split(" ")[:2]
        freq = int(freq_text)
        group = groups.get(word[0])
        if group is None:
            group = groups[word[0]] = {}
        group[word] = freq
        total += freq
        for end in range(1, len(word)):
            group.setdefault(word[:end], 0)
    return groups, total


def write_file(path: Path, groups: dict[str, dict[str, int]], total: int) -> None:
    """Write atomically (temp file + rename); failures leave no file and are ignored."""
    chars = "".join(sorted(groups))
    blocks = ["\n".join(f"{word}\t{freq}" for word, freq in groups[ch].items()).encode("utf-8") for ch in chars]
    ends, offset = [], 0
    for block in blocks:
        offset += len(block)
        ends.append(offset)
    header = json.dumps({"format": _FORMAT, "total": total, "chars": chars, "ends": ends}, ensure_ascii=False)
    write_atomic(path, [header.encode("utf-8") + b"\n", *blocks])


class LazyFreq:
    """The mapping jieba's Tokenizer reads as ``FREQ`` (``in``, ``[]``, ``get``, ``[]=`` for add_word),
    backed by the cache file. ``rebuild`` returns jieba's full dict: used if a group turns out damaged,
    so a segmentation never sees a partial dictionary."""

    def __init__(self, path: Path, data_start: int, chars: str, ends: list[int],
                 rebuild: Callable[[], dict[str, int]]):
        self._path = path
        self._data_start = data_start
        self._slot = {ch: i for i, ch in enumerate(chars)}
        self._ends = ends
        self._rebuild = rebuild
        self._groups: dict[str, dict[str, int]] = {}
        self._full: dict[str, int] | None = None

    def _group(self, key: str) -> dict[str, int]:
        if self._full is not None:
            return self._full
        ch = key[:1]
        group = self._groups.get(ch)
        if group is None:
            group = self._groups[ch] = self._read(ch)
        return group

    def _read(self, ch: str) -> dict[str, int]:
        slot = self._slot.get(ch)
        if slot is None:
            return {}
        start = self._ends[slot - 1] if slot else 0
        try:
            with open(self._path, "rb") as handle:
                handle.seek(self._data_start + start)
                block = handle.read(self._ends[slot] - start).decode("utf-8")
            group = {}
            for line in block.split("\n"):
                word, freq = line.split("\t")
                if word[:1] != ch:
                    raise ValueError(word)
                group[word] = int(freq)
            return group
        except (OSError, ValueError):
            self._full = self._rebuild()
            return self._full

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._group(key)

    def __getitem__(self, key: str) -> int:
        return self._group(key)[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._group(key).get(key, default)

    def __setitem__(self, key: str, value: int) -> None:
        self._group(key)[key] = value


def open_file(path: Path, rebuild: Callable[[], dict[str, int]]) -> tuple[LazyFreq, int] | None:
    """(FREQ, total) from the cache file, or None when it is missing or its header is not ours."""
    try:
        with open(path, "rb") as handle:
            header = json.loads(handle.readline())
            data_start = handle.tell()
            size = os.fstat(handle.fileno()).st_size
    except (OSError, ValueError):
        return None
    if not _valid_header(header, size - data_start):
        return None
    return LazyFreq(path, data_start, header["chars"], header["ends"], rebuild), header["total"]


def _valid_header(header: Any, data_size: int) -> bool:
    if not isinstance(header, dict) or header.get("format") != _FORMAT or type(header.get("total")) is not int:
        return False
    chars, ends = header.get("chars"), header.get("ends")
    return (isinstance(chars, str) and isinstance(ends, list) and len(ends) == len(chars)
            and all(type(e) is int for e in ends) and (not ends or ends[-1] == data_size))


def read_lines(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        yield from handle
