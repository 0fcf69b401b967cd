"""Every row's enterprise-id hash with its row number, to find — once the register has been read — the
rows whose hash repeats (the duplicate candidates, confirmed on the exact ids by the reader).

Memory stays flat however long the register is: pairs are held in memory up to `spill_rows`, then
appended to BUCKETS files in a temporary folder by the hash's top bits; at the end each bucket is sorted
and searched on its own (a bucket holds a 64th of the rows). A register below `spill_rows` never
touches the disk. The folder is removed by `close()` (and, failing that, when the log is collected).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

NO_ID = 0                  # hash slot of a row without an enterprise id: never a duplicate
BUCKET_BITS = 6
BUCKETS = 1 << BUCKET_BITS
# 4 MiB of pairs, sorted into their buckets 65,536 at a time (the sort's arrays: ~4.5 MiB). With 16 MiB
# held and 262,144 a piece, the log took 15 MiB of the parent's memory on a 1M-row register and 32 MiB
# (held pairs and a spill's arrays at once) on 10M, a growth of the run's peak; now 8 MiB at either
# size (tracemalloc), for ~0.04 CPU-s more per 1M rows (more, smaller appends to the bucket files).
SPILL_ROWS = 1 << 18
SPILL_PIECE = 1 << 16


class IdLog:
    def __init__(self, spill_rows: Optional[int] = None):
        self.spill_rows = spill_rows or SPILL_ROWS
        self.hashes: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.held = 0
        self.folder: Optional[tempfile.TemporaryDirectory] = None

    def add(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        """One batch: int64 id hashes and the row numbers they come from."""
        self.hashes.append(np.asarray(hashes, dtype=np.int64))
        self.rows.append(np.asarray(rows, dtype=np.int64))
        self.held += len(hashes)
        if self.held >= self.spill_rows:
            self._spill()

    def repeated_rows(self) -> list[int]:
        """The row numbers, in order, of every row whose hash another row shares."""
        out: list[int] = []
        for hashes, rows in self._groups():
            # The hashes alone are sorted (no permutation to carry: a register without duplicates, the
            # common case, costs one sort; this runs after the last batch, while the user waits); the
            # rows of a repeated hash are then picked out of the group.
            ordered = np.sort(hashes)
            same = (ordered[1:] == ordered[:-1]) & (ordered[1:] != NO_ID)
            if same.any():
                out += rows[np.isin(hashes, ordered[1:][same])].tolist()
        return sorted(out)

    def close(self) -> None:
        self.hashes, self.rows, self.held = [], [], 0
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None

    def _groups(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.folder is None:
            if self.hashes:
                yield np.concatenate(self.hashes), np.concatenate(self.rows)
            return
        self._spill()
        for b in range(BUCKETS):
            path = self._bucket(b)
            if path.exists():
                pairs = np.fromfile(path, dtype=np.int64).reshape(-1, 2)
                yield pairs[:, 0].copy(), pairs[:, 1].copy()

    def _spill(self) -> None:
        """The held pairs appended to their buckets' files, about SPILL_PIECE pairs at a time: sorted all
        at once, a million pairs took some 72 MiB of arrays for a moment (the parent's peak on a
        10M-row register)."""
        if not self.hashes:
            return
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory(prefix="scaleup-ids-")
        held = list(zip(self.hashes, self.rows))
        self.hashes, self.rows, self.held = [], [], 0
        while held:
            take, count = 1, len(held[0][0])
            while take < len(held) and count + len(held[take][0]) <= SPILL_PIECE:
                count += len(held[take][0])
                take += 1
            piece, held = held[:take], held[take:]
            self._append(np.concatenate([h for h, _ in piece]), np.concatenate([r for _, r in piece]))

    def _append(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        # A bucket number is one byte: numpy's stable sort of bytes is a radix sort (of int64, a merge
        # sort); each pair is written as it lies in one int64 array (no stacked copy).
        bucket = (hashes.view(np.uint64) >> np.uint64(64 - BUCKET_BITS)).astype(np.uint8)
        order = np.argsort(bucket, kind="stable")
        bounds = np.searchsorted(bucket[order], np.arange(BUCKETS + 1)).tolist()
        pairs = np.empty((len(order), 2), dtype=np.int64)
        np.take(hashes, order, out=pairs[:, 0])
        np.take(rows, order, out=pairs[:, 1])
        for b in range(BUCKETS):
            if bounds[b] < bounds[b + 1]:
                with open(self._bucket(b), "ab") as fh:
                    fh.write(pairs[bounds[b]:bounds[b + 1]])

    def _bucket(self, b: int) -> Path:
        assert self.folder is not None
        return Path(self.folder.name) / f"{b:02d}.bin"
