"""Streaming, chunked and parallel evaluation (engine/batch.py, engine/register/streaming.py): the same
rows, messages and output as reading the whole register at once, whatever the chunk size or the number
of worker processes; and nothing left behind in durable_rules after a chunk."""
from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.batch.local import LocalExecutor, PartitionedRun, RegisterRun
from engine.batch.progress import Progress
from engine.batch.tasks import ChunkWorker, Job
from engine.batch.writers import RejectedWriter, json_item, write_json_list
from engine.evaluate import Evaluator
from engine.output import csv_columns, csv_headers, render_table, result_json, summary_row
from engine.register.columns import register_columns
from engine.register import iter_register, read_register, scan_register, write_rejected
from engine.tabular import write_csv
from engine.uscc import make_uscc
from tests.conftest import ROOT, policy_and_rules

EXAMPLES = ROOT / "examples"
REGISTER = EXAMPLES / "register.csv"
AS_OF = date(2024, 12, 31)


def columns():
    return register_columns(policy_and_rules()[0])


def merged(path, chunk_size, **kwargs):
    chunks = list(iter_register(path, as_of=AS_OF, policy=policy_and_rules()[0], chunk_size=chunk_size, **kwargs))
    return ([a for c in chunks for a in c.accepted], [r for c in chunks for r in c.rejected],
            [w for c in chunks for w in c.warnings], chunks[0].headers)


def assert_same_as_whole_file(path, chunk_size=3, **kwargs):
    whole = read_register(path, as_of=AS_OF, policy=policy_and_rules()[0], **kwargs)
    accepted, rejected, warnings, headers = merged(path, chunk_size, **kwargs)
    assert accepted == whole.accepted
    assert rejected == whole.rejected
    assert [str(w) for w in warnings] == [str(w) for w in whole.warnings]
    assert headers == whole.headers
    return whole


# ---------------------------------------------------------------- streaming reader = whole-file reader
@pytest.mark.parametrize("name", ["register.csv", "register.xlsx", "register.json", "register_with_errors.csv"])
def test_streaming_reads_the_bundled_registers_exactly_like_read_register(name):
    assert_same_as_whole_file(EXAMPLES / name)


def _rows(n):
    lines = REGISTER.read_text(encoding="utf-8-sig").splitlines()
    return lines[0], lines[1:1 + n]


def test_streaming_keeps_every_warning_and_both_rows_of_a_duplicate_far_apart(tmp_path):
    header, rows = _rows(12)
    data = [r + ",,x" for r in rows]          # an unknown column (备注) and values under no header
    body = [data[0], ",,,", *data[1:6], data[0].replace("重庆万州", "重庆万州新"), *data[6:], ""]
    text = "\n".join(["万州区工业企业名录", "", header + ",备注,", *body]) + "\n"
    path = tmp_path / "tricky.csv"
    path.write_text(text, encoding="utf-8")
    whole = assert_same_as_whole_file(path, chunk_size=2)
    assert len(whole.rejected) == 2 and all("also appears in row" in str(r.problems[-1]) for r in whole.rejected)
    messages = " ".join(str(w) for w in whole.warnings)
    assert "title row" in messages and "blank row" in messages and "without a header" in messages


@pytest.mark.parametrize("encoding,delimiter", [("gb18030", ","), ("utf-16", "\t"), ("utf-8", "\t")])
def test_streaming_reads_other_encodings_and_tab_separated_files(tmp_path, encoding, delimiter):
    header, rows = _rows(5)
    text = "\n".join(line.replace(",", delimiter) for line in [header, *rows]) + "\n"
    path = tmp_path / "other.csv"
    path.write_bytes(text.encode(encoding))
    whole = assert_same_as_whole_file(path, chunk_size=2)
    assert len(whole.accepted) == 5


def _quoted_newline_register(tmp_path, encoding="utf-8"):
    """A register whose names hold newlines (quoted cells), with a title row, CRLF line ends and blank
    rows, so that parts (workers reading their own rows) start next to a record of several lines."""
    header, rows = _rows(9)
    quoted = [next(csv.reader([r])) for r in rows]
    for cells in quoted:
        cells[1] = cells[1].replace("有限公司", "有限\r\n公司", 1)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows([["万州区工业企业名录"], next(csv.reader([header])), *quoted[:4], [], *quoted[4:], []])
    path = tmp_path / "quoted.csv"
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-16"])
def test_parts_read_by_workers_hold_exactly_the_rows_of_the_file(tmp_path, encoding):
    path = _quoted_newline_register(tmp_path, encoding)
    whole = list(scan_register(path, columns=columns()).data())
    assert sum("\r\n" in cells[1] for _, cells in whole) == 9
    for every in (1, 2, 4, 50):
        scan = scan_register(path, columns=columns(), split_every=every)
        parts = [scan.read_part(part) for part in scan.parts]
        assert [row for part in parts for row in part] == whole
        assert all(len(part) >= every for part in parts[:-1])


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_a_register_with_quoted_newlines_gives_the_same_output_on_one_and_two_workers(tmp_path, fmt):
    path = _quoted_newline_register(tmp_path)
    outputs = []
    for workers, size in (("1", "50"), ("2", "2"), ("2", "3")):
        out = tmp_path / f"out-{workers}-{size}.{fmt}"
        result = CliRunner().invoke(main, ["check", str(path), "--as-of", "2024-12-31", "--format", fmt,
                                           "--workers", workers, "--chunk-size", size, "--out", str(out)])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0].count("有限\r\n公司".encode()) == (9 if fmt == "csv" else 0)


