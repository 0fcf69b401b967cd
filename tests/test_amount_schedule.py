"""An amount schedule by bands of a fact (engine/schedule.py): the bands as a policy office writes them,
refused with the band edges when they leave a gap or overlap, and `policy check` on a schedule. The
amounts at and around every edge are the cases of tests/cases/banded_awards.yaml (both engines)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

import pytest
from hypothesis import given, settings, strategies as st

from engine.analysis.policy_check import check_policy
from engine.columnar.evaluator import ColumnarEvaluator
from engine.evaluate import Evaluator
from engine.schedule import band_of, parse_schedule
from tests.conftest import ROOT, copy_policy, enterprise, policy_and_rules, uscc_for
from tests.test_columnar_differential import assert_same

BANDED = ROOT / "tests" / "districts" / "banded-2025"


def band(lower=None, lower_inclusive=None, upper=None, upper_inclusive=None, amount="50000"):
    raw = {"amount": amount}
    for key, value in (("lower", lower), ("lower_inclusive", lower_inclusive), ("upper", upper),
                       ("upper_inclusive", upper_inclusive)):
        if value is not None:
            raw[key] = value
    return raw


def test_edges_meet_when_exactly_one_side_includes_the_number():
    bands = parse_schedule([band("20000000", True, "50000000", False), band("50000000", True, amount="100000")])
    assert [band_of(bands, Decimal(v)) for v in ("19999999.99", "20000000", "49999999.99", "50000000")] == \
        [None, 0, 0, 1]


@pytest.mark.parametrize("second,words", [
    (band("50000000", False, amount="1"), "leave a gap at 50000000: neither includes it"),
    (band("60000000", True, amount="1"), "leave a gap: figures from 50000000 to 60000000 are in no band"),
    (band("40000000", True, amount="1"), "overlap: figures from 40000000 to 50000000 are in both"),
])
def test_a_gap_or_an_overlap_is_refused_with_both_bands_edges(second, words):
    with pytest.raises(ValueError) as err:
        parse_schedule([band("20000000", True, "50000000", False), second])
    assert "bands 1 [20000000, 50000000) and 2" in str(err.value) and words in str(err.value)


def test_both_sides_including_an_edge_is_an_overlap():
    with pytest.raises(ValueError, match=r"overlap at 50000000: both include it"):
        parse_schedule([band("20000000", True, "50000000", True), band("50000000", True, amount="1")])


def test_bands_out_of_order_and_an_edge_without_its_inclusivity_are_refused():
    with pytest.raises(ValueError, match="ascending order"):
        parse_schedule([band("50000000", True, "90000000", False), band("20000000", True, "50000000", False)])
    with pytest.raises(ValueError, match=r"band 1: lower 20000000 needs lower_inclusive"):
        parse_schedule([{"lower": "20000000", "amount": "1"}])
    with pytest.raises(ValueError, match="exact to 0.01 yuan"):
        parse_schedule([band("20000000", True, amount="0.001")])


def test_policy_check_reports_a_gap_in_a_schedule_with_its_edges(tmp_path):
    folder = copy_policy(BANDED, tmp_path / "banded")
    params = folder / "parameters.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace(
        'upper: "50000000", upper_inclusive: false', 'upper: "45000000", upper_inclusive: false'), encoding="utf-8")
    errors = [f.message for f in check_policy(folder) if f.severity == "error"]
    assert any("enterprise_award_revenue_schedule" in m and "bands 1 [20000000, 45000000) and 2 [50000000, 100000000]"
               " leave a gap: figures from 45000000 to 50000000 are in no band" in m for m in errors), errors


def test_the_bundled_test_policy_with_a_schedule_checks_without_errors():
    errors = [f for f in check_policy(BANDED) if f.severity == "error"]
    assert not errors, errors


def test_policy_check_refuses_band_words_that_contradict_an_edge(tmp_path):
    """不满 excludes its number: a band quoting 不满5000万元 whose upper edge includes 5000万 is an error."""
    folder = copy_policy(BANDED, tmp_path / "banded")
    params = folder / "parameters.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace(
        'upper: "50000000", upper_inclusive: false', 'upper: "50000000", upper_inclusive: true').replace(
        'lower: "50000000", lower_inclusive: true', 'lower: "50000000", lower_inclusive: false'), encoding="utf-8")
    errors = [f.message for f in check_policy(folder) if f.code == "schedule.comparative"]
    assert errors == [
        "enterprise_award_revenue_schedule (2025-01-01): band 1 「2000万元（含）以上不满5000万元」 says 「不满」 (<): "
        "its upper edge 50000000 must be upper_inclusive: false",
        "enterprise_award_revenue_schedule (2025-01-01): band 2 「5000万元（含）以上1亿元以下」 says 「以上」 (>=): "
        "its lower edge 50000000 must be lower_inclusive: true"]


EDGES = [Decimal(e) for e in ("20000000", "50000000", "100000000")]
FEN = Decimal("0.01")
revenues = st.one_of(st.none(), st.sampled_from([e + d for e in EDGES for d in (-FEN, 0, FEN)]),
                     st.integers(min_value=0, max_value=30_000_000_000).map(lambda f: Decimal(f) / 100))


@lru_cache(maxsize=None)
def engines():
    policy, book = policy_and_rules(str(BANDED.relative_to(ROOT)))
    as_of = date(2025, 12, 31)
    return Evaluator(policy, book, as_of), ColumnarEvaluator(policy, book, as_of)


@settings(max_examples=15 if settings().max_examples <= 100 else 200)
@given(st.lists(st.tuples(revenues, st.sampled_from(["C3484", "B0610", "I6513"]),
                          st.sampled_from(["2025-02", "2025-03", "2025-11"])), min_size=1, max_size=12))
def test_both_engines_choose_the_same_band_for_any_revenue(firms):
    ents = [enterprise(enterprise_id=uscc_for(f"band{i}"), town="东湖街道", in_park=False, industry_code=code,
                       is_legal_person=True, established_on="2015-04-18", in_scope=True, in_scope_since=since,
                       previously_in_scope=False,
                       revenue_last_year=None if rev is None else rev / 10000)
            for i, (rev, code, since) in enumerate(firms)]
    durable, columnar = engines()
    exact = durable.evaluate_many(ents)
    assert_same(exact, columnar.evaluate(ents), "banded:")
    for e, r in zip(ents, exact):
        d = r.decision("enterprise_award")
        band = None if e.revenue_last_year is None else band_of(
            durable.compiled.plans["enterprise_award"].params["enterprise_award_revenue_schedule"].value,
            e.revenue_last_year)
        if d.outcome == "awarded":
            assert band is not None and d.amount_yuan == (Decimal("50000"), Decimal("100000"), Decimal("200000"))[band]


def test_the_json_amount_line_names_the_band_the_fact_fell_in():
    from engine.output import result_json
    durable, _ = engines()
    result = durable.evaluate(enterprise(town="东湖街道", in_park=False, industry_code="C3484", is_legal_person=True,
                                         established_on="2015-04-18", in_scope=True, in_scope_since="2025-04",
                                         previously_in_scope=False, revenue_last_year="10000"))
    award = next(d for d in result_json(result, durable.book, "en")["decisions"] if d["type"] == "enterprise_award")
    assert award["amount_lines"][0]["band"] == {
        "fact": "revenue_last_year", "value": "100000000.00", "index": 2, "lower": "50000000", "lower_inclusive": True,
        "upper": "100000000", "upper_inclusive": True, "amount": "100000.00", "text": "5000万元（含）以上1亿元以下"}
