"""How an answer is written, beyond what its schema says; what Python reads leniently and a typed client does not.

- Its JSON text is UTF-8 without a byte order mark (RFC 8259): a BOM, UTF-16 or UTF-32 is a violation (Python's
  json reads all three; Go's encoding/json none). The fault ``json-with-byte-order-mark`` proves it end to end.
- Its integers are written as integers: ``86400`` passes, ``86400.0`` (or ``8.64e4``) is a divergence. JSON
  Schema counts a whole-number float an integer, so the schema checks pass it; a typed client refuses it, and
  no source says how the API writes its numbers. The correct-but-different server writes them so end to end
  (tests/contract/test_verdicts.py)."""

from __future__ import annotations

import codecs
import json

import pytest

from contract_tests.checks import Answer, integers_without_fraction, json_in_utf8_without_bom, run_checks
from contract_tests.records import DIVERGENCE, VIOLATION
from contract_tests.verdicts import response_provenance
from vpnconn import load_spec
from vpnconn.json_schema import SpecValidator

CREATED = {"vpn_connection": {"id": "46f8a69a-1fa9-498a-aeb0-4a321db152b2", "style": "STATIC",
                              "ikepolicy": {"lifetime_seconds": 86400, "dpd": {"timeout": 15, "interval": 30}},
                              "ipsecpolicy": {"lifetime_seconds": 3600}, "enable_nqa": False},
           "request_id": "r"}


def answer_with(text: str, status: int = 201) -> Answer:
    return Answer(status, {"X-Request-Id": "r"}, text.encode())


def created_with_lifetime(written: str) -> Answer:
    """The create answer above with the IKE lifetime written as ``written`` (JSON number text)."""
    return answer_with(json.dumps(CREATED).replace('"lifetime_seconds": 86400', f'"lifetime_seconds": {written}'))


# ------------------------------------------------------------------------------------------ the encoding

@pytest.mark.parametrize("encode", [
    lambda text: codecs.BOM_UTF8 + text.encode(),
    lambda text: text.encode("utf-16-le"),
    lambda text: text.encode("utf-16"),  # with its own byte order mark
    lambda text: text.encode("utf-32-be"),
], ids=["utf-8 with bom", "utf-16-le", "utf-16 with bom", "utf-32-be"])
def test_json_that_is_not_plain_utf8_is_a_violation(encode):
    answer = Answer(201, {"X-Request-Id": "r"}, encode(json.dumps(CREATED, ensure_ascii=False)))
    assert answer.json == CREATED  # what Python reads, and so every other check
    [failure] = run_checks(answer, {}, only=("json_in_utf8_without_bom",))
    assert failure.severity == VIOLATION and failure.provenance.documented and failure.provenance.source == "rfc-8259"
    assert failure.title == "JSON not in plain UTF-8" and "201 answer's JSON" in failure.message


def test_plain_utf8_json_passes_whatever_its_characters():
    json_in_utf8_without_bom(answer_with(json.dumps({**CREATED, "name": "连接-ä-😀"}, ensure_ascii=False)), {})
    json_in_utf8_without_bom(Answer(204, {}, b""), {})
    json_in_utf8_without_bom(answer_with("\ufeffnot json at all"), {})  # no JSON: the schema checks' finding


def test_an_answer_schemathesis_cannot_read_is_held_to_the_documented_schema():
    """schemathesis reads an answer as UTF-8 text, so a BOM is a deserialization error to it; that finding rests on
    the documented schema, whatever Python's bytes reader makes of the body."""
    spec = load_spec()
    example = json.dumps(next(iter(spec.examples("201").values())))
    assert response_provenance(201, codecs.BOM_UTF8 + example.encode()).documented
    assert response_provenance(201, example.encode("utf-16")).documented


# ------------------------------------------------------------------------------------------ the integers

@pytest.mark.parametrize("written", ["86400.0", "8.64e4", "86400E0", "86400.000"])
def test_an_integer_written_with_a_fraction_or_an_exponent_is_a_divergence(written):
    [failure] = run_checks(created_with_lifetime(written), {}, only=("integers_without_fraction",))
    assert failure.severity == DIVERGENCE and not failure.provenance.documented
    assert "Go's encoding/json" in failure.provenance.why
    assert "/vpn_connection/ikepolicy/lifetime_seconds is 86400.0" in failure.message
    assert failure.title == "Integer written with a fraction"


def test_integers_written_as_integers_pass():
    integers_without_fraction(created_with_lifetime("86400"), {})
    integers_without_fraction(answer_with("not json", 500), {})


def test_only_fields_the_spec_types_integer_are_read():
    # a field the spec does not type integer (an extension the server adds) may hold what it likes
    integers_without_fraction(answer_with(json.dumps({**CREATED, "x_weight": 1.0})), {})
    # booleans are not integers here, whatever Python says
    integers_without_fraction(answer_with(json.dumps({"total_count": True})), {})


def test_a_fraction_that_is_not_whole_is_left_to_the_schema_check():
    """86400.5 is no integer for JSON Schema either: the answer's schema check reports it (a violation); 86400.0 is
    one, which is why this check exists."""
    spec = load_spec()
    schema = SpecValidator(spec.standalone_schema(spec.create.response_schema(201)))
    example = next(iter(spec.examples("201").values()))
    written = {}
    for value in ("86400.5", "86400.0"):
        text = json.dumps(example).replace('"lifetime_seconds": 86400', f'"lifetime_seconds": {value}', 1)
        found = run_checks(answer_with(text), {}, only=("integers_without_fraction",))
        written[value] = (schema.is_valid(json.loads(text)), len(found))
    assert schema.is_valid(example)
    assert written == {"86400.5": (False, 0), "86400.0": (True, 1)}


def test_every_kind_of_answer_is_read_at_any_depth():
    page = {"vpn_connections": [CREATED["vpn_connection"], {**CREATED["vpn_connection"], "ikepolicy": {"dpd": {"timeout": 15.0}}}],
            "page_info": {"current_count": 2}, "total_count": 2.0, "request_id": "r"}
    with pytest.raises(AssertionError) as raised:
        integers_without_fraction(answer_with(json.dumps(page), 200), {})
    assert "/total_count is 2.0" in str(raised.value) and "/vpn_connections/1/ikepolicy/dpd/timeout is 15.0" in str(raised.value)
    assert "/page_info/current_count" not in str(raised.value)


def test_the_integer_fields_are_the_ones_the_schemas_type_integer():
    spec = load_spec()
    fields = spec.integer_fields
    assert {"lifetime_seconds", "timeout", "interval", "rule_index", "total_count", "current_count"} <= fields
    assert not fields & {"name", "psk", "enable_nqa", "peer_subnets", "style", "id"}
