"""Evaluate compiled rules on the durable-rules (Rete) engine, defending against its known pitfalls.

- One long-lived Host with no timer threads: actions are drained synchronously by this module, so an
  audit is read only after every action has run (assert_facts may return early otherwise).
- Every fact has a unique explicit id; a never-firing catch-all rule makes every fact 'handled'.
- The launch fact is asserted last and every rule requires it: negation sees all facts (order-proof).
- Actions never raise: failures become error outcomes. Engine state is checked for swallowed exceptions.
- Rulesets are capped in size (sibling-condition limits hang the engine) and named <pack>@<version>#<n>.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from durable.engine import Host, MessageNotHandledException, MessageObservedException

from .conditions import Ref
from .gates import Gate, fact_gates, gated_outcome_dnf, gates_of, item_key, type_tag
from .logic import OUTCOME_FORMULAS, BAnd, BForm, BOr, BQuant, Lit, LogicError, dnf
from .model import EvalRule, Fact, RawResult

MAX_RULES_PER_RULESET = 47  # plus the catch-all: stays under the 64-sibling limit (error 303)
MAX_FACT_PROPERTIES = 250   # durable-rules allows 255 per fact
ASSERT_BATCH = 500
_NEVER = "__never__"


class _SyncHost(Host):
    """A Host without background timer threads. Actions are drained by DurableBackend through the C API,
    so durable's own action callables are never invoked; the one it asks for at registration says so loudly."""

    def _run(self) -> None:  # no dispatch/timer threads: we drain actions ourselves
        return None

    def get_action(self, action_name: str) -> Callable:
        def unreachable(c: Any) -> None:
            raise RuntimeError(f"action {action_name} ran through durable's loop; DurableBackend drains actions itself")

        return unreachable


@dataclass
class _CompiledRuleset:
    name: str
    rules: list[EvalRule]
    kinds: set[str]
    regexes: dict[str, tuple[str, str, str]]  # prop -> (kind, field, pattern)
    explode: set[tuple[str, str]]  # (kind, list field) asserted as one fact per item
    fields: dict[str, set[str]] = field(default_factory=dict)
    definition: dict = field(default_factory=dict)
    outcome_of: dict[str, tuple[EvalRule, str]] = field(default_factory=dict)  # engine rule name -> (rule, outcome)
    ref_targets: set[tuple[str, str]] = field(default_factory=set)  # (kind, field) other aliases compare against
    self_exclude: set[tuple[str, str]] = field(default_factory=set)
    gates: dict[str, tuple[Gate, ...]] = field(default_factory=dict)  # rule id -> gates (see gates.py)
    # kind some rule joins over -> the gates of each exists/absent over it; a fact closed by one gate of every
    # quantifier can match none of them (an empty tuple: every fact may match)
    quantified: dict[str, set[tuple[Gate, ...]]] = field(default_factory=dict)


def _regex_prop(kind: str, field_name: str, pattern: str) -> str:
    digest = hashlib.sha1(f"{kind}\0{field_name}\0{pattern}".encode()).hexdigest()[:10]
    return f"re__{digest}"


