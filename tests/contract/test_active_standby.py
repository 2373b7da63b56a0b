"""An active-standby gateway: the connection on its active address is master, the one on its standby address slave
(the 2025 page; the spec's rule ``ha-role-matches-gateway-ip``). A run cannot see which kind of gateway VGW_IP belongs
to, and took every gateway for active-active, where either role is accepted: against an active-standby gateway, every
valid create that gave the other role (or none, which is master, on the standby address) was refused and reported as a
violation, with nothing the user could tell the run. Now VGW_IP_ROLE (``--vgw-ip-role active|standby``): every valid
create takes the role the address requires, and the rules phase breaks the rule (the other role), which a correct
server refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import TOKEN

from contract_tests import RunSettings, run_contract
from reference_server.app import ReferenceServer
from reference_server.embedded import running_server
from vpnconn import load_spec
from vpnconn.errors import SettingsError
from vpnconn.repair import DEFAULT_CGW_ID as CUSTOMER
from vpnconn.repair import DEFAULT_VGW_ID as GATEWAY
from vpnconn.repair import DEFAULT_VGW_IP as ACTIVE
from vpnconn.repair import Repairer, Resources
from vpnconn.world import load_world

STANDBY = "0c464dad-7f31-4a6e-9c84-c22bb0eb0bdf"  # the gateway's second EIP
RULE = "x-ha-role-matches-gateway-ip"


def world(ha_mode: str) -> str:
    return (f"gateways:\n  - id: {GATEWAY}\n    ha_mode: {ha_mode}\n    eips:\n"
            f"      - {{id: {ACTIVE}, address: 203.0.113.10, role: active}}\n"
            f"      - {{id: {STANDBY}, address: 203.0.113.11, role: standby}}\n"
            f"customer_gateways:\n  - {{id: {CUSTOMER}, ip: 198.51.100.7}}\n")


def _run(tmp_path, ha_mode: str, **options: Any):
    (tmp_path / "world.yaml").write_text(world(ha_mode))
    with running_server(ReferenceServer(token=TOKEN["X-Auth-Token"], world=load_world(tmp_path / "world.yaml"))) as url:
        return run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("examples", "rules", "lifecycle"),
                                        **options), progress=lambda _: None, live=False)


def _breaches(result) -> list:
    return [r for r in result.records if r.labels == [RULE]]


def test_the_standby_address_of_an_active_standby_gateway_passes_once_the_run_knows_it(tmp_path):
    unknown = _run(tmp_path, "active-standby", vgw_ip=STANDBY)
    assert unknown.exit_code == 1
    refusals = [r for r in unknown.violations if r.method == "POST"]
    assert refusals and all(r.status == 400 and "does not match the standby address" in (r.response_body or "") for r in refusals)
    assert any("VGW_IP_ROLE=active|standby" in n for n in unknown.notes) and not _breaches(unknown)

    known = _run(tmp_path, "active-standby", vgw_ip=STANDBY, vgw_ip_role="standby")
    assert known.exit_code == 0 and not known.violations and not known.divergences
    accepted = [json.loads(r.request_body) for r in known.records if r.method == "POST" and r.status == 201]
    assert accepted and all(body["vpn_connection"]["ha_role"] == "slave" for body in accepted)
    breaches = _breaches(known)  # master on the standby address: refused, as the rule's error
    assert len(breaches) == RunSettings().rule_cases and {r.status for r in breaches} == {400}
    assert all(json.loads(r.request_body)["vpn_connection"]["ha_role"] == "master" for r in breaches)


def test_the_active_address_takes_master(tmp_path):
    result = _run(tmp_path, "active-standby", vgw_ip_role="active")
    assert result.exit_code == 0 and not result.violations
    assert {json.loads(r.request_body)["vpn_connection"]["ha_role"] for r in _breaches(result)} == {"slave"}


def test_a_gateway_that_ignores_the_roles_is_caught(tmp_path):
    """Told the address is a standby one, the run breaks the rule; an active-active gateway (roles not checked) accepts
    each breach: a violation each."""
    result = _run(tmp_path, "active-active", vgw_ip=STANDBY, vgw_ip_role="standby")
    breaches = _breaches(result)
    assert result.exit_code == 1 and len(breaches) == RunSettings().rule_cases and {r.status for r in breaches} == {201}
    assert all(any(f.check == "named_rule_rejection" and f.severity == "violation" for f in r.failures) for r in breaches)


def test_without_the_role_an_active_active_gateway_is_judged_as_before(tmp_path):
    result = _run(tmp_path, "active-active")
    assert result.exit_code == 0 and not _breaches(result) and not any("VGW_IP_ROLE" in n for n in result.notes)


def test_the_role_is_one_of_two():
    assert RunSettings(vgw_ip_role="standby").vgw_ip_role == "standby"
    with pytest.raises(SettingsError, match="VGW_IP_ROLE must be active or standby"):
        RunSettings(vgw_ip_role="backup")


def test_the_repairer_gives_the_role_the_address_requires():
    spec = load_spec()
    body = {"vpn_connection": {"peer_subnets": ["10.1.0.0/24"], "psk": "Fake-Psk-1234", "ha_role": "master"}}
    assert Repairer(spec, Resources(vgw_ip_role="standby")).repair(body)["vpn_connection"]["ha_role"] == "slave"
    assert Repairer(spec, Resources(vgw_ip_role="active")).repair(body)["vpn_connection"]["ha_role"] == "master"
    kept = {"vpn_connection": {"peer_subnets": ["10.1.0.0/24"], "psk": "Fake-Psk-1234", "ha_role": "slave"}}
    assert Repairer(spec).repair(kept)["vpn_connection"]["ha_role"] == "slave"  # (not told: left as generated)
