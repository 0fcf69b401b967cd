"""The batch tasks both executors run (`run_task`), and the per-process worker state they share.

A task is ("chunk", rows), ("part", part), ("ids", path), ("locate", (path, keys)) or ("partition", path).
Every worker process builds its own Evaluator from the policy id (durable_rules rulesets are
process-global C state: they are never shipped between processes); only raw cells, or where in the
file a part of a CSV starts (the worker reads it), go out and rendered outputs come back.
engine/batch/local.py (this machine) and engine/batch/dask.py (a Dask cluster) import this module;
it imports neither.
"""
from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

from engine.batch.gc_pace import chunk_settled
from engine.batch.writers import RejectedWriter
from engine.errors import EngineError, InputFileError, OutputFileError, ScaleupError
from engine.fileguard import atomic_path
from engine.register import InputProblem, RejectedRow
from engine.register.columns import register_columns
from engine.register.streaming import (DEFAULT_CHUNK_SIZE, IdIndex, RegisterScan, RowChecker, locate_ids,
                                       scan_register)
from engine.streams import OutputSpec, TextStream

FORMATS = ("table", "json", "ndjson", "csv", "xlsx")
JSON_CHUNK_SIZE = 100      # a result with its explanations is 10-70 KB: smaller chunks, flat memory
PARTITION_SUFFIXES = (".csv", ".xlsx", ".json", ".parquet")
PARTITION_FORMATS = {"json": ".json", "ndjson": ".ndjson", "csv": ".csv"}


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
    fmt: str                                   # table | json | ndjson | csv | xlsx: what each result becomes
    lang: str
    output: Optional[OutputSpec] = None        # contract version and options (engine/streams.py)
    scan: Optional[RegisterScan] = None        # a single file read in chunks
    out_dir: Optional[str] = None              # a partitioned register: where result files go
    duplicates: dict = field(default_factory=dict)   # partitioned: id -> [(file, row)] across files
    reform: Any = None                         # a what-if Reform (engine/overrides.py) every worker applies
    town: Optional[str] = None                 # only this town's enterprises are written (all are checked)
    reader: Any = None                         # --engine columnar: the ColumnReader forked workers validate
                                               # batches with (pipeline.validates_apart); never pickled
    spool: Optional[str] = None                # --engine columnar: the folder where workers leave rendered
                                               # text parts for the parent to append (pipeline.span_task)
    engine: str = "columnar"                   # the columnar pipeline: durable = durable_rules decides every
                                               # row, the columnar engine cross-checks (columnar/durable_verdicts.py)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class ChunkResult:
    items: Any                                 # rendered results in row order: bytes (CSV, JSON, NDJSON) or rows
    rejected: list[RejectedRow]
    rows: int                                  # rows read (accepted + rejected)
    sessions_left: int = 0                     # durable_rules sessions still open after the chunk
    warnings: list = field(default_factory=list)   # rows with tags the policy does not know


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
        from engine.evaluate import load_engine_inputs
        from engine.streams import ChunkRenderer
        self.job = job
        # Loaded by the parent before it forked this process, or else loaded here.
        self.policy, self.book = _LOADED.get(job.policy_id) or load_engine_inputs(job.policy_id)
        if job.reform is not None:
            from engine.analysis.reform import apply_reform
            self.policy = apply_reform(self.policy, job.reform)
        self.renderer = ChunkRenderer(self.policy, self.book, job.as_of, output_spec(job))
        self.evaluator = self.renderer.evaluator
        self._sheet_rows = self._fingerprint = None
        self.lock = threading.Lock()           # Dask may run several tasks at once in one process
        self.file_checker = self.checker(job.scan) if job.scan else None

    def checker(self, scan: RegisterScan) -> RowChecker:
        return RowChecker(scan, self.job.as_of, self.policy.jurisdiction)

    def run(self, checker: RowChecker, rows: list) -> ChunkResult:
        from engine.vocabulary import known_tags, unknown_tag_problem
        with self.lock:
            enterprises, row_numbers, rejected, warnings = [], [], [], []
            known = known_tags(self.policy, self.job.as_of)
            for row_no, cells in rows:
                outcome = checker.check(row_no, cells)
                if isinstance(outcome, RejectedRow):
                    rejected.append(outcome)
                else:
                    if self.job.town is not None and outcome[1].town != self.job.town:
                        continue
                    enterprises.append(outcome[1])
                    row_numbers.append(row_no)
                    warning = unknown_tag_problem(checker.scan.name, row_no, outcome[1], known, self.policy.id)
                    if warning is not None:
                        warnings.append(warning)
            if self.job.fmt == "xlsx":       # the officer's workbook: each "no" with its deciding condition
                items = [self.sheet_row(self.evaluator.evaluate(e), row_no, e)
                         for e, row_no in zip(enterprises, row_numbers)]
            else:
                items = self.renderer.render(enterprises, row_numbers)
            if self.renderer.spec.needs_explanations:
                chunk_settled()
            return ChunkResult(items, rejected, len(rows), self.sessions_left(), warnings)

    def sheet_row(self, result, row_no: Optional[int], enterprise) -> list:
        """The officer workbook's row (engine/exports.py), with the audit decision id of each award."""
        from engine.awards.audit import fingerprint
        from engine.exports import DecisionRows, award_decision_ids
        if self._sheet_rows is None:
            self._sheet_rows = DecisionRows(self.book, self.job.lang)
            self._fingerprint = fingerprint(self.policy, self.book)
        ids = {}
        if enterprise is not None and self.job.scan is not None:
            scan = self.job.scan
            # The same source `scaleup audit` records, so the id matches the audit record's.
            source = {"file": Path(scan.path).name, "row": row_no, **({"sheet": scan.sheet} if scan.sheet else {})}
            ids = award_decision_ids(result, enterprise, self.policy, self.book, source, self._fingerprint)
        return self._sheet_rows.row(result, ids)

    def sessions_left(self) -> int:
        """durable_rules sessions of the last record still open (always 0: each is deleted at once)."""
        engine = self.evaluator.compiled.engine
        last = engine.sids_used(last=len(engine.ruleset_names))
        return sum(engine.session_exists(rs, sid) for rs in engine.ruleset_names for sid in last)


