"""durable_rules' verdicts for a batch the columnar engine has evaluated: the durable engine's summary runs.

A summary run (`check --format csv | ndjson | json | parquet` without explanations) on the durable engine
reads, validates and derives the register column-wise, as `--engine columnar` does, and the columnar
engine evaluates each batch. Then, row by row, durable_rules decides:

* each row's facts are encoded for durable_rules from the columns (engine/encoding.py's exact codes,
  computed a column at a time: a figure in its unit ×2, a derived fraction's code as it is, a date
  YYYYMMDD, a tag one boolean per tag the rules name) and asserted in every ruleset, as
  Evaluator.evaluate asserts them;
* the rules that fired give each family's Decision exactly as Evaluator gives it (read_fired,
  Evaluator(verdict_only=True));
* that Decision is compared with the columnar engine's for the same row: outcome, deciding rule and
  clause, amount, beneficiary, classifications, triggered indicators and their codes, reason
  (engine/crosscheck.py VERDICT_FIELDS). Any difference stops the run (EngineError, exit 3) naming the
  register row, the enterprise, the family and both values — before the batch is written.

The batch is then written from the columnar results, which every compared field has shown to be
durable_rules' verdicts. Two things durable_rules cannot say are not compared and come from the columnar
engine: which register columns are missing (durable_rules only sees that no rule matched) and, where no
rule decided (insufficient data), which rule to cite. Explanation runs (--explain, --detail full,
`explain`) take both from the exact evaluation instead.

Comparisons are remembered per family (its rules fired and those of the families it includes, the
facts a classification reads, its columnar result): a register repeats a few hundred of them, so each
row costs its durable_rules sessions and a lookup per family.
"""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Optional

import numpy as np

from engine.columnar.frame import Col, Frame, to_python
from engine.durable_host import EXACT, check_record
from engine.crosscheck import UNDECIDED_FIELDS, VERDICT_FIELDS, corrupted_outcome, row_keys
from engine.encoding import SATURATION
from engine.errors import EngineError
from engine.evaluate import Evaluator, read_fired_cached

REMEMBERED = 1 << 14          # family comparisons kept per process (forgotten all at once when full)
FIRED_LISTS = 1 << 12         # lists of fired rules whose keys are kept (as Evaluator.grouped keeps them)


