"""Properties of the annual budget cap (engine/awards/budget_cap.pro_rata, the arithmetic every award
run applies): the capped total never exceeds the cap; the order of the awards never changes any
amount; without a binding cap (cap ≥ total) every amount is the uncapped one; no award grows."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, strategies as st

from engine.awards.budget_cap import pro_rata

fen = st.integers(min_value=1, max_value=50_000_000).map(lambda f: Decimal(f) / 100)
awards = st.lists(fen, min_size=1, max_size=40)
caps = st.integers(min_value=0, max_value=2_000_000_000).map(lambda f: Decimal(f) / 100)


@given(awards, caps)
def test_the_capped_total_never_exceeds_the_cap(amounts, cap):
    _, capped = pro_rata(amounts, cap)
    assert sum(capped, Decimal(0)) <= cap
    assert all(c == c.quantize(Decimal("0.01")) and 0 <= c <= a for a, c in zip(amounts, capped))


@given(awards, caps, st.randoms(use_true_random=False))
def test_shuffling_the_awards_never_changes_any_amount(amounts, cap, rnd):
    order = list(range(len(amounts)))
    rnd.shuffle(order)
    _, capped = pro_rata(amounts, cap)
    _, shuffled = pro_rata([amounts[i] for i in order], cap)
    assert [capped[i] for i in order] == shuffled


@given(awards, st.integers(min_value=0, max_value=10_000_000))
def test_a_cap_at_or_above_the_total_equals_no_cap(amounts, extra_fen):
    cap = sum(amounts, Decimal(0)) + Decimal(extra_fen) / 100
    factor, capped = pro_rata(amounts, cap)
    assert factor == 1 and capped == amounts


@given(awards, caps)
def test_the_residue_is_less_than_one_fen_per_award(amounts, cap):
    factor, capped = pro_rata(amounts, cap)
    if factor < 1:
        residue = cap - sum(capped, Decimal(0))
        assert Decimal(0) <= residue < Decimal("0.01") * len(amounts)
