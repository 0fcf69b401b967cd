"""The progress line of a long batch run on stderr."""
from __future__ import annotations

import sys
import time
from typing import IO, Callable, Optional


class Progress:
    """Rows done, rows/s and rows rejected so far, on one line of stderr, when stderr is a terminal."""

    def __init__(self, total: Optional[int], enabled: Optional[bool] = None, stream: IO[str] = None,
                 clock: Callable[[], float] = time.monotonic, unit: str = "rows", lang: str = "en"):
        self.stream = stream or sys.stderr
        self.lang = lang
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total, self.clock, self.unit = total, clock, unit
        self.start = self.last = clock()
        self.done = self.rejected = 0
        self.shown = False

    def update(self, rows: int, rejected: int) -> None:
        self.done += rows
        self.rejected += rejected
        now = self.clock()
        if self.enabled and (now - self.last >= 0.25 or self.total is not None and self.done >= self.total):
            self.last = now
            self.stream.write("\r" + self.line(now) + "\x1b[K")
            self.stream.flush()
            self.shown = True

    def line(self, now: float) -> str:
        from engine.render import say
        rate = self.done / max(now - self.start, 1e-9)
        if self.total is None:          # a register read in batches: its length is known at the end
            return say(self.lang, "progress_open", done=f"{self.done:,}", unit=say(self.lang, f"unit_{self.unit}"),
                       rate=f"{rate:,.0f}")
        pct = f" {100 * self.done / self.total:3.0f}%" if self.total else ""
        return say(self.lang, "progress", done=f"{self.done:,}", total=f"{self.total:,}",
                   unit=say(self.lang, f"unit_{self.unit}"), pct=pct, rate=f"{rate:,.0f}", rejected=f"{self.rejected:,}")

    def clear(self) -> None:
        """Before another line goes to stderr."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def close(self) -> None:
        if self.enabled and self.total is None and self.done:     # the count it ended at
            self.stream.write("\r" + self.line(self.clock()) + "\x1b[K")
            self.shown = True
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False
