"""Register files straight into columns (engine/columnar_frame.Frame), for the columnar engine.

A CSV register is streamed in chunks of rows and parsed column by column. A file with no quote character
(nor NUL, nor a carriage return outside CRLF) has one record per line, and its lines are split at the
delimiter in bulk — what csv.reader would make of them; any other file goes through csv.reader.

Each distinct cell text is parsed once, by the very functions the normal reader uses
(engine/register/normalise.parse_cell, the town resolver, the USCC check), and the result is shared by
every row with that text; plain decimal money and well-formed USCCs are checked with numpy. A row any of
whose cells or cross-checks fails is handed whole to engine/register/validate.validate_row, which gives
its exact problems (or accepts it); so every row ends up accepted or rejected exactly as
engine/register.read_register decides, with the same values, messages, warnings and row numbers.

XLSX and JSON registers, and CSV files in UTF-16, go through engine/register.read_register and are then
turned into columns. A file that cannot be read raises InputFileError with the normal reader's message.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import itertools
import operator
import io
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Optional

import numpy as np

from engine.columnar.frame import Col, Frame, NUM_TYPES, _objects
from engine.errors import InputFileError
from engine.facts import Enterprise
from engine.jurisdiction import Jurisdiction
from engine.register import InputProblem, RejectedRow, read_register
from engine.register.columns import count_known, load_columns, map_headers
from engine.register.normalise import CellError, cell_text, is_blank, parse_cell
from engine.register.reading import HEADER_SEARCH_ROWS, _read_bytes, find_header, header_labels
from engine.register.towns import TownResolver
from engine.register.validate import validate_row
from engine.uscc import CHARSET, WEIGHTS

CHUNK_ROWS = 50_000
_UNSURE = object()               # a cell (or row) the fast path leaves to validate_row


@dataclass
class FrameRead:
    """What engine/register.RegisterRead says about a file, with the accepted rows as a Frame."""

    path: str
    headers: list[str]
    frame: Frame
    rows: np.ndarray                           # row number of each accepted row, as the officer sees it
    rejected: list[RejectedRow]
    warnings: list[InputProblem]
    fast: bool = True                          # False: read by engine/register (XLSX, JSON, UTF-16)
    fallback_rows: int = 0                     # rows that validate_row decided one by one

    @property
    def total_rows(self) -> int:
        return self.frame.n + len(self.rejected)


def read_register_frame(path, *, as_of: date, jurisdiction: Jurisdiction, sheet: Optional[str] = None,
                        chunk_rows: int = CHUNK_ROWS) -> FrameRead:
    name = str(path)
    path = Path(path)
    if path.suffix.lower() == ".csv":
        head = _read_head(path, name)
        if head is not None:
            return _CsvReader(path, name, head, as_of, jurisdiction, chunk_rows).run()
    return _via_register(path, as_of, jurisdiction, sheet)


def _via_register(path, as_of, jurisdiction, sheet) -> FrameRead:
    read = read_register(path, as_of=as_of, jurisdiction=jurisdiction, sheet=sheet)
    types = {c.id: c.type for c in load_columns()}
    frame = Frame.from_enterprises([e for _, e in read.accepted], types)
    return FrameRead(read.path, read.headers, frame, np.array([r for r, _ in read.accepted], dtype=np.int64),
                     read.rejected, read.warnings, fast=False)


# ------------------------------------------------------------------------------- CSV text

@dataclass
class _Head:
    encoding: str
    delimiter: str
    plain: bool = False       # no quote, NUL or lone CR anywhere: every line is one record


def _read_head(path: Path, name: str) -> Optional[_Head]:
    """The encoding (as engine/register/reading._decode chooses it) and the delimiter; None for UTF-16,
    which is left to the normal reader."""
    data = _read_bytes(path, name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    encoding = None
    for candidate in ("utf-8-sig", "gb18030"):
        if _decodes(data, candidate):
            encoding = candidate
            break
    if encoding is None:
        raise InputFileError(f"{name}: not readable as UTF-8 or GB18030 (GBK) text; "
                             "save it from Excel as \"CSV UTF-8\" or as .xlsx")
    text = io.TextIOWrapper(io.BytesIO(data[:200_000]), encoding=encoding, errors="ignore", newline="").read(20000)
    head = text[:20000].splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = "\t" if any("\t" in line for line in head) and not any("," in line for line in head) else ","
    plain = b'"' not in data and b"\x00" not in data and data.count(b"\r") == data.count(b"\r\n")
    return _Head(encoding, delimiter, plain)


def _decodes(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    step = 1 << 22
    try:
        for i in range(0, len(data), step):
            decoder.decode(data[i:i + step], final=i + step >= len(data))
        if not data:
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _lines(path: Path, head: _Head):
    with open(path, encoding=head.encoding, newline="") as fh:
        yield from fh


def _plain_blocks(path: Path, head: _Head, size: int = 1 << 23):
    """The file's text in blocks that end at a line end (a "\\n" byte never sits inside a UTF-8 or
    GB18030 character), newlines as "\\n"."""
    first = True
    with open(path, "rb") as fh:
        rest = b""
        while True:
            data = fh.read(size)
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n") + 1
            rest, data = data[cut:], data[:cut]
            if data:
                yield _decode_block(data, head, first)
                first = False
        if rest:
            yield _decode_block(rest, head, first)


def _decode_block(data: bytes, head: _Head, first: bool) -> str:
    encoding = head.encoding if first or head.encoding != "utf-8-sig" else "utf-8"
    text = data.decode(encoding)
    return text.replace("\r\n", "\n") if "\r" in text else text


def _plain_lines(path: Path, head: _Head):
    for text in _plain_blocks(path, head):
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        yield lines


def _plain_records(path: Path, head: _Head):
    """(record number, cells) of a file without quotes, as csv.reader gives them."""
    n = 0
    d = head.delimiter
    for lines in _plain_lines(path, head):
        for line in lines:
            n += 1
            yield n, (line.split(d) if line else [])


def _plain_batches(path: Path, head: _Head, size: int, lead: list, done: int):
    """(row numbers, lines) in batches of `size`, skipping the first `done` records (already read),
    after the records in `lead`."""
    numbers = [r for r, _ in lead]
    lines = [line for _, line in lead]
    n = 0
    for block in _plain_lines(path, head):
        if n + len(block) <= done:
            n += len(block)
            continue
        skip = max(0, done - n)
        start = n + skip
        block = block[skip:]
        n = start + len(block)
        pos = 0
        while pos < len(block):
            take = block[pos:pos + size - len(lines)]
            numbers.extend(range(start + pos + 1, start + pos + 1 + len(take)))
            lines.extend(take)
            pos += len(take)
            if len(lines) >= size:
                yield numbers, lines
                numbers, lines = [], []
    if lines:
        yield numbers, lines


@contextlib.contextmanager
def _csv_errors(name: str):
    try:
        yield
    except csv.Error as exc:
        raise InputFileError(f"{name}: not a well-formed CSV file ({exc})") from None


def _records(path: Path, name: str, head: _Head):
    """(record number, cells) of every CSV record, streamed."""
    with _csv_errors(name):
        yield from enumerate(csv.reader(_lines(path, head), delimiter=head.delimiter), start=1)


# ------------------------------------------------------------------------------- cells

def _normalise_code(text: str) -> str:
    # As validate_row: USCCs and industry codes are letters and digits only; spaces and case are noise.
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _industry_ok(v: str) -> bool:
    """engine/facts.Enterprise._industry_code_shape, as a predicate."""
    return 2 <= len(v) <= 5 and v[0] in "ABCDEFGHIJKLMNOPQRST" and v[1:].isdigit() and len(v) >= 3


_USCC_INDEX = np.full(128, 255, dtype=np.int64)
for _i, _ch in enumerate(CHARSET):
    _USCC_INDEX[ord(_ch)] = _i
_USCC_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)


def _uscc_valid(cells) -> np.ndarray:
    """Which cells are, exactly as written, a valid USCC (engine/uscc.uscc_problem is None); any other
    cell (lower case, spaces, full-width, a wrong check character...) is left to validate_row."""
    n = len(cells)
    if not n:
        return np.zeros(0, dtype=bool)
    arr = np.array(cells, dtype=str)
    if arr.dtype.itemsize // 4 != 18:
        return np.array([len(c) == 18 and bool(_uscc_valid([c])[0]) for c in cells], dtype=bool)
    codes = arr.view(np.uint32).reshape(n, 18).astype(np.int64)
    ascii_ = (codes < 128).all(axis=1)
    idx = _USCC_INDEX[np.where(codes < 128, codes, 0)]
    allowed = ascii_ & (idx < 255).all(axis=1)
    total = (np.where(idx[:, :17] < 255, idx[:, :17], 0) * _USCC_WEIGHTS).sum(axis=1)
    return allowed & (idx[:, 17] == (31 - total % 31) % 31)


def _money_codes(cells, places: int, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Plain decimal cells ([-]digits[.digits], ASCII, at most 12 whole and `places` decimal digits)
    straight to fen, all at once: 10⁻⁶ 万元 or 10⁻² 元 is one fen. Returns (fen, simple); a cell that
    is not that simple (or is blank) is left to the exact parser."""
    n = len(cells)
    arr = np.array(cells, dtype=str)
    width = arr.dtype.itemsize // 4
    if n == 0 or width > 20:
        return np.zeros(n, np.int64), np.zeros(n, bool)
    if width == 0:
        return np.full(n, MISSING_NUM, np.int64), np.ones(n, bool)
    c = arr.view(np.uint32).reshape(n, width).astype(np.int64)
    zero = c == 0
    length = np.where(zero.any(axis=1), zero.argmax(axis=1), width)
    pos = np.arange(width)
    inside = pos[None, :] < length[:, None]
    digit = (c >= 48) & (c <= 57)
    dot = c == 46
    minus = (c == 45) & (pos[None, :] == 0) if signed else np.zeros_like(digit)
    ok = (length > 0) & ((digit | dot | minus) | ~inside).all(axis=1) & (zero | inside).all(axis=1)
    ok &= dot.sum(axis=1) <= 1
    has_dot = dot.any(axis=1)
    dot_at = np.where(has_dot, dot.argmax(axis=1), length)
    negative = minus[:, 0]
    whole_len = dot_at - negative
    frac_len = np.where(has_dot, length - dot_at - 1, 0)
    ok &= (whole_len >= 1) & (whole_len <= 12) & (frac_len <= places) & (~has_dot | (frac_len >= 1))
    value = np.zeros(n, np.int64)
    for j in range(width):
        take = digit[:, j] & inside[:, j] & ok
        value = np.where(take, value * 10 + (c[:, j] - 48), value)
    fen = value * 10 ** (places - np.minimum(frac_len, places))
    fen = np.where(negative, -fen, fen)
    fen = np.where(ok, fen, 0)
    # An empty cell is simply missing (a cell of spaces is blank too, but goes the exact way).
    empty = length == 0
    return np.where(empty, MISSING_NUM, fen), ok | empty


