"""Provenance in the spec: every constraint, named rule, error kind and built-in check says where it comes
from (a documented source and its date, or an inference and why), and a mistake in the spec's own
extensions is one clear SpecError that names the place, not a KeyError later."""

from __future__ import annotations

import pytest

from vpnconn.constraints import request_constraints
from vpnconn.spec import SPEC_PATH, SpecError, load_spec


def test_every_constraint_has_a_provenance_with_a_source_or_a_reason(spec):
    for constraint in request_constraints(spec):
        provenance = spec.provenance_of(constraint.name)
        if provenance.documented:
            assert provenance.source in spec.sources and provenance.date, constraint.name
        else:
            assert len(provenance.why or "") > 20, constraint.name


def test_the_constraints_the_notes_call_inferred_are_inferred(spec):
    for name in ("x-cidr-canonical", "x-tag-keys-unique", "peer_subnets.uniqueItems", "policy_rules_v6.minItems",
                 "policy_rules[].source.required", "tunnel_local_address.not-with-policy"):
        assert not spec.provenance_of(name).documented, name
    for name in ("psk.minLength", "x-psk-character-classes", "ikepolicy.dpd.timeout.maximum", "style.enum"):
        assert spec.provenance_of(name).documented, name


def test_error_kinds_record_status_and_code_provenance_apart(spec):
    assert spec.error_provenance("schema-violation", "status").documented
    assert spec.error_provenance("unsupported-attribute", "error_code").documented
    assert spec.error_provenance("unauthenticated", "status").documented
    assert not spec.error_provenance("unauthenticated", "error_code").documented  # APIG.0301 is our guess
    assert not spec.error_provenance("body-too-large", "status").documented


def test_a_form_another_page_documents_names_its_divergence(spec):
    form, divergence = spec.answer_forms_also_documented["Timestamp"]  # the zh list and show pages' whole seconds
    assert not any(key.startswith("x-") for key in form) and form["type"] == "string"
    assert not spec.check_provenance(divergence).documented and "zh list and show pages" in spec.check_provenance(divergence).why
    assert "Error" not in spec.answer_forms_also_documented  # (its other shape is the error bodies' own: error_bodies)


def test_an_older_pages_narrower_reading_of_the_lists_limit_sets_the_page_every_target_takes(spec, tmp_path):
    limit = spec.query_schema("ListVpnConnections", "limit")
    assert (limit["maximum"], limit["default"]) == (2000, 2000)  # the newest pages
    (older,) = spec.query_readings("ListVpnConnections")["limit"]  # the zh list page of 2024
    assert {**limit, "maximum": 200, "default": 200} == older
    table = spec.operation_by_id("ListVpnConnections").node["x-vpnconn-provenance"]["query_readings"]
    assert spec.cited(table["limit"][0]["documented"]).date == "2024-01-26"
    assert spec.page_size() == 200
    without = load_spec(edited(tmp_path, "            - {schema: {maximum: 200, default: 200}", "            - {schema: {default: 200}"))
    assert without.page_size() == 2000  # (read from the spec, not a number of its own)


def test_builtin_checks_take_the_default_unless_listed(spec):
    assert not spec.check_provenance("unsupported_method").documented
    assert spec.check_provenance("not_a_server_error").documented


def edited(tmp_path, old: str, new: str):
    text = SPEC_PATH.read_text()
    assert old in text
    path = tmp_path / "openapi.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old, new, words", [
    ("          scope: body\n", "", "x-vpnconn-rules/0: 'scope' is a required property"),
    ("          provenance: {documented: api-page-en}\n", "", "'provenance' is a required property"),
    ("          provenance: {documented: api-page-en}\n", "          provenance: {documented: no-such-page}\n",
     "cites the source 'no-such-page'"),
    ("          peer_subnets.uniqueItems:", "          peer_subnets.uniqItems:", "names constraints the request does not have"),
    ("error: schema-violation\n", "error: schema-violaton\n", "names the error kind 'schema-violaton'"),
    ("  api-page-zh: {title:", "  api-page-zh: {name:", "x-vpnconn-sources"),
    ("also_for: [Ipv4Address,", "also_for: [Ipv4Adress,", "also_for names 'Ipv4Adress', which is no component schema"),
    ("x-vpnconn-divergence: timestamps_with_milliseconds", "x-vpnconn-divergence: timestamps_with_millis",
     "Timestamp/x-vpnconn-also-documented names the divergence 'timestamps_with_millis', which the create operation's"),
    ("        query_readings:\n          limit:", "        query_readings:\n          limits:",
     "ListVpnConnections's x-vpnconn-provenance/query_readings names 'limits', which is no query parameter of it"),
    ("{schema: {maximum: 200, default: 200}", "{schema: {maxLength: 200}", "query_readings/limit/0/schema"),
    ("default: 200}, documented: list-page-zh-2024", "default: 200}, documented: list-page-2024",
     "query_readings/limit/0 cites the source 'list-page-2024'"),
], ids=["rule-without-scope", "rule-without-provenance", "unknown-source", "unknown-constraint", "unknown-error-kind",
        "malformed-source", "unknown-also-for-schema", "unknown-divergence-of-another-form",
        "unknown-query-parameter-read-narrower", "query-reading-of-another-keyword", "query-reading-of-no-source"])
def test_a_mistake_in_an_extension_is_a_spec_error_naming_the_place(tmp_path, old, new, words):
    with pytest.raises(SpecError) as error:
        load_spec(edited(tmp_path, old, new))
    assert words in str(error.value)


def test_the_manifest_carries_the_provenance_of_every_error_scenario(spec):
    import json

    manifest = json.loads((SPEC_PATH.parent.parent / "fixtures" / "manifest.json").read_text())
    errors = [s for s in manifest["scenarios"] if s["kind"] == "error"]
    assert errors and all(s["provenance"] in ("documented", "inferred") for s in errors)
    for scenario in errors:
        assert scenario["provenance"] == spec.provenance_of(scenario["rule"]).kind, scenario["name"]
    assert {s["rule"] for s in errors if s["provenance"] == "inferred"} >= {"x-cidr-canonical", "x-tag-keys-unique"}
