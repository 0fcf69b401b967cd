"""`check`: a register evaluated against the policy, written as a table, JSON, CSV or XLSX: one file
streamed over workers, a folder of register files (one result file each), or one file as columns
(--engine columnar)."""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Optional

from engine.batch.gc_pace import paced_collections
from engine.commands.common import (Reporter, policy_and_rules, reform_from_options, report_read, resolve_town,
                                    write_text)
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
    schema: str = "2"                  # output contract (json/ndjson): engine/streams.OutputSpec
    explain: bool = False
    detail: str = "compact"
    with_policy: bool = False
    no_cross_check: bool = False
    cross_check: str = "columnar"      # summary runs: columnar | exact (engine/crosscheck.CHECK_MODES)
    town: Optional[str] = None         # only this town or street (a name, former name or NBS code)

    def output(self):
        from engine.streams import OutputSpec
        return OutputSpec(self.fmt, self.lang, int(self.schema), self.explain, self.detail, not self.no_cross_check,
                          self.with_policy, exact_check=self.cross_check == "exact")

    def refuse_conflicts(self, file: Path) -> None:
        """Option combinations a check cannot run (cli.py shows them as usage errors, exit 2)."""
        if self.engine_name == "columnar":
            self._refuse_columnar_folder(file)
            if (self.executor_name != "local" or self.workers is not None) and (
                    self.fmt not in ("csv", "ndjson", "json", "parquet") or self.out is not None
                    and self.out.suffix.lower() == ".xlsx"):
                raise UsageConflict("--engine columnar runs --workers and --executor with --format csv, ndjson, "
                                    "json or parquet")
            if self.fmt == "parquet" and self.out is None:
                raise UsageConflict("--format parquet needs --out FILE.parquet (or --out FOLDER for a "
                                    "Parquet dataset)")
        elif self.fmt == "parquet":
            raise UsageConflict("--format parquet goes with --engine columnar")
        elif self.scheduler and self.executor_name != "dask":
            raise UsageConflict("--scheduler goes with --executor dask")
        if self.town is not None and (self.engine_name == "columnar" or file.is_dir()):
            raise UsageConflict("--town filters one register file on the durable engine; leave out --engine "
                                "columnar or give a file")
        self._refuse_contract_conflicts()
        out = self.out
        if file.is_dir() and self.engine_name == "columnar":
            return
        if file.is_dir():
            if out is None or self.fmt not in ("csv", "json", "ndjson") or self.errors is not None or (
                    out.exists() and not out.is_dir()):
                raise UsageConflict("a folder of register files needs --format csv, json or ndjson and --out FOLDER "
                                    "for its result files (rejected rows are written beside them, NAME.errors.csv)")
        elif out is not None and out.is_dir():
            raise UsageConflict(f"--out {out} is a folder; give a file name")


    def _refuse_columnar_folder(self, file: Path) -> None:
        """A folder with --engine columnar is a Parquet dataset (engine/columnar/partitions.py): read into
        one CSV, NDJSON or JSON stream, or into one Parquet file per partition below --out FOLDER."""
        out = self.out
        if not file.is_dir():
            if self.fmt == "parquet" and out is not None and out.is_dir():
                raise UsageConflict(f"--out {out} is a folder; one register file gives one Parquet file "
                                    "(--out FILE.parquet)")
            return
        if self.fmt not in ("csv", "ndjson", "json", "parquet") or self.fmt == "json" and self.schema != "2" or (
                out is not None and out.suffix.lower() == ".xlsx"):
            raise UsageConflict("--engine columnar reads a folder (a Parquet dataset) with --format csv, ndjson, "
                                "json or parquet")
        if self.fmt == "parquet" and out is not None and out.suffix.lower() == ".parquet":
            raise UsageConflict(f"--out {out}: a Parquet dataset gives one output file per partition; give "
                                "--out FOLDER")
        if self.fmt != "parquet" and out is not None and out.is_dir():
            raise UsageConflict(f"--out {out} is a folder; --format {self.fmt} writes the partitions into one "
                                "file (give a file name), --format parquet one file per partition")

    def _refuse_contract_conflicts(self) -> None:
        if self.schema == "1" and (self.fmt != "json" or self.explain or self.detail != "compact" or self.with_policy):
            raise UsageConflict("--schema 1 goes with --format json alone (it always carries every explanation)")
        if (self.explain or self.detail != "compact") and self.fmt not in ("json", "ndjson"):
            raise UsageConflict("--explain and --detail go with --format json or ndjson")
        if self.with_policy and self.fmt != "ndjson":
            raise UsageConflict("--with-policy goes with --format ndjson")
        if self.no_cross_check and self.cross_check == "exact":
            raise UsageConflict("--no-cross-check and --cross-check exact contradict each other")
        if self.cross_check == "exact" and self.engine_name == "columnar":
            raise UsageConflict("--cross-check exact goes with --engine durable (it checks durable_rules' verdicts)")
        if self.explain and self.engine_name == "columnar":
            raise UsageConflict("--explain needs --engine durable (explanations come from durable_rules)")


