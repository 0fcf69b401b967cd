"""The enterprise-register input pipeline (docs/decisions.md#input-contract): an officer's .csv/.xlsx/.json
file to typed `Enterprise` facts. Every non-blank data row ends up accepted or rejected with all its
problems; a file that cannot be read at all raises InputFileError with one message.

reading.py (file -> rows) -> columns.py (header -> column ids, from the policy's facts schema)
-> validate.py (row -> Enterprise or problems, using normalise.py and towns.py). streaming.py reads a
file in chunks; there is one reader: the whole-file read is the concatenation of the streamed chunks.
"""
from __future__ import annotations

from datetime import date
from typing import Optional

from engine.fileguard import atomic_path
from engine.policy import Policy
from engine.register.model import InputProblem, RegisterRead, RejectedRow
from engine.register.streaming import iter_register, scan_register
from engine.tabular import write_csv

__all__ = ["InputProblem", "RejectedRow", "RegisterRead", "read_register", "write_rejected", "iter_register",
           "scan_register"]

WHOLE_FILE_CHUNK = 1 << 30   # rows per chunk when the caller wants the whole file at once


def read_register(path, *, as_of: date, policy: Policy, sheet: Optional[str] = None) -> RegisterRead:
    """The whole register at once: the streamed chunks, concatenated. The policy gives the towns
    (its jurisdiction) and the columns (its rules folder's facts schema)."""
    chunks = list(iter_register(path, as_of=as_of, policy=policy, sheet=sheet,
                                chunk_size=WHOLE_FILE_CHUNK))
    first = chunks[0]
    return RegisterRead(first.path, first.headers,
                        [row for chunk in chunks for row in chunk.accepted],
                        [row for chunk in chunks for row in chunk.rejected],
                        [problem for chunk in chunks for problem in chunk.warnings])


def write_rejected(read: RegisterRead, path) -> None:
    """The rejected rows as a CSV the officer can fix and read again: the original columns plus "error"."""
    error_header = "error"
    while error_header in read.headers:
        error_header = f"scaleup {error_header}"
    rows = [[r.original.get(h, "") for h in read.headers]
            + ["; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in r.problems)]
            for r in read.rejected]
    with atomic_path(path) as tmp:
        write_csv(tmp, [*read.headers, error_header], rows)
