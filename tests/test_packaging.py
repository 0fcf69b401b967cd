"""The package ships its policies and rules: a non-editable install of the project, run from another
folder, finds the bundled policy and its rules (not the source checkout's)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.packaging   # builds the project (~15 s); `make test` runs it


def test_an_installed_copy_checks_the_example_register_from_another_folder(tmp_path):
    target, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            "--no-deps", "--target", str(target), str(ROOT)],
                           capture_output=True, text=True, cwd=tmp_path)
    assert build.returncode == 0, build.stderr[-2000:]
    assert (target / "scaleup_data" / "rules" / "families.yaml").is_file()
    assert (target / "scaleup_data" / "policies" / "wanzhou-2022-80" / "policy.yaml").is_file()
    for shipped in ("templates/base.html.j2", "templates/_words_zh.j2", "static/style.css", "static/app.js"):
        assert (target / "web" / shipped).is_file(), shipped       # `scaleup serve` from an installed copy
    script = ("import sys, engine; print(engine.__file__); from cli import main; "
              "main(['check', sys.argv[1], '--as-of', '2024-12-31'])")
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", script, str(ROOT / "examples" / "register.csv")],
                         capture_output=True, text=True, cwd=elsewhere, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert lines[0].startswith(str(target))            # the installed engine, not the checkout's
    summary = next(line for line in lines if line.startswith("共 50 户企业"))
    assert "企业奖励 6 户" in summary
    assert lines[-1].startswith("※ 假定值")          # the awards shown rest on assumed amounts
