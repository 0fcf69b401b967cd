"""What an officer asks of a run: one town's part (--town, checked against the district's towns),
the ranked firms first, the awarded and the refused candidates by name in the report, and refusal
counts that count only firms that could have been awarded."""
from __future__ import annotations

import re

from click.testing import CliRunner

from cli import main
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = ("--as-of", "2024-12-31")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_town_is_checked_against_the_jurisdiction_with_did_you_mean():
    for command in (["check", REGISTER, *AS_OF], ["report", REGISTER, *AS_OF, "--out", "x.html"],
                    ["awards", REGISTER, "--year", 2024],
                    ["priority", REGISTER, *AS_OF, "--land-quota", 1, "--power-quota", 1]):
        result = run(*command, "--town", "高粱镇")
        assert result.exit_code == 2, command
        assert 'unknown town "高粱镇"; did you mean "高梁镇"?' in result.output


def test_check_town_lists_only_that_towns_firms():
    out = run("check", REGISTER, *AS_OF, "--town", "分水镇").output
    body = [l for l in out.splitlines()[1:] if l.startswith("9150")]
    assert len(body) == 2 and all("分水镇" in l for l in body)
    assert "共 2 户企业" in out
    # A town's NBS code names it too.
    by_code = run("check", REGISTER, *AS_OF, "--town", "500101144", "--format", "csv").output
    assert by_code == run("check", REGISTER, *AS_OF, "--town", "分水镇", "--format", "csv").output
    assert len(by_code.splitlines()) == 3


def test_priority_shows_the_ranked_firms_and_all_on_request():
    short = run("priority", REGISTER, *AS_OF, "--land-quota", 50, "--power-quota", 4000).output
    full = run("priority", REGISTER, *AS_OF, "--land-quota", 50, "--power-quota", 4000, "--all").output
    assert len(short.splitlines()) < 100 < len(full.splitlines())
    assert "加 --all 逐户列出原因" in short
    assert "合计：参加排序" in short and "合计：参加排序" in full


def test_awards_town_is_a_view_never_a_commit(tmp_path):
    refused = run("awards", REGISTER, "--year", 2024, "--ledger", tmp_path / "a.db", "--commit", "--town", "高峰街道")
    assert refused.exit_code == 2 and "committed run covers the whole register" in refused.output
    shown = run("awards", REGISTER, "--year", 2024, "--ledger", tmp_path / "a.db", "--town", "高峰街道").output
    assert "915001017P5X326G0R" in shown and "9150010171LJD2DMFM" not in shown


def test_award_run_lists_the_refused_candidate_with_its_reason(tmp_path):
    out = run("awards", REGISTER, "--year", 2024, "--ledger", tmp_path / "a.db").output
    assert "【不予奖励的本年新入统企业】1 户" in out
    assert "91500101751UP3NC2M 重庆万州垣丰铸造有限公司（新田镇）：曾经入统后退出又再次入统（非首次）" in out


def test_report_lists_awarded_and_refused_candidates_and_numbers_every_section(tmp_path):
    out = tmp_path / "r.html"
    assert run("report", REGISTER, *AS_OF, "--out", out).exit_code == 0
    page = out.read_text(encoding="utf-8")
    awarded = page.split('id="award-list-table"')[1].split("</table>")[0]
    assert awarded.count("<tr>") == 1 + 6 and "915001017P5X326G0R" in awarded
    refused = page.split('id="refused-table"')[1].split("</table>")[0]
    assert refused.count("<tr>") == 1 + 1 and "曾经入统后退出又再次入统" in refused
    titles = re.findall(r"<h2>(.*?)</h2>", page)
    assert all(re.match(r"[一二三四五六七八九十]+、", t) for t in titles), titles
    # 不予奖励 counts the one refused candidate, not the 40 firms that could not have been awarded.
    families = page.split('id="families"')[1].split("</section>")[0]
    assert "另有 40 户不是候选企业" in families


def test_report_for_one_town(tmp_path):
    out = tmp_path / "r.html"
    assert run("report", REGISTER, *AS_OF, "--out", out, "--town", "天城街道").exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert "本报告只含 天城街道 的企业。" in page
    awarded = page.split('id="award-list-table"')[1].split("</table>")[0]
    assert "9150010171LJD2DMFM" in awarded and "915001017P5X326G0R" not in awarded


def test_times_are_stored_in_utc_and_shown_in_the_districts_zone(tmp_path):
    import sqlite3
    from engine.localtime import local_time
    assert local_time("2026-12-03T14:47:31+00:00", "Asia/Shanghai") == "2026-12-03 22:47:31 +08:00"
    db = tmp_path / "a.db"
    assert run("awards", REGISTER, "--year", 2024, "--ledger", db, "--commit").exit_code == 0
    stored = sqlite3.connect(db).execute("SELECT committed_at FROM runs").fetchone()[0]
    assert stored.endswith("+00:00")
    shown = run("ledger", "show", "--ledger", db).output
    assert local_time(stored, "Asia/Shanghai") in shown and stored not in shown
    again = run("awards", REGISTER, "--year", 2024, "--ledger", db).output
    assert f"第1次运行（{local_time(stored, 'Asia/Shanghai')}）" in again
    assert run("ledger", "export", "--ledger", db, "--out", tmp_path / "export").exit_code == 0
    header, row = (tmp_path / "export" / "runs.csv").read_text(encoding="utf-8-sig").splitlines()[:2]
    assert header.endswith("committed_at,committed_at_local") and row.endswith("+08:00")
