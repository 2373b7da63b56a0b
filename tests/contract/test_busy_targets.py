"""A busy answer says the target is busy, not that the request is wrong: 429 (throttled), 503 and 504 ``VPN.0014``
(system busy, on the VPN error codes page), the error kinds the spec marks ``transient``. A run asks again after
the answer's Retry-After (1 s without one), three times in all, and judges the answer that is not busy; an answer
still busy then is not judged: ``target_busy``, a divergence (no source says how long a busy spell lasts). A
target busy for good gets no verdict (exit 2). Before, every 504 was a server error, an undocumented status and a
wrong status for its lifecycle step: a target busy for one request in ten got 95 violations in 21 causes.
End to end, the correct-but-different server is busy the first time for about one request in sixteen and passes
(tests/contract/test_verdicts.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest
from support import FakeClock, named_create_body

from contract_tests import RunSettings, pacing, run_contract
from contract_tests.error_bodies import error_code_of
from contract_tests.records import DIVERGENCE
from reference_server.app import ReferenceServer, Reject
from reference_server.embedded import running_server
from reference_server.variants import BUSY_KINDS, BUSY_ONE_IN, OtherChoicesServer, busy_at_first
from vpnconn import load_spec
from vpnconn.errors import TargetError

PHASES = ("rules",)  # a quick run of cases of every style, sent by the suite itself


class BusyForPolicies(ReferenceServer):
    """Busy for good whenever a create asks for style policy; itself otherwise."""

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        if b'"policy"' in raw:
            raise Reject(self.errors["system-busy"], "try again later", [(b"retry-after", b"0")])
        return await super()._create_vpn_connection(params, headers, raw, request_id)


class BusyForGood(ReferenceServer):
    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        raise Reject(self.errors["system-busy"], "try again later", [(b"retry-after", b"0")])


class BusyUnlessNoGateway(ReferenceServer):
    """Busy for good for every create that names a gateway: all but the preflight's (which leaves vgw_id out)."""

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        if b'"vgw_id"' in raw:
            raise Reject(self.errors["system-busy"], "try again later", [(b"retry-after", b"0")])
        return await super()._create_vpn_connection(params, headers, raw, request_id)


def run_on(app: ReferenceServer, **options: Any):
    with running_server(app) as url:
        return run_contract(RunSettings(target=url, token="t", phases=PHASES, **options), progress=lambda _: None, live=False)


def test_the_spec_marks_the_busy_answers_transient():
    spec = load_spec()
    assert spec.transient_statuses == {429, 503, 504}
    assert (spec.errors["system-busy"]["status"], spec.errors["system-busy"]["error_code"]) == (504, "VPN.0014")
    assert all("504" in operation.node["responses"] for operation in spec.operations)


@pytest.mark.parametrize("method, status, body", [
    ("GET", 503, None), ("GET", 504, {"error_code": "APIG.0201", "error_msg": "Backend timeout"}),
    ("POST", 429, None),  # throttled: refused before it was carried out
    ("POST", 504, {"error_code": "VPN.0014", "error_msg": "system busy"}),
    ("POST", 504, {"code": "VPN.0014", "message": "system busy"}),  # (the error codes page's shape)
    ("POST", 503, {"error_code": "APIG.0205", "error_msg": "busy"}),  # (the reference server's own)
])
def test_a_busy_answer_is_asked_again_after_its_retry_after(monkeypatch, method, status, body):
    clock = FakeClock()
    monkeypatch.setattr(pacing, "time", clock)
    answers = iter([httpx.Response(status, headers={"Retry-After": "7"}, json=body), httpx.Response(status, json=body),
                    httpx.Response(201)])
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(clock.now)
        return next(answers)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        response = pacing.send(client, pacing.Pace(None), method, "http://127.0.0.1:9/x", b"{}", {})
    assert response.status_code == 201 and calls == [100.0, 107.0, 108.0]


