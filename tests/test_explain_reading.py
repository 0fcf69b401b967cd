"""Explanations that read right to a finance reviewer: alternatives say that one suffices and which one
held, an alternative that did not hold is not a failure, advice only where a figure can move, and a
short form and a filter for a long explanation."""
from __future__ import annotations

from click.testing import CliRunner

from cli import main
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"
AWARDED = "915001017P5X326G0R"          # in scope in 2024, industrial: awarded
BELOW_SCALE = "915001017N0TR346AU"      # 1,999.99万元 last year: not eligible, not 规上


def explain(*args):
    result = CliRunner().invoke(main, ["explain", args[0], str(REGISTER), "--as-of", "2024-12-31", *args[1:]])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_any_of_group_says_one_suffices_and_which_held():
    text = explain(AWARDED, "--type", "enterprise_award")
    line = next(l for l in text.splitlines() if "属于规上工业或软件信息服务业企业" in l)
    assert "满足其一即可，满足的是：工业企业（行业门类在规上工业统计范围内，参数所列）" in line
    # The software alternative did not hold; it is not shown as a failed condition.
    assert "    · 行业大类 C36，要求属于 I63、I64、I65" in text
    assert "✗ 行业大类" not in text


def test_a_met_rule_shows_no_failed_condition():
    text = explain(AWARDED, "--type", "enterprise_award")
    block = text.split("小升规新进规上工业企业奖励金额")[1].split("\n– ")[0]
    assert "✗" not in block and "来源 小升规，要求未填写" in block


def test_advice_only_where_a_figure_can_move():
    text = explain(BELOW_SCALE)
    assert "若要满足：上年营业收入增加0.01万元" in text
    assert "若要满足：是否规上" not in text


def test_english_says_one_suffices():
    text = explain(AWARDED, "--type", "enterprise_award", "--lang", "en")
    assert "(any one suffices; the one met: industrial enterprise (a GB/T 4754 section the parameter counts as industry))" in text


def test_type_filters_to_one_decision():
    text = explain(AWARDED, "--type", "town_award")
    assert "【所属乡镇（街道）奖励】" in text and "【新进规上企业奖励】" not in text


def test_brief_gives_conclusion_reason_amount_and_basis_in_fifteen_lines():
    text = explain(BELOW_SCALE, "--brief")
    lines = text.strip().splitlines()
    assert len(lines) <= 15
    assert "【升规入统资格】暂不符合升规入统条件；依据 二(四)" in text
    assert "上年营业收入 1,999.99万元，要求不低于 2,000.00万元，差 0.01万元" in text
    awarded = explain(AWARDED, "--brief")
    assert "【新进规上企业奖励】给予奖励，10.00万元（100,000.00元）；依据 三(一)" in awarded
