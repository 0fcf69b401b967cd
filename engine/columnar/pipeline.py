"""`check --engine columnar` end to end, batch by batch: each batch of the register is read
(reader.open_register_stream), evaluated (ColumnarEvaluator) and written before the next is read, in row
order, so memory is bounded by the batch size. Outputs: CSV (Excel-safe, as the durable path's), NDJSON
and JSON (contract v2, engine/contract.py) and Parquet (the CSV's columns as text, one row group per
batch, into one file; for a Parquet dataset, one file per partition: partitions.write_partitions).

A duplicated enterprise id rejects every row holding it; when a later batch finds the duplicate of a
row already written, the finished file is rewritten once without that id's rows (only then).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import IO, Optional

from engine.columnar.arrow_source import Rest
from engine.columnar.contract_text import ContractText
from engine.columnar.evaluator import ColumnarEvaluator
from engine.columnar.output import csv_field, contract_lines, csv_header, csv_records, summary_arrow
from engine.columnar.reader import CHUNK_ROWS, RegisterStream
from engine.columnar.sources import RawBatch
from engine.columnar.turns import SpanText, Spooled, Turns, Written, part_file, remove_parts

FORMATS = ("csv", "ndjson", "json", "parquet")


def render(batch, fmt: str, contract=None):
    """One evaluated batch as its output: CSV records or NDJSON lines (text), or a pyarrow Table.
    `contract`: NDJSON's engine/contract.Contract, or the ContractText that writes it."""
    if fmt == "csv":
        return csv_records(batch)
    if fmt == "parquet":
        return summary_arrow(batch)
    lines = contract.lines(batch) if isinstance(contract, ContractText) else contract_lines(batch, contract)
    return "".join(line + "\n" for line in lines)


class BatchWriter:
    """One output file, written a rendered batch at a time."""

    def __init__(self, fmt: str, path: Path, *, headers: list[str], first_line: Optional[str] = None):
        self.fmt, self.path = fmt, path
        self.parquet = None
        self.fh = None
        if fmt != "parquet":       # CSV records and NDJSON lines come as UTF-8 bytes (batch_task)
            self.fh = _opened_empty(path)
            if fmt == "csv":
                self.fh.write(csv_header(headers).encode())
            elif first_line is not None and fmt == "ndjson":
                self.fh.write((first_line + "\n").encode("utf-8"))

    def write(self, piece) -> None:
        if isinstance(piece, Spooled):
            if self.fmt == "parquet":
                self._append_tables(piece.path)
            else:
                self._append(piece.path)
            return
        if self.fmt != "parquet":
            self.fh.write(piece)
            return
        if self.parquet is None:
            self.parquet = text_parquet(self.path, piece.schema)
        if piece.num_rows:
            self.parquet.write_table(piece)

    def _append_tables(self, path: str) -> None:
        """The tables a worker left as an Arrow IPC stream (span_task), read from the mapped file (no
        copy) and written a batch (a row group) at a time; then the file is removed. Sent back through
        the pool's pipe instead, a table was copied four times, and the pool's worker-handler thread
        spun while it lay in the pipe (multiprocessing's Pool also waits on the result pipe there):
        0.3 CPU-s of the parent's on 1M rows."""
        import pyarrow as pa
        if os.path.getsize(path):
            with pa.memory_map(path) as mapped:
                for batch in pa.ipc.open_stream(mapped):
                    self.write(pa.Table.from_batches([batch]))
                    del batch
        os.unlink(path)

    def _append(self, path: str) -> None:
        """A part a worker wrote, appended by the system (copy_file_range: its bytes never pass through
        this process), then removed."""
        self.fh.flush()
        with open(path, "rb") as src:
            left = os.fstat(src.fileno()).st_size
            copy = getattr(os, "copy_file_range", None)
            try:
                while left > 0 and copy is not None:
                    done = copy(src.fileno(), self.fh.fileno(), left)
                    if not done:
                        break
                    left -= done
            except OSError:         # a file system that cannot: the rest copied here
                pass
            shutil.copyfileobj(src, self.fh, 1 << 20)
        os.unlink(path)

    def shared(self) -> Turns:
        """The file shared with workers forked after this (turns.py): what is written so far flushed."""
        self.fh.flush()
        return Turns(self.fh.fileno())

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
        if self.fmt == "parquet":
            if self.parquet is None:
                import pyarrow as pa
                from engine.output import csv_columns
                self.parquet = text_parquet(self.path, pa.schema([(c, pa.string()) for c in csv_columns()]))
            self.parquet.close()


