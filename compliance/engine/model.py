"""What an evaluator takes and gives: compiled rules in, raw outcomes out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .logic import RuleLogic

Fact = dict[str, Any]  # {"kind": str, "ref": str, <field>: scalar | list of scalars}


@dataclass(frozen=True)
class EvalRule:
    """The part of a rule an evaluator needs."""

    id: str
    subject: str  # fact kind
    logic: RuleLogic


@dataclass
class RawResult:
    """Outcomes per (rule id, subject ref); more than one outcome for a pair is an engine defect."""

    outcomes: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    matched: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # fact ids that made the outcome
    engine_errors: list[str] = field(default_factory=list)

    def add(self, rule_id: str, subject: str, outcome: str, matched: tuple[str, ...] = ()) -> None:
        key = (rule_id, subject)
        self.outcomes.setdefault(key, set()).add(outcome)
        if matched:
            self.matched.setdefault(key, set()).update(matched)
