"""Mask exactly the secrets, and nothing else, so that a printed reproduction replays once they are put back.

Masked: the X-Auth-Token and Authorization header values, every ``psk`` value in a JSON body, and the
literal token/SK strings wherever they appear. Everything else (``authentication_algorithm`` included)
stays as sent.
"""

from __future__ import annotations

import json
import re
from typing import Any

MASK = "***"
SECRET_HEADERS = frozenset({"x-auth-token", "authorization", "x-security-token"})
_PSK_IN_JSON = re.compile(r'("psk"\s*:\s*)"(?:[^"\\]|\\.)*"')


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: (MASK if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def mask_json(value: Any) -> Any:
    """A copy of a JSON value with every ``psk`` value masked."""
    if isinstance(value, dict):
        return {k: (MASK if k == "psk" and isinstance(v, str) else mask_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    return value


def mask_text(text: str, secrets: list[str]) -> str:
    """Mask psk values in JSON text and any literal secret (longest first, so overlaps mask fully)."""
    text = _PSK_IN_JSON.sub(lambda m: f'{m.group(1)}"{MASK}"', text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
        text = text.replace(json.dumps(secret)[1:-1], MASK)  # as it appears escaped inside JSON
    return text
