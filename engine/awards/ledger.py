"""The award ledger: one SQLite file that remembers what was awarded, to whom, on which evidence, and
what became of every instalment. It is the history the rules cannot see in a register snapshot:
whether an enterprise was in scope before (首次), which instalments are still owed, what was paid and
what must be recovered.

Storage rules, each because money must never be paid twice and never be lost:
* one file, WAL journal, foreign keys on, `synchronous=FULL` (a commit that returned is on disk);
* every write happens in one `BEGIN IMMEDIATE` transaction (engine/awards/run.py): a second writer
  waits for the first, a killed writer leaves nothing behind;
* the schema is the program's: MIGRATIONS is an ordered list of SQL steps and `PRAGMA user_version`
  says how many are applied. A ledger written by a newer program is refused, never altered;
* the constraints, not only the code, forbid double payment: one award per enterprise and kind ever
  (UNIQUE (enterprise_id, kind): 首次 is a first entry, so it is paid once), each instalment reaches
  each status at most once (UNIQUE (instalment_id, new_status)), one clawback per award, and triggers
  refuse deletions, edits of recorded amounts and any status change outside
  pending → payable → paid → clawed_back (pending/payable → forfeited);
* money is stored as integer fen (CHECK > 0) and handed to Python as Decimal yuan.

This module owns the SQL (the rows as Python values: engine/awards/ledger_state.py); the decisions
about what to write are in engine/awards/run.py.
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from engine.awards.ledger_state import (AwardRow, EventRow, InstalmentRow, LedgerState, award_basis,  # noqa: F401
                                       from_fen, money_by_status, to_fen)
from engine.awards.sqlite_file import damage_message, integrity_problems, readonly_connections
from engine.errors import EngineError, ScaleupError
from engine.provenance import combined_basis

DEFAULT_LEDGER = "scaleup.db"
APPLICATION_ID = 0x53434C44          # "SCLD": marks a SQLite file as a scaleup ledger
BUSY_TIMEOUT_MS = 60_000
INTEGRITY_MESSAGES = 20              # at most this many problems from PRAGMA quick_check             # a second writer waits this long for the first to finish
STATUSES = ("pending", "payable", "paid", "forfeited", "clawed_back")
CONDITIONS = ("none", "in_scope_at_next_review", "growth_each_year")
BASES = ("source", "decided", "assumed")                # engine/provenance.py
TABLES = ("runs", "enterprises", "scope_events", "audit_records", "awards", "instalments", "payments",
          "status_changes", "growth_checks", "clawbacks", "town_awards")


class LedgerError(ScaleupError):
    """A ledger file that cannot be used: not a ledger, unreadable, locked too long."""


class LedgerDamaged(LedgerError):
    """A ledger file whose pages fail SQLite's own integrity check: nothing is written to it."""


class LedgerVersionError(LedgerError):
    """A ledger written by a newer version of the program (its schema is unknown here)."""


def _no_change(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} rows are never changed once recorded'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} rows are never deleted'); END"]


_STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)
_CONDITION_LIST = ", ".join(f"'{c}'" for c in CONDITIONS)
_BASIS_LIST = ", ".join(f"'{b}'" for b in BASES)

