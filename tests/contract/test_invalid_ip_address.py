"""The VPN error codes page gives 400 VPN.0001 for an invalid request (any parameter validation failure) and 400
VPN.0203 for an invalid IP address, and names no field for either. The spec answers a value that is no IP address or
network where one is asked for as any failure of the schema (VPN.0001); its error kind ``invalid-ip-address`` lists,
in ``also_for``, the component schemas whose failures a target may answer with VPN.0203 instead: a divergence
(``answered_as_invalid-ip-address``). Before, a server that did so (a wrapper of the reference server that refuses a
malformed subnet, policy network, tunnel address or IKE id of type ip with VPN.0203 first, /tmp/extra/invalid_ip_server.py)
FAILED with 15 violation cases of a default run; now 19 divergence cases. VPN.0203 for a failure of any other
schema (a name, an IKE id of type fqdn, a subnet that is not a string) stays a violation."""

from __future__ import annotations

import copy
import json

import pytest

from contract_tests.checks import ALSO_ANSWERED, Answer, run_checks
from contract_tests.records import DIVERGENCE, VIOLATION
from contract_tests.verdicts import body_violations
from reference_server.app import Reject
from reference_server.variants import OtherChoicesServer
from vpnconn import load_spec

KIND = "invalid-ip-address"


def static_body(**fields) -> dict:
    body = copy.deepcopy(load_spec().examples("request")["static"])
    body["vpn_connection"].update(fields)
    return body


def answered(body: dict, code: str) -> list:
    content = json.dumps({"error_code": code, "error_msg": "Invalid IP address.", "request_id": "r-1"}).encode()
    return run_checks(Answer(400, {"X-Request-Id": "r-1"}, content), body, only=("error_contract",))


@pytest.mark.parametrize("fields, severity", [
    ({"peer_subnets": ["192.168.1/24"]}, DIVERGENCE),  # Ipv4Cidr
    ({"tunnel_local_address": "169.254.1.1", "tunnel_peer_address": "169.254.1.2/30"}, DIVERGENCE),  # TunnelAddress
    ({"ikepolicy": {"local_id_type": "ip", "local_id": "10.1.2"}}, DIVERGENCE),  # Ipv4Address (an IKE id of type ip)
    ({"peer_subnets_v6": ["2001:db8::g/64"]}, DIVERGENCE),  # Ipv6Cidr
    ({"vgw_ip": "10.1.2"}, DIVERGENCE),  # neither a resource id nor an Ipv4Address (a oneOf of the two)
    ({"ikepolicy": {"local_id_type": "fqdn", "local_id": "a b"}}, VIOLATION),  # FqdnId: no IP is asked for
    ({"name": "no spaces allowed"}, VIOLATION),  # a name
    ({"peer_subnets": [24]}, VIOLATION),  # not a string at all: a wrong type, the schema's
], ids=["subnet", "tunnel-address", "ip-id", "ipv6-subnet", "gateway-ip", "fqdn-id", "name", "subnet-of-another-type"])
def test_vpn_0203_is_a_divergence_for_a_value_that_is_no_ip_address_and_a_violation_for_anything_else(fields, severity):
    body = static_body(**fields)
    assert body_violations(body)  # (a body the spec refuses: VPN.0001)
    assert answered(body, "VPN.0001") == []
    found = answered(body, "VPN.0203")
    assert [f.severity for f in found] == [severity]
    if severity == DIVERGENCE:
        assert found[0].rule == ALSO_ANSWERED + KIND and not found[0].provenance.documented
        assert found[0].provenance == load_spec().check_provenance(ALSO_ANSWERED + KIND)
    other = answered(body, "VPN.0204")  # another code of the page: the wrong code, as before (a divergence only where
    assert len(other) == 1 and other[0].rule != ALSO_ANSWERED + KIND  # the constraint is: peer_subnets_v6's pattern)
    assert other[0].severity == (DIVERGENCE if "peer_subnets_v6" in fields else VIOLATION)


def test_the_error_kind_names_the_schemas_it_also_answers():
    spec = load_spec()
    error = spec.errors[KIND]
    assert (error["status"], error["error_code"]) == (400, "VPN.0203") and spec.error_provenance(KIND).documented
    assert error["also_for"] == ["Ipv4Address", "Ipv4Cidr", "Ipv6Cidr", "TunnelAddress"]
    (violation,) = body_violations(static_body(peer_subnets=["192.168.1/24"]))
    assert (violation.error_code, violation.also) == ("VPN.0001", (KIND,))  # the spec's answer stays VPN.0001


def test_the_correct_but_different_server_answers_vpn_0203():
    with pytest.raises(Reject) as refusal:
        OtherChoicesServer().respond(static_body(peer_subnets=["192.168.1/24"]))
    assert refusal.value.error["error_code"] == "VPN.0203"
    with pytest.raises(Reject) as refusal:
        OtherChoicesServer().respond(static_body(name="no spaces allowed"))
    assert refusal.value.error["error_code"] == "VPN.0001"
