"""One regression test per durable-rules pitfall in ../shared/reference/durable-rules-notes.md, plus: an audit that
cannot finish reports `error` outcomes and exits 3, never a clean result."""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from compliance.engine import reference
from compliance.engine.conditions import parse_condition
from compliance.engine.durable_backend import MAX_FACT_PROPERTIES, MAX_RULES_PER_RULESET, DurableBackend, _Compiler
from compliance.engine.logic import LogicError, RuleLogic
from compliance.engine.model import EvalRule, RawResult

from .cli_runner import run

ROOT = Path(__file__).resolve().parents[1]


def _rule(rule_id, subject, fail_when, applies_when=None, needs=()):
    return EvalRule(rule_id, subject, RuleLogic(parse_condition(applies_when) if applies_when else None,
                                                parse_condition(fail_when), tuple(needs)))


_keys = itertools.count()


def _evaluate(rules, facts, backend=None):
    backend = backend or DurableBackend()
    key = f"pitfall-{next(_keys)}"
    backend.register(key, rules)
    return backend.evaluate(key, facts)


LAUNCH = {"kind": "launch", "ref": "launch"}


# 1. Results can arrive after the call returns ------------------------------------------------------------------
def test_results_are_complete_when_evaluate_returns():
    rules = [_rule("P-01", "material", {"flag": True})]
    facts = [LAUNCH] + [{"kind": "material", "ref": f"m{i}", "flag": i % 2 == 0} for i in range(20_000)]
    result = _evaluate(rules, facts)
    snapshot = {k: set(v) for k, v in result.outcomes.items()}
    assert len(snapshot) == 20_000 and all(len(v) == 1 for v in snapshot.values())
    time.sleep(0.3)  # nothing may trickle in later from a background thread
    assert result.outcomes == snapshot
    assert sum(1 for v in snapshot.values() if v == {"fail"}) == 10_000


# 2. Unmatched fact -----------------------------------------------------------------------------------------------
def test_facts_that_match_no_rule_do_not_raise():
    rules = [_rule("P-02", "material", {"absent": {"consent": {"separate": True}}})]
    facts = [LAUNCH, {"kind": "material", "ref": "m1"},
             {"kind": "consent", "ref": "k1", "separate": False},  # in the ruleset, matches no condition
             {"kind": "cookie", "ref": "x1", "party": "third"}]   # a kind no rule mentions
    result = _evaluate(rules, facts)
    assert result.engine_errors == []
    assert result.outcomes == {("P-02", "m1"): {"fail"}}


# 3. Duplicate facts ----------------------------------------------------------------------------------------------
def test_identical_facts_and_list_items_do_not_raise():
    rules = [_rule("P-03", "material", {"absent": {"consent": {"covers": {"contains": "$subject.ref"}}}})]
    same = [{"kind": "material", "ref": f"m{i}", "channel": "web"} for i in range(5_000)]  # identical but for ref
    consents = [{"kind": "consent", "ref": "k1", "covers": ["m1", "m1", "m1"]},  # identical items
                {"kind": "consent", "ref": "k2", "covers": ["m1", "m1"]}]
    result = _evaluate(rules, [LAUNCH] + same + consents)
    assert result.engine_errors == []
    assert len(result.outcomes) == 5_000 and result.outcomes[("P-03", "m1")] == {"pass"}
    assert result.outcomes[("P-03", "m2")] == {"fail"}


# 4. Never a condition on id or sid -------------------------------------------------------------------------------
def _keys_in(expr):
    if isinstance(expr, dict):
        for k, v in expr.items():
            yield k
            yield from _keys_in(v)
    elif isinstance(expr, list):
        for v in expr:
            yield from _keys_in(v)


