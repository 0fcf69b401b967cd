"""The SQLite file under the award ledger: opening it for reading only, and SQLite's own integrity check.

Reading only (`ledger show`, `ledger export`, dry runs) must work on a ledger in a read-only folder and
must never change the file: a WAL ledger needs its -shm file, which a read-only folder cannot hold, so
there the file is read as immutable (nothing else can be writing to it there either).
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Iterator

__all__ = ["readonly_connections", "integrity_problems"]


def readonly_connections(path: Path, busy_timeout_ms: int) -> Iterator[sqlite3.Connection]:
    """Read-only connections to try in turn: mode=ro, then (in a read-only folder) immutable."""
    uri = path.resolve().as_uri()
    modes = ["mode=ro"] + ([] if os.access(path.parent, os.W_OK) else ["mode=ro&immutable=1"])
    for mode in modes:
        try:
            conn = sqlite3.connect(f"{uri}?{mode}", uri=True, isolation_level=None, timeout=busy_timeout_ms / 1000)
            conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        except sqlite3.Error:
            continue
        yield conn


def integrity_problems(conn: sqlite3.Connection, most: int) -> list[str]:
    """PRAGMA quick_check (the pages and their b-trees; integrity_check's extra index cross-checks add
    little for a ledger this small), one line per problem, at most `most`. [] when the file is sound."""
    try:
        rows = [r[0] for r in conn.execute(f"PRAGMA quick_check({int(most)})")]
    except sqlite3.DatabaseError as exc:
        return [f"damaged file: {exc}"]
    if rows == ["ok"]:
        return []
    lines = [" ".join(line.split()) for row in rows for line in str(row).splitlines()]
    return [f"damaged file: {line}" for line in lines if line and not line.startswith("***")]
