"""A family's shared rules keyed together: one look-up per record instead of one per rule.

engine/evaluate.explain_family remembers each shared rule's finding by the values of the facts it tests
(most test a flag, a code, a status). A family has a dozen such rules and a register repeats their
facts' values *together* (a firm of one kind has the same flags), so the findings of all of them, the
statuses they give the verdict, their classification cases and amount keys are remembered as one entry,
keyed by the values of every fact they test at once. Rules on a fact of many values (engine/findings.
MANY_VALUED: figures, dates) stay out of the group: with them the combinations would not repeat. The
entry also keeps the family's verdicts, by what the rules outside the group gave (the verdict is a
function of the statuses, cases and amounts alone).
"""
from __future__ import annotations

import operator
from typing import Callable

GROUP_ENTRIES = 4096        # entries kept per family plan (then started afresh; ~1,500 in 30k generated rows)


class GroupEntry:
    """The group's findings in the family's rule order (None where a rule is outside the group), the
    statuses they give the verdict, their cases and amount keys, and the verdicts found with them."""

    __slots__ = ("findings", "status", "attrs", "amounts", "verdicts")

    def __init__(self, size: int, positions: list[int], hits: list[tuple], no_status: object):
        self.findings: list = [None] * size
        self.status: dict = {}
        self.attrs: list = []
        self.amounts: list = []
        self.verdicts: dict = {}
        for i, (f, s, attr, amount) in zip(positions, hits):
            self.findings[i] = f
            if s is not no_status:
                self.status[f.rule.id] = s
            if attr is not None:
                self.attrs.append(attr)
            if amount is not None:
                self.amounts.append(amount)


class RuleGroup:
    """Which of a family's rules are keyed together (`positions`, in rule order) and which are not
    (`others`), the facts the group tests (by value) and the inputs of derived ones (missing or not)."""

    def __init__(self, size: int, positions: list[int], facts: list[str], inputs: tuple[str, ...]):
        self.size = size
        self.positions = positions
        self.others = [i for i in range(size) if i not in set(positions)]
        self.getter = operator.itemgetter(*facts) if facts else None
        self.inputs = inputs

    def done(self, plan_memo: dict, detail: bool, keys, values: dict, hits: Callable[[], list],
             no_status: object) -> GroupEntry:
        """The record's entry: remembered by the group's facts' value keys and which inputs are missing,
        else made from `hits()` (each grouped rule's (finding, status, case, amount) in order)."""
        entries = plan_memo.get(("group entries", detail))
        if entries is None or len(entries) >= GROUP_ENTRIES:
            entries = plan_memo["group entries", detail] = {}
        key = (self.getter(keys) if self.getter else None, tuple([values.get(f) is None for f in self.inputs]))
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = GroupEntry(self.size, self.positions, hits(), no_status)
        return entry
