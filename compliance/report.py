"""A finished audit: every rule's outcome per subject, findings, provenance. Writers are pure functions of it."""
from __future__ import annotations

import hashlib
import json
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
    outcomes: list[Outcome]
    upcoming: list[dict[str, Any]] = field(default_factory=list)
    claims: list[ClaimRecord] = field(default_factory=list)
    materials: dict[str, str] = field(default_factory=dict)  # material id -> scanned text
    inputs: list[tuple[str, str, int | None]] = field(default_factory=list)  # path, value, line
    waivers: list[Waiver] = field(default_factory=list)
    engine_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checklist: list[dict[str, Any]] = field(default_factory=list)
    action_items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def findings(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.is_finding]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.outcome] = out.get(o.outcome, 0) + 1
        return out

    def result(self, fail_on: str = "high") -> str:
        if self.engine_errors or any(o.outcome == "error" for o in self.outcomes):
            return "error"
        threshold = SEVERITY_ORDER[fail_on]
        if any(o.outcome == "fail" and SEVERITY_ORDER[o.severity] >= threshold for o in self.outcomes):
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
