"""The validated-pack cache (compliance.loading.pack_cache): a warm load is the cold load, only faster.

Each test points COMPLIANCE_CACHE_DIR at its own empty folder. "Served from the cache" is proven by making
the YAML parser and the engine check fail loudly during the load: a hit needs neither.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import compliance.audit as audit_module
from compliance.audit import Context, run_audit
from compliance.engine.conditions import Ref
from compliance.engine.logic import BAnd, BOr, BQuant, Lit, decode_dnf, encode_dnf, outcome_dnf, outcome_formulas, dnf
from compliance.errors import ComplianceError
from compliance.loading import pack_cache, packs
from compliance.loading.packs import load_library, load_pack
from compliance.loading.yamlsafe import load_yaml_bytes
from compliance.resources import data_dir

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "hostile"
BROKEN_PACKS = [c for c in yaml.safe_load((HOSTILE / "manifest.yaml").read_text(encoding="utf-8"))["cases"]
                if c["kind"] == "pack"]
PACK_COUNT = len([p for p in data_dir("rules").rglob("*.yaml") if "claims" not in p.relative_to(data_dir("rules")).parts])


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(directory))
    monkeypatch.delenv("COMPLIANCE_NO_CACHE", raising=False)
    return directory


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Files the loader parsed from YAML (a cache miss), in order."""
    seen: list[str] = []

    def counting(raw: bytes, display: str):
        seen.append(display)
        return load_yaml_bytes(raw, display)

    monkeypatch.setattr(packs, "load_yaml_bytes", counting)
    return seen


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / pack_cache.NAMESPACE).glob("*.json"))


def _forbid_cold_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def no(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a warm load parsed YAML or ran the engine check")

    monkeypatch.setattr(packs, "load_yaml_bytes", no)
    monkeypatch.setattr(packs, "check_rule", no)


def _copy_pack(tmp_path: Path) -> Path:
    target = tmp_path / "rules" / "cn" / "advertising.yaml"
    target.parent.mkdir(parents=True)
    shutil.copyfile(data_dir("rules") / "cn" / "advertising.yaml", target)
    return target


def _fresh_dnf(logic) -> dict:
    return {outcome: dnf(form) for outcome, form in outcome_formulas(logic).items()}


def _assert_same_library(got, want) -> None:
    assert list(got.packs) == list(want.packs)
    for name, pack in want.packs.items():
        other = got.packs[name]
        assert (other.spec, other.file, other.sha256, other.engine_key) == (pack.spec, pack.file, pack.sha256, pack.engine_key)
        assert [(r.id, r.file, r.line, r.pack, r.jurisdiction, r.domain) for r in other.rules] == \
               [(r.id, r.file, r.line, r.pack, r.jurisdiction, r.domain) for r in pack.rules]
        assert other.rules == pack.rules  # specs and compiled logic


# -- cold, warm and disabled agree ------------------------------------------------------------------------------
def test_cold_warm_and_disabled_loads_give_equal_packs_and_rules(cache_dir, monkeypatch):
    cold = load_library()
    assert len(_entries(cache_dir)) == PACK_COUNT
    with monkeypatch.context() as patched:
        _forbid_cold_path(patched)
        warm = load_library()
    monkeypatch.setenv("COMPLIANCE_NO_CACHE", "1")
    disabled = load_library()
    _assert_same_library(warm, cold)
    _assert_same_library(disabled, cold)
    # The DNF the engine registers from a warm load is exactly the computed one (type-strict: Lit compares typed values).
    for rule in warm.rules():
        assert outcome_dnf(rule.logic) == _fresh_dnf(rule.logic), rule.id


def test_no_cache_neither_reads_nor_writes(cache_dir, tmp_path, monkeypatch, parses):
    path = _copy_pack(tmp_path)
    load_pack(path)
    monkeypatch.setenv("COMPLIANCE_NO_CACHE", "1")
    load_pack(path)
    assert parses == [str(path), str(path)]  # parsed although an entry exists
    shutil.rmtree(cache_dir)
    load_pack(path)
    assert not cache_dir.exists()


def _digests(ctx: Context) -> dict[str, str]:
    out = {}
    for example in ("cn-skincare-tmall", "eu-uk-saas"):
        report = run_audit(ROOT / "examples" / example / "launch.yaml", ctx=ctx)
        assert not report.engine_errors
        out[example] = report.findings_digest()
    return out


def test_cold_warm_and_disabled_audits_give_the_same_findings(cache_dir, monkeypatch):
    # A new engine host per run, so that a warm run registers its rulesets from the cached DNFs.
    monkeypatch.setattr(audit_module, "_BACKEND", None)
    cold = _digests(Context.load())
    monkeypatch.setattr(audit_module, "_BACKEND", None)
    with monkeypatch.context() as patched:
        _forbid_cold_path(patched)
        warm_ctx = Context.load()
    warm = _digests(warm_ctx)
    monkeypatch.setattr(audit_module, "_BACKEND", None)
    monkeypatch.setenv("COMPLIANCE_NO_CACHE", "1")
    disabled = _digests(Context.load())
    assert cold == warm == disabled


# -- a bad entry is a miss --------------------------------------------------------------------------------------
def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff not json")


def _rewrite(change):
    def apply(path: Path) -> None:
        entry = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(change(entry)), encoding="utf-8")
    return apply


