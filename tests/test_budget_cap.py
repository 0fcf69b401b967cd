"""The annual budget cap with pro-rata reduction (engine/awards/budget_cap.py): under, at and over the
cap, the arithmetic in the dry run, the JSON, the audit record and the ledger, a second run of the
same year sharing what the first left, and the register's order changing nothing."""
from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from engine.awards.budget_cap import CAP_PARAMETER, pro_rata
from engine.awards.present import plan_json, render_plan
from engine.policy import Parameter
from tests.conftest import policy_and_rules
from tests.test_award_run import WANZHOU, firm, rows, run_year


def capped_policy(cap: str, provenance: dict | None = None):
    policy, book = policy_and_rules(WANZHOU)
    param = Parameter(name=CAP_PARAMETER, label_zh="年度奖励资金上限", label_en="annual award budget cap", type="money",
                      values={date(2022, 1, 1): {"value": cap, **(provenance or {"provenance": "assumed",
                                                                                 "note": "a test cap"})}})
    return dataclasses.replace(policy, parameters={**policy.parameters, CAP_PARAMETER: param}), book


FIRMS = [firm(f"上限{k}", in_scope_since="2024-03") for k in "ABC"]   # each: 10万 enterprise + 2万 town


def amounts(plan):
    return {(a.kind, a.enterprise_id): a.amount for a in plan.new_awards}


@pytest.mark.parametrize("cap", ["400000", "360000"])
def test_under_or_at_the_cap_nothing_is_reduced(tmp_path, cap):
    policy, book = capped_policy(cap)
    plan = run_year(tmp_path / "awards.db", 2024, FIRMS, policy=policy, book=book, commit=False)
    assert sum(amounts(plan).values()) == Decimal("360000")
    assert not plan.budget_cap.applied and plan.budget_cap.residue == 0
    assert "未超出上限，不核减" in render_plan(plan, policy, "zh", "run", committing=False)


def test_over_the_cap_every_award_is_reduced_pro_rata_rounded_down_and_the_residue_stated(tmp_path):
    policy, book = capped_policy("100000")
    ledger = tmp_path / "awards.db"
    plan = run_year(ledger, 2024, FIRMS, policy=policy, book=book, commit=False)
    cap = plan.budget_cap
    assert cap.factor == Fraction(100000, 360000)
    # 100000 × 5/18 = 27777.777… → 27777.77; 20000 × 5/18 = 5555.555… → 5555.55
    assert sorted(set(amounts(plan).values())) == [Decimal("5555.55"), Decimal("27777.77")]
    assert cap.capped_total == Decimal("99999.96") and cap.residue == Decimal("0.04")
    text = render_plan(plan, policy, "zh", "run", committing=False)
    assert "系数 = 本次可用 ÷ 核减前合计 = 100,000.00 ÷ 360,000.00 = 5/18" in text
    assert "100,000.00 元 → 27,777.77 元" in text and "尾差 0.04 元（向下取整所余，不予拨付）" in text
    english = render_plan(plan, policy, "en", "run", committing=False)
    assert "residue 0.04 yuan (left by rounding down; not paid)" in english
    doc = plan_json(plan, policy)["budget_cap"]
    assert (doc["cap_yuan"], doc["uncapped_total_yuan"], doc["factor"], doc["residue_yuan"]) == \
        ("100000.00", "360000.00", "5/18", "0.04")
    record = plan.new_awards[0].record
    assert record["budget_cap"]["this_award"] == {"uncapped_yuan": "100000.00", "capped_yuan": "27777.77"}
    # Committed: the ledger holds the reduced amounts, and their instalments add up to them.
    run_year(ledger, 2024, FIRMS, policy=policy, book=book)
    assert rows(ledger, "SELECT sum(amount_fen) FROM awards")[0][0] == 9999996
    assert rows(ledger, "SELECT sum(amount_fen) FROM instalments")[0][0] == 9999996
    stored = json.loads(rows(ledger, "SELECT record FROM audit_records LIMIT 1")[0][0])
    assert stored["budget_cap"]["residue_yuan"] == "0.04"


def test_a_later_run_of_the_year_shares_only_what_the_first_left(tmp_path):
    policy, book = capped_policy("250000")
    ledger = tmp_path / "awards.db"
    run_year(ledger, 2024, FIRMS[:2], policy=policy, book=book)          # 240000 recorded, under the cap
    plan = run_year(ledger, 2024, FIRMS, policy=policy, book=book, commit=False)
    assert plan.budget_cap.committed == Decimal("240000") and plan.budget_cap.available == Decimal("10000")
    assert amounts(plan) == {("enterprise", FIRMS[2].enterprise_id): Decimal("8333.33"),
                             ("town", FIRMS[2].enterprise_id): Decimal("1666.66")}
    assert plan.budget_cap.residue == Decimal("0.01")


def test_a_spent_cap_records_nothing_and_says_why(tmp_path):
    policy, book = capped_policy("240000")
    ledger = tmp_path / "awards.db"
    run_year(ledger, 2024, FIRMS[:2], policy=policy, book=book)
    plan = run_year(ledger, 2024, FIRMS, policy=policy, book=book, commit=False)
    assert plan.new_awards == [] and {w.reason for w in plan.withheld} == {"budget_cap"}
    assert "年度奖励资金上限已用完" in render_plan(plan, policy, "zh", "run", committing=False)


def test_the_order_of_the_register_changes_no_amount(tmp_path):
    policy, book = capped_policy("100000")
    forward = run_year(tmp_path / "a.db", 2024, FIRMS, policy=policy, book=book, commit=False)
    backward = run_year(tmp_path / "b.db", 2024, FIRMS[::-1], policy=policy, book=book, commit=False)
    assert amounts(forward) == amounts(backward)


def test_pro_rata_leaves_amounts_that_fit_unchanged():
    assert pro_rata([Decimal("1"), Decimal("2")], Decimal("3")) == (Fraction(1), [Decimal("1"), Decimal("2")])
    assert pro_rata([Decimal("1.00"), Decimal("2.00")], Decimal("1.00"))[1] == [Decimal("0.33"), Decimal("0.66")]
