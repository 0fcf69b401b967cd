"""The summary's cells (engine/output.csv_columns) of an evaluated batch, as texts.

A family's columns (outcome, deciding rule, amount and its basis, path, origin, beneficiary, triggered
indicators, missing data) are all decided by a handful of small codes per row. Each family's cells are
therefore built once per distinct combination of those codes (a `Block`: one code per row and, per
column, the text of each code) — a register of a million rows has a few hundred such combinations —
and spread over the rows only when written: the CSV writer joins a family's columns once per
combination and writes one piece per family and row, instead of a dozen cells.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from engine.columnar.frame import factorize
from engine.columnar.kernel import POS
from engine.columnar.results import ColumnarBatch
from engine.output import json_value

DENSE = 1 << 22          # code combinations below this counted in a table (_distinct), else sorted
DENSE_BITS = 1 << 20     # bit sets below this counted in a table (5 MiB at most), else sorted
EXTRA_COLUMNS = ("amount_yuan", "amount_basis", "beneficiary", "path", "origin", "triggered", "missing")


@dataclass
class Block:
    """Columns decided by one code per row: `texts[column][code]` is the cell of every row with `code`."""
    codes: np.ndarray
    texts: dict[str, list[str]]


def family_block(batch: ColumnarBatch, fam, cell: Callable[[Any], str]) -> Block:
    """The family's summary cells (neutralised and quoted by `cell`, or as plain text)."""
    n, t = batch.n, fam.name
    plan = fam.plan
    spec = plan.family.spec
    if not plan.evaluable:
        texts = {t: [cell("not_applicable")], f"{t}.rule_id": [cell(spec.conclusion.id)]}
        texts.update({f"{t}.{extra}": [""] for extra in EXTRA_COLUMNS})
        return Block(np.zeros(n, np.int64), texts)
    a = batch.out[t]
    parts: list[tuple[np.ndarray, int, dict[str, list[str]]]] = [   # (codes, how many, column texts)
        (a["outcome"].astype(np.int64), len(fam.outcomes), {t: [cell(o) for o in fam.outcomes]}),
        (a["rule"].astype(np.int64), len(fam.rule_ids), {f"{t}.rule_id": [cell(r) for r in fam.rule_ids]}),
        _amounts(batch, fam, a, cell)]
    for attribute, key in (("path", "path"), ("origin", "origin"), (spec.beneficiary, "beneficiary")):
        chosen = [k for k, (_, attr, _) in enumerate(fam.classes) if attr == attribute and attribute]
        if not chosen:
            parts.append((np.zeros(n, np.int64), 1, {f"{t}.{key}": [""]}))
            continue
        k = chosen[-1]
        cases = fam.classes[k][2]
        if all(src == "const" for _, (src, _) in cases):     # the case decides the value: no value per row
            case = a[f"case:{k}"].astype(np.int64)
            texts = [cell(v) for _, (_, v) in cases] + [""]
            parts.append((np.where(case < 0, len(cases), case), len(texts), {f"{t}.{key}": texts}))
            continue
        given = np.flatnonzero(a[f"case:{k}"] >= 0)     # the rows of a case (the others: the last text)
        distinct, found = factorize(a[f"value:{k}"][given].tolist())      # None: code -1, the last text
        codes = np.full(n, len(distinct), np.int64)
        codes[given] = np.where(found < 0, len(distinct), found)
        texts = [cell(v) for v in distinct] + [""]
        parts.append((codes, len(texts), {f"{t}.{key}": texts}))
    codes_of = {i: next(r.code for r in plan.family.rules if r.id == fam.rule_ids[i]) for i, *_ in fam.ind}
    parts.append(_bits(a["trig"], f"{t}.triggered", _memo(fam, "triggered", cell, lambda bits: cell(" ".join(
        dict.fromkeys(codes_of[i] for i, _, _, _, b in fam.ind if bits >> b & 1))))))
    parts.append(_bits(a["missing"], f"{t}.missing", _memo(fam, "missing", cell, lambda bits: cell(" ".join(
        g for b, g in enumerate(fam.report_facts) if bits >> b & 1)))))
    return combine(parts, n)