def text_parquet(path: Path, schema):
    """A Parquet writer whose file reads back as text columns, whether a column comes as strings or as a
    dictionary array of strings (output.summary_arrow): the Arrow schema is not stored in the file, so
    readers take each column's Parquet type (UTF-8 text); a dictionary array's dictionary becomes the
    column chunk's dictionary page as it is. The string columns (ids and names, one distinct text a row)
    are written plain: a dictionary of every cell would cost the writer a hash per cell and the file
    more bytes (1M rows: 22.5 -> 18.8 MB). The writer takes a batch's values 32,768 at a time rather
    than 1,024 (the same file, 20% less of its CPU). Statistics (each page's least and greatest value)
    are written for the plain columns only, the ids and names a reader may look a firm up by: a coded
    column's chunk lists its few texts in its dictionary page already, and their statistics were a
    third of the writer's CPU (1M rows: 0.82-0.96 -> 0.48-0.49 CPU-s, the table read back the same)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    coded = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    plain = [f.name for f in schema if not pa.types.is_dictionary(f.type)]
    return pq.ParquetWriter(path, schema, store_schema=False, use_dictionary=coded, write_batch_size=1 << 15,
                            write_statistics=plain)


def _opened_empty(path: Path):
    """The file to write, new or emptied — not opened with O_TRUNC when it is already empty (the
    temporary file fileguard.atomic_path or spool_path made): on ext4 a file truncated on opening is
    flushed when it is closed (auto_da_alloc), measured 0.1-0.35 s of waiting at the close of a 400 MB
    CSV."""
    fh = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT, 0o666), "wb")
    if os.fstat(fh.fileno()).st_size:
        fh.truncate(0)
    return fh


# ------------------------------------------------------------------------------- a batch, in any process
_EVALUATORS: dict = {}


def batch_task(job, payload):
    """engine/batch/tasks.run_task's ("columnar", frame or (row numbers, frame)): one batch evaluated and
    rendered in whichever process (or Dask worker) runs it; the evaluator is compiled once per process
    and run. On the durable engine (`job.engine`), every row's verdicts are durable_rules' and compared
    with the columnar engine's before the batch is rendered (engine/columnar/durable_verdicts.py)."""
    rows, frame = payload if isinstance(payload, tuple) else (None, payload)
    ready = _EVALUATORS.get(job.token)
    if ready is None:
        _EVALUATORS.clear()
        ready = _EVALUATORS[job.token] = _prepare(job)
    evaluator, contract, durable = ready
    batch = evaluator.evaluate_frame(frame)
    if durable is not None:
        durable.confirm(batch, rows)
    piece = render(batch, job.fmt, contract)
    # NDJSON lines travel back as UTF-8 bytes: pickled as they are, written as they are (as text, the
    # parent decoded them from the pickle and encoded them again to write them).
    return frame.n, piece.encode("utf-8") if type(piece) is str else piece, None


def prepare_here(job, policy, book) -> None:
    """The job's evaluator built in this process from the policy (its reform applied) and rules it has
    loaded already, before batch_task needs it: with one worker, the policy is not loaded a second time;
    with a local pool, the workers are forked with it and the modules the batches use (pyarrow.compute,
    and numpy.ma, which pyarrow imports when it first converts a numpy array) rather than each loading
    and compiling them again — 0.2-0.3 CPU-s a worker measured on 1M typed Parquet rows, while the
    parent builds it in ~0.1 s. Not for the durable
    engine: its rulesets are durable_rules' process-global state, which each process builds for itself."""
    if job.engine == "durable":
        return
    try:
        import numpy.ma  # noqa: F401  (see above)
        import pyarrow.compute  # noqa: F401

        import engine.columnar.arrow_cells  # noqa: F401  (the batches' validation: 7 ms a worker)
    except ImportError:             # the reader without pyarrow (reader.NO_PYARROW)
        pass
    _EVALUATORS.clear()
    _EVALUATORS[job.token] = _prepare(job, (policy, book))


def _prepare(job, loaded=None):
    """(columnar evaluator, contract for NDJSON, durable_rules' verdicts or None) of a job, per process.
    `loaded`: the job's (policy with its reform applied, rules), when this process has them."""
    from engine.contract import Contract
    if loaded is None:
        from engine.evaluate import load_engine_inputs
        policy, book = load_engine_inputs(job.policy_id)
        if job.reform is not None:
            from engine.analysis.reform import apply_reform
            policy = apply_reform(policy, job.reform)
    else:
        policy, book = loaded
    evaluator = ColumnarEvaluator(policy, book, job.as_of)
    durable = None
    if job.engine == "durable":
        from engine.columnar.durable_verdicts import DurableVerdicts
        durable = DurableVerdicts(policy, book, job.as_of, evaluator)
    contract = None
    if job.fmt == "ndjson":
        contract = Contract(evaluator.plan.plans, book, engine=job.engine,
                            cross_check="columnar" if durable is not None else "off",
                            detail=job.output.detail if job.output else "compact")
        if contract.detail == "compact":
            contract = ContractText(contract, evaluator)
    return evaluator, contract, durable


