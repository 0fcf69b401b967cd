"""Long runs show progress on stderr, as `check` does, only when stderr is a terminal: report,
awards, audit, diff and sweep."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = ["--as-of", "2024-12-31"]


def commands(tmp):
    return {
        "report": ["report", str(REGISTER), *AS_OF, "--out", str(tmp / "r.html")],
        "awards": ["awards", str(REGISTER), "--year", "2024", "--ledger", str(tmp / "a.db")],
        "audit": ["audit", str(REGISTER), *AS_OF, "--out", str(tmp / "audit")],
        "diff": ["diff", str(REGISTER), *AS_OF, "--set", "enterprise_award_industrial=15万"],
        "sweep": ["sweep", str(REGISTER), *AS_OF, "--param", "scale_threshold", "--from", "1500万", "--to", "2500万"],
    }


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    for name, args in commands(tmp_path).items():
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, (name, result.output)
        assert "rows/s" not in result.output and "values/s" not in result.output, name


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("name, lang, unit", [("awards", "zh", "行"), ("diff", "en", "rows"), ("sweep", "en", "values")])
def test_progress_on_a_terminal(tmp_path, name, lang, unit):
    master, slave = os.openpty()
    try:
        proc = subprocess.run([sys.executable, "-c", "from cli import main; main()", *commands(tmp_path)[name], "--lang", lang],
                              stdout=subprocess.DEVNULL, stderr=slave, cwd=ROOT, timeout=300)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0
    text = seen.decode("utf-8", "replace")
    total = 100 if name == "diff" else (50 if name == "awards" else 5)
    assert f"{total}/{total} {unit} 100%" in text, text[-300:]
