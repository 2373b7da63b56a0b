"""How the lifecycle's list checks read a gateway nobody here wrote. A gateway on a real account may be shared: other
clients' connections are there before the run, and come and go during it. The lifecycle phase walks the gateway's
list page by page and held every connection of the first, whole list to appear on some page; another client's
connection deleted between the two was reported "Paging loses or repeats" (list_paging_complete), a violation the
target did not commit. Now the walk must hold the run's own connections, and no item twice; a target that pages
wrongly is still caught (the fault list-ignores-marker, tests/contract/test_faults.py).

The list pages by ``marker``, the created_at of a page's last connection, and no source says created_at is unique:
a server whose clock gives two connections the same one, paging after the marker as documented, leaves the second
out of the next page. That is a divergence (``list_paging_ties``, inferred), not a violation.

A server may give a next_marker on every page, the last included (it cannot tell a full page from the last one): the
walk ends where no marker follows or the one that follows is the one it sent, not at an empty page.

A list filtered on a gateway that does not exist (the lifecycle asks for one with a random id): nothing says what it
gets. A service may answer 404 with the code it gives such a vgw_id on create (VPN.0509) rather than 200 with no
connections; that is a divergence (``list_unknown_gateway``), another answer still a violation."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import httpx
import pytest
from support import PATH, TOKEN, named_create_body

from contract_tests import RunSettings, run_contract
from contract_tests.verdicts import answer_schema_provenance
from reference_server.app import ReferenceServer, Reject
from reference_server.embedded import running_server
from reference_server.store import ConnectionStore
from vpnconn import load_spec

PROJECT = PATH.split("/")[2]


class AnotherClientDeletes(ReferenceServer):
    """At the first list request for a page after the first (with a marker), another client's connection is deleted
    (once)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.theirs: list[str] = []
        self.gone: list[str] = []

    async def _list_vpn_connections(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        if "marker=" in params["query"] and not self.gone:
            self.gone.append(self.theirs[1])
            self.store.delete(PROJECT, self.theirs[1])
        return await super()._list_vpn_connections(params, headers, raw, request_id)


def test_another_clients_connection_gone_during_the_walk_is_not_lost_paging():
    app = AnotherClientDeletes(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        for n in range(4):  # another client's, on the same gateway, before the run
            answer = httpx.post(url + PATH, content=named_create_body(f"theirs-{n}"),
                                headers={**TOKEN, "Content-Type": "application/json"}, timeout=10)
            app.theirs.append(answer.json()["vpn_connection"]["id"])
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("lifecycle",)),
                              progress=lambda _: None, live=False)
    walked = [r for r in result.records if any("list page" in label for label in r.labels)]
    assert len(walked) >= 2 and app.gone  # (the walk went page by page; one of theirs went meanwhile)
    assert result.exit_code == 0 and not result.violations and not result.divergences


COARSE = "2026-01-01T00:00:00.000Z"  # a clock that does not move during a run


class CoarseClock(ReferenceServer):
    """Every connection gets the same created_at; the list pages after the marker, as documented."""

    def new_store(self) -> ConnectionStore:
        store = super().new_store()
        add = store.add

        def coarse(connection: dict[str, Any], project: str = "", request: dict[str, Any] | None = None) -> str:
            if "created_at" in connection:
                connection["created_at"] = connection["updated_at"] = COARSE
                store._last_created = None  # (the reference store moves a repeated created_at on by a millisecond)
            return add(connection, project, request)

        store.add = coarse  # type: ignore[method-assign]
        return store


def test_paging_that_loses_connections_with_the_same_created_at_is_a_divergence():
    with running_server(CoarseClock(token=TOKEN["X-Auth-Token"])) as url:
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("lifecycle",)),
                              progress=lambda _: None, live=False)
    found = [f for r in result.records for f in r.failures]
    assert [f.check for f in found] == ["list_paging_ties"] and "lost: " in found[0].message
    assert found[0].provenance.why == load_spec().check_provenance("list_paging_ties", "ListVpnConnections").why
    assert result.exit_code == 0 and not result.violations and result.divergences


