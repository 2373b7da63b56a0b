"""Every answer whole within the run's REQUEST_TIMEOUT and no larger than MAX_ANSWER_BYTES, whatever the target does.

Both HTTP clients of a run (requests under schemathesis' cases; httpx for the preflight, the rules phase, the
lifecycle and the clean-up) time out only a read that waits too long, never an answer that takes too long: a
target that sends its answer a byte at a time, each byte sooner than the timeout, held a run forever (a body
trickled a byte every 0.3 s kept ``--request-timeout 2 --max-time 30`` waiting until it was killed at 400 s),
and one that sends an endless body fast would fill the memory. Here the body of every answer is read through a
limit: once the request is older than the timeout, or the body larger than MAX_ANSWER_BYTES, the answer is cut
and counts as no answer (the client's own timeout error), like a target that never answered.

The head of an answer (status line and headers) is still bounded per read only: the clients read it before any
hook of theirs runs. A target that dribbles its *headers* a byte at a time is not cut (noted, not handled).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import requests

from contract_tests.dropped_connections import ResendingDropped
from contract_tests.proxies import environment_proxies, refuse_in_client
from contract_tests.redirects import WithinOrigin
from contract_tests.settings import trusted_ca

# The largest answer the spec allows: a list page of 2,000 connections, each with every list at its maxItems and
# every text at its maxLength in 4-byte characters written as escapes, is ~222 MiB (116 KiB a connection).
MAX_ANSWER_BYTES = 256 * 2**20


class AnswerCut(httpx.ReadTimeout):
    """httpx's timeout error for an answer cut at a limit (its message says which)."""


class _Limit:
    """The deadline and the byte budget of one answer."""

    def __init__(self, started: float, seconds: float) -> None:
        self.deadline, self.seconds, self.size = started + seconds, seconds, 0

    def cut(self, chunk: bytes) -> str | None:
        """Why the answer must be cut after ``chunk``; None while it is within both limits."""
        self.size += len(chunk)
        if self.size > MAX_ANSWER_BYTES:
            return f"the answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB; cut"
        if time.monotonic() > self.deadline:
            return f"the answer did not arrive whole within {self.seconds:g} s (it came slowly, a little at a time); cut"
        return None


# ------------------------------------------------------------------------------------------- httpx


def limited_client(seconds: float) -> httpx.Client:
    """An httpx client whose every answer is whole within ``seconds`` of its request and at most MAX_ANSWER_BYTES
    (an HTTPS target verified with the CA the environment names, if any: settings.trusted_ca), and that sends a
    request again when a kept-alive connection was dropped under it before its answer (dropped_connections). It follows
    redirects within the target's origin, as schemathesis' client does, and takes one elsewhere for the answer
    (redirects). It goes through the proxies the environment names, and a proxy's 407 is no answer (proxies)."""
    def stamp(request: httpx.Request) -> None:
        request.extensions = {**request.extensions, "vpnconn_started": time.monotonic()}

    def limit(response: httpx.Response) -> None:
        started = response.request.extensions.get("vpnconn_started", time.monotonic())
        response.stream = _LimitedStream(response.stream, _Limit(started, seconds), response.request)

    ca = trusted_ca()
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca) if ca else True

    def through(proxy: str | None) -> httpx.BaseTransport:
        return ResendingDropped(lambda: httpx.HTTPTransport(verify=verify, proxy=proxy))

    return WithinOrigin(timeout=seconds, verify=verify, transport=through(None), mounts=environment_proxies(through),
                        event_hooks={"request": [stamp], "response": [refuse_in_client, limit]})


class _LimitedStream(httpx.SyncByteStream):
    def __init__(self, stream: Any, limit: _Limit, request: httpx.Request) -> None:
        self.stream, self.limit, self.request = stream, limit, request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.stream:
            why = self.limit.cut(chunk)
            if why:
                raise AnswerCut(why, request=self.request)
            yield chunk

    def close(self) -> None:
        self.stream.close()


# ------------------------------------------------------------------------------------------- requests


def limit_session(session: requests.Session, seconds: float) -> None:
    """Hold every answer ``session`` receives to ``seconds`` from its request and MAX_ANSWER_BYTES (once a session)."""
    if getattr(session, "_vpnconn_limited", False):
        return

    def limit(response: requests.Response, **_: Any) -> requests.Response:
        started = time.monotonic() - response.elapsed.total_seconds()  # requests times the head before its hooks
        response.raw = _LimitedRaw(response.raw, _Limit(started, seconds), response)
        return response

    session.hooks["response"].append(limit)
    session._vpnconn_limited = True  # type: ignore[attr-defined]


class _LimitedRaw:
    """A urllib3 response whose body ``requests`` reads (``stream``) within the limit, a read of the socket at a time;
    all else is the response's own."""

    def __init__(self, raw: Any, limit: _Limit, response: requests.Response) -> None:
        self._raw, self._limit, self._response = raw, limit, response

    def stream(self, amt: int | None = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        # read1: at most one read of the socket per chunk (urllib3's stream() waits for ``amt`` bytes, however slowly
        # they come), so the limit is looked at after every read
        while chunk := self._raw.read1(amt, decode_content=decode_content):
            why = self._limit.cut(chunk)
            if why:
                self._raw.close()
                raise requests.exceptions.ReadTimeout(why, request=self._response.request, response=self._response)
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)
