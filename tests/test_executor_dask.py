"""The Dask executor on a local cluster of two single-threaded worker processes: a partitioned register
(and a single file, shipped in chunks) gives exactly the single-process results."""
from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import ROOT
from tests.test_batch import partition, reference_output

distributed = pytest.importorskip("distributed")

REGISTER = ROOT / "examples" / "register.csv"


@pytest.fixture(scope="module")
def scheduler():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def run(*args):
    return CliRunner().invoke(main, ["check", *map(str, args), "--as-of", "2024-12-31"], catch_exceptions=False)


def test_a_partitioned_register_on_two_dask_workers_equals_one_process(scheduler, tmp_path):
    parts, out = partition(tmp_path / "parts"), tmp_path / "out"
    result = run(parts, "--format", "json", "--schema", "1", "--out", out, "--executor", "dask", "--scheduler", scheduler)
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.json"))
    assert [f.name for f in files] == ["part-000.json", "part-001.json", "part-002.json"]
    joined = [doc for f in files for doc in json.loads(f.read_text(encoding="utf-8"))]
    assert joined == json.loads(reference_output("json", "zh"))


def test_csv_partitions_on_dask_equal_the_single_file_csv(scheduler, tmp_path):
    parts, out = partition(tmp_path / "parts"), tmp_path / "out"
    assert run(parts, "--format", "csv", "--out", out, "--executor", "dask", "--scheduler", scheduler).exit_code == 0
    single = run(REGISTER, "--format", "csv", "--workers", "1").stdout.replace("\r\n", "\n").splitlines()
    rows = []
    for f in sorted(out.glob("*.csv")):
        lines = f.read_text(encoding="utf-8-sig").replace("\r\n", "\n").splitlines()
        assert lines[0] == single[0].lstrip("\ufeff")
        rows += lines[1:]
    assert rows == single[1:]


def test_a_single_file_shipped_in_chunks_to_dask_equals_one_process(scheduler):
    result = run(REGISTER, "--format", "json", "--schema", "1", "--executor", "dask", "--scheduler", scheduler, "--chunk-size", "9")
    assert result.exit_code == 0
    assert result.stdout == reference_output("json", "zh")


def test_the_engines_are_built_in_the_workers_never_shipped(scheduler, tmp_path):
    from engine.batch import tasks as batch
    here = dict(batch._WORKERS)
    parts = partition(tmp_path / "parts", sizes=(10, 10, 10, 10, 10))
    assert run(parts, "--format", "csv", "--out", tmp_path / "out", "--executor", "dask",
               "--scheduler", scheduler).exit_code == 0
    assert batch._WORKERS == here                      # nothing was compiled in this process for the run
    with distributed.Client(scheduler) as client:
        built = client.run(_engines_built)
    assert len(built) == 2 and max(built.values()) == 1, built


def _engines_built():
    from engine.batch import tasks as batch
    return len(batch._WORKERS)


def test_an_unreachable_scheduler_is_one_clear_error():
    import dask
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = CliRunner().invoke(main, ["check", str(REGISTER), "--as-of", "2024-12-31", "--executor", "dask",
                                           "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 1 and "cannot reach the Dask scheduler" in result.output
