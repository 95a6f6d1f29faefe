"""Find lexicon candidates in normalised text: spaCy PhraseMatcher for English, a character-level
alternation plus jieba word boundaries for Chinese.

spaCy is imported only when the English matcher is built, and jieba's dictionary only when a Chinese
hit first needs a word-boundary check, so a process that sees one language pays for that one only.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable, NamedTuple

from compliance.nlp.lexicon import Entry, LanguagePack, necessary_chars

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokenizer import Tokenizer


class RawHit(NamedTuple):
    start: int          # offsets in the normalised text
    end: int
    entry: Entry


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class _Pattern:
    """One lexicon regex. A leading \\b stops Python's re from scanning fast for the pattern's first
    characters, so it is removed from the compiled pattern and checked on each match instead."""

    def __init__(self, pattern: str, entry: Entry):
        self.entry = entry
        self.boundary = pattern.startswith(r"\b")
        self.regex = re.compile(pattern[2:] if self.boundary else pattern)

    def hits(self, text: str, pos: int = 0) -> list[RawHit]:
        out = []
        for match in self.regex.finditer(text, pos):
            start, end = match.span()
            if end == start:
                continue
            if self.boundary and start > 0 and _is_word(text[start - 1]) == _is_word(text[start]):
                continue
            out.append(RawHit(start, end, self.entry))
        return out


class _Patterns:
    """The lexicon regexes of one language. One alternation of all of them (with the leading \\b
    removed, so it matches wherever any of them could) is searched first: most ads match none, and
    one scan is much cheaper than one per pattern. Each pattern then scans from that first position."""

    def __init__(self, entries: tuple[Entry, ...]):
        self.items = [_Pattern(pattern, entry) for entry in entries for pattern in entry.regex]
        self.any = (re.compile("|".join(f"(?:{p.regex.pattern})" for p in self.items))
                    if self.items else None)
        self.prefilter = necessary_chars(self.any) if self.any is not None else None

    def hits(self, text: str) -> list[RawHit]:
        if self.any is None:
            return []
        if self.prefilter is not None and self.prefilter.search(text) is None:
            return []
        first = self.any.search(text)
        if first is None:
            return []
        pos = first.start()
        hits: list[RawHit] = []
        for pattern in self.items:
            hits.extend(pattern.hits(text, pos))
        return hits


class EnglishMatcher:
    """tokenizer: spaCy's blank English tokenizer (``pipelines.english_tokenizer()``) or a pipeline
    whose ``make_doc`` is that tokenizer; only tokens are needed."""

    def __init__(self, pack: LanguagePack, tokenizer: Tokenizer | Language):
        from spacy.matcher import PhraseMatcher

        from compliance.nlp.pipelines import inflection_table, phrase_docs

        self.make_doc = getattr(tokenizer, "make_doc", tokenizer)
        vocab = tokenizer.vocab
        self.phrases = PhraseMatcher(vocab, attr="LOWER")
        self.by_key: dict[int, Entry] = {}
        first_tokens: set[str] = set()
        forms = inflection_table(word for entry in pack.entries for lemma in entry.lemmas for word in lemma.split())
        texts_of: dict[str, list[str]] = {}
        for entry in pack.entries:
            key = vocab.strings.add(entry.id)
            self.by_key[key] = entry
            texts = set(entry.phrases)
            for lemma in entry.lemmas:
                # Lemma sequences become every inflected form from the lookup table ("cure" -> cures,
                # cured, curing): same result as matching on LEMMA, without lemmatising every token.
                variants = [""]
                for word in lemma.lower().split():
                    variants = [f"{v} {form}".strip() for v in variants for form in forms[word]]
                texts.update(variants)
            if texts:
                texts_of[entry.id] = sorted(texts)
        # One batch for all phrases: their tokens come from the cache after the first run.
        all_texts = [text for texts in texts_of.values() for text in texts]
        docs = iter(phrase_docs(self.make_doc, vocab, all_texts))
        for entry_id, texts in texts_of.items():
            entry_docs = [next(docs) for _ in texts]
            first_tokens.update(doc[0].lower_ for doc in entry_docs if len(doc))
            self.phrases.add(entry_id, entry_docs)
        # Every phrase match starts with one of these token texts, so a text that contains none of
        # them (typically Chinese copy with a brand name or "TOP1" in Latin letters) needs no Doc.
        self.first_token = (re.compile("|".join(re.escape(t) for t in sorted(first_tokens, key=len, reverse=True)))
                            if first_tokens else None)
        self.patterns = _Patterns(pack.entries)

    def find(self, text: str) -> list[RawHit]:
        if _CJK_OR_GLUE.search(text):
            # Mixed Chinese/English: English words sit directly against Chinese characters and
            # folded full-width commas ("品质no.1,best"). Blank those out, keeping every offset
            # (one character per match, replaced by one space: no Python callback per match).
            text = _CJK_OR_GLUE_CHAR.sub(" ", text)
        hits = []
        if self.first_token is not None and self.first_token.search(text):
            doc = self.make_doc(text)
            for key, s, e in self.phrases(doc):
                last = doc[e - 1]
                hits.append(RawHit(doc[s].idx, last.idx + len(last.text), self.by_key[key]))
        hits.extend(self.patterns.hits(text))
        return hits


_CJK_OR_GLUE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+|[,;:](?=[a-z])")
_CJK_OR_GLUE_CHAR = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]|[,;:](?=[a-z])")
_ASCII_WORD = re.compile(r"[a-z0-9]")


def _guarded(phrase: str) -> str:
    """Escape a phrase; Latin letters and digits at its edges must not continue a longer word."""
    body = re.escape(phrase)
    if _ASCII_WORD.match(phrase[0]):
        body = r"(?<![a-z0-9])" + body
    if _ASCII_WORD.match(phrase[-1]):
        body += r"(?![a-z0-9])"
    return body


def _trie_regex(words: list[str]) -> str:
    """One regex for many literal words, shaped as a trie (全(?:网第一|球首发)|...): Python's re then
    tests each position once per first character instead of once per word. Greedy optional tails
    keep longest-match-first semantics."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends_here = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends_here else "(?:" + "|".join(branches) + ")"
        if ends_here:
            body = (body if body.startswith("(?:") else "(?:" + body + ")") + "?"
        return body

    return build(trie)


