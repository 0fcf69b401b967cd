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



# ------------------------------------------------------------------------------------ basis
def references_of(lines: list[dict], parameters: dict[str, dict]) -> Optional[str]:
    """The documents (文号) behind the decided figures among the chosen amount lines, or None."""
    refs = [parameters.get(l["parameter"], {}).get("reference") or l.get("reference")
            for l in lines if l.get("chosen") and l.get("provenance") == "decided"]
    return "；".join(dict.fromkeys(r for r in refs if r)) or None


def basis_from_record(record: dict) -> tuple[Optional[str], Optional[str]]:
    """(basis, reference) of an award's amount from its audit record: the provenance of each chosen
    amount line as it was when the award was recorded (engine/awards/audit.py amount_section)."""
    from engine.provenance import combined_basis
    lines = ((record.get("decision") or {}).get("amount") or {}).get("lines") or []
    params = {p["name"]: p for p in record.get("parameters") or [] if isinstance(p, dict) and "name" in p}
    chosen = [l for l in lines if l.get("chosen") and l.get("amount_yuan") not in (None, "0.00")]
    return combined_basis(l.get("provenance") for l in chosen), references_of(chosen, params)


def award_basis(conn: sqlite3.Connection, row) -> tuple[Optional[str], Optional[str], bool]:
    """(basis, reference, derived) of an awards row: as recorded, or (rows recorded before the ledger
    kept it) derived from its audit record."""
    if row["amount_basis"] is not None:
        return row["amount_basis"], row["amount_reference"], False
    found = conn.execute("SELECT record FROM audit_records WHERE decision_id = ?", (row["decision_id"],)).fetchone()
    basis, reference = basis_from_record(json.loads(found[0])) if found else (None, None)
    return basis, reference, True


def money_by_status(statuses, rows) -> dict[str, dict]:
    """Count, yuan and the assumed part (engine/provenance.py) per status of (status, fen, basis) rows."""
    out = {s: {"count": 0, "fen": 0, "assumed_fen": 0} for s in statuses}
    for status, fen, basis in rows:
        out[status]["count"] += 1
        out[status]["fen"] += fen
        out[status]["assumed_fen"] += fen if basis == "assumed" else 0
    for entry in out.values():
        entry["yuan"], entry["assumed_yuan"] = str(from_fen(entry["fen"])), str(from_fen(entry["assumed_fen"]))
    return out


@dataclass
class TownAwardRow:
    """A town award per net increase of firms in scope (engine/awards/net_increase.py), one per place and year."""

    town_award_id: int
    run_id: int
    award_year: int
    place: str
    beneficiary_type: str
    entries: int
    exits: int
    per_enterprise: Decimal
    amount: Decimal
    basis: str
    reference: Optional[str]
    counted: dict
    status: str

    @classmethod
    def of(cls, r) -> "TownAwardRow":
        return cls(r["town_award_id"], r["run_id"], r["award_year"], r["place"], r["beneficiary_type"], r["entries"],
                   r["exits"], from_fen(r["per_enterprise_fen"]), from_fen(r["amount_fen"]), r["amount_basis"],
                   r["amount_reference"], json.loads(r["counted"]), r["status"])


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
    basis: Optional[str] = None           # of the amount: source | decided | assumed
    reference: Optional[str] = None       # the documents (文号) that decided it, when decided
    basis_derived: bool = False           # recorded before the ledger kept it: read from the audit record

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
    town_awards: dict[tuple[str, int], TownAwardRow] = field(default_factory=dict)   # (place, award_year)
    _by_id: dict[int, AwardRow] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, conn: sqlite3.Connection, year: Optional[int]) -> "LedgerState":
        s = cls()
        s.runs = [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY run_id")]
        for r in conn.execute("SELECT * FROM awards ORDER BY award_id"):
            row = AwardRow(r["award_id"], r["run_id"], r["enterprise_id"], r["kind"], r["award_year"],
                           r["inclusion_month"], r["enterprise_name"], r["town"], r["beneficiary"],
                           r["beneficiary_type"], from_fen(r["amount_fen"]), r["clawback_years"], r["decision_id"],
                           json.loads(r["terms"]), *award_basis(conn, r))
            s.awards[(row.enterprise_id, row.kind)] = row
        for r in conn.execute("SELECT * FROM town_awards ORDER BY town_award_id"):
            s.town_awards[(r["place"], r["award_year"])] = TownAwardRow.of(r)
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
