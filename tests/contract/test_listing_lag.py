"""A connection just created may be listed a little later: the list documents the gateway's connections, and no
source says how soon a new one is among them; a list read from an index or a replica lags the store it reads. The
lifecycle lists again, at growing intervals, for up to LISTING_WAIT seconds: a connection listed then is a
divergence (``listed_later``, inferred); one never listed is ``list_contains_connection``'s violation, as the fault
``list-omits-newest`` also proves (tests/contract/test_faults.py). Before, a server whose list showed a connection
two seconds after its create FAILED: 3 violation cases of a default run ("Connection not listed", the rewrite
server's mode listed-later under /tmp/extra)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
import pytest
from support import SCRIPTED_ID, TOKEN

from contract_tests import RunSettings, lifecycle_phase, run_contract
from contract_tests.lifecycle_phase import Seen
from contract_tests.records import DIVERGENCE, VIOLATION
from reference_server.embedded import running_server
from reference_server.faults import Fault, FaultyServer
from vpnconn import load_spec

GATEWAY = "b32d91a4-52c8-4b17-a8df-e907174eb11d"
ANOTHER = "5e1b4b6f-0c1e-4a7e-9d57-3f0c7a1d2b44"  # another connection of the gateway


@pytest.fixture(autouse=True)
def quick_waits(monkeypatch):
    monkeypatch.setattr(lifecycle_phase, "LISTING_WAIT", 0.4)
    monkeypatch.setattr(lifecycle_phase, "FIRST_PAUSE", 0.05)


def shown(connection_id: str) -> dict[str, Any]:
    """The show's example connection, as ``connection_id`` of GATEWAY, ACTIVE."""
    example = next(iter(load_spec().examples("200", "ShowVpnConnection").values()))
    return {**json.loads(json.dumps(example["vpn_connection"])), "id": connection_id, "vgw_id": GATEWAY,
            "status": "ACTIVE"}


def listed(*ids: str) -> httpx.Response:
    """A list answer that holds the connections ``ids``, each as the show's example shows it."""
    items = [shown(i) for i in ids]
    body = {"vpn_connections": items, "page_info": {"current_count": len(items)}, "total_count": len(items),
            "request_id": "r-1"}
    return httpx.Response(200, json=body, headers={"X-Request-Id": "r-1"})


def list_against(answers: list[httpx.Response], tmp_path) -> tuple[Seen, int]:
    """The lifecycle's list step, for a connection of GATEWAY, against a target whose lists answer ``answers`` in turn
    (the last one for ever): what the sequence saw, and how many lists it sent."""
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return answers[min(len(sent), len(answers)) - 1]

    from support import scripted_lifecycle
    with scripted_lifecycle(answer, tmp_path) as phase:
        seen = Seen("static", {"vpn_connection": {}}, connection=shown(SCRIPTED_ID))
        assert phase._list(seen, SCRIPTED_ID)
    assert all(f"vgw_id={GATEWAY}" in url for url in sent)
    return seen, len(sent)


def findings(seen: Seen) -> list[tuple[int, str, str]]:
    return [(n, f.check, f.severity) for n, record in enumerate(seen.records) for f in record.failures]


def test_a_connection_listed_at_once_is_listed_once(tmp_path):
    seen, lists = list_against([listed(ANOTHER, SCRIPTED_ID)], tmp_path)
    assert lists == 1 and findings(seen) == [] and seen.status == "ACTIVE"


def test_a_connection_listed_a_little_later_is_a_divergence_said_of_the_first_list(tmp_path):
    seen, lists = list_against([listed(), listed(ANOTHER), listed(SCRIPTED_ID)], tmp_path)
    assert lists == 3 and [r.labels for r in seen.records] == [["static: list"]] + [["static: list until listed"]] * 2
    assert findings(seen) == [(0, "listed_later", DIVERGENCE)]
    assert "a list" in seen.records[0].failures[0].message and "s later does" in seen.records[0].failures[0].message
    assert seen.status == "ACTIVE"  # (read from the list that holds it)


def test_a_connection_never_listed_is_a_violation_once_the_wait_is_over(tmp_path):
    seen, lists = list_against([listed(ANOTHER)], tmp_path)
    assert lists > 2  # (asked again until LISTING_WAIT)
    assert findings(seen) == [(0, "list_contains_connection", VIOLATION)]
    assert "nor did it" in seen.records[0].failures[0].message


def test_a_list_that_answers_another_status_while_waiting_ends_the_step(tmp_path):
    refused = httpx.Response(500, json={"error_code": "VPN.0002", "error_msg": "internal", "request_id": "r"},
                             headers={"X-Request-Id": "r"})
    seen, lists = list_against([listed(), refused], tmp_path)
    assert lists == 2 and [(n, c) for n, c, _ in findings(seen)] == [(1, "lifecycle_status")]


def late_listing(hidden_for: int):
    """An answer edit: a list leaves each connection out of the first ``hidden_for`` list answers that would hold it
    (counted per connection, whoever asked: the same at any concurrency)."""
    times: Counter[str] = Counter()

    def edit(answer: tuple[int, dict[str, str], Any], request: Any) -> tuple[int, dict[str, str], Any]:
        body = answer[2]
        if isinstance(body, dict) and isinstance(body.get("vpn_connections"), list):
            kept = []
            for item in body["vpn_connections"]:
                times[item["id"]] += 1
                if times[item["id"]] > hidden_for:
                    kept.append(item)
            body["page_info"]["current_count"] = len(kept)
            body["total_count"] -= len(body["vpn_connections"]) - len(kept)
            body["vpn_connections"] = kept
        return answer
    return edit


@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_server_that_lists_new_connections_late_passes_with_the_divergence(concurrency):
    app = FaultyServer(Fault("listed-late", "lists a connection from its third list on", (), edit_answer=late_listing(2)),
                       token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("lifecycle",),
                                          concurrency=concurrency), progress=lambda _: None, live=False)
    late = [f for r in result.divergences for f in r.failures if f.check == "listed_later"]
    assert late and all(f.provenance is not None and not f.provenance.documented for f in late)
    assert not result.violations and result.exit_code == 0
