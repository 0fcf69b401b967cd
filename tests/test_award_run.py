"""Award runs against a real ledger file (SQLite in a temp folder, no mocks): idempotent re-runs, 首次
checked against the ledger's history, town totals, the `awards` command's outputs, two processes
committing at once, and a process killed in the middle of its commit."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from engine.awards.plan import RunContext, prepare_items
from engine.awards.present import render_plan, words
from engine.awards.run import commit_run, dry_run
from engine.awards.totals import town_totals
from engine.evaluate import Evaluator
from engine.awards.ledger import Ledger
from tests.conftest import ROOT, enterprise, policy_and_rules, published_variant, uscc_for
from tests.faults.sqlite_hook import PAUSE_MARK

REGISTER = ROOT / "examples" / "register.csv"
WANZHOU = "wanzhou-2022-80"
_EVALUATORS: dict = {}


# ---------------------------------------------------------------- helpers (also used by test_award_run_example.py)
def firm(key: str, **facts):
    """An enterprise with a stable id (the same firm across years), register conventions (万元)."""
    base = dict(enterprise_id=uscc_for(key), name=f"测试企业{key}", town="分水镇", in_park=False,
                industry_code="C3484", is_legal_person=True, established_on="2015-04-18", in_scope=True,
                previously_in_scope=False)
    base.update(facts)
    return enterprise(**base)


def run_year(ledger_path: Path, year: int, firms: list, *, policy=None, book=None, commit: bool = True):
    """Evaluate `firms` as of 31 December of `year` and commit (or dry-run) the award run."""
    if policy is None:
        policy, book = policy_and_rules(WANZHOU)
    as_of = date(year, 12, 31)
    key = (id(policy), as_of)
    if key not in _EVALUATORS:
        _EVALUATORS[key] = (policy, Evaluator(policy, book, as_of))   # keep the policy alive with its id
    evaluator = _EVALUATORS[key][1]
    facts = ledger_path.parent / f"facts-{year}-{len(firms)}.json"
    facts.write_text(json.dumps([f.model_dump(mode="json") for f in firms], ensure_ascii=False), encoding="utf-8")
    ctx = RunContext.build(year, as_of, policy, book, facts)
    items = prepare_items(ctx, list(enumerate(firms, start=2)), [evaluator.evaluate(f) for f in firms])
    with Ledger.open(ledger_path) as ledger:
        return commit_run(ledger, ctx, items) if commit else dry_run(ledger, ctx, items)


def rows(ledger_path: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(str(ledger_path))
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def count(ledger_path: Path, table: str) -> int:
    return rows(ledger_path, f"SELECT count(*) FROM {table}")[0][0]


def run_cli(*args, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    finally:
        os.chdir(old)


def scaleup_process(*args, cwd: Path, fault: tuple = ()) -> subprocess.Popen:
    """The command in its own process; `fault` ("pause", seconds) or ("kill", n) plants a fault in SQLite
    from outside the program (tests/faults/sqlite_hook.py)."""
    program = [str(ROOT / "tests" / "faults" / "sqlite_hook.py"), *map(str, fault)] if fault else [str(ROOT / "cli.py")]
    return subprocess.Popen([sys.executable, *program, *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")


@pytest.fixture(scope="module")
def committed_2024(tmp_path_factory):
    """The sample register's 2024 run, committed once; tests copy the file before changing it."""
    path = tmp_path_factory.mktemp("committed") / "awards.db"
    result = run_cli("awards", REGISTER, "--year", 2024, "--ledger", path, "--commit")
    assert result.exit_code == 0, result.output
    return path, result.output


@pytest.fixture
def ledger_2024(committed_2024, tmp_path):
    path = tmp_path / "awards.db"
    shutil.copyfile(committed_2024[0], path)      # closed cleanly: the WAL is checkpointed into the file
    return path


