"""A Parquet dataset read as one register by `check FOLDER --engine columnar` (issue #19): the folder's
`.parquet` files, in plain or hive-style `key=value` subfolders (`town=分水镇/part-0.parquet`).

* Partitions: every `.parquet` file below the folder, in sorted relative-path order (compared folder
  by folder, as Unicode text), skipping names that start with "." or "_" (as pyarrow's datasets do:
  `_SUCCESS`, `_common_metadata`, and this tool's `_scaleup_run.json`). A folder holding no Parquet
  file, or CSV/XLSX/JSON registers as well (the durable engine reads a folder of those), or a link to a
  folder, is refused with one message. Every partition's header is read first; one that cannot be
  read — damaged, with a column of a type arrow_typed.py does not take or a typed id or name (a single
  such file goes to the row reader; a dataset's partitions cannot), a required column missing — stops
  the run before anything is evaluated or written.
* Folder keys: `key=value` (percent-decoded, as pyarrow writes them). When the file has no column the
  key names (a register column id, or a Chinese or English alias), the key becomes that column, every
  row holding the value. When it has it, each row's value must be the folder's (the same town, after
  aliases and codes are resolved): a row that disagrees is rejected, naming file, row and column.
* Each partition is read by its own ColumnReader, batch by batch (memory bounded by the batch size,
  one partition open at a time), with the single file's messages; every message names the partition's
  file. Duplicated enterprise ids are found across all partitions (duplicates.mark_duplicates).
* Output (write_partitions): one Parquet file per partition at the same relative path below --out,
  each with the single-file output's columns, plus `_scaleup_run.json` (what was run, and each
  partition's counts). Paths are built only from the partitions' relative paths and stay inside the
  output folder: a `..`, an absolute path or a link on the way is refused.
"""
from __future__ import annotations

import json
import os
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Optional
from urllib.parse import unquote

import numpy as np

from engine.columnar.arrow_source import ArrowParquet
from engine.columnar.cells import UNSURE, ColumnParser
from engine.columnar.column_reader import IDENTITY, ColumnReader
from engine.columnar.duplicates import mark_duplicates, share_id_log
from engine.columnar.turns import remove_parts
from engine.errors import InputFileError, OutputFileError
from engine.fileguard import atomic_path, write_text
from engine.policy import Policy
from engine.register import InputProblem, RejectedRow
from engine.register.columns import match_header, register_columns
from engine.register.normalise import cell_text
from engine.register.units import DEFAULT_UNIT

OTHER_REGISTERS = (".csv", ".xlsx", ".json")
# The most rows of a partition's batch: half a single file's (PARQUET_ROWS). A dataset's batches are read
# and validated here, in the parent (a partition has no spans a worker reads itself: its rows get the
# folder's keys), and sent to the workers, a few in flight for each: at 65,536 rows a batch, the
# benchmark's 10-partition dataset peaked at 511 MiB (PSS of the process tree, 2 workers) on 1M rows
# and 643 MiB on 10M, over the 600 MB goal; at 32,768, 381 and 422 MiB, for 10% more CPU.
DATASET_ROWS = 1 << 15
RUN_FILE = "_scaleup_run.json"


def _skipped(name: str) -> bool:
    return name.startswith((".", "_"))


@dataclass(frozen=True)
class Partition:
    rel: PurePosixPath          # the file's path inside the dataset folder
    path: Path
    keys: tuple                 # (key, value) of each key=value folder above it, outermost first


