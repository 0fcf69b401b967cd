"""Pins durable_rules 2.0.28's sharp edges, and that engine/durable_host.py handles each one.

Probes of the raw library that can crash the interpreter (the session limit, delete after no match)
run in a subprocess, so the suite survives them and can assert on how they fail."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from engine.durable_host import CATCH_ALL, RuleEngine, check_record
from engine.errors import EngineError

RAW_PRELUDE = """
import copy
from durable import engine
from durable.engine import MessageNotHandledException
class SyncHost(engine.Host):
    def _run(self): pass
fired = []
def act(c): fired.append(c.m['x'])
"""


def run_raw(code: str, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RAW_PRELUDE + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout)


def rule(expr: dict) -> dict:
    return {"all": [{"m": {"$and": [{"record_kind": "enterprise"}, expr]}}]}


# ---------------------------------------------------------------- the raw library's behaviour

def test_raw_library_refuses_the_1025th_live_session():
    out = run_raw("""
        h = SyncHost(); h.set_rulesets({'rs': {'r': {'all': [{'m': {'$gte': {'x': 0}}}], 'run': act}}})
        try:
            for i in range(1100):
                h.assert_fact('rs', {'sid': 'e%d' % i, 'x': i})
            print('no limit')
        except MemoryError:
            print('MemoryError at', i)
    """)
    assert "MemoryError at 1024" in out.stdout, out.stdout + out.stderr


def test_raw_library_merges_sessions_whose_sids_collide_in_its_32_bit_hash():
    out = run_raw("""
        h = SyncHost(); h.set_rulesets({'rs': {'r': {'all': [{'m': {'$gte': {'x': 0}}}], 'run': act}}})
        h.assert_fact('rs', {'sid': 'enterprise-851408', 'x': 1})
        print(h.get_facts('rs', 'enterprise-1105786'))
    """)
    assert "'x': 1" in out.stdout, out.stdout + out.stderr   # another sid sees the first sid's fact


def test_raw_library_swallows_exceptions_raised_in_actions():
    out = run_raw("""
        def boom(c): raise ValueError('kaboom')
        h = SyncHost(); h.set_rulesets({'rs': {'r': {'all': [{'m': {'$gte': {'x': 0}}}], 'run': boom}}})
        h.assert_fact('rs', {'sid': 's', 'x': 1})
        print('returned normally;', h.get_state('rs', 's').get('exception'))
    """)
    assert "returned normally;" in out.stdout and "kaboom" in out.stdout, out.stdout + out.stderr


def test_raw_library_default_host_starts_background_threads():
    out = run_raw("""
        import threading
        before = threading.active_count()
        h = engine.Host()
        print('threads added', threading.active_count() - before)
    """)
    assert "threads added 2" in out.stdout, out.stdout + out.stderr


def test_raw_library_compares_mixed_types_as_text():
    out = run_raw("""
        h = SyncHost(); h.set_rulesets({'rs': {'r': {'all': [{'m': {'$gt': {'x': 100}}}], 'run': act}}})
        h.assert_fact('rs', {'sid': 's', 'x': '50'})
        print('fired', fired)
    """)
    assert "fired ['50']" in out.stdout, out.stdout + out.stderr   # "50" > 100 holds as text


def test_raw_library_has_no_in_operator():
    out = run_raw("""
        h = SyncHost()
        try:
            h.set_rulesets({'rs': {'r': {'all': [{'m': {'$in': {'x': [1, 2]}}}], 'run': act}}})
            print('accepted')
        except Exception as exc:
            print('refused', exc)
    """)
    assert "refused" in out.stdout, out.stdout + out.stderr


def test_raw_library_fires_once_per_matching_or_branch():
    out = run_raw("""
        h = SyncHost(); h.set_rulesets({'rs': {'r': {'all': [{'m': {'$or': [{'$gte': {'x': 1}}, {'$gte': {'x': 2}}]}}], 'run': act}}})
        h.assert_fact('rs', {'sid': 's', 'x': 5})
        print('fired', len(fired))
    """)
    assert "fired 2" in out.stdout, out.stdout + out.stderr


def test_raw_library_reports_a_fact_that_matched_no_rule_as_an_exception():
    # Why the wrapper needs its catch-all: a fact that matches nothing leaves the library's session in
    # a state that deleting is not safe from (it crashed the process on 3.10-3.12 and survives on 3.13:
    # undefined behaviour, so it is not pinned here). What is pinned is the defined part: no match is
    # reported as MessageNotHandledException.
    out = run_raw("""
        h = SyncHost(); h.set_rulesets({'rs': {'r': {'all': [{'m': {'$gte': {'x': 10}}}], 'run': act}}})
        try:
            h.assert_fact('rs', {'sid': 's1', 'x': 1})
            print('handled')
        except MessageNotHandledException:
            print('not handled')
    """)
    assert "not handled" in out.stdout, out.stdout + out.stderr


# ---------------------------------------------------------------- the wrapper's answers

def test_wrapper_deletes_every_session_so_thousands_of_records_stay_under_the_limit():
    eng = RuleEngine({"rs": {"big": rule({"$gte": {"x": 10}})}})
    for i in range(3000):      # three times the 1024-session limit
        assert eng.fire("rs", {"x": i}) == (["big"] if i >= 10 else [])


def test_wrapper_runs_actions_synchronously_without_threads():
    before = threading.active_count()
    eng = RuleEngine({"rs": {"r": rule({"$gte": {"x": 0}})}})
    assert threading.active_count() == before
    assert eng.fire("rs", {"x": 1}) == ["r"]      # complete when fire() returns


def test_wrapper_makes_deleting_a_session_that_matched_no_rule_safe():
    # The guarantee the project relies on, whatever the library does without it: through the wrapper,
    # thousands of records that match none of the policy's rules each get a session that is deleted,
    # by both dispatch paths and by the benchmark's baseline. Run in a subprocess so that a regression
    # (the process dying in the library) fails this test with its exit code instead of killing the suite.
    code = textwrap.dedent("""
        from engine.durable_host import BareEngine, RuleEngine
        rule = {'all': [{'m': {'$and': [{'record_kind': 'enterprise'}, {'$gte': {'x': 10}}]}}]}
        eng = RuleEngine({'rs': {'r': rule}, 'other': {'q': rule}})
        for i in range(2000):
            assert eng.fire('rs', {'x': i % 10}) == []
            assert eng.fire_with_library_dispatch('other', {'x': i % 10}) == []
            assert eng.fire_all({'x': 1}) == []
        assert not any(eng.session_exists(rs, sid) for rs in ('rs', 'other') for sid in eng.sids_used(last=50))
        assert eng.fire('rs', {'x': 10}) == ['r']
        bare = BareEngine({'rs': {'r': rule}})
        for i in range(2000):
            bare.assert_record({'x': 1})
        print('deleted', eng.sessions_opened, 'sessions')
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "deleted 8001 sessions" in out.stdout


