"""`priority`, `targets`, `diff`, `sweep` and `report`: what a register says about the plan, and what
a change of policy would do."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

from engine.commands.common import (Evaluated, Reporter, evaluate_register, policy_and_rules, progress,
                                    read_register_for, reform_from_options, resolve_town, sweep_range)
from engine.errors import PolicyDataError
from engine.fileguard import OutputGuard
from engine.fileguard import write_text as write_file
from engine.policy import Policy
from engine.rules_model import Rulebook


@dataclass
class Allocated:
    allocation: object                 # engine.analysis.priority.Allocation
    book: Rulebook
    rejected: int
    show_all: bool = False             # also explain each firm not ranked (--all)
    town: Optional[str] = None         # only this town's firms are listed (--town)

    policy_id: str = ""

    def json(self, lang: str) -> Any:
        from engine.analysis.priority import allocation_json
        if self.allocation is None:
            return {"policy": self.policy_id, "provided": False, "ranked": [], "not_ranked": []}
        return allocation_json(self.allocation, self.book, lang)

    def text(self, lang: str) -> str:
        from engine.analysis.priority import render_allocation
        from engine.render import environment
        if self.allocation is None:
            return environment().get_template(f"_command_words_{lang}.j2").module.no_priority(self.policy_id) + "\n"
        return render_allocation(self.allocation, self.book, lang, show_all=self.show_all, town=self.town)


def priority(file: Path, *, as_of: date, policy_id: str, land_quota: Decimal, power_quota: Decimal,
             sheet: Optional[str], errors: Optional[Path], reporter: Reporter, town: Optional[str] = None,
             show_all: bool = False, lang: str = "zh") -> Allocated:
    """Rank the firms eligible for priority land and power and share the quotas among them (over the
    whole district; `town` only limits what is listed)."""
    from engine.analysis.priority import allocate, priority_provided
    OutputGuard([file], [errors])
    policy, book = policy_and_rules(policy_id)
    if not priority_provided(policy, book):
        return Allocated(None, book, 0, policy_id=policy.id)
    town = resolve_town(policy, town)
    evaluated = evaluate_register(file, as_of, policy, book, sheet, errors, reporter, lang)
    allocation = allocate(evaluated.results, policy, book, as_of, {"land": land_quota, "power": power_quota})
    return Allocated(allocation, book, evaluated.rejected, show_all, town)


@dataclass
class Targets:
    table: dict[str, Any]
    rejected: int

    def json(self, lang: str) -> Any:
        return self.table

    def text(self, lang: str) -> str:
        from engine.analysis.targets import render_targets
        return render_targets(self.table, lang)


def targets(file: Optional[Path], *, ledger: Optional[Path], as_of: date, year: Optional[int], policy_id: str,
            sheet: Optional[str], errors: Optional[Path], set_items: tuple = (), overrides: Optional[Path] = None,
            reporter: Reporter) -> Targets:
    """Progress against the plan's targets, counted from a register snapshot, the ledger, or both."""
    from engine.analysis.targets import targets_from_register
    OutputGuard([file, ledger, overrides], [errors])
    reform = reform_from_options(set_items, overrides, as_of)
    policy, book = policy_and_rules(policy_id, reform)
    rows, recorded_from = (_ledger_scope(ledger) if ledger is not None else (None, None))
    enterprises, results, rejected = [], [], 0
    if file is not None:
        evaluated = evaluate_register(file, as_of, policy, book, sheet, errors, reporter)
        enterprises, results, rejected = evaluated.firms, evaluated.results, evaluated.rejected
    table = targets_from_register(enterprises, results, policy, book, as_of, year, ledger_rows=rows,
                                  recorded_from=recorded_from)
    return Targets(table, rejected)


def _ledger_scope(path: Path) -> tuple[list[dict], Optional[date]]:
    """The ledger's dated scope events, and the as-of date of its first run (what it can date from)."""
    from engine.awards.ledger import Ledger
    store = Ledger.open(path, readonly=True)
    try:
        rows = store.scope_events()
        runs = store.summary()["runs"]
    finally:
        store.close()
    return rows, min((date.fromisoformat(r["as_of"]) for r in runs), default=None)


@dataclass
class Diffed:
    diff: object                       # engine.analysis.whatif.Diff
    policy: Policy
    book: Rulebook
    rejected: int

    def json(self, lang: str) -> Any:
        from engine.analysis.whatif import diff_json
        return diff_json(self.diff)

    def text(self, lang: str) -> str:
        from engine.analysis.whatif import render_diff
        return render_diff(self.diff, self.policy, self.book, lang) + "\n"


