"""The server serves exactly the spec's operations, and only to callers with credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from support import PATH, TOKEN

from reference_server import ReferenceServer, running_server
from vpnconn import aksk

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def test_routes_equal_the_spec_operations(client, spec):
    """Every operation of the spec is served; every other method on a spec path gets 405 listing the spec's."""
    created = client.post(PATH, json=spec.examples("request")["static"]).json()["vpn_connection"]["id"]
    for path, item in spec.document["paths"].items():
        url = path.format(project_id="0123456789abcdef0123456789abcdef", vpn_connection_id=created)
        for method in METHODS:
            response = client.request(method.upper(), url, json={})
            if method in item:
                assert response.status_code not in (404, 405), (method, path, response.text)
            else:
                assert response.status_code == 405, (method, path)
                assert response.headers["allow"] == ", ".join(spec.methods_at(path)), (method, path)
    assert client.post("/v5/p/vpn-connections", json={}).status_code == 404
    assert client.post("/v3/p/vpn-connection", json={}).status_code == 404


def test_no_credentials_get_a_401(open_server, spec):
    response = httpx.post(open_server[1] + PATH, json=spec.examples("request")["static"])
    assert response.status_code == 401 and response.json()["error_code"] == "APIG.0301"


def test_a_token_is_enough_by_default(client, spec):
    assert client.post(PATH, json=spec.examples("request")["static"]).status_code == 201


@pytest.fixture(scope="module")
def signed_server():
    """Shared by tests that create the same example again and again: without the quotas (tests/server/test_lifecycle.py)."""
    with running_server(ReferenceServer(keys={"FAKEAK0000": "FAKE-SK-0000"}, token="the-only-token", quotas=False)) as url:
        yield url


def signed_post(url, body: bytes, sk="FAKE-SK-0000", now=None, tamper=False):
    host = url.removeprefix("http://")
    headers = {"Content-Type": "application/json"}
    headers.update(aksk.sign_headers("FAKEAK0000", sk, "POST", PATH, "", host, headers, body, now))
    return httpx.post(url + PATH, content=body + (b" " if tamper else b""), headers=headers)


def test_a_good_signature_is_accepted(signed_server, spec):
    import json

    assert signed_post(signed_server, json.dumps(spec.examples("request")["static"]).encode()).status_code == 201


@pytest.mark.parametrize("how", ["wrong secret", "stale date", "tampered body"])
def test_a_bad_signature_gets_a_401(signed_server, spec, how):
    import json

    body = json.dumps(spec.examples("request")["static"]).encode()
    response = signed_post(signed_server, body, sk="OTHER" if how == "wrong secret" else "FAKE-SK-0000",
                           now=datetime.now(UTC) - timedelta(hours=1) if how == "stale date" else None,
                           tamper=how == "tampered body")
    assert response.status_code == 401 and response.json()["error_code"] == "APIG.0301"
    assert "FAKE-SK-0000" not in response.text


def test_a_configured_token_must_match(signed_server, spec):
    good = httpx.post(signed_server + PATH, json=spec.examples("request")["static"], headers={"X-Auth-Token": "the-only-token"})
    bad = httpx.post(signed_server + PATH, json=spec.examples("request")["static"], headers=TOKEN)
    assert (good.status_code, bad.status_code) == (201, 401)


def test_with_keys_only_a_valid_signature_authenticates(spec):
    import json

    body = json.dumps(spec.examples("request")["static"]).encode()
    with running_server(ReferenceServer(keys={"FAKEAK0000": "FAKE-SK-0000"}, quotas=False)) as url:  # (one body, sent again)
        token_only = httpx.post(url + PATH, content=body, headers={"Content-Type": "application/json", **TOKEN})
        host = url.removeprefix("http://")
        forged = {"Content-Type": "application/json", **TOKEN}
        forged.update(aksk.sign_headers("FAKEAK0000", "OTHER", "POST", PATH, "", host, {"Content-Type": "application/json"}, body))
        bad_signature_and_token = httpx.post(url + PATH, content=body, headers=forged)
        good = signed_post(url, body)
    assert (token_only.status_code, bad_signature_and_token.status_code, good.status_code) == (401, 401, 201)


def creates_with(server: ReferenceServer, spec, *header_sets: dict[str, str]) -> list[httpx.Response]:
    """The answers of ``server`` to the static create example, sent once with each set of headers."""
    with running_server(server) as url:
        return [httpx.post(url + PATH, json=spec.examples("request")["static"], headers=h) for h in header_sets]


def test_a_token_with_an_authorization_header_beside_it_is_the_servers_choice(spec):
    """The sources describe a token or a signature, never both: the reference server takes the valid token,
    the correct-but-different server refuses the pair (and the suite never sends one: see case_plan)."""
    from reference_server.variants import VARIANTS

    both = {**TOKEN, "Authorization": ""}
    [reference] = creates_with(ReferenceServer(token=TOKEN["X-Auth-Token"], quotas=False), spec, both)
    other, alone = creates_with(VARIANTS["other-choices"][1](token=TOKEN["X-Auth-Token"]), spec, both, TOKEN)
    assert (reference.status_code, other.status_code, alone.status_code) == (201, 401, 201)
    assert other.json()["error_code"] == "APIG.0301"


def test_an_unknown_x_header_is_the_servers_choice(spec):
    """No source says whether the API ignores a header it does not define: the reference server ignores it,
    the correct-but-different server refuses it (400 APIG.0101), a test tool's own header too, and lets a
    client's tracing header through."""
    from reference_server.variants import VARIANTS

    unknown = {**TOKEN, "x-schemathesis-unknown-property": "42"}
    tool = {**TOKEN, "X-Schemathesis-TestCaseId": "abc"}
    traced = {**TOKEN, "X-Request-Id": "r-1"}
    [reference, reference_tool] = creates_with(ReferenceServer(token=TOKEN["X-Auth-Token"], quotas=False), spec, unknown, tool)
    other, other_tool, tracing = creates_with(VARIANTS["other-choices"][1](token=TOKEN["X-Auth-Token"]), spec,
                                              unknown, tool, traced)
    assert [r.status_code for r in (reference, reference_tool, other, other_tool, tracing)] == [201, 201, 400, 400, 201]
    assert other.json()["error_code"] == "APIG.0101" and "x-schemathesis-unknown-property" in other.json()["error_msg"]


def test_log_lines_escape_control_characters(spec):
    lines = []
    with running_server(ReferenceServer(log=lines.append)) as url:
        httpx.post(url + "/v5/x%0aFORGED%1b[2J/vpn-connection", json={}, headers=TOKEN)
    assert len(lines) == 1 and "\n" not in lines[0] and "\x1b" not in lines[0] and "FORGED" in lines[0]
