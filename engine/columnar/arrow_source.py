"""Register files read by pyarrow in record batches, every column as text (no type inference), so that
the columnar reader validates exactly the cells the row-by-row reader sees.

* CSV: pyarrow.csv.open_csv, block by block. The encoding is chosen as engine/register chooses it
  (UTF-8, GB18030, or UTF-8 with a few undecodable rows, which are decoded with U+FFFD and then rejected
  alone, naming the row). Records of another width than the file's usual one (a blank line, a row with
  an extra cell) are handed over by pyarrow's invalid-row handler with their record number, split by
  csv.reader and put back in place; so every record keeps the number csv.reader gives it.
* Parquet: pyarrow.parquet, row groups a few at a time. Text columns are handed on as text; typed
  columns (dates, timestamps, decimals, integers, floats, booleans) as they are, validated by
  arrow_typed.py as engine/register validates their Python values. A file with a column of another type
  is left to engine/register (arrow_typed.readable).

Memory is bounded by the block (CSV) or batch (Parquet) size: a batch is handed on before the next is
read. pyarrow is optional (the `columnar` extra): `available()` says whether it is installed.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from engine.columnar.sources import RawBatch, Source

BLOCK_BYTES = 1 << 22          # CSV bytes parsed at once (about 20k rows of a typical register)
# The most rows of a Parquet batch (a run of whole row groups). A batch costs some 15 ms of a worker's
# CPU whatever its rows (the evaluator's and the renderer's numpy calls, each a few microseconds, per
# family, condition and column), so fewer, larger batches are cheaper: typed Parquet -> Parquet, 2
# workers, at 1 << 15 rows and at 1 << 16: 1M rows 3.4 -> 3.1-3.2 CPU-s and a peak of the process tree
# (PSS) of 188-220 -> 274-313 MiB; 10M rows (against main, with the other changes of its CHANGELOG
# entry) 26.7 -> 24.1 CPU-s, 251 -> 334 MiB. A CSV block holds fewer (BLOCK_BYTES: ~20k rows); the
# output's batch (commands/columnar_stream.py) may be smaller still.
PARQUET_ROWS = 1 << 16


def available() -> bool:
    try:
        import pyarrow.csv  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def lean_memory_pool() -> None:
    """pyarrow's buffers taken from jemalloc, which gives the pages of freed buffers back to the system,
    unless the user chose a pool (ARROW_DEFAULT_MEMORY_POOL). pyarrow's default pool on Linux, mimalloc,
    kept some 50 MiB of pages per process that no batch used any more: a worker of --workers 2 on 1M
    Parquet rows held 134 MiB private, 70 of them in mimalloc's arena, with at most 14 MiB of Arrow
    buffers allocated at any time (jemalloc: 85 MiB). pyarrow reads the variable when it is imported, so
    before then it is set (and forked workers inherit the pool); after, only pyarrow's calls from Python
    are given the pool."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL") or not sys.platform.startswith("linux"):
        return           # (jemalloc is in pyarrow's Linux wheels; elsewhere pyarrow's default stays)
    imported = "pyarrow" in sys.modules
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "jemalloc"
    try:
        import pyarrow as pa
    except ImportError:
        return
    if imported:
        try:
            pa.set_memory_pool(pa.jemalloc_memory_pool())
        except NotImplementedError:           # a pyarrow built without jemalloc: its default stays
            pass


class _Transcoded(io.RawIOBase):
    """A text file in another encoding (or UTF-8 with undecodable bytes) as UTF-8 bytes, read lazily."""

    def __init__(self, path: Path, encoding: str, errors: str):
        self.fh = open(path, "rb")
        self.decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
        self.buffer = b""
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while len(self.buffer) < len(target) and not self.done:
            raw = self.fh.read(1 << 20)
            self.done = not raw
            self.buffer += self.decoder.decode(raw, final=self.done).encode("utf-8")
        n = min(len(target), len(self.buffer))
        target[:n] = self.buffer[:n]
        self.buffer = self.buffer[n:]
        return n

    def close(self) -> None:
        self.fh.close()
        super().close()


