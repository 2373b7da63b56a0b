"""The generators of the suite: repaired positive bodies keep every rule; each breaker breaks exactly its rule."""

from __future__ import annotations

import copy
import random

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from support import case_files, read_case

from contract_tests.breakers import BREAKERS, NOT_BROKEN, WORLD_BREAKERS
from contract_tests.settings import RunSettings
from vpnconn.repair import Repairer
from vpnconn.spec import SPEC_PATH
from vpnconn.validation import check_request
from vpnconn.world import OPEN_WORLD

OPERATION = schemathesis.openapi.from_path(str(SPEC_PATH))["/v5/{project_id}/vpn-connection"]["POST"]


@pytest.fixture(scope="module")
def repairer(spec):
    return Repairer(spec, RunSettings())


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=OPERATION.as_strategy())
def test_repaired_schemathesis_bodies_keep_every_rule(spec, case):
    body = Repairer(spec, RunSettings()).repair(copy.deepcopy(case.body))
    assert [(v.rule, v.message) for v in check_request(body, OPEN_WORLD)] == []


NAMED_RULE_CASES = [p for p in case_files("fail") if p.stem.startswith("x-")]  # schema-valid: repair's input


@pytest.mark.parametrize("case", NAMED_RULE_CASES, ids=lambda p: p.stem)
def test_repair_mends_every_named_rule_breach(repairer, case):
    assert check_request(repairer.repair(read_case(case)), OPEN_WORLD) == []


@pytest.mark.parametrize("style", ["static", "policy", "bgp"])
def test_restyling_gives_a_valid_body_of_that_style(repairer, spec, style):
    for example in spec.examples("request").values():
        body = repairer.restyle(copy.deepcopy(example), style)
        assert body["vpn_connection"]["style"] == style and check_request(body, OPEN_WORLD) == []


def test_every_named_rule_has_a_breaker_or_a_reason(spec):
    assert {r.id for r in spec.rules} == set(BREAKERS) | set(NOT_BROKEN) and not set(BREAKERS) & set(NOT_BROKEN)
    # (broken only where the run is told its world: else the reason, or the open world's breach beside it)
    assert set(WORLD_BREAKERS) <= set(NOT_BROKEN) | set(BREAKERS)


@pytest.mark.parametrize("rule_id", sorted(BREAKERS))
def test_each_breaker_breaks_exactly_its_rule(repairer, spec, rule_id):
    rng = random.Random(1)
    exact = 0
    for example in spec.examples("request").values():
        for _ in range(5):
            body = repairer.repair(copy.deepcopy(example))
            BREAKERS[rule_id](body["vpn_connection"], rng)
            exact += {v.rule for v in check_request(body, OPEN_WORLD)} == {f"x-{rule_id}"}
    assert exact >= 10, f"only {exact} of 15 bodies broke exactly x-{rule_id}"


def test_a_run_gives_every_tunnel_pair_once_and_avoids_the_targets(spec):
    """One repairer repairs every positive case of a run: no /30 twice, none the target already uses."""
    import ipaddress

    example = spec.examples("request")["bgp"]
    taken = "169.254.255.245/30"  # the third /30 the run would take: the target has it already
    repairer = Repairer(spec, RunSettings(), unique_tunnels=True)
    repairer.avoid_tunnels([taken, "not-an-address"])
    pairs = [repairer.repair(copy.deepcopy(example))["vpn_connection"] for _ in range(400)]
    nets = [ipaddress.IPv4Interface(p["tunnel_local_address"]).network for p in pairs]
    assert len(set(nets)) == 400 and ipaddress.IPv4Interface(taken).network not in nets
    assert ipaddress.IPv4Interface("169.254.255.249/30").network in nets  # the one before it is not skipped
    assert all(check_request({"vpn_connection": p}, OPEN_WORLD) == [] for p in pairs[::37])
    plain = Repairer(spec, RunSettings())  # fixtures: the pair given is kept (no run, nothing to collide with)
    assert plain.repair(copy.deepcopy(example)) == example


def test_a_body_built_from_another_gets_a_pair_of_its_own_but_where_its_breach_is(spec):
    """The rules phase breaks copies of accepted bodies; a lenient server may create one, so it gets a customer
    gateway and a tunnel /30 of its own (as a repaired body does), save the fields its breach is in."""
    repairer = Repairer(spec, RunSettings(), unique_tunnels=True, own_customer_gateways=True)
    base = repairer.repair(copy.deepcopy(spec.examples("request")["bgp"]))["vpn_connection"]
    fresh = copy.deepcopy(base)
    repairer.own_pair(fresh)
    assert fresh["cgw_id"] != base["cgw_id"] and fresh["tunnel_local_address"] != base["tunnel_local_address"]
    assert {k: v for k, v in fresh.items() if k not in ("cgw_id", "tunnel_local_address", "tunnel_peer_address")} == \
           {k: v for k, v in base.items() if k not in ("cgw_id", "tunnel_local_address", "tunnel_peer_address")}
    kept = copy.deepcopy(base)
    repairer.own_pair(kept, customer_gateway=False, tunnels=False)
    assert kept == base
    policy = repairer.repair(copy.deepcopy(spec.examples("request")["policy"]))["vpn_connection"]
    repairer.own_pair(policy)
    assert "tunnel_local_address" not in policy  # no tunnel in a policy connection
    plain = Repairer(spec, RunSettings())  # no run hands them out (fixtures): nothing changes
    same = copy.deepcopy(base)
    plain.own_pair(same)
    assert same == base


@pytest.mark.parametrize("psk", ["A0000000", "aaaaaaaa", "12345678", "AAAAAAAA", "~~~~~~~~", "A0aaaaaa"])
def test_repair_gives_the_psk_its_classes_without_losing_one(repairer, spec, psk):
    """Found by seed 41017 in CI: 'A0000000' (upper, digit) was mended to 'a0000000' (lower, digit), still two."""
    body = copy.deepcopy(read_case(case_files("pass")[0]))
    body["vpn_connection"]["psk"] = psk
    repairer.repair(body)
    assert not [v for v in check_request(body, OPEN_WORLD) if "psk" in v.rule], body["vpn_connection"]["psk"]
