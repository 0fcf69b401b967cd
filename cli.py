"""The `scaleup` command: parses options, calls one engine function per command (engine/commands/),
renders the result through templates. No policy logic and no orchestration live here.

Exit codes: 0 evaluated (a "no" is a result, not an error); 1 bad input or data (a file that cannot
be read, a policy that does not validate, or any register row rejected); 2 usage error;
3 internal inconsistency (a bug: please report it with the command that produced it).
"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Optional

import click

from cli_support import (EXIT_DATA, EXIT_INTERNAL, EXIT_OK, REPORTER, AsOf, Quantity, as_of_option, award_options,
                         check_options, done, emit, emit_json, format_option, lang_option, ledger_option, messages,
                         policy_option, reform_options, register_file, register_options, sheet_option, show,
                         show_policy_in_synopses, town_option, user_errors)
from engine import __version__
from engine.awards import PAYING_TYPES
from web.command import serve as serve_command

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


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


# ---------------------------------------------------------------- policies
@main.group("policy")
def policy_group():
    """Policies: list them, show one.

    \b
    Example:
      scaleup policy list
    """


@policy_group.command("list")
@lang_option
@user_errors
def policy_list(lang: str):
    """List the policies bundled under policies/.

    \b
    Example:
      scaleup policy list
    """
    from engine.commands.policies import list_policies
    listed = list_policies()
    for p in listed:
        click.echo(messages().policy_invalid(p.policy_id, p.problems, lang) if p.problems
                   else messages().policy_line(p.policy_id, p.meta, lang))
    done(any(p.problems for p in listed))


@policy_group.command("show")
@click.argument("policy_id", default="wanzhou-2022-80", metavar="[ID|PATH]")
@as_of_option(required=False)
@format_option("table", "json")
@lang_option
@click.option("--interpretations", "readings", is_flag=True, help="Only the readings of the text, with alternatives.")
@user_errors
def policy_show(policy_id: str, as_of: Optional[date], fmt: str, lang: str, readings: bool):
    """Show a policy: clauses (verbatim), parameters with provenance, targets, interpretations.

    Without --as-of every dated value of every parameter is listed.

    \b
    Example:
      scaleup policy show wanzhou-2022-80 --as-of 2024-06-30 --format json
      scaleup policy show wanzhou-2022-80 --interpretations
    """
    from engine.commands.policies import show_policy
    show(show_policy(policy_id, as_of, readings_only=readings), fmt, lang)


@policy_group.command("check")
@click.argument("policy_id", default="wanzhou-2022-80", metavar="[ID|PATH]")
@format_option("text", "json")
@lang_option
@user_errors
def policy_check(policy_id: str, fmt: str, lang: str):
    """Static checks of a policy and its rules: the source's own figures, clause coverage, parameters
    in force, comparatives against operators, gaps and overlaps at every threshold's boundary.

    Exit 0 when there is no error (warnings about the source document are expected), 1 on errors.

    \b
    Example:
      scaleup policy check wanzhou-2022-80
      scaleup policy check path/to/my-policy-copy --format json
    """
    from engine.commands.policies import check_policy
    checked = check_policy(policy_id)
    show(checked, fmt, lang)
    done(checked.count("error"))


@policy_group.command("new")
@click.argument("policy_id", metavar="ID")
@click.option("--from", "source", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The instrument's text (UTF-8), as published.")
@click.option("--district", default=None, help="Jurisdiction code or id under policies/jurisdictions/.")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to create (default: ./ID).")
@click.option("--like", default=None, help="Copy the parameters the document does not state from this policy.")
@user_errors
def policy_new(policy_id: str, source: Path, district: Optional[str], out: Optional[Path], like: Optional[str]):
    """Scaffold a policy folder from the document's text: clauses at its numbering, its figures as
    parameters, provision bindings proposed by keywords (to review). Then run `scaleup policy check`.

    \b
    Example:
      scaleup policy new demo-2024 --from notice.txt --district 990102 --like example-district-2024
    """
    from engine.commands.policies import new_policy
    click.echo(new_policy(policy_id, source, district, out, like).text("en"))


# ---------------------------------------------------------------- evaluating a register
@main.command("check")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@as_of_option()
@policy_option
@format_option("table", "json", "ndjson", "csv", "parquet")
@lang_option
@check_options
@reform_options
@town_option
@user_errors
def check(file: Path, as_of: date, policy_id: str, set_items, overrides, **options):
    """Evaluate every enterprise of a register (CSV, XLSX or JSON) against the policy.

    Each enterprise gets six decisions: upgrade eligibility, cultivation pool, enterprise award, town
    award, land/power priority and de-listing warning, each with its explanation (see `explain`).
    Large registers stream in chunks over --workers processes; FILE may also be a folder of register
    files (CSV, XLSX, JSON, Parquet: a partitioned register), evaluated into one result file each.

    \b
    Example:
      scaleup check examples/register.csv --as-of 2024-12-31
      scaleup check examples/register.xlsx --as-of 2024-12-31 --format ndjson > decisions.ndjson
      scaleup check examples/register.csv --as-of 2024-12-31 --format ndjson --explain --with-policy
      scaleup check province.csv --as-of 2024-12-31 --format csv --out decisions.csv --workers 8
      scaleup check parts/ --as-of 2024-12-31 --format csv --out results/ --executor dask --scheduler tcp://head:8786
      scaleup check dataset/ --as-of 2024-12-31 --engine columnar --format parquet --out results/
    """
    from engine.commands.check import CheckOptions, check as check_register
    opts = CheckOptions(**options)
    checked = check_register(file, as_of=as_of, policy_id=policy_id, options=opts, set_items=set_items,
                             overrides=overrides, reporter=REPORTER, stdout=sys.stdout)
    if checked.files is not None:
        click.echo(messages().partitioned(checked.files, checked.rows, opts.out, checked.rejected), err=True)
    done(checked.rejected)


@main.command("explain")
@click.argument("enterprise_id")
@register_file
@as_of_option()
@policy_option
@lang_option
@format_option("text", "json")
@sheet_option
@click.option("--type", "types", multiple=True, metavar="FAMILY",
              type=click.Choice(["upgrade_eligibility", "pool_entry", "enterprise_award", "town_award",
                                 "land_power_priority", "delisting_warning"]),
              help="Only this decision (repeatable), e.g. --type enterprise_award.")
@click.option("--brief", is_flag=True, help="Each decision in two lines: conclusion, amount, clause and, "
                                            "for a no, the deciding condition and its margin.")
@click.option("--all-rules", "every_rule", is_flag=True,
              help="Also list the rules that do not bear on a decision's outcome (by default a decision settled "
                   "before them, e.g. not applicable to the firm, lists the rules that settled it).")
@user_errors
def explain(enterprise_id: str, file: Path, as_of: date, policy_id: str, lang: str, fmt: str, sheet, types,
            brief: bool, every_rule: bool):
    """Print the full explanation of every decision about one enterprise: each rule that bears on its
    outcome, with every condition, value, threshold and margin, the clause and the readings.

    \b
    Example:
      scaleup explain 915001017N0TR346AU examples/register.csv --as-of 2024-12-31 --lang en
      scaleup explain 915001017N0TR346AU examples/register.csv --as-of 2024-12-31 --brief
      scaleup explain 915001017N0TR346AU examples/register.csv --as-of 2024-12-31 --type pool_entry
      scaleup explain 915001017N0TR346AU examples/register.csv --as-of 2024-12-31 --all-rules
    """
    from engine.commands.explain import explain as explain_enterprise
    show(explain_enterprise(enterprise_id, file, as_of=as_of, policy_id=policy_id, sheet=sheet, types=types,
                            brief=brief, every_rule=every_rule), fmt, lang)


@main.command("priority")
@register_file
@as_of_option()
@click.option("--land-quota", "land_quota", type=Quantity(), required=True,
              help="Land available for priority firms, in 亩 (mu); 0 allowed.")
@click.option("--power-quota", "power_quota", type=Quantity(), required=True,
              help="Power capacity available, in kVA (千伏安); 0 allowed.")
@policy_option
@format_option("table", "json")
@lang_option
@register_options
@town_option
@click.option("--all", "show_all", is_flag=True, help="Also explain each firm that is not ranked, and why.")
@user_errors
def priority(file: Path, as_of: date, land_quota, power_quota, policy_id: str, fmt: str, lang: str, sheet, errors,
             town: Optional[str], show_all: bool):
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
    from engine.commands.analysis import priority as allocate_priority
    allocated = allocate_priority(file, as_of=as_of, policy_id=policy_id, land_quota=land_quota,
                                  power_quota=power_quota, sheet=sheet, errors=errors, reporter=REPORTER, town=town,
                                  show_all=show_all, lang=lang)
    show(allocated, fmt, lang)
    done(allocated.rejected)


@main.command("targets")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--ledger", "ledger", type=click.Path(dir_okay=False, path_type=Path),
              help="Count from the scope ledger's dated 入统/退规 events; FILE, if given too, supplies "
                   "industry, derived origin and the projection.")
@as_of_option()
@click.option("--year", "year", type=click.IntRange(1990, 2100), default=None,
              help="Year in focus (default: the as-of year): its new firms are listed and, for the as-of year, projected.")
@policy_option
@format_option("table", "json")
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
        raise click.UsageError(messages().USAGE["targets_needs"])
    from engine.commands.analysis import targets as count_targets
    counted = count_targets(file, ledger=ledger, as_of=as_of, year=year, policy_id=policy_id, sheet=sheet,
                            errors=errors, set_items=set_items, overrides=overrides, reporter=REPORTER)
    show(counted, fmt, lang)
    done(counted.rejected)


# ---------------------------------------------------------------- audit records and review sheets
@main.command("audit")
@register_file
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
    from engine.commands.explain import audit as write_audit
    written = write_audit(file, as_of=as_of, policy_id=policy_id, out_dir=out_dir, every_decision=all_decisions,
                          sheets=sheets, lang=lang, sheet=sheet, errors=errors, reporter=REPORTER)
    for path, decision_id in written.records:
        click.echo(messages().audit_record(path, decision_id))
    click.echo(messages().audit_done(len(written.records), out_dir, lang), err=True)
    done(written.rejected)


@main.command("verify")
@click.argument("records", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--policy", "policy_id", default=None,
              help="Verify against this policy id or folder instead of the one each record names "
                   "(e.g. a copy being edited).")
@click.option("--rules", "rules_dir", default=None, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Verify against this rules folder instead of the policy's.")
@format_option("text", "json")
@lang_option
@user_errors
def verify(records: tuple[Path, ...], policy_id: Optional[str], rules_dir: Optional[Path], fmt: str, lang: str):
    """Recompute audit records from their own facts and report, for each: ok, changed (the policy data,
    rules or engine differ from what the record names: says what), tampered (the content does not match
    its id, or its result does not follow from its facts), unverifiable (no installed policy has the id it
    names) or unreadable. Records are checked against the installed policy with the id they name, never
    against the folder they name.

    A folder stands for the *.json records in it. Exit code 0 when every record is ok, 1 otherwise.

    \b
    Example:
      scaleup verify out/audit
      scaleup verify out/audit/*.json --policy ~/drafts/wanzhou-2022-80 --lang en
    """
    from engine.awards.audit import render_verifications
    from engine.commands.explain import verify as verify_records
    results = verify_records(records, policy_id=policy_id, rules_dir=rules_dir)
    if fmt == "json":
        emit_json([r.as_json() for r in results], default=str)
    else:
        click.echo(render_verifications(results, lang), nl=False)
    done(any(r.status != "ok" for r in results))


@main.command("review")
@click.argument("enterprise_id")
@register_file
@as_of_option()
@policy_option
@click.option("--type", "type_", type=click.Choice(PAYING_TYPES), default="enterprise_award", show_default=True,
              help="Which award's sheet.")
@lang_option
@format_option("md", "html")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the sheet to this file instead of standard output.")
@sheet_option
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
    from engine.commands.explain import review as review_award
    emit(review_award(enterprise_id, file, as_of=as_of, policy_id=policy_id, decision_type=type_, lang=lang,
                      fmt=fmt, sheet=sheet, out=out), out)


@main.command("report")
@register_file
@as_of_option()
@policy_option
@lang_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The HTML file to write (one self-contained page: no script, no network).")
@register_options
@reform_options
@click.option("--sweep", "sweep_spec", default=None, metavar="PARAM:FROM:TO:STEPS",
              help="Add a sweep chart, e.g. scale_threshold:15000000:25000000:5.")
@town_option
@user_errors
def report(file: Path, as_of: date, policy_id: str, lang: str, out: Path, sheet, errors, set_items, overrides,
           sweep_spec, town: Optional[str]):
    """Write a one-page HTML report of a register: summary, decisions by family, a table by town, award
    totals by town and beneficiary type, de-listing warnings by level, and charts.

    \b
    Example:
      scaleup report examples/register.csv --as-of 2024-12-31 --out report.html
      scaleup report examples/register.xlsx --as-of 2024-12-31 --lang en --out report-en.html
    """
    from engine.commands.analysis import report as write_report
    reported = write_report(file, as_of=as_of, policy_id=policy_id, lang=lang, out=out, sheet=sheet, errors=errors,
                            set_items=set_items, overrides=overrides, sweep_spec=sweep_spec, reporter=REPORTER,
                            town=town)
    click.echo(messages().file_size(out, reported.size, lang))
    done(reported.rejected)


# ---------------------------------------------------------------- award runs and the award ledger
@main.command("awards")
@register_file
@click.option("--year", "year", type=click.IntRange(1990, 2200), required=True,
              help="The award year: enterprises included in scope (入统) in this year are awarded, and "
                   "earlier awards are settled at this year's review.")
@click.option("--as-of", "as_of", type=AsOf(), default=None,
              help="Evaluation date, within --year. Default: 31 December of --year (never the clock).")
@award_options
@reform_options
@town_option
@user_errors
def awards(file: Path, year: int, as_of: Optional[date], policy_id: str, ledger_path: Path, commit: bool, by: str,
           fmt: str, lang: str, out: Optional[Path], sheet, errors, set_items, overrides, town: Optional[str]):
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
    from engine.commands.awards import award_run, write_run
    as_of = as_of or date(year, 12, 31)
    if as_of.year != year:
        raise click.BadParameter(messages().not_in_year(as_of.isoformat(), year), param_hint="--as-of")
    if fmt == "xlsx" and out is None:
        raise click.BadParameter(messages().USAGE["xlsx_needs_out"], param_hint="--format")
    run = award_run(file, year=year, as_of=as_of, policy_id=policy_id, ledger_path=ledger_path, commit=commit,
                    sheet=sheet, errors=errors, set_items=set_items, overrides=overrides, reporter=REPORTER,
                    outputs=(out,), town=town, lang=lang)
    write_run(run, fmt=fmt, lang=lang, by=by, out=out, stdout=sys.stdout)
    if out is not None:
        click.echo(messages().written(out, lang), err=True)
    done(run.rejected)


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
@format_option("table", "json")
@lang_option
@user_errors
def ledger_show(ledger_path: Path, fmt: str, lang: str):
    """Runs recorded, instalments by status, clawbacks, scope history, and a consistency check.

    \b
    Example:
      scaleup ledger show --ledger awards.db
    """
    from engine.commands.awards import ledger_summary
    summary = ledger_summary(ledger_path)
    show(summary, fmt, lang)
    sys.exit(EXIT_DATA if summary.damaged else EXIT_INTERNAL if summary.problems else EXIT_OK)


@ledger_group.command("export")
@ledger_option
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="A new folder (ledger.db backup, one CSV per table, audit/ records) or a file ending in .db "
                   "(backup only).")
@lang_option
@user_errors
def ledger_export(ledger_path: Path, out: Path, lang: str):
    """Back up the ledger with SQLite's online backup API (consistent even while a run is writing)
    and export every table as CSV (UTF-8 with BOM) and each award's audit record as JSON (audit/,
    for `scaleup verify`), all read from that backup.

    \b
    Example:
      scaleup ledger export --ledger awards.db --out backup-2024/
      scaleup ledger export --ledger awards.db --out awards-2024-12-31.db

    Money in the CSVs is in 元 (*_yuan columns), each time in UTC with its local time beside it (*_at_local);
    --lang is accepted for uniformity (the output is file names).
    """
    from engine.awards.export import export_ledger
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
    from engine.awards.run import render_payments
    from engine.commands.awards import ledger_pay as pay_instalments
    rows = pay_instalments(ledger_path, paid_on=paid_on, reference=reference, year=year,
                           enterprise_ids=enterprise_ids, commit=commit)
    emit(render_payments(rows, lang, committed=commit, paid_on=paid_on, reference=reference))


# ---------------------------------------------------------------- what a change of policy would do
@main.command("diff")
@register_file
@as_of_option()
@policy_option
@reform_options
@format_option("text", "json")
@lang_option
@sheet_option
@user_errors
def diff_command(file: Path, as_of: date, policy_id: str, set_items, overrides, fmt: str, lang: str, sheet):
    """What a policy change does: every decision and amount that changes, the rule and parameter
    responsible, the budget effect by beneficiary type and town, and the year's target attainment.

    \b
    Example:
      scaleup diff examples/register.csv --as-of 2024-12-31 --overrides examples/reforms/lower-pool-bound.yaml
      scaleup diff examples/register.csv --as-of 2024-12-31 --set enterprise_award_industrial=15万
    """
    from engine.commands.analysis import diff
    diffed = diff(file, as_of=as_of, policy_id=policy_id, sheet=sheet, set_items=set_items, overrides=overrides,
                  reporter=REPORTER, lang=lang)
    show(diffed, fmt, lang)
    done(diffed.rejected)


@main.command("sweep")
@register_file
@as_of_option()
@policy_option
@click.option("--param", "param_name", required=True, help="The parameter to vary, e.g. scale_threshold.")
@click.option("--from", "start", required=True, help="First value (money: 1500万, 15000000元 or 15000000; 0.2 for 20%).")
@click.option("--to", "stop", required=True, help="Last value.")
@click.option("--steps", type=click.IntRange(2, 200), default=5, show_default=True)
@format_option("table", "json")
@lang_option
@sheet_option
@user_errors
def sweep_command(file: Path, as_of: date, policy_id: str, param_name: str, start: str, stop: str, steps: int,
                  fmt: str, lang: str, sheet):
    """Vary one parameter over a range: firms eligible, pool size, awards and the target gap at each value.

    \b
    Example:
      scaleup sweep examples/register.csv --as-of 2024-12-31 --param scale_threshold --from 15000000 --to 25000000 --steps 5
    """
    from engine.commands.analysis import sweep
    swept = sweep(file, as_of=as_of, policy_id=policy_id, param_name=param_name, start=start, stop=stop,
                  steps=steps, sheet=sheet, reporter=REPORTER, lang=lang)
    show(swept, fmt, lang)
    done(swept.rejected)


serve_command.callback = user_errors(serve_command.callback)   # web/command.py: the web app's command
main.add_command(serve_command)
show_policy_in_synopses(main)

if __name__ == "__main__":  # pragma: no cover
    main()
