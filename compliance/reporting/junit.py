"""JUnit XML for CI test reports: one testcase per outcome (rule x subject).

fail -> <failure>, error -> <error>, not_applicable / needs_info / waived -> <skipped> with the reason
(waived and needs_info stay visible), pass -> a plain testcase. One testsuite per rule pack.
A failure's `type` is its severity; failures below --fail-on are marked advisory in the message.
"""
from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from ..report import SEVERITY_ORDER, Outcome, Report
from .common import citation_text, location_text, penalty_text, waiver_text, why_text, xml_safe


def _el(parent: ET.Element, tag: str, attrs: dict[str, Any] | None = None, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_safe(str(v)) for k, v in (attrs or {}).items() if v is not None})
    if text is not None:
        el.text = xml_safe(text)
    return el


def _details(o: Outcome) -> str:
    lines = [f"{o.severity.upper()} {o.rule} {o.title}", f"Subject: {o.subject_label or o.subject}",
             f"Message: {o.message}"]
    for label, value in (("Evidence", o.evidence), ("Location", location_text(o.location)), ("Why", why_text(o.why)),
                         ("Law", citation_text(o.citation)), ("Penalty", penalty_text(o.penalty)),
                         ("Remediation", o.remediation), ("Waiver", waiver_text(o.waiver)), ("Error", o.error),
                         ("Finding", o.finding_id)):
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


def to_element(report: Report, fail_on: str = "high") -> ET.Element:
    threshold = SEVERITY_ORDER[fail_on]
    suites: dict[str, list[Outcome]] = {}
    for o in sorted(report.outcomes, key=lambda o: (o.pack, o.rule, o.subject)):
        suites.setdefault(o.pack or o.jurisdiction, []).append(o)
    root = ET.Element("testsuites", {"name": xml_safe(f"launch-compliance: {report.launch_name}")})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for pack, outcomes in suites.items():
        counts = {"tests": len(outcomes), "failures": sum(o.outcome == "fail" for o in outcomes),
                  "errors": sum(o.outcome == "error" for o in outcomes),
                  "skipped": sum(o.outcome in ("not_applicable", "needs_info", "waived") for o in outcomes)}
        for k in totals:
            totals[k] += counts[k]
        suite = _el(root, "testsuite", {"name": pack, "timestamp": report.run_at.rstrip("Z"), "time": "0",
                                        **{k: str(v) for k, v in counts.items()}})
        props = _el(suite, "properties")
        for name, value in (("jurisdiction", outcomes[0].jurisdiction), ("domain", outcomes[0].domain),
                            ("as_of", report.as_of), ("fail_on", fail_on), ("launch_file", report.launch_file)):
            _el(props, "property", {"name": name, "value": value})
        for o in outcomes:
            case = _el(suite, "testcase", {"classname": f"{o.jurisdiction}.{o.domain}.{o.rule}",
                                           "name": f"{o.rule} [{o.subject_kind}: {o.subject}]", "time": "0",
                                           "file": (o.location or {}).get("file"),
                                           "line": (o.location or {}).get("line")})
            if o.outcome == "fail":
                blocking = SEVERITY_ORDER.get(o.severity, 0) >= threshold
                _el(case, "failure", {"type": o.severity,
                                      "message": f"{o.severity.upper()}{'' if blocking else ' (advisory, below --fail-on)'}"
                                                 f": {o.message}"}, _details(o))
            elif o.outcome == "error":
                _el(case, "error", {"type": "evaluation_error", "message": o.message or (o.error or "")}, _details(o))
            elif o.outcome == "waived":
                _el(case, "skipped", {"message": f"WAIVED {o.severity.upper()}: {waiver_text(o.waiver)}"})
                _el(case, "system-out", text=_details(o))
            elif o.outcome == "needs_info":
                _el(case, "skipped", {"message": f"NEEDS INFO: {o.message}"})
                _el(case, "system-out", text=_details(o))
            elif o.outcome == "not_applicable":
                _el(case, "skipped", {"message": f"not applicable: {o.message}"})
    if report.engine_errors:
        suite = _el(root, "testsuite", {"name": "engine", "tests": "1", "failures": "0", "errors": "1", "skipped": "0"})
        case = _el(suite, "testcase", {"classname": "engine", "name": "evaluation"})
        _el(case, "error", {"type": "engine_error", "message": report.engine_errors[0]}, "\n".join(report.engine_errors))
        totals["tests"] += 1
        totals["errors"] += 1
    for k, v in totals.items():
        root.set(k, str(v))
    return root


def render(report: Report, fail_on: str = "high") -> str:
    root = to_element(report, fail_on)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