class DurableVerdicts:
    """Built once per worker process, beside the ColumnarEvaluator whose batches it confirms."""

    def __init__(self, policy, book, as_of, columnar):
        self.evaluator = Evaluator(policy, book, as_of, exact=False, verdict_only=True)
        compiled = self.evaluator.compiled
        self.engine, self.encoder, self.columnar = compiled.engine, compiled.encoder, columnar
        self.plans = list(compiled.plans.values())
        every = [f for fact, kind in self.encoder.record_facts()
                 for f in (self.encoder.tag_fields.get(fact, {}).values() if kind == "tags" else [fact])]
        self.fields = self.engine.record_fields(every)
        self.value_facts = sorted({value["fact"] for plan in self.plans if plan.evaluable
                                   for r in plan.rules_of_kind("classification")
                                   for _, value in plan.cases.get(r.id, ()) if isinstance(value, dict) and "fact" in value})
        # A family's decision is a function of its own fired rules and those of the families it includes
        # (Evaluator.follow_included), and of the facts a classification reads.
        position = {plan.name: k for k, plan in enumerate(self.plans)}
        self.depends = [(k, *(position[inc] for inc in plan.family.spec.includes if inc in position))
                        for k, plan in enumerate(self.plans)]
        self.confirmed: set = set()
        self._parts: dict = {}         # rules fired -> (facts read, each family's part of its key)
        self._shared_parts: dict = {}
        self.corrupt = corrupted_outcome()

    def confirm(self, batch, rows: Optional[np.ndarray] = None) -> None:
        """Every row of the evaluated batch decided by durable_rules and compared with the columnar result;
        raises EngineError at the first difference.

        A comparison is remembered per family: (the family's fired rules and its included families', the
        facts read, the family's columnar result). A row whose every family was compared before costs its
        durable_rules sessions and six lookups. Remembered per whole row instead, the keys were a product
        of six families' cases: tens of thousands by 1M rows, tens of MB per worker, and a tenth of the
        rows compared again; per family they are a few hundred, and few rows are."""
        columnar_keys = [row_keys(batch.out[fam.name], batch.n) for fam in self.columnar.families]
        remember = not self.corrupt      # nothing is remembered under the test hook
        confirmed = self.confirmed
        ids = batch.frame.enterprise_id
        for positions, part in self.columnar.derived_parts(batch.frame):
            records = self.members(part)
            values = {f: column_values(part.columns[f]) for f in self.value_facts}
            for j, fields in enumerate(zip(*records) if records else ()):
                i = j if positions is None else int(positions[j])
                fired = tuple(self.engine.fire_serialised(fields))
                known = self._parts.get(fired)
                if known is None:
                    known = self._family_parts(fired)
                reads, family_parts = known
                read = tuple(values[f][j] for f in reads)
                keys = [None if not remember or ckeys is None else (family, read, ckeys[i])
                        for family, ckeys in zip(family_parts, columnar_keys)]
                if all(key is not None and key in confirmed for key in keys):
                    continue
                self._compare(batch, i, fired, {f: v[j] for f, v in values.items()}, ids[i],
                              rows[i] if rows is not None else None)
                if len(confirmed) + len(keys) > REMEMBERED:
                    confirmed.clear()
                confirmed.update(key for key in keys if key is not None)

    # ------------------------------------------------------------------------------------------
    def members(self, part: Frame) -> list[list[str]]:
        """Per ruleset, each row's record as RuleEngine sends it (only the fields its rules test), written
        as JSON members for RuleEngine.fire_serialised."""
        encoded = encoded_columns(part, self.encoder, {f for fs in self.fields for f in fs})
        texts = {f: member_texts(f, values) for f, values in encoded.items()}
        out = []
        for fields in self.fields:
            cols = [texts[f] for f in fields]
            out.append(["".join(row) for row in zip(*cols)] if cols else [""] * part.n)
        return out

    def _family_parts(self, fired: tuple) -> tuple[tuple, list]:
        """The facts whose values the decisions of these fired rules take (a positive decision's
        classification case that names a fact: the town that receives a town award), and each family's
        part of its comparison key: its position and the fired rules it depends on."""
        groups = self.evaluator.grouped(list(fired))
        reads = []
        for plan, group in zip(self.plans, groups):
            if not plan.evaluable:
                continue
            verdict = read_fired_cached(plan, group)
            if verdict.category != "pos":
                continue
            for attribute, case in verdict.attributes:
                rule = next(r for r in plan.rules_of_kind("classification") if r.attribute == attribute)
                value = plan.cases[rule.id][case][1]
                if isinstance(value, dict) and "fact" in value:
                    reads.append(value["fact"])
        # Each family's part is one object however many lists of fired rules share it (a list is a product
        # of the families' few cases: thousands of lists, tens of parts).
        parts = [self._shared_parts.setdefault(p, p) for p in
                 ((k, tuple(groups[d].key for d in depends)) for k, depends in enumerate(self.depends))]
        known = (tuple(sorted(set(reads))), parts)
        if len(self._parts) >= FIRED_LISTS:
            self._parts.clear()
        self._parts[fired] = known
        return known

    def _compare(self, batch, i: int, fired: tuple, values: dict, enterprise_id: str, row: Any) -> None:
        """Each family's compared fields, durable_rules' against the columnar engine's; the first
        difference raises."""
        for (family, names, mine), fam in zip(self._durable_fields(fired, values, enterprise_id),
                                              self.columnar.families):
            if fam.name != family:
                raise EngineError(f"cross-check: family order differs ({family} / {fam.name})")
            theirs = batch.decision(fam, i)
            for name, value in zip(names, mine):
                other = getattr(theirs, name)
                if self.corrupt == (enterprise_id, family) and name == "outcome":
                    other = "corrupted-by-test-hook"
                if value != other:
                    where = f"row {row}, " if row is not None else ""
                    raise EngineError(
                        f"cross-check failed at {where}enterprise {enterprise_id}, {family}: "
                        f"durable_rules gives {name} {value!r}, the columnar engine {other!r}")

    def _durable_fields(self, fired: tuple, values: dict, enterprise_id: str) -> list:
        """(family, names compared, their values) of each decision these fired rules give, as Evaluator
        gives it. Where no rule decided, the rule cited is not compared (durable_rules names none)."""
        ev = self.evaluator
        groups = ev.grouped(list(fired))
        who = SimpleNamespace(enterprise_id=enterprise_id)
        decisions = ev.follow_included([ev.decide(plan, values, group, who) for plan, group in zip(self.plans, groups)])
        out = []
        for plan, group, d in zip(self.plans, groups, decisions):
            undecided = plan.evaluable and read_fired_cached(plan, group).category == "none"
            names = UNDECIDED_FIELDS if undecided else VERDICT_FIELDS
            out.append((d.type, names, tuple(getattr(d, name) for name in names)))
        return out


