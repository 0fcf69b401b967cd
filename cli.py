"""The `scaleup` command: parses options, calls the engine, renders. No policy logic lives here.

Exit codes: 0 evaluated (a "no" is a result, not an error); 1 bad input or data (a file that cannot
be read, a policy that does not validate, or any register row rejected); 2 usage error;
3 internal inconsistency (a bug: please report it with the command that produced it).
"""
from __future__ import annotations

import json
import sys
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
    from engine.policy import available_policies, load_policy, resolve_policy_folder
    for pid in available_policies():
        policy = load_policy(resolve_policy_folder(pid))
        m = policy.meta
        click.echo(f"{pid}\t{m.document_number}\t{m.title_zh}\t{m.in_force.from_.isoformat()}..{m.in_force.to.isoformat()}")


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


def _evaluate_register(file: Path, as_of: date, policy_id: str, sheet: Optional[str], errors: Optional[Path]):
    """Read the register, report rejected rows, evaluate the good ones. Returns (results, book, read)."""
    from engine.evaluate import Evaluator, load_engine_inputs
    from engine.register import read_register, write_rejected
    policy, book = load_engine_inputs(policy_id)
    read = read_register(file, as_of=as_of, jurisdiction=policy.jurisdiction, sheet=sheet)
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
    evaluator = Evaluator(policy, book, as_of)
    results = [evaluator.evaluate(ent) for _, ent in read.accepted]
    return results, book, read


def register_options(fn):
    fn = click.option("--errors", "errors", type=click.Path(dir_okay=False, path_type=Path),
                      help="Write rejected rows, unchanged, with an 'error' column (CSV, UTF-8 with BOM).")(fn)
    fn = click.option("--sheet", default=None, help="XLSX sheet to read (default: the first).")(fn)
    return fn


@main.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@as_of_option()
@policy_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@lang_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the result to this file instead of standard output (.xlsx writes a workbook).")
@register_options
@user_errors
def check(file: Path, as_of: date, policy_id: str, fmt: str, lang: str, out: Optional[Path], sheet, errors):
    """Evaluate every enterprise of a register (CSV, XLSX or JSON) against the policy.

    Each enterprise gets six decisions: upgrade eligibility, cultivation pool, enterprise award, town
    award, land/power priority and de-listing warning, each with its explanation (see `explain`).

    \b
    Example:
      scaleup check examples/register.csv --as-of 2024-12-31
      scaleup check examples/register.xlsx --as-of 2024-12-31 --format json > decisions.json
    """
    from engine.output import csv_columns, render_table, result_json, summary_row
    results, book, read = _evaluate_register(file, as_of, policy_id, sheet, errors)
    if out is not None and out.suffix.lower() == ".xlsx":
        from engine.tabular import write_xlsx
        cols = csv_columns()
        write_xlsx(out, {"decisions": (cols, [[summary_row(r).get(c, "") for c in cols] for r in results])})
    elif fmt == "json":
        text = json.dumps([result_json(r, book, lang) for r in results], ensure_ascii=False, indent=2)
        _emit(text, out)
    elif fmt == "csv":
        from engine.tabular import write_csv
        cols = csv_columns()
        rows = [[summary_row(r).get(c, "") for c in cols] for r in results]
        if out is not None:
            write_csv(out, cols, rows)
        else:
            write_csv(sys.stdout, cols, rows)
    else:
        _emit(render_table(results, lang), out)
    sys.exit(EXIT_DATA if read.rejected else EXIT_OK)


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
    read = read_register(file, as_of=as_of, jurisdiction=policy.jurisdiction, sheet=sheet)
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


def _emit(text: str, out: Optional[Path]) -> None:
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        out.write_text(text, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    main()
