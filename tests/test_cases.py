"""Runs the readable cases in tests/cases/<family>.yaml: each case starts from the file's defaults,
changes some facts, and states what a user would see (outcome, deciding rule, amount, path...)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine.output import result_json
from engine.render import render_decision
from engine.yamlio import load_yaml
from engine.evaluate import Evaluator
from tests.conftest import enterprise, evaluator, policy_and_rules, published_variant

CASES_DIR = Path(__file__).parent / "cases"
EXPECT_KEYS = {"outcome", "rule_id", "clause_id", "amount_yuan", "beneficiary", "attributes", "triggered",
               "missing_facts", "not_met", "explanation_contains", "explanation_en_contains", "reason_starts"}


def case_evaluator(as_of: date, policy_id: str, parameters):
    """The bundled policy's evaluator, or one for the policy published with other parameter values
    (a case's `parameters:`, e.g. the other reading of a choice)."""
    if not parameters:
        return evaluator(as_of, policy_id)
    policy = published_variant("case", as_of, dict(parameters), policy_id)
    return Evaluator(policy, policy_and_rules(policy_id)[1], as_of)


def load_cases():
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        doc = load_yaml(path)
        for case in doc["cases"]:
            out.append(pytest.param(doc, case, id=f"{path.stem}: {case['name']}"))
    return out


ALL_CASES = load_cases()


@pytest.mark.parametrize("doc,case", ALL_CASES)
def test_case(doc, case):
    assert set(case) <= {"name", "facts", "expect", "as_of", "family", "covers", "parameters"}, \
        f"unknown case keys in {case}"
    unknown = set(case.get("expect", {})) - EXPECT_KEYS
    assert not unknown, f"unknown expectation keys {unknown}"
    facts = dict(doc.get("defaults", {}).get("facts", {}))
    facts.update(case.get("facts", {}))
    as_of = date.fromisoformat(str(case.get("as_of", doc.get("defaults", {}).get("as_of"))))
    policy_id = doc.get("policy", "wanzhou-2022-80")
    result = case_evaluator(as_of, policy_id, case.get("parameters")).evaluate(enterprise(**facts))
    decision = result.decision(case.get("family", doc["family"]))
    expect = case["expect"]
    book = policy_and_rules(policy_id)[1]
    assert decision.outcome == expect["outcome"], render_decision(decision, result, book)
    if "rule_id" in expect:
        assert decision.rule_id == expect["rule_id"]
    if "clause_id" in expect:
        assert decision.clause_id == expect["clause_id"]
    if "amount_yuan" in expect:
        want = None if expect["amount_yuan"] is None else Decimal(str(expect["amount_yuan"]))
        assert decision.amount_yuan == want
    if "beneficiary" in expect:
        assert decision.beneficiary == expect["beneficiary"]
    if "attributes" in expect:
        assert decision.attributes == expect["attributes"]
    if "triggered" in expect:
        assert decision.triggered == expect["triggered"]
    if "missing_facts" in expect:
        assert decision.missing_facts == sorted(expect["missing_facts"])
    if "not_met" in expect:
        assert [f.rule.id for f in decision.findings if f.status == "not_met"] == expect["not_met"]
    if "reason_starts" in expect:
        assert (decision.reason or "").startswith(expect["reason_starts"])
    for lang, key in (("zh", "explanation_contains"), ("en", "explanation_en_contains")):
        text = render_decision(decision, result, book, lang)
        for fragment in expect.get(key, []):
            assert fragment in text, f"{fragment!r} not in:\n{text}"
    # The JSON document of every case follows the output contract.
    doc_json = result_json(result, book, "zh")
    assert {"enterprise_id", "name", "as_of", "policy", "decisions"} <= set(doc_json)


def test_every_rule_has_a_case():
    """Integrity: each rule id of each family is exercised by at least one case file entry."""
    _, book = policy_and_rules()
    covered = set()
    for param in ALL_CASES:
        _, case = param.values
        expect = case["expect"]
        covered.update(case.get("covers", []), expect.get("not_met", []), expect.get("triggered", []))
        covered.add(expect.get("rule_id"))
    missing = [r.id for fam in book.families.values() for r in fam.rules
               if r.kind != "not_modelled" and not fam.included_from.get(r.id) and r.id not in covered]
    assert not missing, f"rules without a case in tests/cases: {missing}"
