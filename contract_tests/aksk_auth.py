"""Sign requests with AK/SK (SDK-HMAC-SHA256) at send time, over the exact bytes that go on the wire."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from vpnconn import aksk
from vpnconn.spec import load_spec

PLACEHOLDER = "SDK-HMAC-SHA256 pending-signature"


class AkSkAuth(requests.auth.AuthBase):
    """Replaces the placeholder Authorization header with a real signature.

    Only a request that still carries the placeholder is signed: when schemathesis' ``ignored_auth`` check
    removes or replaces the credentials on purpose, the request goes out as it made it.
    """

    def __init__(self, ak: str, sk: str) -> None:
        self.ak, self.sk = ak, sk

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.headers.get("Authorization") != PLACEHOLDER:
            return request
        del request.headers["Authorization"]
        url = urlsplit(_text(request.url))
        raw = request.body or b""
        body = raw.encode() if isinstance(raw, str) else raw if isinstance(raw, bytes) else b"".join(
            part.encode() if isinstance(part, str) else part for part in raw)  # type: ignore[union-attr]
        wanted = {k: _text(v) for k, v in request.headers.items() if k.lower() in ("content-type", "x-project-id")}
        request.headers.update(aksk.sign_headers(self.ak, self.sk, _text(request.method), url.path, url.query,
                                                 url.netloc, wanted, body))
        return request


def signed_headers(method: str, url: str, raw: bytes, token: str | None, ak: str | None, sk: str | None) -> dict[str, str]:
    """Headers of a request with the run's credentials: the token in the spec's token header (X-Auth-Token), else an AK/SK signature
    (over the method, path, query and body). A request with a body says it is JSON."""
    headers = {"Content-Type": "application/json"} if raw else {}
    if token:
        headers[load_spec().token_header] = token
    elif ak:
        parts = urlsplit(url)
        headers.update(aksk.sign_headers(ak, sk or "", method, parts.path, parts.query, parts.netloc, headers, raw))
    return headers


def json_post_headers(url: str, raw: bytes, token: str | None, ak: str | None, sk: str | None) -> dict[str, str]:
    """Headers of a JSON POST with the run's credentials."""
    return {"Content-Type": "application/json", **signed_headers("POST", url, raw, token, ak, sk)}


def _text(value: str | bytes | None) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else (value or "")


class AkSkMarker:
    """A schemathesis auth provider (registered on the run's schema) that marks each request for signing.

    Being an auth provider makes the credentials *explicit* to schemathesis, so ``ignored_auth`` probes the
    server by sending the request without them (and with wrong ones) instead of assuming they were generated.
    """

    def get(self, case, context):
        return PLACEHOLDER

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}
