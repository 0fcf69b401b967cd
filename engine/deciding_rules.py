"""Which of a decision's rules its explanation lists: those that bear on its outcome; and what the exact
evaluation of a decision settled early may leave unevaluated for that reason.

A family decides in stages (engine/compiler.py): its applicability rules first, then its exclusions,
then its conditions (or indicators), then its amounts. A decision settled at one stage does not depend
on any rule of a later stage, whatever that rule's status:
  * not applicable because an applicability rule fails: its applicability rules;
  * settled by an exclusion (already in scope, a re-entry): those and the exclusions;
  * refused because a condition fails: everything but the amount rules (no amount is paid);
  * anything else (a "yes", a warning level, undecided data, no amount offered): every rule.
The later stages' rules would add lines an officer must read past (warning indicators "triggered" for
a firm the warning does not apply to, award amounts of a refused award) and whose readings and missing
data are not the decision's. The explanation says how many it leaves out; `explain --all-rules` lists
them, and `check --detail full` carries every condition of every rule in the data.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from engine.decisions import RuleFinding

# The stage of each kind of rule. A classification is not staged: it is listed where the decision
# carries what it classified (engine/render.findings_text).
STAGE = {"applicability": 0, "exclusion": 1, "condition": 2, "indicator": 2, "not_modelled": 2, "amount": 3,
         "classification": 0}
EVERY_STAGE = 3


class Listing(NamedTuple):
    """What an explanation lists of a decision. (A tuple: one is made for every decision explained.)"""

    findings: list          # the findings of the rules listed, in the decision's order
    left_out: int           # how many of its rules are not listed
    readings: list          # the readings the listed rules rely on (all the decision's when none is left out)
    missing_facts: list     # the data missing that the decision waits for (none when it is settled without it)


# The stage settled by the rule a decision cites, for the kinds that settle one early; a decision citing
# anything else (a conclusion, an indicator family's level, no rule: a yes, a warning level, undecided
# data, no amount offered) lists every rule.
SETTLES = {"applicability": STAGE["applicability"], "exclusion": STAGE["exclusion"], "condition": STAGE["condition"]}


def decided_at(decision: Any) -> int:
    """The stage that settled the decision."""
    rule_id = decision.rule_id
    for f in decision.findings:
        if f.rule.id == rule_id:
            return SETTLES.get(f.rule.kind, EVERY_STAGE)
    return EVERY_STAGE


def listing(decision: Any, every_rule: bool = False) -> Listing:
    """The rules an explanation of `decision` lists (every one with `every_rule`)."""
    findings = decision.findings
    stage = EVERY_STAGE if every_rule else decided_at(decision)
    if stage != EVERY_STAGE:
        shown = [f for f in findings if STAGE[f.rule.kind] <= stage]
        if len(shown) < len(findings):
            relied = {f.rule.interpretation for f in shown}
            # Settled before its conditions, a decision waits for no data (its missing facts are those of
            # later stages); refused at a condition, it names the data its listed conditions lack, as now.
            return Listing(shown, len(findings) - len(shown), [i for i in decision.readings if i.id in relied],
                           decision.missing_facts if stage >= STAGE["condition"] else [])
    return Listing(findings, 0, decision.readings, decision.missing_facts)


# What the exact evaluation of a decision settled early may skip (engine/evaluate.explain_family): the rules
# of a later stage, but not the amounts and classifications, which the verdict carries whatever settled it.
LATER_KINDS = frozenset({"exclusion", "condition", "indicator", "not_modelled"})


class Unsettled(Exception):
    """The verdict asked for the status of a rule that was not evaluated."""


class SettledStatuses(dict):
    """The statuses of the rules evaluated, by rule id; asking for another rule's means that those rules do
    not settle the verdict (Unsettled): the caller then evaluates every rule."""

    def __missing__(self, rule_id: str):
        raise Unsettled(rule_id)


def unevaluated(plan: Any, rule: Any) -> RuleFinding:
    """The finding of a rule that was not evaluated: status `unevaluated` (`not_modelled` for a rule that is
    never evaluated), no conditions; one per rule and family plan, shared."""
    key = ("unevaluated", rule.id)
    hit = plan.memo.get(key)
    if hit is None:
        hit = plan.memo[key] = RuleFinding(rule=rule, status="not_modelled" if rule.kind == "not_modelled" else
                                           "unevaluated", params=plan.rule_params.get(rule.id, []),
                                           included_from=plan.family.included_from.get(rule.id))
    return hit
