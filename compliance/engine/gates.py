"""Gates: the simplest tests of a rule's scope, decided in Python before a fact reaches the Rete network.

A rule does not apply to a subject as soon as one conjunct of its applies_when is definitely false. For the
commonest conjuncts (a subject field equal to, in, or containing constants: the packs' market scope
`jurisdictions contains CN`, `category: absolute` on claim rules) that takes one lookup per fact here, while the
network would fire one not_applicable action per rule and subject: ~90% of all outcomes of a large launch. The
network is compiled without those conjuncts' not_applicable branches (`gated_outcome_dnf`), so it stays silent
on the subjects a gate closes, and a fact that every rule of its chunk closes is not asserted at all.

Both halves must agree exactly: a subject a gate closes wrongly gets two outcomes, one it misses gets none, and
the audit turns either into an error outcome. Property tests compare the result with the reference evaluator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .conditions import All, Cond, Leaf, Ref
from .logic import FALSE, BAnd, BForm, Lit, RuleLogic, _or, dnf, outcome_dnf, truth

GATE_OPS = ("eq", "in", "contains")


def type_tag(value: Any) -> str:
    if isinstance(value, bool):
        return "b"
    if isinstance(value, (int, float)):
        return "n"
    if isinstance(value, str):
        return "s"
    if isinstance(value, (list, tuple)):
        return "l"
    return "o"


def item_key(value: Any) -> str:
    """A value as a typed string, so that equality is type-strict (1 == 1.0, but 1 != True != "1")."""
    tag = type_tag(value)
    if tag == "n":
        return f"n:{float(value)!r}"
    if tag == "l":
        return "l:"
    return f"{tag}:{value}"


@dataclass(frozen=True)
class Gate:
    """`subject.<field> <op> <constants>`, with the constants as typed keys."""

    field: str
    op: str  # eq | in | contains | present
    keys: frozenset[str]
    missing_closes: bool = False  # in a scope a missing field is unknown (open); inside exists/absent it never matches

    def closes(self, value: Any) -> bool:
        """True when the test is definitely false for a fact with this field value."""
        if value is None:
            return self.missing_closes
        if self.op == "present":
            return False
        if self.op == "contains":  # on a scalar, contains is false (see logic.COMPLEMENT)
            return not isinstance(value, (list, tuple)) or not any(item_key(v) in self.keys for v in value)
        return item_key(value) not in self.keys  # a list is "l:", equal to no scalar constant


def _conjuncts(cond: Cond) -> list[Cond]:
    if isinstance(cond, All):
        return [c for item in cond.items for c in _conjuncts(item)]
    return [cond]


def _constant_gate(field_name: str, op: str, value: Any, missing_closes: bool) -> Gate | None:
    """A gate for `field op value` when the op is gateable and the value is constant scalars, else None."""
    if op not in GATE_OPS or isinstance(value, Ref):
        return None
    values = value if op == "in" else (value,)
    if not isinstance(values, tuple) or not all(isinstance(v, (str, int, float, bool)) for v in values):
        return None
    return Gate(field_name, op, frozenset(item_key(v) for v in values), missing_closes)


def _gate(cond: Cond) -> Gate | None:
    if not isinstance(cond, Leaf) or cond.scope != "subject":
        return None
    return _constant_gate(cond.field, cond.op, cond.value, missing_closes=False)


def gates_of(logic: RuleLogic) -> tuple[Gate, ...]:
    if logic.applies_when is None:
        return ()
    return tuple(g for g in map(_gate, _conjuncts(logic.applies_when)) if g is not None)


def fact_gates(where: BForm) -> tuple[Gate, ...]:
    """Gates of an exists/absent condition (a two-valued formula over the quantified fact): a fact one of them
    closes can match neither exists nor absent, so the network need not see it for this quantifier."""
    out: list[Gate] = []
    for lit in where.items if isinstance(where, BAnd) else (where,):
        if not isinstance(lit, Lit) or lit.scope != "fact":
            continue
        if lit.op == "present":
            out.append(Gate(lit.field, "present", frozenset(), missing_closes=True))
        elif (gate := _constant_gate(lit.field, lit.op, lit.value, missing_closes=True)) is not None:
            out.append(gate)
    return tuple(out)


def gated_outcome_dnf(logic: RuleLogic) -> dict[str, list[tuple[BForm, ...]]]:
    """outcome_dnf, except that not_applicable keeps only the branches of conjuncts that are not gates.

    fail, pass and needs_info all require every scope conjunct to be true or unknown, so none of them can fire
    for a subject a gate closes; not_applicable for such a subject comes from the gate."""
    formulas = outcome_dnf(logic)
    if logic.applies_when is None or not gates_of(logic):
        return formulas
    rest = [c for c in _conjuncts(logic.applies_when) if _gate(c) is None]
    not_applicable = _or(*(truth(c, False) for c in rest)) if rest else FALSE
    return {**formulas, "not_applicable": dnf(not_applicable)}