class ChineseMatcher:
    """segmenter: a zero-argument callable returning the jieba tokenizer (spaCy's zh segmenter);
    called only when a hit first needs a word-boundary check."""

    _WORDS_CACHE = 4096

    def __init__(self, pack: LanguagePack, segmenter: Callable[[], object]):
        self._segmenter_factory = segmenter
        self._segmenter = None
        self._dictionary: dict | None = None
        self._words: dict[str, list[int]] = {}   # window text -> word lengths (bounded cache)
        self.by_phrase: dict[str, list[Entry]] = {}
        for entry in pack.entries:
            for phrase in entry.phrases:
                self.by_phrase.setdefault(phrase, []).append(entry)
        # Phrases with Latin letters or digits at an edge need word guards; the rest go into a trie.
        guarded = sorted((p for p in self.by_phrase if _ASCII_WORD.match(p[0]) or _ASCII_WORD.match(p[-1])),
                         key=len, reverse=True)
        plain = [p for p in self.by_phrase if p not in set(guarded)]
        parts = [_guarded(p) for p in guarded] + ([_trie_regex(plain)] if plain else [])
        self.phrase_regex = re.compile("|".join(parts)) if parts else None
        # Fast path for texts in which no guarded phrase occurs (nearly all): the plain phrases as one
        # flat alternation, longest first, which finds exactly what the combined regex finds there (the
        # guarded alternatives never match) and lets Python's re skip positions by first character,
        # about 2.5x faster than the trie-shaped or guarded pattern.
        self.guarded_regex = re.compile("|".join(_guarded(p) for p in guarded)) if guarded else None
        self.plain_regex = (re.compile("|".join(re.escape(p) for p in sorted(plain, key=lambda p: (-len(p), p))))
                            if plain else None)
        self.patterns = _Patterns(pack.entries)
        # Entries per phrase as tuples: a match costs one dict lookup.
        self._entries = {phrase: tuple(entries) for phrase, entries in self.by_phrase.items()}

    @property
    def segmenter(self):
        if self._segmenter is None:
            self._segmenter = self._segmenter_factory()
        return self._segmenter

    @property
    def dictionary(self) -> dict:
        """jieba's own dictionary: if no dictionary word spans a hit's start, jieba cannot put a
        boundary-crossing word there either, so the (slow) segmentation can be skipped."""
        if self._dictionary is None:
            segmenter = self.segmenter
            segmenter.check_initialized()
            self._dictionary = segmenter.FREQ
        return self._dictionary

    def _may_cross(self, text: str, pos: int, lo: int, hi: int) -> bool:
        freq = self.dictionary
        for i in range(max(lo, pos - 3), pos):
            for j in range(pos + 1, min(hi, pos + 3) + 1):
                if freq.get(text[i:j]):
                    return True
        return False

    def find(self, text: str) -> list[RawHit]:
        hits: list[RawHit] = []
        regex = self.phrase_regex
        if self.plain_regex is not None and (self.guarded_regex is None or self.guarded_regex.search(text) is None):
            regex = self.plain_regex
        if regex is not None:
            entries = self._entries
            append = hits.append
            for match in regex.finditer(text):
                found = entries[match.group()]
                start, end = match.span()
                for entry in found:
                    append(RawHit(start, end, entry))
        hits.extend(self.patterns.hits(text))
        return hits

    def words(self, text: str, lo: int, hi: int) -> list[tuple[int, int]]:
        """jieba word spans (absolute offsets) of text[lo:hi]. Each window is segmented once: the
        lengths are cached by window text (ad copy repeats its phrases across items and pages)."""
        window = text[lo:hi]
        lengths = self._words.get(window)
        if lengths is None:
            lengths = [len(word) for word in self.segmenter.cut(window, cut_all=False) if word]
            if len(self._words) >= self._WORDS_CACHE:
                self._words.clear()
            self._words[window] = lengths
        spans = []
        pos = lo
        for length in lengths:
            spans.append((pos, pos + length))
            pos += length
        return spans

    def check_segments(self, text: str, hits: list[RawHit], windows: list[tuple[int, int]]) -> list[RawHit]:
        """Word-boundary checks for hits that need them; windows[i] is hit i's clause-bounded window.

        Overlapping windows are merged and each merged window is segmented once. A hit that starts
        inside a longer word is dropped (路口交通 is not 口交); a bare prefix such as 最 is extended to
        the word it modifies so the finding reads 最先进, not 最."""
        result: dict[int, RawHit | None] = {}
        pending = []
        for i, hit in enumerate(hits):
            lo, hi = windows[i]
            if not hit.entry.extend_to_word and not self._may_cross(text, hit.start, lo, hi):
                result[i] = hit
            else:
                pending.append(i)
        order = sorted(pending, key=lambda i: windows[i])
        merged: list[list[int]] = []   # [lo, hi, *hit indexes]
        for i in order:
            lo, hi = windows[i]
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
                merged[-1].append(i)
            else:
                merged.append([lo, hi, i])
        for lo, hi, *members in merged:
            words = self.words(text, lo, hi)
            starts = {s: n for n, (s, _) in enumerate(words)}
            for i in members:
                result[i] = self._check_one(text, hits[i], words, starts)
        return [result[i] for i in range(len(hits)) if result[i] is not None]

    @staticmethod
    def _check_one(text: str, hit: RawHit, words: list[tuple[int, int]], starts: dict[int, int]) -> RawHit | None:
        index = starts.get(hit.start)
        if index is None:
            return None
        if hit.entry.extend_to_word:
            word_start, word_end = words[index]
            if word_end > hit.end:
                return RawHit(hit.start, word_end, hit.entry)
            if word_end == hit.end and index + 1 < len(words):
                next_start, next_end = words[index + 1]
                if text[next_start].isalnum():
                    return RawHit(hit.start, next_end, hit.entry)
        return hit
