"""Evaluate enterprises against a compiled policy (the conditions' exact findings: engine/findings.py).

The verdict of every family comes from the durable_rules rules that fired. The same records are
evaluated exactly in Python (engine/logic.py) to build the explanation; the two must agree on the
outcome, the deciding rules, the triggered indicators, the classifications and the amount lines, or
the evaluation stops with EngineError — an explanation that disagrees with its verdict is never shown.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Optional

from engine import logic
from engine.compiler import (UNDETERMINED, CompiledPolicy, FamilyPlan, RuleTag, amount_key, compile_policy,
                             split_amount_key, undetermined_amount)
from engine.deciding_rules import EVERY_STAGE, LATER_KINDS, SETTLES, STAGE, SettledStatuses, Unsettled, unevaluated
from engine.decisions import (NO_AMOUNT_OFFERED, AmountLine, Decision, EnterpriseResult, RuleFinding,
                              interpretation_ids)
from engine.derive import fact_values
from engine.errors import EngineError
from engine.facts import Enterprise
from engine.finding_shapes import changes_of, known_shape, remember_shape
from engine.findings import FACT_TYPES, ExactRecord, ValueKeys, condition_findings, needed_changes
from engine.missing_facts import missing_inputs, missing_verdict_facts
from engine.policy import Policy, load_policy, resolve_policy_folder
from engine.provenance import combined_basis
from engine.rule_facts import rule_facts, rule_group
from engine.rulebook import load_rulebook
from engine.rules_model import LEVELS, Rulebook


@dataclass
class Verdict:
    """One family's conclusion, as read from durable_rules or recomputed in Python."""

    category: str                       # na | excl | neg | pos | ind | unk | app | none
    outcome: str
    rule_id: str
    failing: tuple[str, ...] = ()       # gate: conditions not met; indicators: triggered
    attributes: tuple = ()              # ((attribute, case index), ...)
    amounts: tuple[str, ...] = ()


def load_engine_inputs(policy_id: str, rules_dir: Optional[Path] = None) -> tuple[Policy, Rulebook]:
    policy = load_policy(resolve_policy_folder(policy_id))
    book = load_rulebook(rules_dir or policy.rules_folder, policy)
    return policy, book