def part_task(job, frame):
    """("columnar-part", frame): batch_task's table left in a part file in `job.spool` (an Arrow IPC
    stream) rather than sent back through the pool's pipe (see BatchWriter._append_tables)."""
    n, piece, state = batch_task(job, frame)
    spooled, _ = _arrow_part(job, lambda write: write(piece))
    return n, spooled, state


def raw_batch_task(job, raw):
    """("columnar-raw", raw): a batch of pyarrow arrays validated by this worker's copy of the job's
    reader, then evaluated and rendered; with what the batch adds to the reader's state."""
    out, state = job.reader.validate_apart(raw)
    if out is None:
        return 0, None, state
    n, piece, _ = batch_task(job, out)
    return n, piece, state


def span_task(job, payload):
    """("columnar-span", (span, rows, task)): the records of one span of the job's register file (its
    source's spans: ArrowCsv, ArrowParquet) read by this worker, then each batch of at most `rows`
    handled as raw_batch_task handles it: (rows accepted, the rendered batches, what each batch adds to
    the reader's state), in file order. `task`: the span's number among the run's tasks (turns.py)."""
    span, rows, task = payload
    reader = job.reader
    batches = reader.source.span_batches(span, reader.ncols, reader.header_row, rows)
    if job.spool is None:
        done = [raw_batch_task(job, raw) for raw in batches]
        return (sum(n for n, _, _ in done), [piece for _, piece, _ in done if piece is not None],
                [s for _, _, s in done])
    if job.fmt == "parquet":
        # Parquet tables are left in a part file as an Arrow IPC stream, which the parent maps and writes.
        spooled, (accepted, states) = _arrow_part(job, lambda write: _each_batch(job, batches, write))
        return accepted, [spooled], states
    # Text (CSV records, NDJSON lines) is written into the output by this worker when its span is next,
    # else left in a part file, rather than pickled and sent through the pool's pipe (a copy here, the
    # pipe, and two in the parent) — and never more than turns.HELD_BYTES of it held here (a span of
    # NDJSON is ~60 MB): the parent's BatchWriter appends the file.
    text = SpanText(job.spool, job.token, _TURNS)
    try:
        accepted, states = _each_batch(job, batches, text.add)
        return accepted, [text.done(task)], states
    finally:
        text.close()


def _each_batch(job, batches, keep) -> tuple[int, list]:
    """raw_batch_task of each batch, its rendering handed to `keep`: (rows accepted, each batch's state)."""
    accepted, states = 0, []
    for raw in batches:
        n, piece, state = raw_batch_task(job, raw)
        accepted += n
        states.append(state)
        if piece is not None:
            keep(piece)
    return accepted, states


_TURNS: Optional[Turns] = None      # run()'s, while its forked workers write into its output


def _arrow_part(job, fill):
    """(the part file `fill` wrote its tables to through the write it is given, what `fill` returned)."""
    with part_file(job.spool, job.token) as part:
        tables = ArrowParts(part)
        done = fill(tables.write)
        tables.close()
    return Spooled(part.name), done


class ArrowParts:
    """Tables (one per batch) written to an open file as one Arrow IPC stream (a stream: each batch's
    dictionaries replace the last's); `close` ends the stream, before the file is closed."""

    def __init__(self, fh):
        self.fh, self.stream = fh, None

    def write(self, table) -> None:
        import pyarrow as pa
        if self.stream is None:
            self.stream = pa.ipc.new_stream(self.fh, table.schema)
        self.stream.write_table(table)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None


def validates_apart(stream, executor) -> bool:
    """Worker processes validate the batches too when they are forked from this one (they hold a copy of
    its reader: the header already read) — a local pool on Linux, for one register file read by
    pyarrow. Otherwise (one process, Dask, a dataset) batches are validated here."""
    return (isinstance(stream, RegisterStream) and stream.reader is not None and executor.name == "local"
            and executor.workers > 1 and sys.platform.startswith("linux"))


