"""The columnar engine's results as the documented outputs (engine/output.py): the same summary rows,
CSV bytes and table as the durable path, and the JSON contract's keys.

* `summary_rows` / `render_table` are engine/output's own functions applied to ColumnarResult (it has
  every field a summary row reads).
* `write_summary_csv` writes the same bytes as engine/tabular.write_csv(csv_columns(), summary rows),
  column by column, so a register of a million rows is written in seconds.
* `results_json`: the contract's keys per decision. The verdict fields come from the columnar engine;
  `conditions` and `rules` are the exact per-rule findings of engine/evaluate.explain_family (the same
  Python evaluation the durable path explains with — and whose verdict must agree, or EngineError);
  `explanation` says that the full explanation comes from `scaleup explain` (durable_rules).
"""
from __future__ import annotations

from typing import IO, Any, Iterable, Optional, Union

import numpy as np

from engine.columnar.kernel import POS
from engine.columnar.results import ColumnarBatch, ColumnarDecision, ColumnarResult
from engine.derive import fact_values
from engine.errors import EngineError
from engine.evaluate import explain_family
from engine.output import (csv_columns, decision_document, json_value,
                           render_table as _render_table, summary_row)
from engine.tabular import neutralise

EXPLANATION = {
    "zh": "（列式引擎仅给出结论与判定规则；完整解释（逐条条件、参数来源）请运行：scaleup explain {id} <名录文件> --as-of {as_of}）",
    "en": "(columnar engine: verdict and deciding rule only; for the full explanation run "
          "scaleup explain {id} <register file> --as-of {as_of})",
}
CSV_ROWS_PER_WRITE = 50_000


def summary_rows(results: Iterable[ColumnarResult]) -> list[dict[str, Any]]:
    return [summary_row(r) for r in results]      # type: ignore[arg-type]  (duck-typed: same fields)


def render_table(results: list[ColumnarResult], lang: str) -> str:
    return _render_table(results, lang)           # type: ignore[arg-type]


# ------------------------------------------------------------------------------- CSV, column-wise

def csv_field(text: str) -> str:
    """csv.writer's QUOTE_MINIMAL for the excel dialect, on a field that is already text."""
    if "," in text or '"' in text or "\r" in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _cell(value: Any) -> str:
    return csv_field(neutralise(value))


def plain_text(value: Any) -> str:
    """A cell of a Parquet output: the value's text as the CSV holds it, before Excel-proofing."""
    return "" if value is None else str(value)


def _plain_or_cell(values: list, _cell=_cell) -> list[str]:
    """Letters and digits only (any script) are written as they are: no formula start, nothing to quote."""
    return [v if v.isalnum() else _cell(v) for v in values]


def _mapped(values: list, _cell=_cell) -> list[str]:
    """_cell of each value, once per distinct value (None is an empty cell)."""
    table = {None: ""}
    for v in set(values):
        if v is not None:
            table[v] = _cell(v)
    return list(map(table.__getitem__, values))


def _by_code(codes: np.ndarray, text_of) -> list[str]:
    """Cell text for integer codes (bit sets), computed once per distinct code; most codes are 0."""
    nonzero = np.flatnonzero(codes)
    out = np.full(len(codes), text_of(0), dtype=object)
    if len(nonzero):
        uniq, inverse = np.unique(codes[nonzero], return_inverse=True)
        out[nonzero] = np.array([text_of(int(u)) for u in uniq.tolist()], dtype=object)[inverse.reshape(-1)]
    return out.tolist()