@paced_collections()
def check(file: Path, *, as_of: date, policy_id: str, options: CheckOptions, set_items: tuple = (),
          overrides: Optional[Path] = None, reporter: Reporter, stdout: IO[str]) -> Checked:
    """Evaluate every enterprise of a register (or of a folder of registers) and write the result."""
    from engine.batch.local import make_executor
    options.refuse_conflicts(file)
    folder_out = file.is_dir() and (options.engine_name == "durable" or options.fmt == "parquet")
    guard = OutputGuard([file, overrides], [options.errors] if folder_out else [options.out, options.errors])
    if folder_out and options.out is not None:
        guard.check_folder(options.out)
        if options.engine_name == "columnar":
            from engine.columnar.partitions import check_out_folder
            check_out_folder(file, options.out)
    if options.no_cross_check:
        reporter.warning("--no-cross-check: rows are not checked by a second implementation")
    reform = reform_from_options(set_items, overrides, as_of)
    if options.town is not None:
        options.town = resolve_town(policy_and_rules(policy_id)[0], options.town)
    if options.engine_name == "columnar" or (durable_in_batches(file, options)
                                             and _columnar_expresses(policy_id, reform, as_of)):
        return Checked(_check_columnar(file, as_of, policy_id, options, reform, reporter, stdout))
    executor = make_executor(options.executor_name, options.workers, options.scheduler)
    try:
        if file.is_dir():
            return _check_partitioned(file, as_of, policy_id, options, executor, reform, reporter)
        return Checked(_check_file(file, as_of, policy_id, options, executor, reform, reporter, stdout))
    finally:
        executor.close()


def durable_in_batches(file: Path, o: CheckOptions) -> bool:
    """A summary run of the durable engine (CSV, compact NDJSON or JSON v2 of one register file, every row
    cross-checked) goes through the columnar pipeline: read, validated and derived column-wise, each
    row's verdicts decided by durable_rules and compared with the columnar engine's before the batch is
    written (engine/columnar/durable_verdicts.py). The rest keeps the row path: explanations, the
    workbook and the table, --town, --cross-check exact, --no-cross-check (nothing to compare against:
    the row path's own output), folders of register files, and a policy the columnar engine cannot
    express (its rows are checked exactly)."""
    return (o.engine_name == "durable" and not file.is_dir() and not o.no_cross_check and o.town is None
            and o.cross_check == "columnar"
            and not o.explain and o.detail == "compact"
            and (o.out is None or o.out.suffix.lower() != ".xlsx")
            and (o.fmt in ("csv", "ndjson") or o.fmt == "json" and o.schema == "2"))


def _columnar_expresses(policy_id: str, reform, as_of: date) -> bool:
    """Whether the columnar engine compiles this policy (else its durable runs check every row exactly)."""
    from engine.columnar.evaluator import ColumnarEvaluator
    from engine.errors import PolicyDataError
    try:
        ColumnarEvaluator(*policy_and_rules(policy_id, reform), as_of)
    except PolicyDataError:
        return False
    return True


@contextmanager
def _binary_output(tmp: Optional[Path], stdout: IO[str]):
    """Where the workers' bytes go: the file, or standard output's byte stream (text streams without
    one, as in tests, get the text)."""
    if tmp is not None:
        with open(tmp, "wb") as fh:
            yield fh
        return
    stdout.flush()
    buffer = getattr(stdout, "buffer", None)
    yield buffer if buffer is not None else _TextSink(stdout)
    (buffer or stdout).flush()


class _TextSink:
    def __init__(self, stdout: IO[str]):
        self.stdout = stdout

    def write(self, data: bytes) -> None:
        self.stdout.write(data.decode("utf-8"))


def _write_contract(batch, columnar, policy, book, as_of: date, o: CheckOptions, tmp: Optional[Path],
                    stdout: IO[str]) -> None:
    """The columnar engine's results as output contract v2, through the durable path's builder."""
    from engine.columnar.output import contract_lines
    from engine.contract import Contract
    from engine.streams import TextStream, policy_line
    contract = Contract(columnar.plan.plans, book, engine="columnar", cross_check="off", detail=o.detail)
    first = policy_line(policy, book, as_of) if o.with_policy else None
    with _binary_output(tmp, stdout) as fh:
        stream = TextStream(fh, o.fmt, first_line=first)
        for line in contract_lines(batch, contract):
            stream.write((line + "\n" if o.fmt == "ndjson" else line).encode("utf-8"))
        stream.close()
        if tmp is None and o.fmt == "json":
            fh.write(b"\n")


