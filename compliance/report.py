"""A finished audit: every rule's outcome per subject, findings, provenance. Writers are pure functions of it."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any

REPORT_SCHEMA_VERSION = "1.0"
SEVERITY_ORDER = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
FINDING_OUTCOMES = ("fail", "needs_info", "waived", "error")


@dataclass
class Waiver:
    rule: str
    subject: str | None
    justification: str
    approver: str
    reference: str
    expires: str
    line: int | None = None
    state: str = "unused"  # applied | expired | unused


@dataclass(slots=True)
class Outcome:
    rule: str
    title: str
    jurisdiction: str
    domain: str
    pack: str
    severity: str
    outcome: str  # fail | pass | not_applicable | needs_info | waived | error
    subject_kind: str
    subject: str
    subject_label: str
    message: str
    citation: dict[str, Any]
    penalty: dict[str, Any] | None
    remediation: str
    location: dict[str, Any]
    evidence: str
    why: dict[str, Any]
    finding_id: str
    status: str = "verified"
    waiver: dict[str, Any] | None = None
    error: str | None = None
    title_zh: str | None = None

    @property
    def is_finding(self) -> bool:
        return self.outcome in FINDING_OUTCOMES

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["id"] = out.pop("finding_id")
        return out


SubjectRecord = tuple[str, str, dict[str, Any]]  # ref, label, location: one per subject, shared by every rule
QUIET_OUTCOMES = ("pass", "not_applicable")


class QuietRun:
    """One rule's pass or not_applicable outcomes over many subjects, without a finding's evidence.

    Stored as one template outcome and the subjects' shared records, and made into Outcome objects only while
    iterating: a 10,000-material launch has ~1.7 million of them, which as objects took gigabytes."""

    __slots__ = ("template", "subjects")

    def __init__(self, template: Outcome, subjects: list[SubjectRecord]) -> None:
        self.template = template
        self.subjects = subjects

    def __len__(self) -> int:
        return len(self.subjects)

    def __iter__(self) -> Iterator[Outcome]:
        t = self.template
        for ref, label, location in self.subjects:
            yield Outcome(t.rule, t.title, t.jurisdiction, t.domain, t.pack, t.severity, t.outcome, t.subject_kind, ref,
                          label, t.message, t.citation, t.penalty, t.remediation, location, t.evidence, t.why,
                          finding_id(t.rule, t.subject_kind, ref), t.status, None, None, t.title_zh)


class Outcomes:
    """Every outcome of an audit, in evaluation order: objects for findings (and anything appended one by one),
    quiet runs for the rest. Iterating yields Outcome objects; `stored()` skips the quiet runs, which hold no
    finding, so findings, counts and the result never materialise them."""

    __slots__ = ("_parts", "_len")

    def __init__(self, items: Iterable[Outcome] = ()) -> None:
        self._parts: list[Outcome | QuietRun] = []
        self._len = 0
        for item in items:
            self.append(item)

    def append(self, outcome: Outcome) -> None:
        self._parts.append(outcome)
        self._len += 1

    def add_quiet(self, template: Outcome, subjects: list[SubjectRecord]) -> None:
        if template.outcome not in QUIET_OUTCOMES:
            raise ValueError(f"a quiet run cannot hold {template.outcome} outcomes")
        if subjects:
            self._parts.append(QuietRun(template, subjects))
            self._len += len(subjects)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Outcome]:
        for part in self._parts:
            if isinstance(part, QuietRun):
                yield from part
            else:
                yield part

    def stored(self) -> Iterator[Outcome]:
        """The outcomes kept as objects: every finding is among them."""
        return (p for p in self._parts if not isinstance(p, QuietRun))

    def quiet_runs(self) -> Iterator[QuietRun]:
        return (p for p in self._parts if isinstance(p, QuietRun))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in self._parts:
            outcome, n = (part.template.outcome, len(part)) if isinstance(part, QuietRun) else (part.outcome, 1)
            out[outcome] = out.get(outcome, 0) + n
        return out


@dataclass
class ClaimRecord:
    material: str
    jurisdiction: str
    start: int
    end: int
    text: str
    category: str
    severity: str
    rule: str
    line: int | None
    column: int | None
    file: str | None
    context: list[str] = field(default_factory=list)
    exception: str | None = None
    substantiated_by: str | None = None
    explanation: str = ""
    suggestion: str | None = None


@dataclass
class Report:
    tool_version: str
    launch_name: str
    launch_file: str
    launch_sha256: str
    as_of: str
    run_at: str
    markets: list[str]
    jurisdictions: list[str]
    packs: list[dict[str, Any]]
    outcomes: Outcomes
    upcoming: list[dict[str, Any]] = field(default_factory=list)
    claims: list[ClaimRecord] = field(default_factory=list)
    materials: dict[str, str] = field(default_factory=dict)  # material id -> scanned text
    inputs: list[tuple[str, str, int | None]] = field(default_factory=list)  # path, value, line
    waivers: list[Waiver] = field(default_factory=list)
    engine_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checklist: list[dict[str, Any]] = field(default_factory=list)
    action_items: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.outcomes, Outcomes):
            self.outcomes = Outcomes(self.outcomes)

    @property
    def findings(self) -> list[Outcome]:
        return [o for o in self.outcomes.stored() if o.is_finding]

    def counts(self) -> dict[str, int]:
        return self.outcomes.counts()

    def result(self, fail_on: str = "high") -> str:
        if self.engine_errors or any(o.outcome == "error" for o in self.outcomes.stored()):
            return "error"
        threshold = SEVERITY_ORDER[fail_on]
        if any(o.outcome == "fail" and SEVERITY_ORDER[o.severity] >= threshold for o in self.outcomes.stored()):
            return "fail"
        return "pass"

    def findings_digest(self) -> str:
        """Saved workbooks are never byte-identical; this hash of the findings is.

        The bytes are those of json.dumps(sorted findings), streamed row by row so 100k findings need no copy.
        """
        names = [f.name for f in fields(Outcome)]
        encoder = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256(b"[")
        for i, o in enumerate(sorted(self.findings, key=lambda o: o.finding_id)):
            row = {n: getattr(o, n) for n in names}
            row["id"] = row.pop("finding_id")
            digest.update(((", " if i else "") + encoder.encode(row)).encode("utf-8", "surrogatepass"))
        digest.update(b"]")
        return digest.hexdigest()


def finding_id(rule: str, kind: str, subject: str) -> str:
    digest = hashlib.sha1(f"{rule}\0{kind}\0{subject}".encode()).hexdigest()[:10].upper()
    return f"F-{digest}"


def exit_code(report: Report, fail_on: str) -> int:
    result = report.result(fail_on)
    return {"pass": 0, "fail": 1, "error": 3}[result]
