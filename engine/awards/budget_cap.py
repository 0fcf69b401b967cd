"""An annual budget cap on the awards of a year, with pro-rata reduction (parameter award_budget_cap).

Some instruments cap what a year's awards may cost (年度奖励资金总额不超过X万元，超出的按比例核减). The cap
is one amount per award year over every award the ledger records for that year — enterprise awards and
town awards per new enterprise together (a policy that caps one kind only would need a parameter per
kind; none of ours does). A policy without the parameter has no cap.

Awards of the year already in the ledger (an earlier run of the same year) are fixed: the ledger never
changes a recorded amount. They use up the cap first; the new awards of this run share what is left:

    available = max(0, cap − already recorded this year)
    if the new awards' total T > available:  each amount_i becomes floor_fen(amount_i × available / T)

Each reduced amount is rounded DOWN to the fen, so the year's total never exceeds the cap; the fen
remainders (the residue, available − Σ reduced) are stated in the run's output and are not paid:
distributing them (largest remainder) would make one firm's amount depend on the others' fractions
and on a tie-break. An award reduced to 0.00 is not recorded (withheld, reason budget_cap). The amount
depends only on the amounts and the cap, never on the order of the register. Growth top-ups paid in
later years (terms.py) and town awards per net increase (net_increase.py, recorded in their own ledger
table by the year-end run) are outside the cap. docs/decisions.md#award-budget-cap.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Optional

from engine.awards.terms import schedule
from engine.errors import ParameterNotInForce
from engine.policy import Policy, ResolvedParam

CAP_PARAMETER = "award_budget_cap"
CENT = Decimal("0.01")


@dataclass
class Reduced:
    kind: str
    enterprise_id: str
    name: str
    uncapped: Decimal
    capped: Decimal


@dataclass
class BudgetCap:
    """The cap of the year and what it did to this run's new awards (the arithmetic, for every output)."""

    cap: Decimal
    provenance: str
    committed: Decimal            # awards of the year already in the ledger
    available: Decimal            # cap − committed, not below zero
    uncapped_total: Decimal       # this run's new awards before the cap
    factor: Fraction              # available / uncapped_total, or 1 when the total fits
    reduced: list[Reduced] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.factor < 1

    @property
    def capped_total(self) -> Decimal:
        return sum((r.capped for r in self.reduced), Decimal(0)) if self.applied else self.uncapped_total

    @property
    def residue(self) -> Decimal:
        """What the rounding down leaves of the available budget: stated, not paid."""
        return self.available - self.capped_total if self.applied else Decimal("0.00")

    def as_json(self) -> dict:
        return {"parameter": CAP_PARAMETER, "cap_yuan": _yuan(self.cap), "provenance": self.provenance,
                "committed_this_year_yuan": _yuan(self.committed), "available_yuan": _yuan(self.available),
                "uncapped_total_yuan": _yuan(self.uncapped_total), "applied": self.applied,
                "factor": _factor(self.factor),
                "capped_total_yuan": _yuan(self.capped_total), "residue_yuan": _yuan(self.residue),
                "rounding": "each reduced amount rounded down to the fen; the residue is not paid",
                "reduced": [{"kind": r.kind, "enterprise_id": r.enterprise_id, "name": r.name,
                             "uncapped_yuan": _yuan(r.uncapped), "capped_yuan": _yuan(r.capped)}
                            for r in self.reduced]}


def _yuan(x: Decimal) -> str:
    return str(Decimal(x).quantize(CENT))


def cap_in_force(policy: Policy, as_of: date) -> Optional[ResolvedParam]:
    if CAP_PARAMETER not in policy.parameters:
        return None
    try:
        return policy.param(CAP_PARAMETER, as_of)
    except ParameterNotInForce:
        return None         # dated values that do not cover the day: no cap on that day


def pro_rata(amounts: list[Decimal], available: Decimal) -> tuple[Fraction, list[Decimal]]:
    """(factor, amounts): unchanged when their total fits, else each × available / total rounded down
    to the fen."""
    total = sum(amounts, Decimal(0))
    if total <= available:
        return Fraction(1), list(amounts)
    factor = Fraction(available) / Fraction(total)
    return factor, [_floor_fen(Fraction(a) * factor) for a in amounts]


def _floor_fen(x: Fraction) -> Decimal:
    fen = (x * 100).numerator // (x * 100).denominator
    return (Decimal(fen) / 100).quantize(CENT, rounding=ROUND_FLOOR)


def apply_budget_cap(ctx, plan, award_changes, withheld) -> Optional[BudgetCap]:
    """Reduce the plan's new awards pro rata where the year's total would pass the cap; their
    instalments, the changes that create them and their audit records follow the reduced amount.
    `award_changes(award)` lists the changes that record a new award, `withheld(...)` builds a Withheld
    (engine/awards/plan.py's, passed in so this module does not import it)."""
    rp = cap_in_force(ctx.policy, ctx.as_of)
    if rp is None:
        return None
    committed = sum((a.amount for a in plan.committed_awards), Decimal(0))
    available = max(rp.value - committed, Decimal(0))
    factor, capped = pro_rata([a.amount for a in plan.new_awards], available)
    result = BudgetCap(rp.value, rp.provenance, committed, available,
                       sum((a.amount for a in plan.new_awards), Decimal(0)), factor)
    if not result.applied:
        return result
    for award, amount in zip(plan.new_awards, capped):
        result.reduced.append(Reduced(award.kind, award.enterprise_id, award.name, award.amount, amount))
    kept = []
    for award, r in zip(plan.new_awards, result.reduced):
        plan.changes = [c for c in plan.changes if not (c.old is None and c.award_kind == award.kind
                                                         and c.enterprise_id == award.enterprise_id)]
        if r.capped <= 0:      # the ledger records no award of 0.00
            plan.withheld.append(withheld(award.kind, award.enterprise_id, award.name, award.town, award.amount,
                                          "budget_cap", {"cap_yuan": _yuan(result.cap),
                                                         "available_yuan": _yuan(result.available)}))
            continue
        _reduce(ctx, award, r, result)
        plan.changes += [replace(c, detail={**c.detail, "budget_cap_factor": _factor(result.factor)})
                         for c in award_changes(award)]
        kept.append(award)
    plan.new_awards = kept
    return result


def _reduce(ctx, award, reduced: Reduced, cap: BudgetCap) -> None:
    from engine.awards.audit import decision_id_of
    award.amount = reduced.capped
    award.instalments = schedule(reduced.capped, ctx.year, ctx.terms, award.kind)
    if award.record is not None:        # the audit record states the cap and this award's reduction
        award.record = {k: v for k, v in award.record.items() if k != "decision_id"}
        award.record["budget_cap"] = {**cap.as_json(), "reduced": [],
                                      "this_award": {"uncapped_yuan": _yuan(reduced.uncapped),
                                                     "capped_yuan": _yuan(reduced.capped)}}
        award.record["decision_id"] = decision_id_of(award.record)
        award.decision_id = award.record["decision_id"]


def _factor(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"
