"""Output contract version 2 (docs/output-contract.md): real `check` output validates against the JSON
Schema in docs/schema/, every id a decision carries resolves in the policy document, `--explain` carries
exactly what `scaleup explain` prints, both engines and any number of workers write the same lines, and
a verdict the second implementation disagrees with stops the run (exit 3) naming the row."""
from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner

from cli import main
from engine.crosscheck import CORRUPT_ENV
from engine.render import environment
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"
SCHEMA = json.loads((ROOT / "docs" / "schema" / "output-v2.schema.json").read_text(encoding="utf-8"))
AS_OF = ["--as-of", "2024-12-31"]


def check(*args, register=REGISTER):
    result = CliRunner().invoke(main, ["check", str(register), *AS_OF, *args], catch_exceptions=False)
    return result


def lines(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def validate(docs):
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for doc in docs:
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{doc.get('enterprise_id', 'policy line')}: {errors[0].message} at {list(errors[0].path)}"


@pytest.mark.parametrize("options", [[], ["--explain"], ["--detail", "full"], ["--with-policy", "--lang", "en"],
                                     ["--engine", "columnar"], ["--no-cross-check"]])
def test_ndjson_lines_validate_against_the_schema(options):
    docs = lines(check("--format", "ndjson", *options))
    assert len(docs) == 50 + ("--with-policy" in options)
    validate(docs)


def test_json_is_the_same_objects_as_one_array():
    result = check("--format", "json")
    assert result.exit_code == 0
    array = json.loads(result.stdout)
    validate(array)
    assert array == lines(check("--format", "ndjson"))


def test_the_schema_refuses_what_the_contract_does_not_allow():
    doc = lines(check("--format", "ndjson"))[0]
    doc["decisions"][0]["outcome"] = "awarded"           # not an outcome of upgrade_eligibility
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)
    doc = lines(check("--format", "ndjson"))[0]
    doc["decisions"][0]["clause_text"] = "…"              # texts live in the policy document only
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_every_id_a_decision_carries_resolves_in_the_policy_document():
    first, *docs = lines(check("--format", "ndjson", "--with-policy", "--detail", "full"))
    policy = first["policy_document"]
    shown = json.loads(CliRunner().invoke(main, ["policy", "show", "wanzhou-2022-80", *AS_OF, "--format", "json"]).stdout)
    assert shown == policy                       # the first line is `policy show --format json`
    rules = {r["id"] for r in policy["rules"]}
    clauses = {c["id"] for c in policy["clauses"]}
    interpretations = {i["id"] for i in policy["interpretations"]}
    parameters = {p["name"]: p for p in policy["parameters"]}
    seen = {"rules": set(), "interpretations": set(), "parameters": set()}
    for doc in docs:
        for d in doc["decisions"]:
            rule_ids = d.get("rule_ids", [d["rule_id"]])      # left out when only the decision's rule
            assert {d["rule_id"], *rule_ids, *(c.get("rule_id", d["rule_id"]) for c in d.get("conditions", [])),
                    *(r["rule_id"] for r in d.get("rules", []))} <= rules
            assert {d["clause_id"], *d.get("clause_ids", [])} <= clauses
            assert set(d["interpretations"]) <= interpretations
            for kind, named in d.get("parameters", {}).items():
                for name, value in named.items():
                    assert parameters[name]["value"] == value
                    assert parameters[name]["provenance"] == kind
                seen["parameters"] |= set(named)
            seen["rules"] |= set(rule_ids)
            seen["interpretations"] |= set(d["interpretations"])
    assert len(seen["rules"]) > 20 and seen["interpretations"] and len(seen["parameters"]) > 10


