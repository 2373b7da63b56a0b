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

    with running_server(ReferenceServer(keys={AK: SK})) as url:
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
