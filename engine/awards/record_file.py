"""Reading one audit record file for `scaleup verify`: bounded in size and nesting (engine/limits.py), so
that a crafted record (a 66 MB value, 100,000 nested lists) costs little and gets its own status while
the others are still verified; values shown back cut short; and the installed policy a record is
checked against (by the id it names, never the folder it names)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from engine.limits import clip, limit
from engine.policy import available_policies

__all__ = ["RecordUnreadable", "read_record", "depth", "clipped", "installed_policy_ref"]


class RecordUnreadable(Exception):
    """Why a file is not a record verify can read; it becomes that record's `unreadable` reason."""


def read_record(path: Path) -> Any:
    """A record file parsed, no larger than RECORD_BYTES and no deeper than RECORD_DEPTH (engine/limits.py)."""
    most = limit("RECORD_BYTES")
    try:
        with open(path, "rb") as fh:
            data = fh.read(most + 1)
    except OSError as exc:
        raise RecordUnreadable(f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > most:
        raise RecordUnreadable(f"larger than {most:,} bytes (RECORD_BYTES, docs/limits.md); not a record "
                               "audit writes")
    try:
        record = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise RecordUnreadable(f"nested deeper than {limit('RECORD_DEPTH')} levels (RECORD_DEPTH, "
                               "docs/limits.md)") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordUnreadable(f"not a JSON file ({exc.__class__.__name__}: {_one_line(exc)})") from None
    if depth(record) > limit("RECORD_DEPTH"):
        raise RecordUnreadable(f"nested deeper than {limit('RECORD_DEPTH')} levels (RECORD_DEPTH, docs/limits.md)")
    return record


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def depth(obj: Any) -> int:
    """Nesting of lists and objects, without recursion (a hostile record may be deep)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def clipped(value: Any) -> Any:
    if isinstance(value, str):
        return clip(value)
    if isinstance(value, (dict, list)):
        return clip(json.dumps(value, ensure_ascii=False, default=str))
    return value


def installed_policy_ref(record: dict) -> Optional[str]:
    """The installed policy with the id the record names (never the folder it names), or None."""
    policy_id = record["policy"].get("id")
    if isinstance(policy_id, str) and policy_id in available_policies():
        return policy_id
    return None