def dataset_partitions(folder: Path) -> list[Partition]:
    """The dataset's Parquet files in sorted relative-path order, or one InputFileError."""
    found, others = [], []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        for d in sorted(dirs):
            if _skipped(d):
                dirs.remove(d)
            elif (here / d).is_symlink():
                raise InputFileError(f"{here / d}: is a link to a folder; the partitions of a dataset are "
                                     "read from its own folders only (give the real folder)")
        for f in files:
            suffix = Path(f).suffix.lower()
            if _skipped(f):
                continue
            if suffix == ".parquet":
                found.append(here / f)
            elif suffix in OTHER_REGISTERS:
                others.append(here / f)
    if others:
        shown = ", ".join(str(p) for p in sorted(others)[:3]) + (", …" if len(others) > 3 else "")
        raise InputFileError(f"{folder}: --engine columnar reads a folder as a Parquet dataset (.parquet files, "
                             f"in key=value subfolders), but it also holds {len(others)} CSV, XLSX or JSON "
                             f"register file(s) ({shown}); move them out, or use --engine durable for a "
                             "folder of register files")
    if not found:
        raise InputFileError(f"{folder}: no Parquet files (.parquet) in the folder or its subfolders; "
                             "--engine columnar reads a folder as a Parquet dataset (use --engine durable "
                             "for a folder of CSV, XLSX or JSON registers)")
    parts = []
    for path in found:
        rel = PurePosixPath(path.relative_to(folder).as_posix())
        keys = tuple(tuple(unquote(x) for x in p.split("=", 1)) for p in rel.parts[:-1] if "=" in p)
        parts.append(Partition(rel, path, keys))
    return sorted(parts, key=lambda p: p.rel.parts)


class DatasetFile(ArrowParquet):
    """One partition: a Parquet file of text and typed columns (arrow_typed.py) plus, as last columns, the
    folder keys it lacks (every row holding the folder's value). The file is open only while it is
    read."""

    def __init__(self, path: Path, name: str, rows: int = DATASET_ROWS):
        super().__init__(path, name, rows)
        self.taken, self.typed, self.schema = self.readable(), self.typed_positions(), self.file.schema_arrow
        self.file.close()                 # every partition is opened first: no file stays open for long
        self.file = None
        self.fill: list[tuple[str, str]] = []

    def add_columns(self, fill: list[tuple[str, str]]) -> None:
        self.fill = fill
        self.names = self.names + [key for key, _ in fill]

    def spans(self, rows: int, after: int = 0):
        return None           # read whole, here: its batches get the folder keys (batches)

    def batches(self, ncols: int = 0, after: int = 0, rows: int = DATASET_ROWS):
        import pyarrow as pa
        if self.file is None:
            self.file = self._open()
        try:
            for batch in super().batches(ncols, after, rows):
                if self.fill:
                    batch.arrays = batch.arrays + [pa.array([v] * len(batch), pa.string()) for _, v in self.fill]
                yield batch
        finally:
            self.file.close()
            self.file = None


@dataclass(frozen=True)
class KeyCheck:
    """A folder key whose column the file has: each row must hold `expected` (the key's value parsed
    as the column's cells are; UNSURE when it does not parse, so that no row agrees)."""

    cid: str
    key: str
    value: str
    expected: Any

    def differs(self, value: Any) -> bool:
        return value is not UNSURE and (type(value), value) != (type(self.expected), self.expected)

    def problem(self, reader: ColumnReader, row: int, cells: list) -> InputProblem:
        field_ = reader.fields[self.cid]
        cell = cells[field_.index] if field_.index < len(cells) else ""
        return InputProblem(reader.name, row, field_.label,
                            f'"{cell_text(cell)}" disagrees with its folder {self.key}={self.value}; a row of a '
                            "partition must hold its folder's value")


