"""What an answer writes otherwise than it was sent (contract_tests/listing.py), both ways: a server that keeps its
subnets, tags and policy rules as sets of networks (another order, a duplicate merged, one rule per destination, its
own rule_index, host bits masked, IPv6 in RFC 5952's form) is not reported a violation, only a divergence where it
writes them otherwise; one that loses an item, or answers another network, is a violation, as before."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
from support import scripted_show, shown

from contract_tests.checks import Answer, response_echoes_request, run_checks
from contract_tests.listing import WRITTEN_AS_SENT, compare
from contract_tests.records import DIVERGENCE, VIOLATION, Failure, Finding
from reference_server.variants import kept_as_sets
from vpnconn import load_spec

SENT = {"peer_subnets": ["192.168.1.0/24", "192.168.2.0/24", "192.168.1.0/24"],
        "tags": [{"key": "team", "value": "net"}, {"key": "env", "value": "test"}],
        "policy_rules": [{"rule_index": 7, "source": "10.1.0.0/24", "destination": ["192.168.1.0/24", "192.168.2.0/24"]},
                         {"source": "10.2.0.0/24", "destination": ["192.168.3.0/24"]}]}


def test_the_same_values_listed_otherwise_are_told_from_other_values():
    names = list(SENT)
    relisted = kept_as_sets(copy.deepcopy(SENT))  # the correct-but-different server's way: reversed, merged, split
    assert relisted["policy_rules"][0] == {"source": "10.2.0.0/24", "destination": ["192.168.3.0/24"], "rule_index": 1}
    assert compare(SENT, relisted, names) == ([], ["peer_subnets", "policy_rules", "tags"])
    lost = {**relisted, "peer_subnets": ["192.168.1.0/24"]}
    assert compare(SENT, lost, names) == (["peer_subnets"], ["policy_rules", "tags"])
    one_destination = {**SENT, "policy_rules": [{**SENT["policy_rules"][0], "destination": ["192.168.1.0/24"]},
                                                 SENT["policy_rules"][1]]}
    assert compare(SENT, one_destination, names) == (["policy_rules"], [])
    other_source = copy.deepcopy(SENT)
    other_source["policy_rules"][1]["source"] = "10.9.0.0/24"
    assert compare(SENT, other_source, names) == (["policy_rules"], [])


@pytest.mark.parametrize("sent, got, kind", [
    ("192.168.1.5/24", "192.168.1.0/24", "otherwise"),  # host bits masked (rule cidr-canonical: keep or mask)
    ("2001:0DB8:0:0::/32", "2001:db8::/32", "otherwise"),  # RFC 5952's form of the same network
    ("192.168.1.0/24", "192.168.1.0/25", "differ"),  # another network
    ("192.168.1.0/24", "192.168.2.0/24", "differ"),
    ("2001:db8::/32", "2001:db9::/32", "differ"),
])
def test_a_network_written_in_another_form_is_told_from_another_network(sent, got, kind):
    for field, before, after in (("peer_subnets", [sent], [got]), ("peer_subnets_v6", [sent], [got]),
                                 ("policy_rules", [{"source": sent, "destination": [sent]}], [{"source": got, "destination": [got]}])):
        differ, otherwise = compare({field: before}, {field: after}, [field])
        assert (differ, otherwise) == (([field], []) if kind == "differ" else ([], [field])), field
    # a field that holds no CIDR is compared as written: a name is not a network
    assert compare({"name": sent}, {"name": got}, ["name"]) == (["name"], [])


def test_a_rule_index_of_the_servers_own_is_no_difference_at_all():
    """The spec marks rule_index ``echoed: false``: the API page says the server may renumber."""
    assert load_spec().not_echoed == {"/vpn_connection/policy_rules/*/rule_index", "/vpn_connection/policy_rules_v6/*/rule_index"}
    renumbered = copy.deepcopy(SENT)
    for number, rule in enumerate(renumbered["policy_rules"], start=1):
        rule["rule_index"] = number
    assert compare(SENT, renumbered, list(SENT)) == ([], [])
    assert SENT["policy_rules"][0]["rule_index"] == 7  # (the caller's values are left as they were)


def created_answer(edit) -> tuple[Answer, dict]:
    """A policy create body with SENT's lists, and the reference server's 201 answer to it, edited by ``edit``."""
    from reference_server import ReferenceServer

    sent = copy.deepcopy(load_spec().examples("request")["policy"])
    sent["vpn_connection"].update(peer_subnets=SENT["peer_subnets"][:2], tags=SENT["tags"],
                                  policy_rules=copy.deepcopy(SENT["policy_rules"]))
    connection = ReferenceServer().respond(copy.deepcopy(sent))
    edit(connection)
    body = {"vpn_connection": connection, "request_id": "9b5bc2d3-0c1e-4a0a-9c41-6a2a8f0a4f11"}
    return Answer(201, {"x-request-id": body["request_id"]}, json.dumps(body).encode()), sent


def echo_findings(edit) -> list[Failure]:
    answer, sent = created_answer(edit)
    return run_checks(answer, sent, only=("response_echoes_request",))


def test_a_create_answer_that_renumbers_the_rules_is_not_reported():
    """Before, 'policy_rules[0].rule_index: sent 7, got 1' was a violation: 34 cases of a default run against a
    server that numbers its rules itself (/tmp/extra/renumber_server.py)."""
    def renumber(connection):
        for number, rule in enumerate(connection["policy_rules"], start=1):
            rule["rule_index"] = number

    assert echo_findings(renumber) == []
    assert echo_findings(lambda connection: None) == []


def test_a_create_answer_that_lists_otherwise_is_a_divergence_with_the_specs_why():
    [failure] = echo_findings(kept_as_sets)
    assert (failure.check, failure.rule, failure.severity) == ("response_echoes_request", WRITTEN_AS_SENT, DIVERGENCE)
    assert failure.provenance == load_spec().check_provenance(WRITTEN_AS_SENT)
    assert "one internal rule per destination" in failure.provenance.why
    assert "peer_subnets, policy_rules, tags, written otherwise" in failure.message


def lose_destination(connection: dict, destination: str) -> None:
    """``connection`` without ``destination`` in its policy rules (a rule left with none is left out)."""
    rules = [{**rule, "destination": [d for d in rule["destination"] if d != destination]} for rule in connection["policy_rules"]]
    connection["policy_rules"] = [rule for rule in rules if rule["destination"]]


@pytest.mark.parametrize("edit, field", [
    (lambda c: c.update(peer_subnets=c["peer_subnets"][:1]), "peer_subnets"),
    (lambda c: lose_destination(c, "192.168.2.0/24"), "policy_rules"),
    (lambda c: c["tags"].pop(), "tags"),
], ids=["a subnet lost", "a destination lost", "a tag lost"])
@pytest.mark.parametrize("relist", [False, True], ids=["as sent", "written otherwise"])
def test_a_create_answer_that_loses_an_item_is_a_violation_listed_otherwise_or_not(edit, field, relist):
    def lose(connection):
        if relist:
            kept_as_sets(connection)
        edit(connection)

    [failure] = echo_findings(lose)
    assert failure.severity == VIOLATION and failure.rule == ""
    assert failure.message.startswith(f"the answer does not echo the request: {field}: sent")


def test_the_echo_check_raises_its_divergence_as_schemathesis_sees_it():
    """schemathesis calls the check and keeps what it raises: the finding carries the rule and the provenance."""
    answer, sent = created_answer(kept_as_sets)
    with pytest.raises(Finding) as raised:
        response_echoes_request(answer, sent)
    assert raised.value.rule == WRITTEN_AS_SENT and not raised.value.provenance.documented


def shown_with(connection: dict):
    def answer(request: httpx.Request) -> httpx.Response:
        reply = shown("ACTIVE")
        body = reply.json()
        body["vpn_connection"].update(connection)
        return httpx.Response(200, json=body, headers=reply.headers)
    return answer


@pytest.mark.parametrize("edit, severities", [
    (lambda c: None, []),
    (lambda c: c.update(peer_subnets=c["peer_subnets"][::-1]), [(WRITTEN_AS_SENT, DIVERGENCE)]),
    (lambda c: c.update(peer_subnets=c["peer_subnets"][:1]), [("", VIOLATION)]),
], ids=["as created", "subnets in another order", "a subnet lost"])
def test_a_show_is_compared_with_the_connection_created_as_sets(tmp_path, edit, severities):
    created = shown("ACTIVE").json()["vpn_connection"]
    created.update(peer_subnets=["192.168.1.0/24", "192.168.2.0/24"])
    answered = copy.deepcopy(created)
    edit(answered)
    failures = scripted_show(tmp_path, created, shown_with(answered))
    assert [(f.rule, f.severity) for f in failures] == severities
    assert all(f.check == "show_matches_create" for f in failures)