def _drop_dnf(entry: dict) -> dict:
    entry["dnfs"] = entry["dnfs"][:-1]
    return entry


def _bad_date_path(entry: dict) -> dict:
    entry["dates"] = [[["no", "such", "path"], "date", "2026-01-01"]]
    return entry


def _other_sha(entry: dict) -> dict:
    entry["sha256"] = "0" * 64
    return entry


def _bad_rules(entry: dict) -> dict:
    entry["data"]["rules"] = "not a list"
    return entry


@pytest.mark.parametrize("damage", [
    _truncate, _garbage, _rewrite(lambda e: []), _rewrite(lambda e: {"version": pack_cache.ENTRY_VERSION}),
    _rewrite(_drop_dnf), _rewrite(_bad_date_path), _rewrite(_other_sha), _rewrite(_bad_rules),
], ids=["truncated", "garbage", "list", "no-fields", "dnf-missing", "bad-date-path", "other-sha", "bad-rules"])
def test_a_damaged_entry_is_a_miss_and_is_rewritten(cache_dir, tmp_path, parses, damage):
    path = _copy_pack(tmp_path)
    cold = load_pack(path)
    (entry,) = _entries(cache_dir)
    damage(entry)
    assert load_pack(path) == cold
    assert parses == [str(path), str(path)]  # the damaged entry was a miss
    assert load_pack(path) == cold and len(parses) == 2  # and was replaced by a good one


def test_a_dnf_that_does_not_decode_is_recomputed(cache_dir, tmp_path):
    path = _copy_pack(tmp_path)
    load_pack(path)
    (entry,) = _entries(cache_dir)
    _rewrite(lambda e: {**e, "dnfs": [{"fail": "nonsense"} for _ in e["dnfs"]]})(entry)
    for rule in load_pack(path).rules:
        assert outcome_dnf(rule.logic) == _fresh_dnf(rule.logic)


def test_an_unwritable_cache_dir_is_no_cache(tmp_path, monkeypatch, parses):
    path = _copy_pack(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(blocker / "cache"))
    load_pack(path)
    load_pack(path)
    assert parses == [str(path), str(path)]


# -- content changes ----------------------------------------------------------------------------------------------
def test_an_edited_pack_is_not_served_from_the_old_entry(cache_dir, tmp_path, parses):
    path = _copy_pack(tmp_path)
    original = path.read_text(encoding="utf-8")
    before = load_pack(path)
    path.write_text(re.sub(r"(?m)^    title: .*$", "    title: Edited title", original, count=1), encoding="utf-8")
    after = load_pack(path)
    assert after.rules[0].spec.title == "Edited title" and after.sha256 != before.sha256
    assert parses == [str(path), str(path)]
    path.write_text(original, encoding="utf-8")
    assert load_pack(path) == before and len(parses) == 2  # the original bytes hit their own entry again


