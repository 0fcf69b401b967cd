"""A per-record rule's finding, worked out once per shape and filled per record.

A rule that tests a figure a register hardly repeats (a revenue, a growth rate: engine/findings.CONTINUOUS)
gets a finding of its own on nearly every row (engine/evaluate.explain_family), so a finding remembered
whole is never found again. Its parts other than the conditions' values and margins repeat: the rule's
status, its say in the verdict and which of its conditions each change that would turn it names
(engine/findings.needed_changes) are a function of the finding's *shape* — for each condition, its
fact's value where records share its finding (a flag, a code), else whether it is met, has a margin,
which way it would have to move and whether its value is missing — and of the rule's guard. Those parts are worked out
once per shape (by the plain evaluation, engine/evaluate.rule_finding) and the record's own condition
findings filled in. The shape travels with the finding (RuleFinding.shape): its text is also the same for
every finding of the shape but for the values and margins (engine/rule_shapes.shape_text).
"""
from __future__ import annotations

from typing import Optional

from engine.findings import per_record
from engine.rule_shapes import change_positions

FINDING_SHAPES = 5000       # shapes kept per rule (then started afresh)


class FindingShape:
    """What a rule's finding of one shape is, whatever the record: its status, its say in the verdict
    (True/False/None), and each change that would turn it as positions in its conditions."""

    __slots__ = ("status", "verdict", "changes")

    def __init__(self, status: str, verdict: Optional[bool], changes: tuple):
        self.status, self.verdict, self.changes = status, verdict, changes


def shape_key(conds: list, guard: Optional[bool], keys) -> tuple:
    """The key of a rule's finding with these condition findings and guard result: a shared condition by
    its fact's value (`keys`: the record's engine/findings.ValueKeys; its finding is a function of that
    value, and keyed by value the shape outlives the shared findings being started afresh), a record's
    own by what its value and margin decide: met, margin or not, direction, missing."""
    return guard, tuple([(c.met, c.margin is None, c.direction, c.value is None) if per_record(c.fact)
                         else (keys[c.fact] if c.fact is not None else None) for c in conds])


def known_shape(memo: dict, rule_id: str, conds: list, guard: Optional[bool], keys) -> tuple:
    """(the shape found for these conditions or None, its key) in the plan's memo."""
    shapes = memo.get(("finding shapes", rule_id))
    if shapes is None:
        shapes = memo["finding shapes", rule_id] = {}
    key = shape_key(conds, guard, keys)
    return shapes.get(key), key


def remember_shape(memo: dict, rule_id: str, key: tuple, f, verdict: Optional[bool]) -> Optional[FindingShape]:
    """The shape of a finding built plainly, kept for the records that repeat it; None when a change it
    lists is not one of its conditions (then it is never filled from a shape)."""
    changes = change_positions(f)
    if changes is None:
        return None
    shapes = memo["finding shapes", rule_id]
    if len(shapes) >= FINDING_SHAPES:
        shapes.clear()
    shape = shapes[key] = FindingShape(f.status, verdict, changes)
    return shape


def changes_of(shape: FindingShape, conds: list) -> list:
    """The shape's changes with this record's condition findings."""
    return [[conds[i] for i in alt] for alt in shape.changes] if shape.changes else []
