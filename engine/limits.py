"""Every bound on the work an input file can cause, defined once (docs/limits.md explains each one).

A register, a workbook, an overrides YAML or an audit record comes from outside and may be hostile or
simply broken: a workbook whose one cell expands to a gigabyte, a YAML of nested aliases, a CSV of 100,000
columns. Each reader asks `limit(NAME)` before or while it parses and refuses the file (or the row) with a
message naming the limit and how to raise it, in seconds and with bounded memory.

Every default can be raised (or lowered) for one run with an environment variable SCALEUP_LIMIT_<NAME>,
e.g. SCALEUP_LIMIT_XLSX_UNCOMPRESSED_BYTES=2000000000 for a province-wide workbook.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from engine.errors import LimitExceeded

__all__ = ["Limit", "LIMITS", "limit", "exceeded"]

ENV_PREFIX = "SCALEUP_LIMIT_"


@dataclass(frozen=True)
class Limit:
    name: str
    default: int
    unit: str
    applies_to: str


_MIB = 1 << 20

LIMITS: dict[str, Limit] = {lim.name: lim for lim in (
    # Registers (CSV, XLSX, JSON), both the whole-file and the streaming readers.
    Limit("REGISTER_COLUMNS", 1000, "columns", "columns of a register row (the contract has about 40)"),
    Limit("CELL_CHARS", 32767, "characters", "one cell of a register (Excel's own maximum)"),
    Limit("REGISTER_ROWS", 5_000_000, "rows", "rows of one register file"),
    Limit("JSON_REGISTER_BYTES", 256 * _MIB, "bytes", "a .json register (parsed whole)"),
    # Workbooks: checked in the zip directory before any XML is parsed.
    Limit("XLSX_UNCOMPRESSED_BYTES", 1024 * _MIB, "bytes", "all parts of an .xlsx workbook, uncompressed"),
    Limit("XLSX_PART_RATIO", 200, "times", "compression ratio of one part of a workbook larger than 1 MiB"),
    # YAML written by users (--overrides); the policy's own files are the program's data.
    Limit("USER_YAML_BYTES", 1 * _MIB, "bytes", "an --overrides YAML file"),
    Limit("USER_YAML_NODES", 10_000, "nodes", "values, lists and mappings in an --overrides YAML file"),
    # A unit-less money column read as 万元 whose median revenue is above this is refused (likely 元).
    Limit("UNITLESS_MEDIAN_WAN", 1_000_000, "万元", "the median of a revenue column without a unit in its header"),
    # Audit records read by `scaleup verify`.
    Limit("RECORD_BYTES", 8 * _MIB, "bytes", "one audit record file"),
    Limit("RECORD_DEPTH", 32, "levels", "nesting of lists and objects in an audit record"),
    # What a message may quote of a value from a file.
    Limit("MESSAGE_VALUE_CHARS", 200, "characters", "a value quoted in a message or a verify line"),
)}


def limit(name: str) -> int:
    """The limit in force: SCALEUP_LIMIT_<NAME> when set to a whole number, else the default."""
    spec = LIMITS[name]
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or not raw.strip():
        return spec.default
    try:
        value = int(raw.strip())
    except ValueError:
        raise LimitExceeded(f"{ENV_PREFIX}{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise LimitExceeded(f"{ENV_PREFIX}{name}={raw!r} must be at least 1")
    return value


def exceeded(name: str, where: str, found: str) -> LimitExceeded:
    """The error to raise: what was found, the limit, and how to raise it."""
    spec = LIMITS[name]
    return LimitExceeded(f"{where}: {found}; the limit is {limit(name):,} {spec.unit} for {spec.applies_to} "
                         f"(see docs/limits.md; raise it with {ENV_PREFIX}{name})")


def clip(text: str, name: str = "MESSAGE_VALUE_CHARS") -> str:
    """Text from a file shortened for a message: the start, and how long it was."""
    text = str(text)
    most = limit(name)
    return text if len(text) <= most else f"{text[:most]}… ({len(text):,} characters)"
