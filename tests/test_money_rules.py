"""Rules about money that hold whoever calls the engine, not only through the `scaleup` command:
a what-if award run is never committed, and which decisions get an audit record is decided once."""
from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest

from engine.analysis.reform import Reform, apply_reform
from engine.awards import PAYING_TYPES
from engine.awards.audit import gets_audit_record, has_review_sheet
from engine.awards.ledger import Ledger
from engine.awards.run import RunContext, commit_run, dry_run, prepare_items
from engine.commands.awards import award_run
from engine.commands.common import Collected
from engine.commands.explain import audit
from engine.errors import UsageConflict
from engine.evaluate import Evaluator
from engine.register import read_register
from tests.conftest import ROOT, evaluator, policy_and_rules

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = date(2024, 12, 31)


def _items(policy, book):
    read = read_register(REGISTER, as_of=AS_OF, policy=policy)
    evaluator = Evaluator(policy, book, AS_OF)
    ctx = RunContext.build(2024, AS_OF, policy, book, REGISTER)
    return ctx, prepare_items(ctx, read.accepted, [evaluator.evaluate(e) for _, e in read.accepted])


def _runs(path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    finally:
        conn.close()


def test_commit_run_refuses_a_what_if_and_records_nothing(tmp_path):
    policy, book = policy_and_rules()
    richer = apply_reform(policy, Reform(name="richer", effective=AS_OF,
                                         parameters={"enterprise_award_industrial": "150000"}))
    ctx, items = _items(richer, book)
    with Ledger.open(tmp_path / "awards.db") as ledger:
        assert dry_run(ledger, ctx, items).new_awards          # a what-if may be shown...
        with pytest.raises(UsageConflict, match="cannot be committed"):
            commit_run(ledger, ctx, items)                     # ...never recorded
    assert _runs(tmp_path / "awards.db") == 0
    ctx, items = _items(policy, book)                          # the published policy is recorded
    with Ledger.open(tmp_path / "awards.db") as ledger:
        assert commit_run(ledger, ctx, items).run_id == 1


def test_the_award_run_command_refuses_a_what_if_commit_before_any_work(tmp_path):
    ledger = tmp_path / "awards.db"
    with pytest.raises(UsageConflict):
        award_run(REGISTER, year=2024, as_of=AS_OF, policy_id="wanzhou-2022-80", ledger_path=ledger, commit=True,
                  sheet=None, errors=None, set_items=("enterprise_award_industrial=150000",), reporter=Collected())
    assert not ledger.exists()


def test_paid_awards_get_audit_records_and_other_decisions_only_when_all_are_asked_for():
    policy, _ = policy_and_rules()
    # One evaluator for the register (the shared one): which decisions get a record does not depend on
    # a fresh engine per enterprise, and building one costs ~15x an evaluation.
    results = [evaluator(AS_OF).evaluate(e) for _, e in read_register(REGISTER, as_of=AS_OF, policy=policy).accepted]
    decisions = [d for r in results for d in r.decisions]
    recorded = [d for d in decisions if gets_audit_record(d)]
    assert recorded and all(d.type in PAYING_TYPES and d.outcome == "awarded" for d in recorded)
    assert {d.type for d in recorded} == set(PAYING_TYPES)
    unpaid_awards = [d for d in decisions if d.type in PAYING_TYPES and d.outcome != "awarded"]
    assert unpaid_awards and not any(gets_audit_record(d) for d in unpaid_awards)
    assert all(gets_audit_record(d, every_decision=True) for d in decisions)
    assert [d.type for d in decisions if has_review_sheet(d)] == [d.type for d in decisions if d.type in PAYING_TYPES]


def test_the_award_run_and_audit_record_the_same_decisions_with_the_same_ids(tmp_path):
    policy, book = policy_and_rules()
    _, items = _items(policy, book)
    in_run = sorted(record["decision_id"] for item in items for record in item.records.values())
    written = audit(REGISTER, as_of=AS_OF, policy_id="wanzhou-2022-80", out_dir=tmp_path, every_decision=False,
                    sheets=None, lang="zh", sheet=None, errors=None, reporter=Collected())
    assert in_run and sorted(decision_id for _, decision_id in written.records) == in_run
    assert all(json.loads(path.read_text(encoding="utf-8"))["decision_id"] == decision_id
               for path, decision_id in written.records)
