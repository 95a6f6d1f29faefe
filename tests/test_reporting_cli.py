"""The output layer through the CLI: side outputs, the workbook path guard, --previous, rules list/show."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import openpyxl
import pytest

from .cli_runner import run

LAUNCH = textwrap.dedent("""\
    launch:
      name: CLI tea launch
      markets: [CN]
      launch_date: 2026-11-11
    materials:
      - id: m1
        type: ad
        market: CN
        language: zh
        text: 本店最佳夜宵，全城第一
    """)


@pytest.fixture
def launch(tmp_path: Path) -> Path:
    path = tmp_path / "launch.yaml"
    path.write_text(LAUNCH, encoding="utf-8")
    return path


def test_audit_writes_workbook_and_side_outputs(launch: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("audit", str(launch), "--xlsx", str(out / "a.xlsx"), "--sarif-out", str(out / "a.sarif"),
                 "--junit-out", str(out / "a.xml"), "--format", "none", "--fail-on", "critical")
    assert result.returncode in (0, 1), result.stderr
    assert openpyxl.load_workbook(out / "a.xlsx").sheetnames[:3] == ["Cover", "Summary", "Findings"]
    assert json.loads((out / "a.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert (out / "a.xml").read_text(encoding="utf-8").startswith("<?xml")
    assert sorted(p.name for p in out.iterdir()) == ["a.sarif", "a.xlsx", "a.xml"]  # no temp files left


def test_audit_refuses_to_replace_a_file_that_is_not_its_workbook(launch: Path, tmp_path: Path) -> None:
    target = tmp_path / "budget.xlsx"
    target.write_bytes(b"someone else's spreadsheet")
    result = run("audit", str(launch), "--xlsx", str(target), "--format", "none")
    assert result.returncode == 2
    assert "E410" in result.stderr and str(target) in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_bytes() == b"someone else's spreadsheet"


def test_audit_previous_carries_entries(launch: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.xlsx"
    run("audit", str(launch), "--xlsx", str(first), "--format", "none")
    wb = openpyxl.load_workbook(first)
    ws = wb["Findings"]
    header = [c.value for c in ws[1]]
    if ws.max_row < 2:
        pytest.skip("the rule packs report no finding for this launch")
    ws.cell(row=2, column=header.index("Comment") + 1, value="checked by legal")
    fid = ws.cell(row=2, column=1).value
    wb.save(first)
    second = tmp_path / "second.xlsx"
    result = run("audit", str(launch), "--xlsx", str(second), "--previous", str(first), "--format", "none")
    assert result.returncode in (0, 1), result.stderr
    rows = {r[0]: dict(zip(header, r)) for r in openpyxl.load_workbook(second)["Findings"].iter_rows(min_row=2, values_only=True)}
    assert rows[fid]["Comment"] == "checked by legal"


def test_missing_previous_exits_2(launch: Path, tmp_path: Path) -> None:
    result = run("audit", str(launch), "--xlsx", str(tmp_path / "a.xlsx"), "--previous", str(tmp_path / "nope.xlsx"),
                 "--format", "none")
    assert result.returncode == 2 and "E411" in result.stderr
    assert not (tmp_path / "a.xlsx").exists()


def test_rules_list_and_show() -> None:
    listed = run("rules", "list", "--format", "json", "--jurisdiction", "CN")
    assert listed.returncode == 0, listed.stderr
    catalog = json.loads(listed.stdout)
    assert catalog and all(e["jurisdiction"] == "CN" for e in catalog)
    assert {"id", "title", "severity", "citation", "penalty", "tests", "effective_from"} <= set(catalog[0])
    shown = run("rules", "show", catalog[0]["id"])
    assert shown.returncode == 0 and catalog[0]["id"] in shown.stdout and "Fails when:" in shown.stdout
    text = run("rules", "list")
    assert text.returncode == 0 and " rules in " in text.stdout