# ---------------------------------------------------------------- idempotence
def test_committing_the_same_year_twice_records_it_once(committed_2024, ledger_2024):
    ledger = ledger_2024
    assert "已入账：第1次运行" in committed_2024[1]
    snapshot = {t: count(ledger, t) for t in ("runs", "awards", "instalments", "status_changes", "scope_events")}
    assert snapshot["runs"] == 1 and snapshot["awards"] == 12      # 6 enterprises, each with its town's award

    again = run_cli("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--commit")
    assert again.exit_code == 0, again.output
    assert "无新增事项" in again.output and "【本次新增奖励】0 项" in again.output
    assert {t: count(ledger, t) for t in snapshot} == snapshot
    # The year's view is the same after the re-run: the committed awards are shown, not added again.
    assert "【本年度此前已入账的奖励】12 项，合计 72.00万元" in again.output
    assert "【合计】2024年度全部运行：新增奖励 72.00万元（720,000.00元）" in again.output


def test_the_database_itself_refuses_a_second_award_for_the_same_enterprise(ledger_2024):
    conn = sqlite3.connect(str(ledger_2024))
    award = conn.execute("SELECT * FROM awards WHERE kind = 'enterprise' LIMIT 1").fetchone()
    cols = [d[0] for d in conn.execute("SELECT * FROM awards LIMIT 0").description]
    row = dict(zip(cols, award))
    row.pop("award_id")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute(f"INSERT INTO awards ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    conn.close()


def test_a_late_row_is_added_by_a_second_run_and_nothing_else(tmp_path):
    ledger = tmp_path / "awards.db"
    text = REGISTER.read_text(encoding="utf-8-sig").splitlines()
    late = next(i for i, line in enumerate(text) if line.startswith("915001017MCA3DQ0WU"))
    partial = tmp_path / "register-partial.csv"
    partial.write_text("\n".join(text[:late] + text[late + 1:]) + "\n", encoding="utf-8")
    assert run_cli("awards", partial, "--year", 2024, "--ledger", ledger, "--commit").exit_code == 0
    assert count(ledger, "awards") == 10
    result = run_cli("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--commit")
    assert "【本次新增奖励】2 项，合计 12.00万元" in result.output
    assert "已入账：第2次运行" in result.output
    assert rows(ledger, "SELECT DISTINCT enterprise_id FROM awards WHERE run_id = 2") == [("915001017MCA3DQ0WU",)]
    assert count(ledger, "awards") == 12


def test_a_dry_run_writes_nothing_and_does_not_create_the_ledger(tmp_path, ledger_2024):
    result = run_cli("awards", REGISTER, "--year", 2024, cwd=tmp_path)
    assert result.exit_code == 0
    assert "试算：台账未改变" in result.output and "（尚不存在，按空台账试算；--commit 时创建）" in result.output
    assert not (tmp_path / "scaleup.db").exists()
    ledger = ledger_2024
    before = ledger.read_bytes()
    dry = run_cli("awards", REGISTER, "--year", 2024, "--ledger", ledger)
    assert "【本年度此前已入账的奖励】12 项" in dry.output
    assert ledger.read_bytes() == before


# ---------------------------------------------------------------- first time (首次) against the ledger
def test_an_earlier_entry_in_the_ledger_withholds_the_award_whatever_the_register_says(tmp_path):
    ledger = tmp_path / "awards.db"
    old = firm("老厂", in_scope_since="2019-05")
    assert run_year(ledger, 2024, [old]).run_id == 1          # records the entry of 2019-05
    # Next year the register (wrongly) shows a first inclusion in 2025 and 曾经入统 = 否.
    again = firm("老厂", in_scope_since="2025-03", previously_in_scope=False)
    plan = run_year(ledger, 2025, [again], commit=False)
    assert plan.new_awards == []
    assert [(w.kind, w.reason, w.detail["date"]) for w in plan.withheld] == \
        [("enterprise", "earlier_entry", "2019-05-01"), ("town", "earlier_entry", "2019-05-01")]
    text = render_plan(plan, policy_and_rules(WANZHOU)[0], "zh", "run", False)
    assert "非首次：台账记载更早的入统或退规（入统 2019-05-01，第1次运行；登记表入统年月 2025-03）" in text
    assert "以台账为准" in text
    en = render_plan(plan, policy_and_rules(WANZHOU)[0], "en", "run", False)
    assert "not a first entry: the ledger records an earlier entry or exit" in en


def test_an_earlier_award_withholds_a_second_one(tmp_path):
    ledger = tmp_path / "awards.db"
    new = firm("新厂", in_scope_since="2024-04")
    first = run_year(ledger, 2024, [new])
    assert [a.amount for a in first.new_awards] == [Decimal("100000"), Decimal("20000")]
    back = firm("新厂", in_scope_since="2025-02")
    plan = run_year(ledger, 2025, [back])
    assert plan.new_awards == []
    assert {(w.reason, w.detail["award_year"]) for w in plan.withheld} == {("awarded_before", 2024)}
    assert count(ledger, "awards") == 2


def test_exit_then_reentry_is_recorded_and_the_reentry_is_not_first(tmp_path):
    ledger = tmp_path / "awards.db"
    run_year(ledger, 2022, [firm("起伏", in_scope_since="2022-02")])
    run_year(ledger, 2023, [firm("起伏", in_scope=False, in_scope_since=None)])
    assert rows(ledger, "SELECT kind, event_date, date_basis FROM scope_events ORDER BY event_id") == \
        [("entry", "2022-02-01", "in_scope_since"), ("exit", "2023-12-31", "observed")]
    plan = run_year(ledger, 2024, [firm("起伏", in_scope_since="2024-05")])
    assert plan.new_awards == [] and {w.reason for w in plan.withheld} == {"awarded_before"}
    assert [(e.kind, e.event_date.isoformat()) for e in plan.events] == [("entry", "2024-05-01")]


def test_a_deregistered_firm_marked_in_scope_is_recorded_as_leaving(tmp_path):
    ledger = tmp_path / "awards.db"
    run_year(ledger, 2024, [firm("迁走", in_scope_since="2020-01")])
    plan = run_year(ledger, 2025, [firm("迁走", in_scope_since="2020-01", registration_status="迁出")])
    assert [(e.kind, e.detail) for e in plan.events] == [("exit", "迁出")]


# ---------------------------------------------------------------- town totals
def test_town_totals_add_up_to_the_awards_and_count_each_enterprise_once(tmp_path):
    ledger = tmp_path / "awards.db"
    firms = [firm("甲", in_scope_since="2024-01", town="高峰街道"), firm("乙", in_scope_since="2024-02", town="高峰街道"),
             firm("丙", in_scope_since="2024-03", town="五桥街道", in_park=True)]
    plan = run_year(ledger, 2024, firms)
    policy = policy_and_rules(WANZHOU)[0]
    totals = town_totals(plan, policy)
    body, total = totals[:-1], totals[-1]
    assert [(r["place"], r["beneficiary_type"], r["enterprises"], r["award"]) for r in body] == [
        ("五桥街道", "enterprise", 1, Decimal("100000")), ("五桥街道", "town", 1, Decimal("20000")),
        ("高峰街道", "enterprise", 2, Decimal("200000")), ("高峰街道", "town", 2, Decimal("40000"))]
    assert total["award"] == sum(a.amount for a in plan.new_awards) == Decimal("360000")
    assert total["payable"] == total["award"] and total["enterprises"] == 3


def test_park_firms_can_credit_the_development_zone_by_parameter(tmp_path):
    _, book = policy_and_rules(WANZHOU)
    zone = published_variant("zone", date(2022, 1, 1), {"town_award_park_attribution": "development_zone"}, WANZHOU)
    plan = run_year(tmp_path / "awards.db", 2024, [firm("园区", in_scope_since="2024-03", in_park=True)],
                    policy=zone, book=book)
    town_award = next(a for a in plan.new_awards if a.kind == "town")
    assert (town_award.beneficiary, town_award.beneficiary_type) == ("万州经开区", "development_zone")
    assert [(r["place"], r["beneficiary_type"]) for r in town_totals(plan, zone)[:-1]] == \
        [("分水镇", "enterprise"), ("万州经开区", "development_zone")]


def test_by_town_csv_has_chinese_headers_and_matches_the_table(tmp_path, ledger_2024):
    ledger = ledger_2024
    out = tmp_path / "towns.csv"
    result = run_cli("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--by", "town", "--format", "csv",
                     "--out", out)
    assert result.exit_code == 0
    raw = out.read_text(encoding="utf-8")
    assert raw.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))
    assert table[0] == ["乡镇（街道）", "奖励对象类型", "户数", "奖励金额（元）", "本年应付（元）", "暂缓拨付（元）", "取消（元）", "追回（元）",
                        "金额依据"]
    assert table[-1][:4] == ["合计", "", "6", "720000.00"] and table[-1][-1] == "假定值（待确认）"
    assert sum(Decimal(r[3]) for r in table[1:-1]) == Decimal("720000.00")
    assert {r[1] for r in table[1:-1]} == {"企业", "乡镇（街道）"}
    shown = run_cli("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--by", "town")
    assert "乡镇（街道）  奖励对象类型  户数  奖励金额（元）" in shown.output
    assert "合计" in shown.output and "720,000.00" in shown.output