class _Compiler:
    def __init__(self, ruleset_name: str):
        self.name = ruleset_name
        self.kinds: set[str] = {"launch"}
        self.regexes: dict[str, tuple[str, str, str]] = {}
        self.explode: set[tuple[str, str]] = set()
        self.fields: dict[str, set[str]] = {}  # kind -> fields the rules read: facts carry only those
        self.ref_targets: set[tuple[str, str]] = set()  # (kind, field) compared against from another alias
        self.self_exclude: set[tuple[str, str]] = set()  # (kind, list field): skip items equal to the fact's own ref
        self.quantified: dict[str, set[tuple[Gate, ...]]] = {}

    def snapshot(self) -> tuple:
        """The state before a rule, to roll back to when the rule moves on to the next ruleset."""
        return ({"kinds": set(self.kinds), "regexes": dict(self.regexes), "explode": set(self.explode),
                 "fields": {k: set(v) for k, v in self.fields.items()}, "ref_targets": set(self.ref_targets),
                 "self_exclude": set(self.self_exclude), "quantified": {k: set(v) for k, v in self.quantified.items()}},)

    def restore(self, snapshot: tuple) -> None:
        for name, value in snapshot[0].items():
            setattr(self, name, value)

    def _uses(self, kind: str, field_name: str) -> None:
        self.fields.setdefault(kind, set()).add(field_name)

    def rule(self, index: int, rule: EvalRule) -> dict[str, dict]:
        self.kinds.add(rule.subject)
        out: dict[str, dict] = {}
        formulas = gated_outcome_dnf(rule.logic)
        for outcome in OUTCOME_FORMULAS:
            conjuncts = [alt for conj in formulas[outcome] for split in _split_ref_quants(conj)
                         for alt in _split_ref_orders(split)]
            for n, conj in enumerate(conjuncts):
                out[f"{index}|{outcome}|{n}"] = self._conjunct(rule.subject, conj, f"{self.name}|{index}|{outcome}")
        return out

    def _alias(self, scope: str, subject: str) -> str:
        return "subj" if scope == "subject" or subject == "launch" else "lch"

    def _conjunct(self, subject: str, atoms: tuple[BForm, ...], action: str) -> dict:
        by_alias: dict[str, list[dict]] = {"lch": [], "subj": []}
        quants: list[BQuant] = []
        for atom in atoms:
            if isinstance(atom, BQuant):
                quants.append(atom)
            else:
                kind = "launch" if self._alias(atom.scope, subject) == "lch" else subject
                by_alias[self._alias(atom.scope, subject)].append(self._lit(atom, kind, subject))
        parts: list[dict] = []
        if subject != "launch":
            parts.append({"lch": self._and([{"kind": "launch"}] + by_alias["lch"])})
        parts.append({"subj": self._and([{"kind": subject}] + by_alias["subj"])})
        for i, quant in enumerate(quants):
            self.kinds.add(quant.kind)
            alias = f"q{i}" + ("$not" if quant.negated else "")
            parts.append({alias: self._where(quant, subject)})
        for part in parts:
            (alias, expr), = part.items()
            if _alias_cost(expr) > MAX_ALIAS_COST:
                raise LogicError(f"condition too complex for the engine ({_alias_cost(expr)} join expressions on one fact, "
                                 f"at most {MAX_ALIAS_COST}); split the rule or simplify any/not")
        return {"all": parts, "run": action}

    def _where(self, quant: BQuant, subject: str) -> dict:
        kind = quant.kind
        where = quant.where
        self.quantified.setdefault(kind, set()).add(fact_gates(where))
        exploded = [a for a in (where.items if isinstance(where, BAnd) else (where,))
                    if isinstance(a, Lit) and a.op == "contains" and isinstance(a.value, Ref)]
        if len(exploded) > 1:
            raise LogicError("at most one 'contains' with a reference per exists/absent")
        if exploded:
            self.explode.add((kind, exploded[0].field))
            self._uses(kind, exploded[0].field)
            kind = f"{kind}*{exploded[0].field}"
        elif self._mentions_ref_contains(where):
            raise LogicError("'contains' with a reference must stand directly in the exists/absent condition, not under any/not")
        if where == BOr(()):
            return {"kind": _NEVER}
        if exploded and quant.kind == subject:
            # exists/absent never match the subject itself, nor its own list items. With `contains $subject.ref`
            # (refs are unique) the subject's own item can only ever match the subject: such items are left out
            # in _prepare. (A $neq join against the subject's id made the C engine segfault.)
            ref = exploded[0].value
            if ref.scope != "subject" or ref.field != "ref":
                raise LogicError(f"a list join of {subject} with itself can only use 'contains: $subject.ref'")
            self.self_exclude.add((quant.kind, exploded[0].field))
        return self._and([{"kind": kind}, self._expr(where, quant.kind, subject, exploded[0] if exploded else None)])

    def _mentions_ref_contains(self, form: BForm) -> bool:
        if isinstance(form, Lit):
            return form.op == "contains" and isinstance(form.value, Ref)
        if isinstance(form, (BAnd, BOr)):
            return any(self._mentions_ref_contains(i) for i in form.items)
        return False

    def _expr(self, form: BForm, kind: str, subject: str, exploded: Lit | None) -> dict:
        if isinstance(form, BAnd):
            return self._and([self._expr(i, kind, subject, exploded) for i in form.items])
        if isinstance(form, BOr):
            return {"$or": [self._expr(i, kind, subject, exploded) for i in form.items]} if form.items else {"kind": _NEVER}
        if exploded is not None and form == exploded:
            alias = self._alias(form.value.scope, subject)
            target = ("launch" if alias == "lch" else subject, form.value.field)
            self._uses(*target)
            self.ref_targets.add(target)
            return {f"{form.field}__item__v": {alias: f"{form.value.field}__rv"}}
        return self._lit(form, kind, subject)

    @staticmethod
    def _and(items: list[dict]) -> dict:
        # An empty conjunction is 'no constraint' ({}), never {"$and": []}: the engine reads that as matching any fact.
        items = [i for i in items if i]
        items = [x for i in items for x in (i["$and"] if set(i) == {"$and"} else [i])]
        # Tests against another alias go first: after a true $or of constant tests the engine skips the rest
        # of the join expressions (measured: `$or` true, then `x == lch.y` false -> the rule fired).
        items.sort(key=lambda i: not _has_ref(i))
        if not items:
            return {}
        return items[0] if len(items) == 1 else {"$and": items}

    def _value(self, value: Any, subject: str) -> Any:
        if isinstance(value, Ref):
            alias = self._alias(value.scope, subject)
            self._uses("launch" if alias == "lch" else subject, value.field)
            return {alias: value.field}
        return value

    def _lit(self, lit: Lit, kind: str, subject: str) -> dict:
        """One literal as an engine expression, type-strict like the reference evaluator.

        The engine itself coerces ("1" == 1 == True, "x" > 1), so facts carry typed companions of every field
        they are tested on (see _typed_fields): f__v a typed key ("n:1.0", "s:x", "b:True", "l:" for lists),
        f__num the value if it is a number, f__nn if it is present but not a number, f__k typed list items.
        A comparison with a missing reference raises error 311 in the engine, so reference targets always
        carry g__rv / g__rnum / g__kind (n number, x other, m missing) and every test on them is guarded.
        """
        f, op = lit.field, lit.op
        self._uses(kind, f)
        if op == "present":
            return {"$ex": {f: 1}}
        if op == "missing":
            return {"$nex": {f: 1}}
        if op == "nonnum":  # present and not a number (lists included)
            return {f"{f}__nn": 1}
        if op in ("regex", "not_regex"):
            prop = _regex_prop(kind, f, lit.value)
            self.regexes[prop] = (kind, f, lit.value)
            return {prop: op == "regex"}
        fv, fnum, fnn, fkeys = f"{f}__v", f"{f}__num", f"{f}__nn", f"{f}__k"
        if op == "in":
            return self._or([{fv: item_key(v)} for v in lit.value])
        if op == "not_in":
            return self._and([{"$neq": {fv: item_key(v)}} for v in lit.value])
        if isinstance(lit.value, Ref):
            return self._ref_lit(lit, subject)
        v = lit.value
        if op == "eq":
            return {fv: item_key(v)}
        if op == "ne":
            return {"$neq": {fv: item_key(v)}}
        if op in ("gt", "gte", "lt", "lte"):
            return {"$" + op: {fnum: v}}
        if op in _ORDER_COMPLEMENT:
            return {"$or": [{fnn: 1}, {"$" + _ORDER_COMPLEMENT[op]: {fnum: v}}]}
        key = item_key(v)
        if op == "contains":
            return {"$iany": {fkeys: {"$i": key}}}
        if op == "~contains":  # present and (not a list, or a list without the item)
            return {"$or": [{"$neq": {fv: "l:"}}, {f"{f}__n": 0}, {"$iall": {fkeys: {"$neq": {"$i": key}}}}]}
        if op == "not_contains":
            return {"$or": [{f"{f}__n": 0}, {"$iall": {fkeys: {"$neq": {"$i": key}}}}]}
        if op == "~not_contains":
            return {"$or": [{"$neq": {fv: "l:"}}, {"$iany": {fkeys: {"$i": key}}}]}
        raise LogicError(f"operator {op!r} has no engine form")

    def _ref_lit(self, lit: Lit, subject: str) -> dict:
        f, op, ref = lit.field, lit.op, lit.value
        alias = self._alias(ref.scope, subject)
        if lit.scope != "fact" and self._alias(lit.scope, subject) == alias:
            raise LogicError(f"comparing {f} with {ref} compares two fields of the same fact; the engine cannot join a "
                             "fact with itself (on a launch rule, compare with a literal value)")
        self._uses("launch" if alias == "lch" else subject, ref.field)
        self.ref_targets.add(("launch" if alias == "lch" else subject, ref.field))

        def other(suffix: str) -> dict:
            return {alias: f"{ref.field}__{suffix}"}

        fv, fnum, fnn = f"{f}__v", f"{f}__num", f"{f}__nn"
        ref_present = {"$neq": {"k_m__": other("kind")}}
        ref_number = {"k_n__": other("kind")}
        if op == "eq":  # a missing target has g__rv "m:", equal to nothing
            return {fv: other("rv")}
        if op == "ne":
            return {"$and": [ref_present, {"$neq": {fv: other("rv")}}]}
        if op in ("gt", "gte", "lt", "lte"):
            return {"$and": [ref_number, {"$" + op: {fnum: other("rnum")}}]}
        if op in _ORDER_COMPLEMENT:  # both present; either is not a number, or the opposite comparison holds
            return {"$or": [
                {"$and": [{fnn: 1}, ref_present]},
                {"$and": [{"$ex": {fnum: 1}}, {"k_x__": other("kind")}]},
                {"$and": [ref_number, {"$" + _ORDER_COMPLEMENT[op]: {fnum: other("rnum")}}]},
            ]}
        raise LogicError(f"operator {op!r} cannot take a reference")

    @staticmethod
    def _or(items: list[dict]) -> dict:
        return items[0] if len(items) == 1 else {"$or": items}


