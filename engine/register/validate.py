"""Register row validation: one row's raw cells to an `Enterprise` (engine/facts.py), or every problem
the row has, each tied to the column header as found in the file."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, Optional

from pydantic import ValidationError

from engine.errors import problem_text
from engine.facts import Enterprise, YearMonth
from engine.register.columns import HeaderMap
from engine.register.normalise import CellError, is_blank, parse_cell, show
from engine.register.towns import TownResolver


class Finding(NamedTuple):
    column: Optional[str]   # header text as found in the file
    message: str


@dataclass
class RowOutcome:
    enterprise: Optional[Enterprise]
    findings: list[Finding] = field(default_factory=list)
    enterprise_id: Optional[str] = None   # as normalised, for the duplicate check across rows


def validate_row(cells: list[Any], header: HeaderMap, *, as_of: date, towns: TownResolver) -> RowOutcome:
    values: dict[str, Any] = {}
    failed: set[str] = set()
    findings: list[Finding] = []

    def problem(column_id: str, message: str) -> None:
        failed.add(column_id)
        findings.append(Finding(label(column_id), message))

    def label(column_id: str) -> Optional[str]:
        found = header.fields.get(column_id)
        return found.label if found else None

    for column_id, where in header.fields.items():
        raw = cells[where.index] if where.index < len(cells) else None
        if is_blank(raw):
            if where.column.required:
                problem(column_id, f"{where.column.describe()} is required but the cell is empty")
            continue
        try:
            values[column_id] = parse_cell(where.column, raw, in_yuan=where.in_yuan)
        except CellError as exc:
            problem(column_id, str(exc))

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
