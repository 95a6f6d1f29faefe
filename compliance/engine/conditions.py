"""The rule condition language: parsed from YAML data into a small immutable tree.

Syntax (a mapping is an implicit ``all`` of its entries):
    field: value                      equality
    field: {op: value}                op in OPERATORS
    all: [cond, ...] / any: [...] / not: cond
    exists: {kind: cond}              some other fact of that kind matches
    absent: {kind: cond}              no fact of that kind matches
Values may reference ``$subject.field`` or ``$launch.field``. Rules are data: nothing here runs code.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Union

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte")
OPERATORS = COMPARISONS + ("in", "not_in", "contains", "not_contains", "regex", "exists")
NEGATED_OP = {
    "eq": "ne", "ne": "eq", "gt": "lte", "lte": "gt", "lt": "gte", "gte": "lt",
    "in": "not_in", "not_in": "in", "contains": "not_contains", "not_contains": "contains",
}
_FIELD_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_REF_RE = re.compile(r"^\$(subject|launch)\.([a-z][a-z0-9_]*)$")


class ConditionError(ValueError):
    """A condition that does not fit the language; `path` points into the rule."""

    def __init__(self, message: str, path: tuple = ()):
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Ref:
    scope: str  # "subject" | "launch"
    field: str

    def __str__(self) -> str:
        return f"${self.scope}.{self.field}"


Scalar = Union[str, int, float, bool]
Value = Union[Scalar, tuple, Ref]


@dataclass(frozen=True)
class Leaf:
    """A test on one field. `scope` says whose field: the subject, the launch, or the quantified fact."""

    scope: str  # "subject" | "launch" | "fact"
    field: str
    op: str
    value: Value


@dataclass(frozen=True)
class All:
    items: tuple["Cond", ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple["Cond", ...]


@dataclass(frozen=True)
class Not:
    item: "Cond"


@dataclass(frozen=True)
class Quantified:
    """exists / absent: is there another fact of `kind` for which `where` is (definitely) true?"""

    negated: bool  # True for absent
    kind: str
    where: "Cond"


Cond = Union[Leaf, All, AnyOf, Not, Quantified]
TRUE = All(())


def normalise_value(value: Any) -> Any:
    """Dates become YYYYMMDD integers so that both engines compare them as numbers."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.year * 10000 + value.month * 100 + value.day
    if isinstance(value, list):
        return tuple(normalise_value(v) for v in value)
    return value


def _parse_value(raw: Any, path: tuple) -> Value:
    raw = normalise_value(raw)
    if isinstance(raw, str):
        match = _REF_RE.match(raw)
        if match:
            return Ref(match.group(1), match.group(2))
        if raw.startswith("$"):
            raise ConditionError(f"unknown reference {raw!r}; expected $subject.<field> or $launch.<field>", path)
    if isinstance(raw, tuple):
        for item in raw:
            if not isinstance(item, (str, int, float, bool)):
                raise ConditionError(f"list values must be plain scalars, got {item!r}", path)
        return raw
    if raw is None or isinstance(raw, dict):
        raise ConditionError(f"expected a value, got {raw!r}", path)
    return raw


def parse_condition(raw: Any, scope: str = "subject", path: tuple = ()) -> Cond:
    """Parse YAML data into a condition. `scope` is whose fields bare names refer to."""
    if not isinstance(raw, dict) or not raw:
        raise ConditionError("a condition must be a non-empty mapping", path)
    items: list[Cond] = []
    for key, value in raw.items():
        sub = path + (key,)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise ConditionError(f"'{key}' takes a non-empty list of conditions", sub)
            parts = tuple(parse_condition(v, scope, sub + (i,)) for i, v in enumerate(value))
            items.append(All(parts) if key == "all" else AnyOf(parts))
        elif key == "not":
            items.append(Not(parse_condition(value, scope, sub)))
        elif key in ("exists", "absent"):
            items.append(_parse_quantified(key, value, scope, sub))
        elif key.startswith("$launch."):
            if scope == "fact":
                raise ConditionError("inside exists/absent, test the fact's own fields; use $launch.x as a value", sub)
            items.extend(_parse_field(key[len("$launch."):], value, "launch", sub))
        else:
            items.extend(_parse_field(key, value, scope, sub))
    return items[0] if len(items) == 1 else All(tuple(items))


