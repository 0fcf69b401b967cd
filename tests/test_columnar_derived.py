"""The columnar engine's vectorised derivations (engine/columnar/derived.py) equal engine/derive.py's
functions on every value — the functions that define the derived facts for durable_rules."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
from hypothesis import given, strategies as st

from engine.columnar.derived import with_derived
from engine.columnar.frame import Frame, cat_from_values, factorize, num_from_values
from engine.derive import FUNCTIONS
from engine.evaluate import load_engine_inputs
from engine.facts import YearMonth

BOOK = load_engine_inputs("wanzhou-2022-80")[1]
AS_OF = date(2024, 12, 31)

dates = st.one_of(st.none(), st.dates(min_value=date(2019, 1, 1), max_value=date(2025, 12, 31)))
months = st.one_of(st.none(), st.builds(YearMonth, year=st.integers(2019, 2025), month=st.integers(1, 12)))
money = st.one_of(st.none(), st.integers(-10**11, 10**11).map(lambda fen: Decimal(fen).scaleb(-2)))


def frame_of(columns: dict[str, list], types: dict[str, str]) -> Frame:
    n = len(next(iter(columns.values())))
    cols = {f: (num_from_values(v, types[f]) if types[f] in ("money", "int") else cat_from_values(v, types[f]))
            for f, v in columns.items()}
    blank = np.array([""] * n, dtype=object)
    return Frame(n, blank, blank, blank, np.zeros(n, bool), cols)


def derived_values(frame: Frame, fact: str) -> list:
    needed = {fact} | {a for a in BOOK.facts[fact].args if BOOK.facts[a].fn}
    col = with_derived(frame, BOOK, AS_OF, needed, {fact}).columns[fact]
    if col.kind == "cat":
        return [col.vocab[c] if c >= 0 else None for c in col.values.tolist()]
    return [int(v) if p else None for v, p in zip(col.values.tolist(), col.present.tolist())]


def expected(fact: str, rows: list[tuple]) -> list:
    fn = FUNCTIONS[BOOK.facts[fact].fn]
    return [fn(*row, AS_OF) for row in rows]


@given(st.lists(st.tuples(dates, dates), min_size=1, max_size=60))
def test_latest_date_is_derive_latest_date(rows):
    frame = frame_of({"established_on": [a for a, _ in rows], "commissioned_on": [b for _, b in rows]},
                     {"established_on": "date", "commissioned_on": "date"})
    assert derived_values(frame, "start_of_operations") == expected("start_of_operations", rows)


@given(st.lists(st.tuples(months, dates, dates), min_size=1, max_size=60))
def test_months_of_operation_is_derive_months_of_operation(rows):
    frame = frame_of({"ytd_through": [t for t, _, _ in rows], "established_on": [a for _, a, _ in rows],
                      "commissioned_on": [b for _, _, b in rows]},
                     {"ytd_through": "year_month", "established_on": "date", "commissioned_on": "date"})
    start = expected("start_of_operations", [(a, b) for _, a, b in rows])
    assert derived_values(frame, "ytd_months") == expected("ytd_months", [(t, s) for (t, _, _), s in
                                                                          zip(rows, start)])


@given(st.lists(money, min_size=1, max_size=60))
def test_is_negative_is_derive_is_negative(values):
    frame = frame_of({"profit_ytd": values}, {"profit_ytd": "money"})
    assert derived_values(frame, "loss_ytd") == expected("loss_ytd", [(v,) for v in values])


def test_factorize_keeps_equal_values_of_different_types_apart():
    vocab, codes = factorize([1, True, Decimal(1), None, 1, True])
    assert [type(v) for v in vocab] == [int, bool, Decimal]
    assert codes.tolist() == [0, 1, 2, -1, 0, 1]
