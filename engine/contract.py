"""Output contract version 2: one compact object per enterprise (docs/output-contract.md, JSON Schema in
docs/schema/). `enterprise_document` is the one builder both engines write through (durable_rules and
the columnar engine give the same object for the same verdicts).

A decision carries its verdict, amount, the ids of the rules that decided it, their clauses and
interpretations, the deciding conditions (fact value, operator, threshold, met, margin) and references
to the parameters behind them (name, value, kind of provenance). Clause texts, parameter notes and
sources, interpretations and labels are not repeated: they live once in the policy document
(engine/policy_view.py; `scaleup policy show ID --format json`, or the first NDJSON line with
--with-policy), addressed by these ids. `explain` adds each decision's rendered text; detail "full"
adds every condition of every rule considered and each rule's status.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from engine.compiler import FamilyPlan
from engine.evaluate import explain_family, plan_interpretation_ids
from engine.findings import FACT_TYPES, ExactRecord, condition_findings, per_record
from engine.provenance import combined_basis
from engine.output import json_value
from engine.rules_model import Rulebook

SCHEMA_VERSION = 2
DETAILS = ("compact", "full")
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))   # the C encoder, one line


@dataclass
class Contract:
    """What every document of one run shares: the compiled plans, the options, how rows were checked."""

    plans: dict[str, FamilyPlan]
    book: Rulebook
    engine: str = "durable"              # durable | columnar
    cross_check: str = "columnar"        # columnar | exact | off (engine/crosscheck.CHECK_MODES)
    detail: str = "compact"              # compact | full
    explain: bool = False
    kinds: dict[str, str] = field(default_factory=dict)
    # Condition objects built so far, by the finding they show (engine/findings.ExactRecord shares one
    # finding among the records that repeat a leaf's value): id -> (finding, {own rule?: object}).
    shown: dict = field(default_factory=dict, repr=False, compare=False)
    cited: dict = field(default_factory=dict, repr=False, compare=False)      # decision_object's _cited

    def __post_init__(self):
        self.kinds = {fid: spec.type for fid, spec in self.book.facts.items()}
        FACT_TYPES.update(self.kinds)      # the unit of a strict margin (a fen, a year), as Evaluator sets it


def enterprise_document(contract: Contract, result: Any, values: dict, *,
                        amount_rules: Optional[Sequence[Sequence[str]]] = None,
                        findings: Optional[Sequence[list]] = None,
                        explanations: Optional[Sequence[str]] = None) -> dict:
    """The v2 object for one enterprise. `result`: engine/decisions.EnterpriseResult or the columnar
    engine's ColumnarResult (the same verdict fields); `values`: its facts (derived included);
    `amount_rules`: per decision, the amount rules paid (chosen); `findings`: per decision, every rule's
    findings (detail "full"; computed here when not given); `explanations`: per decision, the text."""
    decisions = []
    for k, d in enumerate(result.decisions):
        plan = contract.plans[d.type]
        doc = decision_object(contract, plan, d, values, amount_rules[k] if amount_rules else ())
        if contract.detail == "full":
            fnd = findings[k] if findings is not None else (
                explain_family(plan, values, contract.book)[0] if plan.evaluable else [])
            every = [condition_object(contract, c, d.rule_id) for f in fnd for c in f.conditions]
            if every:
                doc["conditions"] = every
            doc["rules"] = [{"rule_id": f.rule.id, "kind": f.rule.kind, "status": f.status,
                             "included_from": f.included_from, "missing_facts": f.missing_facts} for f in fnd]
        if contract.explain and explanations is not None:
            doc["explanation"] = explanations[k]
        decisions.append(doc)
    return {"schema": SCHEMA_VERSION, "enterprise_id": result.enterprise_id, "name": result.name,
            "as_of": result.as_of, "policy": result.policy,
            "engine": contract.engine, "cross_check": contract.cross_check, "decisions": decisions}


def ndjson_line(doc: dict) -> str:
    """One document on one line (UTF-8 text, no trailing newline)."""
    return _ENCODER.encode(doc)


def deciding_rules(plan: FamilyPlan, d: Any) -> list[str]:
    """The rules that decided: the cited rule (the failing condition, the exclusion, the applicability
    rule, the first rule that could not be evaluated); for a positive gate every condition; for
    indicators the triggered ones."""
    if not plan.evaluable:
        return []
    spec = plan.family.spec
    if d.rule_id != spec.conclusion.id:
        ids = [d.rule_id]
    elif spec.decision == "gate" and d.outcome == spec.outcomes["positive"]:
        ids = [r.id for r in plan.rules_of_kind("condition")]
    else:
        ids = []
    return ids + [t for t in d.triggered if t not in ids]


def decision_object(contract: Contract, plan: FamilyPlan, d: Any, values: dict, paid: Sequence[str]) -> dict:
    rules, rule_ids, clause_ids, interpretations, basis, parameters = _cited(contract, plan, d, paid)
    conditions = []
    if rules and values is not None:
        exact = None
        for rid in rules:
            node = plan.nodes.get(rid)
            if node is not None:
                found = _own_conditions(plan, d, rid)
                if found is None:
                    exact = exact or ExactRecord(values, plan.memo)
                    found = condition_findings(rid, node, values, exact)
                # A test on a parameter alone (which revenue measure the district uses) is the same for every
                # enterprise: its parameter is under "parameters"; --detail full lists the test itself.
                conditions += [condition_object(contract, c, d.rule_id) for c in found if c.fact is not None]
    doc = {"type": d.type, "outcome": d.outcome, "rule_id": d.rule_id, "clause_id": d.clause_id}
    # Members that would only repeat another, or say nothing, are left out (the schema says when): a
    # summary line stays under 3 KB. rule_ids/clause_ids: when more than the decision's own rule/clause.
    if rule_ids is not None:
        doc["rule_ids"] = list(rule_ids)
    if clause_ids is not None:
        doc["clause_ids"] = list(clause_ids)
    doc["interpretations"] = list(interpretations)
    if d.amount_yuan is not None:
        doc["amount_yuan"] = json_value(d.amount_yuan, "money")
    if basis:
        doc["amount_basis"] = basis
    if d.type == "town_award":
        doc["beneficiary"] = d.beneficiary      # always there for a town award (null when not awarded)
    if d.attributes:
        doc["attributes"] = {k: json_value(d.attributes[k]) for k in sorted(d.attributes)}
    if d.triggered_codes:
        doc["triggered"] = list(d.triggered_codes)
    if d.missing_facts:
        doc["missing_facts"] = list(d.missing_facts)
    if d.reason:
        doc["reason"] = d.reason
    if conditions:
        doc["conditions"] = conditions
    if parameters:
        doc["parameters"] = {kind: dict(refs) for kind, refs in parameters.items()}
    return doc


def _cited(contract: Contract, plan: FamilyPlan, d: Any, paid: Sequence[str]) -> tuple:
    """(deciding rules, rule_ids or None, clause_ids or None, interpretations, amount basis, parameter
    references) of a decision: a function of its family, rule, clause, outcome, triggered rules and the
    amount rules paid, worked out once for each (a register repeats a few hundred), as lists and dicts
    decision_object copies."""
    key = (d.type, d.rule_id, d.clause_id, d.outcome, tuple(d.triggered), tuple(paid), d.amount_yuan is not None)
    kept = contract.cited
    hit = kept.get(key)
    if hit is not None:
        return hit
    rules = deciding_rules(plan, d)
    by_id = _rules_by_id(plan)
    cited = [by_id[r] for r in [*rules, *paid] if r in by_id]
    # The readings the decision relied on, as every other output lists them (decisions.interpretation_ids).
    interpretations = tuple(plan_interpretation_ids(plan)) if plan.evaluable else ()
    params: dict[str, Any] = {}
    for rid in [*rules, *paid]:
        for p in plan.rule_params.get(rid, ()):
            params.setdefault(p.name, p)
    basis = None
    if d.amount_yuan is not None:       # the weakest provenance of the amounts paid (zero amounts add nothing)
        basis = combined_basis(plan.params[by_id[r].amount_param].provenance for r in paid
                               if r in by_id and plan.params[by_id[r].amount_param].value)
    rule_ids = (*rules, *[r for r in paid if r not in rules])
    clause_ids = tuple(dict.fromkeys([d.clause_id, *(r.clause for r in cited)]))
    hit = (rules, rule_ids if list(rule_ids) != [d.rule_id] else None,
           clause_ids if list(clause_ids) != [d.clause_id] else None, interpretations, basis,
           parameter_references(params.values()) if params else None)
    if len(kept) >= CITED_KEPT:
        kept.clear()
    kept[key] = hit
    return hit


CITED_KEPT = 20000          # decisions' cited parts kept per run (then started afresh)


def split_at_conditions(doc: dict) -> tuple[str, str]:
    """A decision object's encoded text before and after the items of its conditions list (where
    decision_object puts "conditions": before "parameters", or last): `before + ",".join(encoded
    conditions) + after` is the object's line with those conditions (engine/columnar/contract_text.py)."""
    marker = "\x00conditions\x00"
    marked: dict = {}
    for key, value in doc.items():
        if key == "parameters":
            marked["conditions"] = marker
        if key != "conditions":
            marked[key] = value
    marked.setdefault("conditions", marker)
    before, after = ndjson_line(marked).split(ndjson_line(marker))
    return before + "[", "]" + after


