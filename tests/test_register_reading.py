"""The same four enterprises, exported the ways officers export them, read to identical facts."""
import csv
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import policy_and_rules
from engine.errors import InputFileError
from engine.facts import Enterprise, YearMonth
from engine.register import read_register
from engine.uscc import make_uscc

AS_OF = date(2024, 6, 30)
POLICY = policy_and_rules()[0]
ID1, ID2, ID3, ID4 = (make_uscc(f"91500101MA5U4AB{n}X") for n in (1, 2, 3, 4))

EXPECTED = [
    Enterprise(enterprise_id=ID1, name="重庆甲机械有限公司", town="分水镇", town_code="500101144",
               in_park=False, industry_code="C3670", is_legal_person=True, established_on=date(2019, 5, 20),
               in_scope=False, revenue_last_year=Decimal("18505000.00"), revenue_ytd=Decimal("9200000.00"),
               ytd_through=YearMonth(year=2024, month=5), employees=1200, tags=("高技术", "数字经济")),
    Enterprise(enterprise_id=ID2, name="乙软件科技有限公司", town="高峰街道", town_code="500101027",
               in_park=True, industry_code="I6510", is_legal_person=True, established_on=date(2021, 3, 1),
               commissioned_on=date(2021, 10, 15), in_scope=True, in_scope_since=YearMonth(year=2022, month=1),
               origin="招商引资", revenue_last_year=Decimal("26000000.00"), profit_ytd=Decimal("-352500.00")),
    Enterprise(enterprise_id=ID3, name="丙食品厂", town="高梁镇", town_code="500101142", in_park=False,
               industry_code="C1391", is_legal_person=True, independent_accounting=True,
               established_on=date(2015, 8, 8), in_scope=False, production_status="半停产",
               months_without_output=2, mujun_class="B", revenue_last_year=Decimal("9999999.99")),
    Enterprise(enterprise_id=ID4, name="丁能源有限公司", town="九池街道", town_code="500101029", in_park=True,
               industry_code="D4411", is_legal_person=False, established_on=date(2010, 1, 1), in_scope=True,
               land_request_mu=Decimal("12.5"), power_request_kva=Decimal("800"), registration_status="存续"),
]

ENGLISH = ["enterprise_id", "name", "town", "in_park", "industry_code", "is_legal_person",
           "independent_accounting", "established_on", "commissioned_on", "in_scope", "in_scope_since",
           "origin", "revenue_last_year", "revenue_ytd", "ytd_through", "employees", "production_status",
           "months_without_output", "profit_ytd", "mujun_class", "land_request_mu", "power_request_kva",
           "tags", "registration_status"]
CHINESE = ["统一社会信用代码", "企业名称", "所属乡镇（街道）", "是否园内", "行业代码", "是否法人单位", "是否独立核算",
           "成立日期", "投产日期", "是否规上", "入统年月", "来源", "上年营业收入", "本年累计营业收入", "累计截至月份",
           "从业人员", "生产状态", "连续停产月数", "本年累计利润总额", "亩均效益评价", "用地需求（亩）",
           "用电需求（千伏安）", "标签", "登记状态"]

