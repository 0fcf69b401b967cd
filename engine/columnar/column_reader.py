"""The columnar reader's core: a register's records, batch by batch, to Frames of accepted rows, with
exactly engine/register's decisions (see reader.py).

A source (csv_text.PythonCsv, arrow_source.ArrowCsv or ArrowParquet) gives the records for the header
search and then RawBatches: pyarrow string arrays, Python records or plain lines. Each batch is parsed
column by column (cells.py, arrow_cells.py); a row any of whose cells or cross-checks fails goes whole to
validate_row. Each batch's accepted rows are handed on as a Frame before the next batch is read.

Duplicates across batches: each row's enterprise id is kept as a 64-bit hash with its row number, in an
IdLog (id_log.py: in flat memory, spilled to a temporary folder beyond a million rows). At the end, ids
whose hash repeats are confirmed on the exact ids, read again from the file (only then), and
every row holding a duplicated id is rejected, as engine/register rejects it. Rows of those ids that
were already handed on are named in `duplicate_ids`: the caller drops them from what it wrote.
"""
from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Iterator, Optional

import numpy as np

from engine.columnar.arrow_source import Rest
from engine.columnar.cells import MISSING_NUM, UNSURE_NUM, ColumnParser, id_hash, id_hashes, uscc_valid
from engine.columnar.duplicates import mark_duplicates
from engine.columnar.frame import Frame, objects
from engine.columnar.id_log import NO_ID, IdLog
from engine.errors import InputFileError
from engine.facts import Enterprise
from engine.limits import exceeded, limit
from engine.policy import Policy
from engine.register import InputProblem, RejectedRow
from engine.register.columns import count_known, map_headers, register_columns
from engine.register.normalise import CONTROL_CHARACTERS, cell_text, is_blank
from engine.register.reading import (HEADER_SEARCH_ROWS, UNDECODABLE, UNDECODABLE_PROBLEM, find_header,
                                     header_labels, row_text, row_width)
from engine.register.towns import TownResolver
from engine.register.units import CHECKED_COLUMNS, SAMPLE
from engine.register.validate import check_units, validate_row

LIMIT64 = 1 << 62
IDENTITY = ("enterprise_id", "name")     # unique per row: kept as text, not as categories


APART_STATE = ("blank_rows", "values_without_header", "width", "unit_samples", "units_checked", "rejected",
               "fallback_rows", "accepted", "ids", "id_tag")


@dataclass
class BatchState:
    """What one batch validated in a worker adds to its reader's state (ColumnReader.validate_apart)."""
    blank_rows: list
    values_without_header: set
    width: int
    unit_samples: dict
    rejected: dict
    fallback_rows: int
    accepted: int
    hashes: list          # int64 arrays of id hashes, and of their row numbers
    rows: list


