"""Typed Parquet columns (dates, timestamps, decimals, integers, floats, booleans) validated by the
columnar reader with exactly engine/register's decisions for the same file. The row reader hands each
typed cell to parse_cell as the Python value pyarrow gives for it (date, datetime, Decimal, int, float,
bool; None for a null): so does this module, except where a column operation gives the same answer.

* Money in a decimal128 or integer column becomes integer fen straight from the column's integers: the
  unscaled value times 10^(places - scale) (no text) whenever that is surely what parse_money gives —
  within 12 whole digits, not negative unless the column may be, no more places than fen. A float
  column's cells become fen where the float's 15 significant digits (what parse_money reads) are surely
  a whole number of fen (_float_fen). Every other cell (a zero of more places than fen, which
  parse_money refuses, a value too large, a float that is not plainly a written amount) is parsed
  exactly, one cell at a time.
* Any other typed column is dictionary-encoded by pyarrow and each distinct value parsed once by
  ColumnParser (engine/register's own functions), remembered across batches.
* A null is an empty cell (engine/register/normalise.is_blank); a typed cell is never blank otherwise,
  never holds a control character and is never over-long (those checks look at text only).

A file with a column of another type (lists, structs, binary, times, durations, nanosecond timestamps,
whose values Python's datetime cannot hold, a dictionary of non-text values), with dates beyond Python's
range or without statistics to tell, or with a typed enterprise id or name, is read by engine/register
as before (`readable`, reader.py).
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from engine.columnar.cells import MISSING_NUM, UNSURE_NUM, ColumnParser, int_array
from engine.register.normalise import YEARS
from engine.register.units import places

WHOLE_DIGITS = 12          # as arrow_cells._money: 12 whole and 6 decimal digits stay inside int64 fen
_INT64_MAX = (1 << 63) - 1


def is_text(t) -> bool:
    """A column the text path reads (arrow_source._text): text, a dictionary of text, or all null."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)


def _temporal(t) -> bool:
    return pa.types.is_date(t) or (pa.types.is_timestamp(t) and t.unit != "ns")


def supported(t) -> bool:
    """A typed column whose every value pyarrow turns into a Python value parse_cell knows."""
    return (pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t)
            or pa.types.is_decimal(t) or _temporal(t))


def readable(file) -> bool:
    """Whether this pyarrow.parquet.ParquetFile's columns are all text or supported types, and every
    date or timestamp column's row groups have statistics whose least and greatest values Python can
    hold (else pyarrow could not give one of its values to the row reader either: that reader stops
    with its message for the file)."""
    schema = file.schema_arrow
    if not all(is_text(f.type) or supported(f.type) for f in schema):
        return False
    temporal = [i for i, f in enumerate(schema) if _temporal(f.type)]
    if not temporal:
        return True
    meta = file.metadata
    leaves = {meta.schema.column(j).path: j for j in range(meta.num_columns)}
    for i in temporal:
        j = leaves.get(schema.names[i])
        if j is None:
            return False
        for g in range(meta.num_row_groups):
            column = meta.row_group(g).column(j)
            stats = column.statistics
            if stats is None:
                return False
            if not stats.has_min_max:
                if stats.null_count != column.num_values:
                    return False
                continue
            try:
                stats.min, stats.max                 # turned into Python dates here: raises beyond 1-9999
            except (ValueError, OverflowError):
                return False
    return True


def non_blank(arr) -> np.ndarray:
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def parse(parser: ColumnParser, arr) -> np.ndarray:
    """What ColumnParser.parse gives for these typed cells' values: int32 codes, or int64 values (fen for
    money) with MISSING_NUM / UNSURE_NUM."""
    t = arr.type
    if parser.kind == "money" and (pa.types.is_integer(t) or pa.types.is_decimal128(t) or pa.types.is_floating(t)) \
            and places(parser.unit) <= 6:
        return _money(parser, arr)
    encoded = arr.dictionary_encode()
    table = _by_number(parser, encoded.dictionary)
    if table is None:
        table = int_array([_value(parser, v) for v in encoded.dictionary.to_pylist()]) if parser.numeric else \
            np.array([_value(parser, v) for v in encoded.dictionary.to_pylist()], dtype=np.int32)
    table = np.append(table, np.array([_value(parser, None)], dtype=table.dtype))
    indices = encoded.indices.fill_null(len(table) - 1).to_numpy(zero_copy_only=False)
    return table[indices] if table.dtype != object else int_array(table[indices].tolist())


