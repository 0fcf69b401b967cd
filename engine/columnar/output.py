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

from itertools import groupby
from typing import IO, Any, Iterable, Optional, Union

import numpy as np

from engine.columnar.kernel import POS
from engine.columnar.results import ColumnarBatch, ColumnarDecision, ColumnarResult
from engine.columnar.frame import factorize
from engine.columnar.summary_cells import Block, combine, family_block
from engine.derive import fact_values
from engine.errors import EngineError
from engine.evaluate import explain_family
from engine.output import csv_columns, decision_document, render_table as _render_table, summary_row
from engine.tabular import neutralise

EXPLANATION = {
    "zh": "（列式引擎仅给出结论与判定规则；完整解释（逐条条件、参数来源）请运行：scaleup explain {id} <名录文件> --as-of {as_of}）",
    "en": "(columnar engine: verdict and deciding rule only; for the full explanation run "
          "scaleup explain {id} <register file> --as-of {as_of})",
}


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
    """Letters and digits only (any script) are written as they are: no formula start, nothing to quote
    (checked once on the batch's text joined, which is letters and digits only when every value is)."""
    if "".join(values).isalnum() and all(values):
        return values
    return [v if v.isalnum() else _cell(v) for v in values]


def _frame_texts(f, key: str, cell, text_type=None):
    """_row_texts of a Frame's ids or names, from the pyarrow array the reader left them in when it did
    (Frame.arrow_texts: no Python string made for them)."""
    held = f.arrow_texts.get(key) if text_type is not None else None
    if held is not None:           # a string array: as large strings (the CSV's), its offsets widened
        return _row_texts(None, cell, text_type, held if held.type == text_type else held.cast(text_type))
    return _row_texts(getattr(f, key), cell, text_type)


def _row_texts(values: np.ndarray, cell, text_type=None, arr=None):
    """One text per row (ids, names), neutralised and quoted by `cell`: a list, or with `text_type` a
    pyarrow array of that type, in which pyarrow finds the few cells that `cell` may change (a formula
    start, a comma, a quote or a line break) and Python rewrites only those. `arr`: the values as such an
    array of text (no null) already."""
    if text_type is None:
        return _plain_or_cell(values.tolist(), cell)
    import pyarrow as pa
    if arr is None:
        try:
            arr = pa.array(values, text_type)
        except (TypeError, ValueError, pa.ArrowException):       # a value that is not text
            return pa.array(_plain_or_cell(values.tolist(), cell), text_type)
        if arr.null_count:
            return pa.array([cell(v) for v in values.tolist()], text_type)
    if cell is plain_text:
        return arr
    touched = _touched(arr)
    if not touched.any():
        return arr
    texts = arr.to_pylist() if values is None else values.tolist()
    for i in np.flatnonzero(touched).tolist():
        texts[i] = cell(texts[i])
    return pa.array(texts, text_type)


# A text _cell may change: neutralise's formula starts, csv_field's characters to quote (RE2).
_TOUCHED = '^[=+@\\t\\r-]|[,"\\r\\n]'
_FORMULA_START = np.array([ord(c) for c in "=+@\t\r-"], dtype=np.uint8)
_QUOTED = np.array([ord(c) for c in ',"\r\n'], dtype=np.uint8)


def _touched(arr) -> np.ndarray:
    """The cells _TOUCHED matches, found in the array's bytes (every character it names is one ASCII
    byte): the expression run by pyarrow over ids and names cost more than the rest of their rendering."""
    from engine.columnar.arrow_cells import as_numpy, text_bytes
    cells = text_bytes(arr)
    if cells is None:
        import pyarrow.compute as pc
        return as_numpy(pc.match_substring_regex(arr, _TOUCHED))
    offsets, data = cells
    n = len(arr)
    touched = np.zeros(n, dtype=bool)
    if not n or offsets[-1] == offsets[0]:
        return touched
    starts = offsets[:-1]
    touched |= (offsets[1:] > starts) & np.isin(data[np.minimum(starts, len(data) - 1)], _FORMULA_START)
    found = np.flatnonzero(np.isin(data[offsets[0]:offsets[-1]], _QUOTED))
    if len(found):
        touched[np.searchsorted(offsets, found + offsets[0], side="right") - 1] = True
    return touched


