"""`scaleup policy check`: static checks over a policy's data and its rule records.

* the source document's own figures: partitions and running totals of the annex table, and the
  text's targets against the table (warnings about the source: it is never corrected);
* coverage: every clause is implemented by a rule, accounted for by targets, or marked not_modelled;
  every rule cites an existing clause verbatim; every parameter a rule uses is in force for the whole
  policy period; every parameter value has provenance;
* the Chinese comparative in a rule's quoted text against the operator the rule uses, by the legal
  convention (民法典 第一千二百五十九条: 以上、以下、以内、届满 include the number itself; 不满、超过、
  以外 do not — so 以上 → >=, 以下/以内 → <=, 超过 → >, 不满/不到/低于 → <; docs/rules.md);
* money that rests on assumptions: every assumed value of a parameter that reaches an amount (the award
  families' amounts and conditions, the payment terms) is a warning, so a policy office sees what it
  still has to decide; a value fixed by a document (source or decided) is not listed;
* per decision family, gaps and overlaps found by enumerating the boundary points of every threshold:
  complete facts that no rule decides, exclusions or classification cases that conclude differently for
  the same facts, an award with no amount; and durable_rules' verdict against the exact evaluation.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Optional

from engine import logic
from engine.compiler import FamilyPlan, plan_policy
from engine.durable_host import RuleEngine
from engine.errors import EngineError, PolicyDataError, ScaleupError
from engine.evaluate import verdict_from_status, read_fired
from engine.policy import Policy, coerce_param_value, load_policy
from engine.schedule import band_word_problems
from engine.rulebook import load_rulebook
from engine.rules_model import Compare, ParamTest, Ref, Rulebook, iter_nodes

MAX_POINTS = 3000          # boundary combinations per family and date (a deterministic sample beyond)
ENGINE_SAMPLE = 300        # of those, evaluated through durable_rules too
# The comparative words and the operator each means (民法典 第一千二百五十九条 for 以上、以下、以内、届满、
# 不满、超过). 以外 also excludes the number but names no direction, so it maps to no operator. Longer words
# are tried first: 不超过 is not 超过, 不低于 is not 低于.
COMPARATIVES = sorted([("及以上", ">="), ("以上", ">="), ("不低于", ">="), ("不少于", ">="), ("达到", ">="),
                       ("届满", ">="), ("超过", ">"), ("高于", ">"), ("不满", "<"), ("不到", "<"), ("不足", "<"),
                       ("低于", "<"), ("以下", "<="), ("以内", "<="), ("不高于", "<="), ("不超过", "<=")],
                      key=lambda wo: -len(wo[0]))


@dataclass(frozen=True)
class Finding:
    severity: str       # error | warning | info
    code: str
    message: str        # English, for JSON and logs
    where: str
    # The figures behind the message, for the wording in another language (templates/policy_check_*.j2).
    fields: Optional[dict] = field(default=None, compare=False)


def check_policy(folder: Path) -> list[Finding]:
    from engine.scaffold import review_marks
    # Marks `scaleup policy new` left that are still there: listed whether or not the folder loads.
    findings = [Finding("warning", "scaffold.to_review", f"{name} line{'s' if len(lines) > 1 else ''} "
                        f"{', '.join(map(str, lines))}: {text}", str(Path(folder) / name))
                for name, text, lines in review_marks(folder)]
    try:
        policy = load_policy(folder)
    except PolicyDataError as exc:
        return findings + [Finding("error", "load.policy", p, str(folder)) for p in exc.problems]
    findings += check_source_figures(policy)
    try:
        book = load_rulebook(policy.rules_folder, policy)
    except PolicyDataError as exc:
        return findings + [Finding("error", "load.rules", p, str(policy.rules_folder)) for p in exc.problems]
    findings += check_bindings(policy, book)
    findings += check_coverage(policy, book)
    findings += check_parameters_in_force(policy, book)
    findings += check_comparatives(policy, book)
    findings += check_schedule_words(policy)
    findings += check_assumed_money(policy, book)
    findings += check_runs(policy, book)
    for day in check_dates(policy, book):
        findings += check_families(policy, book, day)
    return dedupe(findings)


def check_runs(policy: Policy, book: Rulebook) -> list[Finding]:
    """What `scaleup awards` and `scaleup priority` read besides the rule records: the payment terms
    when a family with an amount is provided, the ranking's parameters when the ranked family is."""
    from engine.analysis.priority import (bound_ranking, load_ranking_spec, priority_provided, ranking_spec_path,
                                          resolve_spec)
    from engine.awards.terms import payment_terms
    start = policy.meta.in_force.from_
    out = []
    if any(f.provided and f.spec.amount for f in book.families.values()):
        try:
            payment_terms(policy, start)
        except PolicyDataError as exc:
            out += [Finding("error", "awards.terms", p, str(policy.folder / "parameters.yaml")) for p in exc.problems]
    try:
        if priority_provided(policy, book):
            resolve_spec(bound_ranking(load_ranking_spec(ranking_spec_path(policy)), policy), policy, book, start)
    except PolicyDataError as exc:
        out += [Finding("error", "priority.ranking", p, str(ranking_spec_path(policy))) for p in exc.problems]
    return out