def test_xlsx_has_both_sheets_with_numbers_and_neutralised_text(tmp_path):
    text = REGISTER.read_text(encoding="utf-8-sig")
    hostile = tmp_path / "register.csv"
    hostile.write_text(text.replace("重庆万州汀兰制药有限公司", "=1+2汀兰制药"), encoding="utf-8")
    out = tmp_path / "awards.xlsx"
    result = run_cli("awards", hostile, "--year", 2024, "--ledger", tmp_path / "a.db", "--by", "town",
                     "--format", "xlsx", "--out", out)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["乡镇（街道）汇总", "奖励明细"]
    towns = list(book["乡镇（街道）汇总"].values)
    assert towns[0][0] == "乡镇（街道）" and towns[-1][0] == "合计" and towns[-1][3] == 720000
    lines = list(book["奖励明细"].values)
    assert lines[0][:2] == ("统一社会信用代码", "企业名称")
    names = [r[1] for r in lines[1:]]
    assert "'=1+2汀兰制药" in names and not any(str(n).startswith("=") for n in names)


def test_json_output_names_the_run_and_every_award(tmp_path):
    ledger = tmp_path / "awards.db"
    result = run_cli("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--commit", "--format", "json")
    doc = json.loads(result.output)
    assert doc["committed"] is True and doc["run_id"] == 1 and doc["as_of"] == "2024-12-31"
    assert doc["policy"] == WANZHOU and len(doc["policy_hash"]) == 64
    assert len(doc["new_awards"]) == 12
    award = doc["new_awards"][0]
    assert award["amount_yuan"] == "100000.00" and len(award["decision_id"]) == 64
    assert award["instalments"] == [{"seq": 1, "kind": "instalment", "due_year": 2024, "amount_yuan": "100000.00",
                                     "condition": "none", "status": "payable", "growth_rate": None,
                                     "growth_years": None, "takes_remainder": False}]
    assert doc["town_totals"][-1]["award_yuan"] == "720000.00"
    # The decision id is the audit record's: the ledger keeps the record itself, verifiable later.
    record = json.loads(rows(ledger, "SELECT record FROM audit_records WHERE decision_id = ?", award["decision_id"])[0][0])
    from engine.awards.audit import decision_id_of
    assert decision_id_of(record) == award["decision_id"]
    assert record["input"]["source"] == {"file": "register.csv", "row": award_row(award["enterprise_id"])}
    # ... and the same id `scaleup audit` gives the same decision.
    audit = run_cli("audit", REGISTER, "--as-of", "2024-12-31", "--out", tmp_path / "audit")
    assert {line.split("\t")[1] for line in audit.output.splitlines() if "\t" in line} == \
        {a["decision_id"] for a in doc["new_awards"]}