class Evaluator:
    """`condition_detail=False` leaves out each rule's condition findings and the changes that would
    turn it (what the explanation text and the JSON `conditions` show), for outputs that show neither:
    the summary table, CSV and XLSX. Every rule is still evaluated exactly and cross-checked.

    `exact=False` (summary runs that are cross-checked another way, engine/crosscheck.py): the verdict
    from durable_rules alone, no findings. A family whose facts are all present can have no missing
    rule, so nothing more is needed; where a fact it reads is missing (or durable_rules decided nothing),
    that family is still evaluated exactly — for the columns behind insufficient data and the rule cited
    for it — and must agree as always.

    `listed_rules_only=True` (outputs that show explanations, not every rule's conditions: `check --explain`):
    where durable_rules' verdict is settled by an applicability rule or an exclusion, the exact evaluation
    skips the later exclusions, conditions and indicators, which its explanation does not list
    (engine/deciding_rules.py); the exact verdict, from the rules evaluated, is checked as always (where they
    do not settle it, every rule is evaluated), and the missing facts are found as the summary runs find them.

    `verdict_only=True` (with exact=False): what durable_rules decides and nothing else — no missing
    columns and, where no rule decided (insufficient data), the family's conclusion cited. For the summary
    runs that write the columnar engine's results once every row's verdict has been found equal to
    durable_rules' (engine/columnar/durable_verdicts.py); the facts' values are read only by
    classifications that take a fact's value."""

    def __init__(self, policy: Policy, book: Rulebook, as_of: date, *, condition_detail: bool = True,
                 exact: bool = True, verdict_only: bool = False, listed_rules_only: bool = False):
        self.compiled: CompiledPolicy = compile_policy(policy, book, as_of)
        self.policy, self.book, self.as_of = policy, book, as_of
        self.condition_detail = condition_detail and exact
        self.exact = exact
        self.verdict_only = verdict_only and not exact
        self.listed_rules_only = listed_rules_only and exact
        self._derived = [s for s in book.facts.values() if s.fn]
        self._groups: dict[tuple, list[FiredGroup]] = {}
        self._group_of: dict[tuple, FiredGroup] = {}
        FACT_TYPES.update({fid: spec.type for fid, spec in book.facts.items()})

    def evaluate(self, enterprise: Enterprise) -> EnterpriseResult:
        values = fact_values(enterprise, self._derived, self.as_of)
        record = self.compiled.encoder.record(values)
        groups = self.grouped(self.compiled.engine.fire_all(record))
        present = None if self.exact else {k for k, v in values.items() if v is not None}
        keys = ValueKeys(values) if self.exact else None       # once per record, for every family
        decisions = self.follow_included([self.decide(plan, values, group, enterprise, present, keys)
                                           for plan, group in zip(self.compiled.plans.values(), groups)])
        return EnterpriseResult(enterprise_id=enterprise.enterprise_id, name=enterprise.name, town=enterprise.town,
                                in_park=enterprise.in_park, as_of=self.as_of.isoformat(), policy=self.policy.id,
                                decisions=decisions, facts=values)

    def evaluate_many(self, enterprises: Iterable[Enterprise]) -> list[EnterpriseResult]:
        return [self.evaluate(e) for e in enterprises]

    def grouped(self, fired: list[str]) -> list["FiredGroup"]:
        """The rules that fired, by family in the plans' order; remembered per list of fired rules (what
        durable_rules returned for the record, nothing else): a register repeats a few hundred lists."""
        key = tuple(fired)
        cache = self._groups
        groups = cache.get(key)
        if groups is None:
            by_family: dict[str, list[tuple[str, RuleTag]]] = {}
            for name in fired:
                tag = self.compiled.tags.get(name)
                if tag is not None:
                    by_family.setdefault(tag.family, []).append((name, tag))
            # One FiredGroup per family and its fired rules, shared by every list that has them: the lists
            # are many (a product of the families' few cases, ~3,300 in 100k rows), the groups are few.
            shared = self._group_of
            groups = []
            for fname in self.compiled.plans:
                pairs = by_family.get(fname, [])
                names = tuple(name for name, _ in pairs)
                group = shared.get((fname, names))
                if group is None:
                    group = FiredGroup(pairs)
                    if len(shared) < VERDICT_CACHE_LIMIT:
                        shared[fname, names] = group
                groups.append(group)
            if len(cache) < VERDICT_CACHE_LIMIT:
                cache[key] = groups
        return groups

    # ------------------------------------------------------------------------------------------
    def decide(self, plan: FamilyPlan, values: dict, fired: "FiredGroup", ent: Enterprise,
               present: Optional[set] = None, keys: Optional[ValueKeys] = None) -> Decision:
        spec = plan.family.spec
        conclusion = spec.conclusion
        if not plan.evaluable:
            return Decision(type=plan.name, outcome="not_applicable", rule_id=conclusion.id,
                            clause_id=conclusion.clause, clause_text=self._clause_text(conclusion.clause),
                            findings=[], params={}, reason=plan.reason)
        engine_verdict = read_fired_cached(plan, fired)
        findings: list[RuleFinding] = []
        missing = None
        if self.verdict_only:
            missing = []
        elif self.exact or engine_verdict.category == "none":
            upto = EVERY_STAGE
            if self.listed_rules_only and engine_verdict.category in ("na", "excl"):
                upto = SETTLES[self.book_rule(plan, engine_verdict.rule_id).kind]
                missing = missing_verdict_facts(plan, values, self.book, present)
            findings, python_verdict = explain_family(plan, values, self.book, self.condition_detail, keys, upto)
            if engine_verdict != python_verdict:
                raise EngineError(f"{ent.enterprise_id} {plan.name}: durable_rules concluded {engine_verdict}, "
                                  f"the exact evaluation {python_verdict}")
        else:
            missing = missing_verdict_facts(plan, values, self.book, present)
        # What follows from the verdict (and, where no rule decided, the first rule that could not be
        # evaluated) is worked out once per set of fired rules and such rule.
        known = plan.memo.setdefault("decided", {})
        key = (fired.key, engine_verdict.rule_id or next((f.rule.id for f in findings if f.status == "missing"), None))
        static = known.get(key)
        if static is None:
            static = self._static_parts(plan, engine_verdict, findings)
            if len(known) < VERDICT_CACHE_LIMIT:
                known[key] = static
        rule_id, clause_id, clause_text, triggered, codes, readings = static
        decision = Decision(type=plan.name, outcome=engine_verdict.outcome, rule_id=rule_id, clause_id=clause_id,
                            clause_text=clause_text, findings=findings, params=plan.params, triggered=list(triggered),
                            triggered_codes=list(codes), fired=list(fired.names), readings=list(readings))
        # Classifications (path, origin, beneficiary) describe a positive decision only.
        for attribute, case in (engine_verdict.attributes if engine_verdict.category == "pos" else ()):
            rule = next(r for r in plan.rules_of_kind("classification") if r.attribute == attribute)
            decision.attributes[attribute] = self._case_value(plan.cases[rule.id][case][1], values)
        if spec.beneficiary and engine_verdict.category == "pos":
            decision.beneficiary = decision.attributes.get(spec.beneficiary)
        if engine_verdict.category == "pos" and spec.amount:
            decision.amount_lines = self._amount_lines(plan, engine_verdict.amounts, values)
            base = [l for l in decision.amount_lines if l.role == "base"]
            if not base or max(l.amount for l in base) <= 0:
                return self._not_offered(decision, plan)
            chosen = [max(base, key=lambda l: l.amount)]       # 就高不重复: the first of the highest
            bonus = [l for l in decision.amount_lines if l.role == "bonus" and l.amount > 0]
            if bonus:
                chosen.append(max(bonus, key=lambda l: l.amount))
            decision.amount_lines = [replace(l, chosen=any(l is c for c in chosen)) for l in decision.amount_lines]
            decision.amount_yuan = sum((c.amount for c in chosen), Decimal(0))
            decision.amount_basis = combined_basis(c.param.provenance for c in chosen if c.amount)
        # Facts behind the verdict only: an amount line or a classification cannot make it undecided.
        # (and a schedule's banded fact when it leaves the amount undetermined: such an award never pays).
        decision.missing_facts = missing if missing is not None else sorted(
            {f for fnd in findings if fnd.status == "missing" and (fnd.rule.kind not in ("amount", "classification")
                                                                   or fnd.rule.id == engine_verdict.rule_id)
             for f in fnd.missing_facts})
        return decision

    def _static_parts(self, plan: FamilyPlan, verdict: Verdict, findings: list[RuleFinding]) -> tuple:
        """(rule id, clause id, clause text, triggered rules, their codes, readings) of a decision: what
        the verdict and the findings give, whatever the facts."""
        conclusion = plan.family.spec.conclusion
        # Insufficient data: cite the first rule that could not be evaluated.
        rule_id = verdict.rule_id or next((f.rule.id for f in findings if f.status == "missing"), conclusion.id)
        clause_id = conclusion.clause if rule_id == conclusion.id else self.book_rule(plan, rule_id).clause
        triggered = list(verdict.failing) if plan.family.spec.decision == "indicators" else []
        ids = interpretation_ids(findings) if findings else plan_interpretation_ids(plan)   # the same ids
        return (rule_id, clause_id, self._clause_text(clause_id), triggered,
                list(dict.fromkeys(self.book_rule(plan, rid).code for rid in triggered)),
                [self.policy.interpretations[i] for i in ids if i in self.policy.interpretations])

    def follow_included(self, decisions: list[Decision]) -> list[Decision]:
        """A family that includes another (the town award includes the enterprise award) rewards exactly
        the firms the other rewards: where the other's conditions hold but it offers no amount for the
        firm (an industry-only notice and a software firm), this one is not offered either."""
        by_type = {d.type: d for d in decisions}
        out = []
        for d in decisions:
            plan = self.compiled.plans[d.type]
            if d.amount_yuan is not None and any(
                    by_type[inc].reason == NO_AMOUNT_OFFERED for inc in plan.family.spec.includes if inc in by_type):
                d = self._not_offered(d, plan)
            out.append(d)
        return out

    def _not_offered(self, decision: Decision, plan: FamilyPlan) -> Decision:
        """Every condition holds but no amount is offered (none stated, or 0): not awarded, saying why."""
        spec = plan.family.spec
        return replace(decision, outcome=spec.outcomes["negative"], rule_id=spec.conclusion.id,
                       clause_id=spec.conclusion.clause, clause_text=self._clause_text(spec.conclusion.clause),
                       reason=NO_AMOUNT_OFFERED, attributes={}, beneficiary=None, amount_yuan=None,
                       amount_basis=None)

    def book_rule(self, plan: FamilyPlan, rule_id: str):
        if "by_id" not in plan.memo:
            plan.memo["by_id"] = {r.id: r for r in plan.family.rules}
        return plan.memo["by_id"][rule_id]

    def _clause_text(self, clause_id: Optional[str]) -> str:
        return self.policy.clauses[clause_id].text if clause_id else ""

    def _case_value(self, value: Any, values: dict) -> Any:
        if isinstance(value, dict) and "fact" in value:
            return values.get(value["fact"])
        if isinstance(value, dict) and value.get("context") == "development_zone":
            return self.policy.jurisdiction.development_zone.name_zh
        return value

    def _amount_lines(self, plan: FamilyPlan, keys: tuple[str, ...], values: dict) -> list[AmountLine]:
        """The lines that apply; a schedule's line is its band's amount, with the band and the fact."""
        bands = dict(split_amount_key(k) for k in keys)
        lines = []
        for r in plan.rules_of_kind("amount"):
            if r.id in bands:
                rp = plan.params[r.amount_param]
                if bands[r.id] is None:
                    lines.append(AmountLine(r.id, r.clause, rp, rp.value, False, r.role))
                else:
                    k = int(bands[r.id])
                    lines.append(AmountLine(r.id, r.clause, rp, rp.value[k].amount, False, r.role, band=rp.value[k],
                                            band_index=k, band_fact=r.band_fact, band_value=values.get(r.band_fact)))
        return lines


