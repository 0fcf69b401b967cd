"""Rule records + a policy as of a date -> durable_rules rulesets.

Each family compiles to mutually exclusive outcome rules (so exactly one outcome category can fire
for a record, and none when a fact it needs is missing — 'insufficient data'):

  gate families        not_applicable   ⋁ F(applicability_i)
                       exclusion_j      T(A) ∧ T(exclusion_j) ∧ F(each exclusion that overrides j)
                       negative         T(A) ∧ F(all exclusions) ∧ F(condition_k)      (one rule per k)
                       positive         T(A) ∧ F(all exclusions) ∧ T(all conditions)
  indicator families   not_applicable   ⋁ F(applicability_i)
                       indicator_k      T(A) ∧ T(indicator_k)      (every triggered one fires)
                       unknown_k        T(A) ∧ U(required indicator_k)
                       applicable       T(A)
  classifications      one rule per case; amount lines one rule per line.

Each T/F form is expanded to DNF (engine/logic.py) and every term becomes one durable_rules rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional

from engine import logic
from engine.durable_host import MAX_RULES_PER_RULESET, RuleEngine, rules_of
from engine.encoding import Encoder
from engine.errors import ParameterNotInForce, PolicyDataError
from engine.policy import Policy, ResolvedParam
from engine.rules_model import Compare, Family, RuleRecord, Rulebook

# A family compiles into one ruleset, which durable_rules limits (less the catch-all rule).
FAMILY_RULE_BUDGET = MAX_RULES_PER_RULESET - 1


@dataclass(frozen=True)
class RuleTag:
    """What a compiled durable rule means when it fires."""

    family: str
    category: str          # na | excl | neg | pos | ind | unk | app | attr | amt
    rule_id: str
    payload: Any = None


@dataclass
class FamilyPlan:
    family: Family
    evaluable: bool
    reason: Optional[str] = None                     # why not evaluable on this date
    nodes: dict[str, logic.Node] = field(default_factory=dict)        # rule id -> resolved `when`
    guards: dict[str, logic.Node] = field(default_factory=dict)
    cases: dict[str, list[tuple[logic.Node, Any]]] = field(default_factory=dict)
    bands: dict[str, list[logic.Node]] = field(default_factory=dict)  # schedule rule id -> band k's condition
    params: dict[str, ResolvedParam] = field(default_factory=dict)    # every parameter the family uses
    rule_params: dict[str, list[ResolvedParam]] = field(default_factory=dict)
    engine_rules: int = 0
    # Per-plan lookups the evaluator would otherwise rebuild for every record (rules of a kind, rule
    # order, each node's leaves, guarded conditions); filled on first use, never changes the plan.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.family.name

    def rules_of_kind(self, *kinds: str) -> list[RuleRecord]:
        key = ("kind", kinds)
        if key not in self.memo:
            self.memo[key] = [r for r in self.family.rules if r.kind in kinds]
        return self.memo[key]


@dataclass
class CompiledPolicy:
    policy: Policy
    book: Rulebook
    as_of: date
    plans: dict[str, FamilyPlan]
    tags: dict[str, RuleTag]
    engine: RuleEngine
    encoder: Encoder
    rulesets: dict[str, dict]


@dataclass
class PolicyPlan:
    """Everything compiled for one as-of date except the durable_rules engine itself: the resolved
    conditions per family (any backend evaluates these), the engine rule patterns and their meaning."""

    policy: Policy
    book: Rulebook
    as_of: date
    plans: dict[str, FamilyPlan]
    tags: dict[str, RuleTag]
    encoder: Encoder
    rulesets: dict[str, dict]


def compile_policy(policy: Policy, book: Rulebook, as_of: date) -> CompiledPolicy:
    plan = plan_policy(policy, book, as_of)
    return CompiledPolicy(policy=policy, book=book, as_of=as_of, plans=plan.plans, tags=plan.tags,
                          engine=RuleEngine(plan.rulesets), encoder=plan.encoder, rulesets=plan.rulesets)


def plan_policy(policy: Policy, book: Rulebook, as_of: date) -> PolicyPlan:
    encoder = Encoder({fid: spec.type for fid, spec in book.facts.items()})
    plans: dict[str, FamilyPlan] = {}
    tags: dict[str, RuleTag] = {}
    family_rules: dict[str, dict[str, dict]] = {}
    problems: list[str] = []
    for name, family in book.families.items():
        try:
            plan, rules = _compile_family(policy, book, family, as_of, encoder)
        except PolicyDataError as exc:
            problems += exc.problems
            continue
        plans[name] = plan
        family_rules[name] = {}
        for rule_name, (tag, pattern) in rules.items():
            tags[rule_name] = tag
            family_rules[name][rule_name] = pattern
    if problems:
        raise PolicyDataError(problems)
    return PolicyPlan(policy=policy, book=book, as_of=as_of, plans=plans, tags=tags, encoder=encoder,
                      rulesets=_pack(family_rules))


def _pack(family_rules: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """Families in order into as few rulesets as the engine's per-ruleset limit allows."""
    rulesets: list[dict] = [{}]
    for rules in family_rules.values():
        if not rules:
            continue
        if len(rulesets[-1]) + len(rules) > MAX_RULES_PER_RULESET - 1:   # room for the catch-all
            rulesets.append({})
        rulesets[-1].update(rules)
    return {f"rs{i}": rs for i, rs in enumerate(rulesets) if rs}