def award_row(enterprise_id: str) -> int:
    lines = REGISTER.read_text(encoding="utf-8-sig").splitlines()
    return next(i + 1 for i, line in enumerate(lines) if line.startswith(enterprise_id))


def test_the_run_records_policy_hash_register_hash_and_as_of(committed_2024):
    ledger = committed_2024[0]
    ((year, as_of, policy_id, doc, policy_hash, register_sha),) = rows(
        ledger, "SELECT award_year, as_of, policy_id, policy_document_number, policy_hash, register_sha256 FROM runs")
    import hashlib
    assert (year, as_of, policy_id, doc) == (2024, "2024-12-31", WANZHOU, "万州府办发〔2022〕80号")
    assert register_sha == hashlib.sha256(REGISTER.read_bytes()).hexdigest()
    from engine.awards.audit import fingerprint
    assert policy_hash == fingerprint(*policy_and_rules(WANZHOU)).policy_section["data_hash"]


# ---------------------------------------------------------------- usage and errors
def test_as_of_outside_the_award_year_is_a_usage_error():
    result = CliRunner().invoke(main, ["awards", str(REGISTER), "--year", "2024", "--as-of", "2025-01-31"])
    assert result.exit_code == 2 and "is not in the award year 2024" in result.output


def test_xlsx_needs_an_output_file():
    result = CliRunner().invoke(main, ["awards", str(REGISTER), "--year", "2024", "--format", "xlsx"])
    assert result.exit_code == 2 and "xlsx needs --out" in result.output


