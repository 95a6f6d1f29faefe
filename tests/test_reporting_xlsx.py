"""The audit workbook: sheets, headers, rows, validation, panes, formula safety, limits, atomic writes."""
from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from openpyxl.cell.rich_text import CellRichText, TextBlock

from compliance.errors import InputError
from compliance.reporting import xlsx
from compliance.reporting.common import findings_digest
from compliance.reporting.sample import make_outcome, make_report, synthetic_report
from compliance.reporting.xlsx import REVIEW_STATUSES, REVIEWER_COLUMNS, write_workbook

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _rows(ws) -> list[tuple]:
    return [r for r in ws.iter_rows(values_only=True)]


def _table(ws) -> list[dict]:
    rows = _rows(ws)
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:] if any(v is not None for v in r)]


def _sheet_xml(path: Path, title: str) -> bytes:
    """The XML of a sheet by its title (resolved through workbook.xml and its rels)."""
    with zipfile.ZipFile(path) as z:
        wb = etree.fromstring(z.read("xl/workbook.xml"))
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        rid = next(s.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
                   for s in wb.iter("{%s}sheet" % NS["m"]) if s.get("name") == title)
        target = next(r.get("Target") for r in rels if r.get("Id") == rid)
        return z.read("xl/" + target.lstrip("/").removeprefix("xl/"))


@pytest.fixture
def book(tmp_path):
    report = make_report()
    path = tmp_path / "audit.xlsx"
    write_workbook(report, path)
    return report, path, openpyxl.load_workbook(path)


def test_all_sheets_present_with_short_titles(book):
    _, _, wb = book
    assert wb.sheetnames == ["Cover", "Summary", "Findings", "Resolved", "Claims", "Rules", "Checklist", "Upcoming",
                             "Waivers", "Inputs"]
    assert all(len(t) <= 31 for t in wb.sheetnames)


def test_findings_sheet_rows_headers_panes_filter_and_dropdown(book):
    report, _, wb = book
    ws = wb["Findings"]
    header = _rows(ws)[0]
    for h in ("Finding ID", "Rule", "Jurisdiction", "Domain", "Severity", "Outcome", "Title", "Citation", "Evidence",
              "Location", "Why", "Penalty exposure", "Remediation", "Waiver", "Change since last audit", *REVIEWER_COLUMNS):
        assert h in header, h
    rows = _table(ws)
    assert {r["Finding ID"] for r in rows} == {f.finding_id for f in report.findings}
    assert [r["Severity"] for r in rows] == ["critical", "high", "high", "medium"]  # most severe first
    assert {r["Outcome"] for r in rows} == {"fail", "needs_info", "waived"}
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}{len(rows) + 1}"
    status_col = openpyxl.utils.get_column_letter(header.index("Status") + 1)
    dvs = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(dvs) == 1
    assert dvs[0].formula1.strip('"').split(",") == list(REVIEW_STATUSES)
    assert str(dvs[0].sqref) == f"{status_col}2:{status_col}{len(rows) + 1}"
    first = rows[0]
    assert first["Citation"] == "Advertising Law of the PRC Art. 9(3) <https://example.org/adlaw>"
    assert first["Location"] == "launch.yaml:12 (materials[0].text)"
    assert first["Penalty exposure"].startswith("200,000–1,000,000 CNY")
    assert first["Why"] == "text = 最佳; launch.markets = CN"
    assert first["Status"] == "open" and first["Change since last audit"] == "new"
    waived = next(r for r in rows if r["Outcome"] == "waived")
    assert waived["Status"] == "waived" and "DPA signed" in waived["Waiver"]


def test_only_the_reviewer_sheets_are_editable(book):
    _, _, wb = book
    assert not wb["Findings"].protection.sheet and not wb["Resolved"].protection.sheet
    for title in ("Cover", "Summary", "Claims", "Rules", "Checklist", "Upcoming", "Waivers", "Inputs"):
        prot = wb[title].protection
        assert prot.sheet and prot.password is None, title
        assert prot.autoFilter is False, title  # filtering stays allowed


def test_severity_is_a_word_and_a_colour(book):
    _, _, wb = book
    ws = wb["Findings"]
    col = _rows(ws)[0].index("Severity") + 1
    cell = ws.cell(row=2, column=col)
    assert cell.value == "critical"
    assert cell.fill.fgColor.rgb.endswith("C00000")
    assert ws.cell(row=3, column=col).fill.fgColor.rgb.endswith("F4B084")