def _amounts(batch: ColumnarBatch, fam, a: dict, cell) -> tuple[np.ndarray, int, dict[str, list[str]]]:
    """Code 0: no amount (not positive, not offered, or no amount family); else 1 + base/bonus pair."""
    t, n = fam.name, batch.n
    names = (f"{t}.amount_yuan", f"{t}.amount_basis")
    if not (fam.plan.family.spec.amount and fam.amounts):
        return np.zeros(n, np.int64), 1, {names[0]: [""], names[1]: [""]}
    k = len(fam.amounts) + 1
    amount, basis = [""], [""]
    for b in range(-1, k - 1):
        for o in range(-1, k - 1):
            value = batch.amount(fam, b, o)
            amount.append("" if value is None else cell(json_value(value, "money")))
            basis.append(batch.amount_basis(fam, b, o) or "")
    pos = (a["cat"] == POS) & ~a["unoffered"]      # not offered: no amount (the outcome says so)
    pair = (a["base"].astype(np.int64) + 1) * k + (a["bonus"].astype(np.int64) + 1) + 1
    return np.where(pos, pair, 0), k * k + 1, {names[0]: amount, names[1]: basis}


_MEMOS: dict = {}


def _memo(fam, column: str, cell, text_of):
    """text_of, remembered across the batches of a run: a family's distinct bit sets recur in every
    batch. Keyed by the compiled family object itself (kept alive and compared by identity)."""
    key = (id(fam), column, cell)
    held = _MEMOS.get(key)
    if held is None or held[0] is not fam:
        if len(_MEMOS) > 64:           # another policy or evaluator: forget the old ones
            _MEMOS.clear()
        held = _MEMOS[key] = (fam, {})
    texts = held[1]

    def remembered(bits: int) -> str:
        text = texts.get(bits)
        if text is None:
            text = texts[bits] = text_of(bits)
        return text
    return remembered


def _bits(bits: np.ndarray, name: str, text_of) -> tuple[np.ndarray, int, dict[str, list[str]]]:
    """Bit sets (most of them 0) as codes: 0 for no bit, then each distinct set in order."""
    codes = np.zeros(len(bits), np.int64)
    nonzero = np.flatnonzero(bits)
    distinct = [0]
    if len(nonzero):
        uniq, inverse = _distinct(bits[nonzero], DENSE_BITS)
        codes[nonzero] = inverse + 1
        distinct += uniq.tolist()
    return codes, len(distinct), {name: [text_of(int(v)) for v in distinct]}


def _distinct(values: np.ndarray, dense: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True): counted in a table, with no sort, when the values are
    non-negative and below `dense` (a family's bit sets of indicators or missing facts; combinations of
    a few codes). np.unique's sort was a third of a batch's rendering (0.39 of 0.95 CPU-s on 1M rows:
    now 0.5)."""
    if not len(values) or values.min() < 0 or values.max() >= dense:
        uniq, inverse = np.unique(values, return_inverse=True)
        return uniq, inverse.reshape(-1)
    top = int(values.max())
    seen = np.zeros(top + 1, dtype=bool)
    seen[values] = True
    uniq = np.flatnonzero(seen)
    renumber = np.zeros(top + 1, np.int32)
    renumber[uniq] = np.arange(len(uniq), dtype=np.int32)
    return uniq.astype(values.dtype), renumber[values]


def combine(parts: list[tuple[np.ndarray, int, dict[str, list[str]]]], n: int) -> Block:
    """One Block from several codings of the same rows: a code per distinct combination of their codes."""
    key = np.zeros(n, np.int64)
    space = 1
    sizes = [max(size, 1) for _, size, _ in parts]
    if np.prod(np.array(sizes, dtype=object)) >= 1 << 62:      # never in practice: pair the parts up
        half = len(parts) // 2
        first, second = combine(parts[:half], n), combine(parts[half:], n)
        return combine([(first.codes, len(next(iter(first.texts.values()))), first.texts),
                        (second.codes, len(next(iter(second.texts.values()))), second.texts)], n)
    for (codes, _, _), size in zip(parts, sizes):
        key = key * size + codes
        space *= size
    uniq, codes = _distinct(key, DENSE)
    digits = []
    rest = uniq.astype(np.int64)
    for size in reversed(sizes):
        rest, d = np.divmod(rest, size)
        digits.append(d.tolist())
    digits.reverse()
    texts: dict[str, list[str]] = {}
    for (_, _, columns), part_digits in zip(parts, digits):
        for name, table in columns.items():
            texts[name] = [table[d] for d in part_digits]
    return Block(codes, texts)
