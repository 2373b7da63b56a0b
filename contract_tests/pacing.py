"""How fast a run may send: a request rate shared by every request of the run, and busy answers honoured.

A real cloud account throttles (429) and bills what is created, so against a target that is not on loopback a run
sends at most ``RunSettings.requests_per_second`` (``--rate-limit``). A busy answer (an error kind the spec marks
``transient``: 429 throttled, 503 or 504 whatever the code, or a code such as 400 ``VPN.0030`` system busy or 409
``VPN.0016`` gateway not ready) says the target is busy or not ready, not that the request is wrong: every request
of the run waits for its ``Retry-After`` (1 s without one) before the next, and the busy request is asked again, up
to BUSY_ATTEMPTS times in all; a throttled answer (429) also slows the run down (:class:`Pace`). A create is not
idempotent: it is asked again only when its busy answer says that nothing was done (:func:`asked_again`). An answer
still busy then is not judged: :func:`busy_failure` is its only finding (``target_busy``, inferred: no source says
how long a busy spell lasts). The slot is shared by every request in flight (one lock; every request of a run leaves
from this process). On loopback there is no limit by default.
"""

from __future__ import annotations

import collections
import email.utils
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import httpx

from contract_tests.error_bodies import error_code_in
from contract_tests.records import BUSY, Failure, header_value
from vpnconn import load_spec

MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is cut to this (the run's deadline still holds)
BUSY_ATTEMPTS = 3  # a busy request is sent this many times in all before its answer is left unjudged
CEILING_HOLD = 10.0  # seconds after a throttle during which the rate grows back only up to where it was throttled


def growing_pauses(first: float, longest: float) -> Iterator[float]:
    """The pauses between the attempts of a wait that asks again and again (a deletion, a create settling):
    ``first``, then doubling, capped at ``longest``."""
    pause = first
    while True:
        yield pause
        pause = min(pause * 2, longest)


class Patience:
    """One wait that asks again and again for up to ``limit`` seconds, counted from its start: how long it has
    :meth:`waited`, whether it is :meth:`over`, and the :meth:`pause` before the next attempt (growing_pauses). The
    lifecycle's waits for a create to settle, a connection to be listed and a deletion to end, and the cleanup's for
    a busy delete, are each one."""

    def __init__(self, limit: float, first: float, longest: float) -> None:
        self.limit, self.started, self.pauses = limit, time.monotonic(), growing_pauses(first, longest)

    def waited(self) -> float:
        return time.monotonic() - self.started

    def over(self) -> bool:
        return self.waited() >= self.limit

    def pause(self, say: Callable[[float], object] = lambda _: None) -> None:
        """Sleep the next pause (telling ``say`` how long first)."""
        seconds = next(self.pauses)
        say(seconds)
        time.sleep(seconds)


class _Response(Protocol):
    status_code: int
    headers: Any

    @property
    def content(self) -> Any: ...


Answered = TypeVar("Answered", bound=_Response)  # a response of either client (httpx, schemathesis)


def is_busy(status: int | None, content: bytes) -> bool:
    """Is this answer busy: a status the spec marks ``transient: status`` whatever its code (429, 503, 504), or a
    status and error code it marks ``transient: code`` (400 ``VPN.0030`` system busy, 409 ``VPN.0016`` gateway not
    ready, 400 ``VPN.0507`` gateway being updated, ...)?"""
    spec = load_spec()
    if status is None or status < 400:
        return False
    return status in spec.transient_statuses or (status, error_code_in(content)) in spec.transient_answers


def asked_again(method: str, status: int, content: bytes) -> bool:
    """Is this busy answer's request asked again? Any request but a create (a POST, which is not idempotent) is.
    A create is asked again only when its answer says nothing was done: 429 (throttled before it was carried out)
    or an error code the spec marks ``transient`` (``VPN.0014`` system busy, ``VPN.0016`` gateway not ready, ...).
    Another 503 or 504 (an API gateway that stopped waiting for the service) may come after the connection was
    created: a second create would make another, or be refused for the tunnel pair the first took. The run looks
    for what such a create made (contract_tests.unsure_creates)."""
    if method.upper() != "POST" or status == load_spec().throttled_status:
        return True
    return error_code_in(content) in load_spec().transient_codes


def busy_failure(status: int, content: bytes, method: str) -> Failure:
    """The one finding of a request whose answer stayed busy: not judged, a divergence."""
    spec = load_spec()
    text = content[:120].decode("utf-8", "replace")
    if asked_again(method, status, content):
        how = f"{BUSY_ATTEMPTS} times in a row, asked again after each Retry-After"
    else:
        how = ("to a create, not asked again: the answer does not say that nothing was done (an API gateway's timeout "
               "may come after the connection was created)")
    return Failure(BUSY, "Target busy", f"the target answered {status} ({text}) {how}; the request is not judged",
                   provenance=spec.check_provenance(BUSY))


def retry_after(headers: Mapping[str, Any]) -> float:
    """Seconds a busy answer asks to wait: ``Retry-After`` in seconds, or as an HTTP date (RFC 9110 section 10.2.3),
    counted from the answer's own ``Date`` where it has one (the target's clock, not ours); 1 when absent or
    unreadable; at most MAX_RETRY_AFTER. ``headers``: any mapping, its values strings or lists of strings (as
    schemathesis keeps them)."""
    value = header_value(headers, "retry-after")
    if value is None:
        return 1.0
    try:
        seconds = float(value)
        if seconds != seconds:  # NaN
            return 1.0
    except ValueError:
        when = http_date(value)
        if when is None:
            return 1.0
        seconds = (when - (http_date(header_value(headers, "date") or "") or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def http_date(text: str) -> datetime | None:
    """An HTTP date (RFC 9110 section 5.6.7) as an aware datetime; None when ``text`` is not one."""
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class Pace:
    """The run's request rate, shared by every request in flight. A throttled answer (429) halves it (:meth:`busy`):
    a target that throttles says the run sends too fast, not how fast it may (a Retry-After says how long to wait,
    not at what rate to go on), and a run that went on at its rate after each pause was throttled again at once,
    up to leaving requests unjudged as busy. Each second without one then gives back a tenth, up to the rate it
    was throttled at, and past it CEILING_HOLD seconds after the throttle (never above ``rate``): a throttle that
    came from a burst, or from another client, does not slow the rest of the run for good."""

    def __init__(self, rate: float | None) -> None:
        self.interval = self._fastest = 1.0 / rate if rate else 0.0
        self._next = 0.0  # time.monotonic() of the next free slot
        self._lock = threading.Lock()
        self._sent: collections.deque[float] = collections.deque()  # the slots taken in the last second
        self._calm_until = 0.0  # until then, a throttled answer does not slow the run again (see busy)
        self._regained = 0.0  # time.monotonic() the rate last grew back
        self._ceiling = 0.0  # the interval at which the run was last throttled: for a while, it grows back to no faster
        self.slowed: list[tuple[float, float]] = []  # (time.monotonic(), requests a second) of each slow-down

    def wait(self) -> None:
        """Take the next slot, sleeping until it comes (returns at once without a rate or a pause)."""
        with self._lock:
            now = time.monotonic()
            ceiling = self._ceiling if now < self._calm_until + CEILING_HOLD else self._fastest
            if self.slowed and self.interval > ceiling and now >= max(self._calm_until, self._regained + 1.0):
                self.interval, self._regained = max(ceiling, self.interval / 1.1), now
            slot = max(now, self._next)
            if self.interval or slot > now:
                self._next = slot + self.interval
            self._sent.append(slot)
            while self._sent[0] <= slot - 1.0:
                self._sent.popleft()
        if slot > now:
            time.sleep(slot - now)

    def hold(self, seconds: float) -> None:
        """No request of the run for ``seconds`` (a busy answer's Retry-After)."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)

    def busy(self, status: int, seconds: float) -> None:
        """A busy answer with status ``status`` asking for ``seconds``: the run holds them; and a throttled one (429)
        halves the rate the run sent at in the last second, at most once while the requests in flight when it came
        may still be answered the same (the hold and a second after it); not for a run that sent one request in
        that second, which is no rate to halve (so never below half a request a second)."""
        self.hold(seconds)
        if status != load_spec().throttled_status:  # (a busy service, not the run's rate)
            return
        with self._lock:
            now = time.monotonic()
            if now < self._calm_until:
                return
            sent = sum(1 for slot in self._sent if slot > now - 1.0)
            if sent < 2:  # (throttled for another client's requests, say)
                return
            throttled_at = min(sent, 1.0 / self.interval if self.interval else float("inf"))
            self._ceiling = max(self._fastest, 1.0 / throttled_at)
            self.interval = max(self.interval, 2.0 / throttled_at)
            self._calm_until = self._regained = now + seconds + 1.0
            self.slowed.append((now, 1.0 / self.interval))

    def said(self, started: float) -> str | None:
        """The note of a run the target throttled; None when it did not."""
        if not self.slowed:
            return None
        low, high = (f"{rate:.3g}" for rate in (min(r for _, r in self.slowed), max(r for _, r in self.slowed)))
        return (f"the target throttled the run (429) from {self.slowed[0][0] - started:.0f} s into it: the run halved "
                f"its rate {len(self.slowed)} time(s), to {low if low == high else f'{low}-{high}'} requests a second, "
                f"and sped up again while it was not throttled (--rate-limit sets a rate from the start)")


def until_not_busy(ask: Callable[[], Answered], pace: Pace | None, method: str) -> Answered:
    """``ask()`` (one ``method`` request: an httpx or a schemathesis response), and again after each busy answer's
    Retry-After while :func:`asked_again` says so, BUSY_ATTEMPTS times in all; the last answer, busy or not. Every
    busy answer, asked again or not, holds the whole run for its Retry-After and, throttled, slows it down
    (:meth:`Pace.busy`): the target asked everyone to wait. Without a pace, only this request waits, and only to be
    asked again."""
    for attempt in range(1, BUSY_ATTEMPTS + 1):
        response = ask()
        content = bytes(response.content or b"")
        if not is_busy(response.status_code, content):
            return response
        again = attempt < BUSY_ATTEMPTS and asked_again(method, response.status_code, content)
        if pace is not None:
            pace.busy(response.status_code, retry_after(response.headers or {}))
        if not again:
            return response
        if pace is None:
            time.sleep(retry_after(response.headers or {}))
    raise AssertionError("unreachable")  # the loop returns on its last attempt


def send(client: httpx.Client, pace: Pace | None, method: str, url: str, content: bytes | None,
         headers: dict[str, str]) -> httpx.Response:
    """One request at the run's pace, asked again while it is busy (:func:`until_not_busy`)."""
    def ask() -> httpx.Response:
        if pace is not None:
            pace.wait()
        return client.request(method, url, content=content, headers=headers)
    return until_not_busy(ask, pace, method)
