"""An independent evaluator for the condition language, written for clarity, not speed.

It shares no evaluation code with the durable-rules path: it walks the condition tree directly in
three-valued logic (True, False, None = unknown). Property tests compare both on random launches and rules.
"""
from __future__ import annotations

import re
from typing import Any

from .conditions import All, AnyOf, Cond, Leaf, Not, Quantified, Ref
from .model import EvalRule, Fact, RawResult

Truth = bool | None  # None: unknown because a field is missing


def _lookup(fact: Fact | None, name: str) -> Any:
    if fact is None:
        return None
    return fact.get(name)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        if isinstance(left, bool) or isinstance(right, bool):
            return isinstance(left, bool) and isinstance(right, bool) and left == right
        if isinstance(left, (int, float)) and isinstance(right, (int, float)):
            return left == right
        return type(left) is type(right) and left == right
    if op == "ne":
        return not _compare("eq", left, right)
    if op in ("gt", "gte", "lt", "lte"):
        numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (left, right))
        if not numbers:  # ordering is for numbers (and dates as numbers) only; True is not 1 here
            return False
        return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]
    if op == "in":
        return any(_compare("eq", left, item) for item in right)
    if op == "not_in":
        return not any(_compare("eq", left, item) for item in right)
    if op == "contains":
        return isinstance(left, (list, tuple)) and any(_compare("eq", item, right) for item in left)
    if op == "not_contains":
        return isinstance(left, (list, tuple)) and not any(_compare("eq", item, right) for item in left)
    if op == "regex":
        items = left if isinstance(left, (list, tuple)) else [left]
        return any(re.search(right, str(item)) for item in items)
    raise ValueError(op)


class _Context:
    def __init__(self, subject: Fact, launch: Fact, by_kind: dict[str, list[Fact]]):
        self.subject = subject
        self.launch = launch
        self.by_kind = by_kind

    def holder(self, scope: str, fact: Fact | None) -> Fact | None:
        return {"subject": self.subject, "launch": self.launch}.get(scope, fact)

    def eval(self, cond: Cond, fact: Fact | None = None) -> Truth:
        if isinstance(cond, Leaf):
            return self.leaf(cond, fact)
        if isinstance(cond, Not):
            value = self.eval(cond.item, fact)
            return None if value is None else not value
        if isinstance(cond, All):
            values = [self.eval(c, fact) for c in cond.items]
            if any(v is False for v in values):
                return False
            return None if any(v is None for v in values) else True
        if isinstance(cond, AnyOf):
            values = [self.eval(c, fact) for c in cond.items]
            if any(v is True for v in values):
                return True
            return None if any(v is None for v in values) else False
        if isinstance(cond, Quantified):
            # "some / no *other* fact": the subject never matches its own exists/absent (as on the Rete engine,
            # where a fact bound to the subject cannot bind a second alias in the same match).
            found = any(self.eval(cond.where, other) is True
                        for other in self.by_kind.get(cond.kind, ()) if other is not self.subject)
            return not found if cond.negated else found
        raise TypeError(cond)

    def leaf(self, leaf: Leaf, fact: Fact | None) -> Truth:
        value = _lookup(self.holder(leaf.scope, fact), leaf.field)
        if leaf.op == "exists":
            return (value is not None) == leaf.value
        if value is None:
            return None
        right = leaf.value
        if isinstance(right, Ref):
            right = _lookup(self.holder(right.scope, None), right.field)
            if right is None:
                return None
        return _compare(leaf.op, value, right)


def outcome_of(rule: EvalRule, ctx: _Context) -> str:
    logic = rule.logic
    scope = ctx.eval(logic.applies_when) if logic.applies_when is not None else True
    if scope is False:
        return "not_applicable"
    if scope is None:
        return "needs_info"
    for scope_name, field in logic.needs:
        if _lookup(ctx.holder(scope_name, None), field) is None:
            return "needs_info"
    violation = ctx.eval(logic.fail_when)
    if violation is None:
        return "needs_info"
    return "fail" if violation else "pass"


def evaluate(rules: list[EvalRule], facts: list[Fact]) -> RawResult:
    by_kind: dict[str, list[Fact]] = {}
    for fact in facts:
        by_kind.setdefault(fact["kind"], []).append(fact)
    launches = by_kind.get("launch", [])
    result = RawResult.for_rules(rules, facts)
    if len(launches) != 1:
        result.engine_errors.append(f"expected one launch fact, got {len(launches)}")
        return result
    for rule in rules:
        for subject in by_kind.get(rule.subject, ()):
            ctx = _Context(subject, launches[0], by_kind)
            result.add(rule.id, subject["ref"], outcome_of(rule, ctx))
    return result
