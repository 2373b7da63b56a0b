"""The store keeps the newest connections and gives each gateway distinct tunnel /30s."""

from __future__ import annotations

import pytest

from reference_server.store import ConnectionStore, QuotaExceeded, TunnelPairInUse, TunnelPoolExhausted


def small_store(capacity=10_000) -> ConnectionStore:
    # 169.254.0.0/28 holds four /30s; the second one is excluded
    return ConnectionStore("169.254.0.0/28", ["169.254.0.4/30"], 30, capacity=capacity)


def test_allocation_skips_excluded_and_used_30s():
    store = small_store()
    store.claim_tunnel("gw", "169.254.0.9/30")
    assert store.allocate_tunnel("gw") == ("169.254.0.1/30", "169.254.0.2/30")
    assert store.allocate_tunnel("gw") == ("169.254.0.13/30", "169.254.0.14/30")
    with pytest.raises(TunnelPoolExhausted):
        store.allocate_tunnel("gw")
    assert store.allocate_tunnel("other-gw") == ("169.254.0.1/30", "169.254.0.2/30")


def test_evicting_the_oldest_connection_frees_its_30():
    store = small_store(capacity=2)
    for n in range(3):
        local, peer = store.allocate_tunnel("gw")
        store.add({"id": str(n), "vgw_id": "gw", "tunnel_local_address": local, "tunnel_peer_address": peer})
    assert len(store) == 2 and store.get("0") is None and store.get("2") is not None
    assert store.allocate_tunnel("gw") == ("169.254.0.1/30", "169.254.0.2/30")


def test_a_30_in_use_is_refused_to_another_connection_until_its_connection_is_deleted():
    store = small_store(capacity=2)
    store.claim_tunnel("gw", "169.254.0.1/30", owner="0")
    store.add({"id": "0", "vgw_id": "gw", "tunnel_local_address": "169.254.0.1/30", "tunnel_peer_address": "169.254.0.2/30"},
              project="p")
    with pytest.raises(TunnelPairInUse):
        store.claim_tunnel("gw", "169.254.0.2/30", owner="1")  # the peer address: the same /30
    store.claim_tunnel("gw", "169.254.0.1/30", owner="0")  # its own pair, as an update gives it again
    store.replace("p", {"id": "0", "vgw_id": "gw", "tunnel_local_address": "169.254.0.1/30",
                        "tunnel_peer_address": "169.254.0.2/30"}, {})
    store.claim_tunnel("other-gw", "169.254.0.1/30", owner="1")  # another gateway: its own tunnel range
    assert store.delete("p", "0")
    store.claim_tunnel("gw", "169.254.0.1/30", owner="1")


def test_bookkeeping_is_bounded_by_the_store_when_every_connection_is_on_a_new_gateway():
    store = small_store(capacity=5)
    for n in range(500):
        local, peer = store.allocate_tunnel(f"gw-{n}")
        store.add({"id": str(n), "vgw_id": f"gw-{n}", "tunnel_local_address": local, "tunnel_peer_address": peer})
    assert len(store) == 5 and store.bookkeeping_size() <= 20  # (four entries per connection at most)


def test_a_gateway_holds_at_most_its_quota_of_the_projects_connections():
    store = ConnectionStore("169.254.0.0/28", [], 30, quotas={"per-gateway": (("vgw_id",), 2)})
    for n in range(2):
        local, peer = store.allocate_tunnel("gw")
        store.add({"id": str(n), "vgw_id": "gw", "tunnel_local_address": local, "tunnel_peer_address": peer}, project="p")
    local, peer = store.allocate_tunnel("gw")  # (the builder takes a /30 before the store refuses the connection)
    with pytest.raises(QuotaExceeded, match="the project holds 2 VPN connection[(]s[)] with vgw_id gw: the quota per-gateway is 2"):
        store.add({"id": "2", "vgw_id": "gw", "tunnel_local_address": local, "tunnel_peer_address": peer}, project="p")
    assert store.get("2") is None
    store.claim_tunnel("gw", local)  # (its /30 was freed: no TunnelPairInUse)
    store.add({"id": "3", "vgw_id": "other-gw"}, project="p")  # another gateway, another project: their own count
    store.add({"id": "4", "vgw_id": "gw"}, project="q")
    store.replace("p", {"id": "1", "vgw_id": "gw"}, {})  # an update neither frees nor takes room
    with pytest.raises(QuotaExceeded):
        store.add({"id": "5", "vgw_id": "gw"}, project="p")
    assert store.delete("p", "0")
    store.add({"id": "6", "vgw_id": "gw"}, project="p")


def test_an_evicted_connection_frees_its_room_on_the_gateway():
    store = ConnectionStore("169.254.0.0/28", [], 30, capacity=2, quotas={"per-gateway": (("vgw_id",), 3)})
    for n in range(5):  # (the third and later would pass the quota if the evicted ones still counted)
        store.add({"id": str(n), "vgw_id": "gw"}, project="p")
    assert len(store) == 2 and store.bookkeeping_size() == 1  # (the gateway's count)