VERDICT_CACHE_LIMIT = 4096     # distinct sets of fired rules per family remembered (a handful in practice)


def plan_interpretation_ids(plan: FamilyPlan) -> list[str]:
    """interpretation_ids of the family's findings without evaluating them: every rule is considered,
    and only a not-modelled rule's reading is left out, so the ids depend on the rules alone."""
    if "interpretations" not in plan.memo:
        plan.memo["interpretations"] = list(dict.fromkeys(
            r.interpretation for r in plan.family.rules if r.interpretation and r.kind != "not_modelled"))
    return plan.memo["interpretations"]


class FiredGroup:
    """The durable_rules rules of one family that fired for a record: (name, tag) pairs in firing order,
    their names, and the set of names (what the family's verdict is a function of)."""

    __slots__ = ("pairs", "names", "key")

    def __init__(self, pairs: list[tuple[str, RuleTag]]):
        self.pairs = pairs
        self.names = tuple(name for name, _ in pairs)
        self.key = frozenset(self.names)


def read_fired_cached(plan: FamilyPlan, fired: FiredGroup) -> Verdict:
    """read_fired, remembered per set of fired durable_rules rules: the verdict depends on nothing else,
    and a register repeats the same few sets (an error is raised again each time, never remembered)."""
    cache = plan.memo.setdefault("verdicts", {})
    verdict = cache.get(fired.key)
    if verdict is None:
        verdict = read_fired(plan, [t for _, t in fired.pairs])
        if len(cache) < VERDICT_CACHE_LIMIT:
            cache[fired.key] = verdict
    return verdict


