"""A run behind a proxy: every request goes through the proxy the environment names (HTTP_PROXY, HTTPS_PROXY,
ALL_PROXY), schemathesis' (requests) and the toolkit's own (httpx: the preflight, the rules phase, the
lifecycle, the cleanup) alike; NO_PROXY's hosts are reached directly by both."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from support import PROXY_REFUSAL, closed_port, relay, request_server, tls_server, trusting_only, tunnel_proxy

from contract_tests import RunSettings, run_contract
from contract_tests.answer_limits import limited_client
from contract_tests.proxies import as_refusal, refuse_in_session, refused
from contract_tests.target import embedded_server
from reference_server import ReferenceServer, running_server
from reference_server.faults import FAULTS, FaultyServer
from reference_server.variants import OtherChoicesServer
from vpnconn.errors import TargetError

SEED = 0
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy")


@contextlib.contextmanager
def forward_proxy(seen: list[str], refuses: Callable[[int, bytes], bool] = lambda n, head: False) -> Iterator[str]:
    """A loopback forward proxy for plain HTTP: it notes each request (method and path), which comes to it in
    absolute form, and sends it on in origin form, a connection per request; the n-th request (from 1), of head
    ``head``, for which ``refuses(n, head)`` holds it answers 407 itself, as a proxy that will not take the run's
    credentials (any more)."""
    lock = threading.Lock()

    def answer(head: bytes, body: bytes) -> bytes:
        line, _, fields = head.partition(b"\r\n")
        method, target, version = line.decode().split(" ")
        url = urlsplit(target)
        with lock:
            seen.append(f"{method} {url.path}")
            if refuses(len(seen), head):
                return PROXY_REFUSAL
        origin = f"{method} {url.path}{'?' + url.query if url.query else ''} {version}".encode()
        return relay(origin + b"\r\n" + fields, body, url.hostname or "", url.port or 80)

    with request_server(answer) as url:
        yield url


@pytest.fixture
def environment_without_proxies(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def refused_records(result) -> list:
    """The records of a run whose one finding is a proxy's refusal (not judged)."""
    return [r for r in result.records if [f.check for f in r.failures] == ["refused_by_proxy"]]


def https_behind(env, proxy: str, ca) -> None:
    """The environment of a run to an https:// target (its certificate signed by ``ca``) through ``proxy``."""
    trusting_only(env, "SSL_CERT_FILE", ca)
    env.setenv("HTTPS_PROXY", proxy)


def run_with(monkeypatch, **variables: str) -> tuple[object, list[str], str]:
    seen: list[str] = []
    with running_server(ReferenceServer(token="t")) as url, forward_proxy(seen) as proxy:
        for name, value in variables.items():
            monkeypatch.setenv(name, value.replace("{proxy}", proxy).replace("{target}", urlsplit(url).hostname or ""))
        result = run_contract(RunSettings(target=url, token="t", seed=SEED, examples=5, use_cache=False),
                              progress=lambda _: None, live=False)
    return result, seen, url


def test_every_request_of_a_run_goes_through_the_proxy_the_environment_names(environment_without_proxies):
    result, seen, _ = run_with(environment_without_proxies, HTTP_PROXY="{proxy}")
    assert result.exit_code == 0
    one = r"/v5/0123456789abcdef0123456789abcdef/vpn-connection/[0-9a-f-]{36}"
    assert any(re.fullmatch(rf"GET {one}", s) for s in seen)  # the lifecycle's shows (httpx)
    assert any(re.fullmatch(rf"DELETE {one}", s) for s in seen)  # its deletes and the cleanup's (httpx)
    assert any(s == "GET /v5/0123456789abcdef0123456789abcdef/vpn-connection" for s in seen)  # lists (httpx)
    # as many creates as the run sent, and more: the checks' own requests (requests) come through it too
    assert sum(1 for s in seen if s.startswith("POST")) >= sum(1 for r in result.records if r.method == "POST")


def test_no_request_goes_through_the_proxy_for_a_host_no_proxy_names(environment_without_proxies):
    result, seen, _ = run_with(environment_without_proxies, HTTP_PROXY="{proxy}", NO_PROXY="{target}")
    assert result.exit_code == 0 and seen == []


