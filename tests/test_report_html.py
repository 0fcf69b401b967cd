"""The batch HTML report: self-contained, totals that add up, data escaped, extension sections, and a
real render in headless Chromium (skipped, and said so, where Chromium is not installed)."""
from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import Markup

from cli import main
from engine.report import report as report_module
from engine.register import read_register
from tests.conftest import ROOT, evaluator, policy_and_rules

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = "2024-12-31"
ARTIFACTS = ROOT / "test-artifacts"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = run("report", REGISTER, "--as-of", AS_OF, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{out}\t")
    return out


@pytest.fixture(scope="module")
def html(report_file) -> str:
    return report_file.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample_results():
    policy, _ = policy_and_rules()
    read = read_register(REGISTER, as_of=date.fromisoformat(AS_OF), policy=policy)
    return [evaluator(date.fromisoformat(AS_OF)).evaluate(e) for _, e in read.accepted]


def section(html: str, section_id: str) -> str:
    return html.split(f'<section id="{section_id}"', 1)[1].split("</section>", 1)[0]


def test_report_is_one_self_contained_page(html):
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    lowered = html.lower()
    for needle in ("<script", "http://", "https://", " src=", "@import", "url(", "<link", "<iframe"):
        assert needle not in lowered, needle
    assert html.count('<svg class="chart"') >= 2          # extra sections may add their own charts
    assert 'id="chart-awards-by-town"' in html and 'id="chart-origin-groups"' in html


def test_award_totals_add_up_to_the_sum_of_the_awards(html, sample_results):
    awards = [d.amount_yuan for r in sample_results for d in r.decisions
              if d.type in ("enterprise_award", "town_award") and d.outcome == "awarded"]
    total = sum(awards, Decimal(0))
    assert len(awards) == 12 and total == Decimal("720000")
    assert f'data-yuan="{total:.2f}"' in html
    awards_html = section(html, "awards")
    total_row = awards_html.split('<tr class="total">', 1)[1].split("</tr>", 1)[0]
    assert [c for c in re.findall(r">([^<>]+)</td>", total_row)] == ["合计", "6", "60.00万元", "6", "12.00万元", "72.00万元"]
    by_type = section(html, "awards").split('id="award-by-type"', 1)[1]
    assert "60.00万元（600,000.00元）" in by_type and "12.00万元（120,000.00元）" in by_type
    assert "72.00万元（720,000.00元）" in by_type


def test_places_in_the_award_table_sum_to_the_total(sample_results):
    policy, book = policy_and_rules()
    data = report_module.build_report_data(sample_results, policy, book, AS_OF, "zh")
    rows = data.view["award_rows"]
    assert {r["place"] for r in rows} == {"高笋塘街道", "五桥街道", "高峰街道", "天城街道", "瀼渡镇"}
    assert data.view["summary"]["total_amount_yuan"] == "720000.00"
    assert sum(r["enterprise_count"] + r["town_count"] for r in rows) == 12


def test_towns_table_lists_only_the_towns_with_firms_in_jurisdiction_order(html, sample_results):
    policy, _ = policy_and_rules()
    towns_html = section(html, "towns")
    names = re.findall(r"<tr><td>([^<]+)</td>", towns_html)
    expected = [t.name for t in policy.jurisdiction.towns if any(r.town == t.name for r in sample_results)]
    assert names == expected and len(names) == 34
    assert "34／52" in html


def test_warning_list_by_level_names_each_triggered_indicator(html, sample_results):
    reds = [r for r in sample_results if r.decision("delisting_warning").outcome == "red"]
    yellows = [r for r in sample_results if r.decision("delisting_warning").outcome == "yellow"]
    warnings_html = section(html, "warnings")
    red_table = warnings_html.split('id="warnings-red"', 1)[1].split("</table>", 1)[0]
    yellow_table = warnings_html.split('id="warnings-yellow"', 1)[1].split("</table>", 1)[0]
    assert red_table.count("<tr><td>") == len(reds) == 3
    assert yellow_table.count("<tr><td>") == len(yellows) == 9
    for r in reds:
        row = red_table.split(r.enterprise_id, 1)[1].split("</tr>", 1)[0]
        for code in r.decision("delisting_warning").triggered_codes:
            assert f">{code}</span>" in row


def test_origin_groups_count_upgrades_pool_and_awards(sample_results):
    policy, book = policy_and_rules()
    rows = report_module.build_report_data(sample_results, policy, book, AS_OF, "zh").view["origin_rows"]
    assert sum(r["upgrade"] for r in rows) == sum(r.decision("upgrade_eligibility").outcome == "eligible" for r in sample_results)
    assert sum(r["pool"] for r in rows) == sum(r.decision("pool_entry").outcome == "eligible" for r in sample_results)
    assert sum(r["awarded"] for r in rows) == 6
    assert [(r["in_park"], r["origin"]) for r in rows[:4]] == [(True, "招商引资"), (True, "小升规"),
                                                                (False, "招商引资"), (False, "小升规")]


def test_english_report(tmp_path):
    out = tmp_path / "en.html"
    assert run("report", REGISTER, "--as-of", AS_OF, "--out", out, "--lang", "en").exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert '<html lang="en">' in text and "De-listing warnings" in text and "720,000.00 yuan" in text


def test_data_in_the_report_is_escaped(tmp_path):
    rows = list(csv.reader(io.StringIO(REGISTER.read_text(encoding="utf-8-sig"))))
    for row in rows:
        if row[0] == "915001017N8HFPQD7Q":        # a red warning, listed by name
            row[1] = '<img src=x onerror="alert(1)">&'
    register = tmp_path / "hostile.csv"
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    register.write_text(buf.getvalue(), encoding="utf-8")
    out = tmp_path / "r.html"
    assert run("report", register, "--as-of", AS_OF, "--out", out).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "<img" not in text and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&amp;" in text


def test_extra_sections_plug_in_after_the_built_in_ones(sample_results, monkeypatch):
    monkeypatch.setattr(report_module, "EXTRA_SECTIONS", [])

    @report_module.register_section
    def priority(data, lang):
        body = Markup("<p>{}</p>").format(f"{len(data.results)} <firms>")
        return report_module.Section(id="priority-ranking", title="要素保障排序 <1>", html=body)

    @report_module.register_section
    def nothing(data, lang):
        return None

    policy, book = policy_and_rules()
    text = report_module.render_report(report_module.build_report_data(sample_results, policy, book, AS_OF, "zh"))
    # Numbered after the built-in sections (一 to 六), as every section is.
    assert re.search(r'<a href="#priority-ranking">[七八九十]+、要素保障排序 &lt;1&gt;</a>', text)
    extra = section(text, "priority-ranking")
    assert "<p>50 &lt;firms&gt;</p>" in extra
    assert text.index('id="warnings"') < text.index('id="priority-ranking"')


def test_nice_axis_ends():
    assert [report_module.nice_ceiling(Decimal(v)) for v in ("0", "7", "24", "240000", "1000")] == \
        [Decimal(1), Decimal(10), Decimal(25), Decimal(250000), Decimal(1000)]


# ------------------------------------------------------------------------------------ Chromium
def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        # A skip reason only shows with -rs; a warning shows in every run's summary.
        warnings.warn("chromium not installed: the HTML report was not rendered in a browser")
        pytest.skip("chromium not installed: the HTML report was not rendered in a browser")
    return exe


def headless(exe: str, profile: Path, page: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--window-size=1280,2000",
            *extra, page.resolve().as_uri()]
    return subprocess.run(args, capture_output=True, text=True, timeout=90)


def console_lines(stderr: str) -> list[str]:
    """Messages the page wrote to the console (errors, uncaught exceptions), as Chromium logs them."""
    return [l for l in stderr.splitlines() if ":CONSOLE" in l or "Uncaught" in l]


def test_the_console_check_catches_a_page_error(tmp_path):
    exe = chromium()
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><meta charset="utf-8"><script>console.error("boom"); missing();</script>',
                    encoding="utf-8")
    run_ = headless(exe, tmp_path / "profile", page, "--dump-dom")
    assert any("boom" in l for l in console_lines(run_.stderr)), run_.stderr[-2000:]


