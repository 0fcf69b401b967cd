"""Closed vocabularies match through the policy's glossary (policies/<id>/vocabulary.yaml): a register
cell holding the clause's own words (招商引资企业, 园内, 全面停产 …) is read as the value of the column;
a word the glossary does not know is the same row problem as any value outside the list; a glossary
that names a column or value the rules do not have is refused by `policy check`."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from cli import main
from engine.analysis.policy_check import check_policy
from engine.policy import policies_root

AS_OF = "2024-12-31"
HEADER = ("统一社会信用代码,企业名称,所属乡镇（街道）,是否园内,行业代码,是否法人单位,成立日期,是否规上,入统年月,曾经入统,来源,"
          "本年累计营业收入,累计截至月份,上年同期累计营业收入,标签,登记状态,生产状态,亩均效益评价")
SAMPLE = policies_root() / "example-district-2024" / "sample-registers" / "2024.csv"


def copied(tmp_path):
    """The example policy in a temporary folder, on the package's shared rules."""
    folder = tmp_path / "example-district-2024"
    shutil.copytree(policies_root() / "example-district-2024", folder)
    meta = folder / "policy.yaml"
    meta.write_text("".join(line for line in meta.read_text(encoding="utf-8").splitlines(keepends=True)
                            if not line.startswith("rules:")), encoding="utf-8")
    return folder


def register(tmp_path, rows: list[str]):
    """The example's first firm (东湖街道, C3484, in scope 2024-03) with the last cells as given."""
    base = "915001017P3WP9W6WH,示例区东湖精工有限公司,东湖街道,{park},C3484,是,2012-05-10,是,2024-03,否,{origin},"\
           "2300.00,2024-12,1900.00,,{reg},{prod},{mujun}"
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "\n" + "".join(base.format(**dict(zip(("park", "origin", "reg", "prod", "mujun"),
                                                                      r.split("|")))) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def check_json(path, policy="example-district-2024", engine="durable"):
    result = CliRunner().invoke(main, ["check", str(path), "--as-of", AS_OF, "--policy", str(policy),
                                       "--format", "json", "--engine", engine])
    return result, json.loads(result.stdout) if result.exit_code in (0, 1) and result.stdout.strip() else None


def decisions(doc):
    results = doc["results"] if isinstance(doc, dict) else doc
    return {d["type"]: d for d in results[0]["decisions"]}


@pytest.mark.parametrize("engine", ["durable", "columnar"])
@pytest.mark.parametrize("words, amount", [
    ("否|招商引资企业|存续|正常|", "70000.00"),       # origin in the clause's words: 招商引资 (7万元)
    ("否|小升规企业|存续|正常|", "50000.00"),
    ("否|新建投产|存续|正常|", "70000.00"),
])
def test_origin_in_the_clause_s_words_pays_its_amount(tmp_path, engine, words, amount):
    result, doc = check_json(register(tmp_path, [words]), engine=engine)
    assert result.exit_code == 0, result.output
    assert decisions(doc)["enterprise_award"]["amount_yuan"] == amount


@pytest.mark.parametrize("engine", ["durable", "columnar"])
def test_in_park_production_registration_and_mujun_read_through_the_glossary(tmp_path, engine):
    plain, _ = check_json(register(tmp_path, ["是|小升规|经营异常|停产|D"]), engine=engine)
    words, _ = check_json(register(tmp_path, ["园内|小升规企业|列入经营异常名录|全面停产|D类"]), engine=engine)
    assert plain.exit_code == 0 and words.exit_code == 0, words.output
    strip = lambda out: json.dumps({k: v for k, v in json.loads(out).items() if k not in ("run", "generated")}  # noqa: E731
                                   if isinstance(json.loads(out), dict) else json.loads(out), ensure_ascii=False)
    assert strip(plain.stdout) == strip(words.stdout)     # the same firm, written in other words


@pytest.mark.parametrize("engine", ["durable", "columnar"])
def test_an_unknown_word_is_a_row_problem_naming_the_accepted_words(tmp_path, engine):
    path = register(tmp_path, ["否|招商企业|存续|正常|", "否|小升规|存续|停工|", "园中|小升规|存续|正常|"])
    result = CliRunner().invoke(main, ["check", str(path), "--as-of", AS_OF, "--policy", "example-district-2024",
                                       "--engine", engine])
    out = result.output
    assert "row 2" in out and "来源" in out and '"招商企业" is not one of 招商引资 / 小升规' in out
    assert "招商引资企业=招商引资" in out and "vocabulary.yaml" in out
    assert "row 3" in out and '"停工" is not one of 正常 / 半停产 / 停产' in out
    assert "row 4" in out and '"园中" is not a yes/no value' in out and "园内=是" in out
    assert "3 of 3 rows rejected" in out


def test_a_policy_without_a_glossary_rejects_the_other_names(tmp_path):
    folder = copied(tmp_path)
    (folder / "vocabulary.yaml").unlink()
    path = register(tmp_path, ["否|招商引资企业|存续|正常|"])
    result = CliRunner().invoke(main, ["check", str(path), "--as-of", AS_OF, "--policy", str(folder)])
    assert '"招商引资企业" is not one of 招商引资 / 小升规; did you mean "招商引资"?' in result.output


@pytest.mark.parametrize("entry, message", [
    ("sector:\n  工业: [制造业]\n", "sector: not a closed register column"),
    ("origin:\n  外资: [外商投资企业]\n", "origin.外资: not a value of origin (来源)"),
    ("origin:\n  招商引资: [小升规]\n", "小升规 is another value of the column"),
    ("in_park:\n  园内: [是]\n", "in_park.园内: not a value of in_park"),
    ("origin:\n  招商引资: [新建]\n  小升规: [新建]\n", "'新建' names both '招商引资' and '小升规'"),
])
def test_policy_check_refuses_a_glossary_the_rules_do_not_have(tmp_path, entry, message):
    folder = copied(tmp_path)
    (folder / "vocabulary.yaml").write_text("tags:\n  高技术: [高技术企业]\n" + entry, encoding="utf-8")
    errors = [f.message for f in check_policy(folder) if f.severity == "error"]
    assert any(message in m for m in errors), errors


@pytest.mark.parametrize("engine", ["durable", "columnar"])
def test_yes_no_columns_read_the_text_s_words(tmp_path, engine):
    """是否规上 written 规上, 是否法人单位 written 法人单位 / 产业活动单位 (a unit that is not a legal person)."""
    rows = HEADER + "\n"
    base = "915001017P3WP9W6WH,示例区东湖精工有限公司,东湖街道,否,C3484,{lp},2012-05-10,{scope},2024-03,否,小升规,"\
           "2300.00,2024-12,1900.00,,存续,正常,\n"
    path = tmp_path / "r.csv"
    path.write_text(rows + base.format(lp="法人单位", scope="规上"), encoding="utf-8")
    result, doc = check_json(path, engine=engine)
    assert result.exit_code == 0 and decisions(doc)["enterprise_award"]["amount_yuan"] == "50000.00", result.output
    path.write_text(rows + base.format(lp="产业活动单位", scope="规上"), encoding="utf-8")
    result, doc = check_json(path, engine=engine)
    award = decisions(doc)["enterprise_award"]
    assert (award["outcome"], award["rule_id"]) == ("not_awarded", "enterprise_award.legal_person")
