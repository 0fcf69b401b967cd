"""An explanation reads the same whatever was explained before it in the same process: the texts, rule
findings and frames the explain path remembers across enterprises (records share the findings of the values
a register repeats) never carry one enterprise's quoting, values or amounts into another's text, nor one
evaluation date's parameters into another's."""
from __future__ import annotations

from datetime import date

from engine.commands.common import policy_and_rules
from engine.evaluate import Evaluator
from engine.register import read_register
from engine.render import render_explanations
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"


def explained(order: list, as_of: date, lang: str) -> dict[str, list[str]]:
    """Each enterprise's explanation texts, rendered in `order` by one evaluator."""
    policy, book = policy_and_rules("wanzhou-2022-80")
    ev = Evaluator(policy, book, as_of)
    return {e.enterprise_id: render_explanations(ev.evaluate(e), book, lang) for e in order}


def test_each_explanation_is_the_same_in_any_order_and_after_another_date():
    policy, _ = policy_and_rules("wanzhou-2022-80")
    for as_of, lang in ((date(2024, 12, 31), "zh"), (date(2025, 6, 30), "en")):
        firms = [e for _, e in read_register(REGISTER, as_of=as_of, policy=policy).accepted]
        forward = explained(firms, as_of, lang)
        # Reversed, after the other date's explanations (caches warm with other parameters and firms),
        # and each firm alone, first in a fresh evaluator.
        explained(firms, date(2024, 12, 31) if as_of.year == 2025 else date(2025, 6, 30), lang)
        backward = explained(firms[::-1], as_of, lang)
        assert backward == forward
        for firm in firms[:: max(1, len(firms) // 6)]:
            assert explained([firm], as_of, lang)[firm.enterprise_id] == forward[firm.enterprise_id]
        texts = [t for ts in forward.values() for t in ts]
        assert len(set(texts)) > len(firms)          # the firms' explanations differ: the test compares something