@dataclass
class PartitionedStream:
    """engine/columnar/reader.RegisterStream for a Parquet dataset: `batches()` gives (row numbers, Frame)
    of each batch of each partition in turn; `partition_batches()` also the partition's index. After
    the last, `headers` (a first column naming the file, then every partition's columns), `rejected`,
    `warnings` and `duplicate_ids` are complete, and `counts` holds each partition's (rows, rejected)."""

    folder: Path
    parts: list[Partition]
    as_of: date
    policy: Policy
    headers: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    duplicate_ids: set = field(default_factory=set)
    accepted: int = 0
    fallback_rows: int = 0
    readers: list = field(default_factory=list)        # a ColumnReader per partition
    checks: list = field(default_factory=list)         # per partition: its KeyChecks
    counts: list = field(default_factory=list)
    fast = True
    arrow = True

    @property
    def name(self) -> str:
        return str(self.folder)

    @property
    def total_rows(self) -> int:
        return self.accepted + len(self.rejected)

    def batches(self, chunk_rows: int) -> Iterator[tuple[np.ndarray, Any]]:
        for _k, rows, frame in self.partition_batches(chunk_rows):
            yield rows, frame

    def open(self) -> "PartitionedStream":
        """Every partition's header read and mapped first: a partition that cannot be read stops the
        run before anything is evaluated or written."""
        self.readers, self.checks = [], []
        for part in self.parts:
            reader, checks = self._open(part)
            self.readers.append(reader)
            self.checks.append(checks)
        share_id_log(self.readers)          # an id repeated in another partition is a duplicate too
        return self

    def partition_batches(self, chunk_rows: int) -> Iterator[tuple[int, np.ndarray, Any]]:
        held = []                           # per partition: rows taken out for their folder keys
        for k, (reader, checks) in enumerate(zip(self.readers, self.checks)):
            disagree: dict[int, tuple[str, list]] = {}
            for rows, frame in reader.batches(chunk_rows):
                if checks:
                    rows, frame = _agreeing(reader, checks, rows, frame, disagree)
                if frame.n:
                    yield k, rows, frame
            _reject_disagreeing(reader, checks, disagree)
            held.append(len(disagree))
            reader.release_parsers()
        self._finish(held)

    def _open(self, part: Partition) -> tuple[ColumnReader, list[KeyCheck]]:
        name = str(self.folder / part.rel)
        try:
            source = DatasetFile(part.path, name)
        except Exception as exc:          # pyarrow's errors for a damaged file have no common base
            raise InputFileError(f"{name}: not a readable Parquet file ({type(exc).__name__}: {exc})") from None
        if not source.taken:
            from engine.columnar.arrow_typed import is_text, supported
            _typed_refused(name, [f for f in source.schema if not (is_text(f.type) or supported(f.type))]
                           or [f for f in source.schema if not is_text(f.type)])
        columns = register_columns(self.policy)
        in_file = {m[0].id for m in map(lambda n: match_header(n, columns), source.names) if m}
        reader = ColumnReader(source, name, self.as_of, self.policy)
        fill, checks = [], []
        for key, value in part.keys:
            found = match_header(key, columns)
            if found is not None and found[0].id in IDENTITY:
                raise InputFileError(f"{name}: the folder key {key}= names {found[0].describe()}, which differs "
                                     "from row to row; a folder can give only a column all its rows share")
            if found is not None and found[0].id in in_file:
                parser = ColumnParser(found[0], found[1] or DEFAULT_UNIT, reader.towns)
                checks.append(KeyCheck(found[0].id, key, value, parser.exact(value)))
            elif key not in source.names:
                fill.append((key, value))
        source.add_columns(fill)
        reader.start()
        typed_identity = [source.schema.field(reader.fields[cid].index) for cid in IDENTITY
                          if reader.fields[cid].index in source.typed]
        if typed_identity:
            _typed_refused(name, typed_identity)
        return reader, checks

    def _finish(self, held: list[int]) -> None:
        mark_duplicates(self.readers)
        labels: dict[str, None] = {}
        parts = []
        for reader, taken_out in zip(self.readers, held):
            headers, rejected, warnings = reader.finish(find_duplicates=False)
            labels.update(dict.fromkeys(headers))
            self.warnings += warnings
            self.duplicate_ids |= reader.duplicate_ids
            self.fallback_rows += reader.fallback_rows
            accepted = reader.accepted - reader.dropped - taken_out
            self.accepted += accepted
            self.counts.append((accepted + len(rejected), len(rejected)))
            parts.append((reader.name, rejected))
        file_column = "file"
        while file_column in labels:
            file_column = f"scaleup {file_column}"
        self.headers = [file_column, *labels]
        self.rejected = [RejectedRow(r.row, {file_column: name, **r.original}, r.problems)
                         for name, rejected in parts for r in rejected]


