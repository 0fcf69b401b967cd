"""Which facts a rule's finding depends on, per family plan (engine/evaluate.explain_family keys its
remembered findings by them): the facts each rule tests, the inputs of derived ones, whether its findings
are shared between records, and which shared rules are keyed together (engine/rule_groups.py)."""
from __future__ import annotations

import operator

from engine import logic
from engine.compiler import FamilyPlan
from engine.findings import CONTINUOUS, MANY_VALUED
from engine.rule_groups import RuleGroup
from engine.rules_model import Rulebook


def inputs_closure(facts: list[str], book: Rulebook) -> list[str]:
    """The facts and, for derived ones, their inputs, transitively: all missing_inputs looks at."""
    out: list[str] = []
    todo = list(facts)
    while todo:
        f = todo.pop()
        if f not in out:
            out.append(f)
            spec = book.facts.get(f)
            todo += list(spec.args) if spec is not None and spec.fn else []
    return out


def rule_group(plan: FamilyPlan, book: Rulebook) -> RuleGroup:
    """The family's shared rules whose facts' values repeat as a combination (none of MANY_VALUED type),
    keyed together once per record (engine/rule_groups.py)."""
    hit = plan.memo.get("rule group")
    if hit is None:
        rules = rule_facts(plan, book)
        grouped = [i for i, (r, _, _, shared) in enumerate(rules)
                   if shared and not any(book.facts[f].type in MANY_VALUED for f in direct_facts(plan, r)
                                         if f in book.facts)]
        facts = list(dict.fromkeys(f for i in grouped for f in direct_facts(plan, rules[i][0])))
        inputs = tuple(dict.fromkeys(f for i in grouped for f in rules[i][2]))
        hit = plan.memo["rule group"] = RuleGroup(len(rules), grouped, facts, inputs)
    return hit


def direct_facts(plan: FamilyPlan, r) -> list[str]:
    """The facts a rule tests: in its condition, its guard, its cases and its bands."""
    nodes = [plan.nodes.get(r.id), plan.guards.get(r.id), *[n for n, _ in plan.cases.get(r.id, [])],
             *plan.bands.get(r.id, [])]
    return list(dict.fromkeys(lf.fact for n in nodes if n is not None for lf in logic.leaves(n)
                              if isinstance(lf, (logic.Leaf, logic.Exists))))


def rule_facts(plan: FamilyPlan, book: Rulebook) -> list[tuple]:
    """Each rule of the family with the facts its finding depends on: those it tests (by value: a getter
    of their keys, None when it tests none), the inputs of derived ones among them (missing or not:
    what missing_inputs names), and whether its findings are shared between records (it tests no
    CONTINUOUS fact)."""
    hit = plan.memo.get("rule facts")
    if hit is None:
        hit = plan.memo["rule facts"] = []
        for r in plan.family.rules:
            direct = direct_facts(plan, r)
            hit.append((r, operator.itemgetter(*direct) if direct else None,
                        tuple(f for f in inputs_closure(direct, book) if f not in direct),
                        not any(book.facts[f].type in CONTINUOUS for f in direct if f in book.facts)))
    return hit
