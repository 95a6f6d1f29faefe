"""SARIF 2.1.0 for code-scanning UIs (GitHub, GitLab, Azure DevOps).

- severity -> `level` (critical/high: error, medium: warning, low/info: note) and a numeric
  `security-severity` in each rule's properties (GitHub buckets: >=9 critical, >=7 high, >=4 medium, >0 low);
- stable `ruleId` (the rule id) and `partialFingerprints` carrying the stable finding id, so alerts are
  tracked across runs;
- waived findings are kept, with `suppressions[].justification`;
- needs_info findings are `kind: review` (SARIF requires `level: none` for non-failures);
- at most 25,000 results per run (GitHub's limit), most severe first; the cut is reported in the run.
"""
from __future__ import annotations

import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from ..report import SEVERITY_ORDER, Outcome, Report
from .common import citation_text, findings_digest, location_text, penalty_text, sorted_findings, why_text, xml_safe

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
MAX_RESULTS = 25_000
FINGERPRINT_KEY = "launchComplianceFindingId/v1"
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
INFORMATION_URI = "https://github.com/launch-compliance/launch-compliance"


def artifact_uri(file: str | None) -> tuple[str, str | None]:
    """(uri, uriBaseId): relative paths stay relative to the source root; absolute ones become file URIs."""
    if not file:
        return "launch.yaml", "%SRCROOT%"
    if PureWindowsPath(file).is_absolute() and not file.startswith("/"):
        return "file:///" + quote(PureWindowsPath(file).as_posix(), safe="/:"), None
    posix = file.replace("\\", "/")
    if posix.startswith("/"):
        return "file://" + quote(posix), None
    posix = str(PurePosixPath(posix))
    return quote(posix.removeprefix("./")), "%SRCROOT%"


def _rule_descriptor(o: Outcome) -> dict[str, Any]:
    props: dict[str, Any] = {
        "security-severity": SECURITY_SEVERITY.get(o.severity, "0.0"),
        "severity": o.severity,
        "jurisdiction": o.jurisdiction,
        "domain": o.domain,
        "pack": o.pack,
        "status": o.status,
        "tags": ["compliance", o.jurisdiction, o.domain],
        "precision": "very-high" if o.status == "verified" else "medium",
    }
    if o.penalty:
        props["penalty"] = penalty_text(o.penalty)
    if o.citation:
        props["citation"] = o.citation
    rule: dict[str, Any] = {
        "id": o.rule,
        "name": "".join(w.capitalize() for w in o.rule.replace("-", " ").split()),
        "shortDescription": {"text": xml_safe(o.title)},
        "fullDescription": {"text": xml_safe(o.title + (f" ({citation_text(o.citation)})" if o.citation else ""))},
        "defaultConfiguration": {"level": LEVEL.get(o.severity, "note")},
        "help": {"text": xml_safe(o.remediation or o.title),
                 "markdown": xml_safe(f"**Remediation:** {o.remediation}\n\n**Law:** {citation_text(o.citation)}"
                                      + (f"\n\n**Penalty:** {penalty_text(o.penalty)}" if o.penalty else ""))},
        "properties": props,
    }
    url = (o.citation or {}).get("url")
    if url:
        rule["helpUri"] = url
    return rule


def _physical(file: str | None, line: Any, column: Any = None) -> dict[str, Any]:
    uri, base = artifact_uri(file)
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, **({"uriBaseId": base} if base else {})}}
    if isinstance(line, int) and line >= 1:
        physical["region"] = {"startLine": line}
        if isinstance(column, int) and column >= 1:
            physical["region"]["startColumn"] = column
    return physical


def material_files(report: Report) -> dict[tuple[str, Any, Any], str]:
    """(material, start, end) -> the material's own text file, as a path beside the launch file."""
    base = PurePosixPath(report.launch_file.replace("\\", "/")).parent
    out = {}
    for c in report.claims:
        if c.file:
            rel = c.file.replace("\\", "/")
            out[(c.material, c.start, c.end)] = rel if rel.startswith("/") else str(base / rel)
    return out


