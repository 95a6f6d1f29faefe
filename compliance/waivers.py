"""Waivers: a finding accepted by a named approver, with a reason, a reference and an expiry.

A waived finding stays visible everywhere; an expired waiver stops applying and is reported; an unused
waiver is reported; a malformed waivers file stops the audit (exit 2).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError, Problem
from .loading.launch import validation_problems
from .loading.yamlsafe import load_yaml_file
from .report import Report, Waiver


class _WaiverEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    rule: str = Field(min_length=1)
    subject: str | None = None
    justification: str = Field(min_length=10)
    approver: str = Field(min_length=1)
    reference: str = Field(min_length=1)
    expires: dt.date


class _WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    waivers: list[_WaiverEntry]


def load_waivers(path: Path, known_rules: set[str] | None = None) -> list[Waiver]:
    """Load and validate a waivers file; with `known_rules`, a waiver naming a rule that exists nowhere is an error."""
    loaded = load_yaml_file(path)
    try:
        parsed = _WaiverFile.model_validate(loaded.data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, str(path), loaded.source, root_model=_WaiverFile)) from None
    if known_rules is not None:
        import difflib

        problems = []
        for i, w in enumerate(parsed.waivers):
            if w.rule not in known_rules:
                close = difflib.get_close_matches(w.rule, sorted(known_rules), n=1)
                problems.append(Problem("E401", f"waiver names unknown rule {w.rule!r}" + (f"; did you mean {close[0]!r}?" if close else ""),
                                        str(path), loaded.source.line_of(("waivers", i, "rule")), path=f"waivers[{i}].rule",
                                        expected="a rule id listed by 'compliance rules list'"))
        if problems:
            raise InputError(problems)
    return [Waiver(w.rule, w.subject, w.justification, w.approver, w.reference, w.expires.isoformat(),
                   loaded.source.line_of(("waivers", i))) for i, w in enumerate(parsed.waivers)]


def apply_waivers(report: Report, waivers: list[Waiver], as_of: dt.date) -> None:
    known_rules = {o.rule for o in report.outcomes.stored()} | {r.template.rule for r in report.outcomes.quiet_runs()}
    for w in waivers:
        if w.rule not in known_rules:
            report.warnings.append(f"waiver on line {w.line} names rule {w.rule} that was not evaluated in this audit")
        expired = dt.date.fromisoformat(w.expires) < as_of
        for o in report.outcomes.stored():  # quiet runs hold no fail
            if o.rule != w.rule or (w.subject and w.subject != o.subject) or o.outcome not in ("fail", "waived"):
                continue
            if expired:
                w.state = "expired"
                continue
            o.outcome = "waived"
            o.waiver = {"justification": w.justification, "approver": w.approver, "reference": w.reference,
                        "expires": w.expires}
            w.state = "applied"
        if w.state == "unused":
            report.warnings.append(f"waiver on line {w.line} for {w.rule}{' / ' + w.subject if w.subject else ''} matched no finding")
        elif w.state == "expired":
            report.warnings.append(f"waiver on line {w.line} for {w.rule} expired on {w.expires}; the finding is open again")
    report.waivers = waivers
