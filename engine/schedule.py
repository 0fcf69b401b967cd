"""An amount schedule: the amount paid by bands of a fact (营业收入 2000万元（含）以上不满5000万元 → X, 5000万元以上
→ Y), a parameter of type `schedule`. Each band states both edges and whether each includes its number,
as the instrument's words do (民法典 第一千二百五十九条: 以上、以下、以内、届满 include the number itself;
不满、超过、以外 do not; 含 includes it explicitly). The bands must be in ascending order and meet edge to
edge: no gap (a figure no band pays, between two bands) and no overlap (a figure two bands pay). Below
the first band or above a last band with an upper edge, the schedule pays nothing.

An amount rule names the schedule and the fact it bands (`amount: {schedule: <param>, fact: <fact>}`);
engine/compiler.py compiles each band as its own condition, so durable_rules decides which band applies."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

BAND_KEYS = {"lower", "lower_inclusive", "upper", "upper_inclusive", "amount", "text"}


@dataclass(frozen=True)
class Band:
    """lower (<= or <) fact (< or <=) upper, paying `amount`; an absent edge is unbounded."""

    lower: Optional[Decimal]
    lower_inclusive: bool
    upper: Optional[Decimal]
    upper_inclusive: bool
    amount: Decimal
    text: Optional[str] = None        # the instrument's words for the band, quoted

    def interval(self) -> str:
        """The band in interval notation: [20000000, 50000000), [50000000, ∞)."""
        lo = "(-∞" if self.lower is None else ("[" if self.lower_inclusive else "(") + _plain(self.lower)
        hi = "∞)" if self.upper is None else _plain(self.upper) + ("]" if self.upper_inclusive else ")")
        return f"{lo}, {hi}"

    def edges(self, lang: str = "en") -> str:
        """Both edges with their inclusivity, in words."""
        zh = lang == "zh"
        parts = []
        if self.lower is not None:
            parts.append(f"{_plain(self.lower)}{'（含）以上' if self.lower_inclusive else '以上（不含）'}" if zh else
                         f"from {_plain(self.lower)} ({'included' if self.lower_inclusive else 'excluded'})")
        if self.upper is not None:
            parts.append(f"{_plain(self.upper)}{'以下（含）' if self.upper_inclusive else '以下（不含）'}" if zh else
                         f"up to {_plain(self.upper)} ({'included' if self.upper_inclusive else 'excluded'})")
        return ("、" if zh else ", ").join(parts) or ("不限" if zh else "any value")

    def as_json(self) -> dict:
        return {"lower": None if self.lower is None else str(self.lower), "lower_inclusive": self.lower_inclusive,
                "upper": None if self.upper is None else str(self.upper), "upper_inclusive": self.upper_inclusive,
                "amount": str(self.amount.quantize(Decimal("0.01"))), "text": self.text}


def _plain(x: Decimal) -> str:
    return format(x.normalize(), "f") if x == x.to_integral_value() else str(x)


def parse_schedule(raw: Any) -> tuple[Band, ...]:
    """The bands of a schedule value, checked: each well formed, ascending, no gap, no overlap. Raises
    ValueError naming the band (1-based) and its edges."""
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"a schedule is a non-empty list of bands (lower, lower_inclusive, upper, "
                         f"upper_inclusive, amount), got {raw!r}")
    bands = [_band(i + 1, b) for i, b in enumerate(raw)]
    problems = schedule_problems(bands)
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(bands)


def _band(n: int, raw: Any) -> Band:
    if not isinstance(raw, dict):
        raise ValueError(f"band {n}: expected a mapping, got {raw!r}")
    unknown = set(raw) - BAND_KEYS
    if unknown:
        raise ValueError(f"band {n}: unknown keys {sorted(unknown)} (expected {sorted(BAND_KEYS)})")
    if "amount" not in raw:
        raise ValueError(f"band {n}: needs an amount")
    lower, upper = _number(n, raw, "lower"), _number(n, raw, "upper")
    if lower is None and upper is None:
        raise ValueError(f"band {n}: needs a lower or an upper edge")
    for edge, value in (("lower", lower), ("upper", upper)):
        key = f"{edge}_inclusive"
        if value is not None and not isinstance(raw.get(key), bool):
            raise ValueError(f"band {n}: {edge} {value} needs {key}: true or false — whether the band includes "
                             "the number itself (以上/以下/以内/含: true; 超过/不满/不到: false)")
        if value is None and key in raw:
            raise ValueError(f"band {n}: {key} without a {edge} edge")
    amount = _number(n, raw, "amount")
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"band {n}: amount must be ≥ 0 and exact to 0.01 yuan, got {raw['amount']!r}")
    band = Band(lower, bool(raw.get("lower_inclusive")), upper, bool(raw.get("upper_inclusive")), amount,
                raw.get("text"))
    if lower is not None and upper is not None and (lower > upper or lower == upper and not (
            band.lower_inclusive and band.upper_inclusive)):
        raise ValueError(f"band {n} {band.interval()}: the lower edge must be below the upper edge")
    return band


def _number(n: int, raw: dict, key: str) -> Optional[Decimal]:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"band {n}: {key}: expected a quoted decimal such as \"20000000\", got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"band {n}: {key}: expected a decimal number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"band {n}: {key}: expected a finite number, got {value!r}")
    return number


def schedule_problems(bands: list[Band]) -> list[str]:
    """Order, gaps and overlaps between consecutive bands, each named by both bands' edges."""
    problems = []
    for i, (a, b) in enumerate(zip(bands, bands[1:]), start=1):
        where = f"bands {i} {a.interval()} and {i + 1} {b.interval()}"
        if a.upper is None or b.lower is None:
            problems.append(f"{where}: only the first band may lack a lower edge and only the last an upper one")
        elif b.lower > a.upper:
            problems.append(f"{where} leave a gap: figures from {_plain(a.upper)} to {_plain(b.lower)} "
                            "are in no band")
        elif b.lower < a.upper:
            if a.lower is not None and b.lower < a.lower:
                problems.append(f"{where}: bands must be in ascending order")
            else:
                problems.append(f"{where} overlap: figures from {_plain(b.lower)} to {_plain(a.upper)} are in both")
        elif a.upper_inclusive and b.lower_inclusive:
            problems.append(f"{where} overlap at {_plain(a.upper)}: both include it (one edge must say 不满/超过)")
        elif not a.upper_inclusive and not b.lower_inclusive:
            problems.append(f"{where} leave a gap at {_plain(a.upper)}: neither includes it (one edge must say "
                            "以上/以下/含)")
    return problems


