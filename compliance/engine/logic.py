"""Rule outcomes as two-valued formulas, ready for a Rete network.

A rule's scope and violation are judged in three-valued (Kleene) logic: a test on a missing field is
unknown, not false, so missing facts end in ``needs_info`` instead of a silent pass. Each outcome
(fail, pass, not_applicable, needs_info) becomes one two-valued formula over literals; the four are
mutually exclusive and cover every case, so every subject gets exactly one outcome. Formulas are put in
disjunctive normal form; each conjunct becomes one durable-rules rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Union

from .conditions import All, AnyOf, Cond, Leaf, Not, Quantified, Ref

OUTCOME_FORMULAS = ("fail", "pass", "not_applicable", "needs_info")
MAX_CONJUNCTS = 64


class LogicError(ValueError):
    pass


@dataclass(frozen=True)
class Lit:
    """A test on one fact's field. `scope`: subject, launch or fact (the quantified fact).

    op "present"/"missing" test presence; any other op implies the field (and a referenced field) is present.
    """

    scope: str
    field: str
    op: str
    value: object = None
    # Python says 0 == False and 1 == True; the language does not. Equality and hashing of literals (used to
    # dedupe and to find contradictions) must not merge `ne 0` with `ne false`.
    typed_value: object = dataclass_field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "typed_value", _typed(self.value))


def _typed(value: object) -> object:
    if isinstance(value, tuple):
        return tuple(_typed(v) for v in value)
    return (type(value).__name__, value)


@dataclass(frozen=True)
class BAnd:
    items: tuple["BForm", ...]


@dataclass(frozen=True)
class BOr:
    items: tuple["BForm", ...]


@dataclass(frozen=True)
class BQuant:
    negated: bool
    kind: str
    where: "BForm"  # over scope "fact" literals


BForm = Union[Lit, BAnd, BOr, BQuant]
TRUE = BAnd(())
FALSE = BOr(())

# The complement of each literal op on a *present* field (Kleene negation of a defined value).
# eq/ne, in/not_in and regex/not_regex are exact complements. gt/lte are not: a comparison of a value of the
# wrong type ("x" > 1, contains on a scalar) is false both ways, so the complement of gt is "~gt"
# (lte, or not a number), which the backend compiles with type tags.
COMPLEMENT = {"eq": "ne", "ne": "eq", "in": "not_in", "not_in": "in", "regex": "not_regex", "not_regex": "regex"}
for _op in ("gt", "gte", "lt", "lte", "contains", "not_contains"):
    COMPLEMENT[_op], COMPLEMENT["~" + _op] = "~" + _op, _op


def _and(*items: BForm) -> BForm:
    flat: list[BForm] = []
    for item in items:
        if item == FALSE:
            return FALSE
        if isinstance(item, BAnd):
            flat.extend(item.items)
        else:
            flat.append(item)
    flat = list(dict.fromkeys(flat))
    return flat[0] if len(flat) == 1 else BAnd(tuple(flat))


def _or(*items: BForm) -> BForm:
    flat: list[BForm] = []
    for item in items:
        if item == TRUE:
            return TRUE
        if isinstance(item, BOr):
            flat.extend(item.items)
        else:
            flat.append(item)
    flat = list(dict.fromkeys(flat))
    return flat[0] if len(flat) == 1 else BOr(tuple(flat))


def negate(form: BForm) -> BForm:
    if isinstance(form, BAnd):
        return _or(*(negate(i) for i in form.items))
    if isinstance(form, BOr):
        return _and(*(negate(i) for i in form.items))
    if isinstance(form, BQuant):
        return BQuant(not form.negated, form.kind, form.where)
    if form.op == "present":
        return Lit(form.scope, form.field, "missing")
    if form.op == "missing":
        return Lit(form.scope, form.field, "present")
    negop = COMPLEMENT[form.op]
    parts: list[BForm] = [Lit(form.scope, form.field, "missing"), Lit(form.scope, form.field, negop, form.value)]
    if isinstance(form.value, Ref):
        parts.append(Lit(form.value.scope, form.value.field, "missing"))
    return _or(*parts)


def truth(cond: Cond, want: bool) -> BForm:
    """The two-valued formula for 'cond is definitely true' (want=True) or 'definitely false'."""
    if isinstance(cond, Leaf):
        return _leaf_truth(cond, want)
    if isinstance(cond, Not):
        return truth(cond.item, not want)
    if isinstance(cond, All):
        parts = [truth(c, want) for c in cond.items]
        return _and(*parts) if want else _or(*parts)
    if isinstance(cond, AnyOf):
        parts = [truth(c, want) for c in cond.items]
        return _or(*parts) if want else _and(*parts)
    if isinstance(cond, Quantified):
        found = BQuant(False, cond.kind, _fact_truth(cond.where, True))
        holds = want != cond.negated
        return found if holds else negate(found)
    raise TypeError(cond)


def _leaf_truth(leaf: Leaf, want: bool) -> BForm:
    if leaf.op == "exists":
        present = leaf.value is want
        return Lit(leaf.scope, leaf.field, "present" if present else "missing")
    op = leaf.op if want else COMPLEMENT[leaf.op]
    lit = Lit(leaf.scope, leaf.field, op, leaf.value)
    if isinstance(leaf.value, Ref):
        return _and(lit, Lit(leaf.value.scope, leaf.value.field, "present"))
    return lit


def _fact_truth(cond: Cond, want: bool) -> BForm:
    """Inside exists/absent: a quantified fact's test, as one alias expression (no nested quantifiers)."""
    if isinstance(cond, Leaf):
        if isinstance(cond.value, Ref):
            if not want:
                raise LogicError("a $subject/$launch reference cannot be negated inside exists/absent; use absent instead")
            # One alias expression: the engine reads a comparison with a missing reference as no match.
            return Lit("fact", cond.field, cond.op, cond.value)
        return _leaf_truth(cond, want)
    if isinstance(cond, Not):
        return _fact_truth(cond.item, not want)
    if isinstance(cond, (All, AnyOf)):
        parts = [_fact_truth(c, want) for c in cond.items]
        conj = isinstance(cond, All) == want
        return _and(*parts) if conj else _or(*parts)
    raise LogicError("exists/absent cannot be nested")


