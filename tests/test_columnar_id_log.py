"""The id log (engine/columnar/id_log.py) finds the same duplicate candidates whether it holds every
row in memory or spills them to its bucket files — so a register of any length is checked in flat memory."""
from __future__ import annotations

import os

import numpy as np
from hypothesis import given, strategies as st

from engine.columnar import id_log
from engine.columnar.id_log import NO_ID, IdLog


def brute_force(hashes: list[int], rows: list[int]) -> list[int]:
    return sorted(r for h, r in zip(hashes, rows) if h != NO_ID and hashes.count(h) > 1)


# Few distinct hashes, both signs (the bucket is taken from the top bits), NO_ID among them.
HASHES = st.sampled_from([NO_ID, 1, -1, 2**62, -(2**63), 2**63 - 1, 12345, -98765])


@given(st.lists(st.lists(HASHES, min_size=1, max_size=9), min_size=1, max_size=8), st.integers(1, 12),
       st.integers(1, 20))
def test_spilled_and_held_logs_name_the_same_rows(batches, spill_rows, piece):
    """`piece`: a spill sorts that many pairs into their buckets at a time (SPILL_PIECE)."""
    saved, id_log.SPILL_PIECE = id_log.SPILL_PIECE, piece
    try:
        _spilled_and_held(batches, spill_rows)
    finally:
        id_log.SPILL_PIECE = saved


def _spilled_and_held(batches, spill_rows):
    held, spilled = IdLog(spill_rows=1 << 30), IdLog(spill_rows=spill_rows)
    all_hashes, all_rows, row = [], [], 2
    for batch in batches:
        rows = list(range(row, row + len(batch)))
        row += len(batch) + 1                         # row numbers need not be contiguous
        for log in (held, spilled):
            log.add(np.array(batch, dtype=np.int64), np.array(rows, dtype=np.int64))
        all_hashes += batch
        all_rows += rows
    expected = brute_force(all_hashes, all_rows)
    assert held.repeated_rows() == expected
    assert spilled.repeated_rows() == expected
    folder = spilled.folder.name if spilled.folder else None
    spilled.close()
    held.close()
    assert folder is None or not os.path.exists(folder)    # the temporary files are gone


def test_the_log_holds_the_same_few_mib_for_a_short_register_and_a_long_one():
    """The parent notes every row's id hash; what the log holds while a register is read (its pairs, and
    a spill's arrays) is the same for 300k rows as for 3M: it does not grow with the register."""
    import tracemalloc
    rng = np.random.default_rng(7)
    peaks = []
    for total in (300_000, 3_000_000):
        log = IdLog()
        tracemalloc.start()
        try:
            for start in range(0, total, 30_000):
                hashes = rng.integers(-(2**63), 2**63 - 1, 30_000, dtype=np.int64)
                log.add(hashes, np.arange(start, start + 30_000, dtype=np.int64))
                del hashes
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
            log.close()
    # It holds ~8 MiB at either size (before: 4.8 MiB at 300k, 30.7 at 3M); tracemalloc also counts the
    # allocations of the test runner's threads, hence the margins.
    assert max(peaks) < 16 * 2**20, f"the log held {max(peaks) / 2**20:.1f} MiB"
    assert peaks[1] < 2 * peaks[0], f"{peaks[0] / 2**20:.1f} MiB at 300k rows, {peaks[1] / 2**20:.1f} at 3M"
