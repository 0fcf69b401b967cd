"""Money by place and beneficiary: one set of rules for the HTML report, the award run and what-if.

* Who is paid: an enterprise award pays the enterprise; a town award pays the decision's beneficiary (the
  enterprise's town/street, or the development zone where the policy attributes park firms to it). The
  beneficiary is the development zone when it is the zone's name and no town of the jurisdiction has it.
* Where money is totalled (its place): an enterprise award under the enterprise's town/street, a town
  award under its beneficiary.
* Which decisions count: those whose outcome is `awarded` with an amount.
* Order: the jurisdiction's towns in its order, then other places (the development zone) by name; on
  one place, enterprise before town before development-zone lines.

`decision_lines` reads evaluated results (report, what-if); `year_journal` reads an award run's plan
(new and committed awards, instalment changes, clawbacks). `totals_by_place` adds either up.

Every line carries the basis of its amount (engine/provenance.py: source | decided | assumed), and every
total the weakest basis of the lines in it, so a total that includes an assumed amount says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Optional

from engine.families import AWARD_KINDS
from engine.policy import Policy
from engine.provenance import combined_basis

CATEGORIES = ("award", "payable", "deferred", "forfeited", "clawback")
TYPE_ORDER = {"enterprise": 0, "town": 1, "development_zone": 2}


@dataclass
class JournalLine:
    category: str               # award | payable | deferred | forfeited | clawback
    place: str                  # the town/street (or development zone) the line is totalled under
    beneficiary_type: str       # enterprise | town | development_zone
    enterprise_id: str
    name: str
    amount: Decimal
    run_id: Optional[int]
    kind: str = ""              # the award it belongs to: enterprise | town
    basis: Optional[str] = None # of the amount: source | decided | assumed (None: not known)


def place_type(place: str, policy: Policy) -> str:
    """town, or development_zone for the zone's name when no town of the jurisdiction has it."""
    jurisdiction = policy.jurisdiction
    towns = {t.name for t in jurisdiction.towns}
    return "development_zone" if place == jurisdiction.development_zone.name_zh and place not in towns else "town"


def beneficiary(kind: str, enterprise_name: str, town: str, named: Optional[str], policy: Policy) -> tuple[str, str]:
    """(who is paid, beneficiary type) of an award of this kind."""
    if kind == "enterprise":
        return enterprise_name, "enterprise"
    paid = named or town
    return paid, place_type(paid, policy)


def place_of(town: str, paid: str, beneficiary_type: str) -> str:
    return town if beneficiary_type == "enterprise" else paid


def decision_lines(results: Iterable[Any], policy: Policy) -> list[JournalLine]:
    """The awards decided in evaluated results (EnterpriseResult), one line each."""
    lines = []
    for r in results:
        for kind, family in AWARD_KINDS:
            d = next((d for d in r.decisions if d.type == family), None)
            if d is None or d.outcome != "awarded" or d.amount_yuan is None:
                continue
            paid, btype = beneficiary(kind, r.name, r.town, d.beneficiary, policy)
            lines.append(JournalLine("award", place_of(r.town, paid, btype), btype, r.enterprise_id, r.name,
                                     d.amount_yuan, None, kind, getattr(d, "amount_basis", None)))
    return lines


def year_journal(plan) -> list[JournalLine]:
    """Every money movement of an award run's year (engine/awards/plan.RunPlan) — earlier runs and
    this one — as lines to total."""
    lines: list[JournalLine] = []
    for a in [*plan.committed_awards, *plan.new_awards]:
        lines.append(JournalLine("award", place_of(a.town, a.beneficiary, a.beneficiary_type), a.beneficiary_type,
                                 a.enterprise_id, a.name, a.amount, a.run_id, a.kind, a.basis))
    for ch in [*plan.committed_changes, *plan.changes]:
        category = {"payable": "payable", "forfeited": "forfeited"}.get(ch.new)
        if ch.old is None and ch.new == "pending":
            category = "deferred" if ch.instalment_kind == "instalment" else None
        if category:
            lines.append(JournalLine(category, place_of(ch.town, ch.beneficiary, ch.beneficiary_type),
                                     ch.beneficiary_type, ch.enterprise_id, ch.name, ch.amount, ch.run_id,
                                     ch.award_kind, ch.basis))
    for k in [*plan.committed_clawbacks, *plan.clawbacks]:
        lines.append(JournalLine("clawback", k.town, "enterprise", k.enterprise_id, k.name, k.amount, k.run_id,
                                 "enterprise", k.basis))
    lines += town_net_lines(getattr(plan, "town_net", []))
    return lines


def town_net_lines(rows) -> list[JournalLine]:
    """Town awards per net increase (engine/awards/net_increase.py): a town-level amount with no
    enterprise of its own, awarded and payable at once. The year's view counts the award the ledger
    recorded (at its recorded amount), or the one this year-end run records; a count before the year's
    end is shown by the run, not totalled."""
    lines = []
    for t in rows:
        if t.recorded is not None:
            amount, run_id, basis = t.recorded.amount, t.recorded.run_id, t.recorded.basis
        elif t.to_record:
            amount, run_id, basis = t.amount, t.run_id, t.provenance
        else:
            continue
        for category in ("award", "payable"):
            lines.append(JournalLine(category, t.place, t.beneficiary_type, "", t.place, amount, run_id, "town", basis))
    return lines


def place_order(policy: Policy):
    """Sort key of a place: the jurisdiction's towns in its order, then other places by name."""
    index = {t.name: i for i, t in enumerate(policy.jurisdiction.towns)}
    return lambda place: (index.get(place, len(index)), place)


def totals_by_place(lines: Iterable[JournalLine], policy: Policy) -> list[dict]:
    """Totals per place and beneficiary type, in place order, then a total row. `enterprises` counts
    the enterprises with an award line (in the total row each enterprise once, though its award and its
    town's are on two rows)."""
    groups: dict[tuple[str, str], dict] = {}
    for line in lines:
        g = groups.setdefault((line.place, line.beneficiary_type),
                              {"place": line.place, "beneficiary_type": line.beneficiary_type, "enterprises": set(),
                               "bases": set(), **{c: Decimal("0.00") for c in CATEGORIES}})
        g[line.category] += line.amount
        if line.amount:
            g["bases"].add(line.basis)
        if line.category == "award" and line.enterprise_id:
            g["enterprises"].add(line.enterprise_id)
    key = place_order(policy)
    rows = sorted(groups.values(), key=lambda g: (*key(g["place"]), TYPE_ORDER[g["beneficiary_type"]]))
    awarded = set().union(*(g["enterprises"] for g in rows)) if rows else set()
    every_basis = set().union(*(g["bases"] for g in rows)) if rows else set()
    for g in rows:
        g["enterprises"] = len(g["enterprises"])
        g["amount_basis"] = combined_basis(g.pop("bases"))
    total = {"place": None, "beneficiary_type": None, "enterprises": len(awarded),
             "amount_basis": combined_basis(every_basis),
             **{c: sum((g[c] for g in rows), Decimal("0.00")) for c in CATEGORIES}}
    return rows + [total]


def town_totals(plan, policy: Policy) -> list[dict]:
    """The award run's totals per town/street (or development zone) and beneficiary type."""
    return totals_by_place(year_journal(plan), policy)
