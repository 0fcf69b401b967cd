"""The `scaleup` command: parses options, calls the engine, renders. No policy logic lives here.

Exit codes: 0 evaluated (a "no" is a result, not an error); 1 bad input or data (a file that cannot
be read, a policy that does not validate, or any register row rejected); 2 usage error;
3 internal inconsistency (a bug: please report it with the command that produced it).
"""
from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Optional

import click

from engine import __version__
from engine.errors import EngineError, ScaleupError

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class AsOf(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date; expected YYYY-MM-DD, e.g. 2024-12-31", param, ctx)


def as_of_option(required: bool = True):
    return click.option("--as-of", "as_of", type=AsOf(), required=required,
                        help="Evaluate as of this date (YYYY-MM-DD). Never the clock.")


policy_option = click.option("--policy", "policy_id", default="wanzhou-2022-80", show_default=True,
                             help="Policy id under policies/, or a path to a policy folder.")
lang_option = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                           help="Language of explanations and tables.")


def user_errors(fn):
    """Domain errors become one line on stderr and an exit code; never a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ScaleupError as exc:
            for line in str(exc).splitlines() or [exc.__class__.__name__]:
                click.echo(f"error: {line}", err=True)
            sys.exit(EXIT_DATA)
        except EngineError as exc:
            click.echo(f"internal error (please report): {exc}", err=True)
            sys.exit(EXIT_INTERNAL)
        except (BrokenPipeError, KeyboardInterrupt):
            sys.exit(EXIT_DATA)
    return wrapper


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="scaleup")
def main():
    """Rules-as-code calculator for district industrial policy (升规入统).

    \b
    Example:
      scaleup check examples/register.csv --as-of 2024-12-31
      scaleup explain 915001017N0TR346AU examples/register.csv --as-of 2024-12-31
      scaleup policy show wanzhou-2022-80 --as-of 2024-06-30
    """


@main.group("policy")
def policy_group():
    """Policies: list them, show one.

    \b
    Example:
      scaleup policy list
    """


@policy_group.command("list")
@user_errors
def policy_list():
    """List the policies bundled under policies/.

    \b
    Example:
      scaleup policy list
    """
    from engine.errors import PolicyDataError
    from engine.policy import available_policies, load_policy, resolve_policy_folder
    broken = 0
    for pid in available_policies():
        try:
            m = load_policy(resolve_policy_folder(pid)).meta
        except PolicyDataError as exc:
            broken += 1
            click.echo(f"{pid}\tINVALID: {len(exc.problems)} problem(s), first: {exc.problems[0]} "
                       f"(see: scaleup policy check {pid})")
            continue
        fictional = "\t(fictional example)" if m.fictional else ""
        click.echo(f"{pid}\t{m.document_number}\t{m.title_zh}\t{m.in_force.from_.isoformat()}..{m.in_force.to.isoformat()}{fictional}")
    sys.exit(EXIT_DATA if broken else EXIT_OK)


@policy_group.command("show")
@click.argument("policy_id", default="wanzhou-2022-80", metavar="[ID|PATH]")
@as_of_option(required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@lang_option
@user_errors
def policy_show(policy_id: str, as_of: Optional[date], fmt: str, lang: str):
    """Show a policy: clauses (verbatim), parameters with provenance, targets, interpretations.

    Without --as-of every dated value of every parameter is listed.

    \b
    Example:
      scaleup policy show wanzhou-2022-80 --as-of 2024-06-30 --format json
    """
    from engine.policy import load_policy, resolve_policy_folder
    from engine.policy_view import policy_document
    from engine.render import environment
    doc = policy_document(load_policy(resolve_policy_folder(policy_id)), as_of)
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        click.echo(environment().get_template(f"policy_show_{lang}.txt.j2").render(doc=doc).rstrip())


@policy_group.command("check")
@click.argument("policy_id", default="wanzhou-2022-80", metavar="[ID|PATH]")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@user_errors
def policy_check(policy_id: str, fmt: str):
    """Static checks of a policy and its rules: the source's own figures, clause coverage, parameters
    in force, comparatives against operators, gaps and overlaps at every threshold's boundary.

    Exit 0 when there is no error (warnings about the source document are expected), 1 on errors.

    \b
    Example:
      scaleup policy check wanzhou-2022-80
      scaleup policy check path/to/my-policy-copy --format json
    """
    from engine.policy import resolve_policy_folder
    from engine.analysis.policy_check import check_policy, findings_json
    findings = check_policy(resolve_policy_folder(policy_id))
    errors = [f for f in findings if f.severity == "error"]
    if fmt == "json":
        click.echo(json.dumps({"policy": policy_id, "errors": len(errors), "findings": findings_json(findings)},
                              ensure_ascii=False, indent=2))
    else:
        for severity in ("error", "warning", "info"):
            for f in (x for x in findings if x.severity == severity):
                click.echo(f"{severity:7} {f.code:24} {f.message}  [{f.where}]")
        counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
        click.echo(f"{policy_id}: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes")
    sys.exit(EXIT_DATA if errors else EXIT_OK)


def _policy_and_rules(policy_id: str, reform=None):
    """The policy (with a what-if reform applied, when one is given) and its rule records."""
    from engine.evaluate import load_engine_inputs
    policy, book = load_engine_inputs(policy_id)
    if reform is not None:
        from engine.analysis.reform import apply_reform
        policy = apply_reform(policy, reform)
    return policy, book


def _report_read(read, errors: Optional[Path]) -> None:
    """Warnings and every rejected row's problems on stderr; the rejected rows saved when asked."""
    from engine.register import write_rejected
    for warning in read.warnings:
        click.echo(f"warning: {warning}", err=True)
    for rejected in read.rejected:
        for problem in rejected.problems:
            click.echo(f"error: {problem}", err=True)
    if read.rejected:
        if errors:
            write_rejected(read, errors)
        where = f"; see {errors}" if errors else "; use --errors FILE to save them with their reasons"
        click.echo(f"{len(read.rejected)} of {read.total_rows} rows rejected{where}", err=True)


