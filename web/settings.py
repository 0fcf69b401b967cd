"""What `scaleup serve` was started with, and the limits it enforces (docs/web.md lists them)."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

MB = 1024 * 1024
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path("."))
    host: str = "127.0.0.1"
    port: int = 8000
    token: Optional[str] = None          # bearer token; required when host is not a loopback address
    max_upload_bytes: int = 20 * MB      # one uploaded register
    max_rows: int = 20_000               # rows of one uploaded register (~5 ms each to evaluate and explain)
    upload_ttl_seconds: int = 2 * 3600   # an upload's workspace is deleted this long after it was made
    page_size: int = 1000                # decision rows on one page of 评价
    default_policy: str = "wanzhou-2022-80"

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "scaleup.db"

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
