"""What-if: a register evaluated under the policy and under a reform (parameter values as data).

`diff` lists every enterprise whose decision or amount changes, with the rules whose finding changed
and the changed parameters those rules use (the cause, clause by clause); totals the budget effect by
beneficiary type and by town; and the effect on the year's target attainment. `sweep` varies one
parameter over a range and reports counts, money and the target gap at each value.

Every amount, before and after, carries its basis (engine/provenance.py): the baseline's own (an
assumed default is assumed in the baseline too), and a value the reform sets is assumed (a what-if is
no one's decision); a total with any assumed part is assumed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Callable, Iterable, Optional

from engine.analysis.targets import entered_scope, events_from_register
from engine.awards.totals import decision_lines
from engine.families import AWARD_KINDS, ENTERPRISE_AWARD, POOL, UPGRADE
from engine.decisions import Decision, EnterpriseResult
from engine.evaluate import Evaluator
from engine.facts import Enterprise
from engine.analysis.reform import Reform, apply_reform
from engine.policy import Policy
from engine.provenance import combined_basis
from engine.rules_model import Rulebook



@dataclass
class Change:
    enterprise_id: str
    name: str
    town: str
    type: str
    before_outcome: str
    after_outcome: str
    before_amount: Optional[Decimal]
    after_amount: Optional[Decimal]
    rules: list[str]                 # rule ids whose finding (status, amount) changed
    parameters: list[str]            # changed parameters those rules use
    clauses: list[str]
    beneficiary: Optional[str] = None
    before_basis: Optional[str] = None       # of the amount: source | decided | assumed
    after_basis: Optional[str] = None

    @property
    def amount_delta(self) -> Decimal:
        return (self.after_amount or Decimal(0)) - (self.before_amount or Decimal(0))


@dataclass
class Attainment:
    year: int
    included_this_year: int
    eligible_now: int
    target_new_total: Optional[int]
    text_floor: Optional[int]

    @property
    def projected(self) -> int:
        return self.included_this_year + self.eligible_now

    @property
    def gap(self) -> Optional[int]:
        return None if self.target_new_total is None else self.projected - self.target_new_total


@dataclass
class Diff:
    reform: Reform
    as_of: date
    changed_parameters: dict[str, tuple[Any, Any]]
    changes: list[Change]
    budget_by_type: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    budget_by_town: dict[tuple[str, str], tuple[Decimal, Decimal]] = field(default_factory=dict)   # (town, kind)
    attainment: tuple[Optional[Attainment], Optional[Attainment]] = (None, None)
    enterprises: int = 0
    # The basis of each budget figure, before and after (keys as in budget_by_type / budget_by_town).
    basis_by_type: dict[str, tuple[Optional[str], Optional[str]]] = field(default_factory=dict)
    basis_by_town: dict[tuple[str, str], tuple[Optional[str], Optional[str]]] = field(default_factory=dict)


def changed_parameters(base: Policy, reformed: Policy, as_of: date) -> dict[str, tuple[Any, Any]]:
    out = {}
    for name in reformed.parameters:
        before, after = base.parameters[name].in_force(as_of), reformed.parameters[name].in_force(as_of)
        b = None if before is None else base.param(name, as_of).value
        a = None if after is None else reformed.param(name, as_of).value
        if b != a:
            out[name] = (b, a)
    return out


def attainment(results: Iterable, policy: Policy, book: Rulebook, as_of: date,
               enterprises: list[Enterprise]) -> Attainment:
    """New firms this year: entered the scope already (engine/analysis/targets.entered_scope, what the
    targets count) plus eligible now (from the decisions)."""
    results = list(results)
    year = as_of.year
    included = len(entered_scope(events_from_register(enterprises, policy, book, as_of), year, as_of))
    eligible = sum(1 for r in results if r.decision(UPGRADE).outcome == "eligible")
    annex = policy.targets.annex
    target = annex.figure(year, "new_total") if annex and "new_total" in annex.columns else None
    floor = next((t.value for t in policy.targets.text_targets if t.year == year and t.measure == "new_total"), None)
    return Attainment(year, included, eligible, target, floor)


def diff(enterprises: list[Enterprise], policy: Policy, book: Rulebook, reform: Reform, as_of: date,
         progress: Optional[Callable[[int], None]] = None) -> Diff:
    """progress, when given, is called with 1 after each of the 2 × len(enterprises) evaluations."""
    reformed = apply_reform(policy, reform)
    tick = progress or (lambda n: None)

    def evaluate_all(evaluator: Evaluator) -> list[EnterpriseResult]:
        out = []
        for e in enterprises:
            out.append(evaluator.evaluate(e))
            tick(1)
        return out
    base_results = evaluate_all(Evaluator(policy, book, as_of))
    new_results = evaluate_all(Evaluator(reformed, book, as_of))
    changed = changed_parameters(policy, reformed, as_of)
    out = Diff(reform=reform, as_of=as_of, changed_parameters=changed, changes=[], enterprises=len(enterprises))
    for b, a in zip(base_results, new_results):
        for db, da in zip(b.decisions, a.decisions):
            if (db.outcome, db.amount_yuan, db.beneficiary) != (da.outcome, da.amount_yuan, da.beneficiary):
                out.changes.append(_change(b, db, da, changed))
    for kind, _ in AWARD_KINDS:
        out.budget_by_type[kind] = (Decimal(0), Decimal(0))
    bases: dict = {}
    for results, used, idx in ((base_results, policy, 0), (new_results, reformed, 1)):
        # Where money goes: the same rules as the report and the award run (engine/awards/totals.py).
        for line in decision_lines(results, used):
            _add(out.budget_by_type, line.kind, idx, line.amount)
            _add(out.budget_by_town, (line.place, line.kind), idx, line.amount)
            for key in (("type", line.kind), ("town", (line.place, line.kind))):
                bases.setdefault(key, (set(), set()))[idx].add(line.basis)
    for (table, key), (before, after) in bases.items():
        target = out.basis_by_type if table == "type" else out.basis_by_town
        target[key] = (combined_basis(before), combined_basis(after))
    out.attainment = (attainment(base_results, policy, book, as_of, enterprises),
                      attainment(new_results, reformed, book, as_of, enterprises))
    return out


def _add(table: dict, key, idx: int, amount: Decimal) -> None:
    before, after = table.get(key, (Decimal(0), Decimal(0)))
    table[key] = (before + amount, after) if idx == 0 else (before, after + amount)


def _change(result: EnterpriseResult, before: Decision, after: Decision, changed: dict) -> Change:
    """The rules whose finding changed (status, or the amount a line pays) and the changed parameters
    they use. When only a threshold moved inside a rule whose status did not change, no rule is named
    on its own; then every changed parameter the decision uses is named."""
    was = {f.rule.id: (f.status, f.value) for f in before.findings}
    responsible = [f for f in after.findings if was.get(f.rule.id) != (f.status, f.value)]
    params = {p.name for f in responsible for p in f.params if p.name in changed}
    if not params:
        params = {p.name for f in after.findings for p in f.params if p.name in changed}
    return Change(result.enterprise_id, result.name, result.town, before.type, before.outcome, after.outcome,
                  before.amount_yuan, after.amount_yuan, [f.rule.id for f in responsible], sorted(params),
                  sorted({f.rule.clause for f in responsible}), after.beneficiary or before.beneficiary,
                  before.amount_basis if before.amount_yuan is not None else None,
                  after.amount_basis if after.amount_yuan is not None else None)


@dataclass
class SweepPoint:
    value: Any
    eligible: int
    pool: int
    awards_total: Decimal
    enterprise_awards: int
    attainment: Attainment
    awards_basis: Optional[str] = None       # of the total: assumed if any amount in it is


def sweep(enterprises: list[Enterprise], policy: Policy, book: Rulebook, param: str, values: list[Any],
          as_of: date, engine: str = "columnar", progress: Optional[Callable[[int], None]] = None) -> list[SweepPoint]:
    """One evaluation of the register per value. The columnar engine (same rule records, proved equal
    to durable_rules) builds the register's columns once; `engine="durable"` re-runs durable_rules."""
    frame = None
    points = []
    for value in values:
        reformed = apply_reform(policy, Reform(name=f"{param}={value}", effective=as_of, parameters={param: value}))
        if engine == "columnar":
            from engine.columnar.evaluator import ColumnarEvaluator
            ev = ColumnarEvaluator(reformed, book, as_of)
            frame = frame if frame is not None else ev.frame(enterprises)
            results = ev.evaluate_frame(frame).results()
        else:
            results = Evaluator(reformed, book, as_of).evaluate_many(enterprises)
        lines = decision_lines(results, reformed)
        total = sum((line.amount for line in lines), Decimal(0))
        points.append(SweepPoint(
            value=value,
            eligible=sum(r.decision(UPGRADE).outcome == "eligible" for r in results),
            pool=sum(r.decision(POOL).outcome == "eligible" for r in results),
            awards_total=total,
            enterprise_awards=sum(r.decision(ENTERPRISE_AWARD).outcome == "awarded" for r in results),
            attainment=attainment(results, reformed, book, as_of, enterprises),
            awards_basis=combined_basis(line.basis for line in lines if line.amount)))
        if progress is not None:
            progress(1)
    return points


