"""The town award counted per net increase of 规上 firms (parameter town_award_basis = per_net_increase).

三(一) rewards the 所属乡镇（街道）; one reading (interpretation town_award_attribution) pays the town per
net increase of firms in scope rather than per new firm. That is a town-level amount, not an
enterprise's: it is worked out here, over the award year's scope events, and added to the town totals
(engine/awards/totals.py). For each town (or the development zone, where park firms are credited to it):

    amount = max(0, entries − exits) × town_award_per_enterprise

Entries and exits are the year's scope events of the firms in the register: those an earlier run of the
year recorded in the ledger (source `ledger`) and those this run records (source `register`). Each is
listed by name in the explanation, so a reviewer can count them. Under the default basis
(per_new_enterprise) nothing here applies and the town award is decided per enterprise by the rules.

The ledger records one town award per place and year (table town_awards, with the entries and exits
counted and the basis of the amount), written by the year-end run (as-of 31 December: the year's net
increase is known only then); a run before the year's end shows the count so far without recording it.
A later run of the same year that counts a different amount does not change the recorded award: it says
so (note town_net_differs) for the officer to settle by hand, as for an enterprise award.
`ledger pay` pays a recorded town award in one payment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Optional

from engine.awards.totals import beneficiary as paid_to
from engine.policy import Policy

BASIS_PARAMETER = "town_award_basis"
PER_NET_INCREASE = "per_net_increase"
AMOUNT_PARAMETER = "town_award_per_enterprise"
PARK_PARAMETER = "town_award_park_attribution"


@dataclass
class Counted:
    """One entry or exit counted for a town: whose, when, and where the event was read."""

    enterprise_id: str
    name: str
    event_date: date
    source: str                  # ledger (an earlier run of the year) | register (this run)


@dataclass
class TownNetIncrease:
    place: str
    beneficiary_type: str        # town | development_zone
    per_enterprise: Decimal
    provenance: str              # of the per-enterprise amount: source | decided | assumed
    entries: list[Counted] = field(default_factory=list)
    exits: list[Counted] = field(default_factory=list)
    reference: Optional[str] = None          # the document (文号) that decided the per-enterprise amount
    recorded: Optional[object] = None        # the town award of the year in the ledger (ledger_state.TownAwardRow)
    to_record: bool = False                  # this (year-end) run records it
    run_id: Optional[int] = None             # set when this run recorded it

    @property
    def net(self) -> int:
        return len(self.entries) - len(self.exits)

    @property
    def amount(self) -> Decimal:
        """Never negative: a town with more exits than entries gets nothing (and repays nothing)."""
        return (max(self.net, 0) * self.per_enterprise).quantize(Decimal("0.01"))


def applies(policy: Policy, as_of: date) -> bool:
    if BASIS_PARAMETER not in policy.parameters:      # a policy without the choice counts per new enterprise
        return False
    return policy.param(BASIS_PARAMETER, as_of).value == PER_NET_INCREASE


def town_net_increase(policy: Policy, as_of: date, year: int, firms, ledger_events: dict,
                      run_events) -> list[TownNetIncrease]:
    """Per town, the year's entries and exits of the register's firms and the amount they earn.
    `firms`: (enterprise_id, name, town, in_park) of every register row; `ledger_events`: enterprise_id ->
    events recorded by earlier runs; `run_events`: the events this run records. Empty under the default basis."""
    if not applies(policy, as_of):
        return []
    unit = policy.param(AMOUNT_PARAMETER, as_of)
    to_zone = policy.param(PARK_PARAMETER, as_of).value == "development_zone"
    zone = policy.jurisdiction.development_zone.name_zh
    this_run: dict[str, list] = {}
    for e in run_events:
        this_run.setdefault(e.enterprise_id, []).append(e)
    towns: dict[str, TownNetIncrease] = {}
    for eid, name, town, in_park in firms:
        events = [(e, "ledger") for e in ledger_events.get(eid, []) if e.event_date.year == year]
        events += [(e, "register") for e in this_run.get(eid, []) if e.event_date.year == year]
        if not events:
            continue
        place, btype = paid_to("town", name, town, zone if (in_park and to_zone) else None, policy)
        entry = towns.setdefault(place, TownNetIncrease(place, btype, Decimal(unit.value), unit.provenance,
                                                        reference=unit.reference if unit.provenance == "decided" else None))
        for event, source in sorted(events, key=lambda x: x[0].event_date):
            counted = Counted(eid, name, event.event_date, source)
            (entry.entries if event.kind == "entry" else entry.exits).append(counted)
    return list(towns.values())


def with_ledger(rows: list[TownNetIncrease], recorded: dict, year: int, as_of: date) -> list[tuple[str, dict]]:
    """Pair the year's counts with the town awards the ledger holds for the year (`recorded`: (place,
    year) -> TownAwardRow) and mark what this run records: at the year's end, each place earning money
    that has no award yet. Returns the notes (code, detail) for the officer: a recorded award whose
    amount this run counts differently."""
    year_end = as_of == date(year, 12, 31)
    by_place = {r.place: r for r in rows}
    for (place, y), row in recorded.items():
        if y == year and place not in by_place:     # recorded by an earlier run; nothing counted now
            by_place[place] = TownNetIncrease(place, row.beneficiary_type, row.per_enterprise, row.basis,
                                              reference=row.reference)
            rows.append(by_place[place])
    notes = []
    for r in rows:
        r.recorded = recorded.get((r.place, year))
        if r.recorded is None:
            r.to_record = year_end and r.amount > 0
        elif r.recorded.amount != r.amount:
            notes.append(("town_net_differs", {"place": r.place, "run_id": r.recorded.run_id,
                                               "recorded_yuan": str(r.recorded.amount), "computed_yuan": str(r.amount)}))
    return notes


def counted_json(r: TownNetIncrease) -> dict:
    """The explanation recorded with a town award: each entry and exit counted, when and from where."""
    def counted(c: Counted) -> dict:
        return {"enterprise_id": c.enterprise_id, "name": c.name, "date": c.event_date.isoformat(), "source": c.source}

    return {"entries": [counted(c) for c in r.entries], "exits": [counted(c) for c in r.exits],
            "net_increase": r.net, "parameter": AMOUNT_PARAMETER}


def as_json(rows: list[TownNetIncrease], money) -> list[dict]:
    return [{"place": r.place, "beneficiary_type": r.beneficiary_type, **counted_json(r),
             "per_enterprise_yuan": money(r.per_enterprise), "amount_basis": r.provenance,
             "amount_reference": r.reference, "amount_yuan": money(r.amount),
             "recorded": None if r.recorded is None else {"run_id": r.recorded.run_id,
                                                          "amount_yuan": money(r.recorded.amount),
                                                          "status": r.recorded.status},
             "recorded_now": r.run_id is not None, "to_record": r.to_record} for r in rows]

