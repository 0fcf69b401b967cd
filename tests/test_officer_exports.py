"""The workbooks officers open in Excel: numbers that sum, formats that show money as money, a header
that stays put and filters, outcomes in the run's language, one row per award whose column sums to
the total the run prints, and the audit decision id beside each award."""
from __future__ import annotations

import re
from decimal import Decimal

import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from engine.render import money_margin
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"
OUTCOMES_ZH = {"符合", "不符合", "不适用", "数据不足", "给予奖励", "不予奖励", "红色预警", "黄色预警", "无预警"}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def sheet_rows(ws):
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    return header, rows[1:]


@pytest.fixture(scope="module")
def check_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("check") / "decisions.xlsx"
    result = run("check", REGISTER, "--as-of", "2024-12-31", "--out", out)
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(out)


def test_check_workbook_header_is_frozen_and_filtered(check_book):
    ws = check_book.active
    assert ws.title == "评价结果"
    assert ws.freeze_panes == "A2"
    header, rows = sheet_rows(ws)
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}{len(rows) + 1}"
    assert ws.column_dimensions["B"].width >= 20          # names are not cut to Excel's default 8.43


def test_check_workbook_amounts_are_numbers_that_sum(check_book):
    header, rows = sheet_rows(check_book.active)
    col = header.index("企业奖励金额（元）")
    amounts = [r[col] for r in rows if r[col].value is not None]
    assert amounts and all(c.data_type == "n" and c.number_format == "#,##0.00" for c in amounts)
    awarded = [r for r in rows if r[header.index("企业奖励")].value == "给予奖励"]
    assert sum(c.value for c in amounts) == 100000 * len(awarded)
    # Beside each amount, what it rests on: 80号文 states no amount, so every award is an assumed figure.
    assert {r[header.index("企业奖励金额依据")].value for r in awarded} == {"假定值（待确认）"}


def test_check_workbook_speaks_chinese_with_codes_hidden_beside(check_book):
    ws = check_book.active
    header, rows = sheet_rows(ws)
    shown = {r[header.index(h)].value for r in rows for h in ("升规入统", "动态培育库", "企业奖励", "退规预警")}
    assert shown <= OUTCOMES_ZH and "符合" in shown
    assert {r[header.index("是否园内")].value for r in rows} == {"是", "否"}
    assert rows[0][header.index("评价日期")].is_date
    code_col = header.index("upgrade_eligibility.outcome")
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(code_col + 1)].hidden
    assert {r[code_col].value for r in rows} >= {"eligible", "not_eligible"}


def test_check_workbook_says_why_with_the_margin_rounded(check_book):
    header, rows = sheet_rows(check_book.active)
    by_id = {r[0].value: r for r in rows}
    reason = by_id["915001017N0TR346AU"][header.index("升规入统原因/差额")].value
    assert "上年营业收入 1,999.99万元，要求不低于 2,000.00万元，差 0.01万元" in reason
    assert "\n" not in reason
    # A "yes" needs no reason.
    assert by_id["9150010171EW5LMGRM"][header.index("升规入统原因/差额")].value is None


def test_a_below_scale_firm_has_no_missing_data_for_awards_it_cannot_get(check_book):
    header, rows = sheet_rows(check_book.active)
    firm = next(r for r in rows if r[0].value == "915001017N0TR346AU")
    assert firm[header.index("企业奖励")].value == "不予奖励"
    assert not firm[header.index("缺少数据")].value


def test_check_workbook_carries_the_audit_decision_id(check_book, tmp_path):
    header, rows = sheet_rows(check_book.active)
    col = header.index("企业奖励决定编号")
    ids = {r[0].value: r[col].value for r in rows if r[col].value}
    audit = run("audit", REGISTER, "--as-of", "2024-12-31", "--out", tmp_path / "audit")
    recorded = {line.split("\t")[1] for line in audit.output.splitlines() if "enterprise_award" in line}
    assert ids and set(ids.values()) == recorded


def test_english_workbook_is_english(tmp_path):
    out = tmp_path / "en.xlsx"
    assert run("check", REGISTER, "--as-of", "2024-12-31", "--lang", "en", "--out", out).exit_code == 0
    ws = openpyxl.load_workbook(out).active
    header, rows = sheet_rows(ws)
    assert not any(CJK.search(h) for h in header)
    assert {r[header.index("Entry to scope")].value for r in rows} <= {"eligible", "not eligible", "not applicable",
                                                                       "insufficient data"}
    reasons = [r[header.index("Entry to scope: reason/shortfall")].value for r in rows]
    assert any(r and "short by" in r for r in reasons)


# ------------------------------------------------------------------------------------------- awards
@pytest.fixture(scope="module")
def award_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("awards")
    ledger = folder / "a.db"
    printed = run("awards", REGISTER, "--year", 2024, "--ledger", ledger).output
    out = folder / "awards.xlsx"
    assert run("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--format", "xlsx", "--out", out).exit_code == 0
    return printed, openpyxl.load_workbook(out)


