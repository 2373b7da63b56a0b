"""A few requests before any phase, so that a run never judges a target it cannot reach or talk to.

1. The target answers HTTP at all (retried briefly: a server may still be starting).
2. The canonical request (the spec's first example, without ``vgw_id`` so that it cannot create anything)
   with the run's credentials gets an answer of this API: 401/403 means the credentials were refused, and a
   404/405 or an HTML page means the URL does not serve this API. Both stop the run (exit 2) with a hint.
3. A request with a made-up token must be refused (401/403). Where the run may create, it carries a valid
   body, so a 2xx proves "the target accepts any token"; elsewhere the invalid body, so another 4xx shows
   only that the body was judged before the credentials. Either is *one* finding, instead of one
   ``ignored_auth`` failure per case.
"""

from __future__ import annotations

import json
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import h11
import httpx

from contract_tests.aksk_auth import json_post_headers
from contract_tests.answer_limits import AnswerCut
from contract_tests.error_bodies import error_code_in
from contract_tests.pacing import BUSY_ATTEMPTS, http_date, is_busy, send
from contract_tests.proxies import RefusedByProxy, proxy_for, refusal_line
from contract_tests.records import CaseRecord, Failure
from contract_tests.redirects import origin, redirected_elsewhere
from contract_tests.settings import RunSettings
from contract_tests.verdicts import check_provenance
from vpnconn.aksk import MAX_CLOCK_SKEW
from vpnconn.errors import TargetError
from vpnconn.repair import Repairer
from vpnconn.spec import Spec


@dataclass
class Preflight:
    records: list[CaseRecord] = field(default_factory=list)  # findings (e.g. any token accepted)
    answers: list[tuple[Any, int, bytes]] = field(default_factory=list)  # (body sent, status, answer) of each probe: one may have created

    @property
    def any_token_accepted(self) -> bool:
        return any(f.check == "ignored_auth" for r in self.records for f in r.failures)


def canonical_invalid_body(spec: Spec) -> dict[str, Any]:
    """The spec's first request example without vgw_id: valid in every other way, refused by a correct server."""
    body = _example(spec)
    body["vpn_connection"].pop("vgw_id", None)
    return body


def _send(client: httpx.Client, url: str, raw: bytes, settings: RunSettings, token: str | None) -> httpx.Response:
    """A POST of ``raw``; a busy answer is asked again after its Retry-After (contract_tests.pacing)."""
    return send(client, None, "POST", url, raw, json_post_headers(url, raw, token, settings.ak, settings.sk))


def _reach(client: httpx.Client, url: str, raw: bytes, settings: RunSettings, wait: float) -> httpx.Response:
    deadline = time.monotonic() + wait
    while True:
        try:
            return _send(client, url, raw, settings, settings.token)
        except httpx.ConnectError as exc:
            if _untrusted_certificate(exc):
                raise TargetError(f"{origin(url)} is unreachable: its TLS certificate is not trusted ({_ssl_reason(exc)}); "
                                  "name the certificate of the CA that signed it with SSL_CERT_FILE=/path/to/ca.pem "
                                  "(REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE are read too)") from None
            if time.monotonic() >= deadline:
                if proxy := proxy_for(url):  # (the connection refused is the proxy's: a proxy answers 502 for a target)
                    raise TargetError(f"the proxy {proxy} is unreachable: connection refused or no route ({exc}); the run "
                                      f"goes to {origin(url)} through it (NO_PROXY=host names a host reached directly)") from None
                raise TargetError(f"{origin(url)} is unreachable: connection refused or no route ({exc})") from None
            time.sleep(0.25)
        except httpx.TimeoutException as exc:
            why = str(exc) if isinstance(exc, AnswerCut) else f"no answer within {settings.request_timeout:g} s"
            raise TargetError(f"{origin(url)} is unreachable: {why} (REQUEST_TIMEOUT=... to wait longer)") from None
        except RefusedByProxy as exc:  # a proxy's answer, never the API's: every case would be judged by it
            raise TargetError(refusal_line("POST", url, exc.tunnel)) from None
        except httpx.ProxyError as exc:  # (the proxy refused the tunnel to an https:// target: its 403, its 5xx)
            raise TargetError(f"the proxy {proxy_for(url)} refused to take the run to {origin(url)}: {str(exc)[:200]}") from None
        except httpx.DecodingError as exc:
            raise TargetError(f"{origin(url)} answered, but its body does not decode as its Content-Encoding says "
                              f"({str(exc)[:200]})") from None
        except httpx.HTTPError as exc:
            if _unreadable_answer(exc):
                raise TargetError(f"{origin(url)} answered, but not in HTTP this run can read ({str(exc)[:200]}); is "
                                  "TARGET the HTTP(S) endpoint of this API?") from None
            raise TargetError(f"{origin(url)} is unreachable: {exc.__class__.__name__}: {str(exc)[:200]}") from None


def _caused_by(exc: BaseException, test: Callable[[BaseException], bool]) -> bool:
    """Does ``test`` hold for ``exc`` or any exception in its chain (what it was raised from, or while handling)?"""
    cause: BaseException | None = exc
    while cause is not None:
        if test(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _unreadable_answer(exc: BaseException) -> bool:
    """Did the target answer bytes that are not an HTTP answer the client reads (h11 refused them: a status line
    that is no status line, a head larger than the client takes), rather than close or reset the connection?"""
    return _caused_by(exc, lambda cause: isinstance(cause, h11.RemoteProtocolError))


def _untrusted_certificate(exc: BaseException) -> bool:
    """Did the TLS handshake fail because the target's certificate is not trusted (not a refused connection)?"""
    return _caused_by(exc, lambda cause: isinstance(cause, ssl.SSLCertVerificationError)
                      or "CERTIFICATE_VERIFY_FAILED" in str(cause))


def _ssl_reason(exc: BaseException) -> str:
    text = str(exc)
    return text.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0].strip() or text[:120]


