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
from engine.scaffold import load_catalogue, scaffold, split_clauses
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
    assert params["money_1"]["values"]["2025-01-01"] == {"value": "50000", "provenance": "source",
                                                          "clause": "第一条", "note": "to review: 「一次性奖励5万元」"}
    assert "# to review" in (out / "provisions.yaml").read_text(encoding="utf-8")
    findings = check_policy(out)                       # what is left to decide, listed
    assert findings and all(f.severity in ("error", "warning", "info") for f in findings)
    assert any("unknown parameter 'industrial_sections'" in f.message for f in findings)
    again = CliRunner().invoke(main, ["policy", "new", "demo-2025", "--from", str(doc), "--out", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output
    assert Decimal(params["money_2"]["values"]["2025-01-01"]["value"]) == Decimal(20000)


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
