"""`check`: a register evaluated against the policy, written as a table, JSON, CSV or XLSX: one file
streamed over workers, a folder of register files (one result file each), or one file as columns
(--engine columnar)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Optional

from engine.commands.common import Reporter, policy_and_rules, reform_from_options, report_read, write_text
from engine.errors import UsageConflict
from engine.fileguard import OutputGuard, atomic_output


@dataclass
class Checked:
    rejected: int                      # rejected rows (and, for a folder, unreadable files)
    files: Optional[int] = None        # for a folder of register files: how many, and their rows
    rows: Optional[int] = None


@dataclass
class CheckOptions:
    """How to run a check: the options of `scaleup check` that are not the register or the policy."""

    fmt: str = "table"
    lang: str = "zh"
    out: Optional[Path] = None
    sheet: Optional[str] = None
    errors: Optional[Path] = None
    workers: Optional[int] = None
    executor_name: str = "local"
    scheduler: Optional[str] = None
    chunk_size: Optional[int] = None
    progress: Optional[bool] = None
    engine_name: str = "durable"

    def refuse_conflicts(self, file: Path) -> None:
        """Option combinations a check cannot run (cli.py shows them as usage errors, exit 2)."""
        if self.engine_name == "columnar":
            if file.is_dir() or self.executor_name != "local" or self.workers is not None or self.chunk_size is not None:
                raise UsageConflict("--engine columnar evaluates one register file in this process; leave out "
                                    "--workers, --executor and --chunk-size (or use --engine durable)")
        elif self.scheduler and self.executor_name != "dask":
            raise UsageConflict("--scheduler goes with --executor dask")
        out = self.out
        if file.is_dir():
            if out is None or self.fmt not in ("csv", "json") or self.errors is not None or (out.exists() and not out.is_dir()):
                raise UsageConflict("a folder of register files needs --format csv or json and --out FOLDER for "
                                    "its result files (rejected rows are written beside them, NAME.errors.csv)")
        elif out is not None and out.is_dir():
            raise UsageConflict(f"--out {out} is a folder; give a file name")


def check(file: Path, *, as_of: date, policy_id: str, options: CheckOptions, set_items: tuple = (),
          overrides: Optional[Path] = None, reporter: Reporter, stdout: IO[str]) -> Checked:
    """Evaluate every enterprise of a register (or of a folder of registers) and write the result."""
    from engine.batch.local import make_executor
    options.refuse_conflicts(file)
    guard = OutputGuard([file, overrides], [options.errors] if file.is_dir() else [options.out, options.errors])
    if file.is_dir() and options.out is not None:
        guard.check_folder(options.out)
    reform = reform_from_options(set_items, overrides, as_of)
    if options.engine_name == "columnar":
        return Checked(_check_columnar(file, as_of, policy_id, options, reform, reporter, stdout))
    executor = make_executor(options.executor_name, options.workers, options.scheduler)
    try:
        if file.is_dir():
            return _check_partitioned(file, as_of, policy_id, options, executor, reform, reporter)
        return Checked(_check_file(file, as_of, policy_id, options, executor, reform, reporter, stdout))
    finally:
        executor.close()


def _check_columnar(file: Path, as_of: date, policy_id: str, o: CheckOptions, reform, reporter: Reporter,
                    stdout: IO[str]) -> int:
    """--engine columnar: the register as columns, all six families at once (engine/columnar/).
    Returns the number of rejected rows."""
    from engine.columnar.evaluator import ColumnarEvaluator
    from engine.columnar.output import render_table, results_json, summary_rows, write_summary_csv
    from engine.columnar.reader import read_register_frame
    from engine.output import csv_columns, csv_headers
    from engine.tabular import write_xlsx
    policy, book = policy_and_rules(policy_id, reform)
    read = read_register_frame(file, as_of=as_of, policy=policy, sheet=o.sheet)
    report_read(read, reporter, o.errors)
    batch = ColumnarEvaluator(policy, book, as_of).evaluate_frame(read.frame)
    with atomic_output(o.out) as tmp:
        if o.out is not None and o.out.suffix.lower() == ".xlsx":
            cols = csv_columns()
            write_xlsx(tmp, {"decisions": (csv_headers(o.lang),
                                           ([r.get(c, "") for c in cols] for r in summary_rows(batch.results())))})
        elif o.fmt == "csv":
            write_summary_csv(batch, tmp if tmp is not None else stdout, headers=csv_headers(o.lang))
        else:
            write_text(json.dumps(results_json(batch, o.lang), ensure_ascii=False, indent=2) if o.fmt == "json"
                           else render_table(batch.results(), o.lang), tmp, stdout)
    return len(read.rejected)


def _check_file(file: Path, as_of: date, policy_id: str, o: CheckOptions, executor, reform, reporter: Reporter,
                stdout: IO[str]) -> int:
    """One register file, streamed: chunks are evaluated by the executor's workers and written in row
    order as they come back. Returns the number of rejected rows."""
    from engine.batch.local import Progress, RegisterRun, RejectedWriter, table_text, write_json_list
    from engine.output import csv_headers
    from engine.tabular import write_csv, write_xlsx
    out, fmt, lang = o.out, o.fmt, o.lang
    to_xlsx = out is not None and out.suffix.lower() == ".xlsx"
    run = RegisterRun(file, as_of=as_of, policy_id=policy_id, fmt="xlsx" if to_xlsx else fmt, lang=lang,
                      sheet=o.sheet, executor=executor, chunk_size=o.chunk_size, reform=reform)
    for warning in run.scan.warnings:
        reporter.warning(str(warning))
    bar = Progress(run.total_rows, enabled=o.progress)
    rejected = RejectedWriter(o.errors, run.scan.headers)

    def items():
        for chunk in run.chunks():
            if chunk.rejected:
                bar.clear()
            for row in chunk.rejected:
                rejected.add(row)
                for problem in row.problems:
                    reporter.problem(str(problem))
            for warning in chunk.warnings:
                reporter.warning(str(warning))
            bar.update(chunk.rows, len(chunk.rejected))
            yield from chunk.items

    # A file is written under a temporary name and renamed when complete: never a half-written result.
    try:
        with atomic_output(out) as tmp:
            if to_xlsx:
                write_xlsx(tmp, {"decisions": (csv_headers(lang), items())})
            elif fmt == "json":
                if tmp is None:
                    write_json_list(stdout, items())
                    stdout.write("\n")
                else:
                    with open(tmp, "w", encoding="utf-8") as fh:
                        write_json_list(fh, items())
            elif fmt == "csv":
                write_csv(tmp if tmp is not None else stdout, csv_headers(lang), items())
            else:
                write_text(table_text(list(items()), lang), tmp, stdout)
    finally:
        bar.close()
        rejected.close()
    if rejected.count:
        reporter.rejected(rejected.count, run.total_rows, o.errors)
    return rejected.count


def _check_partitioned(folder: Path, as_of: date, policy_id: str, o: CheckOptions, executor, reform,
                       reporter: Reporter) -> Checked:
    """A folder of register files: one task and one result file per file. Counts the rejected rows
    and unreadable files."""
    from engine.batch.local import PartitionedRun, Progress
    run = PartitionedRun(folder, o.out, as_of=as_of, policy_id=policy_id, fmt=o.fmt, lang=o.lang,
                         executor=executor, reform=reform)
    bar = Progress(len(run.files), enabled=o.progress, unit="files")
    problems = rows = 0
    try:
        for part in run.results():
            bar.clear()
            if part.error:
                reporter.problem(str(part.error))
                problems += 1
                continue
            for warning in part.warnings:
                reporter.warning(str(warning))
            for row in part.rejected:
                for problem in row.problems:
                    reporter.problem(str(problem))
            problems += len(part.rejected)
            rows += part.rows
            bar.update(1, len(part.rejected))
    finally:
        bar.close()
    return Checked(problems, files=len(run.files), rows=rows)
