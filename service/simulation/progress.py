"""A tiny progress bar on stderr (no dependency): redrawn in place on a terminal, a plain line every few
seconds otherwise (CI logs, pipes)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


class ProgressBar:
    """``update(done, total, label=…, dossiers=…)``; ``close()`` ends the line."""

    def __init__(self, stream: TextIO | None = None, *, width: int = 28, interval: float = 0.2,
                 plain_interval: float = 5.0, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.width, self.enabled = width, enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if self.tty else plain_interval
        self.started = time.perf_counter()
        self._last = 0.0
        self._drawn = False

    def update(self, done: float, total: float, *, label: str = "", dossiers: int = 0,
               force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        elapsed = now - self.started
        fraction = min(1.0, done / total) if total else 1.0
        filled = int(self.width * fraction)
        bar = "█" * filled + "░" * (self.width - filled)
        rate = dossiers / elapsed if elapsed > 0 else 0.0
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else 0.0
        text = (f"{label} {bar} {fraction * 100:5.1f}% | {dossiers:,} hồ sơ | {rate:,.0f} hồ sơ/s | "
                f"{_clock(elapsed)} < {_clock(eta)}")
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn and self.tty:
            self.stream.write("\n")
            self.stream.flush()
