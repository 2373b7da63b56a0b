"""The reference server serves the whole resource: show, list, update and delete over one store per project."""

from __future__ import annotations

import httpx
import pytest
from support import PATH, TOKEN

from reference_server import ReferenceServer, running_server

OTHER_PROJECT = PATH.replace("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210")


@pytest.fixture
def fresh():
    """A server of its own: these tests count and page what the store holds (created from the same examples: without
    the quotas, which the last tests prove on servers with them)."""
    app = ReferenceServer(quotas=False)
    with running_server(app) as url, httpx.Client(base_url=url, headers=TOKEN, timeout=10) as client:
        yield app, client


def create(client, spec, style="static", **fields):
    body = spec.examples("request")[style]
    body = {"vpn_connection": {**body["vpn_connection"], **fields}}
    response = client.post(PATH, json=body)
    assert response.status_code == 201, response.text
    return response.json()["vpn_connection"]


def test_show_answers_the_created_connection_with_its_status_moving_on(fresh, spec):
    _, client = fresh
    created = create(client, spec)
    first = client.get(f"{PATH}/{created['id']}")
    second = client.get(f"{PATH}/{created['id']}")
    assert first.status_code == 200 and first.headers["x-request-id"] == first.json()["request_id"]
    assert first.json()["vpn_connection"] == {**created, "status": "PENDING_CREATE"}
    assert second.json()["vpn_connection"]["status"] == "ACTIVE"


def test_an_unknown_or_deleted_connection_is_404_vpn_0004(fresh, spec):
    _, client = fresh
    created = create(client, spec)
    assert client.delete(f"{PATH}/{created['id']}").status_code == 204
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(method, f"{PATH}/{created['id']}", json={"vpn_connection": {"name": "x"}})
        assert response.status_code == 404 and response.json()["error_code"] == "VPN.0004", method


def test_delete_answers_204_without_a_body_and_frees_the_tunnel_30(fresh, spec):
    app, client = fresh
    created = create(client, spec)
    held = app.store.bookkeeping_size()
    response = client.delete(f"{PATH}/{created['id']}")
    assert response.status_code == 204 and response.content == b"" and "content-type" not in response.headers
    assert app.store.bookkeeping_size() < held


def test_another_project_sees_nothing(fresh, spec):
    _, client = fresh
    created = create(client, spec)
    assert client.get(f"{OTHER_PROJECT}/{created['id']}").status_code == 404
    assert client.get(OTHER_PROJECT).json()["total_count"] == 0
    assert client.delete(f"{OTHER_PROJECT}/{created['id']}").status_code == 404


def test_list_filters_by_gateway_and_enterprise_project(fresh, spec):
    _, client = fresh
    mine = create(client, spec)
    listed = client.get(PATH, params={"vgw_id": mine["vgw_id"]}).json()
    assert [c["id"] for c in listed["vpn_connections"]] == [mine["id"]] and listed["total_count"] == 1
    assert client.get(PATH, params={"vgw_id": "b32d91a4-0000-4b17-a8df-e907174eb11d"}).json()["vpn_connections"] == []
    by_project = client.get(PATH, params=[("enterprise_project_id", "other"), ("enterprise_project_id", "0")]).json()
    assert [c["id"] for c in by_project["vpn_connections"]] == [mine["id"]]
    assert client.get(PATH, params={"enterprise_project_id": "other"}).json()["total_count"] == 0


def test_list_pages_by_created_at_marker_without_loss_or_repeat(fresh, spec):
    _, client = fresh
    made = [create(client, spec, name=f"conn-{n}")["id"] for n in range(5)]  # within a few ms: stamps kept unique
    walked, marker, pages = [], None, 0
    while True:
        page = client.get(PATH, params={"limit": 2, **({"marker": marker} if marker else {})}).json()
        pages += 1
        walked += [c["id"] for c in page["vpn_connections"]]
        assert page["page_info"]["current_count"] == len(page["vpn_connections"]) <= 2 and page["total_count"] == 5
        marker = page["page_info"].get("next_marker")
        if not marker:
            break
    assert walked == made and pages == 3


