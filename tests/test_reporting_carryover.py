"""Reviewer work survives re-audits: entries carried by finding id, new / still open / resolved / reopened."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from compliance.reporting.sample import make_outcome, make_report
from compliance.reporting.xlsx import write_workbook

A = make_outcome("CN-AD-001", "m1", "fail", "critical")
B = make_outcome("CN-AD-002", "m1", "fail", "high")
C = make_outcome("EU-DP-001", "d1", "needs_info", "medium", jurisdiction="EU", domain="data_protection")
D = make_outcome("EU-DP-009", "d2", "fail", "low", jurisdiction="EU", domain="data_protection")


def _report(*outcomes, run_at="2026-12-06T03:00:00Z"):
    return make_report(list(outcomes), run_at=run_at)


def _sheet(path: Path, title: str) -> dict[str, dict]:
    ws = openpyxl.load_workbook(path)[title]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    return {r[0]: dict(zip(header, r)) for r in rows[1:] if r[0] is not None}


def _review(path: Path, entries: dict[str, dict], sheet: str = "Findings", new_columns: tuple[str, ...] = ()) -> None:
    """Edit the workbook as a reviewer would: open it, type into cells, save."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    for name in new_columns:
        ws.cell(row=1, column=len(header) + 1, value=name)
        header.append(name)
    for row in ws.iter_rows(min_row=2):
        fid = row[0].value
        for column, value in entries.get(fid, {}).items():
            ws.cell(row=row[0].row, column=header.index(column) + 1, value=value)
    wb.save(path)


ENTRIES_A = {"Status": "in_progress", "Owner": "Li Wei", "Due date": dt.datetime(2027, 1, 31), "Reviewer": "M. Keller",
             "Sign-off date": dt.datetime(2026, 12, 10), "Comment": "Copy being rewritten; see ticket MKT-12",
             "Legal note": "ask outside counsel"}
ENTRIES_B = {"Status": "fixed", "Owner": "Anna", "Comment": "=looks like a formula but is a note",
             "Reviewer": "J. Doe"}


def test_entries_carried_new_still_open_and_resolved(tmp_path):
    path = tmp_path / "audit.xlsx"
    write_workbook(_report(A, B, C), path)
    _review(path, {A.finding_id: ENTRIES_A, B.finding_id: ENTRIES_B}, new_columns=("Legal note",))

    # Re-audit of a changed launch: B is fixed (gone), D is new, A and C remain.
    write_workbook(_report(A, C, D, run_at="2026-12-20T09:00:00Z"), path)
    findings = _sheet(path, "Findings")
    assert set(findings) == {A.finding_id, C.finding_id, D.finding_id}
    a = findings[A.finding_id]
    for column, value in ENTRIES_A.items():
        assert a[column] == value, column
    assert a["Change since last audit"] == "still open"
    assert findings[C.finding_id]["Change since last audit"] == "still open"
    assert findings[C.finding_id]["Status"] == "open"
    d = findings[D.finding_id]
    assert d["Change since last audit"] == "new" and d["Status"] == "open" and d["Owner"] is None
    resolved = _sheet(path, "Resolved")
    assert set(resolved) == {B.finding_id}
    b = resolved[B.finding_id]
    for column, value in ENTRIES_B.items():
        assert b[column] == value, column
    assert b["Change since last audit"] == "resolved"
    assert b["Resolved in audit"] == "2026-12-20T09:00:00Z"
    assert b["Rule"] == "CN-AD-002" and b["Severity"] == "high"  # the finding as it was last seen


def test_entries_survive_two_re_audits_and_come_back_when_reopened(tmp_path):
    path = tmp_path / "audit.xlsx"
    write_workbook(_report(A, B), path)
    _review(path, {A.finding_id: {"Owner": "Li Wei", "Comment": "first"}, B.finding_id: ENTRIES_B})
    write_workbook(_report(A, run_at="2026-12-10T00:00:00Z"), path)  # B resolved
    # The reviewer keeps working in the Resolved sheet too.
    _review(path, {B.finding_id: {"Comment": "verified fixed in v2", "Sign-off date": dt.datetime(2026, 12, 11)}},
            sheet="Resolved")
    write_workbook(_report(C, run_at="2026-12-15T00:00:00Z"), path)  # A resolved too; B stays resolved
    resolved = _sheet(path, "Resolved")
    assert set(resolved) == {A.finding_id, B.finding_id}
    assert resolved[B.finding_id]["Comment"] == "verified fixed in v2"
    assert resolved[B.finding_id]["Owner"] == "Anna" and resolved[B.finding_id]["Status"] == "fixed"
    assert resolved[B.finding_id]["Resolved in audit"] == "2026-12-10T00:00:00Z"  # when it first went away
    assert resolved[A.finding_id]["Owner"] == "Li Wei" and resolved[A.finding_id]["Comment"] == "first"
    assert resolved[A.finding_id]["Resolved in audit"] == "2026-12-15T00:00:00Z"

    write_workbook(_report(B, C, run_at="2026-12-30T00:00:00Z"), path)  # B regresses
    findings = _sheet(path, "Findings")
    b = findings[B.finding_id]
    assert b["Change since last audit"] == "reopened"
    assert b["Comment"] == "verified fixed in v2" and b["Owner"] == "Anna" and b["Status"] == "fixed"
    assert set(_sheet(path, "Resolved")) == {A.finding_id}


