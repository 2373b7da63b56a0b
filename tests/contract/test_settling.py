"""A create or an update may take a while: the show answers PENDING_CREATE or PENDING_UPDATE until the connection is
ACTIVE or DOWN, and the Terraform provider waits for that after each before anything else. Before an update and
before the delete, the lifecycle phase shows a connection the last show or list found pending again, at growing
intervals, until it has another status; one pending after SETTLE_WAIT is a divergence (connection_settles: no
source says how long) and its sequence ends. Each case here is a scripted target (an httpx mock transport); end to
end, the correct-but-different server stays pending for a few reads and refuses an update meanwhile, and passes
(tests/contract/test_verdicts.py)."""

from __future__ import annotations

import itertools
import json

import httpx
import pytest
from support import SCRIPTED_ID, named_create_body, scripted_lifecycle, shown

from contract_tests import lifecycle_phase
from contract_tests.lifecycle_phase import Seen
from contract_tests.pacing import Patience, growing_pauses, send
from contract_tests.records import DIVERGENCE
from vpnconn import load_spec


def settle_against(last_seen: str, shows: list[str], tmp_path) -> tuple[bool, Seen, int]:
    """Wait for a connection last seen with status ``last_seen`` on a target whose shows answer ``shows`` in turn
    (the last one for ever): settled or not, what the sequence saw, and how many shows it sent."""
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return shown(shows[min(len(sent), len(shows)) - 1])

    with scripted_lifecycle(answer, tmp_path) as phase:
        seen = Seen("static", {"vpn_connection": {}}, status=last_seen)
        settled = phase._settled(seen, SCRIPTED_ID)
    return settled, seen, len(sent)


@pytest.fixture(autouse=True)
def quick_waits(monkeypatch):
    monkeypatch.setattr(lifecycle_phase, "SETTLE_WAIT", 0.5)
    monkeypatch.setattr(lifecycle_phase, "FIRST_PAUSE", 0.05)


def test_a_connection_that_settles_in_a_while_is_waited_for(tmp_path):
    settled, seen, shows = settle_against("PENDING_CREATE", ["PENDING_CREATE", "PENDING_CREATE", "ACTIVE"], tmp_path)
    assert settled and seen.status == "ACTIVE" and shows == 3
    assert [r.labels for r in seen.records] == [["static: show until settled"]] * 3
    assert all(not r.failures for r in seen.records)


@pytest.mark.parametrize("status", ["ACTIVE", "DOWN", None])
def test_a_connection_not_pending_is_not_shown_again(tmp_path, status):
    settled, seen, shows = settle_against(status, ["PENDING_UPDATE"], tmp_path)
    assert settled and shows == 0 and seen.records == []


def test_an_update_that_ends_in_down_ends_the_wait(tmp_path):
    settled, seen, _ = settle_against("PENDING_UPDATE", ["PENDING_UPDATE", "DOWN"], tmp_path)
    assert settled and seen.status == "DOWN"


@pytest.mark.parametrize("status", ["ERROR", "FREEZED", "UNKNOWN"])
def test_a_connection_in_error_is_not_updated_and_that_is_a_divergence(tmp_path, status):
    """The Terraform provider stops at ERROR; no source says what an update of such a connection gets."""
    settled, seen, _ = settle_against("PENDING_CREATE", ["PENDING_CREATE", status], tmp_path)
    assert not settled and seen.status is None  # (said once: the delete does not say it again)
    assert [(f.check, f.severity) for r in seen.records for f in r.failures] == [("connection_usable", DIVERGENCE)]
    assert status in seen.records[-1].failures[0].message


