"""Tabular output shared by every command: CSV and XLSX writers that never let a cell run as a
spreadsheet formula, and file names made from data that stay inside the output folder."""
from __future__ import annotations

import csv
import itertools
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Iterable, Optional, Union

# Text starting with these is run as a formula (or DDE command) by Excel and WPS (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0 (openpyxl refuses them)
_MAX_NAME = 100
_MAX_NAME_BYTES = 240  # file systems allow 255 bytes; a Chinese character is 3 of them in UTF-8


def neutralise(cell: Any, numeric_ok: bool = True) -> str:
    """The cell as text that a spreadsheet shows as text: a leading ' disarms a formula. With numeric_ok,
    text that is a plain decimal number ("-5", "+1.50", our own Decimal output) is left alone."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, (int, float, Decimal)):
        return str(cell)
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, date):
        return cell.isoformat()
    text = str(cell)
    if numeric_ok and _PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(path_or_stream: Union[str, Path, IO[str]], headers: list[str], rows: Iterable[list],
              *, bom: bool = True) -> None:
    """UTF-8 with a BOM (so Excel opens Chinese text correctly), every cell neutralised."""
    if hasattr(path_or_stream, "write"):
        _write_csv_rows(path_or_stream, headers, rows, bom)
        return
    with open(path_or_stream, "w", encoding="utf-8", newline="") as fh:
        _write_csv_rows(fh, headers, rows, bom)


def _write_csv_rows(fh: IO[str], headers: list[str], rows: Iterable[list], bom: bool) -> None:
    if bom:
        fh.write("\ufeff")
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow([neutralise(h, numeric_ok=False) for h in headers])
    for row in rows:
        writer.writerow([neutralise(c) for c in row])


@dataclass(frozen=True)
class Column:
    """A worksheet column: its header and what its cells hold, which decides the cell type, the number
    format and the width. kind: text | code (ids, kept as text) | money (元, a number with two
    decimals) | count | year | date | datetime. A hidden column keeps machine codes beside the words shown."""

    header: str
    kind: str = "text"
    hidden: bool = False
    width: Optional[int] = None


MONEY_FORMAT = "#,##0.00"
_FORMATS = {"money": MONEY_FORMAT, "count": "#,##0", "year": "0", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}
_DEFAULT_WIDTH = {"money": 16, "count": 8, "year": 8, "date": 12, "datetime": 20, "code": 20}
_FIT_COLUMNS = 14            # at most this many visible columns print one page wide
_WIDTH_SAMPLE = 200          # rows looked at to size the columns (the rest stream straight to the file)


def write_xlsx(path: Union[str, Path], sheets: dict[str, tuple[list, Iterable[list]]]) -> None:
    """One worksheet per entry, made to be worked on in Excel or WPS: the header row bold, frozen and
    filtered; columns sized to their content; money a number cell with two decimals (the exact
    figure is kept as a string in the audit JSON); dates date cells; text neutralised like CSV.
    Headers are Column objects or plain strings (then each cell's type decides its format)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for title, (headers, rows) in sheets.items():
        columns = [h if isinstance(h, Column) else Column(str(h)) for h in headers]
        sheet = workbook.create_sheet(_sheet_title(title, used))
        rows = iter(rows)
        sample = list(itertools.islice(rows, _WIDTH_SAMPLE))
        # Write-only sheets need the panes and column widths before the first row is written.
        sheet.freeze_panes = "A2"
        # Printed: landscape, the header row on every page; a sheet of a few columns one page wide (a
        # wide one shrunk to a page would be unreadable: it prints across pages instead).
        sheet.page_setup.orientation = "landscape"
        if sum(1 for c in columns if not c.hidden) <= _FIT_COLUMNS:
            sheet.sheet_properties.pageSetUpPr.fitToPage = True
            sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
        sheet.print_title_rows = "1:1"
        for index, column in enumerate(columns, start=1):
            dimension = sheet.column_dimensions[get_column_letter(index)]
            dimension.width = column.width or _width(column, [r[index - 1] for r in sample if index - 1 < len(r)])
            dimension.hidden = column.hidden
        sheet.append([_header_cell(sheet, column) for column in columns])
        count = 0
        for row in itertools.chain(sample, rows):
            sheet.append([_xlsx_cell(sheet, value, columns[i].kind if i < len(columns) else "text")
                          for i, value in enumerate(row)])
            count += 1
        if columns:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    if not sheets:
        workbook.create_sheet("Sheet1")
    workbook.save(path)


def _header_cell(sheet, column: Column):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    cell = WriteOnlyCell(sheet, value=_xlsx_text(neutralise(column.header, numeric_ok=False)))
    cell.font = Font(bold=True)
    cell.alignment = Alignment(vertical="center")
    return cell


def _width(column: Column, values: list) -> float:
    """Display width of the header and the sampled cells (a Chinese character is two), within 6..60."""
    from engine.render import display_width
    shown = [display_width(column.header)]
    for value in values:
        if isinstance(value, Decimal):
            shown.append(len(f"{value:,.2f}"))
        elif isinstance(value, (date, datetime)) or value is None:
            continue
        else:
            shown.append(display_width(str(value)))
    return float(min(60, max(6, _DEFAULT_WIDTH.get(column.kind, 0), max(shown) + 2)))


def _xlsx_cell(sheet, value: Any, kind: str = "text"):
    from openpyxl.cell import WriteOnlyCell
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float, Decimal)):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = _FORMATS.get(kind) or (MONEY_FORMAT if isinstance(value, Decimal) else "General")
        return cell
    if isinstance(value, (date, datetime)):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = _FORMATS["datetime" if isinstance(value, datetime) else "date"]
        return cell
    # openpyxl stores any string starting with "=" as a formula; the same neutralising as CSV keeps
    # both outputs showing the same text. Codes (ids) are text even when they look like numbers.
    return _xlsx_text(neutralise(value, numeric_ok=kind != "code"))


