"""The ledger's contents as Python values: the rows of awards, instalments and scope events, and the
state of an enterprise's history that an award run reads (engine/awards/plan.py). Money comes in as
integer fen and is handed out as Decimal yuan (to_fen/from_fen)."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Optional

from engine.errors import EngineError


# ------------------------------------------------------------------------------------ money
def to_fen(amount: Decimal) -> int:
    fen = Decimal(amount) * 100
    if fen != fen.to_integral_value():
        raise EngineError(f"amount {amount} is not a whole number of fen")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))



# ------------------------------------------------------------------------------------ state
@dataclass
class AwardRow:
    award_id: int
    run_id: int
    enterprise_id: str
    kind: str
    award_year: int
    inclusion_month: str
    enterprise_name: str
    town: str
    beneficiary: str
    beneficiary_type: str
    amount: Decimal
    clawback_years: int
    decision_id: str
    terms: dict

    @property
    def inclusion_year(self) -> int:
        return int(self.inclusion_month[:4])


@dataclass
class InstalmentRow:
    instalment_id: int
    award_id: int
    seq: int
    kind: str
    due_year: int
    amount: Decimal
    condition: str
    growth_rate: Optional[str]
    growth_years: Optional[int]
    status: str


@dataclass
class EventRow:
    event_id: int
    enterprise_id: str
    kind: str
    event_date: date
    date_basis: str
    run_id: int
    detail: Optional[str] = None


@dataclass
class LedgerState:
    """A snapshot of the ledger, as plain data, for planning a run and for the year's view."""

    runs: list[dict] = field(default_factory=list)
    awards: dict[tuple[str, str], AwardRow] = field(default_factory=dict)      # (enterprise_id, kind)
    instalments: dict[int, list[InstalmentRow]] = field(default_factory=dict)  # award_id -> rows by seq
    events: dict[str, list[EventRow]] = field(default_factory=dict)            # enterprise_id -> by date
    growth: dict[int, dict[int, dict]] = field(default_factory=dict)           # award_id -> year -> check
    clawbacks: dict[int, dict] = field(default_factory=dict)                   # award_id -> row
    year_changes: list[dict] = field(default_factory=list)                     # status changes of runs of the year
    _by_id: dict[int, AwardRow] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, conn: sqlite3.Connection, year: Optional[int]) -> "LedgerState":
        s = cls()
        s.runs = [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY run_id")]
        for r in conn.execute("SELECT * FROM awards ORDER BY award_id"):
            row = AwardRow(r["award_id"], r["run_id"], r["enterprise_id"], r["kind"], r["award_year"],
                           r["inclusion_month"], r["enterprise_name"], r["town"], r["beneficiary"],
                           r["beneficiary_type"], from_fen(r["amount_fen"]), r["clawback_years"], r["decision_id"],
                           json.loads(r["terms"]))
            s.awards[(row.enterprise_id, row.kind)] = row
        for r in conn.execute("SELECT * FROM instalments ORDER BY award_id, seq"):
            s.instalments.setdefault(r["award_id"], []).append(InstalmentRow(
                r["instalment_id"], r["award_id"], r["seq"], r["kind"], r["due_year"], from_fen(r["amount_fen"]),
                r["condition"], r["growth_rate"], r["growth_years"], r["status"]))
        for r in conn.execute("SELECT * FROM scope_events ORDER BY event_date, event_id"):
            s.events.setdefault(r["enterprise_id"], []).append(EventRow(
                r["event_id"], r["enterprise_id"], r["kind"], date.fromisoformat(r["event_date"]), r["date_basis"],
                r["run_id"], r["detail"]))
        for r in conn.execute("SELECT * FROM growth_checks"):
            s.growth.setdefault(r["award_id"], {})[r["review_year"]] = dict(r)
        for r in conn.execute("SELECT * FROM clawbacks"):
            s.clawbacks[r["award_id"]] = dict(r)
        if year is not None:
            s.year_changes = [dict(r) for r in conn.execute(
                """SELECT s.*, i.award_id, i.seq, i.kind AS instalment_kind, i.amount_fen, i.due_year
                     FROM status_changes s JOIN instalments i USING (instalment_id)
                    WHERE s.year = ? AND s.run_id IS NOT NULL ORDER BY s.change_id""", (year,))]
        return s

    def award_by_id(self, award_id: int) -> AwardRow:
        if len(self._by_id) != len(self.awards):
            self._by_id = {a.award_id: a for a in self.awards.values()}
        return self._by_id[award_id]

    def runs_of_year(self, year: int) -> list[dict]:
        return [r for r in self.runs if r["award_year"] == year]
