"""--workers 2 on a UTF-8 CSV without quotes: the parent cuts the file into spans at line ends
(arrow_source.cut_spans) and each worker reads, numbers, validates, evaluates and renders its spans
itself. The output, the --errors file and the messages are one process's, byte for byte, with
duplicates, blank and short rows and a title row falling in different workers' spans; a file where a
line end may not end a record (a quote: a quoted cell may hold a line break) is parsed whole by the
parent, as before. The workers leave rendered CSV in part files beside the output, which the parent
appends and removes."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.columnar import arrow_source, id_log
from tests.test_columnar_arrow import AS_OF, hostile_rows, outputs, run

pytest.importorskip("pyarrow")


def _text(rows, newline: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue().encode("utf-8")


def _unquoted(rows):
    """The hostile register without the cells csv.writer would quote (a thousands separator)."""
    return [[cell.replace(",", "") for cell in row] for row in rows]


def _cut_small(made: list):
    """cut_spans in blocks of 600 bytes, each run's spans (a list, or None) noted in `made`."""
    cut = arrow_source.cut_spans

    def cut_small(path, size, *rest):
        spans = cut(path, 600, *rest)
        made.append(None if spans is None else list(spans))
        return made[-1]
    return cut_small


@pytest.mark.parametrize("rows", [0, 3])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_spans_number_every_record_as_the_whole_file_does(tmp_path, newline, rows):
    """rows=3: each block is cut further where its batches of 3 records (after the header) end, so a
    worker takes a batch, not a block."""
    path = tmp_path / "r.csv"
    path.write_bytes(_text(_unquoted(hostile_rows()), newline).rstrip(b"\r\n"))      # no final line end
    whole = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    size = 3000 if rows else 700          # blocks of ~12 hostile records, cut into batches of 3
    spans = list(arrow_source.cut_spans(path, size, rows, 1))
    blocks = list(arrow_source.cut_spans(path, size))
    assert len(spans) > 10
    if rows:
        assert len(spans) > 2 * len(blocks)
        assert all(len(range(max(s.first, 2), s.first + s.records)) <= rows for s in spans)
    else:
        assert spans == blocks
    data = path.read_bytes()
    numbered = []
    for span in spans:
        records = list(csv.reader(io.StringIO(data[span.start:span.end].decode("utf-8"), newline="")))
        assert len(records) == span.records
        numbered += list(enumerate(records, start=span.first))
    assert numbered == list(enumerate(whole, start=1))
    assert spans[-1].end == len(data)


@pytest.mark.parametrize("text", [b'a,b\n"x\ny",1\n', b"a,b\rc,d\n", b"a,b" + b"x" * 900 + b"\n"])
def test_a_file_whose_first_block_has_line_ends_that_may_not_end_records_is_not_cut(tmp_path, text):
    """A quote (a quoted cell may hold a line break), a carriage return alone (csv.reader ends a record
    there), a record longer than a span."""
    path = tmp_path / "r.csv"
    path.write_bytes(text)
    assert arrow_source.cut_spans(path, 700) is None


@given(st.lists(st.sampled_from([b"a", b",", b"\n", b"\r\n", b"\r", "万".encode()]), max_size=60),
       st.integers(4, 24))
def test_spans_up_to_a_rest_hold_the_records_csv_reader_reads(tmp_path_factory, pieces, block):
    """Whatever the line ends and wherever a block ends (between a carriage return and its line feed
    too): each span holds whole records, numbered as csv.reader numbers the file's, up to a Rest (from
    the block of a lone carriage return or of a record longer than a block) or the file's end."""
    data = b"".join(pieces)
    path = tmp_path_factory.mktemp("cut") / "r.csv"
    path.write_bytes(data)
    whole = list(enumerate(csv.reader(io.StringIO(data.decode("utf-8"), newline="")), start=1))
    spans = arrow_source.cut_spans(path, block)
    spans = [arrow_source.Rest(0, 1)] if spans is None else list(spans)
    rest = spans.pop() if spans and isinstance(spans[-1], arrow_source.Rest) else arrow_source.Rest(len(data), len(whole) + 1)
    numbered, at = [], 0
    for span in spans:
        assert span.start == at and span.end > at
        records = list(csv.reader(io.StringIO(data[span.start:span.end].decode("utf-8"), newline="")))
        assert len(records) == span.records
        numbered += list(enumerate(records, start=span.first))
        at = span.end
    assert rest.start == at and numbered == whole[:rest.first - 1]
    if rest.start < len(data):
        assert b"\r" in data or any(len(line) >= block for line in data.split(b"\n"))


