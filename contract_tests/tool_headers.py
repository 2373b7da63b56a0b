"""Requests go out without the header schemathesis adds for itself (``X-Schemathesis-TestCaseId``).

schemathesis puts its case id in a header of every request it sends, its checks' probes included, for its own
reports (the suite's records know a case by its id, not by that header). It is no part of this API, and no
source says whether the API ignores a header it does not define (RFC 9110 section 5.1: a recipient SHOULD
ignore one): a server that refuses unknown headers would refuse every valid request and every probe of
``ignored_auth`` for the suite's own header, and each refusal would be reported as a violation of the suite's
making. The generated cases that carry an unknown header on purpose still carry it (a refusal of those is a
divergence: ``verdicts.undeclared_headers``).

:func:`install` wraps the function of schemathesis' requests transport that assembles a request's headers
(``prepare_headers``, private; its signature is checked first: with another schemathesis version it installs
nothing, and the other-choices server's run, which refuses the header, then fails a test).
"""

from __future__ import annotations

import inspect
from typing import Any

from schemathesis.core import SCHEMATHESIS_TEST_CASE_HEADER

TOOL_HEADERS = (SCHEMATHESIS_TEST_CASE_HEADER,)
_EXPECTED = ["case", "headers"]
_original: Any = None  # schemathesis' own prepare_headers, once install() has looked it up


def _without_tool_headers(case: Any, headers: dict[str, str] | None = None) -> Any:
    prepared = _original(case, headers)
    for name in TOOL_HEADERS:
        prepared.pop(name, None)
    return prepared


def install() -> bool:
    """From now on in this process, schemathesis sends no :data:`TOOL_HEADERS`; True when on."""
    global _original
    from schemathesis.transport import requests as transport

    if transport.prepare_headers is _without_tool_headers:
        return True
    if list(inspect.signature(transport.prepare_headers).parameters) != _EXPECTED:
        return False
    _original = transport.prepare_headers
    transport.prepare_headers = _without_tool_headers
    return True
