"""Worker processes of a batch run on this machine: forked by the calling thread, one task at a time each,
results handed on in task order, and each worker replaced after a given number of tasks.

Why replaced: a worker's memory grows with the rows it has evaluated although everything Python keeps
there is bounded. Measured on a 1M-row register (durable path, CSV, 2 workers, 50k-row spans): each
worker's anonymous memory went from 83 MiB after its first span to 105 MiB after its tenth, of which
Python's traced allocations were ~5 MiB (bounded caches); the rest is the allocators' fragmentation and
durable_rules' C heap, which no cache limit reaches. A worker that has done its share of rows exits and
a fresh one is forked in its place, so a register of any length peaks as one of the worker's share does.

Why not multiprocessing.Pool: its `maxtasksperchild` forks the replacement from a helper thread, while
the calling thread may be writing output or reading the register with pyarrow; a lock held by another
thread at the instant of fork stays held forever in the child. Here the calling thread forks every
worker, between its own steps. And when a worker dies (killed for memory, a crash inside a C library),
Pool waits for its result forever; here the run stops with an EngineError naming the task.

Each worker has its own pipe and holds one task at a time: a task is sent to a worker only when it is
waiting for one, so neither side ever blocks on a full pipe while the other waits on it. A worker's next
task is sent the moment its result arrives, before that result is handed on. At most `window` tasks are
between being sent and handed on, so memory does not grow with the register.
"""
from __future__ import annotations

import gc
import multiprocessing
from multiprocessing.connection import wait
from typing import Any, Callable, Iterable, Iterator, Optional

from engine.errors import EngineError

_END = object()


class ForkedWorkers:
    """`map(tasks)`: run(task) for each task in up to `processes` forked worker processes, results in task
    order. A worker leaves after `tasks_per_worker` tasks (None: it stays to the end of the map)."""

    def __init__(self, processes: int, run: Callable[[Any], Any], *, tasks_per_worker: Optional[int] = None,
                 window: Optional[int] = None, context=None):
        self.processes = max(1, processes)
        self.run = run
        self.tasks_per_worker = tasks_per_worker if tasks_per_worker is None else max(1, tasks_per_worker)
        self.window = window or 2 * self.processes
        self.context = context or multiprocessing.get_context("fork")
        self.started = 0                    # workers forked so far (the first `processes` and their replacements)

    def map(self, tasks: Iterable) -> Iterator[Any]:
        tasks = iter(tasks)
        live: list[_Worker] = []
        idle: list[_Worker] = []
        busy: dict[Any, _Worker] = {}       # a busy worker's pipe -> the worker
        done: dict[int, tuple] = {}         # task number -> (ok, result or exception), not yet handed on
        sent = handed = 0
        waiting = _END                      # a task taken from `tasks`, not yet sent
        try:
            while True:
                # Send tasks to the workers waiting for one, forking workers up to `processes`.
                while sent < handed + self.window:
                    if waiting is _END:
                        waiting = next(tasks, _END)
                        if waiting is _END:
                            break
                    if not idle:
                        if len(live) >= self.processes:
                            break
                        worker = self._fork()
                        live.append(worker)
                        idle.append(worker)
                    worker = idle.pop()
                    worker.conn.send((sent, waiting))
                    worker.task = sent
                    busy[worker.conn] = worker
                    sent, waiting = sent + 1, _END
                if handed in done:
                    ok, value = done.pop(handed)
                    handed += 1
                    if not ok:
                        raise value
                    yield value
                    continue
                if not busy:                # nothing sent that is not handed on, nothing left to send
                    return
                for conn in wait(list(busy)):
                    worker = busy.pop(conn)
                    task, ok, value, leaving = worker.result()
                    done[task] = (ok, value)
                    if leaving:
                        live.remove(worker)
                        worker.close()
                    else:
                        idle.append(worker)
        finally:
            for worker in live:
                worker.stop(finished=not busy)

    def _fork(self) -> "_Worker":
        parent_end, child_end = self.context.Pipe(duplex=True)
        process = self.context.Process(target=_serve, args=(child_end, self.run, self.tasks_per_worker), daemon=True)
        process.start()
        child_end.close()
        self.started += 1
        return _Worker(process, parent_end)


class _Worker:
    def __init__(self, process, conn):
        self.process, self.conn = process, conn
        self.task: Optional[int] = None

    def result(self) -> tuple:
        """(task number, ok, result or exception, whether the worker leaves now) of the task it holds."""
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.process.join()
            code = self.process.exitcode
            how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
            return (self.task, False,
                    EngineError(f"a worker process {how} while evaluating task {self.task + 1} of the run "
                                "(signal 9 is usually the system out of memory); no output was written for it"),
                    True)

    def close(self) -> None:
        """After the worker said it leaves: it exits on its own."""
        self.conn.close()
        self.process.join()

    def stop(self, finished: bool) -> None:
        """At the end of a map: told to leave when all went well, else ended at once."""
        if finished:
            try:
                self.conn.send(None)
            except OSError:
                pass
        else:
            self.process.terminate()
        self.conn.close()
        self.process.join()


def _serve(conn, run: Callable[[Any], Any], tasks_per_worker: Optional[int]) -> None:
    """A worker: tasks from the pipe until told to stop (None), the pipe closes or its share is done."""
    # Everything inherited from the parent out of this process's collections: a collection writes into
    # every object it scans, which would copy the pages this process shares with the parent.
    gc.freeze()
    served = 0
    try:
        while True:
            message = conn.recv()
            if message is None:
                return
            task, payload = message
            try:
                outcome = (task, True, run(payload))
            except Exception as exc:        # handed on to the parent, which raises it in task order
                outcome = (task, False, exc)
            served += 1
            leaving = tasks_per_worker is not None and served >= tasks_per_worker
            try:
                conn.send((*outcome, leaving))
            except OSError:                 # the parent has gone
                return
            except Exception as exc:        # a result or exception that cannot be pickled
                conn.send((task, False, EngineError(f"task {task + 1}'s result could not be sent back: {exc}"), leaving))
            if leaving:
                return
    except (EOFError, KeyboardInterrupt):   # the parent went away or the user interrupted: leave quietly
        return