def test_wrapper_survives_records_that_match_no_rule_thanks_to_the_catch_all():
    eng = RuleEngine({"rs": {"r": rule({"$gte": {"x": 10}})}})
    for _ in range(100):
        assert eng.fire("rs", {"x": 1}) == []
    assert CATCH_ALL not in eng.fire("rs", {"x": 11})


def test_wrapper_reports_each_rule_once_even_when_or_branches_fire_twice():
    eng = RuleEngine({"rs": {"r": rule({"$or": [{"$gte": {"x": 1}}, {"$gte": {"x": 2}}]})}})
    assert eng.fire("rs", {"x": 5}) == ["r"]


@pytest.mark.parametrize("value", [1.5, None, "x" and 2 ** 60, [1]])
def test_wrapper_refuses_values_it_cannot_compare_exactly(value):
    with pytest.raises(EngineError):
        check_record({"x": value})


def test_wrapper_accepts_the_typed_values_the_encoder_makes():
    check_record({"a": True, "b": 4_000_000_000, "c": "C", "d": 20241231})


def test_wrapper_raises_when_an_action_fails_instead_of_swallowing_it(monkeypatch):
    def exploding_action(self, rule_name):
        def action(c):
            raise RuntimeError("action failed")
        return action
    monkeypatch.setattr(RuleEngine, "_action", exploding_action)
    eng = RuleEngine({"rs": {"r": rule({"$gte": {"x": 0}})}})
    with pytest.raises(EngineError, match="action failed"):
        eng.fire("rs", {"x": 1})


def test_wrapper_gives_each_engine_its_own_ruleset_names():
    a = RuleEngine({"rs": {"r": rule({"$gte": {"x": 0}})}})
    b = RuleEngine({"rs": {"r": rule({"$lt": {"x": 0}})}})   # same name: no "already registered"
    assert a.fire("rs", {"x": 1}) == ["r"] and b.fire("rs", {"x": 1}) == []


def test_wrapper_does_not_mutate_the_definitions_it_is_given():
    definitions = {"rs": {"r": rule({"$gte": {"x": 0}})}}
    snapshot = repr(definitions)
    RuleEngine(definitions)
    assert repr(definitions) == snapshot


def test_wrapper_refuses_a_ruleset_over_the_co_matching_limit():
    with pytest.raises(EngineError, match="at most"):
        RuleEngine({"rs": {f"r{i}": rule({"$gte": {"x": i}}) for i in range(61)}})


def test_values_beyond_exact_double_range_saturate_and_still_compare_correctly():
    from fractions import Fraction
    from engine.encoding import SATURATION, Encoder
    enc = Encoder({"g": "ratio"})
    huge = enc("g", Fraction(5_000_000_000))          # growth of 5e9: 5e15 millionths
    assert huge == SATURATION and huge > enc("g", Fraction(2), exact=True)
    check_record({"g": huge})                          # accepted by the wrapper
