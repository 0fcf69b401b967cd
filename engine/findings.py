"""One record's exact evaluation of rule conditions, for explanations: each condition's value, the
threshold, the margin to meeting it, and the sets of changes that would turn a rule.

Split out of engine/evaluate.py (which decides verdicts from durable_rules' firings); the contract
writer (engine/contract.py) uses the same findings for the deciding conditions of a v2 decision.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

from engine import logic
from engine.decisions import ConditionFinding
from engine.encoding import UNITS

FACT_TYPES: dict[str, str] = {}     # fact id -> type, filled from the rulebook (for margins' units)
SHARED_FINDINGS = 50000     # findings kept per plan across records (then started afresh)
# Fact types whose values a register hardly ever repeats (amounts, rates): findings on them are not
# shared between records, where they would only be looked for in vain and kept (memory, the collector).
CONTINUOUS = frozenset({"money", "ratio", "decimal"})
# Fact types with many values in a register (the figures above, and dates: a firm's founding day): rules
# testing one are not keyed together with others (engine/rule_groups.py), whose combinations would repeat
# no more often than the dates do.
MANY_VALUED = CONTINUOUS | {"date"}


def per_record(fact: Optional[str]) -> bool:
    """Whether findings on this fact are kept for their record only (its type is CONTINUOUS)."""
    return FACT_TYPES.get(fact) in CONTINUOUS
_KEYED_AS_IS = frozenset({str, bool, int, type(None), date})


def value_key(value: Any) -> tuple:
    """A value as a dictionary key that tells apart what prints differently (1 and True, 1.0 and 1.00):
    by type and value where equal values print the same, a Fraction by its terms (hashing a Fraction is
    slow), else by type and repr (Decimal, tuples)."""
    kind = type(value)
    if kind in _KEYED_AS_IS:
        return (kind, value)
    if kind is Fraction:
        return (kind, value.numerator, value.denominator)
    return (kind, repr(value))


class ValueKeys(dict):
    """value_key of each fact of one record, worked out when first asked for (keys[fact]): a record's
    families ask for the same facts again and again."""

    __slots__ = ("values",)

    def __init__(self, values: dict):
        super().__init__()
        self.values = values

    def __missing__(self, fact: str) -> tuple:
        key = self[fact] = value_key(self.values.get(fact))
        return key


class ExactRecord:
    """One record's exact evaluation, each node evaluated once: rules share conditions, and the
    explanation looks at every leaf again for its findings and for the changes that would turn it.
    Leaves are evaluated by logic.evaluate; And, Or and Neg combine their children's results in the
    same three-valued logic. Entries hold their node, so a node's id is never reused while cached."""

    def __init__(self, values: dict, plan_memo: Optional[dict] = None, keys: Optional[ValueKeys] = None):
        self.values = values
        self.keys = ValueKeys(values) if keys is None else keys
        self._results: dict[int, tuple[logic.Node, Optional[bool]]] = {}
        self._plan_memo = {} if plan_memo is None else plan_memo
        shared = self._plan_memo.get("shared findings")
        if shared is None or len(shared) >= SHARED_FINDINGS:
            shared = self._plan_memo["shared findings"] = {}
        self._shared_findings = shared
        self._own_findings: dict[tuple, Optional[ConditionFinding]] = {}     # leaves of CONTINUOUS facts

    def __call__(self, node: logic.Node) -> Optional[bool]:
        hit = self._results.get(id(node))
        if hit is not None:
            return hit[1]
        kind = type(node)
        if kind is logic.Leaf:          # most nodes asked for: the comparisons
            result = logic.evaluate_leaf(node, self.values)
        elif kind is logic.And or kind is logic.Or:
            # Kleene logic, stopping at the first child that decides (False for And, True for Or): the
            # others are evaluated only if a finding asks for them later (the result is the same).
            decisive = kind is logic.Or
            result = decisive
            unknown = False
            for c in node.children:
                r = self(c)
                if r is decisive:
                    break
                unknown = unknown or r is None
            else:
                result = None if unknown else not decisive
        elif kind is logic.Neg:
            inner = self(node.child)
            result = None if inner is None else not inner
        else:
            result = logic.evaluate(node, self.values)
        self._results[id(node)] = (node, result)
        return result

    def leaves(self, node: logic.Node) -> list:
        """The node's leaves, listed once per plan."""
        key = ("leaves", id(node))
        hit = self._plan_memo.get(key)
        if hit is None:
            hit = self._plan_memo[key] = (node, list(logic.leaves(node)))
        return hit[1]

    def leaf_facts(self, node: logic.Node) -> list:
        """The node's leaves with the fact each tests and whether its findings are its record's own
        (per_record), listed once per plan (condition_findings reads them as finding would)."""
        key = ("leaf facts", id(node))
        hit = self._plan_memo.get(key)
        if hit is None:
            facts = [(lf, getattr(lf, "fact", None)) for lf in self.leaves(node)]
            hit = self._plan_memo[key] = (node, [(lf, fact, per_record(fact)) for lf, fact in facts])
        return hit[1]

    def finding(self, rule_id: str, lf: logic.Node) -> Optional[ConditionFinding]:
        """The finding on one leaf, built once per plan for each value of the leaf's fact: it depends on
        nothing else (most leaves test a yes/no or a code, which a register repeats), and is never changed
        once built, so records share it (a rule's conditions and the changes that would turn it show the
        same leaves: those look it up again). Entries hold their leaf, so a leaf's id is never reused
        while cached; the plan's findings are started afresh between records once SHARED_FINDINGS are kept.
        A leaf on a CONTINUOUS fact: its finding is built once for this record, not shared."""
        fact = getattr(lf, "fact", None)
        return self.find(rule_id, lf, fact, per_record(fact))

    def find(self, rule_id: str, lf: logic.Node, fact: Optional[str], own: bool) -> Optional[ConditionFinding]:
        """finding(rule_id, lf), the leaf's fact and whether it is per_record known (leaf_facts)."""
        if own:
            # A figure (a revenue, a growth rate) is new on nearly every row: its finding is kept for this
            # record only (the rule's conditions and the changes that would turn it show the same object).
            key = (rule_id, id(lf))
            found = self._own_findings.get(key)
            if found is None:
                found = self._own_findings[key] = self._build(rule_id, lf)
            return found
        key = (rule_id, id(lf), self.keys[fact] if fact is not None else None)
        shared = self._shared_findings
        hit = shared.get(key)
        if hit is None:
            hit = shared[key] = (lf, self._build(rule_id, lf))
        return hit[1]

    def _build(self, rule_id: str, lf: logic.Node) -> Optional[ConditionFinding]:
        values = self.values
        kind = type(lf)
        if kind is logic.Leaf:
            value = values.get(lf.fact)
            met = self(lf)
            margin = direction = None
            if met is False:
                static = self._static(lf)
                margin, direction = _margin_and_direction(value, lf.op, lf.threshold, static[0], static[1])
            if value is None:
                return ConditionFinding(rule_id, lf.fact, value, lf.op, lf.threshold, lf.params, lf.context, met,
                                        margin, direction, lf.if_missing, lf.source.missing_note_zh,
                                        lf.source.missing_note_en)
            return ConditionFinding(rule_id, lf.fact, value, lf.op, lf.threshold, lf.params, lf.context, met,
                                    margin, direction)
        if kind is logic.Exists:
            return ConditionFinding(rule_id, lf.fact, values.get(lf.fact), "exists" if lf.want_present else "missing",
                                    None, (), None, self(lf))
        if kind is logic.Const:
            return ConditionFinding(rule_id, None, lf.param.value, lf.source.op, lf.source.value, (lf.param,),
                                    None, lf.value)
        return None

    def _static(self, lf: logic.Leaf) -> tuple:
        return leaf_static(lf, self._plan_memo)


