"""The ledger file itself (engine/ledger.py): schema made and migrated by the program, a newer schema
refused, constraints and triggers that forbid double payment and lost money, backup and export. Real
SQLite files in a temp folder."""
from __future__ import annotations

import csv
import sqlite3

import pytest
from click.testing import CliRunner

from cli import main
from engine.awards import ledger as ledger_module
from engine.awards.ledger import SCHEMA_VERSION, TABLES, Ledger, LedgerError, LedgerVersionError, from_fen, to_fen
from tests.test_award_run import REGISTER, count, firm, rows, run_year


def test_a_new_ledger_is_versioned_wal_with_foreign_keys(tmp_path):
    path = tmp_path / "new.db"
    with Ledger.open(path) as ledger:
        c = ledger.conn
        assert ledger.user_version() == SCHEMA_VERSION
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert c.execute("PRAGMA application_id").fetchone()[0] == ledger_module.APPLICATION_ID
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert set(TABLES) <= names
    with Ledger.open(path) as again:              # opening again applies nothing twice
        assert again.user_version() == SCHEMA_VERSION


def test_a_ledger_from_a_newer_program_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "newer.db"
    with Ledger.open(path):
        pass
    raw = sqlite3.connect(str(path))
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    before = path.read_bytes()
    with pytest.raises(LedgerVersionError) as info:
        Ledger.open(path)
    message = str(info.value)
    assert f"schema version {SCHEMA_VERSION + 1}" in message and f"up to {SCHEMA_VERSION}" in message
    assert "nothing was changed" in message
    assert path.read_bytes() == before


def test_the_cli_refuses_a_newer_ledger_in_one_line(tmp_path):
    path = tmp_path / "newer.db"
    with Ledger.open(path):
        pass
    raw = sqlite3.connect(str(path))
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    result = CliRunner().invoke(main, ["awards", str(REGISTER), "--year", "2024", "--ledger", str(path), "--commit"])
    assert result.exit_code == 1
    assert f"error: {path}: this ledger has schema version 99, written by a newer scaleup; this version knows " \
           f"schema versions up to {SCHEMA_VERSION}." in result.output
    assert "Traceback" not in result.output


