"""Award runs: from one year's evaluated register to what the ledger records (engine/ledger.py).

`plan_run` is pure. From the year's decisions and a snapshot of the ledger it works out:
* new awards — the engine's `enterprise_award` / `town_award` decisions that are `awarded`, unless the
  ledger shows the enterprise is not in scope for the first time (首次: an earlier entry, exit or
  award), whatever the register's 曾经入统 says; each with its audit record (engine/audit.py) and its
  instalments, from the payment-pattern parameters in force on the as-of date;
* settlements of earlier awards at this year's review — instalments due now become payable (or are
  forfeited when the enterprise is no longer in scope), growth top-ups are checked year by year, and an
  exit within the clawback period recovers what was paid;
* scope events the register shows (入统 dated by 入统年月, 退规 dated by the as-of date that saw it).

`commit_run` plans again inside one `BEGIN IMMEDIATE` transaction against the ledger as it is then,
writes the plan, checks the ledger's consistency and commits. A plan with nothing new writes nothing:
running the same year twice, or two processes at once, records it once.

Payment terms are fixed when an award is recorded (the ledger keeps them with the award); later
runs settle by those terms, not by parameters as they are later. They apply to enterprise awards;
the town award is paid in one instalment and is never clawed back (see docs/policy-authoring.md).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Optional

from engine import __version__
from engine.decisions import EnterpriseResult
from engine.errors import EngineError, PolicyDataError
from engine.facts import Enterprise
from engine.awards.ledger import Ledger, LedgerError, LedgerState, from_fen, to_fen
from engine.policy import Policy, ResolvedParam
from engine.rules_model import Rulebook

# Test hook (documented in README): seconds to sleep inside the commit transaction, after every row
# is written and before COMMIT, so a test can kill the process mid-commit or overlap two commits.
PAUSE_ENV = "SCALEUP_TEST_PAUSE_IN_COMMIT"
# The parameters that shape payment over time, and the type each must have.
TERM_PARAMETERS = {
    "award_first_instalment_share": "ratio",
    "award_instalment_condition": "enum",
    "growth_topup_amount": "money",
    "growth_topup_rate": "ratio",
    "growth_topup_years": "count",
    "clawback_years": "count",
}
# Registration statuses that end inclusion whatever 是否规上 says: the same list as the red
# registration warning (W8), as engine/targets.py reads it.
EXIT_STATUS_PARAMETER = "warning_registration_red"
AWARD_KINDS = (("enterprise", "enterprise_award"), ("town", "town_award"))
CENT = Decimal("0.01")


# ------------------------------------------------------------------------------------ inputs
@dataclass
class Terms:
    """The payment terms in force on the as-of date, each with its parameter (for the explanation)."""

    params: dict[str, ResolvedParam]
    exit_statuses: tuple[str, ...]

    @property
    def share(self) -> Decimal:
        return self.params["award_first_instalment_share"].value

    @property
    def condition(self) -> str:
        return self.params["award_instalment_condition"].value

    @property
    def topup_amount(self) -> Decimal:
        return self.params["growth_topup_amount"].value

    @property
    def topup_rate(self) -> Decimal:
        return self.params["growth_topup_rate"].value

    @property
    def topup_years(self) -> int:
        return self.params["growth_topup_years"].value

    @property
    def clawback_years(self) -> int:
        return self.params["clawback_years"].value

    def as_json(self) -> dict:
        from engine.output import json_value
        return {name: {"value": json_value(p.value, p.parameter.type), "provenance": p.provenance, "clause": p.clause,
                       "reference": p.reference, "note": p.note, "since": p.since.isoformat()}
                for name, p in self.params.items()}


def payment_terms(policy: Policy, as_of: date) -> Terms:
    """The payment-pattern parameters as of the date; a policy that lacks one, or types it wrongly,
    is a policy data error naming every such parameter."""
    problems, params = [], {}
    for name, kind in TERM_PARAMETERS.items():
        parameter = policy.parameters.get(name)
        if parameter is None:
            problems.append(f"{policy.folder / 'parameters.yaml'}: {name}: missing; award runs need every payment-"
                            f"pattern parameter ({', '.join(TERM_PARAMETERS)}) — see docs/policy-authoring.md")
            continue
        if parameter.type != kind:
            problems.append(f"{policy.folder / 'parameters.yaml'}: {name}: type must be {kind}, not {parameter.type}")
            continue
        params[name] = policy.param(name, as_of)
    if problems:
        raise PolicyDataError(problems)
    share = params["award_first_instalment_share"].value
    if not Decimal(0) <= share <= Decimal(1):
        raise PolicyDataError([f"{policy.folder / 'parameters.yaml'}: award_first_instalment_share: {share} is not "
                               "between 0 and 1"])
    if set(params["award_instalment_condition"].parameter.choices or ()) != {"none", "in_scope_at_next_review"}:
        raise PolicyDataError([f"{policy.folder / 'parameters.yaml'}: award_instalment_condition: choices must be "
                               "[none, in_scope_at_next_review]"])
    exit_statuses = tuple(policy.param(EXIT_STATUS_PARAMETER, as_of).value)
    return Terms(params, exit_statuses)


@dataclass
class RunContext:
    year: int
    as_of: date
    policy: Policy
    book: Rulebook
    terms: Terms
    register_file: str
    register_sha256: str
    policy_hash: str
    rules_hash: str
    sheet: Optional[str] = None

    @classmethod
    def build(cls, year: int, as_of: date, policy: Policy, book: Rulebook, register: Path,
              sheet: Optional[str] = None) -> "RunContext":
        from engine.awards.audit import fingerprint
        if as_of.year != year:
            raise EngineError(f"as-of {as_of} is not in the award year {year}")
        fp = fingerprint(policy, book)
        return cls(year, as_of, policy, book, payment_terms(policy, as_of), str(register),
                   hashlib.sha256(Path(register).read_bytes()).hexdigest(), fp.policy_section["data_hash"],
                   fp.rules_hash, sheet)

    @property
    def development_zone(self) -> str:
        return self.policy.jurisdiction.development_zone.name_zh


@dataclass
class RunItem:
    """One accepted register row: the enterprise, its evaluation and the audit records of its awards."""

    row: int
    enterprise: Enterprise
    result: EnterpriseResult
    records: dict[str, dict] = field(default_factory=dict)     # decision type -> audit record


def prepare_items(ctx: RunContext, accepted: list[tuple[int, Enterprise]], results: list[EnterpriseResult]) -> list[RunItem]:
    """Pair rows with results and build the audit record of every awarded decision (once, outside
    the transaction: it does not depend on the ledger)."""
    from engine.awards.audit import build_record, fingerprint
    fp = fingerprint(ctx.policy, ctx.book)
    items = []
    for (row, enterprise), result in zip(accepted, results):
        if result.enterprise_id != enterprise.enterprise_id:
            raise EngineError(f"row {row}: result for {result.enterprise_id}, enterprise {enterprise.enterprise_id}")
        item = RunItem(row, enterprise, result)
        for _, dtype in AWARD_KINDS:
            decision = result.decision(dtype)
            if decision.outcome == "awarded" and decision.amount_yuan:
                # The same source as `scaleup audit` writes, so a record's decision id is the same in both.
                source = {"file": Path(ctx.register_file).name, "row": row, **({"sheet": ctx.sheet} if ctx.sheet else {})}
                item.records[dtype] = build_record(result, decision, enterprise, ctx.policy, ctx.book,
                                                   source=source, fp=fp)
        items.append(item)
    return items


# ------------------------------------------------------------------------------------ the plan
@dataclass
class Instalment:
    seq: int
    kind: str                    # instalment | topup
    due_year: int
    amount: Decimal
    condition: str               # none | in_scope_at_next_review | growth_each_year
    status: str
    growth_rate: Optional[Decimal] = None
    growth_years: Optional[int] = None
    takes_remainder: bool = False    # the last instalment of a split holds the fen the share rounded off


@dataclass
class Award:
    """An award of the year: new in this run (run_id None) or already in the ledger."""

    kind: str                    # enterprise | town
    enterprise_id: str
    name: str
    town: str
    inclusion_month: str
    beneficiary: str
    beneficiary_type: str        # enterprise | town | development_zone
    amount: Decimal
    rule_id: str
    clause_id: str
    decision_id: str
    award_year: int
    instalments: list[Instalment] = field(default_factory=list)
    clawback_years: int = 0
    amount_lines: list[dict] = field(default_factory=list)
    record: Optional[dict] = None
    run_id: Optional[int] = None
    award_id: Optional[int] = None
    in_park: bool = False


@dataclass
class Withheld:
    kind: str
    enterprise_id: str
    name: str
    town: str
    amount: Decimal
    reason: str                  # awarded_before | earlier_entry
    detail: dict


@dataclass
class Change:
    """An instalment's status change at this year's review (or its creation with a new award)."""

    award_kind: str
    enterprise_id: str
    name: str
    town: str
    beneficiary: str
    beneficiary_type: str
    instalment_kind: str
    seq: int
    amount: Decimal
    old: Optional[str]
    new: str
    reason: str
    detail: dict = field(default_factory=dict)
    award_id: Optional[int] = None
    instalment_id: Optional[int] = None
    run_id: Optional[int] = None


@dataclass
class GrowthCheck:
    award_id: int
    enterprise_id: str
    name: str
    review_year: int
    revenue_ytd: Decimal
    revenue_ytd_last_year: Decimal
    ytd_through: str
    growth: Fraction
    required: Decimal
    met: bool


@dataclass
class Clawback:
    award_id: int
    enterprise_id: str
    name: str
    town: str
    amount: Decimal
    review_year: int
    inclusion_month: str
    exit_date: date
    clawback_years: int
    run_id: Optional[int] = None


@dataclass
class ScopeEvent:
    enterprise_id: str
    name: str
    town: str
    in_park: bool
    kind: str                    # entry | exit
    event_date: date
    basis: str                   # in_scope_since | observed
    detail: Optional[str] = None
    origin: Optional[str] = None


@dataclass
class Note:
    """Something the officer must look at; nothing was decided about it."""

    code: str
    enterprise_id: str
    name: str
    detail: dict = field(default_factory=dict)


@dataclass
class RunPlan:
    year: int
    as_of: date
    policy_id: str
    document_number: str
    policy_hash: str
    rules_hash: str
    register_file: str
    register_sha256: str
    terms: Terms
    new_awards: list[Award] = field(default_factory=list)
    committed_awards: list[Award] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)             # settlements made by this run
    committed_changes: list[Change] = field(default_factory=list)   # settlements of earlier runs of the year
    growth_checks: list[GrowthCheck] = field(default_factory=list)
    clawbacks: list[Clawback] = field(default_factory=list)
    committed_clawbacks: list[Clawback] = field(default_factory=list)
    events: list[ScopeEvent] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)   # decision type -> outcome -> count
    insufficient: list[dict] = field(default_factory=list)
    earlier_runs: list[dict] = field(default_factory=list)           # runs of this year already committed
    run_id: Optional[int] = None                                     # set when committed
    ledger_name: str = ""
    ledger_exists: bool = True

    @property
    def is_empty(self) -> bool:
        return not (self.new_awards or self.changes or self.growth_checks or self.clawbacks or self.events)


def plan_run(ctx: RunContext, items: list[RunItem], state: LedgerState) -> RunPlan:
    plan = RunPlan(ctx.year, ctx.as_of, ctx.policy.id, ctx.policy.meta.document_number, ctx.policy_hash,
                   ctx.rules_hash, ctx.register_file, ctx.register_sha256, ctx.terms)
    plan.earlier_runs = state.runs_of_year(ctx.year)
    for run in plan.earlier_runs:
        if run["policy_hash"] != ctx.policy_hash or run["policy_id"] != ctx.policy.id:
            plan.notes.append(Note("policy_changed", "", "", {"run_id": run["run_id"], "policy_id": run["policy_id"],
                                                               "policy_hash": run["policy_hash"][:12],
                                                               "now": ctx.policy_hash[:12]}))
    seen: set[str] = set()
    for item in items:
        seen.add(item.enterprise.enterprise_id)
        _count_outcomes(plan, item)
        in_scope_now, exit_event = _scope(ctx, plan, item, state)
        _awards(ctx, plan, item, state)
        _settle(ctx, plan, item, state, in_scope_now, exit_event)
    for award in state.awards.values():
        if award.enterprise_id in seen or award.award_year >= ctx.year:
            continue
        open_rows = [r for r in state.instalments.get(award.award_id, []) if r.status == "pending"]
        if open_rows:
            plan.notes.append(Note("not_in_register", award.enterprise_id, award.enterprise_name,
                                   {"pending_yuan": str(sum((r.amount for r in open_rows), Decimal(0)))}))
    _committed_view(ctx, plan, state)
    return plan


def _count_outcomes(plan: RunPlan, item: RunItem) -> None:
    for _, dtype in AWARD_KINDS:
        d = item.result.decision(dtype)
        plan.outcomes.setdefault(dtype, {})
        plan.outcomes[dtype][d.outcome] = plan.outcomes[dtype].get(d.outcome, 0) + 1
    d = item.result.decision("enterprise_award")
    if d.outcome == "insufficient_data":
        plan.insufficient.append({"enterprise_id": item.enterprise.enterprise_id, "name": item.enterprise.name,
                                  "missing": d.missing_facts})


def _scope(ctx: RunContext, plan: RunPlan, item: RunItem, state: LedgerState) -> tuple[bool, Optional[ScopeEvent]]:
    """Record the entries and exits the register shows. Returns (in scope now, exit recorded now)."""
    ent = item.enterprise
    eid = ent.enterprise_id
    in_scope_now = ent.in_scope and ent.registration_status not in ctx.terms.exit_statuses
    history = [e for e in state.events.get(eid, []) if e.event_date <= ctx.as_of]
    last = history[-1] if history else None
    entry = None
    if ent.in_scope and ent.in_scope_since is not None:
        day = ent.in_scope_since.first_day()
        if day > ctx.as_of:
            plan.notes.append(Note("entry_after_as_of", eid, ent.name, {"in_scope_since": str(ent.in_scope_since)}))
        elif any(e.kind == "entry" and e.event_date == day for e in history):
            pass
        elif last is None or last.kind == "exit":
            entry = ScopeEvent(eid, ent.name, ent.town, ent.in_park, "entry", day, "in_scope_since",
                               origin=ent.origin)
            plan.events.append(entry)
        else:
            plan.notes.append(Note("entry_date_differs", eid, ent.name,
                                   {"ledger": last.event_date.isoformat(), "register": str(ent.in_scope_since),
                                    "run_id": last.run_id}))
    elif ent.in_scope and ent.in_scope_since is None and not history:
        plan.notes.append(Note("entry_undated", eid, ent.name))
    exit_event = None
    if not in_scope_now and ((last is not None and last.kind == "entry") or entry is not None):
        why = ent.registration_status if ent.registration_status in ctx.terms.exit_statuses else "not_in_scope"
        exit_event = ScopeEvent(eid, ent.name, ent.town, ent.in_park, "exit", ctx.as_of, "observed", detail=why)
        plan.events.append(exit_event)
    return in_scope_now, exit_event


def _first_time_problem(item: RunItem, state: LedgerState, year: int) -> Optional[tuple[str, dict]]:
    """Why the ledger says this is not a first entry (首次), or None."""
    eid = item.enterprise.enterprise_id
    for kind, _ in AWARD_KINDS:
        award = state.awards.get((eid, kind))
        if award is not None and award.award_year != year:
            return "awarded_before", {"award_year": award.award_year, "run_id": award.run_id,
                                      "kind": award.kind, "inclusion_month": award.inclusion_month}
    since = item.enterprise.in_scope_since
    start = since.first_day() if since is not None else None
    for event in state.events.get(eid, []):
        if start is not None and event.event_date < start:
            return "earlier_entry", {"event": event.kind, "date": event.event_date.isoformat(), "run_id": event.run_id,
                                     "in_scope_since": str(since)}
    return None


def _awards(ctx: RunContext, plan: RunPlan, item: RunItem, state: LedgerState) -> None:
    ent, res = item.enterprise, item.result
    problem = _first_time_problem(item, state, ctx.year)
    for kind, dtype in AWARD_KINDS:
        d = res.decision(dtype)
        existing = state.awards.get((ent.enterprise_id, kind))
        if d.outcome != "awarded" or not d.amount_yuan:
            if existing is not None and existing.award_year == ctx.year:
                plan.notes.append(Note("recorded_but_not_awarded_now", ent.enterprise_id, ent.name,
                                       {"kind": kind, "run_id": existing.run_id, "amount_yuan": str(existing.amount),
                                        "outcome": d.outcome, "rule_id": d.rule_id}))
            continue
        if existing is not None and existing.award_year == ctx.year:
            if existing.amount != d.amount_yuan:
                plan.notes.append(Note("amount_differs", ent.enterprise_id, ent.name,
                                       {"kind": kind, "run_id": existing.run_id, "recorded_yuan": str(existing.amount),
                                        "computed_yuan": str(d.amount_yuan)}))
            continue
        if existing is not None or problem is not None:
            reason, detail = ("awarded_before", {"award_year": existing.award_year, "run_id": existing.run_id,
                                                 "kind": existing.kind, "inclusion_month": existing.inclusion_month}) \
                if existing is not None else problem
            plan.withheld.append(Withheld(kind, ent.enterprise_id, ent.name, ent.town, d.amount_yuan, reason, detail))
            continue
        if ent.in_scope_since is None:       # the award rules need it; an award without it is a bug
            raise EngineError(f"{ent.enterprise_id}: awarded without 入统年月")
        record = item.records[dtype]
        if kind == "enterprise":
            beneficiary, btype = ent.name, "enterprise"
        else:
            beneficiary = d.beneficiary or ent.town
            btype = "development_zone" if beneficiary == ctx.development_zone else "town"
        award = Award(kind, ent.enterprise_id, ent.name, ent.town, str(ent.in_scope_since), beneficiary, btype,
                      d.amount_yuan, d.rule_id, d.clause_id, record["decision_id"], ctx.year,
                      clawback_years=ctx.terms.clawback_years if kind == "enterprise" else 0,
                      amount_lines=[{"rule_id": a.rule_id, "clause_id": a.clause, "parameter": a.param.name,
                                     "label_zh": a.param.parameter.label_zh, "label_en": a.param.parameter.label_en,
                                     "amount": a.amount, "provenance": a.param.provenance, "chosen": a.chosen,
                                     "role": a.role} for a in d.amount_lines],
                      record=record, in_park=ent.in_park)
        award.instalments = schedule(award.amount, ctx.year, ctx.terms, kind)
        plan.new_awards.append(award)
        for inst in award.instalments:
            plan.changes.append(Change(kind, ent.enterprise_id, ent.name, ent.town, beneficiary, btype, inst.kind,
                                       inst.seq, inst.amount, None, inst.status, "awarded",
                                       {"due_year": inst.due_year, "condition": inst.condition}))


def schedule(amount: Decimal, year: int, terms: Terms, kind: str) -> list[Instalment]:
    """The instalments of a new award. The first share is rounded down to the fen and the last
    instalment takes the rest, so the instalments always add up exactly to the award."""
    if kind != "enterprise":
        return [Instalment(1, "instalment", year, amount, "none", "payable")]
    first = (amount * terms.share).quantize(CENT, rounding=ROUND_DOWN)
    rest = amount - first
    out: list[Instalment] = []
    if first > 0:
        out.append(Instalment(len(out) + 1, "instalment", year, first, "none", "payable"))
    if rest > 0:
        out.append(Instalment(len(out) + 1, "instalment", year + 1, rest, terms.condition, "pending",
                              takes_remainder=bool(first) and amount * terms.share != first))
    if terms.topup_amount > 0 and terms.topup_years >= 1:
        out.append(Instalment(len(out) + 1, "topup", year + terms.topup_years, terms.topup_amount,
                              "growth_each_year", "pending", growth_rate=terms.topup_rate,
                              growth_years=terms.topup_years))
    return out


def _settle(ctx: RunContext, plan: RunPlan, item: RunItem, state: LedgerState, in_scope_now: bool,
            exit_event: Optional[ScopeEvent]) -> None:
    """This year's review of the enterprise's earlier awards."""
    ent = item.enterprise
    year = ctx.year
    for kind, _ in AWARD_KINDS:
        award = state.awards.get((ent.enterprise_id, kind))
        if award is None or award.award_year >= year:
            continue
        rows = state.instalments.get(award.award_id, [])

        def change(row, new, reason, detail=None):
            plan.changes.append(Change(kind, award.enterprise_id, award.enterprise_name, award.town, award.beneficiary,
                                       award.beneficiary_type, row.kind, row.seq, row.amount, row.status, new,
                                       reason, detail or {}, award.award_id, row.instalment_id))

        since = year - award.inclusion_year
        if (not in_scope_now and award.clawback_years > 0 and since <= award.clawback_years
                and award.award_id not in state.clawbacks):
            paid = [r for r in rows if r.status == "paid"]
            detail = {"years_since_inclusion": since, "clawback_years": award.clawback_years}
            for r in rows:
                if r.status in ("pending", "payable"):
                    change(r, "forfeited", "left_scope_in_clawback_period", detail)
                elif r.status == "paid":
                    change(r, "clawed_back", "left_scope_in_clawback_period", detail)
            if paid:
                exit_day = exit_event.event_date if exit_event else next(
                    e.event_date for e in reversed(state.events.get(ent.enterprise_id, [])) if e.kind == "exit")
                plan.clawbacks.append(Clawback(award.award_id, award.enterprise_id, award.enterprise_name, award.town,
                                               sum((r.amount for r in paid), Decimal(0)), year, award.inclusion_month,
                                               exit_day, award.clawback_years))
            continue
        for r in rows:
            if r.status != "pending":
                continue
            if r.kind == "instalment":
                if r.due_year < year:
                    plan.notes.append(Note("review_missed", award.enterprise_id, award.enterprise_name,
                                           {"due_year": r.due_year, "seq": r.seq, "amount_yuan": str(r.amount)}))
                elif r.due_year == year:
                    if r.condition == "none":
                        change(r, "payable", "due")
                    elif in_scope_now:
                        change(r, "payable", "in_scope_at_review", {"review_year": year})
                    else:
                        change(r, "forfeited", "not_in_scope_at_review",
                               {"review_year": year, "registration_status": ent.registration_status})
            else:
                _settle_topup(ctx, plan, item, state, award, r, in_scope_now, change)


def _settle_topup(ctx, plan, item, state, award, row, in_scope_now, change) -> None:
    year, first = ctx.year, award.inclusion_year + 1
    last = award.inclusion_year + row.growth_years
    if not first <= year <= last:
        if year > last:
            plan.notes.append(Note("review_missed", award.enterprise_id, award.enterprise_name,
                                   {"due_year": row.due_year, "seq": row.seq, "amount_yuan": str(row.amount)}))
        return
    if not in_scope_now:
        change(row, "forfeited", "not_in_scope_at_review", {"review_year": year})
        return
    checks = {y: bool(c["met"]) for y, c in state.growth.get(award.award_id, {}).items()}
    if year not in checks:
        check = growth_check(item, award, year, Decimal(row.growth_rate))
        if isinstance(check, Note):
            plan.notes.append(check)
        else:
            plan.growth_checks.append(check)
            checks[year] = check.met
    failed = sorted(y for y, met in checks.items() if not met)
    if failed:
        change(row, "forfeited", "growth_below_rate", {"review_year": failed[0], "rate": row.growth_rate})
    elif all(checks.get(y) for y in range(first, last + 1)):
        change(row, "payable", "growth_met_each_year",
               {"years": f"{first}-{last}", "rate": row.growth_rate})


def growth_check(item: RunItem, award, year: int, rate: Decimal):
    """Revenue growth of the review year from the register (本年累计 against 上年同期累计), recorded
    with its inputs. The year-to-date figures must be of the review year itself."""
    ent = item.enterprise
    ytd, before, through = ent.revenue_ytd, ent.revenue_ytd_last_year, ent.ytd_through
    if ytd is None or before is None or through is None or before == 0 or through.year != year:
        return Note("growth_missing", ent.enterprise_id, ent.name,
                    {"review_year": year, "revenue_ytd": None if ytd is None else str(ytd),
                     "revenue_ytd_last_year": None if before is None else str(before),
                     "ytd_through": None if through is None else str(through)})
    growth = (Fraction(ytd) - Fraction(before)) / Fraction(before)
    return GrowthCheck(award.award_id, ent.enterprise_id, ent.name, year, ytd, before, str(through), growth,
                       rate, growth >= Fraction(rate))


def _committed_view(ctx: RunContext, plan: RunPlan, state: LedgerState) -> None:
    """What earlier runs of the same year recorded, so the year's view is the same before and after
    a commit, and on a re-run."""
    for award in state.awards.values():
        if award.award_year != ctx.year:
            continue
        plan.committed_awards.append(Award(
            award.kind, award.enterprise_id, award.enterprise_name, award.town, award.inclusion_month,
            award.beneficiary, award.beneficiary_type, award.amount, "", "", award.decision_id, award.award_year,
            [Instalment(r.seq, r.kind, r.due_year, r.amount, r.condition, r.status,
                        None if r.growth_rate is None else Decimal(r.growth_rate), r.growth_years)
             for r in state.instalments.get(award.award_id, [])],
            award.clawback_years, run_id=award.run_id, award_id=award.award_id))
    for ch in state.year_changes:
        award = state.award_by_id(ch["award_id"])
        plan.committed_changes.append(Change(
            award.kind, award.enterprise_id, award.enterprise_name, award.town, award.beneficiary,
            award.beneficiary_type, ch["instalment_kind"], ch["seq"], from_fen(ch["amount_fen"]), ch["old_status"],
            ch["new_status"], ch["reason"], json.loads(ch["detail"]) if ch["detail"] else {}, award.award_id,
            ch["instalment_id"], ch["run_id"]))
    for award_id, row in state.clawbacks.items():
        if row["review_year"] != ctx.year:
            continue
        award = state.award_by_id(award_id)
        exit_day = next(e.event_date for e in state.events.get(award.enterprise_id, []) if e.event_id == row["exit_event_id"])
        plan.committed_clawbacks.append(Clawback(award_id, award.enterprise_id, award.enterprise_name, award.town,
                                                 from_fen(row["amount_fen"]), row["review_year"], award.inclusion_month,
                                                 exit_day, award.clawback_years, row["run_id"]))


# ------------------------------------------------------------------------------------ running
def dry_run(ledger: Ledger, ctx: RunContext, items: list[RunItem]) -> RunPlan:
    with ledger.snapshot():
        plan = plan_run(ctx, items, ledger.load_state(ctx.year))
    plan.ledger_name = ledger.name
    return plan


def commit_run(ledger: Ledger, ctx: RunContext, items: list[RunItem]) -> RunPlan:
    """Plan against the ledger as it is once the write lock is held, write it all, check, commit.
    Returns the plan; `plan.run_id` is None when there was nothing new to record."""
    with ledger.transaction():
        plan = plan_run(ctx, items, ledger.load_state(ctx.year))
        plan.ledger_name = ledger.name
        if plan.is_empty:
            return plan
        plan.run_id = _write(ledger, ctx, plan)
        problems = ledger.verify()
        if problems:
            raise EngineError(f"{ledger.name}: the run would leave the ledger inconsistent: {problems[0]}")
        _test_pause()
    return plan


def _test_pause() -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        print(f"{PAUSE_ENV}: pausing {seconds} s inside the commit transaction", file=sys.stderr, flush=True)
        time.sleep(float(seconds))


def _write(ledger: Ledger, ctx: RunContext, plan: RunPlan) -> int:
    run_id = ledger.insert("runs", {
        "award_year": ctx.year, "as_of": ctx.as_of.isoformat(), "policy_id": ctx.policy.id,
        "policy_document_number": ctx.policy.meta.document_number, "policy_hash": ctx.policy_hash,
        "rules_hash": ctx.rules_hash, "register_file": ctx.register_file, "register_sha256": ctx.register_sha256,
        "engine_version": __version__,
        # When it was recorded, for the audit trail only: no computation reads it.
        "committed_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    people = {}
    for e in plan.events:
        people[e.enterprise_id] = (e.name, e.town, e.in_park)
    for a in plan.new_awards:
        people.setdefault(a.enterprise_id, (a.name, a.town, a.in_park))
    for eid, (name, town, in_park) in people.items():
        ledger.upsert_enterprise(eid, name, town, bool(in_park), run_id)
    exit_ids: dict[str, int] = {}
    for e in plan.events:
        event_id = ledger.insert("scope_events", {
            "enterprise_id": e.enterprise_id, "kind": e.kind, "event_date": e.event_date.isoformat(),
            "date_basis": e.basis, "detail": e.detail, "origin": e.origin, "in_park": int(e.in_park),
            "run_id": run_id})
        if e.kind == "exit":
            exit_ids[e.enterprise_id] = event_id
    award_ids: dict[tuple[str, str], int] = {}
    instalment_ids: dict[tuple[str, str, int], int] = {}
    for a in plan.new_awards:
        ledger.insert("audit_records", {"decision_id": a.decision_id,
                                        "record": json.dumps(a.record, ensure_ascii=False, sort_keys=True)})
        award_id = ledger.insert("awards", {
            "run_id": run_id, "enterprise_id": a.enterprise_id, "kind": a.kind, "award_year": a.award_year,
            "inclusion_month": a.inclusion_month, "enterprise_name": a.name, "town": a.town,
            "beneficiary": a.beneficiary, "beneficiary_type": a.beneficiary_type, "amount_fen": to_fen(a.amount),
            "rule_id": a.rule_id, "clause_id": a.clause_id, "decision_id": a.decision_id,
            "clawback_years": a.clawback_years,
            "terms": json.dumps(ctx.terms.as_json() if a.kind == "enterprise" else {}, ensure_ascii=False,
                                sort_keys=True)})
        a.award_id, a.run_id = award_id, run_id
        award_ids[(a.enterprise_id, a.kind)] = award_id
        for inst in a.instalments:
            instalment_ids[(a.enterprise_id, a.kind, inst.seq)] = ledger.insert("instalments", {
                "award_id": award_id, "seq": inst.seq, "kind": inst.kind, "due_year": inst.due_year,
                "amount_fen": to_fen(inst.amount), "condition": inst.condition,
                "growth_rate": None if inst.growth_rate is None else str(inst.growth_rate),
                "growth_years": inst.growth_years, "status": inst.status})
    for ch in plan.changes:
        ch.run_id = run_id
        if ch.old is None:
            ch.award_id = award_ids[(ch.enterprise_id, ch.award_kind)]
            ch.instalment_id = instalment_ids[(ch.enterprise_id, ch.award_kind, ch.seq)]
            ledger.insert("status_changes", {"instalment_id": ch.instalment_id, "old_status": None,
                                             "new_status": ch.new, "year": ctx.year, "run_id": run_id,
                                             "reason": ch.reason, "detail": _json(ch.detail)})
        else:
            ledger.set_status(ch.instalment_id, ch.old, ch.new, reason=ch.reason, year=ctx.year, run_id=run_id,
                              detail=ch.detail)
    for g in plan.growth_checks:
        ledger.insert("growth_checks", {
            "award_id": g.award_id, "review_year": g.review_year, "run_id": run_id,
            "revenue_ytd_fen": to_fen(g.revenue_ytd), "revenue_ytd_last_year_fen": to_fen(g.revenue_ytd_last_year),
            "ytd_through": g.ytd_through, "growth": ratio_text(g.growth), "required": str(g.required),
            "met": int(g.met)})
    for k in plan.clawbacks:
        exit_id = exit_ids.get(k.enterprise_id) or ledger.conn.execute(
            "SELECT event_id FROM scope_events WHERE enterprise_id = ? AND kind = 'exit' ORDER BY event_date DESC, "
            "event_id DESC LIMIT 1", (k.enterprise_id,)).fetchone()[0]
        ledger.insert("clawbacks", {"award_id": k.award_id, "run_id": run_id, "exit_event_id": exit_id,
                                    "review_year": k.review_year, "amount_fen": to_fen(k.amount)})
        k.run_id = run_id
    return run_id


def _json(detail: dict) -> Optional[str]:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None


def ratio_text(value: Fraction) -> str:
    """A ratio as a decimal string to six places (the exact inputs are recorded beside it)."""
    d = Decimal(value.numerator) / Decimal(value.denominator)
    return str(d.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))


# ------------------------------------------------------------------------------------ the year's view
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


# ------------------------------------------------------------------------------------ JSON
def plan_json(plan: RunPlan, policy: Policy) -> dict:
    def money(d: Optional[Decimal]) -> Optional[str]:
        return None if d is None else str(Decimal(d).quantize(CENT))

    def award(a: Award) -> dict:
        return {"kind": a.kind, "enterprise_id": a.enterprise_id, "name": a.name, "town": a.town,
                "inclusion_month": a.inclusion_month, "beneficiary": a.beneficiary,
                "beneficiary_type": a.beneficiary_type, "amount_yuan": money(a.amount), "decision_id": a.decision_id,
                "rule_id": a.rule_id or None, "clause_id": a.clause_id or None, "run_id": a.run_id,
                "award_id": a.award_id, "clawback_years": a.clawback_years,
                "amount_lines": [{**{k: v for k, v in line.items() if k not in ("amount", "label_zh", "label_en")},
                                  "amount_yuan": money(line["amount"])} for line in a.amount_lines],
                "instalments": [{"seq": i.seq, "kind": i.kind, "due_year": i.due_year, "amount_yuan": money(i.amount),
                                 "condition": i.condition, "status": i.status,
                                 "growth_rate": None if i.growth_rate is None else str(i.growth_rate),
                                 "growth_years": i.growth_years, "takes_remainder": i.takes_remainder}
                                for i in a.instalments]}

    def change(c: Change) -> dict:
        return {"award_kind": c.award_kind, "enterprise_id": c.enterprise_id, "name": c.name, "seq": c.seq,
                "instalment_kind": c.instalment_kind, "amount_yuan": money(c.amount), "old_status": c.old,
                "new_status": c.new, "reason": c.reason, "detail": c.detail, "run_id": c.run_id,
                "award_id": c.award_id, "instalment_id": c.instalment_id}

    def clawback(k: Clawback) -> dict:
        return {"enterprise_id": k.enterprise_id, "name": k.name, "amount_yuan": money(k.amount),
                "review_year": k.review_year, "inclusion_month": k.inclusion_month,
                "exit_date": k.exit_date.isoformat(), "clawback_years": k.clawback_years, "run_id": k.run_id}

    totals = town_totals(plan, policy)
    return {
        "award_year": plan.year, "as_of": plan.as_of.isoformat(), "policy": plan.policy_id,
        "document_number": plan.document_number, "policy_hash": plan.policy_hash, "rules_hash": plan.rules_hash,
        "register": {"file": plan.register_file, "sha256": plan.register_sha256},
        "ledger": plan.ledger_name, "committed": plan.run_id is not None, "run_id": plan.run_id,
        "nothing_new": plan.is_empty,
        "earlier_runs": [{"run_id": r["run_id"], "as_of": r["as_of"], "policy_hash": r["policy_hash"],
                          "committed_at": r["committed_at"]} for r in plan.earlier_runs],
        "terms": plan.terms.as_json(),
        "new_awards": [award(a) for a in plan.new_awards],
        "committed_awards": [award(a) for a in plan.committed_awards],
        "withheld": [{"kind": w.kind, "enterprise_id": w.enterprise_id, "name": w.name,
                      "amount_yuan": money(w.amount), "reason": w.reason, "detail": w.detail} for w in plan.withheld],
        "settlements": [change(c) for c in plan.changes if c.old is not None],
        "committed_settlements": [change(c) for c in plan.committed_changes if c.old is not None],
        "growth_checks": [{"enterprise_id": g.enterprise_id, "name": g.name, "review_year": g.review_year,
                           "revenue_ytd_yuan": money(g.revenue_ytd),
                           "revenue_ytd_last_year_yuan": money(g.revenue_ytd_last_year), "ytd_through": g.ytd_through,
                           "growth": ratio_text(g.growth), "required": str(g.required), "met": g.met}
                          for g in plan.growth_checks],
        "clawbacks": [clawback(k) for k in plan.clawbacks],
        "committed_clawbacks": [clawback(k) for k in plan.committed_clawbacks],
        "scope_events": [{"enterprise_id": e.enterprise_id, "name": e.name, "kind": e.kind,
                          "date": e.event_date.isoformat(), "basis": e.basis, "detail": e.detail} for e in plan.events],
        "notes": [{"code": n.code, "enterprise_id": n.enterprise_id or None, "name": n.name or None,
                   "detail": n.detail} for n in plan.notes],
        "decision_outcomes": plan.outcomes,
        "insufficient_data": plan.insufficient,
        "town_totals": [{**{k: v for k, v in row.items() if k not in CATEGORIES},
                         **{f"{c}_yuan": money(row[c]) for c in CATEGORIES}} for row in totals],
    }


# ------------------------------------------------------------------------------------ payments
def pay(ledger: Ledger, *, paid_on: date, reference: str, year: Optional[int], enterprise_ids: tuple[str, ...],
        commit: bool) -> list[dict]:
    """Mark payable instalments paid (optionally only those due in `year` or of some enterprises), in
    one transaction with one payment record. Paid is final: UNIQUE (instalment_id, new_status) and the
    status trigger make paying an instalment twice impossible."""
    if not reference.strip():
        raise LedgerError("--reference is empty; give the payment voucher or batch number (凭证号)")
    if not commit:
        with ledger.snapshot():
            rows = ledger.payable(year, enterprise_ids)
    else:
        with ledger.transaction():
            rows = ledger.payable(year, enterprise_ids)
            if rows:
                payment_id = ledger.insert("payments", {
                    "paid_on": paid_on.isoformat(), "reference": reference.strip(),
                    "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
                for r in rows:
                    ledger.set_status(r["instalment_id"], "payable", "paid", reason="paid", payment_id=payment_id,
                                      detail={"paid_on": paid_on.isoformat()})
                problems = ledger.verify()
                if problems:
                    raise EngineError(f"{ledger.name}: payment would leave the ledger inconsistent: {problems[0]}")
    for r in rows:
        r["amount"] = from_fen(r["amount_fen"])
    return rows


# ------------------------------------------------------------------------------------ rendering
def words(lang: str):
    from engine.render import environment
    return environment().get_template(f"_awards_words_{lang}.j2").module


def _helpers(lang: str, terms: Optional[Terms] = None) -> dict:
    from engine.render import environment, money, provenance_text

    def yuan(value) -> str:
        return f"{Decimal(value).quantize(CENT):,.2f}"

    def pct(value) -> str:
        share = Fraction(value) * 100
        shown = (Decimal(share.numerator) / Decimal(share.denominator)).quantize(CENT, rounding=ROUND_HALF_EVEN)
        approx = "" if Fraction(shown) == share else ("约" if lang == "zh" else "≈")
        return f"{approx}{shown.normalize():f}%"

    helpers = {"money": lambda v: money(v, lang, both=True), "yuan": yuan, "pct": pct}
    if terms is not None:
        helpers["terms"] = terms
        helpers["prov"] = lambda name: provenance_text(terms.params[name], lang)
    return helpers


def town_table(plan: RunPlan, policy: Policy, lang: str) -> tuple[list[str], list[list]]:
    """Headers and rows of the town totals (amounts as Decimal yuan) for CSV/XLSX and the table."""
    w = words(lang)
    rows = []
    for g in town_totals(plan, policy):
        rows.append([g["place"] or w.TOTAL, w.BTYPE[g["beneficiary_type"]] if g["beneficiary_type"] else "",
                     g["enterprises"], *[g[c] for c in CATEGORIES]])
    return list(w.TOWN_HEAD), rows


def journal_table(plan: RunPlan, lang: str) -> tuple[list[str], list[list]]:
    """Every money line of the year, one row each: what the town totals add up."""
    w = words(lang)
    rows = [[w.CATEGORY[l.category], l.enterprise_id, l.name, l.place, w.BTYPE[l.beneficiary_type], l.amount,
             l.run_id if l.run_id else w.DRY_RUN] for l in year_journal(plan)]
    return list(w.JOURNAL_HEAD), rows


def render_plan(plan: RunPlan, policy: Policy, lang: str, view: str, committing: bool) -> str:
    from engine.render import environment
    totals = town_totals(plan, policy)
    _, rows = town_table(plan, policy, lang)
    shown = [[r[0], r[1], r[2], *[f"{Decimal(v):,.2f}" for v in r[3:]]] for r in rows]
    enterprise_awards = [a for a in plan.new_awards if a.kind == "enterprise"]
    show_terms = any(len(a.instalments) > 1 or a.clawback_years for a in enterprise_awards)
    text = environment().get_template(f"awards_{lang}.txt.j2").render(
        view=view, p=plan, dry=not committing, committing=committing, total=totals[-1], rows=shown,
        show_terms=show_terms, **_helpers(lang, plan.terms))
    return _tidy(text)


def render_ledger_summary(summary: dict, lang: str) -> str:
    from engine.render import environment
    s = dict(summary)
    s["instalments"] = {k: {"count": v["count"], "yuan": Decimal(v["yuan"])} for k, v in summary["instalments"].items()}
    s["clawbacks"] = {"count": summary["clawbacks"]["count"], "yuan": Decimal(summary["clawbacks"]["yuan"])}
    s["run_rows"] = [[r["run_id"], r["award_year"], r["as_of"], r["policy_id"], r["policy_hash"][:12],
                      Path(r["register_file"]).name, r["awards"], f"{from_fen(r['award_fen']):,.2f}", r["committed_at"]]
                     for r in summary["runs"]]
    text = environment().get_template(f"awards_{lang}.txt.j2").render(view="ledger", s=s, **_helpers(lang))
    return _tidy(text)


def render_payments(rows: list[dict], lang: str, *, committed: bool, paid_on: date, reference: str) -> str:
    from engine.render import environment
    text = environment().get_template(f"awards_{lang}.txt.j2").render(
        view="pay", rows=rows, committed=committed, paid_on=paid_on.isoformat(), reference=reference,
        **_helpers(lang))
    return _tidy(text)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"