def diff(file: Path, *, as_of: date, policy_id: str, sheet: Optional[str], set_items: tuple = (),
         overrides: Optional[Path] = None, reporter: Reporter, lang: str = "zh") -> Diffed:
    """Every decision and amount a policy change alters, with the budget and target effect."""
    from engine.analysis.whatif import diff as diff_register
    reform = reform_from_options(set_items, overrides, as_of)
    if reform is None:
        raise PolicyDataError(["diff needs a change: --set NAME=VALUE or --overrides FILE"])
    policy, book = policy_and_rules(policy_id)
    read = read_register_for(file, as_of, policy, sheet, reporter, summary=False)
    firms = [e for _, e in read.accepted]
    with progress(2 * len(firms), lang=lang) as tick:
        result = diff_register(firms, policy, book, reform, as_of, progress=tick)
    return Diffed(result, policy, book, len(read.rejected))


@dataclass
class Swept:
    parameter: str
    as_of: date
    points: list                       # engine.analysis.whatif.SweepPoint
    rejected: int
    param: object = None               # engine.policy.Parameter: its unit words the table's values

    def json(self, lang: str) -> Any:
        return {"parameter": self.parameter, "as_of": self.as_of.isoformat(), "points": sweep_rows(self)}

    def text(self, lang: str) -> str:
        """A table in the run's language: values in the parameter's unit, money totals in 万元 (zh)."""
        from engine.analysis.whatif import render_sweep
        return render_sweep(sweep_rows(self), self.param, self.as_of, lang)


def sweep(file: Path, *, as_of: date, policy_id: str, param_name: str, start: str, stop: str, steps: int,
          sheet: Optional[str], reporter: Reporter, lang: str = "zh") -> Swept:
    """Vary one parameter over a range and evaluate the register at each value."""
    from engine.analysis.whatif import sweep as sweep_register
    policy, book = policy_and_rules(policy_id)
    values = sweep_range(policy, param_name, start, stop, steps, "--from/--to")
    read = read_register_for(file, as_of, policy, sheet, reporter, summary=False)
    with progress(len(values), unit="values", lang=lang) as tick:
        points = sweep_register([e for _, e in read.accepted], policy, book, param_name, values, as_of,
                                progress=tick)
    return Swept(param_name, as_of, points, len(read.rejected), policy.parameters[param_name])


def sweep_rows(swept: Swept) -> list[dict[str, Any]]:
    """One row per value tried (money as yuan text, as in every JSON output)."""
    from engine.output import json_value
    return [{"value": p.value, "eligible": p.eligible, "pool": p.pool, "enterprise_awards": p.enterprise_awards,
             "awards_total_yuan": json_value(p.awards_total, "money"), "awards_total_basis": p.awards_basis,
             "projected_new": p.attainment.projected,
             "target_new_total": p.attainment.target_new_total, "gap": p.attainment.gap} for p in swept.points]


def parse_sweep_spec(spec: str) -> tuple[str, str, str, int]:
    """--sweep PARAM:FROM:TO:STEPS."""
    parts = spec.split(":")
    if len(parts) != 4 or not parts[3].isdigit():
        raise PolicyDataError([f"--sweep {spec!r}: expected PARAM:FROM:TO:STEPS, e.g. scale_threshold:15000000:25000000:5"])
    return parts[0], parts[1], parts[2], int(parts[3])


@dataclass
class Reported:
    size: int                          # bytes written
    rejected: int


def report(file: Path, *, as_of: date, policy_id: str, lang: str, out: Path, sheet: Optional[str],
           errors: Optional[Path], set_items: tuple = (), overrides: Optional[Path] = None,
           sweep_spec: Optional[str] = None, reporter: Reporter, town: Optional[str] = None) -> Reported:
    """A one-page HTML report of a register; with a reform, its what-if section; with a sweep, its chart."""
    from engine.analysis.whatif import diff as diff_register, sweep as sweep_register
    from engine.report.report import build_report_data, render_report
    import engine.report.sections  # noqa: F401 - registers the targets, priority and what-if sections
    OutputGuard([file, overrides], [out, errors])
    policy, book = policy_and_rules(policy_id)
    town = resolve_town(policy, town)
    evaluated: Evaluated = evaluate_register(file, as_of, policy, book, sheet, errors, reporter, lang)
    results = [r for r in evaluated.results if town is None or r.town == town]
    data = build_report_data(results, policy, book, as_of.isoformat(), lang, source=file.name,
                             total_rows=evaluated.read.total_rows, rejected_rows=evaluated.rejected, town=town)
    reform = reform_from_options(set_items, overrides, as_of)
    if reform is not None:
        with progress(2 * len(evaluated.firms), lang=lang) as tick:
            data.view["whatif_diff"] = diff_register(evaluated.firms, policy, book, reform, as_of, progress=tick)
    if sweep_spec:
        name, start, stop, steps = parse_sweep_spec(sweep_spec)
        values = sweep_range(policy, name, start, stop, steps, "--sweep")
        data.view["sweep_param"] = name
        data.view["sweep_points"] = sweep_register(evaluated.firms, policy, book, name, values, as_of)
    text = render_report(data)
    write_file(out, text)
    return Reported(len(text.encode("utf-8")), evaluated.rejected)