def read_fired(plan: FamilyPlan, tags: list[RuleTag]) -> Verdict:
    """The family's verdict from the durable_rules rules that fired."""
    spec = plan.family.spec
    if "order" not in plan.memo:
        plan.memo["order"] = {r.id: i for i, r in enumerate(plan.family.rules)}
    order = plan.memo["order"]
    cats = {t.category for t in tags}
    attrs = tuple(sorted({t.payload for t in tags if t.category == "attr"}))
    if len({a for a, _ in attrs}) != len(attrs):
        raise EngineError(f"{plan.name}: two cases of one classification fired: {attrs}")
    amounts = tuple(sorted({t.rule_id for t in tags if t.category == "amt"}))

    def first(cat):
        return min((t.rule_id for t in tags if t.category == cat), key=lambda rid: order.get(rid, -1))

    if spec.decision == "gate":
        outcome_cats = cats & {"na", "excl", "neg", "pos"}
        if len(outcome_cats) > 1:
            raise EngineError(f"{plan.name}: overlapping outcome rules fired: {sorted(outcome_cats)}")
        if "na" in cats:
            return Verdict("na", "not_applicable", first("na"), attributes=attrs, amounts=amounts)
        if "excl" in cats:
            fired_excl = sorted({(t.rule_id, t.payload) for t in tags if t.category == "excl"},
                                key=lambda x: order[x[0]])
            if len({o for _, o in fired_excl}) > 1:
                raise EngineError(f"{plan.name}: exclusions with different outcomes hold together and none "
                                  f"overrides the other: {fired_excl}")
            return Verdict("excl", fired_excl[0][1], fired_excl[0][0], attributes=attrs, amounts=amounts)
        if "neg" in cats:
            failing = tuple(sorted({t.rule_id for t in tags if t.category == "neg"}, key=order.get))
            return Verdict("neg", spec.outcomes["negative"], failing[0], failing, attrs, amounts)
        if "pos" in cats:
            return _positive(plan, attrs, amounts)
        return Verdict("none", "insufficient_data", "", attributes=attrs, amounts=amounts)
    if "na" in cats:
        if cats & {"ind", "unk", "app"}:
            raise EngineError(f"{plan.name}: not applicable and applicable rules both fired")
        return Verdict("na", "not_applicable", first("na"), attributes=attrs)
    if "ind" in cats:
        triggered = tuple(sorted({t.rule_id for t in tags if t.category == "ind"}, key=order.get))
        level = max((t.payload for t in tags if t.category == "ind"), key=LEVELS.index)
        return Verdict("ind", level, spec.conclusion.id, triggered, attrs)
    if "unk" in cats:
        return Verdict("unk", "insufficient_data", first("unk"), attributes=attrs)
    if "app" in cats:
        return Verdict("app", spec.outcomes["none"], spec.conclusion.id, attributes=attrs)
    return Verdict("none", "insufficient_data", "", attributes=attrs)


