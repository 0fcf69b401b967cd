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
    from engine.policy_check import check_policy, findings_json
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
    from engine.output import csv_columns, csv_headers, render_table, result_json, summary_row
    results, book, read = _evaluate_register(file, as_of, policy_id, sheet, errors)
    if out is not None and out.suffix.lower() == ".xlsx":
        from engine.tabular import write_xlsx
        cols = csv_columns()
        write_xlsx(out, {"decisions": (csv_headers(lang), [[summary_row(r).get(c, "") for c in cols] for r in results])})
    elif fmt == "json":
        text = json.dumps([result_json(r, book, lang) for r in results], ensure_ascii=False, indent=2)
        _emit(text, out)
    elif fmt == "csv":
        from engine.tabular import write_csv
        cols = csv_columns()
        rows = [[summary_row(r).get(c, "") for c in cols] for r in results]
        if out is not None:
            write_csv(out, csv_headers(lang), rows)
        else:
            write_csv(sys.stdout, csv_headers(lang), rows)
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
    from engine.priority import allocate, allocation_json, render_allocation
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
              help="Count from the scope ledger (入统/退规 events) instead of a register snapshot.")
@as_of_option()
@click.option("--year", "year", type=click.IntRange(1990, 2100), default=None,
              help="Year in focus (default: the as-of year): its new firms are listed and, for the as-of year, projected.")
@policy_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@lang_option
@register_options
@user_errors
def targets(file: Optional[Path], ledger: Optional[Path], as_of: date, year: Optional[int], policy_id: str, fmt: str,
            lang: str, sheet, errors):
    """Progress against the plan's targets: the annex table and the text's floors beside actuals.

    Counts new 规上 industrial enterprises per year (园内/园外, 招商引资/小升规), the exits a register
    shows and the stock, gives the gap (actual − target) to each figure, and projects the year end
    from the cultivation pool. FILE is a register snapshot as of --as-of.

    \b
    Example:
      scaleup targets examples/register.csv --as-of 2024-12-31
      scaleup targets examples/register.csv --as-of 2024-12-31 --year 2023 --format json
    """
    if (file is None) == (ledger is None):
        raise click.UsageError("give either a register FILE or --ledger PATH (exactly one)")
    if ledger is not None:
        raise click.UsageError("--ledger is not available yet: the scope ledger (engine/ledger.py) has not "
                               "landed; count from a register snapshot: scaleup targets FILE --as-of DATE")
    from engine.evaluate import load_engine_inputs
    from engine.targets import render_targets, targets_from_register
    results, book, read = _evaluate_register(file, as_of, policy_id, sheet, errors)
    policy, _ = load_engine_inputs(policy_id)
    table = targets_from_register([e for _, e in read.accepted], results, policy, book, as_of, year)
    if fmt == "json":
        click.echo(json.dumps(table, ensure_ascii=False, indent=2))
    else:
        _emit(render_targets(table, lang), None)
    sys.exit(EXIT_DATA if read.rejected else EXIT_OK)


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
    from engine.audit import build_record, fingerprint, write_record
    from engine.documents import review_sheet, sheet_file_name
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
    from engine.audit import Verifier, render_verifications
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
    from engine.audit import build_record
    from engine.documents import review_sheet
    from engine.errors import InputFileError
    from engine.evaluate import Evaluator, load_engine_inputs
    from engine.register import read_register
    policy, book = load_engine_inputs(policy_id)
    read = read_register(file, as_of=as_of, jurisdiction=policy.jurisdiction, sheet=sheet)
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
@user_errors
def report(file: Path, as_of: date, policy_id: str, lang: str, out: Path, sheet, errors):
    """Write a one-page HTML report of a register: summary, decisions by family, a table by town, award
    totals by town and beneficiary type, de-listing warnings by level, and charts.

    \b
    Example:
      scaleup report examples/register.csv --as-of 2024-12-31 --out report.html
      scaleup report examples/register.xlsx --as-of 2024-12-31 --lang en --out report-en.html
    """
    from engine.evaluate import load_engine_inputs
    from engine.report import build_report_data, render_report
    results, book, read = _evaluate_register(file, as_of, policy_id, sheet, errors)
    policy, _ = load_engine_inputs(policy_id)
    data = build_report_data(results, policy, book, as_of.isoformat(), lang, source=file.name,
                             total_rows=read.total_rows, rejected_rows=len(read.rejected))
    text = render_report(data)
    out.write_text(text, encoding="utf-8")
    click.echo(f"{out}\t{len(text.encode('utf-8'))} bytes")
    sys.exit(EXIT_DATA if read.rejected else EXIT_OK)


def _emit(text: str, out: Optional[Path]) -> None:
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        out.write_text(text, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    main()
