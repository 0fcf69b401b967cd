"""What-if: reforms as data, their effect on each decision and on the budget, clause by clause."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cli import main
from engine.errors import PolicyDataError
from engine.analysis.reform import Reform, apply_reform, parse_set_option
from engine.analysis.whatif import diff, sweep, sweep_values
from tests.conftest import ROOT, enterprise, policy_and_rules

AS_OF = date(2024, 12, 31)
REGISTER = str(ROOT / "examples" / "register.csv")
BELOW_SCALE = dict(town="分水镇", in_park=False, industry_code="C3484", is_legal_person=True,
                   established_on="2015-04-18", in_scope=False, revenue_ytd="500.00", ytd_through="2024-11")


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_lowering_the_pool_bound_adds_exactly_the_firms_between_the_bounds_each_explained():
    policy, book = policy_and_rules()
    revenues = ["799.99", "800.00", "850.00", "999.99", "1000.00", "1500.00"]
    firms = [enterprise(revenue_last_year=r, **BELOW_SCALE) for r in revenues]
    reform = Reform(name="pool bound 800万", effective=date(2024, 1, 1),
                    parameters={"pool_revenue_lower_bound": "8000000"})
    result = diff(firms, policy, book, reform, AS_OF)
    added = {c.enterprise_id for c in result.changes}
    expected = {f.enterprise_id for f, r in zip(firms, revenues) if Decimal("800") <= Decimal(r) < Decimal("1000")}
    assert added == expected and len(added) == 3
    for c in result.changes:
        assert (c.type, c.before_outcome, c.after_outcome) == ("pool_entry", "not_eligible", "eligible")
        assert c.rules == ["pool_entry.revenue_band_or_pace"] and c.parameters == ["pool_revenue_lower_bound"]
        assert c.clauses == ["二(四)"]
    assert all(before == after for before, after in result.budget_by_type.values())


def test_raising_the_enterprise_award_changes_only_amounts_and_the_budget_attributed_to_that_parameter():
    policy, book = policy_and_rules()
    from engine.register import read_register
    read = read_register(ROOT / "examples" / "register.csv", as_of=AS_OF, policy=policy)
    firms = [e for _, e in read.accepted]
    reform = Reform(name="award 15万", effective=date(2024, 1, 1), parameters={"enterprise_award_industrial": "150000"})
    result = diff(firms, policy, book, reform, AS_OF)
    assert result.changes
    for c in result.changes:
        assert c.type == "enterprise_award" and c.before_outcome == c.after_outcome == "awarded"
        assert (c.before_amount, c.after_amount) == (Decimal("100000"), Decimal("150000"))
        assert c.parameters == ["enterprise_award_industrial"] and c.rules == ["enterprise_award.industrial_amount"]
    before, after = result.budget_by_type["enterprise"]
    assert after - before == Decimal("50000") * len(result.changes)
    assert result.budget_by_type["town"][0] == result.budget_by_type["town"][1]
    assert result.attainment[0].projected == result.attainment[1].projected


def test_diff_command_text_and_json():
    out = run("diff", REGISTER, "--as-of", "2024-12-31", "--overrides", str(ROOT / "examples/reforms/lower-pool-bound.yaml"))
    assert out.exit_code == 0
    assert "培育库下限降至800万元" in out.output and "pool_revenue_lower_bound" in out.output
    assert "10.00万元 → 8.00万元" not in out.output and "1,000.00万元 → 800.00万元" in out.output
    doc = json.loads(run("diff", REGISTER, "--as-of", "2024-12-31", "--set", "enterprise_award_industrial=150000",
                         "--format", "json").output)
    assert doc["budget_by_type"]["enterprise"]["delta"] == "250000.00"
    assert {c["parameters"][0] for c in doc["changes"]} == {"enterprise_award_industrial"}


def test_an_unknown_parameter_gets_a_did_you_mean():
    out = run("diff", REGISTER, "--as-of", "2024-12-31", "--set", "enterprise_award_industial=150000")
    assert out.exit_code == 1
    assert "unknown parameter 'enterprise_award_industial'; did you mean 'enterprise_award_industrial'?" in out.output


def test_a_value_outside_its_range_is_refused():
    policy, _ = policy_and_rules()
    with pytest.raises(PolicyDataError, match="outside the range"):
        apply_reform(policy, parse_set_option(("growth_threshold=3",), AS_OF))
    with pytest.raises(PolicyDataError, match="'lots' is not an amount"):
        apply_reform(policy, parse_set_option(("scale_threshold=lots",), AS_OF))


def test_a_bare_small_money_value_is_refused_with_did_you_mean():
    out = run("diff", REGISTER, "--as-of", "2024-12-31", "--set", "enterprise_award_industrial=15")
    assert out.exit_code == 1
    assert "did you mean 15万元?" in out.output


@pytest.mark.parametrize("value", ["15万", "15万元", "150000元", "150000", "150,000"])
def test_money_with_its_unit_is_accepted(value):
    policy, _ = policy_and_rules()
    changed = apply_reform(policy, parse_set_option((f"enterprise_award_industrial={value}",), AS_OF))
    assert changed.parameters["enterprise_award_industrial"].in_force(AS_OF)[1].value == "150000.00"


def test_sweep_takes_money_in_wan():
    out = run("sweep", REGISTER, "--as-of", "2024-12-31", "--param", "enterprise_award_industrial",
              "--from", "5万", "--to", "15万", "--steps", "3", "--format", "json")
    assert out.exit_code == 0, out.output
    assert [p["value"] for p in json.loads(out.output)["points"]] == ["50000.00", "100000.00", "150000.00"]


def test_diff_needs_a_change():
    out = run("diff", REGISTER, "--as-of", "2024-12-31")
    assert out.exit_code == 1 and "needs a change" in out.output


def test_sweep_counts_fall_as_the_threshold_rises():
    policy, book = policy_and_rules()
    firms = [enterprise(revenue_last_year=r, **BELOW_SCALE) for r in ("1600.00", "1800.00", "2000.00", "2200.00")]
    values = sweep_values("money", "15000000", "25000000", 3)
    assert values == ["15000000.00", "20000000.00", "25000000.00"]
    points = sweep(firms, policy, book, "scale_threshold", values, AS_OF)
    assert [p.eligible for p in points] == [4, 2, 0]
    assert all(p.attainment.target_new_total == 38 for p in points)


def test_sweep_command_json():
    doc = json.loads(run("sweep", REGISTER, "--as-of", "2024-12-31", "--param", "growth_threshold", "--from", "0.1",
                         "--to", "0.3", "--steps", "3", "--format", "json").output)
    assert [p["value"] for p in doc["points"]] == ["0.1", "0.2", "0.3"]
    out = run("sweep", REGISTER, "--as-of", "2024-12-31", "--param", "town_award_park_attribution", "--from", "0",
              "--to", "1")
    assert out.exit_code == 1 and "sweep varies money, ratio or count" in out.output


def test_awards_dry_run_under_a_reform_and_never_committed(tmp_path):
    ledger = tmp_path / "l.db"
    base = run("awards", REGISTER, "--year", "2024", "--ledger", str(ledger), "--by", "town", "--format", "json")
    raised = run("awards", REGISTER, "--year", "2024", "--ledger", str(ledger), "--format", "json",
                 "--set", "town_award_per_enterprise=30000")
    assert base.exit_code == 0 and raised.exit_code == 0
    assert "30000.00" in raised.output and "30000.00" not in base.output
    refused = CliRunner().invoke(main, ["awards", REGISTER, "--year", "2024", "--ledger", str(ledger), "--commit",
                                        "--set", "town_award_per_enterprise=30000"])
    assert refused.exit_code == 2 and "cannot be committed" in refused.output and not ledger.exists()


def test_targets_under_a_reform_changes_the_projection():
    base = json.loads(run("targets", REGISTER, "--as-of", "2024-12-31", "--format", "json").output)
    lower = json.loads(run("targets", REGISTER, "--as-of", "2024-12-31", "--format", "json",
                           "--set", "scale_threshold=15000000").output)
    assert json.dumps(base, sort_keys=True) != json.dumps(lower, sort_keys=True)


def test_sweep_on_the_columnar_engine_equals_sweep_on_durable_rules():
    policy, book = policy_and_rules()
    from engine.register import read_register
    firms = [e for _, e in read_register(ROOT / "examples" / "register.csv", as_of=AS_OF,
                                         policy=policy).accepted]
    values = sweep_values("money", "15000000", "25000000", 5)
    fast = sweep(firms, policy, book, "scale_threshold", values, AS_OF, engine="columnar")
    slow = sweep(firms, policy, book, "scale_threshold", values, AS_OF, engine="durable")
    key = lambda p: (p.value, p.eligible, p.pool, p.awards_total, p.enterprise_awards, p.attainment.projected)  # noqa: E731
    assert [key(p) for p in fast] == [key(p) for p in slow]


@pytest.mark.parametrize("extra", [[], ["--workers", "2"], ["--engine", "columnar"]])
def test_check_under_a_reform_on_every_path(extra):
    base = run("check", REGISTER, "--as-of", "2024-12-31", "--format", "csv", *extra).output
    raised = run("check", REGISTER, "--as-of", "2024-12-31", "--format", "csv", "--set",
                 "enterprise_award_industrial=150000", *extra).output
    assert base.count("150000.00") == 0 and raised.count("150000.00") == 5
    assert raised.count("100000.00") == base.count("100000.00") - 5


def test_check_refuses_a_bad_reform_before_any_work():
    out = run("check", REGISTER, "--as-of", "2024-12-31", "--set", "growth_threshold=9")
    assert out.exit_code == 1 and "outside the range" in out.output