def _clock_off(response: httpx.Response) -> str:
    """Why a signature may have been refused though the keys are right: it carries this machine's time (X-Sdk-Date),
    and the API gateway refuses one more than MAX_CLOCK_SKEW from its own clock, which the answer's Date tells ('' when
    it is nearer or the answer has none)."""
    theirs = http_date(response.headers.get("date", ""))
    if theirs is None:
        return ""
    off = (datetime.now(UTC) - theirs).total_seconds()
    if abs(off) <= MAX_CLOCK_SKEW.total_seconds():
        return ""
    return (f"; or the keys are right and this machine's clock is off: it is {abs(off) / 60:.0f} min "
            f"{'ahead of' if off > 0 else 'behind'} the target's (its Date: {response.headers['date']}), and a signature "
            f"carries this machine's time (X-Sdk-Date), refused more than {MAX_CLOCK_SKEW.total_seconds() / 60:.0f} min off: set the clock")


def _describe(response: httpx.Response) -> str:
    media = response.headers.get("content-type", "no content type").split(";")[0]
    return f"{response.status_code} {error_code_in(response.content) or media}"


def run_preflight(base_url: str, settings: RunSettings, spec: Spec, client: httpx.Client, wait: float = 4.0) -> Preflight:
    url = spec.create.url(base_url, project_id=settings.project_id)
    invalid = canonical_invalid_body(spec)
    raw = json.dumps(invalid).encode()
    first = _reach(client, url, raw, settings, wait)
    if first.status_code == 502:  # a gateway's or a proxy's answer: what stands in front could not reach the API
        proxy = proxy_for(url)
        raise TargetError(f"POST {url} answered 502 Bad Gateway: "
                          + (f"the proxy {proxy} could not reach {origin(url)}" if proxy else
                             "what stands in front of the API could not reach it; try again later, or check TARGET"))
    elsewhere = redirected_elsewhere(first)
    if elsewhere is not None:
        raise TargetError(f"POST {url} answered {first.status_code}, a redirect to {elsewhere}: the run follows redirects "
                          f"only within the target's origin, never taking your credentials elsewhere; if the API is "
                          f"there, point TARGET at it")
    if is_busy(first.status_code, first.content):
        raise TargetError(f"POST {url} answered {_describe(first)}, busy, each of the {BUSY_ATTEMPTS} times it was asked: "
                          "the target cannot be judged now; try again later")
    media = first.headers.get("content-type", "").split(";")[0].strip().lower()
    if first.status_code in (404, 405) or media == "text/html":
        raise TargetError(f"POST {url} answered {_describe(first)}: this URL does not serve the VPN connection API; "
                          f"wrong base URL or project id? (TARGET is the part before /v5/, PROJECT_ID the id in the path)")
    if first.status_code in (401, 403):
        sent = "a token (TOKEN)" if settings.token else "an AK/SK signature" if settings.ak else "no credentials"
        raise TargetError(f"the target refused the credentials ({_describe(first)} with {sent}): pass the target's token "
                          f"with TOKEN=... or its keys with AK=... SK=... (vpnconn contract: --token, or --ak with VPNCONN_SK)"
                          + (_clock_off(first) if settings.ak and not settings.token else ""))
    result = Preflight(answers=[(invalid, first.status_code, first.content)])
    wrong = f"vpnconn-wrong-token-{secrets.token_hex(6)}"
    # Where the run may create, a valid body (pointed at the target's resources): a 2xx then proves that any token
    # is accepted. Elsewhere the invalid body: a 4xx other than 401/403 shows only that the body was judged first.
    body = Repairer(spec, settings).repair(_example(spec)) if settings.creates else invalid
    probe = json.dumps(body).encode()
    try:
        refused = _send(client, url, probe, settings, wrong)
    except RefusedByProxy as exc:
        raise TargetError(refusal_line("POST", url, exc.tunnel)) from None
    except httpx.HTTPError as exc:
        raise TargetError(f"{origin(url)} stopped answering during the preflight: {exc.__class__.__name__}") from None
    result.answers.append((body, refused.status_code, refused.content))
    if refused.status_code not in (401, 403) and not is_busy(refused.status_code, refused.content):  # (busy every time: not judged)
        accepted = refused.status_code < 300
        title = "The target accepts any token" if accepted else "The target does not refuse a made-up token first"
        why = ("the target does not check credentials" if accepted else "it judged the body instead: the target checks "
               "credentials after the body, or not at all (the sources put authentication first, at the API gateway)")
        result.records.append(CaseRecord(
            phase="preflight", mode="negative", method="POST", url=url,
            request_headers={"Content-Type": "application/json", spec.token_header: wrong}, request_body=probe.decode(),
            status=refused.status_code, response_headers=dict(refused.headers), response_body=refused.text,
            body=json.loads(probe), labels=["credentials"],
            failures=[Failure("ignored_auth", title, f"a made-up {spec.token_header} got {_describe(refused)}, not 401 or 403: "
                              f"{why} (reported once here, not per case)", "made-up token not refused",
                              check_provenance("ignored_auth"))]))
    return result


def _example(spec: Spec) -> dict[str, Any]:
    return json.loads(json.dumps(next(iter(spec.examples("request").values()))))
