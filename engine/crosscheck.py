"""The second implementation every summary run is checked against.

A summary run (CSV, XLSX, the table, compact JSON/NDJSON) takes each family's verdict from durable_rules
without the exact per-row evaluation that builds explanations (engine/evaluate.py, `exact=False`). Every
row is still checked by an independent implementation compiled from the same rule records: the columnar
engine (engine/columnar/evaluator.py), run over the whole chunk at once. Any difference in a verdict
field (outcome, deciding rule, clause, amount, beneficiary, classifications, triggered indicators,
missing columns, reason) stops the run with EngineError naming the row, the enterprise, the family and
both values; the command exits 3. Runs that show explanations are checked by the exact evaluation instead.

Test hook (never set it in production): the environment variable SCALEUP_TEST_CORRUPT_COLUMNAR=ID:FAMILY
replaces the columnar engine's outcome for that enterprise and family with a word no family uses, in
the copy this module compares only — outputs, amounts and ledgers never read it. The tests use it to
prove that a disagreement stops the run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from engine.errors import EngineError

CORRUPT_ENV = "SCALEUP_TEST_CORRUPT_COLUMNAR"
CHECK_MODES = ("columnar", "exact", "off")     # how a run's rows were cross-checked (recorded in the output)
COMPARED = ("outcome", "rule_id", "clause_id", "amount_yuan", "beneficiary", "attributes", "triggered",
            "triggered_codes", "missing_facts", "reason")


@dataclass(frozen=True)
class RowRef:
    """Where a result came from, for the message: the register row and the enterprise id."""

    row: Any
    enterprise_id: str


class ColumnarCrossCheck:
    """Built once per worker process; `check` compares a chunk's durable results with the columnar
    engine's verdicts for the same enterprises."""

    def __init__(self, policy, book, as_of):
        from engine.columnar.evaluator import ColumnarEvaluator
        # Its own plan (plan_policy inside): nothing shared with the durable path but the records.
        self.columnar = ColumnarEvaluator(policy, book, as_of)
        self._corrupt = _corruption()

    def check(self, results: Sequence, enterprises: Sequence, rows: Optional[Sequence] = None) -> None:
        if not results:
            return
        batch = self.columnar.evaluate_frame(self.columnar.frame(enterprises))
        families = self.columnar.families
        for i, result in enumerate(results):
            for fam, durable in zip(families, result.decisions):
                other = batch.decision(fam, i)
                if self._corrupt and self._corrupt == (result.enterprise_id, fam.name):
                    other.outcome = "corrupted-by-test-hook"
                if durable.type != other.type:
                    raise EngineError(f"cross-check: family order differs ({durable.type} / {other.type})")
                for name in COMPARED:
                    mine, theirs = getattr(durable, name), getattr(other, name)
                    if mine != theirs:
                        where = f"row {rows[i]}, " if rows is not None else ""
                        raise EngineError(
                            f"cross-check failed at {where}enterprise {result.enterprise_id}, {durable.type}: "
                            f"durable_rules gives {name} {mine!r}, the columnar engine {theirs!r}")


def _corruption() -> Optional[tuple[str, str]]:
    spec = os.environ.get(CORRUPT_ENV, "").strip()
    if not spec or ":" not in spec:
        return None
    enterprise_id, family = spec.rsplit(":", 1)
    return enterprise_id.strip().upper(), family.strip()
