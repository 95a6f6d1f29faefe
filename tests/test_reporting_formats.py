"""SARIF, JUnit, console summary and rule documentation."""
from __future__ import annotations

import io
import json
import textwrap
from xml.etree import ElementTree as ET

import pytest

from compliance.reporting import console, junit, sarif
from compliance.reporting.common import penalty_text
from compliance.reporting.sample import make_outcome, make_report, synthetic_report

LEVELS = {"none", "note", "warning", "error"}


def _check_sarif_structure(doc: dict) -> None:
    """The required parts of SARIF 2.1.0 (sarif-schema-2.1.0.json `required` lists) and GitHub's extras."""
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(doc["runs"], list) and doc["runs"]
    for run in doc["runs"]:
        driver = run["tool"]["driver"]
        assert isinstance(driver["name"], str) and driver["name"]
        ids = [r["id"] for r in driver["rules"]]
        assert len(ids) == len(set(ids))
        for rule in driver["rules"]:
            assert rule["shortDescription"]["text"]
            float(rule["properties"]["security-severity"])  # numeric string
            assert rule["defaultConfiguration"]["level"] in LEVELS
        for res in run["results"]:
            assert isinstance(res["message"]["text"], str) and res["message"]["text"]
            assert res["ruleId"] == ids[res["ruleIndex"]]
            assert res["level"] in LEVELS
            assert res["kind"] in {"fail", "review", "pass", "open", "notApplicable", "informational"}
            if res["kind"] != "fail":
                assert res["level"] == "none"
            assert res["partialFingerprints"]
            for loc in res["locations"]:
                phys = loc["physicalLocation"]
                assert phys["artifactLocation"]["uri"]
                if "region" in phys:
                    assert phys["region"]["startLine"] >= 1
            for sup in res.get("suppressions", []):
                assert sup["kind"] in {"inSource", "external"}
        for inv in run.get("invocations", []):
            assert isinstance(inv["executionSuccessful"], bool)


def test_sarif_structure_levels_fingerprints_and_suppressions():
    report = make_report()
    doc = json.loads(sarif.render(report))
    _check_sarif_structure(doc)
    run = doc["runs"][0]
    results = {r["partialFingerprints"][sarif.FINGERPRINT_KEY]: r for r in run["results"]}
    assert set(results) == {f.finding_id for f in report.findings}
    by_rule = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert by_rule["CN-AD-001"]["properties"]["security-severity"] == "9.5"
    assert by_rule["CN-AD-001"]["helpUri"] == "https://example.org/adlaw"
    crit = next(r for r in run["results"] if r["ruleId"] == "CN-AD-001")
    assert crit["level"] == "error"
    assert crit["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "launch.yaml", "uriBaseId": "%SRCROOT%"},
                                                         "region": {"startLine": 12}}
    waived = next(r for r in run["results"] if r["ruleId"] == "EU-DP-002")
    assert waived["suppressions"][0]["status"] == "accepted"
    assert waived["suppressions"][0]["justification"].startswith("DPA signed")
    needs = next(r for r in run["results"] if r["ruleId"] == "EU-DP-001")
    assert needs["kind"] == "review" and needs["level"] == "none"
    assert run["invocations"][0]["executionSuccessful"] is True


def test_sarif_min_severity_and_stable_output():
    report = make_report()
    doc = json.loads(sarif.render(report, "high"))
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} == {"CN-AD-001", "CN-AD-002", "EU-DP-002"}
    assert sarif.render(report) == sarif.render(report)


