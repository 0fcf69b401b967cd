"""The explanation's fast paths against the plain evaluation and rendering of the same record, on a
generated register where shapes and combinations repeat.

A rule's finding of its record alone (it tests a revenue, a growth rate) takes its status, its say in
the verdict and the changes that would turn it from the findings of the same shape before it, and its
text from the text compiled for that shape (engine/finding_shapes.py, engine/rule_shapes.shape_text); a
family's shared rules are remembered together, with the verdicts found with them (engine/rule_groups.py).
A shape or a group key that dropped something the finding, the verdict or the text shows would hand one
record another's status, changes, verdict or words."""
from __future__ import annotations

import importlib.util
from datetime import date

import pytest

from engine.derive import fact_values
from engine.evaluate import _NO_STATUS, Evaluator, explain_family, rule_finding, verdict_from_status
from engine.findings import ExactRecord
from engine.register import iter_register
from engine.render import Quoted, _explain_words, _quoted_once, rule_text
from engine.rule_shapes import rule_shape, shape_text
from tests.conftest import POLICY_ID, ROOT, policy_and_rules

AS_OF = date(2024, 12, 31)


def generated_register(tmp_path, n: int, seed: int):
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen.generate(n, tmp_path / f"generated-{seed}.csv", seed=seed)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """(rulebook, evaluator, results, enterprises) of 600 generated rows, evaluated with explanations."""
    path = generated_register(tmp_path_factory.mktemp("shapes"), 600, seed=5)
    policy, book = policy_and_rules(POLICY_ID)
    ev = Evaluator(policy, book, AS_OF)
    firms = [e for chunk in iter_register(path, as_of=AS_OF, policy=policy) for _, e in chunk.accepted]
    return book, ev, [ev.evaluate(e) for e in firms], firms


def shaped(results) -> list:
    return [f for r in results for d in r.decisions for f in d.findings if f.shape is not None]


def test_a_finding_filled_from_its_shape_equals_the_plain_evaluation(evaluated):
    book, ev, results, firms = evaluated
    found = 0
    for result, firm in zip(results, firms):
        values = fact_values(firm, ev._derived, AS_OF)
        for d in result.decisions:
            plan = ev.compiled.plans[d.type]
            for f in d.findings:
                if f.shape is None:
                    continue
                plain, s, _, _ = rule_finding(plan, f.rule, values, book, ExactRecord(values), True)
                assert plain.shape is None
                assert f == plain, (firm.enterprise_id, f.rule.id)
                assert s == f.shape.verdict, (firm.enterprise_id, f.rule.id)
                found += 1
    fillings = shaped(results)
    # Most of them were filled from a shape an earlier record made (else this test would check little).
    assert found == len(fillings) > 2000
    assert len({id(f.shape) for f in fillings}) < len(fillings) / 5
    assert {f.status for f in fillings} >= {"met", "not_met", "triggered", "not_triggered", "missing"}
    assert any(f.changes for f in fillings)


def quoted_states(f, words) -> list[Quoted]:
    above = Quoted()
    above.seen.update(("basis", t) for t in _quoted_once(f, words["basis"]))
    return [Quoted(), above]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_shape_text_reads_as_rendered_plainly(evaluated, lang):
    book, _, results, _ = evaluated
    words = _explain_words(book, lang)
    fillings = shaped(results)
    for f in fillings:
        for shown_above in (False, True):
            for state in quoted_states(f, words):
                filled, plain = Quoted(), Quoted()
                filled.seen, plain.seen = set(state.seen), set(state.seen)
                text = shape_text(f, shown_above, words["once_of"], words, filled, rule_text)
                assert text == rule_text(f, shown_above, words, plain), f.rule.id
                assert filled.seen == plain.seen, f.rule.id
    assert len({rule_text(f, False, words, Quoted()) for f in fillings}) > len(fillings) / 2   # values differ


def test_findings_of_one_shape_have_one_text_shape(evaluated):
    """Everything a rule's text shows but values and margins (engine/rule_shapes.rule_shape) is the same
    for every finding filled from one shape: a shape that dropped a condition's met, margin, direction,
    missing value or the rule's guard would put findings with different texts together."""
    _, _, results, _ = evaluated
    by_shape: dict = {}
    for f in shaped(results):
        for shown_above in (False, True):
            key = rule_shape(f, shown_above, ())[0]
            assert by_shape.setdefault((id(f.shape), shown_above), key) == key, f.rule.id


def test_a_family_remembered_as_a_group_equals_its_rules_evaluated_one_by_one(evaluated):
    book, ev, results, firms = evaluated
    grouped = 0
    for firm in firms:
        values = fact_values(firm, ev._derived, AS_OF)
        for plan in ev.compiled.plans.values():
            if not plan.evaluable:
                continue
            findings, verdict = explain_family(plan, values, book)
            status, attrs, amounts, plain = {}, [], [], []
            for r in plan.family.rules:
                f, s, attr, amount = rule_finding(plan, r, values, book, ExactRecord(values), True)
                plain.append(f)
                if s is not _NO_STATUS:
                    status[r.id] = s
                attrs += [attr] if attr is not None else []
                amounts += [amount] if amount is not None else []
            assert findings == plain, (firm.enterprise_id, plan.name)
            assert verdict == verdict_from_status(plan, status, tuple(sorted(attrs)), tuple(sorted(amounts))), \
                (firm.enterprise_id, plan.name)
            grouped += len(plan.memo["rule group"].positions)
    # Every family has rules keyed together, and far fewer entries than records were made.
    assert all(plan.memo["rule group"].positions for plan in ev.compiled.plans.values() if plan.evaluable)
    assert all(len(plan.memo["group entries", True]) < len(firms) / 2
               for plan in ev.compiled.plans.values() if plan.evaluable and plan.name != "enterprise_award")
    assert grouped > 10 * len(firms)