def parameter_references(params) -> dict:
    """The parameters behind a decision by kind of provenance, each with its value in force:
    {"source": {"scale_threshold": "20000000.00"}, "assumed": {...}} (each kind named once, not per
    parameter). Notes, sources and clauses are in the policy document under the same names."""
    out: dict[str, dict] = {}
    for p in params:
        out.setdefault(p.provenance, {})[p.name] = json_value(p.value, p.parameter.type)
    return out


def condition_object(contract: Contract, c, decided_by: str) -> dict:
    """One condition; its rule_id only when it is not the decision's own rule_id (most conditions
    belong to the one deciding rule). Built once per finding and shown again (findings are never
    changed once built, nor are these objects: documents only encode them); entries hold their
    finding, so an id is never reused while remembered."""
    own = c.rule_id == decided_by
    if per_record(c.fact):       # a finding of its record only (findings.ExactRecord.finding)
        return _condition_object(contract, c, own)
    shown = contract.shown
    entry = shown.get(id(c))
    if entry is None or entry[0] is not c:
        if len(shown) >= CONDITIONS_SHOWN:
            shown.clear()
        entry = shown[id(c)] = (c, {})
    obj = entry[1].get(own)
    if obj is None:
        obj = entry[1][own] = _condition_object(contract, c, own)
    return obj


