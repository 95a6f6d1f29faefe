"""A large audit: 50,000+ facts in one evaluation, with joins and absence rules, in two assertion orders.
Both evaluators must agree on every (rule, subject) and every subject must get exactly one outcome."""
from __future__ import annotations

import random
import time

from compliance.engine import reference
from compliance.engine.conditions import parse_condition
from compliance.engine.durable_backend import DurableBackend
from compliance.engine.logic import RuleLogic
from compliance.engine.model import EvalRule

N_MATERIALS = 25_000
N_CLAIMS = 25_000


def _rule(rule_id, subject, fail_when, applies_when=None, needs=()):
    return EvalRule(rule_id, subject, RuleLogic(parse_condition(applies_when) if applies_when else None,
                                                parse_condition(fail_when), tuple(needs)))


RULES = [
    _rule("L-01", "material", {"absent": {"product": {"ref": "$subject.product", "registered": True}}},
          applies_when={"market": {"in": ["CN", "EU"]}}),
    _rule("L-02", "claim", {"all": [{"substantiated": False},
                                    {"exists": {"product": {"ref": "$subject.product", "category": "food"}}}]}),
    _rule("L-03", "material", {"spend": {"gt": "$launch.cap"}}, needs=[("subject", "market")]),
    _rule("L-04", "claim", {"absent": {"consent": {"covers": {"contains": "$subject.ref"}, "separate": True}}},
          applies_when={"not": {"category": {"in": ["other", "none"]}}}),
]


def _facts(seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    facts: list[dict] = [{"kind": "launch", "ref": "launch", "cap": 1000}]
    for i in range(20):
        product = {"kind": "product", "ref": f"p{i}", "category": rng.choice(["food", "toy", "software"])}
        if rng.random() < 0.8:
            product["registered"] = rng.random() < 0.5
        facts.append(product)
    for i in range(N_MATERIALS):
        m = {"kind": "material", "ref": f"m{i}"}
        if rng.random() < 0.9:
            m["market"] = rng.choice(["CN", "EU", "US"])
        if rng.random() < 0.9:
            m["product"] = f"p{rng.randrange(25)}"  # some name products that do not exist
        if rng.random() < 0.8:
            m["spend"] = rng.choice([10, 999, 1000, 1001, 50_000, "lots"])
        facts.append(m)
    for i in range(N_CLAIMS):
        c = {"kind": "claim", "ref": f"c{i}"}
        if rng.random() < 0.85:
            c["substantiated"] = rng.random() < 0.5
        if rng.random() < 0.9:
            c["product"] = f"p{rng.randrange(25)}"
        if rng.random() < 0.9:
            c["category"] = rng.choice(["health", "absolute", "other"])
        facts.append(c)
    for i in range(20):
        facts.append({"kind": "consent", "ref": f"k{i}", "separate": rng.random() < 0.7,
                      "covers": [f"c{rng.randrange(N_CLAIMS)}" for _ in range(rng.randrange(0, 40))]})
    return facts


def test_fifty_thousand_facts_agree_with_reference_in_two_orders():
    facts = _facts()
    assert len(facts) >= 50_000
    start = time.monotonic()
    expected = reference.evaluate(RULES, facts).outcomes
    backend = DurableBackend()
    backend.register("large@1", RULES)
    subjects = {kind: [f["ref"] for f in facts if f["kind"] == kind] for kind in ("material", "claim")}
    shuffled = list(facts)
    random.Random(3).shuffle(shuffled)
    for order in (facts, shuffled):  # durable: about 14 s per 50k-fact evaluation
        raw = backend.evaluate("large@1", order)
        assert raw.engine_errors == []
        got = raw.outcomes
        for rule in RULES:
            for ref in subjects[rule.subject]:
                outcome = got.get((rule.id, ref), set())
                assert len(outcome) == 1, (rule.id, ref, outcome)
                assert outcome == expected[(rule.id, ref)], (rule.id, ref, outcome, expected[(rule.id, ref)])
    # every outcome kind occurs: the rules are not trivially constant on this data
    seen = {o for v in expected.values() for o in v}
    assert seen == {"fail", "pass", "not_applicable", "needs_info"}
    assert time.monotonic() - start < 120
