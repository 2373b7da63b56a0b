"""Answers the run cannot read are findings or a clear line, never a traceback: JSON nested deeper than Python's
json reads (``[[[[...]]]]``: ``RecursionError``, not ``ValueError``) is no JSON to every reader of an answer, and
a target that answers bytes that are not HTTP is told apart from one that cannot be reached."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest
from support import raw_http_server, read_request

from contract_tests import answer_json
from contract_tests.checks import Answer, run_checks
from contract_tests.cleanup import created_id
from contract_tests.error_bodies import error_code_in
from contract_tests.settings import RunSettings
from contract_tests.unsure_creates import gateway_connections
from contract_tests.verdicts import response_provenance
from vpnconn import load_spec

NESTED = b"[" * 100_000 + b"]" * 100_000  # json.loads: RecursionError
NESTED_OBJECT = b'{"vpn_connection": ' * 50_000 + b"1" + b"}" * 50_000


def contract(url: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "commands.cli", "contract", "--target", url, "--request-timeout", "5", *options],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "VPNCONN_TOKEN": "x"})


@contextlib.contextmanager
def answering(answer: bytes | None) -> Iterator[str]:
    """A raw target that answers every request with the bytes ``answer``, or closes the connection unanswered."""
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            if read_request(conn) is not None and answer is not None:
                conn.sendall(answer)

    with raw_http_server(handle) as url:
        yield url


@pytest.mark.parametrize("content", [NESTED, NESTED_OBJECT], ids=["arrays", "objects"])
def test_json_nested_too_deep_is_no_json_to_every_reader(content):
    with pytest.raises(RecursionError):
        json.loads(content)  # what each reader did
    with pytest.raises(ValueError, match="nested too deeply"):
        answer_json.loads(content)
    assert Answer(201, {"X-Request-Id": "r"}, content).json is None
    run_checks(Answer(201, {"X-Request-Id": "r"}, content), {"vpn_connection": {}})  # raised RecursionError
    assert error_code_in(content) is None and created_id(201, content) is None
    assert response_provenance(201, content) == load_spec().check_provenance("response_schema_conformance")
    with httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=content))) as client:
        assert gateway_connections("http://127.0.0.1:9", RunSettings(seed=0, token="t"), client) is None


def test_json_that_is_deep_but_readable_is_read_as_ever():
    deep = b"[" * 500 + b"]" * 500
    assert answer_json.loads(deep) == json.loads(deep)
    assert answer_json.loads(b'{"error_code": "VPN.0001"}') == {"error_code": "VPN.0001"}
    with pytest.raises(ValueError):
        answer_json.loads(b"not json")


def test_a_target_whose_answers_are_nested_too_deep_gets_findings_not_a_traceback():
    with answering(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n"
                   b"Content-Length: " + str(len(NESTED)).encode() + b"\r\n\r\n" + NESTED) as url:
        result = contract(url, "--examples", "5")
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
    assert "got 400 (no error_code)" in result.stdout  # its refusals, judged without a code


def test_a_target_whose_answer_cannot_be_read_is_told_from_one_that_cannot_be_reached():
    for answer, said in ((b"hello there\r\n\r\n", "answered, but not in HTTP this run can read"),
                         (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n", "answered, but not in HTTP this run can read"),
                         (b"HTTP/1.1 400 Bad Request\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}",
                          "answered, but its body does not decode as its Content-Encoding says"),
                         (None, "is unreachable")):
        with answering(answer) as url:
            result = contract(url)
        assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
        assert said in result.stderr and result.stderr.count("\n") == 1, result.stderr
        assert ("unreachable" in result.stderr) == (answer is None)
