"""The columnar path end to end (issue #19): `check --engine columnar` reads, evaluates and writes a
register batch by batch and gives what the durable path gives — the same accepted rows and decisions,
the same rejected rows with the same messages and --errors file — for CSV, XLSX and Parquet input, with
pyarrow's reader and without it, at batch sizes small enough that duplicates and rejections fall in
different batches. Also: the reader holds a bounded number of batches."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tracemalloc
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

from cli import main
from engine.columnar import arrow_source, id_log
from engine.columnar.reader import open_register_stream
from tests.conftest import ROOT, policy_and_rules, register_with_a_latin1_row

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = "2024-12-31"


def run(*args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kw)


def sample() -> list[list[str]]:
    return list(csv.reader(io.StringIO(REGISTER.read_text(encoding="utf-8-sig"))))


def hostile_rows() -> list[list[str]]:
    """The sample register with every rejection class the row path knows, spread over the file."""
    rows = sample()
    header, body = rows[0], [list(r) for r in rows[1:]]
    col = {h: i for i, h in enumerate(header)}

    def edit(i, column, value):
        body[i][col[column]] = value

    edit(1, "统一社会信用代码", body[1][col["统一社会信用代码"]][:-1] + "0")       # a wrong check character
    edit(3, "所属乡镇（街道）", "高粱镇")                                         # unknown town (did you mean)
    edit(5, "成立日期", "2024-13-45")                                             # not a date
    edit(7, "成立日期", "2031-01-01")                                             # after the as-of date
    edit(9, "上年营业收入", "-5")                                                 # negative money
    edit(11, "本年累计营业收入", "abc")                                           # not a number
    edit(13, "企业名称", "")                                                      # a required cell empty
    edit(15, "上年营业收入", "1,234.50")                                          # thousands separators
    edit(17, "统一社会信用代码", body[17][col["统一社会信用代码"]].lower())        # typing noise: accepted
    body[30][col["统一社会信用代码"]] = body[2][col["统一社会信用代码"]]           # a duplicate, far apart
    body[40][col["统一社会信用代码"]] = body[39][col["统一社会信用代码"]]          # a duplicate, adjacent
    body.insert(20, [""] * len(header))                                           # a blank row
    body.insert(25, body[24][:5])                                                 # a short row
    return [header] + body


def write_csv(path: Path, rows, encoding="utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows) -> Path:
    from openpyxl import Workbook
    book = Workbook()
    for r in rows:
        book.active.append(r)
    book.save(path)
    return path


def write_parquet(path: Path, rows) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq
    header, body = rows[0], [r + [""] * (len(rows[0]) - len(r)) for r in rows[1:]]
    pq.write_table(pa.table({h: [r[i] for r in body] for i, h in enumerate(header)}), path, row_group_size=7)
    return path


def outputs(path: Path, tmp: Path, engine: str, fmt: str, *extra) -> tuple:
    """(exit code, output text, errors file text, stderr lines sorted) of one check."""
    out, errors = tmp / f"{engine}.{fmt}", tmp / "errors.csv"
    errors.unlink(missing_ok=True)
    result = run("check", path, "--as-of", AS_OF, "--engine", engine, "--format", fmt, "--out", out,
                 "--errors", errors, *extra)
    text = out.read_text(encoding="utf-8") if out.exists() else None
    lines = sorted(line for line in result.output.splitlines() if "pyarrow" not in line)
    return result.exit_code, text, errors.read_text(encoding="utf-8") if errors.exists() else None, lines


# The durable engine's row-by-row path, checked exactly: the reference the columnar reader is held to (its
# default summary runs read through the columnar reader themselves: engine/columnar/durable_verdicts.py).
ROW_PATH = ("--cross-check", "exact")

CASES = {
    "csv": lambda tmp: write_csv(tmp / "r.csv", hostile_rows()),
    "gbk": lambda tmp: write_csv(tmp / "r.csv", hostile_rows(), "gb18030"),
    "xlsx": lambda tmp: write_xlsx(tmp / "r.xlsx", hostile_rows()),
    "parquet": lambda tmp: write_parquet(tmp / "r.parquet", [r for r in hostile_rows() if any(r)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_hostile_registers_give_the_durable_output_in_small_batches(tmp_path, case, fmt, monkeypatch):
    path = CASES[case](tmp_path)
    durable = outputs(path, tmp_path, "durable", fmt, *ROW_PATH)
    assert durable[0] == 1 and durable[2].count("\n") > 8        # rows were rejected, every class
    for arrow in (True, False):
        monkeypatch.setattr(arrow_source, "available", lambda: arrow)
        # With pyarrow, the id log spills to its bucket files every 5 rows (id_log.py): the same duplicates.
        monkeypatch.setattr(id_log, "SPILL_ROWS", 5 if arrow else id_log.SPILL_ROWS)
        columnar = outputs(path, tmp_path, "columnar", fmt, "--chunk-size", 4)
        assert columnar[0] == durable[0]
        assert columnar[2] == durable[2], "the --errors files differ"
        assert columnar[3] == durable[3], "the messages differ"
        if fmt == "csv":
            assert columnar[1] == durable[1]
        else:
            assert [_verdicts(line) for line in columnar[1].splitlines()] == \
                   [_verdicts(line) for line in durable[1].splitlines()]


@pytest.mark.parametrize("case", ["csv", "parquet"])
def test_workers_that_validate_the_batches_give_what_one_process_gives(tmp_path, case, monkeypatch):
    """--workers 2 on Linux: forked workers validate pyarrow batches with a copy of the reader
    (pipeline.validates_apart); rejections, duplicates across batches, blank rows and messages are the
    same as one process's, and as the durable engine's."""
    rows = [r for r in hostile_rows() if len(r) == len(hostile_rows()[0])]   # no short row: arrow batches
    path = write_csv(tmp_path / "r.csv", rows) if case == "csv" else write_parquet(tmp_path / "r.parquet", rows)
    monkeypatch.setattr(id_log, "SPILL_ROWS", 5)
    one = outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 4)
    two = outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 4, "--workers", 2)
    assert one[0] == 1 and one[2].count("\n") > 8
    assert two == one
    assert one == outputs(path, tmp_path, "durable", "csv", *ROW_PATH)


def _verdicts(line: str) -> tuple:
    doc = json.loads(line)
    return doc["enterprise_id"], [(d["type"], d["outcome"], d["rule_id"], d.get("amount_yuan"))
                                  for d in doc["decisions"]]


def test_a_row_with_undecodable_bytes_is_rejected_alone_naming_it(tmp_path):
    path = register_with_a_latin1_row(tmp_path)
    durable = outputs(path, tmp_path, "durable", "csv", *ROW_PATH)
    columnar = outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 3)
    assert columnar == durable and "not UTF-8 text" in durable[2]
    assert any("row 5" in line for line in durable[3])


def test_workers_and_dask_write_what_one_worker_writes(tmp_path):
    path = write_csv(tmp_path / "r.csv", hostile_rows())
    one = outputs(path, tmp_path, "columnar", "ndjson", "--chunk-size", 6)
    assert outputs(path, tmp_path, "columnar", "ndjson", "--chunk-size", 6, "--workers", 2) == one
    pytest.importorskip("distributed")
    assert outputs(path, tmp_path, "columnar", "ndjson", "--chunk-size", 6, "--executor", "dask",
                   "--workers", 2) == one


def test_parquet_out_holds_the_csv_rows_in_order(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = write_csv(tmp_path / "r.csv", hostile_rows())
    csv_out = outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 5)
    pq_out = tmp_path / "out.parquet"
    result = run("check", path, "--as-of", AS_OF, "--engine", "columnar", "--format", "parquet", "--out", pq_out,
                 "--chunk-size", 5)
    assert result.exit_code == 1
    read = pq.read_table(pq_out)
    # Every column reads back as text, however the writer was handed it (summary columns go to it as
    # dictionary arrays): the same cells as the CSV's, in order.
    assert {str(t) for t in read.schema.types} == {"string"}
    table = read.to_pydict()
    rows = list(csv.reader(io.StringIO(csv_out[1].lstrip("\ufeff"))))[1:]
    assert len(rows) > 10 and table == {c: [r[k] for r in rows] for k, c in enumerate(table)}


def test_parquet_out_of_a_register_without_an_accepted_row_has_the_text_columns(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    header, first = sample()[:2]
    path = write_csv(tmp_path / "r.csv", [header, ["x" + first[0]] + first[1:]])     # a bad USCC: rejected
    out = tmp_path / "out.parquet"
    result = run("check", path, "--as-of", AS_OF, "--engine", "columnar", "--format", "parquet", "--out", out)
    assert result.exit_code == 1
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.column_names[:2] == ["enterprise_id", "name"]
    assert {str(t) for t in table.schema.types} == {"string"}


def test_parquet_needs_the_columnar_engine_and_a_file():
    result = run("check", REGISTER, "--as-of", AS_OF, "--format", "parquet", "--out", "x.parquet")
    assert result.exit_code == 2 and "--engine columnar" in result.output
    result = run("check", REGISTER, "--as-of", AS_OF, "--engine", "columnar", "--format", "parquet")
    assert result.exit_code == 2 and "--out" in result.output


def _many_rows(tmp_path: Path, n: int) -> Path:
    """The sample register's rows repeated to n rows, each with an id of its own."""
    rows = sample()
    header, body = rows[0], rows[1:]
    col = header.index("统一社会信用代码")
    from bench.columnar import uscc_ids
    many = [r[:col] + [eid] + r[col + 1:] for eid, r in zip(uscc_ids(n), (body * (n // len(body) + 1))[:n])]
    return write_csv(tmp_path / f"many{n}.csv", [header] + many)


def _peak_while_reading(path: Path) -> tuple[int, int]:
    policy, _ = policy_and_rules()
    stream = open_register_stream(path, as_of=date(2024, 12, 31), policy=policy, block_bytes=1 << 15)
    tracemalloc.start()
    seen = 0
    for _, frame in stream.batches(200):
        seen += frame.n
        peak = tracemalloc.get_traced_memory()[1]      # the peak so far, before the end's duplicate check
    tracemalloc.stop()
    return seen + len(stream.rejected), peak


def test_the_reader_holds_a_bounded_number_of_batches(tmp_path):
    """Registers of 10 and 50 batches (of 200 rows, 32 KB blocks): the Python memory held while reading
    does not grow with the number of batches (only the 8-byte id hash a row does). pyarrow's own buffers
    are outside tracemalloc's view; they are one block at a time (bench/columnar.py measures RSS)."""
    pytest.importorskip("pyarrow")
    paths = {n: _many_rows(tmp_path, n) for n in (2_000, 10_000)}
    _peak_while_reading(paths[10_000])      # one-time allocations (imports, caches) out of the way first
    peaks = []
    for n, path in paths.items():
        read, peak = _peak_while_reading(path)
        assert read == n
        peaks.append(peak)
    assert peaks[1] < peaks[0] + 8_000 * 16 + 200_000, peaks


def test_pyarrow_holds_about_one_block_of_the_csv_at_a_time(tmp_path):
    """pyarrow's streaming CSV reader reads blocks ahead of the one it parses (up to 32); the register is
    mapped, so those are views of the file, and the Arrow memory held while reading a register of some
    fifty 32 KB blocks stays a few blocks' worth (an open file: measured 1.2 MB, the read-ahead copies)."""
    pa = pytest.importorskip("pyarrow")
    path = _many_rows(tmp_path, 10_000)
    policy, _ = policy_and_rules()
    stream = open_register_stream(path, as_of=date(2024, 12, 31), policy=policy, block_bytes=1 << 15)
    before, peak, seen = pa.total_allocated_bytes(), 0, 0
    for _, frame in stream.batches(200):
        seen += frame.n
        peak = max(peak, pa.total_allocated_bytes() - before)
    assert seen == 10_000 and path.stat().st_size > 40 * (1 << 15)
    assert peak < 8 * (1 << 15), peak


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_register_missing_a_required_column_is_refused_with_the_row_paths_message(tmp_path, suffix):
    rows = [r[:1] + r[2:] for r in sample()]                    # no 企业名称 (name) column
    path = (write_csv if suffix == "csv" else write_parquet)(tmp_path / f"r.{suffix}", rows)
    durable = outputs(path, tmp_path, "durable", "csv", *ROW_PATH)
    columnar = outputs(path, tmp_path, "columnar", "csv")
    assert durable[0] == columnar[0] != 0 and "missing required column" in " ".join(durable[3])
    assert columnar[3] == durable[3]


def test_names_are_stripped_of_exactly_pythons_spaces():
    pa = pytest.importorskip("pyarrow")
    from engine.columnar.arrow_cells import stripped
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    cells = ["甲公司", "", "\u200b乙\u200b"] + [f"{s}丙{s}" for s in spaces] + spaces
    assert stripped(pa.array(cells)) == [c.strip() for c in cells]
    for arr in (pa.array(cells).slice(5), pa.array(cells, pa.large_string())):        # offsets not from 0
        assert stripped(arr) == [c.strip() for c in arr.to_pylist()]


def test_control_characters_are_found_as_the_row_path_finds_them():
    """arrow_cells.controls looks at the bytes first and asks pyarrow's expression only when one may be
    a control character's: the same answer as normalise.CONTROL_CHARACTERS for every code point up to
    U+0200 (and a few beyond), alone and inside a name, in arrays that start past their first cell."""
    pa = pytest.importorskip("pyarrow")
    from engine.columnar.arrow_cells import controls
    from engine.register.normalise import CONTROL_CHARACTERS
    chars = [chr(c) for c in range(0x200)] + ["\u2028", "\u3000", "\ufeff", "é", "万"]
    for cells in (["甲公司", ""] * 50, chars, [f"甲{c}乙" for c in chars], [f"{c}公司" for c in chars]):
        for arr in (pa.array(cells), pa.array(cells).slice(7), pa.array(cells, pa.large_string())):
            assert controls(arr).tolist() == [bool(CONTROL_CHARACTERS.search(c)) for c in arr.to_pylist()]
    assert not controls(pa.array(["甲公司"] * 9)).any()


@given(st.lists(st.sampled_from([b"a", b",", b"\n", "é".encode(), "万".encode(), "𝄞".encode(), b"\xef\xbb\xbf",
                                 b"\xff", b"\x80", b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80"]), max_size=30),
       st.integers(1, 9))
def test_the_utf8_check_is_pythons_at_any_block_size(tmp_path_factory, pieces, block):
    pytest.importorskip("pyarrow")
    from engine.columnar.arrow_cells import is_utf8
    data = b"".join(pieces)
    path = tmp_path_factory.mktemp("utf8") / "r.csv"
    path.write_bytes(data)
    try:
        data.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    assert is_utf8(path, block) == valid


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jemalloc is chosen on Linux only")
@pytest.mark.parametrize("chosen", [None, "system"])
def test_the_columnar_path_takes_arrow_memory_from_jemalloc_unless_the_user_chose_a_pool(chosen):
    """mimalloc, pyarrow's default, kept pages of freed batches in every process (lean_memory_pool)."""
    pa = pytest.importorskip("pyarrow")
    if "jemalloc" not in pa.supported_memory_backends():
        pytest.skip("this pyarrow has no jemalloc")
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    code = ("from engine.columnar.arrow_source import lean_memory_pool; lean_memory_pool(); "
            "import pyarrow; print(pyarrow.default_memory_pool().backend_name)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (chosen or "jemalloc")


def test_ids_and_names_are_excel_proofed_and_quoted_as_cell_by_cell():
    """output._row_texts finds the cells neutralise or csv_field may change by their bytes (a formula
    start, a comma, a quote, a line break): every printable ASCII character first, inside and last, a
    few whole cells, in arrays that start past their first cell — the same texts as output._cell's."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.compute as pc
    from engine.columnar import output
    from engine.columnar.frame import objects
    cells = ["=1+1", "+a", "@x", "\tq", "\rq", "-5", "a,b", 'a"b', "a\rb", "a\nb", "甲公司", "", "a=b", "1-2", "万,",
             "\ufeff=x", " =x"] + [f"{chr(c)}x{chr(c)}y{chr(c)}" for c in range(9, 127)]
    for values in (cells, cells[3:] + cells[:3]):
        texts = output._row_texts(objects(values), output._cell, pa.large_string())
        assert texts.to_pylist() == [output._cell(v) for v in values]
        arr = pa.array(values).slice(4)
        assert output._touched(arr).tolist() == pc.match_substring_regex(arr, output._TOUCHED).to_pylist()
