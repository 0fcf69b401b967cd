"""A condition's line in an explanation, in two parts: its frame (the fact's label, what is required, the
basis of the parameters, the note; the same for every finding of the same condition) and the finding's
value and margin filled in. engine/render.py renders each frame once and fills it for every finding."""
from __future__ import annotations

from engine.findings import value_key


def condition_text(c, case: bool, fmt, w, basis) -> str:
    """One condition (`fmt`: engine/render.Formatter): the fact's label and value, what is required (the
    threshold with the basis of its parameters) and, unless it is a case, the margin; a parameter tested
    alone shows its value."""
    return fill_condition(condition_frame(c, case, fmt, w, basis), c, fmt)


_VALUE = "\x00value\x00"


def condition_frame(c, case: bool, fmt, w, basis) -> tuple:
    """Everything a condition's line shows but the fact's value and the margin: (the words before the
    value, those after it or None when the line shows no value, the margin's words or None, the note).
    What it reads of the finding: the fact, operator, context, threshold, parameters (and `basis`), the
    notes, whether there is a margin; never the value or the margin themselves (fill_condition)."""
    words, zh = w.LINE, fmt.lang == "zh"
    if c.fact is None:
        p = c.params[0]
        return (words["param"].format(label=p.parameter.label_zh if zh else p.parameter.label_en,
                                      value=fmt.param(p), basis=basis(p)), None, None, "")
    label, op = fmt.fact_label(c.fact), w.OP[c.op]
    if c.op in ("exists", "missing"):
        before, after = words["presence"].format(label=label, value=_VALUE, op=op).split(_VALUE)
        return before, after, None, ""
    if c.context:
        threshold = words["context"].format(w.CONTEXT[c.context], fmt.value(c.fact, c.threshold))
    elif c.params:
        threshold = words["based"].format(words["times"].join(fmt.param(p) for p in c.params[:2]),
                                          words["basis_sep"].join(basis(p) for p in c.params))
    else:
        threshold = fmt.value(c.fact, c.threshold)
    before, after = words["compare"].format(label=label, value=_VALUE, op=op, threshold=threshold).split(_VALUE)
    note = c.missing_note_zh if zh else c.missing_note_en
    return (before, after, words["short"] if c.margin is not None and not case else None,
            words["note"].format(note) if note else "")


def fill_condition(frame: tuple, c, fmt) -> str:
    """A condition's line: its frame (condition_frame) with the finding's value and margin."""
    before, after, short, note = frame
    if after is None:
        return before
    text = before + fmt.value(c.fact, c.value) + after
    if short is not None:
        text += short.format(fmt.margin(c.fact, c.margin))
    return text + note


def frame_key(c, case: bool, above: tuple) -> tuple:
    """What condition_frame reads of a finding (with whether each long basis was quoted above), as a key;
    the parameters by identity (the entry keeps them, so an id is never reused while remembered)."""
    return (c.fact, c.op, c.context, value_key(c.threshold), tuple(map(id, c.params)), case, above,
            c.margin is not None, c.missing_note_zh, c.missing_note_en)
