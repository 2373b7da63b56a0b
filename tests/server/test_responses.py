"""Valid requests get 201 and exactly the documented answer."""

from __future__ import annotations

import copy
import json
import re
import uuid

import pytest
from support import PATH, fresh_tunnel_pair

from vpnconn.validation import schema_errors

STYLES = ["static", "policy", "bgp"]
VOLATILE = {"id", "created_at", "updated_at", "name", "tunnel_local_address", "tunnel_peer_address"}


def create(client, body):
    response = client.post(PATH, json=fresh_tunnel_pair(copy.deepcopy(body) if body is not None else body))
    assert response.status_code == 201, response.text
    return response


@pytest.mark.parametrize("style", STYLES)
def test_each_style_example_gets_the_documented_answer(client, spec, style):
    response = create(client, spec.examples("request")[style])
    answer = response.json()
    assert schema_errors("CreateVpnConnectionResponse", answer) == []
    documented = spec.examples("201")[style]["vpn_connection"]
    got = answer["vpn_connection"]
    ike_ids = {"local_id", "peer_id"}  # the open world derives gateway addresses from the ids
    def strip(c):
        return {k: ({kk: vv for kk, vv in v.items() if kk not in ike_ids} if k == "ikepolicy" else v)
                for k, v in c.items() if k not in VOLATILE}
    assert strip(got) == strip(documented)
    assert list(got) == [k for k in documented if k in got]  # documented key order


def test_request_id_is_in_body_and_header(client, spec):
    response = create(client, spec.examples("request")["static"])
    assert response.headers["x-request-id"] == response.json()["request_id"]
    uuid.UUID(response.json()["request_id"])


def test_minimal_request_gets_every_server_filled_default(client, spec):
    conn = create(client, spec.examples("request")["static"]).json()["vpn_connection"]
    defaults = spec.request_defaults()
    assert re.fullmatch(spec.server_defaults["auto-name"]["pattern"], conn["name"])
    assert conn["style"] == "STATIC" and conn["ha_role"] == "master" and conn["enable_nqa"] is False
    assert conn["enterprise_project_id"] == spec.server_defaults["enterprise-project-of-gateway"]["default"]
    ike = {k: v for k, v in conn["ikepolicy"].items() if k not in ("local_id", "peer_id")}
    expected_ike = {k: v for k, v in defaults["ikepolicy"].items() if k != "phase1_negotiation_mode"}
    assert ike == expected_ike  # phase1_negotiation_mode is returned for v1 only
    assert conn["ipsecpolicy"] == defaults["ipsecpolicy"]
    assert conn["created_at"] == conn["updated_at"]
    assert "psk" not in conn


def test_partial_policies_are_merged_field_by_field(client, spec):
    body = copy.deepcopy(spec.examples("request")["static"])
    body["vpn_connection"]["ikepolicy"] = {"ike_version": "v1", "dpd": {"msg": "seq-notify-hash"}}
    body["vpn_connection"]["ipsecpolicy"] = {"pfs": "disable"}
    conn = create(client, body).json()["vpn_connection"]
    assert conn["ikepolicy"]["phase1_negotiation_mode"] == "main"
    assert conn["ikepolicy"]["dpd"] == {"timeout": 15, "interval": 30, "msg": "seq-notify-hash"}
    assert conn["ipsecpolicy"]["pfs"] == "disable" and conn["ipsecpolicy"]["lifetime_seconds"] == 3600


@pytest.mark.parametrize("style,present,absent", [
    ("static", {"enable_nqa", "tunnel_local_address"}, {"policy_rules", "enable_hub"}),
    ("policy", {"policy_rules"}, {"enable_nqa", "enable_hub", "tunnel_local_address"}),
    ("bgp", {"enable_hub", "tunnel_local_address"}, {"enable_nqa", "policy_rules"}),
])
def test_fields_are_present_per_style(client, spec, style, present, absent):
    conn = create(client, spec.examples("request")[style]).json()["vpn_connection"]
    assert present <= conn.keys() and not (absent & conn.keys())


