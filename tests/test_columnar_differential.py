"""The columnar engine (engine/columnar.py) against durable_rules, the oracle: for generated registers and
generated parameter values (each within the `range` a policy office may set), every enterprise gets the
same outcome, deciding rule, clause, amount, attributes, beneficiary, triggered indicators, missing facts
and reason from both backends. Also the bundled sample register and every YAML case, through both."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings, strategies as st

from engine.columnar.evaluator import ColumnarEvaluator
from engine.errors import PolicyDataError
from engine.evaluate import Evaluator
from engine.facts import Enterprise, YearMonth
from engine.analysis.reform import Reform, apply_reform
from engine.register import read_register
from tests.conftest import ROOT, enterprise, evaluator, policy_and_rules, uscc_for
from tests.test_cases import ALL_CASES

FIELDS = ("type", "outcome", "rule_id", "clause_id", "amount_yuan", "beneficiary", "attributes", "triggered",
          "triggered_codes", "missing_facts", "reason")
# Dates on both sides of the software reform (2020), inside the policy's period and after it.
AS_OF_DATES = [date(2019, 6, 30), date(2022, 1, 1), date(2022, 9, 30), date(2023, 12, 31), date(2024, 12, 31),
               date(2025, 12, 31), date(2026, 3, 31)]
INDUSTRIAL = ["B0610", "C3484", "C13", "C3670", "D4411"]
SOFTWARE = ["I6311", "I6420", "I6513", "I65"]
OTHER = ["I6610", "F5165", "E4790", "A0111", "K7010"]
TAGS = ["高技术", "战略性新兴", "数字经济", "其他"]
TOWNS = ["分水镇", "高峰街道", "五桥街道", "恒合土家族乡", "天城街道"]
FEN = Decimal("0.01")
# Each example runs durable_rules on a whole register: fewer than the suite's default profile, all of
# the deep profile's (HYPOTHESIS_PROFILE=deep).
DEEP = settings().max_examples > 100
EXAMPLES = settings().max_examples if DEEP else 20


def assert_same(durable_results, columnar_results, context=""):
    assert len(durable_results) == len(columnar_results)
    for d, c in zip(durable_results, columnar_results):
        assert (d.enterprise_id, d.name, d.town, d.in_park, d.as_of, d.policy) == \
               (c.enterprise_id, c.name, c.town, c.in_park, c.as_of, c.policy)
        assert [x.type for x in d.decisions] == [x.type for x in c.decisions]
        for dd, cd in zip(d.decisions, c.decisions):
            for f in FIELDS:
                assert getattr(dd, f) == getattr(cd, f), (
                    f"{context} {d.enterprise_id} {dd.type}.{f}: durable {getattr(dd, f)!r}, "
                    f"columnar {getattr(cd, f)!r}\nfacts: {d.facts}")
            if dd.amount_yuan is not None:
                assert isinstance(cd.amount_yuan, Decimal)


# ------------------------------------------------------------------------------- parameters

def _range(param):
    return Decimal(str(param.range.min)), Decimal(str(param.range.max))


@st.composite
def parameter_values(draw, policy):
    """A few parameters set to values inside their range (or another of their choices)."""
    names = sorted(n for n, p in policy.parameters.items()
                   if p.range is not None or p.type in ("bool", "enum") or n == "award_bonus_tags")
    chosen = draw(st.lists(st.sampled_from(names), max_size=6, unique=True))
    out = {}
    for name in chosen:
        p = policy.parameters[name]
        if p.type == "bool":
            out[name] = draw(st.booleans())
        elif p.type == "enum":
            out[name] = draw(st.sampled_from(p.choices))
        elif p.type == "text_list":
            out[name] = draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=3, unique=True))
        elif p.type == "count":
            lo, hi = _range(p)
            out[name] = draw(st.integers(int(lo), int(hi)))
        elif p.type == "money":
            lo, hi = _range(p)
            edge = st.sampled_from([lo, hi, (lo + hi) // 2])
            # Mostly whole 万元, sometimes whole yuan or fen: a scaled threshold that is not a whole
            # fen is refused by both engines alike.
            step = draw(st.sampled_from([Decimal(10000), Decimal(10000), Decimal(1), FEN]))
            some = st.integers(int(lo / step), int(hi / step)).map(lambda k, s=step: (Decimal(k) * s).quantize(FEN))
            out[name] = str(draw(edge | some))
        elif p.type == "ratio":
            lo, hi = _range(p)
            k = draw(st.integers(int(lo * 100), int(hi * 100)))
            out[name] = str(Decimal(k) / 100)
    return out


# ------------------------------------------------------------------------------- enterprises

def money_points(policy, as_of):
    """Amounts (yuan) where a rule of this policy changes its mind: every money parameter in force, its
    ratio-scaled forms, and the year-to-date amounts that annualise onto each of them."""
    points = {Decimal(0)}
    money = [p for p in policy.parameters if policy.parameters[p].type == "money"]
    ratios = [p for p in policy.parameters if policy.parameters[p].type == "ratio"]
    for name in money:
        try:
            v = policy.param(name, as_of).value
        except Exception:
            continue
        points.add(v)
        for r in ratios:
            try:
                points.add((v * policy.param(r, as_of).value).quantize(FEN))
            except Exception:
                pass
        for months in range(1, 13):
            points.add((v * months / 12).quantize(FEN))
    return sorted(points)


@st.composite
def amount(draw, points, optional=True, signed=False):
    if optional and draw(st.integers(0, 7)) == 0:
        return None
    kind = draw(st.integers(0, 9))
    if kind == 0:   # beyond the int64 fast path: evaluated on exact Python integers
        value = Decimal(draw(st.integers(44_000_000_000, 10 ** 15))) + Decimal(draw(st.integers(0, 99))) / 100
    elif kind <= 2:
        value = Decimal(draw(st.integers(0, 60_000_000_00))) / 100
    else:
        value = draw(st.sampled_from(points)) + Decimal(draw(st.sampled_from([0, 0, 1, -1, 100, -100]))) / 100
    if signed and draw(st.booleans()):
        value = -value
    return max(value, Decimal(0)).quantize(FEN) if not signed else value.quantize(FEN)


def around(day: date):
    return st.sampled_from([day - timedelta(days=1), day, day + timedelta(days=1)])


@st.composite
def enterprises(draw, as_of, points, growth_points):
    cutoff = date(as_of.year - 1, 10, 1)
    established = draw(around(cutoff) | st.dates(date(2000, 1, 1), as_of))
    commissioned = draw(st.none() | around(cutoff) | st.dates(established, as_of + timedelta(days=40)))
    in_scope = draw(st.booleans())
    since = None
    if draw(st.integers(0, 3)):
        year = draw(st.just(as_of.year) | st.integers(as_of.year - 6, as_of.year))
        since = YearMonth(year=year, month=draw(st.integers(1, as_of.month if year == as_of.year else 12)))
    through = None
    if draw(st.integers(0, 5)):
        year = draw(st.sampled_from([as_of.year, as_of.year, as_of.year - 1, established.year]))
        through = YearMonth(year=year, month=draw(st.integers(1, 12)))
    ytd_last_year = draw(amount(points))
    ytd = draw(amount(points))
    if ytd_last_year is not None and ytd_last_year > 0 and draw(st.integers(0, 3)) == 0:
        # exactly at a growth threshold, or one fen either side
        g = draw(st.sampled_from(growth_points))
        ytd = max(Decimal(0), (ytd_last_year * (1 + g)).quantize(FEN) + draw(st.sampled_from([0, 1, -1])) * FEN)
    return Enterprise(
        enterprise_id=uscc_for(repr(draw(st.integers(0, 10 ** 9)))),
        name=draw(st.sampled_from(["测试企业", "=cmd|' /C calc'!A0", "甲,乙\"丙\""])),
        town=draw(st.sampled_from(TOWNS)),
        in_park=draw(st.booleans()),
        industry_code=draw(st.sampled_from(INDUSTRIAL) | st.sampled_from(SOFTWARE) | st.sampled_from(OTHER)
                           | st.sampled_from(INDUSTRIAL)),
        is_legal_person=draw(st.booleans() | st.just(True)),
        independent_accounting=draw(st.none() | st.booleans()),
        established_on=established,
        commissioned_on=commissioned,
        in_scope=in_scope,
        in_scope_since=since,
        previously_in_scope=draw(st.none() | st.booleans() | st.just(False)),
        origin=draw(st.none() | st.sampled_from(["招商引资", "小升规"])),
        revenue_last_year=draw(amount(points)),
        revenue_ytd=ytd,
        ytd_through=through,
        revenue_ytd_last_year=ytd_last_year,
        employees=draw(st.none() | st.integers(0, 120) | st.sampled_from([49, 50, 51])),
        production_status=draw(st.none() | st.sampled_from(["正常", "半停产", "停产"])),
        months_without_output=draw(st.none() | st.integers(0, 13)),
        profit_ytd=draw(amount(points, signed=True)),
        loss_years=draw(st.none() | st.integers(0, 11)),
        mujun_class=draw(st.none() | st.sampled_from(["A", "B", "C", "D"])),
        land_request_mu=draw(st.none() | st.decimals(0, 500, places=3)),
        power_request_kva=draw(st.none() | st.decimals(0, 5000, places=1)),
        tags=tuple(draw(st.lists(st.sampled_from(TAGS), max_size=3, unique=True))),
        registration_status=draw(st.none() | st.sampled_from(["存续", "经营异常", "迁出", "注销", "吊销"])),
    )


@st.composite
def scenarios(draw, max_size=14):
    base, book = policy_and_rules()
    as_of = draw(st.sampled_from(AS_OF_DATES))
    changes = draw(parameter_values(base))
    policy = apply_reform(base, Reform(name="hypothesis", effective=as_of, parameters=changes)) if changes else base
    growth = [Decimal(0)]
    for name in ("growth_threshold", "warning_decline_yellow", "warning_decline_red"):
        if policy.parameters[name].in_force(as_of):
            growth.append(policy.param(name, as_of).value)
    ents = draw(st.lists(enterprises(as_of, money_points(policy, as_of), growth), min_size=1, max_size=max_size))
    return policy, book, as_of, changes, ents


@settings(max_examples=EXAMPLES)
@given(scenarios())
def test_columnar_equals_durable_on_generated_registers_and_parameters(scenario):
    policy, book, as_of, changes, ents = scenario
    try:
        durable = Evaluator(policy, book, as_of)
    except PolicyDataError:
        # A threshold the durable compiler refuses (not a whole fen after scaling): refused alike.
        with pytest.raises(PolicyDataError):
            ColumnarEvaluator(policy, book, as_of)
        assume(False)
    columnar = ColumnarEvaluator(policy, book, as_of)
    exact = durable.evaluate_many(ents)
    assert_same(exact, columnar.evaluate(ents), f"as of {as_of}, parameters {changes}:")
    # Summary runs read the verdict from durable_rules alone (no per-row exact evaluation): the same.
    durable.exact = durable.condition_detail = False
    assert_same(exact, durable.evaluate_many(ents), f"verdict only, as of {as_of}, parameters {changes}:")


@settings(max_examples=EXAMPLES if DEEP else 10)
@given(scenarios(max_size=5))
def test_batch_equals_one_by_one(scenario):
    """A row's verdict does not depend on the other rows of the register (chunks, wide rows, vocabularies)."""
    policy, book, as_of, _, ents = scenario
    try:
        columnar = ColumnarEvaluator(policy, book, as_of)
    except PolicyDataError:
        assume(False)
    together = columnar.evaluate(ents)
    for ent, res in zip(ents, together):
        assert columnar.evaluate([ent])[0] == res


