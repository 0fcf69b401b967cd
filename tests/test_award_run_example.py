"""The payment patterns over time, with the FICTIONAL example policy (policies/example-district-2024:
40/60 split on staying in scope, a 3万 top-up for ≥10% growth in each of the 3 years after inclusion,
clawback on leaving scope within 2 years) and with Wanzhou reformed as data. Four award years are run
against one real ledger file; each year's register is the firms' facts as of 31 December."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from engine.awards.present import render_plan
from engine.awards.run import pay
from engine.awards.terms import Terms, schedule
from engine.awards.totals import town_totals
from engine.awards.ledger import Ledger
from tests.conftest import policy_and_rules, published_variant
from tests.test_award_run import firm, rows, run_year

EXAMPLE = "example-district-2024"
D = Decimal


def example_year(ledger, year, firms, **kw):
    policy, book = policy_and_rules(EXAMPLE)
    return run_year(ledger, year, firms, policy=policy, book=book, **kw)


def statuses(ledger, name):
    """(award kind, seq, instalment kind, amount in yuan, status) of one firm's instalments."""
    return rows(ledger, """SELECT a.kind, i.seq, i.kind, i.amount_fen / 100, i.status FROM instalments i
                             JOIN awards a USING (award_id) WHERE a.enterprise_name = ? ORDER BY a.kind, i.seq""",
                f"测试企业{name}")


def grow(year, pct, **facts):
    """Revenue to date through December of `year`, `pct` % above the same period of the year before."""
    before = D(2000)
    return dict(revenue_ytd=str(before * (100 + pct) / 100), revenue_ytd_last_year=str(before),
                ytd_through=f"{year}-12", **facts)


# The firms of the story, by year. 甲 stays and grows; 乙 leaves in the first year after inclusion;
# 丙 grows too slowly in 2026; 丁 is deregistered in the second year; 戊 (software, in the zone) has
# no growth figures in 2025 and leaves in the third year, after the clawback period.
A = dict(origin="小升规", tags=["高技术"], in_scope_since="2024-03", town="东湖街道")
B = dict(origin="招商引资", in_scope_since="2024-05", town="西山街道")
C = dict(origin="小升规", in_scope_since="2024-02", town="青石镇")
DD = dict(origin="招商引资", in_scope_since="2024-07", town="白鹭镇")
E = dict(origin="招商引资", industry_code="I6513", tags=["数字经济"], in_scope_since="2024-06", town="柳溪乡", in_park=True)


def story(year):
    if year == 2024:
        return [firm("甲", **A), firm("乙", **B), firm("丙", **C), firm("丁", **DD), firm("戊", **E)]
    if year == 2025:
        return [firm("甲", **A, **grow(2025, 10)), firm("乙", **{**B, "in_scope": False}),
                firm("丙", **C, **grow(2025, 12)), firm("丁", **DD, **grow(2025, 20)), firm("戊", **E)]
    if year == 2026:
        return [firm("甲", **A, **grow(2026, 15)), firm("乙", **{**B, "in_scope": False}),
                firm("丙", **C, **grow(2026, 5)), firm("丁", **DD, **grow(2026, 1), registration_status="注销"),
                firm("戊", **E, **grow(2026, 30))]
    return [firm("甲", **A, **grow(2027, 12)), firm("丙", **C, **grow(2027, 11)),
            firm("戊", **{**E, "in_scope": False}, **grow(2027, 40))]


def test_the_example_policy_is_fictional_and_cites_its_own_clauses():
    policy, _ = policy_and_rules(EXAMPLE)
    assert policy.meta.fictional and policy.meta.document_number == "示例府办发〔2024〕1号"
    on = date(2024, 12, 31)
    for name, clause in (("enterprise_award_investment", "三(一)"), ("enterprise_award_small_to_scale", "三(一)"),
                         ("award_tag_bonus", "三(一)"), ("town_award_per_enterprise", "三(一)"),
                         ("award_first_instalment_share", "三(一)"), ("growth_topup_amount", "三(一)"),
                         ("growth_topup_rate", "三(一)"), ("growth_topup_years", "三(一)"), ("clawback_years", "三(一)")):
        p = policy.param(name, on)
        assert (p.provenance, p.clause) == ("source", clause), name
    assert policy.param("enterprise_award_industrial", on).provenance == "assumed"


