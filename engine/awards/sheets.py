"""A year's award run as the officer's spreadsheet (`awards --format xlsx|csv`): one row per award
(an enterprise's award, or the town's award for it), the year's money movements as columns beside
it — awarded, payable this year, deferred, forfeited, clawed back — so each column sums to the total
the run prints and the town sheet shows; and the town/street totals. Every row says the basis of its
money (金额依据: the policy text, a district decision, or assumed — engine/provenance.py); a town total
with any assumed amount is assumed. Words come from templates/_awards_words_{lang}.j2."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

from engine.awards.plan import RunPlan
from engine.awards.present import words
from engine.awards.totals import CATEGORIES, town_totals, year_journal
from engine.policy import Policy
from engine.provenance import combined_basis
from engine.tabular import Column



@dataclass
class AwardRow:
    enterprise_id: str
    name: str
    place: str
    beneficiary_type: str
    decision_id: Optional[str] = None
    award_year: Optional[int] = None
    run_ids: list[int] = field(default_factory=list)
    amounts: dict[str, Decimal] = field(default_factory=lambda: {c: Decimal("0.00") for c in CATEGORIES})
    bases: set = field(default_factory=set)

    @property
    def basis(self) -> Optional[str]:
        return combined_basis(self.bases)


def award_rows(plan: RunPlan) -> list[AwardRow]:
    """One row per award: this year's awards first (in the run's order), then earlier years' awards
    settled this year. The money of each row is every journal line of that award."""
    awards = {(a.enterprise_id, a.beneficiary_type): a for a in [*plan.committed_awards, *plan.new_awards]}
    rows: dict[tuple[str, str, str], AwardRow] = {}
    for line in year_journal(plan):
        key = (line.enterprise_id, line.beneficiary_type, line.place)
        row = rows.get(key)
        if row is None:
            award = awards.get((line.enterprise_id, line.beneficiary_type))
            row = rows[key] = AwardRow(line.enterprise_id, line.name, line.place, line.beneficiary_type,
                                       award.decision_id if award else None, award.award_year if award else None)
        row.amounts[line.category] += line.amount
        if line.amount:
            row.bases.add(line.basis)
        if line.run_id and line.run_id not in row.run_ids:
            row.run_ids.append(line.run_id)
    return sorted(rows.values(), key=lambda r: r.amounts["award"] == 0)


def award_sheet(plan: RunPlan, lang: str) -> tuple[list[Column], list[list]]:
    w = words(lang)
    head = w.AWARD_HEAD
    columns = [Column(head["enterprise_id"], "code"), Column(head["name"]), Column(head["place"]),
               Column(head["beneficiary_type"]), Column(head["award_year"], "year"),
               *[Column(head[c], "money") for c in CATEGORIES], Column(w.BASIS_HEAD),
               Column(head["decision_id"], "code", width=24), Column(head["run"])]
    rows = []
    for r in award_rows(plan):
        run = "、".join(map(str, r.run_ids)) if lang == "zh" else ", ".join(map(str, r.run_ids))
        rows.append([r.enterprise_id, r.name, r.place, w.BTYPE[r.beneficiary_type], r.award_year,
                     *[r.amounts[c] for c in CATEGORIES], w.BASIS.get(r.basis, ""), r.decision_id, run or w.DRY_RUN])
    return columns, rows


def town_sheet(plan: RunPlan, policy: Policy, lang: str) -> tuple[list[Column], list[list]]:
    """The town/street totals with a total row: the sum of each money column's town rows equals it."""
    w = words(lang)
    head = w.TOWN_SHEET_HEAD
    columns = [Column(head[0]), Column(head[1]), Column(head[2], "count"), *[Column(h, "money") for h in head[3:]],
               Column(w.BASIS_HEAD)]
    rows = [[g["place"] or w.TOTAL, w.BTYPE[g["beneficiary_type"]] if g["beneficiary_type"] else None,
             g["enterprises"], *[g[c] for c in CATEGORIES], w.BASIS.get(g["amount_basis"], "")]
            for g in town_totals(plan, policy)]
    return columns, rows


def sheet_names(lang: str) -> dict[str, str]:
    w = words(lang)
    return {"awards": w.SHEET_AWARDS, "towns": w.SHEET_TOWNS}
