"""`check --explain` evaluates exactly only what its explanations show (Evaluator(listed_rules_only=True)):
a decision durable_rules settles by an applicability rule or an exclusion skips the later exclusions,
conditions and indicators. Nothing a user sees changes: the decisions, their missing facts, readings,
amounts and explanations are those of the full evaluation; the exact verdict is still checked, and a
disagreement still stops the run naming the enterprise and both verdicts."""
from __future__ import annotations

import json
from datetime import date
from functools import lru_cache

import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

import engine.evaluate as evaluate_module
from cli import main
from engine.evaluate import Verdict
from engine.deciding_rules import STAGE, decided_at
from engine.errors import EngineError
from engine.evaluate import Evaluator
from engine.render import render_explanations
from tests.conftest import ROOT, policy_and_rules
from tests.properties.strategies import AS_OF_DATES, enterprises

REGISTER = ROOT / "examples" / "register.csv"


def evaluators(as_of: date) -> tuple:
    policy, book = policy_and_rules("wanzhou-2022-80")
    return book, Evaluator(policy, book, as_of), Evaluator(policy, book, as_of, listed_rules_only=True)


@lru_cache(maxsize=None)
def warm_evaluators(as_of: date) -> tuple:
    """evaluators(as_of), kept across examples: their caches warm, where a cache that mixed two firms up
    would show."""
    return evaluators(as_of)


def seen_by_users(result, book) -> list:
    """What any output shows of a result: each decision's verdict, citations, money, missing data and
    readings, and its explanation in both languages."""
    return [[(d.type, d.outcome, d.rule_id, d.clause_id, d.amount_yuan, d.amount_basis, d.beneficiary, d.attributes,
              d.triggered, d.missing_facts, [i.id for i in d.readings]) for d in result.decisions],
            render_explanations(result, book, "zh"), render_explanations(result, book, "en")]


@given(st.sampled_from(AS_OF_DATES).flatmap(lambda d: st.tuples(st.just(d), enterprises(d))))
def test_evaluating_the_listed_rules_only_changes_nothing_a_user_sees(case):
    as_of, ent = case
    book, full, listed = warm_evaluators(as_of)
    assert seen_by_users(listed.evaluate(ent), book) == seen_by_users(full.evaluate(ent), book)


def test_only_the_rules_after_the_settling_stage_are_left_unevaluated():
    as_of = date(2024, 12, 31)
    book, full, listed = evaluators(as_of)
    from engine.register import read_register
    policy, _ = policy_and_rules("wanzhou-2022-80")
    skipped = 0
    for _, ent in read_register(REGISTER, as_of=as_of, policy=policy).accepted:
        for d in listed.evaluate(ent).decisions:
            stage = decided_at(d)
            for f in d.findings:
                if f.status == "unevaluated":
                    assert STAGE[f.rule.kind] > stage and f.rule.kind in ("exclusion", "condition", "indicator")
                    skipped += 1
    assert skipped > 0          # the sample has decisions settled early: the test compares something


def test_check_explain_lines_are_the_compact_lines_with_their_explanations():
    def lines(*options):
        result = CliRunner().invoke(main, ["check", str(REGISTER), "--as-of", "2024-12-31", "--format", "ndjson",
                                           *options])
        assert result.exit_code == 0, result.output
        return [json.loads(x) for x in result.stdout.splitlines()]
    compact, explained = lines(), lines("--explain")
    for doc in explained:
        doc["cross_check"] = "columnar"          # how the run was checked: summary runs by the columnar engine
        for d in doc["decisions"]:
            assert d.pop("explanation")
    assert explained == compact


@pytest.mark.parametrize("category", ["na", "excl"])
def test_a_verdict_the_listed_rules_do_not_settle_still_stops_the_run(monkeypatch, category):
    """durable_rules claiming a firm is not applicable (or excluded) when it is not: the exact evaluation
    of the listed rules does not settle that verdict, every rule is evaluated, and the two disagree."""
    as_of = date(2024, 12, 31)
    book, _, listed = evaluators(as_of)
    from engine.register import read_register
    policy, _ = policy_and_rules("wanzhou-2022-80")
    firms = [e for _, e in read_register(REGISTER, as_of=as_of, policy=policy).accepted]
    plan = listed.compiled.plans["upgrade_eligibility"]
    kind = "applicability" if category == "na" else "exclusion"
    claimed_rule = plan.rules_of_kind(kind)[0]
    # An eligible firm: every applicability rule holds and no exclusion does.
    firm = next(e for e in firms if listed.evaluate(e).decision("upgrade_eligibility").outcome == "eligible")
    real = evaluate_module.read_fired_cached

    def lying(p, fired):
        verdict = real(p, fired)
        if p is plan:
            return Verdict(category, "not_applicable", claimed_rule.id, attributes=verdict.attributes,
                           amounts=verdict.amounts)
        return verdict
    monkeypatch.setattr(evaluate_module, "read_fired_cached", lying)
    with pytest.raises(EngineError, match=rf"{firm.enterprise_id} upgrade_eligibility: durable_rules concluded"):
        listed.evaluate(firm)
