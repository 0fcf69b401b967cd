"""Reading an enterprise register (the only reader: read_register concatenates what it streams), in
two passes over the file, with memory that does not grow with rows.

Pass 1 (`scan_register`) reads every row once, cheaply: where the header is, how wide the rows are, the
blank rows and the values under no header (the file's warnings), and each row's enterprise id as a
64-bit hash (8 bytes a row), so that both rows of a duplicate are rejected however far apart they are;
ids whose hashes repeat are then read exactly. A file that cannot be read fails here, before any row is
evaluated. Pass 2 (`RegisterScan.chunks`) reads the rows again as raw cells, in chunks — or, for a CSV
scanned with `split_every`, each worker reads its own part of the file (`RegisterScan.read_part`, from a
position pass 1 noted after a complete record, so a quoted cell holding a newline is never cut);
`RowChecker` turns each row into an Enterprise or a RejectedRow, in whichever process evaluates it.
`iter_register` puts the two together.

CSV, XLSX and Parquet (with pyarrow installed) are read as streams. JSON has no streaming parser in the
standard library: it is parsed whole (on each pass), so its raw rows are held; its results still stream.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import unicodedata
from array import array
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from engine.errors import InputFileError
from engine.facts import Enterprise
from engine.jurisdiction import Jurisdiction
from engine.policy import Policy
from engine.register.model import InputProblem, RegisterRead, RejectedRow
from engine.register.columns import Column, HeaderMap, count_known, map_headers, match_header, register_columns
from engine.register.normalise import CellError, cell_text, is_blank, parse_cell
from engine.register.reading import (HEADER_SEARCH_ROWS, UNDECODABLE_PROBLEM, Row, bounded_rows, find_header,
                                     header_labels, open_input, read_json, row_text, row_width, text_encoding,
                                     undecodable, xlsx_rows)
from engine.register.towns import TownResolver
from engine.register.units import SAMPLE
from engine.register.validate import check_units, sample_yuan, validate_row

__all__ = ["RegisterScan", "RowChecker", "IdIndex", "scan_register", "iter_register", "id_key",
           "DEFAULT_CHUNK_SIZE", "csv_encoding", "csv_delimiter"]

DEFAULT_CHUNK_SIZE = 1000
_BUCKETS = 64
_CSV_HEAD_CHARS = 20000   # as the columnar reader: the delimiter is chosen from the first characters


def id_key(enterprise_id: str) -> int:
    """A 64-bit hash of a normalised enterprise id, the same in every process (unlike hash())."""
    return int.from_bytes(hashlib.blake2b(enterprise_id.encode("utf-8"), digest_size=8).digest(), "little",
                          signed=True)


class IdIndex:
    """Hashes of the enterprise ids seen (8 bytes each), to find the ones that repeat."""

    def __init__(self) -> None:
        self.buckets = [array("q") for _ in range(_BUCKETS)]

    def add(self, key: int) -> None:
        self.buckets[key % _BUCKETS].append(key)

    def merge(self, other: "IdIndex") -> None:
        for mine, theirs in zip(self.buckets, other.buckets):
            mine.extend(theirs)

    def repeated(self) -> set[int]:
        out: set[int] = set()
        for bucket in self.buckets:       # sorted one bucket at a time: a small transient list
            previous = None
            for key in sorted(bucket):
                if key == previous:
                    out.add(key)
                previous = key
        return out

    def __len__(self) -> int:
        return sum(map(len, self.buckets))


@dataclass
class RegisterScan:
    """What pass 1 learnt about a register file. Small and picklable: it goes to worker processes."""

    name: str
    path: str
    kind: str                                   # csv | xlsx | json | parquet
    sheet: Optional[str]
    encoding: Optional[str]
    delimiter: str
    header_index: int                           # position of the header among the file's rows
    header_row_no: Optional[int]
    headers: list[str]
    header: HeaderMap
    width: int
    warnings: list[InputProblem]
    data_rows: int                              # non-blank rows below the header
    # enterprise id -> every (file, row) where it appears, for ids that appear more than once
    duplicates: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    ids: Optional[IdIndex] = field(default=None, repr=False)   # kept only when asked (partitions)
    lossy: bool = False                         # UTF-8 with a few undecodable rows (reading.text_encoding)
    # A CSV scanned with `split_every`: the file cut into parts a worker reads itself (read_part), each
    # (text position, index of its first record, data rows in it); None: rows are sent as cells.
    parts: Optional[list[tuple[int, int, int]]] = None

    def rows(self) -> Iterator[Row]:
        """Every row of the file, numbered as the officer sees it (pass 2 and later)."""
        return _rows(Path(self.path), self.name, self.kind, self.sheet, self.encoding, self.delimiter, self.lossy)

    def data(self) -> Iterator[Row]:
        """The non-blank rows below the header, padded or cut to the header's width."""
        width = self.width
        for index, (row_no, cells) in enumerate(self.rows()):
            if index <= self.header_index or all(map(is_blank, cells)):
                continue
            yield row_no, (cells + [None] * width)[:width]

    def read_part(self, part: tuple[int, int, int]) -> list[Row]:
        """One of `parts`: its data rows as data() gives them, read from the file by whichever process
        evaluates them (the same records: each part starts where the csv reader had finished one)."""
        position, index, count = part
        reader = _CsvReader(Path(self.path), self.name, self.encoding or "utf-8-sig", self.delimiter, self.lossy)
        width, out = self.width, []
        for i, (row_no, cells) in enumerate(reader.records(position, index), start=index):
            if i <= self.header_index or all(map(is_blank, cells)):
                continue
            out.append((row_no, (cells + [None] * width)[:width]))
            if len(out) >= count:
                break
        return out

    def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[list[Row]]:
        chunk: list[Row] = []
        for row in self.data():
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


