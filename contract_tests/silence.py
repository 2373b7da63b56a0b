"""Whether the target stopped answering: requests without an answer, in a row.

A request that gets no HTTP answer (refused, reset, timed out) is a finding, and one now and then is judged as
such. :data:`SILENT_AFTER` of them in a row (whichever phase sent them, in the order they ended), none answered
that was sent after the first of them, say the target stopped answering: it went down, or the way to it did.
The run then stops sending, as it does at MAX_TIME: the rest would only add "no answer" findings, one per
request, and against a target that keeps silent rather than refuse, each would wait REQUEST_TIMEOUT. What was
sent is judged (the unanswered requests too: a target that stops answering fails the run), and the run says
when it stopped and which request was the first sent without an answer: the one that may have brought the
target down. A streak every request of which a proxy refused (407: contract_tests.proxies) is the proxy's, not the
target's: the run stops sending all the same, and ends without a verdict (runner).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator

from contract_tests.proxies import refused

# Ten in a row: more than the requests in flight at the default concurrency (8), which all fail together when the
# target goes, and far more than a target that drops one request now and then drops in a row.
SILENT_AFTER = 10


def why_unanswered(exc: BaseException) -> str:
    """What a client's error says of a request that got no answer, either client's: its kind and its first line."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{exc.__class__.__name__}: {first[:300] or 'no answer'}"


def short_reason(error: str) -> str:
    """The part of a client's error that says why there was no answer: requests wraps "[Errno 111] Connection
    refused" in two hundred characters of pool and URL; the system's words are kept, else the start."""
    errno = error.rfind("[Errno ")
    if errno >= 0:
        kind, system = error.split(":", 1)[0], error[errno:].rstrip(")\"'")
        return f"{kind}: {system}"[:160]
    return error[:160]


class Silence:
    """Counts the requests without an answer since the target last answered; shared by the run's threads.

    Each request takes a ticket as it is sent (:meth:`ticket`), in the order they go. With several in flight, an
    answer to a request sent before the first unanswered one says nothing of the target since: only an answer
    to one sent after it ends a streak, and the first of a streak is the earliest sent."""

    def __init__(self, limit: int = SILENT_AFTER, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._tickets = itertools.count()
        self.in_a_row = 0
        self.first: str | None = None  # the earliest sent request of the present streak
        self._first_ticket = -1
        self.first_at: float | None = None
        self.stopped = False  # once the streak reached the limit: for good
        self.by_proxy = False  # every request of the present streak was refused by a proxy (a 407: proxies)

    def ticket(self) -> int:
        """Taken as a request is sent."""
        with self._lock:
            return next(self._tickets)

    def answered(self, ticket: int) -> None:
        """The request of ``ticket`` got an answer (any status): a streak ends if it was sent after the streak's
        first request, unless the run has stopped already."""
        with self._lock:
            if not self.stopped and ticket > self._first_ticket:
                self.in_a_row, self.first, self._first_ticket, self.first_at, self.by_proxy = 0, None, -1, None, False

    def unanswered(self, ticket: int, what: str, by_proxy: bool = False) -> None:
        """The request of ``ticket`` got no answer; ``what`` names it and why (phase, method, error); ``by_proxy``:
        a proxy refused it."""
        with self._lock:
            self.in_a_row += 1
            self.by_proxy = by_proxy and (self.by_proxy or self.in_a_row == 1)
            if self.first is None or ticket < self._first_ticket:
                self.first, self._first_ticket = what, ticket
                self.first_at = self._clock() if self.first_at is None else self.first_at
            if self.in_a_row >= self.limit:
                self.stopped = True

    @contextlib.contextmanager
    def awaiting(self, what: str, no_answer: tuple[type[BaseException], ...]) -> Iterator[None]:
        """Around one request (``what``: its phase, method and path): its ticket as it goes, then :meth:`answered`,
        or, when it raises one of ``no_answer`` (its client's errors for a request that got no answer),
        :meth:`unanswered` with why, and the error raised on."""
        ticket = self.ticket()
        try:
            yield
        except no_answer as exc:
            self.unanswered(ticket, f"{what}: {short_reason(why_unanswered(exc))}", refused(exc))
            raise
        self.answered(ticket)

    def described(self, started: float) -> str:
        """What the run says of it (``started``: the run's start, on the same clock)."""
        at = (self.first_at or started) - started
        if self.by_proxy:
            return (f"a proxy refused the run: from {at:.1f} s into the run, {self.in_a_row} requests in a row were answered "
                    f"407 Proxy Authentication Required, no answer of the target's (the first sent: {self.first}); the run "
                    "stopped sending there")
        return (f"the target stopped answering: from {at:.1f} s into the run, {self.in_a_row} requests in a row got no "
                f"answer (the first sent: {self.first}); the run stopped sending there and judged what it had")


def awaiting(silence: Silence | None, what: str,
             no_answer: tuple[type[BaseException], ...]) -> contextlib.AbstractContextManager[None]:
    """:meth:`Silence.awaiting` where a run counts its silence; nothing where there is none (a phase run alone)."""
    return silence.awaiting(what, no_answer) if silence is not None else contextlib.nullcontext()
