"""The SQLite file under the award ledger: opening it for reading only, and SQLite's own integrity check.

Reading only (`ledger show`, `ledger export`, dry runs) must work on a ledger in a read-only folder and
must never change the file: a WAL ledger needs its -shm file, which a read-only folder cannot hold, so
there the file is read as immutable (nothing else can be writing to it there either).
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Iterator, Optional

__all__ = ["readonly_connections", "integrity_problems", "damage_message", "latest_backup"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_APPLICATION_ID_AT = 68        # the header's application_id field (4 bytes, big-endian)


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


def damage_message(path: Path, first_problem: str, consequence: str, application_id: int) -> str:
    """What a damaged ledger says: the check's first finding, what was not done, and the backup to
    restore (the newest one found beside the ledger, when there is one)."""
    backup = latest_backup(path, application_id)
    restore = (f"Restore the latest backup, {backup} (made by `scaleup ledger export`), in place of {path.name}"
               if backup else f"Restore the latest backup made by `scaleup ledger export` (its ledger.db, or the "
                              f".db file it wrote) in place of {path.name}")
    return (f"{path}: the ledger file is damaged (SQLite integrity check: {first_problem[:160]}); {consequence}. "
            f"{restore}, then run again")


def latest_backup(path: Path, application_id: int) -> Optional[Path]:
    """The newest ledger backup beside `path`: a sound-looking SQLite file marked as a scaleup ledger, either
    a *.db file or the ledger.db of an export folder. Only file headers are read."""
    folder = path.resolve().parent
    candidates = []
    try:
        for entry in folder.iterdir():
            found = entry / "ledger.db" if entry.is_dir() else entry
            if found.resolve() != path.resolve() and found.suffix in (".db", ".sqlite", ".sqlite3") \
                    and _is_ledger_file(found, application_id):
                candidates.append((found.stat().st_mtime, found))
    except OSError:
        return None
    return max(candidates)[1] if candidates else None


def _is_ledger_file(path: Path, application_id: int) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except OSError:
        return False
    return (len(head) == 100 and head.startswith(_SQLITE_MAGIC)
            and int.from_bytes(head[_APPLICATION_ID_AT:_APPLICATION_ID_AT + 4], "big") == application_id)
