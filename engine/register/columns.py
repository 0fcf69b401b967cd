"""Register columns: the columns of the policy's facts schema (<rules folder>/facts.yaml, the single source
of truth for ids, types and Chinese header aliases) and the mapping from a file's header cells to them."""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from datetime import date
from decimal import Decimal
from typing import Literal, Optional, Union, get_args, get_origin

from engine.errors import InputFileError, PolicyDataError
from engine.facts import Enterprise, YearMonth
from engine.policy import Policy
from engine.rulebook import load_facts
from engine.rules_model import FactSpec
from engine.yamlio import YamlFileError

# Facts the reader fills in itself rather than from a column of its own.
_DERIVED_BY_READER = {"town_code"}

# "上年营业收入（万元）", "上年营业收入(元)", "上年营业收入元": a money header with its unit spelt out.
_UNIT_SUFFIX = re.compile(r"(?P<base>.+?)(?:\((?P<u1>万元|元)\)|(?P<u2>万元|元))")


# A register column is a fact of the schema without a derivation.
Column = FactSpec
REGISTER_TYPES = ("text", "bool", "date", "year_month", "money", "int", "decimal", "enum", "tags")


@dataclass(frozen=True)
class HeaderField:
    index: int          # position of the column in the file's rows
    label: str          # the header text as found in the file
    column: Column
    in_yuan: bool       # money read in 元 (the header says so) rather than 万元


@dataclass(frozen=True)
class HeaderMap:
    fields: dict[str, HeaderField]            # column id -> where it is in the file
    unknown: list[tuple[int, str, str]]       # (index, label, did-you-mean text or "")


def header_key(text: str) -> str:
    """The form in which header cells are compared: full-width brackets and letters made half-width,
    all whitespace removed, ASCII lower-cased."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def register_columns(policy: Policy) -> tuple[Column, ...]:
    """The register's columns: the facts schema (facts.yaml) of the policy's own rules folder."""
    return load_columns(policy.rules_folder)


@lru_cache(maxsize=8)
def load_columns(rules_folder: Path) -> tuple[Column, ...]:
    path = rules_folder / "facts.yaml"
    try:
        facts = load_facts(rules_folder)
    except YamlFileError as exc:
        raise PolicyDataError([str(exc)]) from None
    columns = [spec for spec in facts.values() if not spec.fn]
    problems = [f"{path}: column {c.id}: type {c.type} is not a register type ({', '.join(REGISTER_TYPES)})"
                for c in columns if c.type not in REGISTER_TYPES]
    ids = [c.id for c in columns]
    expected = set(Enterprise.model_fields) - _DERIVED_BY_READER
    if not problems and set(ids) != expected:
        problems.append(f"{path}: columns {sorted(set(ids) - expected)} are not Enterprise fields and "
                        f"fields {sorted(expected - set(ids))} have no column (engine/facts.py)")
    if not problems:
        problems += [f"{path}: column {p}" for p in enterprise_disagreements(columns)]
    for c in columns:
        if (c.type == "enum") != (c.values is not None):
            problems.append(f"{path}: column {c.id}: 'values' goes with type enum, and only with it")
    keys: dict[str, str] = {}
    for c in columns:
        for name in {c.id, *c.aliases}:
            other = keys.setdefault(header_key(name), c.id)
            if other != c.id:
                problems.append(f"{path}: header {name!r} would name both {other} and {c.id}")
    if problems:
        raise PolicyDataError(problems)
    return tuple(columns)


PYTHON_TYPES = {"text": str, "bool": bool, "date": date, "year_month": YearMonth, "money": Decimal, "int": int,
                "decimal": Decimal, "tags": tuple}


def enterprise_disagreements(columns: list[Column]) -> list[str]:
    """Where the schema and engine/facts.Enterprise (the typed row the reader builds) disagree on a
    column's type, its enum values or whether it is required."""
    out = []
    for c in columns:
        field = Enterprise.model_fields[c.id]
        annotation = field.annotation
        if get_origin(annotation) is Union:
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        if c.type == "enum":
            if get_origin(annotation) is not Literal or set(get_args(annotation)) != set(c.values or ()):
                out.append(f"{c.id}: enum values {list(c.values or ())} differ from Enterprise.{c.id} ({annotation})")
        elif (get_origin(annotation) or annotation) is not PYTHON_TYPES[c.type]:
            out.append(f"{c.id}: type {c.type} does not match Enterprise.{c.id} ({annotation})")
        if c.required != field.is_required():
            out.append(f"{c.id}: required is {c.required}, Enterprise.{c.id} {'requires' if field.is_required() else 'does not require'} it")
    return out


@lru_cache(maxsize=4)
def _lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    return {header_key(name): c for c in columns for name in (c.id, *c.aliases)}


def match_header(text: str, columns: tuple[Column, ...]) -> Optional[tuple[Column, bool]]:
    """The column a header cell names and whether its money is in 元, or None for an unknown header."""
    lookup = _lookup(columns)
    key = header_key(text)
    column = lookup.get(key)
    if column is None:
        if key.endswith("_yuan"):
            column = lookup.get(key[: -len("_yuan")])
        elif m := _UNIT_SUFFIX.fullmatch(key):
            column = lookup.get(m["base"])
        if column is not None and column.type != "money":
            column = None
    if column is None:
        return None
    # The register's amounts are in 万元 unless the header itself says 元.
    in_yuan = column.type == "money" and (key.endswith("_yuan") or ("元" in key and "万" not in key))
    return column, in_yuan


def count_known(cells: list, columns: tuple[Column, ...]) -> int:
    return sum(1 for c in cells if isinstance(c, str) and c.strip() and match_header(c, columns))


def map_headers(labels: list[str], columns: tuple[Column, ...], file: str) -> HeaderMap:
    fields: dict[str, HeaderField] = {}
    unknown: list[tuple[int, str, str]] = []
    for index, label in enumerate(labels):
        found = match_header(label, columns)
        if found is None:
            unknown.append((index, label, _suggest_header(label, columns)))
            continue
        column, in_yuan = found
        if column.id in fields:
            raise InputFileError(f'{file}: columns "{fields[column.id].label}" and "{label}" both give '
                                 f"{column.describe()}; keep one of them")
        fields[column.id] = HeaderField(index, label, column, in_yuan)
    missing = [c.describe() for c in columns if c.required and c.id not in fields]
    if missing:
        found_text = ", ".join(f'"{label}"' for label in labels) or "(none)"
        raise InputFileError(f"{file}: missing required column(s): {', '.join(missing)}; "
                             f"columns found: {found_text}")
    return HeaderMap(fields, unknown)


def _suggest_header(label: str, columns: tuple[Column, ...]) -> str:
    names = [n for c in columns for n in (c.id, *c.aliases)]
    close = difflib.get_close_matches(label.strip(), names, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""