def leaf_static(lf: logic.Leaf, plan_memo: dict) -> tuple:
    """(unit of the fact's precision, threshold as a Fraction or None): the same for every record."""
    key = ("static", id(lf))
    hit = plan_memo.get(key)
    if hit is None:
        threshold = Fraction(lf.threshold) if logic_is_number(lf.threshold) else None
        hit = plan_memo[key] = (lf, UNITS.get(FACT_TYPES.get(lf.fact), Fraction(1)), threshold)
    return hit[1:]


def leaf_margin(lf: logic.Leaf, value: Any, met: Optional[bool], plan_memo: dict) -> Any:
    """The margin ExactRecord.finding gives a leaf with this value and status (None unless unmet)."""
    if met is not False:
        return None
    unit, threshold = leaf_static(lf, plan_memo)
    return _margin(value, lf.op, lf.threshold, unit, threshold)


def condition_findings(rule_id: str, node: logic.Node, values: dict,
                       exact: Optional[ExactRecord] = None) -> list[ConditionFinding]:
    """The finding on each leaf of the node, in order (what ExactRecord.finding gives each), through the
    node's leaves listed once per plan with the fact each tests and whether its findings are its
    record's own (per_record): an explanation asks for a dozen rules' findings on every row."""
    exact = exact or ExactRecord(values)
    find = exact.find
    return [found for lf, fact, per in exact.leaf_facts(node) if (found := find(rule_id, lf, fact, per)) is not None]