class RowChecker:
    """One raw row to (row number, Enterprise) or a RejectedRow: the register's checks, row by row."""

    def __init__(self, scan: RegisterScan, as_of: date, jurisdiction: Jurisdiction):
        self.scan, self.as_of = scan, as_of
        self.towns = TownResolver(jurisdiction)
        self.id_label = scan.header.fields["enterprise_id"].label
        self.memo: dict = {}          # cells already parsed (validate_row), for this file's header

    def check(self, row_no: int, cells: list) -> Union[tuple[int, Enterprise], RejectedRow]:
        scan = self.scan
        outcome = validate_row(cells, scan.header, as_of=self.as_of, towns=self.towns, memo=self.memo)
        problems = [InputProblem(scan.name, row_no, f.column, f.message) for f in outcome.findings]
        if scan.lossy and undecodable(cells):
            problems.insert(0, InputProblem(scan.name, row_no, None, UNDECODABLE_PROBLEM))
        where = scan.duplicates.get(outcome.enterprise_id) if outcome.enterprise_id else None
        if where:
            same = [n for file, n in where if file == scan.name and n != row_no]
            other = [f"{file} row {n}" for file, n in where if file != scan.name]
            places = ([f"row {', '.join(map(str, same))}"] if same else []) + other
            if places:
                problems.append(InputProblem(scan.name, row_no, self.id_label,
                                             f'"{outcome.enterprise_id}" also appears in {", ".join(places)}; '
                                             "each enterprise must appear once"))
        if problems:
            original = {h: cell_text(c) for h, c in zip(scan.headers, cells)}
            return RejectedRow(row_no, original, tuple(problems))
        return row_no, outcome.enterprise


def scan_register(path, *, columns: tuple[Column, ...], sheet: Optional[str] = None, keep_ids: bool = False,
                  find_duplicates: bool = True, split_every: Optional[int] = None) -> RegisterScan:
    """Pass 1 over a register file (see the module docstring). With keep_ids the id hashes stay on the
    scan (for a partitioned register, whose duplicates are found across all its files). With
    split_every, a CSV is also cut into `parts` of at least that many data rows (the first part may
    hold up to the few rows read ahead to find the header more)."""
    path = Path(path)
    name = str(path)
    kind = _kind(path, name)
    if kind == "csv":
        encoding, lossy = csv_encoding(path, name)
        try:
            delimiter = csv_delimiter(path, encoding, lossy)
            scan = _scan(path, name, kind, sheet, encoding, delimiter, columns, lossy, split_every)
        except UnicodeDecodeError:
            raise InputFileError(f"{name}: not readable as UTF-8 or GB18030 (GBK) text; "
                                 "save it from Excel as \"CSV UTF-8\" or as .xlsx") from None
    else:
        scan = _scan(path, name, kind, sheet, None, ",", columns)
    if find_duplicates:
        repeated = scan.ids.repeated()
        if repeated:
            scan.duplicates = locate_ids(scan, repeated)
    if not keep_ids:
        scan.ids = None
    return scan


