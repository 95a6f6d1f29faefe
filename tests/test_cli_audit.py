"""Golden CLI tests: exit codes, the JSON report surface, validate/schema/init/rules, as a user runs them."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(ROOT.glob("examples/*/launch.yaml"))

CLEAN_LAUNCH = """\
launch:
  name: Quiet launch
  markets: [CN]
  launch_date: 2027-03-01
"""

FAILING_LAUNCH = """\
launch:
  name: Loud launch
  markets: [CN]
  launch_date: 2027-03-01
  audience: {min_age: 10, includes_minors: true}
personal_data:
  collects: true
  items:
    - {id: face, name: Face image, category: biometric, sensitive: true, lawful_basis: consent, necessary: true}
  consents:
    - {id: c1, purpose: Skin analysis, covers: [face], separate: false}
"""


from tests.cli_runner import run  # noqa: E402


@pytest.fixture()
def failing_launch(tmp_path: Path) -> Path:
    path = tmp_path / "launch.yaml"
    path.write_text(FAILING_LAUNCH, encoding="utf-8")
    return path


def test_cli_audit_json_report_has_the_documented_shape(failing_launch: Path, tmp_path: Path) -> None:
    proc = run("audit", str(failing_launch), "--format", "json", "--xlsx", str(tmp_path / "out.xlsx"))
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert {"schema_version", "launch", "as_of", "summary", "findings", "outcomes"} <= set(report)
    assert report["as_of"] == "2027-03-01"
    finding = next(f for f in report["findings"] if f["rule"] == "CN-DP-05" or f["outcome"] == "fail")
    assert {"id", "rule", "jurisdiction", "domain", "severity", "outcome", "title", "message", "citation", "location",
            "evidence", "why", "penalty", "remediation"} <= set(finding)
    assert {"law", "article", "url"} <= set(finding["citation"])
    assert finding["location"]["file"].endswith("launch.yaml") and finding["location"]["line"]
    assert (tmp_path / "out.xlsx").is_file()


def test_cli_audit_flags_sensitive_data_without_separate_consent(failing_launch: Path) -> None:
    report = json.loads(run("audit", str(failing_launch), "--format", "json", "--no-xlsx").stdout)
    sensitive = [f for f in report["findings"] if f["outcome"] == "fail" and f["location"]["path"] == "personal_data.items[0]"
                 and f["jurisdiction"] == "CN" and f["domain"] == "data_protection"]
    assert sensitive, "sensitive face data with a bundled consent must fail a PIPL rule"
    assert any("29" in f["citation"]["article"] for f in sensitive)


def test_cli_audit_exit_code_follows_fail_on(failing_launch: Path) -> None:
    report = json.loads(run("audit", str(failing_launch), "--format", "json", "--no-xlsx").stdout)
    worst = max((f for f in report["findings"] if f["outcome"] == "fail"),
                key=lambda f: ["info", "low", "medium", "high", "critical"].index(f["severity"]))
    assert worst["severity"] == "critical"
    # Nothing is above critical, so --fail-on critical still fails; findings never make exit 0 at their own level.
    assert run("audit", str(failing_launch), "--format", "none", "--no-xlsx", "--fail-on", "critical").returncode == 1


def test_cli_audit_clean_enough_launch_exits_zero_with_fail_on_critical(tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text(CLEAN_LAUNCH, encoding="utf-8")
    proc = run("audit", str(path), "--format", "json", "--no-xlsx", "--fail-on", "critical")
    report = json.loads(proc.stdout)
    critical = [f for f in report["findings"] if f["outcome"] == "fail" and f["severity"] == "critical"]
    assert proc.returncode == (1 if critical else 0)
    assert report["summary"]["result"] == ("fail" if critical else "pass")


def test_cli_audit_bad_input_exits_2_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text("launch:\n  name: x\n  markets: [CN]\n  lanch_date: 2027-01-01\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    proc = run("audit", str(path), "--xlsx", str(out))
    assert proc.returncode == 2
    assert f"{path}:4" in proc.stderr and "did you mean 'launch_date'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_audit_unknown_market_is_rejected_with_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text("launch:\n  name: x\n  markets: [CN, UK, US-CAL]\n", encoding="utf-8")
    proc = run("validate", str(path))
    assert proc.returncode == 2
    assert f"{path}:3" in proc.stderr and "unknown market 'US-CAL'" in proc.stderr


def test_cli_usage_error_exits_2() -> None:
    assert run("audit", "--no-such-option").returncode == 2
    assert run("no-such-command").returncode == 2


def test_cli_as_of_decides_which_rules_are_in_force(failing_launch: Path) -> None:
    early = json.loads(run("audit", str(failing_launch), "--format", "json", "--no-xlsx", "--as-of", "2015-01-01").stdout)
    late = json.loads(run("audit", str(failing_launch), "--format", "json", "--no-xlsx").stdout)
    assert len(early["outcomes"]) < len(late["outcomes"])
    assert early["upcoming"], "rules not yet in force on --as-of are reported as upcoming"
    assert all(u["effective_from"] > "2015-01-01" for u in early["upcoming"])


def test_cli_schema_is_json_schema_of_the_launch_description() -> None:
    schema = json.loads(run("schema").stdout)
    assert "launch" in schema["properties"] and "materials" in schema["properties"]
    assert schema["additionalProperties"] is False


def test_cli_init_writes_a_valid_starter(tmp_path: Path) -> None:
    proc = run("init", "--market", "CN", "--market", "DE", "-o", str(tmp_path / "launch.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert run("validate", str(tmp_path / "launch.yaml")).returncode == 0
    assert run("init", "--market", "CN", "-o", str(tmp_path / "launch.yaml")).returncode == 2  # no silent overwrite


def test_cli_rules_list_json_lists_every_rule_with_citation_and_tests() -> None:
    proc = run("rules", "list", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rules = json.loads(proc.stdout)
    assert len(rules) >= 160
    for rule in rules:
        assert rule["tests"] >= 2
        if rule["severity"] in ("critical", "high"):
            assert rule["citation"]["article"]


def test_cli_rules_show_unknown_rule_suggests(tmp_path: Path) -> None:
    proc = run("rules", "show", "CN-AD-1")
    assert proc.returncode == 2 and "CN-AD-01" in proc.stderr


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_cli_bundled_examples_audit_into_a_workbook(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.xlsx"
    proc = run("audit", str(example), "--format", "json", "--xlsx", str(out))
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert not report["engine_errors"]
    assert not [o for o in report["outcomes"] if o["outcome"] == "error"]
    assert report["summary"]["outcomes"]["pass"] > 0 and report["summary"]["outcomes"]["fail"] > 0
    assert out.is_file()