def test_the_blocks_from_the_first_that_cannot_be_cut_are_left_whole(tmp_path):
    """Spans are cut block by block as they are taken; from the first block that cannot be cut (here a
    record longer than a block) the rest of the file is one Rest, numbered on."""
    path = tmp_path / "r.csv"
    path.write_bytes(b"a,b\n1,2\n" + b"x" * 900 + b"\n3,4\n")
    spans = arrow_source.cut_spans(path, 700)
    assert next(spans) == arrow_source.Span(0, 8, 1, 2)
    assert list(spans) == [arrow_source.Rest(8, 3)]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_workers_reading_their_own_spans_write_what_one_process_writes(tmp_path, monkeypatch, newline):
    rows = _unquoted(hostile_rows())
    rows.insert(0, ["某区规下企业名录（测试）"])                       # a title row above the header
    path = tmp_path / "r.csv"
    path.write_bytes(_text(rows, newline))
    made = []
    monkeypatch.setattr(arrow_source, "cut_spans", _cut_small(made))
    monkeypatch.setattr(id_log, "SPILL_ROWS", 5)
    one = outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 4)
    assert not made                                   # one process parses the file itself
    for fmt_args in (("csv", "--chunk-size", 4), ("ndjson", "--chunk-size", 3)):
        two = outputs(path, tmp_path, "columnar", fmt_args[0], *fmt_args[1:], "--workers", 2)
        alone = outputs(path, tmp_path, "columnar", fmt_args[0], *fmt_args[1:])
        assert two == alone
    assert len(made) == 2 and len(made[0]) > 10        # the workers read spans, more than one each
    assert not list(tmp_path.glob(".*.part"))          # the parts (CSV, NDJSON) the workers wrote are appended and gone
    assert one[0] == 1 and one[2].count("\n") > 8 and "title row" in "".join(one[3])
    assert one[2].count("also appears in") >= 4                  # both rows of each duplicated id


def test_a_register_with_quoted_line_breaks_is_cut_up_to_the_block_of_the_first_quote(tmp_path, monkeypatch):
    """The workers read the spans before the block holding the first quote; the parent parses the rest
    (their batches validated by the workers); the output is one process's. A quote in the first block:
    the parent parses the whole file, as before."""
    rows = _unquoted(hostile_rows())
    rows[40][1] = rows[40][1] + "\n分公司"                             # a line break inside a quoted name
    path = tmp_path / "r.csv"
    data = _text(rows, "\n")
    path.write_bytes(data)
    made = []
    monkeypatch.setattr(arrow_source, "cut_spans", _cut_small(made))
    one = outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 4)
    assert outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 4, "--workers", 2) == one
    rest = made[0][-1]
    assert isinstance(rest, arrow_source.Rest) and 1000 < rest.start <= data.index(b'"') and len(made[0]) > 5
    assert one[0] == 1 and one[2].count("\n") > 8
    rows[1][1] = rows[1][1] + "\n分公司"
    path.write_bytes(_text(rows, "\n"))
    assert outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 4, "--workers", 2) == \
        outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 4)
    assert made[-1] is None


