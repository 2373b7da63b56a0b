"""An answer must arrive whole within the request timeout and be no larger than MAX_ANSWER_BYTES, in both of a
run's HTTP clients (httpx: preflight, rules, lifecycle, clean-up; requests: schemathesis' cases). A target that
trickles its body a byte at a time, each sooner than the timeout, or sends an endless body, is cut: no answer,
never a hung run. End to end: tests/contract/test_preflight_and_target_faults.py."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from support import raw_http_server

from contract_tests import answer_limits
from contract_tests.answer_limits import AnswerCut, limit_session, limited_client

BODY = b'{"error_code": "VPN.0001", "error_msg": "x", "request_id": "r-1"}'


@contextlib.contextmanager
def raw_target(how: str) -> Iterator[str]:
    """A loopback HTTP target whose every answer is ``whole``, a ``trickle`` (a byte every 0.1 s, for ever) or a
    ``flood`` (64 KiB chunks, for ever); ``chunked-trickle`` trickles one chunk of a chunked body."""
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with conn, contextlib.suppress(OSError):
            head = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nX-Request-Id: r-1\r\n"
            while True:  # a whole answer keeps the connection for the next request
                data = b""
                while b"\r\n\r\n" not in data:
                    received = conn.recv(65536)
                    if not received:
                        return
                    data += received
                if how != "whole":
                    break
                conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY)
            if how == "chunked-trickle":
                conn.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n100000\r\n")
            else:
                conn.sendall(head + b"Content-Length: 1000000000\r\n\r\n")
            while not stop.is_set():
                if how == "flood":
                    conn.sendall(b" " * 65536)
                else:
                    conn.sendall(b" ")
                    time.sleep(0.1)

    with raw_http_server(handle) as base:
        yield f"{base}/v5/p/vpn-connection"


def limited_session(seconds: float) -> requests.Session:
    session = requests.Session()
    limit_session(session, seconds)
    return session


@pytest.mark.parametrize("how", ["trickle", "chunked-trickle"])
def test_a_body_that_trickles_is_cut_at_the_timeout(how):
    with raw_target(how) as url, limited_client(1.0) as client:
        with pytest.raises(AnswerCut, match="did not arrive whole within 1 s"):
            client.post(url, content=b"{}")
        with pytest.raises(requests.exceptions.ReadTimeout, match="did not arrive whole within 1 s"):
            limited_session(1.0).post(url, data=b"{}", timeout=1.0, stream=True).content  # noqa: B018 (read as schemathesis does)


def test_an_endless_body_is_cut_at_the_size_limit(monkeypatch):
    monkeypatch.setattr(answer_limits, "MAX_ANSWER_BYTES", 2**20)
    with raw_target("flood") as url, limited_client(30.0) as client:
        with pytest.raises(AnswerCut, match="larger than 1 MiB"):
            client.post(url, content=b"{}")
        with pytest.raises(requests.exceptions.ReadTimeout, match="larger than 1 MiB"):
            limited_session(30.0).post(url, data=b"{}", timeout=30.0)


def test_a_whole_answer_is_read_as_it_came_and_the_connection_kept():
    with raw_target("whole") as url, limited_client(1.0) as client:
        assert client.post(url, content=b"{}").content == BODY
        opened = {}
        for name, session in (("plain", requests.Session()), ("limited", limited_session(1.0))):
            answers = []
            for _ in range(3):  # each read whole before the next is sent, as schemathesis reads them
                answers.append(session.post(url, data=b"{}", timeout=1.0, stream=True))
                assert answers[-1].content == BODY
            assert [a.json()["request_id"] for a in answers] == ["r-1"] * 3
            pools = session.get_adapter(url).poolmanager.pools
            opened[name] = [pools.get(key).num_connections for key in pools.keys()]  # noqa: SIM118 (it refuses iteration)
        # the three went on one connection: the body read to its end gives it back to the pool, as without a limit
        assert opened == {"plain": [1], "limited": [1]}


def test_a_session_is_limited_once():
    session = limited_session(1.0)
    limit_session(session, 1.0)
    assert len(session.hooks["response"]) == 1
