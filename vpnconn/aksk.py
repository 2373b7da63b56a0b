"""AK/SK request signing as the official Huawei Cloud SDKs do it (``SDK-HMAC-SHA256``).

One implementation for both sides: the contract client signs with :func:`sign_headers`; the reference server
checks with :func:`verify`. The canonical request follows ``huaweicloudsdkcore.signer.Signer``:
method, canonical URI (segments percent-encoded with ``~`` safe, trailing ``/``), sorted query string,
``name:value`` lines of the signed headers, the signed header names, and the body's SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "x-sdk-date"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW = timedelta(minutes=15)
_AUTH = re.compile(r"^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$")


def _canonical_uri(path: str) -> str:
    encoded = "/".join(quote(segment, safe="~") for segment in unquote(path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def _canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)


def canonical_request(method: str, path: str, query: str, headers: dict[str, str], signed: list[str], body: bytes) -> str:
    lower = {k.lower(): str(v).strip() for k, v in headers.items()}
    header_lines = "".join(f"{name}:{lower.get(name, '')}\n" for name in signed)
    return "\n".join(
        [method.upper(), _canonical_uri(path), _canonical_query(query), header_lines, ";".join(signed),
         hashlib.sha256(body).hexdigest()]
    )


def signature(sk: str, date: str, canonical: str) -> str:
    string_to_sign = f"{ALGORITHM}\n{date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(sk.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def sign_headers(ak: str, sk: str, method: str, url_path: str, query: str, host: str, headers: dict[str, str],
                 body: bytes, now: datetime | None = None) -> dict[str, str]:
    """The headers to add to a request: ``X-Sdk-Date``, ``Host`` and ``Authorization``."""
    date = (now or datetime.now(UTC)).strftime(DATE_FORMAT)
    all_headers = {**headers, "X-Sdk-Date": date, "Host": host}
    signed = sorted(k.lower() for k in all_headers if "_" not in k)
    canonical = canonical_request(method, url_path, query, all_headers, signed, body)
    auth = f"{ALGORITHM} Access={ak}, SignedHeaders={';'.join(signed)}, Signature={signature(sk, date, canonical)}"
    return {"X-Sdk-Date": date, "Host": host, "Authorization": auth}


def verify(authorization: str, keys: dict[str, str], method: str, path: str, query: str,
           headers: dict[str, str], body: bytes, now: datetime | None = None) -> str | None:
    """Check an ``Authorization`` header; ``None`` when it is good, else why not (without any secret)."""
    match = _AUTH.match(authorization)
    if not match:
        return "Authorization is not of the form 'SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...'"
    access, signed_list, given = match.groups()
    if access not in keys:
        return "unknown access key"
    lower = {k.lower(): v for k, v in headers.items()}
    signed = signed_list.split(";")
    if DATE_HEADER not in lower or DATE_HEADER not in signed:
        return "X-Sdk-Date is missing or not signed"
    try:
        stamp = datetime.strptime(lower[DATE_HEADER], DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return f"X-Sdk-Date is not {DATE_FORMAT}"
    if abs((now or datetime.now(UTC)) - stamp) > MAX_CLOCK_SKEW:
        return "X-Sdk-Date is more than 15 minutes away from the server's clock"
    canonical = canonical_request(method, path, query, lower, signed, body)
    if not hmac.compare_digest(signature(keys[access], lower[DATE_HEADER], canonical), given.lower()):
        return "signature does not match"
    return None