def test_amounts_and_instalments_per_enterprise_in_the_year_of_inclusion(tmp_path):
    ledger = tmp_path / "example.db"
    plan = example_year(ledger, 2024, story(2024))
    got = {(a.name[-1], a.kind): (a.amount, [(i.kind, i.due_year, i.amount, i.condition, i.status)
                                               for i in a.instalments]) for a in plan.new_awards}
    split = lambda total: [("instalment", 2024, total * D("0.4"), "none", "payable"),            # noqa: E731
                           ("instalment", 2025, total * D("0.6"), "in_scope_at_next_review", "pending"),
                           ("topup", 2027, D(30000), "growth_each_year", "pending")]
    assert got[("甲", "enterprise")] == (D(70000), split(D(70000)))      # 小升规 5万 + 高技术 2万
    assert got[("乙", "enterprise")] == (D(70000), split(D(70000)))      # 招商引资 7万
    assert got[("丙", "enterprise")] == (D(50000), split(D(50000)))      # 小升规 5万
    assert got[("丁", "enterprise")] == (D(70000), split(D(70000)))
    assert got[("戊", "enterprise")] == (D(120000), split(D(120000)))    # software 10万 + 数字经济 2万
    for key in "甲乙丙丁戊":
        assert got[(key, "town")] == (D(10000), [("instalment", 2024, D(10000), "none", "payable")])
    assert {a.clawback_years for a in plan.new_awards if a.kind == "enterprise"} == {2}
    assert {a.beneficiary for a in plan.new_awards if a.kind == "town"} == {"东湖街道", "西山街道", "青石镇", "白鹭镇", "柳溪乡"}
    totals = town_totals(plan, policy_and_rules(EXAMPLE)[0])[-1]
    assert (totals["award"], totals["payable"], totals["deferred"]) == (D(430000), D(152000) + D(50000), D(228000))
    text = render_plan(plan, policy_and_rules(EXAMPLE)[0], "zh", "run", True)
    assert "第1笔 分期 28,000.00元，2024年度，无附加条件：应付" in text
    assert "第2笔 分期 42,000.00元，2025年度，次年年报时仍在规上：待考核" in text
    assert "第3笔 成长追加奖励 30,000.00元，2027年度，入统后每年营业收入增速达标（3年每年增速不低于10%）：待考核" in text
    assert "企业奖励拨付条款：首期 40%（依据：本文件三(一)）" in text
    assert "入统后2年内退规的追回已拨付部分（依据：本文件三(一)）。乡镇（街道）奖励一次性拨付，不追回。" in text


