"""Interim answers (1xx) before the final answer, read past by schemathesis' client as by ours.

RFC 9110 (section 15.2) lets a server send any number of 1xx answers before the final one (``103 Early Hints``,
RFC 8297, which a CDN or a front may send unasked; ``102 Processing``), and bids a client read past them. httpx
does. requests does not: it reads answers with Python's ``http.client``, which reads past ``100 Continue`` only
and takes any other 1xx for the final answer (cpython issue 42550). So a correct target behind such a front had
every case of schemathesis' phases judged by a ``103`` without a body (613 false violations in a default run),
and ``ignored_auth``'s probes (sent on sessions of schemathesis' own making) by theirs.

:func:`install` gives urllib3's connections, in this process, an answer class that reads past every 1xx but
``101`` (Switching Protocols, the final answer to an upgrade, which no request of a run asks for). It sets the
connection class's ``response_class``, which ``http.client`` reads for every answer, and which urllib3 leaves
as ``http.client``'s own. Nothing else in this process sends with urllib3: our own client is httpx.
"""

from __future__ import annotations

import http.client

from urllib3.connection import HTTPConnection


class PastInterim(http.client.HTTPResponse):
    """``http.client``'s answer, read past any interim answer but ``100`` (which ``begin`` reads past itself)."""

    def _read_status(self) -> tuple[str, int, str]:
        read_status = super()._read_status  # type: ignore[misc]  # (private: not in typeshed)
        version, status, reason = read_status()
        while 101 < status < 200:
            http.client._read_headers(self.fp)  # type: ignore[attr-defined]
            version, status, reason = read_status()
        return version, status, reason


def install() -> bool:
    """From now on in this process, requests (through urllib3) reads past interim answers; True when on."""
    if HTTPConnection.response_class is not http.client.HTTPResponse and not installed():
        return False  # someone else's answer class: left alone
    HTTPConnection.response_class = PastInterim
    return True


def installed() -> bool:
    return HTTPConnection.response_class is PastInterim


def uninstall() -> None:
    """Back to ``http.client``'s own (tests compare the two)."""
    if installed():
        HTTPConnection.response_class = http.client.HTTPResponse
