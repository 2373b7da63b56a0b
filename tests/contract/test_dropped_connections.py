"""A kept-alive connection the target closes under a request: the request is sent again, not reported as no answer.

Each target here is a raw loopback server that plays one connection's story; the run's httpx client
(`answer_limits.limited_client`, as the preflight, rules phase, lifecycle and clean-up use it) sends to it.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from support import raw_http_server, read_request, relay

from contract_tests.answer_limits import limited_client
from contract_tests.dropped_connections import ResendingDropped, dropped_before_answer, was_resent

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Story:
    """What the server does with the n-th request of a connection: ``answer(n)`` gives the bytes, or None to close
    the connection without a word (after reading the request, as a server closing an idle connection does)."""

    def __init__(self, answer: Callable[[int, int], bytes | None]) -> None:
        self.answer, self.connections, self.requests = answer, 0, 0
        self.lock = threading.Lock()

    def __call__(self, conn: socket.socket, stop: threading.Event) -> None:
        with self.lock:
            self.connections += 1
            connection = self.connections
        conn.settimeout(5)
        with conn:
            n = 0
            while not stop.is_set() and read_request(conn):
                n += 1
                with self.lock:
                    self.requests += 1
                reply = self.answer(connection, n)
                if reply is None:
                    return
                conn.sendall(reply)


def test_a_request_dropped_on_a_kept_connection_is_sent_again_on_a_new_one():
    story = Story(lambda connection, n: OK if n == 1 else None)  # every connection is closed under its second request
    with raw_http_server(story) as url, limited_client(5) as client:
        assert client.get(url + "/first").status_code == 200
        assert client.get(url + "/second").status_code == 200  # dropped on the kept connection, answered on a new one
    assert (story.connections, story.requests) == (2, 3)


def test_a_request_dropped_on_the_connection_opened_for_it_is_the_targets_failure():
    story = Story(lambda connection, n: None)  # never answers
    with raw_http_server(story) as url, limited_client(5) as client, pytest.raises(httpx.HTTPError) as caught:
        client.get(url + "/only")
    assert dropped_before_answer(caught.value)
    assert (story.connections, story.requests) == (1, 1)  # not sent again


def test_a_broken_answer_on_a_kept_connection_is_not_sent_again():
    story = Story(lambda connection, n: OK if n == 1 else b"NOT HTTP AT ALL\r\n\r\n")
    with raw_http_server(story) as url, limited_client(5) as client:
        assert client.get(url + "/first").status_code == 200
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            client.get(url + "/second")
    assert not dropped_before_answer(caught.value)
    assert (story.connections, story.requests) == (1, 2)


def test_several_kept_connections_dropped_at_once_are_each_let_go_until_one_answers():
    """Connections kept idle together are closed together: the request goes through them all, then a new one."""
    story = Story(lambda connection, n: OK if n == 1 else None)
    with raw_http_server(story) as url, limited_client(5) as client:
        barrier = threading.Barrier(3)

        def first() -> int:
            barrier.wait()
            return client.get(url + "/first").status_code

        threads = [threading.Thread(target=first) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        kept = story.connections
        assert client.get(url + "/after").status_code == 200
    assert kept >= 1 and story.connections == kept + 1  # each kept one tried and dropped, then one new connection


def test_each_thread_sends_on_connections_of_its_own():
    """httpcore's pool, shared by threads, let one close a kept connection (as expired) that another had just taken:
    the other then read a closed socket ("Bad file descriptor", once in a run against a busy target). Each thread
    now has a transport of its own, as each of requests' sessions is one thread's."""
    made: list[httpx.MockTransport] = []

    def make() -> httpx.MockTransport:
        made.append(httpx.MockTransport(lambda request: httpx.Response(200, json={})))
        return made[-1]

    transport = ResendingDropped(make)
    with httpx.Client(transport=transport) as client:
        assert client.get("http://127.0.0.1:9/a").status_code == client.get("http://127.0.0.1:9/b").status_code == 200
        assert len(made) == 1  # (one thread: one transport, used again)
        threads = [threading.Thread(target=client.get, args=("http://127.0.0.1:9/c",)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(made) == 4


def test_an_answer_to_a_request_sent_again_says_so():
    story = Story(lambda connection, n: OK if n == 1 else None)
    with raw_http_server(story) as url, limited_client(5) as client:
        first, second = client.get(url + "/first"), client.get(url + "/second")
    assert not was_resent(first) and was_resent(second)


def test_a_create_sent_again_is_noted_unsure_too_so_that_what_the_first_made_is_looked_for(tmp_path):
    """A server may carry a create out and drop the connection before its answer: the create sent again then makes a
    second connection (or is refused for the first's pair), and the first, whose id the run never saw, would be left
    behind, billed. Noted unsure as well, it is looked for on the gateway (unsure_creates) and deleted."""
    import json

    from support import scripted_lifecycle

    from contract_tests.dropped_connections import RESENT
    from contract_tests.lifecycle_phase import Seen
    from vpnconn import load_spec

    spec = load_spec()
    created = next(iter(spec.examples(str(spec.create.success_status), spec.create.id).values()))

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(spec.create.success_status, json=created, headers={"X-Request-Id": "r"},
                              extensions={RESENT: 1} if resend else {})

    for resend, unsure in ((True, 1), (False, 0)):
        (tmp_path / str(resend)).mkdir()
        with scripted_lifecycle(answer, tmp_path / str(resend)) as phase:
            phase._create(Seen("static", json.loads(json.dumps(spec.examples("request")["static"]))))
            assert phase.ledger._unsure == unsure and len(phase.ledger.pending()) == 1


def test_a_lifecycle_create_sent_again_and_refused_is_not_judged_and_ends_its_style(tmp_path):
    import json

    from support import scripted_lifecycle

    from contract_tests.dropped_connections import RESENT
    from contract_tests.lifecycle_phase import Seen
    from contract_tests.records import SENT_AGAIN
    from vpnconn import load_spec

    refusal = {"error_code": "VPN.0001", "error_msg": "invalid request: the pair is in use", "request_id": "r"}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=refusal, headers={"X-Request-Id": "r"}, extensions={RESENT: 1})

    with scripted_lifecycle(answer, tmp_path) as phase:
        seen = Seen("static", json.loads(json.dumps(load_spec().examples("request")["static"])))
        assert phase._create(seen) is None
        assert phase.ledger._unsure == 1  # the first sending is looked for
    assert [(f.check, f.severity) for r in seen.records for f in r.failures] == [(SENT_AGAIN, "divergence")]


@contextlib.contextmanager
def carrying_out_then_dropping(upstream: str, every: int) -> Iterator[str]:
    """A keep-alive proxy to ``upstream``: every ``every``-th create that comes on a kept connection (not its first
    request) is carried out upstream, and then that connection is closed without its answer, as a server that
    crashes after the work and before the answer does."""
    counted, lock = itertools.count(1), threading.Lock()
    host, port = urlsplit(upstream).hostname or "", urlsplit(upstream).port or 80

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(10)
            for n_on_connection in itertools.count(1):
                request = read_request(conn)
                if request is None:
                    return
                answer = relay(*request, host, port)
                head, _, body = answer.partition(b"\r\n\r\n")
                if n_on_connection > 1 and request[0].startswith(b"POST "):
                    with lock:
                        n = next(counted)
                    if n % every == 0:
                        return  # carried out, and the connection closed without its answer
                conn.sendall(re.sub(rb"(?im)\r\nconnection:[^\r]*", b"", head) + b"\r\n\r\n" + body)

    with raw_http_server(handle) as url:
        yield url


def test_creates_carried_out_and_then_dropped_are_neither_judged_by_their_second_sending_nor_left_behind():
    """Both HTTP clients send a create lost with a kept-alive connection again (schemathesis' own, and ours). Where
    the server had carried the first out, the second was refused for the pair the first took ("valid request
    rejected", 2 to 7 in a default run) and the first, whose id the run never saw, stayed on the gateway (2)."""
    from contract_tests import RunSettings, run_contract
    from contract_tests.records import SENT_AGAIN
    from reference_server import ReferenceServer, running_server

    with running_server(ReferenceServer(token="t")) as upstream, carrying_out_then_dropping(upstream, 10) as url:
        result = run_contract(RunSettings(target=url, token="t", seed=0, examples=20, use_cache=False),
                              progress=lambda _: None, live=False)
        left = httpx.get(f"{upstream}/v5/{result.settings.project_id}/vpn-connection?limit=200",
                         headers={"X-Auth-Token": "t"}).json()["vpn_connections"]
    not_judged = [r for r in result.records for f in r.failures if f.check == SENT_AGAIN]
    assert not_judged and {r.phase for r in not_judged} & {"examples", "coverage", "fuzzing"}  # schemathesis' client too
    assert result.exit_code == 0, [f.title for r in result.violations for f in r.failures]
    assert left == []


def test_a_correct_but_different_server_gets_no_create_sent_again(other_choices_run):
    """The other side of the test above: a server that answers every create it carries out, as the correct-but-different
    one does (it chooses otherwise where the documentation is silent), has none of its answers left unjudged so."""
    from contract_tests.records import SENT_AGAIN

    assert other_choices_run.records and not [r for r in other_choices_run.records for f in r.failures if f.check == SENT_AGAIN]

