"""The proxies the environment names for a run's requests, and a proxy's refusal, which is never the target's answer.

Both HTTP clients of a run go through the proxies the environment names (:func:`environment_proxies` mounts them on
the httpx client as httpx reads them; requests reads them itself), and a line that blames a proxy names it
(:func:`proxy_for`), its credentials masked.

A 407 is a proxy's answer, never the API's. RFC 9110 (section 15.5.8): ``407 Proxy Authentication Required`` says
the client must authenticate itself to use a proxy; the request went no further. A proxy that refuses the run from
its first request stops it at the preflight, with one line (:func:`refusal_line`). One that starts refusing mid-run
(credentials that expire, a proxy's own quota) had every answer after that judged as the target's: each case
"refused" by a 407 failed the checks of a correct server. Now either client raises :class:`RefusedByProxy` on a 407
(:func:`refuse_in_session` for schemathesis' requests sessions, :func:`refuse_in_client` for the httpx client), so
every send path takes it as it takes a request without an answer: counted by the silence (ten in a row halt the run,
and a run a proxy halted ends without a verdict), and not judged (:data:`REFUSED_BY_PROXY`, the record's one
finding). A create refused so made nothing (unsure_creates.never_sent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx
import requests

from contract_tests.masking import MASK
from contract_tests.redirects import origin
from vpnconn.errors import SettingsError


def environment_proxies(through: Callable[[str | None], httpx.BaseTransport]) -> dict[str, httpx.BaseTransport | None]:
    """The proxies the environment names (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY), as httpx reads them, each
    mounted as ``through(proxy)``; NO_PROXY's hosts as None (no proxy). httpx leaves the environment alone for a
    client given a transport of its own, as this one is: without these, the preflight, the rules phase, the
    lifecycle and the cleanup went straight to a target that schemathesis' requests (the engine phases) reached
    through the proxy, and behind a proxy that is the only way out, the target was "unreachable"."""
    from httpx._utils import get_environment_proxies  # httpx's own reading of them (pinned version)

    proxies = get_environment_proxies()
    for pattern, proxy in proxies.items():
        scheme = urlsplit(proxy).scheme.lower() if proxy is not None else "http"
        if scheme not in ("http", "https"):  # (a SOCKS proxy needs a package neither client has: it failed inside httpx)
            variable = _variable(pattern)
            raise SettingsError(f"{variable} names a {scheme}:// proxy; the run goes through http:// and https:// proxies "
                                f"only: unset it, or name an http:// proxy")
    return {pattern: None if proxy is None else through(proxy) for pattern, proxy in proxies.items()}


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url``, as httpx picks it (the most specific pattern that matches), as
    ``http://host:port (HTTP_PROXY)``, its credentials masked; None when ``url`` is reached directly."""
    named = _named_proxy(url)
    if named is None:
        return None
    parts, variable = named
    return f"{parts.scheme}://{MASK + '@' if '@' in parts.netloc else ''}{parts.netloc.rpartition('@')[2]} ({variable})"


def _named_proxy(url: str) -> tuple[SplitResult, str] | None:
    """The proxy URL the environment names for ``url`` (split) and the variable that names it; None: reached directly."""
    from httpx._utils import URLPattern, get_environment_proxies  # (as environment_proxies)

    target = httpx.URL(url)
    for pattern, proxy in sorted((URLPattern(key), value) for key, value in get_environment_proxies().items()):
        if pattern.matches(target):
            return None if proxy is None else (urlsplit(proxy), _variable(pattern.pattern))
    return None


def _variable(pattern: str) -> str:
    """The environment variable that names the proxy of one of httpx's patterns (``https://`` -> HTTPS_PROXY)."""
    return f"{pattern.split('://')[0].upper()}_PROXY"


STATUS = 407
REFUSED_BY_PROXY = "refused_by_proxy"  # the one finding of a request a proxy refused (407): not judged


class RefusedByProxy(Exception):
    """What either client raises for a 407 (with the client's own proxy error, so its callers take it as no answer)."""


class _RequestsRefused(RefusedByProxy, requests.exceptions.ProxyError):
    pass


class _HttpxRefused(RefusedByProxy, httpx.ProxyError):
    pass


_RequestsRefused.__name__ = _HttpxRefused.__name__ = "ProxyRefused"  # (what a line says of either: its kind)


def refused(exc: BaseException) -> bool:
    """Is ``exc`` a proxy's refusal (a 407), of either client?"""
    return isinstance(exc, RefusedByProxy)


def refusal(url: str) -> str:
    """What a 407 to a request for ``url`` says, naming the proxy the environment names for it, if any."""
    proxy = proxy_for(url)
    return (f"407 Proxy Authentication Required from the proxy {proxy}" if proxy else
            f"407 Proxy Authentication Required from {origin(url)}, a proxy's answer") + ": the request went no further"


def refusal_line(method: str, url: str) -> str:
    """The preflight's line for a target whose first answer is a 407: why, and what to do."""
    proxy, named = proxy_for(url), _named_proxy(url)
    why = ("refused the credentials its URL gives" if named and "@" in named[0].netloc else
           "wants credentials: give them in its URL (http://user:password@host:port)")
    return (f"{method} {url} answered 407 Proxy Authentication Required: "
            + (f"the proxy {proxy} {why}" if proxy else "that is a proxy's answer; is TARGET the API, or a proxy?"))


def refuse_in_session(session: requests.Session) -> None:
    """Make a requests session raise on a 407 answer, its connection closed (once a session)."""
    if getattr(session, "_vpnconn_refusing", False):
        return

    def refuse(response: requests.Response, **_: Any) -> requests.Response:
        if response.status_code == STATUS:
            response.close()
            raise _RequestsRefused(refusal(response.url), request=response.request)
        return response

    session.hooks["response"].insert(0, refuse)
    session._vpnconn_refusing = True  # type: ignore[attr-defined]


def refuse_in_client(response: httpx.Response) -> None:
    """An httpx response hook: a 407 raises (httpx closes the answer)."""
    if response.status_code == STATUS:
        raise _HttpxRefused(refusal(str(response.request.url)), request=response.request)