def summary_parts(batch: ColumnarBatch, _cell=_cell, text_type=None) -> dict[str, Union[list[str], Block]]:
    """Every CSV column's cells (neutralised and quoted; with _cell=plain_text as they are): ids and names
    as one text per enterprise (a list, or a pyarrow array of `text_type`: _row_texts), every other
    column in a Block (summary_cells.py) of a few texts."""
    n = batch.n
    f = batch.frame
    towns, town_codes = _town_codes(f)
    parts: dict[str, Union[list[str], Block]] = {
        "enterprise_id": _frame_texts(f, "enterprise_id", _cell, text_type),
        "name": _frame_texts(f, "name", _cell, text_type),
        "town": Block(np.where(town_codes < 0, len(towns), town_codes), {"town": [_cell(t) for t in towns] + [""]}),
        "in_park": Block(f.in_park.astype(np.int64), {"in_park": ["false", "true"]}),
        "as_of": Block(np.zeros(n, np.int64), {"as_of": [_cell(batch.ev.as_of.isoformat())]}),
    }
    for fam in batch.ev.families:
        block = family_block(batch, fam, _cell)
        parts.update(dict.fromkeys(block.texts, block))
    return parts


def _town_codes(f) -> tuple[list, np.ndarray]:
    """(the towns in order of first appearance, a code per row: -1 none), as factorize gives them, from the
    frame's town column, whose text column is made from these very codes (column_reader,
    Frame.from_enterprises): no Python string looked up per row. (The column's vocabulary is the
    reader's so far, which differs between worker processes: so it is renumbered by the batch's rows.)"""
    col = f.columns.get("town")
    if col is None or col.kind != "cat" or len(col.values) != f.n:
        return factorize(f.town.tolist())
    shifted = col.values.astype(np.int64) + 1           # 0: none
    seen, first = np.unique(shifted, return_index=True)
    order = seen[np.argsort(first, kind="stable")]
    order = order[order > 0]
    renumber = np.full(len(col.vocab) + 1, -1, np.int64)
    renumber[order] = np.arange(len(order))
    return [col.vocab[k - 1] for k in order.tolist()], renumber[shifted]


def summary_arrow(batch: ColumnarBatch):
    """The summary's columns as a pyarrow Table of text (cells as they are, not Excel-proofed): ids and
    names as string arrays, every other column as a dictionary array (`coded`). BatchWriter writes them so
    that the file reads back as plain text columns."""
    import pyarrow as pa
    parts = summary_parts(batch, plain_text, pa.string())
    columns = []
    for c in csv_columns():
        got = parts.get(c)
        if got is None:
            _known(batch, c)
            got = Block(np.zeros(batch.n, np.int64), {c: [""]})
        columns.append(coded(got.codes, got.texts[c]) if isinstance(got, Block) else got)
    return pa.table(columns, names=csv_columns())


def coded(codes: np.ndarray, texts: list[str]):
    """A Block's column as a dictionary array: each distinct text once and an int32 code per row. No string
    is made per row, and the Parquet writer writes the dictionary as the column chunk's dictionary page
    and the codes as its indices instead of hashing a string per row again; a batch sent back from a
    worker is some 4 bytes a cell, not the text. (A Block's texts repeat across its code combinations:
    they are made distinct here, so the file's dictionary holds each text once.)"""
    import pyarrow as pa
    # A Block's codes index its texts by construction (summary_cells._distinct numbers them 0..k-1):
    # pyarrow is not asked to check every code against the dictionary again (safe=False; 29 columns a
    # batch: 0.1 -> 0.08 CPU-s per 1M rows).
    distinct = list(dict.fromkeys(texts))
    if len(distinct) == len(texts):
        return pa.DictionaryArray.from_arrays(codes.astype(np.int32), pa.array(texts, pa.string()), safe=False)
    position = {t: k for k, t in enumerate(distinct)}
    renumber = np.fromiter(map(position.__getitem__, texts), np.int32, len(texts))
    return pa.DictionaryArray.from_arrays(np.take(renumber, codes), pa.array(distinct, pa.string()), safe=False)


def _known(batch: ColumnarBatch, column: str) -> None:
    if column.split(".")[0] not in {fam.name for fam in batch.ev.families}:
        raise EngineError(f"summary column {column!r} has no columnar counterpart")


