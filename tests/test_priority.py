"""Priority land and power (三(三)): the ranking's exact score, the tie-break, and the walk through the
quotas (exact fit, one over, zero quota, no request, partial allocation off and on), on firms
evaluated by the engine; then the command on the sample register."""
from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from click.testing import CliRunner

from cli import main
from engine.errors import PolicyDataError
from engine.analysis.reform import Reform, apply_reform
from engine.analysis.priority import allocate, allocation_json, load_ranking_spec, ranking_spec_path, render_allocation
from tests.conftest import ROOT, enterprise, evaluator, policy_and_rules

AS_OF = date(2024, 12, 31)
REGISTER = str(ROOT / "examples" / "register.csv")


def firm(name: str, ytd: str = "1250", ytd_last: str = "1000", since: str = "2024-03", land=None, power=None,
         mujun="未评价", **facts):
    """A firm eligible for priority unless told otherwise (growth 25% by default)."""
    values = dict(name=name, town="五桥街道", in_park=True, industry_code="C3670", is_legal_person=True,
                  established_on="2015-01-01", in_scope=True, in_scope_since=since, revenue_last_year="2500",
                  revenue_ytd=ytd, revenue_ytd_last_year=ytd_last, ytd_through="2024-11",
                  land_request_mu=land, power_request_kva=power, mujun_class=mujun)
    return enterprise(**{**values, **facts})


def run_allocation(firms, land, power, policy=None):
    base, book = policy_and_rules()
    results = [evaluator(AS_OF).evaluate(f) for f in firms]
    return allocate(results, policy or base, book, AS_OF, {"land": Decimal(str(land)), "power": Decimal(str(power))})


def by_name(alloc):
    return {line.firm.name: line for line in alloc.lines}


def explanation(alloc, name):
    _, book = policy_and_rules()
    doc = allocation_json(alloc, book, "zh")
    return next(r["explanation"] for r in doc["ranked"] + doc["not_ranked"] if r["name"] == name)


# ---------------------------------------------------------------- score

def test_score_is_the_exact_sum_of_its_components():
    # growth 1/3 (400 vs 300): 100/3 points, never rounded; unrated 20; year of inclusion 20.
    alloc = run_allocation([firm("三分之一", ytd="400", ytd_last="300", land=1)], 10, 10)
    f = alloc.lines[0].firm
    assert [c.points for c in f.components] == [Fraction(100, 3), Fraction(20), Fraction(20)]
    assert f.score == Fraction(220, 3) and isinstance(f.score, Fraction)
    _, book = policy_and_rules()
    row = allocation_json(alloc, book, "zh")["ranked"][0]
    assert row["score_fraction"] == "220/3" and row["score_exact"] is False and row["score"] == "73.333333"
    assert "得分 约73.333333 = 成长性 约33.333333 + 亩均效益评价 20 + 入统年限 20" in row["explanation"]


def test_growth_is_counted_up_to_its_cap_and_the_explanation_says_so():
    alloc = run_allocation([firm("翻倍以上", ytd="3500", ytd_last="100", land=1)], 10, 10)
    growth = alloc.lines[0].firm.components[0]
    assert growth.capped and growth.counted == 1 and growth.points == 100
    assert "超过计分上限 100.00%，按上限计；1 × 100 = 100" in explanation(alloc, "翻倍以上")


def test_mujun_class_and_years_since_inclusion_score_as_the_parameters_say():
    alloc = run_allocation([firm("甲类次年", since="2023-05", mujun="A", land=1),
                            firm("未评价当年", since="2024-05", land=1)], 10, 10)
    lines = by_name(alloc)
    assert [c.points for c in lines["甲类次年"].firm.components] == [25, 30, 10]
    assert [c.points for c in lines["未评价当年"].firm.components] == [25, 20, 20]
    assert [c.basis for c in lines["未评价当年"].firm.components] == ["scaled", "listed", "listed"]


def test_a_weight_change_is_data_only():
    base, _ = policy_and_rules()
    doubled = apply_reform(base, Reform(name="growth counts double", effective=date(2024, 1, 1),
                                        parameters={"priority_weight_growth": 200}))
    alloc = run_allocation([firm("增速", land=1)], 10, 10, policy=doubled)
    assert alloc.lines[0].firm.score == 50 + 20 + 20


# ---------------------------------------------------------------- quotas

def test_exact_fit_is_granted_and_leaves_nothing():
    alloc = run_allocation([firm("甲", ytd="1500", land="20", power="1000"),
                            firm("乙", ytd="1300", land="30", power="3000")], 50, 4000)
    assert [l.outcome for l in alloc.lines] == ["allocated", "allocated"]
    assert alloc.remaining == {"land": 0, "power": 0}