def test_no_compiled_condition_reads_id_or_sid_and_each_subject_fires_once():
    from compliance.audit import Context

    library = Context.load(with_claims=False).library
    compiler = _Compiler("scan#0")
    for i, rule in enumerate(library.rules()):
        for name, spec in compiler.rule(i, rule.eval_rule()).items():
            for alias_expr in spec["all"]:
                keys = set(_keys_in(alias_expr))
                assert not keys & {"id", "sid"}, (rule.id, name)
                assert not any(set(d) <= {"lch", "subj"} and {str(v) for v in d.values()} & {"id", "sid"}
                               for d in _walk_dicts(alias_expr) if d), (rule.id, name)
    # a rule that would re-fire forever on the state document would not terminate, or fire more than once
    rules = [_rule("P-04", "material", {"n": {"gt": 1}})]
    result = _evaluate(rules, [LAUNCH] + [{"kind": "material", "ref": f"m{i}", "n": i} for i in range(200)])
    assert all(len(v) == 1 for v in result.outcomes.values()) and len(result.outcomes) == 200


def _walk_dicts(expr):
    if isinstance(expr, dict):
        yield expr
        for v in expr.values():
            yield from _walk_dicts(v)
    elif isinstance(expr, list):
        for v in expr:
            yield from _walk_dicts(v)


def test_a_fact_field_named_id_is_not_a_rule_field():
    from compliance.facts import FACT_FIELDS

    assert all("id" not in fields and "sid" not in fields for fields in FACT_FIELDS.values())


# 5. Negation depends on order ------------------------------------------------------------------------------------
def test_absence_rules_give_the_same_outcome_in_every_assertion_order():
    rules = [_rule("P-05", "data_item", {"absent": {"consent": {"covers": {"contains": "$subject.ref"}, "separate": True}}},
                   applies_when={"sensitive": True}),
             _rule("P-05b", "data_item", {"exists": {"transfer": {"mechanism": "none"}}})]
    facts = [LAUNCH,
             {"kind": "data_item", "ref": "d1", "sensitive": True},
             {"kind": "data_item", "ref": "d2", "sensitive": True},
             {"kind": "consent", "ref": "k1", "covers": ["d1"], "separate": True},
             {"kind": "transfer", "ref": "t1", "mechanism": "none"}]
    expected = reference.evaluate(rules, facts).outcomes
    assert expected[("P-05", "d1")] == {"pass"} and expected[("P-05", "d2")] == {"fail"}
    backend = DurableBackend()
    backend.register("order", rules)
    for order in itertools.permutations(facts):  # 120 orders, the launch fact anywhere in them
        got = backend.evaluate("order", list(order))
        assert got.engine_errors == [] and got.outcomes == expected, order


# 6. Errors in actions are swallowed ------------------------------------------------------------------------------
def test_an_exception_while_recording_an_outcome_becomes_an_engine_error(monkeypatch):
    rules = [_rule("P-06", "material", {"flag": True})]
    original = RawResult.add

    def failing_add(self, rule_id, subject, outcome, matched=()):
        if subject == "m2":
            raise RuntimeError("injected failure in an action")
        return original(self, rule_id, subject, outcome, matched)

    monkeypatch.setattr(RawResult, "add", failing_add)
    result = _evaluate(rules, [LAUNCH, {"kind": "material", "ref": "m1", "flag": True},
                               {"kind": "material", "ref": "m2", "flag": False}])
    assert any("injected failure" in e for e in result.engine_errors)


CLEAN_LAUNCH = "launch:\n  name: Quiet launch\n  markets: [CN]\n  launch_date: 2027-03-01\n"


