"""A rule's text in an explanation, compiled once per shape and filled per finding.

A rule's text (engine/render.rule_text: heading, condition lines, the changes that would turn it) is a
function of its finding's shape — the rule, its status, whether it is shown above, which long bases were
quoted above, and of each condition everything its line shows but the value and the margin (the fact,
operator, context, threshold, parameters, notes, met, whether there is a margin, which way it would
have to move), and which conditions each change names — and of the conditions' values and margins.
Findings on the figures of a register (revenues, growth rates) are new on nearly every row, so a text
remembered per finding is never found again; the shape repeats. The text is rendered once per shape
with a marker (Slot) in place of each value and margin, by the same rule_text, and then filled with
each finding's values and margins formatted as the plain rendering formats them (engine/render.Formatter).
"""
from __future__ import annotations

import operator
import re
from dataclasses import replace
from typing import Callable, Optional


class Slot:
    """Where a condition's value (`kind` "v") or margin ("m") goes: Formatter.value and Formatter.margin
    show it as its marker, which no real value's text contains."""

    __slots__ = ("marker",)

    def __init__(self, index: int, kind: str):
        self.marker = f"\x00{index}{kind}\x00"


# What a condition's line and the changes show of it, by value (the threshold and the parameters are keyed
# by identity, the value and the margin are filled in): engine/condition_lines.condition_frame, render.py.
_shown = operator.attrgetter("fact", "op", "context", "met", "direction", "missing_note_zh", "missing_note_en")
_MARKER = re.compile("\x00(\\d+)([vm])\x00")
SHAPES_KEPT = 20000         # compiled shapes kept per rulebook and language (then started afresh)


def rule_shape(f, shown_above: bool, above: tuple) -> Optional[tuple]:
    """(key, objects the key holds by identity) of a finding's text, or None when a change it lists is
    not one of its conditions (then it is rendered plainly). The thresholds and parameters are keyed by
    identity: the entry keeps them, so an id is never reused while remembered."""
    conds = f.conditions
    per = tuple([(_shown(c), id(c.threshold), id(c.params), c.margin is None) for c in conds])
    changes = change_positions(f)
    if changes is None:
        return None
    key = (id(f.rule), f.status, f.included_from, shown_above, above, per, changes)
    refs = (f.rule, *[c.threshold for c in conds], *[c.params for c in conds])
    return key, refs


def change_positions(f) -> Optional[tuple]:
    """Each change that would turn the finding as the positions of the conditions it names, or None when
    one names a condition the finding does not list."""
    if not f.changes:
        return ()
    position = {id(c): i for i, c in enumerate(f.conditions)}
    try:
        return tuple(tuple(position[id(c)] for c in alt) for alt in f.changes)
    except KeyError:
        return None


def same_objects(kept, objects) -> bool:
    """Whether a remembered entry was made for these very objects (its key holds their ids: an id freed
    and given to a new object must not find the old entry)."""
    return len(kept) == len(objects) and all(a is b for a, b in zip(kept, objects))


def shaped_rule_text(f, shown_above: bool, once: tuple, words: dict, quoted, plain: Callable) -> str:
    """The rule's text as plain(f, shown_above, words, quoted) renders it, with the same effect on what is
    quoted (`once`: the long bases its lines quote, engine/render._quoted_once)."""
    seen = quoted.seen
    above = tuple([("basis", t) in seen for t in once])
    shape = rule_shape(f, shown_above, above)
    if shape is None:
        return plain(f, shown_above, words, quoted)
    key, refs = shape
    shapes = words["shapes"]
    hit = shapes.get(key)
    if hit is None or not same_objects(hit[0], refs):
        if len(shapes) >= SHAPES_KEPT:
            shapes.clear()
        hit = shapes[key] = (refs, compile_text(f, shown_above, words, quoted, plain))   # quotes as plain does
    elif once and not shown_above:
        seen.update(("basis", t) for t in once)         # as rendering its lines would
    return fill(hit[1], f.conditions, words["fmt"])


def compile_text(f, shown_above: bool, words: dict, quoted, plain: Callable) -> tuple:
    """The text with a Slot for each value and margin, as (literal, (condition index, kind) or None) pairs."""
    slotted = [replace(c, value=Slot(i, "v"), margin=None if c.margin is None else Slot(i, "m"))
               for i, c in enumerate(f.conditions)]
    position = {id(c): i for i, c in enumerate(f.conditions)}
    proxy = replace(f, conditions=slotted,
                    changes=[[slotted[position[id(c)]] for c in alt] for alt in f.changes])
    pieces = _MARKER.split(plain(proxy, shown_above, words, quoted))
    # split: literal, index, kind, literal, index, kind, ..., literal
    parts = [(pieces[k], (int(pieces[k + 1]), pieces[k + 2])) for k in range(0, len(pieces) - 1, 3)]
    parts.append((pieces[-1], None))
    return tuple(parts)


def fill(parts: tuple, conds: list, fmt) -> str:
    out = []
    for literal, slot in parts:
        out.append(literal)
        if slot is not None:
            c = conds[slot[0]]
            out.append(fmt.value(c.fact, c.value) if slot[1] == "v" else fmt.margin(c.fact, c.margin))
    return "".join(out)


def shape_text(f, shown_above: bool, once_of: Callable, words: dict, quoted, plain: Callable) -> str:
    """The text of a record's own finding filled from a shape (f.shape, engine/finding_shapes.py): the
    shape fixes everything rule_shape keys on (each condition's fact, operator, threshold, parameters,
    notes, met, margin or not, direction, the changes, the rule and its status), so the text is compiled
    once per shape, whether it is shown above and which long bases were quoted above (`once_of(f)`:
    those its lines quote, engine/render._quoted_once), with the same effect on what is quoted."""
    parts = remembered_text(words["by_shape"], SHAPES_KEPT, f.shape, lambda: once_of(f), shown_above, quoted,
                            lambda _once: compile_text(f, shown_above, words, quoted, plain))
    return fill(parts, f.conditions, words["fmt"])


def remembered_text(kept: dict, most: int, token, once_of: Callable, shown_above: bool, quoted, make: Callable):
    """What `make(once)` gives for `token` (a shared finding, or a shape), remembered by the token itself (the
    entry holds it: an id is never reused while kept) and by the state of the explanation its text depends
    on: whether it is shown above and which of its long bases (`once_of()`) were quoted above. Made or
    remembered, it has the same effect on what is quoted (a rendering of its lines quotes those bases)."""
    entry = kept.get(id(token))
    if entry is None or entry[0] is not token:
        if len(kept) >= most:
            kept.clear()
        entry = kept[id(token)] = (token, once_of(), {})
    _, once, texts = entry
    seen = quoted.seen
    key = (shown_above, tuple([("basis", t) in seen for t in once])) if once else shown_above
    text = texts.get(key)
    if text is None:
        text = texts[key] = make(once)
    elif once and not shown_above:
        seen.update(("basis", t) for t in once)         # as rendering its lines would
    return text
