"""The enterprise-register input pipeline (design.md "Input data contract"): an officer's .csv/.xlsx/.json
file to typed `Enterprise` facts. Every non-blank data row ends up accepted or rejected with all its
problems; a file that cannot be read at all raises InputFileError with one message.

reading.py (file -> rows) -> columns.py (header -> column ids, from rules/facts.yaml)
-> validate.py (row -> Enterprise or problems, using normalise.py and towns.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Optional

from engine.facts import Enterprise
from engine.jurisdiction import Jurisdiction
from engine.register.columns import count_known, load_columns, map_headers
from engine.register.normalise import cell_text, is_blank
from engine.register.reading import find_header, header_labels, read_grid
from engine.register.towns import TownResolver
from engine.register.validate import validate_row
from engine.tabular import write_csv

__all__ = ["InputProblem", "RejectedRow", "RegisterRead", "read_register", "write_rejected"]


@dataclass(frozen=True)
class InputProblem:
    file: str
    row: Optional[int]
    column: Optional[str]   # header text as it appears in the file
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f"{',' if self.row is not None else ''} column {self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class RejectedRow:
    row: int                                # as the officer sees it in Excel / the CSV record number
    original: dict[str, str]                # the row's cells unchanged, keyed by the file's header text
    problems: tuple[InputProblem, ...]


@dataclass
class RegisterRead:
    path: str
    headers: list[str]
    accepted: list[tuple[int, Enterprise]]
    rejected: list[RejectedRow]
    warnings: list[InputProblem]

    @property
    def total_rows(self) -> int:
        return len(self.accepted) + len(self.rejected)


def read_register(path, *, as_of: date, jurisdiction: Jurisdiction, sheet: Optional[str] = None) -> RegisterRead:
    name = str(path)
    columns = load_columns()
    grid = read_grid(Path(path), name, sheet)
    rows = grid.rows
    header_pos = 0 if grid.fixed_header else find_header(rows, lambda cells: count_known(cells, columns), name)
    header_row, header_cells = rows[header_pos]
    header_row_no = None if grid.fixed_header else header_row
    warnings = [InputProblem(name, n, None, f"skipped as a title row above the header: {_row_text(cells)}")
                for n, cells in rows[:header_pos] if not all(map(is_blank, cells))]

    data = rows[header_pos + 1:]
    width = max((_width(cells) for _, cells in [rows[header_pos], *data]), default=0)
    headers = header_labels(header_cells, width)
    header = map_headers(headers, columns, name)
    for index, label, hint in header.unknown:
        blank_header = is_blank(header_cells[index] if index < len(header_cells) else None)
        if not blank_header:
            warnings.append(InputProblem(name, header_row_no, label, f"unknown column, ignored{hint}"))
        elif any(index < len(cells) and not is_blank(cells[index]) for _, cells in data):
            warnings.append(InputProblem(name, header_row_no, label, "values in a column without a header "
                                                                    "are ignored"))

    towns = TownResolver(jurisdiction)
    outcomes = []
    blank_rows: list[int] = []
    for row_no, cells in data:
        if all(map(is_blank, cells)):
            blank_rows.append(row_no)
            continue
        cells = (cells + [None] * width)[:width]
        outcome = validate_row(cells, header, as_of=as_of, towns=towns)
        original = {h: cell_text(c) for h, c in zip(headers, cells)}
        outcomes.append((row_no, original, outcome))
    if blank_rows:
        shown = ", ".join(map(str, blank_rows[:10])) + (", …" if len(blank_rows) > 10 else "")
        warnings.append(InputProblem(name, None, None, f"{len(blank_rows)} blank row(s) skipped (row {shown})"))

    duplicates = _duplicate_rows(outcomes)
    id_label = header.fields["enterprise_id"].label
    accepted, rejected = [], []
    for row_no, original, outcome in outcomes:
        problems = [InputProblem(name, row_no, f.column, f.message) for f in outcome.findings]
        others = [n for n in duplicates.get(outcome.enterprise_id, []) if n != row_no]
        if others:
            problems.append(InputProblem(name, row_no, id_label, f'"{outcome.enterprise_id}" also appears in '
                                         f"row {', '.join(map(str, others))}; each enterprise must appear once"))
        if problems:
            rejected.append(RejectedRow(row_no, original, tuple(problems)))
        else:
            accepted.append((row_no, outcome.enterprise))
    return RegisterRead(name, headers, accepted, rejected, warnings)


def _row_text(cells: list) -> str:
    return " ".join(cell_text(c).strip() for c in cells if not is_blank(c))[:80]


def _width(cells: list) -> int:
    return max((i + 1 for i, c in enumerate(cells) if not is_blank(c)), default=0)


def _duplicate_rows(outcomes) -> dict[str, list[int]]:
    by_id: dict[str, list[int]] = {}
    for row_no, _, outcome in outcomes:
        if outcome.enterprise_id:
            by_id.setdefault(outcome.enterprise_id, []).append(row_no)
    return {key: rows for key, rows in by_id.items() if len(rows) > 1}


def write_rejected(read: RegisterRead, path) -> None:
    """The rejected rows as a CSV the officer can fix and read again: the original columns plus "error"."""
    error_header = "error"
    while error_header in read.headers:
        error_header = f"scaleup {error_header}"
    rows = [[r.original.get(h, "") for h in read.headers]
            + ["; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in r.problems)]
            for r in read.rejected]
    write_csv(path, [*read.headers, error_header], rows)


# Streaming reading (registers too large to hold); imported last: it builds on the names above.
from engine.register.streaming import iter_register, scan_register  # noqa: E402

__all__ += ["iter_register", "scan_register"]
