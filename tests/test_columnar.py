"""The columnar engine's own behaviour: what it refuses when compiling, rows beyond the int64 fast path,
explanations re-run through durable_rules, the summary CSV and JSON outputs, and the column loader
agreeing with engine/register row for row (values, rejected rows, messages, warnings)."""
from __future__ import annotations

import dataclasses
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from engine import logic
from engine.columnar.evaluator import ColumnarEvaluator
from engine.columnar.results import enterprise_at, explain_with_durable
from engine.columnar.frame import LIMIT, Frame
from engine.columnar.reader import read_register_frame
from engine.columnar.output import EXPLANATION, results_json, summary_rows, write_summary_csv
from engine.compiler import plan_policy
from engine.errors import InputFileError, PolicyDataError
from engine.output import csv_columns, result_json
from engine.register import read_register
from engine.register.columns import register_columns
from engine.render import render_decision
from engine.tabular import write_csv
from tests.conftest import ROOT, enterprise, evaluator, policy_and_rules, uscc_for
from tests.test_columnar_differential import assert_same

AS_OF = date(2024, 12, 31)
SAMPLE = ROOT / "examples" / "register.csv"


def columnar(as_of: date = AS_OF) -> ColumnarEvaluator:
    policy, book = policy_and_rules()
    return ColumnarEvaluator(policy, book, as_of)


def sample_enterprises(as_of: date = AS_OF):
    policy, _ = policy_and_rules()
    return [e for _, e in read_register(SAMPLE, as_of=as_of, policy=policy).accepted]


# ------------------------------------------------------------------------------- refused when compiling

def _plan_with(rule_id: str, node):
    policy, book = policy_and_rules()
    plan = plan_policy(policy, book, AS_OF)
    for fam in plan.plans.values():
        if rule_id in fam.nodes:
            fam.nodes[rule_id] = node
    return policy, book, plan


def _compare(fact, op, threshold, **kw):
    from engine.rules_model import Compare
    source = Compare(fact=fact, op="==", value="x") if not kw.get("source") else kw["source"]
    return logic.Leaf(fact, op, threshold, None, source)


def test_a_year_month_fact_in_a_rule_is_refused():
    policy, book, plan = _plan_with("upgrade_eligibility.legal_person", logic.Exists("in_scope_since", True))
    with pytest.raises(PolicyDataError, match=r"upgrade_eligibility\.legal_person: in_scope_since is a year-month"):
        ColumnarEvaluator(policy, book, AS_OF, plan=plan)


def test_membership_on_a_figure_is_refused():
    node = logic.Leaf("revenue_last_year", "in", (Decimal(1), Decimal(2)), None, None)
    policy, book, plan = _plan_with("upgrade_eligibility.legal_person", node)
    with pytest.raises(PolicyDataError, match=r"revenue_last_year \(money\) in .*compares figures with"):
        ColumnarEvaluator(policy, book, AS_OF, plan=plan)


def test_presence_of_tags_is_refused():
    policy, book, plan = _plan_with("upgrade_eligibility.legal_person", logic.Exists("tags", False))
    with pytest.raises(PolicyDataError, match="exists/missing on the tags fact tags is not expressible"):
        ColumnarEvaluator(policy, book, AS_OF, plan=plan)


def test_an_unknown_condition_node_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Majority:
        children: tuple

    policy, book, plan = _plan_with("upgrade_eligibility.legal_person", Majority(()))
    with pytest.raises(PolicyDataError, match="cannot evaluate a condition of type Majority"):
        ColumnarEvaluator(policy, book, AS_OF, plan=plan)


def test_an_unknown_derivation_is_refused():
    policy, book = policy_and_rules()
    facts = dict(book.facts)
    facts["revenue_growth"] = facts["revenue_growth"].model_copy(update={"fn": "moving_average"})
    with pytest.raises(PolicyDataError, match="derivation 'moving_average' is not one the columnar engine knows"):
        ColumnarEvaluator(policy, dataclasses.replace(book, facts=facts), AS_OF)


