"""The ledger checks itself (issue #21, findings 5 and 6, Build 4 and 7): a damaged file is noticed by
`ledger show` and refuses every write, naming the backup to restore from; its constraints hold when the
application is bypassed; a run killed at any statement of its commit leaves no trace; a read-only ledger
can still be shown and exported; a payment dated before the award year is refused."""
from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cli import main
from engine.awards.ledger import Ledger, LedgerDamaged
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"
HOOK = ROOT / "tests" / "faults" / "sqlite_hook.py"
from tests.faults.sqlite_hook import COUNT_MARK  # noqa: E402
TABLES = ("runs", "awards", "instalments", "scope_events", "audit_records", "status_changes")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    path = tmp_path_factory.mktemp("ledger") / "awards.db"
    assert run("awards", REGISTER, "--year", 2024, "--ledger", path, "--commit").exit_code == 0
    return path


@pytest.fixture
def ledger(committed, tmp_path):
    path = tmp_path / "awards.db"
    shutil.copy(committed, path)
    return path


def counts(path) -> dict:
    conn = sqlite3.connect(str(path))
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def damage(path, seed: int = 1) -> None:
    """8 KB of random bytes in the middle of the file, as a failing disk or a bad copy leaves it."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8192] = random.Random(seed).randbytes(8192)
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- a damaged file
def test_show_reports_a_damaged_ledger_instead_of_passing(ledger):
    damage(ledger)
    result = run("ledger", "show", "--ledger", ledger)
    assert "一致性检查：通过" not in result.output
    assert "一致性检查：发现问题：damaged file" in result.output and result.exit_code == 1


def test_a_damaged_ledger_refuses_payments_and_runs_and_names_the_backup(ledger):
    damage(ledger)
    before = ledger.read_bytes()
    pay = run("ledger", "pay", "--ledger", ledger, "--paid-on", "2025-03-01", "--reference", "X", "--commit")
    assert pay.exit_code == 1 and "damaged" in pay.output and "scaleup ledger export" in pay.output
    again = run("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--commit")
    assert again.exit_code == 1 and "nothing was written" in again.output and "Traceback" not in again.output
    assert ledger.read_bytes() == before


def test_the_refusal_names_the_newest_backup_beside_the_ledger(ledger, tmp_path):
    assert run("ledger", "export", "--ledger", ledger, "--out", tmp_path / "awards-2025-01-05.db").exit_code == 0
    assert run("ledger", "export", "--ledger", ledger, "--out", tmp_path / "export-2025-02").exit_code == 0
    os.utime(tmp_path / "awards-2025-01-05.db", (1, 1))          # the folder's ledger.db is the newer one
    (tmp_path / "notes.db").write_bytes(b"not a ledger")
    damage(ledger)
    pay = run("ledger", "pay", "--ledger", ledger, "--paid-on", "2025-03-01", "--reference", "X", "--commit")
    assert pay.exit_code == 1
    assert f"Restore the latest backup, {tmp_path / 'export-2025-02' / 'ledger.db'}" in pay.output


def test_a_damaged_ledger_is_not_exported_and_leaves_no_folder(ledger, tmp_path):
    damage(ledger)
    result = run("ledger", "export", "--ledger", ledger, "--out", tmp_path / "backup")
    assert result.exit_code == 1 and "damaged" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "backup").exists()


def test_integrity_problems_are_empty_for_a_sound_ledger_and_raise_on_write_when_damaged(ledger):
    with Ledger.open(ledger, create=False) as opened:
        assert opened.integrity_problems() == []
    damage(ledger)
    with Ledger.open(ledger, create=False) as opened:
        with pytest.raises(LedgerDamaged):
            with opened.transaction():
                pass


# ---------------------------------------------------------------- constraints, application bypassed
def test_the_database_refuses_a_second_enterprise_award_of_the_same_kind(ledger):
    conn = sqlite3.connect(str(ledger))
    conn.execute("PRAGMA foreign_keys = ON")
    award = conn.execute("SELECT * FROM awards WHERE kind = 'enterprise' LIMIT 1").fetchone()
    cols = [d[0] for d in conn.execute("SELECT * FROM awards LIMIT 0").description]
    row = dict(zip(cols, award))
    row.pop("award_id")
    # A second, otherwise valid award for the same enterprise and kind, under a new audit record.
    row["decision_id"] = "f" * 64
    conn.execute("INSERT INTO audit_records (decision_id, record) VALUES (?, '{}')", (row["decision_id"],))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed: awards.enterprise_id, awards.kind"):
        conn.execute(f"INSERT INTO awards ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     list(row.values()))
    conn.close()


def test_the_database_refuses_a_second_status_for_one_instalment(ledger):
    conn = sqlite3.connect(str(ledger))
    first = conn.execute("SELECT instalment_id, new_status, run_id, year FROM status_changes LIMIT 1").fetchone()
    with pytest.raises(sqlite3.IntegrityError,
                       match="UNIQUE constraint failed: status_changes.instalment_id, status_changes.new_status"):
        conn.execute("INSERT INTO status_changes (instalment_id, old_status, new_status, year, run_id, reason) "
                     "VALUES (?, NULL, ?, ?, ?, 'again')", (first[0], first[1], first[3], first[2]))
    conn.close()


# ---------------------------------------------------------------- killed at any statement of the commit
def hooked(*args, cwd):
    return subprocess.run([sys.executable, str(HOOK), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_a_run_killed_at_random_statements_of_its_commit_leaves_nothing_or_everything(tmp_path):
    ledger = tmp_path / "awards.db"
    run_args = ("awards", REGISTER, "--year", 2024, "--ledger", ledger, "--commit")
    probe = tmp_path / "probe.db"
    with Ledger.open(probe):
        pass
    counted = hooked("count", "-", *run_args[:-2], probe, "--commit", cwd=tmp_path)
    total = int(counted.stderr.split(COUNT_MARK)[1].split()[0])     # BEGIN IMMEDIATE ... COMMIT
    assert total > 20, counted.stderr
    with Ledger.open(ledger):
        pass
    empty = counts(ledger)
    points = sorted(random.Random(21).sample(range(2, total), 3)) + [1, total]   # total: the COMMIT itself
    for n in points:
        proc = hooked("kill", n, *run_args, cwd=tmp_path)
        assert proc.returncode == -9, f"statement {n} of {total}: {proc.stderr}"
        assert counts(ledger) == empty, f"killed at statement {n} of {total}: a half run is visible"
        with Ledger.open(ledger, create=False) as opened:
            assert opened.integrity_problems() == [] and opened.verify() == []
    result = run(*run_args)
    assert result.exit_code == 0 and counts(ledger)["awards"] == 12 and counts(ledger)["runs"] == 1


# ---------------------------------------------------------------- read-only, payments
def test_show_and_export_open_the_ledger_without_changing_it(ledger, tmp_path):
    for suffix in ("-wal", "-shm"):
        assert not ledger.with_name(ledger.name + suffix).exists()
    with Ledger.open(ledger, readonly=True) as opened:
        with pytest.raises(Exception):
            opened.conn.execute("DELETE FROM payments")
    assert run("ledger", "show", "--ledger", ledger).exit_code == 0
    assert run("ledger", "export", "--ledger", ledger, "--out", tmp_path / "b.db").exit_code == 0
    assert counts(tmp_path / "b.db") == counts(ledger)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_ledger_in_a_read_only_folder_is_shown_exported_and_refuses_writes_in_one_line(ledger, tmp_path):
    folder = ledger.parent
    out = tmp_path.parent / (tmp_path.name + "-export")
    folder.chmod(0o555)
    try:
        assert run("ledger", "show", "--ledger", ledger).exit_code == 0
        assert run("ledger", "export", "--ledger", ledger, "--out", out).exit_code == 0
        pay = run("ledger", "pay", "--ledger", ledger, "--paid-on", "2025-03-01", "--reference", "X", "--commit")
        assert pay.exit_code == 1 and "read-only" in pay.output
    finally:
        folder.chmod(0o755)
        shutil.rmtree(out, ignore_errors=True)


def test_a_payment_dated_before_the_award_year_is_refused(ledger):
    before = counts(ledger)
    result = run("ledger", "pay", "--ledger", ledger, "--paid-on", "2001-01-01", "--reference", "X", "--commit")
    assert result.exit_code == 1 and "before the award year 2024" in result.output
    assert counts(ledger) == before
    ok = run("ledger", "pay", "--ledger", ledger, "--paid-on", "2025-03-01", "--reference", "X", "--commit")
    assert ok.exit_code == 0 and counts(ledger)["status_changes"] > before["status_changes"]
