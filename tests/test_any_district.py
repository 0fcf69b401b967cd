"""Any district's policy as data (#17): a FICTIONAL one-clause award notice (amounts by origin, a one-off
tag bonus, a three-year growth top-up, first entry only) encoded as data only, in a temporary folder,
on the shared rules bound by its provisions.yaml. Seven firms cover each case; every output cites the
notice's one clause and nothing else; the families the notice does not provide say so."""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cli import main
from engine.analysis.policy_check import check_policy
from engine.evaluate import load_engine_inputs
from tests.districts import one_clause_notice as notice
from tests.test_award_run import firm, rows, run_year

AS_OF = "2024-12-31"
# Clause ids of the bundled instruments that the notice does not have: none may appear in its outputs.
# (The bundled clause ids are written 三(一), 二(五) ...; the notice's only clause is 正文.)
FOREIGN_CLAUSE = re.compile(r"[一二三四五六七八九十]\([一二三四五六七八九十]+\)")


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("district")
    folder = notice.write(root)
    register = root / "register.csv"
    register.write_text(notice.register_csv(), encoding="utf-8")
    return folder, register


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result


def test_the_notice_checks_clean_with_no_rule_file_copied(district):
    folder, _ = district
    findings = check_policy(folder)
    assert [f.message for f in findings if f.severity == "error"] == []
    assert sorted(p.name for p in folder.iterdir()) == ["clauses.yaml", "interpretations.yaml", "parameters.yaml",
                                                          "policy.yaml", "provisions.yaml", "source.txt"]


def test_each_firm_gets_the_notice_s_amounts(district):
    folder, register = district
    result = run("check", register, "--as-of", AS_OF, "--policy", folder, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    results = doc["results"] if isinstance(doc, dict) else doc      # the contract's list of results
    by_name = {r["name"]: {d["type"]: d for d in r["decisions"]} for r in results}
    for key, (enterprise, town) in notice.EXPECTED.items():
        decisions = by_name[notice.FIRMS[key][0]]
        for family, expected in (("enterprise_award", enterprise), ("town_award", town)):
            d = decisions[family]
            if expected.isdigit():
                assert (d["outcome"], Decimal(d["amount_yuan"])) == ("awarded", Decimal(expected)), (key, family)
            else:
                assert d["outcome"] == expected, (key, family, d["outcome"])
        for family in ("upgrade_eligibility", "pool_entry", "land_power_priority", "delisting_warning"):
            assert (decisions[family]["outcome"], decisions[family]["reason"]) == ("not_applicable", "not_provided")
    cited = {d["clause_id"] for r in results for d in r["decisions"]} | \
            {x["clause_id"] for r in results for d in r["decisions"] for x in d.get("rules", [])}
    assert cited <= {notice.CLAUSE, None}
    assert not FOREIGN_CLAUSE.search(result.output)


def test_explanations_cite_only_the_notice_and_say_what_it_does_not_provide(district):
    folder, register = district
    for i, lang, words in ((3, "zh", "本政策未规定"), (5, "en", "not provided by this policy")):
        result = run("explain", notice.uscc(i), register, "--as-of", AS_OF, "--policy", folder, "--lang", lang)
        assert result.exit_code == 0, result.output
        assert words in result.output.lower() if lang == "en" else words in result.output
        assert not FOREIGN_CLAUSE.search(result.output), FOREIGN_CLAUSE.search(result.output)
        assert notice.CLAUSE in result.output


def test_report_priority_targets_and_diff_run_and_say_what_the_notice_does_not_provide(district, tmp_path):
    folder, register = district
    common = (register, "--as-of", AS_OF, "--policy", folder)
    report = run("report", *common, "--out", tmp_path / "report.html")
    assert report.exit_code == 0, report.output
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert not FOREIGN_CLAUSE.search(html)
    priority = run("priority", *common, "--land-quota", "10", "--power-quota", "100")
    assert priority.exit_code == 0 and "本政策未规定" in priority.output, priority.output
    targets = run("targets", *common, "--lang", "en")
    assert targets.exit_code == 0 and "sets no targets" in targets.output and "None" not in targets.output
    diff = run("diff", *common, "--set", "town_award_per_enterprise=30000")
    assert diff.exit_code == 0, diff.output
    assert "本政策未规定目标" in diff.output and "+4.00万元" in diff.output
    assert not FOREIGN_CLAUSE.search(diff.output)


def test_the_growth_top_up_is_settled_over_three_years(district, tmp_path):
    folder, _ = district
    policy, book = load_engine_inputs(str(folder))
    ledger = tmp_path / "notice.db"

    def grown(year, pct, **facts):
        return dict(revenue_ytd=str(Decimal(2000) * (100 + pct) / 100), revenue_ytd_last_year="2000",
                    ytd_through=f"{year}-12", **facts)

    steady = dict(origin="招商引资", in_scope_since="2024-05", town="南湖街道")
    slow = dict(origin="小升规", in_scope_since="2024-06", town="北岭镇", tags=["战略性新兴产业"])
    plan = run_year(ledger, 2024, [firm("稳", **steady), firm("慢", **slow)], policy=policy, book=book)
    got = {(a.name, a.kind): a.amount for a in plan.new_awards}
    assert got == {("测试企业稳", "enterprise"): Decimal(80000), ("测试企业稳", "town"): Decimal(20000),
                   ("测试企业慢", "enterprise"): Decimal(90000), ("测试企业慢", "town"): Decimal(20000)}
    for year, slow_pct in ((2025, 20), (2026, 10), (2027, 30)):
        run_year(ledger, year, [firm("稳", **steady, **grown(year, 15)), firm("慢", **slow, **grown(year, slow_pct))],
                 policy=policy, book=book)
    topups = rows(ledger, """SELECT a.enterprise_name, i.amount_fen / 100, i.status FROM instalments i
                             JOIN awards a USING (award_id) WHERE i.kind = 'topup' ORDER BY a.enterprise_name""")
    assert sorted(topups) == [("测试企业慢", 40000, "forfeited"), ("测试企业稳", 40000, "payable")]


def test_no_file_outside_the_temporary_folder_changed(district):
    from engine.policy import policies_root
    assert notice.POLICY_ID not in [p.name for p in policies_root().iterdir()]