def test_report_renders_in_headless_chromium(report_file, tmp_path):
    exe = chromium()
    dom = headless(exe, tmp_path / "profile-dom", report_file, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_lines(dom.stderr) == []
    page = dom.stdout
    for chart in ("chart-awards-by-town", "chart-origin-groups"):
        svg = page.split(f'id="{chart}"', 1)[1].split("</svg>", 1)[0]
        assert svg.count('<rect class="bar"') >= 4, chart
    assert page.count('<rect class="bar"') >= 5 * 2 + 4

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    snap = headless(exe, tmp_path / "profile-shot", report_file, f"--screenshot={shot}")
    assert snap.returncode == 0, snap.stderr[-2000:]
    assert console_lines(snap.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_award_list_renders_and_is_captured(report_file, tmp_path):
    """The award section as an officer sees it: the totals, the enterprises awarded and the refused
    candidate with the reason. Only that section is shown (a style hides the others), so the shot is
    readable; the page is the report itself."""
    exe = chromium()
    page = tmp_path / "awards-only.html"
    page.write_text(report_file.read_text(encoding="utf-8").replace(
        "</head>", "<style>section:not(#awards), nav { display: none; }</style></head>", 1), encoding="utf-8")
    dom = headless(exe, tmp_path / "profile-awards", page, "--dump-dom")
    assert dom.returncode == 0 and console_lines(dom.stderr) == []
    awarded = dom.stdout.split('id="award-list-table"')[1].split("</table>")[0]
    assert awarded.count("<tr>") == 7 and "10.00万元" in awarded
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-award-list.png"
    shot.unlink(missing_ok=True)
    snap = headless(exe, tmp_path / "profile-awards-shot", page, f"--screenshot={shot}")
    assert snap.returncode == 0, snap.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