MISSING_NUM = -(1 << 63)           # sentinels in the int64 parse of a money or count column
UNSURE_NUM = MISSING_NUM + 1
NEW = MISSING_NUM + 2            # not yet in a column's cache


class _Column:
    """One register column: cell text -> what validate_row would put in the Enterprise (money in fen),
    kept as category codes (or exact integers for money and counts). Distinct texts are parsed once."""

    def __init__(self, column, in_yuan: bool, towns: TownResolver):
        self.column, self.in_yuan, self.towns = column, in_yuan, towns
        self.kind = column.type
        self.numeric = self.kind in NUM_TYPES
        self.cache: dict[str, int] = {}
        self.index: dict = {}
        self.vocab: list = []
        self.parts: list = []

    def exact(self, raw: str) -> Any:
        """The value, None when blank, or _UNSURE: engine/register's own parsing, cell by cell."""
        if is_blank(raw):
            return _UNSURE if self.column.required else None
        try:
            value = parse_cell(self.column, raw, in_yuan=self.in_yuan)
        except CellError:
            return _UNSURE
        cid = self.column.id
        if cid in ("enterprise_id", "industry_code"):
            value = _normalise_code(value)
            if cid == "industry_code" and not _industry_ok(value):
                return _UNSURE
        elif cid == "town":
            try:
                return self.towns.resolve(value).name
            except CellError:
                return _UNSURE
        elif self.kind == "money":
            return int(value.scaleb(2))
        return value

    def code(self, value: Any) -> int:
        if value is None:
            return -1
        if value is _UNSURE:
            return -2
        key = (type(value), value)     # 1, True and Decimal(1) are equal in Python, not the same value
        c = self.index.get(key)
        if c is None:
            c = self.index[key] = len(self.vocab)
            self.vocab.append(value)
        return c

    def parse(self, cells: tuple) -> np.ndarray:
        """int32 codes (-1 missing, -2 unsure) or, for money and counts, int64 values with sentinels
        (object dtype when a value does not fit)."""
        if self.kind == "money":
            fen, simple = _money_codes(cells, 2 if self.in_yuan else 6, self.column.signed)
            if simple.all():
                return fen
            out = fen.tolist()
            for i in np.flatnonzero(~simple).tolist():
                out[i] = self._numeric(cells[i])
            return _int_array(out)
        cache = self.cache
        codes = np.fromiter(map(cache.get, cells, itertools.repeat(NEW)), dtype=np.int64, count=len(cells))
        new = np.flatnonzero(codes == NEW)
        for i in new.tolist():                          # each new text is parsed once
            c = cells[i]
            v = cache.get(c)
            if v is None:
                v = cache[c] = self._numeric(c) if self.numeric else self.code(self.exact(c))
            codes[i] = v
        return codes if self.numeric else codes.astype(np.int32)

    def _numeric(self, c: str):
        v = self.exact(c)
        return MISSING_NUM if v is None else UNSURE_NUM if v is _UNSURE else v

    def unsure(self, parsed: np.ndarray) -> np.ndarray:
        if self.numeric:
            return np.array([v == UNSURE_NUM for v in parsed], bool) if parsed.dtype == object \
                else parsed == UNSURE_NUM
        return parsed == -2

    def add(self, parsed: np.ndarray) -> None:
        self.parts.append(parsed)

    def col(self) -> Col:
        if not self.parts:
            values = np.zeros(0, np.int64 if self.numeric else np.int32)
        else:
            values = np.concatenate(self.parts)
        if self.numeric:
            if values.dtype == object:
                present = np.array([v != MISSING_NUM for v in values], bool)
                values = np.where(present, values, 0)
            else:
                present = values != MISSING_NUM
                values = np.where(present, values, 0)
            return Col("num", values, present, self.kind)
        return Col("cat", values, values >= 0, self.kind, self.vocab)

    def value_of(self, parsed_value) -> Any:
        if self.numeric:
            return None if parsed_value == MISSING_NUM else int(parsed_value)
        return None if parsed_value < 0 else self.vocab[parsed_value]


