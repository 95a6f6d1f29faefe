"""Risky advertising-claim detector (issue 3): English and Chinese, context-aware, data-driven.

The lexicons, context cues, exceptions and category->rule maps live in ``rules/claims`` (YAML). This
module wires them together: normalise -> match candidates -> drop allowed spans and unmet conditions
-> judge context -> apply exceptions, disclosure and substantiation -> severity per jurisdiction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from compliance.cache import enabled as cache_enabled
from compliance.nlp.context import ContextJudge, ContextResult, SpanIndex, TextGeometry, quoted_spans
from compliance.nlp.lexicon import (
    LANGUAGES, SEVERITY_RANK, JurisdictionMap, LanguagePack, LexiconError, load_jurisdiction, load_language,
)
from compliance.nlp.matching import ChineseMatcher, EnglishMatcher, RawHit
from compliance.nlp.normalize import normalize
from compliance.nlp.result_cache import ResultCache, request_key

CATEGORIES = ("absolute", "medical", "health", "efficacy", "guarantee", "statistic", "authority", "price",
              "urgency", "endorsement", "comparison", "origin", "environmental", "gambling", "alcohol",
              "tobacco", "children")

# Medical, health-food and financial claims are never treated as minor (SAMR 2023 guide), so the
# exceptions that lower other findings do not apply to them.
NEVER_DOWNGRADED = frozenset({"medical", "health"})
FINANCIAL_TAG = "financial"

_NO_CONTEXT = ContextResult((), False)
_new_hit = object.__new__
_NO_SPANS = SpanIndex([])
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z]{2}")


class UnsupportedLanguage(ValueError):
    """No lexicon for this (jurisdiction, language) pair."""


@dataclass(frozen=True)
class ClaimHit:
    start: int
    end: int
    text: str
    category: str
    lang: str
    severity: str
    rule: str
    citation: dict
    explanation: str
    suggestion: str | None
    context: tuple[str, ...]
    exception: str | None
    substantiated_by: str | None

    def as_dict(self) -> dict:
        return {
            "start": self.start, "end": self.end, "text": self.text, "category": self.category,
            "lang": self.lang, "severity": self.severity, "rule": self.rule, "citation": dict(self.citation),
            "explanation": self.explanation, "suggestion": self.suggestion, "context": list(self.context),
            "exception": self.exception, "substantiated_by": self.substantiated_by,
        }


def default_lexicon_dir() -> Path:
    try:
        from compliance.resources import data_dir
    except ImportError:  # the core's resources module is not there yet
        return Path(__file__).resolve().parents[2] / "rules" / "claims"
    return data_dir("rules") / "claims"


def _lower(severity: str, cap: str) -> str:
    return severity if SEVERITY_RANK[severity] <= SEVERITY_RANK[cap] else cap


def _clamp(severity: str, low: str | None, high: str | None) -> str:
    if low is not None and SEVERITY_RANK[severity] < SEVERITY_RANK[low]:
        severity = low
    if high is not None and SEVERITY_RANK[severity] > SEVERITY_RANK[high]:
        severity = high
    return severity


class ClaimDetector:
    """cache_results: keep findings per request in the per-user cache (``result_cache``); None follows
    the cache's own switch (COMPLIANCE_NO_CACHE). Throughput benchmarks that repeat texts turn it off."""

    def __init__(self, lexicon_dir: Path | None = None, cache_results: bool | None = None):
        self.lexicon_dir = Path(lexicon_dir) if lexicon_dir is not None else default_lexicon_dir()
        self._packs: dict[str, LanguagePack] = {}
        self._matchers: dict[str, EnglishMatcher | ChineseMatcher] = {}
        self._jurisdictions: dict[str, JurisdictionMap] = {}
        self._static: dict[tuple[str, str], tuple] = {}   # (entry, jurisdiction) -> what no context changes
        self._load_data()
        if cache_results is None:
            cache_results = cache_enabled()
        self._results = ResultCache(self.lexicon_dir) if cache_results else None

    # ----- data -----------------------------------------------------------------------------
    def _load_data(self) -> None:
        if not self.lexicon_dir.is_dir():
            raise LexiconError(f"{self.lexicon_dir}: claims data directory not found")
        for lang in LANGUAGES:
            if (self.lexicon_dir / lang / "lexicon.yaml").is_file():
                self._packs[lang] = load_language(self.lexicon_dir, lang, CATEGORIES)
        for path in sorted((self.lexicon_dir / "jurisdictions").glob("*.yaml")):
            jmap = load_jurisdiction(path, CATEGORIES)
            for code in (jmap.id, *jmap.aliases):
                self._jurisdictions[code.upper()] = jmap
        for jmap in {j.id: j for j in self._jurisdictions.values()}.values():
            for pack in self._packs.values():
                for entry in pack.entries:
                    rule = entry.rule_in.get(jmap.id)
                    if rule is not None and rule not in jmap.citations:
                        raise LexiconError(f"{self.lexicon_dir / pack.lang / 'lexicon.yaml'}: entry {entry.id}: "
                                           f"rule {rule} for {jmap.id} has no citation in that jurisdiction file")

    def _matcher(self, lang: str) -> EnglishMatcher | ChineseMatcher:
        matcher = self._matchers.get(lang)
        if matcher is None:
            from compliance.nlp import pipelines

            if lang == "en":
                matcher = EnglishMatcher(self._packs["en"], pipelines.english_tokenizer())
            else:
                # jieba's dictionary is loaded when a hit first needs a word-boundary check.
                matcher = ChineseMatcher(self._packs["zh"], pipelines.jieba_tokenizer)
            self._matchers[lang] = matcher
        return matcher

    def jurisdictions(self) -> list[str]:
        return sorted(self._jurisdictions)

    def _jurisdiction(self, jurisdiction: str) -> JurisdictionMap | None:
        return self._jurisdictions.get((jurisdiction or "").upper())

    def supports(self, jurisdiction: str, lang: str) -> bool:
        jmap = self._jurisdiction(jurisdiction)
        if jmap is None:
            return False
        if lang == "auto":
            return any(lang in self._packs for lang in jmap.languages)
        return lang in jmap.languages and lang in self._packs

    # ----- detection ------------------------------------------------------------------------
    def detect(self, text: str, jurisdiction: str, lang: str = "auto",
               substantiation: Sequence[tuple[str, str]] = ()) -> list[ClaimHit]:
        jmap = self._jurisdiction(jurisdiction)
        if jmap is None:
            raise UnsupportedLanguage(f"no claims lexicon for jurisdiction {jurisdiction!r} "
                                      f"(known: {', '.join(self.jurisdictions())})")
        if not self.supports(jurisdiction, lang):
            raise UnsupportedLanguage(f"no claims lexicon for language {lang!r} in {jmap.id} "
                                      f"(supported: {', '.join(l for l in jmap.languages if l in self._packs)})")
        if not text:
            return []
        if self._results is None:
            return self._detect(text, jmap, substantiation)
        key = request_key(text, jmap.id, lang, substantiation)
        hits = self._results.get(key)
        if hits is None:
            hits = self._detect(text, jmap, substantiation)
            self._results.put(key, hits)
        return hits

    def flush_cache(self) -> None:
        """Write pending cached results now (otherwise done when the detector is collected or at exit)."""
        if self._results is not None:
            self._results.flush()

    def _detect(self, text: str, jmap: JurisdictionMap, substantiation: Sequence[tuple[str, str]]) -> list[ClaimHit]:
        norm = normalize(text)
        folded = norm.text
        # Mixed text: every supported language whose script appears is checked, whatever `lang` says,
        # because Chinese ads routinely carry English ("TOP1", "NO.1") and vice versa.
        active = [lang_ for lang_, script in (("zh", _CJK), ("en", _LATIN_WORD))
                  if lang_ in jmap.languages and lang_ in self._packs and script.search(folded)]
        geometry = TextGeometry(folded)
        hits: list[ClaimHit] = []
        for lang_ in active:
            hits.extend(self._detect_language(text, folded, norm, geometry, lang_, jmap, substantiation))
        hits.sort(key=lambda h: (h.start, h.end, h.category))
        return hits

    def _detect_language(self, original: str, folded: str, norm, geometry: TextGeometry, lang: str,
                         jmap: JurisdictionMap, substantiation: Sequence[tuple[str, str]]) -> list[ClaimHit]:
        pack = self._packs[lang]
        matcher = self._matcher(lang)
        raw = matcher.find(folded)
        if not raw:
            return []
        allowed = SpanIndex([m.span() for pattern in pack.allowed for m in pattern.finditer(folded)])
        if allowed.spans:
            raw = [h for h in raw if not allowed.covers(h.start, h.end)]
        if isinstance(matcher, ChineseMatcher):
            plain = [h for h in raw if not (h.entry.segment_check or h.entry.extend_to_word)]
            needs = [h for h in raw if h.entry.segment_check or h.entry.extend_to_word]
            if needs:
                windows = []
                for hit in needs:
                    c_start, c_end = geometry.clause(hit.start)
                    windows.append((max(c_start, hit.start - 4), min(max(c_end, hit.end), hit.end + 4)))
                plain.extend(matcher.check_segments(folded, needs, windows))
            raw = plain

        present = {h.entry.id for h in raw}
        sentence = geometry.sentence
        conditional = [h for h in raw if h.entry.requires_sentence]
        by_sentence: dict[tuple[int, int], set[str]] = {}
        if conditional:
            for hit in raw:
                by_sentence.setdefault(sentence(hit.start), set()).add(hit.entry.id)
        kept: list[RawHit] = []
        for hit in raw:
            entry = hit.entry
            if entry.category is None:
                continue
            if entry.requires_text and not any(ref in present for ref in entry.requires_text):
                continue
            if entry.requires_sentence and not any(
                    ref in by_sentence[sentence(hit.start)] for ref in entry.requires_sentence):
                continue
            kept.append(hit)
        kept = _drop_nested(kept)
        if not kept:
            return []

        cues = pack.cues
        quotes = (quoted_spans(folded, cues.quotes) if cues.quote_chars is None or cues.quote_chars.search(folded)
                  else _NO_SPANS)
        disclosed = (any(h.entry.category == "endorsement" for h in kept)
                     and bool(cues.disclosure.search(folded)))
        clause = geometry.clause
        clauses = [clause(h.start) for h in kept]
        strict_clauses = {c for h, c in zip(kept, clauses)
                          if h.entry.category in NEVER_DOWNGRADED or FINANCIAL_TAG in h.entry.tags}
        evidence = _substantiated_spans(folded, substantiation)
        exceptions = _ExceptionIndex(folded, geometry, pack)
        judge = ContextJudge(folded, geometry, pack.cues, quotes)
        return [self._judge(original, norm, jmap, hit, c, judge, disclosed, strict_clauses, evidence, exceptions)
                for hit, c in zip(kept, clauses)]

    def _judge(self, original, norm, jmap, hit: RawHit, clause: tuple[int, int], judge: ContextJudge,
               disclosed, strict_clauses, evidence, exceptions: "_ExceptionIndex") -> ClaimHit:
        entry = hit.entry
        category = entry.category
        static = self._static.get((entry.id, jmap.id))
        if static is None:
            mapping = jmap.categories[category]
            severity = _clamp(entry.severity_in.get(jmap.id, entry.severity), mapping.min_severity, mapping.max_severity)
            rule = entry.rule_in.get(jmap.id, mapping.rule)
            static = (mapping, severity, rule, jmap.citations[rule],
                      category in NEVER_DOWNGRADED or FINANCIAL_TAG in entry.tags)
            self._static[(entry.id, jmap.id)] = static
        mapping, severity, rule, citation, never_downgraded = static
        if severity == "info":  # a sector mention: context cannot lower it, exceptions do not apply
            ctx = _NO_CONTEXT
        else:
            ctx = judge.analyse(hit.start, hit.end)
        context = list(ctx.labels)
        exception = None
        if ctx.cleared:
            severity = "info"
        else:
            strict = never_downgraded or clause in strict_clauses
            if not strict:
                found = exceptions.find(category, hit)
                if found is not None:
                    exception, effect = found
                    severity = _lower(severity, effect)
            if category == "endorsement" and disclosed:
                context.append("disclosed")
                severity = _lower(severity, "low")
        substantiated_by = None
        for s, e, proof in evidence:
            if s < hit.end and hit.start < e:
                substantiated_by = proof
                if mapping.substantiable:
                    severity = "info"
                break
        start, end = (hit.start, hit.end) if norm.origin is None else norm.to_original(hit.start, hit.end)
        explanation = entry.explanation
        if substantiated_by is not None and not mapping.substantiable:
            explanation += " Evidence does not cure this in this jurisdiction: the wording itself is restricted."
        # ClaimHit is frozen; filling its __dict__ directly skips 13 object.__setattr__ calls per hit.
        hit_out = _new_hit(ClaimHit)
        hit_out.__dict__.update(start=start, end=end, text=original[start:end], category=category, lang=entry.lang,
                                severity=severity, rule=rule, citation=dict(citation), explanation=explanation,
                                suggestion=entry.suggestion, context=tuple(context), exception=exception,
                                substantiated_by=substantiated_by)
        return hit_out