def test_reviewer_formula_is_kept_as_text_never_evaluated(tmp_path):
    path = tmp_path / "audit.xlsx"
    write_workbook(_report(A), path)
    _review(path, {A.finding_id: {"Comment": "=1+1"}})
    write_workbook(_report(A), path)
    ws = openpyxl.load_workbook(path)["Findings"]
    col = [c.value for c in ws[1]].index("Comment") + 1
    assert ws.cell(row=2, column=col).value == "=1+1"
    assert ws.cell(row=2, column=col).data_type == "s"


def test_explicit_previous_workbook(tmp_path):
    old = tmp_path / "old.xlsx"
    new = tmp_path / "new.xlsx"
    write_workbook(_report(A, B), old)
    _review(old, {A.finding_id: {"Owner": "Li Wei"}})
    before = old.read_bytes()
    write_workbook(_report(A), new, previous=old)
    assert _sheet(new, "Findings")[A.finding_id]["Owner"] == "Li Wei"
    assert set(_sheet(new, "Resolved")) == {B.finding_id}
    assert old.read_bytes() == before


def test_rows_a_reviewer_added_are_kept(tmp_path):
    path = tmp_path / "audit.xlsx"
    write_workbook(_report(A), path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Findings"]
    header = [c.value for c in ws[1]]
    ws.cell(row=5, column=header.index("Comment") + 1, value="general note: review all CN copy again")
    wb.save(path)
    write_workbook(_report(A), path)
    resolved = list(openpyxl.load_workbook(path)["Resolved"].iter_rows(values_only=True))
    assert any("general note: review all CN copy again" in r for r in resolved[1:])


def test_reviewer_columns_can_be_moved(tmp_path):
    path = tmp_path / "audit.xlsx"
    write_workbook(_report(A), path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Findings"]
    ws.insert_cols(2)  # a reviewer inserts a column before Rule
    ws.cell(row=1, column=2, value="Priority")
    ws.cell(row=2, column=2, value="P1")
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("Owner") + 1, value="Li Wei")
    wb.save(path)
    write_workbook(_report(A), path)
    a = _sheet(path, "Findings")[A.finding_id]
    assert a["Owner"] == "Li Wei" and a["Priority"] == "P1"


def test_previous_without_reviewer_columns_is_refused(tmp_path):
    from compliance.errors import InputError

    path = tmp_path / "audit.xlsx"
    write_workbook(_report(A), path)
    wb = openpyxl.load_workbook(path)
    wb["Findings"].delete_cols(1)  # Finding ID column gone
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(InputError, match="lacks the column"):
        write_workbook(_report(A), path)
    assert path.read_bytes() == before


def test_cover_names_the_previous_audit_and_warns_on_another_launch(tmp_path):
    old = tmp_path / "old.xlsx"
    write_workbook(make_report([A], launch_name="Other launch", run_at="2026-11-01T00:00:00Z"), old)
    new = tmp_path / "new.xlsx"
    write_workbook(_report(A), new, previous=old)
    cover = {r[0]: r[1] for r in openpyxl.load_workbook(new)["Cover"].iter_rows(values_only=True) if r[0]}
    assert "audit of 2026-11-01T00:00:00Z" in cover["Previous workbook"]
    assert "'Other launch'" in cover["Warning"]


def test_unwritable_target_is_a_clear_error(tmp_path, monkeypatch):
    import os

    from compliance.errors import InputError

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", deny)
    with pytest.raises(InputError, match="E412"):
        write_workbook(_report(A), tmp_path / "locked.xlsx")
    assert list(tmp_path.iterdir()) == []