@dataclass(frozen=True)
class RuleLogic:
    applies_when: Cond | None
    fail_when: Cond
    needs: tuple[tuple[str, str], ...]  # (scope, field)


def outcome_formulas(logic: RuleLogic) -> dict[str, BForm]:
    scope_t = truth(logic.applies_when, True) if logic.applies_when else TRUE
    scope_f = truth(logic.applies_when, False) if logic.applies_when else FALSE
    needs_ok = _and(*(Lit(s, f, "present") for s, f in logic.needs))
    viol_t = truth(logic.fail_when, True)
    viol_f = truth(logic.fail_when, False)
    scope_u = _and(negate(scope_t), negate(scope_f))
    viol_u = _and(negate(viol_t), negate(viol_f))
    return {
        "fail": _and(scope_t, needs_ok, viol_t),
        "pass": _and(scope_t, needs_ok, viol_f),
        "not_applicable": scope_f,
        "needs_info": _or(scope_u, _and(scope_t, negate(needs_ok)), _and(scope_t, needs_ok, viol_u)),
    }


Dnf = dict[str, list[tuple[BForm, ...]]]


class _EncodedDnf:
    """A DNF cached as JSON data by an earlier run: decoded only if the rule is ever registered."""

    __slots__ = ("payload",)

    def __init__(self, payload: object):
        self.payload = payload


_OUTCOME_DNF: dict[int, tuple[RuleLogic, Dnf | _EncodedDnf]] = {}


def outcome_dnf(logic: RuleLogic) -> Dnf:
    """outcome -> DNF conjuncts, computed once per rule (load-time checks and registration both need it).

    Keyed by identity: conditions that differ only as 0 vs False compare equal as dataclasses.
    """
    cached = _OUTCOME_DNF.get(id(logic))
    if cached is not None and cached[0] is logic:
        if not isinstance(cached[1], _EncodedDnf):
            return cached[1]
        decoded = _decode_or_none(cached[1].payload)
        if decoded is not None:
            _remember(logic, decoded)
            return decoded
    computed = {outcome: dnf(form) for outcome, form in outcome_formulas(logic).items()}
    _remember(logic, computed)
    return computed


def prime_outcome_dnf(logic: RuleLogic, encoded: object) -> None:
    """Seed the memo with `encode_dnf` data cached for an identical rule; a payload that does not decode is
    recomputed on use, never an error."""
    _remember(logic, _EncodedDnf(encoded))


def _remember(logic: RuleLogic, value: Dnf | _EncodedDnf) -> None:
    if len(_OUTCOME_DNF) > 20_000:  # processes that reload libraries many times (tests) stay bounded
        _OUTCOME_DNF.clear()
    _OUTCOME_DNF[id(logic)] = (logic, value)


# -- DNFs as JSON data (for the pack cache). Values keep their exact type: JSON tells true, 1 and 1.0 apart;
# tuples and references are tagged objects (a plain value is never an object).
def encode_dnf(formulas: Dnf) -> dict[str, list[list]]:
    return {outcome: [[_encode_form(atom) for atom in conj] for conj in conjuncts]
            for outcome, conjuncts in formulas.items()}


