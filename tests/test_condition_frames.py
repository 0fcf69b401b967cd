"""A condition's line is rendered once per frame (its words around the value and margin) and filled with
each finding's value and margin; values and margins are formatted once per value; a v2 condition object is
built once per finding. These tests hold the remembered texts to the plain rendering of the same finding,
so a key that dropped something the text shows (the fact, operator, threshold, parameters, margin, note,
whether a basis was quoted above, whether the line is a case) would serve another finding's words."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from engine.contract import Contract, _condition_object, condition_object
from engine.condition_lines import condition_text
from engine.render import Formatter, Quoted, _explain_words
from tests.conftest import bundled_register_results

AS_OF = date(2024, 12, 31)


@pytest.fixture(scope="module")
def explained():
    """The findings of every decision of the bundled register, and the rulebook."""
    book, ev, results = bundled_register_results(AS_OF)
    conditions = [c for r in results for d in r.decisions for f in d.findings for c in f.conditions]
    return book, ev, conditions


def plain_line(c, case: bool, book, lang: str, quoted: Quoted) -> str:
    """The line rendered from the finding alone, nothing remembered (a fresh formatter), each long basis
    pointing up when `quoted` has it."""
    words = _explain_words(book, lang)
    w = words["w"]

    def basis(p):
        text, once = words["basis"](p)
        if once and ("basis", text) in quoted.seen:
            return w.LINE["assumed" if p.assumed else "above"]
        return text
    return condition_text(c, case, Formatter(book, lang), w, basis)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_remembered_line_of_a_register_reads_as_rendered_alone(explained, lang):
    book, _, conditions = explained
    remember = _explain_words(book, lang)["remember"]
    for case in (False, True):
        for c in conditions:
            assert remember(c, case, Quoted()) == plain_line(c, case, book, lang, Quoted())
    assert len({plain_line(c, False, book, lang, Quoted()) for c in conditions}) > 50    # lines differ


def _with_margin_and_long_basis(conditions, basis):
    """A finding whose line shows a margin and a parameter's basis long enough to be quoted once."""
    return next(c for c in conditions if c.fact and c.margin is not None and c.op in (">=", ">")
                and any(basis(p)[1] for p in c.params))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_findings_that_differ_in_one_shown_field_get_their_own_line(explained, lang):
    book, _, conditions = explained
    base = _with_margin_and_long_basis(conditions, _explain_words(book, lang)["basis"])
    other_param = next(c.params for c in conditions if c.params and c.params != base.params)
    money_fact = next(f for f, s in book.facts.items() if s.type == "money" and f != base.fact)
    bare = replace(base, params=())
    noted = replace(base, value=None, margin=None, missing_note_zh="未申报", missing_note_en="not filed")
    variants = {
        "value": replace(base, value=base.value + 1),
        "margin": replace(base, margin=base.margin + 7),
        "no margin": replace(base, margin=None),
        "fact": replace(base, fact=money_fact),
        "op": replace(base, op=">" if base.op == ">=" else ">="),
        "params": replace(base, params=other_param),
        "no parameters": bare,
        "threshold": replace(bare, threshold=Decimal("123456.78")),
        "threshold again": replace(bare, threshold=Decimal("876543.21")),
        "context": replace(bare, context="as_of_year"),
        "note": noted,      # and another in this language only (the other's note is not shown)
        "another note": replace(noted, **{f"missing_note_{lang}": "x"}),
    }
    words = _explain_words(book, lang)
    remember = words["remember"]
    for quoted_above in (False, True):
        for case in (False, True):
            shown = {}
            for name, c in {"base": base, **variants}.items():
                quoted = Quoted()
                if quoted_above:     # every long basis of its parameters quoted earlier in the explanation
                    quoted.seen.update(("basis", words["basis"](p)[0]) for p in c.params)
                expected = plain_line(c, case, book, lang, quoted)
                assert remember(c, case, quoted) == expected, name
                shown[name] = expected
            # Each variant's line differs from the base's where the field is shown (else this test
            # would not notice a key that dropped it).
            if not case:
                assert len(set(shown.values())) == len(shown), shown
    above = Quoted()
    above.seen.update(("basis", words["basis"](p)[0]) for p in base.params)
    assert plain_line(base, False, book, lang, above) != plain_line(base, False, book, lang, Quoted())
    assert plain_line(base, True, book, lang, Quoted()) != plain_line(base, False, book, lang, Quoted())


def test_values_that_are_equal_but_print_differently_are_formatted_apart(explained):
    book, _, _ = explained
    flag = next(f for f, s in book.facts.items() if s.type == "bool")
    for lang in ("zh", "en"):
        fmt = Formatter(book, lang)
        for value in (True, 1, Decimal("1.50"), Decimal("1.5"), 1, True):
            assert fmt.value(flag, value) == Formatter(book, lang).value(flag, value)
        assert fmt.value(flag, True) != fmt.value(flag, 1)


def test_a_condition_object_is_the_same_as_built_afresh_for_its_own_rule_and_another(explained):
    book, ev, conditions = explained
    contract = Contract(ev.compiled.plans, book, detail="full")
    for c in conditions:
        for decided_by in (c.rule_id, "another rule"):
            own = decided_by == c.rule_id
            assert condition_object(contract, c, decided_by) == _condition_object(contract, c, own)
    c = conditions[0]
    assert condition_object(contract, c, c.rule_id) != condition_object(contract, c, "another rule")