def band_of(bands: tuple[Band, ...], value: Any) -> Optional[int]:
    """The index of the band that holds `value` (None: no band). For explanations and tests; the
    engines decide the band from the compiled conditions."""
    for k, band in enumerate(bands):
        lo_ok = band.lower is None or (value >= band.lower if band.lower_inclusive else value > band.lower)
        hi_ok = band.upper is None or (value <= band.upper if band.upper_inclusive else value < band.upper)
        if lo_ok and hi_ok:
            return k
    return None


def band_word_problems(bands: tuple[Band, ...], comparatives: list[tuple[str, str]]) -> list[str]:
    """Each band's quoted words (`text`) against its edges: a word of the lower edge (以上 >=, 超过 >) or
    of the upper edge (以下/以内 <=, 不满/不到 <) must match that edge's inclusivity. `comparatives`: the
    words and the operator each means, longest first (不超过 before 超过)."""
    out = []
    for n, band in enumerate(bands, start=1):
        taken: list[range] = []
        for word, op in comparatives:
            start = (band.text or "").find(word)
            while start >= 0:
                span = range(start, start + len(word))
                if not any(set(span) & set(t) for t in taken):
                    taken.append(span)
                    out += _word_problem(n, band, word, op)
                start = band.text.find(word, start + 1)
    return out


def _word_problem(n: int, band: Band, word: str, op: str) -> list[str]:
    edge, value, inclusive = (("lower", band.lower, band.lower_inclusive) if op in (">", ">=")
                              else ("upper", band.upper, band.upper_inclusive))
    if value is None:
        return [f"band {n} 「{band.text}」 says 「{word}」 ({op}) but has no {edge} edge"]
    if inclusive != (op in (">=", "<=")):
        return [f"band {n} 「{band.text}」 says 「{word}」 ({op}): its {edge} edge {_plain(value)} must be "
                f"{edge}_inclusive: {str(op in ('>=', '<=')).lower()}"]
    return []
