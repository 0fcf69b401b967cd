"""Readings of the text are shown as readings: every decision lists the interpretation ids it relied on,
each id resolves to a record with its alternatives one command away (`policy show --interpretations`),
and `explain` prints the readings used under their own heading, never as the clause's words."""
from __future__ import annotations

import json

from click.testing import CliRunner

from cli import main
from tests.conftest import ROOT

REGISTER = str(ROOT / "examples" / "register.csv")
AWARDED = "915001017P5X326G0R"     # awarded in the bundled register as of 2024-12-31


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_reading_a_decision_lists_resolves_with_its_alternatives():
    readings = {r["id"]: r for r in json.loads(run("policy", "show", "--interpretations", "--format", "json"))
                ["interpretations"]}
    for needed in ("first_time_only", "one_award_per_year", "award_year_and_entry_window", "origin_from_dates",
                   "park_is_development_zone", "priority_industrial_only", "priority_mujun_classes", "revenue_measure"):
        assert needed in readings and readings[needed]["alternatives"], needed
    doc = json.loads(run("check", REGISTER, "--as-of", "2024-12-31", "--format", "json"))
    used = {i for ent in doc for d in ent["decisions"] for i in d["interpretations"]}
    assert {"first_time_only", "software_scope"} <= used
    assert used <= set(readings)


def test_explain_prints_the_readings_used_marked_as_readings_and_the_assumed_mark_in_the_headline():
    text = run("explain", AWARDED, REGISTER, "--as-of", "2024-12-31")
    award = text[text.index("【新进规上企业奖励】"):text.index("【所属乡镇（街道）奖励】")]
    assert award.splitlines()[0].endswith("【假定值：政策未规定金额】")
    assert "〔解读 first_time_only〕" in award
    assert "基础奖励按解读就高不重复〔解读 one_award_per_year〕" in award
    # The heading says once in full what a reading is; every later decision still marks its readings.
    assert text.count("所依据的解读（本工具对条文的理解，不是条文原文") == 1
    assert "所依据的解读（不是条文原文）：" in award
    english = run("explain", AWARDED, REGISTER, "--as-of", "2024-12-31", "--lang", "en")
    assert "[ASSUMED: the policy states no amount]" in english and "Readings relied on" in english


def test_the_readings_view_speaks_one_language_per_heading():
    zh = run("policy", "show", "--interpretations")
    assert zh.startswith("wanzhou-2022-80 的解读") and "其他可能的理解" in zh
    en = run("policy", "show", "--interpretations", "--lang", "en")
    assert en.startswith("Readings of wanzhou-2022-80") and "Other readings" in en
