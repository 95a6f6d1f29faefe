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


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_SAFE_LOADER)
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
    presence: re.Pattern[str] | None = None  # loosened patterns: no match in the text -> rule cannot apply
    prefilter: re.Pattern[str] | None = None  # characters every match of presence contains (cheaper still)


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
    # Loosened cues (anchors and \b removed) that match wherever the cue could match in any window:
    # presence covers prohibition, contrast, rhetorical, emphatic and mention cues (searched once per
    # sentence), negation_presence the negation cues (searched in the hit's negation window).
    presence: re.Pattern[str] | None = None
    negation_presence: re.Pattern[str] | None = None
    quote_chars: re.Pattern[str] | None = None   # one of these is in every quotation; None: always look


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


_WORD_BOUNDARY = re.compile(r"(?<!\\)((?:\\\\)*)\\b")


_STAR_PREFIX = re.compile(r"^(?:\[\^[^\]]*\]|\.)\*\??")
_STAR_SUFFIX = re.compile(r"(?<!\\)(?:\[\^[^\]]*\]|\.)\*\??$")


def _loosen(item: str) -> str:
    """The pattern without its zero-width edge assertions (\\b, a leading ^, a trailing $) and without
    a leading or trailing "any run" ([^.!?]*): it matches, in a longer text, wherever the original
    matches in any window of that text, and a search for it stays linear (a leading [^.!?]* would make
    every search position scan to the end of its sentence)."""
    item = _WORD_BOUNDARY.sub(r"\1", item)
    if item.startswith("^"):
        item = item[1:]
    if item.endswith("$") and not item.endswith("\\$"):
        item = item[:-1]
    item = _STAR_PREFIX.sub("", item)
    item = _STAR_SUFFIX.sub("", item)
    return item


def _presence(items: tuple[str, ...], path: Path, where: str) -> re.Pattern[str] | None:
    loosened = tuple(i for i in (_loosen(item) for item in items) if i)
    if len(loosened) != len(items):
        return None  # an item that is only an assertion: cannot prefilter
    return _alternation(loosened, path, where) if loosened else None


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

    cue_items = tuple(item for name in ("prohibition", "contrast", "rhetorical", "emphatic", "mention")
                      for item in _str_list(ctx.get(name), ctx_path, name))
    presence = _presence(cue_items, ctx_path, "context cues") if cue_items else re.compile(r"(?!x)x")
    negation_items = _str_list(ctx.get("negation"), ctx_path, "negation")
    negation_presence = _presence(negation_items, ctx_path, "negation") if negation_items else re.compile(r"(?!x)x")
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
        presence=presence, negation_presence=negation_presence, quote_chars=_union_chars(quotes),
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
            presence=(exc_presence := _presence(items, ctx_path, where)),
            prefilter=necessary_chars(exc_presence) if exc_presence is not None else None,
        ))
    return LanguagePack(lang=lang, entries=tuple(entries), allowed=allowed, exceptions=tuple(exceptions), cues=cues)


def _union_chars(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    classes = [necessary_chars(p) for p in patterns]
    if not classes or any(c is None for c in classes):
        return None
    return re.compile("|".join(c.pattern for c in classes))


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


def necessary_chars(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """A character class that every match of ``pattern`` must contain one of, or None when no such
    small set can be read off the pattern. Searching for it is a cheap, sound pre-check: a text with
    none of these characters cannot match (used to skip exception, quote and lexicon regexes that
    are expensive to run on every ad)."""
    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    from re import _constants as c  # type: ignore[attr-defined]

    def of_item(op, av):
        if op is c.LITERAL:
            return {chr(av)}
        if op is c.IN:
            chars = set()
            for sub_op, sub_av in av:
                if sub_op is c.LITERAL:
                    chars.add(chr(sub_av))
                elif sub_op is c.RANGE and sub_av[1] - sub_av[0] < 64:
                    chars.update(chr(i) for i in range(sub_av[0], sub_av[1] + 1))
                else:
                    return None
            return chars
        if op is c.SUBPATTERN:
            return of_sequence(av[-1])
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)) and av[0] >= 1:
            return of_sequence(av[2])
        if op is c.BRANCH:
            union: set[str] = set()
            for branch in av[1]:
                chars = of_sequence(branch)
                if chars is None:
                    return None
                union |= chars
            return union
        return None

    def of_sequence(seq):
        best = None
        for op, av in seq:
            chars = of_item(op, av)
            if chars is not None and (best is None or len(chars) < len(best)):
                best = chars
        return best

    if pattern.flags & re.IGNORECASE:
        return None
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # pragma: no cover
        return None
    chars = of_sequence(parsed)
    if not chars or len(chars) > 64:
        return None
    return re.compile("[" + "".join(re.escape(ch) for ch in sorted(chars)) + "]")
