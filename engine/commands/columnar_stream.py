"""`check --engine columnar` for CSV, NDJSON, JSON (contract v2) and Parquet output: the register read,
evaluated and written batch by batch (engine/columnar/pipeline.py), never whole. The register may be a
Parquet dataset (a folder: engine/columnar/partitions.py): its partitions are read in order into one
output stream, or with --format parquet into one output file per partition below --out FOLDER."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import IO

from engine.commands.common import Reporter, report_read
from engine.fileguard import atomic_output

# The columnar engine's batch for NDJSON and JSON: a compact line is about 3 KB (twice that as a Python
# string of Chinese text), so a batch of 50,000 held ~450 MB of text while it was written (600 MiB peak
# on 1 worker); at 5,000 the peak is 290 MiB and the CPU per row the same (measured on 100k rows).
TEXT_CHUNK_ROWS = 5_000


def check_in_batches(file: Path, as_of: date, policy_id: str, reform, o, reporter: Reporter,
                     stdout: IO[str]) -> int:
    """Returns the number of rejected rows. Batches are read here and evaluated by --workers processes
    (or a Dask cluster), a few in flight, and written in order: the output does not depend on them."""
    from engine.commands.common import policy_and_rules
    policy, book = policy_and_rules(policy_id, reform)
    from engine.batch.local import make_executor
    from engine.batch.tasks import Job
    from engine.columnar import pipeline
    from engine.batch.progress import Progress
    from engine.columnar.reader import open_register_stream
    from engine.register.streaming import DEFAULT_CHUNK_SIZE
    from engine.output import csv_headers
    from engine.streams import policy_line
    from engine.columnar.arrow_source import PARQUET_ROWS, lean_memory_pool
    lean_memory_pool()
    if file.is_dir():
        from engine.columnar.partitions import open_dataset
        stream = open_dataset(file, as_of=as_of, policy=policy)
    else:
        stream = open_register_stream(file, as_of=as_of, policy=policy, sheet=o.sheet, notice=reporter.warning)
    fmt = "ndjson" if o.fmt == "json" else o.fmt
    job = Job(policy_id, as_of, fmt, o.lang, output=o.output(), reform=reform, engine=o.engine_name)
    first = policy_line(policy, book, as_of) if o.with_policy else None
    # The durable engine's runs keep its defaults: every core, and batches of a thousand rows (a batch is
    # a second of durable_rules work, so that every worker has its share of a small register).
    durable = o.engine_name == "durable"
    executor = make_executor(o.executor_name, o.workers if durable else (o.workers or 1), o.scheduler)
    if executor.name == "local":        # its workers are this process or forked from it
        pipeline.prepare_here(job, policy, book)
    chunk_rows = o.chunk_size or (DEFAULT_CHUNK_SIZE if durable else TEXT_CHUNK_ROWS if fmt == "ndjson" else
                                  PARQUET_ROWS if fmt == "parquet" else pipeline.CHUNK_ROWS)
    try:
        if file.is_dir() and fmt == "parquet":
            from engine.columnar import partitions
            partitions.write_partitions(stream, job, executor, o.out, chunk_rows,
                                        partitions.run_info(policy, book, as_of, reform))
            report_read(stream, reporter, o.errors)
            return len(stream.rejected)
        with atomic_output(o.out) as tmp:
            # JSON is bracketed at the end and standard output is copied at the end: both go to a spool file.
            spooled = tmp is None or o.fmt == "json"
            target = pipeline.spool_path(o.out, "." + o.fmt) if spooled else tmp
            try:
                writer = pipeline.BatchWriter(fmt, target, headers=csv_headers(o.lang),
                                              first_line=None if o.fmt == "json" else first)
                bar = Progress(None, enabled=o.progress, lang=o.lang)
                try:
                    pipeline.run(stream, job, executor, writer, chunk_rows, on_batch=lambda n: bar.update(n, 0))
                finally:
                    bar.close()
                if spooled:
                    _deliver(target, tmp, stdout, o.fmt)
            finally:
                if spooled:
                    target.unlink(missing_ok=True)
    finally:
        executor.close()
    report_read(stream, reporter, o.errors)
    return len(stream.rejected)


def _deliver(spool: Path, tmp, stdout: IO[str], fmt: str) -> None:
    from engine.columnar import pipeline
    if tmp is not None:
        with open(tmp, "wb") as fh:
            pipeline.finish_json(spool, fh)
        return
    stdout.flush()
    buffer = getattr(stdout, "buffer", None)
    if buffer is None:            # a text stream without bytes (tests)
        import io
        sink = io.BytesIO()
        (pipeline.finish_json if fmt == "json" else pipeline.copy_out)(spool, sink)
        stdout.write(sink.getvalue().decode("utf-8") + ("\n" if fmt == "json" else ""))
    else:
        (pipeline.finish_json if fmt == "json" else pipeline.copy_out)(spool, buffer)
        if fmt == "json":
            buffer.write(b"\n")
        buffer.flush()
