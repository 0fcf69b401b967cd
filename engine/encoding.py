"""How fact values and thresholds travel into durable_rules.

durable_rules compares mixed types as text ("10" == 100 is true) and numbers as C doubles, so every
value is sent as a typed, exact integer, boolean or string:
* money, ratios, counts: fixed-point integers in a unit (money: fen; ratios: millionths), with a
  half-step code: 2·floor(x/unit) + (1 if x/unit is fractional). For an integer threshold T (in units),
  every comparison x op T equals code(x) op 2T, so derived amounts such as annualised revenue
  (a fraction) compare exactly without floats;
* dates: the integer YYYYMMDD; booleans, words: themselves.
A threshold that is not a whole number of units is refused when compiling (never rounded).
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from engine.errors import PolicyDataError

# Codes beyond this are saturated: durable_rules compares numbers as doubles (exact below 2**53), and
# thresholds are refused beyond THRESHOLD_LIMIT, so a saturated value still compares correctly with
# every threshold (a growth of 10^9 % is simply "more than any threshold").
SATURATION = 2 ** 52
THRESHOLD_LIMIT = 2 ** 50
UNITS = {"money": Fraction(1, 100), "ratio": Fraction(1, 1_000_000), "int": Fraction(1), "year": Fraction(1),
         "decimal": Fraction(1, 10_000)}


class Encoder:
    def __init__(self, fact_types: dict[str, str]):
        self.fact_types = fact_types
        # A tags fact travels as one boolean field per tag that some rule names ("tags__0": true),
        # because durable_rules cannot test membership in a list exactly.
        self.tag_fields: dict[str, dict[str, str]] = {}

    def tag_field(self, fact: str, tag: str) -> str:
        fields = self.tag_fields.setdefault(fact, {})
        if tag not in fields:
            fields[tag] = f"{fact}__{len(fields)}"
        return fields[tag]

    def __call__(self, fact: str, value: Any, exact: bool = False) -> Any:
        kind = self.fact_types[fact]
        if kind == "tags":
            return tuple(self.tag_field(fact, tag) for tag in value)
        if isinstance(value, tuple):
            return tuple(self(fact, v, exact) for v in value)
        if kind in UNITS:
            scaled = Fraction(value) / UNITS[kind]
            whole = math.floor(scaled)
            if exact and scaled != whole:
                raise PolicyDataError([f"threshold {value} for {fact} is not a whole number of "
                                       f"{UNITS[kind]} units; the engine compares exactly and will not round it"])
            code = 2 * whole + (0 if scaled == whole else 1)
            if exact and abs(code) >= THRESHOLD_LIMIT:
                raise PolicyDataError([f"threshold {value} for {fact} is too large to compare exactly"])
            return max(-SATURATION, min(SATURATION, code))
        if kind == "date":
            return value.year * 10000 + value.month * 100 + value.day
        if kind == "bool":
            return bool(value)
        if isinstance(value, (str, bool)):
            return value
        raise PolicyDataError([f"fact {fact} ({kind}) cannot take the value {value!r}"])

    def record(self, values: dict[str, Any]) -> dict[str, Any]:
        """The engine's view of one enterprise: only facts rules may test, missing ones left out
        (durable_rules never matches a missing field, which is the three-valued 'unknown')."""
        out = {}
        for fact, kind in self.fact_types.items():
            value = values.get(fact)
            if kind == "tags":
                for tag, field in self.tag_fields.get(fact, {}).items():
                    out[field] = tag in (value or ())
                continue
            if value is None or kind == "year_month":
                continue
            out[fact] = self(fact, value)
        return out
