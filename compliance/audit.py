"""The audit: load -> facts (+ ad claims) -> evaluate every pack in force -> outcomes -> waivers -> Report."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import __version__
from .engine import reference
from .engine.durable_backend import DurableBackend
from .engine.model import OUTCOME_BITS, RawResult, outcome_names
from .checklist import build_checklist
from .errors import PackError, Problem
from .facts import FactSet, build_facts, display_value
from .loading.jurisdictions import GLOBAL, Jurisdictions, load_jurisdictions
from .loading.launch import LoadedLaunch, load_launch, read_material_text
from .loading.packs import Library, Pack, Rule, load_library
from .loading.yamlsafe import render_path
from .report import ClaimRecord, Outcome, Outcomes, Report, SubjectRecord, finding_id
from .waivers import apply_waivers, load_waivers

_BACKEND: DurableBackend | None = None


def backend() -> DurableBackend:
    """One engine host per process: hosts leak timer threads and rulesets are global by name."""
    global _BACKEND
    if _BACKEND is None:
        _BACKEND = DurableBackend()
    return _BACKEND


class ClaimSource(Protocol):
    def supports(self, jurisdiction: str, lang: str) -> bool: ...
    def detect(self, text: str, jurisdiction: str, lang: str = "auto", substantiation: Any = ()) -> list: ...


@dataclass
class AuditOptions:
    as_of: dt.date | None = None
    waivers: Path | None = None
    engine: str = "durable"  # or "reference"
    scan_claims: bool = True


@dataclass
class Context:
    """What an audit needs besides the launch; load once and reuse across audits."""

    jurisdictions: Jurisdictions
    library: Library
    claims: ClaimSource | None = None

    @classmethod
    def load(cls, with_claims: bool = True) -> "Context":
        jur = load_jurisdictions()
        listed = {p for prof in jur.profiles.values() for p in prof.packs}
        library = load_library()
        unlisted = sorted(set(library.packs) - listed)
        if unlisted:
            raise PackError(Problem("E219", f"pack(s) not listed in any jurisdiction profile: {', '.join(unlisted)}",
                                    expected="every pack named in jurisdictions/<ID>.yaml"))
        absent = sorted(listed - set(library.packs))
        if absent:
            raise PackError(Problem("E220", f"jurisdiction profiles name pack(s) that do not exist: {', '.join(absent)}"))
        return cls(jur, library, _LazyClaims() if with_claims else None)


class _LazyClaims:
    """Loads the spaCy pipelines only when a launch has material text to scan."""

    def __init__(self) -> None:
        self._detector: ClaimSource | None = None

    def _get(self) -> ClaimSource:
        if self._detector is None:
            from .nlp.claims import ClaimDetector

            self._detector = ClaimDetector()
        return self._detector

    def supports(self, jurisdiction: str, lang: str) -> bool:
        return self._get().supports(jurisdiction, lang)

    def detect(self, text: str, jurisdiction: str, lang: str = "auto", substantiation: Any = ()) -> list:
        return self._get().detect(text, jurisdiction, lang, substantiation)


def select_packs(ctx: Context, launch_jurisdictions: list[str]) -> list[Pack]:
    names: list[str] = []
    for j in list(launch_jurisdictions) + [GLOBAL]:
        for name in ctx.jurisdictions.profiles[j].packs:
            if name not in names:
                names.append(name)
    return [ctx.library.packs[n] for n in names]


def _material_texts(loaded: LoadedLaunch) -> dict[str, tuple[str, str | None, list[int] | None, str | None]]:
    """material id -> (visible text, file or None, offset map into the raw file, raw text)."""
    out = {}
    for i, m in enumerate(loaded.doc.materials):
        if m.text is not None:
            out[m.id] = (m.text, None, None, None)
        elif m.text_file:
            raw = read_material_text(loaded.base_dir, m.text_file, loaded.file, loaded.source, ("materials", i, "text_file"))
            suffix = Path(m.text_file).suffix.lower()
            fmt = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}.get(suffix, "text")
            from .nlp.materials import visible_text
            visible, offsets = visible_text(raw, fmt)
            out[m.id] = (visible, m.text_file, offsets, raw)
    return out


def _claim_facts(loaded: LoadedLaunch, facts: FactSet, ctx: Context, texts: dict) -> list[ClaimRecord]:
    if ctx.claims is None:
        return []
    from .nlp.materials import line_col

    subst = [(s.claim, s.evidence) for s in loaded.doc.substantiation]
    products = {p.id: p for p in loaded.doc.products}
    records: list[ClaimRecord] = []
    for i, m in enumerate(loaded.doc.materials):
        if m.id not in texts:
            continue
        text, file, offsets, raw = texts[m.id]
        material_fact = facts.get("material", m.id)
        claim_jurs = []
        for j in material_fact["jurisdictions"]:
            cj = ctx.jurisdictions.claims_jurisdiction(j)
            if cj and cj not in claim_jurs:
                claim_jurs.append(cj)
        n = 0
        # Fail closed: a text in a language the detector has no lexicon for is marked unscanned, so a rule can ask
        # for a manual review instead of every claim rule passing silently.
        material_fact["claims_scanned"] = all(ctx.claims.supports(cj, m.language) for cj in claim_jurs)
        product = products.get(m.product) if m.product else None
        for cj in claim_jurs:
            lang = m.language
            if not ctx.claims.supports(cj, lang):
                continue
            jurisdictions = [j for j in material_fact["jurisdictions"] if ctx.jurisdictions.claims_jurisdiction(j) == cj]
            for hit in ctx.claims.detect(text, cj, lang, subst):
                n += 1
                if offsets is not None and raw is not None:
                    raw_start = offsets[hit.start] if hit.start < len(offsets) else len(raw)
                    line, col = line_col(raw, raw_start)
                    loc_file = file
                else:
                    line, col = line_col(text, hit.start)
                    loc_file = None
                ref = f"{m.id}#{cj}#{n}"
                claim = {
                    "kind": "claim", "ref": ref, "material": m.id, "product": m.product,
                    "product_category": product.category if product else None, "market": None,
                    "jurisdictions": jurisdictions,
                    "channel": m.channel, "lang": hit.lang, "category": hit.category, "severity": hit.severity,
                    "text": hit.text, "rule": hit.rule, "exception": hit.exception, "context": list(hit.context),
                    "substantiated": hit.substantiated_by is not None, "evidence": hit.substantiated_by,
                    "start": hit.start, "end": hit.end, "line": line, "column": col,
                }
                facts.add({k: v for k, v in claim.items() if v is not None},
                          ("materials", i, "text_file" if file else "text"), f"claim \"{hit.text}\" in material {m.id}")
                records.append(ClaimRecord(m.id, cj, hit.start, hit.end, hit.text, hit.category, hit.severity, hit.rule,
                                           line, col, loc_file, list(hit.context), hit.exception, hit.substantiated_by,
                                           hit.explanation, hit.suggestion))
    return records


_TEMPLATE = re.compile(r"\{(subject|launch)\.([a-z0-9_]+)\}")


def _render(template: str, subject: dict, launch: dict) -> str:
    def sub(match: re.Match) -> str:
        holder = subject if match.group(1) == "subject" else launch
        value = holder.get(match.group(2))
        if value is None:
            return "(not stated)"
        return str(display_value(match.group(2), value))

    return _TEMPLATE.sub(sub, template)


def _why(rule: Rule, subject: dict, launch: dict) -> dict[str, Any]:
    """The facts and values the rule read: what a reviewer checks to see why it matched."""
    out: dict[str, Any] = {}
    for scope, name in rule.fields_read:
        if name == "jurisdictions":
            continue
        holder = subject if scope == "subject" else launch
        value = holder.get(name)
        out[f"{'launch.' if scope == 'launch' else ''}{name}"] = "(not stated)" if value is None else display_value(name, value)
    return out


def evaluate_packs(packs: list[Pack], facts: FactSet, as_of: dt.date, engine: str) -> tuple[list[tuple[Rule, RawResult]], list[Rule]]:
    results: list[tuple[Rule, RawResult]] = []
    upcoming: list[Rule] = []
    for pack in packs:
        in_force = [r for r in pack.rules if r.in_force(as_of) == "in_force"]
        upcoming.extend(r for r in pack.rules if r.in_force(as_of) == "upcoming")
        if not in_force:
            continue
        eval_rules = [r.eval_rule() for r in in_force]
        if engine == "reference":
            raw = reference.evaluate(eval_rules, facts.facts)
        else:
            key = f"{pack.engine_key}/{'+'.join(r.id for r in in_force)}"
            backend().register(key, eval_rules)
            raw = backend().evaluate(key, facts.facts)
        for rule in in_force:
            results.append((rule, raw))
    return results, upcoming


def _outcome(rule: Rule, subject_ref: str, label: str, outcome: str, message: str, location: dict, **details: Any) -> Outcome:
    """An outcome with everything the rule itself says; `details` carry what a finding adds (evidence, why, ...)."""
    spec = rule.spec
    details.setdefault("remediation", "")
    return Outcome(
        rule=spec.id, title=spec.title, jurisdiction=rule.jurisdiction, domain=rule.domain, pack=rule.pack,
        severity=spec.severity, outcome=outcome, subject_kind=spec.subject, subject=subject_ref, subject_label=label,
        message=message, citation=rule.citation, penalty=details.pop("penalty", None), location=location,
        evidence=details.pop("evidence", ""), why=details.pop("why", {}),
        finding_id=finding_id(spec.id, spec.subject, subject_ref), status=spec.status, title_zh=spec.title_zh, **details)


_QUIET_MESSAGES = {"pass": "Complies.", "not_applicable": "Not applicable to this subject."}
_SINGLE_OUTCOME = {bit: outcome for outcome, bit in OUTCOME_BITS.items()}  # exactly one bit set


def _finding(rule: Rule, subject: dict, meta, outcome: str, error: str | None, launch: dict, loaded: LoadedLaunch) -> Outcome:
    """A fail, needs_info or error outcome, with evidence, location and the facts the rule read."""
    spec = rule.spec
    why = _why(rule, subject, launch)
    evidence = "; ".join(f"{f}={display_value(f, subject[f]) if subject.get(f) is not None else '(not stated)'}"
                         for f in spec.evidence)
    location = {"file": loaded.file, "line": loaded.source.line_of(meta.path), "path": render_path(meta.path)}
    if subject["kind"] == "claim":
        evidence = f"\"{subject.get('text')}\" ({subject.get('category')})" + (f"; {evidence}" if evidence else "")
        location.update({"material": subject.get("material"), "text_line": subject.get("line"),
                         "text_column": subject.get("column"), "start": subject.get("start"), "end": subject.get("end")})
    if outcome == "fail":
        message = _render(spec.message, subject, launch)
    elif outcome == "needs_info":
        missing = [k for k, v in why.items() if v == "(not stated)"]
        message = "Facts this rule needs are missing: " + (", ".join(missing) or "state the missing facts")
    else:
        message = f"Could not be evaluated: {error}"
    return _outcome(rule, subject["ref"], meta.label, outcome, message, location, evidence=evidence, why=why,
                    penalty=spec.penalty.model_dump() if spec.penalty else None, remediation=spec.remediation, error=error)


def build_outcomes(results: list[tuple[Rule, RawResult]], facts: FactSet, loaded: LoadedLaunch) -> tuple[Outcomes, list[str]]:
    launch = facts.of_kind("launch")[0]
    outcomes = Outcomes()
    engine_errors: list[str] = []
    seen_errors: set[int] = set()
    by_kind: dict[str, list[dict]] = {}
    for f in facts.facts:
        by_kind.setdefault(f["kind"], []).append(f)
    records: dict[str, list[SubjectRecord]] = {}  # kind -> one label and location per subject, shared by every rule

    def records_of(kind: str) -> list[SubjectRecord]:
        if kind not in records:
            refs = [s["ref"] for s in by_kind.get(kind, [])]
            metas = [facts.meta[(kind, ref)] for ref in refs]
            records[kind] = [(ref, m.label, {"file": loaded.file, "line": loaded.source.line_of(m.path),
                                             "path": render_path(m.path)}) for ref, m in zip(refs, metas)]
        return records[kind]

    for rule, raw in results:
        spec = rule.spec
        subjects = by_kind.get(spec.subject, [])
        # FactSet refuses repeated refs, so the evaluator's positions are the facts' order of this kind
        bits = raw.column(spec.id)
        if len(bits) != len(subjects):  # never zip past a short column: every subject of the rule becomes an error
            raw.engine_errors.append(f"{spec.id}: the evaluator judged {len(bits)} of {len(subjects)} {spec.subject} subjects")
            bits = bytes(len(subjects))
        kind_records = records_of(spec.subject)
        quiet: dict[str, list[SubjectRecord]] = {"pass": [], "not_applicable": []}
        uniform = _SINGLE_OUTCOME.get(bits[0]) if subjects and bits.count(bits[0]) == len(bits) else None
        if uniform in quiet and not raw.engine_errors:
            quiet[uniform] = kind_records  # the common case: one shared list, no per-subject work
            subjects = []
        for subject, subject_record, value in zip(subjects, kind_records, bits):
            outcome, error = _SINGLE_OUTCOME.get(value), None
            if raw.engine_errors:
                outcome, error = "error", "; ".join(raw.engine_errors)[:500]
            elif outcome is None:
                # Fail closed: a subject with no outcome or several outcomes is an engine defect, never a pass.
                got = sorted(outcome_names(value))
                outcome, error = "error", f"engine gave {len(got)} outcomes ({', '.join(got) or 'none'}) for this subject"
            if outcome in quiet:
                quiet[outcome].append(subject_record)
            else:
                meta = facts.meta[(subject["kind"], subject["ref"])]
                outcomes.append(_finding(rule, subject, meta, outcome, error, launch, loaded))
        for outcome, members in quiet.items():
            outcomes.add_quiet(_outcome(rule, "", "", outcome, _QUIET_MESSAGES[outcome], {}), members)
        if raw.engine_errors and id(raw) not in seen_errors:
            seen_errors.add(id(raw))
            engine_errors.extend(raw.engine_errors)
        if not by_kind.get(spec.subject):
            outcomes.append(_outcome(rule, "-", f"no {spec.subject.replace('_', ' ')} in this launch", "not_applicable",
                                     "No subject of this kind in the launch.",
                                     {"file": loaded.file, "line": None, "path": None},
                                     penalty=spec.penalty.model_dump() if spec.penalty else None,
                                     remediation=spec.remediation))
    return outcomes, engine_errors


def _inputs(data: Any, source, path: tuple = ()) -> list[tuple[str, str, int | None]]:
    out: list[tuple[str, str, int | None]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.extend(_inputs(v, source, path + (k,)))
    elif isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        for i, v in enumerate(data):
            out.extend(_inputs(v, source, path + (i,)))
    else:
        value = ", ".join(map(str, data)) if isinstance(data, list) else ("" if data is None else str(data))
        out.append((render_path(path), value, source.line_of(path)))
    return out


def audit_loaded(loaded: LoadedLaunch, ctx: Context, options: AuditOptions, packs_override: list[Pack] | None = None) -> Report:
    doc = loaded.doc
    as_of = options.as_of or doc.launch.launch_date or dt.date.today()
    facts = build_facts(doc, ctx.jurisdictions)
    launch_fact = facts.of_kind("launch")[0]
    texts = _material_texts(loaded)
    claims = _claim_facts(loaded, facts, ctx, texts) if options.scan_claims else []
    packs = packs_override if packs_override is not None else select_packs(ctx, launch_fact["jurisdictions"])
    results, upcoming = evaluate_packs(packs, facts, as_of, options.engine)
    outcomes, engine_errors = build_outcomes(results, facts, loaded)
    report = Report(
        tool_version=__version__, launch_name=doc.launch.name, launch_file=loaded.file, launch_sha256=loaded.sha256,
        as_of=as_of.isoformat(), run_at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        markets=[m.upper() for m in doc.launch.markets], jurisdictions=list(launch_fact["jurisdictions"]),
        packs=[{"id": p.id, "version": p.spec.version, "sha256": p.sha256, "jurisdiction": p.spec.jurisdiction,
                "domain": p.spec.domain, "rules": len(p.rules)} for p in packs],
        outcomes=outcomes, engine_errors=engine_errors, claims=claims,
        materials={k: v[0] for k, v in texts.items()},
        upcoming=[{"rule": r.id, "title": r.spec.title, "jurisdiction": r.jurisdiction,
                   "effective_from": r.spec.effective_from.isoformat() if r.spec.effective_from else None,
                   "severity": r.spec.severity} for r in upcoming],
        inputs=_inputs(loaded.raw_data, loaded.source),
    )
    if doc.readiness:
        report.action_items = [{"id": a.id, "description": a.description, "area": a.area, "owner": a.owner,
                                "due": a.due.isoformat() if a.due else None, "status": a.status}
                               for a in doc.readiness.action_items]
    if options.waivers:
        apply_waivers(report, load_waivers(options.waivers, {r.id for r in ctx.library.rules()}), as_of)
    report.checklist = build_checklist(report, {r.id: r.spec.tags for p in packs for r in p.rules})
    return report


def run_audit(launch_path: Path, options: AuditOptions | None = None, ctx: Context | None = None) -> Report:
    options = options or AuditOptions()
    ctx = ctx or Context.load(with_claims=options.scan_claims)
    loaded = load_launch(launch_path, ctx.jurisdictions)
    return audit_loaded(loaded, ctx, options)