def test_cover_has_versions_hashes_digest_and_legend(book):
    report, _, wb = book
    values = [v for row in _rows(wb["Cover"]) for v in row if v is not None]
    for expected in ("FAIL", report.launch_sha256, report.findings_digest(), "launch-compliance 0.1.0",
                     "cn-advertising", "2026.1.0", "cd" * 32, "2026-12-01", "2026-12-06T03:00:00Z", "CN, EU",
                     "accepted_risk", "false_positive", "critical", "still open"):
        assert expected in values, expected
    assert {p.name: p.value for p in wb.custom_doc_props}[xlsx.WORKBOOK_MARKER] == xlsx.WORKBOOK_FORMAT


def test_summary_counts_chart_and_links(book):
    _, path, wb = book
    rows = _rows(wb["Summary"])
    header = next(r for r in rows if r[0] == "Severity")
    assert header[:3] == ("Severity", "CN", "Total")
    by_sev = {r[0]: r[1:3] for r in rows if r[0] in ("critical", "high", "medium", "low", "info")}
    assert by_sev["critical"] == (1, 1) and by_sev["high"] == (1, 1) and by_sev["medium"] == (0, 0)
    assert ("advertising", 2) in [r[:2] for r in rows]
    links = {c.value: c.hyperlink.location for row in wb["Summary"].iter_rows() for c in row if c.hyperlink}
    assert links["Findings"] == "'Findings'!A1"
    with zipfile.ZipFile(path) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())


def test_rules_sheet_is_full_coverage(book):
    report, _, wb = book
    rows = _table(wb["Rules"])
    assert len(rows) == len(report.outcomes)
    assert {r["Outcome"] for r in rows} == {"fail", "needs_info", "waived", "pass", "not_applicable"}
    assert wb["Rules"].freeze_panes == "B2"


def test_claims_sheet_highlights_spans_with_rich_text(tmp_path):
    report = make_report()
    path = tmp_path / "a.xlsx"
    write_workbook(report, path)
    ws = openpyxl.load_workbook(path, rich_text=True)["Claims"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value is not None and isinstance(c.value, CellRichText))
    blocks = [b for b in cell.value if isinstance(b, TextBlock)]
    bold = [b.text for b in blocks if b.font.b]
    assert bold == ["最好", "100%"]
    assert "".join(b.text if isinstance(b, TextBlock) else b for b in cell.value) == report.materials["m1"]
    rows = _rows(ws)
    header_at = next(i for i, r in enumerate(rows) if r[:3] == ("Material", "Severity", "Matched text"))
    claim_rows = [dict(zip(rows[header_at], r)) for r in rows[header_at + 1:] if r[0]]
    assert [(c["Matched text"], c["Severity"], c["Rule"], c["Line"], c["Column"]) for c in claim_rows] == [
        ("最好", "critical", "CN-CLAIM-ABS", 1, 3), ("100%", "high", "CN-CLAIM-EFF", 1, 9)]
    assert claim_rows[0]["Suggestion"] == "use 优质" and claim_rows[0]["Context"] == "这是 | 的面霜"


def test_overlapping_claim_spans_take_the_highest_severity():
    from compliance.report import ClaimRecord

    def claim(a, b, sev):
        return ClaimRecord("m", "CN", a, b, "", "c", sev, "R", None, None, None)

    spans = xlsx._spans(10, [claim(2, 6, "low"), claim(4, 8, "critical"), claim(20, 30, "high")])
    assert spans == [(0, 2, None), (2, 4, "low"), (4, 8, "critical"), (8, 10, None)]


def test_checklist_upcoming_waivers_inputs(book):
    report, _, wb = book
    cl = _rows(wb["Checklist"])
    assert ("legal", "not_ready", 2, 1, 0, 1) in [r[:6] for r in cl]
    plan_header = next(i for i, r in enumerate(cl) if r[0] == "Source")
    plan = [dict(zip(cl[plan_header], r)) for r in cl[plan_header + 1:] if r[0] in ("action item", "finding")]
    assert plan[0]["Ref"] == "A1" and plan[0]["Owner"] == "Ann"
    assert {p["Ref"] for p in plan[1:]} == {f.finding_id for f in report.findings if f.outcome in ("fail", "needs_info")}
    assert _table(wb["Upcoming"])[0]["Rule"] == "EU-AI-001"
    waivers = _table(wb["Waivers"])
    assert [(w["Rule"], w["State"], w["Expiry"]) for w in waivers] == [("EU-DP-002", "applied", "2027-01-01"),
                                                                      ("UK-AD-009", "expired", "2025-01-01")]
    assert _table(wb["Inputs"])[0] == {"Field path": "launch.name", "Value": "Demo launch", "Line": 2}


HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)",
           "\t=tab", "\r=cr", "#N/A", "#DIV/0!", "=", "<b>&amp;</b>"]


