"""A create whose answer does not say what it did may still have made a connection: an API gateway that stopped
waiting for the service answers 504 with its own code after the connection was created, and a timeout gives no
answer at all. The ledger learns connections by the id an answer gives, so on a real account such a connection
was left behind, billed by the hour, and the create was asked again (504 counted as busy), which made a second
one or was refused for the tunnel pair the first took. Now such a create is not asked again (its answer is not
judged: ``target_busy``), the run lists its gateway's connections as it starts, and at its end finds what unsure
creates made (a new connection, unknown by id, with what such a create gave) and deletes it with the rest.
Both ways: a connection that was on the gateway before the run, or that another client made with other fields,
is left as it is, even with the same name."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from support import PATH, TOKEN, named_create_body

from contract_tests import RunSettings, run_contract
from contract_tests.cleanup import Ledger, adopt_refused_creates, adopt_unsure_creates, clean_leftovers, read_ledger
from contract_tests.hooks import create_answered
from contract_tests.run_resources import unmade_customer_gateway
from contract_tests.unsure_creates import gateway_connections, made_by_unsure, shows, sought
from reference_server.app import ReferenceServer, Reject
from reference_server.embedded import running_server

GATEWAY_TIMEOUT = {"status": 504, "error_code": "APIG.0201", "message": "Backend timeout: {detail}"}  # an API gateway's own
REPO = Path(__file__).resolve().parents[2]
ONE_IN = 4  # about one create in this many is carried out and then answered as the test server chooses


def chosen(raw: bytes) -> bool:
    """The creates (by their bytes, so the same ones whatever the timing) the test servers answer badly."""
    return hashlib.sha256(raw).digest()[0] % ONE_IN == 0


class TimesOutAfterCreating(ReferenceServer):
    """Carries out every create, and answers a chosen one 504 APIG.0201 as an API gateway that stopped waiting."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.silent: list[str] = []  # the ids of the connections it made and did not report
        self.probes = 0  # of them, made by the run's question whether the world is open (contract_tests.run_resources)

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        status, body = await super()._create_vpn_connection(params, headers, raw, request_id)
        if chosen(raw):
            self.silent.append(json.loads(body)["vpn_connection"]["id"])
            self.probes += json.loads(raw)["vpn_connection"].get("cgw_id") == unmade_customer_gateway()
            raise Reject(GATEWAY_TIMEOUT, "the service did not answer in time")
        return status, body


class SilentAfterCreating(TimesOutAfterCreating):
    """Carries out every create, and answers a chosen one only after the run's request timeout."""

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        status, body = await ReferenceServer._create_vpn_connection(self, params, headers, raw, request_id)
        if chosen(raw) and b'"name"' in raw:
            self.silent.append(json.loads(body)["vpn_connection"]["id"])
            await asyncio.sleep(3)
        return status, body


