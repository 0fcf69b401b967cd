"""Money typed by a person (`--set`, `sweep --from/--to`): "15万", "15万元", "150000元", "150,000" or a
bare number of 元. A bare number under 1万 for a money parameter is refused with a "did you mean": an
officer who types 15 almost always means 15万元 (amounts in registers and policy texts are in 万元),
and a silent 15 元 award is the worst outcome. "15元" says 元 on purpose and is taken as written."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_MONEY = re.compile(r"^\s*([+-]?[\d,]*\.?\d+)\s*(万元|万|元)?\s*$")
# Below this a bare number is ambiguous (15 元 or 15 万元?) and must carry its unit.
BARE_FLOOR = Decimal(10000)


class MoneyTextError(ValueError):
    pass


def parse_money_text(text: str, bare_ok: bool = False) -> str:
    """The amount in 元 as a decimal string. Raises MoneyTextError with the fix in the message.
    bare_ok: a number without a unit is 元 whatever its size and is returned unchanged (data files and
    values the program made; only what a person types on the command line is held to the floor)."""
    found = _MONEY.match(str(text))
    if bare_ok and found and found.group(2) is None:
        return str(text).strip()
    if not found:
        raise MoneyTextError(f"{text!r} is not an amount; write e.g. 15万 (150,000 元) or 150000元")
    number, unit = found.group(1).replace(",", ""), found.group(2)
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise MoneyTextError(f"{text!r} is not an amount; write e.g. 15万 or 150000元") from None
    if unit in ("万", "万元"):
        value *= 10000
    elif unit is None and 0 < abs(value) < BARE_FLOOR:
        raise MoneyTextError(f"{text} 元 is less than 1万元; did you mean {number}万元? Write {number}万 for "
                             f"{value * 10000:,.0f} 元, or {number}元 if you mean {number} 元")
    return format(value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value, "f")
