"""Hypothesis strategies: enterprises as registers really hold them, with values clustered at the
policy's thresholds (where mistakes hide) and optional facts often missing."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from engine.facts import Enterprise, YearMonth
from tests.conftest import uscc_for

AS_OF_DATES = [date(2022, 12, 31), date(2023, 6, 30), date(2024, 12, 31), date(2025, 11, 30)]
THRESHOLDS_YUAN = [10_000_000, 16_000_000, 20_000_000, 25_000_000]
CODES = ["C3484", "C2929", "B0610", "D4610", "I6513", "I6420", "I6311", "F5165", "E4790"]
TOWNS = [("分水镇", "500101144"), ("高峰街道", "500101027"), ("五桥街道", "500101025"), ("恒合土家族乡", "500101239")]


@st.composite
def money(draw, optional=True):
    if optional and draw(st.integers(0, 9)) == 0:
        return None
    base = draw(st.sampled_from(THRESHOLDS_YUAN + [0, 5_000_000, 50_000_000]))
    fen = draw(st.sampled_from([0, 1, -1, 100, -100]) | st.integers(-30_000_000_00, 30_000_000_00))
    value = Decimal(base) + Decimal(fen) / 100
    return max(value, Decimal("0.00")).quantize(Decimal("0.01"))


def maybe(strategy):
    return st.none() | strategy


@st.composite
def enterprises(draw, as_of: date):
    town, code = draw(st.sampled_from(TOWNS))
    established = draw(st.dates(date(2005, 1, 1), as_of))
    in_scope = draw(st.booleans())
    since = None
    if in_scope and draw(st.integers(0, 9)):
        year = draw(st.integers(2019, as_of.year))
        month = draw(st.integers(1, as_of.month if year == as_of.year else 12))
        since = YearMonth(year=year, month=month)
    revenue_ytd = draw(money())
    return Enterprise(
        enterprise_id=uscc_for(draw(st.text("abcdefghij", min_size=6, max_size=6))),
        name="测试企业",
        town=town,
        town_code=code,
        in_park=draw(st.booleans()),
        industry_code=draw(st.sampled_from(CODES)),
        is_legal_person=draw(st.booleans() | st.just(True)),
        established_on=established,
        commissioned_on=draw(maybe(st.dates(established, as_of))),
        in_scope=in_scope,
        in_scope_since=since,
        previously_in_scope=draw(maybe(st.booleans())),
        origin=draw(maybe(st.sampled_from(["招商引资", "小升规"]))),
        revenue_last_year=draw(money()),
        revenue_ytd=revenue_ytd,
        ytd_through=None if revenue_ytd is None else YearMonth(year=as_of.year, month=as_of.month),
        revenue_ytd_last_year=draw(money()),
        employees=draw(maybe(st.integers(0, 400))),
        production_status=draw(maybe(st.sampled_from(["正常", "半停产", "停产"]))),
        months_without_output=draw(maybe(st.integers(0, 6))),
        loss_years=draw(maybe(st.integers(0, 4))),
        profit_ytd=draw(maybe(st.sampled_from([Decimal("-0.01"), Decimal("0.00"), Decimal("120.00")])
                              | st.integers(-5_000_000_00, 5_000_000_00).map(lambda f: Decimal(f) / 100))),
        mujun_class=draw(maybe(st.sampled_from(["A", "B", "C", "D", "未评价"]))),
        tags=tuple(draw(st.lists(st.sampled_from(["高技术", "战略性新兴", "数字经济", "其他"]), max_size=2, unique=True))),
        registration_status=draw(maybe(st.sampled_from(["存续", "经营异常", "迁出", "注销", "吊销"]))),
    )


@st.composite
def registers(draw, max_size=6):
    as_of = draw(st.sampled_from(AS_OF_DATES))
    ents = draw(st.lists(enterprises(as_of), min_size=1, max_size=max_size, unique_by=lambda e: e.enterprise_id))
    return as_of, ents
