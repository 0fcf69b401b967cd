"""The columnar engine's kernel: conditions as Kleene columns over a chunk of rows, and one family's
verdict for every row of the chunk (engine/evaluate.verdict_from_status, column-wise).

Kleene logic in int8: 0 not met, 1 unknown, 2 met; `all` is the minimum, `any` the maximum, `not` is
2 - x. engine/columnar/evaluator.py compiles the families and drives the chunks; this module evaluates.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from engine import logic
from engine.columnar.frame import Col, day_numbers, to_python
from engine.compiler import FamilyPlan
from engine.errors import PolicyDataError
from engine.rules_model import LEVELS

F, U, T = 0, 1, 2
NA, EXCL, NEG, POS, IND, UNK, APP, NONE = range(8)
OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
       ">=": operator.ge}


def node_key(node: logic.Node) -> tuple:
    """A structural key: the same condition resolved for two rules is evaluated once."""
    if isinstance(node, logic.Leaf):
        thr = node.threshold
        thr = (type(thr).__name__, tuple(thr) if isinstance(thr, (list, tuple)) else thr)
        return ("L", node.fact, node.op, thr, node.if_missing)
    if isinstance(node, logic.Exists):
        return ("E", node.fact, node.want_present)
    if isinstance(node, logic.Const):
        return ("C", node.value)
    if isinstance(node, logic.Neg):
        return ("N", node_key(node.child))
    if isinstance(node, logic.And):
        return ("A",) + tuple(node_key(c) for c in node.children)
    if isinstance(node, logic.Or):
        return ("O",) + tuple(node_key(c) for c in node.children)
    raise PolicyDataError([f"columnar engine: cannot evaluate a condition of type {type(node).__name__}"])


@dataclass
class CompiledFamily:
    """One family compiled for the columnar engine."""

    plan: FamilyPlan
    rule_ids: list[str]                  # index -> rule id; 0 = the conclusion
    clause_ids: list[str]
    outcomes: list[str]                  # index -> outcome word
    app: list = field(default_factory=list)        # (rule index, node)
    excl: list = field(default_factory=list)       # (rule index, node, outcome index)
    cond: list = field(default_factory=list)       # (rule index, node incl. its guard)
    ind: list = field(default_factory=list)        # (rule index, node, level, required, bit)
    classes: list = field(default_factory=list)    # (rule index, attribute, [(node, value)])
    amounts: list = field(default_factory=list)    # (rule index, node|None, Decimal, role, provenance)
    missing_order: list = field(default_factory=list)   # (rule index, kind, node-ish) in rule order
    undetermined: list = field(default_factory=list)    # schedules: (rule id, rule index, node|None, banded fact)
    band_facts: set = field(default_factory=set)        # the banded facts and their inputs (reportable)
    report_facts: list[str] = field(default_factory=list)   # sorted: bit i = report_facts[i]
    report_leaves: dict = field(default_factory=dict)       # status rule index -> leaf facts

    @property
    def name(self) -> str:
        return self.plan.name

    def outcome_index(self, word: str) -> int:
        if word not in self.outcomes:
            self.outcomes.append(word)
        return self.outcomes.index(word)


class Chunk:
    """Rows [a, b) of a frame part: Kleene columns of conditions, memoised by structure. `ev` is the
    ColumnarEvaluator (its node keys, encoder and rulebook)."""

    def __init__(self, ev, cols: dict[str, Col], n: int, tables: dict):
        self.ev, self.cols, self.n, self.tables = ev, cols, n, tables
        self.memo: dict[tuple, np.ndarray] = {}
        self.reports: dict[str, dict[str, np.ndarray]] = {}

    def tri(self, node: logic.Node) -> np.ndarray:
        keys = self.ev.keys
        key = keys.get(id(node))
        if key is None:
            key = keys[id(node)] = node_key(node)
        got = self.memo.get(key)
        if got is None:
            got = self.memo[key] = self._tri(node, key)
        return got

    def _tri(self, node, key) -> np.ndarray:
        if isinstance(node, logic.Const):
            return np.full(self.n, T if node.value else F, np.int8)
        if isinstance(node, logic.Neg):
            return (T - self.tri(node.child)).astype(np.int8)
        if isinstance(node, logic.And):
            return np.minimum.reduce([self.tri(c) for c in node.children]).astype(np.int8)
        if isinstance(node, logic.Or):
            return np.maximum.reduce([self.tri(c) for c in node.children]).astype(np.int8)
        col = self.cols[node.fact]
        if isinstance(node, logic.Exists):
            hit = col.present if node.want_present else ~col.present
            return hit.view(np.int8) * np.int8(2)
        missing = {"met": T, "not_met": F}.get(node.if_missing, U)
        if col.kind == "cat":
            table = self.tables.get((key, id(col.vocab)))
            if table is None:
                table = self.tables[(key, id(col.vocab))] = self._vocab_table(node, col, missing)
            return table[col.values]
        code = self.ev.encoder(node.fact, node.threshold, exact=True)
        if col.kind == "num":
            code //= 2          # an exact threshold's code is even: x op T  <=>  2x op 2T
        hit = OPS[node.op](col.values, code)
        tri = hit.view(np.int8) * np.int8(2)
        return tri if col.present.all() else np.where(col.present, tri, np.int8(missing)).astype(np.int8)

    def _vocab_table(self, node: logic.Leaf, col: Col, missing: int) -> np.ndarray:
        """The status of each distinct value of a categorical column (then of a missing one, last):
        logic.compare per value; for plain dates against a date, the same comparison on day numbers
        (a register has thousands of distinct dates, compared once per batch for every condition)."""
        if type(node.threshold) is date and node.op in OPS:
            days = self.tables.get(("days", id(col.vocab)))
            if days is None:
                days = self.tables[("days", id(col.vocab))] = day_numbers(col.vocab)
            if days is not None:
                hit = OPS[node.op](days, node.threshold.toordinal())
                return np.append(np.where(hit, np.int8(T), np.int8(F)), np.int8(missing))
        return np.array([T if logic.compare(v, node.op, node.threshold) else F for v in col.vocab]
                        + [missing], dtype=np.int8)

    def present(self, fact: str) -> np.ndarray:
        return self.cols[fact].present

    def reported(self, fact: str) -> dict[str, np.ndarray]:
        """engine.missing_facts.missing_inputs, column-wise: which facts a missing `fact` is reported as."""
        got = self.reports.get(fact)
        if got is not None:
            return got
        spec = self.ev.book.facts.get(fact)
        out: dict[str, np.ndarray] = {}
        if spec is not None:
            absent = ~self.present(fact)
            if not spec.fn:
                out[fact] = absent
            else:
                all_args = absent.copy()
                for a in spec.args:
                    for g, m in self.reported(a).items():
                        out[g] = out.get(g, False) | (absent & m)
                    all_args &= self.present(a)
                out[fact] = out.get(fact, False) | all_args
        self.reports[fact] = out
        return out


def first_event(events: list, n: int) -> np.ndarray:
    """Index of the first true mask in `events` for each row; len(events) where none is."""
    first = np.full(n, len(events), np.int16)
    for k in range(len(events) - 1, -1, -1):
        first = np.where(events[k], np.int16(k), first)
    return first


def run_family(fam: CompiledFamily, ch: Chunk, out: dict, where) -> None:
    """engine.evaluate.verdict_from_status for every row of the chunk: the verdict is the first
    decisive event in the order that function tests them."""
    spec = fam.plan.family.spec
    status = {i: ch.tri(node) for i, node in fam.app}
    status.update({i: ch.tri(node) for i, node, _ in fam.excl})
    status.update({i: ch.tri(node) for i, node in fam.cond})
    status.update({i: ch.tri(node) for i, node, *_ in fam.ind})
    cat, rule, outcome, trig = _decide(fam, status, ch.n)
    rule = _cite_missing(fam, ch, status, cat, rule)
    missing = _missing_bits(fam, ch, status)
    if spec.decision == "gate" and spec.amount and fam.undetermined:
        missing |= _undetermined_amounts(fam, ch, cat, rule, outcome)
    pos = cat == POS
    _classify(fam, ch, out, where, pos)
    if spec.decision == "gate" and spec.amount:
        _choose_amounts(fam, ch, out, where, pos)
    out["cat"][where] = cat
    out["rule"][where] = rule
    out["outcome"][where] = outcome
    out["trig"][where] = trig
    out["missing"][where] = missing


def _decide(fam: CompiledFamily, status: dict, n: int):
    """(category, deciding rule, outcome, triggered bits) of every row: the first decisive event."""
    spec = fam.plan.family.spec
    insufficient = fam.outcome_index("insufficient_data")
    events: list = []          # (mask, category, rule index, outcome index), in the order of the semantics

    def lowest(indices):       # Kleene minimum of several statuses
        return np.minimum.reduce([status[i] for i in indices]) if len(indices) > 1 else status[indices[0]]

    for i, _ in fam.app:
        events.append((status[i] == F, NA, i, 0))
    if fam.app:     # no applicability is false (else decided above): any unknown -> undecided
        events.append((lowest([i for i, _ in fam.app]) == U, NONE, 0, insufficient))
    trig = None
    if spec.decision == "gate":
        for i, _, o in fam.excl:
            events.append((status[i] == T, EXCL, i, o))
            events.append((status[i] == U, NONE, 0, insufficient))
        negative = fam.outcome_index(spec.outcomes["negative"])
        for i, _ in fam.cond:
            events.append((status[i] == F, NEG, i, negative))
        if fam.cond:
            events.append((lowest([i for i, _ in fam.cond]) == U, NONE, 0, insufficient))
        default = (POS, 0, fam.outcome_index(spec.outcomes["positive"]))
    else:
        trig = np.zeros(n, np.int64)
        for i, _, _, _, b in fam.ind:
            trig |= (status[i] == T).astype(np.int64) << b
        for level in reversed(LEVELS):      # the highest level triggered
            hits = [status[i] == T for i, _, lv, _, _ in fam.ind if lv == level]
            if hits:
                events.append((np.logical_or.reduce(hits), IND, 0, fam.outcome_index(level)))
        for i, _, _, required, _ in fam.ind:
            if required:
                events.append((status[i] == U, UNK, i, insufficient))
        default = (APP, 0, fam.outcome_index(spec.outcomes["none"]))
    first = first_event([e[0] for e in events], n)
    cat = np.array([e[1] for e in events] + [default[0]], np.int8)[first]
    rule = np.array([e[2] for e in events] + [default[1]], np.int16)[first]
    outcome = np.array([e[3] for e in events] + [default[2]], np.int8)[first]
    if trig is not None:
        trig[cat != IND] = 0
    else:
        trig = np.zeros(n, np.int64)
    return cat, rule, outcome, trig


def _cite_missing(fam: CompiledFamily, ch: Chunk, status: dict, cat: np.ndarray, rule: np.ndarray) -> np.ndarray:
    """Insufficient data with no deciding rule: cite the first rule whose finding is "missing"."""
    none = cat == NONE
    if not none.any():
        return rule
    misses = []
    for i, kind, what in fam.missing_order:
        if kind == "status":
            misses.append(status[i] == U)
        elif kind == "classification":
            misses.append(np.logical_and.reduce([ch.tri(node) != T for node in what]))
        else:
            misses.append(ch.tri(what) == U)
    k = first_event(misses, ch.n)
    rule_of = np.array([i for i, _, _ in fam.missing_order] + [0], np.int16)
    return np.where(none, rule_of[k], rule)


def _classify(fam: CompiledFamily, ch: Chunk, out: dict, where, pos: np.ndarray) -> None:
    """The attributes of positive outcomes: the first matching case of each classification."""
    n = ch.n
    for k, (i, attribute, cases) in enumerate(fam.classes):
        case = np.full(n, -1, np.int8)
        for j in reversed(range(len(cases))):
            case = np.where(ch.tri(cases[j][0]) == T, np.int8(j), case)
        case[~pos] = -1
        out[f"case:{k}"][where] = case
        values = out[f"value:{k}"]
        for j, (_, (src, v)) in enumerate(cases):
            m = case == j
            if not m.any():
                continue
            if src == "const":
                _assign(values, where, m, v)
            else:
                col = ch.cols[v]
                vals = _column_values(col)
                _assign_array(values, where, m, vals)


def _undetermined_amounts(fam: CompiledFamily, ch: Chunk, cat: np.ndarray, rule: np.ndarray,
                          outcome: np.ndarray) -> np.ndarray:
    """engine.evaluate._positive: a positive row where a schedule applies but its banded fact is missing
    is insufficient data citing that schedule (the first by rule id); the missing-fact bits it adds."""
    bits = {g: b for b, g in enumerate(fam.report_facts)}
    added = np.zeros(ch.n, np.int64)
    insufficient = fam.outcome_index("insufficient_data")
    for _, i, node, fact in fam.undetermined:
        applies = np.ones(ch.n, bool) if node is None else ch.tri(node) == T
        hit = (cat == POS) & applies & ~ch.present(fact)
        if not hit.any():
            continue
        cat[hit], rule[hit], outcome[hit] = NONE, i, insufficient
        for g, m in ch.reported(fact).items():
            if g in bits:
                added |= np.asarray(hit & m, dtype=np.int64) << bits[g]
    return added


def _choose_amounts(fam: CompiledFamily, ch: Chunk, out: dict, where, pos: np.ndarray) -> None:
    """The amount lines: the highest base (first on ties) plus the highest positive bonus."""
    n = ch.n
    base = np.full(n, -1, np.int8)
    bonus = np.full(n, -1, np.int8)
    lines = list(enumerate(fam.amounts))
    for role, chosen in (("base", base), ("bonus", bonus)):
        cands = [(k, node, amt) for k, (_, node, amt, r, _basis) in lines if r == role and (role == "base" or amt > 0)]
        # first of the highest: try from the lowest-ranked up, later assignments win
        ranked = sorted(cands, key=lambda c: (-c[2], c[0]))
        for k, node, _ in reversed(ranked):
            hit = np.ones(n, bool) if node is None else ch.tri(node) == T
            chosen[hit] = k
    base[~pos] = -1
    bonus[~pos] = -1
    # No base line, or a base of zero: the instrument offers no amount here (not awarded, with the reason).
    offered = np.array([fam.amounts[k][2] > 0 for k in range(len(fam.amounts))] + [False])
    out["unoffered"][where] = pos & ~offered[base]
    out["base"][where] = base
    out["bonus"][where] = bonus


def follow_included(families: list[CompiledFamily], out: dict[str, dict]) -> None:
    """engine.evaluate.Evaluator.follow_included over whole columns: a family that includes another is
    not offered where that one is not offered (its conditions hold, no amount for the firm). Then every
    row not offered reads as the decision says: the negative outcome, no attributes."""
    for fam in families:
        a = out.get(fam.name)
        if a is None or not fam.plan.evaluable:
            continue
        for inc in fam.plan.family.spec.includes:
            if inc in out:
                a["unoffered"] |= (a["cat"] == POS) & out[inc]["unoffered"]
    for fam in families:
        a = out.get(fam.name)
        spec = fam.plan.family.spec
        if a is None or not fam.plan.evaluable or spec.decision != "gate":
            continue
        rows = a["unoffered"]
        if rows.any():
            a["outcome"][rows] = fam.outcome_index(spec.outcomes["negative"])
            for k in range(len(fam.classes)):
                a[f"case:{k}"][rows] = -1


def _missing_bits(fam: CompiledFamily, ch: Chunk, status: dict) -> np.ndarray:
    """Bit i set where report_facts[i] is a missing register column behind an unknown status."""
    missing = np.zeros(ch.n, np.int64)
    if fam.report_facts:
        bits = {g: b for b, g in enumerate(fam.report_facts)}
        acc: dict[str, np.ndarray] = {}
        for i, leaves in fam.report_leaves.items():
            unknown = status[i] == U
            if not unknown.any():
                continue
            for f in leaves:
                for g, m in ch.reported(f).items():
                    if g in bits:
                        acc[g] = acc.get(g, False) | (unknown & m)
        for g, m in acc.items():
            missing |= np.asarray(m, dtype=np.int64) << bits[g]
    return missing


def _column_values(col: Col) -> np.ndarray:
    """The Python value of each row of a column (None when missing)."""
    if col.kind == "cat":
        table = np.empty(len(col.vocab) + 1, dtype=object)
        table[:-1] = col.vocab
        table[-1] = () if col.ftype == "tags" else None
        return table[col.values]
    vals = np.empty(len(col.values), dtype=object)
    vals[:] = [to_python(v, col.ftype) if p else None for v, p in zip(col.values.tolist(), col.present.tolist())]
    return vals


def _assign(target: np.ndarray, where, mask: np.ndarray, value: Any) -> None:
    idx = _positions(where, mask)
    for i in idx.tolist():          # one by one: a tuple value must not be spread over the rows
        target[i] = value


def _assign_array(target: np.ndarray, where, mask: np.ndarray, values: np.ndarray) -> None:
    target[_positions(where, mask)] = values[mask]


def _positions(where, mask: np.ndarray) -> np.ndarray:
    if isinstance(where, slice):
        return np.flatnonzero(mask) + where.start
    return where[mask]
