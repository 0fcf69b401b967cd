"""The policy as data: verbatim clauses, provenance on every value, and clear errors for malformed
policy files (naming the file and the key, never a traceback)."""
from __future__ import annotations

import hashlib
import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.errors import ParameterNotInForce, PolicyDataError
from engine.policy import load_policy, policies_root
from engine.yamlio import load_yaml
from tests.conftest import ROOT, policy_and_rules

WANZHOU = policies_root() / "wanzhou-2022-80"
# SHA-256 of 万州府办发〔2022〕80号 as published (此件公开发布), taken when the text was copied in. It is
# written here as well as in policy.yaml so that editing both the text and its recorded hash still fails.
PUBLISHED_SHA256 = "c83eb250eb6958352351d5acfac156ac6ec057d71e8b57d2e8c856b2b9e8ed47"


def test_bundled_source_is_the_published_text_unchanged():
    policy, _ = policy_and_rules()
    assert policy.meta.source_sha256 == PUBLISHED_SHA256
    assert hashlib.sha256((WANZHOU / "source.txt").read_bytes()).hexdigest() == PUBLISHED_SHA256
    assert policy.meta.document_number in policy.source_text and "此件公开发布" in policy.source_text


def test_every_bundled_policy_records_the_hash_of_its_source():
    for folder in sorted(p.parent for p in policies_root().glob("*/policy.yaml")):
        meta = load_yaml(folder / "policy.yaml")
        digest = hashlib.sha256((folder / meta["source_file"]).read_bytes()).hexdigest()
        assert meta.get("source_sha256") == digest, folder.name


def test_every_clause_is_a_verbatim_part_of_the_source_document():
    policy, _ = policy_and_rules()
    assert len(policy.clauses) == 13
    for clause in policy.clauses.values():
        assert clause.text in policy.source_text, clause.id


def test_every_provision_of_the_document_has_a_clause():
    policy, _ = policy_and_rules()
    for heading in ("（一）加快平台载体建设", "（六）着力强化稳规工作", "（三）对成长性较好"):
        assert any(c.text.startswith(heading) for c in policy.clauses.values()), heading
    assert {"一", "二(一)", "二(二)", "二(三)", "二(四)", "二(五)", "二(六)", "三(一)", "三(二)", "三(三)", "附件"} <= set(policy.clauses)


def test_every_parameter_value_has_provenance_and_assumed_values_say_why():
    policy, _ = policy_and_rules()
    for name, param in policy.parameters.items():
        for day, pv in param.values.items():
            assert pv.provenance in ("source", "assumed"), name
            if pv.provenance == "assumed":
                assert pv.note, name
            else:
                assert pv.clause or pv.reference, name


def test_money_is_decimal_and_amounts_are_assumed_defaults():
    policy, _ = policy_and_rules()
    award = policy.param("enterprise_award_industrial", date(2024, 6, 30))
    assert award.value == Decimal("100000") and isinstance(award.value, Decimal)
    assert award.provenance == "assumed"       # 三(一) names no amount
    assert policy.param("town_award_per_enterprise", date(2024, 6, 30)).value == Decimal("20000")
    assert policy.param("scale_threshold", date(2024, 6, 30)).reference == "国统字〔2010〕87号"


def test_dated_values_change_exactly_on_their_date():
    policy, _ = policy_and_rules()
    assert policy.param("software_revenue_threshold", date(2019, 12, 31)).value == Decimal("10000000")
    assert policy.param("software_revenue_threshold", date(2020, 1, 1)).value == Decimal("20000000")
    assert policy.param("scale_threshold", date(2010, 12, 31)).value == Decimal("5000000")
    assert policy.param("scale_threshold", date(2011, 1, 1)).value == Decimal("20000000")


def test_a_date_with_no_value_in_force_is_an_error():
    policy, _ = policy_and_rules()
    with pytest.raises(ParameterNotInForce, match="no value in force on 2019-01-01"):
        policy.param("enterprise_award_industrial", date(2019, 1, 1))
    with pytest.raises(ParameterNotInForce, match="did you mean 'scale_threshold'"):
        policy.param("scale_treshold", date(2024, 1, 1))


def test_targets_are_stored_exactly_as_printed():
    policy, _ = policy_and_rules()
    annex = policy.targets.annex
    assert [(r.year, r.model_extra["new_total"], r.model_extra["cumulative_total"]) for r in annex.rows] == \
        [(2022, 26, 198), (2023, 31, 229), (2024, 38, 267), (2025, 43, 310)]
    assert {t.id: t.value for t in policy.targets.text_targets} == \
        {"new_total_2022": 20, "stock_total_2022": 190, "stock_total_2025": 300, "stock_in_park_2025": 200}


def test_glossary_has_every_core_term_once():
    terms = load_yaml(ROOT / "policies" / "glossary.yaml")["terms"]
    ids = [t["id"] for t in terms]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids)
    zh = {t["zh"] for t in terms}
    for core in ("规上", "规下", "升规", "小升规", "招商引资", "入统", "退规", "稳规", "动态培育库", "亩均效益", "园内", "园外"):
        assert core in zh