def sweep_values(param_type: str, start: str, stop: str, steps: int) -> list[str]:
    """Evenly spaced values from start to stop inclusive, exact decimals (money to the fen)."""
    if steps < 2:
        raise ValueError("--steps needs at least 2 values")
    if param_type == "money":
        from engine.money_text import parse_money_text
        start, stop = parse_money_text(start), parse_money_text(stop)
    a, b = Decimal(start), Decimal(stop)
    out = []
    for i in range(steps):
        v = a + (b - a) * i / (steps - 1)
        if param_type == "money":
            v = v.quantize(Decimal("0.01"))
        elif param_type == "count":
            v = v.to_integral_value()
        out.append(str(v.normalize()) if param_type != "money" else str(v))
    return out


def render_diff(d: Diff, policy: Policy, book: Rulebook, lang: str) -> str:
    from engine.render import environment, money
    from engine.policy import ResolvedParam
    labels = {n: (p.label_zh if lang == "zh" else p.label_en) for n, p in policy.parameters.items()}

    def fmt_param(name, value):
        from engine.render import Formatter
        param = policy.parameters[name]
        if value is None:
            return "—"
        rp = ResolvedParam(name, value, value, d.as_of, "assumed", None, None, None, param)
        return Formatter(book, lang).param(rp)

    words = environment().get_template(f"_words_{lang}.j2").module
    return environment().get_template(f"diff_{lang}.txt.j2").render(
        d=d, labels=labels, any_assumed=_any_assumed(d), fmt_param=fmt_param, money=lambda v: money(v, lang), OUTCOME=words.OUTCOME,
        signed=lambda v: ("+" if v > 0 else "") + money(v, lang),
        family_labels={k: (f.spec.label_zh if lang == "zh" else f.spec.label_en) for k, f in book.families.items()}
    ).strip()


