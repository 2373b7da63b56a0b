"""Mask exactly what the user supplied (token, AK, SK), and nothing else, so that every printed reproduction
replays once the user's credentials are put back.

Masked: the whole value of the credential headers (X-Auth-Token, Authorization, X-Security-Token), and a
user secret wherever it stands as a whole value in other text (delimited by anything that cannot be part of
a token), never as a piece of another word: ``TOKEN=t`` must not turn ``STATIC`` into ``S***A***IC``.
The test data the tool generated itself (a case's psk) is not a user secret and is shown as sent.
"""

from __future__ import annotations

import json
import re

MASK = "***"
SECRET_HEADERS = frozenset({"x-auth-token", "authorization", "x-security-token"})
_TOKEN_CHARS = r"A-Za-z0-9_\-.~+/="


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: (MASK if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def mask_text(text: str, secrets: list[str]) -> str:
    """Mask each secret where it stands whole (longest first, so that overlaps mask fully)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in dict.fromkeys((secret, json.dumps(secret)[1:-1])):  # also as escaped inside JSON
            pattern = rf"(?<![{_TOKEN_CHARS}]){re.escape(form)}(?![{_TOKEN_CHARS}])"
            text = re.sub(pattern, MASK, text)
    return text
