"""Progress against the plan's targets (R9): counts per year by 园内/园外 and 招商引资/小升规 on a small
register with known answers, exits as far as a snapshot shows them, a complete (ledger-like) event
history, the projection from the pool, and the command on the sample register."""
from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner

from cli import main
from engine.facts import YearMonth
from engine.analysis.targets import ScopeEvent, ScopeHistory, events_from_register, render_targets, targets_from_register, \
    targets_table
from tests.conftest import ROOT, enterprise, evaluator, policy_and_rules

AS_OF = date(2024, 12, 31)
REGISTER = str(ROOT / "examples" / "register.csv")


def ent(name, in_scope=True, since=None, in_park=False, industry="C3670", established="2010-05-01", **facts):
    return enterprise(name=name, town="五桥街道", in_park=in_park, industry_code=industry, is_legal_person=True,
                      established_on=established, in_scope=in_scope, in_scope_since=since, **facts)


def small_register():
    return [
        ent("甲 2022 园内 招商引资", since="2022-03", in_park=True, origin="招商引资"),
        ent("乙 2023 园外 推定小升规", since="2023-05"),
        # Established 2023-01-15: new-build as of end-2023 (cut-off 2022-10-01) although not as of 2024.
        ent("丙 2023 园内 推定招商引资", since="2023-02", in_park=True, established="2023-01-15"),
        ent("丁 2024 园内 推定招商引资", since="2024-02", in_park=True, established="2023-11-01"),
        ent("戊 2024 园外 再次入统", since="2024-07", origin="小升规", previously_in_scope=True),
        ent("己 软件 不计", since="2024-01", industry="I6513"),
        ent("庚 曾入统 已退出", in_scope=False, previously_in_scope=True, revenue_last_year="900"),
        ent("辛 迁出 仍标规上", since="2019-01", registration_status="迁出"),
        ent("壬 按进度可入统", in_scope=False, revenue_last_year="2100"),
        ent("癸 停产 红色预警", since="2015-01", production_status="停产", months_without_output=3),
    ]


def table_for(register, year=None):
    policy, book = policy_and_rules()
    results = [evaluator(AS_OF).evaluate(e) for e in register]
    return targets_from_register(register, results, policy, book, AS_OF, year)


def row(table, year):
    return next(r for r in table["rows"] if r["year"] == year)


def test_new_firms_per_year_by_park_and_origin():
    t = table_for(small_register())
    r2024 = row(t, 2024)
    assert {k: r2024["actual"][k] for k in ("new_in_park", "new_out_of_park", "new_investment", "new_small_to_scale",
                                             "new_total")} == \
        {"new_in_park": 1, "new_out_of_park": 1, "new_investment": 1, "new_small_to_scale": 1, "new_total": 2}
    assert r2024["extra"]["re_entries"] == 1 and r2024["extra"]["origin_derived"] == 1
    assert r2024["bound"]["new_total"] == "exact"          # the as-of date is the last day of the year
    r2023 = row(t, 2023)
    assert (r2023["actual"]["new_total"], r2023["actual"]["new_investment"], r2023["actual"]["new_small_to_scale"]) == (2, 1, 1)
    assert r2023["bound"]["new_total"] == "at_least"       # a snapshot misses firms that have left since
    assert row(t, 2022)["actual"]["new_in_park"] == 1


def test_origin_is_derived_by_the_rules_as_of_the_end_of_the_year_of_inclusion():
    t = table_for(small_register(), year=2023)
    origins = {f["name"]: (f["origin"], f["origin_basis"]) for f in t["new_firms"]}
    assert origins == {"乙 2023 园外 推定小升规": ("小升规", "derived"), "丙 2023 园内 推定招商引资": ("招商引资", "derived")}
    assert t["readings"]["origin"]["id"] == "upgrade_eligibility.origin"
    assert [p["name"] for p in t["readings"]["origin"]["params"]] == ["monthly_inclusion_cutoff"]