# ---------------------------------------------------------------- malformed copies

@pytest.fixture
def policy_copy(tmp_path):
    root = tmp_path / "policies"
    shutil.copytree(WANZHOU, root / "wanzhou-2022-80")
    shutil.copytree(policies_root() / "jurisdictions", root / "jurisdictions")
    shutil.copytree(ROOT / "rules", root.parent / "rules")   # policy.yaml: rules: ../../rules
    return root / "wanzhou-2022-80"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(folder: Path) -> str:
    with pytest.raises(PolicyDataError) as info:
        load_policy(folder)
    return "\n".join(info.value.problems)


def test_unknown_key_names_file_and_key(policy_copy):
    edit(policy_copy / "parameters.yaml", "  label_zh: 规模以上工业企业年营业收入标准", "  lable_zh: 规模以上工业企业年营业收入标准")
    text = problems_of(policy_copy)
    assert "parameters.yaml: scale_threshold" in text and "lable_zh: unknown key" in text


def test_wrong_type_names_file_parameter_and_date(policy_copy):
    edit(policy_copy / "parameters.yaml", 'value: "20000000"', "value: twenty million")
    assert re.search(r"parameters.yaml: scale_threshold: .*2011-01-01: expected a decimal number", problems_of(policy_copy))


def test_float_money_is_refused(policy_copy):
    edit(policy_copy / "parameters.yaml", 'value: "20000000"', "value: 20000000.0")
    assert "expected a quoted decimal" in problems_of(policy_copy)


def test_undated_value_is_refused(policy_copy):
    edit(policy_copy / "parameters.yaml", '"2011-01-01": {value: "20000000"', 'latest: {value: "20000000"')
    text = problems_of(policy_copy)
    assert "parameters.yaml: scale_threshold.values.latest" in text


def test_overlapping_dates_are_refused(policy_copy):
    edit(policy_copy / "parameters.yaml", '"2007-01-01": {value: "5000000", provenance: source,',
         '"2007-01-01": {value: "5000000", until: "2012-12-31", provenance: source,')
    assert re.search(r"scale_threshold: values overlap: 2007-01-01 runs until 2012-12-31", problems_of(policy_copy))


def test_missing_provenance_note_is_refused(policy_copy):
    path = policy_copy / "parameters.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'(value: "100000", provenance: assumed), note: "三\(一\) says[^"]*"', r"\1", text, count=1)
    path.write_text(text, encoding="utf-8")
    text = problems_of(policy_copy)
    assert "enterprise_award_industrial" in text and "needs a note" in text


def test_a_source_text_that_drifted_from_the_published_one_is_refused(policy_copy):
    source = policy_copy / "source.txt"
    source.write_bytes(source.read_bytes() + "\n（内部注：金额另定）\n".encode("utf-8"))
    text = problems_of(policy_copy)
    assert "source.txt: SHA-256 is" in text and "records source_sha256 c83eb250eb69" in text
    assert "published text unchanged" in text


def test_a_malformed_source_hash_is_refused(policy_copy):
    edit(policy_copy / "policy.yaml", "source_sha256: c83eb250", "source_sha256: C83EB250")
    assert "policy.yaml: source_sha256" in problems_of(policy_copy)


def test_edited_clause_text_is_refused(policy_copy):
    edit(policy_copy / "clauses.yaml", "分别给予一定支持奖励。", "分别给予10万元奖励。")
    assert "clause '三(一)': text is not a verbatim part of source.txt" in problems_of(policy_copy)


def test_duplicate_key_is_refused_with_line(policy_copy):
    text = (policy_copy / "parameters.yaml").read_text(encoding="utf-8")
    (policy_copy / "parameters.yaml").write_text(text + "\nscale_threshold: {}\n", encoding="utf-8")
    assert re.search(r"parameters.yaml line \d+: duplicate key 'scale_threshold'", problems_of(policy_copy))


def test_all_problems_are_reported_at_once(policy_copy):
    edit(policy_copy / "parameters.yaml", "  label_zh: 规模以上工业企业年营业收入标准", "  lable_zh: x")
    edit(policy_copy / "policy.yaml", "signed_on:", "signed_onn:")
    text = problems_of(policy_copy)
    assert "lable_zh" in text and "signed_onn" in text


def test_cli_reports_a_broken_policy_in_one_line_per_problem_without_traceback(policy_copy):
    edit(policy_copy / "parameters.yaml", "  label_zh: 规模以上工业企业年营业收入标准", "  lable_zh: x")
    result = CliRunner().invoke(main, ["policy", "show", str(policy_copy)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "error:" in result.output and "lable_zh: unknown key" in result.output


def test_yaml_cannot_run_code(policy_copy):
    edit(policy_copy / "policy.yaml", "id: wanzhou-2022-80", "id: !!python/object/apply:os.system ['echo pwned']")
    assert "could not determine a constructor" in problems_of(policy_copy)
