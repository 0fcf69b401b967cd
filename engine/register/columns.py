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
from engine.register.units import DEFAULT_UNIT
from engine.rulebook import load_facts
from engine.rules_model import FactSpec
from engine.vocabulary import VOCABULARY_FILE, value_aliases, vocabulary_problems
from engine.yamlio import YamlFileError

# Facts the reader fills in itself rather than from a column of its own.
_DERIVED_BY_READER = {"town_code"}

# "上年营业收入（万元）", "上年营业收入(千元)", "上年营业收入元": a money header with its unit spelt out.
_UNIT_SUFFIX = re.compile(r"(?P<base>.+?)(?:\((?P<u1>千元|万元|亿元|元)\)|(?P<u2>千元|万元|亿元|元))")


# A register column is a fact of the schema without a derivation.
Column = FactSpec
REGISTER_TYPES = ("text", "bool", "date", "year_month", "money", "int", "decimal", "enum", "tags")


@dataclass(frozen=True)
class HeaderField:
    index: int          # position of the column in the file's rows
    label: str          # the header text as found in the file
    column: Column
    unit: Optional[str]  # money: the unit the header gives (元, 千元, 万元, 亿元), None when it gives none

    @property
    def money_unit(self) -> str:
        return self.unit or DEFAULT_UNIT

    @property
    def in_yuan(self) -> bool:
        return self.unit == "元"


@dataclass(frozen=True)
class HeaderMap:
    fields: dict[str, HeaderField]            # column id -> where it is in the file
    unknown: list[tuple[int, str, str]]       # (index, label, did-you-mean text or "")


def header_key(text: str) -> str:
    """The form in which header cells are compared: full-width brackets and letters made half-width,
    all whitespace removed, ASCII lower-cased."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def register_columns(policy: Policy) -> tuple[Column, ...]:
    """The register's columns: the facts schema (facts.yaml) of the policy's own rules folder, each closed
    column with the other names of its values that the policy's vocabulary.yaml gives."""
    columns = load_columns(policy.rules_folder)
    vocabulary = getattr(policy, "column_vocabulary", None)
    if not vocabulary:
        return columns
    key = tuple(sorted((cid, tuple(words.items())) for cid, words in vocabulary.items()))
    return _with_vocabulary(columns, key, str(policy.folder / VOCABULARY_FILE))


@lru_cache(maxsize=8)
def _with_vocabulary(columns: tuple[Column, ...], key: tuple, path: str) -> tuple[Column, ...]:
    vocabulary = {cid: dict(words) for cid, words in key}
    problems = vocabulary_problems(Path(path), vocabulary, columns)
    if problems:
        raise PolicyDataError(problems)
    return tuple(c.model_copy(update={"value_aliases": value_aliases(vocabulary[c.id])}) if c.id in vocabulary else c
                 for c in columns)


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
        if c.value_aliases:
            problems.append(f"{path}: column {c.id}: other names of values belong in a policy's {VOCABULARY_FILE}")
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


def match_header(text: str, columns: tuple[Column, ...]) -> Optional[tuple[Column, Optional[str]]]:
    """The column a header cell names and, for money, the unit the header gives (None: no unit, so the
    register's 万元), or None for an unknown header."""
    lookup = _lookup(columns)
    key = header_key(text)
    column, unit = lookup.get(key), None
    if column is None:
        if key.endswith("_yuan"):
            column, unit = lookup.get(key[: -len("_yuan")]), "元"
        elif m := _UNIT_SUFFIX.fullmatch(key):
            column, unit = lookup.get(m["base"]), m["u1"] or m["u2"]
        if column is not None and column.type != "money":
            column = None
    if column is None:
        return None
    return column, unit if column.type == "money" else None


def count_known(cells: list, columns: tuple[Column, ...]) -> int:
    return sum(1 for c in cells if isinstance(c, str) and c.strip() and match_header(c, columns))


def map_headers(labels: list[str], columns: tuple[Column, ...], file: str) -> HeaderMap:
    fields: dict[str, HeaderField] = {}
    unknown: list[tuple[int, str, str]] = []
    for index, label in enumerate(labels):
        found = match_header(label, columns)
        if found is None:
            repeat = _REPEATED_LABEL.fullmatch(label)      # header_labels' "备注 (2)" for a second "备注"
            if repeat and repeat["base"] in labels[:index]:
                if match_header(repeat["base"], columns):
                    first = labels.index(repeat["base"])
                    raise InputFileError(f'{file}: the column "{repeat["base"]}" appears more than once (columns '
                                         f"{_letter(first)} and {_letter(index)}); keep one of them")
                unknown.append((index, label, f'; "{repeat["base"]}" appears more than once'))
                continue
            unknown.append((index, label, _suggest_header(label, columns)))
            continue
        column, unit = found
        if column.id in fields:
            raise InputFileError(f'{file}: columns "{fields[column.id].label}" and "{label}" both give '
                                 f"{column.describe()}; keep one of them")
        fields[column.id] = HeaderField(index, label, column, unit)
    missing = [c.describe() for c in columns if c.required and c.id not in fields]
    if missing:
        found_text = ", ".join(f'"{label}"' for label in labels) or "(none)"
        raise InputFileError(f"{file}: missing required column(s): {', '.join(missing)}; "
                             f"columns found: {found_text}")
    return HeaderMap(fields, unknown)


_REPEATED_LABEL = re.compile(r"(?P<base>.+) \((?P<n>\d+)\)")


def _letter(index: int) -> str:
    letters, n = "", index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _suggest_header(label: str, columns: tuple[Column, ...]) -> str:
    names = [n for c in columns for n in (c.id, *c.aliases)]
    close = difflib.get_close_matches(label.strip(), names, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""