def test_workers_reading_their_own_parquet_row_groups_write_what_one_process_writes(tmp_path, monkeypatch):
    """A text-only Parquet register: each worker reads its own row groups (ArrowParquet.spans), two
    groups to a batch; rows numbered as one process numbers them. Groups larger than a batch are read
    by the parent, as before."""
    pq = pytest.importorskip("pyarrow.parquet")
    from tests.test_columnar_arrow import write_parquet
    path = write_parquet(tmp_path / "r.parquet", [r for r in _unquoted(hostile_rows()) if any(r)])
    monkeypatch.setattr(id_log, "SPILL_ROWS", 5)
    source = arrow_source.ArrowParquet(path, "r.parquet")
    assert source.spans(4) is None          # groups of 7 rows, batches of 4: the parent reads them
    spans = source.spans(16)
    assert [s.first for s in spans[:3]] == [1, 15, 29] and spans[0].end - spans[0].start == 2
    for chunk in ("4", "16"):
        tables = []
        for workers in ("1", "2"):
            out, errors = tmp_path / f"d{workers}.parquet", tmp_path / "errors.csv"
            result = run("check", path, "--as-of", AS_OF, "--engine", "columnar", "--format", "parquet",
                         "--out", out, "--errors", errors, "--chunk-size", chunk, "--workers", workers)
            assert result.exit_code == 1
            tables.append((out.read_bytes(), errors.read_text(encoding="utf-8"), result.output))
        assert tables[0] == tables[1], "two workers wrote other bytes than one"
        assert not list(tmp_path.glob(".*.part")), "a worker's part file was left"
        assert pq.read_table(out).num_rows > 30


@pytest.mark.parametrize("system_copy", [True, False])
def test_a_part_file_is_appended_whole_and_removed(tmp_path, monkeypatch, system_copy):
    """BatchWriter appends a worker's part after what it wrote, by copy_file_range or, on a file system
    that refuses it, by copying the bytes itself."""
    import os
    from engine.columnar.pipeline import BatchWriter, Spooled
    if not system_copy:
        def refuse(*_):
            raise OSError(18, "Invalid cross-device link")
        monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    part = tmp_path / ".x-1.part"
    part.write_bytes("91500101MA5U7F2X3K,甲公司\r\n".encode() * 3000)
    writer = BatchWriter("csv", tmp_path / "out.csv", headers=["enterprise_id", "name"])
    writer.write(b"first\r\n")
    writer.write(Spooled(str(part)))
    writer.write(b"last\r\n")
    writer.close()
    text = (tmp_path / "out.csv").read_bytes()
    assert text.endswith(b"first\r\n" + "91500101MA5U7F2X3K,甲公司\r\n".encode() * 3000 + b"last\r\n")
    assert not part.exists()


