"""Sentence/clause geometry and the context rules that change what a matched term means.

Rules (issue 3): a negated or prohibited use, a quoted mention and a genuine question are not claims;
a contrast ("not X but the No.1 brand", 不是X，而是第一品牌), a double negation (不极致不出品) and an
emphatic or rhetorical assertion still are. All scopes are computed on the normalised text.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from compliance.nlp.lexicon import ContextCues

# Sentence ends: strong punctuation, line breaks, ellipses and the " … " joiner used in ad copy. A
# full stop only ends a sentence before whitespace, so "No.1" and "9.99" stay whole.
_SENTENCE_BREAK = re.compile(r"[!?！？。\n]+|\.(?=\s|$)|\.{3}|…|\[…\]|\s[-–—]\s")
_CLAUSE_BREAK = re.compile(r"[,;:，；：]|\s[–—]\s")
_QUESTION_MARKS = frozenset("?？")


@dataclass(frozen=True)
class ContextResult:
    labels: tuple[str, ...]
    cleared: bool           # the term is mentioned, not claimed


class TextGeometry:
    """Sentence and clause boundaries of one text, answered by bisection."""

    def __init__(self, text: str):
        self.text = text
        self._sentence_ends: list[int] = []
        self._sentence_starts: list[int] = [0]
        for match in _SENTENCE_BREAK.finditer(text):
            self._sentence_ends.append(match.start())
            self._sentence_starts.append(match.end())
        self._sentence_ends.append(len(text))
        clause_starts = set(self._sentence_starts)
        clause_ends = set(self._sentence_ends)
        for match in _CLAUSE_BREAK.finditer(text):
            clause_ends.add(match.start())
            clause_starts.add(match.end())
        self._clause_starts = sorted(clause_starts)
        self._clause_ends = sorted(clause_ends)

    def sentence(self, pos: int) -> tuple[int, int]:
        index = bisect_right(self._sentence_starts, pos) - 1
        return self._sentence_starts[index], self._sentence_ends[index]

    def clause(self, pos: int) -> tuple[int, int]:
        start = self._clause_starts[bisect_right(self._clause_starts, pos) - 1]
        end_index = bisect_right(self._clause_ends, pos)
        end = self._clause_ends[end_index] if end_index < len(self._clause_ends) else len(self.text)
        return start, end

    def sentence_terminator(self, pos: int) -> str:
        _, end = self.sentence(pos)
        return self.text[end:end + 1]


class SpanIndex:
    """Sorted spans with logarithmic "is [start, end) inside one of them?" queries (texts can be long
    pages with hundreds of hits, so per-hit linear scans would turn quadratic)."""

    def __init__(self, spans: list[tuple[int, int]]):
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]
        self.max_end: list[int] = []
        best = -1
        for _, end in self.spans:
            best = max(best, end)
            self.max_end.append(best)

    def covers(self, start: int, end: int) -> bool:
        index = bisect_right(self.starts, start) - 1
        return index >= 0 and self.max_end[index] >= end

    def covering(self, start: int, end: int, max_length: int) -> bool:
        """Is [start, end) inside a span no longer than max_length?"""
        index = bisect_right(self.starts, start) - 1
        while index >= 0 and self.spans[index][0] >= start - max_length:
            s, e = self.spans[index]
            if e >= end and e - s <= max_length:
                return True
            index -= 1
        return False


def quoted_spans(text: str, quotes: tuple[re.Pattern[str], ...]) -> SpanIndex:
    """Inner spans of quotations; each pattern's group 1 is the quoted content."""
    return SpanIndex([m.span(1) for pattern in quotes for m in pattern.finditer(text)])


def _count_negations(scope: str, cues: ContextCues) -> int:
    excluded = [m.span() for m in cues.negation_exclude.finditer(scope)] if cues.negation_exclude else []
    count = 0
    for match in cues.negation.finditer(scope):
        if any(s <= match.start() < e for s, e in excluded):
            continue
        count += 1
    return count