def test_a_proxy_of_another_kind_is_one_line_and_exit_2_without_its_credentials(environment_without_proxies):
    """A SOCKS proxy needs a package neither HTTP client has: it was an internal error with a traceback (exit 3)."""
    import io

    from commands.cli import main

    environment_without_proxies.setenv("ALL_PROXY", "socks5://someone:pass-7731@127.0.0.1:1")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["contract", "--target", "http://127.0.0.1:9", "--token", "t"])
    assert code == 2 and "ALL_PROXY names a socks5:// proxy" in err.getvalue()
    assert "Traceback" not in err.getvalue() and "pass-7731" not in err.getvalue()


def stopped_with(target: str) -> str:
    """The one line a run against ``target`` stops with before any case (exit 2, no traceback, no proxy password)."""
    import io

    from commands.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["contract", "--target", target, "--token", "t"])
    said = err.getvalue()
    assert code == 2 and said.count("\n") == 1 and "Traceback" not in said and "pass-7731" not in said, said
    return said


def test_a_proxy_that_cannot_be_reached_is_named_not_the_target(environment_without_proxies):
    """The connection refused was the proxy's (a proxy answers 502 for a target it cannot reach); the line named the
    target, which the run never reached, as unreachable. A host NO_PROXY names is still reached directly."""


    nothing = f"http://127.0.0.1:{closed_port()}"
    environment_without_proxies.setenv("HTTP_PROXY", nothing.replace("http://", "http://someone:pass-7731@"))
    with running_server(ReferenceServer(token="t")) as target:
        for no_proxy, url, said in (("", target, f"the proxy {nothing.replace('http://', 'http://***@')} (HTTP_PROXY) is "
                                                 f"unreachable: connection refused or no route"),
                                    ("127.0.0.1", nothing, f"{nothing} is unreachable: connection refused or no route")):
            environment_without_proxies.setenv("NO_PROXY", no_proxy)
            assert said in stopped_with(url)


def test_the_proxy_for_a_url_is_the_one_httpx_takes_its_credentials_masked(environment_without_proxies):
    from contract_tests.proxies import proxy_for

    env = environment_without_proxies
    env.setenv("HTTPS_PROXY", "http://u:secret@[::1]:3128")
    env.setenv("ALL_PROXY", "http://10.0.0.1:8080")
    env.setenv("NO_PROXY", "direct.example")
    assert proxy_for("https://api.example/v5") == "http://***@[::1]:3128 (HTTPS_PROXY)"
    assert proxy_for("http://api.example/v5") == "http://10.0.0.1:8080 (ALL_PROXY)"
    assert proxy_for("https://direct.example/v5") is None


def test_a_proxy_that_wants_credentials_stops_the_run_before_any_case_is_judged_by_its_407(environment_without_proxies):
    """Before, every case was judged by the proxy's 407: 919 violations against a target the run never reached."""


    env = environment_without_proxies
    with request_server(lambda head, body: PROXY_REFUSAL) as proxy:
        for variable, target, credentials, said in (
                ("HTTP_PROXY", "http://127.0.0.1:9", "someone:pass-7731@", "answered 407 Proxy Authentication Required: the "
                 f"proxy {proxy.replace('http://', 'http://***@')} (HTTP_PROXY) refused the credentials its URL gives"),
                ("HTTP_PROXY", "http://127.0.0.1:9", "", f"the proxy {proxy} (HTTP_PROXY) wants credentials"),
                ("HTTPS_PROXY", "https://127.0.0.1:9", "someone:pass-7731@", "the proxy "
                 f"{proxy.replace('http://', 'http://***@')} (HTTPS_PROXY) refused to take the run to https://127.0.0.1:9: 407"),
                (None, proxy, "", "answered 407 Proxy Authentication Required: that is a proxy's answer")):
            for name in PROXY_VARIABLES:
                env.delenv(name, raising=False)
            if variable:
                env.setenv(variable, proxy.replace("http://", f"http://{credentials}"))
            assert said in stopped_with(target)