def _parse_quantified(key: str, value: Any, scope: str, path: tuple) -> Quantified:
    if scope == "fact":
        raise ConditionError(f"'{key}' cannot be nested inside another exists/absent", path)
    if not isinstance(value, dict) or len(value) != 1:
        raise ConditionError(f"'{key}' takes exactly one fact kind: {{kind: condition}}", path)
    (kind, where), = value.items()
    if not _FIELD_RE.match(str(kind)):
        raise ConditionError(f"bad fact kind {kind!r}", path)
    cond = TRUE if where in (None, {}) else parse_condition(where, "fact", path + (kind,))
    return Quantified(key == "absent", kind, cond)


def _parse_field(name: str, spec: Any, scope: str, path: tuple) -> list[Leaf]:
    if not _FIELD_RE.match(name):
        raise ConditionError(f"bad field name {name!r}; expected lower_snake_case", path)
    if not isinstance(spec, dict):
        return [Leaf(scope, name, "eq", _parse_value(spec, path))]
    if not spec:
        raise ConditionError(f"empty operator mapping for {name!r}", path)
    leaves = []
    for op, value in spec.items():
        if op not in OPERATORS:
            raise ConditionError(f"unknown operator {op!r} for {name!r}; expected one of {', '.join(OPERATORS)}", path + (op,))
        parsed = _parse_value(value, path + (op,))
        if op == "exists" and not isinstance(parsed, bool):
            raise ConditionError("'exists' takes true or false", path + (op,))
        if op in ("in", "not_in") and not isinstance(parsed, tuple):
            raise ConditionError(f"'{op}' takes a list", path + (op,))
        if op not in ("in", "not_in") and isinstance(parsed, tuple):
            raise ConditionError(f"'{op}' takes a single value", path + (op,))
        if op == "regex":
            if not isinstance(parsed, str):
                raise ConditionError("'regex' takes a pattern string", path + (op,))
            try:
                re.compile(parsed)
            except re.error as exc:
                raise ConditionError(f"invalid regex {parsed!r}: {exc}", path + (op,)) from None
        if op in ("gt", "gte", "lt", "lte") and (isinstance(parsed, bool) or not isinstance(parsed, (int, float, Ref))):
            raise ConditionError(f"'{op}' compares numbers or dates", path + (op,))
        if isinstance(parsed, Ref) and op not in COMPARISONS + ("contains",):
            raise ConditionError(f"'{op}' cannot take a reference", path + (op,))
        if isinstance(parsed, Ref) and scope != "fact" and (parsed.scope == "subject" or scope == "launch"):
            raise ConditionError("a reference compares against another fact; here use a literal value", path + (op,))
        if isinstance(parsed, Ref) and op == "contains" and scope != "fact":
            raise ConditionError("'contains' with a reference is only allowed inside exists/absent", path + (op,))
        leaves.append(Leaf(scope, name, op, parsed))
    return leaves


def referenced_fields(cond: Cond) -> set[tuple[str, str]]:
    """(scope, field) pairs a condition reads, not counting quantified facts' own fields."""
    out: set[tuple[str, str]] = set()

    def walk(c: Cond) -> None:
        if isinstance(c, Leaf):
            if c.scope != "fact":
                out.add((c.scope, c.field))
            if isinstance(c.value, Ref):
                out.add((c.value.scope, c.value.field))
        elif isinstance(c, (All, AnyOf)):
            for item in c.items:
                walk(item)
        elif isinstance(c, Not):
            walk(c.item)
        elif isinstance(c, Quantified):
            walk(c.where)

    walk(cond)
    return out


def quantified_kinds(cond: Cond) -> set[str]:
    if isinstance(cond, Quantified):
        return {cond.kind}
    if isinstance(cond, (All, AnyOf)):
        return set().union(*(quantified_kinds(c) for c in cond.items)) if cond.items else set()
    if isinstance(cond, Not):
        return quantified_kinds(cond.item)
    return set()
