"""What an evaluator takes and gives: compiled rules in, raw outcomes out."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .logic import RuleLogic

Fact = dict[str, Any]  # {"kind": str, "ref": str, <field>: scalar | list of scalars}

OUTCOME_BITS = {"fail": 1, "pass": 2, "not_applicable": 4, "needs_info": 8}
_OUTCOME_OF_BIT = {bit: outcome for outcome, bit in OUTCOME_BITS.items()}


@dataclass(frozen=True)
class EvalRule:
    """The part of a rule an evaluator needs."""

    id: str
    subject: str  # fact kind
    logic: RuleLogic


@dataclass
class RawResult:
    """The outcomes each rule gave each subject of its kind; more than one outcome for a pair is an engine defect.

    One byte per (rule, subject) pair, a bit per outcome seen: a 10,000-material launch has ~1.7 million pairs,
    which as sets in a dict took over a gigabyte.
    """

    subjects: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> subject ref -> position
    bits: dict[str, tuple[str, bytearray]] = field(default_factory=dict)  # rule id -> (kind, bit per subject)
    engine_errors: list[str] = field(default_factory=list)

    @classmethod
    def for_rules(cls, rules: Iterable[EvalRule], facts: Iterable[Fact]) -> RawResult:
        rules = list(rules)
        kinds = {r.subject for r in rules}
        subjects: dict[str, dict[str, int]] = {k: {} for k in kinds}
        for fact in facts:
            refs = subjects.get(fact["kind"])
            if refs is not None:
                refs.setdefault(fact["ref"], len(refs))
        return cls(subjects, {r.id: (r.subject, bytearray(len(subjects[r.subject]))) for r in rules})

    def add(self, rule_id: str, subject: str, outcome: str) -> None:
        kind, bits = self.bits[rule_id]
        bits[self.subjects[kind][subject]] |= OUTCOME_BITS[outcome]

    def column(self, rule_id: str) -> bytearray:
        """The rule's outcome bits in the order its kind's subjects were given (see `outcome_names`)."""
        return self.bits[rule_id][1]

    @property
    def outcomes(self) -> dict[tuple[str, str], set[str]]:
        """(rule id, subject ref) -> outcomes, for every pair that got at least one (for comparisons in tests)."""
        out: dict[tuple[str, str], set[str]] = {}
        for rule_id, (kind, bits) in self.bits.items():
            for ref, i in self.subjects[kind].items():
                if bits[i]:
                    out[(rule_id, ref)] = _outcome_set(bits[i])
        return out


def outcome_names(value: int) -> Iterator[str]:
    """The outcomes whose bits are set in one (rule, subject) byte."""
    return (outcome for bit, outcome in _OUTCOME_OF_BIT.items() if value & bit)


def _outcome_set(value: int) -> set[str]:
    return set(outcome_names(value))