def test_untrusted_text_never_becomes_a_formula(tmp_path):
    outcomes = [make_outcome("CN-AD-001", f"s{i}", evidence=text, message=text, title=text, subject_label=text,
                             remediation=text) for i, text in enumerate(HOSTILE)]
    report = make_report(outcomes, inputs=[(f"p{i}", t, i) for i, t in enumerate(HOSTILE)],
                         materials={f"m{i}": t for i, t in enumerate(HOSTILE)}, launch_name="=cmd()")
    path = tmp_path / "hostile.xlsx"
    write_workbook(report, path)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                root = etree.fromstring(z.read(name))
                assert not root.findall(".//m:f", NS), f"formula element in {name}"
                assert not [c for c in root.iter("{%s}c" % NS["m"]) if c.get("t") in ("e", "str")], name
    seen = 0
    for title in ("Findings", "Inputs", "Claims", "Cover"):
        root = etree.fromstring(_sheet_xml(path, title))
        for c in root.iter("{%s}c" % NS["m"]):
            text = "".join(c.itertext())
            if text[:1] in ("=", "+", "-", "@", "\t", "\r", "#"):
                assert c.get("t") in ("inlineStr", "s"), (title, text, c.get("t"))
                seen += 1
    assert seen >= 4 * len(HOSTILE)
    ws = openpyxl.load_workbook(path)["Findings"]
    col = _rows(ws)[0].index("Evidence") + 1
    got = {ws.cell(row=r, column=col).value for r in range(2, ws.max_row + 1)}
    assert got == set(HOSTILE)  # exact text, tab and CR included
    assert all(ws.cell(row=r, column=col).data_type == "s" for r in range(2, ws.max_row + 1))


def test_control_characters_are_replaced_visibly(tmp_path):
    bad = "a\x00b\x1bc\x08d\ud800e\uffff"
    report = make_report([make_outcome(evidence=bad, message=bad)], materials={"m1": bad}, claims=[])
    path = tmp_path / "ctrl.xlsx"
    write_workbook(report, path)
    wb = openpyxl.load_workbook(path)
    row = _table(wb["Findings"])[0]
    assert row["Evidence"] == "a\ufffdb\ufffdc\ufffdd\ufffde\ufffd"
    assert wb["Claims"]["C3"].value == "a\ufffdb\ufffdc\ufffdd\ufffde\ufffd"


@pytest.mark.parametrize("unit, n", [("x", 40_000), ("😀", 20_000)])
def test_overlong_text_is_truncated_with_a_marker(tmp_path, unit, n):
    text = unit * n
    report = make_report([make_outcome(evidence=text)], materials={"m1": text}, claims=[])
    path = tmp_path / "long.xlsx"
    write_workbook(report, path)
    wb = openpyxl.load_workbook(path)
    value = _table(wb["Findings"])[0]["Evidence"]
    assert value.endswith(f"[truncated: {n:,} chars, full text in JSON]")
    assert len(value.encode("utf-16-le")) // 2 <= 32767
    assert value.startswith(unit * 100)
    material = wb["Claims"]["C3"].value
    assert "truncated" in material and len(material.encode("utf-16-le")) // 2 <= 32767


def test_digest_helper_matches_the_report():
    for report in (make_report(), make_report(outcomes=[]), synthetic_report(30)):
        assert findings_digest(report) == report.findings_digest()


def test_reviewer_dates_survive_as_dates(tmp_path):
    path = tmp_path / "d.xlsx"
    write_workbook(make_report(), path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Findings"]
    header = _rows(ws)[0]
    ws.cell(row=2, column=header.index("Due date") + 1).value = dt.datetime(2027, 1, 15)
    wb.save(path)
    write_workbook(make_report(), path)
    cell = openpyxl.load_workbook(path)["Findings"].cell(row=2, column=header.index("Due date") + 1)
    assert cell.value == dt.datetime(2027, 1, 15) and cell.is_date


def _leftover_temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def _row_files() -> set[str]:
    return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("lc-rows-")}


