"""Register cell values: one cell of an officer's file (text from CSV; text, numbers, booleans or dates
from XLSX and JSON) turned into the typed value of its column, or a CellError that says what is wrong
and what was expected. Knows value formats, nothing about files or towns."""
from __future__ import annotations

import difflib
import json
import math
import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache
from decimal import Decimal
from typing import Any, Callable, Optional

from engine.facts import YearMonth
from engine.register.columns import Column
from engine.register.units import DEFAULT_UNIT, UNITS, places, to_yuan

MAX_INTEGER_DIGITS = 15  # beyond any real register figure; keeps Decimal arithmetic exact
_FEN = Decimal("0.01")


class CellError(ValueError):
    """A cell whose value cannot be read; the message is meant for the officer."""


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == [] or raw == {}


def show(raw: Any, limit: int = 40) -> str:
    text = cell_text(raw)
    return '"' + (text if len(text) <= limit else text[:limit] + "…") + '"'


def cell_text(raw: Any) -> str:
    """A cell as the officer would see it written out (used for rejected rows and messages)."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float):
        return _float_text(raw)
    if isinstance(raw, (int, Decimal)):
        return str(raw)
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat(sep=" ")
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, (list, dict)):
        return json.dumps(raw, ensure_ascii=False, default=_json_number)
    return str(raw)


def _json_number(value: Any) -> Any:
    # JSON numbers are read as Decimal (exactness); shown back as numbers, not quoted strings.
    if isinstance(value, Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() and abs(value.adjusted()) < 30 else float(value)
    return str(value)


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    # Excel keeps 15 significant digits; digits beyond are binary-float noise, not the officer's figure.
    d = Decimal(format(value, ".15g"))
    return format(d, "f") if d.adjusted() < 20 else str(d)


def _text(raw: Any) -> str:
    """Cell text normalised for parsing: full-width digits and punctuation made half-width, trimmed."""
    return unicodedata.normalize("NFKC", cell_text(raw)).replace("\u2212", "-").strip()


# ---- numbers ---------------------------------------------------------------------------------------
# Thousands separators must group by three: "18,50" may be a European decimal comma, so it is refused.
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")


def _to_decimal(raw: Any, expected: str) -> Decimal:
    if isinstance(raw, bool):
        raise CellError(f"{show(raw)} is not a number; expected {expected}")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise CellError(f"{show(raw)} is not a number; expected {expected}")
        value = Decimal(_float_text(raw))
    elif isinstance(raw, str):
        text = _text(raw)
        if not _NUMBER.fullmatch(text):
            raise CellError(f"{show(raw)} is not a number; expected {expected}")
        value = Decimal(text.replace(",", ""))
    else:
        raise CellError(f"{show(raw)} is not a number; expected {expected}")
    if not value.is_finite():
        raise CellError(f"{show(raw)} is not a number; expected {expected}")
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        raise CellError(f"{show(raw)} is too large (more than {MAX_INTEGER_DIGITS} digits)")
    return value


def decimal_places(value: Decimal) -> int:
    """Decimal places that carry information: 1850.500000 has one."""
    _, digits, exponent = value.as_tuple()
    end = len(digits)
    while exponent < 0 and end > 1 and digits[end - 1] == 0:
        end -= 1
        exponent += 1
    return max(0, -exponent)


def _not_negative(column: Column, raw: Any, value: Decimal) -> None:
    if value < 0 and not column.signed:
        raise CellError(f"{show(raw)} is negative; this column cannot be negative")


def parse_money(column: Column, raw: Any, in_yuan: bool = False, unit: Optional[str] = None) -> Decimal:
    """Money in yuan, exact to the fen; the register's figures are in 万元 unless the header gives a unit
    (元, 千元, 万元, 亿元: engine/register/units.py)."""
    unit = unit or ("元" if in_yuan else DEFAULT_UNIT)
    value_raw = raw
    if isinstance(raw, str):
        text = _text(raw)
        written = next((u for u in UNITS if text.endswith(u)), None)
        if written:
            if written != unit:
                raise CellError(f"{show(raw)} is in {written} but this column is in {unit}; "
                                f"write the amount in {unit} or change the header")
            value_raw = text[: -len(written)].rstrip()
    value = _to_decimal(value_raw, f"an amount in {unit} such as 1850.5 or 1,850.50")
    _not_negative(column, raw, value)
    limit = places(unit)  # 0.01 元 = 0.000001 万元
    if decimal_places(value) > limit:
        raise CellError(f"{show(raw)} {unit} is more precise than 0.01 元 "
                        f"(at most {limit} decimal places in {unit})")
    yuan = to_yuan(value, unit).quantize(_FEN)
    return yuan if yuan else Decimal("0.00")  # no "-0.00"


def parse_int(column: Column, raw: Any) -> int:
    value = _to_decimal(raw, "a whole number such as 12 or 1,200")
    if value != value.to_integral_value():
        raise CellError(f"{show(raw)} is not a whole number")
    _not_negative(column, raw, value)
    return int(value)


def parse_decimal(column: Column, raw: Any) -> Decimal:
    value = _to_decimal(raw, "a number such as 12.5")
    _not_negative(column, raw, value)
    if decimal_places(value) > 6:
        raise CellError(f"{show(raw)} has more than 6 decimal places")
    return value


# ---- yes/no ----------------------------------------------------------------------------------------
_TRUE = {"是", "y", "true", "1", "√"}
_FALSE = {"否", "n", "false", "0", "×"}
_BOOL_EXPECTED = "accepted: 是/否, Y/N, true/false, 1/0, √/×"


def parse_bool(column: Column, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float, Decimal)) and raw in (0, 1):
        return bool(raw)
    text = _text(raw).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"{show(raw)} is not a yes/no value; {_BOOL_EXPECTED}{_other_names(column)}")


# ---- dates -----------------------------------------------------------------------------------------
_FULL_DATE = (re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"),
              re.compile(r"(\d{4})()年(\d{1,2})月(\d{1,2})[日号]?"),
              re.compile(r"(\d{4})()(\d{2})(\d{2})"))
_MONTH_ONLY = (re.compile(r"(\d{4})([-/.])(\d{1,2})"),
               re.compile(r"(\d{4})()年(\d{1,2})月?"),
               re.compile(r"(\d{4})()(\d{2})"))
_MIDNIGHT = re.compile(r"[ T]0{1,2}:00(?::00(?:\.0+)?)?$")
_DATE_EXPECTED = "expected a date such as 2024-03-01, 2024/3/1 or 2024年3月1日"
_MONTH_EXPECTED = "expected a month such as 2024-03, 2024.03 or 2024年3月"


def _match(patterns, text: str):
    for pattern in patterns:
        if m := pattern.fullmatch(text):
            return m
    return None


YEARS = range(1900, 2101)         # the years a date may have (engine/columnar/arrow_typed.py codes them at once)


def _year(raw: Any, year: int) -> int:
    if year not in YEARS:
        raise CellError(f"{show(raw)}: year {year} is out of range ({YEARS[0]}-{YEARS[-1]})")
    return year


def _full_date(raw: Any, m) -> date:
    try:
        return date(_year(raw, int(m[1])), int(m[3]), int(m[4]))
    except ValueError as exc:
        if isinstance(exc, CellError):
            raise
        raise CellError(f"{show(raw)} is not a calendar date") from None


def parse_date(column: Column, raw: Any) -> date:
    if isinstance(raw, date):
        day = raw.date() if isinstance(raw, datetime) else raw
        _year(raw, day.year)
        return day
    text = _MIDNIGHT.sub("", _text(raw))
    if m := _match(_FULL_DATE, text):
        return _full_date(raw, m)
    if _match(_MONTH_ONLY, text):
        raise CellError(f"{show(raw)} gives a month but no day; a full date is needed, e.g. 2024-03-01 "
                        "(the day is never guessed)")
    raise CellError(f"{show(raw)} is not a date; {_DATE_EXPECTED}")


def parse_year_month(column: Column, raw: Any) -> YearMonth:
    if isinstance(raw, date):  # a datetime too: Excel turns a typed "2024-03" into 2024-03-01
        return YearMonth(year=_year(raw, raw.year), month=raw.month)
    text = _MIDNIGHT.sub("", _text(raw))
    if m := _match(_MONTH_ONLY, text):
        if m[2] == "." and m[3] == "1":
            # A number cell 2024.10 is stored and exported as 2024.1: January or October cannot be told.
            year = m[1]
            raise CellError(f"{show(raw)} is ambiguous: it may be {year}.10 with its last zero dropped "
                            f"by Excel; write the month as text, e.g. {year}-01 or {year}-10")
        if not 1 <= int(m[3]) <= 12:
            raise CellError(f"{show(raw)} is not a month; {_MONTH_EXPECTED}")
        return YearMonth(year=_year(raw, int(m[1])), month=int(m[3]))
    if m := _match(_FULL_DATE, text):
        day = _full_date(raw, m)
        return YearMonth(year=day.year, month=day.month)
    raise CellError(f"{show(raw)} is not a month; {_MONTH_EXPECTED}")


# ---- text, choices, tags ---------------------------------------------------------------------------
def parse_text(column: Column, raw: Any) -> str:
    if isinstance(raw, (list, dict)):
        raise CellError(f"{show(raw)} is not a single value")
    return cell_text(raw).strip()


def parse_enum(column: Column, raw: Any) -> str:
    text = _text(raw)
    allowed = column.values or ()
    if text in allowed:
        return text
    words = (*allowed, *(a for a, _ in column.value_aliases))
    close = [v for v in words if v.casefold() == text.casefold()]
    close = close or difflib.get_close_matches(text, words, n=1, cutoff=0.5)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    raise CellError(f"{show(raw)} is not one of {' / '.join(allowed)}{hint}{_other_names(column)}")


def _other_names(column: Column) -> str:
    if not column.value_aliases:
        return ""
    names = ", ".join(f"{a}={v}" for a, v in column.value_aliases)
    return f" (or another name the policy's vocabulary.yaml gives: {names})"


@lru_cache(maxsize=64)
def _alias_table(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(pairs)


def _through_vocabulary(column: Column, raw: Any) -> Any:
    """A closed column's cell holding another name of a value (vocabulary.yaml) as that value."""
    if not column.value_aliases or not isinstance(raw, str):
        return raw
    return _alias_table(column.value_aliases).get(_text(raw), raw)