def printed_total(text: str, what: str) -> Decimal:
    found = re.search(what + r" [\d,.]+万元（([\d,.]+)元）", text)
    assert found, text[-400:]
    return Decimal(found.group(1).replace(",", ""))


def test_award_sheet_has_one_row_per_award_and_sums_to_the_printed_total(award_run):
    printed, book = award_run
    ws = book["奖励明细"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    header, rows = sheet_rows(ws)
    keys = [(r[0].value, r[header.index("奖励对象类型")].value) for r in rows]
    assert len(keys) == len(set(keys)) == 12
    col = header.index("奖励金额（元）")
    assert all(r[col].data_type == "n" and r[col].number_format == "#,##0.00" for r in rows)
    assert sum(Decimal(str(r[col].value)) for r in rows) == printed_total(printed, "新增奖励") == Decimal("720000")
    payable = header.index("本年应付（元）")
    assert sum(Decimal(str(r[payable].value)) for r in rows) == printed_total(printed, "本年应付")
    assert all(len(r[header.index("决定编号")].value) == 64 for r in rows)


def test_town_sheet_rows_add_up_to_its_total_row(award_run):
    printed, book = award_run
    ws = book["乡镇（街道）汇总"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    header, rows = sheet_rows(ws)
    assert {r[1].value for r in rows[:-1]} == {"企业", "乡镇（街道）"}          # beneficiary types in words
    body, total = rows[:-1], rows[-1]
    assert total[0].value == "合计"
    basis = header.index("金额依据")            # the last column: words, not money
    for col in range(3, basis):
        assert sum(Decimal(str(r[col].value)) for r in body) == Decimal(str(total[col].value))
    assert total[basis].value == "假定值（待确认）"
    assert Decimal(str(total[3].value)) == printed_total(printed, "新增奖励")


def test_award_csv_lists_each_award_once(tmp_path):
    result = run("awards", REGISTER, "--year", 2024, "--ledger", tmp_path / "a.db", "--format", "csv")
    lines = result.output.lstrip("\ufeff").splitlines()
    assert len(lines) == 13 and lines[0].startswith("统一社会信用代码,企业名称")


# ------------------------------------------------------------------------------------------- margins
@pytest.mark.parametrize("yuan, zh, en", [
    ("5200000.01", "520.00万元（5,200,000.01元）", "5,200,000.01 yuan"),
    ("100", "0.01万元", "100.00 yuan"),
    ("0.01", "0.01元", "0.01 yuan"),
    ("1500000", "150.00万元", "1,500,000.00 yuan"),
])
def test_margins_are_rounded_to_the_unit_shown(yuan, zh, en):
    assert money_margin(Decimal(yuan), "zh") == zh
    assert money_margin(Decimal(yuan), "en") == en


# ------------------------------------------------------------------------------------------- LibreOffice
def libreoffice_tools():
    import shutil
    import warnings
    soffice, pdftoppm = shutil.which("soffice") or shutil.which("libreoffice"), shutil.which("pdftoppm")
    if soffice is None or pdftoppm is None:
        missing = "LibreOffice (libreoffice-calc-nogui)" if soffice is None else "pdftoppm (poppler-utils)"
        warnings.warn(f"{missing} not installed: the workbooks were not opened in LibreOffice")
        pytest.skip(f"{missing} not installed")
    return soffice, pdftoppm


@pytest.mark.parametrize("name", ["awards", "decisions"])
def test_workbook_opens_in_libreoffice_and_prints_formatted(name, tmp_path):
    """LibreOffice opens each workbook, prints it to PDF with the number formats applied (100,000.00, not
    100000) and the header on the page; page 1 is rendered to test-artifacts/ for a person to look at."""
    import subprocess
    soffice, pdftoppm = libreoffice_tools()
    xlsx = tmp_path / f"{name}.xlsx"
    made = run("awards", REGISTER, "--year", 2024, "--ledger", tmp_path / "a.db", "--format", "xlsx", "--out", xlsx) \
        if name == "awards" else run("check", REGISTER, "--as-of", "2024-12-31", "--out", xlsx)
    assert made.exit_code == 0, made.output
    profile = (tmp_path / "lo-profile").as_uri()
    done = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={profile}",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)],
                          capture_output=True, text=True, timeout=240)
    pdf = tmp_path / f"{name}.pdf"
    assert done.returncode == 0 and pdf.exists(), done.stderr[-1000:]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "统一社会信用代码" in text
    assert ("100,000.00" in text) if name == "awards" else ("2024-12-31" in text)
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    stem = artifacts / f"{name}-xlsx"
    subprocess.run([pdftoppm, "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
                   check=True, timeout=120)
    png = stem.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