def test_audit_that_cannot_finish_exits_3_and_reports_error_outcomes(monkeypatch, tmp_path):
    """A failing action (injected) must never end in a clean result: error outcomes, exit 3."""
    launch = tmp_path / "launch.yaml"
    launch.write_text(CLEAN_LAUNCH, encoding="utf-8")
    clean = run("audit", str(launch), "--format", "json", "--no-xlsx")
    assert clean.returncode in (0, 1), clean.stderr
    original = RawResult.add
    calls = itertools.count()

    def failing_add(self, rule_id, subject, outcome, matched=()):
        if next(calls) == 3:
            raise RuntimeError("injected failure in an action")
        return original(self, rule_id, subject, outcome, matched)

    monkeypatch.setattr(RawResult, "add", failing_add)
    xlsx = tmp_path / "out.xlsx"
    proc = run("audit", str(launch), "--format", "json", "--json-out", str(tmp_path / "out.json"), "--no-xlsx")
    assert proc.returncode == 3, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    outcomes = [o["outcome"] for o in report["outcomes"]]
    assert "error" in outcomes
    assert "injected failure" in proc.stdout  # the cause is reported, not only the fact that something failed
    assert not xlsx.exists()


def test_audit_with_an_engine_error_exits_3(monkeypatch, tmp_path):
    """The C engine raising (here: asserting into a ruleset fails) ends as error outcomes and exit 3."""
    import durable_rules_engine

    launch = tmp_path / "launch.yaml"
    launch.write_text(CLEAN_LAUNCH, encoding="utf-8")

    def broken(*args, **kwargs):
        raise durable_rules_engine.error("Could not assert fact, error code: 303")

    monkeypatch.setattr(durable_rules_engine, "assert_facts", broken)
    monkeypatch.setattr(durable_rules_engine, "assert_fact", broken)
    proc = run("audit", str(launch), "--format", "json", "--no-xlsx")
    assert proc.returncode == 3, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["outcomes"] and all(o["outcome"] in ("error", "not_applicable") for o in report["outcomes"])
    assert any(o["outcome"] == "error" for o in report["outcomes"])


# 7. Capacity limits that hang instead of failing -----------------------------------------------------------------
def test_many_rules_are_split_into_rulesets_under_the_sibling_limit_and_agree():
    rules = [_rule(f"P-07-{i}", "material", {"n": {"gt": i}}, applies_when={"flag": True}) for i in range(300)]
    backend = DurableBackend()
    backend.register("many", rules)
    chunks = backend._rulesets["many"]
    assert len(chunks) > 1
    assert all(len(c.definition) - 1 <= MAX_RULES_PER_RULESET for c in chunks)  # minus the catch-all
    facts = [LAUNCH] + [{"kind": "material", "ref": f"m{i}", "n": i, "flag": i % 3 != 0} for i in range(60)]
    start = time.monotonic()
    got = backend.evaluate("many", facts)
    assert time.monotonic() - start < 30
    assert got.engine_errors == [] and got.outcomes == reference.evaluate(rules, facts).outcomes


def test_a_rule_needing_too_many_engine_rules_is_rejected_at_load(tmp_path):
    from compliance.errors import PackError
    from compliance.loading.packs import load_pack

    wide = ", ".join(f"{{any: [{{purpose: p{i}}}, {{explicit: {{exists: false}}}}]}}" for i in range(8))
    pack = tmp_path / "wide.yaml"
    pack.write_text(textwrap.dedent(f"""\
        pack: wide-test
        title: Wide
        jurisdiction: CN
        domain: advertising
        version: 2026.12.0
        rules:
          - id: CN-AD-91
            title: Too wide
            severity: low
            rationale: r
            remediation: r
            subject: consent
            fail_when: {{all: [{wide}]}}
            message: m
            tests:
              - {{name: a, launch: {{}}, expect: {{outcome: fail}}}}
              - {{name: b, launch: {{}}, expect: {{outcome: pass}}}}
        """), encoding="utf-8")
    with pytest.raises(PackError) as info:
        load_pack(pack)
    assert info.value.problems[0].code == "E215" and info.value.problems[0].line == 7