def test_a_parquet_part_is_written_a_row_group_a_batch_and_removed(tmp_path):
    """A worker's Parquet batches come as an Arrow IPC stream (each batch with dictionaries of its
    own); BatchWriter writes each as a row group of text and removes the part, an empty part too."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from engine.columnar.pipeline import BatchWriter, Spooled, ArrowParts

    def table(ids, codes, texts):
        return pa.table([pa.array(ids), pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(texts))],
                        names=["enterprise_id", "outcome"])
    part, empty = tmp_path / ".x-1.part", tmp_path / ".x-2.part"
    with open(part, "wb") as fh:
        parts = ArrowParts(fh)
        parts.write(table(["a", "b"], [0, 1], ["yes", "no"]))
        parts.write(table(["c"], [0], ["no"]))
        parts.close()
    empty.write_bytes(b"")
    writer = BatchWriter("parquet", tmp_path / "out.parquet", headers=[])
    writer.write(Spooled(str(part)))
    writer.write(Spooled(str(empty)))
    writer.write(table(["d"], [0], ["maybe"]))
    writer.close()
    read = pq.read_table(tmp_path / "out.parquet")
    assert read.to_pydict() == {"enterprise_id": ["a", "b", "c", "d"], "outcome": ["yes", "no", "no", "maybe"]}
    assert pq.ParquetFile(tmp_path / "out.parquet").metadata.num_row_groups == 3
    assert not part.exists() and not empty.exists()


def test_a_batch_written_to_parquet_is_the_same_bytes_whatever_its_process_read_before(tmp_path):
    """Each worker renders the batches it is given, not all of them: a batch's Parquet bytes must not
    depend on the batches its process read before (the reader's town vocabulary grows with them), or two
    workers would write other bytes than one."""
    from datetime import date
    from engine.columnar.evaluator import ColumnarEvaluator
    from engine.columnar.pipeline import BatchWriter, render
    from engine.columnar.reader import open_register_stream
    from tests.conftest import policy_and_rules
    from tests.test_columnar_arrow import sample, write_parquet
    header, body = sample()[0], sample()[1:]
    policy, book = policy_and_rules()
    day = date.fromisoformat(AS_OF)
    written = []
    # Groups of 7 rows, batches of 14: rows 29-42 are a batch of both files, after 28 rows of other towns
    # in the whole register.
    for name, rows in (("whole", body), ("tail", body[28:])):
        stream = open_register_stream(write_parquet(tmp_path / f"{name}.parquet", [header] + rows), as_of=day,
                                      policy=policy)
        numbers, frame = [b for b in stream.batches(14) if b[0][0] == 29 - (28 if name == "tail" else 0)][0]
        writer = BatchWriter("parquet", tmp_path / f"{name}.out.parquet", headers=[])
        writer.write(render(ColumnarEvaluator(policy, book, day).evaluate_frame(frame), "parquet"))
        writer.close()
        written.append((tmp_path / f"{name}.out.parquet").read_bytes())
    assert written[0] == written[1]


def test_a_worker_reads_its_row_groups_through_the_file_opened_before_it_was_forked(tmp_path, monkeypatch):
    """Opening the file again would decode its footer again in every worker (47 MiB each for the 1,740
    row groups of a 10M-row register); every span's rows still come, numbered as in the whole file."""
    from tests.test_columnar_arrow import sample, write_parquet
    rows = sample()
    source = arrow_source.ArrowParquet(write_parquet(tmp_path / "r.parquet", rows), "r.parquet")
    spans = source.spans(16)
    monkeypatch.setattr(arrow_source.ArrowParquet, "_open", lambda self: pytest.fail("the file was opened again"))
    numbers = [n for span in reversed(spans) for raw in source.span_batches(span, 0, 0, 16) for n in raw.numbers]
    assert sorted(numbers) == list(range(1, len(rows))) and len(spans) > 2


@pytest.mark.parametrize("before", [None, b"", b"older and longer text\r\n" * 100])
def test_a_batch_writer_leaves_only_what_it_wrote(tmp_path, before):
    """BatchWriter opens its file without truncating it when it is empty already (the temporary file
    the run made); a file holding bytes is emptied first."""
    from engine.columnar.pipeline import BatchWriter
    out = tmp_path / "out.csv"
    if before is not None:
        out.write_bytes(before)
    writer = BatchWriter("csv", out, headers=["enterprise_id", "name"])
    writer.write(b"a,b\r\n")
    writer.close()
    assert out.read_bytes() == "\ufeffenterprise_id,name\r\na,b\r\n".encode()


@pytest.mark.parametrize("implausible", ["first", "after"])
def test_the_unit_check_reads_the_first_values_of_the_file_across_workers(tmp_path, monkeypatch, implausible):
    """A unit-less revenue column is judged by its first units.SAMPLE values in file order, whichever
    worker's batches they fall in: figures in 元 there refuse the file, as in one process; the same
    figures only after them do not."""
    from engine.register.units import SAMPLE
    from tests.test_columnar_arrow import _many_rows
    rows = list(csv.reader(io.StringIO(_many_rows(tmp_path, SAMPLE + 400).read_text(encoding="utf-8-sig"))))
    col = rows[0].index("上年营业收入")
    for k, row in enumerate(rows[1:]):
        if row[col] and (k < SAMPLE) == (implausible == "first"):
            row[col] = "15000000"                          # 1,500 亿元 as 万元: the figures are 元
    path = tmp_path / "r.csv"
    path.write_bytes(_text(rows, "\n"))
    cut = arrow_source.cut_spans
    monkeypatch.setattr(arrow_source, "cut_spans", lambda p, size, *rest: cut(p, 1 << 15, *rest))
    one = outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 100)
    assert outputs(path, tmp_path, "columnar", "csv", "--chunk-size", 100, "--workers", 2) == one
    assert ("figures look like 元" in "".join(one[3])) == (implausible == "first")


