"""Register input semantics and hostile bytes (issue #21, findings 6 and 8): each defect found by trying
the tool as an adversarial officer would, as a regression test, plus generated registers with hostile
bytes that must always end in accepted/rejected rows or one message, never a traceback."""
from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from engine.errors import InputFileError
from engine.register import read_register, scan_register
from engine.register.columns import register_columns
from tests.conftest import ROOT, policy_and_rules, register_with_a_latin1_row

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = date(2024, 12, 31)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def read(path):
    policy, _ = policy_and_rules()
    return read_register(path, as_of=AS_OF, policy=policy)


def sample_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(REGISTER.read_text(encoding="utf-8-sig"))))


def write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def both_readers(path):
    """The whole-file read and a read in chunks of two rows reject the same rows for the same reasons."""
    whole = read(path)
    policy, _ = policy_and_rules()
    from engine.register import iter_register
    streamed = [r for chunk in iter_register(path, as_of=AS_OF, policy=policy, chunk_size=2)
                for r in chunk.rejected]
    assert [(r.row, r.problems) for r in streamed] == [(r.row, r.problems) for r in whole.rejected]
    return whole


# ---------------------------------------------------------------- dates after --as-of
@pytest.mark.parametrize("header", ["成立日期", "投产日期"])
def test_a_date_after_as_of_rejects_its_row(tmp_path, header):
    rows = sample_rows()
    col = rows[0].index(header)
    rows[2][col] = "2030-01-01"
    result = both_readers(write(tmp_path / "r.csv", rows))
    [rejected] = result.rejected
    assert rejected.row == 3 and rejected.problems[0].column == header
    assert "after the as-of date 2024-12-31" in rejected.problems[0].message
    assert len(result.accepted) == len(rows) - 2


