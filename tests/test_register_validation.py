"""One test per message an officer can get about a bad row or a bad file: the row is rejected, the
others still go through, and the message says where, what and what was expected."""
import csv
from datetime import date

import pytest

from tests.conftest import policy_and_rules
from engine.errors import InputFileError
from engine.register import InputProblem, read_register, write_rejected
from engine.uscc import make_uscc

AS_OF = date(2024, 6, 30)
POLICY = policy_and_rules()[0]
GOOD = {"统一社会信用代码": make_uscc("91500101MA5U4AB1X"), "企业名称": "甲公司", "所属乡镇（街道）": "分水镇",
        "是否园内": "否", "行业代码": "C3670", "是否法人单位": "是", "成立日期": "2019-05-20", "是否规上": "否"}
OTHER = {**GOOD, "统一社会信用代码": make_uscc("91500101MA5U4AB2X"), "企业名称": "乙公司"}


def read_rows(tmp_path, *rows: dict, name="企业名录.csv"):
    header = list(dict.fromkeys(k for row in rows for k in row))
    path = tmp_path / name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([[row.get(h, "") for h in header] for row in rows])
    return read_register(path, as_of=AS_OF, policy=POLICY)


def only_problems(tmp_path, **changes) -> list[str]:
    """Messages of the one bad row (row 3), after checking the good row 2 still went through."""
    result = read_rows(tmp_path, OTHER, {**GOOD, **changes})
    assert [n for n, _ in result.accepted] == [2]
    assert [r.row for r in result.rejected] == [3]
    return [str(p) for p in result.rejected[0].problems]


def test_unknown_town_suggests_the_look_alike_character(tmp_path):
    assert only_problems(tmp_path, **{"所属乡镇（街道）": "高粱镇"}) == [
        f'{tmp_path / "企业名录.csv"} row 3, column 所属乡镇（街道）: unknown town "高粱镇"; did you mean "高梁镇"?']


@pytest.mark.parametrize("written, town", [("高峰镇", "高峰街道"), ("分水", "分水镇"), ("地宝乡", "地宝土家族乡"),
                                           ("500101144", "分水镇"), ("九池街道（500101245）", "九池街道"),
                                           ("万州区分水镇", "分水镇"), ("高峰街道办事处", "高峰街道")])
def test_town_spellings_that_resolve(tmp_path, written, town):
    result = read_rows(tmp_path, {**GOOD, "所属乡镇（街道）": written})
    assert [e.town for _, e in result.accepted] == [town]


@pytest.mark.parametrize("written, suggestion", [("沙河镇", '"沙河街道"'), ("壤渡镇", '"瀼渡镇"'),
                                                 ("分水乡", '"分水镇"')])
def test_unknown_town_suggestions(tmp_path, written, suggestion):
    [message] = only_problems(tmp_path, **{"所属乡镇（街道）": written})
    assert message.endswith(f'unknown town "{written}"; did you mean {suggestion}?')


def test_town_code_and_name_that_disagree(tmp_path):
    assert "code 500101144 is 分水镇 but the name says \"高梁镇\"" in \
        only_problems(tmp_path, **{"所属乡镇（街道）": "500101144 高梁镇"})[0]


def test_bad_uscc_says_what_is_wrong(tmp_path):
    good = GOOD["统一社会信用代码"]
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    [message] = only_problems(tmp_path, **{"统一社会信用代码": bad})
    assert f'column 统一社会信用代码: "{bad}": check character is' in message
    assert f"should be '{good[17]}'" in message


def test_bad_boolean_lists_what_is_accepted(tmp_path):
    [message] = only_problems(tmp_path, **{"是否园内": "园中"})      # 园内/园外 are the policy's words (vocabulary.yaml)
    assert message.endswith('column 是否园内: "园中" is not a yes/no value; accepted: 是/否, Y/N, true/false, 1/0, √/× '
                            "(or another name the policy's vocabulary.yaml gives: 园内=是, 园外=否)")


def test_month_only_date_is_not_completed(tmp_path):
    [message] = only_problems(tmp_path, **{"成立日期": "2019.05"})
    assert 'column 成立日期: "2019.05" gives a month but no day' in message
    assert "never guessed" in message


def test_ambiguous_year_month_from_an_excel_number(tmp_path):
    [message] = only_problems(tmp_path, **{"入统年月": "2023.1", "是否规上": "是"})
    assert '"2023.1" is ambiguous: it may be 2023.10' in message


def test_negative_revenue_is_refused_but_negative_profit_is_not(tmp_path):
    [message] = only_problems(tmp_path, **{"上年营业收入": "-5"})
    assert 'column 上年营业收入: "-5" is negative' in message
    result = read_rows(tmp_path, {**GOOD, "本年累计利润总额": "-12.5"})
    assert [str(e.profit_ytd) for _, e in result.accepted] == ["-125000.00"]


def test_amount_more_precise_than_a_fen(tmp_path):
    [message] = only_problems(tmp_path, **{"上年营业收入": "1850.1234567"})
    assert '"1850.1234567" 万元 is more precise than 0.01 元 (at most 6 decimal places in 万元)' in message


