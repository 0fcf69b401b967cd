"""The columnar engine: the same rule records, compiled for a whole register at once.

A second backend beside durable_rules (engine/compiler.py + engine/evaluate.py), for population-scale
work (a province-scale register, a monthly national run, a what-if sweep). It starts from the very
`PolicyPlan` the durable compiler builds — the resolved condition of every rule, parameters resolved
once for the as-of date — and evaluates each condition over all rows with numpy:

* every condition gives one int8 column in Kleene logic (0 not met, 1 unknown, 2 met): `all` is the
  minimum, `any` the maximum, `not` is 2 − x; a missing fact is unknown (or met / not met where the
  rule says `if_missing`), exactly as engine/logic.evaluate;
* a comparison on a categorical column is decided once per distinct value by logic.compare itself; on
  an integer column it compares the encoder's exact integer codes (engine/encoding.py), as durable_rules
  does. Money never becomes a float;
* each family's verdict follows engine/evaluate._verdict_from_status, column-wise: the deciding rule
  (also the rule cited for insufficient data), the attributes of positive outcomes, the amount lines
  (highest base, first on ties, plus the highest positive bonus), triggered indicators and the missing
  register columns.

The columnar engine explains nothing itself: results carry the rule ids, and `scaleup explain` re-runs
the chosen enterprises through durable_rules. Conditions it cannot express are refused when compiling
(PolicyDataError), never approximated. durable_rules stays the engine behind explain, audit and verify.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Optional

import numpy as np

from engine import logic
from engine.columnar.frame import Col, Frame, cat_from_values, check_derivations, to_python, with_derived
from engine.compiler import FamilyPlan, PolicyPlan, plan_policy
from engine.errors import EngineError, PolicyDataError
from engine.evaluate import LEVELS
from engine.facts import Enterprise
from engine.policy import Policy
from engine.rules_model import Rulebook

F, U, T = 0, 1, 2
NA, EXCL, NEG, POS, IND, UNK, APP, NONE = range(8)
CATEGORY_NAMES = ("na", "excl", "neg", "pos", "ind", "unk", "app", "none")
CHUNK = 1 << 16          # rows per pass: the working columns stay in the processor's cache
NUMERIC_FACT_TYPES = ("money", "int", "ratio", "year", "decimal")
_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge}
MAX_BITS = 62
IDENTITY_FACTS = ("enterprise_id", "name", "town", "in_park")    # also held by the Frame itself


# ================================================================ compile

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
class _Family:
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
    amounts: list = field(default_factory=list)    # (rule index, node|None, Decimal, role)
    missing_order: list = field(default_factory=list)   # (rule index, kind, node-ish) in rule order
    report_facts: list[str] = field(default_factory=list)   # sorted: bit i = report_facts[i]
    report_leaves: dict = field(default_factory=dict)       # status rule index -> leaf facts

    @property
    def name(self) -> str:
        return self.plan.name

    def outcome_index(self, word: str) -> int:
        if word not in self.outcomes:
            self.outcomes.append(word)
        return self.outcomes.index(word)


class ColumnarEvaluator:
    """`ColumnarEvaluator(policy, book, as_of).evaluate(enterprises)` — one result per enterprise with,
    per family, the fields of the durable Decision that a verdict has (no findings, no explanation)."""

    def __init__(self, policy: Policy, book: Rulebook, as_of: date, plan: Optional[PolicyPlan] = None):
        self.policy, self.book, self.as_of = policy, book, as_of
        self.plan = plan or plan_policy(policy, book, as_of)
        self.encoder = self.plan.encoder
        self.zone_name = policy.jurisdiction.development_zone.name_zh
        self.column_types = {fid: s.type for fid, s in book.facts.items() if not s.fn}
        self.keys: dict[int, tuple] = {}     # id(node) -> node_key (the plan's nodes live as long as self)
        problems: list[str] = []
        self.families: list[_Family] = []
        self.needed: set[str] = set()        # facts the evaluation reads (with derivation inputs)
        self.as_values: set[str] = set()     # facts whose values (not only comparisons) are needed
        for plan in self.plan.plans.values():
            try:
                self.families.append(self._compile_family(plan))
            except PolicyDataError as exc:
                problems += exc.problems
        self._close_needed()
        problems += check_derivations(book, self.needed, self.as_values)
        if problems:
            raise PolicyDataError(problems)

    # ---------------------------------------------------------------------------------- compile
    def _compile_family(self, plan: FamilyPlan) -> _Family:
        spec = plan.family.spec
        concl = spec.conclusion
        fam = _Family(plan, [concl.id], [concl.clause], ["not_applicable", "insufficient_data"])
        if not plan.evaluable:
            return fam
        where = f"rules/{plan.name}"
        if spec.decision not in ("gate", "indicators"):
            raise PolicyDataError([f"{where}: the columnar engine knows gate and indicators families, "
                                   f"not {spec.decision!r}"])
        index = {}
        for r in plan.family.rules:
            index[r.id] = len(fam.rule_ids)
            fam.rule_ids.append(r.id)
            fam.clause_ids.append(r.clause)
        bit = 0
        for r in plan.family.rules:
            i = index[r.id]
            if r.kind in ("applicability", "exclusion", "condition", "indicator"):
                node = logic.implication(plan.guards.get(r.id), plan.nodes[r.id])
                self._check(node, f"{where} rule {r.id}")
                fam.report_leaves[i] = [lf.fact for lf in logic.leaves(plan.nodes[r.id])
                                        if isinstance(lf, (logic.Leaf, logic.Exists))]
                fam.missing_order.append((i, "status", node))
                if r.kind == "applicability":
                    fam.app.append((i, node))
                elif r.kind == "exclusion":
                    fam.excl.append((i, node, fam.outcome_index(r.outcome)))
                elif r.kind == "condition":
                    fam.cond.append((i, node))
                else:
                    if r.level not in LEVELS:
                        raise PolicyDataError([f"{where} rule {r.id}: level {r.level!r} is not one of {LEVELS}"])
                    if bit >= MAX_BITS:
                        raise PolicyDataError([f"{where}: more than {MAX_BITS} indicators; the columnar "
                                               "engine keeps triggered indicators in one 64-bit word"])
                    fam.ind.append((i, node, r.level, r.required, bit))
                    bit += 1
            elif r.kind == "classification":
                cases = []
                for j, (node, value) in enumerate(plan.cases[r.id]):
                    self._check(node, f"{where} rule {r.id} case {j}")
                    cases.append((node, self._case_value(value, f"{where} rule {r.id} case {j}")))
                fam.classes.append((i, r.attribute, cases))
                fam.missing_order.append((i, "classification", [n for n, _ in cases]))
            elif r.kind == "amount":
                node = plan.nodes.get(r.id)
                if node is not None:
                    self._check(node, f"{where} rule {r.id}")
                    fam.missing_order.append((i, "amount", node))
                if not plan.family.included_from.get(r.id):
                    amount = plan.params[r.amount["param"]].value
                    fam.amounts.append((i, node, Decimal(amount), r.role or "base"))
            elif r.kind != "not_modelled":
                raise PolicyDataError([f"{where} rule {r.id}: the columnar engine does not know rule kind {r.kind!r}"])
        if spec.decision == "gate":
            for word in (spec.outcomes["positive"], spec.outcomes["negative"]):
                fam.outcome_index(word)
        else:
            for word in (*LEVELS, spec.outcomes["none"]):
                fam.outcome_index(word)
        reportable: set[str] = set()
        for facts in fam.report_leaves.values():
            for f in facts:
                reportable |= self._derivation_tree(f)
        fam.report_facts = sorted(reportable)
        if len(fam.report_facts) > MAX_BITS:
            raise PolicyDataError([f"{where}: more than {MAX_BITS} facts could be reported missing; the "
                                   "columnar engine keeps them in one 64-bit word"])
        return fam

    def _derivation_tree(self, fact: str) -> set[str]:
        spec = self.book.facts.get(fact)
        if spec is None:
            return set()
        out = {fact}
        for a in spec.args:
            out |= self._derivation_tree(a)
        return out

    def _check(self, node: logic.Node, where: str) -> None:
        """Refuse, at compile time, any condition the columnar engine would not evaluate exactly."""
        node_key(node)
        for lf in logic.leaves(node):
            if isinstance(lf, logic.Const):
                continue
            spec = self.book.facts.get(lf.fact)
            if spec is None:
                raise PolicyDataError([f"{where}: unknown fact {lf.fact!r}"])
            self.needed.add(lf.fact)
            if spec.type == "year_month":
                raise PolicyDataError([f"{where}: {lf.fact} is a year-month, which no engine compares "
                                       "(durable_rules never receives it); test a derived fact instead"])
            if isinstance(lf, logic.Exists):
                if spec.type == "tags":
                    raise PolicyDataError([f"{where}: exists/missing on the tags fact {lf.fact} is not "
                                           "expressible (durable_rules receives tags as one field per tag)"])
                continue
            if spec.type == "tags":
                if lf.op != "has_any":
                    raise PolicyDataError([f"{where}: {lf.fact} is tags; only has_any tests it"])
                continue
            if spec.type in NUMERIC_FACT_TYPES:
                if lf.op not in _OPS or isinstance(lf.threshold, (list, tuple)):
                    raise PolicyDataError([f"{where}: {lf.fact} ({spec.type}) {lf.op} {lf.threshold!r}: the "
                                           "columnar engine compares figures with ==, !=, <, <=, >, >= against "
                                           "one threshold only"])
                code = self.encoder(lf.fact, lf.threshold, exact=True)
                if not isinstance(code, int) or isinstance(code, bool):
                    raise PolicyDataError([f"{where}: threshold {lf.threshold!r} of {lf.fact} is not a figure"])
            elif lf.op == "has_any":
                raise PolicyDataError([f"{where}: has_any tests a tags fact; {lf.fact} is {spec.type}"])

    def _case_value(self, value: Any, where: str) -> tuple:
        if isinstance(value, dict) and set(value) == {"fact"}:
            fact = value["fact"]
            spec = self.book.facts.get(fact)
            if spec is None or spec.type in ("year_month",):
                raise PolicyDataError([f"{where}: a case value cannot take fact {fact!r} in the columnar engine"])
            self.needed.add(fact)
            self.as_values.add(fact)
            return ("fact", fact)
        if isinstance(value, dict) and value == {"context": "development_zone"}:
            return ("const", self.zone_name)
        if isinstance(value, dict):
            raise PolicyDataError([f"{where}: case value {value!r} is not one the columnar engine knows"])
        return ("const", value)

    def _close_needed(self) -> None:
        todo = list(self.needed)
        while todo:
            f = todo.pop()
            spec = self.book.facts.get(f)
            for a in (spec.args if spec else []):
                if a not in self.needed:
                    self.needed.add(a)
                    todo.append(a)

    # ---------------------------------------------------------------------------------- evaluate
    def frame(self, enterprises: Iterable[Enterprise]) -> Frame:
        types = {f: t for f, t in self.column_types.items() if f in self.needed}
        return Frame.from_enterprises(list(enterprises), types)

    def evaluate(self, enterprises: Iterable[Enterprise]) -> list["ColumnarResult"]:
        return self.evaluate_frame(self.frame(enterprises)).results()

    def evaluate_frame(self, frame: Frame) -> "ColumnarBatch":
        batch = ColumnarBatch(self, frame)
        for idx, part in self._parts(frame):
            tables: dict = {}
            for a in range(0, part.n, CHUNK):
                b = min(part.n, a + CHUNK)
                chunk = _Chunk(self, {f: c.slice(a, b) for f, c in part.columns.items()}, b - a, tables)
                where = slice(a, b) if idx is None else idx[a:b]
                for fam in self.families:
                    if fam.plan.evaluable:
                        _run_family(fam, chunk, batch.out[fam.name], where, self)
        return batch

    def _parts(self, frame: Frame):
        """(row positions or None for all, frame ready to evaluate), cached on the frame for sweeps."""
        key = ("parts", self.as_of, frozenset(self.needed), frozenset(self.as_values), id(self.book))
        parts = frame._derived_cache.get(key)
        if parts is None:
            wide = frame.wide_rows()
            if not wide.any():
                parts = [(None, self._derive(frame.narrowed()))]
            else:
                normal, wide_idx = np.flatnonzero(~wide), np.flatnonzero(wide)
                parts = [(normal, self._derive(frame.take(normal).narrowed())),
                         (wide_idx, self._derive(frame.take(wide_idx).all_categorical()))]
            frame._derived_cache[key] = parts
        return parts

    def _derive(self, frame: Frame) -> Frame:
        missing = [f for f in self.needed if f not in frame.columns and not self.book.facts[f].fn]
        cols = dict(frame.columns)
        for f in missing:   # a register column absent from the frame: missing on every row
            cols[f] = Col("cat", np.full(frame.n, -1, np.int32), np.zeros(frame.n, bool), self.book.facts[f].type, [])
            if f in IDENTITY_FACTS:
                cols[f] = cat_from_values(getattr(frame, f).tolist(), self.book.facts[f].type)
            elif self.book.facts[f].type == "tags":
                cols[f] = Col("cat", np.zeros(frame.n, np.int32), np.ones(frame.n, bool), "tags", [()])
        frame.columns = cols
        return with_derived(frame, self.book, self.as_of, self.needed, self.as_values)


class _Chunk:
    """Rows [a, b) of a frame part: Kleene columns of conditions, memoised by structure."""

    def __init__(self, ev: ColumnarEvaluator, cols: dict[str, Col], n: int, tables: dict):
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
                table = np.array([T if logic.compare(v, node.op, node.threshold) else F for v in col.vocab]
                                 + [missing], dtype=np.int8)
                self.tables[(key, id(col.vocab))] = table
            return table[col.values]
        code = self.ev.encoder(node.fact, node.threshold, exact=True)
        if col.kind == "num":
            code //= 2          # an exact threshold's code is even: x op T  <=>  2x op 2T
        hit = _OPS[node.op](col.values, code)
        tri = hit.view(np.int8) * np.int8(2)
        return tri if col.present.all() else np.where(col.present, tri, np.int8(missing)).astype(np.int8)

    def present(self, fact: str) -> np.ndarray:
        return self.cols[fact].present

    def reported(self, fact: str) -> dict[str, np.ndarray]:
        """engine.evaluate.missing_inputs, column-wise: which facts a missing `fact` is reported as."""
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


# ================================================================ family semantics, column-wise

def _first(events: list, n: int) -> np.ndarray:
    """Index of the first true mask in `events` for each row; len(events) where none is."""
    first = np.full(n, len(events), np.int16)
    for k in range(len(events) - 1, -1, -1):
        first = np.where(events[k], np.int16(k), first)
    return first


def _run_family(fam: _Family, ch: _Chunk, out: dict, where, ev: ColumnarEvaluator) -> None:
    """engine.evaluate._verdict_from_status for every row of the chunk: the verdict is the first
    decisive event in the order that function tests them."""
    spec = fam.plan.family.spec
    n = ch.n
    gate = spec.decision == "gate"
    status = {i: ch.tri(node) for i, node in fam.app}
    status.update({i: ch.tri(node) for i, node, _ in fam.excl})
    status.update({i: ch.tri(node) for i, node in fam.cond})
    status.update({i: ch.tri(node) for i, node, *_ in fam.ind})
    insufficient = fam.outcome_index("insufficient_data")
    events: list = []          # (mask, category, rule index, outcome index), in the order of the semantics

    def lowest(indices):       # Kleene minimum of several statuses
        return np.minimum.reduce([status[i] for i in indices]) if len(indices) > 1 else status[indices[0]]

    for i, _ in fam.app:
        events.append((status[i] == F, NA, i, 0))
    if fam.app:     # no applicability is false (else decided above): any unknown -> undecided
        events.append((lowest([i for i, _ in fam.app]) == U, NONE, 0, insufficient))
    trig = None
    if gate:
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
    first = _first([e[0] for e in events], n)
    cat = np.array([e[1] for e in events] + [default[0]], np.int8)[first]
    rule = np.array([e[2] for e in events] + [default[1]], np.int16)[first]
    outcome = np.array([e[3] for e in events] + [default[2]], np.int8)[first]
    if trig is not None:
        trig[cat != IND] = 0
    else:
        trig = np.zeros(n, np.int64)

    # Insufficient data with no deciding rule: cite the first rule whose finding is "missing".
    none = cat == NONE
    if none.any():
        misses = []
        for i, kind, what in fam.missing_order:
            if kind == "status":
                misses.append(status[i] == U)
            elif kind == "classification":
                misses.append(np.logical_and.reduce([ch.tri(node) != T for node in what]))
            else:
                misses.append(ch.tri(what) == U)
        k = _first(misses, n)
        rule_of = np.array([i for i, _, _ in fam.missing_order] + [0], np.int16)
        rule = np.where(none, rule_of[k], rule)

    pos = cat == POS
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

    if gate and spec.amount:
        base = np.full(n, -1, np.int8)
        bonus = np.full(n, -1, np.int8)
        lines = list(enumerate(fam.amounts))
        for role, chosen in (("base", base), ("bonus", bonus)):
            cands = [(k, node, amt) for k, (_, node, amt, r) in lines if r == role and (role == "base" or amt > 0)]
            # first of the highest: try from the lowest-ranked up, later assignments win
            ranked = sorted(cands, key=lambda c: (-c[2], c[0]))
            for k, node, _ in reversed(ranked):
                hit = np.ones(n, bool) if node is None else ch.tri(node) == T
                chosen[hit] = k
        base[~pos] = -1
        bonus[~pos] = -1
        if (pos & (base < 0)).any():
            row = int(np.flatnonzero(pos & (base < 0))[0])
            raise EngineError(f"{fam.name}: row {row} awarded but no base amount rule applies")
        out["base"][where] = base
        out["bonus"][where] = bonus

    missing = np.zeros(n, np.int64)
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
    out["cat"][where] = cat
    out["rule"][where] = rule
    out["outcome"][where] = outcome
    out["trig"][where] = trig
    out["missing"][where] = missing


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


# ================================================================ results

@dataclass
class ColumnarDecision:
    """A family's verdict as durable's Decision carries it (comparable field by field)."""

    type: str
    outcome: str
    rule_id: str
    clause_id: str
    clause_text: str
    amount_yuan: Optional[Decimal] = None
    beneficiary: Optional[str] = None
    attributes: dict[str, Any] = field(default_factory=dict)
    triggered: list[str] = field(default_factory=list)
    triggered_codes: list[str] = field(default_factory=list)
    missing_facts: list[str] = field(default_factory=list)
    reason: Optional[str] = None
    engine: str = "columnar"


@dataclass
class ColumnarResult:
    enterprise_id: str
    name: str
    town: str
    in_park: bool
    as_of: str
    policy: str
    decisions: list[ColumnarDecision]

    def decision(self, type_: str) -> ColumnarDecision:
        return next(d for d in self.decisions if d.type == type_)


class ColumnarBatch:
    """The verdicts of a whole frame as columns (family -> arrays); `results()` makes objects."""

    def __init__(self, ev: ColumnarEvaluator, frame: Frame):
        self.ev, self.frame, self.n = ev, frame, frame.n
        self.out: dict[str, dict[str, np.ndarray]] = {}
        for fam in ev.families:
            n = frame.n
            arrays = {"cat": np.full(n, NA, np.int8), "rule": np.zeros(n, np.int16),
                      "outcome": np.zeros(n, np.int8), "trig": np.zeros(n, np.int64),
                      "missing": np.zeros(n, np.int64), "base": np.full(n, -1, np.int8),
                      "bonus": np.full(n, -1, np.int8)}
            for k in range(len(fam.classes)):
                arrays[f"case:{k}"] = np.full(n, -1, np.int8)
                arrays[f"value:{k}"] = np.full(n, None, dtype=object)
            self.out[fam.name] = arrays

    def amount(self, fam: _Family, base: int, bonus: int) -> Optional[Decimal]:
        if base < 0:
            return None
        total = Decimal(0) + fam.amounts[base][2]
        return total + fam.amounts[bonus][2] if bonus >= 0 else total

    def decision(self, fam: _Family, i: int) -> ColumnarDecision:
        plan = fam.plan
        spec = plan.family.spec
        concl = spec.conclusion
        clauses = self.ev.policy.clauses
        if not plan.evaluable:
            return ColumnarDecision(plan.name, "not_applicable", concl.id, concl.clause,
                                    clauses[concl.clause].text, reason=plan.reason)
        a = self.out[fam.name]
        r = int(a["rule"][i])
        d = ColumnarDecision(plan.name, fam.outcomes[a["outcome"][i]], fam.rule_ids[r], fam.clause_ids[r],
                             clauses[fam.clause_ids[r]].text)
        if a["cat"][i] == POS:
            for k, (_, attribute, _) in enumerate(fam.classes):
                if a[f"case:{k}"][i] >= 0:
                    d.attributes[attribute] = a[f"value:{k}"][i]
            if spec.beneficiary:
                d.beneficiary = d.attributes.get(spec.beneficiary)
            if spec.amount:
                d.amount_yuan = self.amount(fam, int(a["base"][i]), int(a["bonus"][i]))
        bits = int(a["trig"][i])
        if bits:
            d.triggered = [fam.rule_ids[ri] for ri, _, _, _, b in fam.ind if bits >> b & 1]
            codes = {rid: next(r.code for r in plan.family.rules if r.id == rid) for rid in d.triggered}
            d.triggered_codes = list(dict.fromkeys(codes[rid] for rid in d.triggered))
        bits = int(a["missing"][i])
        if bits:
            d.missing_facts = [g for b, g in enumerate(fam.report_facts) if bits >> b & 1]
        return d

    def result(self, i: int) -> ColumnarResult:
        f = self.frame
        return ColumnarResult(f.enterprise_id[i], f.name[i], f.town[i], bool(f.in_park[i]), self.ev.as_of.isoformat(),
                              self.ev.policy.id, [self.decision(fam, i) for fam in self.ev.families])

    def results(self) -> list[ColumnarResult]:
        return [self.result(i) for i in range(self.n)]

    def positions(self, enterprise_ids: Iterable[str]) -> list[int]:
        wanted = set(enterprise_ids)
        return [i for i, eid in enumerate(self.frame.enterprise_id.tolist()) if eid in wanted]



# ================================================================ explanations on demand

def enterprise_at(batch: ColumnarBatch, i: int) -> Enterprise:
    """Row i of the batch's frame as an Enterprise (the facts the rules read; other columns empty)."""
    values = batch.frame.row_values(i)
    fields = Enterprise.model_fields
    return Enterprise(**{k: v for k, v in values.items() if k in fields and v is not None})


def explain_with_durable(batch: ColumnarBatch, enterprise_ids: Iterable[str], evaluator=None) -> list:
    """The chosen enterprises re-run through durable_rules, for their full explanation (engine/evaluate
    EnterpriseResult, rendered by engine/render). A durable verdict that differs from the columnar one
    is an internal inconsistency: EngineError."""
    from engine.evaluate import Evaluator
    ev = batch.ev
    durable = evaluator or Evaluator(ev.policy, ev.book, ev.as_of)
    out = []
    for i in batch.positions(enterprise_ids):
        result = durable.evaluate(enterprise_at(batch, i))
        for d, c in zip(result.decisions, batch.result(i).decisions):
            for f in VERDICT_FIELDS:
                if getattr(d, f) != getattr(c, f):
                    raise EngineError(f"{result.enterprise_id} {d.type}: durable_rules gives {f} "
                                      f"{getattr(d, f)!r}, the columnar engine {getattr(c, f)!r}")
        out.append(result)
    return out


VERDICT_FIELDS = ("type", "outcome", "rule_id", "clause_id", "amount_yuan", "beneficiary", "attributes", "triggered",
                  "triggered_codes", "missing_facts", "reason")
