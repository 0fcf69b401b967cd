"""The town award per net increase of firms in scope (town_award_basis = per_net_increase) in the ledger:
the year-end run records one award per town and year with the entries and exits it counted (and from
where), a re-run records nothing twice and says when it counts differently, `ledger pay` pays it once,
`ledger show` and the export list it, and the ledger's triggers keep it as recorded."""
from __future__ import annotations

import csv
import json
import sqlite3
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cli import main
from engine.awards.net_increase import TownNetIncrease, with_ledger
from engine.awards.present import plan_json, render_plan
from tests.conftest import policy_and_rules, published_variant
from tests.test_award_run import WANZHOU, firm, run_year


def cli(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def net():
    _, book = policy_and_rules(WANZHOU)
    return published_variant("net", date(2022, 1, 1), {"town_award_basis": "per_net_increase"}, WANZHOU), book


@pytest.fixture(scope="module")
def year_2024(tmp_path_factory, net):
    """2023: two firms enter (C in 分水镇, D in 龙都街道). 2024: A and B enter 分水镇, C and D leave."""
    policy, book = net
    ledger = tmp_path_factory.mktemp("net") / "awards.db"
    old_c = firm("净增C", in_scope_since="2019-03", previously_in_scope=None)
    old_d = firm("净增D", town="龙都街道", in_scope_since="2020-05", previously_in_scope=None)
    run_year(ledger, 2023, [old_c, old_d], policy=policy, book=book)
    year = [firm("净增A", in_scope_since="2024-03"), firm("净增B", in_scope_since="2024-05"),
            old_c.model_copy(update={"in_scope": False}), old_d.model_copy(update={"in_scope": False})]
    plan = run_year(ledger, 2024, year, policy=policy, book=book)
    return ledger, year, plan


def town_awards(ledger) -> list[dict]:
    conn = sqlite3.connect(str(ledger))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM town_awards ORDER BY town_award_id")]
    finally:
        conn.close()


def test_the_year_end_run_records_one_town_award_per_town_with_what_it_counted(year_2024, net):
    ledger, _, plan = year_2024
    assert plan.run_id is not None
    rows = town_awards(ledger)
    assert [(r["place"], r["award_year"], r["entries"], r["exits"], r["amount_fen"], r["amount_basis"], r["status"])
            for r in rows] == [("分水镇", 2024, 2, 1, 2_000_000, "assumed", "payable")]   # 龙都街道: net −1, nothing
    counted = json.loads(rows[0]["counted"])
    assert [(c["name"], c["source"]) for c in counted["entries"]] == [("测试企业净增A", "register"),
                                                                      ("测试企业净增B", "register")]
    assert [(c["name"], c["date"]) for c in counted["exits"]] == [("测试企业净增C", "2024-12-31")]
    text = render_plan(plan, net[0], "zh", "run", committing=True)
    assert "分水镇：新进 2 户，退出 1 户，净增 1 户 → 2.00万元（20,000.00元）（假定值）；本次入账，应付" in text
    assert "【合计】2024年度全部运行：新增奖励 22.00万元（220,000.00元）【含假定金额】" in text


def test_a_rerun_records_nothing_twice_and_reports_a_different_count(year_2024, net):
    ledger, year, _ = year_2024
    policy, book = net
    again = run_year(ledger, 2024, year, policy=policy, book=book, commit=False)
    assert again.is_empty and not [n for n in again.notes if n.code == "town_net_differs"]
    fenshui = next(t for t in again.town_net if t.place == "分水镇")
    assert fenshui.recorded.amount == Decimal("20000.00") and not fenshui.to_record
    doc = plan_json(again, policy)
    row = next(t for t in doc["town_net_increase"] if t["place"] == "分水镇")
    assert row["recorded"] == {"run_id": 2, "amount_yuan": "20000.00", "status": "payable"}
    # A late firm of 2024 found by a later run: the recorded award stands, the officer is told.
    late = run_year(ledger, 2024, [*year, firm("净增E", in_scope_since="2024-09")], policy=policy, book=book,
                    commit=False)
    [note] = [n for n in late.notes if n.code == "town_net_differs"]
    assert note.detail == {"place": "分水镇", "run_id": 2, "recorded_yuan": "20000.00", "computed_yuan": "40000.00"}
    assert "分水镇 乡镇（街道）净增奖励：第2次运行已入账 20,000.00元，本次按净增户数计为 40,000.00元" in \
        render_plan(late, policy, "zh", "run", committing=False)


def test_a_count_before_the_years_end_is_shown_not_recorded():
    row = TownNetIncrease("分水镇", "town", Decimal("20000"), "assumed")
    row.entries.append(object())
    assert with_ledger([row], {}, 2024, date(2024, 6, 30)) == [] and not row.to_record
    assert with_ledger([row], {}, 2024, date(2024, 12, 31)) == [] and row.to_record


def test_ledger_pay_pays_the_town_award_once_and_show_lists_it(year_2024, tmp_path):
    ledger = tmp_path / "copy.db"
    ledger.write_bytes(year_2024[0].read_bytes())
    dry = cli("ledger", "pay", "--ledger", ledger, "--year", 2024, "--paid-on", "2025-01-20", "--reference", "财拨1号")
    assert "分水镇 乡镇（街道）净增奖励（净增 1 户） 2024年度 一次性 20,000.00元（假定值）" in dry
    assert "【含假定金额】" in dry
    cli("ledger", "pay", "--ledger", ledger, "--year", 2024, "--paid-on", "2025-01-20", "--reference", "财拨1号",
        "--commit")
    assert [(r["status"], r["payment_id"] is not None) for r in town_awards(ledger)] == [("paid", True)]
    again = cli("ledger", "pay", "--ledger", ledger, "--paid-on", "2025-02-01", "--reference", "财拨2号")
    assert "分水镇" not in again
    shown = cli("ledger", "show", "--ledger", ledger)
    assert "乡镇（街道）净增奖励：应付 0 项 0.00元；已付 1 项 20,000.00元（其中假定值 20,000.00元）" in shown
    en = cli("ledger", "show", "--ledger", ledger, "--lang", "en")
    assert "Town awards per net increase: payable 0 (0.00 yuan); paid 1 (20,000.00 yuan, of which assumed" in en
    out = tmp_path / "export"
    cli("ledger", "export", "--ledger", ledger, "--out", out)
    with open(out / "town_awards.csv", encoding="utf-8-sig") as f:
        [exported] = list(csv.DictReader(f))
    assert (exported["place"], exported["amount_yuan"], exported["amount_basis"]) == ("分水镇", "20000.00", "assumed")


def test_a_recorded_town_award_cannot_be_changed_or_paid_twice(year_2024, tmp_path):
    ledger = tmp_path / "copy.db"
    ledger.write_bytes(year_2024[0].read_bytes())
    conn = sqlite3.connect(str(ledger))
    try:
        for sql in ("UPDATE town_awards SET amount_fen = 4000000, entries = 3",
                    "UPDATE town_awards SET status = 'paid'",                 # paid without a payment
                    "DELETE FROM town_awards"):
            with pytest.raises(sqlite3.DatabaseError):
                conn.execute(sql)
    finally:
        conn.close()
