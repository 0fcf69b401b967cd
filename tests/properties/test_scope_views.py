"""One definition of "entered the scope in year Y" (engine/analysis/targets.entered_scope): the targets
table from a register, the targets section of the HTML report (from evaluated results), what-if's
attainment and the targets computed from the award ledger's scope events all count the same firms."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings

from engine.analysis.targets import (entered_scope, events_from_register, history_from_ledger, targets_from_results,
                                     year_actuals)
from engine.analysis.whatif import attainment
from engine.awards.ledger import Ledger
from engine.awards.plan import RunContext, prepare_items
from engine.awards.run import commit_run
from tests.conftest import evaluator, policy_and_rules
from tests.properties.strategies import registers


def ledger_entries(ents, results, policy, book, as_of) -> set[str]:
    """Commit the year's award run to a fresh ledger and count from its scope events."""
    with tempfile.TemporaryDirectory() as tmp:
        facts = Path(tmp) / "register.json"
        facts.write_text(json.dumps([e.model_dump(mode="json") for e in ents], ensure_ascii=False), encoding="utf-8")
        ctx = RunContext.build(as_of.year, as_of, policy, book, facts)
        items = prepare_items(ctx, list(enumerate(ents, start=2)), results)
        with Ledger.open(Path(tmp) / "awards.db") as ledger:
            commit_run(ledger, ctx, items)
            rows = ledger.scope_events()
    history = history_from_ledger(rows, policy, book, as_of, ents)
    return {e.enterprise_id for e in entered_scope(history, as_of.year, as_of)}


@settings(max_examples=25)
@given(registers(max_size=8))
def test_every_view_counts_the_same_firms_entering_the_scope(reg):
    as_of, ents = reg
    policy, book = policy_and_rules()
    results = evaluator(as_of).evaluate_many(ents)
    year = as_of.year
    snapshot = {e.enterprise_id for e in entered_scope(events_from_register(ents, policy, book, as_of), year, as_of)}

    targets = year_actuals(events_from_register(ents, policy, book, as_of), year, as_of)["actual"]["new_total"]
    report_row = next(r for r in targets_from_results(results, policy, book, as_of)["rows"] if r["year"] == year)
    whatif = attainment(results, policy, book, as_of, ents).included_this_year
    assert targets == len(snapshot)
    assert report_row["actual"]["new_total"] == targets
    assert whatif == targets
    assert ledger_entries(ents, results, policy, book, as_of) == snapshot
    # Every firm counted entered in the year, is in scope in the register, and is not a software firm.
    for e in ents:
        if e.enterprise_id in snapshot:
            assert e.in_scope and e.in_scope_since.year == year and e.in_scope_since.first_day() <= as_of
            assert not e.industry_code.startswith("I")
