"""`scaleup policy new ID --from DOCUMENT.txt`: the folder proposed from a document's text, tested on
both bundled documents and on a third written here (numbered by 第X条)."""
from __future__ import annotations

from decimal import Decimal

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from engine.analysis.policy_check import check_policy
from engine.policy import policies_root
from engine.scaffold import load_catalogue, load_parameter_names, load_readings, scaffold, split_clauses
from tests.conftest import ROOT

THIRD = """演示县人民政府关于支持工业企业升规的若干措施
演示县府发〔2025〕3号
各乡镇人民政府：
第一条 对首次纳入规模以上工业统计范围的企业，一次性奖励5万元。
第二条 企业入统后2年内营业收入年均增长20%以上的，再奖励2万元。
第三条 本措施自2025年1月1日起施行，有效期3年。
"""


def bundled(policy_id: str) -> tuple[str, list[tuple[str, str]]]:
    folder = policies_root() / policy_id
    clauses = yaml.safe_load((folder / "clauses.yaml").read_text(encoding="utf-8"))["clauses"]
    return (folder / "source.txt").read_text(encoding="utf-8"), [(c["id"], c["text"]) for c in clauses]


@pytest.mark.parametrize("policy_id", ["wanzhou-2022-80", "example-district-2024"])
def test_the_bundled_documents_split_into_their_bundled_clauses_exactly(policy_id):
    text, expected = bundled(policy_id)
    assert [(c.id, c.text) for c in split_clauses(text)] == expected


def test_wanzhou_proposes_the_2000_wan_threshold_and_no_award_amount():
    text, _ = bundled("wanzhou-2022-80")
    sc = scaffold(text, load_catalogue(ROOT / "rules"))
    money = [p for p in sc.params if p.type == "money"]
    assert [(p.value, p.clause) for p in money] == [("20000000", "二(四)")]     # the text states no award amount
    assert "2000万元" in money[0].phrase and money[0].phrase in dict((c.id, c.text) for c in sc.clauses)["二(四)"]
    assert sc.document_number == "万州府办发〔2022〕80号"


def test_the_example_proposes_every_figure_of_its_award_clause():
    text, _ = bundled("example-district-2024")
    sc = scaffold(text, load_catalogue(ROOT / "rules"))
    got = {(p.type, p.value) for p in sc.params if p.clause == "三(一)"}
    assert {("money", "70000"), ("money", "50000"), ("money", "100000"), ("money", "10000"), ("money", "20000"),
            ("money", "30000"), ("ratio", "0.4"), ("ratio", "0.6"), ("ratio", "0.1"), ("count", "3"),
            ("count", "2")} == got


@pytest.mark.parametrize("policy_id", ["wanzhou-2022-80", "example-district-2024"])
def test_each_proposed_binding_cites_the_clause_the_bundled_table_binds(policy_id):
    """A provision is looked for first in its parent's clause: the preamble's 规模以上工业企业 does not
    take award.enterprise.sector from 三(一); the notice of issue and the duties are proposed too."""
    table = yaml.safe_load((policies_root() / policy_id / "provisions.yaml").read_text(encoding="utf-8"))["provisions"]
    sc = proposed(bundled(policy_id)[0])
    assert {p: c for p, c, _ in sc.bindings} == {p: table[p]["clause"] for p, _, _ in sc.bindings}
    assert set(table) - {p for p, _, _ in sc.bindings} <= {      # amounts these texts state no figure for
        "award.enterprise.industrial_amount", "award.enterprise.origin_amount", "award.enterprise.software_amount",
        "award.enterprise.bonus", "award.town.amount"}


def proposed(text: str):
    return scaffold(text, load_catalogue(ROOT / "rules"), load_parameter_names(ROOT / "rules"),
                    load_readings(ROOT / "rules"))


def test_each_figure_is_named_after_the_parameter_its_words_point_to():
    """The names the bundled policies give the same figures (deterministic: words, no model)."""
    example = policies_root() / "example-district-2024"
    text, _ = bundled("example-district-2024")
    sc = proposed(text)
    stated = yaml.safe_load((example / "parameters.yaml").read_text(encoding="utf-8"))
    named = {p.name: p.value for p in sc.params if p.known}
    assert named == {"scale_threshold": "20000000", "enterprise_award_investment": "70000",
                     "enterprise_award_small_to_scale": "50000", "enterprise_award_software": "100000",
                     "town_award_per_enterprise": "10000", "award_tag_bonus": "20000", "growth_topup_amount": "30000",
                     "award_first_instalment_share": "0.4", "growth_topup_rate": "0.1", "growth_topup_years": "3",
                     "clawback_years": "2"}
    for name, value in named.items():                 # the bundled policy states the same figure
        assert Decimal(str(list(stated[name]["values"].values())[-1]["value"])) == Decimal(value), name
    assert [p.name for p in sc.params if not p.known] == ["unmatched_ratio_1"]      # 拨付其余60%: the rest
    assert {p.name for p in proposed(bundled("wanzhou-2022-80")[0]).params} == {"scale_threshold"}
    assert [(p.name, p.value) for p in proposed(THIRD).params] == [
        ("enterprise_award_industrial", "50000"), ("growth_topup_amount", "20000"), ("growth_topup_rate", "0.2"),
        ("growth_topup_years", "2"), ("unmatched_count_1", "3")]


