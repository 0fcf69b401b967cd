"""Review sheets (审核表): every figure says where it comes from, assumed amounts are marked as such,
the sheet carries the audit record's id, and data cannot break out of Markdown or HTML."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.awards.review import md_escape
from tests.conftest import ROOT, policy_and_rules

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = "2024-12-31"
FIRM = "915001017P5X326G0R"        # an industrial firm newly in scope in 2024: enterprise and town award


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def sheet(*args) -> str:
    result = run("review", FIRM, REGISTER, "--as-of", AS_OF, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def zh_md() -> str:
    return sheet()


@pytest.fixture(scope="module")
def en_md() -> str:
    return sheet("--lang", "en")


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The body rows of the first Markdown table after a heading, split into cells."""
    lines = text.split(heading, 1)[1].splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("|"))
    out = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        out.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return out


def used_parameters(type_: str = "enterprise_award") -> dict:
    from datetime import date
    from tests.conftest import evaluator
    from engine.register import read_register
    policy, _ = policy_and_rules()
    read = read_register(REGISTER, as_of=date.fromisoformat(AS_OF), policy=policy)
    ent = next(e for _, e in read.accepted if e.enterprise_id == FIRM)
    return evaluator(date.fromisoformat(AS_OF)).evaluate(ent).decision(type_).params


def test_zh_sheet_shows_the_award_with_its_assumed_mark_and_the_clause_verbatim(zh_md):
    assert zh_md.startswith("# 新进规上企业奖励审核表")
    assert "**给予奖励** — 奖励金额 **10.00万元（100,000.00元）** **【假定值】**" in zh_md
    assert "> **三(一)** （一）对新进规模以上工业企业、软件信息服务业企业及所属乡镇（街道）分别给予一定支持奖励。" in zh_md
    assert "| 企业名称 | 重庆万州钜衡汽车零部件有限公司 |" in zh_md
    assert "| 数据来源 | 企业登记表 register.csv 第23行 |" in zh_md


def test_zh_sheet_every_parameter_shows_its_source_or_the_assumed_mark_with_its_note(zh_md):
    rows = {r[0]: r for r in table_rows(zh_md, "## 六、参数及来源")}
    params = used_parameters()
    assert len(rows) == len(params)
    for rp in params.values():
        label = next(k for k in rows if f"（{rp.name}）" in k)
        source = rows[label][2]
        if rp.provenance == "assumed":
            # The note in the sheet's language (note_zh where the policy gives one).
            assert source.startswith("**【假定值】** 政策未明确") and md_escape(rp.note_in("zh")) in source, rp.name
        else:
            assert source.startswith("依据：") and md_escape(rp.reference or rp.clause) in source, rp.name
    # The policy states the industrial sections; it is silent on the amount.
    assert rows[next(k for k in rows if "industrial_sections" in k)][2].startswith("依据：国家统计局")
    assert rows[next(k for k in rows if "enterprise_award_industrial" in k)][2].startswith("**【假定值】**")


def test_zh_sheet_every_condition_figure_has_a_source(zh_md):
    rows = table_rows(zh_md, "## 四、条件核查")
    assert len(rows) >= 5
    known = ("企业登记表 register.csv 第23行「", "由「", "评价年度（2024-12-31）", "规则条件本身", "依据：", "**【假定值】**")
    for row in rows:
        value_source, requirement_source = row[5], row[7]
        if row[3]:       # a condition row (a classification row has no indicator)
            assert value_source.startswith(known), row
            assert requirement_source.startswith(known), row
    assert any(r[3] == "上年营业收入" or r[3] == "是否规上" for r in rows)


def test_zh_sheet_shows_the_arithmetic_of_the_amount(zh_md):
    amounts = {r[0]: r for r in table_rows(zh_md, "## 五、金额计算")}
    chosen = [r for r in amounts.values() if r[4] == "采用"]
    assert len(chosen) == 1 and "enterprise_award_industrial" in chosen[0][0]
    assert chosen[0][2] == "10.00万元（100,000.00元）" and chosen[0][3].startswith("**【假定值】**")
    assert "1. 基础奖励（就高不重复，取最高者）：候选 10.00万元、0.00万元，取 10.00万元（enterprise_award.industrial_amount）" in zh_md
    assert "2. 合计：10.00万元 ＝ 10.00万元（100,000.00元）" in zh_md


def test_en_sheet_marks_assumed_figures_and_gives_sources(en_md):
    assert en_md.startswith("# Review sheet: award to a newly upgraded enterprise")
    assert "**awarded** — Amount **100,000.00 yuan (10.00 万元)** **[ASSUMED]**" in en_md
    rows = {r[0]: r for r in table_rows(en_md, "## 6. Parameters and their sources")}
    industrial = rows[next(k for k in rows if "(enterprise_award_industrial)" in k)]
    assert industrial[1] == "100,000.00 yuan"
    assert industrial[2].startswith("**[ASSUMED]** the policy is silent (parameter enterprise_award_industrial")
    assert rows[next(k for k in rows if "(industrial_sections)" in k)][2].startswith("source: 国家统计局")
    assert "Figures marked ASSUMED are not stated by the policy" in en_md
    assert "| confirmed in the statistical scope (met) |" in en_md     # English punctuation in the layout


