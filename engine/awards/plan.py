"""Award run plans: from one year's evaluated register to what the ledger should record.

`plan_run` is pure. From the year's decisions and a snapshot of the ledger it works out:
* new awards — the engine's `enterprise_award` / `town_award` decisions that are `awarded`, unless the
  ledger shows the enterprise is not in scope for the first time (首次: an earlier entry, exit or
  award), whatever the register's 曾经入统 says; each with its audit record (engine/awards/audit.py) and its
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
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Optional

from engine.families import AWARD_KINDS, ENTERPRISE_AWARD
from engine.awards.ledger import LedgerState, from_fen
from engine.awards.budget_cap import BudgetCap, apply_budget_cap
from engine.awards.net_increase import town_net_increase, with_ledger
from engine.awards.totals import beneficiary as paid_to
from engine.awards.terms import Instalment, Terms, payment_terms, schedule
from engine.candidates import refused
from engine.decisions import EnterpriseResult
from engine.errors import EngineError
from engine.facts import Enterprise
from engine.policy import Policy
from engine.provenance import combined_basis
from engine.rules_model import Rulebook

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


@dataclass
class RunItem:
    """One accepted register row: the enterprise, its evaluation and the audit records of its awards."""

    row: int
    enterprise: Enterprise
    result: EnterpriseResult
    records: dict[str, dict] = field(default_factory=dict)     # decision type -> audit record
    # A blank 曾经入统 answered from the ledger: why (reason, detail) and the amounts a first entry would get.
    ledger_answer: Optional[tuple[str, dict]] = None
    refused_amounts: dict[str, Decimal] = field(default_factory=dict)


def prepare_items(ctx: RunContext, accepted: list[tuple[int, Enterprise]], results: list[EnterpriseResult]) -> list[RunItem]:
    """Pair rows with results and build the audit record of every awarded decision (once, outside
    the transaction: it does not depend on the ledger)."""
    from engine.awards.audit import build_record, fingerprint, gets_audit_record
    fp = fingerprint(ctx.policy, ctx.book)
    items = []
    for (row, enterprise), result in zip(accepted, results):
        if result.enterprise_id != enterprise.enterprise_id:
            raise EngineError(f"row {row}: result for {result.enterprise_id}, enterprise {enterprise.enterprise_id}")
        item = RunItem(row, enterprise, result)
        for _, dtype in AWARD_KINDS:
            decision = result.decision(dtype)
            if gets_audit_record(decision) and decision.amount_yuan:
                # The same source as `scaleup audit` writes, so a record's decision id is the same in both.
                source = {"file": Path(ctx.register_file).name, "row": row, **({"sheet": ctx.sheet} if ctx.sheet else {})}
                item.records[dtype] = build_record(result, decision, enterprise, ctx.policy, ctx.book,
                                                   source=source, fp=fp)
        items.append(item)
    return items


# ------------------------------------------------------------------------------------ the plan
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
    recorded_basis: Optional[str] = None     # an award read back from the ledger: its basis as recorded
    reference: Optional[str] = None          # the documents (文号) behind a decided amount
    basis_derived: bool = False              # recorded before the ledger kept the basis (from the audit record)

    @property
    def basis(self) -> Optional[str]:
        """The weakest provenance behind the amount (engine/provenance.py): assumed if any part is."""
        if not self.amount_lines:
            return self.recorded_basis
        return combined_basis(line.get("provenance") for line in self.amount_lines if line.get("chosen"))


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
    basis: Optional[str] = None              # of the award's amount


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
    basis: Optional[str] = None              # of the award's amount


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
    town_net: list = field(default_factory=list)     # town awards per net increase (engine/awards/net_increase.py)
    notes: list[Note] = field(default_factory=list)
    budget_cap: Optional[BudgetCap] = None     # engine/awards/budget_cap.py
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)   # decision type -> outcome -> count
    insufficient: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)                # candidates of the year not awarded (engine/candidates.py)
    earlier_runs: list[dict] = field(default_factory=list)           # runs of this year already committed
    run_id: Optional[int] = None                                     # set when committed
    ledger_name: str = ""
    ledger_exists: bool = True

    @property
    def is_empty(self) -> bool:
        return not (self.new_awards or self.changes or self.growth_checks or self.clawbacks or self.events
                    or any(t.to_record for t in self.town_net))


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
    answer_from_ledger(ctx, items, state)
    for item in items:
        seen.add(item.enterprise.enterprise_id)
        _count_outcomes(plan, item, ctx.book)
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
    plan.budget_cap = apply_budget_cap(ctx, plan, award_changes, Withheld)    # the year's cap, if the policy has one
    plan.town_net = town_net_increase(ctx.policy, ctx.as_of, ctx.year,
                                      [(i.enterprise.enterprise_id, i.enterprise.name, i.enterprise.town,
                                        i.enterprise.in_park) for i in items], state.events, plan.events)
    plan.notes += [Note(code, "", detail["place"], detail)
                   for code, detail in with_ledger(plan.town_net, state.town_awards, ctx.year, ctx.as_of)]
    return plan


def answer_from_ledger(ctx: RunContext, items: list[RunItem], state: LedgerState) -> None:
    """A blank 曾经入统 is never read as a first entry: the award stays undecided (insufficient_data)
    unless the ledger answers it. Where the ledger records an earlier entry, exit or award of the firm,
    the firm is evaluated as previously in scope (so not awarded, citing the ledger), and the amounts a
    first entry would have had are kept for the refusal list."""
    from engine.evaluate import Evaluator
    evaluator = None
    for item in items:
        if item.enterprise.previously_in_scope is not None:
            continue
        problem = _first_time_problem(item, state, ctx.year)
        if problem is None:
            continue
        evaluator = evaluator or Evaluator(ctx.policy, ctx.book, ctx.as_of)
        as_first = evaluator.evaluate(item.enterprise.model_copy(update={"previously_in_scope": False}))
        item.refused_amounts = {dtype: as_first.decision(dtype).amount_yuan for _, dtype in AWARD_KINDS
                                if as_first.decision(dtype).outcome == "awarded"}
        item.enterprise = item.enterprise.model_copy(update={"previously_in_scope": True})
        item.result = evaluator.evaluate(item.enterprise)
        item.ledger_answer = problem


def _count_outcomes(plan: RunPlan, item: RunItem, book: Rulebook) -> None:
    for _, dtype in AWARD_KINDS:
        d = item.result.decision(dtype)
        plan.outcomes.setdefault(dtype, {})
        plan.outcomes[dtype][d.outcome] = plan.outcomes[dtype].get(d.outcome, 0) + 1
    # A firm newly in scope this year that the rules do not award (re-entry...): the officer must see it.
    refusal = refused(item.result, book, plan.year)
    if refusal is not None and refusal["outcome"] == "not_awarded":
        plan.refused.append(refusal)
    d = item.result.decision(ENTERPRISE_AWARD)
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
            if item.ledger_answer is not None and dtype in item.refused_amounts:
                reason, detail = item.ledger_answer
                plan.withheld.append(Withheld(kind, ent.enterprise_id, ent.name, ent.town,
                                              item.refused_amounts[dtype], reason, {**detail, "answered": True}))
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
        beneficiary, btype = paid_to(kind, ent.name, ent.town, d.beneficiary, ctx.policy)
        award = Award(kind, ent.enterprise_id, ent.name, ent.town, str(ent.in_scope_since), beneficiary, btype,
                      d.amount_yuan, d.rule_id, d.clause_id, record["decision_id"], ctx.year,
                      clawback_years=ctx.terms.clawback_years if kind == "enterprise" else 0,
                      amount_lines=[{"rule_id": a.rule_id, "clause_id": a.clause, "parameter": a.param.name,
                                     "label_zh": a.param.parameter.label_zh, "label_en": a.param.parameter.label_en,
                                     "amount": a.amount, "provenance": a.param.provenance, "reference": a.param.reference,
                                     "chosen": a.chosen,
                                     "role": a.role} for a in d.amount_lines],
                      record=record, in_park=ent.in_park)
        award.instalments = schedule(award.amount, ctx.year, ctx.terms, kind)
        plan.new_awards.append(award)
        plan.changes += award_changes(award)


def award_changes(award: Award) -> list[Change]:
    """The changes that create a new award's instalments."""
    return [Change(award.kind, award.enterprise_id, award.name, award.town, award.beneficiary, award.beneficiary_type,
                   inst.kind, inst.seq, inst.amount, None, inst.status, "awarded",
                   {"due_year": inst.due_year, "condition": inst.condition}, basis=award.basis)
            for inst in award.instalments]


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
                                       reason, detail or {}, award.award_id, row.instalment_id, basis=award.basis))

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
                                               exit_day, award.clawback_years, basis=award.basis))
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
            award.clawback_years, run_id=award.run_id, award_id=award.award_id, recorded_basis=award.basis,
            reference=award.reference, basis_derived=award.basis_derived))
    for ch in state.year_changes:
        award = state.award_by_id(ch["award_id"])
        plan.committed_changes.append(Change(
            award.kind, award.enterprise_id, award.enterprise_name, award.town, award.beneficiary,
            award.beneficiary_type, ch["instalment_kind"], ch["seq"], from_fen(ch["amount_fen"]), ch["old_status"],
            ch["new_status"], ch["reason"], json.loads(ch["detail"]) if ch["detail"] else {}, award.award_id,
            ch["instalment_id"], ch["run_id"], award.basis))
    for award_id, row in state.clawbacks.items():
        if row["review_year"] != ctx.year:
            continue
        award = state.award_by_id(award_id)
        exit_day = next(e.event_date for e in state.events.get(award.enterprise_id, []) if e.event_id == row["exit_event_id"])
        plan.committed_clawbacks.append(Clawback(award_id, award.enterprise_id, award.enterprise_name, award.town,
                                                 from_fen(row["amount_fen"]), row["review_year"], award.inclusion_month,
                                                 exit_day, award.clawback_years, row["run_id"], award.basis))