def test_a_bad_gateway_first_is_what_stands_in_front_not_a_wrong_url(environment_without_proxies):
    """A proxy's 502 page (text/html) was taken for a URL that does not serve the API: 'wrong base URL?'."""


    page = b"<html>ERROR: The requested URL could not be retrieved</html>"
    bad_gateway = (b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: " + str(len(page)).encode() +
                   b"\r\nConnection: close\r\n\r\n" + page)
    with request_server(lambda head, body: bad_gateway) as front:
        for proxy, target, said in ((front, "http://127.0.0.1:9", f"the proxy {front} (HTTP_PROXY) could not reach http://127.0.0.1:9"),
                                    (None, front, "what stands in front of the API could not reach it")):
            if proxy:
                environment_without_proxies.setenv("HTTP_PROXY", proxy)
            else:
                environment_without_proxies.delenv("HTTP_PROXY")
            line = stopped_with(target)
            assert "answered 502 Bad Gateway: " + said in line and "wrong base URL" not in line


def test_a_proxy_that_starts_refusing_mid_run_stops_it_without_a_verdict(environment_without_proxies):
    """A 407 is a proxy's answer, never the target's (contract_tests.proxies). Before, every answer after a proxy
    turned to refusing was judged as the target's: 633 violation cases against the correct reference server in a
    default run. Now ten refusals in a row halt the run, and it ends without a verdict, naming the proxy."""
    seen: list[str] = []
    with running_server(ReferenceServer(token="t")) as url, forward_proxy(seen, refuses=lambda n, _: n > 150) as proxy:
        environment_without_proxies.setenv("HTTP_PROXY", proxy.replace("http://", "http://someone:pass-7731@"))
        with pytest.raises(TargetError) as stopped:
            run_contract(RunSettings(target=url, token="t", seed=SEED, examples=5, use_cache=False),
                         progress=lambda _: None, live=False)
    said = str(stopped.value)
    assert said.startswith("a proxy refused the run: ") and "no verdict" in said, said
    assert f"407 Proxy Authentication Required from the proxy {proxy.replace('http://', 'http://***@')} (HTTP_PROXY)" in said
    assert "pass-7731" not in said


@pytest.mark.parametrize("serve_options, faulty", [(("--fault", "rejects-dotted-names"), True),
                                                   (("--variant", "other-choices"), False)])
def test_requests_a_proxy_refuses_now_and_then_are_not_judged(environment_without_proxies, serve_options, faulty):
    """A proxy that refuses one request in 25 (never ten in a row): each refused request is not judged, whichever
    client sent it, and the rest judge the target: the correct-but-different server passes, the faulty one is caught
    by its fault alone. Before, each 407 was judged as the target's answer."""
    seen: list[str] = []
    settings = RunSettings(seed=SEED, examples=20, use_cache=False)
    with (embedded_server(settings, serve_options) as (url, run_settings),
          forward_proxy(seen, refuses=lambda n, _: n % 25 == 0) as proxy):
        environment_without_proxies.setenv("HTTP_PROXY", proxy)
        result = run_contract(replace(run_settings, target=url), progress=lambda _: None, live=False)
    refused = refused_records(result)
    assert len(refused) >= 10 and not [r for r in result.records if r.status == 407]
    phases = {r.phase for r in refused}
    assert "coverage" in phases and phases & {"rules", "lifecycle"}, phases  # (schemathesis' client, and ours)
    checks = {f.check for r in result.violations for f in r.failures}
    assert checks == ({"positive_data_acceptance"} if faulty else set()), checks
    assert result.exit_code == (1 if faulty else 0)


def test_the_probes_of_ignored_auth_a_proxy_refuses_are_not_judged(environment_without_proxies):
    """schemathesis' ignored_auth sends a request without credentials after an accepted case, on a session of its own
    making, which the run's 407 hook is not on: a proxy that refused it had "Expected 401 or 403, got 407"
    judged against a correct target. Now such a probe is refused by a proxy, not judged; and the faulty server that
    takes any token is still caught (by the preflight's wrong token, which goes through)."""
    refuses_unauthenticated = lambda n, head: b"x-auth-token:" not in head.lower()  # noqa: E731  (the probes)
    for serve_options, faulty in ((("--token", "t"), False), (("--fault", "ignores-credentials"), True)):
        seen: list[str] = []
        settings = RunSettings(seed=SEED, examples=5, use_cache=False, token="t")
        with (embedded_server(settings, serve_options) as (url, run_settings),
              forward_proxy(seen, refuses=refuses_unauthenticated) as proxy):
            environment_without_proxies.setenv("HTTP_PROXY", proxy)
            result = run_contract(replace(run_settings, target=url), progress=lambda _: None, live=False)
        checks = {f.check for r in result.violations for f in r.failures}
        if faulty:
            assert "ignored_auth" in checks and result.exit_code == 1, checks
            continue
        refused = refused_records(result)
        assert refused and all("ignored_auth" in f.message for r in refused for f in r.failures), refused
        assert checks == set() and result.exit_code == 0 and not [r for r in result.records if r.status == 407], checks