def explain_family(plan: FamilyPlan, values: dict, book: Rulebook, detail: bool = True,
                   keys: Optional[ValueKeys] = None, upto: int = EVERY_STAGE) -> tuple[list[RuleFinding], Verdict]:
    """Every rule of the family evaluated exactly, and the verdict those findings imply. Without
    `detail`, the findings carry each rule's status and missing facts but no condition findings.
    `keys`: the record's ValueKeys, when the caller has them (one record, many families).
    `upto`: the exclusions, conditions and indicators of a later stage (engine/deciding_rules.STAGE) are
    not evaluated, unless the verdict depends on them (then every rule is): their findings are
    `unevaluated` (engine/decisions.RuleFinding)."""
    keys = ValueKeys(values) if keys is None else keys
    exact = ExactRecord(values, plan.memo, keys)
    memo = plan.memo.get(("rule findings", detail))
    if memo is None or len(memo) >= RULE_FINDINGS:
        memo = plan.memo["rule findings", detail] = {}

    def found(r, tested, inputs, shared) -> tuple:
        # A rule's finding is a function of the values of the facts it tests, and of which inputs of
        # derived ones are missing: worked out once for each, and shared by the records that repeat them
        # (unless it tests a figure a register hardly repeats, findings.CONTINUOUS).
        if shared:
            key = (r.id, tested(keys) if tested else None,
                   tuple([values.get(f) is None for f in inputs]) if inputs else None)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = rule_finding(plan, r, values, book, exact, detail)
            return hit
        return rule_finding(plan, r, values, book, exact, detail, own=True)

    rules = rule_facts(plan, book)
    group = rule_group(plan, book)
    # The group's rules (their facts' values repeat together: engine/rule_groups.py) as one entry.
    done = group.done(plan.memo, detail, keys, values,
                      lambda: [found(*rules[i]) for i in group.positions], _NO_STATUS)
    findings = list(done.findings)
    partial = upto != EVERY_STAGE
    status = SettledStatuses(done.status) if partial else dict(done.status)
    attrs, amounts = list(done.attrs), list(done.amounts)
    others = []
    for i in group.others:
        r = rules[i][0]
        if partial and r.kind in LATER_KINDS and STAGE[r.kind] > upto:
            findings[i] = unevaluated(plan, r)
            others.append(None)
            continue
        hit = found(*rules[i])
        f, s, attr, amount = hit
        if s is not _NO_STATUS:
            status[r.id] = s
        if attr is not None:
            attrs.append(attr)
        if amount is not None:
            amounts.append(amount)
        findings[i] = f
        others.append((s, attr, amount))
    # The verdict is a function of the statuses, cases and amounts: of the group's entry and the others'.
    verdict = done.verdicts.get(others_key := (upto, *others) if partial else tuple(others))
    if verdict is None:
        try:
            verdict = verdict_from_status(plan, status, tuple(sorted(attrs)), tuple(sorted(amounts)))
        except Unsettled:       # the rules evaluated do not settle the verdict: every rule is evaluated
            return explain_family(plan, values, book, detail, keys)
        if len(done.verdicts) < VERDICT_CACHE_LIMIT:
            done.verdicts[others_key] = verdict
    return findings, verdict