def test_files_that_are_not_ledgers_are_refused(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(str(other))
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(LedgerError, match="not a scaleup ledger"):
        Ledger.open(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(LedgerError, match="not a readable ledger"):
        Ledger.open(junk)
    with pytest.raises(LedgerError, match="no ledger here"):
        Ledger.open(tmp_path / "missing.db", create=False)
    with pytest.raises(LedgerError, match="does not exist"):
        Ledger.open(tmp_path / "no-such-folder" / "a.db")
    with pytest.raises(LedgerError, match="is a folder"):
        Ledger.open(tmp_path)


def test_a_new_migration_step_is_applied_once_to_an_older_ledger(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    with Ledger.open(path):
        pass
    step = ["ALTER TABLE runs ADD COLUMN note TEXT"]
    monkeypatch.setattr(ledger_module, "MIGRATIONS", [*ledger_module.MIGRATIONS, step])
    monkeypatch.setattr(ledger_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Ledger.open(path) as ledger:
        assert ledger.user_version() == SCHEMA_VERSION + 1
        assert "note" in [r[1] for r in ledger.conn.execute("PRAGMA table_info(runs)")]
    with Ledger.open(path) as ledger:              # not applied a second time
        assert ledger.user_version() == SCHEMA_VERSION + 1


# ---------------------------------------------------------------- constraints and triggers
@pytest.fixture
def committed(tmp_path):
    path = tmp_path / "awards.db"
    run_year(path, 2024, [firm("甲", in_scope_since="2024-03"), firm("乙", in_scope_since="2024-05")])
    return path


def test_recorded_rows_cannot_be_deleted_or_edited(committed):
    conn = sqlite3.connect(str(committed))
    for sql in ("DELETE FROM awards", "DELETE FROM instalments", "DELETE FROM runs", "DELETE FROM status_changes",
                "DELETE FROM audit_records", "DELETE FROM scope_events", "DELETE FROM enterprises",
                "UPDATE awards SET amount_fen = 1", "UPDATE instalments SET amount_fen = 1",
                "UPDATE runs SET as_of = '2024-06-30'", "UPDATE audit_records SET record = '{}'"):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(sql)
    conn.close()
    assert count(committed, "awards") == 4


def test_an_instalment_moves_only_forward_and_reaches_each_status_once(committed):
    conn = sqlite3.connect(str(committed))
    conn.execute("PRAGMA foreign_keys = ON")
    (iid,) = conn.execute("SELECT instalment_id FROM instalments WHERE status = 'payable' LIMIT 1").fetchone()
    for bad in ("pending", "clawed_back"):
        with pytest.raises(sqlite3.IntegrityError, match="not allowed"):
            conn.execute("UPDATE instalments SET status = ? WHERE instalment_id = ?", (bad, iid))
    conn.execute("INSERT INTO payments (paid_on, reference, recorded_at) VALUES ('2025-01-10', 'v1', 'x')")
    conn.execute("UPDATE instalments SET status = 'paid' WHERE instalment_id = ?", (iid,))
    conn.execute("INSERT INTO status_changes (instalment_id, old_status, new_status, payment_id, reason) "
                 "VALUES (?, 'payable', 'paid', 1, 'paid')", (iid,))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):      # paid a second time: refused
        conn.execute("INSERT INTO status_changes (instalment_id, old_status, new_status, payment_id, reason) "
                     "VALUES (?, 'payable', 'paid', 1, 'paid')", (iid,))
    with pytest.raises(sqlite3.IntegrityError, match="not allowed"):
        conn.execute("UPDATE instalments SET status = 'payable' WHERE instalment_id = ?", (iid,))
    conn.close()


def test_money_is_whole_positive_fen(committed):
    conn = sqlite3.connect(str(committed))
    (award_id,) = conn.execute("SELECT award_id FROM awards LIMIT 1").fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO instalments (award_id, seq, kind, due_year, amount_fen, condition, status) "
                     "VALUES (?, 9, 'instalment', 2025, 0, 'none', 'pending')", (award_id,))
    conn.close()
    assert to_fen(from_fen(12345)) == 12345
    from decimal import Decimal
    from engine.errors import EngineError
    with pytest.raises(EngineError):
        to_fen(Decimal("0.001"))


def test_the_consistency_check_catches_instalments_that_do_not_add_up(committed):
    with Ledger.open(committed) as ledger:
        assert ledger.verify() == []
        ledger.conn.execute("DROP TRIGGER instalments_terms_fixed")     # what only a hand edit could do
        ledger.conn.execute("UPDATE instalments SET amount_fen = amount_fen - 1 WHERE seq = 1")
        problems = ledger.verify()
    assert problems and "instalments add up to" in problems[0]


def test_foreign_keys_are_enforced(committed):
    with Ledger.open(committed) as ledger:
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            with ledger.transaction():
                ledger.insert("instalments", {"award_id": 999, "seq": 1, "kind": "instalment", "due_year": 2025,
                                              "amount_fen": 100, "condition": "none", "status": "payable"})


# ---------------------------------------------------------------- backup and export
def test_export_writes_a_consistent_backup_and_one_csv_per_table(committed, tmp_path):
    out = tmp_path / "export"
    result = CliRunner().invoke(main, ["ledger", "export", "--ledger", str(committed), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(["ledger.db", "audit", *[f"{t}.csv" for t in TABLES]])
    # Each award's audit record, as a file `scaleup verify` checks: all four verify ok.
    assert len(list((out / "audit").glob("*.json"))) == 4
    verified = CliRunner().invoke(main, ["verify", str(out / "audit"), "--format", "json"])
    assert verified.exit_code == 0, verified.output
    with Ledger.open(out / "ledger.db", create=False) as copy:
        assert copy.verify() == []
        assert copy.conn.execute("SELECT count(*) FROM awards").fetchone()[0] == 4
    with open(out / "awards.csv", encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 4 and {r["amount_yuan"] for r in table} == {"100000.00", "20000.00"}
    again = CliRunner().invoke(main, ["ledger", "export", "--ledger", str(committed), "--out", str(out)])
    assert again.exit_code == 1 and "not an empty folder" in again.output


def test_export_to_a_single_backup_file(committed, tmp_path):
    target = tmp_path / "backup.db"
    result = CliRunner().invoke(main, ["ledger", "export", "--ledger", str(committed), "--out", str(target)])
    assert result.exit_code == 0
    assert rows(target, "SELECT count(*) FROM runs") == [(1,)]
    refused = CliRunner().invoke(main, ["ledger", "export", "--ledger", str(committed), "--out", str(target)])
    assert refused.exit_code == 1 and "already exists" in refused.output


def test_show_summarises_runs_money_and_consistency(committed):
    result = CliRunner().invoke(main, ["ledger", "show", "--ledger", str(committed)])
    assert result.exit_code == 0
    assert f"结构版本 {SCHEMA_VERSION}" in result.output and "应付 4 笔 240,000.00元" in result.output
    assert "入统记录 2 条" in result.output and "一致性检查：通过" in result.output
    en = CliRunner().invoke(main, ["ledger", "show", "--ledger", str(committed), "--lang", "en"])
    assert "payable 4 (240,000.00 yuan, of which assumed 240,000.00 yuan)" in en.output and "Consistency check: passed" in en.output


def test_show_on_a_missing_ledger_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["ledger", "show", "--ledger", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "no ledger here" in result.output
