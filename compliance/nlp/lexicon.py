"""Load and validate the claim lexicons, context cues, exceptions and jurisdiction maps (YAML data).

Everything a lawyer may want to change lives in ``rules/claims``; this module only checks the shape
of that data and turns it into compiled structures. Errors name the file and the entry so a
reviewer who edits a lexicon sees exactly what is wrong.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
LANGUAGES = ("en", "zh")


class LexiconError(ValueError):
    """A claims data file is malformed."""


def _fail(path: Path, where: str, message: str) -> LexiconError:
    return LexiconError(f"{path}: {where}: {message}")


def _str_list(value: Any, path: Path, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, where, "expected a string or a list of strings")
    return tuple(value)


def _str_map(value: Any, path: Path, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _fail(path, where, "expected a mapping of strings")
    return dict(value)


def _compile(pattern: str, path: Path, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise _fail(path, where, f"bad regular expression {pattern!r}: {exc}") from None


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path}: not valid YAML: {exc}") from None


@dataclass(frozen=True)
class Entry:
    id: str
    lang: str
    category: str | None            # None: a signal used only by other entries' conditions
    severity: str
    phrases: tuple[str, ...] = ()
    lemmas: tuple[str, ...] = ()    # English: space-separated lemma sequences ("cure", "say goodbye")
    regex: tuple[str, ...] = ()
    requires_text: tuple[str, ...] = ()      # ids of entries that must occur somewhere in the text
    requires_sentence: tuple[str, ...] = ()  # ids of entries that must occur in the same sentence
    segment_check: bool = False     # Chinese: the hit must start on a word boundary
    extend_to_word: bool = False    # Chinese: a bare prefix such as 最 takes the following word
    tags: frozenset[str] = frozenset()
    severity_in: dict[str, str] = field(default_factory=dict)
    rule_in: dict[str, str] = field(default_factory=dict)
    explanation: str = ""
    suggestion: str | None = None


@dataclass(frozen=True)
class ExceptionRule:
    name: str
    categories: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    scope: str                      # "covering": a match must contain the hit; "clause"/"sentence": anywhere there
    also: tuple[re.Pattern[str], ...] = ()   # every one of these must match in the same scope too
    effect: str = "info"
    note: str = ""


@dataclass(frozen=True)
class ContextCues:
    negation: re.Pattern[str]
    negation_exclude: re.Pattern[str] | None
    prohibition: re.Pattern[str]
    contrast: re.Pattern[str]
    rhetorical: re.Pattern[str]
    emphatic: re.Pattern[str]
    mention: re.Pattern[str]
    disclosure: re.Pattern[str]
    quotes: tuple[re.Pattern[str], ...]   # group 1 is the quoted content
    negation_window: int            # characters before the hit that negation may reach
    mention_quote_slack: int        # a quote longer than hit + slack is a testimonial, not a mention
    after_negation: re.Pattern[str] | None  # Chinese 不A不B: a negation right after the hit


@dataclass(frozen=True)
class LanguagePack:
    lang: str
    entries: tuple[Entry, ...]
    allowed: tuple[re.Pattern[str], ...]
    exceptions: tuple[ExceptionRule, ...]
    cues: ContextCues


@dataclass(frozen=True)
class CategoryMapping:
    rule: str
    min_severity: str | None = None
    max_severity: str | None = None
    substantiable: bool = True


@dataclass(frozen=True)
class JurisdictionMap:
    id: str
    aliases: tuple[str, ...]
    languages: tuple[str, ...]
    categories: dict[str, CategoryMapping]
    citations: dict[str, dict[str, str]]


def _alternation(items: tuple[str, ...], path: Path, where: str) -> re.Pattern[str]:
    if not items:
        return re.compile(r"(?!x)x")  # matches nothing
    return _compile("|".join(f"(?:{item})" for item in items), path, where)


def load_language(directory: Path, lang: str, categories: tuple[str, ...]) -> LanguagePack:
    lex_path = directory / lang / "lexicon.yaml"
    ctx_path = directory / lang / "context.yaml"
    for path in (lex_path, ctx_path):
        if not path.is_file():
            raise LexiconError(f"{path}: missing claims data file")
    data = _load_yaml(lex_path) or {}
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list):
        raise _fail(lex_path, "entries", "expected a list of entries")
    entries: list[Entry] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_entries):
        where = f"entries[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise _fail(lex_path, where, "each entry needs an 'id' string")
        entry_id = raw["id"]
        where = f"entry {entry_id}"
        if entry_id in seen:
            raise _fail(lex_path, where, "duplicate id")
        seen.add(entry_id)
        unknown = set(raw) - {"id", "category", "severity", "phrases", "lemmas", "regex", "requires_text",
                              "requires_sentence", "segment_check", "extend_to_word", "tags", "severity_in",
                              "rule_in", "explanation", "suggestion", "note"}
        if unknown:
            raise _fail(lex_path, where, f"unknown keys {sorted(unknown)}")
        category = raw.get("category")
        if category is not None and category not in categories:
            raise _fail(lex_path, where, f"unknown category {category!r}; expected one of {', '.join(categories)}")
        severity = raw.get("severity", "medium" if category else "info")
        if severity not in SEVERITIES:
            raise _fail(lex_path, where, f"unknown severity {severity!r}")
        severity_in = _str_map(raw.get("severity_in"), lex_path, where + ".severity_in")
        for jur, sev in severity_in.items():
            if sev not in SEVERITIES:
                raise _fail(lex_path, where, f"unknown severity {sev!r} for {jur}")
        regexes = _str_list(raw.get("regex"), lex_path, where + ".regex")
        for pattern in regexes:
            _compile(pattern, lex_path, where)
        phrases = tuple(p.lower() for p in _str_list(raw.get("phrases"), lex_path, where + ".phrases"))
        lemmas = _str_list(raw.get("lemmas"), lex_path, where + ".lemmas")
        if lemmas and lang != "en":
            raise _fail(lex_path, where, "'lemmas' is only supported for English")
        if not (phrases or lemmas or regexes):
            raise _fail(lex_path, where, "needs at least one of phrases, lemmas, regex")
        entries.append(Entry(
            id=entry_id, lang=lang, category=category, severity=severity, phrases=phrases, lemmas=lemmas,
            regex=regexes,
            requires_text=_str_list(raw.get("requires_text"), lex_path, where + ".requires_text"),
            requires_sentence=_str_list(raw.get("requires_sentence"), lex_path, where + ".requires_sentence"),
            segment_check=bool(raw.get("segment_check", False)),
            extend_to_word=bool(raw.get("extend_to_word", False)),
            tags=frozenset(_str_list(raw.get("tags"), lex_path, where + ".tags")),
            severity_in=severity_in, rule_in=_str_map(raw.get("rule_in"), lex_path, where + ".rule_in"),
            explanation=str(raw.get("explanation", "")).strip(),
            suggestion=(str(raw["suggestion"]).strip() if raw.get("suggestion") else None),
        ))
    for entry in entries:
        for ref in entry.requires_text + entry.requires_sentence:
            if ref not in seen:
                raise _fail(lex_path, f"entry {entry.id}", f"requires unknown entry {ref!r}")

    ctx = _load_yaml(ctx_path) or {}

    def cue(name: str, required: bool = True) -> re.Pattern[str] | None:
        items = _str_list(ctx.get(name), ctx_path, name)
        if not items and not required:
            return None
        return _alternation(items, ctx_path, name)

    quotes = tuple(_compile(q, ctx_path, "quotes") for q in _str_list(ctx.get("quotes"), ctx_path, "quotes"))
    if any(q.groups < 1 for q in quotes):
        raise _fail(ctx_path, "quotes", "each quote pattern needs one group around the quoted content")
    cues = ContextCues(
        negation=cue("negation"), negation_exclude=cue("negation_exclude", required=False),
        prohibition=cue("prohibition"), contrast=cue("contrast"), rhetorical=cue("rhetorical"),
        emphatic=cue("emphatic"), mention=cue("mention"), disclosure=cue("disclosure"),
        quotes=quotes,
        negation_window=int(ctx.get("negation_window", 40)),
        mention_quote_slack=int(ctx.get("mention_quote_slack", 12)),
        after_negation=cue("after_negation", required=False),
    )
    allowed_items = _str_list(ctx.get("allowed"), ctx_path, "allowed")
    for item in allowed_items:
        _compile(item, ctx_path, "allowed")
    # One alternation: a single pass over the text instead of one per allowed expression.
    allowed = (_alternation(allowed_items, ctx_path, "allowed"),) if allowed_items else ()
    exceptions: list[ExceptionRule] = []
    for index, raw in enumerate(ctx.get("exceptions") or []):
        where = f"exceptions[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise _fail(ctx_path, where, "each exception needs a 'name'")
        scope = raw.get("scope", "covering")
        if scope not in ("covering", "clause", "sentence"):
            raise _fail(ctx_path, where, f"unknown scope {scope!r}")
        effect = raw.get("effect", "info")
        if effect not in SEVERITIES:
            raise _fail(ctx_path, where, f"unknown effect {effect!r}")
        cats = _str_list(raw.get("categories"), ctx_path, where + ".categories")
        for cat in cats:
            if cat not in categories:
                raise _fail(ctx_path, where, f"unknown category {cat!r}")
        items = _str_list(raw.get("regex"), ctx_path, where)
        if not items:
            raise _fail(ctx_path, where, "needs 'regex'")
        for item in items:
            _compile(item, ctx_path, where)
        patterns = (_alternation(items, ctx_path, where),)
        exceptions.append(ExceptionRule(
            name=raw["name"], categories=cats, patterns=patterns, scope=scope,
            also=tuple(_compile(p, ctx_path, where) for p in _str_list(raw.get("also"), ctx_path, where)),
            effect=effect, note=str(raw.get("note", "")),
        ))
    return LanguagePack(lang=lang, entries=tuple(entries), allowed=allowed, exceptions=tuple(exceptions), cues=cues)


def load_jurisdiction(path: Path, categories: tuple[str, ...]) -> JurisdictionMap:
    data = _load_yaml(path) or {}
    jur = data.get("jurisdiction")
    if not isinstance(jur, str):
        raise _fail(path, "jurisdiction", "expected the jurisdiction code")
    languages = _str_list(data.get("languages"), path, "languages")
    citations_raw = data.get("citations") or {}
    if not isinstance(citations_raw, dict):
        raise _fail(path, "citations", "expected a mapping rule id -> {law, article, url}")
    citations: dict[str, dict[str, str]] = {}
    for rule_id, cite in citations_raw.items():
        if not isinstance(cite, dict) or not {"law", "article", "url"} <= set(cite):
            raise _fail(path, f"citations.{rule_id}", "needs law, article and url")
        citations[rule_id] = {k: str(cite[k]) for k in ("law", "article", "url")}
    mapping: dict[str, CategoryMapping] = {}
    cats_raw = data.get("categories") or {}
    for cat in categories:
        raw = cats_raw.get(cat)
        if not isinstance(raw, dict) or not isinstance(raw.get("rule"), str):
            raise _fail(path, f"categories.{cat}", "every category needs a 'rule'")
        if raw["rule"] not in citations:
            raise _fail(path, f"categories.{cat}", f"rule {raw['rule']} has no citation")
        for key in ("min_severity", "max_severity"):
            if raw.get(key) is not None and raw[key] not in SEVERITIES:
                raise _fail(path, f"categories.{cat}.{key}", f"unknown severity {raw[key]!r}")
        mapping[cat] = CategoryMapping(rule=raw["rule"], min_severity=raw.get("min_severity"),
                                       max_severity=raw.get("max_severity"),
                                       substantiable=bool(raw.get("substantiable", True)))
    extra = set(cats_raw) - set(categories)
    if extra:
        raise _fail(path, "categories", f"unknown categories {sorted(extra)}")
    return JurisdictionMap(id=jur, aliases=_str_list(data.get("aliases"), path, "aliases"), languages=languages,
                           categories=mapping, citations=citations)
