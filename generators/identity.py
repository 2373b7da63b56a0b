"""Values a server would make up (ids, timestamps, auto names), derived from a scenario's name instead.

The same name always gives the same values, so fixtures are byte-identical from run to run.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from reference_server import Identity, timestamp

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def _digest(name: str, purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{name}".encode()).digest()


def derived_uuid(name: str, purpose: str) -> str:
    return str(uuid.UUID(bytes=_digest(name, purpose)[:16], version=4))


def derived_identity(name: str) -> Identity:
    digest = _digest(name, "time")
    moment = EPOCH + timedelta(seconds=int.from_bytes(digest[:4], "big") % (365 * 86400), milliseconds=digest[4] * 3)
    return Identity(
        new_id=lambda: derived_uuid(name, "id"),
        now=lambda: timestamp(moment),
        auto_name=lambda: "vpn-" + _digest(name, "name")[:2].hex(),
    )