def summary_columns(batch: ColumnarBatch, _cell=_cell) -> dict[str, list[str]]:
    """Every CSV column as its cell texts (neutralised and quoted; with _cell=plain_text as they are), one
    per enterprise."""
    n = batch.n
    f = batch.frame
    ev = batch.ev
    cols: dict[str, list[str]] = {
        "enterprise_id": _plain_or_cell(f.enterprise_id.tolist(), _cell),
        "name": _plain_or_cell(f.name.tolist(), _cell),
        "town": _mapped(f.town.tolist(), _cell),
        "in_park": np.where(f.in_park, "true", "false").tolist(),
        "as_of": [_cell(ev.as_of.isoformat())] * n,
    }
    blank = [""] * n
    for fam in ev.families:
        t = fam.name
        plan = fam.plan
        spec = plan.family.spec
        if not plan.evaluable:
            concl = spec.conclusion
            cols[t] = [_cell("not_applicable")] * n
            cols[f"{t}.rule_id"] = [_cell(concl.id)] * n
            for extra in ("amount_yuan", "amount_basis", "beneficiary", "path", "origin", "triggered", "missing"):
                cols[f"{t}.{extra}"] = blank
            continue
        a = batch.out[t]
        cols[t] = np.array([_cell(o) for o in fam.outcomes], dtype=object)[a["outcome"]].tolist()
        cols[f"{t}.rule_id"] = np.array([_cell(r) for r in fam.rule_ids], dtype=object)[a["rule"]].tolist()
        pos = (a["cat"] == POS) & ~a["unoffered"]      # not offered: no amount (the outcome says so)
        if spec.amount and fam.amounts:
            k = len(fam.amounts) + 1
            table = np.empty(k * k, dtype=object)
            for b in range(-1, k - 1):
                for o in range(-1, k - 1):
                    amount = batch.amount(fam, b, o)
                    table[(b + 1) * k + (o + 1)] = "" if amount is None else _cell(json_value(amount, "money"))
            basis = np.empty(k * k, dtype=object)
            for b in range(-1, k - 1):
                for o in range(-1, k - 1):
                    basis[(b + 1) * k + (o + 1)] = batch.amount_basis(fam, b, o) or ""
            index = (a["base"].astype(np.int64) + 1) * k + (a["bonus"].astype(np.int64) + 1)
            cols[f"{t}.amount_yuan"] = np.where(pos, table[index], "").tolist()
            cols[f"{t}.amount_basis"] = np.where(pos, basis[index], "").tolist()
        else:
            cols[f"{t}.amount_yuan"] = blank
            cols[f"{t}.amount_basis"] = blank
        for attribute, key in (("path", "path"), ("origin", "origin"), (spec.beneficiary, "beneficiary")):
            cols[f"{t}.{key}"] = blank
            for k_, (_, attr, _) in enumerate(fam.classes):
                if attr == attribute and attribute:
                    hit = a[f"case:{k_}"] >= 0
                    cols[f"{t}.{key}"] = _mapped(np.where(hit, a[f"value:{k_}"], None).tolist(), _cell)
        codes = {i: next(r.code for r in plan.family.rules if r.id == fam.rule_ids[i]) for i, *_ in fam.ind}
        cols[f"{t}.triggered"] = _by_code(a["trig"], lambda bits: _cell(" ".join(dict.fromkeys(
            codes[i] for i, _, _, _, b in fam.ind if bits >> b & 1))))
        cols[f"{t}.missing"] = _by_code(a["missing"], lambda bits: _cell(" ".join(
            g for b, g in enumerate(fam.report_facts) if bits >> b & 1)))
    return cols


def summary_series(batch: ColumnarBatch, _cell=_cell) -> list[list[str]]:
    """The summary's columns (engine.output.csv_columns) in order, as cell texts."""
    data = summary_columns(batch, _cell)
    known = {fam.name for fam in batch.ev.families}
    series = []
    for c in csv_columns():
        if c in data:
            series.append(data[c])
        else:
            if c.split(".")[0] not in known:
                raise EngineError(f"summary column {c!r} has no columnar counterpart")
            series.append([""] * batch.n)
    return series


def csv_header(headers: Optional[list[str]] = None, bom: bool = True) -> str:
    return ("\ufeff" if bom else "") + ",".join(csv_field(neutralise(h, numeric_ok=False))
                                                for h in (headers or csv_columns())) + "\r\n"


