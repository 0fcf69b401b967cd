"""Outputs never destroy inputs (issue #21, findings 1, 6 and 7): an output that is the command's own input
(however spelt: the same path, absolute, through a symlink, a hard link) is refused before anything is
read; special files and symlinks are never replaced; a missing or read-only folder is one line, no
traceback; an output appears whole or not at all."""
from __future__ import annotations

import os
import shutil
import stat

import pytest
from click.testing import CliRunner

from cli import main
from engine.errors import OutputFileError
from engine.fileguard import OutputGuard, atomic_folder, atomic_path
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = ["--as-of", "2024-12-31"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def register(tmp_path):
    path = tmp_path / "r.csv"
    shutil.copy(REGISTER, path)
    return path


def refused(result, path, original: bytes):
    """The command said so on one line, with exit 1, and the input is byte for byte what it was."""
    assert result.exit_code == 1, result.output
    assert "is an input of this command" in result.output and "Traceback" not in result.output
    assert path.read_bytes() == original


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_check_out_naming_its_own_input_is_refused(register, fmt):
    before = register.read_bytes()
    refused(run("check", register, *AS_OF, "--format", fmt, "--out", register), register, before)
    refused(run("check", register, *AS_OF, "--out", register.resolve()), register, before)


def test_check_out_through_a_symlink_or_a_hard_link_is_refused(register, tmp_path):
    before = register.read_bytes()
    (tmp_path / "link.csv").symlink_to(register)
    os.link(register, tmp_path / "hard.csv")
    refused(run("check", register, *AS_OF, "--format", "csv", "--out", tmp_path / "hard.csv"), register, before)
    refused(run("check", tmp_path / "link.csv", *AS_OF, "--format", "csv", "--out", register), register, before)


def test_errors_file_naming_the_input_is_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    shutil.copy(ROOT / "examples" / "register_with_errors.csv", bad)
    before = bad.read_bytes()
    refused(run("check", bad, *AS_OF, "--errors", bad), bad, before)
    refused(run("awards", bad, "--year", 2024, "--ledger", tmp_path / "l.db", "--errors", bad), bad, before)


def test_awards_report_review_refuse_their_input_as_output(register, tmp_path):
    before = register.read_bytes()
    refused(run("awards", register, "--year", 2024, "--ledger", tmp_path / "l.db", "--format", "csv",
                "--out", register), register, before)
    refused(run("report", register, *AS_OF, "--out", register), register, before)
    refused(run("review", "915001017P5X326G0R", register, *AS_OF, "--out", register), register, before)


def test_awards_output_naming_the_ledger_is_refused(register, tmp_path):
    ledger = tmp_path / "awards.db"
    assert run("awards", register, "--year", 2024, "--ledger", ledger, "--commit").exit_code == 0
    before = ledger.read_bytes()
    refused(run("awards", register, "--year", 2024, "--ledger", ledger, "--format", "csv", "--out", ledger),
            ledger, before)
    result = run("ledger", "export", "--ledger", ledger, "--out", ledger)
    assert result.exit_code == 1 and "Traceback" not in result.output and ledger.read_bytes() == before


def test_an_output_inside_the_policy_or_rules_data_is_refused(register):
    params = ROOT / "policies" / "wanzhou-2022-80" / "parameters.yaml"
    before = params.read_bytes()
    for target in (params, ROOT / "rules" / "new.csv"):
        result = run("check", register, *AS_OF, "--format", "csv", "--out", target)
        assert result.exit_code == 1 and "the program's own policy and rule data" in result.output
    assert params.read_bytes() == before and not (ROOT / "rules" / "new.csv").exists()


def test_the_same_file_for_two_outputs_is_refused(register, tmp_path):
    result = run("check", register, *AS_OF, "--out", tmp_path / "o.csv", "--errors", tmp_path / "o.csv")
    assert result.exit_code == 1 and "two outputs" in result.output


def test_a_symlink_as_output_is_refused_and_its_target_kept(register, tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("keep me")
    (tmp_path / "out.csv").symlink_to(target)
    result = run("check", register, *AS_OF, "--format", "csv", "--out", tmp_path / "out.csv")
    assert result.exit_code == 1 and "symbolic link" in result.output
    assert (tmp_path / "out.csv").is_symlink() and target.read_text() == "keep me"


def test_a_fifo_as_output_is_refused_and_stays_a_fifo(register, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = run("check", register, *AS_OF, "--format", "csv", "--out", fifo)
    assert result.exit_code == 1 and "not a regular file" in result.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_dev_full_is_refused_not_replaced(register):
    result = run("check", register, *AS_OF, "--format", "csv", "--out", "/dev/full")
    assert result.exit_code == 1 and "not a regular file" in result.output
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_missing_output_folder_is_one_line(register, tmp_path):
    for args in (["check", register, *AS_OF, "--out", tmp_path / "no" / "o.csv"],
                 ["check", register, *AS_OF, "--errors", tmp_path / "no" / "e.csv"],
                 ["report", register, *AS_OF, "--out", tmp_path / "no" / "r.html"]):
        result = run(*args)
        assert result.exit_code == 1 and "does not exist" in result.output, result.output
        assert "Traceback" not in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder_is_one_line(register, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = run("check", register, *AS_OF, "--out", folder / "o.csv")
        assert result.exit_code == 1 and "not writable" in result.output
    finally:
        folder.chmod(0o755)


def test_a_write_refused_by_the_system_is_one_line(register, tmp_path, monkeypatch):
    """What a read-only folder does to a root user's run too: the temporary file cannot be made."""
    import tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    result = run("check", register, *AS_OF, "--format", "csv", "--out", tmp_path / "o.csv")
    assert result.exit_code == 1 and "Permission denied" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o.csv").exists()


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    out = tmp_path / "o.csv"
    out.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(out) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["o.csv"]


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    out = tmp_path / "o.csv"
    out.write_text("old")
    out.chmod(0o640)
    with atomic_path(out) as tmp:
        tmp.write_text("new")
    assert out.read_text() == "new" and stat.S_IMODE(os.stat(out).st_mode) == 0o640


def test_guard_refuses_before_reading(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("x")
    with pytest.raises(OutputFileError, match="is an input"):
        OutputGuard([source], [tmp_path / "." / "in.csv"])
    OutputGuard([source], [tmp_path / "other.csv", None])


def test_an_export_folder_appears_whole_or_not_at_all(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_folder(tmp_path / "export") as building:
            (building / "a.csv").write_text("a")
            raise RuntimeError("crash mid-export")
    assert list(tmp_path.iterdir()) == []
    with atomic_folder(tmp_path / "export") as building:
        (building / "a.csv").write_text("a")
    assert [p.name for p in tmp_path.iterdir()] == ["export"]


def test_partitioned_check_refuses_the_input_folder_as_output(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    shutil.copy(REGISTER, parts / "a.csv")
    before = (parts / "a.csv").read_bytes()
    result = run("check", parts, *AS_OF, "--format", "csv", "--out", parts, "--workers", 1)
    assert result.exit_code == 1 and "input" in result.output and (parts / "a.csv").read_bytes() == before


def test_audit_out_below_a_file_is_one_line(register, tmp_path):
    (tmp_path / "file").write_text("x")
    result = run("audit", register, *AS_OF, "--out", tmp_path / "file" / "records")
    assert result.exit_code == 1 and "cannot create the folder" in result.output
