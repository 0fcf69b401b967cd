"""Unified social credit code (统一社会信用代码) check, GB 32100-2015.

18 characters: registration authority (1), entity type (1), administrative division (6), organisation
code (9, whose last character is its own GB 11714 check), and a final check character over the first 17.
"""
from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100 excludes I, O, Z, S, V
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(CHARSET.index(ch) * w for ch, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """None when `code` is a well-formed USCC, else what is wrong with it (in English)."""
    if not isinstance(code, str) or len(code) != 18:
        return f"a USCC has 18 characters, got {len(code) if isinstance(code, str) else 0}"
    bad = [ch for ch in code if ch not in CHARSET]
    if bad:
        return f"character {bad[0]!r} is not allowed in a USCC (GB 32100-2015)"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r} but should be {expected!r} (GB 32100-2015)"
    return None


def make_uscc(first17: str) -> str:
    """Complete 17 characters with their check character (used to build sample and test data)."""
    return first17 + uscc_check_char(first17)
