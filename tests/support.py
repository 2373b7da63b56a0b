"""Helpers shared by the toolkit's tests (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

QUICK = {"examples": 30, "seed": 0}  # the named seed and size of the shared contract runs
CASES = Path(__file__).resolve().parent.parent / "spec" / "cases"
PATH = "/v5/0123456789abcdef0123456789abcdef/vpn-connection"
TOKEN = {"X-Auth-Token": "test-token-0000"}


_TUNNELS = itertools.count()


def fresh_tunnel_pair(body):
    """A shared test server keeps what the tests create, and refuses a tunnel pair in use (VPN.0012): give each
    body that names a pair a /30 of its own (in place; returns the body)."""
    conn = body.get("vpn_connection") if isinstance(body, dict) else None
    if isinstance(conn, dict) and "tunnel_local_address" in conn:
        n = next(_TUNNELS)
        third, fourth = 100 + n // 64, (n % 64) * 4
        conn["tunnel_local_address"] = f"169.254.{third}.{fourth + 1}/30"
        conn["tunnel_peer_address"] = f"169.254.{third}.{fourth + 2}/30"
    return body


def drawn(cases) -> str:
    """A digest of what planned cases would send (phase, headers, query, body): equal digests, equal cases."""
    import hashlib

    return hashlib.sha256(repr([(c.phase, c.headers, c.query, c.body) for c in cases]).encode()).hexdigest()


def patterns_of(node: Any) -> Iterator[str]:
    """Every ``pattern`` of a spec document: the schemas' (requests, answers, parameters) and the extensions'."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from patterns_of(value)
    elif isinstance(node, list):
        for value in node:
            yield from patterns_of(value)


def case_files(folder: str) -> list[Path]:
    return sorted((CASES / folder).glob("*.json"))


