"""A per-record rule's finding, worked out once per shape and filled per record.

A rule that tests a figure a register hardly repeats (a revenue, a growth rate: engine/findings.CONTINUOUS)
gets a finding of its own on nearly every row (engine/evaluate.explain_family), so a finding remembered
whole is never found again. Its parts other than the conditions' values and margins repeat: the rule's
status, its say in the verdict and which of its conditions each change that would turn it names
(engine/findings.needed_changes) are a function of the finding's *shape* — for each condition, the very
finding where records share it (a flag, a code), else whether it is met, has a margin, which way it would
have to move and whether its value is missing — and of the rule's guard. Those parts are worked out
once per shape (by the plain evaluation, engine/evaluate.rule_finding) and the record's own condition
findings filled in. The shape travels with the finding (RuleFinding.shape): its text is also the same for
every finding of the shape but for the values and margins (engine/rule_shapes.shape_text).
"""
from __future__ import annotations

from typing import Optional

from engine.findings import per_record
from engine.rule_shapes import same_objects

FINDING_SHAPES = 5000       # shapes kept per rule (then started afresh)


class FindingShape:
    """What a rule's finding of one shape is, whatever the record: its status, its say in the verdict
    (True/False/None), and each change that would turn it as positions in its conditions. `refs`: the
    shared condition findings the shape's key holds by identity (so an id is never reused while kept)."""

    __slots__ = ("refs", "status", "verdict", "changes")

    def __init__(self, refs: tuple, status: str, verdict: Optional[bool], changes: tuple):
        self.refs, self.status, self.verdict, self.changes = refs, status, verdict, changes


def shape_key(conds: list, guard: Optional[bool]) -> tuple[tuple, tuple]:
    """(key, objects it holds by identity) of a rule's finding with these condition findings and guard
    result: a shared condition by identity (its finding is the same object for every record with its
    value), a record's own by what its value and margin decide — met, margin or not, direction, missing."""
    per, refs = [], []
    for c in conds:
        if per_record(c.fact):
            per.append((c.met, c.margin is None, c.direction, c.value is None))
        else:
            per.append(id(c))
            refs.append(c)
    return (guard, tuple(per)), tuple(refs)


def known_shape(memo: dict, rule_id: str, conds: list, guard: Optional[bool]) -> tuple:
    """(the shape found for these conditions or None, its key, refs) in the plan's memo."""
    shapes = memo.get(("finding shapes", rule_id))
    if shapes is None:
        shapes = memo["finding shapes", rule_id] = {}
    key, refs = shape_key(conds, guard)
    hit = shapes.get(key)
    if hit is not None and not same_objects(hit.refs, refs):
        hit = None
    return hit, key, refs


def remember_shape(memo: dict, rule_id: str, key: tuple, refs: tuple, f, verdict: Optional[bool]) -> Optional[FindingShape]:
    """The shape of a finding built plainly, kept for the records that repeat it; None when a change it
    lists is not one of its conditions (then it is never filled from a shape)."""
    position = {id(c): i for i, c in enumerate(f.conditions)}
    try:
        changes = tuple(tuple(position[id(c)] for c in alt) for alt in f.changes)
    except KeyError:
        return None
    shapes = memo["finding shapes", rule_id]
    if len(shapes) >= FINDING_SHAPES:
        shapes.clear()
    shape = shapes[key] = FindingShape(refs, f.status, verdict, changes)
    return shape


def changes_of(shape: FindingShape, conds: list) -> list:
    """The shape's changes with this record's condition findings."""
    return [[conds[i] for i in alt] for alt in shape.changes] if shape.changes else []