def _evaluate_register(file: Path, as_of: date, policy_id: str, sheet: Optional[str], errors: Optional[Path],
                       reform=None):
    """Read the register, report rejected rows, evaluate the good ones. Returns (results, book, read)."""
    from engine.evaluate import Evaluator
    from engine.register import read_register
    policy, book = _policy_and_rules(policy_id, reform)
    read = read_register(file, as_of=as_of, policy=policy, sheet=sheet)
    _report_read(read, errors)
    evaluator = Evaluator(policy, book, as_of)
    results = [evaluator.evaluate(ent) for _, ent in read.accepted]
    return results, book, read


def register_options(fn):
    fn = click.option("--errors", "errors", type=click.Path(dir_okay=False, path_type=Path),
                      help="Write rejected rows, unchanged, with an 'error' column (CSV, UTF-8 with BOM).")(fn)
    fn = click.option("--sheet", default=None, help="XLSX sheet to read (default: the first).")(fn)
    return fn


def _reform_from_options(set_items: tuple, overrides: Optional[Path], as_of: date):
    from engine.errors import PolicyDataError
    from engine.analysis.reform import load_reform, parse_set_option
    if set_items and overrides:
        raise PolicyDataError(["use --set or --overrides, not both"])
    if overrides:
        return load_reform(overrides)
    return parse_set_option(tuple(set_items), as_of)


def reform_options(fn):
    fn = click.option("--overrides", "overrides", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                      help="A reform as YAML: name, effective date, parameter values.")(fn)
    fn = click.option("--set", "set_items", multiple=True, metavar="NAME=VALUE",
                      help="Change a parameter from the as-of date (repeatable).")(fn)
    return fn


@main.command("check")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@as_of_option()
@policy_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@lang_option
@click.option("--out", "out", type=click.Path(path_type=Path),
              help="Write the result to this file instead of standard output (.xlsx writes a workbook). "
                   "For a folder of register files: the folder for the result files.")
@register_options
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes, each with its own compiled rules [default: the machine's cores]. "
                   "The output is the same for any number.")
@click.option("--executor", "executor_name", type=click.Choice(["local", "dask"]), default="local",
              show_default=True, help="Where the workers run: this machine, or a Dask cluster (--scheduler; "
                                      "without it, a local Dask cluster of --workers processes).")
@click.option("--scheduler", default=None, envvar="SCALEUP_DASK_SCHEDULER", metavar="ADDRESS",
              help="Dask scheduler, e.g. tcp://10.1.2.3:8786 (with --executor dask; env SCALEUP_DASK_SCHEDULER).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None,
              help="Rows read, evaluated and written together [default: 1000; 100 for json]. Memory "
                   "depends on this, not on the size of the register.")
@click.option("--progress/--no-progress", "progress", default=None,
              help="Rows done, rows/s and rejected rows on stderr [default: when stderr is a terminal].")
@click.option("--engine", "engine_name", type=click.Choice(["durable", "columnar"]), default="durable",
              show_default=True,
              help="durable: durable_rules, each decision cross-checked with its explanation. columnar: the same "
                   "rules as column operations over the whole register (one process; for very large registers); "
                   "same outcomes, rule ids and amounts, explanations with `scaleup explain`.")
@reform_options
@user_errors
def check(file: Path, as_of: date, policy_id: str, fmt: str, lang: str, out: Optional[Path], sheet, errors,
          workers, executor_name, scheduler, chunk_size, progress, engine_name, set_items, overrides):
    """Evaluate every enterprise of a register (CSV, XLSX or JSON) against the policy.

    Each enterprise gets six decisions: upgrade eligibility, cultivation pool, enterprise award, town
    award, land/power priority and de-listing warning, each with its explanation (see `explain`).
    Large registers stream in chunks over --workers processes; FILE may also be a folder of register
    files (CSV, XLSX, JSON, Parquet: a partitioned register), evaluated into one result file each.

    \b
    Example:
      scaleup check examples/register.csv --as-of 2024-12-31
      scaleup check examples/register.xlsx --as-of 2024-12-31 --format json > decisions.json
      scaleup check province.csv --as-of 2024-12-31 --format csv --out decisions.csv --workers 8
      scaleup check parts/ --as-of 2024-12-31 --format csv --out results/ --executor dask --scheduler tcp://head:8786
    """
    from engine.batch.local import make_executor
    reform = _reform_from_options(set_items, overrides, as_of)
    if engine_name == "columnar":
        if file.is_dir() or executor_name != "local" or workers is not None or chunk_size is not None:
            raise click.UsageError("--engine columnar evaluates one register file in this process; "
                                   "leave out --workers, --executor and --chunk-size (or use --engine durable)")
        if out is not None and out.is_dir():
            raise click.UsageError(f"--out {out} is a folder; give a file name")
        sys.exit(EXIT_DATA if _check_columnar(file, as_of, policy_id, fmt, lang, out, sheet, errors, reform)
                 else EXIT_OK)
    if scheduler and executor_name != "dask":
        raise click.UsageError("--scheduler goes with --executor dask")
    if file.is_dir():
        if out is None or fmt not in ("csv", "json") or errors is not None or (out.exists() and not out.is_dir()):
            raise click.UsageError("a folder of register files needs --format csv or json and --out FOLDER for "
                                   "its result files (rejected rows are written beside them, NAME.errors.csv)")
    elif out is not None and out.is_dir():
        raise click.UsageError(f"--out {out} is a folder; give a file name")
    executor = make_executor(executor_name, workers, scheduler)
    try:
        if file.is_dir():
            rejected = _check_partitioned(file, out, as_of, policy_id, fmt, lang, executor, progress, reform)
        else:
            rejected = _check_file(file, as_of, policy_id, fmt, lang, out, sheet, errors, executor, chunk_size,
                                   progress, reform)
    finally:
        executor.close()
    sys.exit(EXIT_DATA if rejected else EXIT_OK)


