"""The spec's patterns are read as JSON Schema reads them (ECMA-262), by every validator and check of the
toolkit: Python's ``re`` reads some of them otherwise (its ``$`` also matches before a final newline, its
``\\s`` is another set), which let the reference server create a connection whose subnet ended in a newline."""

from __future__ import annotations

import json
import re

import jsonschema
import jsonschema_rs
import pytest
from support import patterns_of

from contract_tests.checks import AUTO_NAME_HEX, Answer, auto_name_format, run_checks
from contract_tests.records import DIVERGENCE, VIOLATION
from vpnconn.constraints import request_constraints
from vpnconn.json_schema import SpecValidator, matches
from vpnconn.numbers import strict_validator

FQDN = r"^[^\s&<>\[\]\\?]*$"
# where Python's re and ECMA-262 part: a final newline, U+FEFF (ECMA whitespace, not Python's), and the
# separators and NEL that Python counts as whitespace and ECMA-262 does not
AWKWARD = ["\n", "\r\n", "\ufeff", "\x1c", "\x1f", "\x85", "\u2028", "\u00a0", "\t"]


def test_a_final_newline_breaks_an_anchored_pattern():
    assert re.search("^vpn-[0-9a-f]{4}$", "vpn-00af\n"), "Python's reading, which the toolkit does not use"
    assert not matches("^vpn-[0-9a-f]{4}$", "vpn-00af\n") and matches("^vpn-[0-9a-f]{4}$", "vpn-00af")


def test_whitespace_is_ecma_whitespace():
    assert not matches(FQDN, "vpn\ufeff.example.com")  # whitespace in ECMA-262; Python's re lets it through
    for separator in ("\x1c", "\x1f", "\x85"):  # whitespace to Python's re, not in ECMA-262: a valid fqdn here
        assert re.search(FQDN, f"vpn{separator}.example.com") is None
        assert matches(FQDN, f"vpn{separator}.example.com")


@pytest.mark.parametrize("make", [SpecValidator, strict_validator], ids=["explaining", "strict"])
def test_the_python_validators_agree_with_the_compiled_one_on_every_pattern_of_the_spec(spec, make):
    patterns = sorted(set(patterns_of(spec.document)))
    assert {c.value for c in request_constraints(spec) if c.keyword == "pattern"} < set(patterns)
    for pattern in patterns:
        schema = {"type": "string", "pattern": pattern}
        compiled, python = jsonschema_rs.Draft202012Validator(schema), make(schema)
        for text in ["", "a", "192.168.44.0/24", "vpn-00af", "Fake-Psk-1234", "::1/128", "169.254.1.1/30",
                     "aaaaaaaa-0000-4000-8000-000000000001", "vpn.example.com", "\u4e2d\u6587"]:
            for value in [text, *(text + c for c in AWKWARD), *(c + text for c in AWKWARD)]:
                assert python.is_valid(value) == compiled.is_valid(value), (pattern, value)


def test_a_refusal_still_says_which_value_and_pattern():
    error = jsonschema.exceptions.best_match(SpecValidator({"type": "string", "pattern": "^a$"}).iter_errors("a\n"))
    assert error is not None and error.validator == "pattern" and error.message == "'a\\n' does not match '^a$'"


def test_an_auto_name_with_a_final_newline_is_reported():
    sent = {"vpn_connection": {"vgw_id": "x"}}

    def created(name: str) -> Answer:
        return Answer(201, {"X-Request-Id": "r"}, json.dumps({"vpn_connection": {"name": name}}).encode())

    auto_name_format(created("vpn-00af"), sent)
    with pytest.raises(Exception, match="does not match"):
        auto_name_format(created("vpn-00af\n"), sent)


@pytest.mark.parametrize("name, severity", [
    ("vpn-00af", None),  # the examples' four lower-case hex digits
    ("vpn-kqzt", DIVERGENCE),  # four other characters: the page says vpn-****, only the examples are hex
    ("vpn-13BE", DIVERGENCE),
    ("vpn-29874aa4", VIOLATION),  # not four
    ("conn-1234", VIOLATION),
])
def test_an_auto_name_is_held_to_the_pages_four_characters_and_only_inferred_hex(name, severity):
    sent = {"vpn_connection": {"vgw_id": "x"}}
    answer = Answer(201, {"X-Request-Id": "r"}, json.dumps({"vpn_connection": {"name": name}}).encode())
    failures = run_checks(answer, sent, only=("auto_name_format",))
    assert [f.severity for f in failures] == ([severity] if severity else [])
    if severity == DIVERGENCE:
        assert failures[0].rule == AUTO_NAME_HEX and "four lower-case hex digits" in failures[0].message
    named = {"vpn_connection": {"vgw_id": "x", "name": "mine"}}  # a name the request gave is the echo check's
    assert run_checks(answer, named, only=("auto_name_format",)) == []


def test_a_project_id_with_a_final_newline_is_refused(client, spec):
    response = client.post("/v5/0123456789abcdef0123456789abcdef%0A/vpn-connection", json=spec.examples("request")["static"])
    assert response.status_code == 400 and response.json()["error_code"] == "VPN.0001"


def test_should_the_two_validators_still_disagree_the_rules_run(spec):
    """A body the compiled validator refuses and the explaining one cannot fault does not skip the named rules."""
    from dataclasses import replace

    from support import CASES, read_case

    from vpnconn.validation import request_check

    class RefusesEverything:
        def is_valid(self, _body) -> bool:
            return False

    disagreeing = replace(request_check(spec), fast=RefusesEverything())
    breaks_a_rule = read_case(CASES / "fail" / "x-cidr-canonical.json")
    assert [v.rule for v in disagreeing.violations(breaks_a_rule)] == ["x-cidr-canonical"]


def test_a_world_file_id_with_a_final_newline_is_refused(tmp_path):
    """World files are checked by the same reading: a YAML block scalar leaves a final newline in an id."""
    from vpnconn.world import WorldError, load_world

    path = tmp_path / "world.yaml"
    path.write_text("gateways:\n  - id: |\n      aaaaaaaa-0000-4000-8000-000000000001\n    eips: []\n")
    with pytest.raises(WorldError, match="does not match"):
        load_world(path)
    path.write_text("gateways:\n  - id: aaaaaaaa-0000-4000-8000-000000000001\n    eips: []\n")
    assert load_world(path).gateway("aaaaaaaa-0000-4000-8000-000000000001") is not None


def test_a_rule_id_with_a_final_newline_is_a_malformed_extension(spec):
    """The spec's own extensions are checked by the same reading (a YAML block scalar leaves a final newline)."""
    import copy

    from vpnconn.errors import SpecError
    from vpnconn.extensions import check_extensions

    document = copy.deepcopy(spec.document)
    check_extensions(document, "openapi.yaml")
    document["paths"]["/v5/{project_id}/vpn-connection"]["post"]["x-vpnconn-rules"][0]["id"] += "\n"
    with pytest.raises(SpecError, match="malformed extension at .*x-vpnconn-rules/0/id"):
        check_extensions(document, "openapi.yaml")