class MarkerOnEveryPage(ReferenceServer):
    """Every page gives a next_marker: its last connection's created_at, and an empty page the marker it was asked
    with (a server that cannot tell a full page from the last)."""

    def list_page(self, project: str, query: dict[str, Any], store: ConnectionStore | None = None) -> dict[str, Any]:
        page = super().list_page(project, query, store)
        items = page["vpn_connections"]
        marker = items[-1]["created_at"] if items else query.get("marker")
        if marker:
            page["page_info"]["next_marker"] = marker
        return page


def test_paging_that_gives_a_marker_on_every_page_ends_where_no_further_page_comes():
    """Before, the walk stopped at the empty page and reported "still a next_marker after 12 pages": a violation."""
    app = MarkerOnEveryPage(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("lifecycle",)),
                              progress=lambda _: None, live=False)
    walked = [r for r in result.records if any("list page" in label for label in r.labels)]
    last = json.loads(walked[-1].response_body)
    assert last["vpn_connections"] == [] and last["page_info"]["next_marker"]  # (the empty page echoed its marker)
    assert result.exit_code == 0 and not result.violations and not result.divergences


class ConsoleTemplate(ReferenceServer):
    """The run's gateway holds a connection another client made in the console of a region that has the style policy
    template: show and list answer it with ``style`` (POLICY-TEMPLATE, as the zh list page of 2024-08 writes it)."""

    def __init__(self, style: str, **options: Any) -> None:
        super().__init__(**options)
        self.style, self.theirs = style, ""

    def list_page(self, project: str, query: dict[str, Any], store: ConnectionStore | None = None) -> dict[str, Any]:
        page = super().list_page(project, query, store)
        for connection in page["vpn_connections"]:
            if connection["id"] == self.theirs:
                connection["style"] = self.style
        return page


@pytest.mark.parametrize("style, severity", [("POLICY-TEMPLATE", "divergence"), ("POLICY_TEMPLATE", "violation"),
                                             ("TEMPLATE", "violation")])
def test_another_clients_connection_of_the_style_policy_template_is_a_divergence(style, severity):
    """zh pages of 2024 to 2025-05 list a fourth style, the newest pages do not (style_policy_template); a style no
    page gives is a violation."""
    app = ConsoleTemplate(style, token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        answer = httpx.post(url + PATH, content=named_create_body("theirs-template"),
                            headers={**TOKEN, "Content-Type": "application/json"}, timeout=10)
        app.theirs = answer.json()["vpn_connection"]["id"]
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("lifecycle",)),
                              progress=lambda _: None, live=False)
    found = [f for r in result.records for f in r.failures]
    assert found and {f.check for f in found} == {"lifecycle_response_schema"} and {f.severity for f in found} == {severity}
    why = load_spec().check_provenance("style_policy_template").why
    assert all((f.provenance.why == why) is (severity == "divergence") for f in found)
    assert result.exit_code == (0 if severity == "divergence" else 1)


@pytest.mark.parametrize("seconds, template, named", [
    (True, False, ["timestamps_with_milliseconds"]), (False, True, ["style_policy_template"]),
    (True, True, ["style_policy_template", "timestamps_with_milliseconds"]),
])
def test_a_list_answer_names_the_other_forms_it_is_written_in_and_no_other(seconds, template, named):
    spec = load_spec()
    operation = spec.operation_by_id("ListVpnConnections")
    answer = copy.deepcopy(operation.node["responses"]["200"]["content"]["application/json"]["examples"]["two-connections"]["value"])
    first = answer["vpn_connections"][0]
    if seconds:
        first["created_at"] = first["created_at"][:19] + "Z"  # (the zh list page's form)
    if template:
        answer["vpn_connections"][1]["style"] = "POLICY-TEMPLATE"
    provenance = answer_schema_provenance(operation.response_schema(200), answer, operation.id)
    assert provenance.why == " / ".join(spec.check_provenance(name).why for name in named)


