"""Interim answers (1xx, such as ``103 Early Hints``) before the final one: both HTTP clients read past them, so a
correct target behind a front that sends them passes, and a faulty one is caught (`contract_tests.interim_answers`).

The targets are loopback servers of the tests' own.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from support import relayed, request_server

from contract_tests import interim_answers

EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
PROCESSING = b"HTTP/1.1 102 Processing\r\n\r\n"
FINAL = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"


def with_early_hints(upstream: str):
    """A front to ``upstream`` that sends ``103 Early Hints`` before each answer, as a CDN may, unasked (RFC 8297)."""
    host, port = urlsplit(upstream).hostname or "", urlsplit(upstream).port or 80

    def answer(head: bytes, body: bytes) -> bytes:
        reply_head, reply_body = relayed(head, body, host, port)
        return EARLY_HINTS + reply_head + b"\r\n\r\n" + reply_body

    return answer


def test_both_clients_read_past_interim_answers_to_the_final_one():
    with request_server(lambda head, body: EARLY_HINTS + PROCESSING + FINAL) as url:
        assert httpx.post(url, content=b"{}").status_code == 201
        interim_answers.install()
        with requests.Session() as session:
            answer = session.post(url, data=b"{}")
        assert (answer.status_code, answer.content, "Link" in answer.headers) == (201, b"{}", False)
        interim_answers.uninstall()
        try:
            with requests.Session() as session:
                assert session.post(url, data=b"{}").status_code == 103  # http.client's own reading
        finally:
            interim_answers.install()
    assert interim_answers.installed()


@pytest.mark.parametrize("serve_options, faulty", [(("--fault", "rejects-dotted-names"), True),
                                                   (("--variant", "other-choices"), False)])
def test_a_target_behind_a_front_that_sends_early_hints_is_judged_by_its_final_answers(serve_options, faulty):
    """Before, schemathesis' client took each 103 for the answer: 613 false violations for a correct server in a
    default run (every case, and ignored_auth's probes, judged by a 103 without a body)."""
    from contract_tests import RunSettings, run_contract
    from contract_tests.target import embedded_server

    settings = RunSettings(seed=0, examples=20, use_cache=False)
    with embedded_server(settings, serve_options) as (upstream, run_settings), request_server(with_early_hints(upstream)) as url:
        result = run_contract(replace(run_settings, target=url), progress=lambda _: None, live=False)
    assert not [r for r in result.records if r.status is not None and r.status < 200]
    checks = {f.check for r in result.violations for f in r.failures}
    assert checks == ({"positive_data_acceptance"} if faulty else set()), checks
    assert result.exit_code == (1 if faulty else 0)
