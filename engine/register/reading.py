"""Register file reading: the pieces of a .csv, .xlsx or .json file streaming.py reads as numbered rows of raw cells, and the search for
the header row below any title rows. Knows file formats and encodings; what the columns mean is
columns.py's business and what the values mean is normalise.py's."""
from __future__ import annotations

import codecs
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from engine.errors import InputFileError
from engine.limits import exceeded, limit
from engine.register.normalise import cell_text, is_blank

HEADER_SEARCH_ROWS = 10   # title rows above the header are few; a header further down is not searched for
MIN_HEADER_MATCHES = 3    # cells that must be known column names for a row to be taken as the header

Row = tuple[int, list[Any]]  # (row number as the officer sees it, raw cells)

UNDECODABLE = "\ufffd"         # what a byte that is not UTF-8 becomes in a lossy read (text_encoding)
UNDECODABLE_PROBLEM = ("the row holds bytes that are not UTF-8 text (shown as \ufffd): it was saved in another "
                       "encoding than the rest of the file; retype or re-save it")


def undecodable(cells: list) -> bool:
    """A row of a lossily read UTF-8 file that holds bytes which were not UTF-8 (see text_encoding)."""
    return any(isinstance(c, str) and UNDECODABLE in c for c in cells)


def text_encoding(lines: Callable[[], Iterable[bytes]], name: str) -> tuple[str, bool]:
    """The encoding of a CSV's lines (bytes): ("utf-8-sig", False) when every line is UTF-8, else
    ("gb18030", False) when the file is GB18030 (GBK) text, else ("utf-8-sig", True) when most lines
    holding other than ASCII are UTF-8: a file saved as UTF-8 with a few rows pasted from elsewhere. Those
    rows are then rejected one by one (UNDECODABLE_PROBLEM) and the rest of the file is evaluated."""
    utf8 = bad = 0
    for line in lines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError:
            bad += 1
    if not bad:
        return "utf-8-sig", False
    # GBK/GB18030 text is almost never valid UTF-8: more lines of UTF-8 than not make UTF-8 the file's
    # encoding; otherwise the whole file must read as GB18030.
    if utf8 > bad:
        return "utf-8-sig", True
    if _is_gb18030(lines()):
        return "gb18030", False
    if utf8:
        return "utf-8-sig", True
    raise InputFileError(f"{name}: not readable as UTF-8 or GB18030 (GBK) text; "
                         "save it from Excel as \"CSV UTF-8\" or as .xlsx")


def _is_gb18030(lines) -> bool:
    decoder = codecs.getincrementaldecoder("gb18030")()
    try:
        for line in lines:
            decoder.decode(line)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def bounded_rows(rows, name: str) -> Iterator[Row]:
    """Rows passed on as they are read, the file refused at the first row wider than REGISTER_COLUMNS
    (trailing blank cells, which Excel leaves in formatted columns, do not count) or past REGISTER_ROWS
    (engine/limits.py): work and memory stay bounded whatever the file holds."""
    most_columns, most_rows = limit("REGISTER_COLUMNS"), limit("REGISTER_ROWS")
    for count, (n, cells) in enumerate(rows):
        if len(cells) > most_columns:
            width = row_width(cells)
            if width > most_columns:
                raise exceeded("REGISTER_COLUMNS", f"{name} row {n}", f"{width:,} columns")
            cells = cells[:width]
        if count >= most_rows:
            raise exceeded("REGISTER_ROWS", name, f"more than {most_rows:,} rows")
        yield n, cells