def _drop_nested(hits: list[RawHit]) -> list[RawHit]:
    """Keep the longest reading: a hit strictly inside a longer hit adds nothing ("proven" inside
    "clinically proven"). Equal spans of different categories are both kept; duplicates are not."""
    if len(hits) < 2:
        return hits
    hits = sorted(hits, key=lambda h: (h.start, h.start - h.end))
    kept: list[RawHit] = []
    seen: set[tuple[int, int, str]] = set()
    for hit in hits:
        start, end, entry = hit
        key = (start, end, entry.category)
        if key in seen:
            continue
        length = end - start
        nested = False
        for k in kept[-8:]:
            if k.start <= start and end <= k.end and k.end - k.start > length:
                nested = True
                break
        if nested:
            continue
        seen.add(key)
        kept.append(hit)
    return kept


class _ExceptionIndex:
    """Exception patterns evaluated once per text, then looked up per hit. A rule none of whose
    patterns occurs anywhere in the text (one search of its loosened form) is never looked at again."""

    def __init__(self, folded: str, geometry: TextGeometry, pack: LanguagePack):
        self.folded = folded
        self.geometry = geometry
        self.pack = pack
        self._rules: dict[str, list] = {}
        self._present: dict[str, bool] = {}
        self._covering: dict[tuple[str, int, int], SpanIndex] = {}
        self._scoped: dict[tuple[str, int, int], bool] = {}

    def _rules_for(self, category: str) -> list:
        rules = self._rules.get(category)
        if rules is None:
            rules = []
            for rule in self.pack.exceptions:
                if category not in rule.categories:
                    continue
                present = self._present.get(rule.name)
                if present is None:
                    present = rule.presence is None or (
                        (rule.prefilter is None or rule.prefilter.search(self.folded) is not None)
                        and rule.presence.search(self.folded) is not None)
                    self._present[rule.name] = present
                if present:
                    rules.append(rule)
            self._rules[category] = rules
        return rules

    def find(self, category: str, hit: RawHit) -> tuple[str, str] | None:
        rules = self._rules_for(category)
        if not rules:
            return None
        for rule in rules:
            if rule.scope == "covering":
                # Per sentence, cached: some exception patterns scan backwards-unfriendly prefixes
                # ("[^.!?]*according to"), which over a whole page would cost quadratic time.
                lo, hi = self.geometry.sentence(hit.start)
                key = (rule.name, lo, hi)
                spans = self._covering.get(key)
                if spans is None:
                    window = self.folded[lo:max(hi, hit.end)]
                    spans = SpanIndex([(lo + m.start(), lo + m.end()) for p in rule.patterns for m in p.finditer(window)])
                    self._covering[key] = spans
                if spans.covers(hit.start, hit.end):
                    return rule.name, rule.effect
                continue
            lo, hi = (self.geometry.clause(hit.start) if rule.scope == "clause"
                      else self.geometry.sentence(hit.start))
            hi = max(hi, hit.end)
            key = (rule.name, lo, hi)
            found = self._scoped.get(key)
            if found is None:
                window = self.folded[lo:hi]
                found = any(p.search(window) for p in rule.patterns) and all(p.search(window) for p in rule.also)
                self._scoped[key] = found
            if found:
                return rule.name, rule.effect
        return None


def _substantiated_spans(folded: str, substantiation: Sequence[tuple[str, str]]) -> list[tuple[int, int, str]]:
    spans = []
    for claim_text, proof in substantiation:
        needle = normalize(claim_text).text.strip()
        if not needle:
            continue
        start = folded.find(needle)
        while start != -1:
            spans.append((start, start + len(needle), proof))
            start = folded.find(needle, start + 1)
    return spans