def test_four_years_of_instalments_top_ups_forfeits_and_clawbacks(tmp_path):
    ledger = tmp_path / "example.db"
    example_year(ledger, 2024, story(2024))
    with Ledger.open(ledger) as opened:                       # the first instalments are paid in March 2025
        paid = pay(opened, paid_on=date(2025, 3, 20), reference="示财〔2025〕1号", year=2024, enterprise_ids=(),
                   commit=True)
    assert sum(r["amount"] for r in paid) == D(152000) + D(50000)

    # ---- 2025 review
    plan = example_year(ledger, 2025, story(2025))
    assert statuses(ledger, "甲")[:3] == [("enterprise", 1, "instalment", 28000, "paid"),
                                         ("enterprise", 2, "instalment", 42000, "payable"),
                                         ("enterprise", 3, "topup", 30000, "pending")]
    # 乙 left scope in the first year after inclusion: what was paid is clawed back, the rest forfeited.
    assert statuses(ledger, "乙") == [("enterprise", 1, "instalment", 28000, "clawed_back"),
                                     ("enterprise", 2, "instalment", 42000, "forfeited"),
                                     ("enterprise", 3, "topup", 30000, "forfeited"),
                                     ("town", 1, "instalment", 10000, "paid")]     # the town award is not recovered
    assert [(k.name, k.amount, k.review_year, k.exit_date.isoformat()) for k in plan.clawbacks] == \
        [("测试企业乙", D(28000), 2025, "2025-12-31")]
    assert [(g.name, str(g.growth), g.met) for g in plan.growth_checks] == \
        [("测试企业甲", "1/10", True), ("测试企业丙", "3/25", True), ("测试企业丁", "1/5", True)]   # 10% exactly meets ≥10%
    assert [n.code for n in plan.notes] == ["growth_missing"] and plan.notes[0].name == "测试企业戊"
    assert statuses(ledger, "戊")[1:3] == [("enterprise", 2, "instalment", 72000, "payable"),
                                          ("enterprise", 3, "topup", 30000, "pending")]
    totals = town_totals(plan, policy_and_rules(EXAMPLE)[0])
    assert totals[-1]["clawback"] == D(28000) and totals[-1]["forfeited"] == D(72000)
    assert totals[-1]["payable"] == D(42000) + D(30000) + D(42000) + D(72000)
    assert next(r for r in totals if r["place"] == "西山街道" and r["beneficiary_type"] == "enterprise")["clawback"] == D(28000)
    text = render_plan(plan, policy_and_rules(EXAMPLE)[0], "zh", "run", True)
    assert "测试企业乙 追回已拨付的企业奖励 2.80万元（28,000.00元）：入统 2024-05，2025-12-31 核算时已退出规上（追回期2年）" in text
    assert "成长考核 2025年：本年累计营业收入 2,200.00万元（22,000,000.00元）（截至 2025-12），上年同期 2,000.00万元" in text
    assert "增速 10%，要求不低于 10%：达标" in text
    assert "2025年度成长考核缺少数据" in text

    # A re-run of 2025 with 戊's figures filled in records only the missing growth check.
    fixed = [f if f.name != "测试企业戊" else firm("戊", **E, **grow(2025, 25)) for f in story(2025)]
    rerun = example_year(ledger, 2025, fixed)
    assert [(g.name, g.review_year, g.met) for g in rerun.growth_checks] == [("测试企业戊", 2025, True)]
    assert rerun.new_awards == [] and [c for c in rerun.changes] == [] and rerun.clawbacks == []

    with Ledger.open(ledger) as opened:
        pay(opened, paid_on=date(2026, 3, 20), reference="示财〔2026〕1号", year=2025, enterprise_ids=(), commit=True)

    # ---- 2026 review
    plan = example_year(ledger, 2026, story(2026))
    assert statuses(ledger, "丙")[2] == ("enterprise", 3, "topup", 30000, "forfeited")      # grew 5% < 10%
    assert [c.reason for c in plan.changes if c.name == "测试企业丙"] == ["growth_below_rate"]
    # 丁 deregistered (注销) in the second year after inclusion: both paid instalments are clawed back.
    assert statuses(ledger, "丁")[:3] == [("enterprise", 1, "instalment", 28000, "clawed_back"),
                                         ("enterprise", 2, "instalment", 42000, "clawed_back"),
                                         ("enterprise", 3, "topup", 30000, "forfeited")]
    assert [(k.name, k.amount) for k in plan.clawbacks] == [("测试企业丁", D(70000))]
    assert [(e.name, e.kind, e.detail) for e in plan.events] == [("测试企业丁", "exit", "注销")]
    assert statuses(ledger, "甲")[2][4] == "pending" and statuses(ledger, "戊")[2][4] == "pending"

    # ---- 2027 review: the last growth year
    plan = example_year(ledger, 2027, story(2027))
    assert statuses(ledger, "甲")[2] == ("enterprise", 3, "topup", 30000, "payable")        # 3 years ≥ 10%
    assert [c.reason for c in plan.changes if c.name == "测试企业甲"] == ["growth_met_each_year"]
    # 戊 left in the third year: outside the clawback period (2 years), so nothing is recovered, but
    # the top-up needs it in scope at the review and is forfeited.
    assert plan.clawbacks == []
    assert statuses(ledger, "戊") == [("enterprise", 1, "instalment", 48000, "paid"),
                                     ("enterprise", 2, "instalment", 72000, "paid"),
                                     ("enterprise", 3, "topup", 30000, "forfeited"),
                                     ("town", 1, "instalment", 10000, "paid")]
    assert rows(ledger, "SELECT count(*), sum(met) FROM growth_checks") == [(8, 7)]   # 丙 2026 missed
    assert rows(ledger, "SELECT sum(amount_fen) / 100 FROM clawbacks") == [(98000,)]
    with Ledger.open(ledger) as opened:
        assert opened.verify() == []
    # Money is never lost: every fen awarded is paid, payable, forfeited or clawed back, and the
    # instalments of each award add up to it.
    assert rows(ledger, """SELECT sum(amount_fen) FROM instalments WHERE kind = 'instalment'""") == \
        rows(ledger, "SELECT sum(amount_fen) FROM awards")


def test_an_instalment_is_forfeited_when_the_enterprise_leaves_scope(tmp_path):
    """Wanzhou reformed as data: half now, half at the next review if still in scope, no clawback."""
    _, book = policy_and_rules("wanzhou-2022-80")
    split = published_variant("split", date(2022, 1, 1), {
        "award_first_instalment_share": "0.5", "award_instalment_condition": "in_scope_at_next_review"})
    ledger = tmp_path / "split.db"
    stay, leave = dict(in_scope_since="2024-04"), dict(in_scope_since="2024-09", town="五桥街道")
    run_year(ledger, 2024, [firm("留", **stay), firm("走", **leave)], policy=split, book=book)
    plan = run_year(ledger, 2025, [firm("留", **stay), firm("走", **leave, registration_status="吊销")],
                    policy=split, book=book)
    assert [(c.name, c.seq, c.old, c.new, c.reason) for c in plan.changes] == [
        ("测试企业留", 2, "pending", "payable", "in_scope_at_review"),
        ("测试企业走", 2, "pending", "forfeited", "not_in_scope_at_review")]
    assert plan.clawbacks == []
    assert statuses(ledger, "走") == [("enterprise", 1, "instalment", 50000, "payable"),
                                     ("enterprise", 2, "instalment", 50000, "forfeited"),
                                     ("town", 1, "instalment", 20000, "payable")]
    again = run_year(ledger, 2025, [firm("留", **stay), firm("走", **leave, registration_status="吊销")],
                     policy=split, book=book)
    assert again.is_empty and again.run_id is None and len(again.committed_changes) == 2