def _any_assumed(d: Diff) -> bool:
    kinds = [b for pair in [*d.basis_by_type.values(), *d.basis_by_town.values()] for b in pair]
    kinds += [b for c in d.changes for b in (c.before_basis, c.after_basis)]
    return "assumed" in kinds


def diff_json(d: Diff) -> dict:
    from engine.output import json_value

    def pair(t, basis=(None, None)):
        return {"before": json_value(t[0], "money"), "after": json_value(t[1], "money"),
                "delta": json_value(t[1] - t[0], "money"),
                "amount_basis": {"before": basis[0], "after": basis[1]}}

    def att(a: Attainment):
        return {"year": a.year, "included_this_year": a.included_this_year, "eligible_now": a.eligible_now,
                "projected": a.projected, "target_new_total": a.target_new_total, "gap": a.gap}

    return {
        "reform": {"name": d.reform.name, "effective": d.reform.effective.isoformat(), "note": d.reform.note},
        "as_of": d.as_of.isoformat(),
        "changed_parameters": {k: {"before": json_value(b), "after": json_value(a)}
                               for k, (b, a) in d.changed_parameters.items()},
        "changes": [{"enterprise_id": c.enterprise_id, "name": c.name, "town": c.town, "type": c.type,
                     "before": {"outcome": c.before_outcome, "amount_yuan": json_value(c.before_amount, "money"),
                                "amount_basis": c.before_basis},
                     "after": {"outcome": c.after_outcome, "amount_yuan": json_value(c.after_amount, "money"),
                               "amount_basis": c.after_basis},
                     "rules": c.rules, "parameters": c.parameters, "clauses": c.clauses,
                     "beneficiary": c.beneficiary} for c in d.changes],
        "budget_by_type": {k: pair(v, d.basis_by_type.get(k, (None, None))) for k, v in d.budget_by_type.items()},
        "budget_by_town": [{"town": town, "beneficiary_type": kind, **pair(v, d.basis_by_town.get((town, kind), (None, None)))}
                           for (town, kind), v in sorted(d.budget_by_town.items())],
        "target_attainment": {"before": att(d.attainment[0]), "after": att(d.attainment[1])},
    }


def render_sweep(rows: list[dict], param, as_of, lang: str) -> str:
    """`sweep` as a table in the run's language: the parameter's value in its unit, money totals in
    万元 (zh) or yuan (en)."""
    from engine.policy_view import shown_value
    from engine.render import environment
    shown = [{**r, "shown": shown_value(param, Decimal(r["value"]) if param.type != "count" else int(r["value"]), lang),
              "total_wan": f"{Decimal(r['awards_total_yuan']) / 10000:,.2f}",
              "total_yuan": f"{Decimal(r['awards_total_yuan']):,.2f}"} for r in rows]
    text = environment().get_template(f"sweep_{lang}.txt.j2").render(
        rows=shown, name=param.name, label=param.label_zh if lang == "zh" else param.label_en, as_of=as_of.isoformat())
    return "\n".join(line.rstrip() for line in text.strip().splitlines())