_ORDER_COMPLEMENT = {"~gt": "lte", "~gte": "lt", "~lt": "gte", "~lte": "gt"}


def _has_ref(expr: Any) -> bool:
    if isinstance(expr, dict):
        if len(expr) == 1 and next(iter(expr)) in ("lch", "subj"):
            return True
        return any(_has_ref(v) for v in expr.values())
    if isinstance(expr, list):
        return any(_has_ref(v) for v in expr)
    return False


def _mentions_ref_in_or(form: BForm, inside_or: bool = False) -> bool:
    if isinstance(form, Lit):
        return inside_or and isinstance(form.value, Ref)
    if isinstance(form, BOr):
        return any(_mentions_ref_in_or(i, True) for i in form.items)
    if isinstance(form, BAnd):
        return any(_mentions_ref_in_or(i, inside_or) for i in form.items)
    return False


def _split_ref_quants(conj: tuple[BForm, ...]) -> list[tuple[BForm, ...]]:
    """exists/absent whose condition has alternatives comparing against another fact are split by alternative:
    the engine raises error 311 or skips tests for an $or of join tests. exists(A or B) = exists A or exists B
    (one engine rule each); absent(A or B) = absent A and absent B (two negated aliases in one rule)."""
    for i, atom in enumerate(conj):
        if isinstance(atom, BQuant) and _mentions_ref_in_or(atom.where):
            rest = conj[:i] + conj[i + 1:]
            parts = [BQuant(atom.negated, atom.kind, BAnd(alt) if len(alt) != 1 else alt[0]) for alt in dnf(atom.where)]
            if atom.negated:
                return _split_ref_quants(rest + tuple(parts))
            return [out for part in parts for out in _split_ref_quants(rest + (part,))]
    return [conj]


