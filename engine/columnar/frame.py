"""A register held as columns, for the columnar engine (engine/columnar.py).

Each fact is one `Col` over all rows, in one of three forms:

* `cat`  — categorical: int32 codes into `vocab`, the distinct values exactly as an `Enterprise` holds
  them (str, bool, date, YearMonth, Decimal, tag tuples...); code -1 = missing. Any test on such a
  column is computed once per distinct value with the same Python functions the durable path uses
  (logic.compare, engine/derive.py), then spread over the rows by the codes — exact by construction.
* `num`  — exact integers in the fact's unit (money in fen, counts in units), int64, for the
  high-cardinality figures. Bounded by LIMIT so that every product below stays inside int64; a row with
  a larger figure is evaluated apart with its columns made categorical (exact Python integers).
* `code` — the encoder's comparison code (engine/encoding.py: 2·floor(x/unit) + [x/unit fractional])
  of a derived fraction (annualised revenue, growth), computed with integer floor division. Such a
  column is only ever compared with an encoded threshold, exactly as durable_rules compares it.

Derived facts (rules/facts.yaml `derived`) are computed per distinct combination of their inputs with
engine/derive.py's own functions, except three money derivations that have exact integer forms
(annualise, add_remainder, relative_change) and would otherwise have as many combinations as rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Optional

import numpy as np

from engine.derive import FUNCTIONS
from engine.encoding import UNITS
from engine.errors import PolicyDataError
from engine.facts import Enterprise

DENSE_KEYS = 1 << 22     # derived facts over fewer argument combinations than this are looked up densely
LIMIT = 1 << 42          # |fen| ≤ 4.4e12 (440亿元); (a − b)·10⁶ stays below 2⁶³ for the growth ratio
NUM_TYPES = ("money", "int")
ENTERPRISE_FIELDS = tuple(Enterprise.model_fields)


@dataclass
class Col:
    kind: str                      # cat | num | code
    values: np.ndarray             # cat: int32 codes (-1 missing); num: exact int64; code: int64 codes
    present: np.ndarray            # bool
    ftype: str                     # the fact's type (rules/facts.yaml)
    vocab: Optional[list] = None   # cat: distinct values

    def take(self, idx) -> "Col":
        return replace(self, values=self.values[idx], present=self.present[idx])

    def slice(self, a: int, b: int) -> "Col":
        return replace(self, values=self.values[a:b], present=self.present[a:b])


def cat_from_values(values: Iterable[Any], ftype: str) -> Col:
    """Categorical column from Python values (None = missing)."""
    index: dict[Any, int] = {}
    vocab: list[Any] = []

    def code(v):
        if v is None:
            return -1
        # Keys carry the type: 1, True and Decimal(1) are equal in Python but not the same value.
        key = (type(v), v)
        c = index.get(key)
        if c is None:
            c = index[key] = len(vocab)
            vocab.append(v)
        return c

    codes = np.fromiter((code(v) for v in values), dtype=np.int32)
    return Col("cat", codes, codes >= 0, ftype, vocab)


def to_python(value: int, ftype: str) -> Any:
    """A `num` column's integer as the Enterprise holds it."""
    return Decimal(int(value)).scaleb(-2) if ftype == "money" else int(value)


def num_from_values(values: list, ftype: str) -> Col:
    """Exact integer column (money in fen): `cat` instead when a value is not whole in the unit."""
    ints: list = []
    for v in values:
        if v is None:
            ints.append(None)
            continue
        if ftype == "money":
            scaled = Decimal(v).scaleb(2)
            whole = int(scaled)
            if whole != scaled:
                return cat_from_values(values, ftype)
            ints.append(whole)
        elif isinstance(v, int) and not isinstance(v, bool):
            ints.append(v)
        else:
            return cat_from_values(values, ftype)
    present = np.fromiter((v is not None for v in ints), dtype=bool, count=len(ints))
    filled = [0 if v is None else v for v in ints]
    try:
        arr = np.array(filled, dtype=np.int64) if filled else np.zeros(0, np.int64)
    except OverflowError:
        arr = np.array(filled, dtype=object)
    return Col("num", arr, present, ftype)


def num_to_cat(col: Col) -> Col:
    if col.kind != "num":
        return col
    if col.values.dtype == object:
        values = [to_python(v, col.ftype) if p else None for v, p in zip(col.values.tolist(), col.present.tolist())]
        return cat_from_values(values, col.ftype)
    # Distinct integers by numpy (sorted: the order of a vocabulary carries no meaning), each made the
    # Enterprise's value once.
    uniq, inverse = np.unique(col.values[col.present], return_inverse=True)
    codes = np.full(len(col.values), -1, dtype=np.int32)
    codes[col.present] = inverse.reshape(-1)
    return Col("cat", codes, codes >= 0, col.ftype, [to_python(v, col.ftype) for v in uniq.tolist()])


