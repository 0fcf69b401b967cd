"""What the commands share: the policy and its rules loaded once (with a what-if reform applied when
one is asked for), a register read and evaluated with its rejected rows reported, one enterprise
found in a register, a parameter range to sweep."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Optional, Protocol

from engine.decisions import EnterpriseResult
from engine.errors import InputFileError, PolicyDataError, UsageConflict
from engine.facts import Enterprise
from engine.policy import Policy, did_you_mean
from engine.rules_model import Rulebook

SWEEPABLE = ("money", "ratio", "count")


class Reporter(Protocol):
    """Where a command's diagnostics go while it runs (cli.py: standard error, through templates)."""

    def warning(self, text: str) -> None: ...

    def problem(self, text: str) -> None: ...

    def rejected(self, count: int, total: int, saved_to: Optional[Path]) -> None: ...


@dataclass
class Collected:
    """A Reporter that keeps what it is told: for callers without a terminal, and for tests."""

    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    summaries: list[tuple[int, int, Optional[Path]]] = field(default_factory=list)

    def warning(self, text: str) -> None:
        self.warnings.append(text)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def rejected(self, count: int, total: int, saved_to: Optional[Path]) -> None:
        self.summaries.append((count, total, saved_to))


def write_text(text: str, out: Optional[Path], stdout: IO[str]) -> None:
    """A result as text: to the file `out` as it is, or to `stdout` ending in one newline."""
    if out is not None:
        from engine.fileguard import write_text as write_file
        write_file(out, text)        # under a temporary name, replacing only a regular file
        return
    stdout.write(text if text.endswith("\n") else text + "\n")
    stdout.flush()


def reform_from_options(set_items: tuple = (), overrides: Optional[Path] = None, as_of: Optional[date] = None):
    """The what-if reform asked for with --set NAME=VALUE (effective on the as-of date) or --overrides
    FILE; None when neither is given."""
    from engine.analysis.reform import load_reform, parse_set_option
    if set_items and overrides:
        raise PolicyDataError(["use --set or --overrides, not both"])
    if overrides:
        return load_reform(overrides)
    return parse_set_option(tuple(set_items), as_of)


def policy_and_rules(policy_id: str, reform=None) -> tuple[Policy, Rulebook]:
    """The policy (with a what-if reform applied, when one is given) and its rule records."""
    from engine.evaluate import load_engine_inputs
    policy, book = load_engine_inputs(policy_id)
    if reform is not None:
        from engine.analysis.reform import apply_reform
        policy = apply_reform(policy, reform)
    return policy, book


@dataclass
class Evaluated:
    """A register read against a policy: its rows, and the evaluation of every accepted one."""

    policy: Policy
    book: Rulebook
    read: object                       # engine.register.RegisterRead
    results: list[EnterpriseResult]

    @property
    def firms(self) -> list[Enterprise]:
        return [e for _, e in self.read.accepted]

    @property
    def rejected(self) -> int:
        return len(self.read.rejected)


def report_read(read, reporter: Reporter, errors: Optional[Path] = None, summary: bool = True) -> None:
    """Warnings and every rejected row's problems to the reporter; the rejected rows saved to `errors`
    when given; then, with `summary`, how many rows were rejected."""
    from engine.register import write_rejected
    for warning in read.warnings:
        reporter.warning(str(warning))
    for rejected in read.rejected:
        for problem in rejected.problems:
            reporter.problem(str(problem))
    if read.rejected and errors:
        write_rejected(read, errors)
    if read.rejected and summary:
        reporter.rejected(len(read.rejected), read.total_rows, errors)


def read_register_for(file: Path, as_of: date, policy: Policy, sheet: Optional[str], reporter: Reporter,
                      errors: Optional[Path] = None, summary: bool = True):
    """Read a register with the policy's jurisdiction and report what was rejected."""
    from engine.register import read_register
    from engine.vocabulary import unknown_tag_warnings
    read = read_register(file, as_of=as_of, policy=policy, sheet=sheet)
    read.warnings.extend(unknown_tag_warnings(read, policy, as_of))
    report_read(read, reporter, errors, summary)
    return read


