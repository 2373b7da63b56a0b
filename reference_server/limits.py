"""What the reference server gives a slow, large or greedy client: limits at the HTTP layer, below the app.

uvicorn's httptools protocol bounds neither the request head nor the time a client may take to send it, and
answers malformed HTTP with a plain-text 400. :class:`GuardedProtocol` is that protocol with
:class:`ServerLimits` (the head's size, the time to send the head and the body, the idle time between
requests, the connections held at once), answering each breach with the Huawei error body
(``{error_code, error_msg, request_id}``, built by :meth:`Reject.payload` from the spec's
``x-vpnconn-errors``) wherever HTTP still allows an answer, and closing the connection after it.

| breach | answer |
|---|---|
| malformed HTTP (bad Content-Length, NUL in the path, unknown method) | 400 ``malformed-request`` |
| request head over ``max_head_bytes`` | 431 ``head-too-large`` |
| head or body not received within its time | 408 ``request-timeout`` (nothing, if the client sent nothing) |
| idle keep-alive connection | closed after ``keep_alive`` seconds |
| more than ``max_connections`` at once | 503 ``server-busy`` to the newcomer, then closed |
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from reference_server.app import Reject, printable
from reference_server.one_write import OneWritePerStep


@dataclass(frozen=True)
class ServerLimits:
    """Defaults near what nginx and Node give: a 16 KiB head, 10 s for the head and for the body, 5 s idle."""

    max_head_bytes: int = 16 * 1024
    head_timeout: float = 10.0
    body_timeout: float = 10.0
    keep_alive: float = 5.0
    max_connections: int = 512


DEFAULT_LIMITS = ServerLimits()


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; the answer is already chosen."""


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with :class:`ServerLimits`; build one with :func:`guarded_protocol`."""

    limits: ServerLimits = DEFAULT_LIMITS
    errors: dict[str, Any] = {}
    log: Callable[[str], None] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._reading_head, self._head_bytes, self._began_in_chunk = True, 0, False
        self._sent_something = False
        self._refusal: tuple[str, str] | None = None  # chosen by a parser callback that stops parsing
        if len(self.connections) >= self.limits.max_connections:
            self.transport = transport
            self._answer("server-busy", f"more than {self.limits.max_connections} connections at once")
            return
        super().connection_made(OneWritePerStep(transport, self.loop))  # type: ignore[arg-type]  # a transport's interface
        # A connection that never sends a byte is idle: closed like an idle keep-alive connection.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._began_in_chunk = False
        if self._reading_head:
            self._arm_head_timer()
        self._sent_something = True
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # no protocol upgrade is served: the request was already handed to the app as a plain one
        except httptools.HttpParserError as exc:
            self._answer(*(self._refusal or ("malformed-request", str(exc) or "unparseable")))
            return
        if self.transport.is_closing() or not self._reading_head:
            return
        # The head is still incomplete: count what arrived (a chunk in which a request began is counted from its
        # next chunk on, so a head may pass the limit by at most one read before it is refused).
        if not self._began_in_chunk:
            self._head_bytes += len(data)
        if self._head_bytes > self.limits.max_head_bytes:
            self._answer("head-too-large", f"request head over {self.limits.max_head_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head, self._head_bytes, self._began_in_chunk = True, 0, True
        self._arm_head_timer()  # a request that begins mid-chunk, after the previous one's head

    def on_headers_complete(self) -> None:
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_head_bytes:
            self._refusal = ("head-too-large", f"request head over {self.limits.max_head_bytes} bytes")
            raise _Refused
        self._reading_head = False
        self._cancel_timers()
        super().on_headers_complete()
        self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_too_slow)

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    # ------------------------------------------------------------------------------------------- breaches

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_too_slow)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self._answer("request-timeout", f"request head not received within {self.limits.head_timeout:g} s")

    def _body_too_slow(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started:  # the app has answered: nothing more to say
            self.transport.close()
        else:
            self._answer("request-timeout", f"request body not received within {self.limits.body_timeout:g} s")

    def _answer(self, kind: str, detail: str) -> None:
        """Write the Huawei error body for ``kind`` and close the connection (nothing if the client sent nothing)."""
        self._cancel_timers()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app's answer, if it comes, is not written after this one
        if kind != "request-timeout" or self._sent_something:
            error, request_id = self.errors[kind], str(uuid.uuid4())
            body = json.dumps(Reject(error, detail).payload(request_id), separators=(",", ":")).encode()
            status = HTTPStatus(error["status"])
            self.transport.write(b"".join([
                f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode(), b"content-type: application/json\r\n",
                f"content-length: {len(body)}\r\nx-request-id: {request_id}\r\nconnection: close\r\n\r\n".encode(), body]))
            if self.log:
                client = self.client[0] if self.client else "-"
                self.log(f'{client} "-" {status.value} {error["error_code"]} {printable(detail)} request_id={request_id}')
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None


def guarded_protocol(limits: ServerLimits, errors: dict[str, Any], log: Callable[[str], None] | None) -> type[GuardedProtocol]:
    """The protocol class for uvicorn's ``Config(http=...)``: these limits, answering with these error kinds."""
    return type("GuardedProtocol", (GuardedProtocol,), {"limits": limits, "errors": errors, "log": staticmethod(log) if log else None})
