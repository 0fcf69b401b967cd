"""Audit records and their verification, as a finance reviewer meets them: one record per award,
`verify` says ok, an edited amount is tampered, a changed parameter is changed and named."""
from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.awards.audit import (RECORD_KIND, SCHEMA_VERSION, Verifier, canonical_json, decision_id_of,
                          record_file_name)
from engine.errors import EngineError
from engine.facts import Enterprise
from engine.register import read_register
from tests.conftest import ROOT, evaluator, policy_and_rules

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = "2024-12-31"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def sample_awards() -> list[tuple[str, str, str]]:
    """(enterprise id, type, amount) of every award the engine pays for the sample register."""
    policy, _ = policy_and_rules()
    read = read_register(REGISTER, as_of=date.fromisoformat(AS_OF), policy=policy)
    out = []
    for _, ent in read.accepted:
        for d in evaluator(date.fromisoformat(AS_OF)).evaluate(ent).decisions:
            if d.type in ("enterprise_award", "town_award") and d.outcome == "awarded":
                out.append((ent.enterprise_id, d.type, f"{d.amount_yuan:.2f}"))
    return out


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("audit")
    result = run("audit", REGISTER, "--as-of", AS_OF, "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def records(audited, tmp_path) -> Path:
    """A private copy of the sample's records, free to edit."""
    copy = tmp_path / "records"
    shutil.copytree(audited, copy)
    return copy


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, record: dict) -> None:
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")


def verify(*args):
    return run("verify", *args)


# ----------------------------------------------------------------------------------- audit
def test_audit_writes_one_record_per_award_named_by_enterprise_type_and_date(audited):
    awards = sample_awards()
    files = sorted(p.name for p in audited.glob("*.json"))
    assert len(awards) == 12 and len(files) == len(awards)
    assert files == sorted(f"{ent}-{type_}-{AS_OF}.json" for ent, type_, _ in awards)
    for ent, type_, amount in awards:
        record = load(audited / f"{ent}-{type_}-{AS_OF}.json")
        assert record["decision"]["amount_yuan"] == amount == record["decision"]["amount"]["total_yuan"]
        assert record["decision"]["outcome"] == "awarded"


def test_a_record_holds_what_is_needed_to_replay_and_check_it(audited):
    record = load(audited / f"915001017P5X326G0R-enterprise_award-{AS_OF}.json")
    assert record["schema_version"] == SCHEMA_VERSION and record["kind"] == RECORD_KIND
    assert record["as_of"] == AS_OF and record["engine"]["name"] == "scaleup"
    assert record["decision_id"] == decision_id_of(record)
    assert re.fullmatch(r"[0-9a-f]{64}", record["decision_id"])
    # The policy by id and folder, with content hashes of its data and of the rules, and per-item digests.
    assert record["policy"]["id"] == "wanzhou-2022-80" and record["policy"]["folder"] == "policies/wanzhou-2022-80"
    assert re.fullmatch(r"[0-9a-f]{64}", record["policy"]["data_hash"])
    assert re.fullmatch(r"[0-9a-f]{64}", record["rules"]["hash"])
    assert "policy/parameters.yaml" in record["policy"]["files"] and "rules/enterprise_award.yaml" in record["rules"]["files"]
    assert "enterprise_award_industrial" in record["policy"]["parameter_digests"]
    assert "enterprise_award.in_scope" in record["rules"]["rule_digests"]
    # The input facts, money in yuan as decimal strings; the register row they came from.
    facts = record["input"]["enterprise"]
    assert facts["enterprise_id"] == "915001017P5X326G0R" and facts["revenue_last_year"] == "25200000.00"
    assert record["input"]["source"] == {"file": "register.csv", "row": 23}
    # Rules fired, every condition with values, parameters with provenance, the arithmetic.
    decision = record["decision"]
    assert decision["engine_rules_fired"] and any("enterprise_award.conclusion" in n for n in decision["engine_rules_fired"])
    assert {r["rule_id"]: r["status"] for r in decision["rules"]}["enterprise_award.in_scope"] == "met"
    cond = next(c for c in decision["conditions"] if c["rule_id"] == "enterprise_award.included_this_year")
    assert (cond["fact"], cond["value"], cond["op"], cond["threshold"], cond["met"]) == ("inclusion_year", 2024, "==", 2024, True)
    param = next(p for p in record["parameters"] if p["name"] == "enterprise_award_industrial")
    assert param["value"] == "100000.00" and param["provenance"] == "assumed" and param["note"]
    steps = decision["amount"]["steps"]
    assert steps[0]["step"] == "base" and steps[0]["chosen_rule_id"] == "enterprise_award.industrial_amount"
    assert steps[-1] == {**steps[-1], "step": "total", "result_yuan": "100000.00"}
    assert "explanation" not in decision      # wording is not part of what the id covers


