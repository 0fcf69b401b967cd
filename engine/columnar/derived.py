"""Derived facts (rules/facts.yaml `derived`) over whole columns, for the columnar engine.

engine/derive.py's functions define every derived fact. Here each is computed either

* by **combination**: the function itself, applied once per distinct combination of its arguments'
  values and spread over the rows by code — exact by construction, and cheap while the arguments have
  few distinct values (an industry code, a year-month); or
* by an exact **vectorised form** where the combinations would be about as many as the rows: the money
  derivations (annualise, add_remainder, relative_change) on integer fen, `is_negative` on an integer
  column, `latest_date` on two date columns and `months_of_operation` on a year-month and a date. Each
  form is equal to derive.py's function on every value (tests/test_columnar_derived.py states it as a
  property); where an argument is not in the form the vectorised code expects (a categorical figure of
  the wide rows, a date column holding something else), the combination path computes it instead.
"""
from __future__ import annotations

from datetime import date
from typing import Optional

import numpy as np

from engine.columnar.frame import LIMIT, NUM_TYPES, Col, Frame, cat_from_values, day_numbers, num_to_cat
from engine.derive import FUNCTIONS
from engine.encoding import UNITS
from engine.errors import PolicyDataError
from engine.facts import YearMonth

DENSE_KEYS = 1 << 22     # derived facts over fewer argument combinations than this are looked up densely


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
        col = vectorised(spec, args, spec.id in as_values)
        if col is None:
            col = _by_combination(spec, args, as_of, frame.n)
        cols[spec.id] = col
    out = frame.replaced(columns=cols, derived_as_of=as_of, _derived_cache={})
    frame._derived_cache[key] = out
    return out


def _by_combination(spec, args: list[Col], as_of: date, n: int) -> Col:
    """fn applied once per distinct combination of argument values (engine/derive.py's own function)."""
    fn = FUNCTIONS[spec.fn]
    cats = [num_to_cat(a) if a.kind == "num" else a for a in args]
    if any(c.kind != "cat" for c in cats):
        raise PolicyDataError([f"rules/facts.yaml {spec.id}: the columnar engine holds an argument of "
                               f"{spec.fn} only as a comparison code"])
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
        digits, rest = [], uniq.astype(np.int64)
        for size in reversed(sizes):       # the key's digits, last argument first
            rest, d = np.divmod(rest, size)
            digits.append(d - 1)
        combos = np.stack(digits[::-1], axis=1).tolist() if digits else [[] for _ in uniq.tolist()]
    else:                           # too many combinations for one integer key: unique rows instead
        space = DENSE_KEYS + 1
        rows, key = np.unique(np.stack([c.values for c in cats], axis=1), axis=0, return_inverse=True)
        key = key.reshape(-1)
        combos = rows.tolist()
    # Each argument's values by code, code -1 (missing) last: value lists indexed by the digits.
    values = [list(c.vocab) + [() if c.ftype == "tags" else None] for c in cats]
    results = [fn(*(v[d] for v, d in zip(values, digits)), as_of) for digits in combos]
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


def _integer_money(spec, args: list[Col]) -> Optional[Col]:
    """Exact integer forms of three money derivations (as many combinations as rows otherwise)."""
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


def vectorised(spec, args: list[Col], as_value: bool) -> Optional[Col]:
    """The exact vectorised form of a derivation, or None (then computed by combination). `as_value`:
    the fact's values are needed, not only comparisons (no comparison-code column then)."""
    if spec.fn in ("annualise", "add_remainder", "relative_change"):
        col = _integer_money(spec, args)
        return None if col is None or (as_value and col.kind == "code") else col
    form, arity = VECTOR_FORMS.get(spec.fn, (None, 0))
    return form(spec, *args) if form is not None and len(args) == arity else None


def _is_negative(spec, amount: Col) -> Optional[Col]:
    if amount.kind != "num" or amount.values.dtype == object:
        return None
    codes = np.where(amount.present, (amount.values < 0).astype(np.int32), np.int32(-1))
    return Col("cat", codes, amount.present, spec.type, [False, True])


def _ordinals(col: Col) -> Optional[np.ndarray]:
    """Each row's date as a day number (0 where missing); None unless the column holds plain dates."""
    days = _vocab_days(col.vocab) if col.kind == "cat" else None
    return None if days is None else np.append(days, 0)[col.values]


# The day numbers of the last few date vocabularies, by the vocabulary list itself (held here, so the list
# cannot be another while it is remembered; a Col's vocabulary is never changed once made): a batch's
# start_of_operations is worked out from two date columns and read again by ytd_months, and each
# vocabulary holds every day the reader has seen so far (some 9,000 on a 1M-row register).
_DAYS: list = []


def _vocab_days(vocab: list) -> Optional[np.ndarray]:
    for known, days in _DAYS:
        if known is vocab:
            return days
    days = day_numbers(vocab)
    _remember_days(vocab, days)
    return days


def _remember_days(vocab: list, days: Optional[np.ndarray]) -> None:
    _DAYS.insert(0, (vocab, days))
    del _DAYS[4:]


def _latest_date(spec, first: Col, second: Col) -> Optional[Col]:
    a, b = _ordinals(first), _ordinals(second)
    if a is None or b is None:
        return None
    # One vocabulary for both columns' dates, numbered in the order they first appear in the first
    # column's vocabulary and then the second's (as a dict of the dates numbers them), worked out on
    # their day numbers rather than a dict of some 18,000 dates a batch; each row takes the second date
    # only where it is later.
    da, db = _vocab_days(first.vocab), _vocab_days(second.vocab)
    both = np.concatenate([da, db])
    _, at, inverse = np.unique(both, return_index=True, return_inverse=True)
    order = np.argsort(at)                              # the distinct days by their first appearance
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    number = rank[inverse.reshape(-1)]
    to_a = np.append(number[:len(da)], np.int32(-1))
    to_b = np.append(number[len(da):], np.int32(-1))
    merged, firsts = first.vocab + second.vocab, at[order]
    vocab = [merged[k] for k in firsts.tolist()]
    _remember_days(vocab, both[firsts])
    later = second.present & (b > a)
    codes = np.where(first.present, np.where(later, to_b[second.values], to_a[first.values]), np.int32(-1))
    return Col("cat", codes.astype(np.int32), first.present.copy(), spec.type, vocab)


_EPOCH = date(1970, 1, 1).toordinal()


def _months_of_operation(spec, through: Col, started: Col) -> Optional[Col]:
    if through.kind != "cat" or any(type(v) is not YearMonth for v in through.vocab):
        return None
    days = _vocab_days(started.vocab) if started.kind == "cat" else None
    if days is None:
        return None
    ty = np.array([v.year for v in through.vocab] + [0], dtype=np.int64)[through.values]
    tm = np.array([v.month for v in through.vocab] + [0], dtype=np.int64)[through.values]
    # Each start date's year and month from its day number (numpy's calendar is Python's proleptic
    # Gregorian one), not from a date object each.
    months = (days - _EPOCH).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    sy = np.append(months // 12 + 1970, 0)[started.values]
    sm = np.append(months % 12 + 1, 0)[started.values]
    has_start = started.present
    first = np.where(has_start & (sy == ty), sm, 1)
    after = has_start & (sy * 12 + sm > ty * 12 + tm)     # started after the month the figure runs to
    present = through.present & ~after
    return Col("num", np.where(present, tm - first + 1, 0), present, spec.type)


VECTOR_FORMS = {"is_negative": (_is_negative, 1), "latest_date": (_latest_date, 2),     # fn -> (form, arguments)
                "months_of_operation": (_months_of_operation, 2)}