def csv_records(batch: ColumnarBatch):
    """The batch's summary rows as CSV records (no header), UTF-8 bytes (with pyarrow, a pyarrow Buffer
    of them, which a file writes and pickle sends as bytes). Each run of adjacent columns held in
    Blocks (every column but the id and the name) is joined once per code: with pyarrow, each Block's
    joined texts are spread over the rows by pyarrow and a row's pieces joined there (no Python object
    per row); without it, the Blocks' codes are combined into one (a row is three pieces of bytes: its
    id, its name and the rest) and joined in Python."""
    from engine.columnar.arrow_source import available
    arrow = available() and batch.n > 0
    parts = summary_parts(batch, text_type=_large_string() if arrow else None)
    n = batch.n
    segments: list = []             # [holder, columns]: adjacent columns of one Block or one per-row list
    for c in csv_columns():
        got = parts.get(c)
        if got is None:
            _known(batch, c)
            got = Block(np.zeros(n, np.int64), {c: [""]})
        if segments and segments[-1][0] is got:
            segments[-1][1].append(c)
        else:
            segments.append([got, [c]])
    if not n:
        return b""
    if arrow:       # pyarrow takes each Block's few joined texts by code and joins the pieces
        return _records_arrow([(got, None) if not isinstance(got, Block) else
                               ([",".join(cells) for cells in zip(*(got.texts[c] for c in cols))], got.codes)
                               for got, cols in segments])
    pieces: list[tuple[list[str], Optional[np.ndarray]]] = []     # (texts, codes: None for one text a row)
    for in_blocks, group in groupby(segments, key=lambda seg: isinstance(seg[0], Block)):
        if not in_blocks:
            pieces += [(texts, None) for texts, _ in group]
            continue
        joined = combine([(block.codes, len(block.texts[cols[0]]),
                           {str(k): [",".join(cells) for cells in zip(*(block.texts[c] for c in cols))]})
                          for k, (block, cols) in enumerate(group)], n)
        pieces.append(([",".join(cells) for cells in zip(*joined.texts.values())], joined.codes))
    return _records_python(pieces)


def _records_python(pieces: list) -> bytes:
    rows = [list(map(str.encode, texts)) if codes is None
            else np.array([t.encode() for t in texts], dtype=object)[codes].tolist() for texts, codes in pieces]
    return b"\r\n".join(map(b",".join, zip(*rows))) + b"\r\n"


def _records_arrow(pieces: list):
    """The pieces joined by pyarrow: the last piece of a row carries its line end, so the joined
    column's bytes are the records, one after the other."""
    import pyarrow as pa
    import pyarrow.compute as pc
    text = _large_string()
    texts, codes = pieces[-1]
    ends = codes is not None            # the line end goes on the last piece's few texts
    if ends:
        pieces = pieces[:-1] + [([t + "\r\n" for t in texts], codes)]
    arrays = [texts if codes is None else pa.array(texts, text).take(codes) for texts, codes in pieces]
    joined = pc.binary_join_element_wise(*arrays, pa.scalar(",", text))
    if not ends:
        joined = pc.binary_join_element_wise(joined, pa.scalar("\r\n", text), pa.scalar("", text))
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)[joined.offset:joined.offset + len(joined) + 1]
    # The column's bytes as they are (a pyarrow Buffer, written as it is): a copy into a new bytes object
    # cost a fresh 9 MB a batch, its page faults and the copy.
    return joined.buffers()[2][int(offsets[0]):int(offsets[-1])]


def _large_string():
    import pyarrow as pa
    return pa.large_string()        # 64-bit offsets: a batch's records may pass 2 GiB


def csv_header(headers: Optional[list[str]] = None, bom: bool = True) -> str:
    return ("\ufeff" if bom else "") + ",".join(csv_field(neutralise(h, numeric_ok=False))
                                                for h in (headers or csv_columns())) + "\r\n"


def write_csv_rows(batch: ColumnarBatch, fh: IO[str]) -> None:
    """The batch's summary rows as CSV records (no header), to a text stream."""
    fh.write(bytes(csv_records(batch)).decode())


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
            paid_rules(batch, fam, i) for fam in ev.families]))


def paid_rules(batch: ColumnarBatch, fam, i: int) -> list[str]:
    """The amount rules paid to row i (the highest base, the highest positive bonus)."""
    if not fam.plan.evaluable or batch.out[fam.name]["cat"][i] != POS:
        return []
    a = batch.out[fam.name]
    return [fam.rule_ids[fam.amounts[int(k)][0]] for k in (a["base"][i], a["bonus"][i]) if k >= 0]