# Version n of the schema is MIGRATIONS[:n]. Append a new step for a change; never edit a released one.
MIGRATIONS: list[list[str]] = [
    [   # 1: runs, scope history, awards, instalments and their history, payments, growth checks, clawbacks
        f"PRAGMA application_id = {APPLICATION_ID}",
        """CREATE TABLE runs (
            run_id INTEGER PRIMARY KEY,
            award_year INTEGER NOT NULL CHECK (award_year BETWEEN 1990 AND 2200),
            as_of TEXT NOT NULL CHECK (as_of GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
            policy_id TEXT NOT NULL,
            policy_document_number TEXT NOT NULL,
            policy_hash TEXT NOT NULL CHECK (length(policy_hash) = 64),
            rules_hash TEXT NOT NULL CHECK (length(rules_hash) = 64),
            register_file TEXT NOT NULL,
            register_sha256 TEXT NOT NULL CHECK (length(register_sha256) = 64),
            engine_version TEXT NOT NULL,
            committed_at TEXT NOT NULL)""",
        """CREATE TABLE enterprises (
            enterprise_id TEXT PRIMARY KEY CHECK (length(enterprise_id) = 18),
            name TEXT NOT NULL,
            town TEXT NOT NULL,
            in_park INTEGER NOT NULL CHECK (in_park IN (0, 1)),
            last_run_id INTEGER NOT NULL REFERENCES runs(run_id))""",
        f"""CREATE TABLE scope_events (
            event_id INTEGER PRIMARY KEY,
            enterprise_id TEXT NOT NULL REFERENCES enterprises(enterprise_id),
            kind TEXT NOT NULL CHECK (kind IN ('entry', 'exit')),
            event_date TEXT NOT NULL CHECK (event_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
            date_basis TEXT NOT NULL CHECK (date_basis IN ('in_scope_since', 'observed')),
            detail TEXT,
            origin TEXT,
            in_park INTEGER CHECK (in_park IN (0, 1)),
            run_id INTEGER NOT NULL REFERENCES runs(run_id),
            UNIQUE (enterprise_id, kind, event_date))""",
        """CREATE TABLE audit_records (
            decision_id TEXT PRIMARY KEY CHECK (length(decision_id) = 64),
            record TEXT NOT NULL)""",
        """CREATE TABLE awards (
            award_id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(run_id),
            enterprise_id TEXT NOT NULL REFERENCES enterprises(enterprise_id),
            kind TEXT NOT NULL CHECK (kind IN ('enterprise', 'town')),
            award_year INTEGER NOT NULL,
            inclusion_month TEXT NOT NULL CHECK (inclusion_month GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'),
            enterprise_name TEXT NOT NULL,
            town TEXT NOT NULL,
            beneficiary TEXT NOT NULL,
            beneficiary_type TEXT NOT NULL CHECK (beneficiary_type IN ('enterprise', 'town', 'development_zone')),
            amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
            rule_id TEXT NOT NULL,
            clause_id TEXT NOT NULL,
            decision_id TEXT NOT NULL UNIQUE REFERENCES audit_records(decision_id),
            clawback_years INTEGER NOT NULL CHECK (clawback_years >= 0),
            terms TEXT NOT NULL,
            UNIQUE (enterprise_id, kind),
            CHECK ((kind = 'enterprise') = (beneficiary_type = 'enterprise')),
            CHECK (award_year = CAST(substr(inclusion_month, 1, 4) AS INTEGER)))""",
        f"""CREATE TABLE instalments (
            instalment_id INTEGER PRIMARY KEY,
            award_id INTEGER NOT NULL REFERENCES awards(award_id),
            seq INTEGER NOT NULL CHECK (seq >= 1),
            kind TEXT NOT NULL CHECK (kind IN ('instalment', 'topup')),
            due_year INTEGER NOT NULL,
            amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
            condition TEXT NOT NULL CHECK (condition IN ({_CONDITION_LIST})),
            growth_rate TEXT,
            growth_years INTEGER,
            status TEXT NOT NULL CHECK (status IN ({_STATUS_LIST})),
            UNIQUE (award_id, seq),
            CHECK ((kind = 'topup') = (condition = 'growth_each_year')),
            CHECK (condition != 'growth_each_year' OR (growth_rate IS NOT NULL AND growth_years >= 1)))""",
        """CREATE TABLE payments (
            payment_id INTEGER PRIMARY KEY,
            paid_on TEXT NOT NULL CHECK (paid_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
            reference TEXT NOT NULL CHECK (length(trim(reference)) > 0),
            recorded_at TEXT NOT NULL)""",
        f"""CREATE TABLE status_changes (
            change_id INTEGER PRIMARY KEY,
            instalment_id INTEGER NOT NULL REFERENCES instalments(instalment_id),
            old_status TEXT CHECK (old_status IS NULL OR old_status IN ({_STATUS_LIST})),
            new_status TEXT NOT NULL CHECK (new_status IN ({_STATUS_LIST})),
            year INTEGER,
            run_id INTEGER REFERENCES runs(run_id),
            payment_id INTEGER REFERENCES payments(payment_id),
            reason TEXT NOT NULL,
            detail TEXT,
            UNIQUE (instalment_id, new_status),
            CHECK ((run_id IS NULL) != (payment_id IS NULL)),
            CHECK (run_id IS NULL OR year IS NOT NULL))""",
        """CREATE TABLE growth_checks (
            award_id INTEGER NOT NULL REFERENCES awards(award_id),
            review_year INTEGER NOT NULL,
            run_id INTEGER NOT NULL REFERENCES runs(run_id),
            revenue_ytd_fen INTEGER NOT NULL,
            revenue_ytd_last_year_fen INTEGER NOT NULL CHECK (revenue_ytd_last_year_fen > 0),
            ytd_through TEXT NOT NULL,
            growth TEXT NOT NULL,
            required TEXT NOT NULL,
            met INTEGER NOT NULL CHECK (met IN (0, 1)),
            PRIMARY KEY (award_id, review_year))""",
        """CREATE TABLE clawbacks (
            clawback_id INTEGER PRIMARY KEY,
            award_id INTEGER NOT NULL UNIQUE REFERENCES awards(award_id),
            run_id INTEGER NOT NULL REFERENCES runs(run_id),
            exit_event_id INTEGER NOT NULL REFERENCES scope_events(event_id),
            review_year INTEGER NOT NULL,
            amount_fen INTEGER NOT NULL CHECK (amount_fen > 0))""",
        "CREATE INDEX awards_by_year ON awards(award_year)",
        "CREATE INDEX status_changes_by_year ON status_changes(year)",
        "CREATE INDEX instalments_by_status ON instalments(status)",
        *[stmt for t in ("runs", "scope_events", "audit_records", "awards", "payments", "status_changes",
                         "growth_checks", "clawbacks") for stmt in _no_change(t)],
        "CREATE TRIGGER enterprises_no_delete BEFORE DELETE ON enterprises "
        "BEGIN SELECT RAISE(ABORT, 'enterprises rows are never deleted'); END",
        "CREATE TRIGGER instalments_no_delete BEFORE DELETE ON instalments "
        "BEGIN SELECT RAISE(ABORT, 'instalments rows are never deleted'); END",
        "CREATE TRIGGER instalments_terms_fixed BEFORE UPDATE OF award_id, seq, kind, due_year, amount_fen, "
        "condition, growth_rate, growth_years ON instalments "
        "BEGIN SELECT RAISE(ABORT, 'the terms of an instalment are fixed when it is recorded'); END",
        """CREATE TRIGGER instalments_status_flow BEFORE UPDATE OF status ON instalments
           WHEN NOT ((OLD.status = 'pending' AND NEW.status IN ('payable', 'forfeited'))
                  OR (OLD.status = 'payable' AND NEW.status IN ('paid', 'forfeited'))
                  OR (OLD.status = 'paid' AND NEW.status = 'clawed_back'))
           BEGIN SELECT RAISE(ABORT, 'instalment status change not allowed'); END""",
    ],
    [   # 2 (#15): the basis of each award's amount, kept as it was when recorded; town awards per net increase
        # Rows recorded before this step keep NULL: their basis is derived from their audit record
        # (engine/awards/ledger_state.py), which holds every parameter's provenance as it was then.
        f"ALTER TABLE awards ADD COLUMN amount_basis TEXT CHECK (amount_basis IS NULL OR amount_basis IN ({_BASIS_LIST}))",
        "ALTER TABLE awards ADD COLUMN amount_reference TEXT",
        "CREATE TRIGGER awards_basis_recorded BEFORE INSERT ON awards WHEN NEW.amount_basis IS NULL "
        "BEGIN SELECT RAISE(ABORT, 'an award is recorded with the basis of its amount'); END",
        f"""CREATE TABLE town_awards (
            town_award_id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(run_id),
            award_year INTEGER NOT NULL CHECK (award_year BETWEEN 1990 AND 2200),
            place TEXT NOT NULL,
            beneficiary_type TEXT NOT NULL CHECK (beneficiary_type IN ('town', 'development_zone')),
            entries INTEGER NOT NULL CHECK (entries >= 0),
            exits INTEGER NOT NULL CHECK (exits >= 0),
            per_enterprise_fen INTEGER NOT NULL CHECK (per_enterprise_fen > 0),
            amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
            amount_basis TEXT NOT NULL CHECK (amount_basis IN ({_BASIS_LIST})),
            amount_reference TEXT,
            counted TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('payable', 'paid')),
            payment_id INTEGER REFERENCES payments(payment_id),
            UNIQUE (place, award_year),
            CHECK (amount_fen = (entries - exits) * per_enterprise_fen),
            CHECK ((status = 'paid') = (payment_id IS NOT NULL)))""",
        "CREATE TRIGGER town_awards_no_delete BEFORE DELETE ON town_awards "
        "BEGIN SELECT RAISE(ABORT, 'town_awards rows are never deleted'); END",
        "CREATE TRIGGER town_awards_fixed BEFORE UPDATE OF town_award_id, run_id, award_year, place, beneficiary_type, "
        "entries, exits, per_enterprise_fen, amount_fen, amount_basis, amount_reference, counted ON town_awards "
        "BEGIN SELECT RAISE(ABORT, 'a town award is fixed when it is recorded'); END",
        """CREATE TRIGGER town_awards_paid_once BEFORE UPDATE OF status, payment_id ON town_awards
           WHEN NOT (OLD.status = 'payable' AND NEW.status = 'paid' AND OLD.payment_id IS NULL
                     AND NEW.payment_id IS NOT NULL)
           BEGIN SELECT RAISE(ABORT, 'a town award is paid once'); END""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


# ------------------------------------------------------------------------------------ opening
class Ledger:
    """An open ledger. `Ledger.open(path)` creates or migrates the file; `Ledger.empty()` is an
    in-memory ledger with the same schema (a dry run against a ledger that does not exist yet)."""

    def __init__(self, conn: sqlite3.Connection, path: Optional[Path]):
        self.conn, self.path = conn, path
        self.file_version: Optional[int] = None     # an older file read through a migrated copy: its version

    @classmethod
    def open(cls, path: Union[str, Path], *, create: bool = True, readonly: bool = False) -> "Ledger":
        """readonly: for reading only (show, export, targets); works on a read-only file or folder and
        never changes the file (no journal mode, no migration)."""
        path = Path(path)
        if readonly:
            return cls._open_readonly(path)
        if not path.exists() and not create:
            raise LedgerError(f"{path}: no ledger here; a committed run (scaleup awards ... --commit) creates it")
        if path.exists() and path.is_dir():
            raise LedgerError(f"{path}: is a folder; expected a ledger file such as {DEFAULT_LEDGER}")
        if not path.parent.is_dir():
            raise LedgerError(f"{path}: the folder {path.parent} does not exist; create it or choose another --ledger")
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise LedgerError(f"{path}: cannot open the ledger ({exc})") from None
        ledger = cls(conn, path)
        try:
            ledger._prepare()
        except BaseException:
            conn.close()
            raise
        return ledger

    @classmethod
    def _open_readonly(cls, path: Path) -> "Ledger":
        if not path.exists():
            raise LedgerError(f"{path}: no ledger here; a committed run (scaleup awards ... --commit) creates it")
        if path.is_dir():
            raise LedgerError(f"{path}: is a folder; expected a ledger file such as {DEFAULT_LEDGER}")
        last: Optional[Exception] = None
        for conn in readonly_connections(path, BUSY_TIMEOUT_MS):
            ledger = cls(conn, path)
            try:
                conn.row_factory = sqlite3.Row
                ledger._check_identity()
                if ledger.user_version() < SCHEMA_VERSION:
                    return cls._read_migrated(conn, path)
                return ledger
            except sqlite3.Error as exc:
                last = exc
                conn.close()
            except BaseException:
                conn.close()
                raise
        raise LedgerError(f"{path}: not a readable ledger ({last or 'it cannot be opened for reading'})")

    @classmethod
    def _read_migrated(cls, conn: sqlite3.Connection, path: Path) -> "Ledger":
        """A ledger of an older schema opened for reading: its content is copied into memory and
        brought to this schema there, so reading works and the file is left as it is (the next write,
        a committed run or payment, migrates the file itself)."""
        memory = sqlite3.connect(":memory:", isolation_level=None)
        try:
            conn.backup(memory)
        finally:
            conn.close()
        memory.row_factory = sqlite3.Row
        ledger = cls(memory, path)
        ledger.file_version = ledger.user_version()
        ledger._migrate()
        return ledger

    @classmethod
    def empty(cls) -> "Ledger":
        ledger = cls(sqlite3.connect(":memory:", isolation_level=None), None)
        ledger._prepare()
        return ledger

    @property
    def name(self) -> str:
        return str(self.path) if self.path else ":memory:"

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _prepare(self) -> None:
        # SQLite answers "database is locked" at once, without waiting out the busy timeout, where
        # waiting could deadlock (switching the journal mode, or upgrading a read to a write while another
        # connection commits): the preparation is then tried again, within the same timeout.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                return self._prepare_once()
            except LedgerError as exc:
                if "database is locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                if self.conn.in_transaction:          # a migration stopped half way is undone, then redone
                    self.conn.execute("ROLLBACK")
                time.sleep(0.05)

    def _prepare_once(self) -> None:
        conn = self.conn
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            self._check_identity()            # before anything changes the file
            if self.path is not None:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc) or "read-only" in str(exc) or "unable to open" in str(exc):
                raise LedgerError(f"{self.name}: the ledger cannot be written here ({exc}): the file or its "
                                  "folder is read-only; nothing was written") from None
            raise LedgerError(f"{self.name}: not a usable ledger ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.name}: not a readable ledger ({exc})") from None

    def _check_identity(self) -> None:
        version = self.user_version()
        app = self.conn.execute("PRAGMA application_id").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerVersionError(
                f"{self.name}: this ledger has schema version {version}, written by a newer scaleup; this "
                f"version knows schema versions up to {SCHEMA_VERSION}. Use the newer scaleup, or a backup "
                f"made before it (nothing was changed).")
        tables = self.conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if app not in (0, APPLICATION_ID) or (app == 0 and tables):
            raise LedgerError(f"{self.name}: a SQLite file that is not a scaleup ledger; choose another --ledger path")

    def user_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        if self.user_version() == SCHEMA_VERSION:
            return
        with self.transaction():
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = self.user_version()
            if version > SCHEMA_VERSION:
                raise LedgerVersionError(f"{self.name}: schema version {version} is newer than this "
                                         f"scaleup knows ({SCHEMA_VERSION})")
            for step in MIGRATIONS[version:]:
                for statement in step:
                    self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock at once (a second writer waits
        here, up to BUSY_TIMEOUT_MS); any exception rolls everything back."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise LedgerError(f"{self.name}: the ledger is read-only here ({exc}); nothing was written") from None
            raise LedgerError(f"{self.name}: the ledger is busy ({exc}); another run is writing, try again") from None
        damage = self.integrity_problems()
        if damage:
            self.conn.execute("ROLLBACK")
            raise LedgerDamaged(damage_message(Path(self.name), damage[0], "nothing was written", APPLICATION_ID))
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:       # a read has nothing to keep (and COMMIT itself can fail on a damaged file)
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")

    # -------------------------------------------------------------------------------- reading
    def load_state(self, year: Optional[int] = None) -> "LedgerState":
        """Everything the planning of a run needs (call inside `snapshot()` or `transaction()`)."""
        return LedgerState.load(self.conn, year)

    def integrity_problems(self) -> list[str]:
        """SQLite's own check of the file's pages (engine/awards/sqlite_file.py). [] when sound."""
        return integrity_problems(self.conn, INTEGRITY_MESSAGES)

    def verify(self) -> list[str]:
        """Consistency beyond what the constraints can state: instalments add up to their award, each
        instalment's status is the last of its recorded changes, clawbacks equal what was clawed back."""
        c = self.conn
        problems = []
        for row in c.execute("""SELECT a.award_id, a.enterprise_id, a.amount_fen,
                                       (SELECT coalesce(sum(i.amount_fen), 0) FROM instalments i
                                         WHERE i.award_id = a.award_id AND i.kind = 'instalment') AS parts
                                  FROM awards a"""):
            if row["parts"] != row["amount_fen"]:
                problems.append(f"award {row['award_id']} ({row['enterprise_id']}): instalments add up to "
                                f"{from_fen(row['parts'])}, the award is {from_fen(row['amount_fen'])}")
        for row in c.execute("""SELECT i.instalment_id, i.status,
                                       (SELECT s.new_status FROM status_changes s WHERE s.instalment_id = i.instalment_id
                                         ORDER BY s.change_id DESC LIMIT 1) AS last
                                  FROM instalments i"""):
            if row["last"] != row["status"]:
                problems.append(f"instalment {row['instalment_id']}: status {row['status']} but its last recorded "
                                f"change is {row['last']}")
        for row in c.execute("""SELECT k.award_id, k.amount_fen,
                                       (SELECT coalesce(sum(i.amount_fen), 0) FROM instalments i
                                         WHERE i.award_id = k.award_id AND i.status = 'clawed_back') AS back
                                  FROM clawbacks k"""):
            if row["back"] != row["amount_fen"]:
                problems.append(f"clawback of award {row['award_id']}: {from_fen(row['amount_fen'])} recorded, "
                                f"{from_fen(row['back'])} in clawed-back instalments")
        problems += [f"foreign key: {tuple(r)}" for r in c.execute("PRAGMA foreign_key_check")]
        return problems

    def summary(self) -> dict:
        """Runs and money by status, for `scaleup ledger show`. A damaged file (SQLite's integrity check
        fails) is said so in `problems` with `damaged` set, and whatever can still be read is shown."""
        damage = self.integrity_problems()
        if len(damage) > 3:
            damage = damage[:3] + [f"… {len(damage) - 3} more (PRAGMA integrity_check)"]
        try:
            return {**self._summary(damage), "damaged": bool(damage)}
        except sqlite3.DatabaseError as exc:
            return {"ledger": self.name, "schema_version": self.user_version(), "runs": [],
                    "instalments": money_by_status(STATUSES, ()),
                    "clawbacks": {"count": 0, "fen": 0, "yuan": "0.00"}, "scope_events": {},
                    "town_awards": money_by_status(("payable", "paid"), ()),
                    "basis_derived": 0,
                    "problems": (damage or [f"damaged file: {exc}"])[:INTEGRITY_MESSAGES], "damaged": True}

    def _summary(self, damage: list[str]) -> dict:
        c = self.conn
        runs = [dict(r) for r in c.execute(
            """SELECT r.*, (SELECT count(*) FROM awards a WHERE a.run_id = r.run_id)
                          + (SELECT count(*) FROM town_awards t WHERE t.run_id = r.run_id) AS awards,
                      (SELECT coalesce(sum(a.amount_fen), 0) FROM awards a WHERE a.run_id = r.run_id)
                          + (SELECT coalesce(sum(t.amount_fen), 0) FROM town_awards t WHERE t.run_id = r.run_id)
                          AS award_fen
                 FROM runs r ORDER BY r.run_id""")]
        # The basis of every amount (engine/provenance.py): as recorded, or derived from the award's
        # audit record for awards recorded before the ledger kept it (basis_derived counts those).
        bases, run_bases, derived = {}, [], 0
        for r in c.execute("SELECT award_id, run_id, decision_id, amount_basis, amount_reference FROM awards"):
            basis, _, was_derived = award_basis(c, r)
            bases[r["award_id"]] = basis
            run_bases.append((r["run_id"], basis))
            derived += was_derived
        town = money_by_status(("payable", "paid"), c.execute("SELECT status, amount_fen, amount_basis FROM town_awards"))
        run_bases += [(r[0], r[1]) for r in c.execute("SELECT run_id, amount_basis FROM town_awards")]
        for r in runs:
            r["award_yuan"] = str(from_fen(r["award_fen"]))
            r["amount_basis"] = combined_basis(b for run_id, b in run_bases if run_id == r["run_id"])
        by_status = money_by_status(STATUSES, ((r["status"], r["amount_fen"], bases[r["award_id"]])
                                                for r in c.execute("SELECT award_id, status, amount_fen FROM instalments")))
        clawed = c.execute("SELECT count(*), coalesce(sum(amount_fen), 0) FROM clawbacks").fetchone()
        events = c.execute("SELECT kind, count(*) FROM scope_events GROUP BY kind").fetchall()
        return {"ledger": self.name, "schema_version": self.file_version or self.user_version(), "runs": runs,
                "instalments": by_status, "town_awards": town, "basis_derived": derived,
                "clawbacks": {"count": clawed[0], "fen": clawed[1], "yuan": str(from_fen(clawed[1]))},
                "scope_events": {k: n for k, n in events}, "problems": damage or self.verify()}

    def scope_events(self) -> list[dict]:
        """The scope history (入统/退规) in date order, with the enterprise's latest name and town."""
        return [dict(r) for r in self.conn.execute(
            """SELECT e.event_id, e.enterprise_id, n.name, n.town, e.kind, e.event_date, e.date_basis, e.detail,
                      e.origin, coalesce(e.in_park, n.in_park) AS in_park, e.run_id
                 FROM scope_events e JOIN enterprises n USING (enterprise_id)
                ORDER BY e.event_date, e.event_id""")]

    def payable(self, year: Optional[int] = None, enterprise_ids: tuple[str, ...] = ()) -> list[dict]:
        """Instalments due for payment, then town awards per net increase (award_kind town_net; not
        an enterprise's, so left out when enterprises are named), each with the basis of its amount."""
        sql = """SELECT i.*, a.enterprise_id, a.enterprise_name, a.kind AS award_kind, a.award_year,
                        a.beneficiary, a.beneficiary_type, a.town, a.amount_basis, a.amount_reference, a.decision_id,
                        NULL AS town_award_id
                   FROM instalments i JOIN awards a USING (award_id) WHERE i.status = 'payable'"""
        args: list[Any] = []
        if year is not None:
            sql += " AND i.due_year = ?"
            args.append(year)
        if enterprise_ids:
            sql += f" AND a.enterprise_id IN ({', '.join('?' * len(enterprise_ids))})"
            args += list(enterprise_ids)
        rows = []
        for r in self.conn.execute(sql + " ORDER BY a.award_year, a.enterprise_id, a.kind, i.seq", args):
            basis, reference, derived = award_basis(self.conn, r)
            rows.append({**dict(r), "amount_basis": basis, "amount_reference": reference, "basis_derived": derived})
        if enterprise_ids:
            return rows
        town = "SELECT * FROM town_awards WHERE status = 'payable'" + (" AND award_year = ?" if year is not None else "")
        for r in self.conn.execute(town + " ORDER BY award_year, town_award_id", [] if year is None else [year]):
            rows.append({"instalment_id": None, "town_award_id": r["town_award_id"], "enterprise_id": "",
                         "enterprise_name": r["place"], "award_kind": "town_net", "award_year": r["award_year"],
                         "beneficiary": r["place"], "beneficiary_type": r["beneficiary_type"], "town": r["place"],
                         "seq": 1, "kind": "instalment", "due_year": r["award_year"], "amount_fen": r["amount_fen"],
                         "net_increase": r["entries"] - r["exits"], "amount_basis": r["amount_basis"],
                         "amount_reference": r["amount_reference"], "basis_derived": False})
        return rows

    # -------------------------------------------------------------------------------- writing
    def insert(self, table: str, row: dict) -> int:
        if table not in TABLES:
            raise EngineError(f"unknown ledger table {table}")
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cur = self.conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))
        return int(cur.lastrowid)

    def upsert_enterprise(self, enterprise_id: str, name: str, town: str, in_park: bool, run_id: int) -> None:
        self.conn.execute(
            """INSERT INTO enterprises (enterprise_id, name, town, in_park, last_run_id) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (enterprise_id) DO UPDATE SET name = excluded.name, town = excluded.town,
                                                        in_park = excluded.in_park, last_run_id = excluded.last_run_id""",
            (enterprise_id, name, town, int(in_park), run_id))

    def pay_town_award(self, town_award_id: int, payment_id: int) -> None:
        """A town award per net increase paid whole (the table's trigger allows payable → paid once)."""
        cur = self.conn.execute("UPDATE town_awards SET status = 'paid', payment_id = ? "
                                "WHERE town_award_id = ? AND status = 'payable'", (payment_id, town_award_id))
        if cur.rowcount != 1:
            raise EngineError(f"town award {town_award_id} is no longer payable; the plan is stale")

    def set_status(self, instalment_id: int, old: str, new: str, *, reason: str, year: Optional[int] = None,
                   run_id: Optional[int] = None, payment_id: Optional[int] = None,
                   detail: Optional[dict] = None) -> None:
        """Move one instalment from `old` to `new` and record the change. The WHERE on the old status
        makes a stale plan fail loudly instead of overwriting a change made by someone else."""
        cur = self.conn.execute("UPDATE instalments SET status = ? WHERE instalment_id = ? AND status = ?",
                                (new, instalment_id, old))
        if cur.rowcount != 1:
            raise EngineError(f"instalment {instalment_id} is no longer {old}; the plan is stale")
        self.insert("status_changes", {"instalment_id": instalment_id, "old_status": old, "new_status": new,
                                       "year": year, "run_id": run_id, "payment_id": payment_id, "reason": reason,
                                       "detail": None if detail is None else json.dumps(detail, ensure_ascii=False,
                                                                                       sort_keys=True)})

    # -------------------------------------------------------------------------------- export
    def backup_to(self, target: Path) -> None:
        """A consistent copy made with SQLite's online backup API (safe while others read or write),
        written under a temporary name and renamed when complete."""
        from engine.fileguard import atomic_path
        if target.exists() or target.is_symlink():
            raise LedgerError(f"{target}: already exists; choose a new file or folder for the backup")
        with atomic_path(target) as tmp:
            dest = sqlite3.connect(str(tmp))
            try:
                self.conn.backup(dest)
            except sqlite3.Error as exc:
                raise LedgerError(f"{self.name}: the backup failed ({exc})") from None
            finally:
                dest.close()
