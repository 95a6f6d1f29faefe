"""Synthetic reports for tests, benchmarks and demos of the output layer (no engine needed)."""
from __future__ import annotations

from typing import Any

from ..report import ClaimRecord, Outcome, Report, Waiver, finding_id

SEVERITIES = ("critical", "high", "medium", "low", "info")
JURISDICTIONS = ("CN", "EU", "UK", "US-CA")
DOMAINS = ("advertising", "data_protection", "ecommerce", "ip")


def make_outcome(rule: str = "CN-AD-001", subject: str = "m1", outcome: str = "fail", severity: str = "high",
                 jurisdiction: str = "CN", domain: str = "advertising", **over: Any) -> Outcome:
    kind = over.pop("subject_kind", "material")
    values: dict[str, Any] = dict(
        rule=rule, title=f"Title of {rule}", jurisdiction=jurisdiction, domain=domain, pack=f"{jurisdiction.lower()}-{domain}",
        severity=severity, outcome=outcome, subject_kind=kind, subject=subject, subject_label=f"material {subject}",
        message=f"{rule} fails for {subject}" if outcome == "fail" else "Complies.",
        citation={"law": "Advertising Law of the PRC", "article": "Art. 9(3)", "url": "https://example.org/adlaw"},
        penalty={"min": 200000, "max": 1000000, "currency": "CNY", "turnover_pct": None, "per": "violation",
                 "basis": "Art. 57", "text": None},
        remediation="Remove the absolute term.", location={"file": "launch.yaml", "line": 12, "path": "materials[0].text"},
        evidence=f"text=最佳 {subject}", why={"text": "最佳", "launch.markets": ["CN"]},
        finding_id=finding_id(rule, kind, subject),
    )
    values.update(over)
    return Outcome(**values)


def make_report(outcomes: list[Outcome] | None = None, **over: Any) -> Report:
    if outcomes is None:
        outcomes = [
            make_outcome("CN-AD-001", "m1", "fail", "critical"),
            make_outcome("CN-AD-002", "m1", "fail", "high", title_zh="虚假宣传"),
            make_outcome("EU-DP-001", "d1", "needs_info", "medium", jurisdiction="EU", domain="data_protection",
                         subject_kind="data_item"),
            make_outcome("EU-DP-002", "d1", "waived", "high", jurisdiction="EU", domain="data_protection",
                         subject_kind="data_item", waiver={"justification": "DPA signed", "approver": "Legal",
                                                           "reference": "JIRA-1", "expires": "2027-01-01"}),
            make_outcome("CN-AD-003", "m2", "pass", "low"),
            make_outcome("EU-EC-001", "-", "not_applicable", "low", jurisdiction="EU", domain="ecommerce"),
        ]
    text = "这是最好的面霜，100%有效！ Best cream ever."
    values: dict[str, Any] = dict(
        tool_version="0.1.0", launch_name="Demo launch", launch_file="launch.yaml", launch_sha256="ab" * 32,
        as_of="2026-12-01", run_at="2026-12-06T03:00:00Z", markets=["CN", "DE"], jurisdictions=["CN", "EU"],
        packs=[{"id": "cn-advertising", "version": "2026.1.0", "sha256": "cd" * 32, "jurisdiction": "CN",
                "domain": "advertising", "rules": 3}],
        outcomes=outcomes,
        upcoming=[{"rule": "EU-AI-001", "title": "AI Act transparency", "jurisdiction": "EU",
                   "effective_from": "2027-08-02", "severity": "high"}],
        claims=[ClaimRecord("m1", "CN", 2, 4, "最好", "absolute_term", "critical", "CN-CLAIM-ABS", 1, 3, None,
                            ["这是", "的面霜"], None, None, "Absolute terms are banned", "use 优质"),
                ClaimRecord("m1", "CN", 8, 12, "100%", "efficacy", "high", "CN-CLAIM-EFF", 1, 9, None, [], None, None,
                            "", None)],
        materials={"m1": text, "m2": "=HYPERLINK(\"http://evil\")"},
        inputs=[("launch.name", "Demo launch", 2), ("materials[0].text", text, 12)],
        waivers=[Waiver("EU-DP-002", "d1", "DPA signed", "Legal", "JIRA-1", "2027-01-01", 3, "applied"),
                 Waiver("UK-AD-009", None, "old", "Legal", "JIRA-2", "2025-01-01", 9, "expired")],
        checklist=[{"area": "legal", "status": "not_ready", "rules": 2, "failed": 1, "needs_info": 0, "passed": 1,
                    "items": ["RD-LG-01 launch: legal review missing"]}],
        action_items=[{"id": "A1", "description": "Book legal review", "area": "legal", "owner": "Ann",
                       "due": "2026-12-20", "status": "open"}],
    )
    values.update(over)
    return Report(**values)


def synthetic_report(n_findings: int, n_pass: int = 0) -> Report:
    """A report with n_findings failed outcomes (varied severity/jurisdiction/domain) for benchmarks."""
    outcomes = []
    for i in range(n_findings):
        outcomes.append(make_outcome(f"CN-AD-{i % 500:03d}", f"subject-{i}", "fail", SEVERITIES[i % 5],
                                     jurisdiction=JURISDICTIONS[i % 4], domain=DOMAINS[i % 4],
                                     message=f"Finding number {i}: the claim is not substantiated",
                                     location={"file": "launch.yaml", "line": i + 1, "path": f"materials[{i}].text"}))
    for i in range(n_pass):
        outcomes.append(make_outcome(f"EU-DP-{i % 500:03d}", f"p-{i}", "pass", "medium", jurisdiction="EU"))
    return make_report(outcomes, claims=[], materials={}, inputs=[])