def _typed_refused(name: str, fields: list) -> None:
    """A partition the columnar reader cannot take (arrow_typed.readable; a typed id or name): the row
    reader could read it alone, but not as a partition of this dataset."""
    shown = ", ".join(f"{f.name} ({f.type})" for f in fields[:5])
    raise InputFileError(f"{name}: typed Parquet columns ({shown}) that --engine columnar does not read in a "
                         "dataset (text, dates, timestamps, decimals, integers, floats and booleans it does; an "
                         "id or a name must be text); check a file like this on its own")


def _differs(col, parser: ColumnParser, expected: Any) -> np.ndarray:
    """Rows of a Frame column whose value is not `expected`."""
    n = len(col.values)
    if expected is UNSURE:
        return np.ones(n, bool)
    if col.kind == "num":
        if expected is None:
            return col.present.copy()
        return ~col.present | np.asarray(col.values != expected, dtype=bool)
    code = -1 if expected is None else parser.index.get((type(expected), expected))
    return np.ones(n, bool) if code is None else col.values != code


def _agreeing(reader: ColumnReader, checks: list[KeyCheck], rows: np.ndarray, frame, disagree: dict):
    """The batch without the rows that disagree with a folder key (noted in `disagree`: row -> (id,
    the checks they fail)), which are rejected at the partition's end."""
    failed = [_differs(frame.columns[c.cid], reader.cols[c.cid], c.expected) for c in checks]
    bad = np.logical_or.reduce(failed)
    if not bad.any():
        return rows, frame
    for i in np.flatnonzero(bad).tolist():
        disagree[int(rows[i])] = (frame.enterprise_id[i], [c for c, f in zip(checks, failed) if f[i]])
    keep = np.flatnonzero(~bad)
    return rows[keep], frame.take(keep)


def _reject_disagreeing(reader: ColumnReader, checks: list[KeyCheck], disagree: dict) -> None:
    """The rows taken out for their folder keys rejected (their cells read again), and the rows
    validate_row rejected checked against the keys too."""
    if not checks:
        return
    for r, (cells, problems, _eid) in reader.rejected.items():
        for check in checks:
            field_ = reader.fields[check.cid]
            cell = cells[field_.index] if field_.index < len(cells) else None
            if check.differs(reader.cols[check.cid].exact(cell)):        # a typed cell as its value
                problems.append(check.problem(reader, r, cells))
    if disagree:
        for r, cells in reader.source.rows(set(disagree), reader.ncols, reader.header_row):
            eid, failed = disagree[r]
            reader.rejected[r] = (cells, [c.problem(reader, r, cells) for c in failed], eid)


# ------------------------------------------------------------------------------------------- output
def output_path(out_dir: Path, rel: PurePosixPath) -> Path:
    """Where the output of the partition at `rel` goes: the same relative path below `out_dir`, its
    folders made as needed. Refuses any path that could lead outside it."""
    parts = rel.parts
    if rel.is_absolute() or not parts or any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        raise OutputFileError(f"{rel}: a partition's output would not stay inside {out_dir}; its path must be "
                              "plain folder and file names")
    here = out_dir
    for part in parts[:-1]:
        here = here / part
        if here.is_symlink():
            raise OutputFileError(f"{here}: is a symbolic link; partition outputs are written only into real "
                                  f"folders inside {out_dir}")
        if not here.exists():
            here.mkdir()
        elif not here.is_dir():
            raise OutputFileError(f"{here}: is not a folder (the output of {rel} goes inside it)")
    target = here / parts[-1]
    inside = os.path.realpath(out_dir)
    if os.path.commonpath([inside, os.path.realpath(target.parent)]) != inside:
        raise OutputFileError(f"{target}: is outside {out_dir}; partition outputs stay inside the output folder")
    return target