def test_streaming_reports_a_file_it_cannot_read_before_any_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("企业名称,备注\n某公司,无\n", encoding="utf-8")
    with pytest.raises(Exception) as whole:
        read_register(path, as_of=AS_OF, policy=policy_and_rules()[0])
    with pytest.raises(type(whole.value)) as streamed:
        scan_register(path, columns=columns())
    assert str(streamed.value) == str(whole.value)


def test_the_duplicate_pass_holds_eight_bytes_a_row_not_the_ids(tmp_path):
    scan = scan_register(REGISTER, columns=columns(), keep_ids=True)
    assert len(scan.ids) == 50 and sum(b.itemsize * len(b) for b in scan.ids.buckets) == 8 * 50
    assert scan.duplicates == {}


# ---------------------------------------------------------------- streamed output = whole output
def reference_output(fmt, lang):
    """What `check` printed before it streamed: the whole register read, evaluated, then rendered."""
    policy, book = policy_and_rules()
    read = read_register(REGISTER, as_of=AS_OF, policy=policy)
    ev = Evaluator(policy, book, AS_OF)
    results = [ev.evaluate(e) for _, e in read.accepted]
    if fmt == "json":
        return json.dumps([result_json(r, book, lang) for r in results], ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        write_csv(buf, csv_headers(lang), [[summary_row(r).get(c, "") for c in csv_columns()] for r in results])
        return buf.getvalue().replace("\r\n", "\n")
    return render_table(results, lang)


def run_check(*args):
    return CliRunner().invoke(main, ["check", str(REGISTER), "--as-of", "2024-12-31", *args], catch_exceptions=False)


@pytest.mark.parametrize("fmt,lang", [("json", "zh"), ("csv", "en"), ("table", "zh")])
def test_streamed_check_prints_exactly_what_the_whole_register_gave(fmt, lang):
    schema = ["--schema", "1"] if fmt == "json" else []      # the reference renders contract version 1
    result = run_check("--format", fmt, *schema, "--lang", lang, "--chunk-size", "7", "--workers", "1")
    assert result.exit_code == 0
    assert result.stdout.replace("\r\n", "\n") == reference_output(fmt, lang)


def test_json_items_are_written_as_json_dumps_writes_the_list():
    docs = [{"a": [1, {"b": None, "c": []}, "é\n\"x\""], "d": {}, "e": True}, {"f": 1.5, 2: "int key"}, {}]
    buf = io.StringIO()
    write_json_list(buf, [json_item(d) for d in docs])
    assert buf.getvalue() == json.dumps(docs, ensure_ascii=False, indent=2)
    empty = io.StringIO()
    write_json_list(empty, [])
    assert empty.getvalue() == "[]"


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
def test_two_workers_give_the_same_output_in_the_same_order_as_one(fmt, tmp_path):
    one, two = tmp_path / f"one.{fmt}", tmp_path / f"two.{fmt}"
    assert run_check("--format", fmt, "--chunk-size", "6", "--workers", "1", "--out", str(one)).exit_code == 0
    assert run_check("--format", fmt, "--chunk-size", "6", "--workers", "2", "--out", str(two)).exit_code == 0
    assert one.read_bytes() == two.read_bytes()
    if fmt == "csv":
        ids = [r[0] for r in csv.reader(io.StringIO(two.read_text(encoding="utf-8-sig")))][1:]
        assert ids == [e.enterprise_id for _, e in read_register(REGISTER, as_of=AS_OF,
                                                                 policy=policy_and_rules()[0]).accepted]


def test_the_pool_really_uses_two_processes():
    run = RegisterRun(REGISTER, as_of=AS_OF, policy_id="wanzhou-2022-80", fmt="csv", lang="zh",
                      executor=LocalExecutor(2), chunk_size=10)
    assert run.processes() == 2
    assert sum(chunk.rows for chunk in run.chunks()) == 50


def test_rejected_rows_stream_to_the_errors_file_exactly_as_before(tmp_path):
    with_errors = EXAMPLES / "register_with_errors.csv"
    errors = tmp_path / "errors.csv"
    result = CliRunner().invoke(main, ["check", str(with_errors), "--as-of", "2024-12-31", "--chunk-size", "2",
                                       "--errors", str(errors)])
    assert result.exit_code == 1 and "3 of 8 rows rejected; see" in result.output
    expected = tmp_path / "expected.csv"
    write_rejected(read_register(with_errors, as_of=AS_OF, policy=policy_and_rules()[0]), expected)
    assert errors.read_bytes() == expected.read_bytes()
    assert not RejectedWriter(tmp_path / "never.csv", ["a"]).count and not (tmp_path / "never.csv").exists()


@pytest.mark.parametrize("path", ["rows", "batches"])
def test_a_failed_run_leaves_no_half_written_output(tmp_path, monkeypatch, path):
    """Row by row (--cross-check exact) or in batches (engine/columnar/durable_verdicts.py)."""
    out = tmp_path / "decisions.csv"
    from engine.columnar import pipeline
    from engine.streams import ChunkRenderer
    if path == "rows":
        monkeypatch.setattr(ChunkRenderer, "render", lambda self, enterprises, rows=None: 1 / 0)
    else:
        monkeypatch.setattr(pipeline, "render", lambda batch, fmt, contract=None: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_check("--format", "csv", "--workers", "1", "--out", str(out),
                  *(["--cross-check", "exact"] if path == "rows" else []), "--chunk-size", "10")
    assert not out.exists() and not list(tmp_path.iterdir())


# ---------------------------------------------------------------- memory: nothing left per row
def test_no_durable_rules_session_outlives_its_chunk():
    scan = scan_register(REGISTER, columns=columns())
    worker = ChunkWorker(Job(policy_id="wanzhou-2022-80", as_of=AS_OF, fmt="csv", lang="zh", scan=scan))
    checker = worker.checker(scan)
    engine = worker.evaluator.compiled.engine
    done = 0
    for rows in scan.chunks(20):
        result = worker.run(checker, rows)
        done += len(rows)
        assert result.sessions_left == 0
        assert engine.sessions_opened == done * len(engine.ruleset_names)      # one session per record and ruleset
        assert not any(engine.session_exists(rs, sid) for rs in engine.ruleset_names for sid in engine.sids_used())
    assert done == 50


def test_a_worker_keeps_no_per_row_state_between_chunks():
    scan = scan_register(REGISTER, columns=columns())
    worker = ChunkWorker(Job(policy_id="wanzhou-2022-80", as_of=AS_OF, fmt="csv", lang="zh", scan=scan))
    checker = worker.checker(scan)
    rows = next(scan.chunks(50))
    first = worker.run(checker, rows).items
    memo_sizes = {name: len(plan.memo) for name, plan in worker.evaluator.compiled.plans.items()}
    again = worker.run(checker, rows).items
    assert first == again
    # the per-plan lookups are filled once; nothing grows with the rows evaluated
    assert {name: len(plan.memo) for name, plan in worker.evaluator.compiled.plans.items()} == memo_sizes


# ---------------------------------------------------------------- progress
class Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_shows_rows_rate_and_rejected_on_a_terminal_only():
    ticks = iter([0.0, 1.0, 2.0, 3.0])
    shown = Tty()
    bar = Progress(200, stream=shown, clock=lambda: next(ticks))
    bar.update(100, 1)
    bar.update(100, 2)
    bar.close()
    assert "200/200 rows 100%  100 rows/s  3 rejected" in shown.getvalue() and shown.getvalue().endswith("\n")
    quiet = io.StringIO()                      # not a terminal: nothing
    bar = Progress(200, stream=quiet)
    bar.update(200, 0)
    bar.close()
    assert quiet.getvalue() == ""


def test_progress_of_a_batched_run_shows_rows_and_rate_without_a_total():
    """A register read in batches (engine/columnar/durable_verdicts.py) is counted as it goes."""
    ticks = iter([0.0, 2.0, 4.0, 4.0])
    shown = Tty()
    bar = Progress(None, stream=shown, clock=lambda: next(ticks), lang="zh")
    bar.update(1000, 0)
    bar.update(1000, 0)
    bar.close()
    assert "2,000 行  每秒 500 行" in shown.getvalue()
    result = CliRunner().invoke(main, ["check", str(REGISTER), "--as-of", "2024-12-31", "--format", "csv",
                                       "--progress", "--chunk-size", "10", "--lang", "en"], catch_exceptions=False)
    assert result.exit_code == 0 and "50 rows" in result.stderr and "rows/s" in result.stderr


# ---------------------------------------------------------------- partitioned registers, on this machine
def partition(folder: Path, sizes=(17, 17, 16)) -> Path:
    lines = REGISTER.read_text(encoding="utf-8-sig").splitlines()
    folder.mkdir()
    start = 1
    for i, size in enumerate(sizes):
        (folder / f"part-{i:03d}.csv").write_text("\n".join([lines[0], *lines[start:start + size]]) + "\n",
                                                  encoding="utf-8")
        start += size
    return folder


def test_a_partitioned_register_gives_the_single_file_results_one_file_per_partition(tmp_path):
    parts, out = partition(tmp_path / "parts"), tmp_path / "out"
    result = CliRunner().invoke(main, ["check", str(parts), "--as-of", "2024-12-31", "--format", "json",
                                       "--schema", "1", "--out", str(out), "--workers", "2"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    joined = [doc for f in sorted(out.glob("*.json")) for doc in json.loads(f.read_text(encoding="utf-8"))]
    assert joined == json.loads(reference_output("json", "zh"))


def test_duplicates_across_partitions_reject_both_rows(tmp_path):
    parts = partition(tmp_path / "parts")
    first = (parts / "part-000.csv").read_text(encoding="utf-8").splitlines()[1]
    with open(parts / "part-002.csv", "a", encoding="utf-8") as fh:
        fh.write(first.replace("重庆万州", "重庆万州另") + "\n")
    run = PartitionedRun(parts, tmp_path / "out", as_of=AS_OF, policy_id="wanzhou-2022-80", fmt="csv", lang="zh")
    results = {Path(p.name).name: p for p in run.results()}
    bad = [(name, r.row, r.problems[-1].message) for name, p in results.items() for r in p.rejected]
    assert [b[:2] for b in bad] == [("part-000.csv", 2), ("part-002.csv", 18)]
    assert "also appears in" in bad[0][2] and "part-002.csv row 18" in bad[0][2]
    assert (tmp_path / "out" / "part-002.errors.csv").exists()


def test_a_folder_needs_an_output_folder_and_a_file_format():
    result = CliRunner().invoke(main, ["check", str(EXAMPLES), "--as-of", "2024-12-31"])
    assert result.exit_code == 2 and "--out FOLDER" in result.output


def test_parquet_partitions_are_read_like_csv(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    header, rows = _rows(4)
    table = list(csv.reader(io.StringIO("\n".join([header, *rows]))))
    pq.write_table(pa.table({h: [r[i] or None for r in table[1:]] for i, h in enumerate(table[0])}),
                   tmp_path / "part.parquet")
    accepted, rejected, _, _ = merged(tmp_path / "part.parquet", 2)
    assert [e for _, e in accepted] == [e for _, e in read_register(REGISTER, as_of=AS_OF,
                                                                    policy=policy_and_rules()[0]).accepted][:4]


def test_make_uscc_of_the_generator_is_unique():
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    ids = {gen.uscc(i) for i in range(1, 20001)}
    assert len(ids) == 20000 and all(make_uscc(i[:17]) == i for i in list(ids)[:100])


def test_an_unreadable_partition_is_reported_and_the_others_are_evaluated(tmp_path):
    parts, out = partition(tmp_path / "parts"), tmp_path / "out"
    (parts / "part-001.csv").write_text("企业名称,备注\n某公司,无\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(parts), "--as-of", "2024-12-31", "--format", "csv",
                                       "--out", str(out), "--workers", "1"])
    assert result.exit_code == 1 and "part-001.csv: missing required column" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["part-000.csv", "part-002.csv"]


def test_the_lean_dispatch_fires_exactly_what_the_library_dispatch_fires(tmp_path):
    """RuleEngine runs each session's agenda itself (no closure, no JSON round trip of the state per
    firing); on every record of the sample register and of 400 generated ones, the rules that fire and
    their order are the library's."""
    import importlib.util
    from engine.derive import fact_values
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    generated = gen.generate(400, tmp_path / "generated.csv", seed=11)
    policy, book = policy_and_rules()
    ev = Evaluator(policy, book, AS_OF)
    engine = ev.compiled.engine
    enterprises = [e for path in (REGISTER, generated)
                   for chunk in iter_register(path, as_of=AS_OF, policy=policy)
                   for _, e in chunk.accepted]
    assert len(enterprises) > 440
    for e in enterprises:
        record = ev.compiled.encoder.record(fact_values(e, ev._derived, AS_OF))
        for ruleset in engine.ruleset_names:
            assert engine.fire(ruleset, record) == engine.fire_with_library_dispatch(ruleset, record), e.name
    assert not any(engine.session_exists(rs, sid) for rs in engine.ruleset_names for sid in engine.sids_used())
