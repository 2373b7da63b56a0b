"""The spec itself: valid OpenAPI 3.1, lint-clean, examples that match it, rules that are implemented."""

from __future__ import annotations

import copy
import hashlib

import pytest

from commands.check import example_problems, lint_problems, rule_registry_problems
from vpnconn.documented import documented_only
from vpnconn.spec import Spec, SpecError, load_spec
from vpnconn.validation import check_request, schema_errors


def test_spec_loads_as_valid_openapi_31(spec):
    assert spec.document["openapi"] == "3.1.0"
    assert spec.operation["operationId"] == "CreateVpnConnection"


def test_spectral_lints_the_spec_clean(spec):
    assert list(lint_problems(spec)) == []


def test_every_example_matches_its_schema(spec):
    assert list(example_problems(spec)) == []


def test_there_is_a_request_and_a_response_example_per_style(spec):
    assert set(spec.examples("request")) == {"static", "policy", "bgp"}
    assert set(spec.examples("201")) == {"static", "policy", "bgp"}
    styles = {name: ex["vpn_connection"]["style"] for name, ex in spec.examples("201").items()}
    assert styles == {"static": "STATIC", "policy": "POLICY", "bgp": "BGP"}


def test_every_spec_rule_has_one_implementation_and_no_more(spec):
    assert list(rule_registry_problems(spec)) == []


@pytest.mark.parametrize("status,pointer", [("request", "ipsecpolicy"), ("201", "ipsecpolicy")])
def test_a_broken_example_is_reported(spec, status, pointer):
    broken = copy.deepcopy(spec.document)
    operation = broken["paths"]["/v5/{project_id}/vpn-connection"]["post"]
    media = operation["requestBody"] if status == "request" else operation["responses"][status]
    media["content"]["application/json"]["examples"]["bgp"]["value"]["vpn_connection"][pointer]["lifetime_seconds"] = 7
    broken_spec = Spec(path=spec.path, document=broken, sha256="x", rules=spec.rules)
    problems = list(example_problems(broken_spec))
    assert len(problems) == 1 and "'bgp'" in problems[0] and "lifetime_seconds" in problems[0]


def test_an_invalid_spec_file_gives_one_clear_error(tmp_path):
    bad = tmp_path / "openapi.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n")
    with pytest.raises(SpecError, match="not a valid OpenAPI 3.1 document"):
        load_spec(bad)


def test_bytes_that_passed_validation_once_are_not_validated_again(tmp_path, monkeypatch, spec):
    """Every process of a run loads the spec; the OpenAPI validation (a second and more) runs once per spec bytes."""
    import openapi_spec_validator

    from vpnconn import spec as spec_module

    monkeypatch.setattr(spec_module, "VALIDATED_DIR", tmp_path / "valid-specs")
    calls: list[int] = []
    real = openapi_spec_validator.validate
    monkeypatch.setattr(openapi_spec_validator, "validate", lambda document: calls.append(1) or real(document))
    raw = spec.path.read_bytes()
    for n, text in enumerate((raw, raw, raw + b"\n# one more line\n")):  # (load_spec caches per path: a path each)
        (tmp_path / str(n)).mkdir()
        (tmp_path / str(n) / "openapi.yaml").write_bytes(text)
        assert load_spec(tmp_path / str(n) / "openapi.yaml").sha256 == hashlib.sha256(text).hexdigest()
    assert len(calls) == 2  # the first bytes once, the changed bytes once
    assert len(list((tmp_path / "valid-specs").iterdir())) == 2


def test_an_invalid_spec_is_refused_however_often_it_is_loaded(tmp_path, monkeypatch):
    from vpnconn import spec as spec_module

    monkeypatch.setattr(spec_module, "VALIDATED_DIR", tmp_path / "valid-specs")
    for n in range(2):
        bad = tmp_path / f"openapi-{n}.yaml"
        bad.write_text("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n")
        with pytest.raises(SpecError, match="not a valid OpenAPI 3.1 document"):
            load_spec(bad)
    assert not (tmp_path / "valid-specs").exists()


def test_libyaml_and_pyyaml_read_the_same_spec(spec):
    """The spec is read with libyaml where PyYAML has it; the document is the one the pure-Python loader reads."""
    import yaml

    from vpnconn.spec import YAML_LOADER

    for path in (spec.path, spec.path.parent / "published" / "openapi.yaml"):
        assert yaml.load(path.read_bytes(), Loader=YAML_LOADER) == yaml.load(path.read_bytes(), Loader=yaml.SafeLoader)


def test_a_missing_spec_file_is_named(tmp_path):
    with pytest.raises(SpecError, match="cannot read the spec"):
        load_spec(tmp_path / "nope.yaml")


