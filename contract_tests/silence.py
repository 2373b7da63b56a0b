"""Whether the target stopped answering: requests without an answer, in a row.

A request that gets no HTTP answer (refused, reset, timed out) is a finding, and one now and then is judged as
such. :data:`SILENT_AFTER` of them in a row, with no answer between (whichever phase sent them, in the order they
ended), say the target stopped answering: it went down, or the way to it did. The run then stops sending, as it
does at MAX_TIME: the rest would only add "no answer" findings, one per request, and against a target that keeps
silent rather than refuse, each would wait REQUEST_TIMEOUT. What was sent is judged (the unanswered requests
too: a target that stops answering fails the run), and the run says when it stopped and which request was the
first without an answer: the one that may have brought the target down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Ten in a row: more than the requests in flight at the default concurrency (8), which all fail together when the
# target goes, and far more than a target that drops one request now and then drops in a row.
SILENT_AFTER = 10


def short_reason(error: str) -> str:
    """The part of a client's error that says why there was no answer: requests wraps "[Errno 111] Connection
    refused" in two hundred characters of pool and URL; the system's words are kept, else the start."""
    errno = error.rfind("[Errno ")
    if errno >= 0:
        kind, system = error.split(":", 1)[0], error[errno:].rstrip(")\"'")
        return f"{kind}: {system}"[:160]
    return error[:160]


class Silence:
    """Counts the requests without an answer since the last answer; shared by the run's threads."""

    def __init__(self, limit: int = SILENT_AFTER, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self.in_a_row = 0
        self.first: str | None = None  # the first request of the present streak without an answer
        self.first_at: float | None = None
        self.stopped = False  # once the streak reached the limit: for good

    def answered(self) -> None:
        """A request got an answer (any status): a streak ends, unless the run has stopped already."""
        with self._lock:
            if not self.stopped:
                self.in_a_row, self.first, self.first_at = 0, None, None

    def unanswered(self, what: str) -> None:
        """A request got no answer; ``what`` names it and why (phase, method, error), for the run's note."""
        with self._lock:
            self.in_a_row += 1
            if self.in_a_row == 1:
                self.first, self.first_at = what, self._clock()
            if self.in_a_row >= self.limit:
                self.stopped = True

    def described(self, started: float) -> str:
        """What the run says of it (``started``: the run's start, on the same clock)."""
        at = (self.first_at or started) - started
        return (f"the target stopped answering {at:.1f} s into the run: {self.in_a_row} requests in a row got no "
                f"answer, the first of them {self.first}; the run stopped sending there and judged what it had")