# ------------------------------------------------------------------------------- the reader

IDENTITY = ("enterprise_id", "name")     # unique per row: kept as text, not as categories


class _CsvReader:
    def __init__(self, path: Path, name: str, head: _Head, as_of: date, jurisdiction: Jurisdiction, chunk_rows: int):
        self.path, self.name, self.head, self.as_of = path, name, head, as_of
        self.columns = load_columns()
        self.towns = TownResolver(jurisdiction)
        self.chunk_rows = chunk_rows
        self.ym_as_of = (as_of.year, as_of.month)

    def run(self) -> FrameRead:
        if self.head.plain:
            records = _plain_records(self.path, self.head)
        else:
            records = enumerate(csv.reader(_lines(self.path, self.head), delimiter=self.head.delimiter), start=1)
        prefix: list = []
        non_blank = 0
        with _csv_errors(self.name):
            for row_no, cells in records:
                prefix.append((row_no, cells))
                if not all(map(is_blank, cells)):
                    non_blank += 1
                    if non_blank >= HEADER_SEARCH_ROWS:
                        break
        header_pos = find_header(prefix, lambda cells: count_known(cells, self.columns), self.name)
        header_row, header_cells = prefix[header_pos]
        self.warnings = [InputProblem(self.name, n, None, f"skipped as a title row above the header: "
                                                         f"{_row_text(cells)}")
                         for n, cells in prefix[:header_pos] if not all(map(is_blank, cells))]
        self.width0 = _width(header_cells)
        rest = itertools.chain(prefix[header_pos + 1:], records)
        try:
            self.header = map_headers(header_labels(header_cells, self.width0), self.columns, self.name)
        except InputFileError:
            # The normal reader reads the whole file first: a malformed record is reported before a
            # header problem, and the columns listed in the message run to the widest row.
            width = self.width0
            with _csv_errors(self.name):
                for _, cells in rest:
                    width = max(width, _width(cells))
            map_headers(header_labels(header_cells, width), self.columns, self.name)
            raise
        self.fields = [(cid, hf) for cid, hf in self.header.fields.items()]
        self.cols = {cid: _Column(hf.column, hf.in_yuan, self.towns) for cid, hf in self.fields
                     if cid not in IDENTITY}
        self.identity: dict[str, list] = {"enterprise_id": [], "name": []}
        self.blank_header = [i for i in range(self.width0) if is_blank(header_cells[i])]
        self.width = self.width0
        self.values_without_header: set[int] = set()
        self.blank_rows: list[int] = []
        self.accepted_rows: list[np.ndarray] = []
        self.rejected: dict[int, tuple[list, list]] = {}    # row -> (cells, problems)
        self.first_row_of: dict[str, int] = {}
        self.duplicates: dict[str, list[int]] = {}
        self.fallback_rows = 0

        if self.head.plain:
            # Records already split off for the header search are handed over as lines again.
            done = prefix[-1][0] if prefix else 0
            lead = [(r, self.head.delimiter.join(c)) for r, c in prefix[header_pos + 1:]]
            for numbers, lines in _plain_batches(self.path, self.head, self.chunk_rows, lead, done):
                self._plain_batch(numbers, lines)
        else:
            while True:
                with _csv_errors(self.name):
                    batch = list(itertools.islice(rest, self.chunk_rows))
                if not batch:
                    break
                self._record_batch(batch)
        return self._finish(header_row, header_cells)

    def _record_batch(self, batch: list) -> None:
        """Records from csv.reader: (row number, cells)."""
        blank = [not "".join(cells).strip() for _, cells in batch]   # every cell blank (is_blank)
        if any(blank):
            self.blank_rows += [r for (r, _), b in zip(batch, blank) if b]
            batch = [rc for rc, b in zip(batch, blank) if not b]
        if not batch:
            return
        if self.blank_header or any(len(cells) != self.width0 for _, cells in batch):
            for _, cells in batch:
                self._track_width(cells)
        w0 = self.width0
        rows = [cells if len(cells) >= w0 else cells + [""] * (w0 - len(cells)) for _, cells in batch]
        self._chunk([r for r, _ in batch], list(zip(*rows)), lambda i: batch[i][1])

    def _plain_batch(self, numbers: list, lines: list) -> None:
        """Lines of a file without quotes: each line is one record, its cells split at the delimiter
        (exactly what csv.reader makes of it)."""
        d = self.head.delimiter
        # Only a line that starts with the delimiter or a space (or is empty) can be blank.
        starts = set(map(operator.itemgetter(slice(0, 1)), lines))
        maybe_blank = any(not c or c == d or c.isspace() for c in starts)
        blank = [not line.replace(d, "").strip() for line in lines] if maybe_blank else [False]
        if maybe_blank and any(blank):
            self.blank_rows += [r for r, b in zip(numbers, blank) if b]
            keep = [i for i, b in enumerate(blank) if not b]
            numbers, lines = [numbers[i] for i in keep], [lines[i] for i in keep]
        if not lines:
            return
        counts = set(map(str.count, lines, itertools.repeat(d)))
        if len(counts) == 1:
            w = counts.pop() + 1
            flat = d.join(lines).split(d)
            columns = [flat[j::w] for j in range(w)]
            del flat
            for j in range(self.width0, w):
                if any(not c.isspace() and c for c in columns[j]):
                    self.values_without_header.add(j)
                    self.width = max(self.width, j + 1)
            for j in self.blank_header:
                if j < w and any(not c.isspace() and c for c in columns[j]):
                    self.values_without_header.add(j)
            if w < self.width0:
                columns += [[""] * len(lines)] * (self.width0 - w)
        else:
            rows = [line.split(d) for line in lines]
            for cells in rows:
                self._track_width(cells)
            w0 = self.width0
            columns = list(zip(*(cells if len(cells) >= w0 else cells + [""] * (w0 - len(cells)) for cells in rows)))
        self._chunk(numbers, columns, lambda i: lines[i].split(d))

    def _track_width(self, cells: list) -> None:
        if len(cells) > self.width0:
            w = _width(cells)
            if w > self.width:
                self.width = w
            for i in range(self.width0, len(cells)):
                if not is_blank(cells[i]):
                    self.values_without_header.add(i)
        for i in self.blank_header:
            if i < len(cells) and not is_blank(cells[i]):
                self.values_without_header.add(i)

    # ---------------------------------------------------------------------------------- a chunk
    def _chunk(self, numbers: list, columns: list, cells_of) -> None:
        """Rows of one batch: `columns` holds at least the header's cells of every row, `cells_of(i)`
        gives row i's cells as read (for validate_row and the rejected-rows file)."""
        w0 = self.width0
        index = dict(self.fields)
        id_cells = columns[index["enterprise_id"].index]
        ids = list(id_cells)
        names = [c.strip() for c in columns[index["name"].index]]
        parsed = {cid: col.parse(columns[index[cid].index]) for cid, col in self.cols.items()}
        del columns
        unsure = ~_uscc_valid(id_cells)
        for cid, col in self.cols.items():
            unsure |= col.unsure(parsed[cid])
        if not all(names):
            unsure |= np.array([not m for m in names], dtype=bool)
        self._cross_checks(parsed, unsure)

        accepted = ~unsure
        ents: dict[int, Enterprise] = {}
        for i in np.flatnonzero(unsure).tolist():
            row_no, cells = numbers[i], cells_of(i)
            self.fallback_rows += 1
            outcome = validate_row(list(cells[:w0]) + [None] * (w0 - len(cells)), self.header, as_of=self.as_of,
                                   towns=self.towns)
            self._note_id(outcome.enterprise_id, row_no)
            if outcome.enterprise is None:
                self.rejected[row_no] = (list(cells), [InputProblem(self.name, row_no, f.column, f.message)
                                                       for f in outcome.findings])
            else:
                ents[i] = outcome.enterprise
                accepted[i] = True
        fast = np.flatnonzero(~unsure).tolist()
        fast_ids = [ids[i] for i in fast]
        firsts = dict(zip(reversed(fast_ids), (numbers[i] for i in reversed(fast))))
        if len(firsts) == len(fast_ids) and self.first_row_of.keys().isdisjoint(firsts):
            self.first_row_of.update(firsts)
        else:
            for i in fast:
                self._note_id(ids[i], numbers[i])
        row_numbers = np.array(numbers, dtype=np.int64)
        if unsure.any():
            keep = np.flatnonzero(accepted)
            for i, ent in ents.items():     # rows validate_row accepted: their values, in the same codes
                ids[i], names[i] = ent.enterprise_id, ent.name
                for cid, col in self.cols.items():
                    value = _frame_value(ent, cid, col.kind)
                    if col.numeric:
                        if parsed[cid].dtype != object and value is not None and not -LIMIT64 < value < LIMIT64:
                            parsed[cid] = parsed[cid].astype(object)
                        parsed[cid][i] = MISSING_NUM if value is None else value
                    else:
                        parsed[cid][i] = col.code(value)
            for cid in parsed:
                parsed[cid] = parsed[cid][keep]
            kept = keep.tolist()
            ids, names = [ids[i] for i in kept], [names[i] for i in kept]
            row_numbers = row_numbers[keep]
        for cid, col in self.cols.items():
            col.add(parsed[cid])
        self.identity["enterprise_id"] += ids
        self.identity["name"] += names
        self.accepted_rows.append(row_numbers)

    def _cross_checks(self, parsed: dict, unsure: np.ndarray) -> None:
        """engine/register/validate._cross_checks: a row that fails one goes to validate_row."""
        limit = self.ym_as_of
        for key in ("ytd_through", "in_scope_since"):
            col = self.cols.get(key)
            if col is None:
                continue
            late = np.array([(v.year, v.month) > limit for v in col.vocab] + [False, False], dtype=bool)
            unsure |= late[parsed[key]]
        if "revenue_ytd" in parsed:
            given = parsed["revenue_ytd"] != MISSING_NUM
            if parsed["revenue_ytd"].dtype == object:
                given = np.array([v != MISSING_NUM for v in parsed["revenue_ytd"]], bool)
            through = parsed.get("ytd_through")
            unsure |= given & (True if through is None else through == -1)

    def _note_id(self, enterprise_id: Optional[str], row_no: int) -> None:
        if not enterprise_id:
            return
        first = self.first_row_of.setdefault(enterprise_id, row_no)
        if first != row_no:
            self.duplicates.setdefault(enterprise_id, [first]).append(row_no)

    # ---------------------------------------------------------------------------------- the end
    def _finish(self, header_row: int, header_cells: list) -> FrameRead:
        headers = header_labels(header_cells, self.width)
        header = map_headers(headers, self.columns, self.name)
        for index, label, hint in header.unknown:
            blank_header = is_blank(header_cells[index] if index < len(header_cells) else None)
            if not blank_header:
                self.warnings.append(InputProblem(self.name, header_row, label, f"unknown column, ignored{hint}"))
            elif index in self.values_without_header:
                self.warnings.append(InputProblem(self.name, header_row, label, "values in a column without a "
                                                                                "header are ignored"))
        if self.blank_rows:
            shown = ", ".join(map(str, self.blank_rows[:10])) + (", …" if len(self.blank_rows) > 10 else "")
            self.warnings.append(InputProblem(self.name, None, None,
                                              f"{len(self.blank_rows)} blank row(s) skipped (row {shown})"))

        rows = np.concatenate(self.accepted_rows) if self.accepted_rows else np.zeros(0, np.int64)
        cols = {cid: col.col() for cid, col in self.cols.items()}
        town, park = cols["town"], cols["in_park"]
        frame = Frame(len(rows), _objects(self.identity["enterprise_id"]), _objects(self.identity["name"]),
                      _objects([town.vocab[c] for c in town.values.tolist()]),
                      np.array(park.vocab + [False], dtype=bool)[park.values] if len(rows) else np.zeros(0, bool),
                      cols)

        dup_rows = {r: eid for eid, rs in self.duplicates.items() for r in rs}
        if dup_rows:
            # A duplicated enterprise rejects every row holding it: fetch those rows' cells again.
            id_label = header.fields["enterprise_id"].label
            need = {r for r in dup_rows if r not in self.rejected}
            cells_of = {r: c for r, c in _records(self.path, self.name, self.head) if r in need} if need else {}
            for r, eid in sorted(dup_rows.items()):
                if r not in self.rejected:
                    cells = cells_of[r]
                    outcome = validate_row(list(cells[:self.width0]) + [None] * (self.width0 - len(cells)),
                                           self.header, as_of=self.as_of, towns=self.towns)
                    self.rejected[r] = (cells, [InputProblem(self.name, r, f.column, f.message)
                                                for f in outcome.findings])
                others = [n for n in sorted(self.duplicates[eid]) if n != r]
                self.rejected[r][1].append(InputProblem(self.name, r, id_label, f'"{eid}" also appears in '
                                                        f"row {', '.join(map(str, others))}; each enterprise must "
                                                        "appear once"))
            keep = ~np.isin(rows, np.array(sorted(dup_rows), dtype=np.int64))
            frame, rows = frame.take(np.flatnonzero(keep)), rows[keep]

        width = self.width
        rejected = []
        for r in sorted(self.rejected):
            cells, problems = self.rejected[r]
            padded = (list(cells) + [None] * width)[:width]
            rejected.append(RejectedRow(r, {h: cell_text(c) for h, c in zip(headers, padded)}, tuple(problems)))
        return FrameRead(self.name, headers, frame, rows, rejected, self.warnings, True, self.fallback_rows)


LIMIT64 = 1 << 62


def _int_array(values: list) -> np.ndarray:
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return np.array(values, dtype=object)


def _frame_value(ent: Enterprise, cid: str, ftype: str) -> Any:
    if cid == "town":
        return ent.town
    v = getattr(ent, cid)
    if v is not None and ftype == "money":
        return int(v.scaleb(2))
    return v


def _row_text(cells: list) -> str:
    return " ".join(cell_text(c).strip() for c in cells if not is_blank(c))[:80]


def _width(cells: list) -> int:
    return max((i + 1 for i, c in enumerate(cells) if not is_blank(c)), default=0)