def test_a_connection_made_in_the_same_millisecond_as_the_last_gets_the_next_one_across_every_boundary():
    from reference_server.store import later_than

    assert later_than("2026-11-28T10:00:00.124Z", "2026-11-28T10:00:00.123Z") == "2026-11-28T10:00:00.124Z"
    assert later_than("2026-11-28T10:00:00.123Z", "2026-11-28T10:00:00.123Z") == "2026-11-28T10:00:00.124Z"
    assert later_than("2026-11-28T10:00:00.100Z", "2026-11-28T10:00:00.999Z") == "2026-11-28T10:00:01.000Z"
    assert later_than("2026-12-31T23:59:59.000Z", "2026-12-31T23:59:59.999Z") == "2027-01-01T00:00:00.000Z"
    assert later_than("2026-11-28T10:00:00.000Z", None) == "2026-11-28T10:00:00.000Z"


def test_the_timestamp_keeps_milliseconds_without_rounding_up_and_ends_in_z():
    from datetime import UTC, datetime

    from reference_server.store import stamp_text

    assert stamp_text(datetime(2026, 11, 28, 13, 41, 45, 999_999, tzinfo=UTC)) == "2026-11-28T13:41:45.999Z"
    assert stamp_text(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000Z"
    assert stamp_text(datetime(2026, 1, 2, 3, 4, 5, 7_000)) == "2026-01-02T03:04:05.007Z"  # naive: taken as UTC


def test_a_quota_counts_per_the_values_of_its_fields_and_an_update_that_keeps_them_takes_no_room():
    store = ConnectionStore("169.254.0.0/28", [], 30, quotas={"per-gateway": (("vgw_id",), 3),
                                                              "per-pair": (("vgw_id", "vgw_ip", "cgw_id"), 1)})
    store.add({"id": "a", "vgw_id": "gw", "vgw_ip": "ip1", "cgw_id": "c1"}, project="p")
    with pytest.raises(QuotaExceeded, match="with vgw_id gw, vgw_ip ip1, cgw_id c1: the quota per-pair is 1") as refused:
        store.add({"id": "b", "vgw_id": "gw", "vgw_ip": "ip1", "cgw_id": "c1"}, project="p")
    assert refused.value.quota == "per-pair"
    store.add({"id": "b", "vgw_id": "gw", "vgw_ip": "ip2", "cgw_id": "c1"}, project="p")  # the gateway's other address
    store.replace("p", {"id": "a", "vgw_id": "gw", "vgw_ip": "ip1", "cgw_id": "c1", "name": "x"}, {})  # keeps its values
    with pytest.raises(QuotaExceeded, match="the quota per-pair"):  # an update may not move where the quota is full
        store.replace("p", {"id": "b", "vgw_id": "gw", "vgw_ip": "ip1", "cgw_id": "c1"}, {})
    store.replace("p", {"id": "b", "vgw_id": "gw", "vgw_ip": "ip2", "cgw_id": "c2"}, {})  # (frees ip2 with c1)
    store.add({"id": "c", "vgw_id": "gw", "vgw_ip": "ip2", "cgw_id": "c1"}, project="p")
    with pytest.raises(QuotaExceeded, match="the quota per-gateway is 3"):
        store.add({"id": "d", "vgw_id": "gw", "vgw_ip": "ip3", "cgw_id": "c3"}, project="p")
    assert ConnectionStore("169.254.0.0/28", [], 30).add({"id": "a"}) and len(store) == 3  # (no quotas: none kept)


def test_a_connection_moved_to_the_next_millisecond_keeps_its_updated_at_equal_or_after():
    """The reference server's updated_at equals created_at; a server that stamps it later (the correct-but-different
    one) keeps it later when the store moves created_at on, so that its answers do not depend on timing."""
    import json

    store = small_store()
    stamp = "2026-11-28T10:00:00.123Z"
    store.add({"id": "0", "vgw_id": "gw", "created_at": stamp, "updated_at": stamp})
    equal = json.loads(store.add({"id": "1", "vgw_id": "gw", "created_at": stamp, "updated_at": stamp}))
    assert equal["created_at"] == equal["updated_at"] == "2026-11-28T10:00:00.124Z"
    later = json.loads(store.add({"id": "2", "vgw_id": "gw", "created_at": stamp, "updated_at": "2026-11-28T10:00:00.124Z"}))
    assert (later["created_at"], later["updated_at"]) == ("2026-11-28T10:00:00.125Z", "2026-11-28T10:00:00.126Z")
    much_later = json.loads(store.add({"id": "3", "vgw_id": "gw", "created_at": stamp, "updated_at": "2026-11-28T10:00:09.000Z"}))
    assert (much_later["created_at"], much_later["updated_at"]) == ("2026-11-28T10:00:00.126Z", "2026-11-28T10:00:09.000Z")
