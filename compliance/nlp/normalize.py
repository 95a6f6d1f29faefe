"""Text normalisation that keeps every character traceable to the original text.

Matching runs on NFKC-folded, lower-cased text (full-width ＡＢＣ１２３ and half-width ABC123 look
the same, "BEST" equals "best"), but findings must point at the user's original characters. We
normalise character by character, so each output character knows which input character produced it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# NFKC would turn these into letters ("™" -> "TM") that glue onto the previous word and break word
# boundaries ("Best™" -> "besttm"); keep them as the symbols they are.
_KEEP = {"™", "℠", "®", "…"}  # "…" -> "..." would also move every later offset
# Typographic quotes and apostrophes: one spelling for matching ("world’s" == "world's").
_EXTRA = {"’": "'", "‘": "'", "＇": "'", "“": '"', "”": '"', "＂": '"', "\u00a0": " ", "\u3000": " "}


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    if ch in _KEEP:
        return ch
    if ch in _EXTRA:
        return _EXTRA[ch]
    folded = unicodedata.normalize("NFKC", ch).lower()
    return "".join(_EXTRA.get(c, c) for c in folded)


@dataclass(frozen=True)
class Normalized:
    text: str                      # folded text used for matching
    origin: tuple[int, ...] | None  # origin[i] = index in the original of folded char i; None = identity
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the folded text back to the original text."""
        if self.origin is None:
            return start, end
        if start >= len(self.origin):
            return self.original_length, self.original_length
        o_start = self.origin[start]
        o_end = self.origin[end - 1] + 1 if end > start else o_start
        return o_start, o_end


class _FoldTable(dict):
    """str.translate table that folds each character on first sight and remembers it (C-speed after)."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        if len(folded) != 1:
            _EXPANDING.add(chr(code))
        return folded


_EXPANDING: set[str] = set()
_TABLE = _FoldTable()


def normalize(text: str) -> Normalized:
    if text.isascii():
        # ASCII: NFKC is the identity and no ASCII character is in _EXTRA, so folding is lower-casing.
        return Normalized(text.lower(), None, len(text))
    folded = text.translate(_TABLE)
    # Fast path: every character folded to exactly one character, so positions did not move.
    if len(folded) == len(text) and (not _EXPANDING or _EXPANDING.isdisjoint(text)):
        return Normalized(folded, None, len(text))
    # Slow path, only for texts with characters that expand or vanish (ligatures, "㎏"): copy the
    # identity mapping in runs between those characters.
    expanding = re.compile("[" + "".join(re.escape(c) for c in _EXPANDING) + "]")
    origin: list[int] = []
    pos = 0
    for match in expanding.finditer(text):
        i = match.start()
        origin.extend(range(pos, i))
        origin.extend([i] * len(_TABLE[ord(text[i])]))
        pos = i + 1
    origin.extend(range(pos, len(text)))
    return Normalized(folded, tuple(origin), len(text))