def test_every_answer_schema_refuses_a_psk_by_name_without_its_value(spec):
    answer = copy.deepcopy(spec.examples("201")["static"])
    answer["vpn_connection"]["psk"] = "Fake-Psk-1234"
    assert schema_errors("CreateVpnConnectionResponse", answer) == ["/vpn_connection/psk: 'psk' must not be present"]
    shown = {"vpn_connection": {**answer["vpn_connection"], "status": "ACTIVE"}, "request_id": "r"}
    assert schema_errors("ShowVpnConnectionResponse", shown) == ["/vpn_connection/psk: 'psk' must not be present"]


def test_the_create_answer_refuses_the_show_only_fields_by_name(spec):
    """status and bgp_peer are not in the create answer (its page's table lists neither, the sources say so); the
    update answer, which shares the connection's schema, is not held to that (no source says). The create page's
    table lists connection_monitor_id: either answer may carry it."""
    for name, value in (("status", "ACTIVE"), ("bgp_peer", {}), ("connection_monitor_id", "m")):
        answer = copy.deepcopy(spec.examples("201")["static"])
        answer["vpn_connection"][name] = value
        refused = [f"/vpn_connection/{name}: '{name}' must not be present"] if name != "connection_monitor_id" else []
        assert schema_errors("CreateVpnConnectionResponse", answer, documented_only(spec)) == refused
        assert (schema_errors("CreateVpnConnectionResponse", answer) == []) == (not refused)
        assert schema_errors("UpdateVpnConnectionResponse", answer, documented_only(spec)) == []


@pytest.mark.parametrize("style,forbidden", [("STATIC", "policy_rules"), ("POLICY", "enable_nqa"), ("BGP", "policy_rules")])
def test_response_schema_keeps_fields_to_their_style(spec, style, forbidden):
    answer = copy.deepcopy(spec.examples("201")[style.lower()])
    answer["vpn_connection"][forbidden] = [] if forbidden == "policy_rules" else False
    assert schema_errors("CreateVpnConnectionResponse", answer)


@pytest.mark.parametrize("style", ["static", "policy", "bgp"])
def test_enable_hub_is_in_a_create_answer_of_any_style_and_in_a_show_for_bgp_only(spec, style):
    """The 2025 create table lists enable_hub without condition; the show and list tables only for BGP."""
    answer = copy.deepcopy(spec.examples("201")[style])
    answer["vpn_connection"]["enable_hub"] = False
    assert schema_errors("CreateVpnConnectionResponse", answer) == []
    shown = {"vpn_connection": {**answer["vpn_connection"], "status": "ACTIVE"}, "request_id": answer["request_id"]}
    assert bool(schema_errors("ShowVpnConnectionResponse", shown)) == (style != "bgp")


def test_error_examples_match_the_huawei_error_shape(spec):
    for status in ("400", "401", "403", "404", "409", "413", "429", "500"):
        for name, value in spec.examples(status).items():
            assert schema_errors("Error", value) == [], (status, name)


def test_the_show_answer_is_the_create_answer_field_by_field_plus_status(spec):
    """ResponseVpnConnection (show, list) names the create answer's fields one by one: each must refer to the
    create answer's, none may be missing, and only the show-only fields are its own."""
    create, show = spec.schema("CreateResponseVpnConnection"), spec.schema("ResponseVpnConnection")
    own = {"status", "connection_monitor_id", "bgp_peer"}
    assert set(show["properties"]) == set(create["properties"]) | own
    for name in create["properties"]:
        expected = False if name == "psk" else {"$ref": f"#/components/schemas/CreateResponseVpnConnection/properties/{name}"}
        assert show["properties"][name] == expected  # (psk: false in both, so that a leak is named without its value)
    assert show["required"] == create["required"] + ["status"]
    # the create answer's style variants, but where a show may not carry what a create answer may (enable_hub)
    assert len(show["oneOf"]) == len(create["oneOf"])
    for n, (kept, answered) in enumerate(zip(show["oneOf"], create["oneOf"], strict=True)):
        if answered["properties"]["style"]["const"] == "BGP":
            assert kept == {"$ref": f"#/components/schemas/CreateResponseVpnConnection/oneOf/{n}"}
        else:
            assert kept == {**answered, "properties": {**answered["properties"], "enable_hub": False}}
    assert show["additionalProperties"] is False and create["additionalProperties"] is False


def test_every_operation_is_served_and_named_after_its_handler(spec):
    from reference_server import ReferenceServer

    server = ReferenceServer()
    assert [o.id for o in spec.operations] == ["CreateVpnConnection", "ListVpnConnections", "ShowVpnConnection",
                                               "UpdateVpnConnection", "DeleteVpnConnection"]
    assert set(server.handlers) == {o.id for o in spec.operations}
    broken = copy.deepcopy(spec.document)
    broken["paths"]["/v5/{project_id}/vpn-connection"]["patch"] = {"operationId": "PatchVpnConnection",
                                                                   "responses": {"200": {"description": "x"}}}
    with pytest.raises(SpecError, match="no handler for the spec's operation PatchVpnConnection"):
        ReferenceServer(spec=Spec(path=spec.path, document=broken, sha256="x", rules=spec.rules))



