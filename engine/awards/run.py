"""Award runs against the ledger (engine/awards/ledger.py): a dry run, a committed run, payments.

The plan is worked out by engine/awards/plan.py (pure); `commit_run` plans again inside one
`BEGIN IMMEDIATE` transaction against the ledger as it is then, writes the plan, checks the ledger's
consistency and commits. A plan with nothing new writes nothing: running the same year twice, or two
processes at once, records it once. Terms: engine/awards/terms.py; totals: engine/awards/totals.py;
what the officer sees: engine/awards/present.py.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Optional

from engine import __version__
from engine.awards.ledger import Ledger, LedgerError, from_fen, to_fen
from engine.awards.ledger_state import references_of
from engine.awards.net_increase import counted_json
from engine.awards.plan import RunContext, RunItem, RunPlan, plan_run, prepare_items
from engine.awards.present import (journal_table, plan_json, render_ledger_summary, render_payments, render_plan,
                                   town_table)
from engine.awards.terms import ratio_text
from engine.errors import EngineError, UsageConflict
from engine.policy import Policy

# What the award command uses, importable from here.
__all__ = ["RunContext", "RunItem", "RunPlan", "commit_run", "dry_run", "journal_table", "pay", "plan_json",
           "prepare_items", "refuse_what_if", "render_ledger_summary", "render_payments", "render_plan",
           "town_table"]

def dry_run(ledger: Ledger, ctx: RunContext, items: list[RunItem]) -> RunPlan:
    with ledger.snapshot():
        plan = plan_run(ctx, items, ledger.load_state(ctx.year))
    plan.ledger_name = ledger.name
    return plan


def refuse_what_if(policy: Policy) -> None:
    """Money is recorded only under the policy as published: a what-if (a reform applied to its data)
    is evaluated and shown, never committed, whoever asks (the ledger would record the published
    policy's hash beside amounts it does not give)."""
    if policy.what_if is not None:
        raise UsageConflict("a what-if run (--set/--overrides) cannot be committed: money is recorded only "
                            "under the policy as published")


def commit_run(ledger: Ledger, ctx: RunContext, items: list[RunItem]) -> RunPlan:
    """Plan against the ledger as it is once the write lock is held, write it all, check, commit.
    Returns the plan; `plan.run_id` is None when there was nothing new to record. Refuses a what-if."""
    refuse_what_if(ctx.policy)
    with ledger.transaction():
        plan = plan_run(ctx, items, ledger.load_state(ctx.year))
        plan.ledger_name = ledger.name
        if plan.is_empty:
            return plan
        plan.run_id = _write(ledger, ctx, plan)
        problems = ledger.verify()
        if problems:
            raise EngineError(f"{ledger.name}: the run would leave the ledger inconsistent: {problems[0]}")
    return plan


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
            "clawback_years": a.clawback_years, "amount_basis": a.basis,
            "amount_reference": a.reference or references_of(a.amount_lines, {}),
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
    for t in plan.town_net:
        if t.to_record:
            ledger.insert("town_awards", {
                "run_id": run_id, "award_year": ctx.year, "place": t.place, "beneficiary_type": t.beneficiary_type,
                "entries": len(t.entries), "exits": len(t.exits), "per_enterprise_fen": to_fen(t.per_enterprise),
                "amount_fen": to_fen(t.amount), "amount_basis": t.provenance, "amount_reference": t.reference,
                "counted": json.dumps(counted_json(t), ensure_ascii=False, sort_keys=True), "status": "payable"})
            t.run_id = run_id
    return run_id


def _json(detail: dict) -> Optional[str]:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None


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
            _check_paid_on(paid_on, rows)
    else:
        with ledger.transaction():
            rows = ledger.payable(year, enterprise_ids)
            _check_paid_on(paid_on, rows)
            if rows:
                payment_id = ledger.insert("payments", {
                    "paid_on": paid_on.isoformat(), "reference": reference.strip(),
                    "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
                for r in rows:
                    if r["instalment_id"] is None:        # a town award per net increase: paid whole, once
                        ledger.pay_town_award(r["town_award_id"], payment_id)
                        continue
                    ledger.set_status(r["instalment_id"], "payable", "paid", reason="paid", payment_id=payment_id,
                                      detail={"paid_on": paid_on.isoformat()})
                problems = ledger.verify()
                if problems:
                    raise EngineError(f"{ledger.name}: payment would leave the ledger inconsistent: {problems[0]}")
    for r in rows:
        r["amount"] = from_fen(r["amount_fen"])
    return rows


def _check_paid_on(paid_on: date, rows: list[dict]) -> None:
    """An award of year Y is decided on Y's figures: a payment dated before Y began is a typing error."""
    early = [r for r in rows if paid_on.year < r["award_year"]]
    if early:
        first = early[0]
        raise LedgerError(f"--paid-on {paid_on.isoformat()} is before the award year {first['award_year']} of "
                          f"{first['enterprise_id']} ({len(early)} instalment(s) in all); check the payment date")
