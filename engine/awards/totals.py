"""Money totals of an award year: every money movement of the year's runs as journal lines, and their
totals by town/street (or development zone) and beneficiary type."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from engine.awards.plan import RunPlan
from engine.policy import Policy

CATEGORIES = ("award", "payable", "deferred", "forfeited", "clawback")


@dataclass
class JournalLine:
    category: str               # award | payable | deferred | forfeited | clawback
    place: str                  # the town/street (or development zone) the line is totalled under
    beneficiary_type: str
    enterprise_id: str
    name: str
    amount: Decimal
    run_id: Optional[int]


def year_journal(plan: RunPlan) -> list[JournalLine]:
    """Every money movement of the year's runs — earlier runs and this one — as lines to total."""
    lines: list[JournalLine] = []

    def place(town: str, beneficiary: str, btype: str) -> str:
        return town if btype == "enterprise" else beneficiary

    for a in [*plan.committed_awards, *plan.new_awards]:
        lines.append(JournalLine("award", place(a.town, a.beneficiary, a.beneficiary_type), a.beneficiary_type,
                                 a.enterprise_id, a.name, a.amount, a.run_id))
    for ch in [*plan.committed_changes, *plan.changes]:
        category = {"payable": "payable", "forfeited": "forfeited"}.get(ch.new)
        if ch.old is None and ch.new == "pending":
            category = "deferred" if ch.instalment_kind == "instalment" else None
        if category:
            lines.append(JournalLine(category, place(ch.town, ch.beneficiary, ch.beneficiary_type),
                                     ch.beneficiary_type, ch.enterprise_id, ch.name, ch.amount, ch.run_id))
    for k in [*plan.committed_clawbacks, *plan.clawbacks]:
        lines.append(JournalLine("clawback", k.town, "enterprise", k.enterprise_id, k.name, k.amount, k.run_id))
    return lines


def town_totals(plan: RunPlan, policy: Policy) -> list[dict]:
    """Totals per town/street (or development zone) and beneficiary type, in the jurisdiction's
    order of towns, then a total row. `enterprises` counts the enterprises newly awarded in the year
    (in the total row each enterprise once, though its award and its town's are on two rows)."""
    groups: dict[tuple[str, str], dict] = {}
    for line in year_journal(plan):
        g = groups.setdefault((line.place, line.beneficiary_type),
                              {"place": line.place, "beneficiary_type": line.beneficiary_type, "enterprises": set(),
                               **{c: Decimal("0.00") for c in CATEGORIES}})
        g[line.category] += line.amount
        if line.category == "award":
            g["enterprises"].add(line.enterprise_id)
    codes = {t.name: t.code for t in policy.jurisdiction.towns}
    type_order = {"enterprise": 0, "town": 1, "development_zone": 2}
    rows = sorted(groups.values(), key=lambda g: (codes.get(g["place"], "~"), g["place"],
                                                   type_order[g["beneficiary_type"]]))
    awarded = set().union(*(g["enterprises"] for g in rows)) if rows else set()
    for g in rows:
        g["enterprises"] = len(g["enterprises"])
    total = {"place": None, "beneficiary_type": None, "enterprises": len(awarded),
             **{c: sum((g[c] for g in rows), Decimal("0.00")) for c in CATEGORIES}}
    return rows + [total]
