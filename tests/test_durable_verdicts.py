"""Summary runs of the durable engine go through the columnar pipeline (engine/columnar/durable_verdicts.py):
durable_rules decides every row from records built a column at a time, and the columnar engine's results
are written only where every verdict field agrees. These tests hold that path to the row-by-row one:

* the records durable_rules receives are, field for field, the ones Evaluator sends for the same
  enterprise (generated registers and parameters, every YAML case, figures too wide for int64);
* `check` writes the same CSV and NDJSON, the same rejected rows and the same messages as the row path
  checked exactly (`--cross-check exact`), on the hostile register, for 1 and 2 workers;
* a disagreement from either side stops the run naming the row (the columnar side: tests/test_output_contract.py);
* a compact NDJSON condition written from its fixed parts is the contract builder's text, byte for byte.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings, strategies as st

from cli import main
from engine import derive, logic
from engine.columnar.contract_text import FIGURES, LeafText
from engine.columnar import durable_verdicts
from engine.columnar.durable_verdicts import DurableVerdicts, member_texts
from engine.contract import Contract, condition_object, ndjson_line
from engine.findings import ExactRecord, leaf_margin
from engine.output import json_value
from engine.columnar.evaluator import ColumnarEvaluator
from engine.derive import fact_values
from engine.errors import EngineError, PolicyDataError
from tests.conftest import ROOT, enterprise, policy_and_rules, uscc_for
from tests.test_columnar_arrow import CASES
from tests.test_columnar_differential import EXAMPLES, scenarios, yaml_cases_by_day

REGISTER = ROOT / "examples" / "register.csv"


def firm(**facts):
    base = dict(town="分水镇", in_park=False, industry_code="C3484", is_legal_person=True,
                established_on="2015-03-01", in_scope=False)
    return enterprise(**{**base, **facts})


def row_path_records(dv: DurableVerdicts, ents, as_of) -> list[list[dict]]:
    """What Evaluator.evaluate sends durable_rules for each enterprise, cut per ruleset as RuleEngine cuts it."""
    ev = dv.evaluator
    out = []
    for e in ents:
        record = ev.compiled.encoder.record(fact_values(e, ev._derived, as_of))
        out.append([{k: v for k, v in record.items() if k in fields} for fields in dv.fields])
    return out


def column_records(dv: DurableVerdicts, frame) -> list[list[dict]]:
    """The JSON members DurableVerdicts writes for each row and ruleset, read back as records."""
    rows: list = [None] * frame.n
    for positions, part in dv.columnar.derived_parts(frame):
        for j, members in enumerate(zip(*dv.members(part))):
            rows[j if positions is None else int(positions[j])] = [json.loads("{" + m[1:] + "}") for m in members]
    return rows


def confirmed(policy, book, as_of, ents) -> DurableVerdicts:
    columnar = ColumnarEvaluator(policy, book, as_of)
    dv = DurableVerdicts(policy, book, as_of, columnar)
    frame = columnar.frame(ents)
    batch = columnar.evaluate_frame(frame)
    assert column_records(dv, frame) == row_path_records(dv, ents, as_of)
    dv.confirm(batch)          # raises EngineError on any difference
    return dv


@settings(max_examples=EXAMPLES)
@given(scenarios())
def test_records_and_verdicts_equal_the_row_paths_on_generated_registers(scenario):
    policy, book, as_of, _, ents = scenario
    try:
        ColumnarEvaluator(policy, book, as_of)
        DurableVerdicts(policy, book, as_of, ColumnarEvaluator(policy, book, as_of))
    except PolicyDataError:
        assume(False)
    confirmed(policy, book, as_of, ents)


def test_every_yaml_case_is_confirmed_by_durable_rules():
    for (as_of, policy_id), ents in yaml_cases_by_day().items():
        confirmed(*policy_and_rules(policy_id), as_of, ents)


def test_a_figure_too_wide_for_int64_reaches_durable_rules_exactly():
    """Rows with a figure beyond the columnar engine's int64 range are evaluated apart on Python integers;
    their records (saturated codes) are still the row path's."""
    policy, book = policy_and_rules()
    ents = [firm(revenue_last_year=Decimal("123456789012345678.91")), firm(revenue_last_year=Decimal("30000000"))]
    confirmed(policy, book, date(2024, 12, 31), ents)


@pytest.mark.parametrize("value", [2 ** 53, 0.5, Decimal("1.5"), ("a",)])
def test_a_value_durable_rules_cannot_compare_exactly_is_refused(value):
    with pytest.raises(EngineError, match="revenue"):
        member_texts("revenue", [1, value])


def test_members_are_json_that_durable_rules_reads_as_the_record():
    assert member_texts("in_scope", [True, None, False]) == [',"in_scope":true', "", ',"in_scope":false']
    assert member_texts("town", ["分水镇", '"q"']) == [',"town":"分水镇"', ',"town":"\\"q\\""']


