"""What `check --engine columnar` loads: a Parquet -> Parquet run of a clean register never renders a
template (messages to the user do, e.g. for rejected rows) nor runs durable_rules, so it must not import
jinja2 or durable_rules (their imports were time the user waited before any worker started). Checked in
a fresh interpreter, by the modules it holds at the end of a real run; the durable engine's run of the
same file is the control that the check can see an import."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")

from tests.test_columnar_arrow import sample  # noqa: E402
from tests.test_columnar_typed_parquet import EXPORT, write_typed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ("jinja2", "durable")

PROGRAM = """
import json, sys
sys.argv = ["scaleup", *sys.argv[1:]]
import cli
try:
    cli.main()
except SystemExit as exc:
    code = exc.code
watched = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
print(json.dumps({"code": code, "loaded": watched}))
""" % (WATCHED,)


def clean_typed_register(path: Path) -> Path:
    """The sample register as a database exports it (typed columns), every row valid."""
    rows = sample()
    header, body = rows[0], [list(r) for r in rows[1:]]
    for r in body:
        for i, h in enumerate(header):
            if h in EXPORT:
                r[i] = EXPORT[h][1](r[i])
    return write_typed(path, header, body)


def loaded_by_check(register: Path, out: Path, *options: str) -> dict:
    args = ["check", str(register), "--as-of", "2024-12-31", "--out", str(out), *options]
    done = subprocess.run([sys.executable, "-c", PROGRAM, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_columnar_parquet_check_imports_neither_jinja2_nor_durable_rules(tmp_path, workers):
    import pyarrow.parquet as pq
    register = clean_typed_register(tmp_path / "typed.parquet")
    out = tmp_path / "decisions.parquet"
    got = loaded_by_check(register, out, "--engine", "columnar", "--format", "parquet", "--workers", workers)
    assert got == {"code": 0, "loaded": []}
    assert pq.read_table(out).num_rows == len(sample()) - 1         # every row decided


def test_the_durable_engine_on_the_same_file_does_import_durable_rules(tmp_path):
    register = clean_typed_register(tmp_path / "typed.parquet")
    got = loaded_by_check(register, tmp_path / "decisions.csv", "--engine", "durable", "--format", "csv",
                          "--workers", "1")
    assert "durable" in got["loaded"]


THREADS = "import os, cli, numpy; print(len(os.listdir('/proc/self/task')))"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts a process's threads in /proc")
def test_the_command_starts_no_blas_threads_unless_the_user_asks_for_them():
    """The command (cli_support.py) tells numpy's OpenBLAS one thread will do (it spun on a core while the run started); a user's
    own OPENBLAS_NUM_THREADS is kept."""
    import os
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}

    def threads(**extra) -> int:
        done = subprocess.run([sys.executable, "-c", THREADS], cwd=ROOT, capture_output=True, text=True,
                              env={**env, **extra}, timeout=120)
        return int(done.stdout.strip())

    assert threads() == 1
    assert threads(OPENBLAS_NUM_THREADS="2") == 2


WORKER_IMPORTS = """
import json, sys
from engine.batch import pool
served, seen = pool._serve, sys.argv[1]
def serve(conn, run):
    before = set(sys.modules)
    try:
        served(conn, run)
    finally:
        with open(seen, "a") as fh:
            fh.write(json.dumps(sorted(set(sys.modules) - before)) + "\\n")
pool._serve = serve
sys.argv = ["scaleup", *sys.argv[2:]]
import cli
cli.main()
"""


def test_the_workers_of_a_columnar_parquet_check_import_nothing_of_their_own(tmp_path):
    """prepare_here imports what the batches use before the workers are forked (each worker importing it
    again was time before its first batch): the workers start with every module they need."""
    register = clean_typed_register(tmp_path / "typed.parquet")
    seen = tmp_path / "imports.jsonl"
    args = ["check", str(register), "--as-of", "2024-12-31", "--out", str(tmp_path / "decisions.parquet"),
            "--engine", "columnar", "--format", "parquet", "--workers", "2", "--chunk-size", "5"]
    done = subprocess.run([sys.executable, "-c", WORKER_IMPORTS, str(seen), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    imported = [json.loads(line) for line in seen.read_text().splitlines()]
    assert len(imported) == 2 and imported == [[], []]
