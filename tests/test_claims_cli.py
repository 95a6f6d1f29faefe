"""The `compliance claims` command: formats, exit codes, JSONL batch (our own cases in claims_cases/)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli_claims import claims

CASES = Path(__file__).parent / "claims_cases"


@pytest.fixture(scope="module")
def run():
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(claims, list(args), input=input, catch_exceptions=False)

    return invoke


def test_cli_claims_html_json_has_file_line_column(run):
    result = run(str(CASES / "product_page.html"), "-j", "UK", "--format", "json")
    assert result.exit_code == 1  # "cures" is a high finding; --fail-on defaults to high
    findings = json.loads(result.stdout)["findings"]
    cures = next(f for f in findings if f["text"] == "cures")
    assert (cures["line"], cures["column"]) == (10, 19)
    assert cures["file"].endswith("product_page.html") and cures["rule"] == "UK-AD-02"
    for key in ("start", "end", "category", "severity", "citation", "explanation", "suggestion"):
        assert key in cures
    assert not any("headline" in f["text"] for f in findings)


def test_cli_claims_markdown_text_output(run):
    result = run(str(CASES / "launch_copy.md"), "-j", "US", "--fail-on", "medium")
    assert result.exit_code == 1
    assert "launch_copy.md:5:3:" in result.stdout and "US-AD-05a" in result.stdout


def test_cli_claims_exit_zero_below_fail_on_and_stdin(run):
    result = run("-", "-j", "UK", input="A comfortable cotton shirt.\n")
    assert result.exit_code == 0 and "0 finding(s)" in result.stdout
    result = run("-", "-j", "UK", "--fail-on", "never", input="It cures acne\n")
    assert result.exit_code == 0


def test_cli_claims_usage_and_input_errors_exit_2(run):
    assert run().exit_code == 2
    assert run(str(CASES / "launch_copy.md")).exit_code == 2  # no --jurisdiction
    result = run("no/such/file.txt", "-j", "UK")
    assert result.exit_code == 2 and "no/such/file.txt" in result.stderr and "Traceback" not in result.stderr
    result = run(str(CASES / "launch_copy.md"), "-j", "JP")
    assert result.exit_code == 2 and "JP" in result.stderr


def test_cli_claims_internal_error_exit_3(run, monkeypatch):
    import compliance.cli_claims as module

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "_detector", broken)
    result = run("-", "-j", "UK", input="x")
    assert result.exit_code == 3 and "boom" in result.stderr and "Traceback" not in result.stderr


def test_cli_claims_jsonl_batch_with_malformed_and_unsupported_lines(run, tmp_path):
    out = tmp_path / "out.jsonl"
    result = run("--input-jsonl", str(CASES / "batch.jsonl"), "--output", str(out))
    assert result.exit_code == 2  # malformed lines, reported at the end
    assert "batch.jsonl:4:" in result.stderr and "batch.jsonl:6:" in result.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_id = {line.get("id", f"line{line.get('line')}"): line for line in lines}
    assert by_id["ok-1"]["findings"] == []
    assert any(f["text"] == "全网第一" and f["rule"] == "CN-AD-01" for f in by_id["cn-1"]["findings"])
    assert not any(f["text"].startswith("最近") for f in by_id["cn-1"]["findings"])
    assert by_id["de-1"]["findings"] == [] and "de" in by_id["de-1"]["not_checked"]
    assert "JP" in by_id["jp-1"]["not_checked"]
    assert by_id["line4"]["error"] and "text" in by_id["line6"]["error"]
    assert by_id["us-1"]["findings"][0]["rule"] == "US-AD-02a"
    assert len(lines) == 7  # the batch went on after every bad line


def test_cli_claims_jsonl_from_stdin_valid_batch_exit_code(run):
    data = '{"id": "a", "text": "It cures acne", "jurisdiction": "UK"}\n'
    result = run("--input-jsonl", "-", input=data)
    assert result.exit_code == 1
    assert json.loads(result.stdout.splitlines()[0])["id"] == "a"
