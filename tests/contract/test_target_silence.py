"""A target that stops answering mid-run: the run stops sending there, fails, and says when and after which
request; a target that drops a request now and then is judged request by request, to the end of the run."""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from support import relay, request_server

from contract_tests import RunSettings, run_contract
from contract_tests.report import render_summary
from contract_tests.silence import SILENT_AFTER, Silence, short_reason
from reference_server import ReferenceServer, running_server

SEED = 0


@contextlib.contextmanager
def forwarding(upstream: str, answers: int | None = None, drop_every: int = 0,
               drop_if: Callable[[bytes], bool] = lambda head: False) -> Iterator[str]:
    """A loopback proxy to ``upstream``, a connection per request: after ``answers`` requests (None: never) it
    closes each connection without an answer, as a target that went down; with ``drop_every``, every so many;
    and each whose head ``drop_if``."""
    counted, lock = itertools.count(1), threading.Lock()
    host, port = urlsplit(upstream).hostname or "", urlsplit(upstream).port or 80

    def answer(head: bytes, body: bytes) -> bytes | None:
        with lock:
            n = next(counted)
        if (answers is not None and n > answers) or (drop_every and n % drop_every == 0) or drop_if(head):
            return None  # closed with no answer
        return relay(head, body, host, port)

    with request_server(answer) as url:
        yield url


def run_through(proxy_options: dict) -> object:
    with running_server(ReferenceServer(token="t")) as upstream, forwarding(upstream, **proxy_options) as url:
        return run_contract(RunSettings(target=url, token="t", seed=SEED, examples=20, use_cache=False),
                            progress=lambda _: None, live=False)


def test_a_target_that_stops_answering_mid_run_ends_the_sending_there_and_fails_the_run():
    result = run_through({"answers": 250})  # the preflight's and then most of the coverage phase's
    unanswered = [r for r in result.records if r.status is None]
    assert result.target_silent and result.exit_code == 1
    assert SILENT_AFTER <= len(unanswered) <= SILENT_AFTER + 3 * result.settings.concurrency  # not the rest of the plan
    assert all(f.check == "request_error" for r in unanswered for f in r.failures)
    assert not any(r.phase in ("rules", "lifecycle") for r in result.records)  # nothing sent after it
    note = next(n for n in result.notes if n.startswith("the target stopped answering"))
    assert "requests in a row got no answer (the first sent: coverage POST /v5/{project_id}/vpn-connection: " in note
    text = render_summary(result)
    assert text.rstrip().endswith("the target stopped answering, and the run stopped sending (see the note)")


def test_a_target_that_drops_a_request_now_and_then_is_judged_to_the_end():
    """The other side: no answer to one request in four is a finding each time, never a target gone."""
    result = run_through({"drop_every": 4})
    assert not result.target_silent and not any("stopped answering" in n for n in result.notes)
    assert any(r.phase == "lifecycle" for r in result.records) and any(r.phase == "rules" for r in result.records)


def test_no_answer_to_a_request_a_check_sends_itself_is_a_finding_not_a_traceback():
    """schemathesis' ignored_auth check sends the case again without its credentials; a target that drops those
    (and answers the rest) fails the run with a "no answer" finding for each, the run going to its end."""
    result = run_through({"drop_if": lambda head: b"x-auth-token:" not in head.lower()})
    probes = [r for r in result.records if r.status is None]
    assert probes and all("a request one of schemathesis' checks sent on its own after this case" in f.message
                          for r in probes for f in r.failures)
    assert result.exit_code == 1 and not result.target_silent and any(r.phase == "lifecycle" for r in result.records)


def test_ten_in_a_row_without_an_answer_and_none_between():
    silence = Silence(limit=10, clock=itertools.count().__next__)
    for _ in range(3):
        for n in range(9):
            silence.unanswered(silence.ticket(), f"request {n}")
        silence.answered(silence.ticket())  # an answer ends the streak
    assert not silence.stopped and silence.in_a_row == 0
    for n in range(10):
        silence.unanswered(silence.ticket(), f"request {n}")
    assert silence.stopped and silence.first == "request 0"
    silence.answered(silence.ticket())  # an answer from a request in flight when it stopped: stopped for good
    assert silence.stopped and "10 requests in a row got no answer (the first sent: request 0)" in silence.described(0)