CLEAN_ROWS = [
    [ID1, "重庆甲机械有限公司", "分水镇", "false", "C3670", "true", "", "2019-05-20", "", "false", "", "",
     "1850.5", "920", "2024-05", "1200", "", "", "", "", "", "", "高技术;数字经济", ""],
    [ID2, "乙软件科技有限公司", "高峰街道", "true", "I6510", "true", "", "2021-03-01", "2021-10-15", "true",
     "2022-01", "招商引资", "2600", "", "", "", "", "", "-35.25", "", "", "", "", ""],
    [ID3, "丙食品厂", "高梁镇", "false", "C1391", "true", "true", "2015-08-08", "", "false", "", "",
     "999.999999", "", "", "", "半停产", "2", "", "B", "", "", "", ""],
    [ID4, "丁能源有限公司", "九池街道", "true", "D4411", "false", "", "2010-01-01", "", "true", "", "",
     "", "", "", "", "", "", "", "", "12.5", "800", "", "存续"],
]
# The same enterprises as an officer's Excel-made export: Chinese words, separators, full-width digits,
# former and short town names, codes, lower-case codes and 万元 written out.
OFFICER_ROWS = [
    [ID1.lower(), "重庆甲机械有限公司", "分水", "否", "c3670", "是", "", "2019年5月20日", "", "否", "", "",
     "1,850.50", "９２０万元", "2024年5月", "1,200", "", "", "", "", "", "", "高技术、数字经济、高技术", ""],
    [ID2, " 乙软件科技有限公司 ", "高峰镇", "是", "I6510", "是", "", "2021/3/1", "20211015", "√", "2022.01",
     "招商引资", "2,600.00", "", "", "", "", "", "-35.25", "", "", "", "", ""],
    [ID3, "丙食品厂", "500101142", "N", "C1391", "Y", "是", "2015.08.08", "", "×", "", "", "999.999999",
     "", "", "", "半停产", "2.0", "", "B", "", "", "；", ""],
    [ID4, "丁能源有限公司", "500101245", "1", "D4411", "0", "", "2010-1-1", "", "TRUE", "", "", "", "", "",
     "", "", "", "", "", "１２.５", "800", "", " 存续 "],
]


def write_csv(path: Path, header: list, rows: list, encoding: str, title: str | None = None) -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        if title:
            writer.writerow([title])
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read(path, **kw):
    return read_register(path, as_of=AS_OF, policy=POLICY, **kw)


def facts(result):
    assert result.rejected == [], [str(p) for r in result.rejected for p in r.problems]
    return [e for _, e in result.accepted]


def test_clean_utf8_csv_with_english_ids(tmp_path):
    result = read(write_csv(tmp_path / "e.csv", ENGLISH, CLEAN_ROWS, "utf-8"))
    assert facts(result) == EXPECTED
    assert [n for n, _ in result.accepted] == [2, 3, 4, 5]
    assert result.warnings == []


def test_gb18030_csv_with_chinese_headers_and_a_title_line(tmp_path):
    path = write_csv(tmp_path / "名录.csv", CHINESE, OFFICER_ROWS, "gb18030", title="2024年万州区工业企业名录")
    result = read(path)
    assert facts(result) == EXPECTED
    assert [n for n, _ in result.accepted] == [3, 4, 5, 6]   # row 1 title, row 2 header
    assert [(w.row, "title" in w.message) for w in result.warnings] == [(1, True)]


def test_utf8_bom_csv_with_amounts_in_yuan(tmp_path):
    header = [h.replace("上年营业收入", "上年营业收入（元）") for h in CHINESE]
    rows = [list(r) for r in OFFICER_ROWS]
    for row, yuan in zip(rows, ["18,505,000", "26000000.00", "9999999.99", ""]):
        row[12] = yuan
    assert facts(read(write_csv(tmp_path / "e.csv", header, rows, "utf-8-sig"))) == EXPECTED