def analyse(text: str, geometry: TextGeometry, start: int, end: int, cues: ContextCues,
            quotes: SpanIndex) -> ContextResult:
    labels: list[str] = []
    sent_start, sent_end = geometry.sentence(start)
    clause_start, clause_end = geometry.clause(start)
    hit_len = end - start

    # Quotation as mention: a short quote that holds little more than the term itself.
    if quotes.covering(start, end, hit_len + cues.mention_quote_slack):
        return ContextResult(("quoted",), True)
    near_before = text[max(sent_start, start - 16):start]
    near_after = text[end:min(sent_end, end + 6)]
    if cues.mention.search(near_before) or cues.mention.search(near_after):
        return ContextResult(("mention",), True)

    # Contrast: negation scope ends at "but"/"而是"; a negation before it makes the rest an assertion.
    scope_start = max(clause_start, start - cues.negation_window)
    scope = text[scope_start:start]
    contrast = None
    for contrast in cues.contrast.finditer(text[sent_start:start]):
        pass
    if contrast is not None:
        contrast_pos = sent_start + contrast.start()
        if _count_negations(text[max(sent_start, contrast_pos - cues.negation_window):contrast_pos], cues) % 2 == 1:
            labels.append("contrast")
        if contrast_pos + len(contrast.group()) > scope_start:
            scope = text[sent_start + contrast.end():start]
    prefix = text[sent_start:start]
    rhetorical = bool(cues.rhetorical.search(text[sent_start:sent_end]))
    if cues.emphatic.search(text[clause_start:start]):
        labels.append("emphatic")

    negations = _count_negations(scope, cues)
    if negations % 2 == 1 and cues.after_negation is not None and \
            cues.after_negation.match(text, end, min(clause_end, end + 3)):
        negations += 1  # 不A不B: "no A, no B" asserts A
    if negations >= 2 and negations % 2 == 0:
        labels.append("double_negation")
    elif negations % 2 == 1:
        if rhetorical:
            labels.append("rhetorical")
            return ContextResult(tuple(labels), False)
        labels.append("negated")
        return ContextResult(tuple(labels), True)

    if "contrast" not in labels and cues.prohibition.search(prefix):
        labels.append("prohibited")
        return ContextResult(tuple(labels), True)

    if geometry.sentence_terminator(start) in _QUESTION_MARKS:
        if rhetorical or "emphatic" in labels:
            labels.append("rhetorical")
        else:
            labels.append("question")
            return ContextResult(tuple(labels), True)
    return ContextResult(tuple(labels), False)


class ContextJudge:
    """``analyse`` for every hit of one text, with the sentence-level work done once per sentence.

    Most sentences of ad copy contain no prohibition, contrast, rhetorical, emphatic or mention cue
    (one search of ``cues.presence`` per sentence shows it) and most hits have no negation in their
    negation window. Such a hit, if not quoted and not in a question, needs no further analysis: the
    result is the one ``analyse`` would compute (the cues are searched in loosened form, so they
    match wherever ``analyse`` could find one), only cheaper."""

    _PLAIN = ContextResult((), False)

    def __init__(self, text: str, geometry: TextGeometry, cues: ContextCues, quotes: SpanIndex):
        self.text = text
        self.geometry = geometry
        self.cues = cues
        self.quotes = quotes
        self._quiet: dict[int, bool] = {}

    def analyse(self, start: int, end: int) -> ContextResult:
        cues = self.cues
        sent_start, sent_end = self.geometry.sentence(start)
        quiet = self._quiet.get(sent_start)
        if quiet is None:
            quiet = (cues.presence is not None and cues.negation_presence is not None
                     and cues.presence.search(self.text[sent_start:sent_end]) is None
                     and self.text[sent_end:sent_end + 1] not in _QUESTION_MARKS)
            self._quiet[sent_start] = quiet
        if quiet:
            # No contrast in the sentence, so negation can only come from the window before the hit
            # (clause-bounded in ``analyse``; the sentence-bounded window searched here contains it).
            scope = self.text[max(sent_start, start - cues.negation_window):start]
            if cues.negation_presence.search(scope) is None and not (
                    self.quotes.spans and self.quotes.covering(start, end, end - start + cues.mention_quote_slack)):
                return self._PLAIN
        return analyse(self.text, self.geometry, start, end, cues, self.quotes)