def test_an_enterprise_missing_from_the_register_is_not_settled(tmp_path):
    policy, book = policy_and_rules(EXAMPLE)
    ledger = tmp_path / "missing.db"
    example_year(ledger, 2024, [firm("甲", **A), firm("丙", **C)])
    plan = example_year(ledger, 2025, [firm("甲", **A, **grow(2025, 11))])
    assert [(n.code, n.name, n.detail) for n in plan.notes] == [("not_in_register", "测试企业丙",
                                                                  {"pending_yuan": "60000.00"})]
    assert statuses(ledger, "丙")[1][4] == "pending"


# ---------------------------------------------------------------- the split's arithmetic
def _terms(share: Decimal) -> Terms:
    values = {"award_first_instalment_share": share, "award_instalment_condition": "in_scope_at_next_review",
              "growth_topup_amount": Decimal(0), "growth_topup_rate": Decimal("0.1"), "growth_topup_years": 3,
              "clawback_years": 0}
    return Terms({k: SimpleNamespace(value=v) for k, v in values.items()}, ())


def test_the_fen_remainder_goes_to_the_last_instalment():
    parts = schedule(D("33333.33"), 2024, _terms(D("0.4")), "enterprise")
    assert [(p.amount, p.takes_remainder) for p in parts] == [(D("13333.33"), False), (D("20000.00"), True)]
    assert schedule(D("70000"), 2024, _terms(D("1")), "enterprise")[0].amount == D("70000")
    assert [p.status for p in schedule(D("70000"), 2024, _terms(D("0")), "enterprise")] == ["pending"]


@given(fen=st.integers(min_value=1, max_value=100_000_000), share=st.integers(min_value=0, max_value=100))
def test_instalments_always_add_up_exactly_to_the_award(fen, share):
    amount, ratio = D(fen) / 100, D(share) / 100
    parts = schedule(amount, 2024, _terms(ratio), "enterprise")
    assert sum(p.amount for p in parts) == amount
    assert all(p.amount > 0 and p.amount == p.amount.quantize(D("0.01")) for p in parts)
    assert parts[0].amount <= amount * ratio or parts[0].status == "pending"


# ---------------------------------------------------------------- the worked example of docs/policy-authoring.md
def test_the_walkthrough_in_the_authoring_guide_gives_the_figures_it_shows(tmp_path):
    import csv
    import io

    from click.testing import CliRunner

    from cli import main
    from tests.conftest import ROOT
    registers = ROOT / "policies" / EXAMPLE / "sample-registers"
    ledger = str(tmp_path / "example.db")

    def cli(*args):
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def town_total(year):
        out = cli("awards", registers / f"{year}.csv", "--year", year, "--policy", EXAMPLE, "--ledger", ledger,
                  "--by", "town", "--format", "csv")
        table = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
        return dict(zip(table[0], table[-1]))

    first = cli("awards", registers / "2024.csv", "--year", 2024, "--policy", EXAMPLE, "--ledger", ledger, "--commit")
    assert "【本次新增奖励】10 项，合计 43.00万元（430,000.00元）" in first
    assert "企业奖励拨付条款：首期 40%（依据：本文件三(一)），余款次年年报时仍在规上的拨付（依据：本文件三(一)）" in first
    assert town_total(2024) == {"乡镇（街道）": "合计", "奖励对象类型": "", "户数": "5", "奖励金额（元）": "430000.00",
                                "本年应付（元）": "202000.00", "暂缓拨付（元）": "228000.00", "取消（元）": "0.00",
                                "追回（元）": "0.00", "金额依据": "政策原文"}      # the example states its amounts
    paid = cli("ledger", "pay", "--ledger", ledger, "--year", 2024, "--paid-on", "2025-03-20",
               "--reference", "示财〔2025〕8号", "--commit")
    assert "已登记拨付：10 笔，合计 202,000.00元" in paid
    second = cli("awards", registers / "2025.csv", "--year", 2025, "--policy", EXAMPLE, "--ledger", ledger, "--commit")
    assert "示例区示例机械有限公司（东湖街道）企业奖励 5.00万元（50,000.00元）：非首次：台账记载更早的入统或退规" in second
    assert "示例区西山新材有限公司 追回已拨付的企业奖励 2.80万元（28,000.00元）" in second
    assert "示例区青石食品有限公司 企业奖励第3笔（成长追加奖励）30,000.00元：待考核 → 取消，营业收入增速未达标" in second
    total = town_total(2025)
    assert (total["本年应付（元）"], total["取消（元）"], total["追回（元）"]) == ("186000.00", "102000.00", "28000.00")
