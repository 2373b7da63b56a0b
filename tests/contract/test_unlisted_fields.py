"""An answer may carry a field the spec does not list: the sources list each answer's fields and never say that no
other comes, and answers gain fields between versions. Such an answer is a divergence (the spec's
``answers_without_unlisted_fields`` is inferred), never a violation, and the lifecycle goes on with it; what a
source says an answer never carries (the psk anywhere; status, connection_monitor_id and bgp_peer in the create
answer) stays a violation. Here scripted targets (an httpx mock transport) answer one show or one create; end to
end, the correct-but-different server answers a field no source lists everywhere (tests/contract/test_verdicts.py),
and the faults extra-status-field, psk-leaked and show-leaks-psk are still caught (tests/contract/test_faults.py)."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import httpx
from support import scripted_lifecycle

from contract_tests.lifecycle_phase import LifecyclePhase, Seen
from contract_tests.records import DIVERGENCE, VIOLATION
from contract_tests.verdicts import response_provenance
from vpnconn import load_spec
from vpnconn.documented import UNLISTED_FIELDS
from vpnconn.validation import schema_errors


def created() -> dict[str, Any]:
    """The create answer's connection of the spec's static example."""
    return copy.deepcopy(load_spec().examples("201")["static"]["vpn_connection"])


def phase_against(status: int, body: dict[str, Any], tmp_path) -> contextlib.AbstractContextManager[LifecyclePhase]:
    """A lifecycle phase whose target answers every request with ``status`` and ``body``."""
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=json.dumps(body).encode(), headers={
            "X-Request-Id": body["request_id"], "Content-Type": "application/json"})

    return scripted_lifecycle(answer, tmp_path)


def show_against(connection: dict[str, Any], tmp_path) -> list[tuple[str, str, str]]:
    """Show the created connection on a target that answers ``connection`` (plus ``status``): the findings, as
    (check, severity, message)."""
    body = {"vpn_connection": {**connection, "status": "ACTIVE"}, "request_id": "r-show"}
    seen = Seen("static", {"vpn_connection": {"psk": "Fake-Psk-1234"}}, connection=created())
    with phase_against(200, body, tmp_path) as phase:
        phase._show(seen, connection["id"])
    [record] = seen.records
    return [(f.check, f.severity, f.message) for f in record.failures]


def test_a_create_answer_with_a_field_no_source_lists_is_a_divergence_and_the_sequence_goes_on(tmp_path):
    answer = copy.deepcopy(load_spec().examples("201")["static"])
    answer["vpn_connection"]["monitor_group"] = "g-1"
    seen = Seen("static", copy.deepcopy(load_spec().examples("request")["static"]))
    with phase_against(201, answer, tmp_path) as phase:
        connection_id = phase._create(seen)
    assert connection_id == answer["vpn_connection"]["id"] and seen.connection == answer["vpn_connection"]
    [record] = seen.records
    assert [(f.check, f.severity) for f in record.failures] == [("lifecycle_response_schema", DIVERGENCE)]


def test_a_show_with_fields_no_source_lists_is_a_divergence(tmp_path):
    connection = created()
    connection["monitor_group"] = "g-1"  # a field a later version might add ...
    connection["ikepolicy"]["sa_renewal"] = "auto"  # ... at any depth
    findings = show_against(connection, tmp_path)
    assert [(check, severity) for check, severity, _ in findings] == [("lifecycle_response_schema", DIVERGENCE)]
    assert "monitor_group" in findings[0][2] and "sa_renewal" in findings[0][2]


def test_fields_no_source_lists_are_not_compared_with_the_created_connection(tmp_path):
    """The create answer had an unlisted field in its IKE policy that the show leaves out, and the show has one of
    its own: nothing a source says differs."""
    seen_created = created()
    shown = copy.deepcopy(seen_created)
    shown["ikepolicy"]["sa_renewal"] = "auto"
    findings = show_against(shown, tmp_path)
    assert {check for check, _, _ in findings} == {"lifecycle_response_schema"}


def test_a_listed_field_that_differs_at_depth_is_still_a_violation(tmp_path):
    shown = created()
    shown["ikepolicy"]["lifetime_seconds"] = 3600
    shown["ikepolicy"]["sa_renewal"] = "auto"
    findings = show_against(shown, tmp_path)
    mismatches = [(severity, message) for check, severity, message in findings if check == "show_matches_create"]
    assert len(mismatches) == 1 and mismatches[0][0] == VIOLATION
    assert "in ikepolicy" in mismatches[0][1] and "sa_renewal" not in mismatches[0][1]


def test_a_psk_in_a_show_is_a_violation_by_name_without_its_value(tmp_path):
    shown = {**created(), "psk": "Fake-Psk-1234"}
    findings = show_against(shown, tmp_path)
    schema = [(severity, message) for check, severity, message in findings if check == "lifecycle_response_schema"]
    assert schema == [(VIOLATION, "/vpn_connection/psk: 'psk' must not be present")]
    assert ("psk_never_returned", VIOLATION) in {(check, severity) for check, severity, _ in findings}


def test_a_create_answer_with_an_unlisted_field_is_a_divergence_with_the_specs_why():
    spec = load_spec()
    answer = copy.deepcopy(spec.examples("201")["static"])
    answer["vpn_connection"]["monitor_group"] = "g-1"
    provenance = response_provenance(201, json.dumps(answer).encode())
    assert not provenance.documented and provenance.why == spec.check_provenance(UNLISTED_FIELDS).why


def test_a_create_answer_with_a_show_only_field_is_a_violation_even_beside_an_unlisted_one():
    """status and bgp_peer are show-only; connection_monitor_id, which the create page's table lists, is not."""
    for name, value in (("status", "PENDING_CREATE"), ("bgp_peer", {}), ("connection_monitor_id", "m-1")):
        answer = copy.deepcopy(load_spec().examples("201")["static"])
        answer["vpn_connection"].update({name: value, "monitor_group": "g-1"})
        assert response_provenance(201, json.dumps(answer).encode()).documented == (name != "connection_monitor_id"), name