def _margin(value: Any, op: str, threshold: Any, unit: Fraction, exact_threshold: Optional[Fraction] = None) -> Any:
    """How far the fact must move to meet an unmet numeric condition. A strict limit (< or >) needs
    one unit of the fact's precision beyond the limit (a fen, a year), never a "gap" of zero."""
    return _margin_and_direction(value, op, threshold, unit, exact_threshold)[0]


def _margin_and_direction(value: Any, op: str, threshold: Any, unit: Fraction,
                          exact_threshold: Optional[Fraction] = None) -> tuple:
    """(the margin _margin gives, "up" or "down": which way the fact would have to move), or (None, None).
    Worked out on the integers of the two exact ratios and made a Fraction once (one gcd), rather than
    by Fraction arithmetic: the same exact value, a few times cheaper, and an explanation shows
    thousands of margins."""
    if value is None or op == "!=" or not logic_is_number(value) or not logic_is_number(threshold):
        return None, None
    t = Fraction(threshold) if exact_threshold is None else exact_threshold
    n, d = value.as_integer_ratio()              # int, Decimal and Fraction: exact
    signed = t.numerator * d - n * t.denominator     # (threshold - value) * den
    den = t.denominator * d
    num = abs(signed)
    if op in ("<", ">"):
        num, den = num * unit.denominator + unit.numerator * den, den * unit.denominator
    direction = "up" if signed > 0 or op in (">", ">=") and signed == 0 else "down"
    return Fraction(num, den), direction


def logic_is_number(x: Any) -> bool:
    return isinstance(x, (int, Decimal, Fraction)) and not isinstance(x, bool)


def needed_changes(node: logic.Node, values: dict, rule_id: str, limit: int = 4,
                   exact: Optional[ExactRecord] = None) -> list[list[ConditionFinding]]:
    """Alternatives, each a set of unmet conditions that would all have to change for the node to hold."""
    exact = exact or ExactRecord(values)
    if isinstance(node, logic.Leaf):
        met = exact(node)
        if met is True:
            return [[]]
        return [condition_findings(rule_id, node, values, exact)]
    if isinstance(node, (logic.Exists, logic.Const)):
        return [[]] if exact(node) else ([] if isinstance(node, logic.Const) else
                                         [condition_findings(rule_id, node, values, exact)])
    if isinstance(node, logic.Neg):
        return []
    parts = [needed_changes(c, values, rule_id, limit, exact) for c in node.children]
    if isinstance(node, logic.And):
        combos = [[]]
        for part in parts:
            if not part:
                return []
            combos = [a + b for a in combos for b in part][:limit]
        return combos
    return sorted((alt for part in parts for alt in part), key=len)[:limit]
