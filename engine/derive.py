"""Facts derived from the register's columns (rules/facts.yaml `derived`). The functions are a closed,
generic set — arithmetic on dates and amounts, never a policy choice; which derived facts exist and
from which columns is data. A derived fact is None whenever an input it needs is None."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from math import gcd
from typing import Any, Callable, Optional

from engine.facts import Enterprise, YearMonth


def industry_section(code: Optional[str], as_of: date) -> Optional[str]:
    return code[0] if code else None


def industry_division(code: Optional[str], as_of: date) -> Optional[str]:
    return code[:3] if code and len(code) >= 3 else None


def latest_date(a: Optional[date], b: Optional[date], as_of: date) -> Optional[date]:
    """The later of two dates; a missing second date (投产日期 not filled) leaves the first."""
    if a is None:
        return None
    return a if b is None else max(a, b)


def year_of(ym: Optional[YearMonth], as_of: date) -> Optional[int]:
    return None if ym is None else ym.year


def first_day_of(ym: Optional[YearMonth], as_of: date) -> Optional[date]:
    """The first day of a month: an entry known by its month compared with a date (an entry window)."""
    return None if ym is None else ym.first_day()


def years_since(ym: Optional[YearMonth], as_of: date) -> Optional[int]:
    """Whole calendar years from the year of inclusion to the as-of year (0 = included this year)."""
    return None if ym is None else as_of.year - ym.year


def months_of_operation(through: Optional[YearMonth], started: Optional[date], as_of: date) -> Optional[int]:
    """Months the year-to-date figure covers: January to `through`, or from the start month when the
    firm started operating in that same year."""
    if through is None:
        return None
    first = 1
    if started is not None and started.year == through.year:
        first = started.month
    if started is not None and (started.year, started.month) > (through.year, through.month):
        return None
    return through.month - first + 1


def annualise(amount: Optional[Decimal], months: Optional[int], as_of: date) -> Optional[Fraction]:
    if amount is None or not months:
        return None
    n, d = amount.as_integer_ratio()
    return Fraction(n * 12, d * months)


def add_remainder(ytd: Optional[Decimal], last_year: Optional[Decimal], ytd_last_year: Optional[Decimal],
                  as_of: date) -> Optional[Fraction]:
    """This year so far plus what last year earned after the same point (a seasonal projection)."""
    if ytd is None or last_year is None or ytd_last_year is None:
        return None
    return _exact_sum((ytd, 1), (last_year, 1), (ytd_last_year, -1))


def relative_change(now: Optional[Decimal], before: Optional[Decimal], as_of: date) -> Optional[Fraction]:
    if now is None or before is None or before == 0:
        return None
    n, d = _exact_sum((now, 1), (before, -1)).as_integer_ratio()
    b_n, b_d = before.as_integer_ratio()
    return Fraction(n * b_d, d * b_n)


# The derivations above run for every row an explanation or a compact line shows them in. Fraction's
# arithmetic operators each build and normalise a new Fraction in Python (fractions.py); the same exact
# value worked out on the amounts' integer ratios is normalised once (about 10 times fewer calls).
def _exact_sum(*terms: tuple) -> Fraction:
    """Σ sign × amount, exactly, for amounts with an exact integer ratio (Decimal, int, Fraction)."""
    ratios = [(amount.as_integer_ratio(), sign) for amount, sign in terms]
    den = 1
    for (_, d), _ in ratios:
        den = den * d // gcd(den, d)
    return Fraction(sum(sign * n * (den // d) for (n, d), sign in ratios), den)


def is_negative(amount: Optional[Decimal], as_of: date) -> Optional[bool]:
    """Whether a signed amount is below zero (a loss when the amount is a profit)."""
    return None if amount is None else amount < 0


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "industry_section": industry_section,
    "industry_division": industry_division,
    "latest_date": latest_date,
    "year_of": year_of,
    "first_day_of": first_day_of,
    "years_since": years_since,
    "months_of_operation": months_of_operation,
    "annualise": annualise,
    "add_remainder": add_remainder,
    "relative_change": relative_change,
    "is_negative": is_negative,
}


def fact_values(enterprise: Enterprise, derived_specs, as_of: date) -> dict[str, Any]:
    """Every column value plus every derived fact, in declaration order (later ones may use earlier)."""
    # A model's fields are its __dict__ (Enterprise forbids extra fields): copied at C speed, not iterated.
    fields = getattr(enterprise, "__dict__", None)
    values: dict[str, Any] = dict(fields) if fields is not None else dict(enterprise)
    for spec in derived_specs:
        fn = FUNCTIONS[spec.fn]
        values[spec.id] = fn(*(values.get(a) for a in spec.args), as_of)
    return values
