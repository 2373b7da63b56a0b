"""A reference server that answers as a distant cloud API does: each answer after a fixed delay.

``vpnconn serve --latency MS`` wraps the app; client developers see their timeouts and retries at work, and
``make bench`` measures a contract run against a far target without leaving loopback. The delay is awaited,
so requests in flight wait together, as they would over a long network path.
"""

from __future__ import annotations

import asyncio
from typing import Any


class Delayed:
    """An ASGI app that answers each HTTP request ``seconds`` after the wrapped app would."""

    def __init__(self, app: Any, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.seconds > 0:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)