class ColumnReader:
    def __init__(self, source, name: str, as_of: date, policy: Policy, *, lossy: bool = False):
        self.source, self.name, self.as_of, self.lossy = source, name, as_of, lossy
        self.columns = register_columns(policy)
        self.towns = TownResolver(policy.jurisdiction)
        self.ym_as_of = (as_of.year, as_of.month)
        self._lateness: dict[str, np.ndarray] = {}     # _late's answers per column, for its values so far
        self.most_columns = limit("REGISTER_COLUMNS")
        self.most_rows, self.longest = limit("REGISTER_ROWS"), limit("CELL_CHARS")
        self.unit_samples: dict[str, list] = {cid: [] for cid in CHECKED_COLUMNS}
        self.units_checked = False
        self.rejected: dict[int, tuple[list, list]] = {}    # row -> (cells, problems)
        self.ids = IdLog()                                  # id hash and row number of every non-blank row
        self.id_tag = 0                                     # added to the row numbers (duplicates.share_id_log)
        self.blank_rows: list[int] = []
        self.fallback_rows = 0
        self.accepted = 0
        self.dropped = 0                                    # of those, rejected later as duplicates
        self.duplicate_ids: set[str] = set()
        self.done = False

    # ---------------------------------------------------------------------------------- the header
    def start(self) -> None:
        """Find the header (below any title rows) and map its columns."""
        records = self.source.head()
        prefix: list = []
        non_blank = 0
        for row_no, cells in records:
            prefix.append((row_no, cells))
            if not all(map(is_blank, cells)):
                non_blank += 1
                if non_blank >= HEADER_SEARCH_ROWS or self.source.header_first:
                    break
        for row_no, cells in prefix:
            self._check_width(row_no, cells)
        if self.source.header_first:
            if not prefix:
                raise InputFileError(f"{self.name}: the file is empty")
            header_pos = 0
        else:
            header_pos = find_header(prefix, lambda cells: count_known(cells, self.columns), self.name)
        self.header_row, header_cells = prefix[header_pos]
        self.header_cells = header_cells
        self.warnings = [InputProblem(self.name, n, None, f"skipped as a title row above the header: "
                                                         f"{row_text(cells)}")
                         for n, cells in prefix[:header_pos] if not all(map(is_blank, cells))]
        self.width0 = row_width(header_cells)
        try:
            self.header = map_headers(header_labels(header_cells, self.width0), self.columns, self.name)
        except InputFileError:
            # The normal reader reads the whole file first: a malformed record is reported before a
            # header problem, and the columns listed in the message run to the widest row.
            width = self.width0
            for _, cells in self.source.records(after=self.header_row):
                width = max(width, row_width(cells))
            map_headers(header_labels(header_cells, width), self.columns, self.name)
            raise
        self.fields = dict(self.header.fields)
        self.cols = {cid: ColumnParser(hf.column, hf.money_unit, self.towns) for cid, hf in self.fields.items()
                     if cid not in IDENTITY}
        self.source.dictionaries([self.fields[cid].index for cid, col in self.cols.items() if col.kind != "money"])
        self.blank_header = [i for i in range(self.width0) if is_blank(header_cells[i])]
        self.width = self.width0
        self.values_without_header: set[int] = set()
        below = [cells for n, cells in prefix[header_pos + 1:]]
        self.ncols = self.source.usual_width(below, header_cells)
        self.header_row_no = None if self.source.header_first else self.header_row

    # ---------------------------------------------------------------------------------- batches
    def batches(self, chunk_rows: int, apart: bool = False, since=None) -> Iterator:
        """(row numbers, Frame) of each batch's accepted rows, in file order. `apart`: a batch of pyarrow
        arrays is yielded as it is (a RawBatch), for a worker process's copy of this reader to validate
        (validate_apart) and this one to take in (absorb); the caller calls end_batches() after the last.
        `since`: the records of the file's Rest only (spans() gave one after its spans; apart only)."""
        raws = self.source.batches(self.ncols, self.header_row, chunk_rows, since) if since is not None else \
            self.source.batches(self.ncols, self.header_row, chunk_rows)
        for raw in raws:
            if not len(raw):
                continue
            self._within_rows(int(raw.numbers[-1]))
            if apart and raw.arrays is not None:
                yield raw
                continue
            out = self._raw_batch(raw)
            if out is not None:
                yield out
        if not apart:
            self.end_batches()

    def spans(self, rows: int) -> Optional[Iterator]:
        """The source's spans for worker processes to read themselves (pipeline.run), each
        checked against REGISTER_ROWS before it is handed on, as batches() checks a batch; None if the
        source cannot be cut. A CSV's spans may end with a Rest of the file, read by batches(since=)."""
        spans = self.source.spans(rows, self.header_row)
        return None if spans is None else self._checked_spans(spans)

    def _checked_spans(self, spans) -> Iterator:
        for span in spans:
            if not isinstance(span, Rest):          # a Rest is checked batch by batch (batches)
                self._within_rows(span.first + span.records - 1)
            yield span

    def _within_rows(self, last: int) -> None:
        if last > self.most_rows - (1 if self.source.header_first else 0):
            raise exceeded("REGISTER_ROWS", self.name, f"more than {self.most_rows:,} rows")

    def _raw_batch(self, raw):
        if raw.arrays is not None:
            return self._arrow_batch(raw.numbers, raw.arrays)
        if raw.lines is not None:
            return self._plain_batch(raw.numbers.tolist(), raw.lines)
        return self._record_batch(raw.records)

    def end_batches(self) -> None:
        self._check_units()
        self.done = True

    def release_parsers(self) -> None:
        """After the last batch of one of several readers (a dataset's partitions, read one after the
        other and finished together): its column parsers, with every distinct cell they have parsed,
        are no longer needed (frames still on their way keep the vocabularies they use). Kept until the
        end, a 10M-row dataset's ten partitions grew the parent by ~45 MiB of anonymous memory; ~20
        now (what is left is each partition's own bookkeeping)."""
        self.cols = {}

    # ---------------------------------------------------------------------------------- a batch apart
    def validate_apart(self, raw) -> tuple[Optional[tuple[np.ndarray, Frame]], "BatchState"]:
        """A batch validated in a worker process's copy of this reader (forked after the header was read):
        (row numbers, Frame) of the accepted rows, and what the batch adds to the reader's state —
        this copy's state is left as it was."""
        saved = {k: getattr(self, k) for k in APART_STATE}
        self.blank_rows, self.rejected, self.fallback_rows, self.accepted = [], {}, 0, 0
        self.values_without_header = set(saved["values_without_header"])
        self.unit_samples = {cid: [] for cid in CHECKED_COLUMNS}
        self.units_checked = True                   # the parent checks units, on the samples in file order
        self.ids, self.id_tag = IdLog(spill_rows=1 << 62), 0
        try:
            out = self._raw_batch(raw)
            state = BatchState(self.blank_rows, self.values_without_header - saved["values_without_header"],
                               self.width, self.unit_samples, self.rejected, self.fallback_rows, self.accepted,
                               self.ids.hashes, self.ids.rows)
        finally:
            for k, v in saved.items():
                setattr(self, k, v)
        return out, state

    def absorb(self, state: "BatchState") -> None:
        """Take in what a batch validated apart added, batches in file order (see batches)."""
        self.blank_rows += state.blank_rows
        self.values_without_header |= state.values_without_header
        self.width = max(self.width, state.width)
        for cid, found in state.unit_samples.items():
            if found and len(self.unit_samples[cid]) < SAMPLE:
                self.unit_samples[cid] += found[:SAMPLE - len(self.unit_samples[cid])]
        if not self.units_checked and all(len(v) >= SAMPLE for k, v in self.unit_samples.items()
                                          if state.unit_samples.get(k)):
            self._check_units()
        self.rejected.update(state.rejected)
        self.fallback_rows += state.fallback_rows
        self.accepted += state.accepted
        for hashes, rows in zip(state.hashes, state.rows):
            self.ids.add(hashes, rows + self.id_tag)

    def _record_batch(self, batch: list):
        """Records as Python lists: (row number, cells)."""
        blank = [not "".join(c if isinstance(c, str) else cell_text(c) for c in cells).strip() for _, cells in batch]
        if any(blank):
            self.blank_rows += [r for (r, _), b in zip(batch, blank) if b]
            batch = [rc for rc, b in zip(batch, blank) if not b]
        if not batch:
            return None
        if self.blank_header or any(len(cells) != self.width0 for _, cells in batch):
            for _, cells in batch:
                self._track_width(cells)
        w0 = self.width0
        rows = [cells if len(cells) >= w0 else cells + [""] * (w0 - len(cells)) for _, cells in batch]
        columns = list(zip(*rows))
        return self._python_chunk([r for r, _ in batch], columns, lambda i: batch[i][1],
                                  long=[max(map(len, cells)) > self.longest for _, cells in batch])

    def _plain_batch(self, numbers: list, lines: list):
        """Lines of a file without quotes: each line is one record, its cells split at the delimiter
        (exactly what csv.reader makes of it)."""
        d = self.source.delimiter
        # Only a line that starts with the delimiter or a space (or is empty) can be blank.
        starts = set(map(operator.itemgetter(slice(0, 1)), lines))
        maybe_blank = any(not c or c == d or c.isspace() for c in starts)
        blank = [not line.replace(d, "").strip() for line in lines] if maybe_blank else [False]
        if maybe_blank and any(blank):
            self.blank_rows += [r for r, b in zip(numbers, blank) if b]
            keep = [i for i, b in enumerate(blank) if not b]
            numbers, lines = [numbers[i] for i in keep], [lines[i] for i in keep]
        if not lines:
            return None
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
        long = [len(line) > self.longest for line in lines] if max(map(len, lines)) > self.longest else None
        return self._python_chunk(numbers, columns, lambda i: lines[i].split(d), long=long)

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
    def _python_chunk(self, numbers: list, columns: list, cells_of, long=None):
        index = self.fields
        id_cells = columns[index["enterprise_id"].index]
        ids = list(id_cells)
        names = [c.strip() for c in columns[index["name"].index]]
        parsed = {cid: col.parse(columns[index[cid].index]) for cid, col in self.cols.items()}
        del columns
        valid = uscc_valid(id_cells)
        unsure = ~valid
        if long is not None:
            unsure |= np.array(long, dtype=bool)
        if not all(names):
            unsure |= np.array([not m for m in names], dtype=bool)
        controls = CONTROL_CHARACTERS.search
        if any(map(controls, names)) or any(map(controls, ids)):       # validate_row rejects them
            unsure |= np.array([bool(controls(n) or controls(i)) for n, i in zip(names, ids)], dtype=bool)
        return self._decide(numbers, ids, names, parsed, unsure, cells_of)

    def _arrow_batch(self, numbers: np.ndarray, arrays: list):
        import pyarrow as pa
        from engine.columnar import arrow_cells as ac
        blank = ac.blank_rows(arrays)
        if blank.any():
            self.blank_rows += numbers[blank].tolist()
            keep = np.flatnonzero(~blank)
            if not len(keep):
                return None
            numbers, arrays = numbers[keep], [a.take(pa.array(keep)) for a in arrays]
        for j in range(self.width0, len(arrays)):
            if j not in self.values_without_header and ac.any_non_blank(arrays[j]):
                self.values_without_header.add(j)
                self.width = max(self.width, j + 1)
        for j in self.blank_header:
            if j < len(arrays) and j not in self.values_without_header and ac.any_non_blank(arrays[j]):
                self.values_without_header.add(j)
        if len(arrays) < self.width0:
            arrays = arrays + [pa.array([""] * len(numbers), pa.string())] * (self.width0 - len(arrays))
        index = self.fields
        id_arr, name_arr = arrays[index["enterprise_id"].index], arrays[index["name"].index]
        # Ids and names stay pyarrow arrays where they are the cells as they are (a row that is not
        # unsure has its id cell as its id): Frame makes their Python strings only if they are read.
        ids = id_arr if ac.text_bytes(id_arr) is not None and pa.types.is_string(id_arr.type) else id_arr.to_pylist()
        names = ac.stripped_or_same(name_arr)
        parsed = {cid: ac.parse(col, arrays[index[cid].index]) for cid, col in self.cols.items()}
        valid, id_codes = ac.uscc_valid(id_arr)
        unsure = ~valid | ac.controls(name_arr)      # a valid USCC holds no control character
        if isinstance(names, list):
            if not all(names):
                unsure |= np.array([not m for m in names], dtype=bool)
        else:
            offsets = ac.text_bytes(names)[0]
            unsure |= offsets[1:] == offsets[:-1]          # an empty name
        for arr in arrays:
            unsure |= ac.longer_than(arr, self.longest)
            if self.lossy:
                unsure |= ac.holding(arr, UNDECODABLE)
        return self._decide(numbers.tolist(), ids, names, parsed, unsure, lambda i: [a[i].as_py() for a in arrays],
                            id_codes)

    def _decide(self, numbers: list, ids: list, names: list, parsed: dict, unsure: np.ndarray, cells_of,
                id_codes: Optional[np.ndarray] = None):
        """The rows of one chunk accepted or rejected: `parsed` holds every column's parse, `unsure` the
        rows for validate_row. Returns (row numbers, Frame) of the accepted rows. `id_codes`: the id
        hash of every row whose id is a valid USCC, already made from the id column's bytes."""
        w0 = self.width0
        for cid in CHECKED_COLUMNS:     # the first values that parse, rejected rows too (as sample_yuan)
            if cid in parsed and len(self.unit_samples[cid]) < SAMPLE:
                self.unit_samples[cid] += _first_values(parsed[cid], SAMPLE - len(self.unit_samples[cid]))
        if not self.units_checked and all(len(v) >= SAMPLE for k, v in self.unit_samples.items() if k in parsed):
            self._check_units()
        for cid, col in self.cols.items():
            unsure |= col.unsure(parsed[cid])
        self._cross_checks(parsed, unsure)
        hashes = np.full(len(ids), NO_ID, dtype=np.int64)
        fast = np.flatnonzero(~unsure)
        if id_codes is not None:                # a row not unsure has a valid USCC
            hashes[fast] = id_codes[fast]
        elif len(fast):
            ids = _listed(ids)
            codes = np.array([ids[i] for i in fast.tolist()], dtype="S18")
            hashes[fast] = id_hashes(codes.view(np.uint8).reshape(len(fast), 18))
        accepted = ~unsure
        ents: dict[int, Enterprise] = {}
        for i in np.flatnonzero(unsure).tolist():
            row_no, cells = numbers[i], cells_of(i)
            self.fallback_rows += 1
            outcome = validate_row(list(cells[:w0]) + [None] * (w0 - len(cells)), self.header, as_of=self.as_of,
                                   towns=self.towns)
            if outcome.enterprise_id:
                hashes[i] = id_hash(outcome.enterprise_id)
            problems = [InputProblem(self.name, row_no, f.column, f.message) for f in outcome.findings]
            if self.lossy and any(isinstance(c, str) and UNDECODABLE in c for c in cells):
                problems.insert(0, InputProblem(self.name, row_no, None, UNDECODABLE_PROBLEM))
            if problems:
                self.rejected[row_no] = (list(cells), problems, outcome.enterprise_id)
            else:
                ents[i] = outcome.enterprise
                accepted[i] = True
        self._note_hashes(numbers, hashes)
        row_numbers = np.array(numbers, dtype=np.int64)
        if unsure.any():
            keep = np.flatnonzero(accepted)
            ids, names = _listed(ids), _listed(names)
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
        if not len(row_numbers):
            return None
        self.accepted += len(row_numbers)
        cols = {cid: col.col_of(parsed[cid]) for cid, col in self.cols.items()}
        town, park = cols["town"], cols["in_park"]
        frame = Frame(len(row_numbers), _texts(ids), _texts(names), objects(town.vocab)[town.values],
                      np.array(park.vocab + [False], dtype=bool)[park.values], cols)
        return row_numbers, frame

    def _cross_checks(self, parsed: dict, unsure: np.ndarray) -> None:
        """engine/register/validate._cross_checks: a row that fails one goes to validate_row."""
        limit_ = self.ym_as_of
        for key in ("ytd_through", "in_scope_since"):
            col = self.cols.get(key)
            if col is None:
                continue
            late = self._late(key, col.vocab, lambda v: (v.year, v.month) > limit_)
            unsure |= late[parsed[key]]
        for key in ("established_on", "commissioned_on"):
            col = self.cols.get(key)
            if col is not None:
                late = self._late(key, col.vocab, lambda v: v > self.as_of)
                unsure |= late[parsed[key]]
        if "revenue_ytd" in parsed:
            given = parsed["revenue_ytd"] != MISSING_NUM
            if parsed["revenue_ytd"].dtype == object:
                given = np.array([v != MISSING_NUM for v in parsed["revenue_ytd"]], bool)
            through = parsed.get("ytd_through")
            unsure |= given & (True if through is None else through == -1)

    def _late(self, key: str, vocab: list, is_late) -> np.ndarray:
        """Which of a column's values are late, then False twice (the missing and unsure codes, -1 and
        -2). A parser's vocabulary only grows: only the values added since the last batch are tested (a
        date column's holds every day seen so far, some 9,000 on a 1M-row register)."""
        known = self._lateness.get(key)
        if known is None or len(known) - 2 < len(vocab):
            seen = [] if known is None else known[:-2].tolist()
            known = np.array(seen + [is_late(v) for v in vocab[len(seen):]] + [False, False], dtype=bool)
            self._lateness[key] = known
        return known

    def _note_hashes(self, numbers: list, hashes: np.ndarray) -> None:
        self.ids.add(hashes, np.array(numbers, dtype=np.int64) + self.id_tag)

    def _check_units(self) -> None:
        if not self.units_checked:
            self.units_checked = True
            check_units(self.name, self.header,
                        lambda cid: [Decimal(int(v)).scaleb(-2) for v in self.unit_samples.get(cid, [])])

    # ---------------------------------------------------------------------------------- the end
    def finish(self, find_duplicates: bool = True) -> tuple[list[str], list[RejectedRow], list[InputProblem]]:
        """After the last batch: (headers, rejected rows in row order, warnings). Finds the duplicates
        (their rows' ids are added to duplicate_ids when they were handed on as accepted), unless the
        caller finds them across several readers first (duplicates.mark_duplicates)."""
        headers = header_labels(self.header_cells, self.width)
        header = map_headers(headers, self.columns, self.name)
        for index, label, hint in header.unknown:
            blank_header = is_blank(self.header_cells[index] if index < len(self.header_cells) else None)
            if not blank_header:
                self.warnings.append(InputProblem(self.name, self.header_row_no, label,
                                                  f"unknown column, ignored{hint}"))
            elif index in self.values_without_header:
                self.warnings.append(InputProblem(self.name, self.header_row_no, label,
                                                  "values in a column without a header are ignored"))
        if self.blank_rows:
            shown = ", ".join(map(str, self.blank_rows[:10])) + (", …" if len(self.blank_rows) > 10 else "")
            self.warnings.append(InputProblem(self.name, None, None,
                                              f"{len(self.blank_rows)} blank row(s) skipped (row {shown})"))
        if find_duplicates:
            mark_duplicates([self])
        rejected = []
        for r in sorted(self.rejected):
            cells, problems, _ = self.rejected[r]
            padded = (list(cells) + [None] * self.width)[:self.width]
            rejected.append(RejectedRow(r, {h: cell_text(c) for h, c in zip(headers, padded)}, tuple(problems)))
        return headers, rejected, self.warnings

def _listed(texts) -> list:
    """Ids or names as a list (they may come as a pyarrow string array: _arrow_batch)."""
    return texts if isinstance(texts, list) else texts.to_pylist()


def _texts(texts):
    """A Frame's id or name column: a list as an object array; a pyarrow array as it is (Frame)."""
    return objects(texts) if isinstance(texts, list) else texts


def _first_values(parsed: np.ndarray, most: int) -> list:
    """The first `most` values of a money column's parse that are amounts (not missing, not unsure). A
    worker's batch starts its samples afresh (validate_apart): only as many as are wanted are made
    Python ints, not the whole column (0.25 of 3.2 CPU seconds a worker spent on 450k rows)."""
    if parsed.dtype == object:
        return [v for v in parsed.tolist() if v != MISSING_NUM and v != UNSURE_NUM][:most]
    return parsed[np.flatnonzero((parsed != MISSING_NUM) & (parsed != UNSURE_NUM))[:most]].tolist()


def _frame_value(ent: Enterprise, cid: str, ftype: str) -> Any:
    if cid == "town":
        return ent.town
    v = getattr(ent, cid)
    if v is not None and ftype == "money":
        return int(v.scaleb(2))
    return v
