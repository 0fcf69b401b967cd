"""The worker processes of a batch run (engine/batch/pool.py): results in task order, workers replaced
after their share, a failing task or a dying worker stops the run with a clear error, nothing left
running, and never more tasks taken ahead than the window allows."""
import gc
import multiprocessing
import os
import signal
import sys
import time

import pytest

from engine.batch import local
from engine.batch.local import LocalExecutor, RegisterRun
from engine.batch.pool import ForkedWorkers
from engine.errors import EngineError
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")


def _square_slowly(n):
    time.sleep(0.002 * (n % 3))           # uneven tasks: results arrive out of order
    return n * n, os.getpid()


def _fails_at_seven(n):
    if n == 7:
        raise ValueError("task seven is bad")
    return n


def _dies_at_five(n):
    if n == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return n


def _freeze_count(_):
    return gc.get_freeze_count()


def _no_workers_left():
    return not multiprocessing.active_children()


def test_results_come_back_in_task_order_whatever_order_the_workers_finish_in():
    results = list(ForkedWorkers(2, _square_slowly).map(range(40)))
    assert [square for square, _ in results] == [n * n for n in range(40)]
    assert len({pid for _, pid in results}) == 2 and os.getpid() not in {pid for _, pid in results}
    assert _no_workers_left()


def test_a_worker_is_replaced_after_its_share_of_tasks():
    workers = ForkedWorkers(2, _square_slowly, tasks_per_worker=3)
    results = list(workers.map(range(20)))
    assert [square for square, _ in results] == [n * n for n in range(20)]
    per_worker = {}
    for _, pid in results:
        per_worker[pid] = per_worker.get(pid, 0) + 1
    assert max(per_worker.values()) <= 3
    assert workers.started == len(per_worker) >= 7       # 20 tasks at most 3 per worker
    assert _no_workers_left()


def test_a_failing_task_is_raised_after_the_results_before_it_and_stops_every_worker():
    handed = []
    with pytest.raises(ValueError, match="task seven is bad"):
        for result in ForkedWorkers(2, _fails_at_seven).map(range(30)):
            handed.append(result)
    assert handed == list(range(7))
    assert _no_workers_left()


def test_a_worker_that_dies_stops_the_run_naming_its_task_instead_of_waiting_forever():
    handed = []
    with pytest.raises(EngineError, match=r"killed by signal 9 while evaluating task 6 of the run"):
        for result in ForkedWorkers(2, _dies_at_five).map(range(12)):
            handed.append(result)
    assert handed == list(range(5))
    assert _no_workers_left()


def test_a_run_stopped_by_its_caller_leaves_no_worker_running():
    results = ForkedWorkers(2, _square_slowly).map(range(100))
    assert next(results)[0] == 0
    results.close()
    assert _no_workers_left()


def test_never_more_tasks_taken_than_the_window_ahead_of_those_handed_on():
    taken = []

    def tasks():
        for n in range(50):
            taken.append(n)
            yield n
    for handed, _ in enumerate(ForkedWorkers(2, _square_slowly, window=4).map(tasks())):
        # the window's tasks sent and one more taken, waiting for a free worker
        assert len(taken) <= handed + 4 + 1
    assert len(taken) == 50


def test_a_worker_keeps_what_it_shares_with_the_parent_out_of_its_collections():
    """A collection writes into every object it scans: unfrozen, the pages a worker shares with the parent
    would be copied into it as it runs."""
    assert all(count > 0 for count in ForkedWorkers(2, _freeze_count).map(range(4)))


def test_a_register_run_replaces_its_workers_after_their_share_of_rows_and_writes_the_same(monkeypatch):
    started = []

    class Watched(ForkedWorkers):
        def map(self, tasks):
            yield from super().map(tasks)
            started.append((self.started, self.tasks_per_worker))

    monkeypatch.setattr(local, "ForkedWorkers", Watched)
    monkeypatch.setattr(local, "WORKER_ROWS", 20)
    register, as_of = ROOT / "examples" / "register.csv", __import__("datetime").date(2024, 12, 31)

    def rows(workers):
        run = RegisterRun(register, as_of=as_of, policy_id="wanzhou-2022-80", fmt="csv", lang="zh",
                          executor=LocalExecutor(workers), chunk_size=10)
        return [chunk.items for chunk in run.chunks()]
    assert rows(2) == rows(1)
    # 5 chunks of 10 rows, a worker's share of 20 rows is 2 chunks: the 2 workers, then a third for the fifth
    assert started == [(3, 2)]


def _unpicklable(n):
    return (lambda: n) if n == 3 else n


def test_a_result_that_cannot_be_sent_back_stops_the_run_naming_its_task():
    with pytest.raises(EngineError, match="task 4's result could not be sent back"):
        list(ForkedWorkers(2, _unpicklable).map(range(6)))
    assert _no_workers_left()
