"""An error body has two documented shapes: {error_code, error_msg, request_id}, as the examples and real answers
write it (the spec's Error, what the reference server answers), and {code, message}, as the VPN error codes page
documents it; the Huawei SDK reads both. A target that answers the second is reported as a divergence, and its
codes are judged as the first's are; a body in neither shape stays a violation (the fault problem-json-errors, in
tests/contract/test_faults.py). End to end, the correct-but-different server writes the service's errors in the
second shape (tests/contract/test_verdicts.py)."""

from __future__ import annotations

import json

from contract_tests.checks import Answer, run_checks
from contract_tests.error_bodies import error_code_of, in_error_codes_page_shape
from contract_tests.records import DIVERGENCE, VIOLATION
from contract_tests.verdicts import response_provenance
from vpnconn import load_spec

INVALID = {"vpn_connection": {"vgw_ip": "0c464dad-7f31-4a6e-9c84-c22bb0eb0bde"}}  # no vgw_id: VPN.0001 expected
CHECKS = ("huawei_error_body", "request_id_in_body_and_header", "error_contract")


def refused(body: dict, headers: dict | None = None) -> list[tuple[str, str, str]]:
    answer = Answer(400, {"X-Request-Id": "r-1"} if headers is None else headers, json.dumps(body).encode())
    return [(f.check, f.severity, f.message) for f in run_checks(answer, INVALID, only=CHECKS)]


def test_the_error_codes_page_shape_is_a_divergence_with_the_specs_why():
    [(check, severity, message)] = refused({"code": "VPN.0001", "message": "invalid request: vgw_id is required"})
    assert (check, severity) == ("huawei_error_body", DIVERGENCE)
    assert "{code, message}" in message
    why = load_spec().check_provenance("error_body_as_in_the_examples").why
    assert "error codes page documents {code, message}" in why


def test_its_code_is_judged_as_the_examples_shape_is():
    findings = refused({"code": "VPN.0013", "message": "Unsupported attribute: x"})
    assert [(c, s) for c, s, _ in findings if c == "error_contract"] == [("error_contract", VIOLATION)]
    assert error_code_of({"code": "VPN.0013", "message": "m"}) == "VPN.0013"
    assert error_code_of({"error_code": "VPN.0001", "error_msg": "m", "request_id": "r"}) == "VPN.0001"
    assert error_code_of({"type": "about:blank", "code": 400}) is None


def test_without_a_request_id_in_the_body_a_missing_header_is_a_divergence_still():
    """No page of the API documents its response headers: the X-Request-Id header is generic Huawei behaviour."""
    from contract_tests.checks import REQUEST_ID_HEADER

    findings = run_checks(Answer(400, {}, json.dumps({"code": "VPN.0001", "message": "invalid request"}).encode()),
                          INVALID, only=("request_id_in_body_and_header",))
    assert [(f.severity, f.rule) for f in findings] == [(DIVERGENCE, REQUEST_ID_HEADER)]


def test_a_body_in_neither_shape_or_half_of_one_is_a_violation():
    for body in ({"type": "about:blank", "title": "Bad Request", "status": 400},
                 {"code": "VPN.0001"},  # no message
                 {"code": "not a code", "message": "m"},
                 {"error_code": "VPN.0001", "code": "VPN.0001", "message": "m"}):  # the examples' field, half filled
        assert not in_error_codes_page_shape(body)
        assert ("huawei_error_body", VIOLATION) in {(c, s) for c, s, _ in refused(body)}, body


def test_schemathesis_schema_finding_on_such_a_body_is_a_divergence_too():
    page = json.dumps({"code": "VPN.0001", "message": "invalid request"}).encode()
    problem = json.dumps({"type": "about:blank", "title": "Bad Request"}).encode()
    assert not response_provenance(400, page).documented
    assert response_provenance(400, problem).documented


def test_a_header_request_id_other_than_the_bodys_or_none_is_a_divergence_and_a_missing_body_one_a_violation():
    """The sources give a request id in the body and, as generic Huawei behaviour, an X-Request-Id header; none says
    they are one value (a gateway in front may set its own), no page of the API documents the header. Before, a header
    that differed, or none, was a violation."""
    from contract_tests.checks import REQUEST_ID_EQUAL, REQUEST_ID_HEADER

    shaped = {"error_code": "VPN.0001", "error_msg": "invalid request: vgw_id is required", "request_id": "r-1"}
    assert [c for c, _, _ in refused(shaped) if c == "request_id_in_body_and_header"] == []
    [(check, severity, message)] = [f for f in refused(shaped, headers={"X-Request-Id": "gw-7"}) if f[0] == "request_id_in_body_and_header"]
    assert severity == DIVERGENCE and "differ" in message
    found = run_checks(Answer(400, {"X-Request-Id": "gw-7"}, json.dumps(shaped).encode()), INVALID, only=CHECKS)
    assert {f.rule for f in found if f.check == "request_id_in_body_and_header"} == {REQUEST_ID_EQUAL}
    no_header = run_checks(Answer(400, {}, json.dumps(shaped).encode()), INVALID, only=("request_id_in_body_and_header",))
    assert [(f.severity, f.rule) for f in no_header] == [(DIVERGENCE, REQUEST_ID_HEADER)]
    assert "no X-Request-Id header (the body's request_id is 'r-1')" in no_header[0].message
    for body in ({**shaped, "request_id": ""}, {k: v for k, v in shaped.items() if k != "request_id"}):
        missing = [(c, s) for c, s, _ in refused(body) if c == "request_id_in_body_and_header"]
        assert missing == [("request_id_in_body_and_header", VIOLATION)]