def test_amount_in_yuan_column_more_precise_than_a_fen(tmp_path):
    result = read_rows(tmp_path, {**GOOD, "上年营业收入（元）": "18505000.001"})
    assert "at most 2 decimal places in 元" in str(result.rejected[0].problems[0])


@pytest.mark.parametrize("header, written", [("revenue_last_year_yuan", "18,505,000"),
                                             ("上年营业收入(元)", "18505000元"), ("上年营业收入（万元）", "1850.5万元")])
def test_money_header_decides_the_unit(tmp_path, header, written):
    result = read_rows(tmp_path, {**GOOD, header: written})
    assert [str(e.revenue_last_year) for _, e in result.accepted] == ["18505000.00"]


def test_amount_written_in_the_other_unit(tmp_path):
    [message] = only_problems(tmp_path, **{"上年营业收入": "18505000元"})
    assert '"18505000元" is in 元 but this column is in 万元' in message


def test_non_numeric_amount_names_the_value(tmp_path):
    [message] = only_problems(tmp_path, **{"上年营业收入": "约两千万"})
    assert '"约两千万" is not a number; expected an amount in 万元' in message


def test_whole_number_column_refuses_a_fraction(tmp_path):
    [message] = only_problems(tmp_path, **{"从业人员": "12.5"})
    assert '"12.5" is not a whole number' in message


def test_enum_suggests_the_allowed_value(tmp_path):
    [message] = only_problems(tmp_path, **{"亩均效益评价": "a"})
    assert '"a" is not one of A / B / C / D / 未评价; did you mean "A"?' in message


def test_duplicate_enterprise_ids_reject_every_copy_naming_the_others(tmp_path):
    result = read_rows(tmp_path, GOOD, OTHER, {**GOOD, "企业名称": "甲公司（重复）"},
                       {**GOOD, "统一社会信用代码": " " + GOOD["统一社会信用代码"].lower()})
    assert [n for n, _ in result.accepted] == [3]
    messages = {r.row: [p.message for p in r.problems] for r in result.rejected}
    assert list(messages) == [2, 4, 5]
    assert "also appears in row 4, 5" in messages[2][0]
    assert "also appears in row 2, 5" in messages[4][0]
    assert "also appears in row 2, 4" in messages[5][0]


def test_ytd_through_after_the_as_of_date(tmp_path):
    [message] = only_problems(tmp_path, **{"本年累计营业收入": "900", "累计截至月份": "2024-07"})
    assert 'column 累计截至月份: "2024-07" is after the as-of date 2024-06-30' in message


def test_revenue_ytd_needs_ytd_through(tmp_path):
    [message] = only_problems(tmp_path, **{"本年累计营业收入": "900", "累计截至月份": ""})
    assert "column 累计截至月份: ytd_through is required with revenue_ytd" in message


def test_in_scope_since_after_the_as_of_date(tmp_path):
    [message] = only_problems(tmp_path, **{"是否规上": "是", "入统年月": "2024年8月"})
    assert 'column 入统年月: "2024-08" is after the as-of date' in message


def test_required_value_empty(tmp_path):
    [message] = only_problems(tmp_path, **{"行业代码": " "})
    assert "column 行业代码: industry_code (行业代码) is required but the cell is empty" in message


def test_a_row_gets_all_its_problems_at_once(tmp_path):
    problems = only_problems(tmp_path, **{"所属乡镇（街道）": "高粱镇", "是否园内": "也许", "行业代码": "X1",
                                          "成立日期": "2019-02-30", "上年营业收入": "-1"})
    columns = [p.split("column ")[1].split(":")[0] for p in problems]
    assert sorted(columns) == sorted(["所属乡镇（街道）", "是否园内", "行业代码", "成立日期", "上年营业收入"])


def test_missing_required_columns_lists_missing_and_found(tmp_path):
    row = {k: v for k, v in GOOD.items() if k not in ("是否园内", "是否规上")}
    with pytest.raises(InputFileError) as exc:
        read_rows(tmp_path, {**row, "备注": ""})
    message = str(exc.value)
    assert "missing required column(s): in_park (是否园内), in_scope (是否规上)" in message
    assert 'columns found: "统一社会信用代码", "企业名称", "所属乡镇（街道）", "行业代码"' in message
    assert '"备注"' in message


def test_problem_text_without_row_or_column():
    assert str(InputProblem("a.csv", None, None, "3 blank row(s) skipped")) == "a.csv: 3 blank row(s) skipped"
    assert str(InputProblem("a.csv", None, "备注", "unknown column")) == "a.csv column 备注: unknown column"


def test_rejected_rows_file_keeps_the_original_cells_and_all_errors(tmp_path):
    result = read_rows(tmp_path, OTHER, {**GOOD, "企业名称": "=HYPERLINK(\"http://x\")", "是否园内": "也许",
                                         "上年营业收入": "-1"})
    out = tmp_path / "rejected.csv"
    write_rejected(result, out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        header, row = list(csv.reader(fh))
    assert header == result.headers + ["error"]
    assert row[1] == "'=HYPERLINK(\"http://x\")"      # the formula cannot run when Excel opens the file
    assert row[2:4] == ["分水镇", "也许"]
    assert row[-1].startswith('是否园内: "也许" is not a yes/no value') and '; 上年营业收入: "-1"' in row[-1]
