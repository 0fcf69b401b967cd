"""The progress line of a long batch run on stderr."""
from __future__ import annotations

import sys
import time
from typing import IO, Callable, Optional


class Progress:
    """Rows done, rows/s and rows rejected so far, on one line of stderr, when stderr is a terminal."""

    def __init__(self, total: int, enabled: Optional[bool] = None, stream: IO[str] = None,
                 clock: Callable[[], float] = time.monotonic, unit: str = "rows"):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total, self.clock, self.unit = total, clock, unit
        self.start = self.last = clock()
        self.done = self.rejected = 0
        self.shown = False

    def update(self, rows: int, rejected: int) -> None:
        self.done += rows
        self.rejected += rejected
        now = self.clock()
        if self.enabled and (now - self.last >= 0.25 or self.done >= self.total):
            self.last = now
            self.stream.write("\r" + self.line(now) + "\x1b[K")
            self.stream.flush()
            self.shown = True

    def line(self, now: float) -> str:
        rate = self.done / max(now - self.start, 1e-9)
        pct = f" {100 * self.done / self.total:3.0f}%" if self.total else ""
        return (f"{self.done:,}/{self.total:,} {self.unit}{pct}  {rate:,.0f} {self.unit}/s  "
                f"{self.rejected:,} rejected")

    def clear(self) -> None:
        """Before another line goes to stderr."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False
