"""Which of a decision's rules its explanation lists: those that bear on its outcome.

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

from dataclasses import dataclass
from typing import Any

# The stage of each kind of rule. A classification is not staged: it is listed where the decision
# carries what it classified (engine/render.findings_text).
STAGE = {"applicability": 0, "exclusion": 1, "condition": 2, "indicator": 2, "not_modelled": 2, "amount": 3,
         "classification": 0}
EVERY_STAGE = 3


@dataclass(frozen=True)
class Listing:
    """What an explanation lists of a decision."""

    findings: list          # the findings of the rules listed, in the decision's order
    left_out: int           # how many of its rules are not listed
    readings: list          # the readings the listed rules rely on (all the decision's when none is left out)
    missing_facts: list     # the data missing that the decision waits for (none when it is settled without it)


def decided_at(decision: Any) -> int:
    """The stage that settled the decision: that of the rule it cites, when that rule is an applicability
    rule, an exclusion or a condition; otherwise (a conclusion, an indicator family's level, no rule) the
    last, every rule having a say."""
    kind = next((f.rule.kind for f in decision.findings if f.rule.id == decision.rule_id), None)
    return STAGE[kind] if kind in ("applicability", "exclusion", "condition") else EVERY_STAGE


def listing(decision: Any, every_rule: bool = False) -> Listing:
    """The rules an explanation of `decision` lists (every one with `every_rule`)."""
    if every_rule:
        return Listing(decision.findings, 0, decision.readings, decision.missing_facts)
    stage = decided_at(decision)
    shown = [f for f in decision.findings if STAGE[f.rule.kind] <= stage]
    if len(shown) == len(decision.findings):
        return Listing(decision.findings, 0, decision.readings, decision.missing_facts)
    relied = {f.rule.interpretation for f in shown}
    # Settled before its conditions, a decision waits for no data (its missing facts are those of later
    # stages); refused at a condition, it names the data its listed conditions lack, as now.
    missing = decision.missing_facts if stage >= STAGE["condition"] else []
    return Listing(shown, len(decision.findings) - len(shown), [i for i in decision.readings if i.id in relied],
                   missing)

