"""verify trusts nothing in a record (issue #21, findings 2, 3 and 8): it recomputes against the installed
policy with the id the record names, never the folder the record names; one crafted record (deep, huge,
1E+400, an unknown decision type) gets its own status and the others are still verified; long values are
cut short; --policy that is not a policy is a usage error."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.awards.audit import decision_id_of
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = "2024-12-31"
AWARD = f"915001017P5X326G0R-enterprise_award-{AS_OF}.json"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("audit")
    assert run("audit", REGISTER, "--as-of", AS_OF, "--out", out).exit_code == 0
    return out


@pytest.fixture
def records(audited, tmp_path) -> Path:
    copy = tmp_path / "records"
    shutil.copytree(audited, copy)
    return copy


def policy_copy(where: Path) -> Path:
    root = where / "policies"
    shutil.copytree(ROOT / "policies" / "wanzhou-2022-80", root / "wanzhou-2022-80")
    shutil.copytree(ROOT / "policies" / "jurisdictions", root / "jurisdictions")
    shutil.copytree(ROOT / "rules", where / "rules")          # policy.yaml: rules: ../../rules
    return root / "wanzhou-2022-80"


def statuses(result) -> dict[str, str]:
    return {Path(r["path"]).name: r["status"] for r in json.loads(result.stdout)}


def rewrite(path: Path, change) -> None:
    record = json.loads(path.read_text(encoding="utf-8"))
    change(record)
    record["decision_id"] = decision_id_of(record)        # a forger recomputes the id
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


def test_records_made_under_an_edited_copy_are_changed_not_ok(tmp_path):
    copy = policy_copy(tmp_path)
    params = copy / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    block = text.index("enterprise_award_industrial:")
    at = text.index('value: "100000"', block)
    params.write_text(text[:at] + 'value: "150000"' + text[at + len('value: "100000"'):], encoding="utf-8")
    out = tmp_path / "records"
    assert run("audit", REGISTER, "--as-of", AS_OF, "--policy", copy, "--out", out).exit_code == 0
    record = json.loads((out / AWARD).read_text(encoding="utf-8"))
    assert record["policy"]["id"] == "wanzhou-2022-80"            # it names the official id ...
    result = run("verify", out, "--format", "json")
    assert result.exit_code == 1
    assert set(statuses(result).values()) == {"changed"}          # ... and is checked against the official one
    report = next(r for r in json.loads(result.stdout) if r["path"].endswith(AWARD))
    kinds = {d["kind"] for d in report["differences"]}
    assert {"policy_folder", "parameter", "result"} <= kinds


def test_an_unedited_copy_is_still_not_the_installed_policy(tmp_path):
    copy = policy_copy(tmp_path)
    out = tmp_path / "records"
    assert run("audit", REGISTER, "--as-of", AS_OF, "--policy", copy, "--out", out).exit_code == 0
    result = run("verify", out / AWARD, "--lang", "en")
    assert result.exit_code == 1 and result.stdout.startswith("changed")
    assert "not the installed policy policies/wanzhou-2022-80" in result.stdout


def test_a_record_pointing_its_folder_elsewhere_is_checked_against_the_installed_policy(records, tmp_path):
    copy = policy_copy(tmp_path)
    rewrite(records / AWARD, lambda r: r["policy"].update(folder=str(copy)))
    result = run("verify", records / AWARD, "--lang", "en")
    assert result.exit_code == 1 and result.stdout.startswith("changed")


def test_a_record_naming_a_policy_that_is_not_installed_is_unverifiable(records):
    rewrite(records / AWARD, lambda r: r["policy"].update(id="../../etc"))
    result = run("verify", records, "--format", "json")
    found = statuses(result)
    assert found.pop(AWARD) == "unverifiable" and set(found.values()) == {"ok"}


def test_a_deeply_nested_record_is_unreadable_and_the_others_are_verified(records):
    (records / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (records / "deep2.json").write_text(json.dumps({"kind": 1, "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}),
                                        encoding="utf-8")
    result = run("verify", records, "--format", "json")
    found = statuses(result)
    assert found.pop("deep.json") == "unreadable" and found.pop("deep2.json") == "unreadable"
    assert set(found.values()) == {"ok"} and len(found) == 12


def test_an_overflowing_fact_with_a_recomputed_id_gets_its_own_status(records):
    rewrite(records / AWARD, lambda r: r["input"]["enterprise"].update(revenue_prev_year="1E+400"))
    result = run("verify", records, "--format", "json")
    found = statuses(result)
    assert found.pop(AWARD) in ("tampered", "unreadable") and set(found.values()) == {"ok"}


def test_an_unknown_decision_type_says_why(records):
    rewrite(records / AWARD, lambda r: r["decision"].update(type="bonus"))
    result = run("verify", records / AWARD, "--lang", "en")
    assert result.exit_code == 1 and "unknown decision type 'bonus'" in result.stdout


def test_a_huge_value_is_cut_short_in_the_output(records):
    rewrite(records / AWARD, lambda r: r["decision"].update(outcome="x" * 200_000))
    result = run("verify", records / AWARD, "--lang", "en")
    assert result.exit_code == 1 and max(map(len, result.stdout.splitlines())) < 1000
    assert "200,000 characters" in result.stdout


def test_a_record_larger_than_the_limit_is_unreadable(records, monkeypatch):
    monkeypatch.setenv("SCALEUP_LIMIT_RECORD_BYTES", "1000")
    result = run("verify", records / AWARD, "--lang", "en")
    assert result.exit_code == 1 and result.stdout.startswith("unreadable") and "RECORD_BYTES" in result.stdout


def test_verify_policy_that_is_not_a_policy_folder_is_a_usage_error(audited, tmp_path):
    result = run("verify", audited, "--policy", tmp_path)
    assert result.exit_code == 2 and "--policy" in result.output