def test_list_refuses_a_limit_out_of_range_and_an_empty_page_has_no_marker(fresh, spec):
    _, client = fresh
    create(client, spec)
    for bad in ("2001", "-1", "ten"):
        response = client.get(PATH, params={"limit": bad})
        assert response.status_code == 400 and response.json()["error_code"] == "VPN.0001", bad
    empty = client.get(PATH, params={"limit": 0}).json()
    assert empty["vpn_connections"] == [] and empty["page_info"] == {"current_count": 0} and empty["total_count"] == 1


def test_update_changes_what_it_is_given_keeps_created_at_and_advances_updated_at(fresh, spec):
    _, client = fresh
    created = create(client, spec)
    response = client.put(f"{PATH}/{created['id']}", json={"vpn_connection": {"name": "renamed", "peer_subnets": ["192.168.9.0/24"]}})
    updated = response.json()["vpn_connection"]
    assert response.status_code == 200
    assert updated == {**created, "name": "renamed", "peer_subnets": ["192.168.9.0/24"], "updated_at": updated["updated_at"]}
    assert updated["updated_at"] > created["updated_at"]
    shown = client.get(f"{PATH}/{created['id']}").json()["vpn_connection"]
    assert shown == {**updated, "status": "PENDING_UPDATE"}


def test_update_merges_a_policy_field_by_field(fresh, spec):
    _, client = fresh
    created = create(client, spec, style="bgp")
    response = client.put(f"{PATH}/{created['id']}", json={"vpn_connection": {"ikepolicy": {"lifetime_seconds": 3600}}})
    ike = response.json()["vpn_connection"]["ikepolicy"]
    assert ike == {**created["ikepolicy"], "lifetime_seconds": 3600}


@pytest.mark.parametrize("field,value", [("vgw_id", "b32d91a4-52c8-4b17-a8df-e907174eb11d"), ("style", "bgp"),
                                         ("ha_role", "slave"), ("vgw_ip", "0c464dad-7f31-4a6e-9c84-c22bb0eb0bde")])
def test_update_refuses_what_is_not_updatable_with_vpn_0013(fresh, spec, field, value):
    _, client = fresh
    created = create(client, spec)
    response = client.put(f"{PATH}/{created['id']}", json={"vpn_connection": {field: value}})
    assert response.status_code == 400 and response.json()["error_code"] == "VPN.0013"
    assert field in response.json()["error_msg"]
    assert client.get(f"{PATH}/{created['id']}").json()["vpn_connection"]["updated_at"] == created["updated_at"]


def test_update_keeps_the_rules_of_the_connection_as_updated(fresh, spec):
    _, client = fresh
    static = create(client, spec)
    rules = spec.examples("request")["policy"]["vpn_connection"]["policy_rules"]
    refused = client.put(f"{PATH}/{static['id']}", json={"vpn_connection": {"policy_rules": rules}})
    assert refused.status_code == 400 and "policy_rules" in refused.json()["error_msg"]
    half_pair = client.put(f"{PATH}/{static['id']}", json={"vpn_connection": {"tunnel_local_address": "169.254.70.1/30"}})
    assert half_pair.status_code == 400 and half_pair.json()["error_code"] == "VPN.0001"
    weak = client.put(f"{PATH}/{static['id']}", json={"vpn_connection": {"psk": "weakpassword"}})
    assert weak.status_code == 400 and "weakpassword" not in weak.text


def test_update_never_returns_the_psk(fresh, spec):
    _, client = fresh
    created = create(client, spec)
    response = client.put(f"{PATH}/{created['id']}", json={"vpn_connection": {"psk": "New-Psk-9876"}})
    assert response.status_code == 200 and "psk" not in response.text and "New-Psk-9876" not in response.text


def test_a_tunnel_pair_in_use_is_refused_with_vpn_0012_until_its_connection_is_deleted(fresh, spec):
    _, client = fresh
    first = create(client, spec, style="bgp")
    again = client.post(PATH, json=spec.examples("request")["bgp"])
    assert again.status_code == 400 and again.json()["error_code"] == "VPN.0012"
    assert first["tunnel_local_address"].rsplit(".", 1)[0] in again.json()["error_msg"]
    moved = client.put(f"{PATH}/{first['id']}", json={"vpn_connection": {"name": "same-pair-kept"}})
    assert moved.status_code == 200  # an update that keeps its own pair is not refused
    assert client.delete(f"{PATH}/{first['id']}").status_code == 204
    assert client.post(PATH, json=spec.examples("request")["bgp"]).status_code == 201


