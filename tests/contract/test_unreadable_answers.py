"""Answers the run cannot read are findings or a clear line, never a traceback: JSON nested deeper than Python's
json reads (``[[[[...]]]]``: ``RecursionError``, not ``ValueError``) is no JSON to every reader of an answer, and
a target that answers bytes that are not HTTP is told apart from one that cannot be reached."""

from __future__ import annotations

import json

import httpx
import pytest
from support import contract_command, request_server

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


def always(reply: bytes | None):
    """What a target of ``request_server`` answers to every request: ``reply``."""
    return lambda head, body: reply


def contract(url: str, *options: str):
    return contract_command("--target", url, "--request-timeout", "5", *options, env={"VPNCONN_TOKEN": "x"})


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
    refusal = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n"
               b"Content-Length: " + str(len(NESTED)).encode() + b"\r\n\r\n" + NESTED)
    with request_server(always(refusal)) as url:
        result = contract(url, "--examples", "5")
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
    assert "got 400 (no error_code)" in result.stdout  # its refusals, judged without a code


def test_a_target_whose_answer_cannot_be_read_is_told_from_one_that_cannot_be_reached():
    for answer, said in ((b"hello there\r\n\r\n", "answered, but not in HTTP this run can read"),
                         (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n", "answered, but not in HTTP this run can read"),
                         (b"HTTP/1.1 400 Bad Request\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}",
                          "answered, but its body does not decode as its Content-Encoding says"),
                         (None, "is unreachable")):
        with request_server(always(answer)) as url:  # (None: the connection closed unanswered)
            result = contract(url)
        assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
        assert said in result.stderr and result.stderr.count("\n") == 1, result.stderr
        assert ("unreachable" in result.stderr) == (answer is None)