NOT_PROVIDED = "not_provided"      # the policy binds none of the family's provisions (本政策未规定)


def _compile_family(policy: Policy, book: Rulebook, family: Family, as_of: date, encoder: Encoder):
    spec = family.spec
    if not family.provided:
        return FamilyPlan(family, False, reason=NOT_PROVIDED), {}
    if spec.period == "policy" and not policy.meta.in_force.covers(as_of):
        f = policy.meta.in_force
        return FamilyPlan(family, False, reason=f"policy_not_in_force:{f.from_.isoformat()}:{f.to.isoformat()}"), {}
    ctx = logic.Context(policy, book, as_of)
    plan = FamilyPlan(family, True)
    try:
        for r in family.rules:
            before = set(ctx.params_used)
            if r.id in family.conditions:
                plan.nodes[r.id] = logic.resolve(family.conditions[r.id], ctx)
            if r.id in family.guards:
                plan.guards[r.id] = logic.resolve(family.guards[r.id], ctx)
            if r.id in family.cases:
                plan.cases[r.id] = [(logic.resolve(c, ctx), v) for c, v in family.cases[r.id]]
            if r.kind == "amount":
                rp = ctx.param(r.amount_param)
                if r.band_fact:
                    plan.bands[r.id] = band_nodes(r, rp)
            used = [ctx.params_used[n] for n in ctx.params_used if n not in before or _uses(r, family, n)]
            plan.rule_params[r.id] = used
    except ParameterNotInForce as exc:
        if spec.period == "parameters":
            return FamilyPlan(family, False, reason=f"parameter_not_in_force:{exc}"), {}
        raise PolicyDataError([f"rules/{family.name}: {exc} (inside the policy's period)"]) from None
    plan.params = dict(ctx.params_used)

    T = lambda node: logic.true_terms(node, encoder)    # noqa: E731
    F = lambda node: logic.false_terms(node, encoder)   # noqa: E731
    compiled: list[tuple[RuleTag, tuple]] = []
    applicability = plan.rules_of_kind("applicability")
    t_app = logic.product(*[T(plan.nodes[r.id]) for r in applicability])
    for r in applicability:
        compiled += [(RuleTag(family.name, "na", r.id), t) for t in F(plan.nodes[r.id])]
    if spec.decision == "gate":
        exclusions = plan.rules_of_kind("exclusion")
        all_excl_false = [()]
        for r in exclusions:
            node = plan.nodes[r.id]
            # Precedence is explicit: an exclusion fires unless one that overrides it holds.
            overriders = [plan.nodes[o.id] for o in exclusions if r.id in o.overrides]
            compiled += [(RuleTag(family.name, "excl", r.id, r.outcome), t)
                         for t in logic.product(t_app, T(node), *[F(o) for o in overriders])]
            all_excl_false = logic.product(all_excl_false, F(node))
        base = logic.product(t_app, all_excl_false)
        conditions = plan.rules_of_kind("condition")
        effective = {r.id: logic.implication(plan.guards.get(r.id), plan.nodes[r.id]) for r in conditions}
        for r in conditions:
            compiled += [(RuleTag(family.name, "neg", r.id), t) for t in logic.product(base, F(effective[r.id]))]
        compiled += [(RuleTag(family.name, "pos", spec.conclusion.id), t)
                     for t in logic.product(base, *[T(effective[r.id]) for r in conditions])]
    else:
        for r in plan.rules_of_kind("indicator"):
            node = plan.nodes[r.id]
            compiled += [(RuleTag(family.name, "ind", r.id, r.level), t) for t in logic.product(t_app, T(node))]
            if r.required:
                compiled += [(RuleTag(family.name, "unk", r.id), t)
                             for t in logic.product(t_app, logic.unknown_terms(node))]
        compiled += [(RuleTag(family.name, "app", spec.conclusion.id), t) for t in t_app]
    for r in plan.rules_of_kind("classification"):
        for j, (node, value) in enumerate(plan.cases[r.id]):
            compiled += [(RuleTag(family.name, "attr", r.id, (r.attribute, j)), t) for t in T(node)]
    compiled += _amount_rules(plan, T)

    logic.check_term_budget(family.name, len(compiled), FAMILY_RULE_BUDGET)
    plan.engine_rules = len(compiled)
    rules = {}
    for i, (tag, term) in enumerate(compiled):
        name = f"{family.name}|{tag.category}|{tag.rule_id}|{i}"
        rules[name] = (tag, rules_of([_pattern(term)])[0])
    return plan, rules


