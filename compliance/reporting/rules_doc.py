"""Rule documentation: the catalog behind `compliance rules list`, `rules show` / `explain`, and the
README coverage table. Pure functions of the loaded library."""
from __future__ import annotations

from typing import Any

import yaml

from ..report import SEVERITY_ORDER
from .common import citation_text, penalty_text

DOMAIN_ORDER = ("data_protection", "advertising", "ecommerce", "ip", "tax", "readiness")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def rule_entry(rule: Any) -> dict[str, Any]:
    spec = rule.spec
    return {
        "id": spec.id,
        "title": spec.title,
        "title_zh": spec.title_zh,
        "jurisdiction": rule.jurisdiction,
        "domain": rule.domain,
        "pack": rule.pack,
        "severity": spec.severity,
        "citation": spec.citation.model_dump(exclude_none=True) if spec.citation else None,
        "penalty": spec.penalty.model_dump(exclude_none=True) if spec.penalty else None,
        "effective_from": _iso(spec.effective_from),
        "effective_until": _iso(spec.effective_until),
        "status": spec.status,
        "subject": spec.subject,
        "tests": len(spec.tests),
        "tags": list(spec.tags),
        "file": rule.file,
        "line": rule.line,
    }


def rule_catalog(library: Any, jurisdiction: str | None = None) -> list[dict[str, Any]]:
    """Every rule of the library (optionally of one jurisdiction), sorted by jurisdiction, domain, id."""
    wanted = jurisdiction.upper() if jurisdiction else None
    entries = [rule_entry(r) for r in library.rules() if wanted is None or r.jurisdiction.upper() == wanted]
    domain_rank = {d: i for i, d in enumerate(DOMAIN_ORDER)}
    return sorted(entries, key=lambda e: (e["jurisdiction"], domain_rank.get(e["domain"], 99), e["id"]))


def _effective(entry: dict[str, Any]) -> str:
    lo, hi = entry.get("effective_from"), entry.get("effective_until")
    if lo and hi:
        return f"{lo}..{hi}"
    if lo:
        return f"from {lo}"
    if hi:
        return f"until {hi}"
    return "in force"


def render_catalog_text(catalog: list[dict[str, Any]]) -> str:
    if not catalog:
        return "no rules\n"
    headers = ["ID", "SEVERITY", "JUR", "DOMAIN", "TESTS", "EFFECTIVE", "TITLE / CITATION"]
    rows = []
    for e in catalog:
        cite = citation_text(e.get("citation"))
        status = "" if e.get("status") == "verified" else f" [{e.get('status')}]"
        rows.append([e["id"], e["severity"].upper(), e["jurisdiction"], e["domain"], str(e["tests"]), _effective(e),
                     f"{e['title']}{status}" + (f" — {cite}" if cite else "")])
    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(len(headers) - 1)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)) + "  " + headers[-1]]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    packs = {e["pack"] for e in catalog}
    by_sev = {s: sum(e["severity"] == s for e in catalog) for s in sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.get,
                                                                           reverse=True)}
    lines.append("")
    lines.append(f"{len(catalog)} rules in {len(packs)} packs ("
                 + ", ".join(f"{n} {s}" for s, n in by_sev.items() if n) + f"); {sum(e['tests'] for e in catalog)} tests")
    return "\n".join(lines)


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=False).rstrip()


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_rule(rule: Any) -> str:
    """Everything about one rule: law, penalty, dates, logic, message, remediation, tests."""
    spec = rule.spec
    e = rule_entry(rule)
    out = [f"{spec.id}  {spec.title}"]
    if spec.title_zh:
        out.append(f"{' ' * len(spec.id)}  {spec.title_zh}")
    out.append("")
    out.append(f"Severity:      {spec.severity.upper()}")
    out.append(f"Jurisdiction:  {rule.jurisdiction}    Domain: {rule.domain}    Pack: {rule.pack}")
    out.append(f"Defined in:    {rule.file}{':' + str(rule.line) if rule.line else ''}")
    out.append(f"Status:        {spec.status}")
    out.append(f"In force:      {_effective(e)}")
    out.append(f"Subject:       each {spec.subject.replace('_', ' ')}")
    if spec.citation:
        out.append(f"Law:           {citation_text(spec.citation.model_dump())}")
    else:
        out.append("Law:           (no citation)")
    if spec.penalty:
        out.append(f"Penalty:       {penalty_text(spec.penalty.model_dump())}")
    if spec.tags:
        out.append(f"Tags:          {', '.join(spec.tags)}")
    out += ["", "Why it matters:", _indent(spec.rationale.strip())]
    if spec.applies_when:
        out += ["", "Applies when:", _indent(_yaml(spec.applies_when))]
    if spec.needs:
        out += ["", "Needs facts (missing -> needs_info):", _indent(", ".join(spec.needs))]
    out += ["", "Fails when:", _indent(_yaml(spec.fail_when))]
    out += ["", "Message:", _indent(spec.message.strip())]
    if spec.evidence:
        out += ["", f"Evidence shown: {', '.join(spec.evidence)}"]
    out += ["", "Remediation:", _indent(spec.remediation.strip())]
    if spec.example_bad:
        out += ["", "Example (non-compliant):", _indent(spec.example_bad.strip())]
    if spec.example_good:
        out += ["", "Example (compliant):", _indent(spec.example_good.strip())]
    out += ["", f"Tests ({len(spec.tests)}):"]
    for t in spec.tests:
        expect = t.expect.get("outcome")
        subject = f" for {t.expect['subject']}" if t.expect.get("subject") else ""
        out.append(f"    - {t.name}: expects {expect}{subject}")
    return "\n".join(out) + "\n"


def coverage_table(catalog: list[dict[str, Any]]) -> str:
    """Markdown: rule count per jurisdiction (rows) and domain (columns), with totals, for the README."""
    jurs = sorted({e["jurisdiction"] for e in catalog})
    present = {e["domain"] for e in catalog}
    domains = [d for d in DOMAIN_ORDER if d in present] + sorted(present - set(DOMAIN_ORDER))
    counts: dict[tuple[str, str], int] = {}
    for e in catalog:
        counts[(e["jurisdiction"], e["domain"])] = counts.get((e["jurisdiction"], e["domain"]), 0) + 1
    head = "| Jurisdiction | " + " | ".join(d.replace("_", " ") for d in domains) + " | Total |"
    sep = "|---|" + "---:|" * (len(domains) + 1)
    lines = [head, sep]
    for j in jurs:
        cells = [str(counts.get((j, d), 0) or "–") for d in domains]
        lines.append(f"| {j} | " + " | ".join(cells) + f" | {sum(counts.get((j, d), 0) for d in domains)} |")
    totals = [str(sum(counts.get((j, d), 0) for j in jurs)) for d in domains]
    lines.append("| **Total** | " + " | ".join(totals) + f" | **{len(catalog)}** |")
    return "\n".join(lines) + "\n"


def coverage_markdown(library: Any) -> str:
    return coverage_table(rule_catalog(library))