TUNNEL_REFUSED_OTHERWISE = (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def test_a_407_to_the_connect_of_a_tunnel_is_a_proxys_refusal_to_either_client(environment_without_proxies):
    """To an https:// target each request goes through a tunnel the proxy opens on a CONNECT, and a 407 to it came
    back as no answer at all: "no answer from the target", a violation. Now both of the run's clients raise
    RefusedByProxy for it, and a session of schemathesis' own making (ignored_auth's probes) has it taken as one;
    a CONNECT refused otherwise (403, 502) is the proxy's error as before, no answer."""
    for answer in (PROXY_REFUSAL, *TUNNEL_REFUSED_OTHERWISE):
        with tunnel_proxy(refuses=lambda n: True, answer=answer) as proxy:
            environment_without_proxies.setenv("HTTPS_PROXY", proxy.replace("http://", "http://someone:pass-7731@"))
            ours, theirs = requests.Session(), requests.Session()
            refuse_in_session(ours)
            raised = []
            for session in (ours, theirs):
                with pytest.raises(requests.exceptions.ProxyError) as by_requests:
                    session.get("https://127.0.0.1:9/v5", timeout=5)
                raised.append(by_requests.value)
            with limited_client(5) as client, pytest.raises(httpx.ProxyError) as by_httpx:
                client.get("https://127.0.0.1:9/v5")
            raised.append(by_httpx.value)
        by_ours, by_theirs, by_httpx_client = raised
        if answer is not PROXY_REFUSAL:
            assert not any(refused(exc) or refused(as_refusal(exc)) for exc in raised), raised
            continue
        assert not refused(by_theirs)  # (schemathesis' own session raises the client's error: taken as a refusal)
        for exc in (by_ours, as_refusal(by_theirs), by_httpx_client):
            assert refused(exc) and exc.tunnel, exc  # type: ignore[attr-defined]
            assert str(exc) == (f"407 Proxy Authentication Required from the proxy {proxy.replace('http://', 'http://***@')} "
                                "(HTTPS_PROXY) to the tunnel to https://127.0.0.1:9: the request went no further")


@pytest.mark.parametrize("app, faulty", [(OtherChoicesServer, False),
                                         (lambda **options: FaultyServer(FAULTS["rejects-dotted-names"], **options), True)])
def test_tunnels_a_proxy_refuses_now_and_then_are_not_judged(environment_without_proxies, tmp_path, app, faulty):
    """An https:// target behind a proxy that refuses one CONNECT in four (never ten in a row): each request whose
    tunnel was refused, whichever client sent it, is not judged, and the rest judge the target. Before, each was
    "no answer from the target": 65 violation cases against a correct server (a default run, one in three refused)."""
    with tls_server(app(token="t"), tmp_path) as (url, ca), tunnel_proxy(refuses=lambda n: n % 4 == 0) as proxy:
        https_behind(environment_without_proxies, proxy, ca)
        result = run_contract(RunSettings(target=url, token="t", seed=SEED, examples=20, use_cache=False),
                              progress=lambda _: None, live=False)
    refused = refused_records(result)
    assert refused and all("to the tunnel to" in f.message for r in refused for f in r.failures), refused
    checks = {f.check for r in result.violations for f in r.failures}
    assert checks == ({"positive_data_acceptance"} if faulty else set()), checks
    assert result.exit_code == (1 if faulty else 0)


def test_a_proxy_that_starts_refusing_tunnels_mid_run_stops_it_without_a_verdict(environment_without_proxies, tmp_path):
    """A proxy that refuses every CONNECT from some point on (credentials that expire): before, "the target stopped
    answering", exit 1 against a correct server; now no verdict, naming the proxy, as for a plain-HTTP target."""
    with (tls_server(ReferenceServer(token="t"), tmp_path) as (url, ca),
          tunnel_proxy(refuses=lambda n: n > 12) as proxy):
        https_behind(environment_without_proxies, proxy.replace("http://", "http://someone:pass-7731@"), ca)
        with pytest.raises(TargetError) as stopped:
            run_contract(RunSettings(target=url, token="t", seed=SEED, examples=5, use_cache=False),
                         progress=lambda _: None, live=False)
    said = str(stopped.value)
    assert said.startswith("a proxy refused the run: ") and "no verdict" in said and "to the tunnel to" in said, said
    assert "pass-7731" not in said


def test_a_proxys_refusals_are_not_judged_even_where_divergences_fail_the_run(environment_without_proxies, tmp_path):
    """--strict (STRICT=1) fails a run on divergences, the target's other choices; a request a proxy refused
    says nothing of the target, and was listed as a divergence: a correct server behind a proxy that refuses
    one request in 25 failed a strict run (exit 1). Now such a request is "not judged", a section of its own
    (terminal, failures.json, junit.xml as skipped), and strict judges the target alone: a correct server passes,
    and a server of other choices still fails. Nor is it counted "with failures" (the progress, the summary's table,
    MAX_FAILURES): the correct server's phases had 21, 12 and 1 there, each a request the proxy refused."""
    from contract_tests.records import NOT_JUDGED
    from contract_tests.report import render_summary, write_reports

    for serve_options, strict_verdict in ((("--token", "t"), 0), (("--variant", "other-choices"), 1)):
        seen: list[str] = []
        said: list[str] = []
        settings = RunSettings(seed=SEED, examples=5, use_cache=False, strict=True, token="t")
        with (embedded_server(settings, serve_options) as (url, run_settings),
              forward_proxy(seen, refuses=lambda n, _: n % 25 == 0) as proxy):
            environment_without_proxies.setenv("HTTP_PROXY", proxy)
            result = run_contract(replace(run_settings, target=url), progress=said.append, live=False)
        refused = refused_records(result)
        assert result.exit_code == strict_verdict, {f.check for r in result.divergences for f in r.failures}
        assert refused and all(f.severity == NOT_JUDGED for r in refused for f in r.failures)
        assert not set(map(id, refused)) & set(map(id, result.divergences + result.violations))
        if strict_verdict == 0:  # (the correct server: what the proxy refused is no failure, in the progress or the summary)
            phases = [line for line in said if " with failures  (" in line]
            table = [line for line in render_summary(result).splitlines() if line.endswith(" with findings")]
            assert len(phases) >= 4 and all(" 0 with failures" in line for line in phases), phases
            assert len(table) >= 4 and all(line.endswith(" 0 with findings") for line in table), table
    summary = render_summary(result)
    assert f"NOT JUDGED: answers that were not the target's (a proxy's refusal), counted by no verdict: {len(refused)} cases" in summary
    assert f"; {len(refused)} not judged" in summary.splitlines()[-1]
    junit, failures = write_reports(result, tmp_path / "report")
    assert f'"not_judged_cases": {len(refused)}' in failures.read_text()
    assert "<skipped" in junit.read_text() and "contract.not judged.refused_by_proxy" in junit.read_text()


def test_a_run_a_proxy_refused_too_often_to_judge_says_so_not_that_the_target_did_not_answer():
    """Under half the requests answered is no basis for a verdict (exit 2): "the target answered only 5 of 17
    requests". When a proxy refused most of the rest, that is said too: before, the line laid it all on the target."""
    from contract_tests.engine_phases import unanswered
    from contract_tests.proxies import RefusedByProxy
    from contract_tests.records import CaseRecord
    from contract_tests.runner import _judgeable

    answered = [CaseRecord(phase="coverage", mode="negative", method="POST", url="http://127.0.0.1:9", request_headers={},
                           request_body=None, status=400, response_headers={}, response_body="") for _ in range(5)]
    refused = [unanswered("coverage", "http://127.0.0.1:9", "407 from the proxy", cause=RefusedByProxy()) for _ in range(12)]
    silent = [unanswered("coverage", "http://127.0.0.1:9", "ConnectionError: reset") for _ in range(12)]
    with pytest.raises(TargetError) as by_proxy:
        _judgeable(answered + refused)
    with pytest.raises(TargetError) as by_target:
        _judgeable(answered + silent)
    assert str(by_proxy.value).startswith("the target answered only 5 of 17 requests, and a proxy refused 12 of them "
                                          "(407: never the target's to answer), too few to judge; no verdict")
    assert str(by_target.value).startswith("the target answered only 5 of 17 requests, too few to judge; no verdict")