def test_stock_is_net_and_non_industrial_firms_are_left_out():
    t = table_for(small_register())
    r2024 = row(t, 2024)
    # 甲 乙 丙 丁 戊 辛 癸 are industrial and in scope; 己 (software) is not counted, 庚 has left.
    assert (r2024["actual"]["cumulative_total"], r2024["actual"]["cumulative_in_park"]) == (7, 3)
    assert [e["name"] for e in t["excluded_not_industrial"]] == ["己 软件 不计"]
    # Earlier year ends: only survivors are visible, so the figure is a lower bound.
    assert (row(t, 2022)["actual"]["cumulative_total"], row(t, 2022)["bound"]["cumulative_total"]) == (3, "at_least")


def test_exits_a_snapshot_shows_are_counted_and_their_years_are_unknown():
    t = table_for(small_register())
    undated = {e["name"]: (e["evidence"], e["still_in_scope"]) for e in t["exits"]["undated"]}
    assert undated == {"庚 曾入统 已退出": ("previously_in_scope", False), "辛 迁出 仍标规上": ("registration_status", True)}
    assert t["exits"]["per_year_known"] is False
    assert all(r["extra"].get("exits") is None for r in t["rows"] if r["status"] != "future")
    assert "各年退出户数无法得知" in render_targets(t, "zh")


def test_gaps_are_actual_minus_the_annex_and_the_text_floors():
    t = table_for(small_register())
    r2024 = row(t, 2024)
    assert r2024["plan"]["new_total"] == 38 and r2024["gap"]["new_total"] == 2 - 38
    assert r2024["gap"]["cumulative_in_park"] == 3 - 176
    floors = {f["id"]: f for f in t["text_targets"]}
    assert floors["new_total_2022"]["gap"] == 1 - 20 and floors["new_total_2022"]["status"] == "unknown"
    assert floors["stock_total_2025"]["status"] == "not_yet"
    assert t["implied_base"] == {"cumulative_in_park": 101, "cumulative_out_of_park": 71, "cumulative_total": 172}


def test_projection_adds_firms_on_pace_and_removes_red_warnings():
    p = table_for(small_register())["projection"]
    assert p["stock"]["total"] == 7
    assert [(f["name"], f["basis"]) for f in p["on_pace"]] == [("壬 按进度可入统", "upgrade_eligible")]
    assert sorted(f["name"] for f in p["red"]) == ["癸 停产 红色预警", "辛 迁出 仍标规上"]
    assert p["projected"] == {"total": 6, "in_park": 3, "out_of_park": 3}
    assert p["projected_new_total"] == 3 and p["gaps"]["new_total"] == 3 - 38
    assert table_for(small_register(), year=2023)["projection"] is None   # only the as-of year is projected


def test_a_complete_event_history_counts_exits_per_year():
    # What the scope ledger will supply: every entry and exit dated.
    def ev(eid, kind, ym, park=True, origin="小升规"):
        return ScopeEvent(eid, eid, kind, YearMonth.parse(ym), park, origin if kind == "entry" else None,
                          "declared" if kind == "entry" else None, True if kind == "entry" else None, "ledger")

    history = ScopeHistory("ledger", [ev("X", "entry", "2022-01"), ev("Y", "entry", "2022-05", park=False),
                                      ev("X", "exit", "2023-03"), ev("Z", "entry", "2023-06", origin="招商引资")],
                           complete=True)
    policy, _ = policy_and_rules()
    t = targets_table(policy, history, AS_OF)
    r2022, r2023 = row(t, 2022), row(t, 2023)
    assert (r2022["actual"]["new_total"], r2022["actual"]["cumulative_total"], r2022["extra"]["exits"]) == (2, 2, 0)
    assert (r2023["actual"]["new_total"], r2023["actual"]["cumulative_total"], r2023["extra"]["exits"]) == (1, 2, 1)
    assert r2023["actual"]["cumulative_in_park"] == 1 and r2023["bound"]["cumulative_total"] == "exact"
    assert t["exits"]["per_year_known"] is True


def test_events_from_register_are_the_common_currency():
    policy, book = policy_and_rules()
    history = events_from_register(small_register(), policy, book, AS_OF)
    kinds = sorted((e.kind, e.name) for e in history.events)
    assert ("exit", "辛 迁出 仍标规上") in kinds and ("entry", "辛 迁出 仍标规上") in kinds
    assert not history.complete and len(history.stock) == 7


