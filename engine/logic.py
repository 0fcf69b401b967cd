"""Conditions resolved for one as-of date, and the two things done with them:

* `evaluate` — exact three-valued evaluation (met / not met / unknown when a fact is missing) over
  Decimal, date and text values. The explainer uses it to show every condition; its verdict is
  cross-checked against durable_rules on every decision.
* `true_terms` / `false_terms` — the condition, and its negation, as disjunctive normal form over
  atoms on single facts. The compiler turns each term into one durable_rules rule. We expand the DNF
  ourselves because durable_rules expands nested `$or` internally and fires once per matching branch.

Parameters are resolved to values here, so a compiled rule holds no parameter lookups.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional, Union

from engine.errors import PolicyDataError
from engine.policy import Policy, ResolvedParam
from engine.rules_model import All, AnyOf, Compare, Condition, Not, ParamTest, Presence, Ref, Rulebook

NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", "<=": ">", ">": "<=", "in": "not_in", "not_in": "in",
          "has_any": "has_none"}


@dataclass(frozen=True)
class Leaf:
    """fact <op> threshold, threshold already resolved (Decimal, int, date, str, bool or tuple of str)."""

    fact: str
    op: str
    threshold: Any
    if_missing: Optional[str]
    source: Compare
    params: tuple[ResolvedParam, ...] = ()
    context: Optional[str] = None


@dataclass(frozen=True)
class Exists:
    fact: str
    want_present: bool


@dataclass(frozen=True)
class Const:
    value: bool
    source: ParamTest
    param: ResolvedParam


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class Or:
    children: tuple


@dataclass(frozen=True)
class Neg:
    child: Any


Node = Union[Leaf, Exists, Const, And, Or, Neg]


@dataclass
class Context:
    policy: Policy
    book: Rulebook
    as_of: date
    params_used: dict[str, ResolvedParam] = field(default_factory=dict)

    def param(self, name: str) -> ResolvedParam:
        rp = self.policy.param(name, self.as_of)
        self.params_used[name] = rp
        return rp


def resolve(cond: Condition, ctx: Context) -> Node:
    if isinstance(cond, Ref):
        return resolve(ctx.book.definition_conditions[cond.ref], ctx)
    if isinstance(cond, All):
        return And(tuple(resolve(c, ctx) for c in cond.all))
    if isinstance(cond, AnyOf):
        return Or(tuple(resolve(c, ctx) for c in cond.any))
    if isinstance(cond, Not):
        return Neg(resolve(cond.not_, ctx))
    if isinstance(cond, Presence):
        return Exists(cond.fact, cond.op == "exists")
    if isinstance(cond, ParamTest):
        rp = ctx.param(cond.param)
        equal = rp.value == cond.value
        return Const(equal if cond.op == "==" else not equal, cond, rp)
    if isinstance(cond, Compare):
        params: tuple[ResolvedParam, ...] = ()
        if cond.param is not None:
            rp = ctx.param(cond.param)
            threshold = rp.value
            params = (rp,)
            if rp.parameter.type == "annual_date":
                month, day = rp.value
                year = ctx.as_of.year - (1 if rp.parameter.year == "previous" else 0)
                threshold = date(year, month, day)
            if cond.scale:
                scale = ctx.param(cond.scale)
                threshold = threshold * scale.value
                params = (rp, scale)
        elif cond.context == "as_of_year":
            threshold = ctx.as_of.year
        elif cond.context == "as_of_date":
            threshold = ctx.as_of
        else:
            threshold = tuple(cond.value) if isinstance(cond.value, list) else cond.value
        return Leaf(cond.fact, cond.op, threshold, cond.if_missing, cond, params, cond.context)
    raise TypeError(f"not a condition: {cond!r}")


# ---------------------------------------------------------------- exact evaluation (Kleene logic)

def compare(value: Any, op: str, threshold: Any) -> bool:
    if op == "in":
        return value in threshold
    if op == "not_in":
        return value not in threshold
    if op == "has_any":
        return any(tag in threshold for tag in value)
    # Decimal, int and Fraction compare exactly with each other as they are (Decimal takes a Fraction's
    # numerator and denominator): no conversion to Fraction first.
    return COMPARE[op](value, threshold)


COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}


_IF_MISSING = {"met": True, "not_met": False}


def evaluate_leaf(node: "Leaf", facts: dict[str, Any]) -> Optional[bool]:
    """A comparison: its stated reading where the fact is missing (None when it has none)."""
    value = facts.get(node.fact)
    if value is None:
        return _IF_MISSING.get(node.if_missing)
    return compare(value, node.op, node.threshold)


def evaluate(node: Node, facts: dict[str, Any]) -> Optional[bool]:
    """True, False, or None when facts the node needs are missing."""
    if isinstance(node, Leaf):
        return evaluate_leaf(node, facts)
    if isinstance(node, Exists):
        return (facts.get(node.fact) is not None) == node.want_present
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Neg):
        inner = evaluate(node.child, facts)
        return None if inner is None else not inner
    results = [evaluate(c, facts) for c in node.children]
    if isinstance(node, And):
        return False if False in results else (None if None in results else True)
    return True if True in results else (None if None in results else False)


def leaves(node: Node):
    if isinstance(node, (Leaf, Exists, Const)):
        yield node
    elif isinstance(node, Neg):
        yield from leaves(node.child)
    else:
        for c in node.children:
            yield from leaves(c)


def implication(guard: Optional[Node], body: Node) -> Node:
    """A condition that only applies when its guard holds: ¬guard ∨ body."""
    return body if guard is None else Or((Neg(guard), body))


# ---------------------------------------------------------------- DNF for the engine

@dataclass(frozen=True)
class Atom:
    """One test on one fact: op in == != < <= > >= in not_in ex nex, or `any` of same-fact atoms that
    exclude each other (so durable_rules' `$or` can match at most one branch)."""

    fact: str
    op: str
    value: Any = None
    alternatives: tuple = ()


Term = tuple  # of Atom
TRUE: list = [()]
FALSE: list = []


def true_terms(node: Node, encode) -> list:
    return _dnf(node, True, encode)


def false_terms(node: Node, encode) -> list:
    return _dnf(node, False, encode)


def unknown_terms(node: Node) -> list:
    """Some fact the node needs is missing (facts with an if_missing reading never make it unknown)."""
    facts = sorted({lf.fact for lf in leaves(node) if isinstance(lf, Leaf) and lf.if_missing is None})
    return [(Atom(f, "nex"),) for f in facts]


def _dnf(node: Node, want: bool, encode) -> list:
    if isinstance(node, Const):
        return TRUE if node.value == want else FALSE
    if isinstance(node, Exists):
        present = node.want_present == want
        return [(Atom(node.fact, "ex" if present else "nex"),)]
    if isinstance(node, Leaf):
        op = node.op if want else NEGATE[node.op]
        value = encode(node.fact, node.threshold, exact=True)
        atom = Atom(node.fact, op, value)
        missing_counts = (node.if_missing == "met") == want and node.if_missing is not None
        if missing_counts:
            return [(Atom(node.fact, "any", alternatives=(atom, Atom(node.fact, "nex"))),)]
        return [(atom,)]
    if isinstance(node, Neg):
        return _dnf(node.child, not want, encode)
    parts = [_dnf(c, want, encode) for c in node.children]
    conjunctive = isinstance(node, And) == want
    if conjunctive:
        terms = [()]
        for part in parts:
            terms = [t + u for t in terms for u in part]
            terms = _prune(terms)
        return terms
    return _prune([t for part in parts for t in part])


def _prune(terms: list) -> list:
    out, seen = [], set()
    for term in terms:
        term = tuple(dict.fromkeys(term))   # drop repeated atoms, keep order
        if term in seen or not satisfiable(term):
            continue
        seen.add(term)
        out.append(term)
    return out


def satisfiable(term: tuple) -> bool:
    """False when the atoms on some fact cannot all hold (so the term can never fire)."""
    by_fact: dict[str, list[Atom]] = {}
    for atom in term:
        by_fact.setdefault(atom.fact, []).append(atom)
    for atoms in by_fact.values():
        plain = [a for a in atoms if a.op != "any"]
        ops = {a.op for a in plain}
        if "nex" in ops and ops - {"nex"}:
            return False
        if "ex" in ops and "nex" in ops:
            return False
        for a in plain:
            if NEGATE.get(a.op) and Atom(a.fact, NEGATE[a.op], a.value) in plain:
                return False
        numeric = [a for a in plain if a.op in ("<", "<=", ">", ">=", "==") and isinstance(a.value, int)
                   and not isinstance(a.value, bool)]
        lo, hi = None, None
        for a in numeric:
            v = a.value
            if a.op in (">", ">="):
                v = v + 1 if a.op == ">" else v
                lo = v if lo is None else max(lo, v)
            if a.op in ("<", "<="):
                v = v - 1 if a.op == "<" else v
                hi = v if hi is None else min(hi, v)
            if a.op == "==":
                lo = v if lo is None else max(lo, v)
                hi = v if hi is None else min(hi, v)
        if lo is not None and hi is not None and lo > hi:
            return False
        allowed = None
        for a in plain:
            if a.op == "in" or (a.op == "==" and isinstance(a.value, str)):
                vals = set(a.value) if a.op == "in" else {a.value}
                allowed = vals if allowed is None else allowed & vals
        if allowed is not None:
            for a in plain:
                if a.op == "not_in":
                    allowed -= set(a.value)
                elif a.op == "!=" and isinstance(a.value, str):
                    allowed.discard(a.value)
            if not allowed:
                return False
    return True


def product(*term_lists: list) -> list:
    terms = [()]
    for part in term_lists:
        terms = _prune([t + u for t in terms for u in part])
    return terms


def check_term_budget(family: str, count: int, limit: int) -> None:
    if count > limit:
        raise PolicyDataError([f"rules/{family}: compiles to {count} engine rules, more than {limit}; "
                               "split an `any` with many branches into separate rules"])
