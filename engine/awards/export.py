"""`scaleup ledger export`: a consistent backup of the award ledger and its tables and audit records,
as a folder that appears complete or not at all (engine/fileguard.atomic_folder), never a copy of a
damaged file."""
from __future__ import annotations

import json
from pathlib import Path

from engine.awards.ledger import APPLICATION_ID, TABLES, Ledger, LedgerDamaged, LedgerError, from_fen
from engine.awards.sqlite_file import damage_message
from engine.errors import EngineError

__all__ = ["export_ledger"]


def export_ledger(path: Path, out: Path) -> list[Path]:
    """`scaleup ledger export`: OUT ending in .db/.sqlite is a single backup file; otherwise OUT is a
    folder receiving ledger.db (the backup), one CSV per table and audit/ (each award's audit record
    as a JSON file that `scaleup verify` reads), all read from the backup so they agree."""
    from engine.fileguard import atomic_folder, same_file
    if same_file(out, path):
        raise LedgerError(f"{out}: is the ledger itself; choose a new file or folder for the backup")
    with Ledger.open(path, readonly=True) as ledger:
        damage = ledger.integrity_problems()
        if damage:
            raise LedgerDamaged(damage_message(Path(path), damage[0], "an export would copy the damage",
                                               APPLICATION_ID))
        if out.suffix.lower() in (".db", ".sqlite", ".sqlite3"):
            ledger.backup_to(out)
            return [out]
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise LedgerError(f"{out}: exists and is not an empty folder; choose a new folder for the export")
        with atomic_folder(out) as building:       # the folder appears complete, or not at all
            ledger.backup_to(building / "ledger.db")
            with Ledger.open(building / "ledger.db", create=False) as copy:
                problems = copy.verify()
                if problems:
                    raise EngineError(f"{path}: the ledger fails its consistency check: {problems[0]}")
                names = [Path("ledger.db"), *(p.relative_to(building) for p in tables_csv(copy, building, zone_of(copy))),
                         *(p.relative_to(building) for p in audit_files(copy, building / "audit"))]
    return [out / name for name in names]


def zone_of(ledger: Ledger) -> str:
    """The district's time zone, from the policy of the ledger's first run (UTC for an empty ledger)."""
    from engine.localtime import zone_of_policy
    first = ledger.conn.execute("SELECT policy_id FROM runs ORDER BY run_id LIMIT 1").fetchone()
    return zone_of_policy(first[0] if first else None)


def audit_files(ledger: Ledger, folder: Path) -> list[Path]:
    """Each award's audit record as <enterprise_id>-<type>-<as_of>.json (engine/awards/audit.py)."""
    from engine.awards.audit import write_record
    rows = ledger.conn.execute("SELECT record FROM audit_records ORDER BY rowid").fetchall()
    return [write_record(json.loads(r["record"]), folder) for r in rows]


def tables_csv(ledger: Ledger, folder: Path, zone_name: str = "UTC") -> list[Path]:
    """One CSV per table (UTF-8 with BOM, cells neutralised like every CSV the tool writes). People read
    these files: money in 元 (*_yuan; the ledger keeps integer fen, as the backup beside them does), and
    each time stamp (*_at, UTC) has its local time beside it (*_at_local, in zone_name)."""
    from engine.localtime import local_time
    from engine.tabular import write_csv
    out = []
    for table in TABLES:
        cur = ledger.conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        names = [d[0] for d in cur.description]
        fen = [n.endswith("_fen") for n in names]
        headers = [n[:-4] + "_yuan" if is_fen else n for n, is_fen in zip(names, fen)]
        rows = [[from_fen(v) if is_fen and v is not None else v for v, is_fen in zip(r, fen)] for r in cur.fetchall()]
        stamps = [i for i, n in enumerate(names) if n.endswith("_at")]
        for i in reversed(stamps):
            headers.insert(i + 1, names[i] + "_local")
            for row in rows:
                row.insert(i + 1, local_time(row[i], zone_name))
        path = folder / f"{table}.csv"
        write_csv(path, headers, rows)
        out.append(path)
    return out