def decode_dnf(payload: object) -> Dnf:
    """The inverse of encode_dnf; ValueError on anything it did not write."""
    if not isinstance(payload, dict) or set(payload) != set(OUTCOME_FORMULAS):
        raise ValueError("not an outcome DNF")
    return {outcome: [tuple(_decode_form(atom) for atom in _as_list(conj)) for conj in _as_list(payload[outcome])]
            for outcome in OUTCOME_FORMULAS}


def _decode_or_none(payload: object) -> Dnf | None:
    try:
        return decode_dnf(payload)
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def _encode_form(form: BForm) -> list:
    if isinstance(form, Lit):
        return ["L", form.scope, form.field, form.op, _encode_value(form.value)]
    if isinstance(form, BQuant):
        return ["Q", form.negated, form.kind, _encode_form(form.where)]
    if isinstance(form, (BAnd, BOr)):
        return ["A" if isinstance(form, BAnd) else "O", [_encode_form(i) for i in form.items]]
    raise TypeError(f"not a formula: {form!r}")


def _encode_value(value: object) -> object:
    if isinstance(value, Ref):
        return {"ref": [value.scope, value.field]}
    if isinstance(value, tuple):
        return {"list": [_encode_value(v) for v in value]}
    if value is None or isinstance(value, (str, int, float)):  # bool is an int
        return value
    raise TypeError(f"value {value!r} has no JSON form")


def _decode_form(item: object) -> BForm:
    tag, *rest = _as_list(item)
    if tag == "L":
        scope, field_name, op, value = rest
        return Lit(_as_str(scope), _as_str(field_name), _as_str(op), _decode_value(value))
    if tag == "Q":
        negated, kind, where = rest
        if not isinstance(negated, bool):
            raise ValueError("bad quantifier")
        return BQuant(negated, _as_str(kind), _decode_form(where))
    if tag in ("A", "O"):
        (items,) = rest
        decoded = tuple(_decode_form(i) for i in _as_list(items))
        return BAnd(decoded) if tag == "A" else BOr(decoded)
    raise ValueError(f"unknown formula tag {tag!r}")


def _decode_value(value: object) -> object:
    if isinstance(value, dict):
        if set(value) == {"ref"}:
            scope, field_name = _as_list(value["ref"])
            return Ref(_as_str(scope), _as_str(field_name))
        if set(value) == {"list"}:
            return tuple(_decode_value(v) for v in _as_list(value["list"]))
        raise ValueError("unknown value tag")
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise ValueError(f"bad value {value!r}")


def _as_list(value: object) -> list:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value


def _as_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def dnf(form: BForm) -> list[tuple[BForm, ...]]:
    """Conjunctions of atoms; an atom is a literal or a quantifier. Capped to keep networks small."""
    if isinstance(form, (Lit, BQuant)):
        return [(form,)]
    if isinstance(form, BOr):
        out: list[tuple[BForm, ...]] = []
        for item in form.items:
            out.extend(dnf(item))
            if len(out) > MAX_CONJUNCTS:
                out = _dedupe(out)
            if len(out) > MAX_CONJUNCTS:
                raise LogicError(f"condition expands to more than {MAX_CONJUNCTS} alternatives; simplify the rule")
        return _dedupe(out)
    result: list[tuple[BForm, ...]] = [()]
    for item in form.items:
        alternatives = dnf(item)
        # Drop contradictory and duplicate conjuncts as we go: the cap is on real alternatives, not on
        # intermediate products that simplify away (negated three-valued tests multiply fast).
        result = _dedupe([left + right for left in result for right in alternatives])
        if len(result) > MAX_CONJUNCTS:
            raise LogicError(f"condition expands to more than {MAX_CONJUNCTS} alternatives; simplify the rule")
    return _dedupe(result)


def _dedupe(conjuncts: list[tuple[BForm, ...]]) -> list[tuple[BForm, ...]]:
    seen: dict[frozenset, tuple[BForm, ...]] = {}
    for conj in conjuncts:
        atoms = tuple(dict.fromkeys(conj))
        if _contradicts(atoms):
            continue
        seen.setdefault(frozenset(atoms), atoms)
    return list(seen.values())


def _contradicts(atoms: tuple[BForm, ...]) -> bool:
    present = {(a.scope, a.field) for a in atoms if isinstance(a, Lit) and a.op != "missing"}
    missing = {(a.scope, a.field) for a in atoms if isinstance(a, Lit) and a.op == "missing"}
    lits = {(a.scope, a.field, a.op, a.typed_value) for a in atoms if isinstance(a, Lit)}
    if any((s, f, COMPLEMENT.get(op, ""), v) in lits for s, f, op, v in lits):
        return True
    quants = {(a.negated, a.kind, a.where) for a in atoms if isinstance(a, BQuant)}
    opposite = any((not neg, kind, where) in quants for neg, kind, where in quants)
    return bool(present & missing) or opposite
