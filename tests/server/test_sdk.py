"""The official Huawei Cloud Python SDK (huaweicloudsdkvpn) creates connections against the server.

The server verifies the SDK's SDK-HMAC-SHA256 signatures with the same fake AK/SK. A guard refuses any
connection that is not to 127.0.0.1, so the SDK cannot reach for a real endpoint or a metadata service.
"""

from __future__ import annotations

import socket

import pytest

from reference_server import ReferenceServer, running_server

AK, SK = "FAKEAK0000000000", "FAKE-SK-not-a-real-secret-0000"
PROJECT = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def loopback_only(monkeypatch):
    real = socket.socket.connect

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "localhost"):
            raise OSError(f"test guard: refused a connection to {address[0]}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def sdk_client():
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkvpn.v5 import VpnClient

    with running_server(ReferenceServer(keys={AK: SK}, quotas=False)) as url:  # (the examples, created again and again)
        config = HttpConfig.get_default_config()
        config.timeout = (5, 10)
        yield (VpnClient.new_builder().with_http_config(config)
               .with_credentials(BasicCredentials(ak=AK, sk=SK, project_id=PROJECT))
               .with_endpoint(url).build())


def sdk_request(example: dict):
    from huaweicloudsdkvpn.v5 import (
        CreateVpnConnectionRequest,
        CreateVpnConnectionRequestBody,
        CreateVpnConnectionRequestBodyContent,
        Dpd,
        IkePolicy,
        IpsecPolicy,
        PolicyRule,
    )

    conn = dict(example["vpn_connection"])
    if "ikepolicy" in conn:
        ike = dict(conn["ikepolicy"])
        ike["dpd"] = Dpd(**ike["dpd"]) if "dpd" in ike else None
        conn["ikepolicy"] = IkePolicy(**ike)
    if "ipsecpolicy" in conn:
        conn["ipsecpolicy"] = IpsecPolicy(**conn["ipsecpolicy"])
    if "policy_rules" in conn:
        conn["policy_rules"] = [PolicyRule(**r) for r in conn["policy_rules"]]
    body = CreateVpnConnectionRequestBody(vpn_connection=CreateVpnConnectionRequestBodyContent(**conn))
    return CreateVpnConnectionRequest(body=body)


@pytest.mark.parametrize("style", ["static", "policy", "bgp"])
def test_sdk_creates_a_connection_and_reads_the_model(loopback_only, sdk_client, spec, style):
    response = sdk_client.create_vpn_connection(sdk_request(spec.examples("request")[style]))
    conn = response.vpn_connection
    assert response.status_code == 201
    assert conn.style == style.upper()
    assert conn.vgw_id == spec.examples("request")[style]["vpn_connection"]["vgw_id"]
    assert conn.ikepolicy.dpd.timeout in (15, 30) and conn.ipsecpolicy.encapsulation_mode == "tunnel"
    assert response.request_id and conn.created_at == conn.updated_at
    if style == "policy":
        assert conn.policy_rules[0].source == "10.0.0.0/24"
    else:
        assert conn.tunnel_local_address.endswith("/30")


def test_sdk_sees_a_validation_error_with_code_and_request_id(loopback_only, sdk_client, spec):
    from huaweicloudsdkcore.exceptions import exceptions

    example = {"vpn_connection": {**spec.examples("request")["static"]["vpn_connection"], "psk": "weakpassword"}}
    with pytest.raises(exceptions.ClientRequestException) as info:
        sdk_client.create_vpn_connection(sdk_request(example))
    assert info.value.status_code == 400 and info.value.error_code == "VPN.0001"
    assert info.value.request_id and "psk" in info.value.error_msg


def test_sdk_drives_the_whole_lifecycle(loopback_only, sdk_client, spec):
    """Create, show, list (filtered and paged), update and delete, each through the official SDK's models."""
    from huaweicloudsdkcore.exceptions import exceptions
    from huaweicloudsdkvpn.v5 import (
        DeleteVpnConnectionRequest,
        ListVpnConnectionsRequest,
        ShowVpnConnectionRequest,
        UpdateVpnConnectionRequest,
        UpdateVpnConnectionRequestBody,
        UpdateVpnConnectionRequestBodyContent,
    )

    created = sdk_client.create_vpn_connection(sdk_request(spec.examples("request")["static"])).vpn_connection
    shown = sdk_client.show_vpn_connection(ShowVpnConnectionRequest(vpn_connection_id=created.id))
    assert shown.status_code == 200 and shown.vpn_connection.status == "PENDING_CREATE"
    assert shown.vpn_connection.name == created.name and shown.vpn_connection.created_at == created.created_at

    listed = sdk_client.list_vpn_connections(ListVpnConnectionsRequest(vgw_id=created.vgw_id, limit=1))
    assert listed.status_code == 200 and listed.total_count >= 1 and len(listed.vpn_connections) == 1

    body = UpdateVpnConnectionRequestBody(vpn_connection=UpdateVpnConnectionRequestBodyContent(name="renamed-by-sdk"))
    updated = sdk_client.update_vpn_connection(UpdateVpnConnectionRequest(vpn_connection_id=created.id, body=body))
    assert updated.status_code == 200 and updated.vpn_connection.name == "renamed-by-sdk"
    assert updated.vpn_connection.created_at == created.created_at

    deleted = sdk_client.delete_vpn_connection(DeleteVpnConnectionRequest(vpn_connection_id=created.id))
    assert deleted.status_code == 204
    with pytest.raises(exceptions.ClientRequestException) as info:
        sdk_client.show_vpn_connection(ShowVpnConnectionRequest(vpn_connection_id=created.id))
    assert info.value.status_code == 404 and info.value.error_code == "VPN.0004"