def read_case(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def run_against(serve_options: tuple[str, ...] = (), **options):
    """A contract run against the embedded server started with ``serve_options`` (--fault, --variant).

    Cached for the session: tests that only read a run's result share it (a run costs ~15 s)."""
    from dataclasses import replace

    from contract_tests import RunSettings, run_contract
    from contract_tests.target import embedded_server

    settings = RunSettings(**{**QUICK, **options})
    with embedded_server(settings, serve_options) as (url, run_settings):
        return run_contract(replace(run_settings, target=url), progress=lambda _: None, live=False)


@contextlib.contextmanager
def raw_http_server(handle: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A loopback TCP server that gives each connection to ``handle(conn, stop)`` in a thread of its own (for targets
    that misbehave below HTTP); yields its ``http://127.0.0.1:port``; ``stop`` is set as the block ends."""
    server, stop = socket.create_server(("127.0.0.1", 0)), threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                conn, _ = server.accept()
                threading.Thread(target=handle, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


@contextlib.contextmanager
def tls_server(app: Any, folder: Path) -> Iterator[tuple[str, Path]]:
    """``app`` over HTTPS on 127.0.0.1, with a certificate of a CA made here (trustme) for 127.0.0.1 only: yields its
    URL and the CA's file (in ``folder``), for SSL_CERT_FILE."""
    import trustme
    import uvicorn

    from reference_server.embedded import bind_loopback

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    issued = ca.issue_cert("127.0.0.1")
    issued.private_key_pem.write_to_path(str(folder / "key.pem"))
    issued.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    sock = bind_loopback()
    config = uvicorn.Config(app, log_level="warning", ssl_keyfile=str(folder / "key.pem"),
                            ssl_certfile=str(folder / "cert.pem"), lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{sock.getsockname()[1]}", folder / "ca.pem"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def trusting_only(env: Any, variable: str | None, value: Any = None) -> None:
    """Of the variables that name the CA a run trusts (settings.CA_VARIABLES), only ``variable`` set (to ``value``),
    or none; ``env``: pytest's monkeypatch."""
    from contract_tests.settings import CA_VARIABLES

    for name in CA_VARIABLES:
        env.delenv(name, raising=False)
    if variable:
        env.setenv(variable, str(value))


PROXY_REFUSAL = (b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxy\"\r\n"
                 b"Content-Length: 0\r\nConnection: close\r\n\r\n")


@contextlib.contextmanager
def tunnel_proxy(refuses: Callable[[int], bool] = lambda n: False, answer: bytes = PROXY_REFUSAL) -> Iterator[str]:
    """A loopback proxy for https:// targets: it opens a tunnel to the host a CONNECT names and pipes both ways until
    either side closes; to the n-th CONNECT (from 1) for which ``refuses(n)`` holds it sends ``answer`` (a 407: a proxy
    that will not take the run's credentials, any more) and closes. Yields its ``http://127.0.0.1:port``."""
    lock, count = threading.Lock(), itertools.count(1)

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for side in (source, sink):
            with contextlib.suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            request = read_request(conn)
            if request is None:
                return
            with lock:
                n = next(count)
            method, target = request[0].split(b" ")[:2]
            if method != b"CONNECT" or refuses(n):
                conn.sendall(answer)
                return
            host, _, port = target.decode().rpartition(":")
            with socket.create_connection((host, int(port))) as upstream:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                conn.settimeout(None)
                back = threading.Thread(target=pipe, args=(upstream, conn), daemon=True)
                back.start()
                pipe(conn, upstream)
                back.join(timeout=5)

    with raw_http_server(handle) as url:
        yield url


def read_request(conn: socket.socket) -> tuple[bytes, bytes] | None:
    """One whole request from ``conn``: its head (without the blank line that ends it) and its body (as long as its
    Content-Length says); None when the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    while length and len(body) < int(length.group(1)):
        body += conn.recv(65536)
    return head, body


@contextlib.contextmanager
def request_server(answer: Callable[[bytes, bytes], bytes | None]) -> Iterator[str]:
    """A loopback server that reads one request per connection and sends ``answer(head, body)``, or closes the
    connection without a word when that is None; yields its ``http://127.0.0.1:port``."""
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            request = read_request(conn)
            reply = answer(*request) if request is not None else None
            if reply is not None:
                conn.sendall(reply)

    with raw_http_server(handle) as url:
        yield url


def relay(head: bytes, body: bytes, host: str, port: int) -> bytes:
    """Send a request on to ``host:port`` on a connection of its own (``Connection: close`` in place of its own) and
    return the whole answer, as a proxy does."""
    fields = re.sub(rb"(?im)^(connection|proxy-connection):[^\r]*\r\n", b"", head + b"\r\n")
    with socket.create_connection((host, port)) as upstream:
        upstream.sendall(fields + b"Connection: close\r\n\r\n" + body)
        answer = b""
        while chunk := upstream.recv(65536):
            answer += chunk
    return answer


def relayed(head: bytes, body: bytes, host: str, port: int) -> tuple[bytes, bytes]:
    """What a front that closes each connection passes on of the answer :func:`relay` gets: its head
    (``Connection: close`` in place of its own, without the blank line that ends it) and its body."""
    reply_head, _, reply_body = relay(head, body, host, port).partition(b"\r\n\r\n")
    return re.sub(rb"(?im)\r\nconnection:[^\r]*", b"", reply_head) + b"\r\nConnection: close", reply_body


def contract_command(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``vpnconn contract ARGS`` in a process of its own, with ``env`` added to this one's environment."""
    return subprocess.run([sys.executable, "-m", "commands.cli", "contract", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


class FakeClock:
    """A clock for ``monkeypatch.setattr(module, "time", FakeClock())``: ``monotonic`` reads ``now`` (from 100), and
    ``sleep`` moves it on at once."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------ scripted targets
# The lifecycle phase against an httpx mock transport: each test scripts what the target answers.

SCRIPTED_BASE = "http://127.0.0.1:9"
SCRIPTED_ID = "46f8a69a-1fa9-498a-aeb0-4a321db152b2"


def shown(status: str, connection_id: str = SCRIPTED_ID):
    """A show answer (the spec's example) of the connection ``connection_id`` with ``status``."""
    import httpx

    from vpnconn import load_spec

    example = json.loads(json.dumps(next(iter(load_spec().examples("200", "ShowVpnConnection").values()))))
    example["vpn_connection"].update(id=connection_id, status=status)
    return httpx.Response(200, json=example, headers={"X-Request-Id": example["request_id"]})


@contextlib.contextmanager
def scripted_lifecycle(answer: Callable, tmp_path: Path) -> Iterator:
    """A lifecycle phase whose target answers each request with ``answer(request)``."""
    import httpx

    from contract_tests.cleanup import Ledger
    from contract_tests.lifecycle_phase import LifecyclePhase
    from contract_tests.settings import RunSettings

    settings = RunSettings(target=SCRIPTED_BASE, token="t")
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        yield LifecyclePhase(SCRIPTED_BASE, settings, client, Ledger(tmp_path / "ledger.jsonl", SCRIPTED_BASE, settings.project_id))


def scripted_show(tmp_path: Path, created: dict, answer: Callable) -> list:
    """The failures of the lifecycle's show step, for a connection the sequence knows as ``created``, against a target
    that answers each request with ``answer(request)``."""
    from contract_tests.lifecycle_phase import Seen

    with scripted_lifecycle(answer, tmp_path) as phase:
        seen = Seen("static", {"vpn_connection": {}}, connection=created)
        assert phase._show(seen, SCRIPTED_ID)
    [record] = seen.records
    return record.failures


def named_create_body(name: str) -> bytes:
    """The spec's static request example named ``name``, with a customer gateway of that name's own (a gateway address
    and a customer gateway hold one connection), as bytes to send."""
    import hashlib
    import uuid

    from vpnconn import load_spec

    body = json.loads(json.dumps(load_spec().examples("request")["static"]))
    body["vpn_connection"]["name"] = name
    body["vpn_connection"]["cgw_id"] = str(uuid.UUID(bytes=hashlib.sha256(name.encode()).digest()[:16], version=4))
    return json.dumps(body).encode()
