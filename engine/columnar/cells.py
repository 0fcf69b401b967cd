"""Register cells parsed in bulk for the columnar reader: each distinct cell text is parsed once by
the register's own functions (parse_cell, the town resolver, the USCC check) and shared by every row
with that text; plain decimal money and well-formed USCCs are checked with numpy. A cell the fast path
cannot decide is UNSURE, and its row goes whole to validate_row."""
from __future__ import annotations

import itertools
import unicodedata
from typing import Any

import numpy as np

from engine.columnar.frame import NUM_TYPES, Col
from engine.register.normalise import CellError, is_blank, parse_cell
from engine.register.towns import TownResolver
from engine.register.units import places
from engine.uscc import CHARSET, WEIGHTS

UNSURE = object()               # a cell (or row) the fast path leaves to validate_row


def normalise_code(text: str) -> str:
    # As validate_row: USCCs and industry codes are letters and digits only; spaces and case are noise.
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def industry_ok(v: str) -> bool:
    """engine/facts.Enterprise._industry_code_shape, as a predicate."""
    return 2 <= len(v) <= 5 and v[0] in "ABCDEFGHIJKLMNOPQRST" and v[1:].isdigit() and len(v) >= 3


_USCC_INDEX = np.full(256, 255, dtype=np.uint8)    # byte or ASCII code -> the character's value; 255 not allowed
for _i, _ch in enumerate(CHARSET):
    _USCC_INDEX[ord(_ch)] = _i
_WEIGHTS_17 = [np.int32(w) for w in WEIGHTS]


def uscc_valid(cells) -> np.ndarray:
    """Which cells are, exactly as written, a valid USCC (engine/uscc.uscc_problem is None); any other
    cell (lower case, spaces, full-width, a wrong check character...) is left to validate_row."""
    n = len(cells)
    if not n:
        return np.zeros(0, dtype=bool)
    arr = np.array(cells, dtype=str)
    if arr.dtype.itemsize // 4 != 18:
        return np.array([len(c) == 18 and bool(uscc_valid([c])[0]) for c in cells], dtype=bool)
    return uscc_codes_valid(arr.view(np.uint32).reshape(n, 18))


def uscc_codes_valid(codes: np.ndarray) -> np.ndarray:
    """Rows of 18 character codes (or bytes) that are a valid USCC as written."""
    if codes.dtype != np.uint8:         # character codes: 255 and beyond are not allowed alike
        codes = np.minimum(codes, 255).astype(np.uint8)
    # One character position a row (the codes transposed): the weighted sum and the allowed check run
    # over contiguous columns. Reduced along each 18-character row instead (a max, an integer matrix
    # product), a 28k-row batch took 2.3 ms, now 1.1 (0.04 CPU-s per 1M rows).
    idx = np.take(_USCC_INDEX, np.ascontiguousarray(codes.T))
    total = np.zeros(codes.shape[0], dtype=np.int32)
    bad = idx[17] == 255
    for j, weight in enumerate(_WEIGHTS_17):
        total += idx[j] * weight
        bad |= idx[j] == 255
    return ~bad & (idx[17] == (31 - total % 31) % 31)


def money_codes(cells, places: int, signed: bool) -> tuple[np.ndarray, np.ndarray]:
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


class ColumnParser:
    """One register column: cell text -> what validate_row would put in the Enterprise (money in fen),
    kept as category codes (or exact integers for money and counts). Distinct texts are parsed once."""

    def __init__(self, column, unit: str, towns: TownResolver):
        self.column, self.unit, self.towns = column, unit, towns
        self.kind = column.type
        self.numeric = self.kind in NUM_TYPES
        self.cache: dict[str, int] = {}
        self.typed: dict = {}           # (type, value) of a typed Parquet cell -> the same (arrow_typed.py)
        self.index: dict = {}
        self.vocab: list = []

    def exact(self, raw: str) -> Any:
        """The value, None when blank, or UNSURE: engine/register's own parsing, cell by cell."""
        if is_blank(raw):
            return UNSURE if self.column.required else None
        try:
            value = parse_cell(self.column, raw, unit=self.unit)
        except CellError:
            return UNSURE
        cid = self.column.id
        if cid in ("enterprise_id", "industry_code"):
            value = normalise_code(value)
            if cid == "industry_code" and not industry_ok(value):
                return UNSURE
        elif cid == "town":
            try:
                return self.towns.resolve(value).name
            except CellError:
                return UNSURE
        elif self.kind == "money":
            return int(value.scaleb(2))
        return value

    def code(self, value: Any) -> int:
        if value is None:
            return -1
        if value is UNSURE:
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
            # 亿元 has 10 places to the fen: 12 whole digits and those would overflow int64; exact path.
            fen, simple = (money_codes(cells, places(self.unit), self.column.signed) if places(self.unit) <= 6
                           else (np.zeros(len(cells), np.int64), np.zeros(len(cells), bool)))
            if simple.all():
                return fen
            out = fen.tolist()
            for i in np.flatnonzero(~simple).tolist():
                out[i] = self._numeric(cells[i])
            return int_array(out)
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
        return MISSING_NUM if v is None else UNSURE_NUM if v is UNSURE else v

    def unsure(self, parsed: np.ndarray) -> np.ndarray:
        if self.numeric:
            return np.array([v == UNSURE_NUM for v in parsed], bool) if parsed.dtype == object \
                else parsed == UNSURE_NUM
        return parsed == -2

    def col_of(self, values: np.ndarray) -> Col:
        """A Col of parsed values (of this parser: its vocabulary so far)."""
        if self.numeric:
            if values.dtype == object:
                present = np.array([v != MISSING_NUM for v in values], bool)
            else:
                present = values != MISSING_NUM
            return Col("num", np.where(present, values, 0), present, self.kind)
        return Col("cat", values, values >= 0, self.kind, list(self.vocab))


def int_array(values: list) -> np.ndarray:
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return np.array(values, dtype=object)


# ------------------------------------------------------------------------------- enterprise id hashes
# 64-bit FNV-1a over an id's UTF-8 bytes: vectorised for a batch of well-formed USCCs (18 ASCII bytes)
# and the same function for any other id, so the duplicate check across batches keeps 8 bytes a row.
# Hashes that repeat are then confirmed on the exact ids (a hash may collide; an id never does).
_FNV_OFFSET, _FNV_PRIME, _MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1


def id_hashes(codes: np.ndarray) -> np.ndarray:
    """Rows of byte (or ASCII code) values, all of one length, to int64 hashes (id_hash of each)."""
    h = np.full(len(codes), _FNV_OFFSET, dtype=np.uint64)
    prime = np.uint64(_FNV_PRIME)
    with np.errstate(over="ignore"):
        for j in range(codes.shape[1] if codes.ndim == 2 else 0):
            h = (h ^ codes[:, j].astype(np.uint64)) * prime
    return h.view(np.int64)


def id_hash(enterprise_id: str) -> int:
    h = _FNV_OFFSET
    for b in enterprise_id.encode("utf-8"):
        h = ((h ^ b) * _FNV_PRIME) & _MASK
    return h - (1 << 64) if h >= 1 << 63 else h
