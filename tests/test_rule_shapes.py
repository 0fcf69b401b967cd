"""A rule's text is compiled once per shape of its finding and filled with each finding's values and
margins (engine/rule_shapes.py). These tests hold the filled text to the plain rendering of the same
finding (engine/render.rule_text), with the same effect on what the explanation has quoted, so a shape
that dropped something the text shows (a condition's fact, operator, threshold, parameters, note, met,
margin or its direction, the rule's status, whether it is shown above) would serve another finding's words."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from engine.render import Quoted, _explain_words, _quoted_once, rule_text
from engine.rule_shapes import shaped_rule_text
from tests.conftest import bundled_register_results

AS_OF = date(2024, 12, 31)


@pytest.fixture(scope="module")
def findings():
    """Every rule finding of every decision of the bundled register, and the rulebook."""
    book, _, results = bundled_register_results(AS_OF)
    return book, [f for r in results for d in r.decisions for f in d.findings]


def quoted_states(f, words) -> list[Quoted]:
    """Nothing quoted yet, and every long basis of the rule's lines quoted above."""
    above = Quoted()
    above.seen.update(("basis", t) for t in _quoted_once(f, words["basis"]))
    return [Quoted(), above]


def both(f, shown_above: bool, words, state: Quoted) -> tuple:
    """(shaped text, what it left quoted), (plain text, what it left quoted), from the same state."""
    shaped, plain = Quoted(), Quoted()
    shaped.seen, plain.seen = set(state.seen), set(state.seen)
    once = _quoted_once(f, words["basis"])
    return ((shaped_rule_text(f, shown_above, once, words, shaped, rule_text), shaped.seen),
            (rule_text(f, shown_above, words, plain), plain.seen))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_rule_of_a_register_reads_as_rendered_plainly(findings, lang):
    book, found = findings
    words = _explain_words(book, lang)
    for _ in range(2):          # the second time, every shape is compiled from an earlier finding
        for f in found:
            for shown_above in (False, True):
                for state in quoted_states(f, words):
                    shaped, plain = both(f, shown_above, words, state)
                    assert shaped == plain, f.rule.id
    assert len({rule_text(f, False, words, Quoted()) for f in found}) > 100      # texts differ


def with_condition(f, i: int, **fields):
    """The finding with its i-th condition changed (and in the changes that name it)."""
    old = f.conditions[i]
    new = replace(old, **fields)
    swap = (lambda c: new if c is old else c)
    return replace(f, conditions=[swap(c) for c in f.conditions], changes=[[swap(c) for c in alt] for alt in f.changes])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_findings_that_differ_in_one_shown_field_get_their_own_text(findings, lang):
    book, found = findings
    words = _explain_words(book, lang)
    # An unmet rule whose first unmet condition has a margin and a parameter, and whose text lists changes.
    base = next(f for f in found if f.status == "not_met" and f.changes and any(
        c.margin is not None and c.params and c.fact for c in f.conditions))
    i = next(k for k, c in enumerate(base.conditions) if c.margin is not None and c.params and c.fact)
    c = base.conditions[i]
    other_params = next(x.params for g in found for x in g.conditions if x.params and x.params != c.params)
    money_fact = next(fid for fid, s in book.facts.items() if s.type == "money" and fid != c.fact)
    variants = {
        "value": with_condition(base, i, value=c.value + 1),
        "margin": with_condition(base, i, margin=c.margin + 7),
        "no margin": with_condition(base, i, margin=None),
        "direction": with_condition(base, i, direction="down" if c.direction == "up" else "up"),
        "met": with_condition(base, i, met=None),
        "fact": with_condition(base, i, fact=money_fact),
        "op": with_condition(base, i, op=">" if c.op == ">=" else ">="),
        "params": with_condition(base, i, params=other_params),
        "threshold": with_condition(base, i, params=(), threshold=Decimal("123456.78")),
        "threshold again": with_condition(base, i, params=(), threshold=Decimal("876543.21")),
        "context": with_condition(base, i, params=(), context="as_of_year"),
        "note": with_condition(base, i, value=None, margin=None, **{f"missing_note_{lang}": "未申报"}),
        "status": replace(base, status="missing"),
    }
    for shown_above in (False, True):
        for state in quoted_states(base, words):
            texts = {}
            for name, f in {"base": base, **variants}.items():
                shaped, plain = both(f, shown_above, words, state)
                assert shaped == plain, name
                texts[name] = plain[0]
            # Each variant's text differs from the base's where the field is shown (else this test would
            # not notice a shape that dropped it).
            if not shown_above:
                assert len(set(texts.values())) == len(texts), texts