def test_no_field_is_a_float(spec):
    """What vpnconn.numbers assumes: no field is a `number`, so a whole-number float is always an integer field."""
    numbers = []

    def walk(node, at):
        if isinstance(node, dict):
            if "number" in (node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]):
                numbers.append(at)
            for key, value in node.items():
                walk(value, f"{at}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{at}/{index}")

    walk(spec.document, "#")
    assert numbers == []


def test_the_ipv6_cidr_pattern_admits_what_ipaddress_reads_and_nothing_else(spec):
    """The schema's Ipv6Cidr pattern and Python's ipaddress agree: every text form of random addresses (seed 6,
    fixed) is admitted within the schema's maxLength,
    and random strings of the same alphabet are admitted only when ipaddress reads them."""
    import ipaddress
    import random

    import jsonschema_rs

    admits = jsonschema_rs.Draft202012Validator(spec.standalone_schema("Ipv6Cidr")).is_valid

    def reads(text):
        try:
            ipaddress.IPv6Network(text, strict=False)
            return True
        except ValueError:
            return False

    assert [t for t in ("c/118", "0/120", ".4dc/36", "1:2:3:4:5:6:7:8:9/64", "::1::/64", "1.2.3.4/24") if admits(t)] == []
    rng = random.Random(6)
    missed, wrong = [], []
    for _ in range(3000):
        address = ipaddress.IPv6Address(rng.getrandbits(rng.choice((16, 32, 64, 128))) << rng.choice((0, 32, 64)) & (2**128 - 1))
        tail = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        for form in (address.compressed, address.exploded, ":".join(address.exploded.split(":")[:6]) + f":{tail}"):
            text = f"{form}/{rng.randint(0, 128)}"
            if len(text) <= spec.schema("Ipv6Cidr")["maxLength"] and not admits(text):
                missed.append(text)
        noise = "".join(rng.choice("0123456789abcdefABCDEF:.") for _ in range(rng.randint(2, 16))) + f"/{rng.randint(0, 128)}"
        if admits(noise) and not reads(noise):
            wrong.append(noise)
    assert (missed, wrong) == ([], [])


def test_a_quota_names_an_error_kind_of_the_spec(tmp_path, spec):
    """The reference server refuses a create beyond a quota with the error kind the quota names."""
    assert spec.quota_error("connections-per-gateway") == spec.errors["quota-exceeded"]
    text = spec.path.read_text().replace("    error: quota-exceeded\n", "    error: quota-exceded\n")
    assert text != spec.path.read_text()
    (tmp_path / "openapi.yaml").write_text(text)
    with pytest.raises(SpecError, match="quota connections-per-gateway names the error kind 'quota-exceded'"):
        load_spec(tmp_path / "openapi.yaml")


def test_a_quota_counts_per_fields_a_create_gives(tmp_path, spec):
    """The fields a quota counts per live in the spec; a typo there would count every connection under one key."""
    assert spec.quota_fields("connections-per-gateway-address-and-customer-gateway") == ("vgw_id", "vgw_ip", "cgw_id")
    text = spec.path.read_text().replace("    per: [vgw_id, vgw_ip, cgw_id]\n", "    per: [vgw_id, vgw_ip, cgw]\n")
    assert text != spec.path.read_text()
    (tmp_path / "openapi.yaml").write_text(text)
    with pytest.raises(SpecError, match="counts per cgw, which a create's vpn_connection does not have"):
        load_spec(tmp_path / "openapi.yaml")


@pytest.mark.parametrize("local_id, broken", [
    ("vpn?.example.com", []),  # the console refuses `?`, the API pages do not
    ("vpn.example.com", []),
    ("vpn<1>.example.com", ["ikepolicy.local_id.pattern"]),  # the 2024 page's `& < > [ ] \`
    ("vpn .example.com", ["ikepolicy.local_id.pattern"]),  # no spaces
    ("v" * 256, ["ikepolicy.local_id.maxLength"]),
], ids=["question-mark", "plain", "angle-brackets", "space", "256-characters"])
def test_an_fqdn_id_keeps_the_api_pages_limits_not_the_consoles(spec, local_id, broken):
    body = copy.deepcopy(spec.examples("request")["static"])
    body["vpn_connection"]["ikepolicy"] = {"local_id_type": "fqdn", "local_id": local_id}
    assert [v.rule for v in check_request(body, spec=spec)] == broken
