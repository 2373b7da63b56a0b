"""An attribute the request schema does not list, both ways (vpnconn/unlisted.py): no page says it is refused, so a
server that ignores it, as Go's encoding/json and pydantic do by default, is not reported a violation (its acceptance
is a divergence, its answer judged against the body read without it); a server that refuses it answers VPN.0013, and
another code stays a violation; one that drops more than the attribute is caught by the echo check."""

from __future__ import annotations

import copy
import json

import pytest

from contract_tests.checks import Answer, error_contract, run_checks
from contract_tests.hooks import acceptable
from contract_tests.records import Finding
from contract_tests.verdicts import body_violations, not_rejected
from reference_server import ReferenceServer
from vpnconn import load_spec
from vpnconn.constraints import request_constraints
from vpnconn.unlisted import listed_only

REQUEST_ID = "9b5bc2d3-0c1e-4a0a-9c41-6a2a8f0a4f11"
UNKNOWN = "x-schemathesis-unknown-property"  # the member schemathesis adds to test additionalProperties


def example(style: str = "static") -> dict:
    return copy.deepcopy(load_spec().examples("request")[style])


def with_unknown_members(body: dict) -> dict:
    """``body`` with an unlisted member beside the connection, in it, in its IKE policy's dpd and in its first tag."""
    body = copy.deepcopy(body)
    conn = body["vpn_connection"]
    body[UNKNOWN] = conn[UNKNOWN] = 42
    conn.setdefault("ikepolicy", {}).setdefault("dpd", {})[UNKNOWN] = 42
    conn["tags"] = [{"key": "team", "value": "net", UNKNOWN: 42}, {"key": "env", "value": "prod"}]
    return body


def test_a_body_is_read_without_its_unlisted_members_at_every_depth():
    sent = with_unknown_members(example())
    read = listed_only(load_spec(), "CreateVpnConnectionRequestBody", sent)
    assert UNKNOWN not in json.dumps(read)
    assert read["vpn_connection"]["tags"] == [{"key": "team", "value": "net"}, {"key": "env", "value": "prod"}]
    assert read["vpn_connection"]["ikepolicy"]["dpd"] == {k: v for k, v in sent["vpn_connection"]["ikepolicy"]["dpd"].items()
                                                          if k != UNKNOWN}
    assert UNKNOWN in json.dumps(sent)  # the body sent is not changed
    plain = example()
    assert listed_only(load_spec(), "CreateVpnConnectionRequestBody", plain) is plain  # nothing to leave out: not copied
    # an update reads a field the update table does not list (vgw_id) as unlisted too
    assert listed_only(load_spec(), "UpdateVpnConnectionRequestBody",
                       {"vpn_connection": {"name": "n", "vgw_id": "x"}}) == {"vpn_connection": {"name": "n"}}


def test_that_an_unlisted_attribute_is_refused_is_inferred_and_so_is_its_acceptance():
    spec = load_spec()
    closed = [c.name for c in request_constraints(spec) if c.keyword == "additionalProperties"]
    assert "tags[].additionalProperties" in closed and "body.additionalProperties" in closed
    assert not any(spec.provenance_of(name).documented for name in closed)
    # a server that ignored the attributes and created the connection: divergences, one per constraint
    sent = with_unknown_members(example())
    broken = sorted({v.rule for v in body_violations(sent)})
    assert broken == ["body.additionalProperties", "ikepolicy.dpd.additionalProperties", "tags[].additionalProperties",
                      "vpn_connection.additionalProperties"]
    failures = not_rejected(broken, "Schema-violating request accepted", "accepted", sent)
    assert failures and all(not f.provenance.documented for f in failures)
    # beside a documented breach (a short psk) the acceptance is a violation, as before
    sent["vpn_connection"]["psk"] = "short"
    assert any(f.provenance.documented for f in not_rejected(sorted({v.rule for v in body_violations(sent)}),
                                                             "Schema-violating request accepted", "accepted", sent))


def test_a_body_whose_only_breach_is_an_unlisted_attribute_may_create():
    """So the run gives it its share of the create budget and room in the gateway's quota, as for a valid body (a
    server that ignored the attribute and created the connection would otherwise hold the quota's room, and the
    next such body would be refused for the quota, which the error contract took for a wrong code)."""
    sent = with_unknown_members(example())
    assert acceptable(sent)
    sent["vpn_connection"]["psk"] = "short"
    assert not acceptable(sent)


def created_by_a_server_that_ignores(sent: dict, edit=lambda connection: None) -> Answer:
    """The reference server's 201 to ``sent`` read without its unlisted members, edited by ``edit``."""
    answered = ReferenceServer().respond(listed_only(load_spec(), "CreateVpnConnectionRequestBody", copy.deepcopy(sent)))
    edit(answered)
    return Answer(201, {"x-request-id": REQUEST_ID},
                  json.dumps({"vpn_connection": answered, "request_id": REQUEST_ID}).encode())


def test_the_answer_of_a_server_that_ignored_the_attribute_is_judged_against_the_body_without_it():
    sent = with_unknown_members(example())
    assert run_checks(created_by_a_server_that_ignores(sent), sent) == []
    # what is left is judged as before: a tag lost with its unlisted member is the echo check's violation
    lost = created_by_a_server_that_ignores(sent, lambda c: c.update(tags=c["tags"][1:]))
    assert [f.check for f in run_checks(lost, sent)] == ["response_echoes_request"]
    assert "tags: sent" in run_checks(lost, sent)[0].message


@pytest.mark.parametrize("code, reported", [("VPN.0013", False), ("VPN.0001", True)])
def test_a_server_that_refuses_an_unlisted_attribute_answers_vpn_0013(code, reported):
    """Refusing it is inferred; the code of a refusal is documented (the spec's ``whenever_refused``): another is a
    violation."""
    sent = with_unknown_members(example())
    answer = Answer(400, {"x-request-id": REQUEST_ID},
                    json.dumps({"error_code": code, "error_msg": "m", "request_id": REQUEST_ID}).encode())
    try:
        error_contract(answer, sent)
    except Finding as found:
        assert reported and found.provenance.documented and "VPN.0013" in str(found)
    else:
        assert not reported
