"""Batch evaluation of registers of any size: streaming in chunks, worker processes, executors.

The parent process reads raw rows (engine/register/streaming.py), hands out chunks and writes results as
they come back; workers validate, evaluate and render each chunk. Every worker process builds its own
Evaluator from the policy id (durable_rules rulesets are process-global C state: they are never shipped
between processes), and only raw cells go out and rendered outputs come back. Results come back in the
order of the chunks, so the output is the same, byte for byte, whatever the number of workers. At most
two chunks per worker are in flight, so memory does not grow with the register.

A partitioned register (a folder of CSV, XLSX, JSON or Parquet files) is evaluated one file per task
and written one result file per partition (and its rejected rows beside it, <name>.errors.csv);
duplicate enterprise ids are found across all of them.

Executors: `LocalExecutor` (this machine: the calling process, or a pool of processes) and
`engine.batch.dask.DaskExecutor` (a Dask cluster, local or remote) run the same tasks (`run_task`).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from json.encoder import encode_basestring as _escape   # the C function where available
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Optional

from engine.errors import EngineError, InputFileError, ScaleupError
from engine.register import InputProblem, RejectedRow
from engine.register.streaming import (DEFAULT_CHUNK_SIZE, IdIndex, RegisterScan, RowChecker, locate_ids,
                                       scan_register)

FORMATS = ("table", "json", "csv", "xlsx")
JSON_CHUNK_SIZE = 100      # a JSON result with its explanations is ~70 KB: smaller chunks, flat memory
PARTITION_SUFFIXES = (".csv", ".xlsx", ".json", ".parquet")
PARTITION_FORMATS = {"json": ".json", "csv": ".csv"}


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class Job:
    """Everything a worker needs, small and picklable. The policy travels as its id (or folder path,
    which workers on other machines must see at the same path)."""

    policy_id: str
    as_of: date
    fmt: str                                   # table | json | csv | xlsx: what each result becomes
    lang: str
    scan: Optional[RegisterScan] = None        # a single file read in chunks
    out_dir: Optional[str] = None              # a partitioned register: where result files go
    duplicates: dict = field(default_factory=dict)   # partitioned: id -> [(file, row)] across files
    reform: Any = None                         # a what-if Reform (engine/overrides.py) every worker applies
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class ChunkResult:
    items: list                                # rendered results, in row order
    rejected: list[RejectedRow]
    rows: int                                  # rows read (accepted + rejected)
    sessions_left: int = 0                     # durable_rules sessions still open after the chunk


@dataclass
class PartitionResult:
    name: str
    output: Optional[str] = None
    rows: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    warnings: list[InputProblem] = field(default_factory=list)
    error: Optional[str] = None                # the file could not be read at all
    ids: Optional[IdIndex] = None


class ChunkWorker:
    """The per-process state: the compiled policy and the row checker. Built once per process and run."""

    def __init__(self, job: Job):
        from engine.evaluate import Evaluator, load_engine_inputs
        from engine.output import csv_columns
        self.job = job
        # Loaded by the parent before it forked this process, or else loaded here.
        self.policy, self.book = _LOADED.get(job.policy_id) or load_engine_inputs(job.policy_id)
        if job.reform is not None:
            from engine.analysis.reform import apply_reform
            self.policy = apply_reform(self.policy, job.reform)
        # Summary outputs show no condition-level findings: they are left out (every rule is still
        # evaluated and cross-checked with durable_rules).
        self.evaluator = Evaluator(self.policy, self.book, job.as_of, condition_detail=job.fmt == "json")
        self.columns = csv_columns()
        self.lock = threading.Lock()           # Dask may run several tasks at once in one process
        self.file_checker = self.checker(job.scan) if job.scan else None

    def checker(self, scan: RegisterScan) -> RowChecker:
        return RowChecker(scan, self.job.as_of, self.policy.jurisdiction)

    def run(self, checker: RowChecker, rows: list) -> ChunkResult:
        with self.lock:
            items, rejected = [], []
            for row_no, cells in rows:
                outcome = checker.check(row_no, cells)
                if isinstance(outcome, RejectedRow):
                    rejected.append(outcome)
                else:
                    items.append(self.render(self.evaluator.evaluate(outcome[1])))
            return ChunkResult(items, rejected, len(rows), self.sessions_left())

    def render(self, result) -> Any:
        from engine.output import result_json, summary_row
        if self.job.fmt == "json":
            return json_item(result_json(result, self.book, self.job.lang))
        row = summary_row(result)
        return row if self.job.fmt == "table" else [row.get(c, "") for c in self.columns]

    def sessions_left(self) -> int:
        """durable_rules sessions of the last record still open (always 0: each is deleted at once)."""
        engine = self.evaluator.compiled.engine
        last = engine.sids_used(last=len(engine.ruleset_names))
        return sum(engine.session_exists(rs, sid) for rs in engine.ruleset_names for sid in last)


_WORKERS: dict[str, ChunkWorker] = {}
_WORKERS_LOCK = threading.Lock()
_LOADED: dict[str, tuple] = {}          # policy id -> (policy, rulebook) loaded in this process


def _with_reform(loaded: tuple, reform) -> tuple:
    """Apply a what-if reform here first, so a bad one is one clear error before any worker starts."""
    if reform is None:
        return loaded
    from engine.analysis.reform import apply_reform
    policy, book = loaded
    return apply_reform(policy, reform), book


def load_inputs(policy_id: str) -> tuple:
    """The policy and rulebook, loaded once per process (workers forked later inherit them)."""
    from engine.evaluate import load_engine_inputs
    if policy_id not in _LOADED:
        _LOADED.clear()
        _LOADED[policy_id] = load_engine_inputs(policy_id)
    return _LOADED[policy_id]


def worker_for(job: Job) -> ChunkWorker:
    """This process's worker for the job, built on first use (one run at a time per process: the
    previous run's worker is dropped)."""
    with _WORKERS_LOCK:
        worker = _WORKERS.get(job.token)
        if worker is None:
            _WORKERS.clear()
            worker = _WORKERS[job.token] = ChunkWorker(job)
        return worker


