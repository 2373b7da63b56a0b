"""With a world file, unknown ids do not exist and each state-dependent rule applies (the fail cases cover
the refusals); these are the acceptances and what the answer then says about the gateway."""

from __future__ import annotations

import pytest
from support import CASES, PATH, fresh_tunnel_pair, read_case

from vpnconn.world import WorldError, load_world


def create(world_client, case):
    response = world_client.post(PATH, json=fresh_tunnel_pair(read_case(CASES / "pass" / f"{case}.json")))
    assert response.status_code == 201, response.text
    return response.json()["vpn_connection"]


@pytest.mark.parametrize("case", sorted(p.stem for p in (CASES / "pass").glob("*.json")))
def test_every_valid_case_is_created(world_client, case):
    create(world_client, case)


def test_gm_gateway_omits_its_ids_and_groups(world_client, spec):
    conn = create(world_client, "gm-gateway-without-psk")
    for pointer in spec.server_defaults["gm-omitted-fields"]["omit"]:
        parent, child = pointer.removeprefix("/vpn_connection/").split("/")
        assert child not in conn[parent]


@pytest.mark.parametrize("case", ["er-policy-without-peer-subnets", "er-bgp-without-peer-subnets"])
def test_er_gateway_with_policy_or_bgp_omits_peer_subnets(world_client, case):
    assert "peer_subnets" not in create(world_client, case)


def test_active_standby_keeps_the_slave_role(world_client):
    assert create(world_client, "active-standby-slave")["ha_role"] == "slave"


def test_active_active_connections_are_master(world_client):
    case = read_case(CASES / "pass" / "static-minimal.json")
    case["vpn_connection"]["ha_role"] = "slave"
    assert world_client.post(PATH, json=case).json()["vpn_connection"]["ha_role"] == "master"


def test_local_id_defaults_to_the_gateway_address_and_peer_id_to_the_customer_gateway(world_client):
    ike = create(world_client, "static-minimal")["ikepolicy"]
    assert (ike["local_id"], ike["peer_id"]) == ("203.0.113.10", "198.51.100.7")


def test_private_gateway_uses_its_private_ip_as_local_id(world_client):
    assert create(world_client, "private-gateway-ipv4")["ikepolicy"]["local_id"] == "192.168.45.7"


def test_enterprise_project_comes_from_the_gateway(world_client):
    assert create(world_client, "ipv6-gateway-policy-rules-v6")["enterprise_project_id"] == "5c9b1e2a-7d3f-4a8b-9c6d-0e1f2a3b4c5d"


def test_a_broken_world_file_names_the_place(tmp_path):
    bad = tmp_path / "world.yaml"
    bad.write_text("gateways:\n  - id: not-a-uuid\n    ha_mode: sideways\n")
    with pytest.raises(WorldError) as info:
        load_world(bad)
    assert "gateways/0/id" in str(info.value) and "gateways/0/ha_mode" in str(info.value)
