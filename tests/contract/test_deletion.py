"""A deletion may take a while: after its 204, a show may answer the connection with status PENDING_DELETE until
it is gone (the SDK's status; the Terraform provider polls the show until 404). The lifecycle phase asks again at
growing intervals: a deletion that ends passes, one still pending after DELETION_WAIT is a divergence (no
source says how long), a connection shown with any other status is a violation. Each case here is a scripted
target (an httpx mock transport); end to end, the correct-but-different server deletes in a while
(tests/contract/test_verdicts.py)."""

from __future__ import annotations

import httpx
import pytest
from support import SCRIPTED_ID, scripted_lifecycle, shown

from contract_tests import lifecycle_phase
from contract_tests.lifecycle_phase import Seen
from contract_tests.records import DIVERGENCE, VIOLATION
from vpnconn import load_spec

CONNECTION_ID = SCRIPTED_ID


def gone() -> httpx.Response:
    body = {"error_code": "VPN.0004", "error_msg": "resource not found: x", "request_id": "r-404"}
    return httpx.Response(404, json=body, headers={"X-Request-Id": "r-404"})


def delete_against(shows: list[httpx.Response], tmp_path) -> list:
    """Delete the connection on a target whose shows answer ``shows`` in turn (the last one for ever); the
    sequence's records, as (method, status, [(check, severity)])."""
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if request.method == "DELETE":  # the first delete succeeds; the one after the deletion finds nothing
            return gone() if sent.count("DELETE") > 1 else httpx.Response(204, headers={"X-Request-Id": "r-204"})
        return shows[min(sent.count("GET"), len(shows)) - 1]

    with scripted_lifecycle(answer, tmp_path) as phase:
        seen = Seen("static", {"vpn_connection": {}})
        phase._delete(seen, CONNECTION_ID)
    return [(r.method, r.status, [(f.check, f.severity) for f in r.failures]) for r in seen.records]


@pytest.fixture(autouse=True)
def quick_waits(monkeypatch):
    monkeypatch.setattr(lifecycle_phase, "DELETION_WAIT", 0.5)
    monkeypatch.setattr(lifecycle_phase, "FIRST_PAUSE", 0.05)


def test_a_deletion_that_takes_a_while_passes(tmp_path):
    records = delete_against([shown("PENDING_DELETE"), shown("PENDING_DELETE"), gone()], tmp_path)
    assert records == [("DELETE", 204, []), ("GET", 200, []), ("GET", 200, []), ("GET", 404, []), ("DELETE", 404, [])]


def test_a_deletion_that_never_ends_is_a_divergence(tmp_path):
    records = delete_against([shown("PENDING_DELETE")], tmp_path)
    assert records[0] == ("DELETE", 204, [])
    assert all(method == "GET" and status == 200 for method, status, _ in records[1:])
    assert len(records) >= 4  # asked again, at growing intervals, until the wait was over
    assert [failures for _, _, failures in records[1:]] == [[]] * (len(records) - 2) + [[("deletion_finishes", DIVERGENCE)]]


@pytest.mark.parametrize("status", ["ACTIVE", "PENDING_UPDATE"])
def test_a_deleted_connection_shown_with_another_status_is_a_violation(status, tmp_path):
    records = delete_against([shown(status)], tmp_path)
    assert records == [("DELETE", 204, []), ("GET", 200, [("deleted_connection_gone", VIOLATION)])]


def test_the_statuses_waited_for_are_ones_the_spec_gives():
    """A name the spec's status enum does not give would never be answered, and the wait would never happen."""
    spec = load_spec()
    status = spec.resolve(spec.schema("ResponseVpnConnection")["properties"]["status"])
    assert {lifecycle_phase.PENDING_DELETE, *lifecycle_phase.SETTLING} <= set(status["enum"])


def test_a_deleted_connection_gone_at_once_passes(tmp_path):
    assert delete_against([gone()], tmp_path) == [("DELETE", 204, []), ("GET", 404, []), ("DELETE", 404, [])]
