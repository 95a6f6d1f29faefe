"""One audit through the real engine, then every output: workbook, JSON, SARIF, JUnit, console."""
from __future__ import annotations

import io
import json
import textwrap
from xml.etree import ElementTree as ET

import openpyxl
import pytest

LAUNCH = textwrap.dedent("""\
    launch:
      name: E2E tea launch
      markets: [CN]
      launch_date: 2026-11-11
    materials:
      - id: m1
        type: ad
        market: CN
        language: zh
        text: "=HYPERLINK(\\"http://x\\") 本店最佳夜宵，全城第一"
    """)


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    from compliance.audit import run_audit

    tmp = tmp_path_factory.mktemp("e2e")
    launch = tmp / "launch.yaml"
    launch.write_text(LAUNCH, encoding="utf-8")
    return tmp, run_audit(launch)


def test_audit_to_every_output(audited):
    from compliance.reporting import console, outputs

    tmp, report = audited
    assert report.findings, "the example should produce findings"
    paths = dict(xlsx=tmp / "a.xlsx", json_path=tmp / "a.json", sarif=tmp / "a.sarif", junit=tmp / "a.xml")
    written = outputs.write_all(report, previous=None, fail_on="high", min_severity="info", **paths)
    assert written == list(paths.values())

    wb = openpyxl.load_workbook(paths["xlsx"])
    rows = list(wb["Findings"].iter_rows(values_only=True))
    assert {r[0] for r in rows[1:]} == {f.finding_id for f in report.findings}
    assert len(list(wb["Rules"].iter_rows())) == len(report.outcomes) + 1
    cover = [v for r in wb["Cover"].iter_rows(values_only=True) for v in r if v]
    assert report.findings_digest() in cover and report.launch_sha256 in cover
    claims = [v for r in wb["Claims"].iter_rows(values_only=True) for v in r if v]
    assert report.materials["m1"] in claims  # the ad text, formula-looking start and all, stays text
    if report.claims:
        assert any(c.text in claims for c in report.claims)

    data = json.loads(paths["json_path"].read_text(encoding="utf-8"))
    assert data["summary"]["findings_sha256"] == report.findings_digest()
    doc = json.loads(paths["sarif"].read_text(encoding="utf-8"))
    assert len(doc["runs"][0]["results"]) == len(report.findings)
    root = ET.fromstring(paths["junit"].read_text(encoding="utf-8"))
    assert int(root.get("tests")) == len(report.outcomes)

    buf = io.StringIO()
    console.render_console(report, "high", "info", written, console=console.make_console(file=buf))
    assert report.result("high").upper() in buf.getvalue().splitlines()[0]


def test_re_audit_keeps_reviewer_entries(audited):
    from compliance.reporting.xlsx import write_workbook

    tmp, report = audited
    path = tmp / "review.xlsx"
    write_workbook(report, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Findings"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("Owner") + 1, value="Marketing lead")
    fid = ws.cell(row=2, column=1).value
    wb.save(path)
    write_workbook(report, path)
    rows = {r[0]: dict(zip(header, r)) for r in openpyxl.load_workbook(path)["Findings"].iter_rows(min_row=2, values_only=True)}
    assert rows[fid]["Owner"] == "Marketing lead"
    assert rows[fid]["Change since last audit"] == "still open"