def _result(o: Outcome, rule_index: int, files: dict[tuple[str, Any, Any], str] | None = None) -> dict[str, Any]:
    loc = o.location or {}
    yaml_location: dict[str, Any] = {"physicalLocation": _physical(loc.get("file"), loc.get("line"))}
    if loc.get("path"):
        yaml_location["logicalLocations"] = [{"fullyQualifiedName": str(loc["path"]), "kind": "member"}]
    text_file = (files or {}).get((loc.get("material"), loc.get("start"), loc.get("end")))
    related = []
    if text_file:  # a claim in a material kept in its own file: point at the ad copy itself
        location = {"physicalLocation": _physical(text_file, loc.get("text_line"), loc.get("text_column"))}
        related = [{"id": 0, **yaml_location, "message": {"text": "declared in the launch description"}}]
    else:
        location = yaml_location
    text = o.message or o.title
    if o.evidence:
        text += f" Evidence: {o.evidence}"
    result: dict[str, Any] = {
        "ruleId": o.rule,
        "ruleIndex": rule_index,
        "message": {"text": xml_safe(text)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: o.finding_id},
        **({"relatedLocations": related} if related else {}),
        "properties": {"findingId": o.finding_id, "outcome": o.outcome, "severity": o.severity,
                       "subject": o.subject, "subjectKind": o.subject_kind, "jurisdiction": o.jurisdiction,
                       "domain": o.domain, "location": location_text(o.location), "why": why_text(o.why)},
    }
    if o.outcome == "needs_info":
        result["kind"] = "review"
        result["level"] = "none"
    else:
        result["kind"] = "fail"
        result["level"] = LEVEL.get(o.severity, "note")
    if o.outcome == "error":
        result["level"] = "error"
        result["properties"]["error"] = o.error
    if o.outcome == "waived":
        waiver = o.waiver or {}
        result["suppressions"] = [{
            "kind": "external", "status": "accepted",
            "justification": xml_safe(f"{waiver.get('justification', '')} (approved by {waiver.get('approver', '?')}, "
                                      f"ref {waiver.get('reference', '-')}, expires {waiver.get('expires', '-')})"),
        }]
    return result


def to_dict(report: Report, min_severity: str = "info") -> dict[str, Any]:
    floor = SEVERITY_ORDER[min_severity]
    findings = [o for o in sorted_findings(report.findings) if SEVERITY_ORDER.get(o.severity, 0) >= floor]
    truncated = len(findings) > MAX_RESULTS
    shown = findings[:MAX_RESULTS]
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for o in sorted(shown, key=lambda o: o.rule):
        if o.rule not in index:
            index[o.rule] = len(rules)
            rules.append(_rule_descriptor(o))
    notifications = [{"level": "error", "message": {"text": xml_safe(e)}} for e in report.engine_errors]
    notifications += [{"level": "warning", "message": {"text": xml_safe(w)}} for w in report.warnings]
    if truncated:
        notifications.append({"level": "warning", "message": {
            "text": f"{len(findings):,} findings; only the {MAX_RESULTS:,} most severe are in this SARIF file "
                    f"(the JSON report and the workbook have all of them)"}})
    invocation: dict[str, Any] = {"executionSuccessful": not report.engine_errors and
                                  not any(o.outcome == "error" for o in report.findings)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    uri, base = artifact_uri(report.launch_file)
    files = material_files(report)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "launch-compliance", "semanticVersion": report.tool_version,
                            "version": report.tool_version, "informationUri": INFORMATION_URI, "rules": rules}},
        "automationDetails": {"id": f"launch-compliance/{report.launch_name}/"},
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {"%SRCROOT%": {"uri": "./"}} if base else {},
        "artifacts": [{"location": {"uri": uri, **({"uriBaseId": base} if base else {})},
                       "hashes": {"sha-256": report.launch_sha256}}],
        "invocations": [invocation],
        "results": [_result(o, index[o.rule], files) for o in shown],
        "properties": {"asOf": report.as_of, "runAt": report.run_at, "jurisdictions": report.jurisdictions,
                       "packs": report.packs, "findingsSha256": findings_digest(report),
                       "totalFindings": len(findings), "truncated": truncated, "minSeverity": min_severity},
    }
    if not run["originalUriBaseIds"]:
        del run["originalUriBaseIds"]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report, min_severity: str = "info") -> str:
    return json.dumps(to_dict(report, min_severity), ensure_ascii=False, indent=2, default=str) + "\n"
