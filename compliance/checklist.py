"""The launch-readiness checklist: one status per area, derived from the readiness rules' outcomes."""
from __future__ import annotations

from typing import Any

from .report import Report

AREAS = ("goals", "equipment", "backup", "training", "emergency", "marketing", "content", "legal", "general")


def area_of(rule_tags: list[str]) -> str:
    for tag in rule_tags:
        if tag.startswith("area:"):
            return tag[len("area:"):]
    return "general"


def _row(rows: dict[str, dict[str, Any]], area: str) -> dict[str, Any]:
    return rows.setdefault(area, {"area": area, "rules": 0, "failed": 0, "needs_info": 0, "passed": 0, "items": []})


def build_checklist(report: Report, rule_tags: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Area -> status: not_ready if any readiness rule fails, needs_info if any lacks facts, else ready."""
    rows: dict[str, dict[str, Any]] = {}
    for area in AREAS:
        _row(rows, area)
    for run in report.outcomes.quiet_runs():  # pass and not_applicable, counted without making objects
        if run.template.domain == "readiness":
            row = _row(rows, area_of(rule_tags.get(run.template.rule, [])))
            row["rules"] += len(run)
            row["passed"] += len(run) if run.template.outcome == "pass" else 0
    for o in report.outcomes.stored():
        if o.domain != "readiness":
            continue
        row = _row(rows, area_of(rule_tags.get(o.rule, [])))
        row["rules"] += 1
        if o.outcome in ("fail", "error"):
            row["failed"] += 1
            row["items"].append(f"{o.rule} {o.subject_label}: {o.message}")
        elif o.outcome == "needs_info":
            row["needs_info"] += 1
            row["items"].append(f"{o.rule} {o.subject_label}: {o.message}")
        elif o.outcome in ("pass", "waived"):
            row["passed"] += 1
    out = []
    for row in rows.values():
        row["status"] = ("not_ready" if row["failed"] else "needs_info" if row["needs_info"]
                         else "ready" if row["passed"] else "not_checked")
        out.append(row)
    return out
