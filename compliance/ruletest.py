"""Run every rule's inline tests: a rule whose own examples fail must not ship."""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

from .audit import AuditOptions, Context, audit_loaded
from .errors import ComplianceError
from .loading.launch import load_launch_data
from .loading.packs import Library, Pack, Rule

DEFAULT_LAUNCH_DATE = dt.date(2027, 1, 15)
_AGGREGATE_ORDER = ("error", "fail", "needs_info", "pass", "not_applicable")


@dataclass
class TestResult:
    rule: str
    name: str
    expected: str
    got: str
    ok: bool
    detail: str = ""


def _launch_data(rule: Rule, fragment: dict) -> dict:
    data = copy.deepcopy(fragment)
    launch = data.setdefault("launch", {})
    launch.setdefault("name", f"test {rule.id}")
    if "markets" not in launch:
        launch["markets"] = [rule.jurisdiction] if rule.jurisdiction != "GLOBAL" else ["UK"]
    launch.setdefault("launch_date", DEFAULT_LAUNCH_DATE)
    return data


def run_rule_tests(ctx: Context, rule_ids: set[str] | None = None) -> list[TestResult]:
    results: list[TestResult] = []
    for pack in ctx.library.packs.values():
        for rule in pack.rules:
            if rule_ids and rule.id not in rule_ids:
                continue
            for test in rule.spec.tests:
                results.append(_run_one(ctx, pack, rule, test))
    return results


def _run_one(ctx: Context, pack: Pack, rule: Rule, test) -> TestResult:
    expected = test.expect["outcome"]
    subject = test.expect.get("subject")
    try:
        loaded = load_launch_data(_launch_data(rule, test.launch), ctx.jurisdictions, f"{rule.id}: {test.name}")
        as_of = loaded.doc.launch.launch_date
        if rule.spec.effective_from and as_of < rule.spec.effective_from:
            as_of = rule.spec.effective_from
        single = Context(ctx.jurisdictions, Library({pack.id: _only(pack, rule)}), ctx.claims)
        report = audit_loaded(loaded, single, AuditOptions(as_of=as_of), packs_override=[_only(pack, rule)])
    except ComplianceError as exc:
        return TestResult(rule.id, test.name, expected, "invalid", False, str(exc))
    outcomes = [o for o in report.outcomes if o.rule == rule.id]
    if not outcomes and rule.in_force(as_of) == "expired":
        return TestResult(rule.id, test.name, expected, "not_in_force", expected == "not_in_force", "rule expired on the launch date")
    if subject is not None:
        got_list = [o.outcome for o in outcomes if o.subject == subject]
        got = got_list[0] if len(got_list) == 1 else f"no outcome for subject {subject!r}"
    else:
        present = {o.outcome for o in outcomes}
        got = next((o for o in _AGGREGATE_ORDER if o in present), "none")
    detail = "; ".join(f"{o.subject}: {o.outcome}" for o in outcomes)
    if report.engine_errors:
        detail += " | engine: " + "; ".join(report.engine_errors)
    return TestResult(rule.id, test.name, expected, got, got == expected, detail)


def _only(pack: Pack, rule: Rule) -> Pack:
    clone = copy.copy(pack)
    clone.rules = [rule]
    return clone