def test_the_readings_the_proposed_provisions_require_are_a_skeleton_to_review(tmp_path):
    out = tmp_path / "third"
    doc = tmp_path / "doc.txt"
    doc.write_text(THIRD, encoding="utf-8")
    assert CliRunner().invoke(main, ["policy", "new", "third-2025", "--from", str(doc), "--out", str(out),
                                     "--district", "990101"]).exit_code == 0
    items = yaml.safe_load((out / "interpretations.yaml").read_text(encoding="utf-8"))["interpretations"]
    ids = {i["id"] for i in items}
    assert {"first_time_only", "award_year_and_entry_window", "one_award_per_year", "software_scope"} <= ids
    assert "delisting_indicators" not in ids and "pool_criteria" not in ids      # no such provision proposed
    clauses = {c["id"]: c["text"] for c in yaml.safe_load((out / "clauses.yaml").read_text(encoding="utf-8"))["clauses"]}
    for item in items:
        assert item["text"] in clauses[item["clause"]]
        assert (item["reading_zh"], item["reading_en"], item["decided_by"]) == ("to review",) * 3
    review = (out / "REVIEW.md").read_text(encoding="utf-8")
    for words in ("## 1. The document", "| enterprise_award_industrial | 50000 | 第一条 | 一次性奖励5万元 |",
                  "unmatched_count_1 (read by no rule)", "| first_time_only | 第一条 |",
                  "Parameters the rules read that parameters.yaml lacks", "industrial_sections",
                  "Lines still marked `to review`"):
        assert words in review, words


def marked_lines(folder) -> set[tuple[str, int]]:
    return {(p.name, n) for p in folder.glob("*.yaml")
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if "to review" in line}


def listed_lines(folder) -> set[tuple[str, int]]:
    out = set()
    for f in check_policy(folder):
        if f.code == "scaffold.to_review":
            name, rest = f.message.split(" line", 1)
            out |= {(name, int(n)) for n in rest.lstrip("s ").split(":", 1)[0].split(", ")}
    return out


