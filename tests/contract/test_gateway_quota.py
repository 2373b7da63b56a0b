"""An account may hold at most so many connections on a gateway (the spec's ``x-vpnconn-quotas``: 100 by default),
and a create beyond that is refused 400 VPN.0001 (no code of its own). A run kept every connection it made until
the lifecycle phase (147 in a default run), so a server that keeps the documented quota was FAILED with 61 cases of
"Valid request rejected"; on a real gateway that holds connections already, a budget of 50 could pass it too. Now a
run lists the gateway as it begins, and holds at most the quota less what is there at once: when one more create
could pass that, it waits for the requests in flight and deletes what it holds (the same requests are sent).

The reference server keeps the quota itself. A deletion may take a while (the show answers PENDING_DELETE), and no
source says whether a connection being deleted still counts: the correct-but-different server counts it until it is
gone, and a run that deleted to make room and went on creating at once got 77 "Valid request rejected" from it. Now
the run waits until what it deleted is gone (shown 404) before it goes on."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest
from support import PATH, TOKEN, named_create_body

from contract_tests import RunSettings, run_contract, runner
from contract_tests.cleanup import Ledger, wait_until_gone
from contract_tests.hooks import ActiveRun, acceptable
from contract_tests.pacing import BUSY_ATTEMPTS, is_busy
from contract_tests.progress import Progress
from contract_tests.records import CaseRecord
from contract_tests.run_resources import customer_gateways_of_their_own, unknown_resource, unmade_customer_gateway
from reference_server import variants
from reference_server.app import ReferenceServer, Reject
from reference_server.embedded import running_server
from reference_server.faults import FAULTS, FaultyServer
from reference_server.variants import OtherChoicesServer
from vpnconn import load_spec
from vpnconn.errors import SettingsError, TargetError
from vpnconn.repair import Repairer
from vpnconn.spec import PER_GATEWAY, PER_PAIR
from vpnconn.world import load_world

QUOTA = load_spec().quota(PER_GATEWAY)
PROJECT = PATH.split("/")[2]


class WithQuota(ReferenceServer):
    """The reference server, which keeps the quota (a valid create on a gateway that holds QUOTA connections is
    refused 400 VPN.0001, as the service does), noting the most connections its gateway held at once."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.most = 0

    def _held(self, gateway: Any) -> int:
        return sum(1 for c in self.store.listing(PROJECT) if c.get("vgw_id") == gateway)

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        answer = await super()._create_vpn_connection(params, headers, raw, request_id)
        self.most = max(self.most, self._held(json.loads(raw)["vpn_connection"]["vgw_id"]))
        return answer


def _run(url: str, **options: Any):
    return run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], **options), progress=lambda _: None, live=False)


def test_a_run_holds_no_more_than_the_gateways_quota():
    app = WithQuota(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        result = _run(url, phases=("rules", "lifecycle"))
    created = sum(1 for r in result.records if r.method == "POST" and r.status == 201)
    assert created > QUOTA and QUOTA // 2 < app.most <= QUOTA  # (it used the room, and kept within it)
    assert result.exit_code == 0 and not result.violations


def test_a_gateway_that_holds_connections_already_leaves_the_run_the_rest_of_its_quota():
    app = WithQuota(token=TOKEN["X-Auth-Token"])
    said: list[str] = []
    with running_server(app) as url:
        theirs = QUOTA - 3
        for n in range(theirs):
            answer = httpx.post(url + PATH, content=named_create_body(f"theirs-{n}"),
                                headers={**TOKEN, "Content-Type": "application/json"}, timeout=10)
            assert answer.status_code == 201
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("rules", "lifecycle")),
                              progress=said.append, live=False)
        left = app._held(load_spec().examples("request")["static"]["vpn_connection"]["vgw_id"])
    assert result.exit_code == 0 and not result.violations and app.most == QUOTA and left == theirs
    assert any(f"holds {theirs} connection(s) already" in line and "at most 3 at once" in line for line in said)
    assert sum(1 for r in result.records if r.method == "POST" and r.status == 201) > 3


def test_room_is_made_only_when_one_more_create_could_pass_the_quota(tmp_path):
    spec = load_spec()
    settings = RunSettings(target="http://127.0.0.1:9", token="t")
    ledger = Ledger(tmp_path / "run-x.jsonl", "http://127.0.0.1:9", "p")
    calls: list[str] = []
    run = ActiveRun(settings, Repairer(spec, settings), Progress(print, enabled=False), float("inf"), ledger=ledger, room=3)
    run.make_room = lambda: calls.append("make room")
    ledger.created("a")
    run.before_create(1, lambda: calls.append("drain"))  # 1 held, 1 in flight: room for one more
    assert calls == []
    ledger.created("b")
    run.before_create(1, lambda: calls.append("drain"))  # 2 held, 1 in flight: the next would be the fourth
    assert calls == ["drain", "make room"]
    assert run.creates_left() == 1 and json.loads(ledger.path.read_text().splitlines()[0]) == {"created": ledger.url("a")}
    ledger.note_create(json.loads(named_create_body("vpn-lost")), None)  # no answer: it may hold a connection
    assert ledger.held() == 3 and run.creates_left() == 0


