"""The columnar engine's results: a whole frame's verdicts as columns (ColumnarBatch), turned into
per-enterprise objects that compare field by field with durable's Decision; and the explanation of
chosen enterprises by re-running them through durable_rules."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Optional

import numpy as np

from engine.columnar.frame import Frame
from engine.columnar.kernel import NA, POS, CompiledFamily
from engine.errors import EngineError
from engine.facts import Enterprise
from engine.decisions import NO_AMOUNT_OFFERED
from engine.provenance import combined_basis


@dataclass
class ColumnarDecision:
    """A family's verdict as durable's Decision carries it (comparable field by field)."""

    type: str
    outcome: str
    rule_id: str
    clause_id: str
    clause_text: str
    amount_yuan: Optional[Decimal] = None
    amount_basis: Optional[str] = None
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
    """The verdicts of a whole frame as columns (family -> arrays); `results()` makes objects. `ev` is the
    ColumnarEvaluator that fills them."""

    def __init__(self, ev, frame: Frame):
        self.ev, self.frame, self.n = ev, frame, frame.n
        self.out: dict[str, dict[str, np.ndarray]] = {}
        for fam in ev.families:
            n = frame.n
            arrays = {"cat": np.full(n, NA, np.int8), "rule": np.zeros(n, np.int16),
                      "outcome": np.zeros(n, np.int8), "trig": np.zeros(n, np.int64),
                      "missing": np.zeros(n, np.int64), "base": np.full(n, -1, np.int8),
                      "bonus": np.full(n, -1, np.int8), "unoffered": np.zeros(n, bool)}
            for k in range(len(fam.classes)):
                arrays[f"case:{k}"] = np.full(n, -1, np.int8)
                arrays[f"value:{k}"] = np.full(n, None, dtype=object)
            self.out[fam.name] = arrays

    def amount(self, fam: CompiledFamily, base: int, bonus: int) -> Optional[Decimal]:
        if base < 0:
            return None
        total = Decimal(0) + fam.amounts[base][2]
        return total + fam.amounts[bonus][2] if bonus >= 0 else total

    def amount_basis(self, fam: CompiledFamily, base: int, bonus: int) -> Optional[str]:
        """The weakest provenance behind the amount paid (see engine/provenance.py)."""
        if not self.amount(fam, base, bonus):
            return None
        return combined_basis(fam.amounts[k][4] for k in (base, bonus) if k >= 0 and fam.amounts[k][2])

    def decision(self, fam: CompiledFamily, i: int) -> ColumnarDecision:
        plan = fam.plan
        spec = plan.family.spec
        concl = spec.conclusion
        clauses = self.ev.policy.clauses
        if not plan.evaluable:
            return ColumnarDecision(plan.name, "not_applicable", concl.id, concl.clause,
                                    clauses[concl.clause].text if concl.clause else "", reason=plan.reason)
        a = self.out[fam.name]
        r = int(a["rule"][i])
        d = ColumnarDecision(plan.name, fam.outcomes[a["outcome"][i]], fam.rule_ids[r], fam.clause_ids[r],
                             clauses[fam.clause_ids[r]].text)
        if a["cat"][i] == POS and a["unoffered"][i]:
            return ColumnarDecision(plan.name, spec.outcomes["negative"], concl.id, concl.clause,
                                    clauses[concl.clause].text, reason=NO_AMOUNT_OFFERED)
        if a["cat"][i] == POS:
            for k, (_, attribute, _) in enumerate(fam.classes):
                if a[f"case:{k}"][i] >= 0:
                    d.attributes[attribute] = a[f"value:{k}"][i]
            if spec.beneficiary:
                d.beneficiary = d.attributes.get(spec.beneficiary)
            if spec.amount:
                d.amount_yuan = self.amount(fam, int(a["base"][i]), int(a["bonus"][i]))
                d.amount_basis = self.amount_basis(fam, int(a["base"][i]), int(a["bonus"][i]))
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