def dedupe(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


# ---------------------------------------------------------------- the source's own figures

def check_source_figures(policy: Policy) -> list[Finding]:
    out: list[Finding] = []
    annex = policy.targets.annex
    where = f"{policy.folder / 'targets.yaml'}"
    if annex is None:
        return out
    rows = sorted(annex.rows, key=lambda r: r.year)
    fig = lambda row, col: row.model_extra[col]   # noqa: E731
    for row in rows:
        for rel in annex.partitions:
            parts = [fig(row, p) for p in rel.parts]
            if sum(parts) != fig(row, rel.total):
                out.append(Finding("warning", "source.partition",
                                   f"{row.year}: {' + '.join(f'{p} {v}' for p, v in zip(rel.parts, parts))} = {sum(parts)}, "
                                   f"but {rel.total} is printed as {fig(row, rel.total)}", where,
                                   {"year": row.year, "parts": list(zip(rel.parts, parts)), "sum": sum(parts),
                                    "total": rel.total, "printed": fig(row, rel.total)}))
    for prev, row in zip(rows, rows[1:]):
        for rel in annex.running_totals:
            expected = fig(prev, rel.stock) + fig(row, rel.additions)
            if expected != fig(row, rel.stock):
                out.append(Finding("warning", "source.running_total",
                                   f"{row.year}: {rel.stock} {fig(prev, rel.stock)} ({prev.year}) + {rel.additions} "
                                   f"{fig(row, rel.additions)} = {expected}, but {fig(row, rel.stock)} is printed "
                                   f"(difference {fig(row, rel.stock) - expected:+d})", where,
                                   {"year": row.year, "prev_year": prev.year, "stock": rel.stock,
                                    "prev": fig(prev, rel.stock), "additions": rel.additions,
                                    "added": fig(row, rel.additions), "expected": expected,
                                    "printed": fig(row, rel.stock), "difference": fig(row, rel.stock) - expected}))
    if rows:
        first = rows[0]
        base = {rel.stock: fig(first, rel.stock) - fig(first, rel.additions) for rel in annex.running_totals}
        out.append(Finding("info", "source.baseline",
                           f"the table implies a stock at the end of {first.year - 1} of "
                           + ", ".join(f"{k} {v}" for k, v in base.items()), where,
                           {"year": first.year - 1, "base": list(base.items())}))
        out.append(Finding("info", "source.no_exits",
                           "the cumulative columns add new enterprises only: the plan assumes no enterprise leaves "
                           "the scope (退规); actual stock must subtract exits", where, {}))
    for t in policy.targets.text_targets:
        table = annex.figure(t.year, t.measure) if t.measure in annex.columns else None
        if table is None:
            out.append(Finding("warning", "source.text_vs_table",
                               f"text target {t.id} ({t.year} {t.measure} {t.op} {t.value}) has no figure in the table", where,
                               {"kind": "absent", "id": t.id, "year": t.year, "measure": t.measure, "value": t.value,
                                "text": t.text}))
        elif t.op == ">=" and table < t.value:
            out.append(Finding("warning", "source.text_vs_table",
                               f"text target {t.id}: 「{t.text}」 asks {t.measure} ≥ {t.value} in {t.year}, "
                               f"but the table plans {table}", where,
                               {"kind": "below", "id": t.id, "year": t.year, "measure": t.measure, "value": t.value,
                                "text": t.text, "table": table}))
        elif table != t.value:
            out.append(Finding("info", "source.text_vs_table",
                               f"text target {t.id}: 「{t.text}」 is a floor of {t.value}; the table plans {table} "
                               f"({table - t.value:+d})", where,
                               {"kind": "above", "id": t.id, "year": t.year, "measure": t.measure, "value": t.value,
                                "text": t.text, "table": table, "difference": table - t.value}))
    return out


# ---------------------------------------------------------------- coverage and references

def check_bindings(policy: Policy, book: Rulebook) -> list[Finding]:
    """Which rule files were read (from which folder), which families this policy does not provide,
    and which amounts it does not offer (provisions it does not bind)."""
    folder = str(book.folder)
    out = [Finding("info", "rules.read", f"rule files read from {folder}: "
                   f"{', '.join(p.name for p in book.files)}", folder,
                   {"folder": folder, "files": [p.name for p in book.files]})]
    where = str(policy.folder / "provisions.yaml")
    for fam in book.families.values():
        if not fam.provided:
            out.append(Finding("info", "provision.not_provided",
                               f"family {fam.name}: not provided by this policy (it binds none of its provisions, "
                               f"e.g. {fam.spec.conclusion.provision}); its decisions are not_applicable", where,
                               {"family": fam.name, "provision": fam.spec.conclusion.provision}))
        for r in fam.not_offered:
            out.append(Finding("info", "provision.not_offered",
                               f"{r.id}: amount not offered (provision {r.provision} is not bound)", where,
                               {"rule": r.id, "provision": r.provision}))
    return out


def check_coverage(policy: Policy, book: Rulebook) -> list[Finding]:
    covered: dict[str, str] = {}
    for fam in (f for f in book.families.values() if f.provided):
        covered.setdefault(fam.spec.conclusion.clause, fam.spec.conclusion.id)
        for r in fam.rules:
            covered.setdefault(r.clause, r.id)
    for r in book.not_modelled:
        covered.setdefault(r.clause, r.id)
    if policy.targets.annex:
        covered.setdefault(policy.targets.annex.clause, "targets.annex")
    for t in policy.targets.text_targets:
        covered.setdefault(t.clause, f"targets.{t.id}")
    for cid in policy.not_modelled_clauses:
        covered.setdefault(cid, "provisions.not_modelled")
    return [Finding("error", "coverage.clause",
                    f"clause {cid} is implemented by no rule and not marked not modelled (bind a provision to it "
                    f"in provisions.yaml, or list it there under not_modelled: with the reason)",
                    f"{policy.folder / 'clauses.yaml'}",
                    {"clause": cid})
            for cid in policy.clauses if cid not in covered]


def parameters_used(book: Rulebook, family) -> set[str]:
    names: set[str] = set()
    conds = list(family.conditions.values()) + list(family.guards.values()) + \
        [c for cases in family.cases.values() for c, _ in cases]
    stack = list(conds)
    while stack:
        cond = stack.pop()
        for node in iter_nodes(cond):
            if isinstance(node, Ref):
                stack.append(book.definition_conditions[node.ref])
            elif isinstance(node, Compare):
                names.update(x for x in (node.param, node.scale) if x)
            elif isinstance(node, ParamTest):
                names.add(node.param)
    names.update(r.amount_param for r in family.rules if r.kind == "amount")
    return names


def check_parameters_in_force(policy: Policy, book: Rulebook) -> list[Finding]:
    out = []
    start, end = policy.meta.in_force.from_, policy.meta.in_force.to
    used_anywhere: set[str] = set()
    for fam in book.families.values():
        for name in sorted(parameters_used(book, fam)):
            used_anywhere.add(name)
            param = policy.parameters.get(name)
            if param is None:
                continue        # the loader already refused an unknown parameter
            gap = _first_uncovered_day(param, start, end)
            if gap:
                out.append(Finding("error", "param.not_in_force",
                                   f"{name} (used by {fam.name}) has no value in force on {gap.isoformat()}, inside "
                                   f"the policy period {start.isoformat()}..{end.isoformat()}",
                                   f"{policy.folder / 'parameters.yaml'}",
                                   {"name": name, "family": fam.name, "gap": gap.isoformat(), "start": start.isoformat(),
                                    "end": end.isoformat()}))
    for name in policy.parameters:
        if name not in used_anywhere:
            out.append(Finding("info", "param.not_used_by_rules",
                               f"{name} is used by no rule record (it may serve the ledger, the ranking or reports)",
                               f"{policy.folder / 'parameters.yaml'}", {"name": name}))
    return out


def money_parameters(book: Rulebook) -> dict[str, str]:
    """Parameter -> how it reaches money: the amounts and conditions of every family that pays, and the
    payment terms the award ledger applies."""
    from engine.awards.terms import TERM_PARAMETERS
    reach: dict[str, str] = {}
    for fam in book.families.values():
        if fam.spec.amount is None:
            continue
        amounts = {r.amount_param for r in fam.rules if r.kind == "amount"}
        for name in sorted(parameters_used(book, fam)):
            reach.setdefault(name, f"{fam.name} {'amount' if name in amounts else 'condition'}")
    for name in TERM_PARAMETERS:
        reach.setdefault(name, "payment terms of the award ledger")
    return reach


def check_assumed_money(policy: Policy, book: Rulebook) -> list[Finding]:
    """Each assumed value (in force during the policy period) of a parameter that reaches money. A zero
    amount is an amount not used (就高 never picks it): listed for information only."""
    out = []
    start, end = policy.meta.in_force.from_, policy.meta.in_force.to
    where = f"{policy.folder / 'parameters.yaml'}"
    for name, reach in money_parameters(book).items():
        param = policy.parameters.get(name)
        if param is None:
            continue
        days = sorted(param.values)
        for i, day in enumerate(days):
            pv = param.values[day]
            until = pv.until or (days[i + 1] - timedelta(days=1) if i + 1 < len(days) else None)
            if pv.provenance != "assumed" or day > end or (until is not None and until < start):
                continue
            unused = param.type == "money" and Fraction(str(pv.value)) == 0
            # A list value is shown as the list it is, not as Python writes it.
            value = ", ".join(map(str, pv.value)) if isinstance(pv.value, (list, tuple)) else pv.value
            out.append(Finding("info" if unused else "warning", "money.assumed",
                               f"{name} ({param.label_zh}) = {value} from {day.isoformat()} is assumed and reaches "
                               f"money ({reach}){'; 0 means not used' if unused else ''}: {pv.note} — a document that "
                               f"fixes it is recorded as provenance decided (文号, issuer, date)", where,
                               {"name": name, "value": value, "since": day.isoformat(), "unused": unused,
                                "note": pv.note, "shown": _shown(param, pv.value)}))
    return out


def _shown(param, raw) -> dict[str, str]:
    """A parameter value in each language's words and units (engine/policy_view.py)."""
    from engine.policy import coerce_param_value
    from engine.policy_view import shown_value
    value = coerce_param_value(param, raw)
    return {lang: shown_value(param, value, lang) for lang in ("zh", "en")}


def _first_uncovered_day(param, start: date, end: date) -> Optional[date]:
    days = sorted(param.values)
    candidates = [start] + [v.until + timedelta(days=1) for v in param.values.values() if v.until]
    for day in candidates:
        if start <= day <= end and param.in_force(day) is None:
            return day
    return None if days else start


def check_comparatives(policy: Policy, book: Rulebook) -> list[Finding]:
    out = []
    for fam in (f for f in book.families.values() if f.provided):
        for r in fam.rules:
            if fam.included_from.get(r.id) or r.id not in fam.conditions:
                continue
            word_op = next(((w, op) for w, op in COMPARATIVES if w in r.text), None)
            if word_op is None:
                continue
            word, op = word_op
            for node in iter_nodes(fam.conditions[r.id]):
                if not isinstance(node, Compare) or node.op not in ("<", "<=", ">", ">=") or not node.param:
                    continue
                param = policy.parameters.get(node.param)
                if param is None or param.type != "money" or not _figure_in_text(policy, node.param, r.text):
                    continue
                if node.op == op:
                    continue
                if node.op == logic.NEGATE[op]:
                    out.append(Finding("info", "rule.comparative",
                                       f"{r.id}: tests {node.fact} {node.op} {node.param}, the complement of "
                                       f"「{word}」 ({op}) in its text 「{r.text}」: consistent", f"rules/{fam.name}",
                                       {"rule": r.id, "fact": node.fact, "op": node.op, "param": node.param,
                                        "word": word, "text": r.text}))
                else:
                    out.append(Finding("error", "rule.comparative",
                                       f"{r.id}: tests {node.fact} {node.op} {node.param}, but its text 「{r.text}」 "
                                       f"says 「{word}」, which is {op} (or its complement {logic.NEGATE[op]})",
                                       f"rules/{fam.name}"))
    return out


def check_schedule_words(policy: Policy) -> list[Finding]:
    """The words quoted for each band of an amount schedule against its edges' inclusivity."""
    out = []
    for name, param in policy.parameters.items():
        if param.type != "schedule":
            continue
        for day, pv in sorted(param.values.items()):
            for problem in band_word_problems(coerce_param_value(param, pv.value), COMPARATIVES):
                out.append(Finding("error", "schedule.comparative", f"{name} ({day.isoformat()}): {problem}",
                                   f"{policy.folder / 'parameters.yaml'}"))
    return out


def _figure_in_text(policy: Policy, param_name: str, text: str) -> bool:
    """The comparative speaks of this parameter when the parameter's figure (in 万元) is in the text."""
    param = policy.parameters[param_name]
    for pv in param.values.values():
        try:
            wan = Fraction(str(pv.value)) / 10000
        except (ValueError, ZeroDivisionError):
            continue
        if wan.denominator == 1 and f"{wan.numerator}万" in text:
            return True
    return False


# ---------------------------------------------------------------- families: gaps, overlaps, engine agreement

def check_dates(policy: Policy, book: Rulebook) -> list[date]:
    """The policy's first day and every parameter change inside its period."""
    start, end = policy.meta.in_force.from_, policy.meta.in_force.to
    days = {start}
    for param in policy.parameters.values():
        days.update(d for d in param.values if start < d <= end)
    return sorted(days)


def check_families(policy: Policy, book: Rulebook, day: date) -> list[Finding]:
    out: list[Finding] = []
    try:
        pp = plan_policy(policy, book, day)
    except PolicyDataError as exc:
        return [Finding("error", "compile", p, f"as of {day.isoformat()}") for p in exc.problems]
    engine = None
    try:
        engine = RuleEngine(pp.rulesets)
    except EngineError as exc:
        out.append(Finding("error", "engine.compile", str(exc), f"as of {day.isoformat()}"))
    fired_cache: dict[tuple, list[str]] = {}
    for name, plan in pp.plans.items():
        if not plan.evaluable:
            continue
        points = list(boundary_points(plan, pp.encoder, book))
        where = f"rules/{name} as of {day.isoformat()}"
        for i, facts in enumerate(points):
            status = _statuses(plan, facts)
            try:
                verdict = verdict_from_status(plan, status, (), ())
            except EngineError as exc:
                out.append(Finding("error", "rules.overlap", f"{exc} — for {_show(facts)}", where))
                continue
            out += _case_findings(plan, facts, verdict, where)
            if verdict.outcome == "insufficient_data":
                out.append(Finding("error", "rules.gap", f"no rule decides complete facts {_show(facts)}", where))
            if engine is not None and i < ENGINE_SAMPLE:
                key = tuple(sorted((k, repr(v)) for k, v in facts.items()))
                if key not in fired_cache:
                    fired_cache[key] = engine.fire_all(pp.encoder.record(facts))
                tags = [pp.tags[n] for n in fired_cache[key] if n in pp.tags and pp.tags[n].family == name]
                try:
                    engine_verdict = read_fired(plan, tags)
                except EngineError as exc:
                    out.append(Finding("error", "rules.overlap", f"{exc} — for {_show(facts)}", where))
                    continue
                if (engine_verdict.category, engine_verdict.outcome) != (verdict.category, verdict.outcome):
                    out.append(Finding("error", "engine.disagreement",
                                       f"durable_rules concludes {engine_verdict.outcome}, the exact evaluation "
                                       f"{verdict.outcome}, for {_show(facts)}", where))
    return out


def _statuses(plan: FamilyPlan, facts: dict) -> dict[str, Optional[bool]]:
    status = {}
    for r in plan.family.rules:
        if r.id in plan.nodes and r.kind in ("applicability", "exclusion", "condition", "indicator"):
            status[r.id] = logic.evaluate(logic.implication(plan.guards.get(r.id), plan.nodes[r.id]), facts)
    return status


def _case_findings(plan: FamilyPlan, facts: dict, verdict, where: str) -> list[Finding]:
    out = []
    if verdict.category != "pos":
        return out
    for r in plan.rules_of_kind("classification"):
        hits = [j for j, (node, _) in enumerate(plan.cases[r.id]) if logic.evaluate(node, facts) is True]
        if len(hits) > 1:
            out.append(Finding("error", "rules.overlap",
                               f"{r.id}: cases {hits} both hold for {_show(facts)}", where))
        if not hits:
            out.append(Finding("warning", "rules.gap",
                               f"{r.id}: no case sets {r.attribute} for {_show(facts)}", where))
    if plan.family.spec.amount:
        base = [r for r in plan.rules_of_kind("amount") if r.role == "base" and
                (r.id not in plan.nodes or logic.evaluate(plan.nodes[r.id], facts) is True) and
                (r.id not in plan.bands or any(logic.evaluate(n, facts) is True for n in plan.bands[r.id]))]
        if not base:
            out.append(Finding("info", "rules.no_amount", "every condition holds but no amount is offered (not "
                               f"awarded, reason no_amount_offered) for {_show(facts)}", where))
    return out


def _show(facts: dict) -> str:
    from engine.output import json_value
    return "{" + ", ".join(f"{k}={json_value(v)}" for k, v in sorted(facts.items())) + "}"


def boundary_points(plan: FamilyPlan, encoder, book: Rulebook) -> Iterable[dict]:
    """Complete fact combinations around every threshold the family tests (deterministic)."""
    values: dict[str, list] = {}
    nodes = list(plan.nodes.values()) + list(plan.guards.values()) + \
        [n for cases in plan.cases.values() for n, _ in cases] + [n for bands in plan.bands.values() for n in bands]
    for node in nodes:
        for lf in logic.leaves(node):
            if isinstance(lf, logic.Leaf):
                values.setdefault(lf.fact, []).extend(_around(lf, book.facts[lf.fact].type))
            elif isinstance(lf, logic.Exists):
                values.setdefault(lf.fact, [])
    for fact, vals in values.items():
        spec = book.facts[fact]
        if spec.type == "enum" and spec.values:     # only values the register reader accepts
            vals[:] = [v for v in vals if v in spec.values]
        if not vals:
            vals.append(spec.values[0] if spec.values else "x")
        values[fact] = list(dict.fromkeys(vals))
    facts = sorted(values)
    total = 1
    for f in facts:
        total *= len(values[f])
    if total <= MAX_POINTS:
        combos = itertools.product(*(values[f] for f in facts))
    else:
        rng = random.Random(20220829)
        corners = [tuple(values[f][0] for f in facts), tuple(values[f][-1] for f in facts)]
        combos = corners + [tuple(rng.choice(values[f]) for f in facts) for _ in range(MAX_POINTS)]
    for combo in combos:
        yield dict(zip(facts, combo))


def _around(lf: logic.Leaf, kind: str) -> list:
    t = lf.threshold
    if kind == "bool":
        return [True, False]
    if kind == "tags":
        return [(), tuple(t[:1]), tuple(t)]
    if isinstance(t, tuple):
        return list(t) + ["其他"]
    if isinstance(t, str):
        return [t, "其他"]
    if isinstance(t, date):
        return [t - timedelta(days=1), t, t + timedelta(days=1)]
    step = {"money": Fraction(1, 100), "ratio": Fraction(1, 1_000_000)}.get(kind, Fraction(1))
    t = Fraction(t)
    return [t - step, t, t + step]


def findings_json(findings: list[Finding]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(f).items() if k != "fields"} for f in findings]


def render_findings(findings: list[Finding], policy_id: str, lang: str) -> str:
    """The findings as text in the run's language, errors first; figures named by their labels."""
    from engine.policy import load_policy, resolve_policy_folder
    from engine.render import environment
    labels, params = {}, {}
    try:
        policy = load_policy(resolve_policy_folder(policy_id))
        if policy.targets.annex is not None:
            labels = {k: (c.label_zh if lang == "zh" else c.label_en) for k, c in policy.targets.annex.columns.items()}
        params = {n: (p.label_zh if lang == "zh" else p.label_en) for n, p in policy.parameters.items()}
    except ScaleupError:
        pass                 # a policy that does not load: its findings say why, with ids
    ordered = [f for severity in ("error", "warning", "info") for f in findings if f.severity == severity]
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    text = environment().get_template(f"policy_check_{lang}.txt.j2").render(
        findings=ordered, counts=counts, policy_id=policy_id, labels=labels, params=params)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())