# ---------------------------------------------------------------- the command on the sample register

def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_targets_command_prints_the_annex_beside_actuals_with_gaps():
    result = cli("targets", REGISTER, "--as-of", "2024-12-31")
    assert result.exit_code == 0
    out = result.output
    for year, plan in ((2022, "20    6     18        8       26        121       77        198"),
                       (2023, "25    6     21        10      31        146       83        229"),
                       (2024, "30    8     28        10      38        176       91        267"),
                       (2025, "35    8     30        13      43        210       100       310")):
        assert f"{year}  目标" in out and plan in out, year
    assert "差距" in out and "−32" in out              # 2024: 6 new against 38
    for text in ("2022年新培育规模以上工业企业20户以上", "到年末全区规模以上工业企业达到190户以上",
                 "力争到2025年，全区规模以上工业企业达到300户", "其中万州经开区200户"):
        assert text in out
    assert "假定没有企业退规" in out and "预测年末                               30 户" in out


def test_targets_command_json_has_every_annex_year_and_every_floor_with_its_gap():
    doc = json.loads(cli("targets", REGISTER, "--as-of", "2024-12-31", "--format", "json").output)
    assert [r["year"] for r in doc["rows"]] == [2022, 2023, 2024, 2025]
    r2024 = row(doc, 2024)
    assert r2024["actual"]["new_total"] == 6 and r2024["actual"]["cumulative_total"] == 27
    assert r2024["gap"]["cumulative_total"] == 27 - 267
    assert [(f["id"], f["value"]) for f in doc["text_targets"]] == \
        [("new_total_2022", 20), ("stock_total_2022", 190), ("stock_total_2025", 300), ("stock_in_park_2025", 200)]
    assert all("gap" in f for f in doc["text_targets"])
    assert doc["projection"]["projected"]["total"] == 30


def test_targets_command_in_english_and_for_another_year():
    result = cli("targets", REGISTER, "--as-of", "2024-12-31", "--year", "2023", "--lang", "en")
    assert result.exit_code == 0
    assert "New industrial enterprises in scope in 2023 (2)" in result.output and "Projection" not in result.output


def test_targets_command_needs_a_source_and_a_missing_ledger_is_one_line(tmp_path):
    neither = cli("targets", "--as-of", "2024-12-31")
    assert neither.exit_code == 2 and "give a register FILE, --ledger PATH, or both" in neither.output
    missing = cli("targets", "--ledger", str(tmp_path / "none.db"), "--as-of", "2024-12-31")
    assert missing.exit_code == 1 and "no ledger here" in missing.output and not (tmp_path / "none.db").exists()
    assert "Example" in cli("targets", "-h").output


# ---------------------------------------------------------------- the scope ledger (engine/ledger.py)

def make_ledger(path, events, first_run="2022-01-31"):
    """A ledger holding only scope events (as award runs record them): (id, name, kind, date, basis, origin, park)."""
    from engine.awards.ledger import Ledger
    store = Ledger.open(path)
    with store.transaction():
        run = store.insert("runs", {"award_year": int(first_run[:4]), "as_of": first_run, "policy_id": "wanzhou-2022-80",
                                    "policy_document_number": "万州府办发〔2022〕80号", "policy_hash": "0" * 64,
                                    "rules_hash": "0" * 64, "register_file": "register.csv",
                                    "register_sha256": "0" * 64, "engine_version": "test",
                                    "committed_at": "2024-12-31T00:00:00"})
        for eid, name, kind, day, basis, origin, park in events:
            store.upsert_enterprise(eid, name, "五桥街道", park, run)
            store.insert("scope_events", {"enterprise_id": eid, "kind": kind, "event_date": day, "date_basis": basis,
                                          "origin": origin, "in_park": int(park), "run_id": run})
    store.close()