def test_record_facts_rebuild_the_enterprise_exactly(audited):
    policy, _ = policy_and_rules()
    read = read_register(REGISTER, as_of=date.fromisoformat(AS_OF), policy=policy)
    original = next(e for _, e in read.accepted if e.enterprise_id == "915001017P5X326G0R")
    record = load(audited / f"915001017P5X326G0R-town_award-{AS_OF}.json")
    assert Enterprise.model_validate(record["input"]["enterprise"]) == original


def test_audit_prints_each_file_and_its_id_and_ids_are_stable_across_runs(audited, tmp_path):
    result = run("audit", REGISTER, "--as-of", AS_OF, "--out", tmp_path)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 12 and "已写入审计记录 12 份" in result.stderr
    path, decision_id = lines[0].split("\t")
    assert load(Path(path))["decision_id"] == decision_id
    for path in audited.glob("*.json"):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes()


def test_all_decisions_writes_every_decision(tmp_path):
    lines = REGISTER.read_text(encoding="utf-8-sig").splitlines()
    small = tmp_path / "five.csv"
    small.write_text("\n".join(lines[:6]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run("audit", small, "--as-of", AS_OF, "--out", out, "--all-decisions").exit_code == 0
    files = list(out.glob("*.json"))
    assert len(files) == 5 * 6
    assert {load(p)["decision"]["type"] for p in files} == {
        "upgrade_eligibility", "pool_entry", "enterprise_award", "town_award", "land_power_priority",
        "delisting_warning"}
    assert verify(out).exit_code == 0


def test_canonical_json_refuses_floats():
    assert canonical_json({"b": "1.50", "a": [1, None, True]}) == '{"a":[1,null,true],"b":"1.50"}'.encode()
    with pytest.raises(EngineError):
        canonical_json({"amount": 1.5})


# ----------------------------------------------------------------------------------- verify
def test_verify_says_ok_for_every_record_of_the_sample(audited):
    result = verify(audited)
    assert result.exit_code == 0, result.output
    lines = [l for l in result.stdout.splitlines() if l.endswith(".json") or ".json  " in l]
    assert len(lines) == 12 and all(l.startswith("ok ") for l in lines)
    assert "无误（ok）12 份" in result.stdout


def test_editing_one_amount_makes_verify_say_tampered(records):
    path = records / f"915001017P5X326G0R-enterprise_award-{AS_OF}.json"
    record = load(path)
    record["decision"]["amount_yuan"] = "200000.00"
    save(path, record)
    result = verify(records, "--lang", "en")
    assert result.exit_code == 1
    assert f"tampered   {path}" in result.stdout
    assert "does not match its id" in result.stdout
    assert "amount_yuan recorded 200000.00, now 100000.00" in result.stdout
    assert "11 ok" in result.stdout and "1 tampered" in result.stdout


def test_an_edit_with_its_id_recomputed_is_still_tampered(records):
    path = records / f"915001017P5X326G0R-town_award-{AS_OF}.json"
    record = load(path)
    record["decision"]["amount_yuan"] = "50000.00"
    record["decision"]["amount"]["total_yuan"] = "50000.00"
    record["decision_id"] = decision_id_of(record)
    save(path, record)
    result = verify(path, "--lang", "en")
    assert result.exit_code == 1 and result.stdout.startswith("tampered")
    assert "does not follow from the record's own facts" in result.stdout


def test_edited_facts_are_tampered(records):
    path = records / f"915001017P5X326G0R-enterprise_award-{AS_OF}.json"
    record = load(path)
    record["input"]["enterprise"]["previously_in_scope"] = True     # a re-entry gets no award
    save(path, record)
    result = verify(path)
    assert result.exit_code == 1 and result.stdout.startswith("tampered")
    assert "重新计算：outcome 记录为 awarded，现为 not_awarded" in result.stdout


@pytest.fixture
def policy_copy(tmp_path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(ROOT / "policies" / "wanzhou-2022-80", root / "wanzhou-2022-80")
    shutil.copytree(ROOT / "policies" / "jurisdictions", root / "jurisdictions")
    shutil.copytree(ROOT / "rules", root.parent / "rules")   # policy.yaml: rules: ../../rules
    return root / "wanzhou-2022-80"


def set_award(policy_folder: Path, old: str, new: str) -> None:
    path = policy_folder / "parameters.yaml"
    text = path.read_text(encoding="utf-8")
    block = text.index("enterprise_award_industrial:")
    at = text.index(f'value: "{old}"', block)
    path.write_text(text[:at] + f'value: "{new}"' + text[at + len(f'value: "{old}"'):], encoding="utf-8")


def test_a_changed_parameter_makes_verify_say_changed_and_name_it(audited, policy_copy):
    set_award(policy_copy, "100000", "150000")
    result = verify(audited, "--policy", policy_copy, "--lang", "en")
    assert result.exit_code == 1
    award = f"915001017P5X326G0R-enterprise_award-{AS_OF}.json"
    block = result.stdout.split(award, 1)[1].split("\n" + "changed", 1)[0]
    assert "parameter enterprise_award_industrial value: 100000.00 → 150000.00" in block
    assert "file policy/parameters.yaml changed" in block
    assert "amount_yuan recorded 100000.00, now 150000.00" in block
    # Every record names the policy data change; a town award does not use the parameter and says so.
    assert "12 changed" in result.stdout
    town = result.stdout.split(f"915001017P5X326G0R-town_award-{AS_OF}.json", 1)[1].split("\nchanged", 1)[0]
    assert "parameter enterprise_award_industrial changed" in town and "not used by this decision" in town
    assert "outcome, amount and every condition are as recorded" in town


def test_verify_json_names_the_parameter_with_old_and_new_values(audited, policy_copy):
    set_award(policy_copy, "100000", "80000")
    path = audited / f"915001017P5X326G0R-enterprise_award-{AS_OF}.json"
    result = verify(path, "--policy", policy_copy, "--format", "json")
    assert result.exit_code == 1
    [report] = json.loads(result.stdout)
    assert report["status"] == "changed" and report["same_result"] is False
    assert {"kind": "parameter", "name": "enterprise_award_industrial", "field": "value",
            "old": "100000.00", "new": "80000.00"} in report["differences"]


def test_the_same_policy_copied_elsewhere_verifies_ok(audited, policy_copy):
    result = verify(audited, "--policy", policy_copy)
    assert result.exit_code == 0, result.output


def test_a_changed_rule_is_named(audited, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "enterprise_award.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("label_zh: 已纳入规上统计（经统计部门确认入库）",
                                                           "label_zh: 已纳入规上统计"), encoding="utf-8")
    record = audited / f"915001017P5X326G0R-enterprise_award-{AS_OF}.json"
    result = verify(record, "--rules", rules, "--lang", "en")
    assert result.exit_code == 1 and result.stdout.startswith("changed")
    assert "rule enterprise_award.in_scope changed" in result.stdout and "file rules/enterprise_award.yaml changed" in result.stdout


def test_a_newer_engine_with_the_same_result_is_ok_with_a_note(records):
    path = records / f"915001017P5X326G0R-enterprise_award-{AS_OF}.json"
    record = load(path)
    record["engine"]["version"] = "0.0.9"
    record["decision_id"] = decision_id_of(record)
    save(path, record)
    result = verify(path, "--lang", "en")
    assert result.exit_code == 0 and result.stdout.startswith("ok")
    assert "note: engine version 0.0.9 →" in result.stdout


@pytest.mark.parametrize("content, reason", [
    ("not json", "not a JSON file"),
    ('{"kind": "something else"}', "not an audit record"),
    ('[1, 2]', "not an audit record"),
])
def test_a_file_that_is_not_a_record_is_unreadable(tmp_path, content, reason):
    path = tmp_path / "x.json"
    path.write_text(content, encoding="utf-8")
    result = verify(path, "--lang", "en")
    assert result.exit_code == 1
    assert result.stdout.startswith("unreadable") and reason in result.stdout


def test_verify_an_empty_folder_is_a_usage_error(tmp_path):
    assert verify(tmp_path).exit_code == 2


def test_record_file_name_goes_through_safe_output_path(tmp_path):
    from engine.awards.audit import write_record
    record = {"input": {"enterprise": {"enterprise_id": "../../etc/x"}}, "decision": {"type": "town_award"},
              "as_of": AS_OF, "decision_id": "0" * 64}
    assert record_file_name(record) == f"../../etc/x-town_award-{AS_OF}.json"
    path = write_record(record, tmp_path)
    assert path.parent == tmp_path and path.exists()


def test_verifier_reuses_one_evaluator_per_policy_and_date(audited):
    v = Verifier()
    results = [v.verify_file(p) for p in sorted(audited.glob("*.json"))]
    assert {r.status for r in results} == {"ok"}
    assert len(v._evaluators) == 1


def test_every_new_command_has_help_with_an_example():
    for cmd in ("audit", "verify", "review", "report"):
        result = run(cmd, "-h")
        assert result.exit_code == 0 and "Example" in result.output, cmd


def test_a_broken_edit_is_tampered_not_unreadable(records):
    path = records / f"915001017P5X326G0R-enterprise_award-{AS_OF}.json"
    record = load(path)
    record["as_of"] = "31/12/2024"
    save(path, record)
    assert verify(path).stdout.startswith("tampered")
    record["as_of"], record["decision"]["amount_yuan"] = AS_OF, 100000.5      # a float: never written by audit
    save(path, record)
    result = verify(path, "--lang", "en")
    assert result.exit_code == 1 and result.stdout.startswith("tampered")
    assert "the record holds content audit never writes" in result.stdout and "float" in result.stdout
