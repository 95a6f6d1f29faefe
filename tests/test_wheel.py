"""The installed wheel must carry rules/ and jurisdictions/ and audit from any folder."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    wheels = list(out.glob("launch_compliance-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contains_rule_packs_and_profiles(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packs = [n for n in names if n.startswith("compliance/_bundled/rules/") and n.endswith(".yaml")]
    profiles = [n for n in names if n.startswith("compliance/_bundled/jurisdictions/") and n.endswith(".yaml")]
    repo_packs = list((ROOT / "rules").rglob("*.yaml"))
    assert len(packs) == len(repo_packs) and packs
    assert "compliance/_bundled/jurisdictions/CN.yaml" in profiles
    assert not any(n.startswith("tests/") for n in names)


def test_wheel_audits_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    launch = work / "launch.yaml"
    launch.write_text(
        "launch: {name: Wheel check, markets: [CN], launch_date: 2027-03-01}\n"
        "materials: [{id: m1, type: ad, market: CN, language: zh, text: 全网最佳面霜}]\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = ("import sys, compliance; from compliance.cli import main; "
            "assert compliance.__file__.startswith(sys.argv[1]), compliance.__file__; "
            "sys.argv = ['compliance', 'audit', 'launch.yaml', '--format', 'json', '--xlsx', 'out.xlsx']; main()")
    proc = subprocess.run([sys.executable, "-c", code, str(site)], cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert report["launch"]["name"] == "Wheel check"
    assert {p["id"] for p in report["packs"]} >= {"cn-advertising"}
    assert all(p["sha256"] for p in report["packs"])
    assert (work / "out.xlsx").is_file()
