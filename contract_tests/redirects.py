"""Redirects: both HTTP clients follow them within the target's origin, and never to another.

schemathesis' client (requests) follows a redirect the spec does not document where the credentials may go with it
(its ``SameHostRedirectsSession``: requests' own rule for keeping Authorization, which lets http -> https on the
same host keep them), and takes one that leaves the origin for the answer under test. Ours (httpx) does the same
(``answer_limits.limited_client``), so that every phase judges the same answer and no phase takes the user's
credentials (X-Auth-Token, an AK/SK signature) to a host they did not name. The preflight says so when the
target's first answer is such a redirect (``leaves_origin``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import httpx

from contract_tests.records import CaseRecord, header_value


class WithinOrigin(httpx.Client):
    """An httpx client that follows a redirect only where it stays within the origin (httpx's own rule for keeping
    Authorization: same scheme, host and port, or http -> https on the same host); a redirect elsewhere is the
    answer, its ``next_request`` unsent."""

    def send(self, request: httpx.Request, **options: Any) -> httpx.Response:
        options["follow_redirects"] = False
        response = super().send(request, **options)
        while (response.next_request is not None and not leaves_origin(response.request.url, response.next_request.url)
               and len(response.history) < self.max_redirects):
            response.read()
            response.close()
            history = [*response.history, response]
            response = super().send(response.next_request, **options)
            response.history = history
        return response


def leaves_origin(before: httpx.URL, after: httpx.URL) -> bool:
    """Would a redirect from ``before`` to ``after`` take the credentials elsewhere?"""
    from httpx._client import _is_https_redirect, _same_origin  # httpx's own test (pinned version)

    return not _same_origin(after, before) and not _is_https_redirect(before, after)


def redirected_away(records: list[CaseRecord]) -> str | None:
    """What to tell the user of a run whose target answered requests with redirects to another origin (not followed,
    so each is judged as the redirect it is: findings by the hundred that have one cause); None when none did."""
    away: Counter[str] = Counter()
    for record in records:
        if record.status is None or not 300 <= record.status < 400:
            continue
        location = header_value(record.response_headers, "location")
        try:
            here = httpx.URL(record.url)
            there = here.join(location) if isinstance(location, str) else None
        except httpx.InvalidURL:
            continue
        if there is not None and leaves_origin(here, there):
            away[_origin(there)] += 1
    if not away:
        return None
    where = ", ".join(f"{origin} ({count})" for origin, count in away.most_common(3))
    return (f"the target answered {sum(away.values())} request(s) with a redirect to another origin, not followed (your "
            f"credentials never go there) and judged as the redirect it is: {where}; if the API moved, point TARGET there")


def origin(url: str) -> str:
    """The origin (scheme://host:port) of a URL the user typed (TARGET), as typed: for lines that name it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _origin(url: httpx.URL) -> str:
    """The origin of a URL an answer names, normalized (for lines that count answers by it)."""
    return f"{url.scheme}://{url.netloc.decode('ascii')}"  # (an IPv6 host in brackets; its default port left out)


def redirected_elsewhere(response: httpx.Response) -> str | None:
    """The origin (scheme://host:port) a redirect ``response`` points to, where it leaves the origin; else None."""
    target = response.next_request
    if target is None or not leaves_origin(response.request.url, target.url):
        return None
    return _origin(target.url)
