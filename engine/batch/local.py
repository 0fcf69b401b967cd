"""Batch evaluation of registers of any size: streaming in chunks, worker processes, executors.

The parent process scans the register once (engine/register/streaming.py), hands out chunks and writes
results as they come back; workers validate, evaluate and render each chunk. On this machine a CSV's
chunk is a part of the file that the worker reads itself (RegisterScan.parts), so the parent only scans
and writes the bytes the workers produced; otherwise (other formats, Dask) the parent reads the rows
and sends their cells. Every worker process builds its own Evaluator from the policy id (durable_rules
rulesets are process-global C state: they are never shipped between processes), and only raw cells (or
where a part starts) go out and rendered outputs come back. Results come back in the order of the
chunks, so the output is the same, byte for byte, whatever the number of workers. At most two chunks
per worker are in flight, so memory does not grow with the register.

A partitioned register (a folder of CSV, XLSX, JSON or Parquet files) is evaluated one file per task
and written one result file per partition (and its rejected rows beside it, <name>.errors.csv);
duplicate enterprise ids are found across all of them.

Executors: `LocalExecutor` (this machine: the calling process, or a pool of processes) and
`engine.batch.dask.DaskExecutor` (a Dask cluster, local or remote) run the same tasks
(engine/batch/tasks.py `run_task`); the progress line is engine/batch/progress.py, the result writers
engine/batch/writers.py.
"""
from __future__ import annotations

import multiprocessing
import sys
from functools import partial
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from engine.batch.pool import ForkedWorkers
from engine.batch.progress import Progress
from engine.batch.tasks import (PARTITION_FORMATS, ChunkResult, Job, PartitionResult, chunk_size_for, default_workers,
                                load_inputs, output_spec, partition_files, run_task, with_reform, worker_for)
from engine.batch.writers import RejectedWriter, json_item, write_json_list
from engine.register.columns import register_columns
from engine.register.streaming import IdIndex, scan_register
from engine.streams import OutputSpec

# What callers of a batch run use, importable from here.
__all__ = ["ChunkResult", "Job", "LocalExecutor", "PartitionResult", "PartitionedRun", "Progress", "RegisterRun",
           "RejectedWriter", "json_item", "make_executor", "table_text", "write_json_list"]


