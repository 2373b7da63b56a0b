"""A VPN gateway's local subnets: the VPN FAQ (vpn_faq_00107) says a local subnet cannot include a customer subnet
(a customer subnet may include a local subnet). The spec did not know it: the reference server, as a mock, took a
customer subnet inside its gateway's local subnets that the service refuses, and a contract run against a gateway
whose local subnets hold the examples' 192.168.44.0/24 (a VPC of 192.168.0.0/16, say) reported the service's
refusal of every such valid create as a violation, with no way to tell the run. Now the rule
``peer-subnets-outside-local-subnets`` (scope world: a world file's gateway gives ``local_subnets``), and a run's
LOCAL_SUBNETS (``--local-subnets``): every valid create's customer subnets keep clear of them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import PATH, TOKEN

from contract_tests import RunSettings, run_contract
from reference_server.app import ReferenceServer
from reference_server.embedded import running_server
from vpnconn import load_spec
from vpnconn.errors import SettingsError, WorldError
from vpnconn.repair import DEFAULT_CGW_ID as CUSTOMER  # (the examples' ids, the run's defaults)
from vpnconn.repair import DEFAULT_VGW_ID as GATEWAY
from vpnconn.repair import DEFAULT_VGW_IP as EIP
from vpnconn.repair import Repairer, Resources
from vpnconn.validation import check_request
from vpnconn.world import load_world


def world_with(local_subnets: list[str]) -> str:
    """The examples' ids (the run's defaults) and no other, the gateway with ``local_subnets``."""
    return (f"gateways:\n  - id: {GATEWAY}\n    local_subnets: {json.dumps(local_subnets)}\n    eips:\n"
            f"      - {{id: {EIP}, address: 203.0.113.10, role: active}}\n"
            f"customer_gateways:\n  - {{id: {CUSTOMER}, ip: 198.51.100.7}}\n")


def create(subnets: list[str]) -> dict[str, Any]:
    return {"vpn_connection": {"vgw_id": GATEWAY, "vgw_ip": EIP, "cgw_id": CUSTOMER, "peer_subnets": subnets, "psk": "Fake-Psk-1234"}}


@pytest.fixture
def world(tmp_path):
    (tmp_path / "world.yaml").write_text(world_with(["192.168.0.0/16", "10.20.0.0/24"]))
    return load_world(tmp_path / "world.yaml")


@pytest.mark.parametrize("subnets, refused", [
    (["192.168.44.0/24"], "/vpn_connection/peer_subnets/0"),  # inside a local subnet
    (["172.16.0.0/24", "10.20.0.0/24"], "/vpn_connection/peer_subnets/1"),  # equal to one
    (["192.168.0.0/15"], None),  # holds one: the FAQ allows it
    (["10.20.0.0/23", "10.20.1.0/24"], None),  # holds one; beside one
    (["172.16.0.0/24"], None),
])
def test_a_customer_subnet_within_a_local_subnet_is_refused(world, subnets, refused):
    found = [v for v in check_request(create(subnets), world=world) if v.rule == "x-peer-subnets-outside-local-subnets"]
    assert [v.pointer for v in found] == ([refused] if refused else [])
    if found:
        assert (found[0].status, found[0].error_code) == (400, "VPN.0001") and "lies within the local subnet" in found[0].message


def test_an_open_worlds_gateway_has_no_local_subnets():
    assert not check_request(create(["192.168.44.0/24"]))


def test_a_world_file_says_which_local_subnets_it_does_not_take(tmp_path):
    (tmp_path / "world.yaml").write_text(world_with(["192.168.0.0/16", "192.168.1/24"]))
    with pytest.raises(WorldError, match=r"at gateways/0/local_subnets/1: '192.168.1/24' does not match"):
        load_world(tmp_path / "world.yaml")


def test_local_subnets_of_a_run_are_ipv4_networks():
    assert RunSettings(local_subnets=("192.168.0.0/16", "10.0.0.0/8")).local_subnets == ("192.168.0.0/16", "10.0.0.0/8")
    for wrong in ("192.168.0.0", "192.168.0.0/33", "fd00::/8", "192.168.0.0/16\n"):
        with pytest.raises(SettingsError, match="LOCAL_SUBNETS must be IPv4 networks"):
            RunSettings(local_subnets=(wrong,))


def test_the_repairer_keeps_customer_subnets_clear_of_the_local_subnets():
    spec = load_spec()
    repairer = Repairer(spec, Resources(local_subnets=("192.168.0.0/16", "10.0.0.0/8")))
    body = repairer.repair(create(["192.168.44.0/24", "192.168.0.0/8", "172.16.5.0/24", "10.1.0.0/16"]))
    assert body["vpn_connection"]["peer_subnets"] == ["11.0.0.0/24", "11.0.1.0/24", "172.16.5.0/24", "11.0.2.0/24"]
    assert Repairer(spec).repair(create(["192.168.44.0/24"]))["vpn_connection"]["peer_subnets"] == ["192.168.44.0/24"]
    assert repairer.spare_subnet([], "192.168.201.0/24") == "192.169.0.0/24"  # (past the whole of 192.168.0.0/16 at once)
    assert repairer.spare_subnet(["192.169.0.0/24"], "192.168.201.0/24") == "192.169.1.0/24"
    everything = Repairer(spec, Resources(local_subnets=("0.0.0.0/0",)))
    assert everything.spare_subnet([], "10.0.0.0/24") == "10.0.0.0/24"  # none to be had: the first, at once


def _run(url: str, **options: Any):
    return run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("examples", "rules", "lifecycle"), **options),
                        progress=lambda _: None, live=False)


def test_a_gateway_whose_local_subnets_hold_the_examples_subnets_passes_once_the_run_knows_them(tmp_path):
    """The reference server with a gateway whose local subnets are 192.168.0.0/16 (the examples' customer subnet
    192.168.44.0/24 lies within them; the lifecycle's update to 192.168.201.0/24 too). Without LOCAL_SUBNETS each valid
    create of such a subnet is refused, and reported (the run cannot tell why; a note names the option); with it, none
    is sent: exit 0."""
    (tmp_path / "world.yaml").write_text(world_with(["192.168.0.0/16"]))
    with running_server(ReferenceServer(token=TOKEN["X-Auth-Token"], world=load_world(tmp_path / "world.yaml"))) as url:
        unknown = _run(url)
        known = _run(url, local_subnets=("192.168.0.0/16",))
        held = _listed(url)
    assert unknown.exit_code == 1 and unknown.violations
    assert any("valid create(s) were refused 400" in n and "LOCAL_SUBNETS=cidr" in n for n in unknown.notes)  # (what to do)
    assert not any("LOCAL_SUBNETS" in n for n in known.notes)
    refusals = [r for r in unknown.violations if r.method == "POST"]
    assert refusals and all(r.status == 400 and "lies within the local subnet" in (r.response_body or "") for r in refusals)
    assert known.exit_code == 0 and not known.violations and not known.divergences
    accepted = [json.loads(r.request_body) for r in known.records if r.method in ("POST", "PUT") and r.status in (200, 201)]
    assert len(accepted) >= 4 and not held
    assert all(not s.startswith("192.168.") for body in accepted for s in body["vpn_connection"].get("peer_subnets", []))


def test_a_refusal_the_given_local_subnets_do_not_explain_is_still_reported(tmp_path):
    """The target's gateway has local subnets the user did not name (10.0.0.0/8 beside 192.168.0.0/16): the subnets the
    repairer moves the examples' to, 10.0.0.0/24 and after, are refused, and each such refusal is a violation."""
    (tmp_path / "world.yaml").write_text(world_with(["192.168.0.0/16", "10.0.0.0/8"]))
    with running_server(ReferenceServer(token=TOKEN["X-Auth-Token"], world=load_world(tmp_path / "world.yaml"))) as url:
        result = _run(url, local_subnets=("192.168.0.0/16",))
    assert result.exit_code == 1 and not any("LOCAL_SUBNETS" in n for n in result.notes)  # (named: no hint)
    assert any(r.method == "POST" and r.status == 400 and "10.0.0.0/8" in (r.response_body or "") for r in result.violations)


def _listed(url: str) -> list[Any]:
    import httpx

    return httpx.get(url + PATH, headers=TOKEN, timeout=10).json()["vpn_connections"]


def test_a_gateway_that_ignores_its_local_subnets_is_caught_once_the_run_knows_them(tmp_path):
    """With LOCAL_SUBNETS the rules phase also breaks the rule: customer subnets equal to a local subnet, which a server
    refuses whether it reads the limit as the FAQ does (none within one) or as the console does (none equal to one).
    A server whose gateway has no local subnets (it ignores them) accepts them: a violation each."""
    (tmp_path / "world.yaml").write_text(world_with([]))
    with running_server(ReferenceServer(token=TOKEN["X-Auth-Token"], world=load_world(tmp_path / "world.yaml"))) as url:
        result = _run(url, local_subnets=("192.168.0.0/16",))
    broken = [r for r in result.records if r.labels == ["x-peer-subnets-outside-local-subnets"]]
    assert len(broken) == RunSettings().rule_cases
    assert all(json.loads(r.request_body)["vpn_connection"]["peer_subnets"][0] == "192.168.0.0/16" for r in broken)
    assert result.exit_code == 1 and {r.status for r in broken} == {201}
    assert all(any(f.check == "named_rule_rejection" and f.severity == "violation" for f in r.failures) for r in broken)


@pytest.mark.parametrize("reading", ["faq", "any overlap", "equal only"])
def test_a_gateway_that_refuses_them_passes_whichever_reading(tmp_path, monkeypatch, reading):
    """The same server with the local subnets, as the FAQ reads the limit (the reference server), as a server that
    refuses any overlap, and as one that refuses only a customer subnet equal to a local subnet (the console's "may
    overlap but not equal"): the breaches are refused, each as the rule's error; no finding."""
    from vpnconn import ipv4

    if reading == "any overlap":
        monkeypatch.setattr(ipv4, "inside", ipv4.overlaps)
    if reading == "equal only":
        within = ipv4.inside
        monkeypatch.setattr(ipv4, "inside", lambda inner, outer: inner[1] == outer[1] and within(inner, outer))
    (tmp_path / "world.yaml").write_text(world_with(["192.168.0.0/16"]))
    with running_server(ReferenceServer(token=TOKEN["X-Auth-Token"], world=load_world(tmp_path / "world.yaml"))) as url:
        result = _run(url, local_subnets=("192.168.0.0/16",))
    broken = [r for r in result.records if r.labels == ["x-peer-subnets-outside-local-subnets"]]
    assert len(broken) == RunSettings().rule_cases and {r.status for r in broken} == {400}
    assert result.exit_code == 0 and not result.violations and not result.divergences


def test_without_local_subnets_the_rule_is_not_broken_and_the_report_says_why(tmp_path):
    (tmp_path / "world.yaml").write_text(world_with([]))
    with running_server(ReferenceServer(token=TOKEN["X-Auth-Token"], world=load_world(tmp_path / "world.yaml"))) as url:
        result = _run(url)
    assert result.exit_code == 0 and not any(r.labels == ["x-peer-subnets-outside-local-subnets"] for r in result.records)
    from contract_tests.coverage import spec_coverage

    assert "x-peer-subnets-outside-local-subnets (needs the gateway's local subnets (LOCAL_SUBNETS))" in str(spec_coverage(result.records))