def test_policy_check_lists_exactly_the_marks_left(tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text(THIRD, encoding="utf-8")
    out = tmp_path / "third"
    CliRunner().invoke(main, ["policy", "new", "third-2025", "--from", str(doc), "--out", str(out)])
    assert listed_lines(out) == marked_lines(out) and len(marked_lines(out)) > 10
    path = out / "provisions.yaml"                     # the author reviews the bindings: their marks go
    path.write_text(path.read_text(encoding="utf-8").replace("   # to review", ""), encoding="utf-8")
    assert listed_lines(out) == marked_lines(out) and not {n for n, _ in listed_lines(out)} & {"provisions.yaml"}


def test_like_copies_the_parameters_the_document_does_not_state(tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text(THIRD, encoding="utf-8")
    out = tmp_path / "third"
    result = CliRunner().invoke(main, ["policy", "new", "third-2025", "--from", str(doc), "--out", str(out),
                                       "--district", "990101", "--like", "example-district-2024"])
    assert result.exit_code == 0, result.output
    params = yaml.safe_load((out / "parameters.yaml").read_text(encoding="utf-8"))
    assert {"industrial_sections", "monthly_inclusion_cutoff", "enterprise_award_industrial"} <= set(params)
    assert "# to review: industrial_sections (copied from example-district-2024)" in \
        (out / "parameters.yaml").read_text(encoding="utf-8")
    assert not [f for f in check_policy(out) if "unknown parameter" in f.message]
    bad = CliRunner().invoke(main, ["policy", "new", "x-2025", "--from", str(doc), "--out", str(tmp_path / "x"),
                                    "--like", "no-such-policy"])
    assert bad.exit_code != 0 and "unknown policy" in bad.output and not (tmp_path / "x").exists()


def test_a_document_numbered_by_articles():
    sc = scaffold(THIRD, load_catalogue(ROOT / "rules"))
    assert [c.id for c in sc.clauses] == ["第一条", "第二条", "第三条"]
    assert all(c.text in THIRD for c in sc.clauses)
    assert {(p.type, p.value, p.clause) for p in sc.params} == {
        ("money", "50000", "第一条"), ("money", "20000", "第二条"), ("ratio", "0.2", "第二条"),
        ("count", "2", "第二条"), ("count", "3", "第三条")}
    assert ("2025-01-01", "第三条 本措施自2025年1月1日起施行，有效期3年。") in sc.dates
    bound = {pid: (cid, words) for pid, cid, words in sc.bindings}
    assert bound["award.enterprise.newly_in_scope"][0] == "第一条"
    assert all(words in THIRD for _, words in bound.values())


def test_policy_new_writes_a_folder_that_policy_check_reads(tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_bytes(THIRD.encode("utf-8"))
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["policy", "new", "demo-2025", "--from", str(doc), "--district", "990101",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 clauses" in result.output and f"scaleup policy check {out}" in result.output
    assert (out / "source.txt").read_bytes() == THIRD.encode("utf-8")
    meta = yaml.safe_load((out / "policy.yaml").read_text(encoding="utf-8"))
    assert (meta["document_number"], meta["jurisdiction"]) == ("演示县府发〔2025〕3号", "990101-example")
    import hashlib
    assert meta["source_sha256"] == hashlib.sha256(THIRD.encode("utf-8")).hexdigest()
    params = yaml.safe_load((out / "parameters.yaml").read_text(encoding="utf-8"))
    assert params["enterprise_award_industrial"]["values"]["2025-01-01"] == {
        "value": "50000", "provenance": "source", "clause": "第一条", "note": "「一次性奖励5万元」"}
    assert params["enterprise_award_industrial"]["label_zh"] == "新进规模以上工业企业奖励"
    assert "# to review" in (out / "provisions.yaml").read_text(encoding="utf-8")
    findings = check_policy(out)                       # what is left to decide, listed
    assert findings and all(f.severity in ("error", "warning", "info") for f in findings)
    assert any("unknown parameter 'industrial_sections'" in f.message for f in findings)
    again = CliRunner().invoke(main, ["policy", "new", "demo-2025", "--from", str(doc), "--out", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output
    assert Decimal(params["growth_topup_amount"]["values"]["2025-01-01"]["value"]) == Decimal(20000)


def test_a_policy_id_that_is_a_path_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import main
    monkeypatch.chdir(tmp_path)
    (tmp_path / "doc.txt").write_text("一、奖励\n对新进规模以上工业企业给予奖励5万元。\n", encoding="utf-8")
    for bad in ("../escape", "/tmp/abs", "Upper", "a/b"):
        result = CliRunner().invoke(main, ["policy", "new", bad, "--from", "doc.txt"])
        assert result.exit_code == 2 and "not a path" in result.output, (bad, result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.txt"]
    assert not (tmp_path.parent / "escape").exists()


def test_policy_check_names_what_the_ledger_and_the_ranking_read(tmp_path):
    """A folder missing a payment term or a ranking weight is refused by policy check (not first by
    `scaleup awards` or `scaleup priority`), and --like copies them."""
    import shutil
    folder = tmp_path / "example-district-2024"
    shutil.copytree(policies_root() / "example-district-2024", folder)
    meta = folder / "policy.yaml"
    meta.write_text("".join(l for l in meta.read_text(encoding="utf-8").splitlines(keepends=True)
                            if not l.startswith("rules:")), encoding="utf-8")
    path = folder / "parameters.yaml"
    text = path.read_text(encoding="utf-8")
    for name in ("award_instalment_condition", "priority_partial_allocation"):
        start = text.index(f"\n{name}:\n")
        text = text[:start] + text[text.index("\n\n", start + 1):]
    path.write_text(text, encoding="utf-8")
    readings = folder / "interpretations.yaml"
    readings.write_text(readings.read_text(encoding="utf-8").replace(", award_instalment_condition]", "]"),
                        encoding="utf-8")
    errors = {(f.code, f.message) for f in check_policy(folder) if f.severity == "error"}
    assert any(code == "awards.terms" and "award_instalment_condition: missing" in m for code, m in errors), errors
    assert any(code == "priority.ranking" and "priority_partial_allocation" in m for code, m in errors), errors


def test_the_one_clause_notice_of_the_district_tests_is_proposed_with_its_names():
    """The third document: tests/districts' unnumbered notice, one clause 正文, every figure named."""
    from tests.districts import one_clause_notice as notice
    sc = proposed(notice.SOURCE)
    assert [(c.id, c.text) for c in sc.clauses if c.id.startswith("正文")][0] == ("正文", notice.TEXT)
    assert [(p.name, p.value) for p in sc.params if p.clause == "正文"] == [
        ("enterprise_award_investment", "80000"), ("enterprise_award_small_to_scale", "60000"),
        ("town_award_per_enterprise", "20000"), ("award_tag_bonus", "30000"), ("growth_topup_amount", "40000"),
        ("growth_topup_rate", "0.15"), ("growth_topup_years", "3")]
    bound = {p for p, c, _ in sc.bindings if c == "正文"}
    assert {"award.enterprise", "award.enterprise.origin_amount", "award.enterprise.bonus", "award.town",
            "award.town.amount"} <= bound