def _split_ref_orders(conj: tuple[BForm, ...]) -> list[tuple[BForm, ...]]:
    """A complemented ordering against another fact ("not f > $launch.g": either side is not a number, or f <= g)
    becomes one engine rule per alternative: durable-rules evaluates an $or of $and's that compare against another
    alias wrongly (both the test and its complement matched). Alternatives may overlap; outcomes are sets."""
    for i, atom in enumerate(conj):
        if isinstance(atom, Lit) and atom.op in _ORDER_COMPLEMENT and isinstance(atom.value, Ref):
            ref, rest = atom.value, conj[:i] + conj[i + 1:]
            alternatives = [
                (Lit(atom.scope, atom.field, "nonnum"), Lit(ref.scope, ref.field, "present")),
                (Lit(atom.scope, atom.field, "present"), Lit(ref.scope, ref.field, "nonnum")),
                (Lit(atom.scope, atom.field, _ORDER_COMPLEMENT[atom.op], ref),),
            ]
            return [out for alt in alternatives for out in _split_ref_orders(rest + alt)]
    return [conj]
MAX_ALIAS_COST = 28  # the engine allows 32 expressions per join node (error 113 at registration)


def _alias_cost(expr: Any, root: bool = True) -> int:
    """Expressions an alias takes in the engine's join node (measured): nested $and/$or cost 2 each, a test
    against another alias's value 1; plain tests on constants are alpha nodes and cost nothing here."""
    def is_ref(value: Any) -> bool:
        return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("lch", "subj")

    cost = 0
    for key, value in expr.items():
        if key in ("$and", "$or"):
            cost += (0 if root and key == "$and" else 2) + sum(_alias_cost(i, False) for i in value)
        elif key in ("$iany", "$iall", "$ex", "$nex"):
            continue
        elif key.startswith("$"):
            cost += sum(1 for v in value.values() if is_ref(v))
        else:
            cost += 1 if is_ref(value) else 0
    return cost


