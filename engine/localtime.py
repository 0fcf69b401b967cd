"""Times as a person reads them: stored in UTC (ISO 8601 with +00:00, as the ledger writes them), shown
in the district's time zone (the jurisdiction's `time_zone`, Asia/Shanghai for Chongqing) with its
offset, so "2026-12-03T14:47:31+00:00" reads "2026-12-03 22:47:31 +08:00".

zoneinfo reads the system's time zone database, or the `tzdata` package where the system has none
(Windows, slim containers): tzdata is a dependency for that reason."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Optional

from engine.errors import ScaleupError


@lru_cache(maxsize=None)
def zone(name: str):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; expected an IANA name such as Asia/Shanghai") from None


def local_time(stamp: Optional[str], zone_name: str) -> Optional[str]:
    """An ISO 8601 UTC time stamp shown in the zone, to the second, with the offset. A stamp that is not
    a time (or None) is returned as it is."""
    if not stamp:
        return stamp
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    shown = moment.astimezone(zone(zone_name))
    offset = shown.strftime("%z")
    return shown.strftime("%Y-%m-%d %H:%M:%S") + f" {offset[:3]}:{offset[3:]}"


def zone_of_policy(policy_id: Optional[str]) -> str:
    """The time zone of a policy's jurisdiction; UTC when the policy cannot be loaded (a ledger read
    without its policy still shows correct, labelled times)."""
    if policy_id:
        try:
            from engine.policy import load_policy, resolve_policy_folder
            return load_policy(resolve_policy_folder(policy_id)).jurisdiction.time_zone
        except (ScaleupError, OSError):     # a policy that cannot be loaded: times in UTC, labelled
            pass
    return "UTC"