def test_one_over_is_not_allocated_and_the_shortfall_is_stated():
    alloc = run_allocation([firm("甲", ytd="1500", land="20", power="1000"),
                            firm("乙", ytd="1300", land="30", power="3001")], 50, 4000)
    line = by_name(alloc)["乙"]
    assert line.outcome == "not_allocated"
    power = next(g for g in line.grants if g.resource == "power")
    land = next(g for g in line.grants if g.resource == "land")
    assert (power.before, power.granted, power.shortfall) == (3000, 0, 1)
    assert (land.before, land.granted, land.shortfall) == (30, 0, 0)
    assert alloc.remaining == {"land": 30, "power": 3000}
    text = explanation(alloc, "乙")
    assert "缺 1 千伏安" in text and "本项够用" in text and "不部分分配" in text


def test_zero_quota_grants_nothing_but_a_firm_needing_none_of_it_is_served():
    alloc = run_allocation([firm("要地", ytd="1500", land="10"), firm("要电", ytd="1300", power="500")], 0, 500)
    lines = by_name(alloc)
    assert lines["要地"].outcome == "not_allocated"
    assert lines["要地"].grants[0].shortfall == 10
    assert lines["要电"].outcome == "allocated"        # requests no land, so a zero land quota does not stop it
    assert alloc.remaining == {"land": 0, "power": 0}


def test_a_firm_with_no_request_is_ranked_and_takes_nothing():
    alloc = run_allocation([firm("无需求", ytd="2000"), firm("有需求", ytd="1300", land="5", power="5")], 5, 5)
    lines = by_name(alloc)
    assert lines["无需求"].firm.rank == 1 and lines["无需求"].outcome == "nothing_requested"
    assert all(g.before == g.after == 5 for g in lines["无需求"].grants)
    assert lines["有需求"].outcome == "allocated"
    assert "未提出需求，无需分配，配额不变" in explanation(alloc, "无需求")


def test_a_request_that_does_not_fit_does_not_block_a_smaller_one_below_it():
    alloc = run_allocation([firm("大", ytd="1500", land="40"), firm("小", ytd="1300", land="10")], 30, 0)
    assert [(l.firm.name, l.outcome) for l in alloc.lines] == [("大", "not_allocated"), ("小", "allocated")]


def test_partial_allocation_only_when_the_parameter_allows_it():
    firms = [firm("甲", ytd="1500", land="20", power="1000"), firm("乙", ytd="1300", land="40", power="1000")]
    off = by_name(run_allocation(firms, 50, 4000))["乙"]
    assert off.outcome == "not_allocated" and [g.granted for g in off.grants] == [0, 0]
    base, _ = policy_and_rules()
    allowing = apply_reform(base, Reform(name="partial", effective=date(2024, 1, 1),
                                         parameters={"priority_partial_allocation": True}))
    alloc = run_allocation(firms, 50, 4000, policy=allowing)
    on = by_name(alloc)["乙"]
    assert on.outcome == "partially_allocated"
    assert [(g.granted, g.shortfall) for g in on.grants] == [(30, 10), (1000, 0)]
    assert "部分保障" in explanation(alloc, "乙")


# ---------------------------------------------------------------- ties

def test_ties_are_broken_in_the_stated_order_and_explained():
    # Same score (growth 25%, unrated, year of inclusion): earlier inclusion first, then the smaller land
    # request, then the smaller power request, then the enterprise id.
    firms = [firm("后入统", since="2024-05", land="5"), firm("先入统", since="2024-02", land="50"),
             firm("地多", since="2024-06", land="8", power="1"), firm("地少", since="2024-06", land="3", power="9")]
    alloc = run_allocation(firms, 100, 100)
    assert len({l.firm.score for l in alloc.lines}) == 1
    assert [l.firm.name for l in alloc.lines] == ["先入统", "后入统", "地少", "地多"]
    assert "按入统年月由小到大排在其前（本企业 2024-02，对方 2024-05）" in explanation(alloc, "先入统")
    assert "入统年月也相同，按用地需求（亩）由小到大排在其前" in explanation(alloc, "地少")
    spec_text = render_allocation(alloc, policy_and_rules()[1], "zh")
    assert "同分次序：得分由大到小；入统年月由小到大" in spec_text


def test_identical_firms_are_ordered_by_enterprise_id():
    twins = [firm(f"孪生{i}", land="1") for i in range(3)]
    alloc = run_allocation(twins, 10, 10)
    ids = [l.firm.enterprise_id for l in alloc.lines]
    assert ids == sorted(ids)
    assert "统一社会信用代码由小到大" in explanation(alloc, alloc.lines[0].firm.name)


def test_the_ranking_does_not_depend_on_input_order():
    firms = [firm(f"企业{i}", ytd=str(1200 + 10 * (i % 3)), since=f"2024-0{1 + i % 2}", land=str(i)) for i in range(8)]
    _, book = policy_and_rules()
    first = allocation_json(run_allocation(firms, 15, 0), book, "en")
    random.Random(7).shuffle(firms)
    assert allocation_json(run_allocation(firms, 15, 0), book, "en") == first