RULE_FINDINGS = 20000      # rule findings kept per family plan (then started afresh)
_NO_STATUS = object()      # a rule that has no say in the family's verdict (classification, amount)


def rule_finding(plan: FamilyPlan, r, values: dict, book: Rulebook, exact: ExactRecord, detail: bool,
                 own: bool = False) -> tuple:
    """(finding, status for the verdict or _NO_STATUS, classification case set, amount key paid) of one
    rule for one record: what explain_family assembles. `own`: the finding is its record's alone (the
    rule tests a CONTINUOUS fact): a rule with conditions then takes its status and the changes that
    would turn it from the findings of the same shape before it (engine/finding_shapes.py)."""
    f = RuleFinding(rule=r, status="", params=plan.rule_params.get(r.id, []),
                    included_from=plan.family.included_from.get(r.id), shared=not own)
    s, attr, amount = _NO_STATUS, None, None
    if r.kind == "not_modelled":
        f.status = "not_modelled"
    elif r.kind == "classification":
        hits = [j for j, (node, _) in enumerate(plan.cases[r.id]) if exact(node) is True]
        for j, (node, _) in enumerate(plan.cases[r.id] if detail else ()):
            f.conditions += condition_findings(r.id, node, values, exact)
        if hits:
            attr = (r.attribute, hits[0])
            f.status, f.value = "set", hits[0]
        else:
            f.status = "missing"
    elif r.kind == "amount":
        node = plan.nodes.get(r.id)
        ok = True if node is None else exact(node)
        if node is not None and detail:
            f.conditions = condition_findings(r.id, node, values, exact)
        # An amount line that does not apply is not a failed condition: it simply is not paid.
        f.status = {True: "met", False: "not_applicable", None: "missing"}[ok]
        f.value = plan.params[r.amount_param].value
        key = r.id
        if ok and r.id in plan.bands:
            key, f.status = _band_finding(plan, r.id, exact, f, detail)
        if ok and key and not plan.family.included_from.get(r.id):
            amount = key
    else:
        node = plan.nodes[r.id]
        guard = plan.guards.get(r.id)
        if detail:
            f.conditions = condition_findings(r.id, node, values, exact)
        guarded = None if guard is None else exact(guard)
        shape = None
        if own and detail:      # the record's own finding: its status and changes, once per shape
            shape, key = known_shape(plan.memo, r.id, f.conditions, guarded, exact.keys)
        if shape is not None:
            f.status, s, f.changes, f.shape = shape.status, shape.verdict, changes_of(shape, f.conditions), shape
        elif guarded is False:
            s = True
            f.status = "not_applicable"
        else:
            if ("effective", r.id) not in plan.memo:
                plan.memo["effective", r.id] = logic.implication(guard, node)
            s = exact(plan.memo["effective", r.id])
            if r.kind == "indicator":
                f.status = {True: "triggered", False: "not_triggered", None: "missing"}[s]
            elif r.kind == "exclusion":
                f.status = {True: "excluded", False: "not_excluded", None: "missing"}[s]
            else:
                f.status = {True: "met", False: "not_met", None: "missing"}[s]
            if s is False and r.kind == "condition" and detail:
                f.changes = needed_changes(node, values, r.id, exact=exact)
        if own and detail and shape is None:
            f.shape = remember_shape(plan.memo, r.id, key, f, s)
    if f.status == "missing":
        if ("facts", r.id) not in plan.memo:
            plan.memo["facts", r.id] = [
                lf.fact for c in ([plan.nodes.get(r.id)] + [n for n, _ in plan.cases.get(r.id, [])]
                                  + plan.bands.get(r.id, [])[:1])
                if c is not None for lf in logic.leaves(c) if isinstance(lf, (logic.Leaf, logic.Exists))]
        f.missing_facts = missing_inputs(plan.memo["facts", r.id], values, book)
    return f, s, attr, amount


