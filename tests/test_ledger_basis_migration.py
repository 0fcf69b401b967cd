"""A ledger written before it kept the basis of amounts (schema 1): reading commands show it without
changing the file, the basis of its awards derived from their audit records and said to be derived;
the next committed run migrates the file and records the basis of new awards as they are."""
from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from cli import main
from engine.awards.ledger import SCHEMA_VERSION
from tests.test_award_run import firm, run_year


def cli(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def as_schema_1(path) -> None:
    """Take the file back to schema 1: no basis columns, no town_awards table."""
    conn = sqlite3.connect(str(path))
    try:
        for sql in ("DROP TRIGGER awards_basis_recorded", "DROP TABLE town_awards",
                    "ALTER TABLE awards DROP COLUMN amount_reference", "ALTER TABLE awards DROP COLUMN amount_basis",
                    "PRAGMA user_version = 1"):
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


def version(path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_an_older_ledger_is_read_as_it_is_and_its_basis_derived_from_the_audit_records(tmp_path):
    ledger = tmp_path / "old.db"
    run_year(ledger, 2024, [firm("旧账A", in_scope_since="2024-03")])
    as_schema_1(ledger)
    before = ledger.read_bytes()
    shown = cli("ledger", "show", "--ledger", ledger)
    assert "结构版本 1" in shown and "2 项奖励入账时台账尚未记录金额依据，其依据由各自的审计记录推得" in shown
    assert "应付 2 笔 120,000.00元（其中假定值 120,000.00元）" in shown
    pay = cli("ledger", "pay", "--ledger", ledger, "--paid-on", "2025-01-10", "--reference", "财拨1号")
    assert "100,000.00元（假定值）（由审计记录推得）" in pay
    assert ledger.read_bytes() == before and version(ledger) == 1        # reading changed nothing
    # A committed run migrates the file; the old award keeps its derived basis, a new one is recorded.
    run_year(ledger, 2024, [firm("旧账A", in_scope_since="2024-03"), firm("旧账B", in_scope_since="2024-06")])
    assert version(ledger) == SCHEMA_VERSION
    conn = sqlite3.connect(str(ledger))
    try:
        rows = conn.execute("SELECT enterprise_name, kind, amount_basis FROM awards ORDER BY award_id").fetchall()
    finally:
        conn.close()
    assert rows == [("测试企业旧账A", "enterprise", None), ("测试企业旧账A", "town", None),
                    ("测试企业旧账B", "enterprise", "assumed"), ("测试企业旧账B", "town", "assumed")]
    shown = cli("ledger", "show", "--ledger", ledger)
    assert f"结构版本 {SCHEMA_VERSION}" in shown and "2 项奖励入账时台账尚未记录金额依据" in shown
