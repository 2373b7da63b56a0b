"""Gateways of other kinds than the open world's: attached to an enterprise router (ER), GM (national cryptography) and
IPv6. A run cannot see what its gateway is (the VPN gateway API's resource, not this one's) and took every gateway for a
VPC-attached IPv4 gateway of another flavor than GM: against such a gateway, a correct server was reported for every
POLICY or BGP answer without peer_subnets (ER: the spec's er-omits-peer-subnets), every create with a psk (GM:
psk-required-unless-gm) and every POLICY create without IPv6 rules (IPv6: policy-rules-match-ip-version), with nothing
the user could tell the run. Now VGW_ATTACHMENT=er, VGW_FLAVOR=GM and VGW_IP_VERSION=ipv6 tell it: valid creates keep
to the gateway, the checks expect what it leaves out of its answers, and the rules phase breaks the rules in the world
so told; the embedded server serves such a gateway."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from support import TOKEN

from commands.cli import main as vpnconn
from contract_tests import RunSettings, run_contract
from contract_tests.breakers import WORLD_BREAKERS
from contract_tests.checks import Answer, judging_in, run_checks
from reference_server.app import ReferenceServer, Reject
from reference_server.embedded import running_server
from reference_server.variants import OtherChoicesServer
from vpnconn import load_spec
from vpnconn.constraints import request_constraints
from vpnconn.errors import SettingsError
from vpnconn.repair import DEFAULT_CGW_ID as CUSTOMER
from vpnconn.repair import DEFAULT_VGW_ID as GATEWAY
from vpnconn.repair import DEFAULT_VGW_IP as ADDRESS
from vpnconn.repair import Repairer, Resources
from vpnconn.validation import check_request
from vpnconn.world import OPEN_WORLD, load_world, told_world

PHASES = ("examples", "rules", "lifecycle")


def _run(tmp_path, kind: str, adjust: Callable[[ReferenceServer], None] = lambda server: None, **told: Any):
    """A run against the reference server whose gateway is of ``kind`` (a world file's line: 'attachment_type: er'), or an
    open-world gateway where ``kind`` is empty; ``adjust`` makes it faulty or otherwise; ``told``: what the run is told."""
    (tmp_path / "world.yaml").write_text(f"gateways:\n  - id: {GATEWAY}\n    {kind or 'flavor: Professional1'}\n"
                                         f"    eips:\n      - {{id: {ADDRESS}, address: 203.0.113.10}}\n"
                                         f"customer_gateways:\n  - {{id: {CUSTOMER}, ip: 198.51.100.7}}\n")
    server = ReferenceServer(token=TOKEN["X-Auth-Token"], world=load_world(tmp_path / "world.yaml"))
    adjust(server)
    with running_server(server) as url:
        return run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=PHASES, **told),
                            progress=lambda _: None, live=False)


def _breaches(result, rule: str) -> list:
    return [r for r in result.records if r.labels == [f"x-{rule}"]]


def _accepted(result) -> list[dict[str, Any]]:
    return [json.loads(r.request_body)["vpn_connection"] for r in result.records
            if r.method == "POST" and r.status == 201 and r.request_body]


def _checks(result) -> set[str]:
    return {f.check for r in result.violations for f in r.failures if f.severity == "violation"}


# ------------------------------------------------------------------------------------------------ ER

def test_an_er_attached_gateway_passes_once_the_run_knows_it(tmp_path):
    unknown = _run(tmp_path, "attachment_type: er")
    assert unknown.exit_code == 1 and _checks(unknown) >= {"response_echoes_request"}
    assert any("VGW_ATTACHMENT=er" in note for note in unknown.notes)

    known = _run(tmp_path, "attachment_type: er", vgw_attachment="er")
    assert known.exit_code == 0 and not known.violations and not known.divergences
    breaches = _breaches(known, "peer-subnets-required-unless-er")  # a STATIC connection still needs them
    assert len(breaches) == RunSettings().rule_cases and {r.status for r in breaches} == {400}
    assert {json.loads(r.request_body)["vpn_connection"].get("style", "static") for r in breaches} == {"static"}
    assert not any("VGW_ATTACHMENT" in note for note in known.notes)
    # and a POLICY and a BGP connection without peer_subnets, which only such a gateway takes: accepted
    assert {conn["style"] for conn in _accepted(known) if "peer_subnets" not in conn} == {"policy", "bgp"}


def test_a_gateway_that_is_not_er_attached_is_caught_when_told_it_is(tmp_path):
    """Told ER, the run sends POLICY and BGP connections without peer_subnets: a VPC gateway refuses them."""
    result = _run(tmp_path, "", vgw_attachment="er")
    refused = [r for r in result.violations if r.phase == "rules" and r.status == 400]
    assert result.exit_code == 1 and refused and "positive_data_acceptance" in _checks(result)
    assert all("peer_subnets" not in json.loads(r.request_body)["vpn_connection"] for r in refused)


def test_an_er_gateway_that_leaves_out_a_static_connections_subnets_is_caught(tmp_path):
    def every_style(server: ReferenceServer) -> None:
        server.builder.er_omit_styles = {"static", "policy", "bgp"}

    result = _run(tmp_path, "attachment_type: er", every_style, vgw_attachment="er")
    assert result.exit_code == 1
    assert {r.body["vpn_connection"].get("style", "static") for r in result.violations if r.phase == "rules"} == {"static"}


def test_an_er_gateway_that_answers_the_subnets_all_the_same_passes(tmp_path):
    """The pages say an ER-attached gateway leaves them out; one that answers them is judged on them, and they hold."""
    def keeps_them(server: ReferenceServer) -> None:
        server.builder.er_omit_styles = set()

    result = _run(tmp_path, "attachment_type: er", keeps_them, vgw_attachment="er")
    assert result.exit_code == 0 and not result.violations


def test_an_er_gateway_that_answers_other_subnets_is_caught(tmp_path):
    """What an answer carries is judged, told ER or not: the subnets a POLICY or BGP answer carries are the ones sent."""
    def others(server: ReferenceServer) -> None:
        build = server.builder.build
        server.builder.er_omit_styles = set()

        def with_other_subnets(*args: Any, **kwargs: Any) -> dict[str, Any]:
            built = build(*args, **kwargs)
            return {**built, "peer_subnets": ["10.99.0.0/24"]} if built["style"] in ("POLICY", "BGP") else built

        server.builder.build = with_other_subnets  # type: ignore[method-assign]

    result = _run(tmp_path, "attachment_type: er", others, vgw_attachment="er")
    assert result.exit_code == 1 and "response_echoes_request" in _checks(result)


# ------------------------------------------------------------------------------------------------ GM

def test_a_gm_gateway_passes_once_the_run_knows_it(tmp_path):
    unknown = _run(tmp_path, "flavor: GM")
    refusals = [r for r in unknown.violations if r.method == "POST" and r.status == 400]
    assert unknown.exit_code == 1 and refusals and all("psk must be left out" in (r.response_body or "") for r in refusals)
    assert any("VGW_FLAVOR=GM" in note for note in unknown.notes)

    known = _run(tmp_path, "flavor: GM", vgw_flavor="GM")
    assert known.exit_code == 0 and not known.violations and not known.divergences
    accepted = _accepted(known)
    assert accepted and not any("psk" in conn for conn in accepted)
    # the rules phase's valid cases are judged on the GM gateway too (on the open world's, each would lack a psk): the
    # name's upper bound among them
    longest = next(c.value for c in request_constraints(load_spec()) if c.name == "name.maxLength")
    assert any(r.phase == "rules" and r.mode == "positive" and len(json.loads(r.request_body)["vpn_connection"].get("name", ""))
               == longest for r in known.records)
    breaches = _breaches(known, "psk-required-unless-gm")  # a psk on a GM gateway: refused
    assert len(breaches) == RunSettings().rule_cases and {r.status for r in breaches} == {400}
    assert all("psk" in json.loads(r.request_body)["vpn_connection"] for r in breaches)


def test_a_gateway_that_is_no_gm_gateway_is_caught_when_told_it_is(tmp_path):
    """Told GM, valid creates leave out the psk and the run sends one on purpose: a gateway that refuses the creates
    without one fails; that it takes one is a divergence only, as the rule is inferred (the English page lists psk as
    optional without a condition)."""
    result = _run(tmp_path, "", vgw_flavor="GM")
    breaches = _breaches(result, "psk-required-unless-gm")
    assert result.exit_code == 1 and "positive_data_acceptance" in _checks(result)
    assert len(breaches) == RunSettings().rule_cases and {r.status for r in breaches} == {201}
    assert all({(f.check, f.severity) for f in r.failures} == {("named_rule_rejection", "divergence")} for r in breaches)


def test_a_gm_gateway_that_answers_the_ike_fields_all_the_same_passes(tmp_path):
    """The zh table says a GM gateway leaves them out; one that answers them is judged on them, and they hold."""
    def keeps_them(server: ReferenceServer) -> None:
        server.builder.gm_omit = []

    result = _run(tmp_path, "flavor: GM", keeps_them, vgw_flavor="GM")
    assert result.exit_code == 0 and not result.violations


def test_a_gm_gateway_that_leaves_out_more_than_the_pages_say_is_caught(tmp_path):
    def more(server: ReferenceServer) -> None:
        server.builder.gm_omit = [*server.builder.gm_omit, ("ikepolicy", "authentication_algorithm")]

    result = _run(tmp_path, "flavor: GM", more, vgw_flavor="GM")
    assert result.exit_code == 1 and "documented_defaults" in _checks(result)


def test_a_gm_gateway_of_the_national_algorithms_passes_once_the_run_knows_it():
    """The zh pages say a GM gateway's authentication algorithm is sm3 (gm-algorithms): the correct-but-different server
    gives a GM gateway's connections sm3, sm4 and digital-envelope-v2 where the create names none, and refuses a create
    that names another. Told GM, a run names none in its valid creates and takes those values for the defaults; the
    answers' other differences are its other choices, divergences."""
    told = RunSettings(vgw_flavor="GM")  # (a told world: every customer gateway exists, so that no create waits for the
    with running_server(OtherChoicesServer(token=TOKEN["X-Auth-Token"], world=told_world(told))) as url:  # server's slow deletions)
        result = run_contract(replace(told, target=url, token=TOKEN["X-Auth-Token"], phases=PHASES),
                              progress=lambda _: None, live=False)
    assert result.exit_code == 0 and not result.violations
    created = [json.loads(r.response_body)["vpn_connection"] for r in result.records
               if r.method == "POST" and r.status == 201 and r.response_body]
    national = load_spec().gm_values
    assert created and all(c[policy][key] == value for c in created for (policy, key), value in national.items())
    assert not any(key in conn.get(policy, {}) for conn in _accepted(result) for policy, key in national)


def test_a_gm_gateway_that_fills_in_another_algorithm_is_caught(tmp_path):
    """Neither the documented default nor the national algorithm: md5, which no page gives a connection left without one."""
    def md5(server: ReferenceServer) -> None:
        server.builder.gm_national = True
        server.builder.gm_values = {**server.builder.gm_values, ("ikepolicy", "authentication_algorithm"): "md5"}

    result = _run(tmp_path, "flavor: GM", md5, vgw_flavor="GM")
    findings = [f.message for r in result.violations for f in r.failures if f.check == "documented_defaults"]
    assert result.exit_code == 1 and findings
    assert all("ikepolicy.authentication_algorithm: expected 'sha2-256' or the GM gateway's 'sm3', got 'md5'" in m for m in findings)


# ------------------------------------------------------------------------------------------------ IPv6

def test_an_ipv6_gateway_passes_once_the_run_knows_it(tmp_path):
    unknown = _run(tmp_path, "ip_version: ipv6")
    assert unknown.exit_code == 1 and any("VGW_IP_VERSION=ipv6" in note for note in unknown.notes)

    known = _run(tmp_path, "ip_version: ipv6", vgw_ip_version="ipv6")
    assert known.exit_code == 0 and not known.violations and not known.divergences
    policies = [conn for conn in _accepted(known) if conn.get("style") == "policy"]
    assert policies and all(conn.get("policy_rules_v6") for conn in policies)
    breaches = _breaches(known, "policy-rules-match-ip-version")  # IPv4 rules alone on an IPv6 gateway: refused
    assert len(breaches) == RunSettings().rule_cases and {r.status for r in breaches} == {400}
    assert not any("policy_rules_v6" in json.loads(r.request_body)["vpn_connection"] for r in breaches)


def test_an_ipv4_gateway_is_caught_when_told_it_is_ipv6(tmp_path):
    result = _run(tmp_path, "", vgw_ip_version="ipv6")
    breaches = _breaches(result, "policy-rules-match-ip-version")
    assert result.exit_code == 1 and {r.status for r in breaches} == {201} and "named_rule_rejection" in _checks(result)


# ------------------------------------------------------------------------------------------------ the embedded server

@pytest.mark.parametrize("told", [{"local_subnets": ("192.168.0.0/16",)}, {"vgw_ip_role": "standby"},
                                  {"vgw_attachment": "er", "vgw_flavor": "GM", "vgw_ip_version": "ipv6"}],
                         ids=["local-subnets", "standby", "er-gm-ipv6"])
def test_without_a_target_the_embedded_server_serves_the_gateway_the_run_is_told_of(told):
    """`make contract LOCAL_SUBNETS=...` with no TARGET reported its own server (an open world without local subnets)
    for each of the rules phase's breaches; now the embedded server's gateway is the told one."""
    result = run_contract(RunSettings(phases=("examples", "rules", "lifecycle"), **told), progress=lambda _: None, live=False)
    assert result.exit_code == 0 and not result.violations
    world_breaches = [r for r in result.records if r.labels and r.labels[0] in (
        "x-peer-subnets-outside-local-subnets", "x-ha-role-matches-gateway-ip", "x-psk-required-unless-gm")]
    assert world_breaches and {r.status for r in world_breaches} == {400}
    assert any(r.method == "PUT" and r.status == 200 for r in result.records)  # (the lifecycle's update, judged)


def test_serve_refuses_gateway_facts_beside_a_world_file_and_a_mistyped_flavor(tmp_path, capsys):
    (tmp_path / "world.yaml").write_text(f"gateways:\n  - id: {GATEWAY}\n")
    refused = subprocess.run([sys.executable, "-m", "commands.cli", "serve", "--port", "0", "--world", str(tmp_path / "world.yaml"),
                              "--vgw-flavor", "GM"], capture_output=True, text=True, timeout=60)  # (it must not serve)
    assert refused.returncode == 2 and "describe them there" in refused.stderr
    assert vpnconn(["serve", "--port", "0", "--vgw-flavor", "gm"]) == 2
    assert "VGW_FLAVOR must be the gateway's flavor as the VPN gateway API writes it" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ correct, but different

@pytest.mark.parametrize("told", [{"vgw_attachment": "er"}, {"vgw_ip_role": "standby"}, {"local_subnets": ("192.168.0.0/16",)}],
                         ids=["er", "standby", "local-subnets"])
def test_the_correct_but_different_server_passes_on_each_told_gateway(told):
    """It writes what it leaves out as an empty list (an ER-attached gateway's peer_subnets: `[]`, which was reported as
    not echoed), and ignores an attribute no request schema lists, then refuses the body for what the told gateway's
    rules refuse (an ha_role or a customer subnet: 400 VPN.0001, which was reported as not VPN.0013)."""
    settings = RunSettings(**told)
    with running_server(OtherChoicesServer(token=TOKEN["X-Auth-Token"], world=told_world(settings))) as url:
        result = run_contract(replace(settings, target=url, token=TOKEN["X-Auth-Token"], phases=("examples", "coverage")),
                              progress=lambda _: None, live=False)
    assert result.exit_code == 0 and not result.violations


def test_a_refusal_for_the_told_gateways_rules_names_a_failure_of_the_body():
    """A body with an attribute no schema lists, on the standby address with the default ha_role (master): refused 400
    VPN.0001 for the role by a server that checks its gateway first, or ignores the attribute. In the open world there
    is no such failure: the check wants VPN.0013; told, either."""
    body = json.loads(json.dumps(load_spec().examples("request")["static"]))
    body["vpn_connection"]["not_listed"] = 1
    for_the_role = Answer(400, {"X-Request-Id": "r-1"}, b'{"error_code": "VPN.0001", "error_msg": "x", "request_id": "r-1"}')
    assert [f.severity for f in run_checks(for_the_role, body, only=("error_contract",))] == ["violation"]
    with judging_in(told_world(RunSettings(vgw_ip_role="standby"))):
        assert not run_checks(for_the_role, body, only=("error_contract",))
    with judging_in(told_world(RunSettings(vgw_ip_role="active"))):  # (the active address: master is its role)
        assert [f.severity for f in run_checks(for_the_role, body, only=("error_contract",))] == ["violation"]


# ------------------------------------------------------------------------------------------------ the parts

def test_the_gateway_facts_are_checked():
    for wrong in ({"vgw_attachment": "router"}, {"vgw_ip_version": "6"}, {"vgw_flavor": "gm"}, {"vgw_flavor": "G M"}):
        with pytest.raises(SettingsError):
            RunSettings(**wrong)
    assert RunSettings(vgw_flavor="Professional2-NonFixedIP").vgw_flavor == "Professional2-NonFixedIP"


def test_a_told_world_is_the_open_world_but_for_what_was_told():
    assert told_world(RunSettings()) is OPEN_WORLD and told_world(RunSettings(vgw_attachment="vpc")) is OPEN_WORLD
    gateway = told_world(RunSettings(vgw_flavor="GM", vgw_attachment="er", vgw_ip_version="ipv6")).gateway(GATEWAY)
    assert gateway is not None and gateway.is_gm and gateway.attachment_type == "er" and gateway.ip_version == "ipv6"
    assert told_world(RunSettings(vgw_flavor="GM")).gateway(CUSTOMER).is_gm is False  # (another gateway: the open world's)


@pytest.mark.parametrize("style", ["static", "policy", "bgp"])
def test_the_repairer_keeps_a_body_to_the_told_gateway(style):
    spec = load_spec()
    told = Resources(vgw_flavor="GM", vgw_ip_version="ipv6")
    body = Repairer(spec, told).restyle(json.loads(json.dumps(spec.examples("request")["static"])), style)
    conn = body["vpn_connection"]
    assert "psk" not in conn and (style != "policy" or conn.get("policy_rules_v6"))
    assert not check_request(body, told_world(told))
    assert check_request(body, OPEN_WORLD)  # (the open world's gateway needs a psk)


def test_the_repairer_names_no_algorithm_to_a_gm_gateway():
    """The bgp example names its algorithms (sha2-512, aes-256): on a GM gateway the repaired body leaves them to it."""
    example = load_spec().examples("request")["bgp"]
    conn = Repairer(load_spec(), Resources(vgw_flavor="GM")).repair(json.loads(json.dumps(example)))["vpn_connection"]
    assert not any(key in conn.get(policy, {}) for policy, key in load_spec().gm_values)
    assert conn["ikepolicy"]["dh_group"] == example["vpn_connection"]["ikepolicy"]["dh_group"]  # (the rest kept)
    kept = Repairer(load_spec()).repair(json.loads(json.dumps(example)))["vpn_connection"]  # (elsewhere: as it was)
    assert kept["ikepolicy"]["authentication_algorithm"] == "sha2-512"


def _created_without_algorithms(national: dict[tuple[str, str], str]) -> tuple[Answer, dict[str, Any]]:
    """The reference server's 201 to the static example on a GM gateway, with ``national`` filled in."""
    sent = {"vpn_connection": {**load_spec().examples("request")["static"]["vpn_connection"], "vgw_id": GATEWAY}}
    sent["vpn_connection"].pop("psk")
    connection = ReferenceServer(world=told_world(Resources(vgw_flavor="GM"))).respond(json.loads(json.dumps(sent)))
    for (policy, key), value in national.items():
        connection[policy][key] = value
    return Answer(201, {"X-Request-Id": "r-1"}, json.dumps({"vpn_connection": connection, "request_id": "r-1"}).encode()), sent


def test_a_gm_gateways_national_algorithms_are_defaults_only_where_the_run_is_told_the_gateway_is_gm():
    answer, sent = _created_without_algorithms(load_spec().gm_values)
    [open_world] = run_checks(answer, sent, only=("documented_defaults",))
    assert open_world.severity == "violation" and "expected 'sha2-256', got 'sm3'" in open_world.message
    with judging_in(told_world(RunSettings(vgw_flavor="GM"))):
        assert not run_checks(answer, sent, only=("documented_defaults",))
        assert not run_checks(*_created_without_algorithms({}), only=("documented_defaults",))  # (the documented ones too)


def test_a_refusal_on_a_gm_gateway_of_a_body_that_names_another_algorithm_is_a_divergence():
    """A body the spec refuses for an attribute it does not list (400 VPN.0013), which also names sha2-256: a GM
    gateway that takes the national algorithms alone refuses it as a request it will not carry out (400 VPN.0001)."""
    body = json.loads(json.dumps(load_spec().examples("request")["bgp"]))
    body["vpn_connection"]["ikepolicy"]["not_listed"] = 1
    body["vpn_connection"].pop("psk")  # (a psk on a GM gateway is a failure of its own, which a refusal may name)
    refusal = Answer(400, {"X-Request-Id": "r-1"}, b'{"error_code": "VPN.0001", "error_msg": "invalid", "request_id": "r-1"}')
    [open_world] = run_checks(refusal, body, only=("error_contract",))
    assert open_world.severity == "violation"
    with judging_in(told_world(RunSettings(vgw_flavor="GM"))):
        [on_gm] = run_checks(refusal, body, only=("error_contract",))
        assert (on_gm.severity, on_gm.rule) == ("divergence", "gm_national_algorithms")
        assert 'ikepolicy.authentication_algorithm "sha2-512"' in on_gm.message
        other_code = Answer(400, {"X-Request-Id": "r-1"}, b'{"error_code": "VPN.0204", "error_msg": "x", "request_id": "r-1"}')
        assert [f.severity for f in run_checks(other_code, body, only=("error_contract",))] == ["violation"]  # (not its code)
        body["vpn_connection"]["ikepolicy"] = {"not_listed": 1}  # (naming none of them: the refusal is the check's)
        body["vpn_connection"].pop("ipsecpolicy")
        assert [f.severity for f in run_checks(refusal, body, only=("error_contract",))] == ["violation"]


def test_the_correct_but_different_server_refuses_another_algorithm_on_a_gm_gateway():
    example = load_spec().examples("request")["bgp"]
    gm = told_world(Resources(vgw_flavor="GM"))
    body = Repairer(load_spec(), Resources(vgw_flavor="GM")).repair(json.loads(json.dumps(example)))
    assert OtherChoicesServer(world=gm).respond(json.loads(json.dumps(body)))["ikepolicy"]["authentication_algorithm"] == "sm3"
    body["vpn_connection"]["ipsecpolicy"]["encryption_algorithm"] = "aes-256"
    with pytest.raises(Reject, match="a GM gateway uses sm4 as its ipsecpolicy.encryption_algorithm, not aes-256"):
        OtherChoicesServer(world=gm).respond(body)
    assert ReferenceServer(world=gm).respond(body)["ipsecpolicy"]["encryption_algorithm"] == "aes-256"  # (the reference: any)


@pytest.mark.parametrize(("rule_id", "told"), [("psk-required-unless-gm", Resources(vgw_flavor="GM")),
                                               ("policy-rules-match-ip-version", Resources(vgw_ip_version="ipv6"))])
def test_a_world_breaker_breaks_exactly_its_rule_on_the_told_gateway_and_nothing_elsewhere(rule_id, told):
    spec, rng = load_spec(), random.Random(1)
    for example in spec.examples("request").values():
        body = Repairer(spec, told).repair(json.loads(json.dumps(example)))
        assert WORLD_BREAKERS[rule_id](body["vpn_connection"], rng, told_world(told))
        assert [v.rule for v in check_request(body, told_world(told))] == [f"x-{rule_id}"]
        assert not WORLD_BREAKERS[rule_id](json.loads(json.dumps(example))["vpn_connection"], rng, OPEN_WORLD)
