"""The VPN error codes page gives 400 VPN.0204: "Class D(multicast address), class E(reserved address), and loopback
address(starting with 127) are not supported", and names neither the fields nor how a network is judged. The spec's
rule ``networks-not-multicast-reserved-or-loopback`` (inferred) refuses a customer subnet or a policy rule's network
whose address is such; a server that reads the page more widely (every IPv4 address of a request, every network that
holds such an address, 0.0.0.0/0) refuses more, with that code: a divergence (``address_class_read_wider``). Before,
the spec knew neither, and a server that refused such subnets as the page says FAILED with 70 violation cases of a
default run (a wrapper of the reference server, /tmp/extra/class_d_server.py); a server that accepts them, as before,
now diverges (the correct-but-different server's test). VPN.0204 for a body that holds no such address stays a
violation (the fault ``private-subnets-refused-as-multicast``)."""

from __future__ import annotations

import copy
import json

import pytest

from contract_tests.checks import Answer, run_checks
from contract_tests.records import DIVERGENCE, VIOLATION
from contract_tests.verdicts import ADDRESS_CLASS_WIDER, address_class_refusal, body_violations, valid_refusal
from reference_server import ReferenceServer
from reference_server.app import Reject
from reference_server.variants import OtherChoicesServer
from vpnconn import load_spec
from vpnconn.rules import ADDRESS_CLASSES, addresses_in_unsupported_classes

VPN_0204 = json.dumps({"error_code": "VPN.0204", "error_msg": "Class D(multicast address) ... are not supported",
                       "request_id": "r-1"}).encode()
VPN_0001 = json.dumps({"error_code": "VPN.0001", "error_msg": "invalid request", "request_id": "r-1"}).encode()


def policy_body(*destinations: str, subnets: tuple[str, ...] = ("192.168.44.0/24",), **ike: str) -> dict:
    """The spec's policy example with a rule to ``destinations`` and the customer ``subnets``."""
    body = copy.deepcopy(load_spec().examples("request")["policy"])
    conn = body["vpn_connection"]
    conn["peer_subnets"] = list(subnets)
    conn["policy_rules"] = [{"source": "10.0.0.0/24", "destination": list(destinations)}]
    if ike:
        conn["ikepolicy"] = {**conn.get("ikepolicy", {}), **ike}
    return body


@pytest.mark.parametrize("network, refused", [
    ("224.0.1.0/24", True), ("239.255.255.255/32", True),  # class D
    ("240.0.0.0/4", True), ("255.255.255.255/32", True),  # class E
    ("127.0.0.0/8", True), ("127.0.0.1/32", True),  # loopback
    ("223.255.255.0/24", False), ("128.0.0.0/2", False), ("126.0.0.0/8", False),  # beside them
    ("0.0.0.0/0", False), ("192.0.0.0/3", False),  # networks that hold such addresses, judged by their own address
])
def test_the_rule_refuses_a_network_by_its_address(network, refused):
    for body in (policy_body("192.168.7.0/24", subnets=(network,)), policy_body(network)):
        rules = {v.rule for v in body_violations(body)}
        assert (f"x-{ADDRESS_CLASSES}" in rules) is refused, (network, rules)
        if refused:
            violation = next(v for v in body_violations(body) if v.rule == f"x-{ADDRESS_CLASSES}")
            assert (violation.status, violation.error_code) == (400, "VPN.0204")  # the error codes page's answer


def test_the_reference_server_refuses_with_vpn_0204_and_takes_a_network_that_only_holds_such_addresses():
    with pytest.raises(Reject) as refused:
        ReferenceServer().respond(policy_body("192.168.7.0/24", subnets=("224.0.1.0/24",)))
    assert refused.value.error["error_code"] == "VPN.0204"
    assert ReferenceServer().respond(policy_body("0.0.0.0/0"))["policy_rules"][0]["destination"] == ["0.0.0.0/0"]


@pytest.mark.parametrize("body, held", [
    (policy_body("0.0.0.0/0"), ["0.0.0.0/0"]),  # a network that holds them all
    (policy_body("192.168.7.0/24", local_id="127.0.0.1"), ["127.0.0.1"]),  # an IKE id, which the rule does not look at
    (policy_body("192.168.7.0/24"), []),
])
def test_a_valid_body_refused_with_vpn_0204_is_a_divergence_only_where_it_holds_such_an_address(body, held):
    assert not body_violations(body)
    assert addresses_in_unsupported_classes(load_spec(), body) == held
    refusal = valid_refusal(400, VPN_0204, body)
    if held:
        assert refusal is not None and refusal[0] == load_spec().check_provenance(ADDRESS_CLASS_WIDER)
        assert not refusal[0].documented and held[0] in refusal[1]
    else:
        assert refusal is None  # the check judges it: a violation
    assert valid_refusal(400, VPN_0001, body) is None  # (another code for it: not this reading)
    assert address_class_refusal(404, "VPN.0204", body) is None  # (another status)


def refused(body: dict, content: bytes) -> list:
    return run_checks(Answer(400, {"X-Request-Id": "r-1"}, content), body, only=("error_contract",))


def test_a_body_the_schema_refuses_may_be_refused_for_its_address_class_first():
    body = policy_body("192.168.7.0/24", subnets=("224.0.1.0/24",))
    body["vpn_connection"]["name"] = "no spaces allowed"  # (the schema refuses it: the rules are not run)
    assert f"x-{ADDRESS_CLASSES}" not in {v.rule for v in body_violations(body)}
    assert refused(body, VPN_0204) == []  # it breaks that rule too: a server may name it
    assert refused(body, VPN_0001) == []  # (or the schema's failure)


@pytest.mark.parametrize("destination, severity", [("0.0.0.0/0", DIVERGENCE), ("192.168.7.0/24", VIOLATION)])
def test_vpn_0204_for_a_refused_body_without_such_a_network_is_a_divergence_or_a_violation(destination, severity):
    body = policy_body(destination)
    body["vpn_connection"]["name"] = "no spaces allowed"
    found = refused(body, VPN_0204)
    assert [f.severity for f in found] == [severity]
    if severity == DIVERGENCE:
        assert found[0].rule == ADDRESS_CLASS_WIDER and "0.0.0.0/0" in found[0].message


def test_the_correct_but_different_server_refuses_any_address_of_those_classes_anywhere():
    server = OtherChoicesServer()
    for body in (policy_body("192.0.0.0/2"), policy_body("192.168.7.0/24", peer_id="224.0.0.9")):
        with pytest.raises(Reject) as refusal:
            server.respond(body)
        assert refusal.value.error["error_code"] == "VPN.0204"
    assert server.respond(policy_body("192.168.7.0/24"))["style"] == "POLICY"
    assert server.respond(policy_body("0.0.0.0/0"))["style"] == "POLICY"  # (the default route: any address)


def test_only_a_well_formed_address_is_read_for_its_class():
    body = policy_body("999.1.1.1/8", "224.0.0.1\n", "224.0.0.0/33", "1.2.3", "240.1.2.3/28")
    assert addresses_in_unsupported_classes(load_spec(), body) == ["240.1.2.3/28"]