def _check_columnar(file: Path, as_of: date, policy_id: str, o: CheckOptions, reform, reporter: Reporter,
                    stdout: IO[str]) -> int:
    """--engine columnar: the register as columns, all six families at once (engine/columnar/).
    Returns the number of rejected rows."""
    from engine.columnar.evaluator import ColumnarEvaluator
    from engine.columnar.output import render_table, results_json, write_summary_csv
    from engine.columnar.reader import read_register_frame
    from engine.exports import DecisionRows, write_decisions_xlsx
    from engine.output import csv_headers
    xlsx_out = o.out is not None and o.out.suffix.lower() == ".xlsx"
    if not xlsx_out and (o.fmt in ("csv", "ndjson", "parquet") or o.fmt == "json" and o.schema == "2"):
        from engine.commands.columnar_stream import check_in_batches
        return check_in_batches(file, as_of, policy_id, reform, o, reporter, stdout)
    policy, book = policy_and_rules(policy_id, reform)
    read = read_register_frame(file, as_of=as_of, policy=policy, sheet=o.sheet)
    report_read(read, reporter, o.errors)
    columnar = ColumnarEvaluator(policy, book, as_of)
    batch = columnar.evaluate_frame(read.frame)
    with atomic_output(o.out) as tmp:
        if o.out is not None and o.out.suffix.lower() == ".xlsx":
            sheet_rows = DecisionRows(book, o.lang)
            write_decisions_xlsx(tmp, (sheet_rows.row(r) for r in batch.results()), o.lang, book)
        elif o.fmt == "csv":
            write_summary_csv(batch, tmp if tmp is not None else stdout, headers=csv_headers(o.lang))
        elif o.fmt == "ndjson" or o.fmt == "json" and o.schema == "2":
            _write_contract(batch, columnar, policy, book, as_of, o, tmp, stdout)
        else:
            write_text(json.dumps(results_json(batch, o.lang), ensure_ascii=False, indent=2) if o.fmt == "json"
                           else render_table(batch.results(), o.lang), tmp, stdout)
    return len(read.rejected)


def _check_file(file: Path, as_of: date, policy_id: str, o: CheckOptions, executor, reform, reporter: Reporter,
                stdout: IO[str]) -> int:
    """One register file, streamed: chunks are evaluated by the executor's workers and written in row
    order as they come back. Returns the number of rejected rows."""
    from dataclasses import replace
    from engine.batch.local import Progress, RegisterRun, RejectedWriter, table_text
    from engine.batch.tasks import load_inputs
    from engine.exports import write_decisions_xlsx
    from engine.output import csv_headers
    from engine.streams import TextStream, policy_line
    out, lang = o.out, o.lang
    fmt = "xlsx" if out is not None and out.suffix.lower() == ".xlsx" else o.fmt
    run = RegisterRun(file, as_of=as_of, policy_id=policy_id, fmt=fmt, lang=lang, sheet=o.sheet, executor=executor,
                      chunk_size=o.chunk_size, reform=reform, output=replace(o.output(), fmt=fmt), town=o.town)
    for warning in run.scan.warnings:
        reporter.warning(str(warning))
    bar = Progress(run.total_rows, enabled=o.progress, lang=lang)
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
            if isinstance(chunk.items, bytes):
                yield chunk.items
            else:
                yield from chunk.items

    # A file is written under a temporary name and renamed when complete: never a half-written result.
    try:
        with atomic_output(out) as tmp:
            if fmt == "xlsx":
                write_decisions_xlsx(tmp, items(), lang, load_inputs(policy_id)[1])
            elif fmt in ("json", "ndjson", "csv"):
                # The workers rendered each chunk's bytes; here they are only written, in row order.
                first = policy_line(*run.loaded(), as_of) if o.with_policy else None
                with _binary_output(tmp, stdout) as fh:
                    stream = TextStream(fh, fmt, headers=csv_headers(lang), first_line=first)
                    for data in items():
                        stream.write(data)
                    stream.close()
                    if tmp is None and fmt == "json":
                        fh.write(b"\n")
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
                         executor=executor, reform=reform, output=o.output())
    bar = Progress(len(run.files), enabled=o.progress, unit="files", lang=o.lang)
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
