"""Register files straight into columns (engine/columnar/frame.Frame), for the columnar engine, batch by
batch (column_reader.py): with pyarrow installed, CSV and text-only Parquet files are read by pyarrow in
record batches (arrow_source.py); without it, CSV files by the standard library (csv_text.py), and the
first run says so once. Either way every row ends up accepted or rejected exactly as
engine/register.read_register decides, with the same values, messages, warnings and row numbers.

XLSX and JSON registers, Parquet files with a column of a type arrow_typed.py does not read (or a typed
enterprise id or name), and — without pyarrow — CSV files in UTF-16
or with undecodable rows go through engine/register (its streamed chunks) and are then turned into
columns. A file that cannot be read raises InputFileError with the normal reader's message.

`open_register_stream` hands on each batch as it is read (memory bounded by the batch size);
`read_register_frame` is the whole register at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from engine.columnar import arrow_source
from engine.columnar.column_reader import IDENTITY, ColumnReader
from engine.columnar.csv_text import PythonCsv, read_head
from engine.columnar.frame import Col, Frame
from engine.policy import Policy
from engine.register import InputProblem, RejectedRow, iter_register, read_register
from engine.register.columns import register_columns
from engine.register.streaming import csv_delimiter, csv_encoding

CHUNK_ROWS = 50_000
NO_PYARROW = ("pyarrow is not installed: the columnar engine reads the register with Python's csv module "
              "(slower); pip install 'scaleup[columnar]' for the Arrow reader")


@dataclass
class FrameRead:
    """What engine/register.RegisterRead says about a file, with the accepted rows as a Frame."""

    path: str
    headers: list[str]
    frame: Frame
    rows: np.ndarray                           # row number of each accepted row, as the officer sees it
    rejected: list[RejectedRow]
    warnings: list[InputProblem]
    fast: bool = True                          # False: read by engine/register (XLSX, JSON, typed Parquet)
    fallback_rows: int = 0                     # rows that validate_row decided one by one

    @property
    def total_rows(self) -> int:
        return self.frame.n + len(self.rejected)


@dataclass
class RegisterStream:
    """A register being read: `batches()` gives (row numbers, Frame) of each batch's accepted rows; after
    the last, `headers`, `rejected` (row order), `warnings` and `duplicate_ids` (ids of rows handed on
    as accepted that a later duplicate rejects: drop them from what was written) are complete."""

    name: str
    reader: Optional[ColumnReader] = None
    path: Optional[Path] = None
    as_of: Optional[date] = None
    policy: Optional[Policy] = None
    sheet: Optional[str] = None
    arrow: bool = False
    headers: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    duplicate_ids: set = field(default_factory=set)
    accepted: int = 0
    fallback_rows: int = 0

    @property
    def fast(self) -> bool:
        return self.reader is not None

    @property
    def total_rows(self) -> int:
        return self.accepted + len(self.rejected)

    def batches(self, chunk_rows: int = CHUNK_ROWS, apart: bool = False) -> Iterator:
        """`apart` (a reader only): batches of pyarrow arrays come as RawBatches, validated by worker
        processes (ColumnReader.validate_apart / absorb); then the caller calls finish()."""
        if self.reader is None:
            yield from self._via_register(chunk_rows)
            return
        yield from self.reader.batches(chunk_rows, apart)
        if not apart:
            self.finish()

    def finish(self) -> None:
        if not self.reader.done:
            self.reader.end_batches()
        self.headers, self.rejected, self.warnings = self.reader.finish()
        self.duplicate_ids = self.reader.duplicate_ids
        self.accepted = self.reader.accepted - self.reader.dropped
        self.fallback_rows = self.reader.fallback_rows

    def _via_register(self, chunk_rows: int):
        types = {c.id: c.type for c in register_columns(self.policy)}
        for chunk in iter_register(self.path, as_of=self.as_of, policy=self.policy, sheet=self.sheet,
                                   chunk_size=chunk_rows):
            self.headers = chunk.headers
            self.warnings += chunk.warnings
            self.rejected += chunk.rejected
            self.accepted += len(chunk.accepted)
            if chunk.accepted:
                yield (np.array([r for r, _ in chunk.accepted], dtype=np.int64),
                       Frame.from_enterprises([e for _, e in chunk.accepted], types))


def open_register_stream(path, *, as_of: date, policy: Policy, sheet: Optional[str] = None,
                         arrow: Optional[bool] = None, notice=None,
                         block_bytes: int = arrow_source.BLOCK_BYTES) -> RegisterStream:
    """The register as a stream of batches. `arrow`: None uses pyarrow when installed (else `notice` is
    called once with NO_PYARROW); False forces the standard library's csv module."""
    name = str(path)
    path = Path(path)
    suffix = path.suffix.lower()
    if arrow is None:
        arrow = arrow_source.available()
        if not arrow and notice is not None and suffix in (".csv", ".parquet"):
            notice(NO_PYARROW)
    slow = RegisterStream(name, None, path, as_of, policy, sheet)
    if suffix == ".csv":
        if arrow:
            encoding, lossy = _encoding(path, name)
            source = arrow_source.ArrowCsv(path, name, encoding, lossy, csv_delimiter(path, encoding, lossy),
                                           block_bytes)
            return _started(name, source, as_of, policy, lossy, arrow=True)
        head = read_head(path, name)
        if head is not None:
            return _started(name, PythonCsv(path, name, head), as_of, policy, False, arrow=False)
    elif suffix == ".parquet" and arrow:
        try:
            source = arrow_source.ArrowParquet(path, name)
        except Exception:
            return slow          # engine/register gives the message for a damaged file
        if source.readable():
            stream = _started(name, source, as_of, policy, False, arrow=True)
            typed = source.typed_positions()
            if not typed or all(stream.reader.fields[cid].index not in typed for cid in IDENTITY):
                return stream
    return slow