@dataclass
class Frame:
    """Rows of a register: identity columns for output, one Col per register fact, and derived facts
    (filled by `with_derived`). `columns` holds every fact the engine may need."""

    n: int
    enterprise_id: np.ndarray      # object (str)
    name: np.ndarray               # object (str)
    town: np.ndarray               # object (str)
    in_park: np.ndarray            # bool
    columns: dict[str, Col]
    derived_as_of: Optional[date] = None
    _derived_cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_enterprises(cls, enterprises: list[Enterprise], fact_types: dict[str, str]) -> "Frame":
        """`fact_types`: register column id -> type (rules/facts.yaml columns)."""
        ents = list(enterprises)
        cols: dict[str, Col] = {}
        for fact, ftype in fact_types.items():
            if fact not in ENTERPRISE_FIELDS:
                continue
            values = [getattr(e, fact) for e in ents]
            cols[fact] = num_from_values(values, ftype) if ftype in NUM_TYPES else cat_from_values(values, ftype)
        return cls(len(ents), objects([e.enterprise_id for e in ents]), objects([e.name for e in ents]),
                   objects([e.town for e in ents]), np.array([e.in_park for e in ents], dtype=bool), cols)

    def take(self, idx) -> "Frame":
        idx = np.asarray(idx)
        return Frame(int(len(idx)), self.enterprise_id[idx], self.name[idx], self.town[idx], self.in_park[idx],
                     {f: c.take(idx) for f, c in self.columns.items()})

    def wide_rows(self) -> np.ndarray:
        """Rows with a figure beyond LIMIT (evaluated apart, on exact Python integers)."""
        wide = np.zeros(self.n, dtype=bool)
        for col in self.columns.values():
            if col.kind == "num":
                if col.values.dtype == object:
                    big = np.array([abs(v) > LIMIT for v in col.values.tolist()], dtype=bool)
                else:
                    big = (col.values > LIMIT) | (col.values < -LIMIT)
                wide |= big & col.present
        return wide

    def narrowed(self) -> "Frame":
        """Every num column as int64 (callers have removed the wide rows)."""
        cols = {f: (replace(c, values=c.values.astype(np.int64)) if c.kind == "num" and c.values.dtype == object
                    else c) for f, c in self.columns.items()}
        return replace(self, columns=cols, _derived_cache={})

    def all_categorical(self) -> "Frame":
        return replace(self, columns={f: num_to_cat(c) for f, c in self.columns.items()}, _derived_cache={})

    def row_values(self, i: int) -> dict[str, Any]:
        """Row i's register facts as the Enterprise holds them (None when missing)."""
        out: dict[str, Any] = {"enterprise_id": self.enterprise_id[i], "name": self.name[i], "town": self.town[i],
                               "in_park": bool(self.in_park[i])}
        for fact, col in self.columns.items():
            if fact in out or col.kind == "code":
                continue
            if not col.present[i]:
                out[fact] = () if col.ftype == "tags" else None
            elif col.kind == "cat":
                out[fact] = col.vocab[col.values[i]]
            else:
                out[fact] = to_python(col.values[i], col.ftype)
        return out


def objects(items: list) -> np.ndarray:
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


# ------------------------------------------------------------------------------- derived facts

FAST_DERIVATIONS = ("annualise", "add_remainder", "relative_change")


def check_derivations(book, needed: set[str], as_values: set[str]) -> list[str]:
    """Problems that keep the columnar engine from computing the needed derived facts."""
    problems = []
    for fid in needed:
        spec = book.facts.get(fid)
        if spec is None or not spec.fn:
            continue
        if spec.fn not in FUNCTIONS:
            problems.append(f"rules/facts.yaml {fid}: derivation {spec.fn!r} is not one the columnar engine knows")
        for a in spec.args:
            if a not in book.facts:
                problems.append(f"rules/facts.yaml {fid}: argument {a!r} is not a fact")
    return problems


def with_derived(frame: Frame, book, as_of: date, needed: set[str], as_values: set[str]) -> Frame:
    """The frame plus every needed derived fact, in declaration order (later ones may use earlier).
    `as_values`: derived facts whose values (not just comparisons) are needed — kept categorical."""
    key = (as_of, frozenset(needed), frozenset(as_values), id(book))
    cached = frame._derived_cache.get(key)
    if cached is not None:
        return cached
    cols = dict(frame.columns)
    for spec in book.facts.values():
        if not spec.fn or spec.id not in needed:
            continue
        args = [cols[a] for a in spec.args]
        col = None
        if spec.fn in FAST_DERIVATIONS and spec.id not in as_values:
            col = _fast(spec, args, book)
        if col is None:
            col = _by_combination(spec, args, as_of, frame.n)
        cols[spec.id] = col
    out = replace(frame, columns=cols, derived_as_of=as_of, _derived_cache={})
    frame._derived_cache[key] = out
    return out


