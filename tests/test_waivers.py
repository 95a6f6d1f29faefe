"""Waivers: a waived finding stays visible with its waiver; expired and unused waivers are reported; bad files stop."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import run

LAUNCH = """\
launch:
  name: Waiver check
  markets: [CN]
  launch_date: 2027-03-01
personal_data:
  collects: true
  items:
    - {id: face, name: Face image, category: biometric, sensitive: true, lawful_basis: consent, necessary: true}
  consents:
    - {id: c1, purpose: Skin analysis, covers: [face], separate: false}
"""


def audit(tmp_path: Path, waivers: str | None, *extra: str) -> subprocess.CompletedProcess:
    launch = tmp_path / "launch.yaml"
    launch.write_text(LAUNCH, encoding="utf-8")
    args = ["audit", str(launch), "--format", "json", "--no-xlsx", *extra]
    if waivers is not None:
        (tmp_path / "waivers.yaml").write_text(waivers, encoding="utf-8")
        args += ["--waivers", str(tmp_path / "waivers.yaml")]
    return run(*args)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    proc = audit(tmp_path_factory.mktemp("base"), None)
    return json.loads(proc.stdout)


def _sensitive_finding(report: dict) -> dict:
    return next(f for f in report["findings"] if f["location"]["path"] == "personal_data.items[0]"
                and f["domain"] == "data_protection" and f["outcome"] in ("fail", "waived") and "29" in f["citation"]["article"])


def _waiver(rule: str, subject: str, expires: str) -> str:
    return (f"waivers:\n  - rule: {rule}\n    subject: {subject}\n    justification: Accepted until the consent screen ships in sprint 12\n"
            f"    approver: Dana Li (DPO)\n    reference: JIRA-4711\n    expires: {expires}\n")


def test_waivers_waived_finding_stays_visible_with_its_waiver(tmp_path: Path, baseline: dict) -> None:
    target = _sensitive_finding(baseline)
    report = json.loads(audit(tmp_path, _waiver(target["rule"], target["subject"], "2027-12-31")).stdout)
    waived = next(f for f in report["findings"] if f["id"] == target["id"])
    assert waived["outcome"] == "waived"
    assert waived["waiver"]["approver"] == "Dana Li (DPO)" and waived["waiver"]["reference"] == "JIRA-4711"
    assert report["waivers"][0]["state"] == "applied"


def test_waivers_expired_waiver_no_longer_applies_and_is_reported(tmp_path: Path, baseline: dict) -> None:
    target = _sensitive_finding(baseline)
    report = json.loads(audit(tmp_path, _waiver(target["rule"], target["subject"], "2027-01-31")).stdout)
    finding = next(f for f in report["findings"] if f["id"] == target["id"])
    assert finding["outcome"] == "fail"
    assert report["waivers"][0]["state"] == "expired"
    assert any("expired" in w for w in report["warnings"])


def test_waivers_unused_waiver_is_reported(tmp_path: Path, baseline: dict) -> None:
    report = json.loads(audit(tmp_path, _waiver("CN-AD-01", "nothing-here", "2027-12-31")).stdout)
    assert report["waivers"][0]["state"] == "unused"
    assert any("matched no finding" in w for w in report["warnings"])


@pytest.mark.parametrize("text, fragment", [
    ("waivers:\n  - rule: CN-AD-01\n    approver: X\n    reference: R\n    expires: 2027-01-01\n", "missing required field 'justification'"),
    ("waivers:\n  - rule: CN-AD-01\n    justification: Because it is fine for now\n    approver: X\n    reference: R\n    expires: 2027-02-30\n", "invalid date"),
    ("waivers:\n  - rule: CN-AD-01\n    justification: Because it is fine for now\n    approver: X\n    reference: R\n    expires: 2027-01-01\n    aprover: Y\n", "unknown field 'aprover'"),
])
def test_waivers_malformed_file_stops_the_audit_with_exit_2(tmp_path: Path, text: str, fragment: str) -> None:
    proc = audit(tmp_path, text)
    assert proc.returncode == 2
    assert "waivers.yaml:" in proc.stderr and fragment in proc.stderr
    assert proc.stdout == ""
