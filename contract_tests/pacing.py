"""How fast a run may send: a request rate shared by every request of the run, and throttling honoured.

A real cloud account throttles (429) and bills what is created, so against a target that is not on loopback a
run sends at most ``RunSettings.requests_per_second`` (``--rate-limit``); after a 429 every request of the run
waits for its ``Retry-After`` before the next request. The slot is shared by every request in flight (one
lock; every request of a run leaves from this process). On loopback there is no limit by default.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import httpx

THROTTLED = 429
MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is cut to this (the run's deadline still holds)


def retry_after(headers: Mapping[str, str]) -> float:
    """Seconds a 429 asks to wait (``Retry-After`` in seconds; 1 when absent or a date)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "1").strip()
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


class Pace:
    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0  # time.monotonic() of the next free slot
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Take the next slot, sleeping until it comes (returns at once without a rate or a pause)."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            if self.interval or slot > now:
                self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)

    def hold(self, seconds: float) -> None:
        """No request of the run for ``seconds`` (a 429's Retry-After)."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


def send(client: httpx.Client, pace: Pace | None, method: str, url: str, content: bytes | None,
         headers: dict[str, str], attempts: int = 3) -> httpx.Response:
    """One request at the run's pace; a 429 is retried after its Retry-After, up to ``attempts`` times."""
    for attempt in range(attempts):
        if pace is not None:
            pace.wait()
        response = client.request(method, url, content=content, headers=headers)
        if response.status_code != THROTTLED or attempt == attempts - 1:
            return response
        wait = retry_after(response.headers)
        if pace is not None:
            pace.hold(wait)
        else:
            time.sleep(wait)
    raise AssertionError("unreachable")  # the loop returns on its last attempt
