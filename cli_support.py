"""What the `scaleup` commands (cli.py) share: parameter types that refuse what is not a date or a
quantity as a usage error, option sets written once, and the output side: templates of wording,
diagnostics on standard error, results on standard output, the exit code. Imports the engine lazily
(`scaleup -h` stays quick)."""
from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import date
from functools import lru_cache, wraps
from pathlib import Path
from typing import Optional

# numpy's OpenBLAS starts a thread per core when numpy is imported, which spins for a while and then
# sleeps; nothing here multiplies matrices (numpy is used element-wise, one core a worker process). Told
# before numpy is imported (cli.py imports this module before the engine) that one thread will do,
# unless the user said otherwise: a 1-row typed Parquet check --workers 2 took 0.49 -> 0.44 CPU-s.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click  # noqa: E402

from engine.batch.gc_pace import no_collection_at_exit  # noqa: E402
from engine.errors import EngineError, ScaleupError, UsageConflict  # noqa: E402

no_collection_at_exit()         # a command's process ends without collecting what it leaves alive

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class AsOf(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(messages().not_a_date(repr(value)), param, ctx)


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
            self.fail(messages().not_a_quantity(repr(value)), param, ctx)
        return number


def stacked(*decorators):
    """Several click decorators as one, in the order they would be written above a command."""
    def apply(fn):
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn
    return apply


def as_of_option(required: bool = True):
    return click.option("--as-of", "as_of", type=AsOf(), required=required,
                        help="Evaluate as of this date (YYYY-MM-DD). Never the clock.")


def format_option(*choices: str):
    """--format, the first choice by default."""
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=choices[0], show_default=True)


register_file = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
policy_option = click.option("--policy", "policy_id", default="wanzhou-2022-80", show_default=True,
                             help="Policy id under policies/, or a path to a policy folder.")
lang_option = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                           help="Language of explanations and tables.")
sheet_option = click.option("--sheet", default=None, help="XLSX sheet to read (default: the first).")
town_option = click.option("--town", "town", default=None, metavar="NAME",
                           help="Only this town or street (name, former name or NBS code), e.g. --town 分水镇.")
ledger_option = click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path),
                             default="scaleup.db", show_default=True,
                             help="The award ledger: one SQLite file, created by the first committed run.")
register_options = stacked(
    sheet_option,
    click.option("--errors", "errors", type=click.Path(dir_okay=False, path_type=Path),
                 help="Write rejected rows, unchanged, with an 'error' column (CSV, UTF-8 with BOM)."))
reform_options = stacked(
    click.option("--set", "set_items", multiple=True, metavar="NAME=VALUE",
                 help="Change a parameter from the as-of date (repeatable)."),
    click.option("--overrides", "overrides", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="A reform as YAML: name, effective date, parameter values."))

# `check`: where the result goes, and how the work is spread (engine/commands/check.py CheckOptions).
check_options = stacked(
    click.option("--out", "out", type=click.Path(path_type=Path),
                 help="Write the result to this file instead of standard output (.xlsx writes a workbook). "
                      "For a folder of register files: the folder for the result files."),
    register_options,
    click.option("--workers", type=click.IntRange(min=1), default=None,
                 help="Worker processes, each with its own compiled rules [default: the machine's cores]. "
                      "The output is the same for any number."),
    click.option("--executor", "executor_name", type=click.Choice(["local", "dask"]), default="local",
                 show_default=True, help="Where the workers run: this machine, or a Dask cluster (--scheduler; "
                                         "without it, a local Dask cluster of --workers processes)."),
    click.option("--scheduler", default=None, envvar="SCALEUP_DASK_SCHEDULER", metavar="ADDRESS",
                 help="Dask scheduler, e.g. tcp://10.1.2.3:8786 (with --executor dask; env SCALEUP_DASK_SCHEDULER)."),
    click.option("--chunk-size", type=click.IntRange(min=1), default=None,
                 help="Rows read, evaluated and written together [default: 1000; 100 for json; --engine "
                      "columnar: 50,000, 5,000 for ndjson and json]. Memory "
                      "depends on this, not on the size of the register."),
    click.option("--progress/--no-progress", "progress", default=None,
                 help="Rows done, rows/s and rejected rows on stderr [default: when stderr is a terminal]."),
    click.option("--engine", "engine_name", type=click.Choice(["durable", "columnar"]), default="durable",
                 show_default=True,
                 help="durable: durable_rules, each decision cross-checked with its explanation. columnar: the same "
                      "rules as column operations over the whole register (one process; for very large registers); "
                      "same outcomes, rule ids and amounts, explanations with `scaleup explain`."),
    # Output contract v2 (docs/output-contract.md): engine/streams.OutputSpec.
    click.option("--schema", type=click.Choice(["1", "2"]), default="2", show_default=True,
                 help="json: contract version; 1 is the previous shape, kept for one release."),
    click.option("--explain", "explain", is_flag=True,
                 help="json/ndjson: add each decision's explanation text (as `scaleup explain` prints it)."),
    click.option("--detail", type=click.Choice(["compact", "full"]), default="compact", show_default=True,
                 help="json/ndjson: the deciding conditions, or every condition of every rule considered."),
    click.option("--with-policy", "with_policy", is_flag=True,
                 help="ndjson: the policy document (clauses, parameters, rules, interpretations) as the first line."),
    click.option("--cross-check", "cross_check", type=click.Choice(["columnar", "exact"]), default="columnar",
                 show_default=True,
                 help="Summary runs: what checks every durable_rules verdict. columnar: the columnar engine, "
                      "batch by batch (the register read and derived once, column-wise); exact: the exact "
                      "evaluation of every rule, row by row, on the register as the row-by-row reader reads "
                      "it (slower; shares nothing with the columnar path). Recorded in JSON/NDJSON."),
    click.option("--no-cross-check", "no_cross_check", is_flag=True,
                 help="Summary runs: skip checking every row with the columnar engine (recorded as "
                      "\"cross_check\": \"off\" in JSON/NDJSON and warned on stderr)."))