def test_xlsx_with_merged_title_row_and_typed_cells(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2024年万州区工业企业名录"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(CHINESE))
    ws.append(CHINESE)
    typed = [
        [ID1, "重庆甲机械有限公司", "分水镇", False, "C3670", True, None, datetime(2019, 5, 20), None, False,
         None, None, 1850.5, 920, datetime(2024, 5, 1), 1200, None, None, None, None, None, None,
         "高技术;数字经济", None],
        [ID2, "乙软件科技有限公司", 500101027, True, "I6510", True, None, datetime(2021, 3, 1),
         datetime(2021, 10, 15), True, "2022-01", "招商引资", 2600, None, None, None, None, None, -35.25,
         None, None, None, None, None],
        [ID3, "丙食品厂", "高梁镇", "否", "C1391", "是", "是", "2015-08-08", None, "否", None, None,
         999.999999, None, None, None, "半停产", 2.0, None, "B", None, None, None, None],
        [ID4, "丁能源有限公司", "九池街道", 1, "D4411", 0, None, datetime(2010, 1, 1), None, 1, None, None,
         None, None, None, None, None, None, None, None, 12.5, 800, None, "存续"],
    ]
    for row in typed:
        ws.append(row)
    ws.append([None] * 5)
    wb.save(tmp_path / "e.xlsx")
    result = read(tmp_path / "e.xlsx")
    assert facts(result) == EXPECTED
    assert [n for n, _ in result.accepted] == [3, 4, 5, 6]
    assert result.warnings[0].row == 1 and "2024年万州区工业企业名录" in result.warnings[0].message


def test_json_list_of_objects(tmp_path):
    items = [{k: v for k, v in zip(ENGLISH, row) if v != ""} for row in CLEAN_ROWS]
    for item in items:
        for key in ("in_park", "is_legal_person", "in_scope", "independent_accounting"):
            if key in item:
                item[key] = item[key] == "true"
    items[0]["revenue_last_year"] = 1850.5          # a JSON number, read exactly
    items[0]["employees"] = 1200
    items[0]["tags"] = ["高技术", "数字经济"]
    del items[2]["months_without_output"]
    items[2]["连续停产月数"] = 2                      # an alias works as a key too
    path = tmp_path / "e.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    assert facts(read(path)) == EXPECTED


def test_xlsx_named_sheet_and_unknown_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表为示例"])
    ws = wb.create_sheet("名录")
    ws.append(ENGLISH)
    for row in CLEAN_ROWS:
        ws.append(row)
    wb.save(tmp_path / "e.xlsx")
    assert facts(read(tmp_path / "e.xlsx", sheet="名录")) == EXPECTED
    with pytest.raises(InputFileError, match='no sheet named "企业".*"说明", "名录"'):
        read(tmp_path / "e.xlsx", sheet="企业")


def test_blank_rows_are_skipped_and_counted_other_rows_all_accounted_for(tmp_path):
    rows = [CLEAN_ROWS[0], [""] * len(ENGLISH), ["", "  "], CLEAN_ROWS[1], ["x"]]
    result = read(write_csv(tmp_path / "e.csv", ENGLISH, rows, "utf-8"))
    assert [n for n, _ in result.accepted] == [2, 5]
    assert [r.row for r in result.rejected] == [6]
    assert result.total_rows == 3
    assert any("2 blank row(s) skipped (row 3, 4)" in w.message for w in result.warnings)


def test_unknown_column_is_reported_and_ignored_with_a_suggestion(tmp_path):
    header = ENGLISH + ["所属乡镇街道名称", "备注"]
    rows = [row + ["x", "y"] for row in CLEAN_ROWS]
    result = read(write_csv(tmp_path / "e.csv", header, rows, "utf-8"))
    assert facts(result) == EXPECTED
    assert [(w.column, w.row) for w in result.warnings] == [("所属乡镇街道名称", 1), ("备注", 1)]
    assert "unknown column, ignored" in str(result.warnings[1])


def test_duplicate_column_is_a_file_error(tmp_path):
    header = ENGLISH + ["企业名称"]
    with pytest.raises(InputFileError, match='"name" and "企业名称" both give name'):
        read(write_csv(tmp_path / "e.csv", header, [r + ["x"] for r in CLEAN_ROWS], "utf-8"))


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\n\n,,,\n", "the file is empty"),
    (b"a,b,c\n1,2,3\n", "no header row found"),
    (b"\xff\xfe\x00\xd8", "not readable as UTF-8 or GB18030"),
])
def test_unreadable_csv_files(tmp_path, content, message):
    path = tmp_path / "e.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read(path)


@pytest.mark.parametrize("name, content, message", [
    ("e.json", '{"enterprise_id": "x"}', "expected a JSON list of objects"),
    ("e.json", '[{"name": "x"}, 3]', "item 2 of the list is not an object"),
    ("e.json", "[{", "not valid JSON"),
    ("e.json", "[]", "empty"),
    ("e.xlsx", "not a zip", "not a readable .xlsx workbook"),
    ("e.xls", "", ".xls workbooks are not read"),
    ("e.txt", "", "unknown file type '.txt'"),
])
def test_unreadable_files_of_other_kinds(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=message):
        read(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        read(tmp_path / "nope.csv")