_TAG_SEPARATORS = re.compile(r"[;；、,，]")


def parse_tags(column: Column, raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    tags: list[str] = []
    for item in items:
        if isinstance(item, (list, dict)):
            raise CellError(f"{show(raw)} is not a list of tags")
        for tag in _TAG_SEPARATORS.split(cell_text(item)):
            tag = tag.strip()
            if tag and tag not in tags:
                tags.append(tag)
    return tuple(tags)


_PARSERS: dict[str, Callable[[Column, Any], Any]] = {
    "text": parse_text, "bool": parse_bool, "date": parse_date, "year_month": parse_year_month,
    "int": parse_int, "decimal": parse_decimal, "enum": parse_enum, "tags": parse_tags,
}


# C0/C1 control characters other than tab and line ends: invisible in Excel, they make two names that
# look the same differ, and NUL ends strings in other systems. A cell holding one is rejected (never
# silently stripped), for every column, in both readers.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character_problem(raw: Any) -> Optional[str]:
    if isinstance(raw, str):
        found = CONTROL_CHARACTERS.search(raw)
        if found:
            return (f"holds the control character U+{ord(found.group()):04X} at position {found.start() + 1} "
                    "(invisible in Excel); delete it and save again")
    return None


def parse_cell(column: Column, raw: Any, *, in_yuan: bool = False, unit: Optional[str] = None) -> Any:
    """The typed value of a non-blank cell, or CellError."""
    problem = control_character_problem(raw)
    if problem:
        raise CellError(f"{show(CONTROL_CHARACTERS.sub('?', raw))} {problem}")
    if column.type == "money":
        return parse_money(column, raw, in_yuan, unit)
    if isinstance(raw, (list, dict)) and column.type != "tags":
        raise CellError(f"{show(raw)} is not a single value")
    return _PARSERS[column.type](column, _through_vocabulary(column, raw))