def test_sample_register_through_both_engines():
    policy, book = policy_and_rules()
    for as_of in (date(2024, 12, 31), date(2025, 6, 30), date(2026, 1, 31)):
        read = read_register(ROOT / "examples" / "register.csv", as_of=as_of, policy=policy)
        ents = [e for _, e in read.accepted]
        assert ents
        assert_same(evaluator(as_of).evaluate_many(ents), ColumnarEvaluator(policy, book, as_of).evaluate(ents),
                    f"sample register as of {as_of}:")


def yaml_cases_by_day() -> dict:
    """Every YAML case's enterprise, grouped by (as-of date, policy id)."""
    by_day: dict = {}
    for param in ALL_CASES:
        doc, case = param.values
        facts = dict(doc.get("defaults", {}).get("facts", {}))
        facts.update(case.get("facts", {}))
        as_of = date.fromisoformat(str(case.get("as_of", doc.get("defaults", {}).get("as_of"))))
        by_day.setdefault((as_of, doc.get("policy", "wanzhou-2022-80")), []).append(enterprise(**facts))
    return by_day


def test_every_yaml_case_through_both_engines():
    by_day = yaml_cases_by_day()
    assert sum(len(v) for v in by_day.values()) == len(ALL_CASES)
    for (as_of, policy_id), ents in by_day.items():
        policy, book = policy_and_rules(policy_id)
        exact = evaluator(as_of, policy_id).evaluate_many(ents)
        assert_same(exact, ColumnarEvaluator(policy, book, as_of).evaluate(ents), f"cases as of {as_of}:")
        assert_same(exact, Evaluator(policy, book, as_of, exact=False).evaluate_many(ents),
                    f"cases as of {as_of}, verdict only:")
