"""Deliberately faulty variants of the reference server, one injected fault each.

They prove the contract suite: every fault must make `make contract` fail, and be reported by the check
named here (``caught_by``). `vpnconn serve --fault NAME` runs one, to see what a failing report looks like.
A fault wraps the correct app: it edits the request before it, or the answer after it.
"""

from __future__ import annotations

import codecs
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from reference_server.app import ReferenceServer
from reference_server.store import ConnectionStore, TunnelPairInUse
from vpnconn.unlisted import listed_only

Answer = tuple[int, dict[str, str], Any]  # status, headers, JSON body
AnswerEdit = Callable[[Answer, Any], Answer]  # (answer, request body) -> answer
RequestEdit = Callable[[Any], Any]


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    caught_by: tuple[str, ...]  # checks of which at least one must report it
    edit_answer: AnswerEdit | None = None
    edit_request: RequestEdit | None = None
    server_options: dict | None = None
    server: type[ReferenceServer] = ReferenceServer  # a subclass whose handler of one operation is wrong


class FaultyServer:
    """ASGI wrapper: the reference server with one fault."""

    def __init__(self, fault: Fault, **options: Any) -> None:
        self.fault = fault
        self.app = fault.server(**{**options, **(fault.server_options or {})})

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            request = json.loads(raw) if raw else None
        except ValueError:
            request = None
        if self.fault.edit_request and request is not None:
            edited = self.fault.edit_request(json.loads(raw))
            raw = json.dumps(edited).encode()
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
                     + [(b"content-length", str(len(raw)).encode())]}
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        captured: dict[str, Any] = {}

        async def capture(message):
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
            else:
                captured["body"] = captured.get("body", b"") + message.get("body", b"")

        await self.app(scope, replay, capture)
        raw_answer = captured.get("body", b"")
        status, headers, body = captured["status"], captured["headers"], json.loads(raw_answer) if raw_answer else b""
        if self.fault.edit_answer:
            status, headers, body = self.fault.edit_answer((status, headers, body), request)
        data = json.dumps(body, ensure_ascii=False).encode() if not isinstance(body, bytes) else body
        headers = {k: v for k, v in headers.items() if k != "content-length"}
        await send({"type": "http.response.start", "status": status, "headers":
                    [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})


def _conn(body: Any) -> dict:
    conn = body.get("vpn_connection") if isinstance(body, dict) else None
    return conn if isinstance(conn, dict) else {}


def _on_created(edit: Callable[[dict, dict], None]) -> AnswerEdit:
    def apply(answer: Answer, request: Any) -> Answer:
        status, headers, body = answer
        if status == 201:
            edit(body["vpn_connection"], _conn(request))
        return status, headers, body
    return apply


def _in_beijing_time(stamp: str) -> str:
    """A UTC Timestamp (``2026-01-01T00:00:00.000Z``) as the same moment in Beijing time (``2026-01-01T08:00:00.000+08:00``)."""
    moment = datetime.fromisoformat(stamp.removesuffix("Z")).replace(tzinfo=UTC)
    return moment.astimezone(timezone(timedelta(hours=8))).isoformat(timespec="milliseconds")


def _on_errors(edit: Callable[[Answer], Answer]) -> AnswerEdit:
    return lambda answer, request: edit(answer) if answer[0] >= 400 else answer


def _set_default_dpd_timeout(conn: dict, sent: dict) -> None:
    if "timeout" not in ((sent.get("ikepolicy") or {}).get("dpd") or {}):
        conn["ikepolicy"]["dpd"]["timeout"] = 10


def _shift_peer(conn: dict, sent: dict) -> None:
    if "tunnel_peer_address" in conn and "tunnel_peer_address" not in sent:
        head, last = conn["tunnel_peer_address"].removesuffix("/30").rsplit(".", 1)
        conn["tunnel_peer_address"] = f"{head}.{(int(last) + 4) % 256}/30"


def _drop_assigned_tunnel(conn: dict, sent: dict) -> None:
    if conn.get("style") == "STATIC" and "tunnel_local_address" not in sent:
        for key in ("tunnel_local_address", "tunnel_peer_address"):
            conn.pop(key, None)


def _first_destinations(conn: dict, sent: dict) -> None:
    for rule in conn.get("policy_rules") or []:
        rule["destination"] = rule["destination"][:1]


def _reject_dotted_names(answer: Answer, request: Any) -> Answer:
    if answer[0] == 201 and "." in str(_conn(request).get("name", "")):
        return 400, answer[1], {"error_code": "VPN.0001", "error_msg": "invalid request: name", "request_id": answer[2]["request_id"]}
    return answer


def _crash_on_non_ascii(answer: Answer, request: Any) -> Answer:
    name = _conn(request).get("name")
    if isinstance(name, str) and not name.isascii():
        return 500, answer[1], {"error_code": "VPN.0002", "error_msg": "server error: codec", "request_id": "x"}
    return answer


def _clamp_lifetime(request: Any) -> Any:
    ike = _conn(request).get("ikepolicy")
    if isinstance(ike, dict) and isinstance(ike.get("lifetime_seconds"), int):
        ike["lifetime_seconds"] = min(max(ike["lifetime_seconds"], 60), 604800)
    return request


def _null_subnets_as_its_own(request: Any) -> Any:
    """A null peer_subnets read as left out, and then not missed: the server fills in a subnet of its own."""
    conn = _conn(request)
    if "peer_subnets" in conn and conn["peer_subnets"] is None:
        conn["peer_subnets"] = ["192.168.44.0/24"]
    return request


def _tags_with_unlisted_members_dropped(request: Any) -> Any:
    """A tag that carries a member the schema does not list is dropped whole, where a server that ignores what it
    does not know (vpnconn.unlisted) keeps the tag without it."""
    from vpnconn import load_spec

    conn = _conn(request)
    if isinstance(conn.get("tags"), list):
        conn["tags"] = [tag for tag in conn["tags"] if listed_only(load_spec(), "ResourceTag", tag) is tag]
        if not conn["tags"]:
            del conn["tags"]
    return request


def _strip_psk_classes(request: Any) -> Any:
    conn = _conn(request)
    if isinstance(conn.get("psk"), str) and len(conn["psk"]) >= 3:
        conn["psk"] = "Aa1" + conn["psk"][3:]  # the server now sees a strong psk whatever was sent
    return request


def _private_as_multicast(request: Any) -> Any:
    """Read a customer subnet in 10.0.0.0/8 as a multicast one (224.0.0.0/24), so that the server refuses a valid body
    with the error of rule networks-not-multicast-reserved-or-loopback (VPN.0204) for an address of no such class."""
    conn = _conn(request)
    subnets = conn.get("peer_subnets")
    if isinstance(subnets, list) and any(isinstance(s, str) and s.startswith("10.") for s in subnets):
        conn["peer_subnets"] = ["224.0.0.0/24" if isinstance(s, str) and s.startswith("10.") else s for s in subnets]
    return request


def _public_reserved(request: Any) -> Any:
    """Hide reserved peer subnets (the spec's ranges) from the server, so it accepts them."""
    from vpnconn import load_spec
    from vpnconn.rules import reserved_peer_subnets

    reserved = [ipaddress.ip_network(n) for n in reserved_peer_subnets(load_spec())]

    def hidden(cidr: Any) -> Any:
        try:
            net = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            return cidr
        return "192.168.77.0/24" if any(net.version == 4 and net.overlaps(r) for r in reserved) else cidr

    conn = _conn(request)
    if isinstance(conn.get("peer_subnets"), list):
        conn["peer_subnets"] = [hidden(s) for s in conn["peer_subnets"]]
    return request


# ----------------------------------------------------------------------------------- lifecycle faults
# Each overrides the handler of one operation (the handlers are named after the spec's operationIds).


class SharesTunnelPairs(ReferenceServer):
    def new_store(self) -> ConnectionStore:
        store = super().new_store()
        claim = store.claim_tunnel

        def claim_anyway(gateway_id: str, address: str, owner: str | None = None) -> None:
            try:
                claim(gateway_id, address, owner)
            except TunnelPairInUse:
                pass  # the fault: a pair in use is handed out again

        store.claim_tunnel = claim_anyway  # type: ignore[method-assign]
        return store


class ShowLeaksPsk(ReferenceServer):
    async def _show_vpn_connection(self, params, headers, raw, request_id):
        status, body = await super()._show_vpn_connection(params, headers, raw, request_id)
        stored = self.store.find(params["project_id"], params["vpn_connection_id"])
        answer = json.loads(body)
        answer["vpn_connection"]["psk"] = json.loads(stored.request).get("psk", "x") if stored else "x"
        return status, json.dumps(answer).encode()


class ShowForgetsName(ReferenceServer):
    async def _show_vpn_connection(self, params, headers, raw, request_id):
        status, body = await super()._show_vpn_connection(params, headers, raw, request_id)
        answer = json.loads(body)
        answer["vpn_connection"]["name"] = "vpn-0000"
        return status, json.dumps(answer).encode()


class ShowCarriesHub(ReferenceServer):
    async def _show_vpn_connection(self, params, headers, raw, request_id):
        status, body = await super()._show_vpn_connection(params, headers, raw, request_id)
        answer = json.loads(body)
        answer["vpn_connection"].setdefault("enable_hub", False)
        return status, json.dumps(answer).encode()


class ListIgnoresFilters(ReferenceServer):
    async def _list_vpn_connections(self, params, headers, raw, request_id):
        kept = "&".join(p for p in params["query"].split("&") if p.split("=")[0] in ("limit", "marker"))
        return await super()._list_vpn_connections({**params, "query": kept}, headers, raw, request_id)


class ListOmitsNewest(ReferenceServer):
    async def _list_vpn_connections(self, params, headers, raw, request_id):
        status, body = await super()._list_vpn_connections(params, headers, raw, request_id)
        answer = json.loads(body)
        if answer["vpn_connections"] and "marker" not in params["query"]:
            answer["vpn_connections"].pop()
            answer["page_info"]["current_count"] -= 1
            answer["total_count"] -= 1
        return status, json.dumps(answer).encode()


class ListIgnoresMarker(ReferenceServer):
    async def _list_vpn_connections(self, params, headers, raw, request_id):
        kept = "&".join(p for p in params["query"].split("&") if p.split("=")[0] != "marker")
        return await super()._list_vpn_connections({**params, "query": kept}, headers, raw, request_id)


class UpdateIgnoresName(ReferenceServer):
    async def _update_vpn_connection(self, params, headers, raw, request_id):
        body = json.loads(raw)
        body.get("vpn_connection", {}).pop("name", None) if isinstance(body, dict) else None
        status, answer = await super()._update_vpn_connection(params, headers, json.dumps(body).encode(), request_id)
        if status == 200:  # it answers as if the name had changed: only a read shows it did not
            out = json.loads(answer)
            out["vpn_connection"]["name"] = json.loads(raw)["vpn_connection"].get("name", out["vpn_connection"]["name"])
            return status, json.dumps(out).encode()
        return status, answer


class UpdateResetsCreatedAt(ReferenceServer):
    async def _update_vpn_connection(self, params, headers, raw, request_id):
        status, answer = await super()._update_vpn_connection(params, headers, raw, request_id)
        if status == 200:
            out = json.loads(answer)
            out["vpn_connection"]["created_at"] = out["vpn_connection"]["updated_at"]
            return status, json.dumps(out).encode()
        return status, answer


class UpdateKeepsUpdatedAt(ReferenceServer):
    async def _update_vpn_connection(self, params, headers, raw, request_id):
        stored = self.store.find(params["project_id"], params["vpn_connection_id"])
        status, answer = await super()._update_vpn_connection(params, headers, raw, request_id)
        if status == 200 and stored is not None:
            out = json.loads(answer)
            out["vpn_connection"]["updated_at"] = json.loads(stored.text)["updated_at"]
            return status, json.dumps(out).encode()
        return status, answer


class UpdateChangesHaRole(ReferenceServer):
    async def _update_vpn_connection(self, params, headers, raw, request_id):
        body = json.loads(raw)
        role = body.get("vpn_connection", {}).pop("ha_role", None) if isinstance(body, dict) else None
        status, answer = await super()._update_vpn_connection(params, headers, json.dumps(body).encode(), request_id)
        if status == 200 and role is not None:
            out = json.loads(answer)
            out["vpn_connection"]["ha_role"] = role
            return status, json.dumps(out).encode()
        return status, answer


class DeleteKeepsConnection(ReferenceServer):
    async def _delete_vpn_connection(self, params, headers, raw, request_id):
        if self.store.find(params["project_id"], params["vpn_connection_id"]) is None:
            return await super()._delete_vpn_connection(params, headers, raw, request_id)
        return 204, b""


class DeleteAnswers200(ReferenceServer):
    async def _delete_vpn_connection(self, params, headers, raw, request_id):
        await super()._delete_vpn_connection(params, headers, raw, request_id)
        return 200, json.dumps({"request_id": request_id}).encode()


class UnknownIdIs500(ReferenceServer):
    async def _show_vpn_connection(self, params, headers, raw, request_id):
        if self.store.find(params["project_id"], params["vpn_connection_id"]) is None:
            raise KeyError(params["vpn_connection_id"])  # a server bug: answered 500 VPN.0002
        return await super()._show_vpn_connection(params, headers, raw, request_id)


FAULTS: dict[str, Fault] = {f.name: f for f in [
    Fault("success-200", "answers 200 instead of 201", ("status_code_conformance",),
          edit_answer=lambda a, r: (200 if a[0] == 201 else a[0], a[1], a[2])),
    Fault("dpd-timeout-default-10", "fills ikepolicy.dpd.timeout with 10 instead of the documented 15", ("documented_defaults",),
          edit_answer=_on_created(_set_default_dpd_timeout)),
    Fault("no-request-id-in-body", "leaves the request_id out of every answer's body (the X-Request-Id header alone)",
          ("request_id_in_body_and_header", "response_schema_conformance"),
          edit_answer=lambda a, r: (a[0], a[1], {k: v for k, v in a[2].items() if k != "request_id"})
          if isinstance(a[2], dict) else a),
    Fault("extra-status-field", "adds status: PENDING_CREATE to the 201", ("response_schema_conformance",),
          edit_answer=_on_created(lambda c, s: c.update(status="PENDING_CREATE"))),
    Fault("style-lower-case", "returns the style lower-case", ("style_upper_cased", "response_schema_conformance"),
          edit_answer=_on_created(lambda c, s: c.update(style=c["style"].lower()))),
    Fault("psk-leaked", "returns the psk", ("psk_never_returned", "response_schema_conformance"),
          edit_answer=_on_created(lambda c, s: c.update(psk=s.get("psk", "x")))),
    Fault("accepts-out-of-range-ike-lifetime", "accepts ikepolicy.lifetime_seconds outside 60-604800", ("negative_data_rejection",),
          edit_request=_clamp_lifetime),
    Fault("rejects-dotted-names", "refuses names with a dot, which the spec allows", ("positive_data_acceptance",),
          edit_answer=_reject_dotted_names),
    Fault("crashes-on-non-ascii-name", "answers 500 to a name with CJK characters", ("not_a_server_error",),
          edit_answer=_crash_on_non_ascii),
    Fault("name-not-echoed", "ignores the requested name", ("response_echoes_request",),
          edit_answer=_on_created(lambda c, s: c.update(name="vpn-0000"))),
    Fault("auto-name-wrong-format", "names unnamed connections conn-NNNN", ("auto_name_format",),
          edit_answer=_on_created(lambda c, s: c.update(name="conn-1234") if "name" not in s else None)),
    Fault("no-tunnel-auto-assign", "does not assign tunnel addresses to static connections",
          ("fields_present_per_style",),
          edit_answer=_on_created(_drop_assigned_tunnel)),
    Fault("tunnel-peer-in-other-30", "assigns a peer tunnel address outside the local one's /30", ("tunnel_pair_valid",),
          edit_answer=_on_created(_shift_peer)),
    Fault("updated-before-created", "answers a create with an updated_at earlier than its created_at", ("timestamps_consistent",),
          edit_answer=_on_created(lambda c, s: c.update(updated_at=c["created_at"][:17] + "00.000Z")
                                  if not c["created_at"].endswith("00.000Z") else c.update(created_at=c["created_at"][:17] + "00.001Z"))),
    Fault("stamps-in-local-time", "writes a create's created_at and updated_at in Beijing time (+08:00), a form no page gives "
          "(the pages give UTC: with milliseconds and Z, or in whole seconds)", ("response_schema_conformance",),
          edit_answer=_on_created(lambda c, s: c.update({k: _in_beijing_time(c[k]) for k in ("created_at", "updated_at")}))),
    Fault("policy-rules-dropped", "leaves the policy rules out of a POLICY answer", ("fields_present_per_style", "response_echoes_request"),
          edit_answer=_on_created(lambda c, s: c.pop("policy_rules", None))),
    Fault("peer-subnets-truncated", "answers only the first of several peer subnets", ("response_echoes_request",),
          edit_answer=_on_created(lambda c, s: c.update(peer_subnets=c["peer_subnets"][:1]) if "peer_subnets" in c else None)),
    Fault("rule-destinations-truncated", "answers each policy rule with its first destination only", ("response_echoes_request",),
          edit_answer=_on_created(_first_destinations)),
    Fault("name-written-null", "writes the created connection's name as null", ("response_schema_conformance",),
          edit_answer=_on_created(lambda c, s: c.update(name=None))),
    Fault("sent-tags-written-null", "answers tags: null where the request gave tags", ("response_echoes_request",),
          edit_answer=_on_created(lambda c, s: c.update(tags=None) if s.get("tags") else None)),
    Fault("null-peer-subnets-accepted", "creates a connection for a null peer_subnets, with a subnet of its own",
          ("negative_data_rejection",), edit_request=_null_subnets_as_its_own),
    Fault("tag-with-unlisted-member-dropped", "ignores a tag's member it does not know, and the tag with it",
          ("response_echoes_request",), edit_request=_tags_with_unlisted_members_dropped),
    Fault("problem-json-errors", "answers errors as problem+json, not the Huawei shape",
          ("huawei_error_body", "response_schema_conformance"),
          edit_answer=_on_errors(lambda a: (a[0], a[1], {"title": a[2]["error_msg"], "status": a[0]}))),
    Fault("weak-psk-accepted", "does not enforce the psk's 3-of-4 character classes", ("named_rule_rejection",),
          edit_request=_strip_psk_classes),
    Fault("reserved-subnets-accepted", "accepts peer subnets in 100.64.0.0/10 and 214.0.0.0/8", ("named_rule_rejection",),
          edit_request=_public_reserved),
    Fault("private-subnets-refused-as-multicast", "refuses a create with a subnet in 10.0.0.0/8 as of class D (400 VPN.0204)",
          ("positive_data_acceptance",), edit_request=_private_as_multicast),
    Fault("ignores-credentials", "accepts any token: creates connections for requests without valid credentials",
          ("ignored_auth",), edit_answer=lambda a, r: a, server_options={"token": None}),
    Fault("json-with-byte-order-mark", "starts every JSON answer with a UTF-8 byte order mark", ("json_in_utf8_without_bom",),
          edit_answer=lambda a, r: (a[0], a[1], codecs.BOM_UTF8 + json.dumps(a[2], ensure_ascii=False).encode()) if a[2] != b"" else a),
    Fault("non-json-201", "answers 201 with a body that is not JSON", ("response_schema_conformance",),
          edit_answer=lambda a, r: (a[0], a[1], b"<created/>") if a[0] == 201 else a),
    Fault("conflict-409-for-schema-violations", "answers 409 instead of 400 to every schema or rule violation",
          ("error_contract",), edit_answer=_on_errors(lambda a: (409, a[1], a[2]) if a[2].get("error_code") == "VPN.0001" else a)),
    Fault("invalid-ip-address-for-every-refusal", "answers VPN.0203 (invalid IP address) instead of VPN.0001 to every schema "
          "or rule violation, a name's as a subnet's", ("error_contract",),
          edit_answer=_on_errors(lambda a: (a[0], a[1], {**a[2], "error_code": "VPN.0203"})
                                 if a[2].get("error_code") == "VPN.0001" else a)),
    Fault("unsupported-attribute-as-vpn-0001", "answers VPN.0001 instead of VPN.0013 to an unsupported attribute",
          ("error_contract",), edit_answer=_on_errors(lambda a: (a[0], a[1], {**a[2], "error_code": "VPN.0001"})
                                                      if a[2].get("error_code") == "VPN.0013" else a)),
    # the lifecycle: show, list, update and delete
    Fault("show-leaks-psk", "returns the psk in the show answer", ("psk_never_returned", "lifecycle_response_schema"),
          server=ShowLeaksPsk),
    Fault("show-forgets-name", "shows another name than the one created", ("show_matches_create",), server=ShowForgetsName),
    Fault("show-carries-hub", "shows enable_hub for a static or policy connection (the show table: only for BGP)",
          ("lifecycle_response_schema",), server=ShowCarriesHub),
    Fault("list-ignores-filters", "lists every connection whatever vgw_id asks for", ("list_filter_holds",),
          server=ListIgnoresFilters),
    Fault("list-omits-newest", "leaves the newest connection out of every first page", ("list_contains_connection",),
          server=ListOmitsNewest),
    Fault("list-ignores-marker", "answers the first page whatever the marker", ("list_paging_complete",),
          server=ListIgnoresMarker),
    Fault("update-ignores-name", "answers the new name but keeps the old one", ("show_matches_create",),
          server=UpdateIgnoresName),
    Fault("update-resets-created-at", "sets created_at to the update's time", ("update_applies_changes",),
          server=UpdateResetsCreatedAt),
    Fault("update-keeps-updated-at", "answers an update with the updated_at the connection had", ("update_applies_changes",),
          server=UpdateKeepsUpdatedAt),
    Fault("update-changes-ha-role", "changes ha_role, which an update may not change", ("update_changed_fixed_field",),
          server=UpdateChangesHaRole),
    Fault("delete-keeps-connection", "answers 204 to delete but keeps the connection", ("deleted_connection_gone",),
          server=DeleteKeepsConnection),
    Fault("delete-answers-200", "answers delete with 200 and a body instead of 204", ("lifecycle_status",),
          server=DeleteAnswers200),
    Fault("tunnel-pair-in-use-accepted", "creates a connection with a tunnel pair another connection of the gateway uses",
          ("tunnel_pair_in_use",), server=SharesTunnelPairs),
    Fault("unknown-id-500", "answers 500 to the show of an unknown id", ("lifecycle_status",), server=UnknownIdIs500),
]}
