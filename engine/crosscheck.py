"""The second implementation every summary run is checked against.

A summary run (CSV, XLSX, the table, compact JSON/NDJSON) takes each family's verdict from durable_rules
without the exact per-row evaluation that builds explanations (engine/evaluate.py, `exact=False`). Every
row is still checked by an independent implementation compiled from the same rule records: the columnar
engine (engine/columnar/evaluator.py), run over the whole chunk at once. This module compares chunks read
row by row (XLSX, the table, --town, folders of files); a register file written as CSV, NDJSON or JSON
goes through the columnar pipeline and is compared there, on VERDICT_FIELDS
(engine/columnar/durable_verdicts.py). Any difference in a verdict
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
from operator import attrgetter
from typing import Any, Optional, Sequence

from engine.errors import EngineError

CORRUPT_ENV = "SCALEUP_TEST_CORRUPT_COLUMNAR"
CHECK_MODES = ("columnar", "exact", "off")     # how a run's rows were cross-checked (recorded in the output)
COMPARED = ("outcome", "rule_id", "clause_id", "amount_yuan", "beneficiary", "attributes", "triggered",
            "triggered_codes", "missing_facts", "reason")
# What durable_rules decides (engine/columnar/durable_verdicts.py compares these): not which register
# columns are missing, which it cannot see; and where no rule decided, not the rule cited for it either.
VERDICT_FIELDS = tuple(f for f in COMPARED if f != "missing_facts")
UNDECIDED_FIELDS = tuple(f for f in VERDICT_FIELDS if f not in ("rule_id", "clause_id"))
_fields = attrgetter(*COMPARED)      # a decision's compared fields as one tuple


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
        self._corrupt = corrupted_outcome()

    def check(self, results: Sequence, enterprises: Sequence, rows: Optional[Sequence] = None) -> None:
        if not results:
            return
        batch = self.columnar.evaluate_frame(self.columnar.frame(enterprises))
        for k, fam in enumerate(self.columnar.families):
            # A columnar decision is a function of its row in the family's result columns: built once per
            # distinct row (a chunk has a few hundred), then compared with every durable decision that has it.
            keys = row_keys(batch.out[fam.name], len(results))
            seen: dict = {}
            for i, result in enumerate(results):
                durable = result.decisions[k]
                key = keys[i] if keys is not None else None
                theirs = seen.get(key) if key is not None else None
                if theirs is None or self._corrupt:
                    other = batch.decision(fam, i)
                    if self._corrupt and self._corrupt == (result.enterprise_id, fam.name):
                        other.outcome = "corrupted-by-test-hook"
                    theirs = (other.type, _fields(other))
                    if key is not None and not self._corrupt:
                        seen[key] = theirs
                if durable.type != theirs[0]:
                    raise EngineError(f"cross-check: family order differs ({durable.type} / {theirs[0]})")
                mine = _fields(durable)
                if mine != theirs[1]:
                    name, a, b = next((n, x, y) for n, x, y in zip(COMPARED, mine, theirs[1]) if x != y)
                    where = f"row {rows[i]}, " if rows is not None else ""
                    raise EngineError(
                        f"cross-check failed at {where}enterprise {result.enterprise_id}, {durable.type}: "
                        f"durable_rules gives {name} {a!r}, the columnar engine {b!r}")


def row_keys(arrays: dict, n: int) -> Optional[list]:
    """Each row's values across the family's result columns, as one hashable key (None: some value
    cannot be a key; then every row's decision is built)."""
    keys = list(zip(*(arrays[name].tolist() for name in sorted(arrays))))
    try:
        set(keys[:1])
    except TypeError:
        return None
    return keys if len(keys) == n else None


def corrupted_outcome() -> Optional[tuple[str, str]]:
    spec = os.environ.get(CORRUPT_ENV, "").strip()
    if not spec or ":" not in spec:
        return None
    enterprise_id, family = spec.rsplit(":", 1)
    return enterprise_id.strip().upper(), family.strip()
