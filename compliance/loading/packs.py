"""Rule packs: YAML data, validated strictly at load. A broken pack stops everything, loudly.

A pack can never run code: it is parsed by the safe loader into plain data, and conditions are parsed
into the small condition language (compliance.engine.conditions).
"""
from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..engine.conditions import ConditionError, Cond, parse_condition, referenced_fields, quantified_kinds
from ..engine.durable_backend import check_rule
from ..engine.logic import LogicError, RuleLogic, prime_outcome_dnf
from ..engine.model import EvalRule
from ..errors import PackError, Problem
from ..facts import FACT_FIELDS, has_field
from ..resources import data_dir
from . import pack_cache
from .yamlsafe import SourceMap, load_yaml_bytes, read_limited, render_path

Domain = Literal["data_protection", "advertising", "ecommerce", "ip", "tax", "readiness"]
Outcome = Literal["fail", "pass", "not_applicable", "needs_info"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Citation(_Strict):
    law: str
    article: str | None = None
    url: str | None = None
    law_zh: str | None = None


class Penalty(_Strict):
    min: float | None = None
    max: float | None = None
    currency: str | None = None
    turnover_pct: float | None = Field(None, description="Alternative cap as % of turnover")
    per: str | None = Field(None, description="per violation, per consumer, per day ...")
    basis: str = Field(description="The article that states the penalty")
    text: str | None = None


class RuleTest(_Strict):
    name: str
    launch: dict[str, Any]
    expect: dict[str, Any]

    @model_validator(mode="after")
    def _expect_shape(self) -> "RuleTest":
        extra = set(self.expect) - {"outcome", "subject"}
        if extra or "outcome" not in self.expect:
            raise ValueError("expect takes {outcome: fail|pass|not_applicable|needs_info|not_in_force, subject: <ref>}")
        # not_in_force: the rule is past its effective_until on the test's launch date, so it must not be evaluated
        if self.expect["outcome"] not in ("fail", "pass", "not_applicable", "needs_info", "not_in_force"):
            raise ValueError(f"unknown outcome {self.expect['outcome']!r}")
        return self


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^([A-Z]{2}(-[A-Z]{2})?|RD)-[A-Z]{2,3}-[0-9]{2,3}[a-z]?(-[0-9A-Za-z]+)?$")  # <JUR>-<DOMAIN>-<NN>
    title: str
    title_zh: str | None = None
    severity: Literal["critical", "high", "medium", "low", "info"]
    citation: Citation | None = None
    penalty: Penalty | None = None
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    status: Literal["verified", "unverified", "in_flux"] = "verified"
    rationale: str
    remediation: str
    subject: str
    applies_when: dict[str, Any] | None = None
    needs: list[str] = []
    fail_when: dict[str, Any]
    message: str
    evidence: list[str] = Field([], description="Subject fields shown as evidence")
    tags: list[str] = []
    example_bad: str | None = None
    example_good: str | None = None
    tests: list[RuleTest] = Field(min_length=2)


class PackSpec(_Strict):
    pack: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str
    jurisdiction: str
    domain: Domain
    version: str = Field(pattern=r"^[0-9]{4}\.[0-9]{1,2}\.[0-9]+$")
    rules: list[RuleSpec]


@dataclass
class Rule:
    spec: RuleSpec
    pack: str
    jurisdiction: str
    domain: str
    file: str
    line: int | None
    logic: RuleLogic

    @property
    def id(self) -> str:
        return self.spec.id

    @cached_property
    def fields_read(self) -> list[tuple[str, str]]:
        """(scope, field) pairs the rule reads, for the 'why' of a finding."""
        fields = referenced_fields(self.logic.fail_when)
        if self.logic.applies_when is not None:
            fields |= referenced_fields(self.logic.applies_when)
        return sorted(fields | set(self.logic.needs))

    @cached_property
    def citation(self) -> dict[str, Any]:
        return self.spec.citation.model_dump() if self.spec.citation else {}

    def eval_rule(self) -> EvalRule:
        return EvalRule(self.spec.id, self.spec.subject, self.logic)

    def in_force(self, as_of: dt.date) -> str:
        """'in_force', 'upcoming' or 'expired' on the given date."""
        if self.spec.effective_from and as_of < self.spec.effective_from:
            return "upcoming"
        if self.spec.effective_until and as_of >= self.spec.effective_until:
            return "expired"
        return "in_force"


@dataclass
class Pack:
    spec: PackSpec
    file: str
    sha256: str
    rules: list[Rule] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.spec.pack

    @property
    def engine_key(self) -> str:
        # Rulesets are global by name in the engine: the version and content hash make each name unique.
        return f"{self.spec.pack}@{self.spec.version}+{self.sha256[:12]}"


def _problem(code: str, msg: str, file: str, source: SourceMap, path: tuple, expected: str | None = None) -> PackError:
    return PackError(Problem(code, msg, file, source.line_of(path), path=render_path(path), expected=expected))


_COND_HINT = "a condition in the rule language (docs/rule-format.md)"


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _compile_rule(spec: RuleSpec, pack: PackSpec, file: str, source: SourceMap, path: tuple,
                  checked_dnf: Any = None) -> Rule:
    """Check and compile one rule. `checked_dnf`: the rule's DNF from the pack cache, proof that it passed the
    engine check (skipped, the slowest step of a load) and the DNF its registration will use."""
    if spec.subject not in FACT_FIELDS:
        raise _problem("E211", f"unknown subject kind {spec.subject!r}{_suggest(spec.subject, list(FACT_FIELDS))}",
                       file, source, path + ("subject",), "a fact kind such as material, data_item, launch")
    if spec.severity in ("critical", "high") and (spec.citation is None or not spec.citation.article):
        raise _problem("E212", f"{spec.severity} rule {spec.id} has no citation with an article", file, source, path,
                       "citation: {law, article, url}")
    if spec.effective_from and spec.effective_until and spec.effective_until <= spec.effective_from:
        raise _problem("E213", "effective_until is not after effective_from", file, source, path + ("effective_until",),
                       "an effective_until date after effective_from")
    try:
        applies = parse_condition(spec.applies_when) if spec.applies_when else None
    except ConditionError as exc:
        raise _problem("E214", str(exc), file, source, path + ("applies_when",) + exc.path, _COND_HINT) from None
    try:
        fails = parse_condition(spec.fail_when)
    except ConditionError as exc:
        raise _problem("E214", str(exc), file, source, path + ("fail_when",) + exc.path, _COND_HINT) from None
    # Market-scoped subjects only ever answer for the pack's own jurisdiction.
    if "jurisdictions" in FACT_FIELDS[spec.subject] and pack.jurisdiction != "GLOBAL":
        scope = parse_condition({"jurisdictions": {"contains": pack.jurisdiction}})
        applies = scope if applies is None else parse_condition({"all": [{"jurisdictions": {"contains": pack.jurisdiction}}, spec.applies_when]})
    needs: list[tuple[str, str]] = []
    for name in spec.needs:
        scope_name, fname = ("launch", name[len("$launch."):]) if name.startswith("$launch.") else ("subject", name)
        needs.append((scope_name, fname))
    _check_fields(spec, applies, fails, needs, file, source, path)
    logic = RuleLogic(applies, fails, tuple(needs))
    if checked_dnf is not None:
        prime_outcome_dnf(logic, checked_dnf)
    else:
        try:
            check_rule(EvalRule(spec.id, spec.subject, logic))  # join-expression limit (engine error 113): fail at load
        except LogicError as exc:
            raise _problem("E215", f"rule {spec.id}: {exc}", file, source, path,
                           "a condition the engine can take (split the rule, or simplify any/not)") from None
    return Rule(spec, pack.pack, pack.jurisdiction, pack.domain, file, source.line_of(path), logic)


def _check_fields(spec: RuleSpec, applies: Cond | None, fails: Cond, needs: list[tuple[str, str]], file: str,
                  source: SourceMap, path: tuple) -> None:
    kinds = {"subject": spec.subject, "launch": "launch"}
    used = set(needs) | referenced_fields(fails) | (referenced_fields(applies) if applies else set())
    for scope_name, fname in sorted(used):
        kind = kinds[scope_name]
        if fname != "ref" and not has_field(kind, fname):  # every fact has its ref (id)
            raise _problem("E216", f"rule {spec.id}: {kind} has no field {fname!r}{_suggest(fname, sorted(FACT_FIELDS[kind]))}",
                           file, source, path, f"a field of {kind}")
    for kind in quantified_kinds(fails) | (quantified_kinds(applies) if applies else set()):
        if kind not in FACT_FIELDS:
            raise _problem("E211", f"rule {spec.id}: unknown fact kind {kind!r}{_suggest(kind, list(FACT_FIELDS))}", file, source, path)
    _check_quantified_fields(spec, fails, file, source, path)
    if applies:
        _check_quantified_fields(spec, applies, file, source, path)
    for fname in spec.evidence:
        if not has_field(spec.subject, fname):
            raise _problem("E216", f"rule {spec.id}: evidence field {fname!r} is not a field of {spec.subject}", file, source,
                           path + ("evidence",))


def _check_quantified_fields(spec: RuleSpec, cond: Cond, file: str, source: SourceMap, path: tuple) -> None:
    from ..engine.conditions import All, AnyOf, Leaf, Not, Quantified

    def fields_of(c: Cond) -> set[str]:
        if isinstance(c, Leaf):
            return {c.field} if c.scope == "fact" else set()
        if isinstance(c, (All, AnyOf)):
            return set().union(*(fields_of(i) for i in c.items)) if c.items else set()
        if isinstance(c, Not):
            return fields_of(c.item)
        return set()

    def walk(c: Cond) -> None:
        if isinstance(c, Quantified):
            for fname in fields_of(c.where):
                if fname != "ref" and not has_field(c.kind, fname):
                    raise _problem("E216", f"rule {spec.id}: {c.kind} has no field {fname!r}"
                                   f"{_suggest(fname, sorted(FACT_FIELDS[c.kind]))}", file, source, path)
        elif isinstance(c, (All, AnyOf)):
            for i in c.items:
                walk(i)
        elif isinstance(c, Not):
            walk(c.item)

    walk(cond)


def _validation_problem(exc: ValidationError, file: str, source: SourceMap) -> PackError:
    problems = []
    for err in exc.errors()[:10]:
        loc = tuple(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            from .launch import _model_at

            model = _model_at(loc, PackSpec)
            msg = f"unknown key {loc[-1]!r}" + (_suggest(str(loc[-1]), sorted(model.model_fields)) if model else "")
        problems.append(Problem("E210", msg, file, source.line_of(loc), path=render_path(loc)))
    return PackError(problems)


def load_pack(path: Path) -> Pack:
    """Load, validate and check one pack; a pack that loaded cleanly before (same bytes, same code) comes from
    the pack cache, with the same result."""
    file = str(path)
    raw = read_limited(path)
    sha256 = hashlib.sha256(raw).hexdigest()
    cached = pack_cache.read(sha256, file)
    if cached is not None:
        pack = _pack_from_cache(path, sha256, cached)
        if pack is not None:
            return pack
    loaded = load_yaml_bytes(raw, file)
    pack = _build_pack(path, loaded.data, loaded.source, sha256)
    pack_cache.write(sha256, loaded, [rule.logic for rule in pack.rules])
    return pack


def _pack_from_cache(path: Path, sha256: str, cached: pack_cache.CachedPack) -> Pack | None:
    """The pack rebuilt from a cache entry, or None (a miss) if the entry does not rebuild cleanly. Errors are
    never reported from cached data: its source map is partial, so the pack is reloaded to report them."""
    rules = cached.data.get("rules") if isinstance(cached.data, dict) else None
    if not isinstance(rules, list) or len(rules) != len(cached.dnfs):
        return None
    try:
        return _build_pack(path, cached.data, cached.source, sha256, cached.dnfs)
    except Exception:  # noqa: BLE001 - whatever a bad entry raises, the file itself decides
        return None


def _build_pack(path: Path, data: Any, source: SourceMap, sha256: str, dnfs: list[Any] | None = None) -> Pack:
    file = str(path)
    try:
        spec = PackSpec.model_validate(data)
    except ValidationError as exc:
        raise _validation_problem(exc, file, source) from None
    pack = Pack(spec, file, sha256)
    seen: set[str] = set()
    for i, rule_spec in enumerate(spec.rules):
        rpath = ("rules", i)
        if rule_spec.id in seen:
            raise _problem("E217", f"duplicate rule id {rule_spec.id}", file, source, rpath + ("id",),
                           "a rule id used once")
        seen.add(rule_spec.id)
        pack.rules.append(_compile_rule(rule_spec, spec, file, source, rpath, dnfs[i] if dnfs is not None else None))
    # Checked last so that a broken rule reports its own error first.
    if path.stem != spec.domain:  # one pack per jurisdiction and domain: rules/<jurisdiction>/<domain>.yaml
        raise PackError(Problem("E221", f"pack file is named {path.name!r} but its domain is {spec.domain!r}", file,
                                source.line_of(("domain",)), expected=f"the file rules/<jurisdiction>/{spec.domain}.yaml"))
    return pack


@dataclass
class Library:
    packs: dict[str, Pack]

    def rules(self) -> list[Rule]:
        return [r for p in self.packs.values() for r in p.rules]

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules():
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def load_library(directory: Path | None = None) -> Library:
    directory = directory or data_dir("rules")
    files = sorted(p for p in directory.rglob("*.yaml") if "claims" not in p.relative_to(directory).parts)
    if not files:
        raise PackError(Problem("E200", "no rule packs found", str(directory), expected="rules/<jurisdiction>/<domain>.yaml"))
    packs: dict[str, Pack] = {}
    owners: dict[str, str] = {}
    for path in files:
        pack = load_pack(path)
        if pack.id in packs:
            raise PackError(Problem("E218", f"pack {pack.id!r} defined twice (also in {packs[pack.id].file})", str(path), 1))
        for rule in pack.rules:
            if rule.id in owners:
                raise PackError(Problem("E217", f"rule id {rule.id} is used in two packs (also in {owners[rule.id]})",
                                        str(path), rule.line, path=None))
            owners[rule.id] = str(path)
        packs[pack.id] = pack
    return Library(packs)
