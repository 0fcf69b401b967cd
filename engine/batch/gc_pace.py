"""The garbage collector paced for a batch run.

A batch run allocates a few dozen containers (dicts, lists, tuples) per row and frees nearly all of
them by reference counting; what is left is long-lived (the compiled policy, the memoised texts). With
CPython's default threshold (a young-generation collection every 700 net allocations) the collector
scanned those young objects about 19 times per thousand rows, for almost nothing: measured with
gc.callbacks on 50k register rows (1 worker, durable summary path), 0.56–0.60 CPU-s in the collector
for CSV and for NDJSON alike, about 3.5% of the run; at 10,000 it is 0.09–0.10 s. A larger threshold
saved little more CPU and cost memory: at 50,000 the two workers of a 300k-row NDJSON run peaked at
190 MiB each instead of 133 (the tree 504 MiB instead of 394; at 10,000, 406). Reference cycles are
still collected, only later. Worker processes forked inside the block inherit the pacing; the previous
thresholds come back when the block ends, so a long-lived process (the web app, a test session) is
left as it was.
"""
from __future__ import annotations

import atexit
import gc
from contextlib import contextmanager
from typing import Iterator

YOUNG = 10_000          # net container allocations between young-generation collections
OLDER = (10, 10)        # as many young collections per middle one, middle ones per full one


@contextmanager
def paced_collections() -> Iterator[None]:
    global _SETTLED
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    if before[0] == 0:                # collection turned off by the caller: leave it off
        yield
        return
    gc.set_threshold(max(before[0], YOUNG), *OLDER)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if _SETTLED:                  # what chunk_settled froze in this process comes back
            _SETTLED = False
            # gc.unfreeze gives back every frozen object, not only the run's: where objects were frozen
            # before the run (by the caller, or by the interpreter itself: Python 3.12.1 starts with 375),
            # what the run froze stays frozen, as in a worker, and the caller's objects stay as they were.
            if frozen_before == 0:
                gc.unfreeze()


_SETTLED = False


def chunk_settled() -> None:
    """After a chunk of an explanation run (--explain, --detail full): its cyclic garbage collected, then
    every object still alive moved out of the collector's reach. What is alive then is long-lived: the
    findings and texts the explain path remembers across rows (engine/evaluate.explain_family,
    engine/render.py), a few hundred thousand objects that each later collection scanned again although
    they are freed by reference counting when those memories start afresh (they hold no cycles). The
    collection before freezing scans only what the chunk left (earlier chunks' objects are frozen), so
    no cycle is frozen. Measured on 10k rows (--explain, 1 worker, gc.callbacks): the collector took
    3.5 of 20 CPU-s before; frozen after each chunk, 19.2 -> 16.3 CPU-s (the same code in turn). In a
    worker the objects stay frozen until it ends; in the calling process (1 worker) paced_collections
    gives them back when the run ends."""
    global _SETTLED
    if gc.isenabled():
        gc.collect()
        gc.freeze()
        _SETTLED = True


def no_collection_at_exit() -> None:
    """When the command's process ends, the objects still alive are frozen (gc.freeze) after every exit
    handler has run, so the interpreter's finalisation frees them by reference counting without its
    full collections over all of them (the modules, the policy, pyarrow's and numpy's objects: some
    60,000). perf showed those collections as most of the time between the command's return and the
    process's end; measured on a 1-row typed Parquet check (--workers 2, 6 runs each, alternated):
    0.61 -> 0.50 s wall, 0.57 -> 0.48 CPU-s. An exit handler: the other exit handlers (temporary folders,
    multiprocessing, logging) run as before, and finalisation after all of them. What it gives up is
    collecting reference cycles at exit, memory the process gives back as it ends anyway: the files the
    commands write are closed (`with` blocks) before they return."""
    global _EXIT_FREEZE
    if not _EXIT_FREEZE:
        _EXIT_FREEZE = True
        atexit.register(gc.freeze)


_EXIT_FREEZE = False