def test_durable_rules_missing_a_rule_stops_the_batch_naming_the_row(monkeypatch):
    """The check is two-sided: here durable_rules is made to decide nothing (no rule fires)."""
    policy, book = policy_and_rules()
    as_of = date(2024, 12, 31)
    columnar = ColumnarEvaluator(policy, book, as_of)
    dv = DurableVerdicts(policy, book, as_of, columnar)
    ents = [firm(revenue_last_year=Decimal("30000000"))]
    batch = columnar.evaluate_frame(columnar.frame(ents))
    monkeypatch.setattr(dv.engine, "fire_serialised", lambda records: [])
    with pytest.raises(EngineError, match=r"cross-check failed at row 7, enterprise .*durable_rules gives"):
        dv.confirm(batch, rows=[7])


# ------------------------------------------------------------------------------------------ end to end
def run(path, tmp_path, fmt, *extra):
    out, errors = tmp_path / f"out.{fmt}", tmp_path / "errors.csv"
    errors.unlink(missing_ok=True)
    result = CliRunner().invoke(main, ["check", str(path), "--as-of", "2024-12-31", "--format", fmt,
                                       "--out", str(out), "--errors", str(errors), *extra], catch_exceptions=False)
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    if fmt == "ndjson":     # the one field that differs: which second implementation checked the rows
        docs = [json.loads(line) for line in text.splitlines()]
        assert {d["cross_check"] for d in docs} == {"exact" if "exact" in extra else "columnar"}
        text = [{k: v for k, v in d.items() if k != "cross_check"} for d in docs]
    return (result.exit_code, text, errors.read_text(encoding="utf-8") if errors.exists() else None,
            sorted(result.stderr.splitlines()))


@pytest.mark.parametrize("case", ["csv", "xlsx"])
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_summary_runs_write_what_the_row_path_writes(tmp_path, case, fmt):
    path = CASES[case](tmp_path)
    row_path = run(path, tmp_path, fmt, "--cross-check", "exact", "--workers", "1")
    assert row_path[0] == 1 and row_path[2].count("\n") > 8         # rows were rejected, every class
    for workers in ("1", "2"):
        assert run(path, tmp_path, fmt, "--workers", workers, "--chunk-size", "9") == row_path


def test_json_and_the_sample_register_too(tmp_path):
    row_path = run(REGISTER, tmp_path, "json", "--cross-check", "exact")
    batched = run(REGISTER, tmp_path, "json")
    assert batched[0] == row_path[0] == 0
    strip = [{k: v for k, v in d.items() if k != "cross_check"} for d in json.loads(batched[1])]
    assert strip == [{k: v for k, v in d.items() if k != "cross_check"} for d in json.loads(row_path[1])]
    assert {d["cross_check"] for d in json.loads(batched[1])} == {"columnar"}


def test_exact_and_off_contradict_each_other():
    result = CliRunner().invoke(main, ["check", str(REGISTER), "--as-of", "2024-12-31", "--no-cross-check",
                                       "--cross-check", "exact"])
    assert result.exit_code == 2 and "contradict" in result.output


# ------------------------------------------------------------------------------------------ NDJSON text
def _comparisons():
    """(plan, rule id, leaf, threshold) of every comparison on a figure in the Wanzhou rules."""
    from engine import logic
    from engine.compiler import plan_policy
    policy, book = policy_and_rules()
    plans = plan_policy(policy, book, date(2024, 12, 31)).plans
    contract = Contract(plans, book)
    out = []
    for plan in plans.values():
        for rid, node in (plan.nodes.items() if plan.evaluable else ()):
            for leaf in logic.leaves(node):
                if type(leaf) is logic.Leaf and contract.kinds.get(leaf.fact) in FIGURES:
                    out.append((plan, rid, leaf))
    return contract, out


CONTRACT, COMPARISONS = _comparisons()


@settings(max_examples=60)
@given(st.sampled_from(COMPARISONS), st.one_of(st.none(), st.integers(-10 ** 11, 10 ** 11)),
       st.integers(1, 12), st.booleans())
def test_a_comparisons_text_is_what_the_contract_builder_encodes(comparison, fen, months, own_rule):
    """contract_text.LeafText writes a condition's fixed parts once; the line must still be byte for byte
    ndjson_line(condition_object(...)) — for money, annualised fractions and counts, met or not, missing."""
    plan, rid, leaf = comparison
    kind = CONTRACT.kinds[leaf.fact]
    if fen is None:
        value = None
    elif kind == "money":
        value = Decimal(fen) / 100 if months == 12 else Fraction(fen * 12, 100 * months)
    elif kind == "ratio":
        value = Fraction(fen, 10 ** 6 * months)
    else:
        value = fen // 10 ** 6
    values = {leaf.fact: value}
    decided_by = rid if own_rule else "another.rule"
    finding = ExactRecord(values, plan.memo).finding(rid, leaf)
    met = logic.evaluate(leaf, values)
    fast = LeafText(CONTRACT, rid, leaf, decided_by).line(leaf, value, met, plan.memo)
    assert fast == ndjson_line(condition_object(CONTRACT, finding, decided_by))