def _numbers(values):
    """The distinct values of a date, timestamp, boolean or signed integer column as int64 (the days,
    time units, 0/1 or integers pyarrow stores), or None."""
    t = values.type
    if pa.types.is_date32(t) or pa.types.is_date64(t) or pa.types.is_timestamp(t) or pa.types.is_boolean(t) \
            or pa.types.is_signed_integer(t):
        stored = pa.int32() if pa.types.is_date32(t) else pa.int64()
        return values.cast(stored).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return None


def _by_number(parser: ColumnParser, values) -> "np.ndarray | None":
    """The parse of each of these distinct values, looked up by the number pyarrow stores for it among
    those of earlier batches (a date column of a 1M-row register holds some 9,000 days: each is made a
    Python date and parsed once in the whole file, not once a batch); None for a column of other
    values."""
    numbers = _numbers(values)
    if numbers is None:
        return None
    known, parsed = parser.typed.get(values.type, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    at = np.minimum(np.searchsorted(known, numbers), max(len(known) - 1, 0))
    new = np.flatnonzero(known[at] != numbers) if len(known) else np.arange(len(numbers))
    if len(new):
        fresh = _coded_dates(parser, values.take(pa.array(new)).to_pylist())
        fresh = int_array(fresh) if parser.numeric else np.array(fresh, dtype=np.int64)
        if fresh.dtype == object:
            return None
        known, parsed = np.concatenate([known, numbers[new]]), np.concatenate([parsed, fresh])
        order = np.argsort(known, kind="stable")
        known, parsed = known[order], parsed[order]
        parser.typed[values.type] = (known, parsed)
        at = np.searchsorted(known, numbers)
    table = parsed[at]
    return table if parser.numeric else table.astype(np.int32)


def _coded_dates(parser: ColumnParser, values: list) -> list:
    """_value of each of these distinct values, a date column's dates of a year in range (YEARS) coded at
    once: parse_cell gives such a date itself, so it is not parsed as a cell. The ~11,000 days of a
    1M-row register's date of establishment, met in each worker's first batch: 23 -> 14 ms."""
    if parser.kind != "date":
        return [_value(parser, v, remember=False) for v in values]
    return [parser.code(v) if type(v) is date and v.year in YEARS else _value(parser, v, remember=False)
            for v in values]


def _value(parser: ColumnParser, value, remember: bool = True):
    """parser's code (or number) for one typed value, remembered by its type and value (1, True and
    Decimal(1) are equal in Python, not the same cell)."""
    key = (type(value), value)
    found = parser.typed.get(key)
    if found is None:
        found = parser._numeric(value) if parser.numeric else parser.code(parser.exact(value))
        if remember:
            parser.typed[key] = found
    return found


def _money(parser: ColumnParser, arr) -> np.ndarray:
    """Integer or decimal128 money to fen: the column's integers scaled where parse_money surely gives
    that, every other cell parsed exactly (ColumnParser._numeric on its Python value)."""
    p, n = places(parser.unit), len(arr)
    valid = non_blank(arr)
    fen = np.full(n, UNSURE_NUM if parser.column.required else MISSING_NUM, dtype=np.int64)
    unscaled, scale, sure = _unscaled(arr, valid, p)
    limit = 10 ** (WHOLE_DIGITS + scale) if WHOLE_DIGITS + scale >= 0 else 0
    if limit <= _INT64_MAX:
        sure &= (unscaled < limit) & (unscaled > -limit)
    if not parser.column.signed:
        sure &= unscaled >= 0
    if scale <= p and p - scale <= 18:
        fen[sure] = unscaled[sure] * 10 ** (p - scale)
    elif scale - p <= 18:
        # More places than fen: whole fen only if the extra digits are zeros — and a zero written with
        # them (Decimal('0E-10')) is refused by parse_money (decimal_places), so it is parsed exactly.
        step = 10 ** (scale - p)
        sure &= (unscaled % step == 0) & (unscaled != 0)
        fen[sure] = unscaled[sure] // step
    else:
        sure[:] = False
    rest = np.flatnonzero(valid & ~sure)
    if not len(rest):
        return fen
    values = [parser._numeric(v) for v in arr.take(pa.array(rest)).to_pylist()]
    out = fen.astype(object)
    out[rest] = values
    return int_array(out.tolist())


def _unscaled(arr, valid: np.ndarray, p: int) -> tuple[np.ndarray, int, np.ndarray]:
    """(the cells' unscaled int64 integers, the scale, which cells are held whole in int64)."""
    t = arr.type
    if pa.types.is_floating(t):
        return _float_fen(arr, valid, p)
    if pa.types.is_integer(t):
        values = arr.fill_null(0).to_numpy(zero_copy_only=False)
        if values.dtype == np.uint64:
            fits = values <= np.uint64(_INT64_MAX)
            return np.where(fits, values, 0).astype(np.int64), 0, valid & fits
        return values.astype(np.int64), 0, valid.copy()
    # decimal128: 16 bytes a value, little-endian two's complement; in int64 when the high word is the
    # low word's sign. A null's bytes are undefined: masked by `valid`.
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64).reshape(-1, 2)[arr.offset:arr.offset + len(arr)]
    low, high = words[:, 0], words[:, 1]
    fits = high == (low >> 63)
    return np.where(valid & fits, low, 0), t.scale, valid & fits