def test_every_problem_is_reported_at_once():
    policy, book, plan = _plan_with("upgrade_eligibility.legal_person", logic.Exists("tags", True))
    plan.plans["pool_entry"].nodes["pool_entry.legal_person"] = logic.Exists("ytd_through", True)
    with pytest.raises(PolicyDataError) as info:
        ColumnarEvaluator(policy, book, AS_OF, plan=plan)
    assert len(info.value.problems) == 2


# ------------------------------------------------------------------------------- rows and families

def test_rows_beyond_the_int64_fast_path_are_exact():
    base = dict(town="分水镇", in_park=False, industry_code="C3484", is_legal_person=True,
                established_on="2015-01-01", in_scope=True, in_scope_since="2023-03", ytd_through="2024-11")
    huge = "%d.01" % (LIMIT // 10**6 + 7)          # 万元: just past the int64 fast path, to the fen
    ents = [enterprise(**base, revenue_last_year="2000", revenue_ytd="1650", revenue_ytd_last_year="1400"),
            enterprise(**base, revenue_last_year=huge, revenue_ytd=huge, revenue_ytd_last_year="1"),
            enterprise(**base, revenue_last_year="1999.99", revenue_ytd=huge, revenue_ytd_last_year=huge)]
    cv = columnar()
    frame = cv.frame(ents)
    assert frame.wide_rows().tolist() == [False, True, True]
    assert_same(evaluator(AS_OF).evaluate_many(ents), cv.evaluate(ents))


def test_families_not_in_force_are_not_applicable_with_the_reason():
    res = columnar(date(2026, 3, 31)).evaluate(sample_enterprises(date(2026, 3, 31))[:3])
    d = res[0].decision("enterprise_award")
    assert (d.outcome, d.reason) == ("not_applicable", "policy_not_in_force:2022-01-01:2025-12-31")


def test_a_sweep_reuses_the_frame_and_stays_equal_to_durable():
    from engine.evaluate import Evaluator
    from engine.analysis.reform import Reform, apply_reform
    policy, book = policy_and_rules()
    ents = sample_enterprises()
    frame = columnar().frame(ents)
    for value in ("15000000", "20000000", "25000000.50"):
        p = apply_reform(policy, Reform(name="sweep", effective=AS_OF, parameters={"scale_threshold": value}))
        batch = ColumnarEvaluator(p, book, AS_OF).evaluate_frame(frame)
        assert_same(Evaluator(p, book, AS_OF).evaluate_many(ents), batch.results(), value)


# ------------------------------------------------------------------------------- explanations on demand

def test_explain_reruns_chosen_enterprises_through_durable_and_the_verdicts_agree():
    policy, book = policy_and_rules()
    ents = sample_enterprises()
    batch = columnar().evaluate_frame(columnar().frame(ents))
    chosen = [ents[0].enterprise_id, ents[7].enterprise_id, ents[-1].enterprise_id]
    explained = explain_with_durable(batch, chosen, evaluator(AS_OF))
    assert [r.enterprise_id for r in explained] == [e.enterprise_id for e in ents if e.enterprise_id in chosen]
    for result in explained:
        row = batch.result(batch.positions([result.enterprise_id])[0])
        for d, c in zip(result.decisions, row.decisions):
            assert (d.outcome, d.rule_id, d.amount_yuan) == (c.outcome, c.rule_id, c.amount_yuan)
            text = render_decision(d, result, book, "zh")
            assert text and d.clause_id in text or d.outcome == "not_applicable"


def test_a_frame_row_rebuilds_its_enterprise():
    ents = sample_enterprises()
    batch = columnar().evaluate_frame(columnar().frame(ents))
    for i in (0, 10, 20):
        rebuilt = enterprise_at(batch, i)
        assert evaluator(AS_OF).evaluate(rebuilt).decisions[0].outcome == batch.result(i).decisions[0].outcome


# ------------------------------------------------------------------------------- outputs

def _durable_csv(results, headers=None) -> str:
    from engine.output import summary_row
    cols = csv_columns()
    out = io.StringIO()
    write_csv(out, headers or cols, [[summary_row(r).get(c, "") for c in cols] for r in results])
    return out.getvalue()


@pytest.mark.parametrize("as_of", [AS_OF, date(2026, 3, 31)])
def test_summary_csv_is_byte_for_byte_the_durable_one(as_of):
    ents = sample_enterprises(as_of)
    tricky = enterprise(name='=HYPERLINK("x"),甲\n乙', town="分水镇", in_park=True, industry_code="C3484",
                        is_legal_person=True, established_on="2015-01-01", in_scope=False)
    ents = ents + [tricky]
    cv = columnar(as_of)
    batch = cv.evaluate_frame(cv.frame(ents))
    out = io.StringIO()
    write_summary_csv(batch, out)
    durable = evaluator(as_of).evaluate_many(ents)
    assert out.getvalue() == _durable_csv(durable)
    from engine.output import csv_headers
    out = io.StringIO()
    write_summary_csv(batch, out, headers=csv_headers("zh"))
    assert out.getvalue() == _durable_csv(durable, csv_headers("zh"))
    assert summary_rows(batch.results()) == [__import__("engine.output").output.summary_row(r)
                                             for r in evaluator(as_of).evaluate_many(ents)]


def test_json_has_the_contract_keys_and_durable_conditions():
    policy, book = policy_and_rules()
    ents = sample_enterprises()[:12]
    batch = columnar().evaluate_frame(columnar().frame(ents))
    docs = results_json(batch, "zh")
    durable = [result_json(r, book, "zh") for r in evaluator(AS_OF).evaluate_many(ents)]
    json.dumps(docs, ensure_ascii=False)
    for doc, ref in zip(docs, durable):
        assert {"enterprise_id", "name", "as_of", "policy", "decisions"} <= set(doc)
        for d, r in zip(doc["decisions"], ref["decisions"]):
            for key in ("type", "outcome", "rule_id", "clause_id", "clause_text", "amount_yuan", "conditions",
                        "parameters", "rules", "attributes", "triggered", "triggered_codes", "missing_facts",
                        "reason"):
                assert d[key] == r[key], (doc["enterprise_id"], d["type"], key)
            assert d.get("beneficiary") == r.get("beneficiary")
            assert "scaleup explain" in d["explanation"] and doc["enterprise_id"] in d["explanation"]
    assert "scaleup explain" in EXPLANATION["en"]


# ------------------------------------------------------------------------------- the column loader

def _same_read(path: Path, as_of: date = AS_OF, chunk_rows: int = 50_000):
    """Both columnar readers (pyarrow's and the standard library's) read what engine/register reads."""
    for arrow in (True, False):
        fast = same_read_by(path, as_of, chunk_rows, arrow)
    return fast


def same_read_by(path: Path, as_of: date, chunk_rows: int, arrow: bool):
    policy, _ = policy_and_rules()
    try:
        normal = read_register(path, as_of=as_of, policy=policy)
    except InputFileError as exc:
        with pytest.raises(InputFileError) as info:
            read_register_frame(path, as_of=as_of, policy=policy, chunk_rows=chunk_rows, arrow=arrow)
        assert str(info.value) == str(exc)
        return None
    fast = read_register_frame(path, as_of=as_of, policy=policy, chunk_rows=chunk_rows, arrow=arrow)
    assert fast.headers == normal.headers
    assert fast.warnings == normal.warnings
    assert fast.rejected == normal.rejected
    assert fast.rows.tolist() == [n for n, _ in normal.accepted]
    types = {c.id: c.type for c in register_columns(policy)}
    reference = Frame.from_enterprises([e for _, e in normal.accepted], types)
    for i in range(reference.n):
        want, got = reference.row_values(i), fast.frame.row_values(i)
        for key, value in got.items():
            assert (value, type(value)) == (want[key], type(want[key])), (i, key)
    return fast


@pytest.mark.parametrize("name", ["register.csv", "register_with_errors.csv", "register.xlsx", "register.json"])
def test_loader_agrees_with_the_register_reader_on_the_examples(name):
    fast = _same_read(ROOT / "examples" / name)
    assert fast is not None and fast.fast == name.endswith(".csv")


HEADER = ("统一社会信用代码,企业名称,所属乡镇（街道）,是否园内,行业代码,是否法人单位,成立日期,是否规上,入统年月,"
          "上年营业收入,本年累计营业收入,累计截至月份,上年同期累计营业收入,本年累计利润总额,从业人员,标签,备注")
GOOD = "9150010171EW5LMGRM,甲公司,五桥街道,是,C3484,是,2015-04-18,否,,2000.00,1750.5,2024-11,1835,-12.5,86,高技术,x"


def _write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "r.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _row(seed: str, *changes: tuple[str, str], extra: str = "") -> str:
    text = GOOD.replace("9150010171EW5LMGRM", uscc_for(seed))
    for old, new in changes:
        text = text.replace(old, new)
    return text + extra


def test_loader_agrees_on_awkward_files(tmp_path):
    rows = [
        "万州区工业企业名录,,,",                                   # a title row above the header
        "",
        HEADER + ",,",                                             # trailing blank headers
        GOOD,
        ",,,,,,,,,,,,,,,,",                                        # a blank row
        _row("a").lower().replace("五桥街道", "五桥街道").replace("c3484", "C3484"),   # lower-case id, normalised
        _row("b", ("2000.00", '"１,８５０.５"')),                  # full-width digits with a separator
        _row("c", ("五桥街道", "高粱镇")),                         # a look-alike town: rejected
        _row("d", ("2024-11", "2025-01")),                        # year to date past the as-of date
        _row("e", (",2024-11,", ",,")),                           # year-to-date revenue without its month
        _row("f", extra=",extra value"),                          # a value beyond the header
        GOOD,                                                      # a duplicate of the first row
        _row("g", ("2000.00", "abc")),
        _row("h", ("2000.00", "99999999999999")),                 # more digits than the fast path takes
        GOOD.replace("9150010171EW5LMGRM", "9150010171EW5LMGRX"),  # wrong check character
        _row("i", ("-12.5", "-0")),
        _row("j", (",86,", ",12.0,")),
        _row("k", (",1835,", ",1835.000000000,")),               # zeros past six places carry nothing
        _row("l", ("是,C3484", "Y,C3484")),
        _row("m", ("2015-04-18", "2015年4月18日")),
        _row("n", ("高技术", "高技术、数字经济")),
    ]
    _same_read(_write(tmp_path, "\n".join(rows) + "\n"))
    _same_read(_write(tmp_path, "\n".join(rows) + "\n", name="small_chunks.csv"), chunk_rows=3)
    _same_read(_write(tmp_path, "\ufeff" + "\r\n".join(rows), name="bom.csv"))
    _same_read(_write(tmp_path, "\n".join(rows), "gb18030", name="gbk.csv"))
    _same_read(_write(tmp_path, "\n".join(rows).replace(",", "\t"), name="tabs.csv"))
    read = _same_read(_write(tmp_path, "\n".join(rows), "utf-16", name="utf16.csv"))
    assert read is not None and not read.fast
    # Without any quote every line is one record: the split-by-line path, with ragged rows too.
    plain = [r for r in rows if '"' not in r]
    _same_read(_write(tmp_path, "\n".join(plain) + "\n\n", name="plain.csv"))
    _same_read(_write(tmp_path, "\r\n".join(plain), name="plain_crlf.csv"), chunk_rows=4)
    _same_read(_write(tmp_path, "\n".join(plain[:3] + [GOOD + ",,"] * 2), name="wide.csv"))


def test_loader_reports_file_problems_like_the_register_reader(tmp_path):
    _same_read(_write(tmp_path, "", name="empty.csv"))
    _same_read(_write(tmp_path, "a,b,c\n1,2,3\n", name="noheader.csv"))
    _same_read(_write(tmp_path, HEADER.replace("企业名称,", "") + "\n" + GOOD + ",,,zz\n", name="missing.csv"))
    _same_read(_write(tmp_path, HEADER + "\n" + GOOD.replace("甲公司", '"甲"公司') + "\n", name="quote.csv"))
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\xfa" * 10)
    _same_read(tmp_path / "bad.csv")


CELLS = {
    "统一社会信用代码": ["9150010171EW5LMGRM", "915001017N0TR346AU", "9150010171E0A7GM51", " 915001017hkaag836y ",
                  "9150010171EW5LMGRX", "", "915001017P5X326G0R"],
    "企业名称": ["甲公司", " 乙公司 ", "", "=cmd", "丙,丁"],
    "所属乡镇（街道）": ["五桥街道", "分水", "500101144", "高粱镇", "", "万州区天城街道"],
    "是否园内": ["是", "否", "Y", "true", "maybe", ""],
    "行业代码": ["C3484", "c 3670", "I6513", "C", "Z9999", ""],
    "是否法人单位": ["是", "否", "1", "x"],
    "成立日期": ["2015-04-18", "2015/4/18", "2015年4月18日", "2015-02-30", "2015-04", ""],
    "是否规上": ["是", "否", ""],
    "入统年月": ["", "2024-03", "2024.1", "2025-03", "2024年3月"],
    "上年营业收入": ["", "2000", "1999.99", "2,000.00", "1850.1234567", "-5", "1e3", "2000万元", "0.000001",
               "123456789012345", " 2000 "],
    "本年累计营业收入": ["", "1750.5", "0", "abc"],
    "累计截至月份": ["", "2024-11", "2024-13"],
    "本年累计利润总额": ["", "-12.5", "-0", "12.3456789"],
    "从业人员": ["", "86", "12.0", "-3", "1,200"],
    "标签": ["", "高技术；数字经济", "、"],
}


@settings(max_examples=25)
@given(st.lists(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in CELLS.items()}), min_size=1, max_size=12),
       st.sampled_from([2, 3, 100]))
