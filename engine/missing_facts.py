"""The register columns behind rules that cannot be evaluated for a record (Kleene unknown): what a
decision names as its missing facts (`missing_facts`), and the summary runs' way of finding them without
evaluating every rule. Split out of engine/evaluate.py."""
from __future__ import annotations

from typing import Optional

from engine import logic
from engine.compiler import FamilyPlan
from engine.findings import ExactRecord
from engine.rule_facts import inputs_closure
from engine.rules_model import Rulebook


def missing_verdict_facts(plan: FamilyPlan, values: dict, book: Rulebook,
                          present: Optional[set] = None) -> list[str]:
    """The register columns behind the verdict rules that cannot be evaluated for this record (Kleene
    unknown): what explain_family's findings give as the decision's missing facts, without evaluating
    the other rules. Only a rule that reads a missing fact can be unknown; only those are evaluated.
    `present`: the facts with a value (computed once per record by the caller)."""
    memo = plan.memo.get("verdict_rules")
    if memo is None:
        rules = []
        for r in plan.rules_of_kind("applicability", "exclusion", "condition", "indicator"):
            node = logic.implication(plan.guards.get(r.id), plan.nodes[r.id])
            reads = frozenset(lf.fact for lf in logic.leaves(node)
                              if isinstance(lf, logic.Leaf) and lf.if_missing is None)
            shown = [lf.fact for lf in logic.leaves(plan.nodes[r.id]) if isinstance(lf, (logic.Leaf, logic.Exists))]
            rules.append((node, reads, shown, tuple(inputs_closure(shown, book))))
        memo = plan.memo["verdict_rules"] = (rules, frozenset().union(*(r[1] for r in rules)), {})
    rules, every_read, named = memo
    absent = every_read.difference(present) if present is not None else {
        f for f in every_read if values.get(f) is None}
    if not absent:
        return []
    exact = None
    missing: set[str] = set()
    for i, (node, reads, shown, closure) in enumerate(rules):
        if not absent.isdisjoint(reads):
            exact = exact or ExactRecord(values)
            if exact(node) is None:
                # The columns named depend only on which facts of the rule's closure are missing.
                key = (i, tuple(values.get(f) is None for f in closure))
                if key not in named:
                    named[key] = missing_inputs(shown, values, book)
                missing.update(named[key])
    return sorted(missing)


def missing_inputs(facts: list[str], values: dict, book: Rulebook) -> list[str]:
    """The register columns behind missing facts (a derived fact is missing because a column is)."""
    out: list[str] = []

    def walk(fact: str):
        spec = book.facts.get(fact)
        if values.get(fact) is not None or spec is None:
            return
        if spec.fn:
            for a in spec.args:
                walk(a)
            if not any(values.get(a) is None for a in spec.args) and fact not in out:
                out.append(fact)   # all inputs present but the derivation is undefined (e.g. zero base)
        elif fact not in out:
            out.append(fact)

    for f in facts:
        walk(f)
    return out