def test_sarif_caps_results_at_25000():
    report = synthetic_report(25_010)
    doc = sarif.to_dict(report)
    run = doc["runs"][0]
    assert len(run["results"]) == 25_000
    assert run["properties"]["truncated"] is True and run["properties"]["totalFindings"] == 25_010
    assert run["results"][0]["properties"]["severity"] == "critical"
    assert any("25,000 most severe" in n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"])


def test_sarif_points_claims_at_the_material_file():
    from compliance.report import ClaimRecord

    loc = {"file": "launches/cn/launch.yaml", "line": 40, "path": "materials[0].text_file", "material": "m1",
           "text_line": 22, "text_column": 28, "start": 100, "end": 102}
    report = make_report([make_outcome(subject_kind="claim", location=loc)], launch_file="launches/cn/launch.yaml",
                         claims=[ClaimRecord("m1", "CN", 100, 102, "祛斑", "medical", "critical", "R", 22, 28,
                                             "page.html")])
    res = sarif.to_dict(report)["runs"][0]["results"][0]
    assert res["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "launches/cn/page.html", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 22, "startColumn": 28}}
    assert res["relatedLocations"][0]["physicalLocation"]["region"] == {"startLine": 40}


def test_sarif_uris():
    assert sarif.artifact_uri("examples/cn/launch.yaml") == ("examples/cn/launch.yaml", "%SRCROOT%")
    assert sarif.artifact_uri("./launch.yaml") == ("launch.yaml", "%SRCROOT%")
    assert sarif.artifact_uri("/abs/my launch.yaml") == ("file:///abs/my%20launch.yaml", None)
    assert sarif.artifact_uri("C:\\work\\launch.yaml") == ("file:///C:/work/launch.yaml", None)


def test_sarif_engine_error_marks_the_run_unsuccessful():
    report = make_report([make_outcome(outcome="error", error="timeout", message="Could not be evaluated: timeout")],
                         engine_errors=["ruleset crashed"])
    run = sarif.to_dict(report)["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["results"][0]["level"] == "error"


def test_junit_one_testcase_per_outcome_with_failures_and_errors():
    outcomes = list(make_report().outcomes) + [make_outcome("CN-AD-007", "m9", "error", "high", error="boom",
                                                      message="Could not be evaluated: boom")]
    report = make_report(outcomes)
    root = ET.fromstring(junit.render(report, "critical"))
    cases = root.findall(".//testcase")
    assert len(cases) == len(report.outcomes)
    assert root.get("tests") == str(len(report.outcomes))
    assert root.get("failures") == "2" and root.get("errors") == "1" and root.get("skipped") == "3"
    failures = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert failures["CN-AD-001 [material: m1]"].get("type") == "critical"
    assert "advisory" in failures["CN-AD-002 [material: m1]"].get("message")  # high is below --fail-on critical
    assert "Remediation: Remove the absolute term." in failures["CN-AD-001 [material: m1]"].text
    assert [c for c in cases if c.find("error") is not None][0].get("name") == "CN-AD-007 [material: m9]"
    skipped = [c.find("skipped").get("message") for c in cases if c.find("skipped") is not None]
    assert any(m.startswith("WAIVED HIGH: waived by Legal") for m in skipped)
    assert any(m.startswith("NEEDS INFO") for m in skipped)
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))


def test_junit_is_well_formed_with_hostile_text():
    report = make_report([make_outcome(message="a\x00b <c> & \"d\" ]]>", evidence="\x1b[31mred")])
    text = junit.render(report)
    root = ET.fromstring(text)
    assert "\ufffd" in root.find(".//failure").get("message")


def _console_text(report, **kw) -> str:
    buf = io.StringIO()
    out = console.make_console(file=buf)
    console.render_console(report, kw.get("fail_on", "high"), kw.get("min_severity", "info"), kw.get("written", []),
                           console=out)
    return buf.getvalue()


def test_console_summary_has_result_counts_words_and_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("NO_COLOR", "1")
    report = make_report()
    text = _console_text(report, written=[tmp_path / "a.xlsx"])
    assert "FAIL" in text.splitlines()[0] and "2 finding(s) at or above high" in text
    assert "CRITICAL 1 · HIGH 1" in text
    assert "CN 2" in text and "advertising 2" in text
    assert "CRITICAL CN-AD-001" in text and "HIGH     CN-AD-002" in text
    assert "launch.yaml:12 (materials[0].text)" in text
    assert f"wrote {tmp_path / 'a.xlsx'}" in text
    assert "\x1b[" not in text  # NO_COLOR


def test_console_neutralises_markup_and_escape_codes(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    report = make_report([make_outcome(message="[bold red]fake[/] \x1b[2J cleared", subject_label="[link=x]s[/link]")])
    text = _console_text(report)
    assert "[bold red]fake[/]" in text and "[link=x]s[/link]" in text and "\x1b" not in text


def test_console_min_severity_and_pass():
    text = _console_text(make_report(), min_severity="critical")
    assert "CN-AD-002" not in text and "CN-AD-001" in text
    passing = make_report([make_outcome(outcome="pass")])
    assert "PASS" in _console_text(passing).splitlines()[0]


def test_progress_is_silent_off_a_tty():
    stream = io.StringIO()
    with console.progress("auditing", stream=stream):
        pass
    assert stream.getvalue() == ""


def test_penalty_text_variants():
    assert penalty_text({"min": 10000, "max": 200000, "currency": "CNY", "basis": "Art. 66"}) == \
        "10,000–200,000 CNY; basis: Art. 66"
    assert penalty_text({"max": 20_000_000, "currency": "EUR", "turnover_pct": 4, "basis": "GDPR 83(5)"}) == \
        "up to 20,000,000 EUR or up to 4% of turnover; basis: GDPR 83(5)"
    assert penalty_text({"turnover_pct": 5.0, "per": "violation", "basis": "X"}) == "up to 5% of turnover, per violation; basis: X"
    assert penalty_text(None) == ""


PACK = textwrap.dedent("""\
    pack: xx-test
    title: Test pack
    jurisdiction: CN
    domain: advertising
    version: 2026.1.0
    rules:
      - id: CN-AD-90
        title: Absolute term
        title_zh: 绝对化用语
        severity: high
        citation: {law: PRC Advertising Law, article: "9(3)", url: "https://example.org/ad"}
        penalty: {min: 200000, max: 1000000, currency: CNY, basis: "Art. 57"}
        effective_from: 2015-09-01
        rationale: Art. 9(3) bans absolute terms.
        remediation: Remove the term.
        subject: claim
        applies_when: {category: absolute}
        fail_when:
          not: {exception: {exists: true}}
        message: 'Absolute term "{subject.text}"'
        tests:
          - name: fails
            launch: {materials: [{id: m1, type: ad, market: CN, language: zh, text: 本店最佳}]}
            expect: {outcome: fail}
          - name: passes
            launch: {materials: [{id: m1, type: ad, market: CN, language: zh, text: 你好}]}
            expect: {outcome: pass}
      - id: CN-AD-91
        title: Later rule
        severity: low
        effective_from: 2030-01-01
        rationale: r
        remediation: fix
        subject: launch
        fail_when: {name: {eq: "x"}}
        message: m
        tests:
          - name: a
            launch: {launch: {name: x}}
            expect: {outcome: fail}
          - name: b
            launch: {launch: {name: y}}
            expect: {outcome: pass}
    """)


@pytest.fixture
def library(tmp_path):
    from compliance.loading.packs import Library, load_pack

    path = tmp_path / "advertising.yaml"
    path.write_text(PACK, encoding="utf-8")
    pack = load_pack(path)
    return Library({pack.id: pack})


def test_rule_catalog_entries(library):
    from compliance.reporting.rules_doc import rule_catalog

    catalog = rule_catalog(library)
    assert [e["id"] for e in catalog] == ["CN-AD-90", "CN-AD-91"]
    e = catalog[0]
    for key in ("id", "title", "title_zh", "jurisdiction", "domain", "pack", "severity", "citation", "penalty",
                "effective_from", "effective_until", "status", "subject", "tests"):
        assert key in e, key
    assert e["tests"] == 2 and e["effective_from"] == "2015-09-01" and e["citation"]["article"] == "9(3)"
    assert rule_catalog(library, "cn") == catalog and rule_catalog(library, "EU") == []
    json.dumps(catalog)  # serialisable for --format json


def test_catalog_text_rule_text_and_coverage(library):
    from compliance.reporting.rules_doc import coverage_markdown, render_catalog_text, render_rule, rule_catalog

    text = render_catalog_text(rule_catalog(library))
    assert "CN-AD-90" in text and "HIGH" in text and "from 2030-01-01" in text
    assert "2 rules in 1 packs (1 high, 1 low); 4 tests" in text
    shown = render_rule(library.rule("CN-AD-90"))
    for part in ("CN-AD-90  Absolute term", "绝对化用语", "Severity:      HIGH", "PRC Advertising Law 9(3)",
                 "200,000–1,000,000 CNY", "Fails when:", "exception:", "Remediation:", "Tests (2):",
                 "- fails: expects fail"):
        assert part in shown, part
    table = coverage_markdown(library)
    assert table.splitlines()[0] == "| Jurisdiction | advertising | Total |"
    assert "| CN | 2 | 2 |" in table and "| **Total** | 2 | **2** |" in table
