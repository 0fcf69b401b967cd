"""Engine-level behaviour a user relies on: order independence, determinism, clean sessions, and the
explanation agreeing with the verdict."""
from __future__ import annotations

import json
import random
from datetime import date

from engine.evaluate import Evaluator
from engine.output import result_json
from engine.register import read_register
from tests.conftest import ROOT, evaluator, policy_and_rules

AS_OF = date(2024, 12, 31)


def sample_enterprises():
    policy, _ = policy_and_rules()
    read = read_register(ROOT / "examples" / "register.csv", as_of=AS_OF, policy=policy)
    assert not read.rejected
    return [e for _, e in read.accepted]


def documents(results):
    _, book = policy_and_rules()
    return {r.enterprise_id: json.dumps(result_json(r, book, "zh"), ensure_ascii=False, sort_keys=True) for r in results}


def test_shuffled_sorted_and_one_by_one_give_identical_decisions():
    ents = sample_enterprises()
    policy, book = policy_and_rules()
    forward = documents(Evaluator(policy, book, AS_OF).evaluate_many(ents))
    shuffled = list(ents)
    random.Random(7).shuffle(shuffled)
    assert documents(Evaluator(policy, book, AS_OF).evaluate_many(shuffled)) == forward
    assert documents(Evaluator(policy, book, AS_OF).evaluate_many(reversed(ents))) == forward
    one_by_one = {}
    for e in ents:                      # a fresh engine per enterprise
        one_by_one.update(documents([Evaluator(policy, book, AS_OF).evaluate(e)]))
    assert one_by_one == forward


def test_csv_xlsx_and_json_registers_give_the_same_decisions():
    policy, book = policy_and_rules()
    ev = evaluator(AS_OF)
    docs = []
    for name in ("register.csv", "register.xlsx", "register.json"):
        read = read_register(ROOT / "examples" / name, as_of=AS_OF, policy=policy)
        docs.append(documents(ev.evaluate_many(e for _, e in read.accepted)))
    assert docs[0] == docs[1] == docs[2]


def test_no_engine_session_outlives_its_enterprise():
    ev = evaluator(AS_OF)
    ents = sample_enterprises()
    for _ in range(21):                 # 1050 evaluations, over the engine's 1024-session limit
        ev.evaluate_many(ents)
    host = ev.compiled.engine._host
    for name in ev.compiled.rulesets:
        full = ev.compiled.engine._prefix + name
        try:
            host.get_state(full, "s1")
            leaked = True
        except Exception:
            leaked = False
        assert not leaked


def test_every_decision_carries_its_clause_and_the_clause_text_is_verbatim():
    policy, _ = policy_and_rules()
    for r in evaluator(AS_OF).evaluate_many(sample_enterprises()):
        for d in r.decisions:
            assert d.clause_id in policy.clauses
            assert d.clause_text == policy.clauses[d.clause_id].text


def test_the_sample_register_exercises_every_outcome_of_every_family():
    seen = {}
    for r in evaluator(AS_OF).evaluate_many(sample_enterprises()):
        for d in r.decisions:
            seen.setdefault(d.type, set()).add(d.outcome)
    assert seen["upgrade_eligibility"] >= {"eligible", "not_eligible", "not_applicable", "insufficient_data"}
    assert seen["enterprise_award"] >= {"awarded", "not_awarded", "not_applicable"}
    assert seen["delisting_warning"] >= {"red", "yellow", "none", "not_applicable"}
    assert seen["land_power_priority"] >= {"eligible", "not_eligible"}
    assert seen["pool_entry"] >= {"eligible", "not_eligible"}
