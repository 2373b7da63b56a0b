"""How fast a run may send: a request rate shared by every request of the run, and busy answers honoured.

A real cloud account throttles (429) and bills what is created, so against a target that is not on loopback a run
sends at most ``RunSettings.requests_per_second`` (``--rate-limit``). A busy answer (an error kind the spec marks
``transient``: 429 throttled, 503 or 504 whatever the code, or a code such as 400 ``VPN.0030`` system busy or 409
``VPN.0016`` gateway not ready) says the target is busy or not ready, not that the request is wrong: every request
of the run waits for its ``Retry-After`` (1 s without one) before the next, and the busy request is asked again,
up to BUSY_ATTEMPTS times in all. A create is not idempotent: it is asked again only when its busy answer says
that nothing was done (:func:`asked_again`). An answer still busy then is not judged: :func:`busy_failure` is its
only finding (``target_busy``, inferred: no source says how long a busy spell lasts). The slot is shared by every
request in flight (one lock; every request of a run leaves from this process). On loopback there is no limit by
default.
"""

from __future__ import annotations

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


def growing_pauses(first: float, longest: float) -> Iterator[float]:
    """The pauses between the attempts of a wait that asks again and again (a deletion, a create settling):
    ``first``, then doubling, capped at ``longest``."""
    pause = first
    while True:
        yield pause
        pause = min(pause * 2, longest)


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
    if method.upper() != "POST" or status == 429:
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
        when = _http_date(value)
        if when is None:
            return 1.0
        seconds = (when - (_http_date(header_value(headers, "date") or "") or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _http_date(text: str) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


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
        """No request of the run for ``seconds`` (a busy answer's Retry-After)."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


def wait_out(pace: Pace | None, headers: Mapping[str, Any]) -> None:
    """After a busy answer: the whole run holds for its Retry-After (with a pace: the next request's slot waits),
    or this request sleeps it."""
    if pace is not None:
        pace.hold(retry_after(headers))
    else:
        time.sleep(retry_after(headers))


def until_not_busy(ask: Callable[[], Answered], pace: Pace | None, method: str) -> Answered:
    """``ask()`` (one ``method`` request: an httpx or a schemathesis response), and again after each busy answer's
    Retry-After while :func:`asked_again` says so, BUSY_ATTEMPTS times in all; the last answer, busy or not."""
    for attempt in range(1, BUSY_ATTEMPTS + 1):
        response = ask()
        content = bytes(response.content or b"")
        if not is_busy(response.status_code, content) or attempt == BUSY_ATTEMPTS:
            return response
        if not asked_again(method, response.status_code, content):
            return response
        wait_out(pace, response.headers or {})
    raise AssertionError("unreachable")  # the loop returns on its last attempt


def send(client: httpx.Client, pace: Pace | None, method: str, url: str, content: bytes | None,
         headers: dict[str, str]) -> httpx.Response:
    """One request at the run's pace, asked again while it is busy (:func:`until_not_busy`)."""
    def ask() -> httpx.Response:
        if pace is not None:
            pace.wait()
        return client.request(method, url, content=content, headers=headers)
    return until_not_busy(ask, pace, method)