@contextmanager
def _atomic_output(out: Optional[Path]):
    """Yields where to write: None for standard output, else a temporary NAME.partial that replaces
    `out` only when the block completes. A failed run never leaves a half-written result."""
    if out is None:
        yield None
        return
    tmp = out.with_name(out.name + ".partial")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def _emit_or_write(text: str, target: Optional[Path]) -> None:
    if target is None:
        _emit(text, None)
    else:
        target.write_text(text, encoding="utf-8")


def _check_columnar(file: Path, as_of: date, policy_id: str, fmt: str, lang: str, out: Optional[Path], sheet,
                    errors, reform=None) -> int:
    """--engine columnar: the register as columns, all six families at once (engine/columnar.py).
    Returns the number of rejected rows."""
    from engine.columnar.evaluator import ColumnarEvaluator
    from engine.columnar.reader import read_register_frame
    from engine.columnar.output import render_table, results_json, summary_rows, write_summary_csv
    from engine.output import csv_columns, csv_headers
    from engine.tabular import write_xlsx
    policy, book = _policy_and_rules(policy_id, reform)
    read = read_register_frame(file, as_of=as_of, policy=policy, sheet=sheet)
    _report_read(read, errors)
    batch = ColumnarEvaluator(policy, book, as_of).evaluate_frame(read.frame)
    with _atomic_output(out) as tmp:
        if out is not None and out.suffix.lower() == ".xlsx":
            cols = csv_columns()
            write_xlsx(tmp, {"decisions": (csv_headers(lang),
                                           ([r.get(c, "") for c in cols] for r in summary_rows(batch.results())))})
        elif fmt == "csv":
            write_summary_csv(batch, tmp if tmp is not None else sys.stdout, headers=csv_headers(lang))
        else:
            _emit_or_write(json.dumps(results_json(batch, lang), ensure_ascii=False, indent=2) if fmt == "json"
                           else render_table(batch.results(), lang), tmp)
    return len(read.rejected)


def _check_file(file: Path, as_of: date, policy_id: str, fmt: str, lang: str, out: Optional[Path], sheet, errors,
                executor, chunk_size: int, progress: Optional[bool], reform=None) -> int:
    """One register file, streamed: chunks are evaluated by the executor's workers and written in row
    order as they come back. Returns the number of rejected rows."""
    from engine.batch.local import Progress, RegisterRun, RejectedWriter, table_text, write_json_list
    from engine.output import csv_headers
    from engine.tabular import write_csv, write_xlsx
    to_xlsx = out is not None and out.suffix.lower() == ".xlsx"
    run = RegisterRun(file, as_of=as_of, policy_id=policy_id, fmt="xlsx" if to_xlsx else fmt, lang=lang,
                      sheet=sheet, executor=executor, chunk_size=chunk_size, reform=reform)
    for warning in run.scan.warnings:
        click.echo(f"warning: {warning}", err=True)
    bar = Progress(run.total_rows, enabled=progress)
    rejected = RejectedWriter(errors, run.scan.headers)

    def items():
        for chunk in run.chunks():
            if chunk.rejected:
                bar.clear()
            for row in chunk.rejected:
                rejected.add(row)
                for problem in row.problems:
                    click.echo(f"error: {problem}", err=True)
            bar.update(chunk.rows, len(chunk.rejected))
            yield from chunk.items

    # A file is written under a temporary name and renamed when complete: never a half-written result.
    try:
        with _atomic_output(out) as tmp:
            if to_xlsx:
                write_xlsx(tmp, {"decisions": (csv_headers(lang), items())})
            elif fmt == "json":
                if tmp is None:
                    write_json_list(sys.stdout, items())
                    sys.stdout.write("\n")
                else:
                    with open(tmp, "w", encoding="utf-8") as fh:
                        write_json_list(fh, items())
            elif fmt == "csv":
                write_csv(tmp if tmp is not None else sys.stdout, csv_headers(lang), items())
            else:
                _emit_or_write(table_text(list(items()), lang), tmp)
    finally:
        bar.close()
        rejected.close()
    if rejected.count:
        where = f"; see {errors}" if errors else "; use --errors FILE to save them with their reasons"
        click.echo(f"{rejected.count} of {run.total_rows} rows rejected{where}", err=True)
    return rejected.count


def _check_partitioned(folder: Path, out: Path, as_of: date, policy_id: str, fmt: str, lang: str, executor,
                       progress: Optional[bool], reform=None) -> int:
    """A folder of register files: one task and one result file per file. Returns the number of rejected
    rows and unreadable files."""
    from engine.batch.local import PartitionedRun, Progress
    run = PartitionedRun(folder, out, as_of=as_of, policy_id=policy_id, fmt=fmt, lang=lang, executor=executor,
                         reform=reform)
    bar = Progress(len(run.files), enabled=progress, unit="files")
    problems = rows = 0
    try:
        for part in run.results():
            bar.clear()
            if part.error:
                click.echo(f"error: {part.error}", err=True)
                problems += 1
                continue
            for warning in part.warnings:
                click.echo(f"warning: {warning}", err=True)
            for row in part.rejected:
                for problem in row.problems:
                    click.echo(f"error: {problem}", err=True)
            problems += len(part.rejected)
            rows += part.rows
            bar.update(1, len(part.rejected))
    finally:
        bar.close()
    click.echo(f"{len(run.files)} files, {rows} rows evaluated into {out}"
               + (f"; {problems} rows or files rejected (see NAME.errors.csv)" if problems else ""), err=True)
    return problems