def _xlsx_text(text: str) -> str:
    return _XLSX_ILLEGAL.sub("\ufffd", text)


def _sheet_title(title: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ , unique ignoring case.
    base = _SHEET_NAME_BAD.sub("_", _xlsx_text(str(title))).strip("'") or "Sheet"
    base = base[:31]
    candidate, n = base, 1
    while candidate.casefold() in used:
        n += 1
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    used.add(candidate.casefold())
    return candidate


def safe_output_path(out_dir: Union[str, Path], name: str) -> Path:
    """out_dir / a file name made from data (an enterprise name or id) that cannot leave out_dir: path
    separators and control characters become "_", ".." and leading dots go, Chinese stays."""
    text = unicodedata.normalize("NFC", str(name))
    text = "".join("_" if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    text = re.sub(r'[/\\:*?"<>|]', "_", text)   # separators, and characters Windows refuses
    text = re.sub(r"\.{2,}", "", text)
    text = re.sub(r"_{2,}", "_", text).strip(" ._")
    stem, dot, suffix = text.rpartition(".")
    if not (dot and stem and 0 < len(suffix) <= 10 and suffix.isalnum()):
        stem, suffix = text, ""
    ext = f".{suffix}" if suffix else ""
    while stem and (len(stem) + len(ext) > _MAX_NAME or len((stem + ext).encode("utf-8")) > _MAX_NAME_BYTES):
        stem = stem[:-1]
    stem = stem.rstrip(" ._")
    if not stem:
        raise ValueError(f"no usable file name can be made from {name!r}")
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    result = Path(out_dir) / (stem + ext)
    # Belt and braces: the cleaning above should make this impossible.
    if result.parent != Path(out_dir):
        raise ValueError(f"file name {name!r} would leave {out_dir}")
    return result


_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}