def check_workbook(path: Path, name: str) -> None:
    """An .xlsx is a zip of XML parts: their sizes are read from the zip directory, before any part is
    decompressed, and the workbook refused when they add up to more than XLSX_UNCOMPRESSED_BYTES or a
    large part is compressed more than XLSX_PART_RATIO times (a "zip bomb": one cell of a gigabyte of
    the same letter fits in a megabyte). The directory's sizes are what the zip reader then enforces."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputFileError(f"{name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    total = sum(p.file_size for p in parts)
    if total > limit("XLSX_UNCOMPRESSED_BYTES"):
        raise exceeded("XLSX_UNCOMPRESSED_BYTES", name, f"the workbook expands to {total:,} bytes")
    ratio = limit("XLSX_PART_RATIO")
    for part in parts:
        if part.file_size > _RATIO_FROM_BYTES and part.file_size > ratio * max(part.compress_size, 1):
            raise exceeded("XLSX_PART_RATIO", f"{name} part {part.filename[:80]}",
                           f"{part.compress_size:,} bytes expand to {part.file_size:,}")


_RATIO_FROM_BYTES = 1 << 20    # small parts (styles, themes) compress far and are harmless


def find_header(rows: list[Row], count_known: Callable[[list], int], name: str) -> int:
    """Position in `rows` of the header: the first of the first non-blank rows with enough known column
    names, else the one with most (so a file missing columns gets the missing-column message)."""
    candidates = [(pos, cells) for pos, (_, cells) in enumerate(rows) if not all(map(is_blank, cells))]
    if not candidates:
        raise InputFileError(f"{name}: the file is empty")
    candidates = candidates[:HEADER_SEARCH_ROWS]
    counts = [(count_known(cells), pos) for pos, cells in candidates]
    for count, pos in counts:
        if count >= MIN_HEADER_MATCHES:
            return pos
    best, pos = max(counts, key=lambda c: (c[0], -c[1]))
    if best:
        return pos
    first = ", ".join(f'"{cell_text(c)[:30]}"' for c in candidates[0][1] if not is_blank(c))
    raise InputFileError(f"{name}: no header row found in the first {HEADER_SEARCH_ROWS} rows; expected "
                         "column names such as enterprise_id or 统一社会信用代码, name or 企业名称, "
                         f"town or 所属乡镇（街道）; the first row holds: {first[:300]}")


def header_labels(cells: list[Any], width: int) -> list[str]:
    """Header text as found; a blank header becomes "(column G)" and a repeated one "备注 (2)", so every
    cell of a row keeps its own key in the rejected-rows file."""
    labels: list[str] = []
    for i in range(width):
        text = cell_text(cells[i]).strip() if i < len(cells) else ""
        label = text or f"(column {column_letter(i + 1)})"
        n = 1
        while label in labels:
            n += 1
            label = f"{text or label} ({n})"
        labels.append(label)
    return labels


def row_text(cells: list) -> str:
    """A row's non-blank cells as one short line (how a skipped title row is shown)."""
    return " ".join(cell_text(c).strip() for c in cells if not is_blank(c))[:80]


def row_width(cells: list) -> int:
    """Cells up to the last non-blank one (looked for from the end: every row of pass 1 goes through here)."""
    for i in range(len(cells) - 1, -1, -1):
        if not is_blank(cells[i]):
            return i + 1
    return 0


def column_letter(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def open_input(path: Path, name: str):
    """The file opened for reading in binary, or one clear InputFileError (shared by both readers)."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputFileError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise InputFileError(f"{name}: is a folder, not a file") from None
    except OSError as exc:
        raise InputFileError(f"{name}: cannot be read ({exc.strerror or exc})") from None


def read_bytes(path: Path, name: str) -> bytes:
    with open_input(path, name) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise InputFileError(f"{name}: cannot be read ({exc.strerror or exc})") from None


def xlsx_rows(path: Path, name: str, sheet: Optional[str]) -> Iterator[Row]:
    """The rows of one worksheet (the first, or `sheet`), numbered as Excel shows them, one at a time
    (the streaming reader uses this too)."""
    import openpyxl  # imported here: reading a CSV should not pay for it

    check_workbook(path, name)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, KeyError...) for a damaged file
        raise InputFileError(f"{name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        if sheet is None:
            if not workbook.worksheets:
                raise InputFileError(f"{name}: the workbook has no worksheet")
            worksheet = workbook.worksheets[0]
        elif sheet not in workbook.sheetnames:
            found = ", ".join(f'"{s}"' for s in workbook.sheetnames)
            raise InputFileError(f'{name}: no sheet named "{sheet}"; sheets in the workbook: {found}')
        else:
            worksheet = workbook[sheet]
        # A stale <dimension> element (common in exported files) would cut rows off.
        worksheet.reset_dimensions()
        yield from bounded_rows(((n, list(cells)) for n, cells in
                                 enumerate(worksheet.iter_rows(values_only=True), start=1)), name)
    except InputFileError:
        raise
    except Exception as exc:  # same reason as above: damage found only while reading the sheet
        raise InputFileError(f"{name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    finally:
        workbook.close()


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f'an object has the key "{key}" twice')
        result[key] = value
    return result


def read_json(path: Path, name: str) -> list[Row]:
    try:
        size = path.stat().st_size
    except OSError:
        size = 0          # read_bytes says why it cannot be read
    if size > limit("JSON_REGISTER_BYTES"):
        raise exceeded("JSON_REGISTER_BYTES", name, f"{size:,} bytes")
    data = read_bytes(path, name)
    try:
        # Decimal, not float: 1850.1 万元 must stay exactly that.
        items = json.loads(data.decode("utf-8-sig"), parse_float=Decimal, parse_int=Decimal,
                           parse_constant=str, object_pairs_hook=_unique_keys)
    except UnicodeDecodeError:
        raise InputFileError(f"{name}: JSON must be UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise InputFileError(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(items, list):
        raise InputFileError(f"{name}: expected a JSON list of objects (one per enterprise), "
                             f"got {type(items).__name__}")
    if not items:
        raise InputFileError(f"{name}: the file is empty (an empty JSON list)")
    keys: dict[str, None] = {}
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InputFileError(f"{name}: item {n} of the list is not an object (a JSON list of objects "
                                 "is expected, one per enterprise)")
        keys.update(dict.fromkeys(item))
    header = list(keys)
    return [(0, list(header))] + [(n, [item.get(k) for k in header]) for n, item in enumerate(items, start=1)]