_WORKERS: dict[str, ChunkWorker] = {}
_WORKERS_LOCK = threading.Lock()
_LOADED: dict[str, tuple] = {}          # policy id -> (policy, rulebook) loaded in this process


def with_reform(loaded: tuple, reform) -> tuple:
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


def job_columns(job: Job) -> tuple:
    """The register columns of the job's policy (its rules folder's facts schema)."""
    return register_columns(load_inputs(job.policy_id)[0])


def output_spec(job: Job) -> OutputSpec:
    return job.output or OutputSpec(job.fmt, job.lang)


def chunk_size_for(spec: OutputSpec) -> int:
    return JSON_CHUNK_SIZE if spec.needs_explanations else DEFAULT_CHUNK_SIZE


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
    """One unit of work, in whichever process runs it: ("chunk", rows), ("part", part of the job's CSV
    as RegisterScan.parts gives it), ("ids", path), ("locate", (path, keys)), ("partition", path),
    ("columnar", frame), ("columnar-raw", pyarrow batch) or ("columnar-span", (span of a CSV, rows, task))."""
    kind, payload = task
    try:
        if kind == "chunk":
            worker = worker_for(job)
            return worker.run(worker.file_checker, payload)
        if kind == "part":
            worker = worker_for(job)
            return worker.run(worker.file_checker, job.scan.read_part(payload))
        if kind == "ids":
            return partition_ids(job, payload)
        if kind == "locate":
            path, keys = payload
            return locate_ids(scan_register(path, columns=job_columns(job), find_duplicates=False), keys)
        if kind == "partition":
            return evaluate_partition(job, payload)
        if kind == "columnar":            # one batch of --engine columnar (engine/columnar/pipeline.py)
            from engine.columnar.pipeline import batch_task
            return batch_task(job, payload)
        if kind == "columnar-part":       # the same, the table left in a part file (partitions.py)
            from engine.columnar.pipeline import part_task
            return part_task(job, payload)
        if kind == "columnar-raw":        # the same, validated here first (pipeline.validates_apart)
            from engine.columnar.pipeline import raw_batch_task
            return raw_batch_task(job, payload)
        if kind == "columnar-span":       # the same, a part of a CSV read here first (pipeline.run)
            from engine.columnar.pipeline import span_task
            return span_task(job, payload)
    except EngineError:
        raise
    except ScaleupError as exc:
        # Domain errors with extra constructor arguments do not survive pickling back to the parent.
        raise ScaleupError(str(exc)) from None
    raise ValueError(f"unknown task {kind!r}")


# ---------------------------------------------------------------------------------------------- partitions
def partition_files(folder: Path) -> list[Path]:
    """The register's partitions: the folder's .csv, .xlsx, .json and .parquet files, by name."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PARTITION_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        raise InputFileError(f"{folder}: no register files (.csv, .xlsx, .json, .parquet) in the folder")
    return files


def partition_ids(job: Job, path: str) -> PartitionResult:
    try:
        scan = scan_register(path, columns=job_columns(job), keep_ids=True, find_duplicates=False)
    except InputFileError as exc:
        return PartitionResult(path, error=str(exc))
    return PartitionResult(path, rows=scan.data_rows, ids=scan.ids)


def evaluate_partition(job: Job, path: str) -> PartitionResult:
    try:
        scan = scan_register(path, columns=job_columns(job), find_duplicates=False)
    except InputFileError as exc:
        return PartitionResult(path, error=str(exc))
    return evaluate_scanned(job, scan)


def evaluate_scanned(job: Job, scan: RegisterScan) -> PartitionResult:
    from engine.output import csv_headers
    scan.duplicates = {k: v for k, v in job.duplicates.items() if any(f == scan.name for f, _ in v)}
    worker = worker_for(job)
    checker = worker.checker(scan)
    result = PartitionResult(scan.name, warnings=list(scan.warnings))
    stem = Path(scan.name).stem
    out = Path(job.out_dir) / (stem + PARTITION_FORMATS[job.fmt])
    rejected = RejectedWriter(out.with_name(f"{stem}.errors.csv"), scan.headers)
    try:
        with atomic_path(out) as tmp, open(tmp, "wb") as fh:
            stream = TextStream(fh, job.fmt, headers=csv_headers(job.lang))
            for rows in scan.chunks(chunk_size_for(output_spec(job))):
                chunk = worker.run(checker, rows)
                result.rows += chunk.rows
                for r in chunk.rejected:
                    rejected.add(r)
                result.rejected.extend(chunk.rejected)
                stream.write(chunk.items)
            stream.close()
    except OutputFileError as exc:
        return PartitionResult(scan.name, error=str(exc))
    finally:
        rejected.close()
    result.output = str(out)
    return result