def test_with_several_in_flight_only_an_answer_to_a_later_request_ends_a_streak():
    """Eight sent together as the target goes: the earlier ones may end after later ones. An answer to a request
    sent before the first unanswered one says nothing of the target since; the first of the streak is the
    earliest sent."""
    silence = Silence(limit=10)
    sent = [silence.ticket() for _ in range(12)]
    silence.unanswered(sent[5], "the sixth")
    silence.answered(sent[2])  # sent before the sixth: the streak goes on
    silence.unanswered(sent[3], "the fourth")  # sent earlier, ended later: the first of the streak now
    assert silence.in_a_row == 2 and silence.first == "the fourth"
    silence.answered(sent[6])  # sent after the fourth, answered: the target was alive then
    assert silence.in_a_row == 0 and silence.first is None


def test_the_reason_kept_is_the_systems():
    wrapped = ("ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /v5/x "
               "(Caused by NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=9): Failed to establish a new "
               "connection: [Errno 111] Connection refused\"))")
    assert short_reason(wrapped) == "ConnectionError: [Errno 111] Connection refused"
    assert short_reason("ReadTimeout: timed out") == "ReadTimeout: timed out"


def test_each_phase_counts_a_request_by_awaiting_its_answer():
    """The sender, the rules phase and the lifecycle send each request within ``awaiting``: a client's no-answer error
    counts, described with the system's reason, and is raised on; an answer ends the streak; any other error is
    neither."""
    import httpx

    silence = Silence(limit=10)
    for n in range(3):
        with pytest.raises(httpx.ConnectError), silence.awaiting(f"rules POST ({n})", (httpx.HTTPError,)):
            raise httpx.ConnectError("[Errno 111] Connection refused")
    assert silence.in_a_row == 3 and silence.first == "rules POST (0): ConnectError: [Errno 111] Connection refused"
    with pytest.raises(KeyError), silence.awaiting("lifecycle show", (httpx.HTTPError,)):
        raise KeyError("a bug of ours, not the target's silence")
    assert silence.in_a_row == 3
    with silence.awaiting("lifecycle show", (httpx.HTTPError,)):
        pass  # answered
    assert silence.in_a_row == 0 and silence.first is None


def test_a_streak_of_a_proxys_refusals_is_told_from_a_silent_target():
    """A streak every request of which a proxy refused (407: contract_tests.proxies) is the proxy's, not the
    target's silence (the run then ends without a verdict); one request of it that got no answer at all makes it the
    target's again, and an answer ends the streak."""
    import httpx

    from contract_tests.proxies import refuse_in_client

    refused = httpx.Response(407, request=httpx.Request("POST", "http://127.0.0.1:9/v5/x"))
    silence = Silence(limit=10, clock=lambda: 12.5)

    def one(error: str) -> None:
        with pytest.raises(httpx.HTTPError), silence.awaiting("coverage POST", (httpx.HTTPError,)):
            if error == "refused":
                refuse_in_client(refused)
            raise httpx.ConnectError("[Errno 111] Connection refused")

    for _ in range(3):
        one("refused")
    assert silence.by_proxy and "ProxyRefused: 407 Proxy Authentication Required from http://127.0.0.1:9" in str(silence.first)
    one("no answer")
    one("refused")
    assert not silence.by_proxy and silence.in_a_row == 5
    with silence.awaiting("coverage POST", (httpx.HTTPError,)):
        pass
    for _ in range(10):
        one("refused")
    assert silence.stopped and silence.by_proxy
    assert silence.described(0).startswith("a proxy refused the run: from 12.5 s into the run, 10 requests in a row were "
                                           "answered 407 Proxy Authentication Required")
