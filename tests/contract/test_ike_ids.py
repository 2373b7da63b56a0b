"""An IKE id of type ip that a create gives: the English page of 2025-09 says the answer gives it back (else the
gateway's IP); the zh pages say that with the type ip the answer gives the IP of the gateway the connection uses
(of the customer gateway, for ``peer_id``), whatever was given. An answer with another IPv4 address follows the zh
pages: a divergence (``ip_id_echoed``, inferred); one with anything else, or an id of type fqdn not given back, is
``response_echoes_request``'s violation. Before, a server that answers as the zh pages say FAILED: 18 violation cases
of a default run ("ikepolicy.local_id: sent '3.185.81.238', got '198.18.171.4'"; the rewrite server's mode
ids-as-zh under /tmp/extra). The correct-but-different server answers so (tests/contract/test_verdicts.py)."""

from __future__ import annotations

import copy
import json

import pytest

from contract_tests.checks import IP_ID_ECHOED, Answer, run_checks
from contract_tests.records import DIVERGENCE, VIOLATION
from reference_server import ReferenceServer
from reference_server.variants import ip_ids_left_out
from vpnconn import load_spec

GATEWAY_IP = "198.18.171.4"  # an address of another gateway than the sent one


def create_answer(ike: dict, answered: dict) -> tuple[Answer, dict]:
    """The reference server's 201 to the spec's static example with ``ike`` in its IKE policy, the answer's IKE policy
    then written with ``answered``."""
    sent = copy.deepcopy(load_spec().examples("request")["static"])
    sent["vpn_connection"]["ikepolicy"] = {**sent["vpn_connection"].get("ikepolicy", {}), **ike}
    connection = ReferenceServer().respond(copy.deepcopy(sent))
    connection["ikepolicy"].update(answered)
    body = json.dumps({"vpn_connection": connection, "request_id": "r-1"}).encode()
    return Answer(201, {"X-Request-Id": "r-1"}, body), sent


@pytest.mark.parametrize("ike, answered, severity", [
    ({"local_id_type": "ip", "local_id": "10.1.2.3"}, {}, None),  # given back, as the English page says
    ({"local_id_type": "ip", "local_id": "10.1.2.3"}, {"local_id": GATEWAY_IP}, DIVERGENCE),  # the gateway's (zh)
    ({"peer_id_type": "ip", "peer_id": "10.1.2.3"}, {"peer_id": GATEWAY_IP}, DIVERGENCE),  # the customer gateway's
    ({"local_id": "10.1.2.3"}, {"local_id": GATEWAY_IP}, DIVERGENCE),  # (ip, the default type)
    ({"local_id_type": "ip", "local_id": "10.1.2.3"}, {"local_id": "gw.example.com"}, VIOLATION),  # no IP at all
    ({"local_id_type": "fqdn", "local_id": "gw.example.com"}, {"local_id": GATEWAY_IP}, VIOLATION),  # fqdn: as given
    ({"local_id_type": "ip", "local_id": "10.1.2.3"}, {"local_id_type": "fqdn", "local_id": GATEWAY_IP}, VIOLATION),
], ids=["echoed", "gateway-ip", "customer-gateway-ip", "default-type", "not-an-ip", "fqdn-not-echoed", "type-changed"])
def test_an_ip_id_answered_as_another_ip_is_a_divergence_and_anything_else_a_violation(ike, answered, severity):
    found = run_checks(*create_answer(ike, answered), only=("response_echoes_request",))
    assert [f.severity for f in found] == ([severity] if severity else [])
    if severity == DIVERGENCE:
        assert found[0].rule == IP_ID_ECHOED and GATEWAY_IP in found[0].message
        assert not found[0].provenance.documented


def test_a_divergence_with_a_violation_in_the_same_answer_is_the_violation():
    answer, sent = create_answer({"local_id_type": "ip", "local_id": "10.1.2.3"}, {"local_id": GATEWAY_IP})
    created = json.loads(answer.content)
    created["vpn_connection"]["cgw_id"] = "0f4bbd02-8a5f-4a39-9d4e-2f1b3c4d5e6f"  # (not the one sent)
    found = run_checks(Answer(201, answer.headers, json.dumps(created).encode()), sent, only=("response_echoes_request",))
    assert [f.severity for f in found] == [VIOLATION] and "local_id" in found[0].message  # (both said)


def test_the_correct_but_different_server_reads_ip_ids_as_not_given():
    body = {"vpn_connection": {"name": "n", "ikepolicy": {"local_id_type": "ip", "local_id": "10.1.2.3", "peer_id": "10.4.5.6",
                                                          "peer_id_type": "fqdn"}}}
    assert ip_ids_left_out(body)["vpn_connection"]["ikepolicy"] == {"local_id_type": "ip", "peer_id": "10.4.5.6",
                                                                    "peer_id_type": "fqdn"}
    assert body["vpn_connection"]["ikepolicy"]["local_id"] == "10.1.2.3"  # (the body itself unchanged)
    plain = {"vpn_connection": {"ikepolicy": {"local_id_type": "fqdn", "local_id": "a.example"}}}
    assert ip_ids_left_out(plain) is plain