def test_targets_from_the_ledger_count_dated_exits_and_a_net_stock(tmp_path):
    x, y, z = (enterprise(name=n, town="五桥街道", in_park=True, industry_code="C3670", is_legal_person=True,
                          established_on="2010-01-01", in_scope=True, in_scope_since="2022-01").enterprise_id
               for n in ("X", "Y", "Z"))
    path = tmp_path / "scaleup.db"
    make_ledger(path, [(x, "X", "entry", "2022-01-01", "in_scope_since", "小升规", True),
                       (y, "Y", "entry", "2022-05-01", "in_scope_since", None, False),
                       (x, "X", "exit", "2023-03-31", "observed", None, True),
                       (z, "Z", "entry", "2023-06-01", "in_scope_since", "招商引资", True),
                       (x, "X", "entry", "2024-02-01", "in_scope_since", "小升规", True)])
    doc = json.loads(cli("targets", "--ledger", str(path), "--as-of", "2024-12-31", "--format", "json").output)
    r2022, r2023, r2024 = row(doc, 2022), row(doc, 2023), row(doc, 2024)
    assert (r2022["actual"]["new_total"], r2022["actual"]["cumulative_total"], r2022["extra"]["exits"]) == (2, 2, 0)
    assert (r2023["actual"]["new_total"], r2023["actual"]["cumulative_total"], r2023["extra"]["exits"]) == (1, 2, 1)
    assert (r2024["actual"]["new_total"], r2024["actual"]["cumulative_total"], r2024["extra"]["re_entries"]) == (1, 3, 1)
    assert r2022["actual"]["new_small_to_scale"] == 1 and r2022["extra"]["new_origin_unknown"] == 1
    assert doc["complete"] is True and doc["projection"] is None
    assert "ledger_no_industry" in doc["notes"] and "ledger_exit_observed" in doc["notes"]
    text = cli("targets", "--ledger", str(path), "--as-of", "2024-12-31").output
    assert "台账不记行业代码" in text and "2023-03（观察到的日期）" in text


def test_years_before_the_ledgers_first_run_are_lower_bounds(tmp_path):
    eid = enterprise(name="早", town="五桥街道", in_park=True, industry_code="C3670", is_legal_person=True,
                     established_on="2010-01-01", in_scope=True).enterprise_id
    path = tmp_path / "scaleup.db"
    make_ledger(path, [(eid, "早", "entry", "2022-03-01", "in_scope_since", "小升规", True)], first_run="2024-12-31")
    doc = json.loads(cli("targets", "--ledger", str(path), "--as-of", "2024-12-31", "--format", "json").output)
    assert row(doc, 2022)["bound"]["new_total"] == "at_least" and row(doc, 2022)["extra"]["exits"] is None
    assert row(doc, 2024)["bound"]["cumulative_total"] == "exact"
    assert "ledger_recorded_from:2024-12-31" in doc["notes"]


def test_targets_with_a_ledger_and_a_register_filter_industry_and_project(tmp_path):
    path = tmp_path / "scaleup.db"
    soft = "915001017J617TKERY"      # 重庆万州翎讯信息技术有限公司 (I6513) in the sample register
    park = "9150010171LJD2DMFM"      # 重庆万州昱辰新材料有限公司 (C, in the zone)
    make_ledger(path, [(soft, "翎讯", "entry", "2021-01-01", "in_scope_since", None, False),
                       (park, "昱辰", "entry", "2024-06-01", "in_scope_since", "招商引资", True)])
    result = cli("targets", REGISTER, "--ledger", str(path), "--as-of", "2024-12-31", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert [e["enterprise_id"] for e in doc["excluded_not_industrial"]] == [soft]
    assert row(doc, 2024)["actual"]["new_total"] == 1 and row(doc, 2024)["actual"]["cumulative_total"] == 1
    assert doc["projection"]["stock"]["total"] == 27          # the projection still starts from the register


def test_the_report_gets_the_same_table_from_results_and_a_chart_series():
    from engine.analysis.targets import chart_series, targets_from_results
    register = small_register()
    policy, book = policy_and_rules()
    results = [evaluator(AS_OF).evaluate(e) for e in register]
    assert targets_from_results(results, policy, book, AS_OF) == table_for(register)
    series = chart_series(table_for(register))
    assert series["years"] == [2022, 2023, 2024, 2025] and series["plan"] == [26, 31, 38, 43]
    assert series["actual"] == [1, 2, 2, None] and series["at_least"] == [True, True, False, False]
