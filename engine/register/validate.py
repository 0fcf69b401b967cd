"""Register row validation: one row's raw cells to an `Enterprise` (engine/facts.py), or every problem
the row has, each tied to the column header as found in the file."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, Optional

from pydantic import ValidationError

from engine.errors import InputFileError, problem_text
from engine.facts import Enterprise, YearMonth
from engine.limits import limit
from engine.register.columns import HeaderMap
from engine.register.normalise import CellError, is_blank, parse_cell, show
from engine.register.towns import TownResolver
from engine.register.units import CHECKED_COLUMNS, SAMPLE, implausible_unit


class Finding(NamedTuple):
    column: Optional[str]   # header text as found in the file
    message: str


@dataclass
class RowOutcome:
    enterprise: Optional[Enterprise]
    findings: list[Finding] = field(default_factory=list)
    enterprise_id: Optional[str] = None   # as normalised, for the duplicate check across rows


_NOTHING: dict = {}         # "not remembered" (a parsed value is never this object)
MEMO_LIMIT = 2_000        # distinct cells remembered per column; a column with more is not remembered


def validate_row(cells: list[Any], header: HeaderMap, *, as_of: date, towns: TownResolver,
                 memo: Optional[dict] = None) -> RowOutcome:
    """`memo` (a dict the caller keeps for one header): text cells already parsed, by column — a
    register repeats the same words, flags, codes and dates on every row. Only values are remembered
    (they are immutable); a cell that fails is parsed again, so its message is the same every time."""
    values: dict[str, Any] = {}
    failed: set[str] = set()
    findings: list[Finding] = []

    def problem(column_id: str, message: str) -> None:
        failed.add(column_id)
        findings.append(Finding(label(column_id), message))

    def label(column_id: str) -> Optional[str]:
        found = header.fields.get(column_id)
        return found.label if found else None

    longest = limit("CELL_CHARS")
    for column_id, where in header.fields.items():
        raw = cells[where.index] if where.index < len(cells) else None
        if memo is not None and type(raw) is str:
            # A text parsed before in this column passed every check below: its value, at once.
            hit = (memo.get(column_id) or _NOTHING).get(raw, _NOTHING)
            if hit is not _NOTHING:
                values[column_id] = hit
                continue
        if isinstance(raw, str) and len(raw) > longest:
            problem(column_id, f"the cell holds {len(raw):,} characters; the limit is {longest:,} (CELL_CHARS, "
                               "docs/limits.md)")
            continue
        if is_blank(raw):
            if where.column.required:
                problem(column_id, f"{where.column.describe()} is required but the cell is empty")
            continue
        seen = memo.get(column_id, {}) if memo is not None and type(raw) is str else None
        try:
            values[column_id] = parse_cell(where.column, raw, unit=where.money_unit)
        except CellError as exc:
            problem(column_id, str(exc))
            continue
        if seen is not None:
            if len(seen) < MEMO_LIMIT:
                memo[column_id] = seen
                seen[raw] = values[column_id]
            else:
                memo[column_id] = None     # a column of distinct values (ids, names, amounts): not worth it

    for column_id in ("enterprise_id", "industry_code"):
        if column_id in values:
            # USCCs and industry codes are letters and digits only: spaces and case are typing noise.
            text = unicodedata.normalize("NFKC", values[column_id])
            values[column_id] = "".join(text.split()).upper()
    if "town" in values:
        try:
            town = towns.resolve(values["town"])
            values["town"], values["town_code"] = town.name, town.code
        except CellError as exc:
            del values["town"]
            problem("town", str(exc))

    _cross_checks(values, failed, as_of, problem, header)
    if "tags" in values and values["tags"] == ():
        del values["tags"]

    enterprise = None
    try:
        enterprise = Enterprise(**values)
    except ValidationError as exc:
        for error in exc.errors():
            column_id = str(error["loc"][0]) if error["loc"] else ""
            column_id = "town" if column_id == "town_code" else column_id
            if column_id in failed:
                continue  # already reported with a better message, or missing because of it
            message = problem_text(error)
            problem(column_id, f"{show(error.get('input'))}: {message}" if "input" in error else message)
    return RowOutcome(None if findings else enterprise, findings, values.get("enterprise_id"))


def check_units(file: str, header: HeaderMap, values_of) -> None:
    """Refuse the file when a unit-less revenue column cannot be 万元 (engine/register/units.py).
    `values_of(column_id)` gives that column's first values in yuan (at most units.SAMPLE)."""
    for column_id in CHECKED_COLUMNS:
        where = header.fields.get(column_id)
        if where is not None and where.unit is None:
            problem = implausible_unit(file, where.label, values_of(column_id))
            if problem:
                raise InputFileError(problem)


def sample_yuan(cells_rows, where) -> list:
    """The first units.SAMPLE values of a money column that parse, in yuan (for check_units)."""
    out = []
    for cells in cells_rows:
        raw = cells[where.index] if where.index < len(cells) else None
        if is_blank(raw):
            continue
        try:
            out.append(parse_cell(where.column, raw, unit=where.money_unit))
        except CellError:
            continue
        if len(out) >= SAMPLE:
            break
    return out


def _cross_checks(values: dict[str, Any], failed: set[str], as_of: date, problem, header: HeaderMap) -> None:
    def after_as_of(ym: YearMonth) -> bool:
        return (ym.year, ym.month) > (as_of.year, as_of.month)

    through = values.get("ytd_through")
    if through is not None and after_as_of(through):
        problem("ytd_through", f'"{through}" is after the as-of date {as_of.isoformat()}; '
                               "year-to-date figures cannot run past it")
    revenue_ytd_given = "revenue_ytd" in values or "revenue_ytd" in failed
    if revenue_ytd_given and through is None and "ytd_through" not in failed:
        # Without the month, a year-to-date figure cannot be annualised or compared: never assumed.
        where = "ytd_through" if "ytd_through" in header.fields else "revenue_ytd"
        problem(where, "ytd_through is required with revenue_ytd: give the month the year-to-date "
                       "figure runs to, e.g. 2024-05")
    since = values.get("in_scope_since")
    if since is not None and after_as_of(since):
        problem("in_scope_since", f'"{since}" is after the as-of date {as_of.isoformat()}')
    for column_id in ("established_on", "commissioned_on"):
        day = values.get(column_id)
        if day is not None and day > as_of:
            problem(column_id, f'"{day.isoformat()}" is after the as-of date {as_of.isoformat()}; a register as '
                               "of that date cannot hold it (a typing error, or the wrong --as-of)")