def _positive(plan: FamilyPlan, attrs: tuple, amounts: tuple) -> Verdict:
    """Every condition holds: awarded — unless a schedule that applies lacks its banded fact, when the
    amount (so the award) is undetermined and that rule is cited."""
    undetermined = undetermined_amount(amounts)
    if undetermined:
        return Verdict("none", "insufficient_data", undetermined, attributes=attrs, amounts=amounts)
    return Verdict("pos", plan.family.spec.outcomes["positive"], plan.family.spec.conclusion.id, attributes=attrs,
                   amounts=amounts)


def _band_finding(plan: FamilyPlan, rule_id: str, exact: "ExactRecord", f: RuleFinding, detail: bool):
    """(amount key, status) of a schedule whose own condition holds: the band the fact falls in (met), no
    band (not_applicable: nothing paid), or the fact missing (the amount undetermined)."""
    results = [exact(node) for node in plan.bands[rule_id]]
    if True in results:
        k = results.index(True)
        if detail:
            f.conditions += condition_findings(rule_id, plan.bands[rule_id][k], exact.values, exact)
        return amount_key(rule_id, k), "met"
    if None in results:
        if detail:
            f.conditions += condition_findings(rule_id, plan.bands[rule_id][0], exact.values, exact)
        return amount_key(rule_id, UNDETERMINED), "missing"
    return None, "not_applicable"


def verdict_from_status(plan: FamilyPlan, status: dict, attrs: tuple, amounts: tuple) -> Verdict:
    spec = plan.family.spec
    app = plan.rules_of_kind("applicability")
    for r in app:
        if status[r.id] is False:
            return Verdict("na", "not_applicable", r.id, attributes=attrs,
                           amounts=amounts if spec.decision == "gate" else ())
    unknown_app = next((r.id for r in app if status[r.id] is None), None)
    if spec.decision == "gate":
        if unknown_app:
            return Verdict("none", "insufficient_data", "", attributes=attrs, amounts=amounts)
        exclusions = plan.rules_of_kind("exclusion")
        winners = [r for r in exclusions if status[r.id] is True and
                   all(status[o.id] is False for o in exclusions if r.id in o.overrides)]
        if len({r.outcome for r in winners}) > 1:
            raise EngineError(f"{plan.name}: exclusions with different outcomes hold together and none "
                              f"overrides the other: {[r.id for r in winners]}")
        if winners:
            return Verdict("excl", winners[0].outcome, winners[0].id, attributes=attrs, amounts=amounts)
        if any(status[r.id] is not False for r in exclusions):
            return Verdict("none", "insufficient_data", "", attributes=attrs, amounts=amounts)
        conds = plan.rules_of_kind("condition")
        failing = tuple(r.id for r in conds if status[r.id] is False)
        if failing:
            return Verdict("neg", spec.outcomes["negative"], failing[0], failing, attrs, amounts)
        if any(status[r.id] is None for r in conds):
            return Verdict("none", "insufficient_data", "", attributes=attrs, amounts=amounts)
        return _positive(plan, attrs, amounts)
    if unknown_app:
        return Verdict("none", "insufficient_data", "", attributes=attrs)
    inds = plan.rules_of_kind("indicator")
    triggered = tuple(r.id for r in inds if status[r.id] is True)
    if triggered:
        level = max((r.level for r in inds if r.id in triggered), key=LEVELS.index)
        return Verdict("ind", level, spec.conclusion.id, triggered, attrs)
    unknown = next((r.id for r in inds if r.required and status[r.id] is None), None)
    if unknown:
        return Verdict("unk", "insufficient_data", unknown, attributes=attrs)
    return Verdict("app", spec.outcomes["none"], spec.conclusion.id, attributes=attrs)
