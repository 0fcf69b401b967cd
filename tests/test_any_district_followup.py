"""#17, the rest: under an industry-only notice a software firm's town is not rewarded for it (the town
award follows the enterprise award it includes, also when the amount is 0), and the `check` summary
says which families the policy does not provide instead of counting them as 0."""
from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from cli import main
from engine.analysis.reform import Reform, apply_reform
from engine.columnar.evaluator import ColumnarEvaluator
from engine.evaluate import Evaluator, load_engine_inputs
from tests.districts import one_clause_notice as notice
from tests.test_award_run import firm, run_year

AS_OF = date(2024, 12, 31)
SOFTWARE = dict(industry_code="I6513", origin="招商引资", in_scope_since="2024-05", town="南湖街道")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    folder = notice.write(root)
    register = root / "register.csv"
    register.write_text(notice.register_csv() + f"{notice.uscc(8)},演示辛软件有限公司,南湖街道,否,I6513,是,"
                        "2015-04-18,是,2024-05,否,招商引资,2600.00,2024-12,2000.00,,存续\n", encoding="utf-8")
    return folder, register


def decisions(policy, book, ent, backend):
    if backend == "durable":
        return {d.type: d for d in Evaluator(policy, book, AS_OF).evaluate(ent).decisions}
    return {d.type: d for d in ColumnarEvaluator(policy, book, AS_OF).evaluate([ent])[0].decisions}


@pytest.mark.parametrize("backend", ["durable", "columnar"])
def test_an_industry_only_notice_rewards_no_town_for_a_software_firm(demo, backend):
    policy, book = load_engine_inputs(str(demo[0]))
    got = decisions(policy, book, firm("软", **SOFTWARE), backend)
    for family in ("enterprise_award", "town_award"):
        d = got[family]
        assert (d.outcome, d.reason, d.amount_yuan, d.beneficiary) == ("not_awarded", "no_amount_offered", None, None)
    industrial = decisions(policy, book, firm("工", **{**SOFTWARE, "industry_code": "C3484"}), backend)
    assert [industrial[f].amount_yuan for f in ("enterprise_award", "town_award")] == [80000, 20000]


@pytest.mark.parametrize("backend", ["durable", "columnar"])
def test_a_zero_enterprise_amount_takes_the_town_award_with_it(backend):
    policy, book = load_engine_inputs("example-district-2024")
    zero = apply_reform(policy, Reform(name="no software award", effective=date(2024, 1, 1),
                                       parameters={"enterprise_award_software": "0"}))
    got = decisions(zero, book, firm("软", industry_code="I6513", in_scope_since="2024-03", town="东湖街道"), backend)
    assert [(got[f].outcome, got[f].reason) for f in ("enterprise_award", "town_award")] == \
        [("not_awarded", "no_amount_offered")] * 2


def test_the_award_run_records_no_town_award_for_the_software_firm(demo, tmp_path):
    policy, book = load_engine_inputs(str(demo[0]))
    plan = run_year(tmp_path / "l.db", 2024, [firm("软", **SOFTWARE), firm("工", **{**SOFTWARE, "industry_code": "C3484"})],
                    policy=policy, book=book)
    assert sorted((a.name, a.kind) for a in plan.new_awards) == [("测试企业工", "enterprise"), ("测试企业工", "town")]


@pytest.mark.parametrize("engine", ["durable", "columnar"])
def test_explain_and_csv_say_the_town_award_follows_the_enterprise_award(demo, engine):
    folder, register = demo
    common = [str(register), "--as-of", "2024-12-31", "--policy", str(folder)]
    text = CliRunner().invoke(main, ["explain", notice.uscc(8), *common, "--lang", "en"]).output
    assert "offers no award to a newly upgraded enterprise for this firm, and this award follows it" in text
    csv = CliRunner().invoke(main, ["check", *common, "--format", "csv", "--lang", "en", "--engine", engine]).output
    row = next(line for line in csv.splitlines() if line.startswith(notice.uscc(8)))
    assert ",not_awarded,enterprise_award.conclusion," in row and ",not_awarded,town_award.conclusion,,,," in row


@pytest.mark.parametrize("engine", ["durable", "columnar"])
def test_the_check_summary_says_what_the_policy_does_not_provide(demo, engine):
    folder, register = demo
    common = [str(register), "--as-of", "2024-12-31", "--policy", str(folder), "--engine", engine]
    zh = CliRunner().invoke(main, ["check", *common]).output.strip().splitlines()[-1]
    assert zh == ("共 8 户企业；升规入统：本政策未规定，培育库：本政策未规定，企业奖励 4 户，乡镇（街道）奖励 4 户，"
                  "要素优先保障：本政策未规定，退规预警：本政策未规定。")
    en = CliRunner().invoke(main, ["check", *common, "--lang", "en"]).output.strip().splitlines()[-1]
    assert "cultivation pool: not provided by this policy" in en and "enterprise awards 4" in en
    assert "early warnings: not provided by this policy" in en and " 0" not in en


def test_a_policy_with_every_family_still_counts_them():
    register = "policies/example-district-2024/sample-registers/2024.csv"
    out = CliRunner().invoke(main, ["check", register, "--as-of", "2024-12-31", "--policy", "example-district-2024"])
    last = out.output.strip().splitlines()[-1]
    assert "符合升规入统条件 0 户" in last and "红色预警 0 户、黄色预警 0 户" in last and "本政策未规定" not in last
