"""A target's clock may be coarser than the time between two changes: a store that keeps seconds writes every stamp
``.000Z``, and an update within the second of the last change keeps its ``updated_at``. That is a divergence
(``updated_at_moves_on``, inferred: no source says how fine the clock is); where the stamps have milliseconds, the
clock is that fine, and an ``updated_at`` that did not move on is a violation (``update_applies_changes``), as the
fault ``update-keeps-updated-at`` also proves. Before, a target with a clock of one second FAILED: 3 violation cases
of a default run ("updated_at '...:50.000Z' did not advance from '...:50.000Z'", /tmp/extra/second_clock_server.py).

A clock read twice on create writes an ``updated_at`` a little after the ``created_at``: the examples give the two
equal, no page says they are (``updated_at_equal_on_create``, inferred), so that is a divergence; an ``updated_at``
before the creation is a violation (the fault ``updated-before-created``). The correct-but-different server makes
the first choice (tests/contract/test_verdicts.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from support import TOKEN

from contract_tests import RunResult, RunSettings, run_contract
from contract_tests.checks import UPDATED_EQUAL_ON_CREATE, Answer, run_checks
from contract_tests.records import DIVERGENCE, VIOLATION
from contract_tests.verdicts import response_provenance
from reference_server import ReferenceServer
from reference_server.embedded import running_server
from reference_server.faults import Fault, FaultyServer
from vpnconn import load_spec


def stopped_clock(stamp: str):
    """An answer edit: every ``created_at`` and ``updated_at`` the answer holds, at any depth, reads ``stamp``."""
    def edit(answer: tuple[int, dict[str, str], Any], request: Any) -> tuple[int, dict[str, str], Any]:
        todo = [answer[2]]
        while todo:
            node = todo.pop()
            if isinstance(node, dict):
                node.update({k: stamp for k in ("created_at", "updated_at") if k in node})
                todo += node.values()
            elif isinstance(node, list):
                todo += node
        return answer
    return edit


def lifecycle_with_clock(stamp: str) -> RunResult:
    """The lifecycle phase against the reference server whose clock reads ``stamp`` all along."""
    app = FaultyServer(Fault("stopped-clock", f"its clock reads {stamp}", (), edit_answer=stopped_clock(stamp)),
                       token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        return run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("lifecycle",)),
                            progress=lambda _: None, live=False)


def test_a_clock_that_keeps_seconds_is_a_divergence_where_an_update_keeps_updated_at():
    result = lifecycle_with_clock("2026-01-01T00:00:00.000Z")
    kept = [f for r in result.divergences for f in r.failures if f.check == "updated_at_moves_on"]
    assert len(kept) == 3 and "may come from a clock that keeps seconds" in kept[0].message  # (one update per style)
    assert not result.violations and result.exit_code == 0


def test_a_clock_with_milliseconds_whose_updated_at_does_not_move_on_is_a_violation():
    result = lifecycle_with_clock("2026-01-01T00:00:00.123Z")
    findings = [(f.check, f.message) for r in result.violations for f in r.failures]
    assert {check for check, _ in findings} == {"update_applies_changes"}
    assert all("did not advance" in message for _, message in findings) and result.exit_code == 1


# ------------------------------------------------------------------------------ stamps in another page's form

TIMESTAMPS = "timestamps_with_milliseconds"
SCHEMA_CHECKS = {"lifecycle_response_schema", "response_schema_conformance"}  # (an answer's schema, by phase)


def divergences_for_the_form(result: RunResult) -> list:
    """The schema findings of ``result`` that rest on the form the zh list and show pages give a stamp."""
    why = load_spec().check_provenance(TIMESTAMPS).why or ""
    return [f for r in result.records for f in r.failures if f.provenance is not None and why in (f.provenance.why or "")]


@pytest.mark.parametrize("stamp", ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00"])  # (older zh copies: without the Z)
def test_stamps_in_whole_seconds_as_the_zh_pages_give_them_are_a_divergence(stamp):
    result = lifecycle_with_clock(stamp)
    form = divergences_for_the_form(result)
    assert {f.severity for f in form} == {DIVERGENCE} and {f.check for f in form} <= SCHEMA_CHECKS
    assert any("created_at" in f.message for f in form)
    # a clock of whole seconds: an update within the second keeps updated_at, as with .000Z
    assert len([f for r in result.divergences for f in r.failures if f.check == "updated_at_moves_on"]) == 3
    assert not result.violations and result.exit_code == 0


@pytest.mark.parametrize("stamp, documented", [
    ("2026-01-01T00:00:00Z", False), ("2026-01-01T00:00:00", False),  # the zh list and show pages' form: a divergence
    ("2026-01-01T08:00:00.000+08:00", True), ("2026-01-01 00:00:00.000Z", True), ("1767225600", True),  # no page's
    ("2026-01-01T00:00:00.000", True), ("2026-01-01T00:00Z", True),
])
def test_a_create_answer_stamped_in_a_form_no_page_gives_is_a_violation(stamp, documented):
    """(The fault stamps-in-local-time proves it in a run: tests/contract/test_faults.py.)"""
    answer, _ = create_answer(stamp, stamp)
    provenance = response_provenance(answer.status, answer.content)
    assert provenance.documented is documented
    if not documented:
        assert provenance.why == load_spec().check_provenance(TIMESTAMPS).why


# ------------------------------------------------------------------------------------------ a clock read twice

def create_answer(created_at: str, updated_at: str) -> tuple[Answer, dict]:
    """The reference server's 201 to the spec's static example, stamped ``created_at`` and ``updated_at``."""
    sent = copy.deepcopy(load_spec().examples("request")["static"])
    connection = {**ReferenceServer().respond(copy.deepcopy(sent)), "created_at": created_at, "updated_at": updated_at}
    body = json.dumps({"vpn_connection": connection, "request_id": "r-1"}).encode()
    return Answer(201, {"X-Request-Id": "r-1"}, body), sent


@pytest.mark.parametrize("updated_at, severity", [
    ("2026-01-01T00:00:00.123Z", None),  # equal, as every example writes them
    ("2026-01-01T00:00:00.124Z", DIVERGENCE),  # a millisecond later: a clock read twice (updated_at_equal_on_create)
    ("2026-01-01T00:00:01.000Z", DIVERGENCE),
    ("2026-01-01T00:00:00.122Z", VIOLATION),  # earlier than the creation: no time of a last update
    ("not a time", VIOLATION),
])
def test_a_create_answered_with_a_later_updated_at_is_a_divergence_and_an_earlier_one_a_violation(updated_at, severity):
    found = run_checks(*create_answer("2026-01-01T00:00:00.123Z", updated_at), only=("timestamps_consistent",))
    assert [f.severity for f in found] == ([severity] if severity else [])
    if severity == DIVERGENCE:
        assert found[0].rule == UPDATED_EQUAL_ON_CREATE and "later than created_at" in found[0].message
