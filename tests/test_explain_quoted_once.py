"""An enterprise's explanation quotes each clause's text, each reading and each long basis of a parameter
once, at its first citation; later citations name it and point up, and a rule a decision shares with a
decision shown above lists its conditions there only. Nothing a reviewer checks goes missing: each
decision keeps its verdict, rule and clause ids, conditions with values and thresholds, amounts with
their basis. A decision shown alone (`--type`) quotes everything it cites."""
from __future__ import annotations

import re

from click.testing import CliRunner

from cli import main
from engine.commands.common import policy_and_rules
from tests.conftest import ROOT

REGISTER = str(ROOT / "examples" / "register.csv")
AWARDED = "915001017P5X326G0R"     # awarded in the bundled register as of 2024-12-31


def explain(*args: str) -> str:
    result = CliRunner().invoke(main, ["explain", AWARDED, REGISTER, "--as-of", "2024-12-31", *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_each_clause_text_and_reading_is_quoted_once_then_pointed_to():
    policy, book = policy_and_rules("wanzhou-2022-80")
    text = explain()
    cited = [c for c in policy.clauses.values() if f"结论依据：{c.id}" in text]
    assert len(cited) >= 3
    for clause in cited:
        assert text.count(clause.text) == 1, clause.id
    assert text.count("结论依据：三(一)（原文见上）") == 1          # the town award cites the award's clause
    for reading in ("software_scope", "first_time_only", "one_award_per_year"):
        quoted = re.findall(f"  〔{reading}〕(?!〔|见上)", text)
        assert len(quoted) == 1 and text.count(f"〔{reading}〕") >= 2     # quoted once, then pointed to
    assert text.count("依据：国家统计局规模以上工业统计范围") == 1 and "B、C、D（依据见上）" in text


def test_a_rule_shared_with_a_decision_above_points_to_it_and_alone_shows_its_conditions():
    text = explain()
    town = text[text.index("【所属乡镇（街道）奖励】"):text.index("【用地、用电要素优先保障】")]
    assert "（沿用新进规上企业奖励的条件，逐项见上）" in town and "是否法人单位" not in town
    alone = explain("--type", "town_award")
    assert "逐项见上" not in alone and "原文见上" not in alone
    assert "    ✓ 是否法人单位 是，要求为 是" in alone and "结论依据：三(一) 「" in alone


def test_amounts_keep_their_basis_on_every_line():
    text = explain()
    award = text[text.index("【新进规上企业奖励】"):text.index("【所属乡镇（街道）奖励】")]
    amounts = [line for line in award.splitlines() if line.startswith("    → ") or line.startswith("    · enterprise")]
    assert amounts and all("假定值（政策未明确）" in line or "依据：" in line for line in amounts)