def encoded_columns(frame: Frame, encoder, wanted: set) -> dict[str, list]:
    """The record fields durable_rules receives (engine/encoding.py Encoder.record), a column at a time:
    field -> one value per row, None where the fact is missing (the field is then left out)."""
    out: dict[str, list] = {}
    for fact, kind in encoder.record_facts():
        if kind == "tags":
            for tag, field in encoder.tag_fields.get(fact, {}).items():
                if field in wanted:
                    col = _column(frame, fact)
                    has = np.array([tag in (v or ()) for v in col.vocab] + [False], dtype=bool)
                    out[field] = has[np.where(col.present, col.values, -1)].tolist()
            continue
        if fact not in wanted:
            continue
        col = _column(frame, fact)
        if col.kind in ("num", "code") and col.values.dtype != object:
            # num: an exact integer in the fact's unit, so its code is 2·x; code: the code itself.
            codes = col.values * 2 if col.kind == "num" else col.values
            codes = np.clip(codes, -SATURATION, SATURATION).tolist()
        elif col.kind == "cat":
            table = [encoder(fact, v) for v in col.vocab] + [None]
            codes = [table[c] for c in col.values.tolist()]           # code -1 (missing): the None at the end
        else:
            codes = [encoder(fact, to_python(v, col.ftype)) for v in col.values.tolist()]
        if not col.present.all():
            for j in np.flatnonzero(~col.present).tolist():
                codes[j] = None
        out[fact] = codes
    return out


def member_texts(field: str, values: list) -> list[str]:
    """`,"field":value` of each row ("" where missing), every distinct value checked once as
    durable_host.check_record checks a record (bool, str, or an int inside a double's exact range)."""
    key = "," + json.dumps(field) + ":"
    texts: dict = {}            # booleans and words: a column has a few
    out: list[str] = []
    append = out.append
    for v in values:
        if v is None:
            append("")
        elif type(v) is int:    # a figure's code: json.dumps writes an int as str() does
            if not -EXACT < v < EXACT:
                check_record({field: v})        # raises, naming the field
            append(key + str(v))
        else:
            text = texts.get(v)
            if text is None:
                check_record({field: v})
                text = texts[v] = key + json.dumps(v, ensure_ascii=False)
            append(text)
    return out


def column_values(col: Col) -> list:
    """A column's values as an Enterprise holds them (None where missing)."""
    if col.kind == "cat":
        table = list(col.vocab) + [None]
        return [table[c] for c in col.values.tolist()]
    return [to_python(v, col.ftype) if p else None for v, p in zip(col.values.tolist(), col.present.tolist())]


def _column(frame: Frame, fact: str) -> Col:
    col = frame.columns.get(fact)
    if col is None:     # the columnar engine derives what its rules read; the durable rules read the same
        raise EngineError(f"durable_rules tests {fact}, which the columnar frame does not hold")
    return col