# ---------------------------------------------------------------- who is ranked

def test_only_eligible_firms_are_ranked_and_the_others_say_why():
    alloc = run_allocation([firm("合格", land="1"), firm("增速不够", ytd="1100", land="9"),
                            firm("规下", in_scope=False, since=None)], 10, 10)
    assert [l.firm.name for l in alloc.lines] == ["合格"]
    others = {n.name: n for n in alloc.not_ranked}
    assert others["增速不够"].decision_outcome == "not_eligible"
    assert [r.id for r, _, _ in others["增速不够"].reasons] == ["land_power_priority.growth"]
    text = explanation(alloc, "增速不够")
    assert "营业收入同比增速达到成长性标准" in text and "要求不低于 20.00%" in text and "不参加分配" in text


# ---------------------------------------------------------------- the ranking spec is validated data

def spec_copy(tmp_path, old: str, new: str):
    text = ranking_spec_path(policy_and_rules()[0]).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "priority_ranking.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_misspelt_key_in_the_ranking_spec_is_refused(tmp_path):
    with pytest.raises(PolicyDataError, match=r"priority_ranking.yaml: components.0.scaled.wieght: unknown key"):
        load_ranking_spec(spec_copy(tmp_path, "weight: priority_weight_growth", "wieght: priority_weight_growth"))


def test_an_unknown_parameter_in_the_ranking_spec_is_refused_with_a_suggestion(tmp_path):
    spec = load_ranking_spec(spec_copy(tmp_path, "B: priority_points_mujun_b", "B: priority_points_mujun_bb"))
    base, book = policy_and_rules()
    with pytest.raises(PolicyDataError, match="did you mean 'priority_points_mujun_b'"):
        allocate([], base, book, AS_OF, {"land": Decimal(1), "power": Decimal(1)}, spec=spec)


def test_the_tie_break_must_end_on_a_unique_key(tmp_path):
    with pytest.raises(PolicyDataError, match="the last tie_break key must be `enterprise_id`"):
        load_ranking_spec(spec_copy(tmp_path, "  - {key: enterprise_id, order: asc}\n", ""))


# ---------------------------------------------------------------- the command on the sample register

def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_priority_command_on_the_sample_register_explains_every_firm():
    result = cli("priority", REGISTER, "--as-of", "2024-12-31", "--land-quota", "50", "--power-quota", "4000",
                 "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    ranked = [(r["rank"], r["name"], r["score"], r["outcome"]) for r in doc["ranked"]]
    assert ranked == [(1, "重庆万州昱辰新材料有限公司", "140", "allocated"),
                      (2, "重庆万州汀兰制药有限公司", "65", "nothing_requested"),
                      (3, "重庆万州琨睿电子材料有限公司", "60", "not_allocated"),
                      (4, "重庆万州骁远智能装备有限公司", "55", "not_allocated")]
    assert len(doc["ranked"]) + len(doc["not_ranked"]) == 50
    for row in doc["ranked"] + doc["not_ranked"]:
        assert row["explanation"].strip(), row["name"]
    for row in doc["ranked"]:
        assert "得分" in row["explanation"] and "名次" in row["explanation"] and "分配前剩余" in row["explanation"] \
            or row["outcome"] == "nothing_requested"
    assert doc["remaining"] == {"land": "25", "power": "1500"}
    assert all(p["provenance"] == "assumed" for p in doc["parameters"])


def test_priority_command_table_in_both_languages():
    zh = cli("priority", REGISTER, "--as-of", "2024-12-31", "--land-quota", "50", "--power-quota", "4000")
    assert zh.exit_code == 0
    assert "1     重庆万州昱辰新材料有限公司    140" in zh.output and "结论：全额保障" in zh.output
    en = cli("priority", REGISTER, "--as-of", "2024-12-31", "--land-quota", "0", "--power-quota", "0", "--lang", "en")
    assert en.exit_code == 0 and "not allocated" in en.output and "short by 25 mu" in en.output


def test_priority_command_needs_both_quotas_and_refuses_a_negative_one():
    missing = cli("priority", REGISTER, "--as-of", "2024-12-31", "--land-quota", "5")
    assert missing.exit_code == 2 and "--power-quota" in missing.output
    negative = cli("priority", REGISTER, "--as-of", "2024-12-31", "--land-quota", "-1", "--power-quota", "5")
    assert negative.exit_code == 2 and "expected a number ≥ 0" in negative.output
    assert "Example" in cli("priority", "-h").output


def test_the_ranking_alone_is_available_without_quotas():
    from engine.analysis.priority import rank_eligible
    base, book = policy_and_rules()
    results = [evaluator(AS_OF).evaluate(f) for f in (firm("慢", ytd="1200"), firm("快", ytd="1600"))]
    assert [f.name for f in rank_eligible(results, base, book, AS_OF)] == ["快", "慢"]
