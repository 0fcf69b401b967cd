"""The `scaleup` command as an officer uses it: outputs, exit codes and one-line errors."""
from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import ROOT

REGISTER = str(ROOT / "examples" / "register.csv")
WITH_ERRORS = str(ROOT / "examples" / "register_with_errors.csv")
AS_OF = ["--as-of", "2024-12-31"]

# The output contract: the decision types in their order, and the outcomes each can have.
DECISION_TYPES = ("upgrade_eligibility", "pool_entry", "enterprise_award", "town_award",
                  "land_power_priority", "delisting_warning")
OUTCOMES = {
    "upgrade_eligibility": ("eligible", "not_eligible", "not_applicable", "insufficient_data"),
    "pool_entry": ("eligible", "not_eligible", "not_applicable", "insufficient_data"),
    "enterprise_award": ("awarded", "not_awarded", "not_applicable", "insufficient_data"),
    "town_award": ("awarded", "not_awarded", "not_applicable", "insufficient_data"),
    "land_power_priority": ("eligible", "not_eligible", "not_applicable", "insufficient_data"),
    "delisting_warning": ("red", "yellow", "none", "not_applicable", "insufficient_data"),
}


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def every_command(group=main, path=()):
    """Every command path of the click group, groups and their subcommands included, found not listed."""
    yield path
    for name, command in getattr(group, "commands", {}).items():
        yield from every_command(command, (*path, name))


def test_the_command_list_is_found_not_listed():
    paths = {" ".join(p) for p in every_command()}
    assert {"check", "policy show", "ledger pay", "sweep"} <= paths and len(paths) >= 20


@pytest.mark.parametrize("path", [" ".join(p) for p in every_command()], ids=lambda p: p or "scaleup")
def test_every_command_has_help_with_an_example(path):
    result = run(*path.split(), "-h")
    assert result.exit_code == 0 and re.search(r"Example:\n +scaleup ", result.output), result.output


def test_version():
    assert run("--version").output.startswith("scaleup, version ")


def test_policy_list_names_the_bundled_instruments():
    result = run("policy", "list")
    assert result.exit_code == 0 and "无效" not in result.output
    assert "wanzhou-2022-80\t万州府办发〔2022〕80号" in result.output
    assert "（虚构示例）" in result.output
    english = run("policy", "list", "--lang", "en").output
    assert "(fictional example)" in english and "Wanzhou District action plan" in english


def test_policy_list_flags_a_broken_policy_and_still_lists_the_others(tmp_path, monkeypatch):
    import shutil
    from engine import policy as policy_module
    root = tmp_path / "policies"
    shutil.copytree(policy_module.policies_root() / "wanzhou-2022-80", root / "wanzhou-2022-80")
    shutil.copytree(policy_module.policies_root() / "jurisdictions", root / "jurisdictions")
    shutil.copytree(ROOT / "rules", root.parent / "rules")   # policy.yaml: rules: ../../rules
    (root / "broken").mkdir()
    (root / "broken" / "policy.yaml").write_text("id: broken\n", encoding="utf-8")
    monkeypatch.setattr(policy_module, "policies_root", lambda: root)
    result = run("policy", "list")
    assert result.exit_code == 1
    assert "wanzhou-2022-80\t万州府办发〔2022〕80号" in result.output and "broken\t无效" in result.output
    assert "broken\tINVALID" in run("policy", "list", "--lang", "en").output


