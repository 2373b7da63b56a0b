"""Redirects: both HTTP clients follow them within the target's origin, and never to another.

schemathesis' client (requests) follows a redirect the spec does not document where the credentials may go with it
(its ``SameHostRedirectsSession``: requests' own rule for keeping Authorization, which lets http -> https on the
same host keep them), and takes one that leaves the origin for the answer under test. Ours (httpx) does the same
(``answer_limits.limited_client``), so that every phase judges the same answer and no phase takes the user's
credentials (X-Auth-Token, an AK/SK signature) to a host they did not name. The preflight says so when the
target's first answer is such a redirect (``leaves_origin``).
"""

from __future__ import annotations

from typing import Any

import httpx


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


def redirected_elsewhere(response: httpx.Response) -> str | None:
    """The origin (scheme://host:port) a redirect ``response`` points to, where it leaves the origin; else None."""
    target = response.next_request
    if target is None or not leaves_origin(response.request.url, target.url):
        return None
    return f"{target.url.scheme}://{target.url.host}" + (f":{target.url.port}" if target.url.port else "")
