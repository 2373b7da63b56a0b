"""Some refusals come from the account, not the request: the VPN error codes page gives VPN.0015 (a tag value the
account's tag policy refuses), VPN.0018 (the enterprise router feature not enabled) and VPN.0218-0220 (its VPC
route table, its route quota), the spec's error kinds marked ``state: account``. A valid request refused with one
of them was "Valid request rejected", a violation: an account with a tag policy got 23 of them. The run cannot see
the account's configuration, so such a refusal is a divergence (``refused_for_account_state``, inferred), in every
phase; a valid request refused with any other code is still a violation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support import TOKEN, scripted_lifecycle

from contract_tests import RunSettings, run_contract
from contract_tests.lifecycle_phase import Seen
from contract_tests.records import DIVERGENCE, VIOLATION
from contract_tests.verdicts import ACCOUNT_STATE, account_state_refusal
from reference_server.app import ReferenceServer, Reject
from reference_server.embedded import running_server
from vpnconn import load_spec


class TagPolicy(ReferenceServer):
    """An account whose tag policy allows only tag keys that start with "cost": a valid create with another key is
    refused with ``refusal`` (400 VPN.0015, the documented code, unless a test says otherwise)."""

    def __init__(self, refusal: str = "tag-policy", **options: Any) -> None:
        super().__init__(**options)
        self.refusal = self.errors.get(refusal) or {"status": 400, "error_code": refusal, "message": "refused: {detail}"}
        self.refused = 0

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        body = self._parse(headers, raw)
        conn = body.get("vpn_connection") if isinstance(body, dict) else None
        tags = conn.get("tags") if isinstance(conn, dict) else None
        if isinstance(tags, list) and not self.check.violations(body, self.world) and any(
                isinstance(t, dict) and not str(t.get("key", "")).startswith("cost") for t in tags):
            self.refused += 1
            raise Reject(self.refusal, "the account's tag policy allows keys cost*")
        return await super()._create_vpn_connection(params, headers, raw, request_id)


def _run(app: ReferenceServer, phases: tuple[str, ...]):
    with running_server(app) as url:
        return run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=phases),
                            progress=lambda _: None, live=False)


def test_a_valid_create_refused_by_the_accounts_tag_policy_is_a_divergence():
    app = TagPolicy(token=TOKEN["X-Auth-Token"])
    result = _run(app, ("fuzzing", "rules"))  # (schemathesis' positive_data_acceptance, and ours)
    refused = [f for r in result.records for f in r.failures if f.check == "positive_data_acceptance"]
    assert app.refused and len(refused) == app.refused and {r.phase for r in result.divergences} == {"fuzzing", "rules"}
    assert all(f.severity == DIVERGENCE and f.provenance.why == load_spec().check_provenance(ACCOUNT_STATE).why
               for f in refused)
    assert result.exit_code == 0 and not result.violations


def test_a_valid_create_refused_with_another_code_is_still_a_violation():
    app = TagPolicy("schema-violation", token=TOKEN["X-Auth-Token"])  # 400 VPN.0001: the request, not the account
    result = _run(app, ("rules",))
    refused = [f for r in result.records for f in r.failures if f.check == "positive_data_acceptance"]
    assert app.refused and refused and all(f.severity == VIOLATION for f in refused) and result.exit_code == 1


@pytest.mark.parametrize("status, body, state", [
    (400, {"error_code": "VPN.0015", "error_msg": "tag"}, True),
    (400, {"code": "VPN.0220", "message": "route quota"}, True),  # (the error codes page's shape)
    (400, {"error_code": "VPN.0073", "error_msg": "certificate expired"}, True),  # a GM gateway's certificates
    (400, {"error_code": "VPN.0076", "error_msg": "not a CA"}, True),
    (400, {"error_code": "VPN.0077", "error_msg": "?"}, False),  # (no such code on the page)
    (400, {"error_code": "VPN.0001", "error_msg": "invalid"}, False),
    (500, {"error_code": "VPN.0015"}, False),  # a status the code does not go with
    (400, "not json", False),
])
def test_which_refusals_come_from_the_account(status, body, state):
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    assert (account_state_refusal(status, content) is not None) is state


def test_a_lifecycle_create_refused_by_the_account_is_a_divergence(tmp_path):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error_code": "VPN.0018", "error_msg": "ER not enabled", "request_id": "r"},
                              headers={"X-Request-Id": "r"})

    with scripted_lifecycle(answer, tmp_path) as phase:
        seen = Seen("static", json.loads(json.dumps(load_spec().examples("request")["static"])))
        assert phase._create(seen) is None
    assert [(f.check, f.severity) for r in seen.records for f in r.failures] == [("lifecycle_status", DIVERGENCE)]
