"""Structured decisions: what the engine concluded and every finding behind it. No wording here —
templates (engine/templates/) turn these into text."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

from engine.policy import ResolvedParam
from engine.rules_model import RuleRecord

NO_AMOUNT_OFFERED = "no_amount_offered"     # every condition holds, but the instrument states no amount (or 0)


@dataclass
class ConditionFinding:
    rule_id: str
    fact: Optional[str]             # None for a test on a parameter alone
    value: Any                      # the fact's exact value (None when missing)
    op: str
    threshold: Any
    params: tuple[ResolvedParam, ...]
    context: Optional[str]
    met: Optional[bool]
    margin: Any = None              # how far an unmet numeric threshold is, in the fact's unit
    direction: Optional[str] = None  # "up" or "down": which way the fact would have to move
    missing_reading: Optional[str] = None    # "met" / "not_met" when a missing fact has a stated reading
    missing_note_zh: Optional[str] = None
    missing_note_en: Optional[str] = None


@dataclass
class RuleFinding:
    rule: RuleRecord
    status: str        # met | not_met | not_applicable | missing | triggered | not_triggered | set | not_modelled
    #                    | unevaluated (a rule a decision settled before it needs no status of: evaluate.explain_family)
    conditions: list[ConditionFinding] = field(default_factory=list)
    missing_facts: list[str] = field(default_factory=list)
    params: list[ResolvedParam] = field(default_factory=list)
    included_from: Optional[str] = None
    value: Any = None                 # classification: the value set; amount: the amount
    changes: list[list[ConditionFinding]] = field(default_factory=list)   # alternatives that would turn it
    # Whether records share this finding (engine/evaluate.explain_family): only then is what is built from
    # it (its text, engine/render.findings_text) worth remembering by the finding itself.
    shared: bool = field(default=True, compare=False, repr=False)
    # A finding of its record alone: the shape it was filled from (engine/finding_shapes.py), which its
    # text is compiled for (engine/rule_shapes.shape_text); None when built plainly.
    shape: Any = field(default=None, compare=False, repr=False)


@dataclass
class AmountLine:
    rule_id: str
    clause: str
    param: ResolvedParam
    amount: Decimal
    chosen: bool
    role: str = "base"      # base (highest wins, 就高不重复) or bonus (added once)
    band: Any = None        # an amount schedule's band that applied (engine/schedule.Band), its index,
    band_index: Optional[int] = None      # the fact it bands and that fact's value
    band_fact: Optional[str] = None
    band_value: Any = None


@dataclass
class Decision:
    type: str
    outcome: str
    rule_id: str
    clause_id: str
    clause_text: str
    findings: list[RuleFinding]
    params: dict[str, ResolvedParam]
    amount_yuan: Optional[Decimal] = None
    amount_basis: Optional[str] = None      # source | decided | assumed: the weakest behind the amount paid
    amount_lines: list[AmountLine] = field(default_factory=list)
    beneficiary: Optional[str] = None
    attributes: dict[str, Any] = field(default_factory=dict)
    triggered: list[str] = field(default_factory=list)
    triggered_codes: list[str] = field(default_factory=list)   # W1..W8, deduplicated, in rule order
    missing_facts: list[str] = field(default_factory=list)
    reason: Optional[str] = None        # e.g. the policy is not in force on the date
    fired: list[str] = field(default_factory=list)   # durable_rules rule names that fired
    readings: list[Any] = field(default_factory=list)  # the policy's Interpretation records relied on


def interpretation_ids(findings: list[RuleFinding]) -> list[str]:
    """The readings of the text a decision relied on: each rule it considered that records one, in rule
    order. A reading is ours, not the clause's words: outputs list these ids beside the decision."""
    return list(dict.fromkeys(f.rule.interpretation for f in findings
                              if f.rule.interpretation and f.status != "not_modelled"))


@dataclass
class EnterpriseResult:
    enterprise_id: str
    name: str
    town: str
    in_park: bool
    as_of: str
    policy: str
    decisions: list[Decision]
    facts: dict[str, Any]

    def decision(self, type_: str) -> Decision:
        return next(d for d in self.decisions if d.type == type_)