def run_task(job: Job, task: tuple) -> Any:
    """One unit of work, in whichever process runs it: ("chunk", rows), ("ids", path),
    ("locate", (path, keys)) or ("partition", path)."""
    kind, payload = task
    try:
        if kind == "chunk":
            worker = worker_for(job)
            return worker.run(worker.file_checker, payload)
        if kind == "ids":
            return _partition_ids(payload)
        if kind == "locate":
            path, keys = payload
            return locate_ids(scan_register(path, find_duplicates=False), keys)
        if kind == "partition":
            return _evaluate_partition(job, payload)
    except EngineError:
        raise
    except ScaleupError as exc:
        # Domain errors with extra constructor arguments do not survive pickling back to the parent.
        raise ScaleupError(str(exc)) from None
    raise ValueError(f"unknown task {kind!r}")


# ---------------------------------------------------------------------------------------------- executors
class LocalExecutor:
    """Tasks on this machine: in the calling process (one worker) or a pool of worker processes, each
    with its own Evaluator. Results in submission order; at most two tasks per process in flight
    (multiprocessing's imap would read the whole input ahead)."""

    name = "local"

    def __init__(self, workers: Optional[int] = None):
        self.workers = max(1, workers or default_workers())

    def map(self, job: Job, tasks: Iterable[tuple], *, processes: Optional[int] = None) -> Iterator[Any]:
        processes = min(self.workers, processes or self.workers)
        if processes <= 1:
            for task in tasks:
                yield run_task(job, task)
            return
        # fork shares the loaded policy copy-on-write; each child still compiles its own rulesets
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        with multiprocessing.get_context(method).Pool(processes, initializer=_pool_init, initargs=(job,)) as pool:
            pending: deque = deque()
            for task in tasks:
                pending.append(pool.apply_async(_pool_task, (task,)))
                if len(pending) >= 2 * processes:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

    def close(self) -> None:
        pass


_POOL_JOB: Optional[Job] = None


def _pool_init(job: Job) -> None:
    global _POOL_JOB
    _POOL_JOB = job          # nothing that can fail here: a failing initializer makes Pool respawn forever


def _pool_task(task: tuple) -> Any:
    return run_task(_POOL_JOB, task)


def make_executor(name: str, workers: Optional[int], address: Optional[str] = None):
    if name == "local":
        return LocalExecutor(workers)
    if name == "dask":
        from engine.batch.dask import DaskExecutor
        return DaskExecutor(address=address, workers=workers)
    raise ValueError(f"unknown executor {name!r}")


