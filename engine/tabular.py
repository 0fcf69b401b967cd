"""Tabular output shared by every command: CSV and XLSX writers that never let a cell run as a
spreadsheet formula, and file names made from data that stay inside the output folder."""
from __future__ import annotations

import csv
import math
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Iterable, Union

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


def write_xlsx(path: Union[str, Path], sheets: dict[str, tuple[list[str], list[list]]]) -> None:
    """One worksheet per entry. Text is neutralised like CSV; Decimal money is a number cell shown with
    two decimals (the exact figure is kept as a string in the audit JSON); dates are date cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for title, (headers, rows) in sheets.items():
        sheet = workbook.create_sheet(_sheet_title(title, used))
        bold = Font(bold=True)
        header_cells = []
        for h in headers:
            cell = WriteOnlyCell(sheet, value=_xlsx_text(neutralise(h, numeric_ok=False)))
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value, WriteOnlyCell) for value in row])
    if not sheets:
        workbook.create_sheet("Sheet1")
    workbook.save(path)


def _xlsx_cell(sheet, value: Any, cell_type):
    if value is None or isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, Decimal):
        cell = cell_type(sheet, value=value)
        cell.number_format = "#,##0.00"
        return cell
    if isinstance(value, (date, datetime)):
        cell = cell_type(sheet, value=value)
        cell.number_format = "yyyy-mm-dd" if not isinstance(value, datetime) else "yyyy-mm-dd hh:mm:ss"
        return cell
    # openpyxl stores any string starting with "=" as a formula; the same neutralising as CSV keeps
    # both outputs showing the same text.
    return _xlsx_text(neutralise(value))


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