class UnknownGatewayNotFound(ReferenceServer):
    """A list filtered on a gateway it does not know (not the run's, none of its connections') answers 404 with
    ``code``: VPN.0509, the code the service gives such a vgw_id on create, makes the other choice where the sources
    are silent; another code says the wrong thing."""

    def __init__(self, code: str, **options: Any) -> None:
        super().__init__(**options)
        self.code, self.refused = code, 0

    async def _list_vpn_connections(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        query = dict(item.split("=", 1) for item in params["query"].split("&") if "=" in item)
        known = {RunSettings().vgw_id} | {c["vgw_id"] for c in self.store.listing(PROJECT)}
        if query.get("vgw_id", RunSettings().vgw_id) not in known:
            self.refused += 1
            raise Reject({"status": 404, "error_code": self.code, "message": "VPN gateway {detail} does not exist"},
                         query["vgw_id"])
        return await super()._list_vpn_connections(params, headers, raw, request_id)


def lifecycle_against(app: UnknownGatewayNotFound) -> Any:
    with running_server(app) as url:
        return run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("lifecycle",)),
                            progress=lambda _: None, live=False)


def test_a_list_on_an_unknown_gateway_answered_gateway_not_found_is_a_divergence():
    code = load_spec().rule("gateway-exists").error["error_code"]
    app = UnknownGatewayNotFound(code, token=TOKEN["X-Auth-Token"])
    result = lifecycle_against(app)
    found = [f for r in result.records for f in r.failures]
    assert app.refused == 1 and [f.check for f in found] == ["list_unknown_gateway"] and code in found[0].message
    assert found[0].provenance.why == load_spec().check_provenance("list_unknown_gateway", "ListVpnConnections").why
    assert result.exit_code == 0 and not result.violations and result.divergences


def test_a_list_on_an_unknown_gateway_answered_404_with_another_code_is_a_violation():
    app = UnknownGatewayNotFound("VPN.0004", token=TOKEN["X-Auth-Token"])  # (the code of a connection not found)
    result = lifecycle_against(app)
    found = [f for r in result.records for f in r.failures]
    assert app.refused == 1 and [f.check for f in found] == ["lifecycle_status"] and "got 404" in found[0].message
    assert result.exit_code == 1 and result.violations


class TunnelPairsTaken(ReferenceServer):
    """Every fifth create that names a tunnel pair is refused 400 VPN.0012 (tunnel pair in use): where
    ``another_client``, because another client has just created a connection on that pair (it stays on the gateway),
    as a second run on the same gateway does; else for nothing, the pair being free: a faulty server."""

    def __init__(self, another_client: bool, **options: Any) -> None:
        super().__init__(**options)
        self.another_client, self.creates, self.taken = another_client, 0, []

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        body = json.loads(raw) if raw.startswith(b"{") else None
        conn = body.get("vpn_connection") if isinstance(body, dict) else None
        if isinstance(conn, dict) and isinstance(conn.get("tunnel_local_address"), str):
            self.creates += 1
            if self.creates % 5 == 0 and self.another_client:
                theirs = {**conn, "name": f"theirs-{self.creates}", "cgw_id": str(uuid.uuid4())}
                answer = await super()._create_vpn_connection(params, headers, json.dumps({"vpn_connection": theirs}).encode(),
                                                              request_id)
                self.taken.append(answer)
            elif self.creates % 5 == 0:
                raise Reject(load_spec().errors["tunnel-pair-in-use"], f"{conn['tunnel_local_address']} (said falsely)")
        return await super()._create_vpn_connection(params, headers, raw, request_id)


@pytest.mark.parametrize("another_client", [True, False], ids=["another client took them", "a faulty server"])
def test_a_valid_create_refused_for_a_tunnel_pair_in_use_is_held_against_the_target_unless_another_client_took_it(another_client):
    """Two runs at once on one gateway hand out the same tunnel pairs (each lists the gateway as it begins): the second
    to create on one was refused VPN.0012, and that was a violation of a correct server. The run lists the gateway as
    such a refusal comes: connections there that it did not make make those refusals divergences, and it says so.
    Where nobody else is there, the refusal is the target's: still a violation."""
    from contract_tests.shared_gateway import SHARED

    app = TunnelPairsTaken(another_client, token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], seed=0, examples=20, use_cache=False),
                              progress=lambda _: None, live=False)
    refused = [f for r in result.records if r.status == 400 and "VPN.0012" in r.response_body and r.mode == "positive"
               for f in r.failures if f.check in ("positive_data_acceptance", "lifecycle_status")]
    assert app.creates >= 10 and refused
    shared_note = [n for n in result.notes if n.startswith("another client created")]
    if another_client:
        assert all(f.severity == "divergence" and f.provenance == load_spec().check_provenance(SHARED) for f in refused)
        assert result.exit_code == 0 and len(shared_note) == 1, [f.title for r in result.violations for f in r.failures]
    else:
        assert all(f.severity == "violation" for f in refused) and not shared_note
        assert result.exit_code == 1