# ---------------------------------------------------------------------------------------------- single file
class RegisterRun:
    """One register file evaluated in chunks: `scan` (header, warnings, size) is known at once;
    `chunks()` yields ChunkResults in row order."""

    def __init__(self, path: Path, *, as_of: date, policy_id: str, fmt: str, lang: str,
                 sheet: Optional[str] = None, executor=None, chunk_size: Optional[int] = None, reform=None):
        from engine.compiler import plan_policy
        # The policy is loaded and compiled here first, so a policy that does not validate is one clear
        # error before any worker starts: with one worker, by building this process's worker itself;
        # otherwise without durable_rules (each worker compiles its own rulesets).
        policy, book = _with_reform(load_inputs(policy_id), reform)
        self.scan = scan_register(path, sheet=sheet)
        self.job = Job(policy_id=policy_id, as_of=as_of, fmt=fmt, lang=lang, scan=self.scan, reform=reform)
        self.executor = executor or LocalExecutor(1)
        self.chunk_size = max(1, chunk_size or (JSON_CHUNK_SIZE if fmt == "json" else DEFAULT_CHUNK_SIZE))
        if isinstance(self.executor, LocalExecutor) and self.processes() <= 1:
            worker_for(self.job)
        else:
            plan_policy(policy, book, as_of)

    def processes(self) -> int:
        """Workers this run can use: no more than it has chunks."""
        return min(self.executor.workers, max(1, -(-self.scan.data_rows // self.chunk_size)))

    @property
    def total_rows(self) -> int:
        return self.scan.data_rows

    def chunks(self) -> Iterator[ChunkResult]:
        tasks = (("chunk", rows) for rows in self.scan.chunks(self.chunk_size))
        yield from self.executor.map(self.job, tasks, processes=self.processes())


def json_item(doc: dict) -> str:
    """One element of the JSON list exactly as json.dumps(list, ensure_ascii=False, indent=2) writes it.
    The standard library's indenting encoder is pure Python and took as long as the evaluation itself;
    this writer makes the same text 2-3 times faster (strings go through json's own C escaping), and
    falls back to json.dumps for anything it does not handle itself."""
    out: list[str] = ["  "]
    try:
        _indented(doc, "\n  ", out)
    except _NotPlain:
        return "  " + json.dumps(doc, ensure_ascii=False, indent=2).replace("\n", "\n  ")
    return "".join(out)


class _NotPlain(Exception):
    pass


def _indented(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_escape(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        out.append("{")
        first = True
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            out.append(inner if first else "," + inner)
            first = False
            out.append(_escape(key))
            out.append(": ")
            _indented(item, inner, out)
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        out.append("[")
        first = True
        for item in value:
            out.append(inner if first else "," + inner)
            first = False
            _indented(item, inner, out)
        out.append(newline + "]")
    else:                          # floats, subclasses...: json.dumps decides
        raise _NotPlain


def write_json_list(stream: IO[str], items: Iterable[str]) -> None:
    """Streams a JSON list of pre-rendered elements; byte-identical to json.dumps(list, indent=2)."""
    stream.write("[")
    first = True
    for item in items:
        stream.write(("\n" if first else ",\n") + item)
        first = False
    stream.write("]" if first else "\n]")


def table_text(rows: list[dict], lang: str) -> str:
    """The terminal table from summary rows (engine/output.py render_table, which takes results)."""
    from engine.output import FAMILY_ORDER
    from engine.render import environment
    text = environment().get_template(f"table_{lang}.txt.j2").render(rows=rows, families=FAMILY_ORDER)
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


class RejectedWriter:
    """Rejected rows, unchanged, with an "error" column (as write_rejected), written as they come; the
    file is only created once a row is rejected."""

    def __init__(self, path: Optional[Path], headers: list[str]):
        self.path, self.headers = path, headers
        self._fh = self._writer = None
        self.count = 0

    def add(self, rejected: RejectedRow) -> None:
        self.count += 1
        if self.path is None:
            return
        if self._writer is None:
            import csv
            from engine.tabular import neutralise
            error_header = "error"
            while error_header in self.headers:
                error_header = f"scaleup {error_header}"
            self._fh = open(self.path, "w", encoding="utf-8", newline="")
            self._fh.write("\ufeff")
            self._writer = csv.writer(self._fh, lineterminator="\r\n")
            self._neutralise = neutralise
            self._writer.writerow([neutralise(h, numeric_ok=False) for h in [*self.headers, error_header]])
        row = [rejected.original.get(h, "") for h in self.headers] + [
            "; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in rejected.problems)]
        self._writer.writerow([self._neutralise(c) for c in row])

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


class Progress:
    """Rows done, rows/s and rows rejected so far, on one line of stderr, when stderr is a terminal."""

    def __init__(self, total: int, enabled: Optional[bool] = None, stream: IO[str] = None,
                 clock: Callable[[], float] = time.monotonic, unit: str = "rows"):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total, self.clock, self.unit = total, clock, unit
        self.start = self.last = clock()
        self.done = self.rejected = 0
        self.shown = False

    def update(self, rows: int, rejected: int) -> None:
        self.done += rows
        self.rejected += rejected
        now = self.clock()
        if self.enabled and (now - self.last >= 0.25 or self.done >= self.total):
            self.last = now
            self.stream.write("\r" + self.line(now) + "\x1b[K")
            self.stream.flush()
            self.shown = True

    def line(self, now: float) -> str:
        rate = self.done / max(now - self.start, 1e-9)
        pct = f" {100 * self.done / self.total:3.0f}%" if self.total else ""
        return (f"{self.done:,}/{self.total:,} {self.unit}{pct}  {rate:,.0f} {self.unit}/s  "
                f"{self.rejected:,} rejected")

    def clear(self) -> None:
        """Before another line goes to stderr."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


# ---------------------------------------------------------------------------------------------- partitions
def partition_files(folder: Path) -> list[Path]:
    """The register's partitions: the folder's .csv, .xlsx, .json and .parquet files, by name."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PARTITION_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        raise InputFileError(f"{folder}: no register files (.csv, .xlsx, .json, .parquet) in the folder")
    return files


def _partition_ids(path: str) -> PartitionResult:
    try:
        scan = scan_register(path, keep_ids=True, find_duplicates=False)
    except InputFileError as exc:
        return PartitionResult(path, error=str(exc))
    return PartitionResult(path, rows=scan.data_rows, ids=scan.ids)


def _evaluate_partition(job: Job, path: str) -> PartitionResult:
    try:
        scan = scan_register(path, find_duplicates=False)
    except InputFileError as exc:
        return PartitionResult(path, error=str(exc))
    return _evaluate_scanned(job, scan)


def _evaluate_scanned(job: Job, scan: RegisterScan) -> PartitionResult:
    from engine.tabular import write_csv
    scan.duplicates = {k: v for k, v in job.duplicates.items() if any(f == scan.name for f, _ in v)}
    worker = worker_for(job)
    checker = worker.checker(scan)
    result = PartitionResult(scan.name, warnings=list(scan.warnings))
    stem = Path(scan.name).stem
    out = Path(job.out_dir) / (stem + PARTITION_FORMATS[job.fmt])
    rejected = RejectedWriter(out.with_name(f"{stem}.errors.csv"), scan.headers)

    def items() -> Iterator:
        for rows in scan.chunks(JSON_CHUNK_SIZE if job.fmt == "json" else DEFAULT_CHUNK_SIZE):
            chunk = worker.run(checker, rows)
            result.rows += chunk.rows
            for r in chunk.rejected:
                rejected.add(r)
            result.rejected.extend(chunk.rejected)
            yield from chunk.items

    tmp = out.with_name(out.name + ".partial")
    try:
        if job.fmt == "json":
            with open(tmp, "w", encoding="utf-8") as fh:
                write_json_list(fh, items())
        else:
            from engine.output import csv_headers
            write_csv(tmp, csv_headers(job.lang), items())
        os.replace(tmp, out)
    finally:
        rejected.close()
        if tmp.exists():
            tmp.unlink()
    result.output = str(out)
    return result


class PartitionedRun:
    """A folder of register files evaluated one file per task, written one result file per partition."""

    def __init__(self, folder: Path, out_dir: Path, *, as_of: date, policy_id: str, fmt: str, lang: str,
                 executor=None, reform=None):
        from engine.compiler import plan_policy
        if fmt not in PARTITION_FORMATS:
            raise ValueError(fmt)
        policy, book = _with_reform(load_inputs(policy_id), reform)
        plan_policy(policy, book, as_of)
        self.files = [str(p) for p in partition_files(folder)]
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.executor = executor or LocalExecutor(1)
        self.job = Job(policy_id=policy_id, as_of=as_of, fmt=fmt, lang=lang, out_dir=str(out_dir), reform=reform)
        self.failed: dict[str, str] = {}

    def results(self) -> Iterator[PartitionResult]:
        n = len(self.files)
        ids = IdIndex()
        readable = []
        for part in self.executor.map(self.job, [("ids", f) for f in self.files], processes=n):
            if part.error:
                self.failed[part.name] = part.error
                yield part
            else:
                ids.merge(part.ids)
                readable.append(part.name)
        repeated = ids.repeated()
        duplicates: dict[str, list] = {}
        if repeated:
            for found in self.executor.map(self.job, [("locate", (f, repeated)) for f in readable], processes=n):
                for key, where in found.items():
                    duplicates.setdefault(key, []).extend(where)
        duplicates = {k: v for k, v in duplicates.items() if len(v) > 1}
        job = Job(**{**self.job.__dict__, "duplicates": duplicates})
        yield from self.executor.map(job, [("partition", f) for f in readable], processes=len(readable))
