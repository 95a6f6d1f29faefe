"""Subjects a gate closes (market scope, claim category) are answered before the network; outcomes must not change."""
from __future__ import annotations

from pathlib import Path

import yaml

from bench.growth_bench import launch
from compliance.audit import AuditOptions, Context, audit_loaded
from compliance.loading.launch import load_launch


def test_engine_scope_prefilter_matches_reference_on_a_four_market_launch(tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text(yaml.safe_dump(launch(40), allow_unicode=True, sort_keys=False), encoding="utf-8")
    ctx = Context.load()
    loaded = load_launch(path, ctx.jurisdictions)
    durable = audit_loaded(loaded, ctx, AuditOptions(engine="durable"))
    reference = audit_loaded(loaded, ctx, AuditOptions(engine="reference"))
    assert not durable.engine_errors
    got = [(o.rule, o.subject, o.outcome) for o in durable.outcomes]
    assert got == [(o.rule, o.subject, o.outcome) for o in reference.outcomes]
    # the shortcut really is exercised: out-of-market claims are not applicable to another market's claim rules
    assert any(o.subject_kind == "claim" and o.outcome == "not_applicable" for o in durable.outcomes)
    assert {o.outcome for o in durable.outcomes} >= {"fail", "pass", "not_applicable"}


def _growth_launch(tmp_path: Path, n: int):
    path = tmp_path / "launch.yaml"
    path.write_text(yaml.safe_dump(launch(n), allow_unicode=True, sort_keys=False), encoding="utf-8")
    ctx = Context.load()
    return ctx, load_launch(path, ctx.jurisdictions)


def test_gates_answer_most_not_applicable_outcomes_without_engine_actions(tmp_path: Path, monkeypatch) -> None:
    from compliance.engine.durable_backend import DurableBackend

    ctx, loaded = _growth_launch(tmp_path, 40)
    actions = 0
    record = DurableBackend._record

    def counting(self, action_name, matched, result):
        nonlocal actions
        actions += 1
        return record(self, action_name, matched, result)

    monkeypatch.setattr(DurableBackend, "_record", counting)
    report = audit_loaded(loaded, ctx, AuditOptions(engine="durable"))
    counts = report.counts()
    assert set(counts) <= {"fail", "pass", "not_applicable", "needs_info"}
    # without gates every outcome was one engine action; now the network fires for the open pairs only
    assert actions < len(report.outcomes) - 0.8 * counts["not_applicable"], (actions, counts)


def test_a_gate_that_disagrees_with_the_network_gives_error_outcomes_not_a_silent_pass(tmp_path: Path, monkeypatch) -> None:
    from compliance.engine import gates

    ctx, loaded = _growth_launch(tmp_path, 8)
    monkeypatch.setattr(gates.Gate, "closes", lambda self, value: value is not None)  # closes subjects in scope too
    report = audit_loaded(loaded, ctx, AuditOptions(engine="durable"))
    errors = [o for o in report.findings if o.outcome == "error"]
    assert errors and report.result() == "error"
    assert all("engine gave" in (o.error or "") for o in errors)


def test_a_column_shorter_than_the_subjects_makes_errors_not_missing_outcomes(tmp_path: Path, monkeypatch) -> None:
    from compliance.engine.model import RawResult

    ctx, loaded = _growth_launch(tmp_path, 4)
    monkeypatch.setattr(RawResult, "column", lambda self, rule_id: self.bits[rule_id][1][:-1])
    report = audit_loaded(loaded, ctx, AuditOptions(engine="durable"))
    assert report.result() == "error" and any("judged" in e for e in report.engine_errors)
    assert len(report.outcomes) > 0 and all(o.outcome == "error" for o in report.outcomes if o.subject != "-")


def test_facts_no_exists_or_absent_can_match_are_not_asserted_and_outcomes_stay_the_same(tmp_path: Path, monkeypatch) -> None:
    from compliance.engine import durable_backend
    from compliance.engine.durable_backend import DurableBackend

    ctx, loaded = _growth_launch(tmp_path, 30)
    asserted: list[int] = []
    run_chunk = DurableBackend._run_chunk

    def counting(self, chunk, facts, result):
        asserted.append(len(facts))
        return run_chunk(self, chunk, facts, result)

    monkeypatch.setattr(DurableBackend, "_run_chunk", counting)
    gated = audit_loaded(loaded, ctx, AuditOptions(engine="durable"))
    with_gates = sum(asserted)
    asserted.clear()
    monkeypatch.setattr(durable_backend, "fact_gates", lambda where: ())  # every fact may match every quantifier
    import compliance.audit as audit_module
    monkeypatch.setattr(audit_module, "_BACKEND", DurableBackend())  # recompile without quantifier gates
    ungated = audit_loaded(loaded, ctx, AuditOptions(engine="durable"))
    assert with_gates < sum(asserted)
    assert [(o.rule, o.subject, o.outcome) for o in gated.outcomes] == [(o.rule, o.subject, o.outcome) for o in ungated.outcomes]
