"""The Dask executor: engine/batch/tasks.py tasks on a Dask cluster (`scaleup check --executor dask`).

Without an address it starts a local cluster of one single-threaded worker process per core (what the
tests use); with `--scheduler tcp://HOST:8786` it runs on an existing cluster, whose workers must have
scaleup installed (the same version) and see the register, the policy folder and the output folder at the
same paths (a shared file system). Each worker process builds its own Evaluator on its first task and
keeps it for the run: durable_rules rulesets are process-global C state and never travel. Tasks are
submitted a few per worker at a time and their results read in submission order, so the output equals
a single-process run.

Why Dask rather than Ray: `distributed` and its dependencies are pure-Python wheels or small ones
(tornado, msgpack, psutil) that install in seconds on CPython 3.10-3.13; a local cluster of two
processes starts and stops in a few seconds inside a test; plain functions and futures are all this
needs. Ray's wheel is an order of magnitude larger, bundles its own object store and services, and
follows new Python versions later.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Any, Iterable, Iterator, Optional

from engine.errors import ScaleupError


class DaskExecutor:
    name = "dask"

    def __init__(self, address: Optional[str] = None, workers: Optional[int] = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ScaleupError("--executor dask needs the 'distributed' package: "
                               "pip install 'scaleup[dask]'") from None
        from engine.batch.tasks import default_workers
        self.cluster = None
        try:
            if address:
                self.client = Client(address)     # waits distributed.comm.timeouts.connect (30 s)
            else:
                self.cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                                            processes=True, dashboard_address=None,
                                            silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
        except OSError as exc:   # includes timeouts: no scheduler at that address
            self.close()
            raise ScaleupError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.workers = max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))

    def map(self, job, tasks: Iterable[tuple], *, processes: Optional[int] = None,
            rows_per_task: Optional[int] = None) -> Iterator[Any]:
        """As LocalExecutor.map; `rows_per_task` is not used: Dask looks after its workers' memory itself."""
        from engine.batch.tasks import run_task
        job_future = self.client.scatter(job, broadcast=True, hash=False)
        pending: deque = deque()
        for task in tasks:
            pending.append(self.client.submit(run_task, job_future, task, pure=False))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()