def test_auto_assigned_tunnel_addresses_are_distinct_pairs_of_one_30(client, spec):
    import ipaddress

    pairs = set()
    for _ in range(3):
        conn = create(client, spec.examples("request")["static"]).json()["vpn_connection"]
        local = ipaddress.IPv4Interface(conn["tunnel_local_address"])
        peer = ipaddress.IPv4Interface(conn["tunnel_peer_address"])
        assert local.network == peer.network and local.ip != peer.ip
        assert local.network.prefixlen == 30 and local.ip in ipaddress.IPv4Network("169.254.0.0/16")
        pairs.add(local.network)
    assert len(pairs) == 3


def test_given_values_are_echoed(client, spec):
    body = copy.deepcopy(spec.examples("request")["bgp"])
    body["vpn_connection"].update(enable_hub=True, tags=[{"key": "env", "value": "prod"}], name="总部.vpn-1")
    fresh_tunnel_pair(body)
    conn = create(client, body).json()["vpn_connection"]
    body["vpn_connection"].update(tunnel_local_address=conn["tunnel_local_address"],
                                  tunnel_peer_address=conn["tunnel_peer_address"])  # the pair create gave it
    for key in ("name", "vgw_id", "vgw_ip", "cgw_id", "peer_subnets", "tunnel_local_address", "tunnel_peer_address", "tags", "enable_hub"):
        assert conn[key] == body["vpn_connection"][key], key
    sent_ike = body["vpn_connection"]["ikepolicy"]
    assert {k: conn["ikepolicy"][k] for k in sent_ike} == sent_ike


def test_policy_rules_get_their_position_as_rule_index(client, spec):
    body = copy.deepcopy(spec.examples("request")["policy"])
    body["vpn_connection"]["policy_rules"] = [
        {"source": "10.0.0.0/24", "destination": ["192.168.0.0/24"]},
        {"rule_index": 7, "source": "10.0.1.0/24", "destination": ["192.168.1.0/24"]},
    ]
    rules = create(client, body).json()["vpn_connection"]["policy_rules"]
    assert [r["rule_index"] for r in rules] == [1, 7]


def test_created_connections_are_kept(open_server, client, spec):
    app, _ = open_server
    before = len(app.store)
    conn = create(client, spec.examples("request")["policy"]).json()["vpn_connection"]
    assert len(app.store) == before + 1 and app.store.get(conn["id"]) == conn


def test_an_integer_written_with_a_fraction_is_answered_as_an_integer(client, spec):
    """1358.0 is an integer for JSON Schema; the answer carries 1358, which typed decoders (Go, strict pydantic) read."""
    body = copy.deepcopy(spec.examples("request")["bgp"])
    fresh_tunnel_pair(body)["vpn_connection"]["vgw_id"] = str(uuid.uuid4())
    body["vpn_connection"]["ikepolicy"] = {**body["vpn_connection"].get("ikepolicy", {}), "lifetime_seconds": 1358.0}
    raw = json.dumps(body)
    assert '"lifetime_seconds": 1358.0' in raw
    answer = client.post(PATH, content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 201, answer.text
    assert '"lifetime_seconds":1358,' in answer.text or '"lifetime_seconds":1358}' in answer.text


def test_new_ids_are_distinct_random_version_4_uuids_in_their_text_form():
    import uuid

    from reference_server.connection import new_uuid

    ids = [new_uuid() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert {text[19] for text in ids} == set("89ab")  # the variant nibble takes each of its four values


def test_a_created_connection_shares_nothing_with_the_server_defaults_or_the_next_connection(spec):
    from reference_server import ReferenceServer

    server = ReferenceServer()
    first = server.respond(fresh_tunnel_pair(copy.deepcopy(spec.examples("request")["static"])))
    first["ikepolicy"]["ike_version"] = "changed"
    first["ipsecpolicy"]["pfs"] = "changed"
    second = server.respond(fresh_tunnel_pair(copy.deepcopy(spec.examples("request")["static"])))
    assert "changed" not in (second["ikepolicy"].get("ike_version"), second["ipsecpolicy"].get("pfs"))
    assert server.builder.defaults == spec.request_defaults()
