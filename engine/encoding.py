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
            # Integer arithmetic on the value's exact ratio (int, Decimal and Fraction all give one):
            # the same code as Fraction(value) / unit, without building Fractions for every record.
            n, d = value.as_integer_ratio()
            unit = UNITS[kind]
            scaled_n, scaled_d = n * unit.denominator, d * unit.numerator
            whole = scaled_n // scaled_d
            fractional = scaled_n % scaled_d != 0
            if exact and fractional:
                raise PolicyDataError([f"threshold {value} for {fact} is not a whole number of "
                                       f"{UNITS[kind]} units; the engine compares exactly and will not round it"])
            code = 2 * whole + (1 if fractional else 0)
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

    def _record_plan(self) -> list[tuple[str, str, Any]]:
        """(fact, kind, fixed-point scale or None) of every fact a record carries (year_month never)."""
        plan = self.__dict__.get("_plan")
        if plan is None:
            plan = self._plan = [(fact, kind, _SCALE.get(kind)) for fact, kind in self.fact_types.items()
                                 if kind != "year_month"]
        return plan

    def record_facts(self) -> list[tuple[str, str]]:
        """(fact, kind) of every fact a record carries, in record order."""
        return [(fact, kind) for fact, kind, _ in self._record_plan()]

    def record(self, values: dict[str, Any]) -> dict[str, Any]:
        """The engine's view of one enterprise: only facts rules may test, missing ones left out
        (durable_rules never matches a missing field, which is the three-valued 'unknown')."""
        out = {}
        for fact, kind, scale in self._record_plan():
            value = values.get(fact)
            if kind == "tags":
                for tag, field in self.tag_fields.get(fact, {}).items():
                    out[field] = tag in (value or ())
                continue
            if value is None:
                continue
            if scale is not None and type(value) is not tuple:
                # __call__'s fixed-point code, inlined: this runs for every number of every record.
                n, d = value.as_integer_ratio()
                n, d = n * scale[0], d * scale[1]
                out[fact] = max(-SATURATION, min(SATURATION, 2 * (n // d) + (1 if n % d else 0)))
            else:
                out[fact] = self(fact, value)
        return out


_SCALE = {kind: (unit.denominator, unit.numerator) for kind, unit in UNITS.items()}