def test_loader_agrees_with_the_register_reader_on_generated_files(tmp_path_factory, rows, chunk):
    import csv
    path = tmp_path_factory.mktemp("fuzz") / "r.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(list(CELLS))
        for r in rows:
            w.writerow([r[k] for k in CELLS])
    _same_read(path, chunk_rows=chunk)


def test_loaded_frame_evaluates_like_the_enterprises():
    policy, book = policy_and_rules()
    fast = read_register_frame(SAMPLE, as_of=AS_OF, policy=policy)
    cv = columnar()
    assert_same(evaluator(AS_OF).evaluate_many(sample_enterprises()), cv.evaluate_frame(fast.frame).results())
    assert np.all(fast.rows > 1)


def test_check_engine_columnar_prints_what_durable_prints():
    from click.testing import CliRunner
    from cli import main
    register = str(ROOT / "examples" / "register.csv")
    for fmt in ("table", "csv"):
        durable = CliRunner().invoke(main, ["check", register, "--as-of", "2024-12-31", "--format", fmt])
        columnar = CliRunner().invoke(main, ["check", register, "--as-of", "2024-12-31", "--format", fmt,
                                             "--engine", "columnar"])
        assert durable.exit_code == columnar.exit_code == 0
        assert durable.output == columnar.output
    refused = CliRunner().invoke(main, ["check", register, "--as-of", "2024-12-31", "--engine", "columnar",
                                        "--workers", "2"])
    assert refused.exit_code == 2 and "--engine columnar runs --workers" in refused.output


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=1 << 21), min_size=1, max_size=200),
       st.booleans())
def test_distinct_bit_sets_are_numbered_as_np_unique_numbers_them(values, with_high_bit):
    """The triggered/missing columns' codes: counted in a table for small bit sets, sorted for others
    (a bit set past the table, or bit 63 set): either way the same distinct sets and codes as np.unique."""
    from engine.columnar.summary_cells import DENSE_BITS, _distinct
    bits = np.array(values + ([-(1 << 63)] if with_high_bit else []), dtype=np.int64)
    uniq, inverse = _distinct(bits, DENSE_BITS)
    want_uniq, want_inverse = np.unique(bits, return_inverse=True)
    assert uniq.tolist() == want_uniq.tolist()
    assert inverse.tolist() == want_inverse.reshape(-1).tolist()
