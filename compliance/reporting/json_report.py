"""The JSON report: a stable, versioned surface for CI and other tools."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from ..report import REPORT_SCHEMA_VERSION, SEVERITY_ORDER, Report


def summary(report: Report, fail_on: str = "high") -> dict[str, Any]:
    by_severity: dict[str, int] = {s: 0 for s in SEVERITY_ORDER}
    by_jurisdiction: dict[str, int] = {}
    by_domain: dict[str, int] = {}
    for f in report.findings:
        if f.outcome != "fail":
            continue
        by_severity[f.severity] += 1
        by_jurisdiction[f.jurisdiction] = by_jurisdiction.get(f.jurisdiction, 0) + 1
        by_domain[f.domain] = by_domain.get(f.domain, 0) + 1
    return {"result": report.result(fail_on), "fail_on": fail_on, "outcomes": report.counts(),
            "failed_by_severity": by_severity, "failed_by_jurisdiction": by_jurisdiction, "failed_by_domain": by_domain,
            "findings_sha256": report.findings_digest()}


def to_dict(report: Report, fail_on: str = "high", min_severity: str = "info") -> dict[str, Any]:
    floor = SEVERITY_ORDER[min_severity]
    findings = [f.to_json() for f in report.findings if SEVERITY_ORDER[f.severity] >= floor]
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": {"name": "launch-compliance", "version": report.tool_version},
        "launch": {"name": report.launch_name, "file": report.launch_file, "sha256": report.launch_sha256,
                   "markets": report.markets, "jurisdictions": report.jurisdictions},
        "as_of": report.as_of,
        "run_at": report.run_at,
        "packs": report.packs,
        "summary": summary(report, fail_on),
        "findings": findings,
        "outcomes": [{"rule": o.rule, "subject": o.subject, "subject_kind": o.subject_kind, "outcome": o.outcome,
                      "severity": o.severity, "jurisdiction": o.jurisdiction, "domain": o.domain, "id": o.finding_id}
                     for o in report.outcomes],
        "upcoming": report.upcoming,
        "claims": [asdict(c) for c in report.claims],
        "waivers": [asdict(w) for w in report.waivers],
        "checklist": report.checklist,
        "engine_errors": report.engine_errors,
        "warnings": report.warnings,
    }


def render(report: Report, fail_on: str = "high", min_severity: str = "info") -> str:
    return json.dumps(to_dict(report, fail_on, min_severity), ensure_ascii=False, indent=2, default=str) + "\n"