def check_out_folder(folder: Path, out_dir: Path) -> None:
    """--out FOLDER for partitioned output: a folder (made if new) outside the dataset."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError(f"{out_dir}: is not a folder; partitioned output needs --out FOLDER")
    inside, out = os.path.realpath(folder), os.path.realpath(out_dir)
    if os.path.commonpath([inside, out]) == inside:
        raise OutputFileError(f"{out_dir}: is inside the dataset {folder}; give an output folder outside it "
                              "(its files would be read as partitions)")
    out_dir.mkdir(parents=True, exist_ok=True)


def write_partitions(stream: PartitionedStream, job, executor, out_dir: Path, chunk_rows: int,
                     run_info: dict) -> None:
    """Each partition's decisions into its own Parquet file below `out_dir`, in the order read: the
    batches are evaluated and rendered by the executor's workers (a few in flight) and written here.
    Files are written under temporary names and all renamed at the end; rows of duplicated ids already
    written are then taken out of the partitions that hold them."""
    from engine.columnar.pipeline import BatchWriter, drop_ids
    targets = [output_path(out_dir, part.rel) for part in stream.parts]
    inputs = {_identity(p.path) for p in stream.parts}
    for target in targets:
        if target.exists() and _identity(target) in inputs:
            raise OutputFileError(f"{target}: is an input of this command; give another output folder")
    order: deque = deque()
    # Worker processes of this machine leave each table in a part file in the output folder for the
    # parent to map and write (pipeline.part_task), rather than send it through the pool's pipe.
    kind = "columnar"
    if executor.name == "local" and executor.workers > 1:
        kind, job = "columnar-part", replace(job, spool=str(out_dir))

    def tasks():
        for k, _rows, frame in stream.partition_batches(chunk_rows):
            order.append(k)
            yield kind, frame

    with ExitStack() as stack:
        tmps: dict[int, Path] = {}
        writer, at = None, -1
        try:
            for _n, piece, _state in executor.map(job, tasks()):
                k = order.popleft()
                if k != at:
                    if writer is not None:
                        writer.close()
                    tmps[k] = stack.enter_context(atomic_path(targets[k]))
                    writer, at = BatchWriter("parquet", tmps[k], headers=[]), k
                writer.write(piece)
        finally:
            if writer is not None:
                writer.close()
            if job.spool is not None:           # parts of a run stopped early
                remove_parts(job.spool, job.token)
        for k, target in enumerate(targets):
            if k not in tmps:                    # no accepted row: an empty file with the columns
                tmps[k] = stack.enter_context(atomic_path(target))
                BatchWriter("parquet", tmps[k], headers=[]).close()
        for k, reader in enumerate(stream.readers):
            if reader.duplicate_ids:
                drop_ids("parquet", tmps[k], reader.duplicate_ids)
    write_run_file(stream, out_dir, run_info)


def _identity(path: Path) -> tuple:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def write_run_file(stream: PartitionedStream, out_dir: Path, run_info: dict) -> None:
    """`_scaleup_run.json`: what was run and, per partition, the rows read, accepted and rejected."""
    partitions = [{"input": str(part.rel), "output": str(part.rel), "rows": rows, "accepted": rows - rejected,
                   "rejected": rejected} for part, (rows, rejected) in zip(stream.parts, stream.counts)]
    doc = {**run_info, "input": str(stream.folder), "partitions": partitions,
           "rows": stream.total_rows, "rejected": len(stream.rejected)}
    write_text(out_dir / RUN_FILE, json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def run_info(policy: Policy, book, as_of: date, reform) -> dict:
    """What a reviewer needs to see which rules and data made the decisions."""
    from engine import __version__
    from engine.awards.audit import fingerprint
    prints = fingerprint(policy, book)
    return {"scaleup": __version__, "engine": "columnar", "policy": policy.id,
            "document_number": policy.meta.document_number, "as_of": as_of.isoformat(),
            "policy_data_hash": prints.policy_section["data_hash"], "rules_hash": prints.rules_hash,
            "reform": getattr(reform, "name", None)}


def open_dataset(folder: Path, *, as_of: date, policy: Policy) -> PartitionedStream:
    from engine.columnar import arrow_source
    if not arrow_source.available():
        raise InputFileError(f"{folder}: reading a Parquet dataset needs pyarrow "
                             "(pip install 'scaleup[columnar]')")
    return PartitionedStream(folder, dataset_partitions(folder), as_of, policy).open()


__all__ = ["Partition", "PartitionedStream", "dataset_partitions", "open_dataset", "output_path",
           "check_out_folder", "write_partitions", "run_info", "RUN_FILE"]
