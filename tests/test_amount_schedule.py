"""An amount schedule by bands of a fact (engine/schedule.py): the bands as a policy office writes them,
refused with the band edges when they leave a gap or overlap, and `policy check` on a schedule. The
amounts at and around every edge are the cases of tests/cases/banded_awards.yaml (both engines)."""
from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from engine.analysis.policy_check import check_policy
from engine.schedule import band_of, parse_schedule
from tests.conftest import ROOT

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
    folder = tmp_path / "banded"
    shutil.copytree(BANDED, folder)
    (folder / "policy.yaml").write_text((BANDED / "policy.yaml").read_text(encoding="utf-8").replace(
        "rules: ../../../rules", f"rules: {ROOT / 'rules'}"), encoding="utf-8")
    params = folder / "parameters.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace(
        'upper: "50000000", upper_inclusive: false', 'upper: "45000000", upper_inclusive: false'), encoding="utf-8")
    errors = [f.message for f in check_policy(folder) if f.severity == "error"]
    assert any("enterprise_award_revenue_schedule" in m and "bands 1 [20000000, 45000000) and 2 [50000000, 100000000]"
               " leave a gap: figures from 45000000 to 50000000 are in no band" in m for m in errors), errors


def test_the_bundled_test_policy_with_a_schedule_checks_without_errors():
    errors = [f for f in check_policy(BANDED) if f.severity == "error"]
    assert not errors, errors