def check_rule(rule: EvalRule) -> None:
    """Compile one rule as registration would, without registering it: raises LogicError if the engine
    cannot take it (too many engine rules for one ruleset, too many join expressions on one alias)."""
    defs = _Compiler("check#0").rule(0, rule)
    if len(defs) > MAX_RULES_PER_RULESET:
        raise LogicError(f"the condition expands to {len(defs)} engine rules (at most {MAX_RULES_PER_RULESET}); "
                         "split it into two rules or simplify any/not nesting")


def _typed_fields(key: str, value: Any, out: dict) -> None:
    if isinstance(value, (list, tuple)):
        out[f"{key}__n"] = len(value)
        out[f"{key}__k"] = [item_key(v) for v in value]
        out[f"{key}__nn"] = 1
        out[f"{key}__v"] = "l:"
        return
    out[f"{key}__v"] = item_key(value)
    if type_tag(value) == "n":
        out[f"{key}__num"] = value
    else:
        out[f"{key}__nn"] = 1


class DurableBackend:
    """Owns one Host for the life of the process; registers each ruleset once under a versioned name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._host = _SyncHost()
        self._rulesets: dict[str, list[_CompiledRuleset]] = {}
        self._sids = itertools.count(1)

    # -- registration -------------------------------------------------------------------------
    def register(self, key: str, rules: list[EvalRule]) -> None:
        """Compile and register `rules` under `key` (e.g. 'cn-advertising@2026.12.0+<hash>'). Idempotent."""
        with self._lock:
            if key in self._rulesets:
                return
            chunks: list[_CompiledRuleset] = []
            current: list[EvalRule] = []
            defs: dict[str, dict] = {}
            compiler = _Compiler(f"{key}#0")
            # Rulesets of one subject kind each receive only the facts they read: fewer asserts per chunk.
            for rule in sorted(rules, key=lambda r: r.subject):
                before = compiler.snapshot()
                rule_defs = compiler.rule(len(current), rule)
                if len(rule_defs) > MAX_RULES_PER_RULESET:
                    raise LogicError(f"rule {rule.id} needs {len(rule_defs)} engine rules; at most {MAX_RULES_PER_RULESET}")
                if len(defs) + len(rule_defs) > MAX_RULES_PER_RULESET:
                    compiler.restore(before)  # this rule's kinds and fields belong to the next ruleset only
                    chunks.append(self._finish(compiler, current, defs))
                    compiler = _Compiler(f"{key}#{len(chunks)}")
                    current, defs = [], {}
                    rule_defs = compiler.rule(0, rule)
                current.append(rule)
                defs.update(rule_defs)
            if current:
                chunks.append(self._finish(compiler, current, defs))
            for chunk in chunks:
                self._host.register_rulesets({chunk.name: chunk.definition})
            self._rulesets[key] = chunks

    def _finish(self, compiler: _Compiler, rules: list[EvalRule], defs: dict[str, dict]) -> _CompiledRuleset:
        definition = dict(defs)
        definition["catch_all"] = {"all": [{"nv": {"kind": _NEVER}}, {"any_fact": {"$ex": {"kind": 1}}}], "run": f"{compiler.name}|catch"}
        outcome_of: dict[str, tuple[EvalRule, str]] = {}
        for name, spec in defs.items():
            index, outcome, _ = name.split("|")
            outcome_of[name] = (rules[int(index)], outcome)
        return _CompiledRuleset(compiler.name, list(rules), set(compiler.kinds), dict(compiler.regexes),
                                set(compiler.explode), {k: set(v) for k, v in compiler.fields.items()}, definition,
                                outcome_of, set(compiler.ref_targets), set(compiler.self_exclude),
                                {r.id: gates_of(r.logic) for r in rules}, {k: set(v) for k, v in compiler.quantified.items()})

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, key: str, facts: list[Fact]) -> RawResult:
        """Run every ruleset registered under `key` on `facts`."""
        with self._lock:
            chunks = self._rulesets[key]
            result = RawResult.for_rules((r for chunk in chunks for r in chunk.rules), facts)
            by_kind: dict[str, list[Fact]] = {}
            for fact in facts:
                by_kind.setdefault(fact["kind"], []).append(fact)
            for chunk in chunks:
                self._run_chunk(chunk, self._through_gates(chunk, by_kind, result), result)
            return result

    @staticmethod
    def _through_gates(chunk: _CompiledRuleset, by_kind: dict[str, list[Fact]], result: RawResult) -> list[Fact]:
        """The chunk's facts that the network must see; not_applicable for every (rule, subject) a gate closes.

        A fact is left out when every rule of its kind in the chunk is closed for it and it can match no
        exists/absent of the chunk (a gate of each quantifier's condition closes it)."""
        kept: list[Fact] = []
        for kind in sorted(chunk.kinds):  # a fixed assertion order: durable's negation depends on it
            facts = by_kind.get(kind, ())
            rules = [r for r in chunk.rules if r.subject == kind]
            gated = [(r.id, chunk.gates[r.id]) for r in rules if chunk.gates[r.id]]
            joined = chunk.quantified.get(kind, set())
            if kind == "launch" or len(gated) < len(rules) or () in joined:
                always = True  # some rule or quantifier is open for every fact of this kind
            elif not gated and not joined:
                continue
            else:
                always = False
            fields = sorted({g.field for _, gates in gated for g in gates} | {g.field for gates in joined for g in gates})
            verdicts: dict[tuple, tuple[list[str], bool]] = {}  # gate-field values -> (closed rule ids, keep fact)
            for fact in facts:
                signature = tuple(_hashable(fact.get(f)) for f in fields)
                verdict = verdicts.get(signature)
                if verdict is None:  # many facts share their gate-field values: judge each combination once
                    closed = [rule_id for rule_id, gates in gated if any(g.closes(fact.get(g.field)) for g in gates)]
                    matchable = any(not any(g.closes(fact.get(g.field)) for g in gates) for gates in joined)
                    verdict = verdicts[signature] = (closed, always or len(closed) < len(gated) or matchable)
                for rule_id in verdict[0]:
                    result.add(rule_id, fact["ref"], "not_applicable")
                if verdict[1]:
                    kept.append(fact)
        return kept

    def _run_chunk(self, chunk: _CompiledRuleset, facts: list[Fact], result: RawResult) -> None:
        sid = str(next(self._sids))
        launch: list[Fact] = []
        batches: list[str] = []  # serialised as prepared: a 15,000-fact chunk's dicts never all exist at once
        batch: list[Fact] = []
        try:
            for fact in self._prepare(chunk, facts, sid):
                if fact["kind"] == "launch":
                    launch.append(fact)
                    continue
                batch.append(fact)
                if len(batch) == ASSERT_BATCH:
                    batches.append(json.dumps(batch, ensure_ascii=False))
                    batch = []
        except LogicError as exc:  # e.g. a fact over the engine's 255-property limit: error outcomes, not a crash
            result.engine_errors.append(f"{chunk.name}: {exc}")
            return
        if batch:
            batches.append(json.dumps(batch, ensure_ascii=False))
        if len(launch) != 1:
            result.engine_errors.append(f"{chunk.name}: expected one launch fact, got {len(launch)}")
            return
        ruleset = self._host.get_ruleset(chunk.name)
        self._actions_run = 0
        self._chunk = chunk
        try:
            for data in batches:
                self._assert(ruleset, data, result, many=True)
            # the launch fact is the 'evaluate now' sentinel
            self._assert(ruleset, json.dumps(launch[0], ensure_ascii=False), result, many=False)
            self._drain_queue(ruleset, result)  # anything queued outside the states we asserted into
            state = self._host.get_state(chunk.name, sid)
            if "exception" in state:
                result.engine_errors.append(f"{chunk.name}: engine reported: {state['exception']}")
        except (MessageNotHandledException, MessageObservedException) as exc:
            result.engine_errors.append(f"{chunk.name}: {type(exc).__name__}: {str(exc)[:200]}")
        except Exception as exc:  # the C engine raises plain Exceptions with error codes
            result.engine_errors.append(f"{chunk.name}: {type(exc).__name__}: {exc}")
        finally:
            # delete_state on a state in which no action ran crashes the C engine (segfault): only clean up used states.
            if self._actions_run:
                try:
                    self._host.delete_state(chunk.name, sid)
                except Exception:
                    pass

    def _assert(self, ruleset: Any, data: str, result: RawResult, many: bool) -> None:
        """Assert fact(s) and run every action they trigger before returning.

        durable's own Python loop serialises the state document after every action; our actions never change
        state, so we drive the C API directly: start_action_for_state, then complete_and_start_action until done.
        """
        import durable_rules_engine as dre

        raw = (dre.assert_facts if many else dre.assert_fact)(ruleset._handle, data)
        state_handle = ruleset._handle_result(raw, data)
        if not state_handle:
            return
        started = dre.start_action_for_state(ruleset._handle, state_handle)
        if started:
            self._run_actions(ruleset, json.loads(started[1]), state_handle, result)

    def _drain_queue(self, ruleset: Any, result: RawResult) -> None:
        import durable_rules_engine as dre

        while started := dre.start_action(ruleset._handle):
            self._run_actions(ruleset, json.loads(started[1]), started[2], result)

    def _run_actions(self, ruleset: Any, message: dict | None, state_handle: Any, result: RawResult) -> None:
        """Record each fired action, then ask the engine for the next one in the same state until none is left."""
        import durable_rules_engine as dre

        while message:
            for action_name, matched in message.items():
                self._actions_run += 1
                self._record(action_name, matched, result)
            following = dre.complete_and_start_action(ruleset._handle, state_handle)
            message = json.loads(following) if following else None

    def _record(self, action_name: str, matched: Any, result: RawResult) -> None:
        try:
            rule, outcome = self._chunk.outcome_of[action_name]
            result.add(rule.id, matched["subj"]["ref"], outcome)
        except Exception as exc:  # never let a bookkeeping error pass silently: the audit turns it into error outcomes
            result.engine_errors.append(f"{action_name}: {type(exc).__name__}: {exc}")

    def _prepare(self, chunk: _CompiledRuleset, facts: list[Fact], sid: str):
        regex_by_kind: dict[str, list[tuple[str, str, re.Pattern]]] = {}
        for prop, (kind, fname, pattern) in chunk.regexes.items():
            regex_by_kind.setdefault(kind, []).append((prop, fname, re.compile(pattern)))
        explode_by_kind: dict[str, list[str]] = {}
        for kind, fname in chunk.explode:
            explode_by_kind.setdefault(kind, []).append(fname)
        for fact in facts:
            kind = fact["kind"]
            if kind not in chunk.kinds:
                continue
            # constants that guarded comparisons against another alias's g__kind use (see _Compiler._ref_lit)
            out: dict[str, Any] = {"sid": sid, "kind": kind, "ref": fact["ref"], "k_m__": "m", "k_n__": "n", "k_x__": "x"}
            wanted = chunk.fields.get(kind, ())
            for key in wanted:
                value = fact.get(key)
                if value is None:
                    if (kind, key) in chunk.ref_targets:  # never leave a reference target missing: error 311
                        out[f"{key}__rv"], out[f"{key}__rnum"], out[f"{key}__kind"] = "m:", 0, "m"
                    continue
                out[key] = list(value) if isinstance(value, (list, tuple)) else value
                _typed_fields(key, value, out)
                if (kind, key) in chunk.ref_targets:
                    number = type_tag(value) == "n"
                    out[f"{key}__rv"], out[f"{key}__rnum"] = out[f"{key}__v"], value if number else 0
                    out[f"{key}__kind"] = "n" if number else "x"
            for prop, fname, pattern in regex_by_kind.get(kind, ()):
                if fname in out:
                    out[prop] = _regex_matches(pattern, out[fname])
            out["id"] = f"{kind}:{fact['ref']}"
            if len(out) > MAX_FACT_PROPERTIES:
                raise LogicError(f"fact {out['id']} has {len(out)} properties; the engine allows {MAX_FACT_PROPERTIES}")
            yield out
            for fname in explode_by_kind.get(kind, ()):
                own = item_key(fact["ref"]) if (kind, fname) in chunk.self_exclude else None
                for i, item in enumerate(out.get(fname) or ()):
                    if own is not None and item_key(item) == own:
                        continue
                    copy = dict(out)
                    copy["kind"] = f"{kind}*{fname}"
                    copy[f"{fname}__item"] = item
                    copy[f"{fname}__item__v"] = item_key(item)
                    copy["id"] = f"{kind}*{fname}:{fact['ref']}:{i}"
                    yield copy


def _hashable(value: Any) -> Any:
    """A memo key that keeps types apart (True == 1 == 1.0 in Python, not in the rule language)."""
    if isinstance(value, (list, tuple)):
        return ("l", tuple(_hashable(v) for v in value))
    return (type(value).__name__, value)


def _regex_matches(pattern: re.Pattern, value: Any) -> bool:
    if isinstance(value, list):
        return any(pattern.search(str(v)) for v in value)
    return bool(pattern.search(str(value)))
