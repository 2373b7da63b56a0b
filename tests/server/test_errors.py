"""Invalid input never gets a 5xx: each rule's breach gets its documented status and code, hostile bodies a clear 4xx."""

from __future__ import annotations

import pytest
from support import PATH, TOKEN, case_files, read_case

from vpnconn.validation import schema_errors

FAIL = case_files("fail")


def assert_huawei_error(response, status, code=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert schema_errors("Error", body) == []
    assert response.headers["x-request-id"] == body["request_id"]
    if code:
        assert body["error_code"] == code
    return body


@pytest.mark.parametrize("case", FAIL, ids=[p.stem for p in FAIL])
def test_each_broken_rule_gets_its_error(world_client, spec, case):
    rule = case.stem.split("--")[0]
    if rule.startswith("x-"):
        error = spec.rule(rule.removeprefix("x-")).error
    else:
        error = spec.errors["unsupported-attribute" if rule.endswith(".additionalProperties") else "schema-violation"]
    body = assert_huawei_error(world_client.post(PATH, json=read_case(case)), error["status"], error["error_code"])
    field = rule.removeprefix("x-").split(".")[0].split("[")[0]
    if not rule.startswith(("x-", "body.")):
        assert field in body["error_msg"], "the message names the field"


def test_the_message_names_field_and_rule(client, spec):
    body = dict(spec.examples("request")["static"])
    body["vpn_connection"] = {**body["vpn_connection"], "ikepolicy": {"lifetime_seconds": 59}}
    msg = assert_huawei_error(client.post(PATH, json=body), 400, "VPN.0001")["error_msg"]
    assert "/vpn_connection/ikepolicy/lifetime_seconds" in msg and "minimum of 60" in msg


def test_an_invalid_psk_is_never_echoed(client, spec):
    body = {"vpn_connection": {**spec.examples("request")["static"]["vpn_connection"], "psk": "Secret 1234!"}}
    response = client.post(PATH, json=body)
    assert response.status_code == 400 and "Secret 1234!" not in response.text


def raw_post(client, content, content_type="application/json", headers=TOKEN):
    return client.post(PATH, content=content, headers={**headers, "content-type": content_type})


@pytest.mark.parametrize("content,why", [
    (b"", "empty"),
    (b"   ", "blank"),
    (b"{\"vpn_connection\": ", "truncated"),
    (b"{'vpn_connection': {}}", "single quotes"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 50000 + b"]" * 50000, "nested 50000 deep"),
    (b'{"vpn_connection": {"vgw_id": NaN}}', "NaN"),
    (b'{"vpn_connection": {"name": "\\ud800"}}', "lone surrogate"),
    (b'{"vpn_connection": {"name": "\\u0000\\u202e\\ufeff"}}', "control and bidi characters"),
    (b'{"vpn_connection": {"name": "' + "😀".encode() * 10 + b'"}}', "emoji"),
    (b'"just a string"', "a string"),
    (b"null", "null"),
    (b'{"vpn_connection": {"ikepolicy": {"lifetime_seconds": 1e400}}}', "huge number"),
    (b'{"vpn_connection": {"ikepolicy": {"lifetime_seconds": ' + b"9" * 5000 + b"}}}", "5000-digit integer"),
])
def test_hostile_bodies_get_a_400(client, content, why):
    assert_huawei_error(raw_post(client, content), 400, "VPN.0001")


def test_a_huge_body_gets_a_413(client):
    assert_huawei_error(raw_post(client, b"x" * (1024 * 1024 + 1)), 413)


def test_a_body_that_is_not_json_by_content_type_gets_a_400(client, spec):
    import json

    response = raw_post(client, json.dumps(spec.examples("request")["static"]), content_type="text/plain")
    assert "Content-Type must be application/json" in assert_huawei_error(response, 400, "VPN.0001")["error_msg"]


def test_a_bad_project_id_gets_a_400(client, spec):
    response = client.post("/v5/bad%20project!/vpn-connection", json=spec.examples("request")["static"])
    assert_huawei_error(response, 400, "VPN.0001")