def test_town_award_sheet_names_the_beneficiary(tmp_path):
    text = sheet("--type", "town_award", "--lang", "en")
    assert "| Paid to | 高峰街道 |" in text
    assert "**awarded** — Amount **20,000.00 yuan (2.00 万元)** **[ASSUMED]**" in text
    assert "town_award_park_attribution" in text


def test_the_sheet_carries_the_audit_records_decision_id(zh_md, tmp_path):
    assert run("audit", REGISTER, "--as-of", AS_OF, "--out", tmp_path).exit_code == 0
    record = json.loads((tmp_path / f"{FIRM}-enterprise_award-{AS_OF}.json").read_text(encoding="utf-8"))
    assert f"| 审核编号（决定编号） | `{record['decision_id']}` |" in zh_md


def test_audit_can_write_the_sheets_beside_the_records(tmp_path):
    assert run("audit", REGISTER, "--as-of", AS_OF, "--out", tmp_path, "--sheets", "md", "--lang", "en").exit_code == 0
    sheets = sorted(tmp_path.glob("*.en.md"))
    assert len(sheets) == len(list(tmp_path.glob("*.json"))) == 12
    assert all("[ASSUMED]" in p.read_text(encoding="utf-8") for p in sheets)


def test_html_sheet_is_a_self_contained_page_with_the_same_content():
    html = sheet("--format", "html")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert '<span class="assumed">假定值</span>' in html
    assert "10.00万元（100,000.00元）" in html
    assert "（一）对新进规模以上工业企业、软件信息服务业企业及所属乡镇（街道）分别给予一定支持奖励。" in html


def hostile_register(tmp_path: Path) -> Path:
    """The sample register with the awarded firm renamed to something that would break a page."""
    text = REGISTER.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        if row[0] == FIRM:
            row[1] = '<script>alert(1)</script>|**x**[y](javascript:z)'
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path = tmp_path / "hostile<b>&.csv"       # the file name reaches the sheet as each figure's source
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def test_data_cannot_break_out_of_the_html_or_markdown_sheet(tmp_path):
    register = hostile_register(tmp_path)
    html = run("review", FIRM, register, "--as-of", AS_OF, "--format", "html").stdout
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Escaped once, also where a wording macro builds the text (data sources, row references).
    assert "<b>" not in html and "&amp;lt;" not in html
    assert "企业登记表 hostile&lt;b&gt;&amp;.csv 第23行「是否规上」" in html
    md = run("review", FIRM, register, "--as-of", AS_OF).stdout
    assert "| 企业名称 | &lt;script&gt;alert(1)&lt;/script&gt;\\|\\*\\*x\\*\\*\\[y\\](javascript:z) |" in md


def test_review_of_an_unknown_enterprise_is_one_line_and_exit_1():
    result = run("review", "91500101MA5U7XXXXX", REGISTER, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error:") and "no enterprise with id" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_sheets_count_only_the_assumptions_this_award_rests_on(zh_md, en_md):
    # The industrial amount is the one assumed figure in play; the zero origin amounts and the tag list
    # (not chosen, no effect) and the software divisions (the industrial branch decided) are listed
    # in section 六 but not counted.
    assert "本决定所依据的假定值共 1 项" in zh_md
    assert "This decision rests on 1 assumed figure(s)" in en_md
    assert "| 招商引资（新建投产）新进规上工业企业奖励（按来源区分时）（enterprise_award_investment） | 0.00万元 |" in zh_md


def test_sheets_cite_nothing_outside_the_policy_and_speak_the_sheets_language(zh_md, en_md):
    for text in (zh_md, en_md):
        for outside in ("domain.md", "design.md", "decisions.md", "product owner"):
            assert outside not in text, outside
    rows = {r[0]: r for r in table_rows(zh_md, "## 六、参数及来源")}
    industrial = rows[next(k for k in rows if "enterprise_award_industrial" in k)][2]
    assert "三(一)只规定“给予一定支持奖励”，未规定金额" in industrial and "names no amount" not in industrial
    assert "三(一) says 给予一定支持奖励 without an amount; 10万元 is this tool's default" in en_md


def test_a_chinese_sheet_of_the_example_policy_gives_every_parameter_note_in_chinese():
    """Each parameter's note (section 六) is in the sheet's language for the example policy too: no
    English sentence where a Chinese note belongs (ids, codes and standard numbers aside)."""
    register = ROOT / "policies" / "example-district-2024" / "sample-registers" / "2024.csv"
    result = run("review", "915001017P3WP9W6WH", register, "--as-of", AS_OF, "--policy", "example-district-2024")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout, "## 六、参数及来源")
    assert any("【假定值】" in r[2] for r in rows)
    for row in rows:
        note = re.sub(r"（参数 [^）]*）|\b\w+(?:[._/-]\w+)+\b|\b[A-Z]+\d*\b", " ", row[2])
        words = re.findall(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])", note)
        assert not words, (row[0], words)