MINE = {"name": "vpn-1", "vgw_ip": "ip-a", "cgw_id": "cgw-1", "tunnel_local_address": "169.254.7.1/30",
        "tunnel_peer_address": "169.254.7.2/30", "peer_subnets": ["192.168.44.0/24"]}


@pytest.mark.parametrize("theirs, code, explained", [
    ({**MINE, "name": "theirs", "cgw_id": "cgw-9"}, "VPN.0012", True),  # their connection on the create's tunnel /30
    ({**MINE, "name": "theirs", "tunnel_local_address": "169.254.7.6/30"}, "VPN.0012", False),  # another /30
    ({**MINE, "name": "theirs", "tunnel_local_address": "169.254.9.1/30"}, "VPN.0001", True),  # the same address and cgw
    ({**MINE, "name": "theirs", "cgw_id": "cgw-9"}, "VPN.0001", False),  # another customer gateway
    (dict(MINE), "VPN.0001", False),  # the very create refused: a server that made what it refused, not another client
])
def test_a_refusal_is_explained_by_another_clients_connection_only_where_it_holds_what_the_create_named(theirs, code, explained):
    from contract_tests.shared_gateway import holds

    assert holds({"id": "x", **theirs}, MINE, code) is explained


@pytest.mark.parametrize("full", [True, False])
def test_a_quota_refusal_is_explained_where_the_list_taken_for_it_found_the_gateway_full_of_theirs_too(full, tmp_path):
    from contract_tests.cleanup import Ledger
    from contract_tests.shared_gateway import GatewayWatch, Look, _key

    watch = GatewayWatch(Ledger.new("http://127.0.0.1:9", "p", tmp_path), RunSettings(), httpx.Client(), None, [])
    theirs = {"id": "theirs-1", **MINE, "name": "theirs", "vgw_ip": "ip-b", "cgw_id": "cgw-9",
              "tunnel_local_address": "169.254.9.1/30"}
    look = Look(0.0, [theirs], full)
    watch.looks.append(look)
    watch.look_for[_key(MINE)] = look
    assert watch.explains(MINE, "VPN.0001", {"theirs-1": theirs}) == (["theirs-1"] if full else [])
    assert watch.explains(MINE, "VPN.0012", {"theirs-1": theirs}) == []  # (a tunnel pair in use is not the quota)


def test_what_a_refused_create_made_is_never_another_clients_on_a_full_gateway(tmp_path):
    """A server that makes the connection it refuses, on a gateway its refusals filled: a list taken as a valid create
    was refused (400 VPN.0001, the quota's code too) found the gateway full, with that connection on it. It was taken
    for another client's, and the fault's own refusal excused as the quota's: the fault rejects-dotted-names then
    passed a default run about one time in five. What shows what one of the run's refused creates asked for is the
    run's own; another client's still explains it."""
    from contract_tests.cleanup import Ledger
    from contract_tests.shared_gateway import GatewayWatch, Look, _key

    ledger = Ledger.new("http://127.0.0.1:9", "p", tmp_path)
    watch = GatewayWatch(ledger, RunSettings(), httpx.Client(), None, [])
    made = {"id": "made-1", **MINE, "vgw_id": "vgw-1"}  # what the refused create itself asked for
    theirs = {"id": "theirs-1", **MINE, "name": "theirs", "vgw_ip": "ip-b", "cgw_id": "cgw-9"}
    watch.looks.append(look := Look(0.0, [made, theirs], True))
    watch.look_for[_key(MINE)] = look
    ledger.note_refused({"vpn_connection": {**MINE, "vgw_id": "vgw-1"}})
    others = watch.others()
    assert set(others) == {"theirs-1"}
    assert watch.explains(MINE, "VPN.0001", others) == ["theirs-1"]
    watch.looks[0].new = [made]
    assert watch.explains(MINE, "VPN.0001", watch.others()) == []