def _create(url: str, raw: bytes) -> str:
    answer = httpx.post(url + PATH, content=raw, headers={**TOKEN, "Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["vpn_connection"]["id"]


def _ids(app: ReferenceServer) -> set[str]:
    return {c["id"] for c in app.store.listing(PATH.split("/")[2])}


def found_in_notes(result: Any) -> tuple[int, int]:
    """How many unsure creates' connections a run says it found: as it made room (before the lifecycle, or when
    its gateway was full), and at its end."""
    early = re.search(r"(\d+) create\(s\) got no answer, or one that does not say whether the connection was created "
                      r"\(a timeout, a gateway's 5xx, a create sent again after a dropped connection\): what they made "
                      r"found on the gateway as the run made room", "\n".join(result.notes))
    late = re.search(r"(\d+) connection\(s\) the target made for them found on the gateway", "\n".join(result.notes))
    return int(early.group(1)) if early else 0, int(late.group(1)) if late else 0


def test_what_a_create_answered_by_a_gateway_timeout_made_is_found_and_deleted():
    app = TimesOutAfterCreating(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        before = {_create(url, named_create_body(name)) for name in ("vpn-1655", "someone-elses")}  # (the run's names too)
        settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("rules", "lifecycle"))
        result = run_contract(settings, progress=lambda _: None, live=False)
        assert _ids(app) == before  # what the run made is gone, what was there stays
    assert len(app.silent) >= 10
    assert result.exit_code == 0 and not result.violations  # (asked again, a create got VPN.0012 or made a second)
    timed_out = [r for r in result.records if r.status == 504]
    assert len(timed_out) + app.probes == len(app.silent) and all(r.busy for r in timed_out)
    assert all("not asked again" in r.failures[0].message for r in timed_out)
    assert sum(found_in_notes(result)) == len(app.silent)


def test_what_a_create_that_got_no_answer_made_is_found_and_deleted():
    app = SilentAfterCreating(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("rules",), request_timeout=1.0)
        result = run_contract(settings, progress=lambda _: None, live=False)
        assert app.silent and _ids(app) == set()
    unanswered = [r for r in result.records if r.status is None]
    assert len(unanswered) == len(app.silent)
    assert sum(found_in_notes(result)) == len(app.silent)


def test_only_a_new_unknown_connection_with_what_an_unsure_create_gave_is_the_runs(tmp_path):
    """Both ways, on a live server: the same name and fields before the run, another name during it, a connection
    the run knows by id, and the one the unsure create made (the very same fields three times: a server without the
    quotas, as one whose gateway has two addresses could hold them)."""
    app = ReferenceServer(token=TOKEN["X-Auth-Token"], quotas=False)
    with running_server(app) as url, httpx.Client(timeout=10) as client:
        settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"])
        ledger = Ledger.new(url, settings.project_id, tmp_path)
        asked = named_create_body("vpn-unsure")
        there_before = _create(url, asked)
        ledger.listed_before(gateway_connections(url, settings, client), settings)
        made = _create(url, asked)  # the unsure create, carried out
        ledger.note_create(json.loads(asked), 504, b'{"error_code": "APIG.0201", "error_msg": "Backend timeout"}')
        elsewhere = _create(url, named_create_body("vpn-another-client"))
        known = _create(url, asked)
        ledger.created(known)
        said = adopt_unsure_creates(ledger, settings, client, None)
        assert read_ledger(ledger.path).pending == {ledger.url(known): None, ledger.url(made): None}
        assert said is not None and "1 connection(s) the target made for them found" in said
        assert read_ledger(ledger.path).sought == [] and not ledger.kept_for_unsure  # (found: not looked for again)
        assert made_by_unsure([{"id": "x", "name": "vpn-unsure"}], set(), set(), [{"name": "vpn-unsure", "vgw_id": "g"}]) == []
        assert made_by_unsure([{"id": "x", "cgw_id": "c", "vgw_id": "g"}], set(), set(), [{"cgw_id": "c", "vgw_id": "g"}]) == []
        assert {there_before, elsewhere} <= _ids(app)


def _run_ledger(url: str, client: httpx.Client, tmp_path: Path) -> tuple[RunSettings, Ledger]:
    """A run's settings and ledger against ``url``, its gateway listed as the run begins."""
    settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"])
    ledger = Ledger.new(url, settings.project_id, tmp_path)
    ledger.listed_before(gateway_connections(url, settings, client), settings)
    return settings, ledger


def test_a_look_that_finds_what_an_earlier_look_did_not_lets_the_ledger_go(tmp_path):
    """A run looks as it makes room and at its end: the connection not found at the first (made later) and found at
    the second is the run's, deleted with the rest, and the ledger no longer waits for `vpnconn cleanup`."""
    with running_server(ReferenceServer(token=TOKEN["X-Auth-Token"])) as url, httpx.Client(timeout=10) as client:
        settings, ledger = _run_ledger(url, client, tmp_path)
        asked = named_create_body("vpn-made-later")
        ledger.note_create(json.loads(asked), None)  # no answer
        adopt_unsure_creates(ledger, settings, client, None)
        assert ledger.kept_for_unsure and ledger.unsure == 1  # not made yet
        made = _create(url, asked)  # the service catches up
        adopt_unsure_creates(ledger, settings, client, None)
        assert not ledger.kept_for_unsure and ledger.unsure == 0 and read_ledger(ledger.path).pending == {ledger.url(made): None}


def test_an_answer_that_says_what_happened_is_not_unsure(tmp_path):
    ledger = Ledger(tmp_path / "run-x.jsonl", "http://127.0.0.1:9", "p")
    body = json.loads(named_create_body("vpn-a"))
    assert ledger.note_create(body, 201, b'{"vpn_connection": {"id": "c1"}}') == "c1"
    ledger.note_create(body, 400, b'{"error_code": "VPN.0001"}')
    ledger.note_create(body, 429, b"")
    ledger.note_create(body, 504, b'{"error_code": "VPN.0014", "error_msg": "system busy"}')  # busy: nothing was done
    ledger.note_create(body, 307, b"")  # (a redirect elsewhere, not followed: send it there; nothing was done here)
    assert read_ledger(ledger.path).unsure == []
    for status, content in ((None, b""), (504, b"<html>"), (500, b'{"error_code": "VPN.0002"}'), (200, b"{}"), (303, b""),
                            (999, b"")):
        ledger.note_create(body, status, content)
    assert read_ledger(ledger.path).unsure == [sought(body)] * 6
    assert sought(body) == {key: body["vpn_connection"][key] for key in ("name", "vgw_id", "cgw_id", "peer_subnets")}


def test_a_gateway_that_cannot_be_listed_is_said_with_what_to_look_for(tmp_path):
    ledger = Ledger(tmp_path / "run-x.jsonl", "http://127.0.0.1:9", "p")
    settings = RunSettings(target="http://127.0.0.1:9", token="t")
    ledger.listed_before(None, settings)
    ledger.note_create(json.loads(named_create_body("vpn-lost")), None)
    with httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(404))) as client:
        said = adopt_unsure_creates(ledger, settings, client, None)
    assert said is not None and "could not be listed as the run began" in said and "(named vpn-lost)" in said


