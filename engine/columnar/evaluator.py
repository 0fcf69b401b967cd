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
* each family's verdict follows engine/evaluate.verdict_from_status, column-wise: the deciding rule
  (also the rule cited for insufficient data), the attributes of positive outcomes, the amount lines
  (highest base, first on ties, plus the highest positive bonus), triggered indicators and the missing
  register columns.

The columnar engine explains nothing itself: results carry the rule ids, and `scaleup explain` re-runs
the chosen enterprises through durable_rules. Conditions it cannot express are refused when compiling
(PolicyDataError), never approximated. durable_rules stays the engine behind explain, audit and verify.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Optional

import numpy as np

from engine import logic
from engine.columnar.derived import check_derivations, with_derived
from engine.columnar.frame import Col, Frame, cat_from_values
from engine.columnar.kernel import OPS, Chunk, CompiledFamily, follow_included, node_key, run_family
from engine.columnar.results import ColumnarBatch, ColumnarResult
from engine.compiler import FamilyPlan, PolicyPlan, plan_policy
from engine.errors import PolicyDataError
from engine.rules_model import LEVELS
from engine.facts import Enterprise
from engine.policy import Policy
from engine.rules_model import Rulebook

CHUNK = 1 << 16          # rows per pass: the working columns stay in the processor's cache
NUMERIC_FACT_TYPES = ("money", "int", "ratio", "year", "decimal")
MAX_BITS = 62
IDENTITY_FACTS = ("enterprise_id", "name", "town", "in_park")    # also held by the Frame itself


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
        self.families: list[CompiledFamily] = []
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
    def _compile_family(self, plan: FamilyPlan) -> CompiledFamily:
        spec = plan.family.spec
        concl = spec.conclusion
        fam = CompiledFamily(plan, [concl.id], [concl.clause], ["not_applicable", "insufficient_data"])
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
                if not plan.family.included_from.get(r.id) and r.id in plan.bands:
                    self._schedule(fam, plan, r, i, node, where)
                elif not plan.family.included_from.get(r.id):
                    param = plan.params[r.amount_param]
                    fam.amounts.append((i, node, Decimal(param.value), r.role or "base", param.provenance))
            elif r.kind != "not_modelled":
                raise PolicyDataError([f"{where} rule {r.id}: the columnar engine does not know rule kind {r.kind!r}"])
        if spec.decision == "gate":
            for word in (spec.outcomes["positive"], spec.outcomes["negative"]):
                fam.outcome_index(word)
        else:
            for word in (*LEVELS, spec.outcomes["none"]):
                fam.outcome_index(word)
        reportable: set[str] = set(fam.band_facts)
        for facts in fam.report_leaves.values():
            for f in facts:
                reportable |= self._derivation_tree(f)
        fam.report_facts = sorted(reportable)
        if len(fam.report_facts) > MAX_BITS:
            raise PolicyDataError([f"{where}: more than {MAX_BITS} facts could be reported missing; the "
                                   "columnar engine keeps them in one 64-bit word"])
        return fam

    def _schedule(self, fam: CompiledFamily, plan, r, i: int, node, where: str) -> None:
        """A schedule: one amount line per band (its own condition and the rule's), and the rows where
        the rule applies but the banded fact is missing (the award undetermined, kernel.py)."""
        param = plan.params[r.amount_param]
        for band, band_node in zip(param.value, plan.bands[r.id]):
            both = band_node if node is None else logic.And((node, band_node))
            self._check(both, f"{where} rule {r.id}")
            fam.amounts.append((i, both, band.amount, r.role or "base", param.provenance))
        fam.undetermined.append((r.id, i, node, r.band_fact))
        fam.undetermined.sort()     # the verdicts cite the first such rule by id (evaluate.undetermined_amount)
        fam.band_facts.update(self._derivation_tree(r.band_fact))

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
                if lf.op not in OPS or isinstance(lf.threshold, (list, tuple)):
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

    def evaluate(self, enterprises: Iterable[Enterprise]) -> list[ColumnarResult]:
        return self.evaluate_frame(self.frame(enterprises)).results()

    def evaluate_frame(self, frame: Frame) -> ColumnarBatch:
        batch = ColumnarBatch(self, frame)
        for idx, part in self._parts(frame):
            tables: dict = {}
            for a in range(0, part.n, CHUNK):
                b = min(part.n, a + CHUNK)
                chunk = Chunk(self, {f: c.slice(a, b) for f, c in part.columns.items()}, b - a, tables)
                where = slice(a, b) if idx is None else idx[a:b]
                for fam in self.families:
                    if fam.plan.evaluable:
                        run_family(fam, chunk, batch.out[fam.name], where)
        follow_included(self.families, batch.out)
        return batch

    def derived_parts(self, frame: Frame) -> list:
        """The (row positions or None, derived frame) parts evaluate_frame evaluated the frame in."""
        return self._parts(frame)

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