def test_a_full_gateway_gets_no_create_and_the_run_says_why():
    app = WithQuota(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        for n in range(QUOTA):
            httpx.post(url + PATH, content=named_create_body(f"theirs-{n}"),
                       headers={**TOKEN, "Content-Type": "application/json"}, timeout=10).raise_for_status()
        result = _run(url, phases=("rules", "lifecycle"))
    assert not [r for r in result.records if r.method == "POST" and r.mode == "positive"]
    assert result.exit_code == 0 and not result.violations and not [r for r in result.records if r.status == 201]
    assert any("could create were not sent: the gateway's quota of 100 connections left no room" in n for n in result.notes)


def test_the_remote_create_budget_is_half_the_quota():
    """--max-creates' default against a real account keeps half the gateway's quota for what is there already."""
    from contract_tests.settings import REMOTE_MAX_CREATES

    assert REMOTE_MAX_CREATES == QUOTA // 2


def test_a_run_waits_for_what_it_deleted_to_be_gone_where_a_deletion_takes_a_while():
    """The correct-but-different server shows a deleted connection PENDING_DELETE twice before it is gone, and counts
    it against the quota until then."""
    app = OtherChoicesServer(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        result = _run(url, phases=("rules", "lifecycle"))
    assert sum(1 for r in result.records if r.method == "POST" and r.status == 201) > QUOTA  # (room was made)
    assert result.exit_code == 0 and not result.violations


def _deleted_connections(url: str, count: int) -> list[str]:
    urls = []
    for n in range(count):
        answer = httpx.post(url + PATH, content=named_create_body(f"gone-{n}"),
                            headers={**TOKEN, "Content-Type": "application/json"}, timeout=10)
        urls.append(f"{url}{PATH}/{answer.json()['vpn_connection']['id']}")
        for _ in range(BUSY_ATTEMPTS):  # (the server is busy now and then the first time a request comes: asked again)
            deleted = httpx.delete(urls[-1], headers=TOKEN, timeout=10)
            if not is_busy(deleted.status_code, deleted.content):
                break
        assert deleted.status_code == 204
    return urls


def test_waiting_for_deleted_connections_ends_when_each_is_shown_404_or_after_the_wait(monkeypatch):
    settings = RunSettings(target="http://127.0.0.1:9", token=TOKEN["X-Auth-Token"])
    with running_server(OtherChoicesServer(token=TOKEN["X-Auth-Token"])) as url, httpx.Client(timeout=10) as client:
        urls = _deleted_connections(url, 3)
        assert wait_until_gone(urls, settings, client, None) == {}
        assert all(client.get(u, headers=TOKEN).status_code == 404 for u in urls)
    monkeypatch.setattr(variants, "PENDING_SHOWS", 10**6)  # a deletion that does not end
    with running_server(OtherChoicesServer(token=TOKEN["X-Auth-Token"])) as url, httpx.Client(timeout=10) as client:
        urls = _deleted_connections(url, 2)
        assert wait_until_gone(urls, settings, client, None, wait=0.5) == dict.fromkeys(urls, (200, "PENDING_DELETE"))
        assert client.get(urls[0], headers=TOKEN).json()["vpn_connection"]["status"] == "PENDING_DELETE"


def test_a_deleted_connection_whose_show_cannot_tell_is_gone_once_its_gateway_no_longer_lists_it():
    """A show that answers an error other than 404 for a deleted connection (unknown-id-500: an emulator's 500 for an id
    it no longer holds) cannot tell whether it is gone; the gateway's list can. Before, each was waited for 60 s as a
    deletion under way and then counted as held: a default run against that fault took 114 s, and its full gateway
    kept the rules phase to 59 of its 258 cases and the lifecycle to 1 of 41. Now one gone from the list is gone, and one
    the list still holds, or a list that does not answer, is waited for as before."""
    settings = RunSettings(target="http://127.0.0.1:9", token=TOKEN["X-Auth-Token"])
    with (running_server(FaultyServer(FAULTS["unknown-id-500"], token=TOKEN["X-Auth-Token"])) as url,
          httpx.Client(timeout=10) as client):
        urls = _deleted_connections(url, 2)
        assert [client.get(u, headers=TOKEN).status_code for u in urls] == [500, 500]
        assert wait_until_gone(urls, settings, client, None, wait=0.3, base_url=url) == {}
        assert wait_until_gone(urls, settings, client, None, wait=0.3) == dict.fromkeys(urls, (500, None))  # (no list)

    still_listed, listing = "c-listed", [200]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/vpn-connection"):  # the gateway's list: it holds one of the two
            return httpx.Response(listing[0], json={"vpn_connections": [{"id": still_listed}], "page_info": {}})
        return httpx.Response(500, json={"error_code": "VPN.0500", "error_msg": "internal", "request_id": "r"})

    urls = [f"http://127.0.0.1:9{PATH}/{still_listed}", f"http://127.0.0.1:9{PATH}/c-unlisted"]
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        assert wait_until_gone(urls, settings, client, None, wait=0.3, base_url="http://127.0.0.1:9") == {urls[0]: (500, None)}
        listing[0] = 500  # a list that does not answer as documented: nothing is taken for gone
        assert wait_until_gone(urls, settings, client, None, wait=0.3, base_url="http://127.0.0.1:9") == dict.fromkeys(urls, (500, None))


def test_a_run_makes_room_on_a_target_whose_show_of_a_deleted_connection_cannot_tell(monkeypatch):
    """The run against unknown-id-500 (wait shortened to 1 s): it makes room on its gateway by the list, sends its rules
    phase whole, as against the reference server, and runs the lifecycle, which catches the fault. Before, what it
    deleted counted as held, the gateway stayed full, and the rest of the rules phase and the lifecycle went unsent."""
    monkeypatch.setattr(runner, "GONE_WAIT", 1.0)
    with running_server(FaultyServer(FAULTS["unknown-id-500"], token=TOKEN["X-Auth-Token"])) as url:
        faulty = _run(url, phases=("rules", "lifecycle"))
    with running_server(ReferenceServer(token=TOKEN["X-Auth-Token"])) as url:
        reference = _run(url, phases=("rules", "lifecycle"))
    rules = [len([r for r in result.records if r.phase == "rules"]) for result in (faulty, reference)]
    assert rules[0] == rules[1] > QUOTA, rules
    assert len([r for r in faulty.records if r.phase == "lifecycle"]) > 20
    found = {(r.phase, f.check) for r in faulty.violations for f in r.failures}  # (the show of a deleted one, a 500)
    assert found == {("lifecycle", "lifecycle_status"), ("lifecycle", "deleted_connection_gone")} and faulty.exit_code == 1


def test_room_that_could_not_be_made_is_not_tried_again(tmp_path):
    spec = load_spec()
    settings = RunSettings(target="http://127.0.0.1:9", token="t")
    ledger = Ledger(tmp_path / "run-x.jsonl", "http://127.0.0.1:9", "p")
    run = ActiveRun(settings, Repairer(spec, settings), Progress(print, enabled=False), float("inf"), ledger=ledger, room=2)
    calls: list[str] = []

    def make_room() -> None:  # deleted, and still shown: held all the same
        calls.append("make room")
        for url in ledger.pending():
            ledger.deleted_url(url)
        ledger.still_going([ledger.url("a"), ledger.url("b")])

    run.make_room = make_room
    ledger.created("a")
    ledger.created("b")
    run.before_create(0, lambda: None)
    run.before_create(0, lambda: None)
    assert calls == ["make room"] and ledger.held() == 2 and run.creates_left() == 0 and not run.take_create()


PAIR = PER_PAIR
USERS_CUSTOMER_GATEWAY = "11111111-2222-4333-8444-555555555555"


class KeepsPairs(WithQuota):
    """Keeps the user guide's limit too, as a real account does: a gateway address and a customer gateway hold one
    connection, and a valid create that asks for a second is refused with the spec's error for it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.most_on_a_pair = 0
        self.customer_gateways: set[str] = set()

    def _on_pair(self, conn: dict[str, Any]) -> int:
        pair = (conn.get("vgw_id"), conn.get("vgw_ip"), conn.get("cgw_id"))
        return sum(1 for c in self.store.listing(PROJECT) if (c.get("vgw_id"), c.get("vgw_ip"), c.get("cgw_id")) == pair)

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        try:
            body = json.loads(raw)
            conn = body["vpn_connection"]
        except (ValueError, KeyError, TypeError):
            return await super()._create_vpn_connection(params, headers, raw, request_id)
        if isinstance(conn, dict) and self._on_pair(conn) >= load_spec().quota(PAIR) and not self.check.violations(body, self.world):
            raise Reject(load_spec().quota_error(PAIR), "the gateway address and customer gateway have a connection")
        answer = await super()._create_vpn_connection(params, headers, raw, request_id)
        self.most_on_a_pair = max(self.most_on_a_pair, self._on_pair(conn))
        self.customer_gateways.add(conn["cgw_id"])
        return answer


def test_creates_with_the_users_customer_gateway_hold_one_connection_at_a_time():
    app = KeepsPairs(token=TOKEN["X-Auth-Token"])
    said: list[str] = []
    with running_server(app) as url:
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], cgw_id=USERS_CUSTOMER_GATEWAY,
                                          phases=("rules", "lifecycle")), progress=said.append, live=False)
    created = sum(1 for r in result.records if r.method == "POST" and r.status == 201)
    assert result.exit_code == 0 and not result.violations and created > 10 and app.customer_gateways == {USERS_CUSTOMER_GATEWAY}
    assert app.most_on_a_pair == 1 and any("hold 1 connection(s) at once (the user guide)" in line for line in said)
    # the lifecycle holds its styles' connections side by side: one style's sequence ran, the others are said
    styles = len(load_spec().examples("request"))
    assert any(f"{styles - 1} request(s) that could create were not sent: the 1 connection(s) the gateway address and the "
               "customer gateway may hold left no room" in n for n in result.notes)


def test_without_a_customer_gateway_named_each_create_gets_one_of_its_own():
    """The default ids exist only where every well-formed id does (an open world): there each create names a customer
    gateway of its own, and the run holds many connections at once."""
    app = KeepsPairs(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        result = _run(url, phases=("rules", "lifecycle"))
    created = sum(1 for r in result.records if r.method == "POST" and r.status == 201)
    assert result.exit_code == 0 and not result.violations and len(app.customer_gateways) == created + 1 > 10
    assert unmade_customer_gateway() in app.customer_gateways  # (the create that asked whether the world is open)
    assert app.most_on_a_pair == 1 and app.most > 10


def test_customer_gateways_of_their_own_come_in_the_same_order_for_the_same_run():
    spec = load_spec()
    bodies = [json.loads(named_create_body(f"vpn-{n}")) for n in range(3)]
    first, second = (Repairer(spec, RunSettings(), own_customer_gateways=True) for _ in range(2))
    given = [first.repair(json.loads(json.dumps(b)))["vpn_connection"]["cgw_id"] for b in bodies]
    assert given == [second.repair(json.loads(json.dumps(b)))["vpn_connection"]["cgw_id"] for b in bodies]
    assert len(set(given)) == 3 and RunSettings().cgw_id not in given
    assert Repairer(spec, RunSettings()).repair(bodies[0])["vpn_connection"]["cgw_id"] == RunSettings().cgw_id


class RefusesPairsOtherwise(KeepsPairs):
    """Keeps the limit, and refuses a second connection on a pair with a code of its own (no source gives one)."""

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        try:
            return await super()._create_vpn_connection(params, headers, raw, request_id)
        except Reject as refused:
            if refused.error is load_spec().quota_error(PAIR):
                raise Reject({"status": 409, "error_code": "VPN.0100", "message": "conflict: {detail}"}, refused.detail) from None
            raise


def _pair_findings(app: ReferenceServer) -> tuple[Any, list[str]]:
    with running_server(app) as url:
        result = _run(url, phases=("lifecycle",))
        left = len(app.store)
    found = [f.message for r in result.records for f in r.failures if f.check == "connection_pair_in_use"]
    assert result.exit_code == 0 and not result.violations and left == 0  # (a second connection taken is deleted)
    return result, found


def test_a_second_connection_on_a_gateway_address_and_customer_gateway_is_probed_and_only_a_divergence():
    """The lifecycle asks for a second connection on the gateway address and customer gateway of a live one. A target
    that keeps the limit with the spec's error: nothing to say; one that takes it, or refuses it otherwise: a
    divergence (the user guide describes the console; no source says what the API answers)."""
    assert _pair_findings(ReferenceServer(token=TOKEN["X-Auth-Token"]))[1] == []
    result, taken = _pair_findings(ReferenceServer(token=TOKEN["X-Auth-Token"], quotas=False))
    assert len(taken) == 1 and "was created; the spec expects 400 VPN.0001" in taken[0] and len(result.divergences) == 1
    assert any("got 409 VPN.0100" in m for m in _pair_findings(RefusesPairsOtherwise(token=TOKEN["X-Auth-Token"]))[1])


EXAMPLES_WORLD = """
gateways:
  - id: b32d91a4-52c8-4b17-a8df-e907174eb11d
    eips:
      - {id: 0c464dad-7f31-4a6e-9c84-c22bb0eb0bde, address: 203.0.113.10, role: active}
customer_gateways:
  - {id: 5247ae10-93e1-4c6b-b1b2-dd36659a7f5d, ip: 198.51.100.7}
"""  # the examples' ids (the run's defaults), and no other


def test_a_target_whose_world_holds_only_the_default_ids_gets_every_create_with_the_default_customer_gateway(tmp_path):
    """A server seeded with the examples' ids and no others (an emulator's world): customer gateways of a create's
    own do not exist there. Before, each create named one (the target world taken for open), and the run was FAILED
    with 143 cases (104 "Valid request rejected": 404 VPN.0004). Now a create that names a customer gateway nobody
    made asks first; refused so, every create names the default, one connection at a time."""
    (tmp_path / "world.yaml").write_text(EXAMPLES_WORLD)
    app = KeepsPairs(token=TOKEN["X-Auth-Token"], world=load_world(tmp_path / "world.yaml"))
    said: list[str] = []
    with running_server(app) as url:
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("rules", "lifecycle")),
                              progress=said.append, live=False)
    created = sum(1 for r in result.records if r.method == "POST" and r.status == 201)
    assert result.exit_code == 0 and not result.violations and created > 10
    assert app.customer_gateways == {RunSettings().cgw_id} and app.most_on_a_pair == 1
    assert any("a customer gateway nobody made" in line and "got 404 VPN.0004: its gateways are its own" in line for line in said)


class RefusesTheUnmade(ReferenceServer):
    """An open world that refuses one customer gateway id, for its own reasons, with a code of its own."""

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        if unmade_customer_gateway().encode() in raw:
            raise Reject({"status": 400, "error_code": "VPN.0100", "message": "refused: {detail}"}, "not this one")
        return await super()._create_vpn_connection(params, headers, raw, request_id)


def test_a_probe_refused_otherwise_leaves_every_create_with_the_default_customer_gateway():
    said: list[str] = []
    with running_server(RefusesTheUnmade(token=TOKEN["X-Auth-Token"])) as url:
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], phases=("lifecycle",)),
                              progress=said.append, live=False)
    sent = {r.body["vpn_connection"].get("cgw_id") for r in result.records if r.method == "POST" and isinstance(r.body, dict)}
    assert result.exit_code == 0 and sent == {RunSettings().cgw_id}
    assert any("got 400 VPN.0100: it may not have it, so every create names" in line for line in said)


def test_a_customer_gateway_the_target_does_not_have_stops_the_run_with_the_option_to_name_one(tmp_path):
    """A mistyped --cgw-id: every valid create got 404 VPN.0004, and the run was FAILED with a violation per create
    (the target blamed for the user's id). Now no verdict (exit 2), and the option that names the target's own."""
    (tmp_path / "world.yaml").write_text(EXAMPLES_WORLD)
    with running_server(ReferenceServer(token=TOKEN["X-Auth-Token"], world=load_world(tmp_path / "world.yaml"))) as url:
        with pytest.raises(TargetError, match=f"the target does not have the cgw_id they name, {USERS_CUSTOMER_GATEWAY}; "
                                              "no verdict: name one of the target's with --cgw-id"):
            _run(url, cgw_id=USERS_CUSTOMER_GATEWAY, phases=("rules", "lifecycle"))
        assert not app_holds(url)


def app_holds(url: str) -> list[Any]:
    return httpx.get(url + PATH, headers=TOKEN, timeout=10).json()["vpn_connections"]


def test_creates_refused_for_an_id_now_and_then_are_judged_as_ever():
    """Only every valid create refused so, and no create carried out, means unknown ids: a target that refuses some
    of them is judged (a violation each)."""
    def create(status: int, body: str) -> CaseRecord:
        return CaseRecord(phase="rules", mode="positive", method="POST", url="http://127.0.0.1:9" + PATH, request_headers={},
                          request_body="{}", status=status, response_headers={}, response_body=body)

    unknown = create(404, '{"error_code": "VPN.0004", "error_msg": "not found"}')
    spec, settings = load_spec(), RunSettings(target="http://127.0.0.1:9")
    assert unknown_resource(spec, settings, [unknown] * 3) is not None
    assert unknown_resource(spec, settings, [unknown] * 2) is None  # (too few to tell)
    assert unknown_resource(spec, settings, [unknown] * 3 + [create(201, '{"vpn_connection": {"id": "a"}}')]) is None
    assert unknown_resource(spec, settings, [unknown] * 3 + [create(400, '{"error_code": "VPN.0001"}')]) is None


def test_a_run_that_may_create_nothing_asks_nothing(tmp_path):
    """MAX_CREATES 0: the question whether the world is open is a create, so it is not asked."""
    asked: list[httpx.Request] = []
    settings = RunSettings(target="http://127.0.0.1:9", token="t", max_creates=0)
    ledger = Ledger(tmp_path / "run-x.jsonl", "http://127.0.0.1:9", settings.project_id)
    with httpx.Client(transport=httpx.MockTransport(lambda request: asked.append(request) or httpx.Response(201))) as client:
        assert customer_gateways_of_their_own(load_spec(), "http://127.0.0.1:9", settings, client, None, ledger, print)
        assert asked == []
        assert customer_gateways_of_their_own(load_spec(), "http://127.0.0.1:9", replace(settings, max_creates=1), client,
                                              None, ledger, print) and len(asked) == 1


SEVERAL = (USERS_CUSTOMER_GATEWAY, "22222222-3333-4444-8555-666666666666", "33333333-4444-4555-8666-777777777777")


def _several_customer_gateways(concurrency: int) -> tuple[Any, KeepsPairs, list[str]]:
    app = KeepsPairs(token=TOKEN["X-Auth-Token"])
    said: list[str] = []
    with running_server(app) as url:
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], cgw_id=SEVERAL[0], cgw_ids=SEVERAL,
                                          examples=30, concurrency=concurrency), progress=said.append, live=False)
    return result, app, said


def test_several_customer_gateways_each_hold_a_connection_at_once_in_the_same_turns_at_any_concurrency():
    """`--cgw-id a,b,c`: the creates take turns at the three, and the run deletes what it holds after each round of
    three, not after each create; the lifecycle takes every style side by side. With one customer gateway the run
    holds one connection at a time (above), and the lifecycle one style."""
    one, app, said = _several_customer_gateways(1)
    eight, app8, _ = _several_customer_gateways(8)
    assert one.exit_code == 0 and not one.violations and eight.exit_code == 0 and not eight.violations
    assert app.customer_gateways == set(SEVERAL)  # (a valid body sent as it is takes its turn too)
    assert app.most_on_a_pair == 1 and app.most == len(SEVERAL)
    assert app8.customer_gateways == app.customer_gateways and app8.most_on_a_pair == 1
    assert any("each customer gateway hold 1 connection(s) at once (the user guide): the creates take turns at 3 of the 3 "
               "named, holding at most 3 at once" in line for line in said)
    assert not any("could create were not sent" in note for note in one.notes)  # (every style's lifecycle ran)

    def sent(result: Any) -> list[tuple[Any, ...]]:
        return [(r.phase, r.mode, r.method, r.status, r.body["vpn_connection"].get("cgw_id") if isinstance(r.body, dict)
                 and isinstance(r.body.get("vpn_connection"), dict) else None) for r in result.records]

    assert sent(one) == sent(eight)
    # the rules phase's creates (each valid one repaired, so each names one of them; and each invalid one a correct
    # server may accept: hooks.acceptable) take their turns one after another
    turns = [cgw for (phase, mode, method, _, cgw), r in zip(sent(one), one.records, strict=True)
             if (phase, method) == ("rules", "POST") and (mode == "positive" or acceptable(r.body))]
    assert len(turns) > 10 and all(b == SEVERAL[(SEVERAL.index(a) + 1) % len(SEVERAL)] for a, b in itertools.pairwise(turns))


def test_one_customer_gateway_the_target_does_not_have_among_several_stops_the_run_naming_it(tmp_path):
    """Of `--cgw-id a,b,c`, c mistyped: its creates (a third) got 404 VPN.0004, each a violation blaming the target."""
    world = EXAMPLES_WORLD.replace("customer_gateways:\n", "customer_gateways:\n" + "".join(
        f"  - {{id: {cgw_id}, ip: 198.51.100.{n + 20}}}\n" for n, cgw_id in enumerate(SEVERAL[:2])))
    (tmp_path / "world.yaml").write_text(world)
    with running_server(KeepsPairs(token=TOKEN["X-Auth-Token"], world=load_world(tmp_path / "world.yaml"))) as url:
        with pytest.raises(TargetError, match=f"every valid create that names it \\(\\d+\\) got 404 VPN.0004 .*the target does "
                                              f"not have the cgw_id they name, {SEVERAL[2]}; no verdict"):
            _run(url, cgw_id=SEVERAL[0], cgw_ids=SEVERAL, phases=("rules", "lifecycle"))
        assert not app_holds(url)


def test_the_customer_gateways_are_named_once_each():
    with pytest.raises(SettingsError, match="CGW_ID names each customer gateway once"):
        RunSettings(cgw_id=SEVERAL[0], cgw_ids=(SEVERAL[0], SEVERAL[0]))
    with pytest.raises(SettingsError, match="CGW_ID must be a 36-character id"):
        RunSettings(cgw_id=SEVERAL[0], cgw_ids=(SEVERAL[0], "typo"))



def test_a_round_of_customer_gateways_ends_after_its_turns_even_when_some_of_its_creates_were_refused(tmp_path):
    """A round is its turns, not what it holds: a create of the round refused (held: none), the next round's first
    create names the customer gateway of the round's first connection, which must be deleted before it goes."""
    spec = load_spec()
    settings = RunSettings(target="http://127.0.0.1:9", token="t", cgw_id=SEVERAL[0], cgw_ids=SEVERAL)
    ledger = Ledger(tmp_path / "run-x.jsonl", "http://127.0.0.1:9", "p")
    calls: list[str] = []
    run = ActiveRun(settings, Repairer(spec, settings), Progress(print, enabled=False), float("inf"), ledger=ledger,
                    room=len(SEVERAL), customer_gateways=SEVERAL)

    def make_room() -> None:
        calls.append("make room")
        for url in ledger.pending():
            ledger.deleted_url(url)

    run.make_room = make_room
    given = []
    for n, answer in enumerate(["created", "refused", "created", "created"]):
        run.before_create(0, lambda: calls.append("drain"))  # nothing in flight: each answered before the next
        assert run.take_create()
        conn = json.loads(named_create_body(f"vpn-{n}"))["vpn_connection"]
        run.take_turn(conn)
        given.append(conn["cgw_id"])
        if answer == "created":
            ledger.created(f"c{n}")
    assert given == [*SEVERAL, SEVERAL[0]]
    assert calls == ["drain", "make room"] and ledger.held() == 1  # before the fourth: the first's was deleted


@pytest.mark.parametrize("named, full", [(SEVERAL, SEVERAL[1]), (SEVERAL[:2], SEVERAL[0])])
def test_a_customer_gateway_that_holds_its_connection_already_takes_no_turn(named, full):
    """(Of two named, the first full: every create names the second, one connection at a time.)"""
    app = KeepsPairs(token=TOKEN["X-Auth-Token"])
    said: list[str] = []
    with running_server(app) as url:
        before = json.loads(named_create_body("there-before"))
        before["vpn_connection"]["cgw_id"] = full
        assert httpx.post(url + PATH, json=before, headers=TOKEN, timeout=10).status_code == 201
        result = run_contract(RunSettings(target=url, token=TOKEN["X-Auth-Token"], cgw_id=named[0], cgw_ids=named,
                                          phases=("rules", "lifecycle")), progress=said.append, live=False)
        assert len(app_holds(url)) == 1  # (what was there before the run is left)
    sent = {r.body["vpn_connection"]["cgw_id"] for r in result.records if r.method == "POST" and r.mode == "positive"
            and isinstance(r.body, dict)}
    assert result.exit_code == 0 and not result.violations and sent == set(named) - {full}
    assert any(f"take turns at {len(named) - 1} of the {len(named)} named ({full} full already)" in line for line in said)


def test_customer_gateways_of_their_own_avoid_those_the_gateways_connections_use_already():
    """A gateway that holds connections of a run before (one killed, or a server that made what it refused) holds
    them with the very customer gateways a run with the same seed hands out: each create that named one was refused
    as a second connection on its pair, 'Valid request rejected' against a correct server."""
    app = KeepsPairs(token=TOKEN["X-Auth-Token"])
    handed_out = Repairer(load_spec(), RunSettings(), own_customer_gateways=True)
    with running_server(app) as url:
        for n in range(20):  # what an earlier run with the same seed left, on the first 20 it hands out
            before = json.loads(named_create_body(f"left-{n}"))
            before["vpn_connection"]["cgw_id"] = handed_out.customer_gateway()
            assert httpx.post(url + PATH, json=before, headers=TOKEN, timeout=10).status_code == 201
        result = _run(url, phases=("rules", "lifecycle"))
        left = app_holds(url)
    checks = {f.check for r in result.violations for f in r.failures}
    assert result.exit_code == 0 and not checks, checks
    assert sorted(c["name"] for c in left) == sorted(f"left-{n}" for n in range(20))  # (what was there is left)

def test_a_faulty_server_among_connections_of_an_earlier_run_is_still_caught():
    """The other way: avoiding the customer gateways held already hides no fault (a server that refuses valid names
    with a dot, its gateway holding what a run with the same seed left)."""
    from contract_tests.target import embedded_server

    handed_out = Repairer(load_spec(), RunSettings(), own_customer_gateways=True)
    settings = RunSettings(seed=0, examples=20, use_cache=False)
    with embedded_server(settings, ("--fault", "rejects-dotted-names")) as (url, run_settings):
        for n in range(20):
            before = json.loads(named_create_body(f"left-{n}"))
            before["vpn_connection"]["cgw_id"] = handed_out.customer_gateway()
            assert httpx.post(url + PATH, json=before, headers={"X-Auth-Token": run_settings.token}, timeout=10).status_code == 201
        result = run_contract(replace(run_settings, target=url), progress=lambda _: None, live=False)
    refused = [r.response_body for r in result.violations if any(f.check == "positive_data_acceptance" for f in r.failures)]
    assert result.exit_code == 1 and refused
    assert not [b for b in refused if "connections-per-gateway-address-and-customer-gateway" in b]  # the fault's, not a pair's

def test_a_create_that_may_have_made_a_connection_ends_the_turns(tmp_path):
    """A create with no answer may hold any of the customer gateways (the run cannot tell which it got, if any): after
    the round, no create goes whose turn could fall on it."""
    spec = load_spec()
    settings = RunSettings(target="http://127.0.0.1:9", token="t", cgw_id=SEVERAL[0], cgw_ids=SEVERAL)
    ledger = Ledger(tmp_path / "run-x.jsonl", "http://127.0.0.1:9", "p")
    run = ActiveRun(settings, Repairer(spec, settings), Progress(print, enabled=False), float("inf"), ledger=ledger,
                    room=len(SEVERAL), customer_gateways=SEVERAL)
    run.make_room = lambda: [ledger.deleted_url(url) for url in ledger.pending()]
    for n in range(len(SEVERAL)):
        run.before_create(0, lambda: None)
        assert run.take_create()
        if n == 1:
            ledger.note_create(json.loads(named_create_body("vpn-lost")), None)  # no answer
        else:
            ledger.created(f"c{n}")
    run.before_create(0, lambda: None)  # the round is over: what is known is deleted, the unsure one stays
    assert ledger.held() == 1 and run.creates_left() == 0 and not run.take_create()


class ClosedWorldSilentOnTheQuestion(ReferenceServer):
    """A world of the examples' ids only, answering 500 to a create for a customer gateway nobody made (the question
    whether its world is open): the run cannot tell, and each create names a customer gateway of its own."""

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Any:
        if unmade_customer_gateway().encode() in raw:
            raise Reject(self.errors["internal"], "not now")
        return await super()._create_vpn_connection(params, headers, raw, request_id)


def test_creates_refused_for_customer_gateways_of_their_own_say_so_not_the_default_id(tmp_path):
    """Before, the message named the default customer gateway, which none of the creates had named."""
    (tmp_path / "world.yaml").write_text(EXAMPLES_WORLD)
    with running_server(ClosedWorldSilentOnTheQuestion(token=TOKEN["X-Auth-Token"],
                                                       world=load_world(tmp_path / "world.yaml"))) as url:
        with pytest.raises(TargetError, match=r"the target does not have the cgw_id they name, \d+ different ones \(each "
                                              r"create one of its own.*no verdict: name one of the target's with --cgw-id"):
            _run(url, phases=("rules",))


def test_the_default_customer_gateway_among_several_named_is_the_users():
    """`--cgw-id <the examples' id>,b`: before, the run took the first for no choice, asked whether the world is open
    and, it being open, gave each create one of its own, ignoring the ones named."""
    named = (RunSettings().cgw_id, SEVERAL[1])
    app = KeepsPairs(token=TOKEN["X-Auth-Token"])
    with running_server(app) as url:
        result = _run(url, cgw_id=named[0], cgw_ids=named, phases=("rules",))
    assert result.exit_code == 0 and not result.violations and app.customer_gateways == set(named)


def test_a_lenient_server_is_never_asked_for_a_pair_in_use_by_a_negative_case_of_the_rules_phase(other_choices_run):
    """The rules phase breaks copies of accepted bodies; one that breaks only what the spec infers, the
    correct-but-different server accepts. Each such one gets a customer gateway and a tunnel pair of its own
    where its breach is not: with its base's, it was refused for the pair the base held, or not, as the run's
    deletions fell (10 of the 28 accepted in a run of 30 examples; the answers then differed between 1 and 8 in flight)."""
    rules = [r for r in other_choices_run.records if r.phase == "rules"]
    assert any(r.mode == "negative" and r.status == 201 for r in rules)  # it accepts what the spec only infers
    assert not [r.response_body for r in rules if "VPN connection(s) with vgw_id" in (r.response_body or "")]

