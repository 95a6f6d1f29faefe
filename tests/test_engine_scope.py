"""Subjects outside a pack's jurisdiction are answered before the network; outcomes must not change."""
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