def test_vpnconn_cleanup_finds_what_a_killed_runs_unsure_creates_made(tmp_path: Path):
    app = ReferenceServer(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url, httpx.Client(timeout=10) as client:
        settings, ledger = _run_ledger(url, client, tmp_path)
        asked = named_create_body("vpn-killed")
        made = _create(url, asked)
        ledger.note_create(json.loads(asked), None)  # then the run was killed
        done = clean_leftovers(settings, url, client, tmp_path, progress=lambda _: None)
        assert done.deleted == [ledger.url(made)] and _ids(app) == set() and not ledger.path.exists()


def test_a_create_that_never_left_is_not_unsure(tmp_path):
    """A target that died mid-run refuses every later connection: those creates were never sent, so they made
    nothing (before, a dead target made 456 creates "unsure" and named their bodies for the user to look for). A
    connection cut after the request went (a reset, a read timeout) stays unsure."""
    import socket

    import requests

    from contract_tests.unsure_creates import never_sent

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connections are refused
    refused = []
    for attempt in (lambda: httpx.post(f"http://127.0.0.1:{port}/x", timeout=2),
                    lambda: requests.post(f"http://127.0.0.1:{port}/x", timeout=2)):
        try:
            attempt()
        except Exception as exc:  # noqa: BLE001 - whichever each client raises
            refused.append(exc)
    assert len(refused) == 2 and all(never_sent(exc) for exc in refused)
    cut = [httpx.RemoteProtocolError("Server disconnected without sending a response."), httpx.ReadTimeout("read"),
           requests.exceptions.ConnectionError(ConnectionResetError(104, "Connection reset by peer")),
           requests.exceptions.ReadTimeout("read")]
    assert not any(never_sent(exc) for exc in cut)
    ledger = Ledger(tmp_path / "run-x.jsonl", "http://127.0.0.1:9", "p")
    body = json.loads(named_create_body("vpn-a"))
    for exc in refused + cut:
        ledger.note_no_answer(body, exc)
    assert read_ledger(ledger.path).unsure == [sought(body)] * len(cut) and ledger.held() == len(cut)


class CreatesLater(ReferenceServer):
    """Answers a chosen create 504 APIG.0201 before the service has made the connection; the service makes it later
    (:meth:`catch_up`, after the run), as one slower than the whole run may, or never."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.late: list[bytes] = []

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        if chosen(raw) and b'"name"' in raw and raw not in self.late and not self.check.violations(json.loads(raw), self.world):
            self.late.append(raw)  # (a valid create: the service would make it)
            raise Reject(GATEWAY_TIMEOUT, "the service did not answer in time")
        return await super()._create_vpn_connection(params, headers, raw, request_id)

    def catch_up(self, url: str) -> set[str]:
        return {_create(url, raw) for raw in self.late}


INTERNAL_ERROR = {"status": 500, "error_code": "VPN.0500", "message": "Internal error: {detail}"}  # not busy: not asked again


class CannotListAfterUnsure(CreatesLater):
    """:class:`CreatesLater` whose list fails (500) while a create it answered 504 is not carried out yet: the run's
    last listing fails, and the one after the catch-up works."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.caught_up = False

    async def _list_vpn_connections(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        if self.late and not self.caught_up:
            raise Reject(INTERNAL_ERROR, "the list is down")
        return await super()._list_vpn_connections(params, headers, raw, request_id)

    def catch_up(self, url: str) -> set[str]:
        self.caught_up = True
        return super().catch_up(url)


def _unsure_run(url: str, tmp_path: Path) -> tuple[RunSettings, Any, list[Path]]:
    """A run of the rules phase against ``url``, its ledger in ``tmp_path``: its settings, result and the ledgers kept."""
    settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("rules",), ledger_dir=str(tmp_path))
    return settings, run_contract(settings, progress=lambda _: None, live=False), list(tmp_path.iterdir())


def _unsure_run_then_cleanup(tmp_path: Path, made_later: bool) -> tuple[Any, list[str], CreatesLater, set[str]]:
    app = CreatesLater(token=TOKEN["X-Auth-Token"])
    said: list[str] = []
    with running_server(app) as url, httpx.Client(timeout=10) as client:
        settings, result, kept = _unsure_run(url, tmp_path)
        made = app.catch_up(url) if made_later else set()
        done = clean_leftovers(settings, url, client, tmp_path, progress=said.append)
        left = _ids(app)
    assert app.late and len(kept) == 1 and not list(tmp_path.iterdir())  # kept by the run; removed by the last look
    note = next(n for n in result.notes if "not found yet" in n)
    assert f"{len(app.late)} of them not found yet" in note and "`vpnconn cleanup`" in note and str(kept[0]) in note
    assert result.exit_code == 0 and left == set() and {u.rsplit("/", 1)[-1] for u in done.deleted} == made
    return result, said, app, made


def test_an_unsure_create_not_found_at_the_end_keeps_the_ledger_and_cleanup_finds_what_was_made_later(tmp_path):
    _, said, app, made = _unsure_run_then_cleanup(tmp_path, made_later=True)
    assert len(made) == len(app.late) and any(f"{len(made)} connection(s) the target made for them found" in s for s in said)


def test_an_unsure_create_never_carried_out_gets_one_last_look_and_no_more(tmp_path):
    _, said, app, made = _unsure_run_then_cleanup(tmp_path, made_later=False)
    assert not made and any(f"{len(app.late)} of them not found, none made or not yet: this was the last look" in s for s in said)


def test_cleanup_of_one_target_leaves_another_targets_ledger_of_unsure_creates(tmp_path):
    other = Ledger.new("http://127.0.0.1:9", "p", tmp_path)
    other.listed_before([], RunSettings(target="http://127.0.0.1:9", token="t"))
    other.note_create(json.loads(named_create_body("vpn-elsewhere")), None)
    with running_server(ReferenceServer(token=TOKEN["X-Auth-Token"])) as url, httpx.Client(timeout=10) as client:
        settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"])
        done = clean_leftovers(settings, url, client, tmp_path, progress=lambda _: None)
    assert done.deleted == [] and other.path.exists() and read_ledger(other.path).sought


def test_a_gateway_that_cannot_be_listed_at_the_end_keeps_the_ledger_for_cleanup(tmp_path):
    """The run's last listing fails (500), so what its unsure creates made cannot be looked for: the ledger is kept
    (it was removed when nothing else was pending, and the connections the service made were left, billed), and
    `vpnconn cleanup` finds and deletes them once the gateway lists again. A cleanup whose listing fails too keeps
    the ledger and says so (exit 1 in the command)."""
    app = CannotListAfterUnsure(token=TOKEN["X-Auth-Token"])
    said: list[str] = []
    with running_server(app) as url, httpx.Client(timeout=10) as client:
        settings, result, kept = _unsure_run(url, tmp_path)
        still_down = clean_leftovers(settings, url, client, tmp_path, progress=said.append)
        made = app.catch_up(url)
        done = clean_leftovers(settings, url, client, tmp_path, progress=said.append)
        left = _ids(app)
    note = next(n for n in result.notes if "could not be listed to find what they made" in n)
    assert app.late and len(kept) == 1 and str(kept[0]) in note and "`vpnconn cleanup`" in note
    assert still_down.unlooked == kept and not still_down.deleted and "1 ledger(s) kept" in still_down.summary()
    assert any("the next `vpnconn cleanup` looks again" in s for s in said)
    assert made and {u.rsplit("/", 1)[-1] for u in done.deleted} == made and left == set()
    assert not done.unlooked and not list(tmp_path.iterdir())  # found and deleted: the ledger is removed


class NeverLists(ReferenceServer):
    async def _list_vpn_connections(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        raise Reject(INTERNAL_ERROR, "the list is down")


def test_vpnconn_cleanup_that_cannot_look_exits_1_and_keeps_the_ledger(tmp_path):
    """Before, it said "no connection left by an earlier run", exited 0 and removed the ledger, with nothing looked at."""
    with running_server(NeverLists(token=TOKEN["X-Auth-Token"])) as url:
        ledger = Ledger.new(url, "0123456789abcdef0123456789abcdef", tmp_path)
        ledger.listed_before([], RunSettings(target=url, token="t"))
        ledger.note_create(json.loads(named_create_body("vpn-unlooked")), None)
        done = subprocess.run([sys.executable, "-m", "commands.cli", "cleanup", "--target", url, "--ledger-dir",
                               str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "VPNCONN_TOKEN": TOKEN["X-Auth-Token"]})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 ledger(s) kept" in done.stdout and str(ledger.path) in done.stdout and "(named vpn-unlooked)" in done.stdout
    assert ledger.path.exists() and "Traceback" not in done.stderr


def test_with_one_customer_gateway_what_a_gateway_timeout_made_is_found_as_the_run_makes_room():
    """With the user's customer gateway the run holds one connection: a create answered 504 after the service made its
    connection held that room until the end, and every later create was not sent (151 of a default run against a
    server doing so for one valid create in 25). Now the run looks for it as it makes room, deletes it, and goes on."""
    app = TimesOutAfterCreating(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("rules",),
                                          cgw_id="11111111-2222-4333-8444-555555555555"), progress=lambda _: None, live=False)
        assert not _ids(app)  # (every connection it made found and deleted)
    timed_out = [r for r in result.records if r.status == 504]
    assert len(timed_out) >= 3 and result.exit_code == 0 and not result.violations
    assert not any("could create were not sent" in note for note in result.notes)
    assert found_in_notes(result) == (len(timed_out), 0)


# ------------------------------------------------------------------------------------------ refused creates

REFUSED = {"status": 400, "error_code": "VPN.0001", "message": "invalid request: {detail}"}


class StoresThenRefuses(ReferenceServer):
    """Carries out every create, and answers a chosen valid one 400 all the same: a server that validates after it has
    stored the connection (the fault rejects-dotted-names does so for names with a dot)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.refused_made: list[str] = []  # the ids of the connections it made and refused

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        status, body = await super()._create_vpn_connection(params, headers, raw, request_id)
        if status == 201 and chosen(raw) and b'"name"' in raw:
            self.refused_made.append(json.loads(body)["vpn_connection"]["id"])
            raise Reject(REFUSED, "refused after the write")
        return status, body


def test_what_creates_the_target_refused_made_all_the_same_is_found_and_deleted():
    """Before, each connection such a server made for a create it refused was left behind (billed on a real account):
    a default run against the fault rejects-dotted-names left 1. Now the run lists its gateway once more at its end and
    deletes what a refused create made, and says so; the refusals are still caught."""
    app = StoresThenRefuses(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        before = {_create(url, named_create_body(name)) for name in ("vpn-1655", "someone-elses")}
        settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("rules",))
        result = run_contract(settings, progress=lambda _: None, live=False)
        assert _ids(app) == before  # what the refused creates made is gone, what was there stays
    assert len(app.refused_made) >= 3  # (several: which creates it refuses follows the bytes of the phase's cases)
    assert result.exit_code == 1 and {f.check for r in result.violations for f in r.failures} == {"positive_data_acceptance"}
    said = [n for n in result.notes if "made by creates the target refused (4xx) found on the gateway" in n]
    assert said and said[0].startswith(f"{len(app.refused_made)} connection(s)"), result.notes


def test_only_a_new_unknown_connection_with_what_a_refused_create_gave_is_the_runs(tmp_path):
    """The other way, on a live server: a connection with the same fields before the run, another client's during it,
    one the run knows by id, and what a busy refusal (429: asked again, not a refusal) or the refusal of a case the
    run holds invalid asked for, are never taken for what a refused create made; the connection it made is."""
    app = ReferenceServer(token=TOKEN["X-Auth-Token"], quotas=False)
    with running_server(app) as url, httpx.Client(timeout=10) as client:
        settings, ledger = _run_ledger(url, client, tmp_path)
        assert adopt_refused_creates(ledger, settings, client, None) is None  # (nothing refused: not even listed)
        asked, busy, negative = (named_create_body(name) for name in ("vpn-refused", "vpn-throttled", "vpn-negative"))
        there_before = _create(url, asked)
        settings, ledger = _run_ledger(url, client, tmp_path)
        made = _create(url, asked)  # the refused create, carried out
        create_answered(None, ledger, json.loads(asked), 400, b'{"error_code": "VPN.0001", "error_msg": "invalid"}', lambda: True)
        create_answered(None, ledger, json.loads(busy), 429, b'{"error_code": "VPN.0429", "error_msg": "throttled"}', lambda: True)
        create_answered(None, ledger, json.loads(negative), 400, b'{"error_code": "VPN.0001"}', lambda: False)
        throttled = _create(url, busy)  # (made by another client, say: a throttled create made nothing of the run's)
        invalid_too = _create(url, negative)  # (a case the run holds invalid: a server that makes such is not looked for)
        elsewhere = _create(url, named_create_body("vpn-another-client"))
        known = _create(url, asked)
        ledger.created(known)
        said = adopt_refused_creates(ledger, settings, client, None)
        assert read_ledger(ledger.path).pending == {ledger.url(known): None, ledger.url(made): None}
        assert said == ("1 connection(s) made by creates the target refused (4xx) found on the gateway, deleted with the "
                        "rest: a refused create is expected to make nothing (named vpn-refused)")
        assert {there_before, elsewhere, throttled, invalid_too} <= _ids(app)


def test_vpnconn_cleanup_finds_what_a_killed_runs_refused_creates_made_and_looks_once(tmp_path: Path):
    """A run killed before its end never looked for what the creates the target refused made: that was kept in memory
    only. Now the ledger keeps it, and `vpnconn cleanup` looks (deleting what such a create made, not another client's
    connection); the other way, once a look was made for them (the run's end, or a cleanup), none is made again: a
    connection with the same fields made later is another client's."""
    refusal = b'{"error_code": "VPN.0001", "error_msg": "invalid"}'
    app = ReferenceServer(token=TOKEN["X-Auth-Token"], quotas=False)
    with running_server(app) as url, httpx.Client(timeout=10) as client:
        settings, ledger = _run_ledger(url, client, tmp_path)
        asked = named_create_body("vpn-refused-killed")
        made = _create(url, asked)  # the refused create, carried out
        create_answered(None, ledger, json.loads(asked), 400, refusal, lambda: True)  # then the run was killed
        elsewhere = _create(url, named_create_body("vpn-another-client"))
        said: list[str] = []
        done = clean_leftovers(settings, url, client, tmp_path, progress=said.append)
        assert done.deleted == [ledger.url(made)] and _ids(app) == {elsewhere} and not ledger.path.exists()
        assert any("1 connection(s) made by creates the target refused (4xx)" in line for line in said), said

        settings, ledger = _run_ledger(url, client, tmp_path)
        create_answered(None, ledger, json.loads(asked), 400, refusal, lambda: True)
        assert adopt_refused_creates(ledger, settings, client, None) is None  # (the run's own look: nothing made)
        later = _create(url, asked)  # another client's, with the same fields, after the run looked
        ledger.created(_create(url, named_create_body("vpn-left-pending")))  # (the ledger stays for cleanup)
        clean_leftovers(settings, url, client, tmp_path, progress=lambda _: None)
        assert later in _ids(app) and not ledger.path.exists()


def test_a_correct_server_that_refuses_makes_nothing_to_find(other_choices_run):
    """The correct-but-different server refuses many creates (every negative case): none of them made anything."""
    assert not [n for n in other_choices_run.notes if "made by creates the target refused" in n]
    assert other_choices_run.exit_code == 0


def test_what_an_unsure_create_made_is_found_however_the_list_gives_its_subnets():
    """A gateway's list may give a connection's subnets in another order, a subnet sent twice once (contract_tests.listing):
    it is the same connection. Before, a subnet sent twice and listed once was not found, and what it made was left."""
    asked = sought({"vpn_connection": {"name": "unsure-1", "peer_subnets": ["192.168.2.0/24", "192.168.1.0/24", "192.168.1.0/24"]}})
    assert shows({"name": "unsure-1", "peer_subnets": ["192.168.1.0/24", "192.168.2.0/24"]}, asked)
    assert shows({"name": "unsure-1", "peer_subnets": ["192.168.2.0/24", "192.168.1.0/24", "192.168.1.0/24"], "id": "x"}, asked)
    assert not shows({"name": "unsure-1", "peer_subnets": ["192.168.1.0/24"]}, asked)
    assert not shows({"name": "unsure-2", "peer_subnets": ["192.168.1.0/24", "192.168.2.0/24"]}, asked)
    assert not shows({"name": "unsure-1"}, asked)