def _started(name, source, as_of, policy, lossy: bool, arrow: bool) -> RegisterStream:
    reader = ColumnReader(source, name, as_of, policy, lossy=lossy)
    reader.start()
    return RegisterStream(name, reader, arrow=arrow)


def _encoding(path: Path, name: str) -> tuple[str, bool]:
    """engine/register's choice (streaming.csv_encoding), first trying the common case in pyarrow: the
    whole file is UTF-8."""
    from engine.columnar.arrow_cells import is_utf8
    return ("utf-8-sig", False) if is_utf8(path) else csv_encoding(path, name)


def read_register_frame(path, *, as_of: date, policy: Policy, sheet: Optional[str] = None,
                        chunk_rows: int = CHUNK_ROWS, arrow: Optional[bool] = None,
                        block_bytes: int = arrow_source.BLOCK_BYTES) -> FrameRead:
    """The whole register as one Frame (the batches concatenated, the duplicates dropped)."""
    stream = open_register_stream(path, as_of=as_of, policy=policy, sheet=sheet, arrow=arrow,
                                  block_bytes=block_bytes)
    if not stream.fast:
        read = read_register(path, as_of=as_of, policy=policy, sheet=sheet)
        types = {c.id: c.type for c in register_columns(policy)}
        frame = Frame.from_enterprises([e for _, e in read.accepted], types)
        return FrameRead(read.path, read.headers, frame, np.array([r for r, _ in read.accepted], dtype=np.int64),
                         read.rejected, read.warnings, fast=False)
    parts = list(stream.batches(chunk_rows))
    rows = np.concatenate([r for r, _ in parts]) if parts else np.zeros(0, np.int64)
    frame = concat_frames([f for _, f in parts], stream.reader)
    if stream.duplicate_ids:
        keep = ~np.isin(frame.enterprise_id, np.array(sorted(stream.duplicate_ids), dtype=object))
        frame, rows = frame.take(np.flatnonzero(keep)), rows[keep]
    return FrameRead(stream.name, stream.headers, frame, rows, stream.rejected, stream.warnings, True,
                     stream.fallback_rows)


def concat_frames(frames: list[Frame], reader: ColumnReader) -> Frame:
    """Batches of one ColumnReader as one Frame: their category codes share the reader's vocabularies
    (the last batch's is the longest)."""
    if not frames:
        cols = {cid: p.col_of(np.zeros(0, np.int64 if p.numeric else np.int32)) for cid, p in reader.cols.items()}
        empty = np.zeros(0, dtype=object)
        return Frame(0, empty, empty.copy(), empty.copy(), np.zeros(0, bool), cols)
    cols = {}
    for fid, col in frames[0].columns.items():
        values = [f.columns[fid].values for f in frames]
        object_ = any(v.dtype == object for v in values)
        joined = np.concatenate([v.astype(object) for v in values] if object_ else values)
        cols[fid] = Col(col.kind, joined, np.concatenate([f.columns[fid].present for f in frames]), col.ftype,
                        frames[-1].columns[fid].vocab)
    return Frame(sum(f.n for f in frames), np.concatenate([f.enterprise_id for f in frames]),
                 np.concatenate([f.name for f in frames]), np.concatenate([f.town for f in frames]),
                 np.concatenate([f.in_park for f in frames]), cols)