def _float_fen(arr, valid: np.ndarray, p: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Float money as parse_money reads it — the float's 15 significant digits (normalise._float_text) —
    in units of 10^-p, for the cells where that is surely k = rint(x · 10^p): k has at most 15 digits
    and the double nearest k · 10^-p (float(k) / 10^p, one correctly rounded division) is x itself.
    A decimal of at most 15 significant digits comes back from its nearest double unchanged when
    written to 15 digits (DBL_DIG), so format(x, ".15g") is k · 10^-p: no more places than the fen.
    Or, where x is a few units of its last place away from that double (_rounds_to), where its 15
    digits surely are k · 10^-p all the same. Any other float (NaN, an infinity, a float32's widened
    value, more places than the fen) is parsed exactly, alone."""
    x = arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
    scale = 10.0 ** p                    # exact for p <= 22
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        k = np.rint(x * scale)
        sure = valid & np.isfinite(k) & (np.abs(k) < 1e15)
        k = np.where(sure, k, 0.0)
        near = k / scale
        exact = near == x
        sure &= exact | _rounds_to(x, near, p)
    return k.astype(np.int64), p, sure


def _rounds_to(x: np.ndarray, near: np.ndarray, p: int) -> np.ndarray:
    """Where a float x that is not the double nearest D = k · 10^-p (near: that double) still reads as D
    to 15 significant digits — a float of arithmetic or of a cast, 85.96000000000001 — surely: for
    1 <= |x| < 10^(14 - p), with e the exponent of x's first digit (10^e <= |x| < 10^(e+1), compared
    with exact powers of ten), the 15-digit step q = 10^(e - 14) divides 10^-p, and |x - D| is below
    q / 2 by more than the error of its estimate |x - near| + ulp(x) (x - near is exact: Sterbenz)."""
    size = np.abs(x)
    inside = (size >= 1.0) & (size < 10.0 ** (14 - p))
    e = np.floor(np.log10(np.where(inside, size, 1.0)))
    e -= size < 10.0 ** e                        # log10 rounded up across a power of ten
    e += size >= 10.0 ** (e + 1)
    half_step = 0.5 * 10.0 ** (e - 14) * (1 - 1e-12)
    return inside & (np.abs(x - near) + 2 * np.spacing(size) < half_step)