def update_against(connection: dict[str, Any], tmp_path) -> list[tuple[str, str, str]]:
    """Update the created connection (name and peer subnets) on a target that answers ``connection``: the findings."""
    body = {"vpn_connection": connection, "request_id": "r-update"}
    seen = Seen("static", {"vpn_connection": {"psk": "Fake-Psk-1234"}}, connection=created())
    with phase_against(200, body, tmp_path) as phase:
        phase._update(seen, connection["id"])
    [record] = seen.records
    return [(f.check, f.severity, f.message) for f in record.failures]


def updated(**fields: Any) -> dict[str, Any]:
    """The created connection as an update of its name and peer subnets answers it, with ``fields``."""
    return {**created(), "name": "vpnconn-upd-static", "peer_subnets": ["192.168.201.0/24"],
            "updated_at": "2099-01-01T00:00:00.000Z", **fields}


def test_an_update_answer_with_the_shows_status_is_judged_by_its_schema_not_as_a_change(tmp_path):
    """The update answer lists the create answer's fields (the SDK's update model has no status); one that also carries
    the show's status is a divergence of its schema. Before, update_applies_changes also held it a violation: 'status:
    expected null, got "PENDING_UPDATE"' (3 cases of a default run, /tmp/extra/update_status_server.py)."""
    assert update_against(updated(), tmp_path) == []
    findings = update_against(updated(status="PENDING_UPDATE"), tmp_path)
    assert [(check, severity) for check, severity, _ in findings] == [("lifecycle_response_schema", DIVERGENCE)]


def test_an_update_that_changes_a_listed_field_it_was_not_sent_is_still_a_violation(tmp_path):
    findings = update_against(updated(status="PENDING_UPDATE", ha_role="slave"), tmp_path)
    changes = [(severity, message) for check, severity, message in findings if check == "update_applies_changes"]
    assert changes == [(VIOLATION, 'ha_role: expected "master", got "slave"')]


def test_enable_hub_goes_in_a_create_answer_of_any_style_and_in_a_show_only_for_bgp(tmp_path):
    """The 2025 create table lists enable_hub without condition, the show and list tables only for BGP. Before, a
    server that answered it to every create (false for static and policy) FAILED: 107 cases of a default run,
    fields_present_per_style 'not allowed [enable_hub]' (/tmp/extra/hub_everywhere_server.py)."""
    from contract_tests.checks import Answer, run_checks

    sent = copy.deepcopy(load_spec().examples("request")["static"])
    answer = copy.deepcopy(load_spec().examples("201")["static"])
    answer["vpn_connection"]["enable_hub"] = False
    assert run_checks(Answer(201, {"x-request-id": answer["request_id"]}, json.dumps(answer).encode()), sent) == []
    assert schema_errors("CreateVpnConnectionResponse", answer) == []
    assert schema_errors("ShowVpnConnectionResponse", {"vpn_connection": {**answer["vpn_connection"], "status": "ACTIVE"},
                                                       "request_id": "r"}) != []
    # a show that carries it for a static connection breaks the show table
    findings = show_against({**created(), "enable_hub": False}, tmp_path)
    assert [(check, severity) for check, severity, _ in findings] == [("lifecycle_response_schema", VIOLATION)]
    # the create answer gave it, the show leaves it out: no difference; an update answer may give it again
    seen_created = {**created(), "enable_hub": False}
    body = {"vpn_connection": {**created(), "status": "ACTIVE"}, "request_id": "r-show"}
    seen = Seen("static", {"vpn_connection": {}}, connection=seen_created)
    with phase_against(200, body, tmp_path) as phase:
        phase._show(seen, created()["id"])
    assert [f.check for r in seen.records for f in r.failures] == []
    assert update_against(updated(enable_hub=False), tmp_path) == []