def test_a_whole_sequence_stops_before_the_update_of_a_connection_in_error(tmp_path):
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if request.method == "DELETE":
            return httpx.Response(204, headers={"X-Request-Id": "r"})
        if request.url.path.endswith("vpn-connection"):
            listed = shown("ERROR").json()
            page = {"vpn_connections": [listed["vpn_connection"]], "page_info": {"current_count": 1}, "total_count": 1,
                    "request_id": listed["request_id"]}
            return httpx.Response(200, json=page, headers={"X-Request-Id": listed["request_id"]})
        return shown("ERROR") if sent.count("DELETE") == 0 else httpx.Response(404, json={
            "error_code": "VPN.0004", "error_msg": "gone", "request_id": "r"}, headers={"X-Request-Id": "r"})

    created = shown("ERROR").json()["vpn_connection"]
    del created["status"]
    with scripted_lifecycle(answer, tmp_path) as phase:
        seen = phase._sequence(Seen("static", {"vpn_connection": {}}, connection=created), SCRIPTED_ID)
        findings = [(f.check, f.severity) for r in seen.records for f in r.failures]
        phase._deleted(seen, SCRIPTED_ID)
    assert sent[:2] == ["GET", "GET"] and "PUT" not in sent and "DELETE" in sent  # (show, list; no update)
    assert findings == [("connection_usable", DIVERGENCE)]


def test_a_connection_pending_for_ever_is_a_divergence_and_not_waited_for_twice(tmp_path):
    settled, seen, shows = settle_against("PENDING_UPDATE", ["PENDING_UPDATE"], tmp_path)
    assert not settled and seen.status is None  # unknown: the delete after it does not wait again
    assert 2 < shows < 20  # growing intervals, for SETTLE_WAIT
    findings = [(f.check, f.severity) for r in seen.records for f in r.failures]
    assert findings == [("connection_settles", DIVERGENCE)]
    assert "still answers status PENDING_UPDATE" in seen.records[-1].failures[0].message
    assert "Terraform provider waits" in seen.records[-1].failures[0].provenance.why


def test_the_correct_but_different_server_refuses_an_update_until_the_create_has_ended():
    """What the lifecycle waits for on it: without the wait, its update would be refused."""
    from reference_server.embedded import running_server
    from reference_server.variants import SETTLING_READS, OtherChoicesServer, busy_at_first

    spec = load_spec()
    project = "0123456789abcdef0123456789abcdef"
    body = next(raw for n in range(100) if not busy_at_first(spec.create.id, {"project_id": project, "query": ""},
                                                             raw := named_create_body(f"settling-{n}")))
    headers = {"X-Auth-Token": "t", "Content-Type": "application/json"}
    with running_server(OtherChoicesServer(token="t")) as url, httpx.Client() as client:
        def ask(method: str, where: str, content: bytes | None = None) -> httpx.Response:
            return send(client, None, method, where, content, headers)  # (it is busy now and then: asked again)

        created = ask("POST", spec.create.url(url, project_id=project), body)
        show = spec.operation_by_id("ShowVpnConnection").url(url, project_id=project,
                                                             vpn_connection_id=created.json()["vpn_connection"]["id"])
        update = json.dumps({"vpn_connection": {"name": "settled"}}).encode()
        statuses = [ask("GET", show).json()["vpn_connection"]["status"] for _ in range(SETTLING_READS + 1)]
        refused = ask("PUT", show, update)
        settled = ask("GET", show).json()["vpn_connection"]["status"]
        accepted = ask("PUT", show, update)
    assert created.status_code == 201 and statuses == ["PENDING_CREATE"] * (SETTLING_READS + 1)
    assert (refused.status_code, settled, accepted.status_code) == (409, "ACTIVE", 200)



def test_every_wait_asks_again_after_pauses_that_double_up_to_a_cap():
    """The settle and deletion waits, the cleanup's busy deletes and its wait until gone all pause so."""
    assert list(itertools.islice(growing_pauses(0.1, 0.5), 6)) == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]


def test_a_wait_is_over_at_its_limit_counted_from_its_start(monkeypatch):
    """Patience: the lifecycle's settle, listing and deletion waits and the cleanup's busy deletes, each one."""
    from contract_tests import pacing

    now, slept, said = [100.0], [], []
    monkeypatch.setattr(pacing.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(pacing.time, "sleep", lambda seconds: (slept.append(seconds), now.__setitem__(0, now[0] + seconds)))
    patience = Patience(limit=1.0, first=0.25, longest=0.5)
    assert not patience.over() and patience.waited() == 0
    patience.pause(said.append)
    patience.pause()
    assert (slept, said, patience.waited(), patience.over()) == ([0.25, 0.5], [0.25], 0.75, False)
    patience.pause()
    assert patience.over() and patience.waited() == 1.25