MONEY_LIMITS = [c for c in COMPARISONS if CONTRACT.kinds[c[2].fact] == "money" and type(c[2].threshold) is Decimal]


@settings(max_examples=80)
@given(st.sampled_from(MONEY_LIMITS), st.integers(-10 ** 22, 10 ** 22), st.integers(-5, 2))
def test_a_money_margin_worked_out_in_decimal_is_the_fractions(comparison, digits, exponent):
    """LeafText.money_margin (Decimal, exact or nothing) writes the margin as json_value writes the
    Fraction leaf_margin gives: for amounts in cents and below the cent (there it may leave it to the
    Fractions)."""
    plan, rid, leaf = comparison
    value = Decimal(digits).scaleb(exponent)
    met = logic.evaluate(leaf, {leaf.fact: value})
    assume(met is False)
    margin = LeafText(CONTRACT, rid, leaf, rid).money_margin(value)
    expected = json_value(leaf_margin(leaf, value, met, plan.memo), "money")
    assert margin is None or margin == expected
    if exponent >= -2 and abs(digits) < 10 ** 20:     # an amount in cents, as registers give: the Decimal path
        assert margin == expected


IN_FEN = [c for c in MONEY_LIMITS if LeafText(CONTRACT, c[1], c[2], c[1]).fen_limit is not None]


@settings(max_examples=80)
@given(st.sampled_from(IN_FEN), st.one_of(st.integers(-10 ** 4, 10 ** 4), st.integers(-(1 << 42), 1 << 42)),
       st.booleans())
def test_an_amount_written_from_its_fen_is_what_the_contract_builder_encodes(comparison, fen, own_rule):
    """ContractText writes a register's amount against a limit in whole fen from the fen column
    (LeafText.fen_line): the same bytes as the condition object built from the amount in yuan — met or
    not, on either side of the limit, on it, negative, zero, below one yuan."""
    plan, rid, leaf = comparison
    fen = fen if fen % 3 else int(leaf.threshold * 100) + fen % 2     # often at the limit or a fen off it
    value = Decimal(fen).scaleb(-2)
    values = {leaf.fact: value}
    decided_by = rid if own_rule else "another.rule"
    finding = ExactRecord(values, plan.memo).finding(rid, leaf)
    fast = LeafText(CONTRACT, rid, leaf, decided_by)
    assert fast.fen_line(fen) == ndjson_line(condition_object(CONTRACT, finding, decided_by))


FOR_FRACTIONS = [c for c in COMPARISONS if LeafText(CONTRACT, c[1], c[2], c[1]).for_fraction]


@settings(max_examples=100)
@given(st.sampled_from(FOR_FRACTIONS), st.integers(-10 ** 14, 10 ** 14), st.integers(1, 10 ** 9),
       st.booleans(), st.booleans())
def test_a_derived_figure_written_from_its_integer_ratio_is_what_the_contract_builder_encodes(
        comparison, numerator, denominator, at_the_limit, own_rule):
    """An annualised amount or a growth rate (a Fraction) is compared and its margin worked out on integer
    ratios (LeafText.fraction_line): the same bytes as the condition object the exact findings give —
    met or not, exactly at the limit, a hair either side of it, negative, with long repeating decimals."""
    plan, rid, leaf = comparison
    value = Fraction(numerator, denominator)
    if at_the_limit:      # on the limit, or the smallest step of this denominator either side of it
        value = Fraction(leaf.threshold) + Fraction(numerator % 3 - 1, denominator)
    values = {leaf.fact: value}
    decided_by = rid if own_rule else "another.rule"
    finding = ExactRecord(values, plan.memo).finding(rid, leaf)
    fast = LeafText(CONTRACT, rid, leaf, decided_by).fraction_line(value, plan.memo)
    assert fast == ndjson_line(condition_object(CONTRACT, finding, decided_by))


def test_every_kind_of_derived_figure_has_the_integer_ratio_path():
    """The fast path is taken for each derived figure the rules compare (annualised, projected, growth):
    without it the test above would sample nothing of them."""
    assert {CONTRACT.kinds[c[2].fact] for c in FOR_FRACTIONS} >= {"money", "ratio"}
    assert {c[2].fact for c in FOR_FRACTIONS} >= {"revenue_annualised", "revenue_growth"}