# ---------------------------------------------------------------------------------------------- executors
class LocalExecutor:
    """Tasks on this machine: in the calling process (one worker) or in forked worker processes
    (engine/batch/pool.py), each with its own Evaluator. Results in submission order; at most two tasks
    per process between being sent and handed on (multiprocessing's imap would read the whole input
    ahead)."""

    name = "local"

    def __init__(self, workers: Optional[int] = None):
        self.workers = max(1, workers or default_workers())

    def map(self, job: Job, tasks: Iterable[tuple], *, processes: Optional[int] = None,
            rows_per_task: Optional[int] = None) -> Iterator[Any]:
        """run_task(job, task) for each task, results in task order. `rows_per_task`: about how many
        register rows a task holds, when the caller knows; a worker process is then replaced after
        WORKER_ROWS rows (engine/batch/pool.py says why), else it stays to the end of the run."""
        processes = min(self.workers, processes or self.workers)
        if processes <= 1:
            for task in tasks:
                yield run_task(job, task)
            return
        # fork shares the loaded policy copy-on-write; each child still compiles its own rulesets
        life = max(1, WORKER_ROWS // rows_per_task) if rows_per_task else None
        yield from ForkedWorkers(processes, partial(run_task, job), tasks_per_worker=life,
                                 context=multiprocessing.get_context(_START_METHOD)).map(tasks)

    def close(self) -> None:
        pass


# A worker process's share of a register before it is replaced by a fresh one, where the caller asks for
# it (workers that run durable_rules): its memory then stays what one share needs, whatever the
# register's length. At 50,000 rows (50 tasks of the durable path's 1,000 rows), a 100k-row register is
# one share per worker, and a 1M-row one peaks as the 100k-row one does; a replacement costs a fork and
# building its rulesets (~0.05 CPU-s).
WORKER_ROWS = 50_000
_START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"


def make_executor(name: str, workers: Optional[int], address: Optional[str] = None):
    if name == "local":
        return LocalExecutor(workers)
    if name == "dask":
        from engine.batch.dask import DaskExecutor
        return DaskExecutor(address=address, workers=workers)
    raise ValueError(f"unknown executor {name!r}")


# ---------------------------------------------------------------------------------------------- single file
class RegisterRun:
    """One register file evaluated in chunks: `scan` (header, warnings, size) is known at once;
    `chunks()` yields ChunkResults in row order."""

    def __init__(self, path: Path, *, as_of: date, policy_id: str, fmt: str, lang: str,
                 sheet: Optional[str] = None, executor=None, chunk_size: Optional[int] = None, reform=None,
                 output: Optional[OutputSpec] = None, town: Optional[str] = None):
        from engine.compiler import plan_policy
        # The policy is loaded and compiled here first, so a policy that does not validate is one clear
        # error before any worker starts: with one worker, by building this process's worker itself;
        # otherwise without durable_rules (each worker compiles its own rulesets).
        policy, book = with_reform(load_inputs(policy_id), reform)
        self.executor = executor or LocalExecutor(1)
        self.chunk_size = max(1, chunk_size or chunk_size_for(output or OutputSpec(fmt, lang)))
        # On this machine a CSV is cut into parts each worker reads from the file itself, so the parent
        # neither parses the rows nor pickles their cells (a Dask worker may not see the file: cells).
        split = self.chunk_size if isinstance(self.executor, LocalExecutor) else None
        self.scan = scan_register(path, columns=register_columns(policy), sheet=sheet, split_every=split)
        self.job = Job(policy_id=policy_id, as_of=as_of, fmt=fmt, lang=lang, scan=self.scan, reform=reform,
                       output=output, town=town)
        if isinstance(self.executor, LocalExecutor) and self.processes() <= 1:
            worker_for(self.job)
        else:
            plan_policy(policy, book, as_of)

    def loaded(self) -> tuple:
        """(policy, rulebook) of this run, the what-if reform applied."""
        return with_reform(load_inputs(self.job.policy_id), self.job.reform)

    def processes(self) -> int:
        """Workers this run can use: no more than it has chunks."""
        chunks = len(self.scan.parts) if self.scan.parts is not None else -(-self.scan.data_rows // self.chunk_size)
        return min(self.executor.workers, max(1, chunks))

    @property
    def total_rows(self) -> int:
        return self.scan.data_rows

    def chunks(self) -> Iterator[ChunkResult]:
        if self.scan.parts is not None:
            tasks = (("part", part) for part in self.scan.parts)
        else:
            tasks = (("chunk", rows) for rows in self.scan.chunks(self.chunk_size))
        yield from self.executor.map(self.job, tasks, processes=self.processes(), rows_per_task=self.chunk_size)



def table_text(rows: list[dict], lang: str) -> str:
    """The terminal table from summary rows (engine/output.py render_table, which takes results)."""
    from engine.render import environment
    text = environment().get_template(f"table_{lang}.txt.j2").render(rows=rows)
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


class PartitionedRun:
    """A folder of register files evaluated one file per task, written one result file per partition."""

    def __init__(self, folder: Path, out_dir: Path, *, as_of: date, policy_id: str, fmt: str, lang: str,
                 executor=None, reform=None, output: Optional[OutputSpec] = None):
        from engine.compiler import plan_policy
        if fmt not in PARTITION_FORMATS:
            raise ValueError(fmt)
        policy, book = with_reform(load_inputs(policy_id), reform)
        plan_policy(policy, book, as_of)
        self.files = [str(p) for p in partition_files(folder)]
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.executor = executor or LocalExecutor(1)
        self.job = Job(policy_id=policy_id, as_of=as_of, fmt=fmt, lang=lang, out_dir=str(out_dir), reform=reform,
                       output=output)
        self.failed: dict[str, str] = {}

    def results(self) -> Iterator[PartitionResult]:
        n = len(self.files)
        ids = IdIndex()
        readable = []
        for part in self.executor.map(self.job, [("ids", f) for f in self.files], processes=n):
            if part.error:
                self.failed[part.name] = part.error
                yield part
            else:
                ids.merge(part.ids)
                readable.append(part.name)
        repeated = ids.repeated()
        duplicates: dict[str, list] = {}
        if repeated:
            for found in self.executor.map(self.job, [("locate", (f, repeated)) for f in readable], processes=n):
                for key, where in found.items():
                    duplicates.setdefault(key, []).extend(where)
        duplicates = {k: v for k, v in duplicates.items() if len(v) > 1}
        job = Job(**{**self.job.__dict__, "duplicates": duplicates})
        yield from self.executor.map(job, [("partition", f) for f in readable], processes=len(readable))
