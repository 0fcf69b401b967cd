"""Money units of a register column: the header says 元, 千元, 万元 or 亿元 (上年营业收入（千元） is how the
statistics bureau's returns give it); without a unit the register's convention is 万元. Conversion to
yuan is exact (Decimal, scaled by a power of ten), and a unit-less revenue column whose figures cannot
be 万元 is refused rather than read a thousand or ten thousand times too large."""
from __future__ import annotations

from decimal import Decimal
from statistics import median
from typing import Iterable, Optional

from engine.limits import limit

DEFAULT_UNIT = "万元"
# yuan per unit, as a power of ten: exact scaling, never a float multiplication.
UNIT_EXPONENT = {"元": 0, "千元": 3, "万元": 4, "亿元": 8}
UNITS = tuple(sorted(UNIT_EXPONENT, key=len, reverse=True))     # longest first: "千元" before "元"
# Columns whose unit-less figures are checked for plausibility as 万元 (revenue of industrial firms).
CHECKED_COLUMNS = ("revenue_last_year", "revenue_ytd", "revenue_ytd_last_year")
SAMPLE = 1001            # values looked at: the first ones of the file (a median needs no more)


def places(unit: str) -> int:
    """Decimal places of an amount in `unit` that are still whole fen: 元 2, 千元 5, 万元 6, 亿元 10."""
    return UNIT_EXPONENT[unit] + 2


def to_yuan(value: Decimal, unit: str) -> Decimal:
    return value.scaleb(UNIT_EXPONENT[unit])


def implausible_unit(file: str, label: str, yuan_values: Iterable[Decimal]) -> Optional[str]:
    """A message when the median of a unit-less revenue column, read as 万元, is above
    UNITLESS_MEDIAN_WAN (engine/limits.py): the figures are then almost surely 元 (or 千元)."""
    values = [v for v in yuan_values if v is not None]
    if not values:
        return None
    middle = median(values).scaleb(-4)                 # in 万元
    most = limit("UNITLESS_MEDIAN_WAN")
    if middle <= most:
        return None
    likely = "元" if middle.scaleb(-4) <= most else "千元" if middle.scaleb(-1) <= most else "元"
    return (f'{file}: column "{label}" has no unit, so its figures are read as 万元, but their median is '
            f"{middle:,.0f} 万元 ({middle.scaleb(-4):,.0f} 亿元), implausible for a firm; the figures look like "
            f'{likely}: write the unit in the header, e.g. "{label}（{likely}）" (UNITLESS_MEDIAN_WAN, '
            "docs/limits.md)")
