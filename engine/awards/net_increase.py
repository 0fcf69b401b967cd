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
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

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
        entry = towns.setdefault(place, TownNetIncrease(place, btype, Decimal(unit.value), unit.provenance))
        for event, source in sorted(events, key=lambda x: x[0].event_date):
            counted = Counted(eid, name, event.event_date, source)
            (entry.entries if event.kind == "entry" else entry.exits).append(counted)
    return list(towns.values())


def as_json(rows: list[TownNetIncrease], money) -> list[dict]:
    def counted(c: Counted) -> dict:
        return {"enterprise_id": c.enterprise_id, "name": c.name, "date": c.event_date.isoformat(), "source": c.source}

    return [{"place": r.place, "beneficiary_type": r.beneficiary_type, "entries": [counted(c) for c in r.entries],
             "exits": [counted(c) for c in r.exits], "net_increase": r.net,
             "per_enterprise_yuan": money(r.per_enterprise), "amount_basis": r.provenance,
             "amount_yuan": money(r.amount)} for r in rows]

