"""A run deletes what it creates (also when interrupted), `vpnconn cleanup` deletes what a killed run left,
and a run keeps its create budget and request rate, waiting as a 429 asks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from support import PATH, TOKEN, FakeClock, named_create_body

from contract_tests import RunSettings, cleanup, pacing, run_contract
from contract_tests.cleanup import Ledger, pending_in
from reference_server import ReferenceServer, running_server
from reference_server.app import Reject
from vpnconn import load_spec

REPO = Path(__file__).resolve().parents[2]


def listed(url: str) -> list[str]:
    answer = httpx.get(url + PATH, headers=TOKEN, timeout=10).json()
    return [c["id"] for c in answer["vpn_connections"]]


class CountingServer(ReferenceServer):
    """The reference server, counting the connections it created (its store forgets deleted ones)."""

    def __init__(self, **options):
        super().__init__(**options)
        self.created = 0

    async def _create_vpn_connection(self, *args):
        answer = await super()._create_vpn_connection(*args)
        self.created += 1
        return answer


def test_a_run_deletes_every_connection_it_created(tmp_path):
    app = CountingServer(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"], examples=20, seed=0, ledger_dir=str(tmp_path),
                               phases=("examples", "fuzzing", "rules", "lifecycle"))  # both processes create
        result = run_contract(settings, progress=lambda _: None, live=False)
        assert result.exit_code == 0 and app.created > 50
        assert listed(url) == [] and len(app.store) == 0
    assert list(tmp_path.iterdir()) == []  # the ledger is removed once everything in it is gone


class NotReadyToDelete(CountingServer):
    """Refuses to delete a connection the first four times it is asked, 409 VPN.0016 (not ready), as a service still
    building it may: more than one DELETE asks (pacing.BUSY_ATTEMPTS)."""

    def __init__(self, **options):
        super().__init__(**options)
        self.refusals: dict[str, int] = {}

    async def _delete_vpn_connection(self, params, headers, raw, request_id):
        connection_id = params["vpn_connection_id"]
        if self.store.find(params["project_id"], connection_id) is not None and self.refusals.get(connection_id, 0) < 4:
            self.refusals[connection_id] = self.refusals.get(connection_id, 0) + 1
            raise Reject(self.errors["gateway-not-ready"], "still building it", [(b"retry-after", b"0")])
        return await super()._delete_vpn_connection(params, headers, raw, request_id)


def test_a_connection_the_target_will_not_delete_yet_is_asked_again_at_the_end(tmp_path, monkeypatch):
    monkeypatch.setattr(cleanup, "FIRST_DELETE_PAUSE", 0.05)
    app = NotReadyToDelete(token=TOKEN["X-Auth-Token"])
    said: list[str] = []
    with running_server(app) as url:  # fewer creates than the gateway's quota: every one is left for the end
        settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"], ledger_dir=str(tmp_path),
                               phases=("examples", "coverage"))
        result = run_contract(settings, progress=said.append, live=False)
        assert 5 < app.created < load_spec().quota("connections-per-gateway")
        assert listed(url) == [] and set(app.refusals.values()) == {4}
    assert any("not deletable yet (busy or not ready); asking again" in line for line in said)
    assert not any("could NOT be deleted" in note for note in result.notes) and list(tmp_path.iterdir()) == []


def test_a_connection_the_target_will_not_delete_yet_is_asked_again_when_the_run_makes_room(tmp_path, monkeypatch):
    """More creates than the gateway's quota: the run makes room mid-run, asking those deletes again too, and
    every create is sent."""
    monkeypatch.setattr(cleanup, "FIRST_DELETE_PAUSE", 0.05)
    app = NotReadyToDelete(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"], ledger_dir=str(tmp_path), phases=("rules",))
        result = run_contract(settings, progress=lambda _: None, live=False)
        assert listed(url) == [] and set(app.refusals.values()) == {4}
    assert app.created > load_spec().quota("connections-per-gateway") and not any("left no room" in n for n in result.notes)
    assert not any("could NOT be deleted" in note for note in result.notes) and list(tmp_path.iterdir()) == []


def _run_command(url: str, ledger_dir: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "commands.cli", "contract", "--target", url, "--examples", "40", "--seed", "0",
               "--ledger-dir", str(ledger_dir), *extra]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "VPNCONN_TOKEN": TOKEN["X-Auth-Token"]}
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)


def _wait_for(process: subprocess.Popen, text: str, lines: list[str]) -> None:
    for line in process.stdout:
        lines.append(line)
        if text in line:
            return
    raise AssertionError(f"the run ended before {text!r}: {''.join(lines)[-800:]}")


def test_a_run_interrupted_mid_phase_deletes_what_it_created(tmp_path):
    app = CountingServer(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        process = _run_command(url, tmp_path)
        lines: list[str] = []
        _wait_for(process, "  examples ", lines)  # the coverage phase is under way, creating
        while app.created < 5:
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=120)
        lines.append(output)
        assert process.returncode == 130, "".join(lines)[-800:]
        assert "cleanup: deleted" in "".join(lines)
        assert listed(url) == [] and len(app.store) == 0 and app.created >= 5
    assert list(tmp_path.iterdir()) == []


def test_vpnconn_cleanup_deletes_what_a_killed_run_left(tmp_path):
    app = CountingServer(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        ledger = Ledger.new(url, "0123456789abcdef0123456789abcdef", tmp_path)
        with httpx.Client(base_url=url, headers=TOKEN, timeout=10) as client:  # a killed run's creations
            for n in range(3):
                ledger.note_create(None, *_created(client, n))
        assert len(listed(url)) == 3 and len(pending_in(ledger.path)) == 3
        done = subprocess.run([sys.executable, "-m", "commands.cli", "cleanup", "--target", url,
                               "--ledger-dir", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                              env={**os.environ, "VPNCONN_TOKEN": TOKEN["X-Auth-Token"]}, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "deleted 3 connection(s) earlier runs left" in done.stdout
        assert listed(url) == [] and not ledger.path.exists()
        again = subprocess.run([sys.executable, "-m", "commands.cli", "cleanup", "--target", url, "--ledger-dir",
                                str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and "no connection left" in again.stdout


def _created(client: httpx.Client, n: int) -> tuple[int, bytes]:
    response = client.post(PATH, content=named_create_body(f"vpn-killed-{n}"), headers={"Content-Type": "application/json"})
    return response.status_code, response.content


def test_what_could_not_be_deleted_is_listed_with_its_url(tmp_path):
    ledger = Ledger(tmp_path / "run-x.jsonl", "http://127.0.0.1:9", "p")
    ledger.created("a")
    ledger.created("b")
    ledger.deleted("a")
    with open(ledger.path, "a") as cut:
        cut.write('{"created": "http://127.0.0.1:9/v5/p/vpn-con')  # a line cut short by a kill
    assert ledger.pending() == ["http://127.0.0.1:9/v5/p/vpn-connection/b"]
    with running_server(ReferenceServer()) as url:  # a target where the connection is already gone: 404 is done
        gone = Ledger.new(url, "p", tmp_path / "gone")
        gone.created("98c5af8a-6ee2-4482-99a2-ae2280a6f4c3")
        from contract_tests.cleanup import delete_connections

        with httpx.Client(timeout=5) as client:
            done = delete_connections(gone.pending(), RunSettings(target=url, token="t"), client)
            dead = delete_connections(ledger.pending(), RunSettings(target="http://127.0.0.1:9"), client)
    assert done.deleted and not done.left
    assert dead.left[0][0].endswith("/vpn-connection/b") and "no answer" in dead.left[0][1]
    assert "http://127.0.0.1:9/v5/p/vpn-connection/b" in dead.summary()


def test_the_cleanup_of_a_distant_target_says_how_many_it_tried_and_how_many_it_deleted(monkeypatch):
    """Every 5 s a line: tried and deleted apart (a delete that got no answer was tried, not deleted)."""
    from contract_tests import cleanup

    clock = iter(range(0, 1000, 5))  # each look at the clock 5 s later
    monkeypatch.setattr(cleanup.time, "monotonic", lambda: next(clock))
    answers = iter([204, None, None, None])

    def answer(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status is None:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(status)

    lines: list[str] = []
    urls = [f"http://127.0.0.1:9/v5/p/vpn-connection/{n}" for n in range(4)]
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        done = cleanup.delete_connections(urls, RunSettings(target="http://127.0.0.1:9", concurrency=1), client, lines.append)
    assert len(done.deleted) == 1 and len(done.left) == 3
    assert lines[-1] == "  cleanup: 4/4 tried, 1 deleted"


def test_a_run_keeps_its_create_budget(tmp_path):
    app = CountingServer(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"], examples=20, seed=0, max_creates=30,
                               ledger_dir=str(tmp_path))
        result = run_contract(settings, progress=lambda _: None, live=False)
    assert any("MAX_CREATES (30) was reached" in note for note in result.notes)
    # each request that could create takes its share before it is sent (whatever is in flight), so the budget
    # bounds the requests, and what was created is at most that
    assert 0 < app.created <= 30
    assert len(app.store) == 0


def test_the_pace_spaces_requests_and_holds_everyone_after_a_429(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(pacing, "time", clock)
    pace = pacing.Pace(rate=5.0)
    for _ in range(11):
        pace.wait()
    assert clock.now == pytest.approx(102.0)  # 11 requests at 5 a second: the last at 2 s
    pace.hold(30)
    pace.wait()
    assert clock.now == pytest.approx(132.0)
    free = pacing.Pace(rate=None)
    before = clock.now
    for _ in range(100):
        free.wait()
    assert clock.now == before


def test_a_429_is_retried_after_its_retry_after(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(pacing, "time", clock)
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(429), httpx.Response(204)])
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(clock.now)
        return next(answers)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        response = pacing.send(client, pacing.Pace(None), "DELETE", "http://127.0.0.1:9/x", None, {})
    assert response.status_code == 204 and calls == [100.0, 107.0, 108.0]
    assert pacing.retry_after({"Retry-After": "9999"}) == pacing.MAX_RETRY_AFTER


@pytest.mark.parametrize("headers, seconds", [
    ({"Retry-After": "Wed, 21 Oct 2026 07:28:07 GMT", "Date": "Wed, 21 Oct 2026 07:28:00 GMT"}, 7.0),  # the target's clock
    ({"retry-after": ["Wed, 21 Oct 2026 07:29:00 GMT"], "date": ["Wed, 21 Oct 2026 07:28:00 GMT"]}, 60.0),
    ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT", "Date": "Wed, 21 Oct 2026 07:28:30 GMT"}, 0.0),  # already past
    ({"Retry-After": "Wed, 21 Oct 2020 07:28:00 GMT"}, 0.0),  # no Date: our clock, long past
    ({"Retry-After": "Wed, 21 Oct 2999 07:28:00 GMT"}, pacing.MAX_RETRY_AFTER),
    ({"Retry-After": "soon"}, 1.0), ({"Retry-After": ""}, 1.0), ({}, 1.0), ({"Retry-After": "-5"}, 0.0),
    ({"Retry-After": "NaN"}, 1.0),
])
def test_a_retry_after_given_as_an_http_date_is_waited_out_until_that_date(headers, seconds):
    """RFC 9110 lets Retry-After be a date; it was taken for 1 s, so a gateway that asked for 30 s by date got three
    asks within 2 s and the request was left unjudged as busy."""
    assert pacing.retry_after(headers) == seconds


def test_remote_targets_get_a_budget_and_a_rate_by_default():
    remote = RunSettings(target="http://192.0.2.10:8080", allow_create=True)
    assert remote.create_budget == 50 and remote.requests_per_second == 10.0
    local = RunSettings(target="http://127.0.0.1:8080")
    assert local.create_budget is None and local.requests_per_second is None
    assert replace(remote, max_creates=5, rate_limit=2.0).create_budget == 5


def sent_steadily(pace: pacing.Pace, clock: FakeClock, count: int, seconds: float) -> None:
    """``count`` requests at the pace, asked for evenly over ``seconds`` (the pace may space them further)."""
    for _ in range(count):
        pace.wait()
        clock.now += seconds / count


def test_a_throttled_run_halves_the_rate_it_sent_at_once_for_the_answers_then_in_flight(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(pacing, "time", clock)
    pace = pacing.Pace(rate=None)
    sent_steadily(pace, clock, 40, 0.5)
    pace.busy(503, 1.0)  # a busy service, not the run's rate: held, not slowed
    assert pace.interval == 0 and not pace.slowed
    for _ in range(8):  # the answers of the requests in flight, each throttled
        pace.busy(429, 1.0)
    assert pace.interval == pytest.approx(1 / 20) and len(pace.slowed) == 1  # 40 in the last second, halved once
    held = clock.now
    pace.wait()
    pace.wait()
    assert clock.now == pytest.approx(held + 1.0 + 1 / 20)  # the hold, then 20 a second
    clock.now += 1.5  # past the hold and the second after it: a throttled answer now is about the new rate
    sent_steadily(pace, clock, 10, 0.5)
    pace.busy(429, 0.0)
    assert len(pace.slowed) == 2 and 1 / pace.interval < 20
    lone = pacing.Pace(rate=None)
    lone.wait()
    lone.busy(429, 1.0)  # one request in the last second: no rate to halve
    assert lone.interval == 0 and not lone.slowed


def test_a_throttled_run_speeds_up_again_while_it_is_not_throttled(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(pacing, "time", clock)
    pace = pacing.Pace(rate=None)
    sent_steadily(pace, clock, 40, 0.9)
    pace.busy(429, 0.0)
    rates = []
    for _ in range(int(pacing.CEILING_HOLD) + 20):  # a request a second, asked for every second
        pace.wait()
        rates.append(1 / pace.interval)
        clock.now += 1.0
    assert rates[0] == pytest.approx(20)  # halved
    assert rates == sorted(rates) and rates[5] > 20 * 1.1 ** 3  # a tenth more each second
    assert max(rates[:int(pacing.CEILING_HOLD)]) == pytest.approx(40)  # no faster than it was throttled at, for a while
    assert rates[-1] > 40  # then faster, as nothing throttles it
    capped = pacing.Pace(rate=10.0)
    sent_steadily(capped, clock, 10, 0.9)
    capped.busy(429, 0.0)
    assert capped.interval == pytest.approx(1 / 5)
    for _ in range(int(pacing.CEILING_HOLD) + 20):
        capped.wait()
        clock.now += 1.0
    assert capped.interval == pytest.approx(1 / 10)  # back to the rate asked for, never past it


def test_a_throttled_run_says_so_in_a_note(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(pacing, "time", clock)
    pace = pacing.Pace(rate=None)
    assert pace.said(started=90.0) is None
    sent_steadily(pace, clock, 30, 0.9)
    pace.busy(429, 1.0)
    said = pace.said(started=90.0)
    assert said is not None and "throttled the run (429) from 11 s into it" in said and "1 time(s), to 15 requests a second" in said