def write_csv_rows(batch: ColumnarBatch, fh: IO[str]) -> None:
    """The batch's summary rows as CSV records (no header)."""
    series = summary_series(batch)
    for a in range(0, batch.n, CSV_ROWS_PER_WRITE):
        b = min(batch.n, a + CSV_ROWS_PER_WRITE)
        fh.write("\r\n".join(map(",".join, zip(*(s[a:b] for s in series)))) + "\r\n")


def write_summary_csv(batch: ColumnarBatch, target: Union[str, IO[str]], *, headers: Optional[list[str]] = None,
                      bom: bool = True) -> None:
    """The bytes engine/tabular.write_csv(target, headers, summary rows) writes for these results; the
    header row is `headers` (e.g. engine.output.csv_headers(lang)), by default the column ids."""
    def emit(fh):
        fh.write(csv_header(headers, bom))
        if batch.n:
            write_csv_rows(batch, fh)

    if hasattr(target, "write"):
        emit(target)
    else:
        with open(target, "w", encoding="utf-8", newline="") as fh:
            emit(fh)


# ------------------------------------------------------------------------------- JSON

def results_json(batch: ColumnarBatch, lang: str, positions: Optional[list[int]] = None) -> list[dict]:
    """The output contract's document for the chosen rows (all by default)."""
    ev = batch.ev
    derived = [s for s in ev.book.facts.values() if s.fn]
    kinds = {fid: spec.type for fid, spec in ev.book.facts.items()}
    out = []
    for i in (range(batch.n) if positions is None else positions):
        result = batch.result(i)
        values = fact_values(batch.frame.row_values(i), derived, ev.as_of)   # type: ignore[arg-type]
        decisions = []
        for fam, d in zip(ev.families, result.decisions):
            findings = []
            if fam.plan.evaluable:
                findings, verdict = explain_family(fam.plan, values, ev.book)
                if verdict.outcome != d.outcome:
                    raise EngineError(f"{result.enterprise_id} {fam.name}: the columnar engine concluded "
                                      f"{d.outcome}, the exact evaluation {verdict.outcome}")
            decisions.append(_decision_json(d, findings, fam.plan.params if fam.plan.evaluable else {},
                                            kinds, lang, result))
        out.append({"enterprise_id": result.enterprise_id, "name": result.name, "as_of": result.as_of,
                    "policy": result.policy, "engine": "columnar", "decisions": decisions})
    return out


def _decision_json(d: ColumnarDecision, findings, params: dict, kinds: dict, lang: str,
                   result: ColumnarResult) -> dict:
    return decision_document(d, findings, params, kinds,
                             EXPLANATION[lang].format(id=result.enterprise_id, as_of=result.as_of))


# ------------------------------------------------------------------------------- contract version 2

def contract_lines(batch: ColumnarBatch, contract, positions: Optional[Iterable[int]] = None) -> Iterable[str]:
    """Output contract v2 (engine/contract.py), one line per enterprise, through the same builder as
    the durable path: the same verdicts give the same line. The deciding conditions are evaluated
    exactly on each row's facts (engine/evaluate), as durable's are."""
    from engine.contract import enterprise_document, ndjson_line
    ev = batch.ev
    derived = [s for s in ev.book.facts.values() if s.fn]
    for i in (range(batch.n) if positions is None else positions):
        result = batch.result(i)
        values = fact_values(batch.frame.row_values(i), derived, ev.as_of)   # type: ignore[arg-type]
        yield ndjson_line(enterprise_document(contract, result, values, amount_rules=[
            _paid(batch, fam, i) for fam in ev.families]))


def _paid(batch: ColumnarBatch, fam, i: int) -> list[str]:
    """The amount rules paid to row i (the highest base, the highest positive bonus)."""
    if not fam.plan.evaluable or batch.out[fam.name]["cat"][i] != POS:
        return []
    a = batch.out[fam.name]
    return [fam.rule_ids[fam.amounts[int(k)][0]] for k in (a["base"][i], a["bonus"][i]) if k >= 0]
