"""What a chunk of a register becomes in a worker, and how the parent writes the chunks.

A worker evaluates a chunk and renders it to the very bytes the output holds (UTF-8 CSV lines, NDJSON
lines, the elements of a JSON array); the parent process only writes those bytes, in row order, between
a header and a footer (`TextStream`). Summary outputs (CSV, XLSX, the table, compact JSON and NDJSON)
take verdicts from durable_rules without the exact per-row evaluation and cross-check every row with
the columnar engine (engine/crosscheck.py); outputs that show explanations or every condition
(`--explain`, `--detail full`, contract version 1) are evaluated exactly, which is their cross-check.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import IO, Any, Iterable, Optional, Sequence

from engine.errors import PolicyDataError

TEXT_FORMATS = ("csv", "ndjson", "json")
SCHEMAS = (1, 2)


@dataclass(frozen=True)
class OutputSpec:
    """How each enterprise is written: format, language, contract version and its options."""

    fmt: str                        # table | csv | xlsx | json | ndjson
    lang: str = "zh"
    schema: int = 2                 # json only: 1 is the previous contract (kept for one release)
    explain: bool = False           # v2: each decision's rendered explanation
    detail: str = "compact"         # v2: compact (deciding conditions) | full (every condition of every rule)
    cross_check: bool = True        # summary runs: the columnar engine checks every row (off: recorded)
    with_policy: bool = False       # ndjson: the policy document as the first line
    exact_check: bool = False       # summary runs checked by the exact per-row evaluation, not the columnar engine

    @property
    def needs_explanations(self) -> bool:
        # The officer workbook (xlsx) shows each "no" with its deciding condition: it needs the findings too.
        return self.fmt == "xlsx" or (self.fmt in ("json", "ndjson") and (self.schema == 1 or self.explain or self.detail == "full"))


class ChunkRenderer:
    """Per process: the evaluator, the cross-check and the contract for one run's OutputSpec."""

    def __init__(self, policy, book, as_of: date, spec: OutputSpec):
        from engine.contract import Contract
        from engine.crosscheck import ColumnarCrossCheck
        from engine.evaluate import Evaluator
        from engine.output import csv_columns
        self.spec, self.book = spec, book
        exact = spec.needs_explanations or spec.exact_check
        self.cross = None
        if not exact and spec.cross_check:
            try:
                self.cross = ColumnarCrossCheck(policy, book, as_of)
            except PolicyDataError:
                exact = True        # a policy the columnar engine cannot express: checked exactly instead
        # Explanations without every rule's conditions (--explain, not --detail full): the exact evaluation
        # of a decision settled early needs only the rules its explanation lists (engine/evaluate.py).
        listed_only = spec.fmt in ("json", "ndjson") and spec.explain and spec.detail != "full" and spec.schema != 1
        self.evaluator = Evaluator(policy, book, as_of, condition_detail=spec.needs_explanations, exact=exact,
                                   listed_rules_only=listed_only)
        mode = "exact" if exact else ("columnar" if self.cross else "off")
        self.contract = Contract(self.evaluator.compiled.plans, book, engine="durable", cross_check=mode,
                                 detail=spec.detail, explain=spec.explain)
        self.columns = csv_columns()

    def render(self, enterprises: Sequence, rows: Optional[Sequence] = None) -> Any:
        """The chunk as its output: UTF-8 bytes for CSV/JSON/NDJSON, summary rows for the table and XLSX."""
        from engine.output import summary_row
        results = [self.evaluator.evaluate(e) for e in enterprises]
        if self.cross is not None:
            self.cross.check(results, enterprises, rows)
        fmt = self.spec.fmt
        if fmt == "table":
            return [summary_row(r) for r in results]
        if fmt in ("csv", "xlsx"):
            rows = map(summary_row, results)
            table = [[row.get(c, "") for c in self.columns] for row in rows]
            return table if fmt == "xlsx" else csv_text(table).encode("utf-8")
        if fmt == "json" and self.spec.schema == 1:
            from engine.batch.writers import json_item
            from engine.output import result_json
            return ",\n".join(json_item(result_json(r, self.book, self.spec.lang)) for r in results).encode("utf-8")
        lines = [self.line(r) for r in results]
        text = "".join(line + "\n" for line in lines) if fmt == "ndjson" else ",\n".join(lines)
        return text.encode("utf-8")

    def line(self, result) -> str:
        from engine.contract import enterprise_document, ndjson_line
        from engine.render import render_explanations
        spec = self.spec
        doc = enterprise_document(
            self.contract, result, result.facts,
            amount_rules=[[a.rule_id for a in d.amount_lines if a.chosen] for d in result.decisions],
            findings=[d.findings for d in result.decisions] if spec.detail == "full" else None,
            explanations=render_explanations(result, self.book, spec.lang)
            if spec.explain else None)
        return ndjson_line(doc)


def csv_text(rows: Iterable[list]) -> str:
    """Rows as the CSV lines engine/tabular.write_csv writes (neutralised cells, CRLF)."""
    from engine.tabular import neutralise
    done: dict[str, str] = {}          # a chunk repeats the same words (outcomes, rule ids, towns)

    def cell(c: Any) -> str:
        if type(c) is not str:
            return neutralise(c)
        text = done.get(c)
        if text is None:
            text = done[c] = neutralise(c)
        return text

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows([cell(c) for c in row] for row in rows)
    return buf.getvalue()


class TextStream:
    """Writes the chunks' bytes in order to a binary file between the format's header and footer: the
    CSV's BOM and header row; NDJSON's optional policy line; JSON's brackets (the same bytes as
    json.dumps(list, indent=2) for contract version 1)."""

    def __init__(self, fh: IO[bytes], fmt: str, *, headers: Optional[list[str]] = None,
                 first_line: Optional[str] = None):
        self.fh, self.fmt = fh, fmt
        self.items = 0
        if fmt == "csv":
            from engine.tabular import neutralise
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\r\n").writerow([neutralise(h, numeric_ok=False) for h in headers or []])
            fh.write(("\ufeff" + buf.getvalue()).encode("utf-8"))
        elif fmt == "ndjson" and first_line is not None:
            fh.write((first_line + "\n").encode("utf-8"))
        elif fmt == "json":
            fh.write(b"[")

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.fmt == "json":
            self.fh.write(b"\n" if self.items == 0 else b",\n")
        self.fh.write(data)
        self.items += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.fh.write(b"]" if self.items == 0 else b"\n]")


def policy_line(policy, book, as_of: date) -> str:
    """The first NDJSON line with --with-policy: the policy document every decision's ids resolve in."""
    from engine.contract import SCHEMA_VERSION, ndjson_line
    from engine.policy_view import policy_document
    return ndjson_line({"schema": SCHEMA_VERSION, "policy_document": policy_document(policy, as_of, book)})

