"""Run the reference server in a background thread on a free loopback port (tests, `vpnconn contract`)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from reference_server.app import ReferenceServer
from reference_server.limits import DEFAULT_LIMITS, ServerLimits, guarded_protocol
from vpnconn.spec import load_spec


def bind_loopback(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def uvicorn_server(app: Any, limits: ServerLimits = DEFAULT_LIMITS) -> uvicorn.Server:
    """``app``: any ASGI application (the reference server, a faulty or a correct-but-different variant), served
    with ``limits`` (see :mod:`reference_server.limits`); breaches are answered with the spec's error kinds."""
    errors = app.errors if isinstance(app, ReferenceServer) else load_spec().errors
    protocol = guarded_protocol(limits, errors, getattr(app, "log", None))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", http=protocol,
                            loop="uvloop", timeout_keep_alive=limits.keep_alive,  # type: ignore[arg-type]  # any seconds
                            backlog=2048, proxy_headers=False, server_header=False, date_header=False)
    return uvicorn.Server(config)


@contextlib.contextmanager
def running_server(app: ReferenceServer | None = None, port: int = 0, limits: ServerLimits = DEFAULT_LIMITS) -> Iterator[str]:
    """``with running_server(ReferenceServer(...)) as base_url:`` -- stopped when the block ends."""
    app = app or ReferenceServer()
    sock = bind_loopback(port)
    server = uvicorn_server(app, limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="reference-server")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the reference server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
