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

Derived facts (rules/facts.yaml `derived`) are added by engine/columnar/derived.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Optional

import numpy as np

from engine.facts import Enterprise

LIMIT = 1 << 42          # |fen| ≤ 4.4e12 (440亿元); (a − b)·10⁶ stays below 2⁶³ for the growth ratio
NUM_TYPES = ("money", "int")
ENTERPRISE_FIELDS = tuple(Enterprise.model_fields)
TEXT_COLUMNS = ("enterprise_id", "name", "town")      # a Frame's own object columns
LAZY_TEXT_COLUMNS = ("enterprise_id", "name")       # of those, the ones a reader may give as pyarrow arrays


@dataclass
class Col:
    kind: str                      # cat | num | code
    values: np.ndarray             # cat: int32 codes (-1 missing); num: exact int64; code: int64 codes
    present: np.ndarray            # bool
    ftype: str                     # the fact's type (rules/facts.yaml)
    vocab: Optional[list] = None   # cat: distinct values

    def __getstate__(self) -> dict:
        """Pickled for a worker process: a vocabulary of dates as day numbers (one buffer, not an
        object per date)."""
        state = dict(self.__dict__)
        days = day_numbers(self.vocab) if self.vocab else None
        if days is not None:
            state["vocab"] = days
        return state

    def __setstate__(self, state: dict) -> None:
        if isinstance(state.get("vocab"), np.ndarray):
            state["vocab"] = list(map(date.fromordinal, state["vocab"].tolist()))
        self.__dict__.update(state)

    def take(self, idx) -> "Col":
        return replace(self, values=self.values[idx], present=self.present[idx])

    def slice(self, a: int, b: int) -> "Col":
        return replace(self, values=self.values[a:b], present=self.present[a:b])


def cat_from_values(values: Iterable[Any], ftype: str) -> Col:
    """Categorical column from Python values (None = missing); codes in order of first appearance."""
    vocab, codes = factorize(values if isinstance(values, list) else list(values))
    codes = codes.astype(np.int32)
    return Col("cat", codes, codes >= 0, ftype, vocab)


def factorize(values: list) -> tuple[list, np.ndarray]:
    """(the distinct values other than None in order of first appearance, each value's index in them;
    -1 for None). Values of one type are looked up by themselves, at C speed; otherwise the keys carry
    the type: 1, True and Decimal(1) are equal in Python but not the same value."""
    types = set(map(type, values))
    types.discard(type(None))
    if len(types) <= 1:
        index = dict.fromkeys(values)
        index.pop(None, None)
        vocab = list(index)
        index = {v: i for i, v in enumerate(vocab)}
        index[None] = -1
        return vocab, np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    typed: dict[Any, int] = {}
    vocab = []

    def code(v):
        if v is None:
            return -1
        key = (type(v), v)
        c = typed.get(key)
        if c is None:
            c = typed[key] = len(vocab)
            vocab.append(v)
        return c

    return vocab, np.fromiter((code(v) for v in values), dtype=np.int64, count=len(values))


def to_python(value: int, ftype: str) -> Any:
    """A `num` column's integer as the Enterprise holds it."""
    return Decimal(int(value)).scaleb(-2) if ftype == "money" else int(value)


def day_numbers(vocab: list) -> Optional[np.ndarray]:
    """The day number of each value, or None unless every value is a plain date (not a datetime)."""
    if set(map(type, vocab)) - {date}:
        return None
    return np.fromiter(map(date.toordinal, vocab), dtype=np.int64, count=len(vocab))


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
    enterprise_id: np.ndarray      # object (str); or given as a pyarrow string array: see __post_init__
    name: np.ndarray               # object (str); the same
    town: np.ndarray               # object (str)
    in_park: np.ndarray            # bool
    columns: dict[str, Col]
    derived_as_of: Optional[date] = None
    _derived_cache: dict = field(default_factory=dict, repr=False)
    arrow_texts: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Ids and names given as pyarrow string arrays (column_reader: a batch whose ids and names are the
        file's cells as they are) are kept as they are in `arrow_texts` and made Python strings only when
        the attribute is first read (__getattr__): the Parquet and CSV writers take the arrays themselves
        (output._row_texts). Made and turned back, they cost 0.5-0.8 CPU-s per 1M rows."""
        for key in LAZY_TEXT_COLUMNS:
            value = self.__dict__[key]
            if not isinstance(value, np.ndarray):
                self.arrow_texts = {**self.arrow_texts, key: value}
                del self.__dict__[key]

    def __getattr__(self, key: str):
        held = self.__dict__.get("arrow_texts")
        if key in LAZY_TEXT_COLUMNS and held and key in held:
            value = self.__dict__[key] = objects(held[key].to_pylist())
            return value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")

    def __getstate__(self) -> dict:
        """Pickled for a worker process: the text columns as pyarrow arrays when pyarrow is installed
        (their buffers are copied, not every string pickled); no derived facts."""
        state = dict(self.__dict__, _derived_cache={})
        try:
            import pyarrow as pa
            for key in TEXT_COLUMNS:
                held = self.arrow_texts.get(key)
                state[key] = held if held is not None else pa.array(state[key], pa.string())
        except (ImportError, TypeError, ValueError):       # no pyarrow, or a value that is not text
            state = dict(self.__dict__, _derived_cache={}, **{k: getattr(self, k) for k in TEXT_COLUMNS})
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("arrow_texts", {})
        for key in TEXT_COLUMNS:
            if not isinstance(state[key], np.ndarray):
                state[key] = objects(state[key].to_pylist())
        self.__dict__.update(state)

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
        return self.replaced(columns=cols, _derived_cache={})

    def all_categorical(self) -> "Frame":
        return self.replaced(columns={f: num_to_cat(c) for f, c in self.columns.items()}, _derived_cache={})

    def replaced(self, **changes) -> "Frame":
        """dataclasses.replace, with the ids and names still held as pyarrow arrays (__post_init__) handed
        on as such: replace reads every field, which would make their Python strings."""
        held = {k: v for k, v in self.arrow_texts.items() if k not in self.__dict__}
        return replace(self, **{**held, **changes})

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
