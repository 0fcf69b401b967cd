"""An award run as the officer sees it: the plan as JSON, the town and journal tables, and the text
views (rendered through the awards templates)."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Optional

from engine.awards.ledger import from_fen
from engine.awards.ledger_state import references_of
from engine.awards.net_increase import as_json as net_increase_json
from engine.awards.plan import Award, Change, Clawback, RunPlan
from engine.awards.terms import CENT, Terms, ratio_text
from engine.awards.totals import CATEGORIES, town_totals, year_journal
from engine.policy import Policy


def plan_json(plan: RunPlan, policy: Policy) -> dict:
    def money(d: Optional[Decimal]) -> Optional[str]:
        return None if d is None else str(Decimal(d).quantize(CENT))

    def award(a: Award) -> dict:
        return {"kind": a.kind, "enterprise_id": a.enterprise_id, "name": a.name, "town": a.town,
                "inclusion_month": a.inclusion_month, "beneficiary": a.beneficiary,
                "beneficiary_type": a.beneficiary_type, "amount_yuan": money(a.amount), "decision_id": a.decision_id,
                "rule_id": a.rule_id or None, "clause_id": a.clause_id or None, "run_id": a.run_id,
                "award_id": a.award_id, "clawback_years": a.clawback_years, "amount_basis": a.basis,
                "amount_reference": a.reference or references_of(a.amount_lines, {}),
                **({"amount_basis_derived": True} if a.basis_derived else {}),
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
                "award_id": c.award_id, "instalment_id": c.instalment_id, "amount_basis": c.basis}

    def clawback(k: Clawback) -> dict:
        return {"enterprise_id": k.enterprise_id, "name": k.name, "amount_yuan": money(k.amount),
                "review_year": k.review_year, "inclusion_month": k.inclusion_month,
                "exit_date": k.exit_date.isoformat(), "clawback_years": k.clawback_years, "run_id": k.run_id,
                "amount_basis": k.basis}

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
        "town_net_increase": net_increase_json(plan.town_net, money),
        "budget_cap": plan.budget_cap.as_json() if getattr(plan, "budget_cap", None) else None,
        "notes": [{"code": n.code, "enterprise_id": n.enterprise_id or None, "name": n.name or None,
                   "detail": n.detail} for n in plan.notes],
        "decision_outcomes": plan.outcomes,
        "insufficient_data": plan.insufficient,
        "refused_candidates": [{k: v for k, v in r.items() if k != "reason"} for r in plan.refused],
        "town_totals": [{**{k: v for k, v in row.items() if k not in CATEGORIES},
                         **{f"{c}_yuan": money(row[c]) for c in CATEGORIES}} for row in totals],
    }


def words(lang: str):
    from engine.render import environment
    return environment().get_template(f"_awards_words_{lang}.j2").module


def _helpers(lang: str, terms: Optional[Terms] = None) -> dict:
    from engine.render import money, provenance_text

    def yuan(value) -> str:
        return f"{Decimal(value).quantize(CENT):,.2f}"

    def pct(value) -> str:
        share = Fraction(value) * 100
        shown = (Decimal(share.numerator) / Decimal(share.denominator)).quantize(CENT, rounding=ROUND_HALF_EVEN)
        approx = "" if Fraction(shown) == share else ("约" if lang == "zh" else "≈")
        return f"{approx}{shown.normalize():f}%"

    w = words(lang)

    def mark(basis: Optional[str], reference: Optional[str] = None, derived: bool = False) -> str:
        """The basis of an amount beside it: （假定值） / （依据文号） / （政策原文）."""
        if not basis:
            return ""
        return w.MARK[basis].format(ref=reference or w.BASIS["decided"]) + (w.MARK_DERIVED if derived else "")

    def assumed_total(bases) -> str:
        return w.ASSUMED_TOTAL if "assumed" in set(bases) else ""

    helpers = {"money": lambda v: money(v, lang, both=True), "yuan": yuan, "pct": pct, "mark": mark,
               "assumed_total": assumed_total}
    if terms is not None:
        helpers["terms"] = terms
        helpers["prov"] = lambda name: provenance_text(terms.params[name], lang)
    return helpers


def town_table(plan: RunPlan, policy: Policy, lang: str, with_basis: bool = False) -> tuple[list[str], list[list]]:
    """Headers and rows of the town totals (amounts as Decimal yuan) for CSV/XLSX and the table;
    `with_basis` adds the basis of each row's money (a total with any assumed amount is assumed)."""
    w = words(lang)
    rows = []
    for g in town_totals(plan, policy):
        rows.append([g["place"] or w.TOTAL, w.BTYPE[g["beneficiary_type"]] if g["beneficiary_type"] else "",
                     g["enterprises"], *[g[c] for c in CATEGORIES],
                     *([w.BASIS.get(g["amount_basis"], "")] if with_basis else [])])
    return list(w.TOWN_HEAD) + ([w.TOWN_BASIS_HEAD] if with_basis else []), rows


def journal_table(plan: RunPlan, lang: str) -> tuple[list[str], list[list]]:
    """Every money line of the year, one row each: what the town totals add up."""
    w = words(lang)
    rows = [[w.CATEGORY[l.category], l.enterprise_id, l.name, l.place, w.BTYPE[l.beneficiary_type], l.amount,
             l.run_id if l.run_id else w.DRY_RUN] for l in year_journal(plan)]
    return list(w.JOURNAL_HEAD), rows


def render_plan(plan: RunPlan, policy: Policy, lang: str, view: str, committing: bool) -> str:
    from engine.render import environment
    totals = town_totals(plan, policy)
    head, rows = town_table(plan, policy, lang, with_basis=True)
    shown = [[r[0], r[1], r[2], *[f"{Decimal(v):,.2f}" for v in r[3:-1]], r[-1]] for r in rows]
    enterprise_awards = [a for a in plan.new_awards if a.kind == "enterprise"]
    show_terms = any(len(a.instalments) > 1 or a.clawback_years for a in enterprise_awards)
    from engine.localtime import local_time
    zone_name = policy.jurisdiction.time_zone
    text = environment().get_template(f"awards_{lang}.txt.j2").render(
        view=view, p=plan, dry=not committing, committing=committing, total=totals[-1], rows=shown,
        show_terms=show_terms, when=lambda stamp: local_time(stamp, zone_name), head=head, **_helpers(lang, plan.terms))
    return _tidy(text)


def render_ledger_summary(summary: dict, lang: str) -> str:
    from engine.render import environment
    s = dict(summary)
    s["instalments"] = {k: {"count": v["count"], "yuan": Decimal(v["yuan"]), "assumed": Decimal(v["assumed_yuan"])}
                        for k, v in summary["instalments"].items()}
    s["town_awards"] = {k: {"count": v["count"], "yuan": Decimal(v["yuan"]), "assumed": Decimal(v["assumed_yuan"])}
                        for k, v in summary["town_awards"].items()}
    s["clawbacks"] = {"count": summary["clawbacks"]["count"], "yuan": Decimal(summary["clawbacks"]["yuan"])}
    from engine.localtime import local_time, zone_of_policy
    # Committed times are stored in UTC; each is shown in its policy's district time zone.
    s["run_rows"] = [[r["run_id"], r["award_year"], r["as_of"], r["policy_id"], r["policy_hash"][:12],
                      Path(r["register_file"]).name, r["awards"], f"{from_fen(r['award_fen']):,.2f}",
                      words(lang).BASIS.get(r.get("amount_basis"), ""),
                      local_time(r["committed_at"], zone_of_policy(r["policy_id"]))]
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