CONDITIONS_SHOWN = 50000        # condition objects kept per run (then started afresh)


def _condition_object(contract: Contract, c, own: bool) -> dict:
    kind = contract.kinds.get(c.fact) if c.fact else (c.params[0].parameter.type if c.params else None)
    out = {} if own else {"rule_id": c.rule_id}
    out.update(fact=c.fact, value=json_value(c.value, kind), op=c.op,
               threshold=json_value(c.threshold, kind if c.fact else None), met=c.met)
    if c.margin is not None:
        out["margin"] = json_value(c.margin, kind)
    return out


_OWN_CONDITIONS = frozenset({"applicability", "exclusion", "condition", "indicator"})


def _own_conditions(plan: FamilyPlan, d: Any, rule_id: str) -> Optional[list]:
    """The rule's condition findings as the decision's exact evaluation already holds them (a rule of
    these kinds shows exactly its `when`'s findings: engine/evaluate.rule_finding), or None where the
    decision has none (the columnar engine's results, a summary run's) or the rule shows more (bands)."""
    findings = getattr(d, "findings", None)
    if not findings:
        return None
    if "position" not in plan.memo:
        plan.memo["position"] = {r.id: i for i, r in enumerate(plan.family.rules)}
    i = plan.memo["position"].get(rule_id)
    f = findings[i] if i is not None and i < len(findings) else None
    if f is None or f.rule.id != rule_id or f.rule.kind not in _OWN_CONDITIONS or not f.conditions:
        return None
    return f.conditions


def _rules_by_id(plan: FamilyPlan) -> dict:
    if "by_id" not in plan.memo:
        plan.memo["by_id"] = {r.id: r for r in plan.family.rules}
    return plan.memo["by_id"]