class ArrowCsv(Source):
    """One CSV register file as record batches of `ncols` text columns."""

    def __init__(self, path: Path, name: str, encoding: str, lossy: bool, delimiter: str,
                 block_bytes: int = BLOCK_BYTES):
        self.path, self.name, self.encoding, self.lossy, self.delimiter = path, name, encoding, lossy, delimiter
        self.block_bytes = block_bytes
        self.dictionary_positions: set[int] = set()

    def dictionaries(self, positions: list[int]) -> None:
        """Have pyarrow read these columns (of few distinct texts) as dictionary arrays: each distinct
        text of a block is made once and tested once (arrow_cells.per_text), not a string per cell that
        the reader dictionary-encodes again."""
        self.dictionary_positions = set(positions)

    def head(self) -> Iterator[tuple[int, list]]:
        from engine.columnar.csv_text import csv_errors
        with open(self.path, encoding=self.encoding, errors="replace" if self.lossy else "strict", newline="") as fh:
            with csv_errors(self.name):
                yield from enumerate(csv.reader(fh, delimiter=self.delimiter), start=1)

    def usual_width(self, below: list, header_cells: list) -> int:
        """The number of cells most records below the header have (pyarrow's column count)."""
        widths = Counter(len(cells) for cells in below if cells)
        return widths.most_common(1)[0][0] if widths else max(len(header_cells), 1)

    def records(self, after: int) -> Iterator[tuple[int, list]]:
        return ((n, cells) for n, cells in self.head() if n > after)

    def _input(self, start: int = 0):
        """The file as pyarrow reads it, from byte `start` (a record's start in a UTF-8 file: spans())."""
        import pyarrow as pa
        if self.encoding in ("utf-8-sig", "utf-8") and not self.lossy:
            mapped = _Mapped.open(self.path, start)     # pyarrow skips a UTF-8 byte order mark itself
            if mapped is not None:
                return mapped
            file = pa.OSFile(str(self.path), "r")
            file.seek(start)
            return file
        encoding = "utf-8-sig" if self.encoding == "utf-8-sig" else self.encoding
        raw = _Transcoded(self.path, encoding, "replace" if self.lossy else "strict")
        return pa.PythonFile(io.BufferedReader(raw, 1 << 20), mode="r")

    def batches(self, ncols: int, after: int = 0, rows: int = 1 << 30, since: Optional["Rest"] = None
                ) -> Iterator[RawBatch]:
        """Every record numbered above `after`, in batches of at most `rows`; `since`: only those of the
        rest of the file that spans() could not cut."""
        source = self._input(since.start if since is not None else 0)
        try:
            yield from self._parsed(source, since.first if since is not None else 1, ncols, after, rows)
        finally:
            if isinstance(source, _Mapped):
                source.close()

    def span_batches(self, span: "Span", ncols: int, after: int, rows: int) -> Iterator[RawBatch]:
        """The records of one span of the file (spans()), numbered as in the whole file: what a worker
        process reads for itself."""
        import pyarrow as pa
        mapped = _Mapped.open(self.path, span.start, span.end)     # no copy of the span's bytes made
        if mapped is None:
            with open(self.path, "rb") as fh:
                text = os.pread(fh.fileno(), span.end - span.start, span.start)
            yield from self._parsed(pa.BufferReader(pa.py_buffer(text)), span.first, ncols, after, rows)
            return
        try:
            yield from self._parsed(mapped, span.first, ncols, after, rows)
        finally:
            mapped.close()

    def spans(self, rows: int = 0, after: int = 0) -> Optional[Iterator]:
        """The file cut into spans of about a block each, at line ends, with the number of each span's
        first record — as far as a line end is always a record's end and the records can be counted by
        their line ends: a UTF-8 file without a quote character (a quoted cell may hold a line break)
        nor a carriage return alone; from a block that has one on, a Rest. None if the first block has:
        the file is parsed in one piece, here. A block of more than `rows` records is cut further where
        its batches end. Cut as the spans are taken (cut_spans)."""
        if self.encoding not in ("utf-8-sig", "utf-8") or self.lossy:
            return None
        return cut_spans(self.path, self.block_bytes, rows, after)

    def _parsed(self, source, first: int, ncols: int, after: int, rows: int) -> Iterator[RawBatch]:
        """The records of a pyarrow input whose first record is numbered `first`."""
        import pyarrow as pa
        import pyarrow.csv as pcsv
        odd: list[tuple[int, str]] = []       # (record number, text) of records of another width

        def other_width(row) -> str:
            odd.append((row.number + first - 1, row.text))
            return "skip"

        names = [str(i) for i in range(ncols)]
        coded = pa.dictionary(pa.int32(), pa.string())
        reader = pcsv.open_csv(
            source.reader if isinstance(source, _Mapped) else source,
            read_options=pcsv.ReadOptions(column_names=names, use_threads=False, block_size=self.block_bytes),
            parse_options=pcsv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True,
                                            ignore_empty_lines=False, invalid_row_handler=other_width),
            convert_options=pcsv.ConvertOptions(column_types={n: coded if i in self.dictionary_positions
                                                              else pa.string() for i, n in enumerate(names)},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
        next_no = first
        blocks = 0
        try:
            with reader:
                for batch in reader:
                    blocks += 1
                    if isinstance(source, _Mapped):     # the blocks before the last are parsed: give them back
                        source.release((blocks - 1) * self.block_bytes)
                    n = batch.num_rows
                    numbers, taken = _numbers(next_no, n, {k for k, _ in odd})
                    mine = [(k, t) for k, t in odd if k < taken]
                    del odd[:len(mine)]
                    next_no = taken
                    for part in _trimmed(_batch(numbers, list(batch.columns), mine, self.delimiter), after):
                        yield from _sliced(part, rows)
        finally:
            del reader           # before a mapped source is closed: it holds views of the mapping
        if odd:
            numbers = np.array([k for k, _ in odd], dtype=np.int64)
            for part in _trimmed(_batch(numbers[:0], None, odd, self.delimiter), after):
                yield from _sliced(part, rows)


@dataclass(frozen=True)
class Span:
    """Bytes [start, end) of a CSV file, whole records, the first numbered `first`; `records` of them."""
    start: int
    end: int
    first: int
    records: int


@dataclass(frozen=True)
class Rest:
    """The rest of a CSV file from byte `start`, a record's start, numbered from `first`: not cut into
    spans (cut_spans found a quote, a carriage return alone or a record longer than a block there), so
    parsed in one piece by whoever reads the file (ArrowCsv.batches(since=...))."""
    start: int
    first: int


def cut_spans(path: Path, block_bytes: int, rows: int = 0, after: int = 0) -> Optional[Iterator]:
    """The file in spans of about `block_bytes`, each ending at a line end (the last at the file's end),
    cut lazily: a block is read and cut when its spans are asked for, so workers start on the first
    spans while the rest of the file is still to be cut. None if the first block cannot be cut: it holds
    a quote character or a carriage return not followed by a line feed (then a line end is not surely a
    record's end, nor is every record end counted by one), or no line end (a record longer than a
    block). A later block that cannot be cut ends the spans with a Rest: the file from that block on,
    parsed in one piece (every record before the block's first byte is a whole record all the same: no
    quote before it can open a quoted cell). The file is read into one buffer used again for every
    block: a new buffer a block costs more in page faults than the search and count.

    With `rows` (the batch size; records up to `after` are the header), a block of more records is cut
    where its batches end: a block is ~20k records, and a durable_rules run's batches of 1,000 rows
    take ~0.3 s each, so five blocks on two workers would leave one idle for a fifth of a 100k run."""
    blocks = _cut_blocks(path, block_bytes, rows, after)
    first = next(blocks, [])
    if first and isinstance(first[0], Rest):      # the first block: the file parsed whole, as one Rest
        blocks.close()
        return None
    return itertools.chain(first, itertools.chain.from_iterable(blocks))


def _cut_blocks(path: Path, block_bytes: int, rows: int, after: int) -> Iterator:
    """cut_spans' blocks, one at a time: the spans of each, or [Rest] where the blocks can no longer be
    cut. The line ends are counted, and carriage returns checked, by numpy on the block's bytes (the
    bytearray's count of b"\\r\\n" took 0.3 of the 0.4 CPU seconds of cutting a 1M-row register)."""
    start, first = 0, 1
    buffer = bytearray(block_bytes)
    with open(path, "rb") as fh:
        while True:
            got = os.preadv(fh.fileno(), [buffer], start)
            if not got:
                return
            ends = buffer.rfind(b"\n", 0, got) + 1 if got == block_bytes else got
            data = np.frombuffer(buffer, np.uint8, ends)
            if ends == 0 or buffer.find(b'"', 0, got) >= 0 or _lone_carriage_return(buffer, data):
                yield [Rest(start, first)]
                return
            newline = data == 10
            lines = int(np.count_nonzero(newline))
            yield _batch_spans(start, ends, first, lines + (buffer[ends - 1] != 10), newline, rows, after)
            start, first = start + ends, first + lines


def _lone_carriage_return(buffer: bytearray, data: np.ndarray) -> bool:
    """Whether a carriage return in these bytes is not followed by a line feed (csv.reader ends a record
    there). Bytes after the block's last line end are not looked at: they are read again with the next
    block."""
    if buffer.find(b"\r", 0, len(data)) < 0:
        return False
    at = np.flatnonzero(data == 13) + 1
    return bool(at[-1] >= len(data) or (data[at] != 10).any())


def _batch_spans(start: int, ends: int, first: int, records: int, newline: np.ndarray, rows: int,
                 after: int) -> list[Span]:
    """One block's records [first, first + records) at bytes [start, start + ends) as one span, or cut
    after the records where the block's batches end (the reader slices a block's records after the
    header into batches of `rows` from its first: record max(first - 1, after) + k·rows ends one).
    `newline`: which of the block's bytes are line feeds."""
    base = max(first - 1, after)
    cuts = range(base + rows, first + records - 1, rows) if rows else ()
    out, at, number = [], start, first
    if len(cuts):
        newlines = np.flatnonzero(newline)
    for last in cuts:
        end = start + int(newlines[last - first]) + 1
        out.append(Span(at, end, number, last - number + 1))
        at, number = end, last + 1
    out.append(Span(at, start + ends, number, first + records - number))
    return out


class _Mapped:
    """A UTF-8 CSV file mapped into memory, handed to pyarrow as one buffer. pyarrow's streaming CSV
    reader reads up to 32 blocks ahead of the one it parses: read from a file, those are copies (measured
    140 MiB of a 183 MB register held at once); from the mapped buffer they are views that cost nothing
    until parsed. The pages of blocks already parsed are given back to the system (madvise), so the
    mapping's resident pages stay about the blocks in hand, however long the file."""

    def __init__(self, fh, mapped, start: int = 0, end: Optional[int] = None):
        import pyarrow as pa
        self.fh, self.map, self.start = fh, mapped, start
        whole = pa.py_buffer(mapped)
        self.reader = pa.BufferReader(whole.slice(start) if end is None else whole.slice(start, end - start))

    @classmethod
    def open(cls, path: Path, start: int = 0, end: Optional[int] = None) -> Optional["_Mapped"]:
        """The file mapped, read from byte `start` on (to byte `end`)."""
        import mmap
        if not hasattr(mmap.mmap, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
            return None
        fh = open(path, "rb")
        try:
            return cls(fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ), start, end)
        except (OSError, ValueError):           # an empty file cannot be mapped
            fh.close()
            return None

    def close(self) -> None:
        self.reader = None
        try:
            self.map.close()
        except BufferError:         # a view of the buffer is still held: the mapping goes with it
            pass
        self.fh.close()

    def release(self, upto: int) -> None:
        """Drop the mapped pages below `upto` bytes past the start from this process (read again from the
        file if touched)."""
        import mmap
        upto = min(self.start + upto, len(self.map))
        upto -= upto % mmap.PAGESIZE
        if upto > 0:
            self.map.madvise(mmap.MADV_DONTNEED, 0, upto)


def _numbers(start: int, n: int, odd: set[int]) -> tuple[np.ndarray, int]:
    """The record numbers of n regular records from `start` on, skipping the odd ones; and the number
    after the last."""
    if not odd:
        return np.arange(start, start + n, dtype=np.int64), start + n
    out = []
    k = start
    while len(out) < n:
        if k not in odd:
            out.append(k)
        k += 1
    while k in odd:        # odd records right after the batch belong to it
        k += 1
    return np.array(out, dtype=np.int64), k


def _batch(numbers: np.ndarray, arrays, odd: list, delimiter: str) -> RawBatch:
    if not odd:
        return RawBatch(numbers, arrays)
    records = list(zip(numbers.tolist(), map(list, zip(*(a.to_pylist() for a in arrays))))) if arrays else []
    for k, text in odd:
        cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), []) if text else []
        records.append((k, cells))
    records.sort(key=lambda r: r[0])
    return RawBatch(np.array([k for k, _ in records], dtype=np.int64), records=records)