def test_an_edit_that_breaks_a_cached_pack_errors(cache_dir, tmp_path):
    path = _copy_pack(tmp_path)
    load_pack(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("severity: ", "severity: severe-", 1), encoding="utf-8")
    with pytest.raises(ComplianceError) as info:
        load_pack(path)
    assert info.value.problems[0].code == "E210"


def test_errors_about_cached_bytes_come_from_the_file(cache_dir, tmp_path):
    """The same bytes under a name that does not match their domain: the entry exists, the error has the file's line."""
    good = _copy_pack(tmp_path)
    load_pack(good)
    renamed = good.with_name("tax.yaml")
    shutil.copyfile(good, renamed)
    domain_line = next(i for i, line in enumerate(good.read_text(encoding="utf-8").splitlines(), 1)
                       if line.startswith("domain:"))
    with pytest.raises(ComplianceError) as info:
        load_pack(renamed)
    problem = info.value.problems[0]
    assert (problem.code, problem.file, problem.line) == ("E221", str(renamed), domain_line)


# -- broken packs are never cached ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", BROKEN_PACKS, ids=[c["file"] for c in BROKEN_PACKS])
def test_a_broken_pack_is_not_cached_and_errors_every_time(cache_dir, case):
    path = HOSTILE / case["file"]
    for _ in range(2):
        with pytest.raises(ComplianceError) as info:
            load_pack(path)
        first = info.value.problems[0]
        assert (first.code, first.line, first.file) == (case["code"], case["line"], str(path))
    assert _entries(cache_dir) == []


# -- exact JSON forms -------------------------------------------------------------------------------------------------
def _strictly_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_strictly_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def test_composed_data_round_trips_with_exact_types(cache_dir):
    data = {"rules": [{"effective_from": dt.date(2026, 1, 1), "flags": [True, 1, 1.0, "1", None, float("nan")],
                       "at": dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone(dt.timedelta(hours=8))),
                       "naive": dt.datetime(2026, 3, 4, 5, 6), "nested": [[dt.date(2027, 2, 3)]],
                       "big": 2 ** 70, "inf": float("-inf"), "zh": "功效", "key with $": {"$launch.x": 1}}]}
    loaded = load_yaml_bytes(b"rules: []\n", "x.yaml")
    loaded.data = data
    pack_cache.write("a" * 64, loaded, [])
    cached = pack_cache.read("a" * 64, "x.yaml")
    assert cached is not None and _strictly_equal(cached.data, data)
    assert pack_cache.read("b" * 64, "x.yaml") is None


def test_rule_dnfs_round_trip_with_exact_types():
    quant = BQuant(True, "consent", BOr((Lit("fact", "purpose", "eq", Ref("subject", "ref")), BAnd(()))))
    formulas = {"fail": [(Lit("subject", "a", "eq", 1), Lit("subject", "b", "eq", 1.0), Lit("subject", "c", "eq", True))],
                "pass": [(Lit("subject", "d", "in", ("1", 1, False, 2.5)), quant)],
                "not_applicable": [], "needs_info": [(Lit("launch", "e", "missing"),)]}
    decoded = decode_dnf(json.loads(json.dumps(encode_dnf(formulas))))
    assert decoded == formulas
    for outcome, conjuncts in formulas.items():
        for got, want in zip(decoded[outcome], conjuncts):
            assert [(type(a), getattr(a, "typed_value", None)) for a in got] == \
                   [(type(a), getattr(a, "typed_value", None)) for a in want]
    with pytest.raises(ValueError):
        decode_dnf({"fail": [[["X"]]], "pass": [], "not_applicable": [], "needs_info": []})
