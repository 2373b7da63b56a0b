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
and a run a proxy halted ends without a verdict), and not judged (``records.REFUSED_BY_PROXY``, the record's one
finding). A create refused so made nothing (unsure_creates.never_sent).

To an https:// target a request goes through a tunnel the proxy opens on a CONNECT, and a 407 to that CONNECT
comes back as no answer at all, only as words in the client's error (:func:`_tunnel_refused`): each such request
was "no answer from the target", a violation, and a streak of them "the target stopped answering" (exit 1 against
a correct server, as a real account behind a corporate proxy whose credentials expire mid-run would get). Both
clients now raise :class:`RefusedByProxy` for it too (:func:`refuse_in_session` wraps the session's sending, and
:func:`environment_proxies` each proxy's transport in :class:`_RefusingTunnels`).
"""

from __future__ import annotations

import re
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
    return {pattern: None if proxy is None else _RefusingTunnels(through(proxy)) for pattern, proxy in proxies.items()}


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


class RefusedByProxy(Exception):
    """What either client raises for a 407 (with the client's own proxy error, so its callers take it as no answer).
    ``tunnel``: the 407 answered the CONNECT of a tunnel to an https:// target, not the request itself."""

    tunnel = False


class _RequestsRefused(RefusedByProxy, requests.exceptions.ProxyError):
    pass


class _HttpxRefused(RefusedByProxy, httpx.ProxyError):
    pass


_RequestsRefused.__name__ = _HttpxRefused.__name__ = "ProxyRefused"  # (what a line says of either: its kind)


def refused(exc: BaseException) -> bool:
    """Is ``exc`` a proxy's refusal (a 407), of either client?"""
    return isinstance(exc, RefusedByProxy)


def as_refusal(exc: BaseException) -> BaseException:
    """``exc``, or the :class:`RefusedByProxy` it is where it is requests' error for a tunnel a proxy refused (raised
    by the run's sessions, :func:`refuse_in_session`; and for those none of the run's hooks is on, which schemathesis
    makes itself for ignored_auth's probes, taken so where their error is read)."""
    if refused(exc) or not isinstance(exc, requests.exceptions.ProxyError) or not _tunnel_refused(exc):
        return exc
    request = exc.request
    return _tunnel_refusal(_RequestsRefused, str(request.url) if request is not None else "", request)


def refusal(url: str, tunnel: bool = False) -> str:
    """What a 407 to a request for ``url`` (``tunnel``: to the CONNECT of its tunnel) says, naming the proxy the
    environment names for it, if any."""
    proxy = proxy_for(url)
    return (f"407 Proxy Authentication Required from the proxy {proxy}" if proxy else
            f"407 Proxy Authentication Required from {origin(url)}, a proxy's answer") + (
            f" to the tunnel to {origin(url)}" if tunnel else "") + ": the request went no further"


def refusal_line(method: str, url: str, tunnel: bool = False) -> str:
    """The preflight's line for a target whose first answer is a 407 (``tunnel``: to the CONNECT of the tunnel to
    it): why, and what to do."""
    proxy, named = proxy_for(url), _named_proxy(url)
    why = ("refused the credentials its URL gives" if named and "@" in named[0].netloc else
           "wants credentials: give them in its URL (http://user:password@host:port)")
    if tunnel:
        return f"the proxy {proxy} refused to take the run to {origin(url)}: 407 Proxy Authentication Required; it {why}"
    return (f"{method} {url} answered 407 Proxy Authentication Required: "
            + (f"the proxy {proxy} {why}" if proxy else "that is a proxy's answer; is TARGET the API, or a proxy?"))


_TUNNEL_REFUSED = re.compile(r"(?:Tunnel connection failed: )?407\b")


def _tunnel_refused(exc: BaseException) -> bool:
    """Did a proxy answer 407 to the CONNECT of a tunnel (an https:// target), which either client tells in words
    only: http.client's ``OSError('Tunnel connection failed: 407 ...')`` under urllib3's and requests' ProxyError, and
    httpx's ``ProxyError('407 ...')`` (httpcore's words)? (The words are each client's own, pinned versions.)"""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, (OSError, httpx.ProxyError)) and _TUNNEL_REFUSED.match(str(cause)):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _tunnel_refusal(kind: type[RefusedByProxy], url: str, request: Any) -> RefusedByProxy:
    refusal_error = kind(refusal(url, tunnel=True), request=request)  # type: ignore[call-arg]
    refusal_error.tunnel = True
    return refusal_error


def refuse_in_session(session: requests.Session) -> None:
    """Make a requests session raise on a 407 answer, its connection closed, or on a 407 to its tunnel's CONNECT (once
    a session)."""
    if getattr(session, "_vpnconn_refusing", False):
        return

    def refuse(response: requests.Response, **_: Any) -> requests.Response:
        if response.status_code == STATUS:
            response.close()
            raise _RequestsRefused(refusal(response.url), request=response.request)
        return response

    send = session.send

    def sending(request: requests.PreparedRequest, **options: Any) -> requests.Response:
        try:
            return send(request, **options)
        except requests.exceptions.ProxyError as exc:
            if (refusal_error := as_refusal(exc)) is exc:
                raise
            raise refusal_error from exc

    session.hooks["response"].insert(0, refuse)
    session.send = sending  # type: ignore[method-assign]
    session._vpnconn_refusing = True  # type: ignore[attr-defined]


def refuse_in_client(response: httpx.Response) -> None:
    """An httpx response hook: a 407 raises (httpx closes the answer)."""
    if response.status_code == STATUS:
        raise _HttpxRefused(refusal(str(response.request.url)), request=response.request)


class _RefusingTunnels(httpx.BaseTransport):
    """A proxy's transport (httpx) that raises :class:`RefusedByProxy` where the proxy answered 407 to a tunnel's
    CONNECT (an answer, once inside the tunnel, is :func:`refuse_in_client`'s)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._inner.handle_request(request)
        except httpx.ProxyError as exc:
            if refused(exc) or not _tunnel_refused(exc):
                raise
            raise _tunnel_refusal(_HttpxRefused, str(request.url), request) from exc

    def close(self) -> None:
        self._inner.close()
