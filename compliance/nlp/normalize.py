"""Text normalisation that keeps every character traceable to the original text.

Matching runs on NFKC-folded, lower-cased text (full-width ＡＢＣ１２３ and half-width ABC123 look
the same, "BEST" equals "best"), but findings must point at the user's original characters. We
normalise character by character, so each output character knows which input character produced it.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# NFKC would turn these into letters ("™" -> "TM") that glue onto the previous word and break word
# boundaries ("Best™" -> "besttm"); keep them as the symbols they are.
_KEEP = {"™", "℠", "®"}
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


def normalize(text: str) -> Normalized:
    # Fast path: fold each distinct character once; if every character folds to exactly one
    # character, positions do not move and one C-level translate() does the work.
    table: dict[int, str] = {}
    one_to_one = True
    for ch in set(text):
        folded = _fold_char(ch)
        if folded != ch:
            table[ord(ch)] = folded
            if len(folded) != 1:
                one_to_one = False
    if one_to_one:
        return Normalized(text.translate(table) if table else text, None, len(text))
    pieces: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        folded = table.get(ord(ch), ch)
        pieces.append(folded)
        origin.extend([i] * len(folded))
    return Normalized("".join(pieces), tuple(origin), len(text))