def locate_ids(scan: RegisterScan, keys: set[int]) -> dict[str, list[tuple[str, int]]]:
    """The exact ids behind these hashes and where they appear (a third, cheap pass, only when some
    hash repeats). Ids that share a hash without being equal are dropped here."""
    found: dict[str, list[tuple[str, int]]] = {}
    for row_no, enterprise_id in _row_ids(scan):
        if id_key(enterprise_id) in keys:
            found.setdefault(enterprise_id, []).append((scan.name, row_no))
    return found


def iter_register(path, *, as_of: date, policy: Policy, sheet: Optional[str] = None,
                  chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[RegisterRead]:
    """The register in chunks of at most chunk_size rows, each a RegisterRead; the first carries every
    warning of the file. Concatenated, the chunks are what read_register returns."""
    scan = scan_register(path, columns=register_columns(policy), sheet=sheet)
    checker = RowChecker(scan, as_of, policy.jurisdiction)
    warnings = list(scan.warnings)
    sent = False
    for chunk in scan.chunks(chunk_size):
        accepted, rejected = [], []
        for row_no, cells in chunk:
            outcome = checker.check(row_no, cells)
            (rejected if isinstance(outcome, RejectedRow) else accepted).append(outcome)
        yield RegisterRead(scan.name, scan.headers, accepted, rejected, warnings)
        warnings, sent = [], True
    if not sent:
        yield RegisterRead(scan.name, scan.headers, [], [], warnings)


# ---------------------------------------------------------------------------------------- pass 1
def _scan(path: Path, name: str, kind: str, sheet: Optional[str], encoding: Optional[str],
          delimiter: str, columns: tuple[Column, ...], lossy: bool = False,
          split_every: Optional[int] = None) -> RegisterScan:
    reader = _CsvReader(path, name, encoding or "utf-8-sig", delimiter, lossy) if kind == "csv" else None
    rows = bounded_rows(reader.records(), name) if reader else _rows(path, name, kind, sheet, encoding, delimiter)
    head: list[Row] = []
    if kind in ("json", "parquet"):
        head = [next(rows)]                     # the keys are the header: nothing to search
        header_index, header_row_no = 0, None
    else:
        non_blank = 0
        for row in rows:                        # enough rows to search for the header like read_register
            head.append(row)
            non_blank += not all(map(is_blank, row[1]))
            if non_blank >= HEADER_SEARCH_ROWS:
                break
        header_index = find_header(head, lambda cells: count_known(cells, columns), name)
        header_row_no = head[header_index][0]
    header_cells = head[header_index][1]
    warnings = [InputProblem(name, n, None, f"skipped as a title row above the header: {row_text(cells)}")
                for n, cells in head[:header_index] if not all(map(is_blank, cells))]

    id_index, id_column = _id_column(header_cells, columns)
    headerless = [i for i, cell in enumerate(header_cells) if is_blank(cell)]
    header_width = len(header_cells)
    with_values: set[int] = set()
    width = row_width(header_cells)
    data_rows, blank_rows, blank_shown = 0, 0, []
    ids = IdIndex()

    def data():
        yield from head[header_index + 1:]
        yield from rows

    cut = _Parts(reader, split_every, head[-1][0]) if reader is not None and split_every else None
    for row_no, cells in data():
        used = row_width(cells)
        if not used:
            blank_rows += 1
            if len(blank_shown) <= 10:
                blank_shown.append(row_no)
            continue
        data_rows += 1
        if cut:
            cut.after(row_no, data_rows)
        width = max(width, used)
        for i in headerless:
            if i < len(cells) and not is_blank(cells[i]):
                with_values.add(i)
        if used > header_width:
            with_values.update(i for i in range(header_width, used) if not is_blank(cells[i]))
        if id_index is not None and id_index < len(cells):
            enterprise_id = _row_id(cells[id_index], id_column)
            if enterprise_id:
                ids.add(id_key(enterprise_id))

    headers = header_labels(header_cells, width)
    header = map_headers(headers, columns, name)
    # The first rows again, for the unit check (a few hundred rows: cheap, and pass 1 stays one loop).
    sample = list(itertools.islice((cells for index, (_, cells) in enumerate(_rows(path, name, kind, sheet, encoding,
                                                                                  delimiter, lossy))
                                    if index > header_index and not all(map(is_blank, cells))), SAMPLE))
    check_units(name, header, lambda cid: sample_yuan(sample, header.fields[cid]))
    for index, label, hint in header.unknown:
        blank_header = is_blank(header_cells[index] if index < len(header_cells) else None)
        if not blank_header:
            warnings.append(InputProblem(name, header_row_no, label, f"unknown column, ignored{hint}"))
        elif index in with_values:
            warnings.append(InputProblem(name, header_row_no, label, "values in a column without a header "
                                                                    "are ignored"))
    if blank_rows:
        shown = ", ".join(map(str, blank_shown[:10])) + (", …" if blank_rows > 10 else "")
        warnings.append(InputProblem(name, None, None, f"{blank_rows} blank row(s) skipped (row {shown})"))
    return RegisterScan(name=name, path=str(path), kind=kind, sheet=sheet, encoding=encoding,
                        delimiter=delimiter, header_index=header_index, header_row_no=header_row_no,
                        headers=headers, header=header, width=width, warnings=warnings, data_rows=data_rows,
                        ids=ids, lossy=lossy, parts=cut.done(data_rows) if cut else None)


def _id_column(header_cells: list, columns: tuple[Column, ...]) -> tuple[Optional[int], Optional[Column]]:
    """Where the enterprise id is in the header, and its column, if it is there."""
    for i, cell in enumerate(header_cells):
        found = match_header(cell_text(cell).strip(), columns) if not is_blank(cell) else None
        if found and found[0].id == "enterprise_id":
            return i, found[0]
    return None, None


class _Parts:
    """Where pass 1 cuts a CSV into parts of at least `every` data rows (scan_register split_every): only
    after a record read from the file just now, where the reader's position is the next record's — the
    rows read ahead to find the header (up to `ahead_to`) stay in the first part."""

    def __init__(self, reader: "_CsvReader", every: int, ahead_to: int):
        self.reader, self.every, self.ahead_to = reader, every, ahead_to
        self.parts: list[tuple[int, int, int]] = []
        self.start, self.rows = (0, 0), 0          # (position, index of the first record), data rows before

    def after(self, row_no: int, data_rows: int) -> None:
        if data_rows - self.rows >= self.every and row_no > self.ahead_to:
            self.parts.append((*self.start, data_rows - self.rows))
            self.start, self.rows = (self.reader.tell(), row_no), data_rows

    def done(self, data_rows: int) -> list[tuple[int, int, int]]:
        if data_rows > self.rows:
            self.parts.append((*self.start, data_rows - self.rows))
        return self.parts


def _row_id(raw: Any, column) -> Optional[str]:
    """The enterprise id as validate_row normalises it, or None where it has none (blank, unreadable)."""
    if is_blank(raw):
        return None
    if type(raw) is str and raw.isascii() and raw.isalnum() and not column.value_aliases:
        return raw.upper()           # what the lines below make of it, without them (nearly every id)
    try:
        text = parse_cell(column, raw)
    except CellError:
        return None
    return "".join(unicodedata.normalize("NFKC", text).split()).upper() or None


def _row_ids(scan: RegisterScan) -> Iterator[tuple[int, str]]:
    field_ = scan.header.fields["enterprise_id"]
    for row_no, cells in scan.data():
        enterprise_id = _row_id(cells[field_.index], field_.column)
        if enterprise_id:
            yield row_no, enterprise_id


# ---------------------------------------------------------------------------------------- row sources
def _kind(path: Path, name: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx", ".json", ".parquet"):
        _check_readable(path, name)
        return suffix[1:]
    if suffix in (".xls", ".et"):
        raise InputFileError(f"{name}: {suffix} workbooks are not read; save the file as .xlsx or .csv")
    raise InputFileError(f"{name}: unknown file type {suffix!r}; expected .csv, .xlsx or .json")


def _check_readable(path: Path, name: str) -> None:
    with open_input(path, name):
        pass


def _starts_with_utf16_bom(path: Path, name: str) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _binary_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from fh


def csv_encoding(path: Path, name: str) -> tuple[str, bool]:
    """(encoding, lossy) of a CSV register, as reading.text_encoding decides (UTF-16 by its mark)."""
    if _starts_with_utf16_bom(path, name):
        return "utf-16", False
    return text_encoding(lambda: _binary_lines(path), name)


def csv_delimiter(path: Path, encoding: str, lossy: bool = False) -> str:
    with path.open("r", encoding=encoding, newline="", errors="replace" if lossy else "strict") as fh:
        head = fh.read(_CSV_HEAD_CHARS).splitlines()[:HEADER_SEARCH_ROWS]
    # Excel's "Unicode text" and some exports are tab-separated; a comma anywhere up top means CSV.
    return "\t" if any("\t" in line for line in head) and not any("," in line for line in head) else ","


def _rows(path: Path, name: str, kind: str, sheet: Optional[str], encoding: Optional[str],
          delimiter: str, lossy: bool = False) -> Iterator[Row]:
    if kind == "csv":
        return bounded_rows(_csv_rows(path, name, encoding or "utf-8-sig", delimiter, lossy), name)
    if kind == "xlsx":
        return xlsx_rows(path, name, sheet)          # bounded there
    if kind == "parquet":
        return bounded_rows(_parquet_rows(path, name), name)
    return bounded_rows(iter(read_json(path, name)), name)


def _csv_rows(path: Path, name: str, encoding: str, delimiter: str, lossy: bool = False) -> Iterator[Row]:
    return _CsvReader(path, name, encoding, delimiter, lossy).records()


class _CsvReader:
    """A CSV file's records, numbered. Lines are read with readline (the same lines as iterating the
    file), so `tell()` can give the text position after the last record returned: a cookie of the text
    file (a byte offset and the decoder's state) that seeking to later resumes at the next record —
    also after a cell holding a newline, because the csv reader had finished the record there. tell() costs
    tens of microseconds: it is asked only where a register is cut into parts."""

    def __init__(self, path: Path, name: str, encoding: str, delimiter: str, lossy: bool = False):
        self.path, self.name, self.encoding, self.delimiter, self.lossy = path, name, encoding, delimiter, lossy
        self._fh = None

    def records(self, position: int = 0, index: int = 0) -> Iterator[Row]:
        with self.path.open("r", encoding=self.encoding, newline="",
                            errors="replace" if self.lossy else "strict") as fh:
            self._fh = fh
            if position:
                fh.seek(position)
            try:
                # Row numbers count records, not lines, so they match the row Excel shows for the same file.
                yield from enumerate(csv.reader(iter(fh.readline, ""), delimiter=self.delimiter), start=index + 1)
            except csv.Error as exc:
                raise InputFileError(f"{self.name}: not a well-formed CSV file ({exc})") from None

    def tell(self) -> int:
        return self._fh.tell()


def _parquet_rows(path: Path, name: str) -> Iterator[Row]:
    """A Parquet file (a partition of a large register) as rows: its column names are the header, as
    for JSON; values keep their types (dates, decimals, numbers), as XLSX cells do. Needs pyarrow."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputFileError(f"{name}: reading Parquet needs pyarrow (pip install 'scaleup[parquet]'); "
                             "or convert the file to CSV") from None
    try:
        parquet = pq.ParquetFile(path)
        yield 0, list(parquet.schema_arrow.names)
        n = 0
        for batch in parquet.iter_batches(batch_size=4096):
            for row in zip(*(column.to_pylist() for column in batch.columns)):
                n += 1
                yield n, list(row)
    except Exception as exc:  # pyarrow raises its own kinds for a damaged file
        raise InputFileError(f"{name}: not a readable Parquet file ({type(exc).__name__}: {exc})") from None