@main.command("explain")
@click.argument("enterprise_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@as_of_option()
@policy_option
@lang_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--sheet", default=None, help="XLSX sheet to read (default: the first).")
@user_errors
def explain(enterprise_id: str, file: Path, as_of: date, policy_id: str, lang: str, fmt: str, sheet):
    """Print the full explanation of every decision about one enterprise.

    \b
    Example:
      scaleup explain 915001017N0TR346AU examples/register.csv --as-of 2024-12-31 --lang en
    """
    from engine.errors import InputFileError
    from engine.evaluate import Evaluator, load_engine_inputs
    from engine.output import result_json
    from engine.register import read_register
    from engine.render import render_decision
    policy, book = load_engine_inputs(policy_id)
    read = read_register(file, as_of=as_of, policy=policy, sheet=sheet)
    wanted = enterprise_id.strip().upper()
    match = [e for _, e in read.accepted if e.enterprise_id == wanted]
    if not match:
        rejected = [r for r in read.rejected if any(str(v).strip().upper() == wanted for v in r.original.values())]
        if rejected:
            raise InputFileError(f"{file} row {rejected[0].row}: enterprise {wanted} was rejected: "
                                 + "; ".join(p.message for p in rejected[0].problems))
        raise InputFileError(f"{file}: no enterprise with id {wanted} among {len(read.accepted)} valid rows")
    result = Evaluator(policy, book, as_of).evaluate(match[0])
    if fmt == "json":
        click.echo(json.dumps(result_json(result, book, lang), ensure_ascii=False, indent=2))
        return
    header = f"{result.name}（{result.enterprise_id}，{result.town}）  评价日期 {result.as_of}  政策 {result.policy}" \
        if lang == "zh" else f"{result.name} ({result.enterprise_id}, {result.town})  as of {result.as_of}  policy {result.policy}"
    click.echo(header)
    click.echo("=" * 60)
    for decision in result.decisions:
        click.echo(render_decision(decision, result, book, lang))
        click.echo("")


class Quantity(click.ParamType):
    """A quota: a decimal number ≥ 0 (never a float)."""

    name = "NUMBER"

    def convert(self, value, param, ctx):
        from decimal import Decimal, InvalidOperation
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number < 0:
            self.fail(f"{value!r} is not a quantity; expected a number ≥ 0, e.g. 50 or 12.5", param, ctx)
        return number


@main.command("priority")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@as_of_option()
@click.option("--land-quota", "land_quota", type=Quantity(), required=True,
              help="Land available for priority firms, in 亩 (mu); 0 allowed.")
@click.option("--power-quota", "power_quota", type=Quantity(), required=True,
              help="Power capacity available, in kVA (千伏安); 0 allowed.")
@policy_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@lang_option
@register_options
@user_errors
def priority(file: Path, as_of: date, land_quota, power_quota, policy_id: str, fmt: str, lang: str, sheet, errors):
    """Rank the firms eligible for priority land and power (三(三)) and allocate the quotas.

    Firms whose land/power priority decision is eligible are ranked by a score (growth, 亩均 class,
    years since inclusion; weights are parameters, see rules/priority_ranking.yaml), ties broken in
    a stated order, and served in rank order: a firm gets its requests when all of them fit what is
    left, otherwise nothing (the shortfall is shown). Every line explains itself.

    \b
    Example:
      scaleup priority examples/register.csv --as-of 2024-12-31 --land-quota 50 --power-quota 4000
      scaleup priority examples/register.csv --as-of 2024-12-31 --land-quota 0 --power-quota 0 --format json
    """
    from engine.evaluate import load_engine_inputs
    from engine.analysis.priority import allocate, allocation_json, render_allocation
    results, book, read = _evaluate_register(file, as_of, policy_id, sheet, errors)
    policy, _ = load_engine_inputs(policy_id)
    allocation = allocate(results, policy, book, as_of, {"land": land_quota, "power": power_quota})
    if fmt == "json":
        click.echo(json.dumps(allocation_json(allocation, book, lang), ensure_ascii=False, indent=2))
    else:
        _emit(render_allocation(allocation, book, lang), None)
    sys.exit(EXIT_DATA if read.rejected else EXIT_OK)


@main.command("targets")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--ledger", "ledger", type=click.Path(dir_okay=False, path_type=Path),
              help="Count from the scope ledger's dated 入统/退规 events; FILE, if given too, supplies "
                   "industry, derived origin and the projection.")
@as_of_option()
@click.option("--year", "year", type=click.IntRange(1990, 2100), default=None,
              help="Year in focus (default: the as-of year): its new firms are listed and, for the as-of year, projected.")
@policy_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@lang_option
@register_options
@reform_options
@user_errors
def targets(file: Optional[Path], ledger: Optional[Path], as_of: date, year: Optional[int], policy_id: str, fmt: str,
            lang: str, sheet, errors, set_items, overrides):
    """Progress against the plan's targets: the annex table and the text's floors beside actuals.

    Counts new 规上 industrial enterprises per year (园内/园外, 招商引资/小升规), exits and the stock,
    gives the gap (actual − target) to each figure, and projects the year end from the cultivation
    pool. FILE is a register snapshot as of --as-of; --ledger counts from the scope ledger instead
    (a snapshot cannot date exits, the ledger can).

    \b
    Example:
      scaleup targets examples/register.csv --as-of 2024-12-31
      scaleup targets examples/register.csv --as-of 2024-12-31 --year 2023 --format json
      scaleup targets --ledger scaleup.db --as-of 2024-12-31
    """
    if file is None and ledger is None:
        raise click.UsageError("give a register FILE, --ledger PATH, or both")
    from engine.analysis.targets import render_targets, targets_from_register
    reform = _reform_from_options(set_items, overrides, as_of)
    policy, book = _policy_and_rules(policy_id, reform)
    rows, recorded_from = None, None
    if ledger is not None:
        from engine.awards.ledger import Ledger
        store = Ledger.open(ledger, create=False)
        try:
            rows = store.scope_events()
            runs = store.summary()["runs"]
        finally:
            store.close()
        recorded_from = min((date.fromisoformat(r["as_of"]) for r in runs), default=None)
    enterprises, results, rejected = [], [], False
    if file is not None:
        results, book, read = _evaluate_register(file, as_of, policy_id, sheet, errors, reform)
        enterprises, rejected = [e for _, e in read.accepted], bool(read.rejected)
    table = targets_from_register(enterprises, results, policy, book, as_of, year, ledger_rows=rows,
                                  recorded_from=recorded_from)
    if fmt == "json":
        click.echo(json.dumps(table, ensure_ascii=False, indent=2))
    else:
        _emit(render_targets(table, lang), None)
    sys.exit(EXIT_DATA if rejected else EXIT_OK)