def test_the_columnar_reader_rejects_the_same_future_date(tmp_path):
    rows = sample_rows()
    rows[2][rows[0].index("成立日期")] = "2030-01-01"
    path = write(tmp_path / "r.csv", rows)
    columnar = run("check", path, "--as-of", "2024-12-31", "--engine", "columnar", "--format", "csv")
    durable = run("check", path, "--as-of", "2024-12-31", "--format", "csv")
    assert columnar.exit_code == durable.exit_code == 1
    errors = [line for line in columnar.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "row 3, column 成立日期" in errors[0] and errors[0] in durable.output


# ---------------------------------------------------------------- encodings
def test_one_latin1_row_in_a_utf8_file_is_rejected_alone(tmp_path):
    path = register_with_a_latin1_row(tmp_path)
    result = both_readers(path)
    assert [r.row for r in result.rejected] == [5]
    assert "not UTF-8 text" in result.rejected[0].problems[0].message
    assert len(result.accepted) == len(sample_rows()) - 2
    cli = run("check", path, "--as-of", "2024-12-31", "--engine", "columnar", "--format", "csv")
    assert cli.exit_code == 1 and "row 5" in cli.output


def test_a_gbk_file_is_still_read_as_gbk(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(REGISTER.read_text(encoding="utf-8-sig").encode("gb18030"))
    result = read(path)
    assert not result.rejected and len(result.accepted) == len(sample_rows()) - 1


# ---------------------------------------------------------------- headers and options
def test_a_repeated_known_header_is_refused_naming_both_columns(tmp_path):
    rows = sample_rows()
    rows = [r + [r[1]] for r in rows]                          # 企业名称 twice
    path = write(tmp_path / "r.csv", rows)
    with pytest.raises(InputFileError, match=r'"企业名称" appears more than once \(columns B and AB\)'):
        read(path)
    with pytest.raises(InputFileError, match="appears more than once"):
        scan_register(path, columns=register_columns(policy_and_rules()[0]))


def test_a_repeated_set_is_refused():
    result = run("check", REGISTER, "--as-of", "2024-12-31", "--set", "scale_threshold=1",
                 "--set", "scale_threshold=2")
    assert result.exit_code == 1 and "given twice" in result.output


@pytest.mark.parametrize("value", ["1e400", "1E+30", "-1e400"])
def test_an_absurd_set_value_is_one_line(value):
    result = run("check", REGISTER, "--as-of", "2024-12-31", "--set", f"scale_threshold={value}")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


# ---------------------------------------------------------------- control characters
def test_a_nul_in_a_name_rejects_the_row_and_never_reaches_json(tmp_path):
    # A JSON register: Python 3.10's csv module can neither write nor read a NUL.
    items = json.loads((ROOT / "examples" / "register.json").read_text(encoding="utf-8"))
    name_key = next(k for k in items[1] if k in ("企业名称", "name"))
    items[1][name_key] = "甲\x00公司"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    result = read(path)
    assert [r.row for r in result.rejected] == [2]
    assert "U+0000" in result.rejected[0].problems[0].message
    for engine in ("durable", "columnar"):
        out = run("check", path, "--as-of", "2024-12-31", "--format", "json", "--engine", engine)
        assert out.exit_code == 1 and "\\u0000" not in out.stdout and "\x00" not in out.stdout


def test_a_control_character_in_a_csv_cell_rejects_its_row(tmp_path):
    rows = sample_rows()
    rows[2][1] = "甲\x1b[31m公司"                                # an escape sequence, invisible in Excel
    result = both_readers(write(tmp_path / "r.csv", rows))
    assert [r.row for r in result.rejected] == [3] and "U+001B" in result.rejected[0].problems[0].message


# ---------------------------------------------------------------- money units
@pytest.mark.parametrize("unit, factor", [("元", 10000), ("千元", 10), ("万元", 1), ("亿元", Decimal("0.0001"))])
def test_a_header_unit_is_converted_exactly(tmp_path, unit, factor):
    rows = sample_rows()
    col = rows[0].index("上年营业收入")
    rows[0][col] = f"上年营业收入（{unit}）"
    for r in rows[1:]:
        if r[col].strip():
            r[col] = format(Decimal(r[col]) * factor, "f")
    converted = read(write(tmp_path / "r.csv", rows))
    original = read(REGISTER)
    assert [e.revenue_last_year for _, e in converted.accepted] == [e.revenue_last_year for _, e in original.accepted]
    assert not converted.rejected


def test_the_statistics_bureau_thousand_yuan_header_is_not_an_unknown_column(tmp_path):
    rows = sample_rows()
    rows[0][rows[0].index("上年营业收入")] = "上年营业收入（千元）"
    result = run("check", write(tmp_path / "r.csv", rows), "--as-of", "2024-12-31", "--format", "csv")
    assert "unknown column" not in result.output


@pytest.mark.parametrize("engine", ["durable", "columnar"])
def test_yuan_figures_under_a_unitless_header_are_refused_naming_the_likely_unit(tmp_path, engine):
    rows = sample_rows()
    col = rows[0].index("上年营业收入")
    for r in rows[1:]:
        if r[col].strip():
            r[col] = format(Decimal(r[col]) * 10000, "f")      # 15000000 under 上年营业收入: 元, not 万元
    result = run("check", write(tmp_path / "r.csv", rows), "--as-of", "2024-12-31", "--engine", engine)
    assert result.exit_code == 1
    assert 'column "上年营业收入" has no unit' in result.output and "上年营业收入（元）" in result.output


# ---------------------------------------------------------------- generated hostile registers
HOSTILE = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b'"', b'""', b"\r", b"\r\n", b"\n\n", b",,,,",
                     b"\xe9", "甲".encode("gb18030"), b"=cmd|' /C calc'!A0", b"1e400", b"NaN", b"\x1b[31m",
                     "2030-01-01".encode(), "上年营业收入（千元）".encode(), b"9" * 40]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(0, 28), HOSTILE), max_size=6))
def test_hostile_bytes_in_a_register_end_in_rows_or_one_message(edits):
    lines = REGISTER.read_bytes().split(b"\n")[:8]
    for line_no, cell_no, data in edits:
        cells = lines[line_no].split(b",")
        cells[cell_no % len(cells)] = data
        lines[line_no] = b",".join(cells)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "h.csv"
        path.write_bytes(b"\n".join(lines))
        try:
            result = read(path)
        except InputFileError as exc:
            assert str(exc) and "\n" not in str(exc).strip()
            return
        numbers = [n for n, _ in result.accepted] + [r.row for r in result.rejected]
        assert len(numbers) == len(set(numbers))
        assert all(r.problems for r in result.rejected)
        for _, enterprise in result.accepted:
            text = json.dumps(enterprise.model_dump(mode="json"), ensure_ascii=False)
            assert "\\u0000" not in text and "\ufffd" not in text
