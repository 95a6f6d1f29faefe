"""Find lexicon candidates in normalised text: spaCy PhraseMatcher/Matcher for English, a
character-level alternation plus jieba word boundaries for Chinese."""
from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher

from compliance.nlp.lexicon import Entry, LanguagePack


@dataclass(frozen=True)
class RawHit:
    start: int          # offsets in the normalised text
    end: int
    entry: Entry


def _combined_regex(entries: tuple[Entry, ...]) -> tuple[re.Pattern[str] | None, dict[str, Entry]]:
    groups: dict[str, Entry] = {}
    parts: list[str] = []
    for entry in entries:
        for number, pattern in enumerate(entry.regex):
            name = f"g{len(groups)}"
            groups[name] = entry
            parts.append(f"(?P<{name}>{pattern})")
    if not parts:
        return None, groups
    return re.compile("|".join(parts)), groups


def _regex_hits(pattern: re.Pattern[str] | None, groups: dict[str, Entry], text: str) -> list[RawHit]:
    if pattern is None:
        return []
    hits = []
    for match in pattern.finditer(text):
        name = match.lastgroup
        if name is not None and match.end() > match.start():
            hits.append(RawHit(match.start(), match.end(), groups[name]))
    return hits


class EnglishMatcher:
    def __init__(self, pack: LanguagePack, nlp: Language):
        self.nlp = nlp
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.lemmas = Matcher(nlp.vocab)
        self.by_key: dict[int, Entry] = {}
        for entry in pack.entries:
            key = nlp.vocab.strings.add(entry.id)
            self.by_key[key] = entry
            if entry.phrases:
                self.phrases.add(entry.id, [nlp.make_doc(p) for p in entry.phrases])
            if entry.lemmas:
                self.lemmas.add(entry.id, [[{"LEMMA": word} for word in lemma.lower().split()]
                                           for lemma in entry.lemmas])
        self.regex, self.groups = _combined_regex(pack.entries)

    def find(self, text: str) -> list[RawHit]:
        doc = self.nlp(text)
        hits = []
        for matcher in (self.phrases, self.lemmas):
            for key, s, e in matcher(doc):
                last = doc[e - 1]
                hits.append(RawHit(doc[s].idx, last.idx + len(last.text), self.by_key[key]))
        hits.extend(_regex_hits(self.regex, self.groups, text))
        return hits


_ASCII_WORD = re.compile(r"[a-z0-9]")


def _guarded(phrase: str) -> str:
    """Escape a phrase; Latin letters and digits at its edges must not continue a longer word."""
    body = re.escape(phrase)
    if _ASCII_WORD.match(phrase[0]):
        body = r"(?<![a-z0-9])" + body
    if _ASCII_WORD.match(phrase[-1]):
        body += r"(?![a-z0-9])"
    return body


class ChineseMatcher:
    def __init__(self, pack: LanguagePack, nlp: Language):
        self.nlp = nlp
        self.by_phrase: dict[str, list[Entry]] = {}
        for entry in pack.entries:
            for phrase in entry.phrases:
                self.by_phrase.setdefault(phrase, []).append(entry)
        ordered = sorted(self.by_phrase, key=len, reverse=True)
        self.phrase_regex = re.compile("|".join(_guarded(p) for p in ordered)) if ordered else None
        self.regex, self.groups = _combined_regex(pack.entries)

    def find(self, text: str) -> list[RawHit]:
        hits: list[RawHit] = []
        if self.phrase_regex is not None:
            for match in self.phrase_regex.finditer(text):
                for entry in self.by_phrase[match.group()]:
                    hits.append(RawHit(match.start(), match.end(), entry))
        hits.extend(_regex_hits(self.regex, self.groups, text))
        return hits

    def words_around(self, text: str, start: int, end: int, lo: int, hi: int) -> list[tuple[int, int]]:
        """jieba word spans (absolute offsets) of text[lo:hi], a small window around a hit."""
        doc = self.nlp.make_doc(text[lo:hi])
        return [(lo + token.idx, lo + token.idx + len(token.text)) for token in doc]

    def check_segments(self, text: str, hit: RawHit, lo: int, hi: int) -> RawHit | None:
        """Drop a hit that starts inside a longer word (路口交通 is not 口交); extend a bare prefix
        such as 最 to the word it modifies so the finding shows 最先进, not 最."""
        words = self.words_around(text, hit.start, hit.end, lo, hi)
        starts = {s for s, _ in words}
        if hit.start not in starts:
            return None
        if hit.entry.extend_to_word:
            for index, (s, e) in enumerate(words):
                if s == hit.start:
                    if e > hit.end:
                        return RawHit(hit.start, e, hit.entry)
                    if e == hit.end and index + 1 < len(words):
                        nxt_s, nxt_e = words[index + 1]
                        if nxt_s == e and text[nxt_s:nxt_e].strip() and not re.match(r"\W", text[nxt_s]):
                            return RawHit(hit.start, nxt_e, hit.entry)
                    break
        return hit
