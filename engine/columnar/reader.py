"""Register files straight into columns (engine/columnar/frame.Frame), for the columnar engine.

A CSV register is streamed in chunks of rows (csv_text.py) and parsed column by column (cells.py). A file with no quote character
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

import csv
import itertools
import operator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import numpy as np

from engine.columnar.cells import MISSING_NUM, UNSURE_NUM, ColumnParser, uscc_valid
from engine.columnar.csv_text import CsvHead, csv_errors, csv_lines, csv_records, plain_batches, plain_records, read_head
from engine.columnar.frame import Frame, objects
from engine.errors import InputFileError
from engine.limits import exceeded, limit
from engine.facts import Enterprise
from engine.policy import Policy
from engine.register import InputProblem, RejectedRow, read_register
from engine.register.columns import count_known, map_headers, register_columns
from engine.register.normalise import CONTROL_CHARACTERS, cell_text, is_blank
from engine.register.reading import HEADER_SEARCH_ROWS, find_header, header_labels, row_text, row_width
from engine.register.towns import TownResolver
from engine.register.units import CHECKED_COLUMNS, SAMPLE
from engine.register.validate import check_units, validate_row

CHUNK_ROWS = 50_000
LIMIT64 = 1 << 62


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


def read_register_frame(path, *, as_of: date, policy: Policy, sheet: Optional[str] = None,
                        chunk_rows: int = CHUNK_ROWS) -> FrameRead:
    name = str(path)
    path = Path(path)
    if path.suffix.lower() == ".csv":
        head = read_head(path, name)
        if head is not None:
            return _CsvReader(path, name, head, as_of, policy, chunk_rows).run()
    return _via_register(path, as_of, policy, sheet)


def _via_register(path, as_of, policy, sheet) -> FrameRead:
    read = read_register(path, as_of=as_of, policy=policy, sheet=sheet)
    types = {c.id: c.type for c in register_columns(policy)}
    frame = Frame.from_enterprises([e for _, e in read.accepted], types)
    return FrameRead(read.path, read.headers, frame, np.array([r for r, _ in read.accepted], dtype=np.int64),
                     read.rejected, read.warnings, fast=False)


# ------------------------------------------------------------------------------- the reader

IDENTITY = ("enterprise_id", "name")     # unique per row: kept as text, not as categories


class _CsvReader:
    def __init__(self, path: Path, name: str, head: CsvHead, as_of: date, policy: Policy, chunk_rows: int):
        self.path, self.name, self.head, self.as_of = path, name, head, as_of
        self.columns = register_columns(policy)
        self.towns = TownResolver(policy.jurisdiction)
        self.chunk_rows = chunk_rows
        self.ym_as_of = (as_of.year, as_of.month)
        self.most_columns = limit("REGISTER_COLUMNS")
        self.unit_samples: dict[str, list] = {cid: [] for cid in CHECKED_COLUMNS}

    def run(self) -> FrameRead:
        if self.head.plain:
            records = plain_records(self.path, self.head)
        else:
            records = enumerate(csv.reader(csv_lines(self.path, self.head), delimiter=self.head.delimiter), start=1)
        prefix: list = []
        non_blank = 0
        with csv_errors(self.name):
            for row_no, cells in records:
                prefix.append((row_no, cells))
                if not all(map(is_blank, cells)):
                    non_blank += 1
                    if non_blank >= HEADER_SEARCH_ROWS:
                        break
        for row_no, cells in prefix:
            self._check_width(row_no, cells)
        header_pos = find_header(prefix, lambda cells: count_known(cells, self.columns), self.name)
        header_row, header_cells = prefix[header_pos]
        self.warnings = [InputProblem(self.name, n, None, f"skipped as a title row above the header: "
                                                         f"{row_text(cells)}")
                         for n, cells in prefix[:header_pos] if not all(map(is_blank, cells))]
        self.width0 = row_width(header_cells)
        rest = itertools.chain(prefix[header_pos + 1:], records)
        try:
            self.header = map_headers(header_labels(header_cells, self.width0), self.columns, self.name)
        except InputFileError:
            # The normal reader reads the whole file first: a malformed record is reported before a
            # header problem, and the columns listed in the message run to the widest row.
            width = self.width0
            with csv_errors(self.name):
                for _, cells in rest:
                    width = max(width, row_width(cells))
            map_headers(header_labels(header_cells, width), self.columns, self.name)
            raise
        self.fields = [(cid, hf) for cid, hf in self.header.fields.items()]
        self.cols = {cid: ColumnParser(hf.column, hf.money_unit, self.towns) for cid, hf in self.fields
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
            for numbers, lines in plain_batches(self.path, self.head, self.chunk_rows, lead, done):
                self._plain_batch(numbers, lines)
        else:
            while True:
                with csv_errors(self.name):
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
            if w > self.most_columns:
                self._check_width(numbers[0], lines[0].split(d))
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

    def _check_width(self, row_no, cells: list) -> None:
        """REGISTER_COLUMNS (engine/limits.py), as the row-by-row reader enforces it."""
        if len(cells) > self.most_columns and row_width(cells) > self.most_columns:
            where = self.name if row_no is None else f"{self.name} row {row_no}"
            raise exceeded("REGISTER_COLUMNS", where, f"{row_width(cells):,} columns")

    def _track_width(self, cells: list) -> None:
        if len(cells) > self.most_columns:
            self._check_width(None, cells)
        if len(cells) > self.width0:
            w = row_width(cells)
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
        for cid in CHECKED_COLUMNS:     # the first values that parse, rejected rows too (as sample_yuan)
            if cid in parsed and len(self.unit_samples[cid]) < SAMPLE:
                found = [v for v in parsed[cid].tolist() if v != MISSING_NUM and v != UNSURE_NUM]
                self.unit_samples[cid] += found[:SAMPLE - len(self.unit_samples[cid])]
        del columns
        unsure = ~uscc_valid(id_cells)
        for cid, col in self.cols.items():
            unsure |= col.unsure(parsed[cid])
        if not all(names):
            unsure |= np.array([not m for m in names], dtype=bool)
        controls = CONTROL_CHARACTERS.search
        if any(map(controls, names)) or any(map(controls, ids)):       # validate_row rejects them
            unsure |= np.array([bool(controls(n) or controls(i)) for n, i in zip(names, ids)], dtype=bool)
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
        for key in ("established_on", "commissioned_on"):
            col = self.cols.get(key)
            if col is not None:
                late = np.array([v > self.as_of for v in col.vocab] + [False, False], dtype=bool)
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
        check_units(self.name, header, lambda cid: [Decimal(int(v)).scaleb(-2) for v in self.unit_samples[cid]])
        town, park = cols["town"], cols["in_park"]
        frame = Frame(len(rows), objects(self.identity["enterprise_id"]), objects(self.identity["name"]),
                      objects([town.vocab[c] for c in town.values.tolist()]),
                      np.array(park.vocab + [False], dtype=bool)[park.values] if len(rows) else np.zeros(0, bool),
                      cols)

        dup_rows = {r: eid for eid, rs in self.duplicates.items() for r in rs}
        if dup_rows:
            # A duplicated enterprise rejects every row holding it: fetch those rows' cells again.
            id_label = header.fields["enterprise_id"].label
            need = {r for r in dup_rows if r not in self.rejected}
            cells_of = {r: c for r, c in csv_records(self.path, self.name, self.head) if r in need} if need else {}
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


def _frame_value(ent: Enterprise, cid: str, ftype: str) -> Any:
    if cid == "town":
        return ent.town
    v = getattr(ent, cid)
    if v is not None and ftype == "money":
        return int(v.scaleb(2))
    return v