@settings(max_examples=100)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10 ** 12, max_value=10 ** 12),
       st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10 ** 12, max_value=10 ** 12),
       st.one_of(st.integers(-10 ** 9, 10 ** 9), st.decimals(allow_nan=False, allow_infinity=False, places=4,
                                                             min_value=-10 ** 9, max_value=10 ** 9)),
       st.integers(1, 12))
def test_derived_figures_are_the_exact_fractions_of_their_amounts(a, b, c, months):
    """derive.py works annualised, projected and relative figures out on integer ratios; each is still the
    exact Fraction of the textbook formula (amounts in yuan to the fen, counts, or finer decimals)."""
    assert derive.annualise(a, months, None) == Fraction(a) * 12 / months
    assert derive.add_remainder(a, b, c, None) == Fraction(a) + Fraction(b) - Fraction(c)
    if b:
        assert derive.relative_change(a, b, None) == (Fraction(a) - Fraction(b)) / Fraction(b)
    assert derive.relative_change(a, Decimal(0), None) is None and derive.annualise(a, 0, None) is None


def test_what_the_cross_check_remembers_does_not_grow_with_the_register():
    """Comparisons are remembered per family (its fired rules, the facts read, its columnar result), not
    per row: a register ten times longer of the same kinds of firm, every figure different, leaves the
    same remembered keys, a handful per family — memory stays flat however long the register is."""
    policy, book = policy_and_rules()
    as_of = date(2024, 12, 31)

    def remembered(n: int) -> set:
        columnar = ColumnarEvaluator(policy, book, as_of)
        dv = DurableVerdicts(policy, book, as_of, columnar)
        ents = [firm(enterprise_id=uscc_for(f"{base}-{k}"), revenue_last_year=Decimal(base + k), town=town)
                for k in range(n) for base, town in ((9_000_000, "分水镇"), (25_000_000, "甘宁镇"), (35_000_000, "分水镇"))]
        dv.confirm(columnar.evaluate_frame(columnar.frame(ents)))
        return dv.confirmed

    families = len(ColumnarEvaluator(policy, book, as_of).families)
    few, many = remembered(20), remembered(200)
    assert few == many
    assert len(many) <= 3 * families           # three kinds of firm: at most one key per kind and family
    assert {key[0][0] for key in many} == set(range(families))


def test_a_difference_in_one_family_is_found_where_the_other_families_were_seen(monkeypatch):
    """A row is skipped only when every family's comparison was made before: a firm whose other families
    repeat an earlier firm's but whose one family is new is compared, and a wrong columnar value stops
    the run naming it."""
    policy, book = policy_and_rules()
    as_of = date(2024, 12, 31)
    columnar = ColumnarEvaluator(policy, book, as_of)
    dv = DurableVerdicts(policy, book, as_of, columnar)
    new = dict(in_scope=True, in_scope_since="2024-03", previously_in_scope=False, revenue_last_year=Decimal("30000000"))
    ents = [firm(**new, town="分水镇", enterprise_id=uscc_for("a")), firm(**new, town="甘宁镇", enterprise_id=uscc_for("b"))]
    batch = columnar.evaluate_frame(columnar.frame(ents))
    assert batch.decision(next(f for f in columnar.families if f.name == "town_award"), 1).beneficiary == "甘宁镇"
    decision = batch.decision

    def wrong_beneficiary_on_row_1(fam, i):
        d = decision(fam, i)
        if i == 1 and d.beneficiary:
            d.beneficiary = "分水镇"
        return d
    monkeypatch.setattr(batch, "decision", wrong_beneficiary_on_row_1)
    with pytest.raises(EngineError, match="row 3, enterprise .*town_award: durable_rules gives beneficiary '甘宁镇'"):
        dv.confirm(batch, rows=[2, 3])


def test_rows_whose_columnar_result_is_no_key_are_each_compared(monkeypatch):
    """A columnar result that cannot be a key (row_keys gives None) is never taken as seen before: a
    difference on the second of two identical firms is still found."""
    policy, book = policy_and_rules()
    as_of = date(2024, 12, 31)
    columnar = ColumnarEvaluator(policy, book, as_of)
    dv = DurableVerdicts(policy, book, as_of, columnar)
    ents = [firm(revenue_last_year=Decimal("30000000")), firm(revenue_last_year=Decimal("30000000"))]
    batch = columnar.evaluate_frame(columnar.frame(ents))
    monkeypatch.setattr(durable_verdicts, "row_keys", lambda arrays, n: None)
    decision = batch.decision

    def wrong_on_row_1(fam, i):
        d = decision(fam, i)
        if i == 1:
            d.outcome = "wrong"
        return d
    monkeypatch.setattr(batch, "decision", wrong_on_row_1)
    with pytest.raises(EngineError, match="row 3, enterprise"):
        dv.confirm(batch, rows=[2, 3])
