"""A request lost with a kept-alive connection the target closed is sent again: that says nothing of the target.

A server closes a keep-alive connection it has kept idle long enough (the reference server after 5 s, an API
gateway after a time of its own). A request the client sends on it just as it closes is never read: the client sees
the connection reset, or closed without an answer. Judged, that was a violation (`request_error`, "no answer from
the target") the target does not deserve; a run whose requests wait (a busy target's pauses, a slow phase) meets it.

Like browsers, curl and schemathesis (whose client sends the engine phases' cases), the run's httpx client (the
preflight, the rules phase, the lifecycle, the clean-up) sends such a request again. Only a request dropped before any
byte of its answer, on a connection it did not open, is sent again (on another kept connection, or a new one, until
one is opened for it); a request that fails on a connection opened for it, or after its answer began, is the
target's doing and is reported as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import requests

from contract_tests.records import SENT_AGAIN, Failure
from vpnconn import load_spec

# The most kept-alive connections a request can be dropped on before one is opened for it: httpx keeps at most 20.
MOST_KEPT = 20
_DROPPED_BY_PEER = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class _Seen:
    """A request's httpcore trace: was a connection opened for it, did its answer begin (chaining any trace of its own)."""

    def __init__(self, outer: Callable[[str, dict[str, Any]], Any] | None) -> None:
        self.outer, self.opened, self.answered = outer, False, False

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event.startswith(("connection.connect_tcp.", "connection.connect_unix_socket.")):
            self.opened = True
        elif event.endswith(".receive_response_headers.complete"):
            self.answered = True
        if self.outer is not None:
            self.outer(event, info)


def dropped_before_answer(exc: BaseException) -> bool:
    """Did ``exc`` say the peer closed or reset the connection before any byte of an answer came?"""
    if isinstance(exc, httpx.RemoteProtocolError) and "without sending a response" in str(exc):
        return True
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, _DROPPED_BY_PEER):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


class ResendingDropped(httpx.BaseTransport):
    """A transport made by ``make`` for each thread that sends (its own connections: httpcore's pool, shared, let one
    thread close a connection another had just taken, as expired, and the other read a closed socket: "Bad file
    descriptor"; requests' sessions are one per thread too), sending a request again when a kept-alive connection
    was dropped under it before its answer."""

    def __init__(self, make: Callable[[], httpx.BaseTransport]) -> None:
        self._make, self._mine = make, threading.local()
        self._made: list[httpx.BaseTransport] = []
        self._lock = threading.Lock()

    def _inner(self) -> httpx.BaseTransport:
        inner = getattr(self._mine, "transport", None)
        if inner is None:
            inner = self._mine.transport = self._make()
            with self._lock:
                self._made.append(inner)
        return inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        inner, outer = self._inner(), request.extensions.get("trace")
        for attempt in range(MOST_KEPT + 1):
            seen = _Seen(outer)
            request.extensions = {**request.extensions, "trace": seen}
            try:
                response = inner.handle_request(request)
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
                if attempt == MOST_KEPT or seen.opened or seen.answered or not dropped_before_answer(exc):
                    raise
                continue  # the pool let the dropped connection go: the next attempt takes another, or opens one
            if attempt:
                response.extensions = {**response.extensions, RESENT: attempt}
            return response
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def close(self) -> None:
        with self._lock:
            made, self._made = self._made, []
        for inner in made:
            inner.close()


RESENT = "vpnconn_resent"  # in an answer's extensions: how many times its request was sent before, dropped each time


def was_resent(response: httpx.Response) -> bool:
    """Was ``response`` the answer to a request sent again? A request sent on a dropped connection was most likely
    never read (a connection closed as idle), but a server may have carried it out and dropped the connection
    before its answer: a create sent again is also noted unsure, and what the first made is looked for."""
    return bool(response.extensions.get(RESENT))


def create_sent_again(ledger: Any, body: Any, status: int, content: bytes) -> Failure | None:
    """A create sent again after a dropped connection, whose body a correct server may have made a connection of the
    first time: noted unsure in ``ledger`` (a ``cleanup.Ledger``, or None), so that what the first made is looked for;
    and, answered 4xx, the one finding that replaces its judging (the spec's ``create_sent_again``: the refusal may
    be for what the first sending made, had the server carried it out). None: judged as ever."""
    if ledger is not None:
        ledger.note_create(body, None)
    if not 400 <= status < 500:
        return None
    text = content[:120].decode("utf-8", "replace")
    return Failure(SENT_AGAIN, "Create sent again, then refused",
                   f"the create was lost with a kept-alive connection dropped under it and sent again; the second was "
                   f"answered {status} ({text}), which may be for what the first made: not judged, and what the first "
                   f"made is looked for on the gateway", provenance=load_spec().check_provenance(SENT_AGAIN))


_SENT = threading.local()  # requests sent by this thread through sessions that count_sends wrapped


def count_sends(session: requests.Session) -> None:
    """Count every request ``session`` sends (call it once a session): schemathesis' client sends a request lost with a
    kept-alive connection again inside its transport, where only the count shows it. A redirect the session follows
    is sent from within the first sending (``resolve_redirects``), and is not counted: it is not the same request
    sent again, for its first sending was answered."""
    send = session.send

    def counted(request: requests.PreparedRequest, **options: Any) -> requests.Response:
        depth = getattr(_SENT, "depth", 0)
        if depth == 0:
            _SENT.count = getattr(_SENT, "count", 0) + 1
        _SENT.depth = depth + 1
        try:
            return send(request, **options)
        finally:
            _SENT.depth = depth

    session.send = counted  # type: ignore[method-assign]


def sent_so_far() -> int:
    """Requests this thread has sent through counted sessions."""
    return int(getattr(_SENT, "count", 0))