def _sliced(batch: RawBatch, rows: int) -> Iterator[RawBatch]:
    for a in range(0, len(batch), rows):
        b = a + rows
        if batch.records is not None:
            yield RawBatch(batch.numbers[a:b], records=batch.records[a:b])
        else:
            yield RawBatch(batch.numbers[a:b], [x.slice(a, rows) for x in batch.arrays])


def _trimmed(batch: RawBatch, after: int) -> Iterator[RawBatch]:
    if not len(batch) or batch.numbers[-1] <= after:
        return
    if batch.numbers[0] > after:
        yield batch
        return
    keep = int(np.searchsorted(batch.numbers, after, side="right"))
    if batch.records is not None:
        yield RawBatch(batch.numbers[keep:], records=batch.records[keep:])
    else:
        yield RawBatch(batch.numbers[keep:], [a.slice(keep) for a in batch.arrays])


# ------------------------------------------------------------------------------- Parquet

class ArrowParquet(Source):
    """A Parquet register of text and typed columns (arrow_typed.readable): its column names are the
    header (row 0) and its rows are numbered from 1, as engine/register numbers them."""

    def __init__(self, path: Path, name: str, rows: int = PARQUET_ROWS):
        self.path, self.name, self.batch_rows = path, name, rows
        self.read_dictionary: list[str] = []
        self.file = self._open()
        self.names = list(self.file.schema_arrow.names)
        self.file_names = set(self.names)         # (a dataset's partition adds its folder keys to names)

    header_first = True

    def _open(self):
        import pyarrow.parquet as pq
        return pq.ParquetFile(self.path, read_dictionary=self.read_dictionary or None)

    def dictionaries(self, positions: list[int]) -> None:
        """Read these columns (of few distinct texts) as dictionary arrays: pyarrow hands over each
        distinct text once and a code per row, never a string per cell."""
        names = [self.names[i] for i in positions if i < len(self.names)]
        if len(set(self.names)) != len(self.names) or not names:
            return            # a name given twice: read_dictionary could not tell the columns apart
        self.read_dictionary = [n for n in names if n in self.file_names]
        if self.file is not None:
            self.file.close()
            self.file = self._open()

    def head(self) -> Iterator[tuple[int, list]]:
        yield 0, list(self.names)

    def readable(self) -> bool:
        """Whether this reader takes the file (text columns and arrow_typed's types), not engine/register."""
        from engine.columnar import arrow_typed
        return arrow_typed.readable(self.file)

    def typed_positions(self) -> set[int]:
        from engine.columnar.arrow_typed import is_text
        return {i for i, f in enumerate(self.file.schema_arrow) if not is_text(f.type)}

    def batches(self, ncols: int = 0, after: int = 0, rows: int = PARQUET_ROWS) -> Iterator[RawBatch]:
        rows = min(rows, self.batch_rows)
        yield from self._numbered(self._pieces(self.file, _group_runs(self.file.metadata, rows), rows), 1, after, rows)

    def spans(self, rows: int = PARQUET_ROWS, after: int = 0) -> Optional[list[Span]]:
        """The row groups as batches() takes them together (start, end: group indexes), each span
        numbered from its first row: a worker process reads its own. None if a group holds more rows
        than a batch: its worker would hold all of the group's rendered batches at once."""
        rows = min(rows, self.batch_rows)
        meta = self.file.metadata
        if any(meta.row_group(g).num_rows > rows for g in range(meta.num_row_groups)):
            return None
        spans, first = [], 1
        for groups in _group_runs(meta, rows):
            records = sum(meta.row_group(g).num_rows for g in groups)
            spans.append(Span(groups[0], groups[-1] + 1, first, records))
            first += records
        return spans

    def span_batches(self, span: Span, ncols: int, after: int, rows: int) -> Iterator[RawBatch]:
        """The rows of one span (spans()), read by this worker process through the file the parent opened
        before forking it. Its decoded footer stays in pages the processes share (~36 KB a row group of 27
        columns: 11 MiB for a 10M-row register in 32,768-row groups, 62 MiB in 5,700-row groups; a file
        opened again held that much more in each worker), and
        pyarrow reads a file at given offsets (pread), never through the file position they share."""
        rows = min(rows, self.batch_rows)
        runs = _group_runs(self.file.metadata, rows, span.start, span.end)
        yield from self._numbered(self._pieces(self.file, runs, rows), span.first, after, rows)

    def _numbered(self, pieces, start: int, after: int, rows: int) -> Iterator[RawBatch]:
        for columns in pieces:
            arrays = [_text(c) for c in columns]
            del columns
            n = len(arrays[0]) if arrays else 0
            batch = RawBatch(np.arange(start, start + n, dtype=np.int64), arrays)
            start += n
            for part in _trimmed(batch, after):
                yield from _sliced(part, rows)

    @staticmethod
    def _pieces(file, runs, rows: int) -> Iterator[list]:
        """The columns of consecutive rows: whole row groups, a few at a time (ParquetFile.iter_batches
        keeps memory it has decoded, measured +45 MB a million rows; read_row_groups does not), except
        that a row group of more than `rows` rows (pyarrow writes up to a million rows a group) is
        decoded `rows` at a time by iter_batches, so a batch is never the whole group."""
        meta = file.metadata
        for take in runs:
            if meta.row_group(take[0]).num_rows > rows:
                for piece in file.iter_batches(batch_size=rows, row_groups=take, use_threads=False):
                    yield piece.columns
                continue
            table = file.read_row_groups(take, use_threads=False)     # a worker is one of --workers: no pool
            yield [c.combine_chunks() for c in table.columns]
            del table


def _group_runs(meta, rows: int, start: int = 0, end: Optional[int] = None) -> Iterator[list[int]]:
    """The row groups read together: as many whole groups as fit in `rows` (a batch is never cut into a
    full one and a scrap), a group of more than `rows` alone; from group `start` (where a run starts)
    to `end`."""
    group, end = start, meta.num_row_groups if end is None else end
    while group < end:
        take, count = [group], meta.row_group(group).num_rows
        if count <= rows:
            while group + len(take) < end and \
                    count + meta.row_group(group + len(take)).num_rows <= rows:
                count += meta.row_group(group + len(take)).num_rows
                take.append(group + len(take))
        group += len(take)
        yield take


def _text(column):
    """A text column as text cells ("" for a null): a string array, or a dictionary array of strings
    without nulls as it is. A typed column as it is (arrow_typed.py: a null stays None, as the row
    reader gives it)."""
    import pyarrow as pa
    from engine.columnar.arrow_typed import is_text
    if not is_text(column.type):
        return column
    if pa.types.is_dictionary(column.type) and not column.null_count and pa.types.is_string(column.type.value_type):
        return column
    return column.cast(pa.string()).fill_null("")
