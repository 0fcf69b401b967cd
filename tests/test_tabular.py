"""Output files officers open in Excel: no cell runs as a formula, money stays money, and a file name
made from data cannot leave the output folder."""
import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from engine.tabular import neutralise, safe_output_path, write_csv, write_xlsx

HOSTILE = ["=HYPERLINK(\"http://evil\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_text_is_disarmed(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value, shown", [("-5", "-5"), ("+1.50", "+1.50"), (Decimal("-352500.00"), "-352500.00"),
                                          (12, "12"), (None, ""), ("分水镇", "分水镇"), (date(2024, 3, 1), "2024-03-01")])
def test_numbers_and_plain_text_are_left_alone(value, shown):
    assert neutralise(value) == shown


def test_negative_number_text_is_disarmed_when_numbers_are_not_expected():
    assert neutralise("-5", numeric_ok=False) == "'-5"


def test_csv_has_bom_and_no_live_formula(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, ["企业名称", "=cmd"], [[text, Decimal("-1.50")] for text in HOSTILE])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["企业名称", "'=cmd"]
    assert [r[0] for r in rows[1:]] == ["'" + t for t in HOSTILE]
    assert {r[1] for r in rows[1:]} == {"-1.50"}


def test_csv_to_a_stream():
    stream = io.StringIO()
    write_csv(stream, ["a"], [["=1"]], bom=False)
    assert stream.getvalue() == "a\r\n'=1\r\n"


def test_xlsx_text_is_never_a_formula_and_money_is_a_number(tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsx(path, {"结果/2024": (["企业名称", "金额"], [[t, Decimal("18505000.00")] for t in HOSTILE]
                                    + [["ok\x01", date(2024, 3, 1)]])})
    wb = openpyxl.load_workbook(path)
    ws = wb["结果_2024"]
    cells = [[c for c in row] for row in ws.iter_rows(min_row=2)]
    assert all(row[0].data_type == "s" for row in cells)
    # (XML itself turns a stored \r into \n on reading.)
    assert [row[0].value for row in cells[:-1]] == ["'" + t.replace("\r", "\n") for t in HOSTILE]
    assert cells[0][1].value == 18505000 and cells[0][1].number_format == "#,##0.00"
    assert cells[-1][0].value == "ok\ufffd"
    assert cells[-1][1].value.date() == date(2024, 3, 1)


def test_xlsx_sheet_names_are_made_valid_and_unique(tmp_path):
    path = tmp_path / "out.xlsx"
    long = "很长的工作表名称" * 5
    write_xlsx(path, {long: (["a"], []), long + "x": (["a"], []), "a:b": (["a"], [])})
    names = openpyxl.load_workbook(path).sheetnames
    assert len(set(names)) == 3 and all(len(n) <= 31 for n in names)
    assert names[2] == "a_b"


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "etc_passwd"),
    ("a/b\\c", "a_b_c"),
    ("重庆甲机械有限公司.json", "重庆甲机械有限公司.json"),
    (".hidden", "hidden"),
    ("a\x00b\nc", "a_b_c"),
    ("CON", "_CON"),
])
def test_safe_output_path_stays_inside_the_folder(tmp_path, name, expected):
    path = safe_output_path(tmp_path, name)
    assert path == tmp_path / expected
    assert path.resolve().parent == tmp_path.resolve()


def test_safe_output_path_limits_length_and_keeps_the_extension(tmp_path):
    path = safe_output_path(tmp_path, "企" * 300 + ".csv")
    assert path.suffix == ".csv" and len(path.name) <= 100 and len(path.name.encode()) <= 240
    path.write_text("x")  # the file system accepts it


@pytest.mark.parametrize("name", ["", "..", "../..", "/", "\x00"])
def test_safe_output_path_refuses_names_with_nothing_left(tmp_path, name):
    with pytest.raises(ValueError):
        safe_output_path(tmp_path, name)
