"""Redirects: both HTTP clients follow them within the target's origin, so that every phase judges the answer where
such a redirect leads, and neither follows one elsewhere, where the user's credentials would go with it
(`contract_tests.redirects`).

The targets are loopback servers of the tests' own; another port is another origin.
"""

from __future__ import annotations

import itertools
from urllib.parse import urlsplit

import pytest
from schemathesis.transport.requests import SameHostRedirectsSession
from support import relayed, request_server

from contract_tests.answer_limits import limited_client

SECRETS = {"X-Auth-Token": "user-token-1234", "X-Security-Token": "user-security-5678", "Authorization": "SDK-HMAC-SHA256 x"}


def moved_api(upstream: str, location: str = "", heads: list[bytes] | None = None, after: int = 0):
    """A front to ``upstream`` that answers each create (after the first ``after``) with 307 to the same path under
    ``location``/moved, and relays what comes there (keeping its head in ``heads``), as a front that moved an API
    does: requests follows it, sending the POST again with its body; all else is relayed as it is."""
    host, port = urlsplit(upstream).hostname or "", urlsplit(upstream).port or 80
    creates = itertools.count(1)

    def answer(head: bytes, body: bytes) -> bytes:
        method, target = head.split(b" ", 2)[:2]
        if method == b"POST" and not target.startswith(b"/moved/") and next(creates) > after:
            return (b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location.encode() + b"/moved" + target +
                    b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        if heads is not None and target.startswith(b"/moved/"):
            heads.append(head)
        reply_head, reply_body = relayed(head.replace(b" /moved/", b" /", 1), body, host, port)
        return reply_head + b"\r\n\r\n" + reply_body

    return answer


@pytest.mark.parametrize("serve_options, refused", [(("--fault", "rejects-dotted-names"), True),
                                                    (("--variant", "other-choices"), False)])
def test_a_create_redirected_is_judged_by_its_answer_not_taken_for_one_sent_again(serve_options, refused):
    """requests follows a 307 by sending the create on from within its first sending: counted as sent again, every
    create behind such a front had its refusal left unjudged, and a server that refuses valid names passed."""
    from dataclasses import replace

    from contract_tests import RunSettings, run_contract
    from contract_tests.records import SENT_AGAIN
    from contract_tests.target import embedded_server

    settings = RunSettings(seed=0, examples=20, use_cache=False)
    with embedded_server(settings, serve_options) as (upstream, run_settings), request_server(moved_api(upstream)) as url:
        result = run_contract(replace(run_settings, target=url), progress=lambda _: None, live=False)
    checks = {f.check for r in result.violations for f in r.failures}
    assert not [r for r in result.records for f in r.failures if f.check == SENT_AGAIN]
    assert ("positive_data_acceptance" in checks) is refused, checks
    assert result.exit_code == (1 if refused else 0), checks



@pytest.mark.parametrize("after", [0, 1], ids=["from the first request", "mid-run"])
def test_a_front_that_moved_the_api_to_another_origin_gets_the_credentials_nowhere(after):
    """From the first request, the preflight says where the API went, and stops (exit 2). Mid-run, each create's
    redirect is its answer in every phase, schemathesis' and ours, and nothing is sent to the other origin."""
    from dataclasses import replace

    from contract_tests import RunSettings, run_contract
    from contract_tests.target import embedded_server
    from vpnconn.errors import TargetError

    heads: list[bytes] = []
    settings = RunSettings(seed=0, examples=5, use_cache=False, token="user-token-1234")
    with (embedded_server(settings) as (upstream, run_settings),
          request_server(moved_api(upstream, heads=heads)) as elsewhere,
          request_server(moved_api(upstream, elsewhere, after=after)) as url):
        if after == 0:
            with pytest.raises(TargetError, match=f"answered 307, a redirect to {elsewhere}: the run follows redirects only "
                                                  f"within the target's origin, .* point TARGET at it"):
                run_contract(replace(run_settings, target=url), progress=lambda _: None, live=False)
        else:
            result = run_contract(replace(run_settings, target=url), progress=lambda _: None, live=False)
            redirected = {r.phase for r in result.records if r.status == 307}
            assert redirected >= {"examples", "coverage", "fuzzing", "rules", "lifecycle"}, redirected
            said = [n for n in result.notes if "with a redirect to another origin, not followed" in n]
            assert len(said) == 1 and f"{elsewhere} (" in said[0], result.notes
    assert heads == []


def redirect_to(location: str, heads: list[bytes]):
    """A server that moved: 307 to ``location``, except under /moved, where it answers 200; keeps each head it gets."""
    def answer(head: bytes, body: bytes) -> bytes:
        heads.append(head)
        if b" /moved" in head.split(b"\r\n", 1)[0]:
            return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        return (f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n").encode()
    return answer


def httpx_post(url: str) -> int:
    with limited_client(5) as client:
        return client.post(url, headers=SECRETS, json={}).status_code


def requests_post(url: str) -> int:
    with SameHostRedirectsSession() as session:
        return session.post(url, headers=SECRETS, json={}, timeout=5).status_code


CLIENTS = pytest.mark.parametrize("post", [httpx_post, requests_post], ids=["httpx (ours)", "requests (schemathesis')"])


@CLIENTS
def test_a_redirect_to_another_origin_is_the_answer_and_nothing_goes_there(post):
    elsewhere: list[bytes] = []
    with request_server(redirect_to("", elsewhere)) as landing, request_server(redirect_to(landing + "/moved", [])) as url:
        assert post(url + "/v5/p/vpn-connection") == 307
    assert elsewhere == []


@CLIENTS
def test_a_redirect_within_the_origin_is_followed_with_the_credentials(post):
    heads: list[bytes] = []
    with request_server(redirect_to("/moved/v5/p/vpn-connection", heads)) as url:
        assert post(url + "/v5/p/vpn-connection") == 200
    assert len(heads) == 2 and all(name.lower().encode() + b":" in heads[1].lower() for name in SECRETS), heads


@pytest.mark.parametrize("url, location, origin", [
    ("http://[::1]:8080/v5/p/vpn-connection", "http://[::1]:9090/v5/p/vpn-connection", "http://[::1]:9090"),
    ("http://127.0.0.1:8080/v5/p/vpn-connection", "https://api.example.test/v5", "https://api.example.test"),
])
def test_the_origin_a_redirect_leads_to_is_named_as_a_url_names_it(url, location, origin):
    """An IPv6 host keeps its brackets (it read "http://::1:9090")."""
    from contract_tests.records import CaseRecord
    from contract_tests.redirects import redirected_away

    record = CaseRecord(phase="rules", mode="positive", method="POST", url=url, request_headers={}, request_body=None,
                        status=307, response_headers={"Location": location}, response_body="")
    said = redirected_away([record])
    assert said is not None and f"redirect it is: {origin} (1);" in said