def test_a_policy_without_payment_parameters_is_refused_naming_them(tmp_path):
    import shutil
    from engine.policy import policies_root
    root = tmp_path / "policies"
    shutil.copytree(policies_root() / WANZHOU, root / WANZHOU)
    shutil.copytree(policies_root() / "jurisdictions", root / "jurisdictions")
    shutil.copytree(ROOT / "rules", root.parent / "rules")   # policy.yaml: rules: ../../rules
    params = root / WANZHOU / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    params.write_text(text[:text.index("# ---- payment patterns (ledger)")], encoding="utf-8")
    result = CliRunner().invoke(main, ["awards", str(REGISTER), "--year", "2024", "--policy", str(root / WANZHOU),
                                       "--ledger", str(tmp_path / "a.db")])
    assert result.exit_code == 1
    assert "award_first_instalment_share: missing; award runs need every payment-pattern parameter" in result.output
    assert "clawback_years: missing" in result.output and "Traceback" not in result.output


def test_every_new_command_has_help_with_an_example():
    for cmd in (["awards"], ["ledger"], ["ledger", "show"], ["ledger", "export"], ["ledger", "pay"]):
        result = CliRunner().invoke(main, [*cmd, "-h"])
        assert result.exit_code == 0 and "Example" in result.output, cmd
    help_text = " ".join(CliRunner().invoke(main, ["awards", "-h"]).output.split())
    assert "Default: 31 December of --year (never the clock)" in help_text


# ---------------------------------------------------------------- payments
def test_payable_instalments_are_paid_once(ledger_2024):
    ledger = ledger_2024
    dry = run_cli("ledger", "pay", "--ledger", ledger, "--year", 2024, "--paid-on", "2025-03-20", "--reference", "财拨1号")
    assert "待登记拨付（试算）：12 笔，合计 720,000.00元" in dry.output
    assert count(ledger, "payments") == 0
    paid = run_cli("ledger", "pay", "--ledger", ledger, "--year", 2024, "--paid-on", "2025-03-20", "--reference",
                   "财拨1号", "--commit")
    assert "已登记拨付：12 笔，合计 720,000.00元" in paid.output
    again = run_cli("ledger", "pay", "--ledger", ledger, "--paid-on", "2025-03-21", "--reference", "财拨2号", "--commit")
    assert "没有应付未付的款项" in again.output
    assert rows(ledger, "SELECT status, count(*) FROM instalments GROUP BY status") == [("paid", 12)]
    assert count(ledger, "payments") == 1
    conn = sqlite3.connect(str(ledger))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE instalments SET status = 'payable' WHERE instalment_id = 1")
    conn.close()
    show = run_cli("ledger", "show", "--ledger", ledger)
    assert "已付 12 笔 720,000.00元" in show.output and "一致性检查：通过" in show.output


