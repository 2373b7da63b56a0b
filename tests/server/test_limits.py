"""A malformed, large, slow or one-too-many client gets the Huawei error body (where HTTP allows one) and is closed.

Each test opens raw sockets to a server with small limits, so that breaches happen in a fraction of a second;
the receive timeout only bounds a hung test, it measures nothing.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from support import PATH, TOKEN

from reference_server import ReferenceServer, running_server
from reference_server.limits import ServerLimits

LIMITS = ServerLimits(max_head_bytes=4096, head_timeout=0.5, body_timeout=0.5, keep_alive=0.5, max_connections=4)


@pytest.fixture(scope="module")
def limited() -> Iterator[tuple[str, int, list[str]]]:
    lines: list[str] = []
    with running_server(ReferenceServer(log=lines.append), limits=LIMITS) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port), lines


def connect(limited: tuple[str, int, list[str]]) -> socket.socket:
    sock = socket.create_connection(limited[:2])
    sock.settimeout(10)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def huawei_answer(raw: bytes) -> tuple[int, dict[str, str], str]:
    """(status, headers, error_code) of one raw answer, checking that it is the Huawei error body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    payload = json.loads(body)
    assert set(payload) == {"error_code", "error_msg", "request_id"} and payload["request_id"] == headers["x-request-id"]
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    return int(status_line.split()[1]), headers, payload["error_code"]


def request_head(extra: str = "") -> bytes:
    token = "".join(f"{k}: {v}\r\n" for k, v in TOKEN.items())
    return f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n{token}Content-Type: application/json\r\n{extra}".encode()


@pytest.mark.parametrize("raw", [
    b"POST /v5 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /v5/p\x00q/vpn-connection HTTP/1.1\r\nHost: x\r\n\r\n",
    b"BREW /v5 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /v5 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\nx",
], ids=["bad-content-length", "nul-in-path", "unknown-method", "length-and-chunked"])
def test_malformed_http_gets_the_huawei_400(limited, raw):
    with connect(limited) as sock:
        sock.sendall(raw)
        status, _, code = huawei_answer(read_until_closed(sock))
    assert (status, code) == (400, "APIG.0101")


def test_a_head_over_the_limit_gets_431(limited):
    with connect(limited) as sock:
        sock.sendall(request_head(f"X-Big: {'a' * 5000}\r\nContent-Length: 2\r\n\r\n{{}}"))
        status, _, code = huawei_answer(read_until_closed(sock))
    assert (status, code) == (431, "APIG.0203")


def test_an_endless_head_is_cut_off_long_before_it_fills_memory(limited):
    sent = 0
    with connect(limited) as sock:
        sock.sendall(request_head("X-Endless: "))
        try:
            while sent < 50 * 1024 * 1024:
                sock.sendall(b"a" * 8192)
                sent += 8192
        except (BrokenPipeError, ConnectionResetError):
            pass
    # The server closed the connection (what was sent past its limit sat in the kernel's socket buffers).
    assert sent < 50 * 1024 * 1024, "the server read a 50 MB header to its end"
    assert any(" 431 APIG.0203 " in line for line in limited[2])


def test_a_head_sent_too_slowly_gets_408_and_is_closed(limited):
    with connect(limited) as sock:
        sock.sendall(request_head())  # the head never ends
        status, _, code = huawei_answer(read_until_closed(sock))
    assert (status, code) == (408, "APIG.0204")


def test_a_body_sent_too_slowly_gets_408_and_is_closed(limited):
    with connect(limited) as sock:
        sock.sendall(request_head("Content-Length: 100\r\n\r\n{\"vpn_"))
        status, _, code = huawei_answer(read_until_closed(sock))
    assert (status, code) == (408, "APIG.0204")


def test_a_silent_connection_and_an_idle_keep_alive_are_closed_without_a_word(limited, spec):
    with connect(limited) as silent:
        assert read_until_closed(silent) == b""
    body = json.dumps(spec.examples("request")["static"]).encode()
    with connect(limited) as idle:
        idle.sendall(request_head(f"Content-Length: {len(body)}\r\n\r\n") + body)
        answer = read_until_closed(idle)  # the 201, then the close once the connection idles
    assert answer.startswith(b"HTTP/1.1 201 ") and answer.count(b"HTTP/1.1") == 1


def test_one_connection_too_many_gets_503(limited):
    held = [connect(limited) for _ in range(LIMITS.max_connections)]
    try:
        for sock in held:  # each is accepted: a request head started keeps it open until its head times out
            sock.sendall(b"GET")
        with connect(limited) as newcomer:
            status, _, code = huawei_answer(read_until_closed(newcomer))
    finally:
        for sock in held:
            sock.close()
    assert (status, code) == (503, "APIG.0205")
