"""Live progress of a run: cases sent so far and the rate, while a phase works.

Every request in flight counts into one counter. On a terminal one line is
rewritten every second; otherwise a plain line is printed every 10 seconds, so a log never goes quiet.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from contract_tests.records import CaseRecord


def phase_done(phase: str, records: Sequence[CaseRecord], started: float) -> str:
    """The line that ends a phase: its cases, how many have a finding (what was not judged is none), and the seconds
    since ``started`` (the run's start)."""
    failing = sum(1 for r in records if r.judged_failing)
    return f"  {phase:9} {len(records):5} cases  {failing:4} with failures  ({time.monotonic() - started:.1f} s)"


class Progress:
    def __init__(self, emit: Callable[[str], None], enabled: bool = True, stream: Any = None) -> None:
        self._sent = 0
        self._lock = threading.Lock()
        self.emit, self.enabled = emit, enabled
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    def count(self, n: int = 1) -> None:
        with self._lock:
            self._sent += n

    @property
    def total(self) -> int:
        return self._sent

    def line(self) -> str:
        seconds = time.monotonic() - self._started
        rate = self.total / seconds if seconds > 0 else 0.0
        return f"  ... {self.total} cases sent in {seconds:.0f} s ({rate:.0f} cases/s)"

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._tick, name="vpnconn-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        if self.tty and self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _tick(self) -> None:
        period = 1.0 if self.tty else 10.0
        while not self._stop.wait(period):
            if self.tty:
                self.stream.write("\r\033[K" + self.line())
                self.stream.flush()
            else:
                self.emit(self.line())