@pytest.fixture(autouse=True)
def _private_tempdir(tmp_path_factory, monkeypatch):
    """Row scratch files go to a folder of this test's own, so parallel workers cannot be mistaken for leftovers."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("scratch")))


def test_atomic_write_keeps_the_old_workbook_when_saving_fails(tmp_path, monkeypatch):
    path = tmp_path / "audit.xlsx"
    write_workbook(make_report(), path)
    before = path.read_bytes()
    rows_before = _row_files()
    from openpyxl.writer.excel import ExcelWriter

    real = ExcelWriter.write_worksheet
    calls = {"n": 0}

    def failing(self, ws):
        calls["n"] += 1
        if calls["n"] == 4:  # midway: three sheets are already in the new zip
            raise OSError(28, "No space left on device")
        return real(self, ws)

    monkeypatch.setattr(ExcelWriter, "write_worksheet", failing)
    changed = make_report([make_outcome("CN-AD-009", "zz")])
    with pytest.raises(OSError):
        write_workbook(changed, path)
    assert calls["n"] == 4
    assert path.read_bytes() == before
    assert _leftover_temp_files(tmp_path) == []
    assert _row_files() <= rows_before
    monkeypatch.undo()
    write_workbook(changed, path)  # and the next run works
    assert _table(openpyxl.load_workbook(path)["Findings"])[0]["Rule"] == "CN-AD-009"


def test_atomic_write_keeps_the_old_workbook_when_building_fails(tmp_path, monkeypatch):
    path = tmp_path / "audit.xlsx"
    write_workbook(make_report(), path)
    before = path.read_bytes()
    monkeypatch.setattr(xlsx, "_write_rules", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        write_workbook(make_report(), path)
    assert path.read_bytes() == before and _leftover_temp_files(tmp_path) == []


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04 broken zip"])
def test_existing_file_that_is_not_a_workbook_is_left_alone(tmp_path, content):
    path = tmp_path / "audit.xlsx"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        write_workbook(make_report(), path)
    assert err.value.exit_code == 2
    assert "E410" in str(err.value) and str(path) in str(err.value)
    assert path.read_bytes() == content
    assert _leftover_temp_files(tmp_path) == []


def test_foreign_xlsx_is_refused(tmp_path):
    path = tmp_path / "budget.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "my budget"
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(InputError, match="no Findings sheet"):
        write_workbook(make_report(), path)
    assert path.read_bytes() == before


def test_missing_previous_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_workbook(make_report(), tmp_path / "new.xlsx", previous=tmp_path / "nope.xlsx")
    assert not (tmp_path / "new.xlsx").exists()


def test_written_file_keeps_normal_permissions(tmp_path):
    path = tmp_path / "perm.xlsx"
    write_workbook(make_report(), path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_empty_report_still_makes_a_complete_workbook(tmp_path):
    path = tmp_path / "empty.xlsx"
    write_workbook(make_report([], claims=[], materials={}, inputs=[], waivers=[], upcoming=[], checklist=[],
                               action_items=[]), path)
    wb = openpyxl.load_workbook(path)
    assert len(_rows(wb["Findings"])) == 1
    assert "PASS" in [v for r in _rows(wb["Cover"]) for v in r]


def test_scales_linearly_small_bench(tmp_path):
    """A smoke version of bench/workbook_bench.py: 2,000 findings stream through fine."""
    report = synthetic_report(2000)
    path = tmp_path / "bench.xlsx"
    write_workbook(report, path)
    ws = openpyxl.load_workbook(path, read_only=True)["Findings"]
    assert sum(1 for _ in ws.iter_rows(values_only=True)) == 2001
    assert re.fullmatch(r"[0-9a-f]{64}", findings_digest(report))


def test_fast_reader_agrees_with_openpyxl(tmp_path):
    from openpyxl.cell.text import InlineFont

    from compliance.reporting.xlsx_read import XlsxReader

    path = tmp_path / "types.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Findings"
    ws.append(["text", 1, 2.5, True, dt.datetime(2027, 1, 2), dt.datetime(2027, 1, 2, 13, 30), "=1+2", "1e3"])
    ws.append([])
    ws.append([None, None, "gap before", -7, 0.1, False])
    ws["A5"] = CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold")])
    ws["C5"] = "  spaced  "
    ws["D5"] = "中文 & <xml>"
    wb.save(path)
    expected = [list(r) for r in openpyxl.load_workbook(path).active.iter_rows(values_only=True)]
    with XlsxReader(path) as reader:
        got = list(reader.rows("Findings"))
    width = len(expected[0])
    got = [r + [None] * (width - len(r)) for r in got]
    assert got == expected


def test_rules_sheet_collapses_not_applicable_rows_on_huge_launches(tmp_path, monkeypatch):
    import compliance.reporting.xlsx as xlsx

    report = make_report()
    na = [o for o in report.outcomes if o.outcome == "not_applicable"]
    if not na:
        pytest.skip("sample report has no not-applicable outcome")
    monkeypatch.setattr(xlsx, "RULES_SHEET_DETAIL_LIMIT", 0)
    path = tmp_path / "audit.xlsx"
    write_workbook(report, path)
    rows = _table(openpyxl.load_workbook(path)["Rules"])
    na_rows = [r for r in rows if r["Outcome"] == "not_applicable"]
    assert len(na_rows) == len({o.rule for o in na})
    assert all("subjects (listed in the JSON report)" in r["Subject"] for r in na_rows)
    assert len([r for r in rows if r["Outcome"] != "not_applicable"]) == len(report.outcomes) - len(na)
