"""One write per answer: what the server writes in one step of its event loop goes out in one send.

uvicorn writes an answer's head and its body with two ``transport.write`` calls, one after the other in the same
step of the loop: two system calls on the server, and often two reads on the client (its HTTP parser takes the
head, then waits for the body). :class:`OneWritePerStep` wraps a connection's transport so that writes made in one
step are joined and written once, at the start of the next step (or at once, when the connection is closed; a write
of JOIN_BELOW bytes or more goes at once, after what is pending). Every byte is written, in order; nothing waits
longer than the step the writes were made in.
"""

from __future__ import annotations

import asyncio
from typing import Any

JOIN_BELOW = 64 * 1024  # a write this large is not held to be joined: copying it would cost more than a second send


class OneWritePerStep:
    """A transport whose writes in one step of ``loop`` are written as one; everything else is the wrapped one's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) >= JOIN_BELOW:  # a large body (a long list page): written at once, after what is pending, not copied
            self.flush()
            if not self._transport.is_closing():
                self._transport.write(data)
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Write what is pending (the loop calls this once per step in which something was written)."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(chunk) for chunk in self._pending)

    def __getattr__(self, name: str) -> Any:  # is_closing, abort, pause_reading, get_extra_info, ...
        return getattr(self._transport, name)