AUDIT_TYPES = ("enterprise_award", "town_award")


def _source_of(file: Path, row: int, sheet: Optional[str]) -> dict:
    """Where a record's facts came from: the register's file name (not its path: ids stay stable) and row."""
    return {"file": file.name, "row": row, **({"sheet": sheet} if sheet else {})}


@main.command("audit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@as_of_option()
@policy_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the records: <enterprise_id>-<type>-<as_of>.json (created if missing).")
@click.option("--all-decisions", is_flag=True,
              help="Write a record for every decision of every enterprise, not only the awards paid.")
@click.option("--sheets", type=click.Choice(["md", "html"]), default=None,
              help="Also write each award's review sheet (审核表) beside its record.")
@lang_option
@register_options
@user_errors
def audit(file: Path, as_of: date, policy_id: str, out_dir: Path, all_decisions: bool, sheets: Optional[str],
          lang: str, sheet, errors):
    """Write a replayable audit record (JSON) for each award: facts, policy and rule hashes, conditions,
    parameters with provenance, the amount's arithmetic and a decision id. Check them with `verify`.

    One record per enterprise award and town award paid; --all-decisions writes every decision.
    Prints each file written and its decision id.

    \b
    Example:
      scaleup audit examples/register.csv --as-of 2024-12-31 --out out/audit
      scaleup audit examples/register.csv --as-of 2024-12-31 --out out/audit --sheets html
      scaleup verify out/audit
    """
    from engine.awards.audit import build_record, fingerprint, write_record
    from engine.awards.review import review_sheet, sheet_file_name
    from engine.evaluate import load_engine_inputs
    from engine.tabular import safe_output_path
    results, book, read = _evaluate_register(file, as_of, policy_id, sheet, errors)
    policy, _ = load_engine_inputs(policy_id)
    fp = fingerprint(policy, book)
    written = 0
    for (row, enterprise), result in zip(read.accepted, results):
        for decision in result.decisions:
            paying = decision.type in AUDIT_TYPES and decision.outcome == "awarded"
            if not (paying or all_decisions):
                continue
            record = build_record(result, decision, enterprise, policy, book,
                                  source=_source_of(file, row, sheet), fp=fp)
            path = write_record(record, out_dir)
            written += 1
            click.echo(f"{path}\t{record['decision_id']}")
            if sheets and decision.type in AUDIT_TYPES:
                text = review_sheet(record, result, decision, policy, book, lang, sheets)
                safe_output_path(out_dir, sheet_file_name(record, lang, sheets)).write_text(text, encoding="utf-8")
    click.echo(f"{written} audit record(s) written to {out_dir}", err=True)
    sys.exit(EXIT_DATA if read.rejected else EXIT_OK)


@main.command("verify")
@click.argument("records", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--policy", "policy_id", default=None,
              help="Verify against this policy id or folder instead of the one each record names "
                   "(e.g. a copy being edited).")
@click.option("--rules", "rules_dir", default=None, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Verify against this rules folder instead of the policy's.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@lang_option
@user_errors
def verify(records: tuple[Path, ...], policy_id: Optional[str], rules_dir: Optional[Path], fmt: str, lang: str):
    """Recompute audit records from their own facts and report, for each: ok, changed (the policy data,
    rules or engine differ from what the record names: says what), tampered (the content does not match
    its id, or its result does not follow from its facts) or unreadable.

    A folder stands for the *.json records in it. Exit code 0 when every record is ok, 1 otherwise.

    \b
    Example:
      scaleup verify out/audit
      scaleup verify out/audit/*.json --policy ~/drafts/wanzhou-2022-80 --lang en
    """
    from engine.awards.audit import Verifier, render_verifications
    paths: list[Path] = []
    for p in records:
        paths += sorted(p.glob("*.json")) if p.is_dir() else [p]
    if not paths:
        raise click.UsageError("no *.json records in " + ", ".join(map(str, records)))
    verifier = Verifier(policy=policy_id, rules_dir=rules_dir)
    results = [verifier.verify_file(p) for p in paths]
    if fmt == "json":
        click.echo(json.dumps([r.as_json() for r in results], ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(render_verifications(results, lang), nl=False)
    sys.exit(EXIT_OK if all(r.status == "ok" for r in results) else EXIT_DATA)


@main.command("review")
@click.argument("enterprise_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@as_of_option()
@policy_option
@click.option("--type", "type_", type=click.Choice(AUDIT_TYPES), default="enterprise_award", show_default=True,
              help="Which award's sheet.")
@lang_option
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the sheet to this file instead of standard output.")
@click.option("--sheet", default=None, help="XLSX sheet to read (default: the first).")
@user_errors
def review(enterprise_id: str, file: Path, as_of: date, policy_id: str, type_: str, lang: str, fmt: str,
           out: Optional[Path], sheet):
    """Print the review sheet (审核表) of one enterprise's award: particulars, the clause verbatim, every
    condition with its data and where each figure comes from, the amount's arithmetic, and a clear
    假定值 / ASSUMED mark on every figure the policy does not state. It carries the decision id of
    the award's audit record (see `audit`).

    \b
    Example:
      scaleup review 915001017P5X326G0R examples/register.csv --as-of 2024-12-31
      scaleup review 915001017P5X326G0R examples/register.csv --as-of 2024-12-31 --type town_award \\
          --lang en --format html --out sheet.html
    """
    from engine.awards.audit import build_record
    from engine.awards.review import review_sheet
    from engine.errors import InputFileError
    from engine.evaluate import Evaluator, load_engine_inputs
    from engine.register import read_register
    policy, book = load_engine_inputs(policy_id)
    read = read_register(file, as_of=as_of, policy=policy, sheet=sheet)
    wanted = enterprise_id.strip().upper()
    match = [(row, e) for row, e in read.accepted if e.enterprise_id == wanted]
    if not match:
        rejected = [r for r in read.rejected if any(str(v).strip().upper() == wanted for v in r.original.values())]
        if rejected:
            raise InputFileError(f"{file} row {rejected[0].row}: enterprise {wanted} was rejected: "
                                 + "; ".join(p.message for p in rejected[0].problems))
        raise InputFileError(f"{file}: no enterprise with id {wanted} among {len(read.accepted)} valid rows")
    row, enterprise = match[0]
    result = Evaluator(policy, book, as_of).evaluate(enterprise)
    decision = result.decision(type_)
    record = build_record(result, decision, enterprise, policy, book, source=_source_of(file, row, sheet))
    _emit(review_sheet(record, result, decision, policy, book, lang, fmt), out)


@main.command("report")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@as_of_option()
@policy_option
@lang_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The HTML file to write (one self-contained page: no script, no network).")
@register_options
@reform_options
@click.option("--sweep", "sweep_spec", default=None, metavar="PARAM:FROM:TO:STEPS",
              help="Add a sweep chart, e.g. scale_threshold:15000000:25000000:5.")
@user_errors
def report(file: Path, as_of: date, policy_id: str, lang: str, out: Path, sheet, errors, set_items, overrides,
           sweep_spec):
    """Write a one-page HTML report of a register: summary, decisions by family, a table by town, award
    totals by town and beneficiary type, de-listing warnings by level, and charts.

    \b
    Example:
      scaleup report examples/register.csv --as-of 2024-12-31 --out report.html
      scaleup report examples/register.xlsx --as-of 2024-12-31 --lang en --out report-en.html
    """
    from engine.evaluate import load_engine_inputs
    from engine.report.report import build_report_data, render_report
    results, book, read = _evaluate_register(file, as_of, policy_id, sheet, errors)
    policy, _ = load_engine_inputs(policy_id)
    data = build_report_data(results, policy, book, as_of.isoformat(), lang, source=file.name,
                             total_rows=read.total_rows, rejected_rows=len(read.rejected))
    import engine.report.sections  # noqa: F401 - registers the targets, priority and what-if sections
    reform = _reform_from_options(set_items, overrides, as_of)
    if reform is not None or sweep_spec:
        from engine.register import read_register
        from engine.analysis.whatif import diff
        firms = [e for _, e in read_register(file, as_of=as_of, policy=policy,
                                             sheet=sheet).accepted]
        if reform is not None:
            data.view["whatif_diff"] = diff(firms, policy, book, reform, as_of)
        if sweep_spec:
            data.view["sweep_param"], data.view["sweep_points"] = _sweep_from_spec(sweep_spec, firms, policy, book, as_of)
    text = render_report(data)
    out.write_text(text, encoding="utf-8")
    click.echo(f"{out}\t{len(text.encode('utf-8'))} bytes")
    sys.exit(EXIT_DATA if read.rejected else EXIT_OK)


# ---------------------------------------------------------------- award runs and the award ledger
ledger_option = click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path),
                             default="scaleup.db", show_default=True,
                             help="The award ledger: one SQLite file, created by the first committed run.")


@main.command("awards")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", "year", type=click.IntRange(1990, 2200), required=True,
              help="The award year: enterprises included in scope (入统) in this year are awarded, and "
                   "earlier awards are settled at this year's review.")
@click.option("--as-of", "as_of", type=AsOf(), default=None,
              help="Evaluation date, within --year. Default: 31 December of --year (never the clock).")
@policy_option
@ledger_option
@click.option("--commit", is_flag=True,
              help="Record the run in the ledger, in one transaction. Without it: a dry run that writes nothing.")
@click.option("--by", "by", type=click.Choice(["enterprise", "town"]), default="enterprise", show_default=True,
              help="enterprise: every award, settlement and check; town: totals per town/street and beneficiary type.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table",
              show_default=True, help="csv/xlsx: the year's money lines (--by enterprise) or the town totals (--by town).")
@lang_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output (required for xlsx).")
@register_options
@reform_options
@user_errors
def awards(file: Path, year: int, as_of: Optional[date], policy_id: str, ledger_path: Path, commit: bool, by: str,
           fmt: str, lang: str, out: Optional[Path], sheet, errors, set_items, overrides):
    """A year's award run: evaluate the register, check it against the award ledger, and show (dry run)
    or record (--commit) the new awards, their instalments, and the settlement of earlier awards
    (instalments due, growth top-ups, clawbacks), with totals per town/street.

    The ledger makes it safe to run again: nothing is ever awarded twice (首次 is checked against the
    ledger's history as well as the register's 曾经入统), and a committed run is one transaction.

    \b
    Example:
      scaleup awards examples/register.csv --year 2024                      # dry run
      scaleup awards examples/register.csv --year 2024 --commit --ledger awards.db
      scaleup awards examples/register.csv --year 2024 --ledger awards.db --by town --format xlsx --out towns.xlsx
    """
    from engine.awards.run import (RunContext, commit_run, dry_run, journal_table, plan_json, prepare_items,
                                  render_plan, town_table)
    from engine.awards.ledger import Ledger
    as_of = as_of or date(year, 12, 31)
    if as_of.year != year:
        raise click.BadParameter(f"{as_of.isoformat()} is not in the award year {year}; leave --as-of out to use "
                                 f"{year}-12-31", param_hint="--as-of")
    if fmt == "xlsx" and out is None:
        raise click.BadParameter("xlsx needs --out FILE.xlsx", param_hint="--format")
    reform = _reform_from_options(set_items, overrides, as_of)
    if reform is not None and commit:
        raise click.UsageError("a what-if run (--set/--overrides) cannot be committed: money is recorded only "
                               "under the policy as published")
    if ledger_path.exists():
        Ledger.open(ledger_path, create=False).close()     # a ledger we cannot use stops us before any work
    results, book, read = _evaluate_register(file, as_of, policy_id, sheet, errors, reform)
    policy, _ = _policy_and_rules(policy_id, reform)
    ctx = RunContext.build(year, as_of, policy, book, file, sheet)
    items = prepare_items(ctx, read.accepted, results)
    if commit:
        with Ledger.open(ledger_path) as ledger:
            plan = commit_run(ledger, ctx, items)
    elif ledger_path.exists():
        with Ledger.open(ledger_path, create=False) as ledger:
            plan = dry_run(ledger, ctx, items)
    else:
        with Ledger.empty() as ledger:
            plan = dry_run(ledger, ctx, items)
        plan.ledger_name, plan.ledger_exists = str(ledger_path), False
    if fmt == "json":
        _emit(json.dumps(plan_json(plan, policy), ensure_ascii=False, indent=2), out)
    elif fmt in ("csv", "xlsx"):
        town = town_table(plan, policy, lang)
        journal = journal_table(plan, lang)
        if fmt == "xlsx":
            from engine.tabular import write_xlsx
            names = ("乡镇（街道）汇总", "奖励明细") if lang == "zh" else ("town totals", "money lines")
            sheets = {names[0]: town, names[1]: journal} if by == "town" else {names[1]: journal, names[0]: town}
            write_xlsx(out, sheets)
        else:
            from engine.tabular import write_csv
            headers, rows = town if by == "town" else journal
            write_csv(out if out is not None else sys.stdout, headers, rows)
    else:
        _emit(render_plan(plan, policy, lang, "run" if by == "enterprise" else "town", commit), out)
    if out is not None:
        click.echo(f"written: {out}", err=True)
    sys.exit(EXIT_DATA if read.rejected else EXIT_OK)


@main.group("ledger")
def ledger_group():
    """The award ledger: show it, back it up and export it, record payments.

    \b
    Example:
      scaleup ledger show --ledger awards.db
      scaleup ledger export --ledger awards.db --out backup-2024/
    """


@ledger_group.command("show")
@ledger_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@lang_option
@user_errors
def ledger_show(ledger_path: Path, fmt: str, lang: str):
    """Runs recorded, instalments by status, clawbacks, scope history, and a consistency check.

    \b
    Example:
      scaleup ledger show --ledger awards.db
    """
    from engine.awards.run import render_ledger_summary
    from engine.awards.ledger import Ledger
    with Ledger.open(ledger_path, create=False) as ledger:
        with ledger.snapshot():
            summary = ledger.summary()
    if fmt == "json":
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _emit(render_ledger_summary(summary, lang), None)
    sys.exit(EXIT_INTERNAL if summary["problems"] else EXIT_OK)


@ledger_group.command("export")
@ledger_option
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="A new folder (ledger.db backup, one CSV per table, audit/ records) or a file ending in .db "
                   "(backup only).")
@user_errors
def ledger_export(ledger_path: Path, out: Path):
    """Back up the ledger with SQLite's online backup API (consistent even while a run is writing)
    and export every table as CSV (UTF-8 with BOM) and each award's audit record as JSON (audit/,
    for `scaleup verify`), all read from that backup.

    \b
    Example:
      scaleup ledger export --ledger awards.db --out backup-2024/
      scaleup ledger export --ledger awards.db --out awards-2024-12-31.db
    """
    from engine.awards.ledger import export_ledger
    for path in export_ledger(ledger_path, out):
        click.echo(str(path))


@ledger_group.command("pay")
@ledger_option
@click.option("--paid-on", "paid_on", type=AsOf(), required=True, help="Date of payment (YYYY-MM-DD).")
@click.option("--reference", required=True, help="Payment voucher or batch number (凭证号).")
@click.option("--year", "year", type=click.IntRange(1990, 2200), default=None,
              help="Only instalments due in this year.")
@click.option("--enterprise", "enterprise_ids", multiple=True,
              help="Only this enterprise (USCC); repeat for several.")
@click.option("--commit", is_flag=True, help="Record the payment. Without it: a dry run listing what would be paid.")
@lang_option
@user_errors
def ledger_pay(ledger_path: Path, paid_on: date, reference: str, year: Optional[int], enterprise_ids: tuple,
               commit: bool, lang: str):
    """Record that payable instalments were paid (payable → paid). A paid instalment can never be paid
    again; if the enterprise later leaves scope within the clawback period, what was paid is clawed back.

    \b
    Example:
      scaleup ledger pay --ledger awards.db --year 2024 --paid-on 2025-03-20 --reference 财拨〔2025〕12号
      scaleup ledger pay --ledger awards.db --year 2024 --paid-on 2025-03-20 --reference 财拨〔2025〕12号 --commit
    """
    from engine.awards.run import pay, render_payments
    from engine.awards.ledger import Ledger
    ids = tuple(e.strip().upper() for e in enterprise_ids)
    with Ledger.open(ledger_path, create=False) as ledger:
        rows = pay(ledger, paid_on=paid_on, reference=reference, year=year, enterprise_ids=ids, commit=commit)
    _emit(render_payments(rows, lang, committed=commit, paid_on=paid_on, reference=reference), None)


@main.command("diff")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@as_of_option()
@policy_option
@reform_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@lang_option
@click.option("--sheet", default=None, help="XLSX sheet to read (default: the first).")
@user_errors
def diff_command(file: Path, as_of: date, policy_id: str, set_items, overrides, fmt: str, lang: str, sheet):
    """What a policy change does: every decision and amount that changes, the rule and parameter
    responsible, the budget effect by beneficiary type and town, and the year's target attainment.

    \b
    Example:
      scaleup diff examples/register.csv --as-of 2024-12-31 --overrides examples/reforms/lower-pool-bound.yaml
      scaleup diff examples/register.csv --as-of 2024-12-31 --set enterprise_award_industrial=150000
    """
    from engine.errors import PolicyDataError
    from engine.evaluate import load_engine_inputs
    from engine.register import read_register
    from engine.analysis.whatif import diff, diff_json, render_diff
    reform = _reform_from_options(set_items, overrides, as_of)
    if reform is None:
        raise PolicyDataError(["diff needs a change: --set NAME=VALUE or --overrides FILE"])
    policy, book = load_engine_inputs(policy_id)
    read = read_register(file, as_of=as_of, policy=policy, sheet=sheet)
    for rejected in read.rejected:
        for problem in rejected.problems:
            click.echo(f"error: {problem}", err=True)
    result = diff([e for _, e in read.accepted], policy, book, reform, as_of)
    if fmt == "json":
        click.echo(json.dumps(diff_json(result), ensure_ascii=False, indent=2))
    else:
        click.echo(render_diff(result, policy, book, lang))
    sys.exit(EXIT_DATA if read.rejected else EXIT_OK)


@main.command("sweep")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@as_of_option()
@policy_option
@click.option("--param", "param_name", required=True, help="The parameter to vary, e.g. scale_threshold.")
@click.option("--from", "start", required=True, help="First value (yuan for money, 0.2 for 20%).")
@click.option("--to", "stop", required=True, help="Last value.")
@click.option("--steps", type=click.IntRange(2, 200), default=5, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--sheet", default=None, help="XLSX sheet to read (default: the first).")
@user_errors
def sweep_command(file: Path, as_of: date, policy_id: str, param_name: str, start: str, stop: str, steps: int,
                  fmt: str, sheet):
    """Vary one parameter over a range: firms eligible, pool size, awards and the target gap at each value.

    \b
    Example:
      scaleup sweep examples/register.csv --as-of 2024-12-31 --param scale_threshold --from 15000000 --to 25000000 --steps 5
    """
    from engine.errors import PolicyDataError
    from engine.evaluate import load_engine_inputs
    from engine.output import json_value
    from engine.policy import did_you_mean
    from engine.register import read_register
    from engine.analysis.whatif import sweep, sweep_values
    policy, book = load_engine_inputs(policy_id)
    param = policy.parameters.get(param_name)
    if param is None:
        raise PolicyDataError([f"unknown parameter {param_name!r}{did_you_mean(param_name, policy.parameters)}"])
    if param.type not in ("money", "ratio", "count"):
        raise PolicyDataError([f"{param_name} is {param.type}; sweep varies money, ratio or count parameters"])
    try:
        values = sweep_values(param.type, start, stop, steps)
    except (ArithmeticError, ValueError) as exc:
        raise PolicyDataError([f"--from/--to: {exc}"]) from None
    read = read_register(file, as_of=as_of, policy=policy, sheet=sheet)
    points = sweep([e for _, e in read.accepted], policy, book, param_name, values, as_of)
    rows = [{"value": p.value, "eligible": p.eligible, "pool": p.pool, "enterprise_awards": p.enterprise_awards,
             "awards_total_yuan": json_value(p.awards_total, "money"), "projected_new": p.attainment.projected,
             "target_new_total": p.attainment.target_new_total, "gap": p.attainment.gap} for p in points]
    if fmt == "json":
        click.echo(json.dumps({"parameter": param_name, "as_of": as_of.isoformat(), "points": rows},
                              ensure_ascii=False, indent=2))
    else:
        head = ["value", "eligible", "pool", "enterprise_awards", "awards_total_yuan", "projected_new",
                "target_new_total", "gap"]
        click.echo("  ".join(f"{h:>18}" for h in head))
        for row in rows:
            click.echo("  ".join(f"{str(row[h] if row[h] is not None else '-'):>18}" for h in head))
    sys.exit(EXIT_DATA if read.rejected else EXIT_OK)


def _sweep_from_spec(spec: str, firms, policy, book, as_of: date):
    from engine.errors import PolicyDataError
    from engine.analysis.whatif import sweep, sweep_values
    parts = spec.split(":")
    if len(parts) != 4 or not parts[3].isdigit():
        raise PolicyDataError([f"--sweep {spec!r}: expected PARAM:FROM:TO:STEPS, e.g. scale_threshold:15000000:25000000:5"])
    name, start, stop, steps = parts[0], parts[1], parts[2], int(parts[3])
    param = policy.parameters.get(name)
    if param is None or param.type not in ("money", "ratio", "count"):
        raise PolicyDataError([f"--sweep: {name!r} is not a money, ratio or count parameter"])
    try:
        values = sweep_values(param.type, start, stop, steps)
    except (ArithmeticError, ValueError) as exc:
        raise PolicyDataError([f"--sweep: {exc}"]) from None
    return name, sweep(firms, policy, book, name, values, as_of)


def _emit(text: str, out: Optional[Path]) -> None:
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        out.write_text(text, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    main()
