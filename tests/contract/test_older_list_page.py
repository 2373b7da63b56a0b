"""The list's ``limit`` as the pages read it: the newest give 0 to 2000 (default 2000), the zh list page of 2024 gives
0 to 200 (default 200: the spec's ``query_readings``). A run listed its gateway (as it begins, to find what unsure
creates made, to tell when a deletion is done) with ``limit=2000``, which a target that follows the 2024 page refuses
(400 VPN.0001): the run could not list its gateway. Measured: on a gateway that held 97 of another client's
connections, the run took the whole quota of 100 for its own and reported the target 126 violation cases ("Valid
request rejected"); and of the creates answered 504 after they were carried out, the 40 connections they made were
left on the gateway (billed on a real account). Now the run asks for the pages every page of the API takes
(:meth:`vpnconn.spec.Spec.page_size`: 200), and the correct-but-different server reads the 2024 page."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from support import PATH, TOKEN, named_create_body

from contract_tests import RunSettings, run_contract
from reference_server.app import ReferenceServer, Reject
from reference_server.embedded import running_server
from reference_server.store import stamp_text
from reference_server.variants import OtherChoicesServer
from vpnconn import load_spec
from vpnconn.spec import PER_GATEWAY

PROJECT = PATH.split("/")[2]
QUOTA = load_spec().quota(PER_GATEWAY)
OLDER_PAGE = load_spec().query_readings("ListVpnConnections")["limit"][0]  # the zh list page of 2024: 0 to 200


class ReadsTheListPageOf2024(ReferenceServer):
    """The reference server, but a list that asks for more than the 2024 page's most is refused (400 VPN.0001); it
    notes how many were, the most connections its gateway held at once, and (``unsure``) carries out about one create
    in four and answers it 504 as an API gateway that stopped waiting (the ids of what those made: ``silent``)."""

    def __init__(self, unsure: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.unsure, self.refused, self.most, self.silent = unsure, 0, 0, []

    async def _list_vpn_connections(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        limit = dict(parse_qsl(params["query"])).get("limit", "")
        if limit.isdigit() and int(limit) > OLDER_PAGE["maximum"]:
            self.refused += 1
            raise Reject(self.errors["schema-violation"], f"query limit: {limit} is more than {OLDER_PAGE['maximum']}")
        return await super()._list_vpn_connections(params, headers, raw, request_id)

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        status, body = await super()._create_vpn_connection(params, headers, raw, request_id)
        made = json.loads(body)["vpn_connection"]
        self.most = max(self.most, sum(1 for c in self.store.listing(PROJECT) if c.get("vgw_id") == made["vgw_id"]))
        if self.unsure and hashlib.sha256(raw).digest()[0] % 4 == 0:
            self.silent.append(made["id"])
            raise Reject({"status": 504, "error_code": "APIG.0201", "message": "Backend timeout: {detail}"}, "no answer in time")
        return status, body


def _ids(app: ReferenceServer) -> set[str]:
    return {c["id"] for c in app.store.listing(PROJECT)}


def _run(url: str, phases: tuple[str, ...]):
    settings = RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=phases)
    return run_contract(settings, progress=lambda _: None, live=False)


def test_a_run_keeps_the_quota_of_a_gateway_it_lists_as_the_list_page_of_2024_reads():
    app = ReadsTheListPageOf2024(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        theirs = {httpx.post(url + PATH, content=named_create_body(f"theirs-{n}"), timeout=10,
                             headers={**TOKEN, "Content-Type": "application/json"}).json()["vpn_connection"]["id"]
                  for n in range(QUOTA - 3)}
        result = _run(url, ("rules", "lifecycle"))
        assert _ids(app) == theirs  # what the run made is gone, what was there stays
    assert app.refused == 0 and app.most <= QUOTA
    assert result.exit_code == 0 and not result.violations


def test_what_unsure_creates_made_is_found_on_a_gateway_listed_as_the_list_page_of_2024_reads():
    app = ReadsTheListPageOf2024(unsure=True, token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        result = _run(url, ("rules",))
        assert len(app.silent) >= 10 and _ids(app) == set()  # none left behind
    assert app.refused == 0 and result.exit_code == 0
    assert "the gateway's connections could not be listed" not in "\n".join(result.notes)


@pytest.mark.parametrize("server, most", [(ReferenceServer, 2000), (OtherChoicesServer, 200)],
                         ids=["reference-newest-pages", "correct-but-different-2024-page"])
def test_each_server_reads_the_limit_as_its_page_does(server, most):
    app = server(token=TOKEN["X-Auth-Token"])
    now = stamp_text(datetime.now(UTC))
    for n in range(most + 3):  # (100 a gateway at most)
        app.store.add({"id": str(uuid.UUID(int=n, version=4)), "vgw_id": str(uuid.UUID(int=10_000 + n // 100, version=4)),
                       "cgw_id": str(uuid.UUID(int=50_000 + n, version=4)), "created_at": now, "updated_at": now,
                       "status": "ACTIVE"}, PROJECT)
    with running_server(app) as url:
        def listed(query: str) -> httpx.Response:
            return httpx.get(f"{url}{PATH}?{query}", headers=TOKEN, timeout=30)
        assert len(listed(f"limit={most}").json()["vpn_connections"]) == most
        refused = listed(f"limit={most + 1}")
        assert refused.status_code == 400 and "VPN.0001" in refused.text
        first = listed("").json()  # the default: as many as the most
    assert len(first["vpn_connections"]) == most and first["page_info"]["next_marker"]