def test_policy_show_json_lists_every_parameter_in_force_and_every_clause():
    result = run("policy", "show", "wanzhou-2022-80", "--as-of", "2024-06-30", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    params = {p["name"]: p for p in doc["parameters"]}
    assert params["scale_threshold"] == {**params["scale_threshold"], "value": "20000000.00", "unit": "CNY",
                                         "provenance": "source", "reference": "国统字〔2010〕87号", "since": "2011-01-01"}
    assert params["enterprise_award_industrial"]["provenance"] == "assumed"
    assert params["software_revenue_threshold"]["value"] == "20000000.00"
    assert all(p["provenance"] in ("source", "assumed") for p in doc["parameters"])
    source = (ROOT / "policies" / "wanzhou-2022-80" / "source.txt").read_text(encoding="utf-8")
    assert len(doc["clauses"]) == 13 and all(c["text"] in source for c in doc["clauses"])
    assert doc["metadata"]["document_number"] == "万州府办发〔2022〕80号"


def test_policy_show_without_date_lists_every_dated_value():
    doc = json.loads(run("policy", "show", "--format", "json").output)
    values = [p["value"] for p in doc["parameters"] if p["name"] == "software_revenue_threshold"]
    assert values == ["10000000.00", "20000000.00"]


def test_policy_show_before_a_parameter_exists_says_so():
    doc = json.loads(run("policy", "show", "--as-of", "2019-06-30", "--format", "json").output)
    award = next(p for p in doc["parameters"] if p["name"] == "enterprise_award_industrial")
    assert award["value"] is None and award["provenance"] == "not_in_force"
    assert doc["metadata"]["in_force_on_as_of"] is False


def test_unknown_policy_suggests_the_close_one():
    result = run("policy", "show", "wanzhou-2022-08")
    assert result.exit_code == 1
    assert "unknown policy 'wanzhou-2022-08'" in result.output and "did you mean 'wanzhou-2022-80'" in result.output


def test_check_prints_a_table_with_a_summary_line():
    result = run("check", REGISTER, *AS_OF)
    assert result.exit_code == 0, result.output
    assert "统一社会信用代码" in result.output and "共 50 户企业" in result.output
    assert "重庆万州钜衡汽车零部件有限公司" in result.output


def test_check_in_english():
    result = run("check", REGISTER, *AS_OF, "--lang", "en")
    assert "50 enterprises; eligible to enter scope" in result.output


def test_check_json_follows_the_output_contract():
    result = run("check", REGISTER, *AS_OF, "--format", "json")
    assert result.exit_code == 0
    docs = json.loads(result.output)
    assert len(docs) == 50
    for doc in docs:
        assert set(doc) == {"schema", "enterprise_id", "name", "as_of", "policy", "engine", "cross_check",
                            "decisions"}
        assert doc["schema"] == 2 and doc["cross_check"] == "columnar"
        assert doc["as_of"] == "2024-12-31" and doc["policy"] == "wanzhou-2022-80"
        assert [d["type"] for d in doc["decisions"]] == list(DECISION_TYPES)
        for d in doc["decisions"]:
            assert d["outcome"] in OUTCOMES[d["type"]]
            for key in ("rule_id", "clause_id", "interpretations"):
                assert key in d
            assert "amount_yuan" not in d or (isinstance(d["amount_yuan"], str) and "." in d["amount_yuan"])
            for c in d.get("conditions", []):
                assert {"fact", "value", "op", "threshold", "met"} <= set(c)
            assert set(d.get("parameters", {})) <= {"source", "decided", "assumed"}    # by kind of provenance
            if d["type"] == "town_award":
                assert "beneficiary" in d
            if d["outcome"] == "awarded":
                assert d["amount_yuan"] is not None
    awarded_towns = [d for doc in docs for d in doc["decisions"] if d["type"] == "town_award" and d["outcome"] == "awarded"]
    assert awarded_towns and all(d["beneficiary"] and d["amount_yuan"] == "20000.00" for d in awarded_towns)


def test_check_csv_opens_in_excel_with_bom_and_one_row_per_enterprise(tmp_path):
    out = tmp_path / "decisions.csv"
    result = run("check", REGISTER, *AS_OF, "--format", "csv", "--out", str(out))
    assert result.exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 50 and rows[0]["升规入统"] in OUTCOMES["upgrade_eligibility"]
    assert rows[0]["统一社会信用代码"] and "乡镇奖励金额（元）" in rows[0]
    english = run("check", REGISTER, *AS_OF, "--format", "csv", "--lang", "en").output
    assert english.lstrip("\ufeff").startswith("enterprise_id,name,town")


def test_check_xlsx_output(tmp_path):
    out = tmp_path / "decisions.xlsx"
    assert run("check", REGISTER, *AS_OF, "--out", str(out)).exit_code == 0
    sheet = openpyxl.load_workbook(out).active
    assert sheet.max_row == 51
    assert sheet.cell(1, 1).value == "统一社会信用代码" and sheet.cell(1, 6).value == "升规入统"


def test_rejected_rows_are_reported_and_saved_and_good_rows_still_evaluated(tmp_path):
    errors = tmp_path / "errors.csv"
    result = run("check", WITH_ERRORS, *AS_OF, "--errors", str(errors))
    assert result.exit_code == 1
    text = result.output            # click >= 8.2 interleaves stderr into output
    assert 'unknown town "高粱镇"; did you mean "高梁镇"?' in text
    assert "3 of 8 rows rejected; see" in text
    assert "共 5 户企业" in text
    saved = list(csv.DictReader(io.StringIO(errors.read_bytes().decode("utf-8-sig"))))
    assert len(saved) == 3 and all(r["error"] for r in saved)


def test_explain_prints_every_decision_with_clause_and_margin():
    result = run("explain", "915001017N0TR346AU", REGISTER, *AS_OF)
    assert result.exit_code == 0
    out = result.output
    for heading in ("【升规入统资格】", "【动态培育库入库】", "【新进规上企业奖励】", "【所属乡镇（街道）奖励】",
                    "【用地、用电要素优先保障】", "【退规预警】"):
        assert heading in out
    assert "差 0.01万元" in out and "国统字〔2010〕87号" in out


def test_explain_english_and_json():
    assert "[eligibility to enter the statistical scope] Conclusion:" in run(
        "explain", "915001017N0TR346AU", REGISTER, *AS_OF, "--lang", "en").output
    doc = json.loads(run("explain", "915001017N0TR346AU", REGISTER, *AS_OF, "--format", "json").output)
    assert doc["enterprise_id"] == "915001017N0TR346AU"


def test_explain_unknown_enterprise_is_one_clear_line():
    result = run("explain", "91500101MA5U4ABC1M", REGISTER, *AS_OF)
    assert result.exit_code == 1
    assert "no enterprise with id 91500101MA5U4ABC1M among 50 valid rows" in result.output


def test_explain_a_rejected_enterprise_says_why():
    result = run("explain", "9150010170Y3P2XGBJ", WITH_ERRORS, *AS_OF)
    assert result.exit_code == 1
    assert "was rejected" in result.output and "check character" in result.output


def test_a_bad_date_is_a_usage_error():
    result = run("check", REGISTER, "--as-of", "2024-13-01")
    assert result.exit_code == 2 and "expected YYYY-MM-DD" in result.output


def test_as_of_is_required_never_the_clock():
    result = run("check", REGISTER)
    assert result.exit_code == 2 and "--as-of" in result.output


def test_a_missing_file_is_a_usage_error():
    result = run("check", "no-such-file.csv", *AS_OF)
    assert result.exit_code == 2 and "does not exist" in result.output


def test_a_file_without_required_columns_is_one_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("企业名称,备注\n某公司,无\n", encoding="utf-8")
    result = run("check", str(bad), *AS_OF)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "missing" in result.output and "error:" in result.output


def test_sweep_names_every_rejected_row_and_sweeps_the_good_ones():
    result = run("sweep", WITH_ERRORS, *AS_OF, "--param", "scale_threshold", "--from", "15000000", "--to",
                 "25000000", "--steps", "3", "--format", "json")
    assert result.exit_code == 1
    assert 'row 4, column 所属乡镇（街道）: unknown town "高粱镇"; did you mean "高梁镇"?' in result.stderr
    assert result.stderr.count("error: ") == 3
    assert len(json.loads(result.stdout)["points"]) == 3


@pytest.mark.parametrize("args", [
    ["sweep", REGISTER, *AS_OF, "--param", "scale_thresold", "--from", "1", "--to", "2"],
    ["report", REGISTER, *AS_OF, "--out", "r.html", "--sweep", "scale_thresold:1:2:3"]], ids=["sweep", "report"])
def test_a_misspelt_sweep_parameter_is_the_same_message_everywhere(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr == "error: unknown parameter 'scale_thresold'; did you mean 'scale_threshold'?\n"


def test_a_sweep_bound_that_is_not_a_number_says_which():
    result = run("sweep", REGISTER, *AS_OF, "--param", "growth_threshold", "--from", "lots", "--to", "2")
    assert result.exit_code == 1 and result.stderr == "error: --from/--to: 'lots' is not a number\n"
    money = run("sweep", REGISTER, *AS_OF, "--param", "scale_threshold", "--from", "lots", "--to", "2000万")
    assert money.exit_code == 1 and money.stderr.startswith("error: --from/--to: 'lots' is not an amount; write e.g. 15万")


def test_explain_header_is_worded_in_the_language_asked_for():
    zh = run("explain", "915001017N0TR346AU", REGISTER, *AS_OF).stdout.splitlines()
    en = run("explain", "915001017N0TR346AU", REGISTER, *AS_OF, "--lang", "en").stdout.splitlines()
    assert "（915001017N0TR346AU，" in zh[0] and "评价日期 2024-12-31" in zh[0] and zh[1] == "=" * 60
    assert " (915001017N0TR346AU, " in en[0] and "as of 2024-12-31" in en[0] and en[1] == "=" * 60