@pytest.fixture
def keeping_quotas():
    with running_server(ReferenceServer()) as url, httpx.Client(base_url=url, headers=TOKEN, timeout=10) as client:
        yield client


def own_customer_gateway(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012x}"


def test_a_gateway_takes_the_quota_of_connections_and_a_deletion_makes_room(keeping_quotas, spec):
    quota = spec.quota("connections-per-gateway")
    client = keeping_quotas
    made = [create(client, spec, "policy", name=f"vpn-{n}", cgw_id=own_customer_gateway(n)) for n in range(quota)]
    body = {"vpn_connection": {**spec.examples("request")["policy"]["vpn_connection"], "cgw_id": own_customer_gateway(quota)}}
    refused = client.post(PATH, json=body)
    error = spec.quota_error("connections-per-gateway")
    assert (refused.status_code, refused.json()["error_code"]) == (error["status"], error["error_code"]) == (400, "VPN.0001")
    assert f"holds {quota} VPN connection(s) with vgw_id" in refused.json()["error_msg"]
    assert len(client.get(PATH).json()["vpn_connections"]) == quota  # (nothing was made)
    create(client, spec, "policy", vgw_id="0c9e4d8a-2f3b-4c5d-8e6f-7a8b9c0d1e2f")  # another gateway has its own
    assert client.post(OTHER_PROJECT, json=body).status_code == 201  # another project too
    assert client.delete(f"{PATH}/{made[0]['id']}").status_code == 204
    create(client, spec, "policy", cgw_id=own_customer_gateway(quota))


def test_a_gateway_address_and_a_customer_gateway_hold_one_connection(keeping_quotas, spec):
    client, pair = keeping_quotas, "connections-per-gateway-address-and-customer-gateway"
    first = create(client, spec, "policy")
    refused = client.post(PATH, json=spec.examples("request")["policy"])
    error = spec.quota_error(pair)
    assert (refused.status_code, refused.json()["error_code"]) == (error["status"], error["error_code"]) == (400, "VPN.0001")
    assert f"holds 1 VPN connection(s) with vgw_id {first['vgw_id']}, vgw_ip {first['vgw_ip']}, cgw_id {first['cgw_id']}" \
        in refused.json()["error_msg"]
    create(client, spec, "policy", vgw_ip="1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5")  # the gateway's other address
    other = create(client, spec, "policy", cgw_id=own_customer_gateway(1))  # another customer gateway
    moved = client.put(f"{PATH}/{other['id']}", json={"vpn_connection": {"cgw_id": first["cgw_id"]}})
    assert moved.status_code == 400 and moved.json()["error_code"] == "VPN.0001"  # (an update may not share it either)
    assert client.put(f"{PATH}/{other['id']}", json={"vpn_connection": {"cgw_id": own_customer_gateway(2)}}).status_code == 200
    assert client.delete(f"{PATH}/{first['id']}").status_code == 204
    create(client, spec, "policy")  # (its pair is free again)


def test_a_quota_the_spec_adds_is_kept_without_code(tmp_path, spec):
    """A quota is its spec entry: one counting per customer gateway alone refuses a second connection from the
    gateway's other address, which the spec's own quotas allow."""
    from vpnconn.spec import load_spec

    added = ("  connections-per-customer-gateway:\n    value: 1\n    per: [cgw_id]\n"
             "    description: 'A quota of a made-up account, for this test.'\n    error: quota-exceeded\n"
             "    provenance: {inferred: 'This test.'}\nx-vpnconn-errors:\n")
    text = spec.path.read_text().replace("x-vpnconn-errors:\n", added, 1)
    (tmp_path / "openapi.yaml").write_text(text)
    with running_server(ReferenceServer(spec=load_spec(tmp_path / "openapi.yaml"))) as url, \
            httpx.Client(base_url=url, headers=TOKEN, timeout=10) as client:
        create(client, spec, "policy")
        refused = client.post(PATH, json={"vpn_connection": {**spec.examples("request")["policy"]["vpn_connection"],
                                                             "vgw_ip": "1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5"}})
        assert refused.status_code == 400 and "the quota connections-per-customer-gateway is 1" in refused.json()["error_msg"]
    with running_server(ReferenceServer()) as url, httpx.Client(base_url=url, headers=TOKEN, timeout=10) as client:
        create(client, spec, "policy")
        create(client, spec, "policy", vgw_ip="1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5")