def test_too_wide_fact_is_an_engine_error_not_a_hang():
    fields = [f"f{i}" for i in range(MAX_FACT_PROPERTIES)]
    rules = [_rule("P-07w", "material", {"all": [{f: 1} for f in fields[:10]]}),
             _rule("P-07x", "material", {"any": [{f: 1} for f in fields[10:130]]})]
    try:
        result = _evaluate(rules, [LAUNCH, {"kind": "material", "ref": "m1", **{f: 1 for f in fields}}])
    except LogicError:
        return  # rejected at compile: also fine
    assert result.engine_errors and "properties" in " ".join(result.engine_errors)


# 8. Threads and memory -------------------------------------------------------------------------------------------
def test_no_threads_are_started_per_audit():
    from compliance.audit import AuditOptions, Context, audit_loaded
    from compliance.loading.launch import load_launch_data

    ctx = Context.load(with_claims=False)
    data = {"launch": {"name": "t", "markets": ["CN", "DE"], "launch_date": "2027-01-15"},
            "materials": [{"id": "m1", "type": "ad", "market": "CN"}]}
    audit_loaded(load_launch_data(data, ctx.jurisdictions), ctx, AuditOptions(scan_claims=False))  # warm up
    before = threading.active_count()
    for _ in range(50):
        report = audit_loaded(load_launch_data(data, ctx.jurisdictions), ctx, AuditOptions(scan_claims=False))
        assert not report.engine_errors
    assert threading.active_count() == before


# 9. Redefinition --------------------------------------------------------------------------------------------------
def test_ruleset_names_are_unique_per_pack_version_and_content(tmp_path):
    from compliance.loading.packs import load_pack

    src = (ROOT / "tests" / "hostile" / "packs" / "bad_dates.yaml").read_text(encoding="utf-8")
    good = src.replace("    effective_from: 2026-01-01\n    effective_until: 2025-01-01\n", "")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = tmp_path / "a" / "advertising.yaml", tmp_path / "b" / "advertising.yaml"
    a.write_text(good, encoding="utf-8")
    b.write_text(good.replace("{has_text: false}", "{has_text: true}"), encoding="utf-8")
    pack_a, pack_b = load_pack(a), load_pack(b)
    assert pack_a.spec.version == pack_b.spec.version and pack_a.engine_key != pack_b.engine_key
    backend = DurableBackend()
    for pack in (pack_a, pack_b, pack_a):  # registering the same key again is a no-op, not "already registered"
        backend.register(pack.engine_key, [r.eval_rule() for r in pack.rules])
    facts = [LAUNCH, {"kind": "material", "ref": "m1", "has_text": False, "jurisdictions": ["CN"]}]
    assert backend.evaluate(pack_a.engine_key, facts).outcomes == {("CN-AD-90", "m1"): {"fail"}}
    assert backend.evaluate(pack_b.engine_key, facts).outcomes == {("CN-AD-90", "m1"): {"pass"}}


# The C engine segfaults on delete_state for a state in which no action ran ----------------------------------------
def test_states_without_actions_do_not_crash_the_process():
    """Run in a child process: a segfault must show up as a failing exit code, not kill the test run."""
    code = textwrap.dedent("""
        from compliance.engine.conditions import parse_condition
        from compliance.engine.durable_backend import DurableBackend
        from compliance.engine.logic import RuleLogic
        from compliance.engine.model import EvalRule
        b = DurableBackend()
        b.register("k", [EvalRule("R", "claim", RuleLogic(None, parse_condition({"n": 1}), ()))])
        for i in range(200):  # no claim facts: no action runs in these states
            r = b.evaluate("k", [{"kind": "launch", "ref": "launch"}, {"kind": "material", "ref": f"m{i}"}])
            assert r.outcomes == {} and r.engine_errors == [], r
        r = b.evaluate("k", [{"kind": "launch", "ref": "launch"}, {"kind": "claim", "ref": "c1", "n": 1}])
        assert r.outcomes == {("R", "c1"): {"fail"}}
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (proc.returncode, proc.stderr[-2000:])