@pytest.mark.parametrize("status, content", [
    (504, b'{"error_code": "APIG.0201", "error_msg": "Backend timeout"}'),  # an API gateway that stopped waiting
    (503, b"<html>Service Unavailable</html>"),  # a load balancer's
    (504, b""),
])
def test_a_create_is_not_asked_again_when_its_busy_answer_does_not_say_nothing_was_done(status, content):
    """A second create after a gateway's timeout would make a second connection, or be refused for the tunnel pair
    the first took (a false violation): it is left unjudged, and the run looks for what it made (test_unsure_creates)."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(status, content=content, headers={"Retry-After": "0"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert pacing.send(client, None, "POST", "http://127.0.0.1:9/x", b"{}", {}).status_code == status
        assert calls == ["POST"]
        assert pacing.send(client, None, "DELETE", "http://127.0.0.1:9/x/1", None, {}).status_code == status
        assert calls[1:] == ["DELETE"] * pacing.BUSY_ATTEMPTS  # (idempotent: asked again)
    finding = pacing.busy_failure(status, content, "POST")
    assert finding.severity == DIVERGENCE and "not asked again" in finding.message


def test_every_busy_answer_holds_the_run_asked_again_or_not_and_without_a_pace_only_to_ask_again(monkeypatch):
    """The target asked everyone to wait: a create's 503 that is not asked again, and the last busy answer of a show,
    hold the run's pace for their Retry-After as every busy answer does, whichever send path got them (the sender's,
    and the rules phase, lifecycle and cleanup's pacing.send). Before, only a schemathesis case's did (its after_call
    hook, beside the hold here: twice for each). Without a pace (the preflight), a request sleeps only to be asked
    again."""
    clock = FakeClock()
    monkeypatch.setattr(pacing, "time", clock)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "30"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        pace = pacing.Pace(None)
        pacing.send(client, pace, "POST", "http://127.0.0.1:9/x", b"{}", {})  # not asked again
        assert clock.now == 100.0 and pace._next == 130.0  # (the next request of the run waits)
        pacing.send(client, None, "POST", "http://127.0.0.1:9/x", b"{}", {})
        assert clock.now == 100.0
        pacing.send(client, None, "GET", "http://127.0.0.1:9/x/1", None, {})
        assert clock.now == 100.0 + 30 * (pacing.BUSY_ATTEMPTS - 1)  # (not after the last)


def test_an_answer_still_busy_after_three_attempts_is_returned_as_it_is():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(504, headers={"Retry-After": "0"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert pacing.send(client, None, "GET", "http://127.0.0.1:9/x", None, {}).status_code == 504
    assert len(calls) == pacing.BUSY_ATTEMPTS
    assert not pacing.is_busy(500, b"") and not pacing.is_busy(None, b"")


def test_requests_still_busy_are_not_judged_and_are_divergences_only():
    result = run_on(BusyForPolicies(token="t"))
    busy = [r for r in result.records if r.busy]
    assert busy and all(r.style == "policy" and r.status == 504 for r in busy)
    assert all([(f.check, f.severity) for f in r.failures] == [("target_busy", DIVERGENCE)] for r in busy)
    assert "504" in busy[0].failures[0].message and "3 times in a row" in busy[0].failures[0].message
    assert result.exit_code == 0 and not result.violations
    assert replace(result, settings=replace(result.settings, strict=True)).exit_code == 1
    assert any(r.status == 201 for r in result.records)  # the others were judged


def test_a_target_busy_for_good_gets_no_verdict():
    with pytest.raises(TargetError, match="busy, each of the 3 times it was asked: the target cannot be judged now"):
        run_on(BusyForGood(token="t"))  # (its preflight already)
    with pytest.raises(TargetError, match=r"answered only \d+ of \d+ requests \(\d+ more left busy, not judged\), too few to "
                                          r"judge; no verdict \(last: the target answered 504"):
        run_on(BusyUnlessNoGateway(token="t"))


@pytest.mark.parametrize("status, body, busy", [
    (400, {"error_code": "VPN.0030", "error_msg": "system busy"}, True),
    (400, {"error_code": "VPN.0031", "error_msg": "repeated operation"}, True),  # (its handling: try again later)
    (409, {"error_code": "VPN.0016", "error_msg": "gateway not ready"}, True),
    (409, {"error_code": "VPN.0017", "error_msg": "logic instance not ready"}, True),
    (400, {"code": "VPN.0507", "message": "gateway being updated"}, True),  # (the error codes page's shape)
    (400, {"error_code": "VPN.0506"}, True), (400, {"error_code": "VPN.0508"}, True),
    (400, {"error_code": "VPN.0001", "error_msg": "invalid request"}, False),  # the request is wrong
    (409, {"error_code": "VPN.0999", "error_msg": "conflict"}, False),
    (400, "<html>bad request</html>", False),
    (500, {"error_code": "VPN.0030"}, False),  # a status the code does not go with: a server error
    (500, {"error_code": "VPN.0006", "error_msg": "IAM service unavailable"}, True),  # a service behind it is down
    (500, {"code": "VPN.0006", "message": "IAM service unavailable"}, True),
    (500, {"error_code": "VPN.0002", "error_msg": "internal server error"}, False),  # a server error, judged
    (500, {"error_code": "VPN.0005", "error_msg": "service authentication failure"}, False),
    (400, {"error_code": "VPN.0006"}, False),
    (409, {"error_code": "VPN.0031"}, False),
])
def test_a_documented_not_ready_or_busy_code_is_a_busy_answer_whatever_its_status(status, body, busy):
    """The error codes page's 400 VPN.0030 (system busy), VPN.0031 (repeated operation; try again later, the page
    says), VPN.0506-0508 (the gateway is being created, updated, deleted) and 409 VPN.0016/0017 (not ready) say
    the target's state, not that the request is wrong: before, a
    gateway that refused one create in eight with VPN.0507 got 102 cases of violations (positive_data_acceptance,
    error_contract, named_rule_rejection)."""
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    assert pacing.is_busy(status, content) is busy
    if busy:  # nothing was done: a create is asked again too
        assert pacing.asked_again("POST", status, content)


def test_a_target_that_fails_at_first_with_an_internal_error_is_still_judged_a_server_error():
    """500 VPN.0002 (internal server error) says nothing of a service behind it: not asked again, a violation."""
    result = run_on(NotReadyAtFirst(500, "VPN.0002", token="t"))
    assert result.exit_code == 1 and {f.check for r in result.violations for f in r.failures} >= {"not_a_server_error"}


class NotReadyAtFirst(ReferenceServer):
    """Refuses each create the first time it comes, before it reads the body: 409 VPN.0016 (gateway not ready), or
    the status and code it is given (400 VPN.0031, repeated operation: an operation still in progress, say)."""

    def __init__(self, status: int = 409, code: str = "VPN.0016", **options: Any) -> None:
        super().__init__(**options)
        self.seen: set[bytes] = set()
        self.error = {"status": status, "error_code": code, "message": "not now: {detail}"}

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        if raw not in self.seen:
            self.seen.add(raw)
            raise Reject(self.error, "try again later", [(b"retry-after", b"0")])
        return await super()._create_vpn_connection(params, headers, raw, request_id)


@pytest.mark.parametrize("status, code", [(409, "VPN.0016"), (400, "VPN.0031"), (500, "VPN.0006")])
def test_a_target_not_ready_at_first_is_asked_again_and_judged(status, code):
    """Before VPN.0031 (repeated operation) was marked try-again-later, as the error codes page says, the second
    target got a violation for every valid create it refused once so; before VPN.0006 (IAM service unavailable) was,
    the third got 498 violation cases in a default run (not_a_server_error)."""
    app = NotReadyAtFirst(status, code, token="t")
    result = run_on(app)
    assert result.exit_code == 0 and not result.violations and not result.divergences
    creates = [r for r in result.records if r.method == "POST"]
    assert len(app.seen) > 100 and creates and not any(r.busy for r in creates)  # (each body refused once, then judged)
    assert {r.status for r in creates} == {201, 400}  # judged: accepted, or refused for the body


def test_the_correct_but_different_server_is_busy_the_first_time_only():
    """Its busy requests are chosen by what they are (busy_at_first), so a run meets the same ones at any timing."""
    spec = load_spec()
    with running_server(OtherChoicesServer(token="t")) as url:
        create = spec.create.url(url, project_id="0123456789abcdef0123456789abcdef")
        names = (f"busy-{n}" for n in range(10_000))
        body = next(raw for name in names if busy_at_first(spec.create.id, {"project_id": "0123456789abcdef0123456789abcdef",
                                                                             "query": ""}, raw := named_create_body(name)))
        headers = {"X-Auth-Token": "t", "Content-Type": "application/json"}
        with httpx.Client() as client:
            first = client.post(create, content=body, headers=headers)
            again = client.post(create, content=body, headers=headers)
    kind = spec.errors[busy_at_first(spec.create.id, {"project_id": "0123456789abcdef0123456789abcdef", "query": ""}, body)]
    assert (first.status_code, error_code_of(first.json()), first.headers["retry-after"]) == (kind["status"], kind["error_code"], "0")
    assert pacing.is_busy(first.status_code, first.content) and again.status_code == 201
    kinds = [busy_at_first("x", {}, str(n).encode()) for n in range(4000)]
    assert 1 / (BUSY_ONE_IN * 2) < sum(kind is not None for kind in kinds) / 4000 < 2 / BUSY_ONE_IN
    assert set(kinds) == {None, *BUSY_KINDS} and all(load_spec().errors[kind].get("transient") for kind in BUSY_KINDS)

