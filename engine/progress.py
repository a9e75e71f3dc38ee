"""Typed progress events and a cooperative cancel token.

Long jobs take an optional `Reporter`: they call `reporter.update(done, total)`
between units of work. The reporter forwards a `Progress` event to whoever
listens (a CLI progress bar, the add-on's worker queue) and raises
`Cancelled` when the job's `CancelToken` is set, so cancellation happens at a
clean point, never in the middle of a write.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, TextIO

from .errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """One progress event: `done` of `total` units of the stage `stage`."""

    stage: str
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        """Progress in [0, 1] (0 when the total is unknown)."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


class CancelToken:
    """A thread-safe flag a user interface sets to ask a job to stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next progress point."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise `Cancelled` when cancellation was asked for."""
        if self._event.is_set():
            raise Cancelled()


Listener = Callable[[Progress], None]


class Reporter:
    """Passes progress of a job to a listener and checks its cancel token.

    Jobs call `stage(name, total)` once per stage, then `update(done)` or
    `advance(n)`. Both check the cancel token first.
    """

    def __init__(self, listener: Optional[Listener] = None, cancel: Optional[CancelToken] = None) -> None:
        self.listener = listener
        self.cancel = cancel or CancelToken()
        self._stage = ""
        self._total = 0
        self._done = 0

    def stage(self, name: str, total: int, message: str = "") -> None:
        """Start a stage of `total` units."""
        self._stage, self._total, self._done = name, int(total), 0
        self._emit(message)

    def update(self, done: int, message: str = "") -> None:
        """Set the number of finished units of the current stage."""
        self._done = int(done)
        self._emit(message)

    def advance(self, n: int = 1, message: str = "") -> None:
        """Add `n` finished units to the current stage."""
        self.update(self._done + n, message)

    def _emit(self, message: str) -> None:
        self.cancel.check()
        if self.listener is not None:
            self.listener(Progress(self._stage, self._done, self._total, message))


def silent() -> Reporter:
    """A reporter that shows nothing and is never cancelled."""
    return Reporter()


class TerminalBar:
    """A listener that draws a one-line progress bar on a terminal.

    Draws only for stages that last longer than `delay` seconds, at most ten
    times a second, so short jobs stay quiet.
    """

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30, delay: float = 1.0) -> None:
        self.stream, self.width, self.delay = stream, width, delay
        self._stage, self._start, self._last, self._drawn = None, 0.0, 0.0, False
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._logged_tenth = -1

    def __call__(self, event: Progress) -> None:
        now = time.monotonic()
        if event.stage != self._stage:
            self._finish_line()
            self._stage, self._start, self._last, self._logged_tenth = event.stage, now, 0.0, -1
        finished = event.total > 0 and event.done >= event.total
        if not self._tty:  # a log file: one line per tenth, no carriage returns
            self._log_line(event)
            return
        if now - self._start < self.delay or (now - self._last < 0.1 and not finished):
            return
        self._last = now
        filled = int(round(self.width * event.fraction))
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{event.stage:<18} [{bar}] {100 * event.fraction:5.1f}% {event.message}"[:100])
        self.stream.flush()
        self._drawn = True
        if finished:
            self._finish_line()

    def _log_line(self, event: Progress) -> None:
        tenth = int(10 * event.fraction)
        if tenth > self._logged_tenth and time.monotonic() - self._start >= self.delay:
            self._logged_tenth = tenth
            self.stream.write(f"{event.stage}: {100 * event.fraction:.0f}% {event.message}\n")
            self.stream.flush()

    def _finish_line(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