def _amount_rules(plan: FamilyPlan, T) -> list[tuple[RuleTag, tuple]]:
    """One rule per term of each amount line's condition. A schedule: one rule per band, so
    durable_rules decides the band, and one for "applies, but the banded fact is missing", which
    leaves the amount (so the award) undetermined."""
    family = plan.family
    compiled: list[tuple[RuleTag, tuple]] = []
    for r in plan.rules_of_kind("amount"):
        if family.included_from.get(r.id):
            continue
        terms = T(plan.nodes[r.id]) if r.id in plan.nodes else logic.TRUE
        if r.id not in plan.bands:
            compiled += [(RuleTag(family.name, "amt", r.id), t) for t in terms]
            continue
        for k, node in enumerate(plan.bands[r.id]):
            compiled += [(RuleTag(family.name, "amt", amount_key(r.id, k)), t) for t in logic.product(terms, T(node))]
        compiled += [(RuleTag(family.name, "amt", amount_key(r.id, UNDETERMINED)), t)
                     for t in logic.product(terms, logic.unknown_terms(plan.bands[r.id][0]))]
    return compiled


def _uses(rule: RuleRecord, family: Family, param_name: str) -> bool:
    """Whether the rule's own conditions name the parameter (also when another rule resolved it first)."""
    text = repr(family.conditions.get(rule.id)) + repr(family.guards.get(rule.id)) + repr(family.cases.get(rule.id))
    return f"'{param_name}'" in text or rule.amount_param == param_name


UNDETERMINED = "?"      # a schedule applies but its banded fact is missing: the amount is not known


def amount_key(rule_id: str, band=None) -> str:
    """How a verdict lists an amount line that applies: the rule id, and for a schedule the band
    (`rule@1`) or UNDETERMINED (`rule@?`)."""
    return rule_id if band is None else f"{rule_id}@{band}"


def split_amount_key(key: str) -> tuple[str, Optional[str]]:
    rule_id, _, band = key.partition("@")
    return rule_id, band or None


def undetermined_amount(amounts: tuple[str, ...]) -> Optional[str]:
    """The schedule rule whose band cannot be decided for lack of its fact, if any."""
    return next((split_amount_key(a)[0] for a in amounts if split_amount_key(a)[1] == UNDETERMINED), None)


def band_nodes(rule: RuleRecord, rp: ResolvedParam) -> list[logic.Node]:
    """Each band of the schedule as a condition on the banded fact: lower (>= or >) and upper (<= or <)
    edge. A leaf shows its edge as the threshold (not the whole table): the amount line of the
    explanation names the schedule, the band and its source."""
    fact = rule.band_fact
    nodes = []
    for band in rp.value:
        leaves = []
        for edge, op in ((band.lower, ">=" if band.lower_inclusive else ">"),
                         (band.upper, "<=" if band.upper_inclusive else "<")):
            if edge is not None:
                source = Compare(fact=fact, op=op, param=rp.name)
                leaves.append(logic.Leaf(fact, op, edge, None, source))
        nodes.append(leaves[0] if len(leaves) == 1 else logic.And(tuple(leaves)))
    return nodes


def _pattern(term: tuple) -> dict:
    if not term:
        return {"$and": [{"record_kind": "enterprise"}]}
    return {"$and": [_atom(a) for a in term]} if len(term) > 1 else _atom(term[0])


def _atom(atom: logic.Atom) -> dict:
    f, op, v = atom.fact, atom.op, atom.value
    if op == "==":
        return {f: v}
    if op == "!=":
        return {"$neq": {f: v}}
    if op in ("<", "<=", ">", ">="):
        return {{"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}[op]: {f: v}}
    if op == "in":      # durable_rules has no $in; equalities on one field exclude each other
        return {f: v[0]} if len(v) == 1 else {"$or": [{f: x} for x in v]}
    if op == "not_in":
        return {"$neq": {f: v[0]}} if len(v) == 1 else {"$and": [{"$neq": {f: x}} for x in v]}
    if op == "has_any":   # v holds the boolean field names of the tags (engine/encoding.py)
        return {v[0]: True} if len(v) == 1 else {"$or": [{x: True} for x in v]}
    if op == "has_none":
        return {v[0]: False} if len(v) == 1 else {"$and": [{x: False} for x in v]}
    if op == "ex":
        return {"$ex": {f: 1}}
    if op == "nex":
        return {"$nex": {f: 1}}
    if op == "any":
        return {"$or": [_atom(a) for a in atom.alternatives]}
    raise ValueError(op)