def test_decisions_carry_references_not_texts():
    docs = lines(check("--format", "ndjson"))
    text = json.dumps(docs, ensure_ascii=False)
    clause_texts = [c["text"] for c in lines(check("--format", "ndjson", "--with-policy"))[0]["policy_document"]["clauses"]]
    assert not any(t[:30] in text for t in clause_texts)
    assert all("explanation" not in d for doc in docs for d in doc["decisions"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_explain_option_carries_exactly_what_the_explain_command_prints(lang):
    docs = lines(check("--format", "ndjson", "--explain", "--lang", lang))
    for doc in docs[:6]:
        printed = CliRunner().invoke(main, ["explain", doc["enterprise_id"], str(REGISTER), *AS_OF, "--lang", lang])
        assert printed.exit_code == 0
        body = printed.stdout.split("\n", 2)[2]          # after the enterprise line and the rule
        texts = "".join(d["explanation"] + "\n\n" for d in doc["decisions"])
        # Then, where a decision left rules out, the command says how to list them (not part of a decision).
        left_out = any(LEFT_OUT_LINE[lang] in d["explanation"] for d in doc["decisions"])
        assert body == texts + (LEFT_OUT_HINT[lang] + "\n" if left_out else "")


LEFT_OUT_HINT = {lang: environment().get_template(f"_command_words_{lang}.j2").module.rules_left_out()
                 for lang in ("zh", "en")}
LEFT_OUT_LINE = {"zh": "条规则不影响此结论，未列出", "en": "more rules do not bear on this outcome"}


@pytest.mark.parametrize("options", [["--format", "ndjson"], ["--format", "ndjson", "--detail", "full"],
                                     ["--format", "json"]])
def test_durable_and_columnar_write_the_same_decisions(options):
    def strip(docs):
        return [{k: v for k, v in doc.items() if k not in ("engine", "cross_check")} for doc in docs]
    durable = check(*options)
    columnar = check(*options, "--engine", "columnar")
    assert durable.exit_code == columnar.exit_code == 0
    parse = json.loads if "json" in options else (lambda text: [json.loads(x) for x in text.splitlines()])
    assert strip(parse(durable.stdout)) == strip(parse(columnar.stdout))


def test_ndjson_is_the_same_for_one_and_two_workers_and_any_chunk_size():
    one = check("--format", "ndjson", "--workers", "1", "--chunk-size", "50")
    two = check("--format", "ndjson", "--workers", "2", "--chunk-size", "7")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_corrupted_columnar_verdict_stops_a_summary_run_naming_the_row(workers, monkeypatch, tmp_path):
    victim = lines(check("--format", "ndjson"))[17]["enterprise_id"]
    monkeypatch.setenv(CORRUPT_ENV, f"{victim}:pool_entry")
    out = tmp_path / "decisions.csv"
    result = check("--format", "csv", "--workers", workers, "--chunk-size", "10", "--out", str(out))
    assert result.exit_code == 3
    assert f"row 19, enterprise {victim}, pool_entry" in result.stderr      # header is row 1
    assert "durable_rules gives outcome" in result.stderr and "corrupted-by-test-hook" in result.stderr
    assert not out.exists()


def test_explanation_runs_are_checked_exactly_not_by_the_columnar_engine(monkeypatch):
    victim = lines(check("--format", "ndjson"))[17]["enterprise_id"]
    monkeypatch.setenv(CORRUPT_ENV, f"{victim}:pool_entry")
    docs = lines(check("--format", "ndjson", "--explain"))
    assert {d["cross_check"] for d in docs} == {"exact"}


def test_turning_the_cross_check_off_is_recorded_and_warned(monkeypatch):
    victim = lines(check("--format", "ndjson"))[17]["enterprise_id"]
    monkeypatch.setenv(CORRUPT_ENV, f"{victim}:pool_entry")      # nobody looks: the run completes
    result = check("--format", "ndjson", "--no-cross-check")
    assert {d["cross_check"] for d in lines(result)} == {"off"}
    assert "--no-cross-check" in result.stderr


def test_version_1_stays_available_for_one_release():
    result = check("--format", "json", "--schema", "1")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)[0]
    assert "schema" not in doc and all("clause_text" in d and "explanation" in d for d in doc["decisions"])
    assert check("--format", "ndjson", "--schema", "1").exit_code == 2


def test_version_2_agrees_with_version_1_on_verdicts_amounts_and_readings():
    v1 = json.loads(check("--format", "json", "--schema", "1").stdout)
    v2 = lines(check("--format", "ndjson"))
    assert [d["enterprise_id"] for d in v1] == [d["enterprise_id"] for d in v2]
    for old, new in zip(v1, v2):
        for a, b in zip(old["decisions"], new["decisions"]):
            assert (a["type"], a["outcome"], a["rule_id"], a["clause_id"], a["amount_yuan"]) == \
                   (b["type"], b["outcome"], b["rule_id"], b["clause_id"], b.get("amount_yuan"))
            assert a["interpretations"] == b["interpretations"]
            assert a.get("amount_basis") == b.get("amount_basis")