def evaluate_register(file: Path, as_of: date, policy: Policy, book: Rulebook, sheet: Optional[str],
                      errors: Optional[Path], reporter: Reporter, lang: str = "zh") -> Evaluated:
    """Read the register, report rejected rows, evaluate the good ones (with the progress line `check`
    shows, on standard error when it is a terminal)."""
    from engine.evaluate import Evaluator
    read = read_register_for(file, as_of, policy, sheet, reporter, errors)
    evaluator = Evaluator(policy, book, as_of)
    results = []
    with progress(len(read.accepted), lang=lang) as tick:
        for _, ent in read.accepted:
            results.append(evaluator.evaluate(ent))
            tick(1)
    return Evaluated(policy, book, read, results)


@contextmanager
def progress(total: int, unit: str = "rows", lang: str = "zh"):
    """Yields the function to call after each unit of work of a long run; the progress line shows
    only when standard error is a terminal (engine/batch/progress.py)."""
    from engine.batch.progress import Progress
    bar = Progress(total, unit=unit, lang=lang)
    try:
        yield lambda n: bar.update(n, 0)
    finally:
        bar.close()


def resolve_town(policy: Policy, text: Optional[str]) -> Optional[str]:
    """--town as the jurisdiction's canonical name; a name it does not know is a usage error with a
    "did you mean"."""
    if text is None:
        return None
    from engine.register.normalise import CellError
    from engine.register.towns import town_named
    try:
        return town_named(policy.jurisdiction, text)
    except CellError as exc:
        raise UsageConflict(f"--town: {exc}") from None


def find_enterprise(read, enterprise_id: str, file: Path) -> tuple[int, Enterprise]:
    """The row and facts of one enterprise; if its row was rejected, why; otherwise that it is not there."""
    wanted = enterprise_id.strip().upper()
    for row, enterprise in read.accepted:
        if enterprise.enterprise_id == wanted:
            return row, enterprise
    rejected = [r for r in read.rejected if any(str(v).strip().upper() == wanted for v in r.original.values())]
    if rejected:
        raise InputFileError(f"{file} row {rejected[0].row}: enterprise {wanted} was rejected: "
                             + "; ".join(p.message for p in rejected[0].problems))
    raise InputFileError(f"{file}: no enterprise with id {wanted} among {len(read.accepted)} valid rows")


def source_of(file: Path, row: int, sheet: Optional[str]) -> dict:
    """Where a record's facts came from: the register's file name (not its path: ids stay stable) and row."""
    return {"file": file.name, "row": row, **({"sheet": sheet} if sheet else {})}


def sweep_range(policy: Policy, name: str, start: str, stop: str, steps: int, origin: str) -> list[str]:
    """The values to try for one parameter, checked once for `sweep` and `report --sweep` alike:
    the parameter exists, is money, a ratio or a count, and FROM and TO are numbers."""
    from engine.analysis.whatif import sweep_values
    param = policy.parameters.get(name)
    if param is None:
        raise PolicyDataError([f"unknown parameter {name!r}{did_you_mean(name, policy.parameters)}"])
    if param.type not in SWEEPABLE:
        raise PolicyDataError([f"{name} is {param.type}; sweep varies money, ratio or count parameters"])
    for value in (start, stop) if param.type != "money" else ():     # money: 1500万 / 15000000元 / 15000000
        try:
            Decimal(value)
        except (InvalidOperation, ValueError):
            raise PolicyDataError([f"{origin}: {value!r} is not a number"]) from None
    try:
        return sweep_values(param.type, start, stop, steps)
    except (ArithmeticError, ValueError) as exc:
        raise PolicyDataError([f"{origin}: {exc}"]) from None