# `awards`: the ledger, commit or dry run, and how the run is shown.
award_options = stacked(
    policy_option,
    ledger_option,
    click.option("--commit", is_flag=True,
                 help="Record the run in the ledger, in one transaction. Without it: a dry run that writes nothing."),
    click.option("--by", "by", type=click.Choice(["enterprise", "town"]), default="enterprise", show_default=True,
                 help="enterprise: every award, settlement and check; town: totals per town/street and beneficiary type."),
    click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table",
                 show_default=True, help="csv/xlsx: the year's money lines (--by enterprise) or the town totals (--by town)."),
    lang_option,
    click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
                 help="Write to this file instead of standard output (required for xlsx)."),
    register_options)


@lru_cache(maxsize=None)
def messages():
    """What the command says on standard error, worded in engine/templates/_cli_messages.j2."""
    from engine.render import environment
    return environment().get_template("_cli_messages.j2").module


class StderrReporter:
    """Diagnostics of a running command, one line each on standard error."""

    def warning(self, text: str) -> None:
        click.echo(messages().warning(text), err=True)

    def problem(self, text: str) -> None:
        click.echo(messages().error(text), err=True)

    def rejected(self, count: int, total: int, saved_to: Optional[Path]) -> None:
        click.echo(messages().rejected(count, total, saved_to), err=True)


REPORTER = StderrReporter()


def emit(text: str, out: Optional[Path] = None) -> None:
    """Text to standard output (one final newline), or to a file as it is."""
    from engine.commands.common import write_text
    write_text(text, out, sys.stdout)


def emit_json(doc, **kwargs) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2, **kwargs))


def show(result, fmt: str, lang: str, out: Optional[Path] = None) -> None:
    """A command's result (engine/commands/) as JSON or as its text, which templates word."""
    if fmt == "json":
        emit_json(result.json(lang))
    else:
        emit(result.text(lang), out)


def done(failed) -> None:
    """Exit 1 when rows were rejected (or records failed), else 0."""
    sys.exit(EXIT_DATA if failed else EXIT_OK)


def show_policy_in_synopses(group: click.Group) -> None:
    """Every command that reads a policy says so in its usage line (`scaleup explain [--policy ID]
    [OPTIONS] ...`): the default policy is one district's, and another district's register needs it."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            show_policy_in_synopses(command)
        elif any(isinstance(p, click.Option) and p.name == "policy_id" for p in command.params):
            command.options_metavar = "[--policy ID] [OPTIONS]"


# ---------------------------------------------------------------- domain errors, in one place
def user_errors(fn):
    """cli.py's one error translator: domain errors become one line on stderr and an exit code; never a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UsageConflict as exc:
            raise click.UsageError(str(exc)) from None
        except ScaleupError as exc:
            for line in str(exc).splitlines() or [exc.__class__.__name__]:
                click.echo(messages().error(line), err=True)
            sys.exit(EXIT_DATA)
        except EngineError as exc:
            click.echo(messages().internal(exc), err=True)
            sys.exit(EXIT_INTERNAL)
        except (BrokenPipeError, KeyboardInterrupt):
            sys.exit(EXIT_DATA)
        except OSError as exc:           # a file the engine did not foresee: still one line, never a traceback
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            click.echo(messages().error(f"{where}{exc.strerror or exc}"), err=True)
            sys.exit(EXIT_DATA)
        except sqlite3.Error as exc:
            click.echo(messages().error(f"the ledger: {exc}"), err=True)
            sys.exit(EXIT_DATA)
    return wrapper
