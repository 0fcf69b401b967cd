"""Duplicated enterprise ids among the rows of one or more ColumnReaders (one register file, or the
partitions of a Parquet dataset read as one register: engine/columnar/partitions.py).

Each reader notes a 64-bit hash of every row's enterprise id with its row number in an IdLog (id_log.py,
flat memory; the partitions of a dataset share one, each row tagged with its reader). Hashes that repeat are
confirmed on the exact ids — the rejected rows' from validate_row, the others read again from their file
(only then) — and every row holding a duplicated id is rejected, as engine/register rejects it: in one
file "also appears in row 12"; across partitions, as the row path's partitioned run words it, "also
appears in row 12, parts/b.parquet row 3". Rows of those ids already handed on as accepted are named in
their reader's `duplicate_ids` (the caller drops them from what it wrote).
"""
from __future__ import annotations

from engine.columnar.id_log import IdLog
from engine.register import InputProblem
from engine.register.validate import validate_row

READER_BITS = 40                         # an IdLog shared by readers: (reader index << 40) + row number


def share_id_log(readers: list) -> None:
    """Let these readers (a dataset's partitions, opened in order) note their ids in one IdLog, each row
    tagged with its reader, so that an id repeated in another partition is found."""
    shared = IdLog()
    for k, reader in enumerate(readers):
        reader.ids, reader.id_tag = shared, k << READER_BITS


def mark_duplicates(readers: list) -> None:
    """Reject every row whose enterprise id another row of these readers holds (one reader, or readers
    sharing one IdLog). Consumes the log."""
    logs = list({id(r.ids): r.ids for r in readers}.values())
    if len(logs) != 1:
        raise ValueError("the readers do not share one id log (duplicates.share_id_log)")
    try:
        keys = logs[0].repeated_rows()
    finally:
        logs[0].close()
    rows: dict[int, list[int]] = {}
    for key in keys:                              # readers in order, rows in file order
        rows.setdefault(key >> READER_BITS, []).append(key & ((1 << READER_BITS) - 1))
    by_id: dict[str, list[tuple[int, int, list]]] = {}
    for k, found in sorted(rows.items()):
        for r, eid, cells in _exact_ids(readers[k], found):
            by_id.setdefault(eid, []).append((k, r, cells))
    for eid, where in by_id.items():
        if len(where) > 1:                        # else two ids that share a hash
            _reject(readers, eid, where)


def _exact_ids(reader, rows: list[int]):
    """(row, enterprise id, cells read again or None) of these rows of one reader that have an id."""
    exact: dict[int, str] = {r: reader.rejected[r][2] for r in rows if r in reader.rejected}
    again = {r: cells for r, cells in reader.source.rows(set(rows) - set(exact), reader.ncols, reader.header_row)}
    w0 = reader.width0
    for r, cells in again.items():
        outcome = validate_row(list(cells[:w0]) + [None] * (w0 - len(cells)), reader.header, as_of=reader.as_of,
                               towns=reader.towns)
        exact[r] = outcome.enterprise_id
    return [(r, exact[r], again.get(r)) for r in rows if exact.get(r)]


def _reject(readers: list, eid: str, where: list) -> None:
    for k, r, cells in where:
        reader = readers[k]
        if r not in reader.rejected:
            reader.rejected[r] = (cells, [], eid)
            reader.duplicate_ids.add(eid)
            reader.dropped += 1
        same = [n for j, n, _ in where if j == k and n != r]
        places = ([f"row {', '.join(map(str, same))}"] if same else []) + \
            [f"{readers[j].name} row {n}" for j, n, _ in where if j != k]
        reader.rejected[r][1].append(InputProblem(reader.name, r, reader.fields["enterprise_id"].label,
                                                  f'"{eid}" also appears in {", ".join(places)}; each '
                                                  "enterprise must appear once"))