def _by_combination(spec, args: list[Col], as_of: date, n: int) -> Col:
    """fn applied once per distinct combination of argument values (engine/derive.py's own function)."""
    fn = FUNCTIONS[spec.fn]
    cats = [num_to_cat(a) if a.kind == "num" else a for a in args]
    if any(c.kind != "cat" for c in cats):
        raise PolicyDataError([f"rules/facts.yaml {spec.id}: the columnar engine holds an argument of "
                               f"{spec.fn} only as a comparison code"])

    def value(c: Col, code: int):
        return (() if c.ftype == "tags" else None) if code < 0 else c.vocab[code]

    sizes = [len(c.vocab) + 1 for c in cats]          # code -1 (missing) becomes digit 0
    space = int(np.prod(sizes, dtype=object)) if sizes else 1
    if space < 1 << 62:
        key = np.zeros(n, dtype=np.int64)
        for c, size in zip(cats, sizes):
            key = key * size + (c.values.astype(np.int64) + 1)
        if space <= DENSE_KEYS:     # counting, no sort: the key space is small
            seen = np.zeros(space, dtype=bool)
            seen[key] = True
            uniq = np.flatnonzero(seen)
        else:
            uniq, key = np.unique(key, return_inverse=True)
            key = key.reshape(-1)
        combos = []
        for u in uniq.tolist():
            digits = []
            for size in reversed(sizes):
                u, d = divmod(u, size)
                digits.append(d - 1)
            combos.append(digits[::-1])
    else:                           # too many combinations for one integer key: unique rows instead
        space = DENSE_KEYS + 1
        rows, key = np.unique(np.stack([c.values for c in cats], axis=1), axis=0, return_inverse=True)
        key = key.reshape(-1)
        combos = rows.tolist()
    results = [fn(*(value(c, d) for c, d in zip(cats, digits)), as_of) for digits in combos]
    res = cat_from_values(results, spec.type)
    if space <= DENSE_KEYS:
        table = np.full(space, -1, dtype=np.int32)
        table[uniq] = res.values
    else:
        table = res.values
    codes = table[key] if n else np.zeros(0, np.int32)
    return Col("cat", codes.astype(np.int32), codes >= 0, spec.type, res.vocab)


def _as_int(col: Col) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """(exact integers, present) of a num column, or of a cat column whose values are all ints."""
    if col.kind == "num":
        return col.values, col.present
    if col.kind == "cat" and all(isinstance(v, int) and not isinstance(v, bool) and abs(v) <= LIMIT
                                 for v in col.vocab):
        table = np.array(list(col.vocab) + [0], dtype=np.int64)
        return table[col.values], col.present
    return None


def half_step(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """The encoder's code of num/den (den ≠ 0): 2·floor(num/den) + 1 if not whole."""
    q = num // den
    r = num - q * den
    return 2 * q + (r != 0)


def _fast(spec, args: list[Col], book) -> Optional[Col]:
    """Exact integer forms of three money derivations; None -> computed by combination instead."""
    if any(a.kind == "code" for a in args):
        return None
    ints = [_as_int(a) for a in args]
    if any(x is None for x in ints):
        return None
    if any(a.kind == "num" and a.values.dtype == object for a in args):
        return None
    arg_types = [a.ftype for a in args]
    out_unit = UNITS.get(spec.type)
    if spec.fn == "add_remainder":
        if len(set(arg_types)) != 1 or arg_types[0] not in NUM_TYPES or spec.type != arg_types[0]:
            return None
        (a, pa), (b, pb), (c, pc) = ints
        present = pa & pb & pc
        return Col("num", np.where(present, a + b - c, 0), present, spec.type)
    if spec.fn == "annualise":
        (amount, pa), (months, pm) = ints
        if arg_types[0] not in NUM_TYPES or out_unit != UNITS.get(arg_types[0]):
            return None
        present = pa & pm & (months != 0)
        den = np.where(present, months, 1)
        return Col("code", np.where(present, half_step(amount * 12, den), 0), present, spec.type)
    if spec.fn == "relative_change":
        if len(set(arg_types)) != 1 or arg_types[0] not in NUM_TYPES or out_unit is None:
            return None
        scale = 1 / out_unit
        if scale.denominator != 1 or scale.numerator > 1_000_000:
            return None
        (now, pn), (before, pb) = ints
        if any(np.any(np.abs(x[p]) > LIMIT) for x, p in ints):   # a sum of columns may exceed LIMIT
            return None
        present = pn & pb & (before != 0)
        den = np.where(present, before, 1)
        num = np.where(present, now - before, 0) * int(scale.numerator)
        return Col("code", np.where(present, half_step(num, den), 0), present, spec.type)
    return None