@pytest.mark.parametrize("who", ["workers", "parent", "both"])
def test_spans_written_by_their_workers_or_appended_by_the_parent_give_one_processs_output(tmp_path, monkeypatch, who):
    """A worker whose span is next writes it into the output itself (turns.py); one that is not leaves a
    part file the parent appends in its turn. Whoever writes which span, the bytes are one process's."""
    from engine.columnar import pipeline, turns
    path = tmp_path / "r.csv"
    path.write_bytes(_text(_unquoted(hostile_rows()), "\n"))
    monkeypatch.setattr(arrow_source, "cut_spans", _cut_small([]))
    real = turns.Turns.write_if_next
    refused = {"workers": lambda task: False, "parent": lambda task: True, "both": lambda task: task % 3 == 1}[who]
    monkeypatch.setattr(turns.Turns, "write_if_next",
                        lambda self, task, pieces: not refused(task) and real(self, task, pieces))
    taken = []
    write = pipeline._write
    monkeypatch.setattr(pipeline, "_write", lambda writer, pieces, *rest: taken.extend(map(type, pieces)) or
                        write(writer, pieces, *rest))
    for fmt, chunk in (("csv", 4), ("ndjson", 3)):
        alone = outputs(path, tmp_path, "columnar", fmt, "--chunk-size", chunk)
        assert outputs(path, tmp_path, "columnar", fmt, "--chunk-size", chunk, "--workers", 2) == alone
    written, spooled = taken.count(turns.Written), taken.count(turns.Spooled)       # (bytes: one process's)
    assert {"workers": written > 10, "parent": not written and spooled > 10, "both": written > 5 and spooled > 5}[who]
    assert not list(tmp_path.glob(".*.part"))


def test_a_spans_text_past_the_memory_held_goes_to_a_part_file(tmp_path, monkeypatch):
    from engine.columnar import turns
    monkeypatch.setattr(turns, "HELD_BYTES", 10)
    with open(tmp_path / "out", "wb") as out:
        shared = turns.Turns(out.fileno())
        small, large, late = (turns.SpanText(str(tmp_path), "t", shared) for _ in range(3))
        small.add(b"first\n")
        large.add(b"second\n")
        large.add(b"and more\n")            # past 10 bytes: a part file
        late.add(b"third\n")
        assert late.done(1) == turns.Spooled(late.part.name)        # task 0 is next: not its turn
        assert small.done(0) == turns.Written()
        part = large.done(1)
    assert (tmp_path / "out").read_bytes() == b"first\n"
    assert Path(part.path).read_bytes() == b"second\nand more\n" and shared.next.value == 1
    assert Path(late.part.name).read_bytes() == b"third\n"


def test_the_policy_is_loaded_once_and_the_workers_are_forked_with_the_evaluator(tmp_path, monkeypatch):
    """`check --engine columnar` loads the policy and its rules once, in the process the user started:
    one worker evaluates with the evaluator built from them, and forked workers inherit it (a worker
    that loaded the policy again would raise here); the output is the same either way."""
    pytest.importorskip("pyarrow.parquet")
    import engine.evaluate
    from tests.test_columnar_arrow import write_parquet
    path = write_parquet(tmp_path / "r.parquet", [r for r in _unquoted(hostile_rows()) if any(r)])
    real = engine.evaluate.load_engine_inputs
    loads = []

    def counted(*args, **kw):
        loads.append(args)
        if len(loads) > 1:
            raise AssertionError("the policy was loaded again")
        return real(*args, **kw)
    outputs = []
    for workers in ("1", "2"):
        loads.clear()
        monkeypatch.setattr(engine.evaluate, "load_engine_inputs", counted)
        out = tmp_path / f"d{workers}.parquet"
        result = run("check", path, "--as-of", AS_OF, "--engine", "columnar", "--format", "parquet", "--out", out,
                     "--chunk-size", "16", "--workers", workers)
        assert result.exit_code == 1, result.output
        assert len(loads) == 1
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