def run(stream: RegisterStream, job, executor, writer: BatchWriter, chunk_rows: int = CHUNK_ROWS,
        on_batch=None) -> None:
    """Every batch read here, validated (here or by the workers: validates_apart), evaluated and
    rendered by the executor's workers (in order, a few in flight), written here; then the duplicates'
    rows taken out."""
    apart = validates_apart(stream, executor)
    spans = None
    if apart:
        job = replace(job, reader=stream.reader)
        spans = stream.reader.spans(chunk_rows)
    turns = None
    if spans is not None:       # the workers read their spans of the file themselves: no parse here
        job = replace(job, spool=str(writer.path.parent))     # and leave what they render in part files
        if writer.fmt != "parquet":     # text: written into the output by the worker whose span is next
            turns = writer.shared()
        tasks = _span_tasks(stream.reader, spans, chunk_rows)
    else:
        items = stream.batches(chunk_rows, apart=True) if apart else stream.batches(chunk_rows)
        tasks = (("columnar-raw", item) if isinstance(item, RawBatch) else ("columnar", item) for item in items)
    global _TURNS
    _TURNS = turns                  # for the workers forked by executor.map
    # Workers that run durable_rules are replaced after their share of rows (engine/batch/pool.py: their
    # memory grows). The columnar engine's do not grow, and a replacement is a fork of this process, which
    # holds pyarrow, the reader and the evaluator: replaced after each span, typed Parquet -> Parquet on 1M
    # rows took 3.2-3.5 s instead of 2.1-2.3 (1.6-1.8 CPU-s of system time instead of 0.4-0.5).
    per_task = chunk_rows if job.engine == "durable" else None
    try:
        for task, (n, piece, state) in enumerate(executor.map(job, tasks, rows_per_task=per_task)):
            for one in (state if isinstance(state, list) else [state]):       # a span's: one per batch
                if one is not None:
                    stream.reader.absorb(one)
            _write(writer, piece if isinstance(piece, list) else [piece], turns, task)
            if on_batch is not None:
                on_batch(n)
        if apart:
            stream.finish()
    finally:
        _TURNS = None
        writer.close()
        if job.spool is not None:           # parts of a run stopped early
            remove_parts(job.spool, job.token)
    if stream.duplicate_ids:
        drop_ids(writer.fmt, writer.path, stream.duplicate_ids)


def _write(writer: BatchWriter, pieces: list, turns: Optional[Turns], task: int) -> None:
    """One task's result written, in task order: by its worker already (Written), or here."""
    if turns is not None and any(isinstance(one, Written) for one in pieces):
        return
    with turns.parents_turn(task) if turns is not None else nullcontext():
        for one in pieces:
            if one is not None:
                writer.write(one)
        if turns is not None:           # the workers write to the same file by its descriptor
            writer.fh.flush()


def _span_tasks(reader, spans, chunk_rows: int):
    """A task per span, cut as the executor takes them (the workers start on the first spans while the
    file is still being cut); the Rest of a file that could not be cut to its end parsed here, its
    batches validated by the workers, as a file that cannot be cut at all."""
    task = 0                # each task's number, as pipeline.run numbers their results (turns.py)
    for span in spans:
        if isinstance(span, Rest):
            for raw in reader.batches(chunk_rows, apart=True, since=span):
                yield ("columnar-raw", raw) if isinstance(raw, RawBatch) else ("columnar", raw)
                task += 1
        else:
            yield "columnar-span", (span, chunk_rows, task)
            task += 1


def drop_ids(fmt: str, path: Path, ids: set) -> None:
    """Rewrite a finished output without the rows of these enterprise ids."""
    tmp = path.with_name(path.name + ".dedup")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
        table = pq.read_table(path)
        keep = pc.invert(pc.is_in(table.column("enterprise_id"), value_set=pa.array(sorted(ids), pa.string())))
        pq.write_table(table.filter(keep), tmp)
    elif fmt == "csv":
        with open(path, encoding="utf-8", newline="") as src, open(tmp, "w", encoding="utf-8", newline="") as dst:
            dst.write(src.readline())          # the BOM and header (a header cell never holds a line break)
            for cells in csv.reader(src):
                if cells[0] not in ids:
                    dst.write(",".join(map(csv_field, cells)) + "\r\n")
    else:
        with open(path, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8", newline="") as dst:
            for line in src:
                if json.loads(line).get("enterprise_id") not in ids:
                    dst.write(line)
    tmp.replace(path)


def finish_json(spool: Path, target: IO[bytes]) -> None:
    """JSON (contract v2): the spooled lines as one array, as engine/streams.TextStream writes it."""
    from engine.streams import TextStream
    stream = TextStream(target, "json")
    with open(spool, "rb") as fh:
        for line in fh:
            stream.write(line.rstrip(b"\n"))
    stream.close()


def spool_path(near: Optional[Path], suffix: str) -> Path:
    folder = near.parent if near is not None else Path(tempfile.gettempdir())
    handle = tempfile.NamedTemporaryFile(dir=folder, suffix=suffix, delete=False)
    handle.close()
    return Path(handle.name)


def copy_out(path: Path, target: IO[bytes]) -> None:
    with open(path, "rb") as fh:
        shutil.copyfileobj(fh, target, 1 << 20)


__all__ = ["FORMATS", "ArrowParts", "BatchWriter", "batch_task", "prepare_here", "part_task", "raw_batch_task", "span_task", "validates_apart", "render", "run", "drop_ids", "finish_json", "spool_path",
           "copy_out"]
