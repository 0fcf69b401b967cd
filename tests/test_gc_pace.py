"""A batch run paces the garbage collector (engine/batch/gc_pace.py) and gives the caller's pacing back."""
import gc

from click.testing import CliRunner

from cli import main
from engine.batch import gc_pace
from tests.conftest import ROOT


def test_a_check_run_collects_less_often_and_restores_the_callers_thresholds(monkeypatch):
    from engine.commands import check as check_command
    seen = []
    real = check_command.durable_in_batches

    def watching(*args):        # called inside every check run: the thresholds the run works under
        seen.append(gc.get_threshold())
        return real(*args)

    monkeypatch.setattr(check_command, "durable_in_batches", watching)
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        result = CliRunner().invoke(main, ["check", str(ROOT / "examples" / "register.csv"), "--as-of", "2024-12-31",
                                           "--format", "csv"])
        assert result.exit_code == 0, result.output
        assert seen == [(gc_pace.YOUNG, *gc_pace.OLDER)]
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_a_collector_turned_off_by_the_caller_stays_off():
    before = gc.get_threshold()
    try:
        gc.set_threshold(0)
        with gc_pace.paced_collections():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_an_error_in_the_run_still_restores_the_thresholds():
    before = gc.get_threshold()
    try:
        gc.set_threshold(900, 11, 12)
        try:
            with gc_pace.paced_collections():
                raise RuntimeError("a failing run")
        except RuntimeError:
            pass
        assert gc.get_threshold() == (900, 11, 12)
    finally:
        gc.set_threshold(*before)


def test_an_explanation_run_freezes_what_each_chunk_leaves_and_gives_it_back_at_the_end(monkeypatch):
    """In the calling process (1 worker) the remembered findings and texts are out of the collector's
    reach while the run goes on, and the process's collector is not left frozen after it."""
    from engine.batch import tasks
    frozen_after_chunk = []
    real = tasks.chunk_settled

    def watching():
        real()
        frozen_after_chunk.append(gc.get_freeze_count())

    monkeypatch.setattr(tasks, "chunk_settled", watching)
    gc.unfreeze()           # a process with nothing frozen (Python 3.12.1 starts with some objects frozen)
    before = gc.get_freeze_count()
    result = CliRunner().invoke(main, ["check", str(ROOT / "examples" / "register.csv"), "--as-of", "2024-12-31",
                                       "--format", "ndjson", "--explain", "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert frozen_after_chunk and all(n > before for n in frozen_after_chunk)
    assert gc.get_freeze_count() == before
    # A summary run has nothing long-lived to settle.
    frozen_after_chunk.clear()
    result = CliRunner().invoke(main, ["check", str(ROOT / "examples" / "register.csv"), "--as-of", "2024-12-31",
                                       "--format", "csv", "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert frozen_after_chunk == []


def test_objects_frozen_before_an_explanation_run_stay_frozen_after_it():
    """gc.unfreeze gives back every frozen object: where the caller (or the interpreter) had frozen some,
    the run must not give them back to the collector."""
    gc.freeze()
    before = gc.get_freeze_count()
    try:
        result = CliRunner().invoke(main, ["check", str(ROOT / "examples" / "register.csv"), "--as-of", "2024-12-31",
                                           "--format", "ndjson", "--explain", "--workers", "1", "--no-progress"])
        assert result.exit_code == 0, result.output
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()


# Registered before cli is imported, so it runs after the command's exit handler: how many it froze.
AT_EXIT = """
import atexit, gc, sys
atexit.register(lambda: sys.stderr.write(f"frozen at exit: {gc.get_freeze_count()}\\n"))
import cli
sys.argv = ["scaleup", *sys.argv[1:]]
cli.main()
"""


def test_a_command_process_skips_the_collections_at_exit_and_still_writes_all_its_output(tmp_path):
    """The command freezes what is alive when its process ends (cli_support: gc_pace.no_collection_at_exit): what a check
    writes from its own process is complete all the same, byte for byte what it writes in this one."""
    import subprocess
    import sys
    register = ROOT / "examples" / "register.csv"
    args = ["check", str(register), "--as-of", "2024-12-31", "--format", "ndjson"]
    done = subprocess.run([sys.executable, "-c", AT_EXIT, *args, "--out", str(tmp_path / "apart.ndjson")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    frozen = int(done.stderr.rsplit("frozen at exit: ", 1)[1].split()[0])
    assert frozen > 10_000                  # the modules, the policy, the engine's objects
    here = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "here.ndjson")])
    assert here.exit_code == 0, here.output
    assert (tmp_path / "apart.ndjson").read_bytes() == (tmp_path / "here.ndjson").read_bytes()