# ---------------------------------------------------------------- two processes, and a killed one
def test_two_processes_committing_at_once_record_the_run_once(tmp_path):
    ledger = tmp_path / "shared.db"       # does not exist yet: both also race to create it
    args = ("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--commit", "--format", "json")
    # whoever writes first holds the write lock for 1.5 s before its COMMIT
    procs = [scaleup_process(*args, cwd=tmp_path, fault=("pause", 1.5)) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    docs = [json.loads(out) for out, _ in outs]
    committed = [d for d in docs if d["committed"]]
    assert len(committed) == 1 and committed[0]["run_id"] == 1 and len(committed[0]["new_awards"]) == 12
    other = next(d for d in docs if not d["committed"])
    assert other["nothing_new"] is True and other["new_awards"] == [] and len(other["committed_awards"]) == 12
    assert sum(PAUSE_MARK in err for _, err in outs) == 1         # only the committing one wrote anything
    assert count(ledger, "runs") == 1 and count(ledger, "awards") == 12
    assert rows(ledger, "SELECT sum(amount_fen) FROM awards") == [(72000000,)]
    with Ledger.open(ledger, create=False) as opened:
        assert opened.verify() == []


def test_a_process_killed_inside_its_commit_leaves_the_ledger_as_before(tmp_path):
    ledger = tmp_path / "awards.db"
    with Ledger.open(ledger):
        pass                                          # an existing, empty ledger
    before = {t: count(ledger, t) for t in ("runs", "awards", "instalments", "scope_events", "audit_records")}
    proc = scaleup_process("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--commit", cwd=tmp_path,
                           fault=("pause", 60))
    try:
        deadline = time.monotonic() + 60
        line = ""
        while PAUSE_MARK not in line:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "the process ended before reaching its commit"
            assert time.monotonic() < deadline
        # The run's rows are written inside its open transaction: it holds the write lock, and a
        # reader sees none of them.
        probe = sqlite3.connect(str(ledger), timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            probe.execute("BEGIN IMMEDIATE")
        assert probe.execute("SELECT count(*) FROM runs").fetchone() == (0,)
        probe.close()
        proc.kill()                                   # SIGKILL: no cleanup, no rollback by the process
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -9
    assert {t: count(ledger, t) for t in before} == before == {t: 0 for t in before}
    with Ledger.open(ledger, create=False) as opened:
        assert opened.verify() == []
    # The ledger is usable: the same run commits cleanly afterwards.
    result = run_cli("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--commit")
    assert "已入账：第1次运行" in result.output and count(ledger, "awards") == 12


# ---------------------------------------------------------------- a blank 曾经入统 never pays
def test_a_blank_previously_in_scope_leaves_both_awards_undecided_naming_the_column(evaluate):
    result = evaluate("2024-12-31", enterprise_id=uscc_for("空白曾经入统"), name="测试企业空白", town="分水镇",
                      in_park=False, industry_code="C3484", is_legal_person=True, established_on="2015-04-18",
                      in_scope=True, in_scope_since="2024-03", previously_in_scope=None)
    for dtype in ("enterprise_award", "town_award"):
        d = result.decision(dtype)
        assert (d.outcome, d.amount_yuan) == ("insufficient_data", None)
        assert "previously_in_scope" in d.missing_facts
    # The same firm with 曾经入统 = 否 is paid: only the blank is withheld.
    paid = evaluate("2024-12-31", enterprise_id=uscc_for("空白曾经入统"), name="测试企业空白", town="分水镇",
                    in_park=False, industry_code="C3484", is_legal_person=True, established_on="2015-04-18",
                    in_scope=True, in_scope_since="2024-03", previously_in_scope=False)
    assert paid.decision("enterprise_award").outcome == "awarded"


def test_a_blank_previously_in_scope_is_answered_by_the_ledgers_earlier_entry(tmp_path):
    ledger = tmp_path / "awards.db"
    assert run_year(ledger, 2024, [firm("回归厂", in_scope_since="2019-05")]).run_id == 1   # ledger: entry 2019-05
    back = firm("回归厂", in_scope_since="2025-03", previously_in_scope=None)
    plan = run_year(ledger, 2025, [back], commit=False)
    assert plan.new_awards == [] and plan.insufficient == []
    assert plan.outcomes["enterprise_award"] == {"not_awarded": 1}
    assert [(w.kind, w.reason, w.amount, w.detail["answered"]) for w in plan.withheld] == \
        [("enterprise", "earlier_entry", Decimal("100000"), True), ("town", "earlier_entry", Decimal("20000"), True)]
    text = render_plan(plan, policy_and_rules(WANZHOU)[0], "zh", "run", False)
    assert "登记表「曾经入统」未填写，由台账认定为再次入统" in text


def test_a_blank_previously_in_scope_with_no_ledger_history_stays_undecided(tmp_path):
    plan = run_year(tmp_path / "awards.db", 2025, [firm("新面孔", in_scope_since="2025-03", previously_in_scope=None)],
                    commit=False)
    assert plan.new_awards == [] and plan.withheld == []
    assert [(x["name"], x["missing"]) for x in plan.insufficient] == [("测试企业新面孔", ["previously_in_scope"])]


# ---------------------------------------------------------------- town award per net increase (town_award_basis)
def test_town_award_per_net_increase_counts_entries_less_exits_per_town(tmp_path):
    _, book = policy_and_rules(WANZHOU)
    net = published_variant("net", date(2022, 1, 1), {"town_award_basis": "per_net_increase"}, WANZHOU)
    ledger = tmp_path / "awards.db"
    old_c = firm("净增C", in_scope_since="2019-03", previously_in_scope=None)
    old_d = firm("净增D", town="龙都街道", in_scope_since="2020-05", previously_in_scope=None)
    run_year(ledger, 2023, [old_c, old_d], policy=net, book=book)
    year = [firm("净增A", in_scope_since="2024-03"), firm("净增B", in_scope_since="2024-05"),
            old_c.model_copy(update={"in_scope": False}), old_d.model_copy(update={"in_scope": False})]
    plan = run_year(ledger, 2024, year, policy=net, book=book, commit=False)
    by_place = {t.place: t for t in plan.town_net}
    fenshui, longdu = by_place["分水镇"], by_place["龙都街道"]
    assert [c.name for c in fenshui.entries] == ["测试企业净增A", "测试企业净增B"]
    assert [c.name for c in fenshui.exits] == ["测试企业净增C"]
    assert (fenshui.net, fenshui.amount) == (1, Decimal("20000.00"))
    assert (longdu.net, longdu.amount) == (-1, Decimal("0.00"))       # never negative
    # No town award per enterprise: the enterprises' own awards, plus one town-level line.
    assert {a.kind for a in plan.new_awards} == {"enterprise"}
    rows = {(r["place"], r["beneficiary_type"]): r for r in town_totals(plan, net)[:-1]}
    assert rows[("分水镇", "town")]["award"] == Decimal("20000.00")
    assert rows[("分水镇", "enterprise")]["award"] == Decimal("200000.00")
    assert ("龙都街道", "town") not in rows
    assert town_totals(plan, net)[-1]["enterprises"] == 2
    text = render_plan(plan, net, "zh", "run", committing=False)
    assert "分水镇：新进 2 户，退出 1 户，净增 1 户" in text and "退出 " + old_c.enterprise_id in text
    assert "龙都街道：新进 0 户，退出 1 户，净增 -1 户" in text
    from engine.awards.present import plan_json
    doc = plan_json(plan, net)
    longdu_json = next(t for t in doc["town_net_increase"] if t["place"] == "龙都街道")
    assert longdu_json["exits"][0]["source"] == "register" and longdu_json["amount_yuan"] == "0.00"
    # Committed, the year's events are in the ledger: a re-run counts the same firms, read from it.
    run_year(ledger, 2024, year, policy=net, book=book)
    again = {t.place: t for t in run_year(ledger, 2024, year, policy=net, book=book, commit=False).town_net}
    assert {c.source for c in again["分水镇"].entries + again["分水镇"].exits} == {"ledger"}
    assert again["分水镇"].amount == Decimal("20000.00")


def test_town_award_per_new_enterprise_stays_the_default(tmp_path):
    plan = run_year(tmp_path / "awards.db", 2024, [firm("默认", in_scope_since="2024-03")], commit=False)
    assert plan.town_net == []
    assert [a.kind for a in plan.new_awards] == ["enterprise", "town"]
