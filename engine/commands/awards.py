"""`awards` (a year's award run, dry or committed) and `ledger show/export/pay`."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, Optional

from engine.commands.common import (Reporter, evaluate_register, policy_and_rules, reform_from_options, resolve_town,
                                    write_text)
from engine.errors import UsageConflict
from engine.fileguard import OutputGuard, atomic_output
from engine.policy import Policy


@dataclass
class AwardRun:
    plan: object                       # engine.awards.run.RunPlan
    policy: Policy
    rejected: int
    committed: bool = False


def award_run(file: Path, *, year: int, as_of: date, policy_id: str, ledger_path: Path, commit: bool,
              sheet: Optional[str], errors: Optional[Path], set_items: tuple = (), overrides: Optional[Path] = None,
              reporter: Reporter, outputs: tuple = (), town: Optional[str] = None, lang: str = "zh") -> AwardRun:
    """Evaluate the register, check it against the ledger, and plan (dry run) or record (commit) the
    year's awards and the settlement of earlier ones. A what-if is never committed. `town` shows one
    town's part of a dry run (a committed run covers the whole register)."""
    from engine.awards.ledger import Ledger
    from engine.awards.run import RunContext, commit_run, dry_run, prepare_items, refuse_what_if
    OutputGuard([file, overrides, ledger_path], [errors, *outputs])
    reform = reform_from_options(set_items, overrides, as_of)
    policy, book = policy_and_rules(policy_id, reform)
    if commit:
        refuse_what_if(policy)                          # before any work; commit_run refuses it too
    if town is not None and commit:
        raise UsageConflict("--town shows one town's part of a run; a committed run covers the whole register "
                            "(commit without --town)")
    town = resolve_town(policy, town)
    if ledger_path.exists():                            # a ledger we cannot use stops us before any work
        Ledger.open(ledger_path, create=False, readonly=not commit).close()
    evaluated = evaluate_register(file, as_of, policy, book, sheet, errors, reporter, lang)
    ctx = RunContext.build(year, as_of, policy, book, file, sheet)
    pairs = [(a, r) for a, r in zip(evaluated.read.accepted, evaluated.results) if town is None or r.town == town]
    items = prepare_items(ctx, [a for a, _ in pairs], [r for _, r in pairs])
    if commit:
        with Ledger.open(ledger_path) as ledger:
            plan = commit_run(ledger, ctx, items)
    elif ledger_path.exists():
        with Ledger.open(ledger_path, readonly=True) as ledger:
            plan = dry_run(ledger, ctx, items)
    else:
        with Ledger.empty() as ledger:
            plan = dry_run(ledger, ctx, items)
        plan.ledger_name, plan.ledger_exists = str(ledger_path), False
    return AwardRun(plan, policy, evaluated.rejected, commit)


def award_tables(run: AwardRun, lang: str, by: str) -> dict[str, tuple[list, list[list]]]:
    """The run's money as sheets (one row per award; town totals), the one asked for with `by` first
    (engine/awards/sheets.py)."""
    from engine.awards.sheets import award_sheet, sheet_names, town_sheet
    names = sheet_names(lang)
    town = (names["towns"], town_sheet(run.plan, run.policy, lang))
    awards = (names["awards"], award_sheet(run.plan, lang))
    return dict([town, awards] if by == "town" else [awards, town])


@dataclass
class LedgerSummary:
    summary: dict

    @property
    def problems(self) -> list:
        return self.summary["problems"]

    @property
    def damaged(self) -> bool:
        """SQLite's own integrity check failed: bad data (restore a backup), not a bug."""
        return self.summary["damaged"]

    def json(self, lang: str) -> Any:
        return self.summary

    def text(self, lang: str) -> str:
        from engine.awards.run import render_ledger_summary
        return render_ledger_summary(self.summary, lang)


def write_run(run: AwardRun, *, fmt: str, lang: str, by: str, out: Optional[Path], stdout: IO[str]) -> None:
    """An award run as text or JSON, its money lines or town totals (`by`) as CSV, or both as an XLSX
    workbook; to `out`, or to `stdout` (not XLSX)."""
    from engine.awards.run import plan_json, render_plan
    from engine.tabular import write_csv, write_xlsx
    if fmt == "xlsx":
        with atomic_output(out) as tmp:
            write_xlsx(tmp, award_tables(run, lang, by))
        return
    if fmt == "csv":
        columns, rows = next(iter(award_tables(run, lang, by).values()))
        with atomic_output(out) as tmp:
            write_csv(tmp if tmp is not None else stdout, [c.header for c in columns], rows)
        return
    text = (json.dumps(plan_json(run.plan, run.policy), ensure_ascii=False, indent=2) if fmt == "json" else
            render_plan(run.plan, run.policy, lang, "run" if by == "enterprise" else "town", run.committed))
    write_text(text, out, stdout)


def ledger_summary(ledger_path: Path) -> LedgerSummary:
    """Runs, instalments by status, clawbacks, scope history and the ledger's consistency check."""
    from engine.awards.ledger import Ledger
    with Ledger.open(ledger_path, readonly=True) as ledger:
        with ledger.snapshot():
            return LedgerSummary(ledger.summary())


def ledger_pay(ledger_path: Path, *, paid_on: date, reference: str, year: Optional[int],
               enterprise_ids: tuple, commit: bool) -> list[dict]:
    """Payable instalments marked paid (or, without commit, the ones that would be)."""
    from engine.awards.ledger import Ledger
    from engine.awards.run import pay
    ids = tuple(e.strip().upper() for e in enterprise_ids)
    with Ledger.open(ledger_path, create=False, readonly=not commit) as ledger:
        return pay(ledger, paid_on=paid_on, reference=reference, year=year, enterprise_ids=ids, commit=commit)
