"""Worker processes of a batch run on this machine: forked by the calling thread, results handed on in
task order, and each worker replaced after a given number of tasks where the caller asks for it.

Why replaced: a worker's memory grows with the rows it has evaluated although everything Python keeps
there is bounded. Measured on a 1M-row register (durable path, CSV, 2 workers, spans of 1,000 rows): each
worker's anonymous memory went from 83 MiB early in the run to 105 MiB at its end (500k rows), of which
Python's traced allocations were ~5 MiB (bounded caches); the rest is the allocators' fragmentation and
durable_rules' C heap, which no cache limit reaches. A worker that has done its share of rows exits and
a fresh one is forked in its place, so a register of any length peaks as one of the worker's share does.

Why not multiprocessing.Pool: its `maxtasksperchild` forks the replacement from a helper thread, while
the calling thread may be writing output or reading the register with pyarrow; a lock held by another
thread at the instant of fork stays held forever in the child. Here the calling thread forks every
worker, between its own steps. And when a worker dies (killed for memory, a crash inside a C library),
Pool waits for its result forever; here the run stops with an EngineError naming the task.

Each worker has its own pipe. A task goes to a worker with nothing in hand; a small task (a span of a
file, a part: at most PREFETCH_BYTES pickled) may also go to a worker with one task in hand, so that it
starts on it at once while this thread writes output, as Pool's queue allowed. A large task (rows of
cells) waits for a worker with nothing in hand, so this thread never blocks writing into a pipe that the
worker, itself blocked on sending a large result, does not read. Results are received as they come,
handed on in task order; at most `window` tasks are between being sent and handed on, so memory does not
grow with the register. The parent counts the tasks it sends each worker: one that has been sent its
share and has handed back all of it is told to leave, and a fresh one is forked when a task needs it.
"""
from __future__ import annotations

import gc
import multiprocessing
from collections import deque
from multiprocessing.connection import wait
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable, Iterable, Iterator, Optional

from engine.errors import EngineError


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
        done: dict[int, tuple] = {}         # task number -> (ok, result or exception), not yet handed on
        sent = handed = 0
        waiting = None                      # the next task's message (pickled), taken from `tasks`, not yet sent
        try:
            while True:
                while sent < handed + self.window:      # send what can be sent
                    if waiting is None:
                        task = next(tasks, _END)
                        if task is _END:
                            break
                        waiting = ForkingPickler.dumps((sent, task))
                    worker = self._taker(live, len(waiting) <= PREFETCH_BYTES)
                    if worker is None:
                        break
                    worker.send(sent, waiting)
                    sent, waiting = sent + 1, None
                if handed in done:
                    ok, value = done.pop(handed)
                    handed += 1
                    if not ok:
                        raise value
                    yield value
                    continue
                holding = [worker.conn for worker in live if worker.held]
                if not holding:             # nothing sent that is not handed on, nothing left to send
                    return
                for conn in wait(holding):
                    worker = next(w for w in live if w.conn is conn)
                    task, ok, value = worker.result()
                    done[task] = (ok, value)
                    if worker.dead or (worker.share_sent(self.tasks_per_worker) and not worker.held):
                        live.remove(worker)
                        worker.stop(finished=not worker.dead)
        finally:
            finished = not any(worker.held for worker in live)
            for worker in live:
                worker.stop(finished)

    def _taker(self, live: list, small: bool) -> Optional["_Worker"]:
        """The worker the next task goes to: one with nothing in hand, else (a small task) one with a task
        in hand, else a new one if fewer than `processes` live; None if it must wait."""
        open_ = [w for w in live if not w.share_sent(self.tasks_per_worker)]
        for limit in ((0, 1) if small else (0,)):
            for worker in open_:
                if len(worker.held) == limit:
                    return worker
            if limit == 0 and len(live) < self.processes:
                worker = self._fork()
                live.append(worker)
                return worker
        return None

    def _fork(self) -> "_Worker":
        parent_end, child_end = self.context.Pipe(duplex=True)
        process = self.context.Process(target=_serve, args=(child_end, self.run), daemon=True)
        process.start()
        child_end.close()
        self.started += 1
        return _Worker(process, parent_end)


PREFETCH_BYTES = 1 << 14        # a task this small may wait in a busy worker's pipe (which holds far more)
_END = object()


class _Worker:
    def __init__(self, process, conn):
        self.process, self.conn = process, conn
        self.held: deque[int] = deque()     # the task numbers sent and not yet answered, in order
        self.sent = 0
        self.dead = False

    def send(self, task: int, message: bytes) -> None:
        try:
            self.conn.send_bytes(message)
        except OSError:                     # it died: reading its pipe says so, naming the task it held
            pass
        self.held.append(task)
        self.sent += 1

    def share_sent(self, share: Optional[int]) -> bool:
        return share is not None and self.sent >= share

    def result(self) -> tuple:
        """(task number, ok, result or exception) of the first task it holds."""
        task = self.held.popleft()
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.dead = True
            self.process.join()
            code = self.process.exitcode
            how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
            return (task, False,
                    EngineError(f"a worker process {how} while evaluating task {task + 1} of the run "
                                "(signal 9 is usually the system out of memory); no output was written for it"))

    def stop(self, finished: bool) -> None:
        """Told to leave when all went well (its share done, or the map's end), else ended at once."""
        if finished:
            try:
                self.conn.send(None)
            except OSError:
                pass
        else:
            self.process.terminate()
        self.conn.close()
        self.process.join()


def _serve(conn, run: Callable[[Any], Any]) -> None:
    """A worker: tasks from the pipe, each answered in turn, until told to stop (None) or the pipe closes."""
    # Everything inherited from the parent out of this process's collections: a collection writes into
    # every object it scans, which would copy the pages this process shares with the parent.
    gc.freeze()
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
            try:
                conn.send(outcome)
            except OSError:                 # the parent has gone
                return
            except Exception as exc:        # a result or exception that cannot be pickled
                conn.send((task, False, EngineError(f"task {task + 1}'s result could not be sent back: {exc}")))
    except (EOFError, KeyboardInterrupt):   # the parent went away or the user interrupted: leave quietly
        return
