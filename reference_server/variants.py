"""Correct-but-different servers: they follow the documentation and make the *other* choice wherever it is
silent. They prove that the contract suite does not report what the documentation does not back: a run
against one must end with exit 0, its differences listed as divergences (and failing only with --strict).

``other-choices`` differs from the reference server on every point the spec marks as inferred:

- it validates with the documented constraints only (:func:`vpnconn.documented.documented_only`), so it
  accepts non-canonical CIDRs, duplicate tag keys and subnets, empty lists, rules without a source, tunnel
  addresses with style policy, policy rules with other styles;
- it ignores an attribute that no request schema lists, as a lenient decoder does (:mod:`vpnconn.unlisted`),
  where the reference server refuses it (VPN.0013): a create's, and an update's that names a field the update does
  not cover (``vgw_id``, ``style``, ...), which is carried out with that field ignored;
- a body with several failures is refused for the *last* one found (the reference server names the first);
- where the API's pages disagree on a field's values, it follows the zh pages for the psk's special characters (no
  ``*``; the spec's ``narrower_readings``), where the reference server takes the widest reading;
- a request that carries an ``Authorization`` header beside its ``X-Auth-Token`` (even an empty one) is
  refused as unauthenticated (401), where the reference server takes the valid token: the sources describe
  a token or a signature, never both;
- a request that carries an ``x-`` header it does not know (neither a credential, nor the AK/SK signature's
  date, nor a tracing header) is refused as malformed (400 APIG.0101), where the reference server ignores it:
  no source says which, HTTP only that a recipient SHOULD ignore it;
- a deletion takes a while: after a 204, the next PENDING_SHOWS shows (and lists) answer the connection with
  status ``PENDING_DELETE``, then it is gone (404), where the reference server deletes at once; the sources give
  the status and the Terraform provider waits for the 404, nothing says how long; until then it counts against the
  gateway's quota (nothing says whether it does); a delete of a connection it is deleting or has deleted answers 204,
  as the first did (a delete made idempotent), where the reference server answers 404: no source says which;
- it answers a create with an ``updated_at`` a millisecond after its ``created_at``, as a server that reads its clock
  twice does, where the examples (and the reference server) give the two equal;
- it writes ``created_at`` and ``updated_at`` in whole seconds, as the zh list and show pages give them
  (``2026-01-01T00:00:00Z``: the Timestamp's ``x-vpnconn-also-documented``), where the English pages, every example
  and the reference server write milliseconds: ``created_at`` down to its second, ``updated_at`` up to the next (so
  the create's, a millisecond late, is a second late); a list's ``marker`` in that form comes after every stamp of its
  second (``...00Z`` after ``...00.123Z``), so what came later in that second is not on the next page, as with a store
  that keeps seconds;
- it writes every integer of an answer with a fraction (``"lifetime_seconds": 86400.0``, ``"total_count": 3.0``),
  which JSON Schema counts an integer and a typed decoder refuses: no source says how the API writes numbers;
- every answer carries a field no source lists (:data:`UNLISTED`: beside the request id, in each connection
  and in its IKE policy), as a later version of the API may: the sources list each answer's fields, none
  says that no other comes;
- a create or an update takes a while: the connection stays ``PENDING_CREATE`` or ``PENDING_UPDATE`` for
  SETTLING_READS more shows than on the reference server (which moves it on at the first read), and an
  update meanwhile is refused (409, the spec's "not ready" code), where the reference server takes it: the sources
  give the statuses and the Terraform provider waits for ``ACTIVE`` or ``DOWN``; none says how long, nor whether
  an update is refused meanwhile;
- the service's own errors (``VPN.xxxx``) have the body the VPN error codes page documents, ``{code, message}``
  (:meth:`OtherChoicesServer.error_body`), where the reference server writes ``{error_code, error_msg, request_id}``
  as the examples do; the API gateway's (``APIG.xxxx``) keep the examples' shape, as the sources say of them;
- it is busy now and then, as a loaded service is: about one request in BUSY_ONE_IN (chosen by
  :func:`busy_at_first`, so the same ones whatever the timing) is answered busy or not ready the first time it
  comes, with ``Retry-After: 0``, and served when it is asked again: 504 ``VPN.0014`` (system busy), 409
  ``VPN.0016`` (gateway not ready), 400 ``VPN.0507`` (gateway being updated), 400 ``VPN.0030`` (system busy), 400
  ``VPN.0031`` (repeated operation; try again later, the error codes page says) or 500 ``VPN.0006`` (IAM service
  unavailable), the
  documented codes of the error kinds the spec marks ``transient`` (:data:`BUSY_KINDS`, one by what the request is);
- its ``X-Request-Id`` header is a request id of its own (:meth:`OtherChoicesServer.header_request_id`, as a gateway in
  front may set), not the body's ``request_id``: the sources give both, and never say they are one value; and its
  answers to a show or a list carry no such header: no page of the API documents its response headers;
- its create answers carry ``enable_hub`` for every style, as the 2025 create table lists it, where the reference
  server answers it for BGP only, as the show and list tables do (its shows and lists do too); and the deprecated
  ``eip_id``, ``type`` and ``route_mode`` the OTC create table lists (which says they may be omitted), which its shows,
  lists and updates leave out (``at_will`` in the spec);
- it reads a request's field written null as left out, and writes each field an answer's schema lists and the answer
  leaves out as a framework that writes every field of its class does (Jackson's and pydantic's default): a list
  empty (``"policy_rules": []`` for a static connection), anything else null (``"enable_nqa": null`` for a policy
  connection, ``"next_marker": null`` on the last page): the sources type each field and never mention null, nor
  whether a list that holds nothing is written, and a client reads each as the field not there (``null_as_left_out``,
  ``empty_list_as_left_out``);
- it reads a list's ``limit`` as the zh list page of 2024 does (0 to 200, default 200: the spec's ``query_readings``),
  refusing a larger one (400 ``VPN.0001``) and giving at most 200 connections where a list asks for no number, where
  the reference server reads it as the newest pages do (0 to 2000, default 2000);
- it answers ``phase1_negotiation_mode`` (its default, ``main``) for an IKE v2 connection too, as a store that keeps
  the default for every connection does, where the examples leave it out of v2 answers (``phase1_mode_v1_only``);
- it answers an IKE id of type ip (``local_id``, ``peer_id``) that a create gave with the IP of its gateway (of the
  customer gateway), as the zh pages' response table says, where the reference server echoes it as the English page
  of 2025-09 says (``ip_id_echoed``);
- on a GM gateway (a world file's, or one told with ``--vgw-flavor GM``), a connection takes the national algorithms
  where its create names none: sm3 as the IKE and IPsec authentication algorithm, sm4 as the encryption algorithm
  and digital-envelope-v2 as the IKE authentication method, and a create that names another is refused (400
  ``VPN.0001``), as the zh pages say a GM gateway uses sm3; the reference server gives the documented defaults and
  takes any (``gm-algorithms``);
- it names a connection created without a name ``vpn-`` and four letters (``vpn-kqzt``), where the reference server
  writes four lower-case hex digits as the examples do: the page says "vpn-****" (``auto_name_hex_digits``);
- it refuses a create that holds any IPv4 address or network with an address of class D, class E or the loopback
  range, in any field and before anything else is checked (an IKE id, 192.0.0.0/2, a body the schema refuses too; but
  not the default route, 0.0.0.0/0, which it takes as any address), with the error codes page's 400 ``VPN.0204``,
  where the reference server refuses only the subnets' and the policy rules' networks whose address is such: the page
  names neither the fields nor how a network is judged (``address_class_read_wider``);
- it refuses a value that is no IP address or network where one is asked for (a subnet, a tunnel address, an IKE id
  of type ip) with the error codes page's 400 ``VPN.0203`` (invalid IP address), where the reference server answers
  it as any failure of the schema, ``VPN.0001``: the page gives both and names no field (``answered_as_invalid-ip-address``);
- it keeps a connection's lists as sets of networks (:func:`kept_as_sets`): subnets and tags last first, a
  duplicate once, policy rules one per destination and numbered by itself, each CIDR as its network (host bits
  masked: it accepts them, as the documentation allows; IPv6 in RFC 5952's form), where the reference server answers
  them as sent: the sources say what a list holds, not how it is written, the API page says that the service creates
  one internal rule per destination CIDR and may renumber, and the spec that a server may keep or mask host bits.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from reference_server.app import Answer, Handler, ReferenceServer, Reject, printable
from reference_server.connection import RANDOM_IDENTITY, Identity, new_uuid
from reference_server.store import ConnectionStore, later_than
from vpnconn import aksk, load_spec
from vpnconn.constraints import readings_outside
from vpnconn.documented import documented_only
from vpnconn.nulls import has_null_members, left_out
from vpnconn.rules import addresses_in_unsupported_classes
from vpnconn.spec import CREATE_BODY, IKE_IDS, RULE_LISTS, Spec
from vpnconn.unlisted import listed_only
from vpnconn.world import World

PENDING_SHOWS = 2  # shows of a deleted connection that still find it (PENDING_DELETE) before it is gone
SETTLING = ("PENDING_CREATE", "PENDING_UPDATE")
SERVICE_CODES = "VPN."  # the VPN service's error codes (the API gateway's are APIG.xxxx)
SETTLING_READS = 1  # shows after the first that still find a created or updated connection pending

# a client's correlation id, which it lets through; a tool's own header (X-Schemathesis-TestCaseId) is as unknown
# to it as any other, and the suite sends none (contract_tests.tool_headers)
TRACING_HEADERS = ("x-request-id",)


class OtherChoicesServer(ReferenceServer):
    def __init__(self, **options: Any) -> None:
        super().__init__(**{**options, "spec": documented_only(load_spec())})
        self.handlers = {operation: self._other_choices(operation, handler) for operation, handler in self.handlers.items()}
        self.asked: set[bytes] = set()  # the requests answered busy once
        self.deleting: dict[tuple[str, str], int] = {}  # (project, id) -> shows left before the deletion is done
        self.deleted: dict[tuple[str, str], None] = {}  # (project, id) of the deletions done, the latest store.capacity
        self.settling: dict[tuple[str, str], tuple[str, int]] = {}  # (project, id) -> (its status, reads left)
        conflict = self.spec.document["components"]["responses"]["Conflict"]["content"]["application/json"]["example"]
        self.not_ready = {"status": 409, "error_code": conflict["error_code"], "message": "not ready: {detail}"}
        self.builder.gm_national = True  # a GM gateway's connections take sm3, sm4 and digital-envelope-v2 (gm-algorithms)

    def _other_choices(self, operation: str, handler: Handler) -> Handler:
        """``handler`` (the reference server's) making this server's choices, from the answer's writing out to the
        request's reading."""
        handler = self._settles_in_a_while(operation, handler)
        handler = _as_the_create_table_lists(operation, handler)
        handler = _keeping_the_phase1_default(handler)
        handler = _with_unlisted_fields(handler)
        handler = _as_not_given(self.spec, operation, handler)
        handler = _with_fractions(handler)
        handler = _stamped_in_whole_seconds(handler)
        handler = _reading_null_as_left_out(handler)
        return self._busy_at_first(operation, handler)

    def delete(self, project: str, connection_id: str, store: ConnectionStore | None = None) -> None:
        if store is not None:  # (the fixture generator's own store: as the reference server)
            return super().delete(project, connection_id, store)
        if (project, connection_id) in self.deleting or (project, connection_id) in self.deleted:
            return  # being deleted, or deleted: a delete again answers as the first did (idempotent)
        if self.store.find(project, connection_id) is None:
            raise Reject(self.errors["not-found"], f"VPN connection {connection_id[:80]}")
        self.deleting[(project, connection_id)] = PENDING_SHOWS
        while len(self.deleting) > self.store.capacity:  # bounded: the oldest deletion ends now
            self._finish_deletion(*next(iter(self.deleting)))

    def show(self, project: str, connection_id: str, store: ConnectionStore | None = None) -> dict[str, Any]:
        key = (project, connection_id)
        if store is None and key in self.deleting:
            if self.deleting[key] == 0:
                self._finish_deletion(project, connection_id)
            else:
                self.deleting[key] -= 1
                return {**super().show(project, connection_id), "status": "PENDING_DELETE"}
        shown = super().show(project, connection_id, store)
        return self._still_settling(project, shown, counts=True) if store is None else shown

    def list_page(self, project: str, query: dict[str, Any], store: ConnectionStore | None = None) -> dict[str, Any]:
        page = super().list_page(project, query, store)
        if store is None:
            page["vpn_connections"] = [self._still_settling(project, c) for c in page["vpn_connections"]]
            for connection in page["vpn_connections"]:
                if (project, connection["id"]) in self.deleting:
                    connection["status"] = "PENDING_DELETE"
        return page

    def header_request_id(self, request_id: str, method: str) -> str | None:
        """The API gateway's own request id, not the service's that the body gives: no source says they are one. A
        show's or a list's answer carries none: no page of the API documents its response headers."""
        return None if method == "GET" else new_uuid()

    def error_body(self, reject: Reject, request_id: str) -> dict[str, Any]:
        payload = reject.payload(request_id)
        if not payload["error_code"].startswith(SERVICE_CODES):
            return payload
        return {"code": payload["error_code"], "message": payload["error_msg"]}

    def _settles_in_a_while(self, operation_id: str, handler: Handler) -> Handler:
        """``handler`` (create or update) after which the connection is pending for SETTLING_READS + 1 shows."""
        status = {self.spec.create.id: SETTLING[0], "UpdateVpnConnection": SETTLING[1]}.get(operation_id)
        if status is None:
            return handler

        async def answer(params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Answer:
            code, body = await handler(params, headers, raw, request_id)
            self.settling[(params["project_id"], json.loads(body)["vpn_connection"]["id"])] = (status, SETTLING_READS + 1)
            while len(self.settling) > self.store.capacity:  # bounded: the oldest change ends now
                del self.settling[next(iter(self.settling))]
            return code, body
        return answer

    def _still_settling(self, project: str, connection: dict[str, Any], counts: bool = False) -> dict[str, Any]:
        """``connection`` as read, with the pending status it keeps for SETTLING_READS + 1 shows after its create or
        update (the reference server's store moves it on at the first). A list shows the status and does not count
        (so that what one sequence sees does not depend on the lists of the others)."""
        key = (project, connection["id"])
        if key not in self.settling:
            return connection
        status, left = self.settling[key]
        if left == 0 and counts:
            del self.settling[key]
            return connection
        if counts:
            self.settling[key] = (status, left - 1)
        return {**connection, "status": status}

    def update(self, project: str, connection_id: str, body: Any, identity: Identity = RANDOM_IDENTITY,
               store: ConnectionStore | None = None) -> dict[str, Any]:
        if store is None and (project, connection_id) in self.settling:
            raise Reject(self.not_ready, f"VPN connection {connection_id[:80]} is {self.settling[(project, connection_id)][0]}")
        return super().update(project, connection_id, body, identity, store)

    def _finish_deletion(self, project: str, connection_id: str) -> None:
        del self.deleting[(project, connection_id)]
        self.settling.pop((project, connection_id), None)  # (a change still under way ends with the connection)
        super().delete(project, connection_id)
        self.deleted[(project, connection_id)] = None
        while len(self.deleted) > self.store.capacity:  # bounded: the oldest is forgotten (a delete of it gets 404)
            del self.deleted[next(iter(self.deleted))]

    async def _update_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes,
                                     request_id: str) -> tuple[int, bytes]:
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            pass  # not JSON: the reference server says what is wrong with it
        else:
            read = listed_only(load_spec(), "UpdateVpnConnectionRequestBody", body)
            raw = raw if read is body else json.dumps(read).encode()
        return await super()._update_vpn_connection(params, headers, raw, request_id)

    def _authenticate(self, scope: dict[str, Any], headers: dict[str, str], raw: bytes) -> None:
        unknown = sorted(h for h in headers if h.startswith("x-") and h not in self._known_headers)
        if unknown:
            raise Reject(self.errors["malformed-request"], f"unknown header {printable(unknown[0])[:80]}")
        if self.token_header in headers and self.signature_header in headers:
            raise Reject(self.errors["unauthenticated"], "an X-Auth-Token and an Authorization header together: send one")
        super()._authenticate(scope, headers, raw)

    def _busy_at_first(self, operation_id: str, handler: Handler) -> Handler:
        async def answer(params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Answer:
            key = _request_key(operation_id, params, raw)
            kind = busy_at_first(operation_id, params, raw)
            if kind is not None and key not in self.asked and len(self.asked) < 100_000:
                self.asked.add(key)
                raise Reject(self.errors[kind], "try again later", [(b"retry-after", b"0")])
            return await handler(params, headers, raw, request_id)
        return answer

    def _query_schema(self, operation_id: str, name: str) -> dict[str, Any]:
        """A query parameter's schema as the older page that reads it narrowest does (the spec's ``query_readings``: a
        list's ``limit`` at most 200, and 200 where none is given), where the reference server reads each as the spec does."""
        readings = self.spec.query_readings(operation_id).get(name)
        if not readings:
            return super()._query_schema(operation_id, name)
        return min(readings, key=lambda schema: schema.get("maximum", float("inf")))

    @functools.cached_property
    def _known_headers(self) -> frozenset[str]:
        return self.spec.credential_header_names | {aksk.DATE_HEADER, *TRACING_HEADERS}

    def respond(self, body: Any, identity: Identity = RANDOM_IDENTITY, store: ConnectionStore | None = None) -> dict[str, Any]:
        held = [text for text in addresses_in_unsupported_classes(load_spec(), body) if not text.endswith("/0")]
        if held:  # any IPv4 address of the body, any network holding one but the default route: before anything else
            raise Reject(self.errors["address-class-unsupported"], f"{held[0][:40]}")
        found = self.check.violations(body, self.world)
        if found and found[-1].also:  # a value that is no IP address: VPN.0203, as the error codes page words it
            raise Reject(self.errors[found[-1].also[0]], found[-1].detail)
        if len(found) > 1:  # name the last failure found, where the reference server names the first
            raise Reject(self._error_of(found[-1]), found[-1].detail)
        for reading in readings_outside(load_spec(), body) if not found else []:  # (a valid body, by the documented ones)
            if reading.constraint in FOLLOWED_READINGS:
                raise Reject(self.errors["schema-violation"], f"/{'/'.join(reading.path)}: {reading.note}")
        if not found and (other := _not_national(self.world, body)):  # on a GM gateway, the national algorithms only
            raise Reject(self.errors["schema-violation"], other)
        body = listed_only(load_spec(), CREATE_BODY, body)  # what it does not know, ignored
        body = body if found else ip_ids_left_out(body)  # (a valid body's ids of type ip: its gateways' answered)
        connection = kept_as_sets(super().respond(body, LETTER_NAMES if identity is RANDOM_IDENTITY else identity, store))
        # its clock read twice: updated_at a millisecond after created_at (the store keeps it after, moving created_at on)
        connection["updated_at"] = later_than(connection["created_at"], connection["created_at"])
        return connection


UNLISTED = "added_in_a_later_version"  # a field of every answer that no source lists

FOLLOWED_READINGS = ("psk.pattern",)  # the narrower readings it follows (the spec's narrower_readings): the zh pages' psk
# an unnamed connection's name: vpn- and four letters (never hex digits), where the examples' are hex digits
LETTER_NAMES = Identity(auto_name=lambda: "vpn-" + "".join(secrets.choice("ghijklmnopqrstuvwxyz") for _ in range(4)))
MAX_SPLIT_RULES = 50  # policy rules split one per destination only up to this many (rule_index is 0-50)
BUSY_ONE_IN = 16  # about one request in this many is answered busy the first time it comes
BUSY_KINDS = ("system-busy", "gateway-not-ready", "gateway-being-updated", "service-busy", "repeated-operation",
              "iam-unavailable")  # (x-vpnconn-errors)


def _not_national(world: World, body: Any) -> str | None:
    """Why a valid create on a GM gateway of ``world`` is refused for naming an algorithm or an authentication method
    other than the national one (gm-algorithms: the zh pages say a GM gateway's is sm3); None where it names none."""
    conn = body["vpn_connection"]
    gateway = world.gateway(conn["vgw_id"])
    if gateway is None or not gateway.is_gm:
        return None
    other = load_spec().gm_named_otherwise(conn)
    if not other:
        return None
    name, named, national = other[0]
    return f"a GM gateway uses {national} as its {name}, not {printable(str(named), 40)}"


def ip_ids_left_out(body: Any) -> Any:
    """``body`` without the IKE ids of type ip (the default type) it gives, so that the connection takes the gateway's
    and the customer gateway's IP, as the zh pages' response table says; the same object when it gives none."""
    conn = body.get("vpn_connection") if isinstance(body, dict) else None
    ike = conn.get("ikepolicy") if isinstance(conn, dict) else None
    if not isinstance(conn, dict) or not isinstance(ike, dict):
        return body
    types = load_spec().schema("IkePolicy")["properties"]  # (a type left out is its default)
    kept = {key: value for key, value in ike.items()
            if not (key in IKE_IDS and ike.get(IKE_IDS[key], types[IKE_IDS[key]].get("default")) == "ip")}
    if len(kept) == len(ike):
        return body
    return {**body, "vpn_connection": {**conn, "ikepolicy": kept}}


def _request_key(operation_id: str, params: dict[str, str], raw: bytes) -> bytes:
    return hashlib.sha256(json.dumps([operation_id, sorted(params.items()), raw.hex()]).encode()).digest()


def busy_at_first(operation_id: str, params: dict[str, str], raw: bytes) -> str | None:
    """The error kind (:data:`BUSY_KINDS`) this request (its operation, path parameters and ``query``, body) is
    answered with the first time it comes; None when it is served at once."""
    key = _request_key(operation_id, params, raw)
    return BUSY_KINDS[key[1] % len(BUSY_KINDS)] if key[0] % BUSY_ONE_IN == 0 else None


def kept_as_sets(connection: dict[str, Any]) -> dict[str, Any]:
    """``connection`` with its lists as a service that keeps them as sets of networks may answer them: each CIDR as
    its network, written as Python's ``ipaddress`` writes it (host bits masked, IPv6 in RFC 5952's form); subnets and
    tags each once, last first; policy rules one per destination (the API page: the service creates one internal rule
    per destination CIDR), last first, numbered from 1 by the server whatever the request said (the page: it may
    renumber). Not more than :data:`MAX_SPLIT_RULES` rules are split, so that each number is one the spec allows."""
    for name in ("peer_subnets", "peer_subnets_v6"):
        if isinstance(connection.get(name), list):
            connection[name] = [_network(cidr) for cidr in connection[name]]
    for name in ("peer_subnets", "peer_subnets_v6", "tags"):
        if isinstance(connection.get(name), list):
            connection[name] = list(reversed({json.dumps(item, sort_keys=True): item for item in connection[name]}.values()))
    for name in RULE_LISTS:
        rules = connection.get(name)
        if isinstance(rules, list) and rules:
            rules = [{**rule, "source": _network(rule.get("source")), "destination": [_network(d) for d in rule["destination"]]}
                     if isinstance(rule.get("destination"), list) else rule for rule in rules]
            split = [{**rule, "destination": [destination]} if rule.get("destination") else rule
                     for rule in rules for destination in rule.get("destination") or [None]]
            rules = split if len(split) <= MAX_SPLIT_RULES else rules
            connection[name] = [{**rule, "rule_index": index} for index, rule in enumerate(reversed(rules), start=1)]
    return connection


def _network(cidr: Any) -> Any:
    """``cidr`` as its network (``192.168.1.5/24`` as ``192.168.1.0/24``, IPv6 lower-case and zero-compressed)."""
    try:
        return str(ipaddress.ip_network(cidr, strict=False))
    except (ValueError, TypeError):
        return cidr


def _as_the_create_table_lists(operation_id: str, handler: Handler) -> Handler:
    """``handler``, a create's answering ``enable_hub`` (false where the request gave none) for every style, as the 2025
    create table lists it, and the deprecated ``eip_id``, ``type`` and ``route_mode`` the OTC create table lists; its
    shows, lists and updates answer ``enable_hub`` for BGP only, as their tables say, and leave the deprecated out."""
    if operation_id != load_spec().create.id:
        return handler

    async def answer(params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Answer:
        status, body = await handler(params, headers, raw, request_id)
        if status != 201:
            return status, body
        document = json.loads(body)
        connection = document["vpn_connection"]
        connection.setdefault("enable_hub", False)
        connection.update(_deprecated(connection))
        return status, json.dumps(document, ensure_ascii=False).encode()
    return answer


def _deprecated(connection: dict[str, Any]) -> dict[str, str]:
    """The deprecated fields the OTC create table lists, for ``connection``: ``eip_id`` (the EIP's id a public
    gateway's ``vgw_ip`` gives), ``type`` (POLICY or ROUTE), ``route_mode`` (static or bgp, for ROUTE)."""
    style = str(connection.get("style"))
    fields = {"type": "POLICY" if style == "POLICY" else "ROUTE"}
    if style in ("STATIC", "BGP"):
        fields["route_mode"] = style.lower()
    if "." not in str(connection.get("vgw_ip")):  # an EIP's id, not a private gateway's IPv4 address
        fields["eip_id"] = str(connection.get("vgw_ip"))
    return fields


def _with_unlisted_fields(handler: Handler) -> Handler:
    """``handler`` answering with :data:`UNLISTED` beside the request id, in each connection and its IKE policy."""
    async def answer(params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Answer:
        status, body = await handler(params, headers, raw, request_id)
        if not body:
            return status, body
        document = json.loads(body)
        connections = _connections(document)
        for node in [document, *connections, *(c["ikepolicy"] for c in connections if "ikepolicy" in c)]:
            node[UNLISTED] = True
        return status, json.dumps(document, ensure_ascii=False).encode()
    return answer


def _keeping_the_phase1_default(handler: Handler) -> Handler:
    """``handler`` answering each connection's ``phase1_negotiation_mode``, its default where the connection has none
    (IKE v2), as a store that keeps the default for every connection does."""
    default = load_spec().request_defaults()["ikepolicy"]["phase1_negotiation_mode"]

    async def answer(params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Answer:
        status, body = await handler(params, headers, raw, request_id)
        if not 200 <= status < 300 or not body:
            return status, body
        document = json.loads(body)
        for connection in _connections(document):
            if isinstance(connection.get("ikepolicy"), dict):
                connection["ikepolicy"].setdefault("phase1_negotiation_mode", default)
        return status, json.dumps(document, ensure_ascii=False).encode()
    return answer


def _connections(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The connections an answer holds: a create's, show's or update's one, or a list's."""
    return [document["vpn_connection"]] if "vpn_connection" in document else document.get("vpn_connections", [])


def _reading_null_as_left_out(handler: Handler) -> Handler:
    """``handler`` reading each member of the request's JSON written null as left out (:func:`vpnconn.nulls.left_out`)."""
    async def answer(params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Answer:
        if b"null" in raw:
            try:
                document = json.loads(raw)
            except (ValueError, RecursionError):
                document = None  # not JSON: the reference server says what is wrong with it
            if has_null_members(document):
                raw = json.dumps(left_out(document), ensure_ascii=False).encode()
        return await handler(params, headers, raw, request_id)
    return answer


def _as_not_given(spec: Spec, operation_id: str, handler: Handler) -> Handler:
    """``handler`` writing, in a 2xx answer, each field its schema lists (at every depth) and the answer leaves out
    as :func:`written_as_not_given` does."""
    operation = spec.operation_by_id(operation_id)

    async def answer(params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Answer:
        status, body = await handler(params, headers, raw, request_id)
        schema = operation.response_schema(status) if 200 <= status < 300 and body else None
        if schema is None:
            return status, body
        return status, json.dumps(written_as_not_given(spec, spec.schema(schema), json.loads(body)), ensure_ascii=False).encode()
    return answer


def written_as_not_given(spec: Spec, schema: Any, value: Any) -> Any:
    """``value`` (an answer of ``schema``) with each field the schema lists and ``value`` leaves out written as a
    framework writes a field of its answer's class it was not given: a list empty, anything else null; at every depth
    (but a field the schema refuses by name, the psk)."""
    schema = spec.resolve(schema)
    if isinstance(value, dict) and isinstance(schema, dict):
        listed = {name: sub for name, sub in _properties(spec, schema).items() if sub is not False}
        written = {name: written_as_not_given(spec, listed.get(name, {}), item) for name, item in value.items()}
        return {**written, **{name: [] if spec.resolve(sub).get("type") == "array" else None
                              for name, sub in listed.items() if name not in value}}
    if isinstance(value, list) and isinstance(schema, dict) and "items" in schema:
        return [written_as_not_given(spec, schema["items"], item) for item in value]
    return value


def _properties(spec: Spec, schema: dict[str, Any]) -> dict[str, Any]:
    """The fields ``schema`` lists, its ``allOf`` parts' too (its own ``false`` wins)."""
    listed: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        listed.update(_properties(spec, spec.resolve(part)))
    return {**listed, **schema.get("properties", {})}


def _with_fractions(handler: Handler) -> Handler:
    """``handler`` answering with every integer written as a whole-number float (``86400`` as ``86400.0``)."""
    async def answer(params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Answer:
        status, body = await handler(params, headers, raw, request_id)
        return status, (json.dumps(_as_floats(json.loads(body)), ensure_ascii=False).encode() if body else body)
    return answer


def _stamped_in_whole_seconds(handler: Handler) -> Handler:
    """``handler`` answering each connection's ``created_at`` down to its second and ``updated_at`` up to one, and a
    list's ``next_marker`` (a ``created_at``) as that connection's, in the zh list and show pages' form (``...ssZ``)."""
    async def answer(params: dict[str, str], headers: dict[str, str], raw: bytes, request_id: str) -> Answer:
        status, body = await handler(params, headers, raw, request_id)
        if not body or status >= 300:
            return status, body
        document = json.loads(body)
        for connection in _connections(document):
            for key, up in (("created_at", False), ("updated_at", True)):
                if isinstance(connection.get(key), str):
                    connection[key] = whole_seconds(connection[key], up)
        info = document.get("page_info")
        if isinstance(info, dict) and isinstance(info.get("next_marker"), str):
            info["next_marker"] = whole_seconds(info["next_marker"], up=False)
        return status, json.dumps(document, ensure_ascii=False).encode()
    return answer


def whole_seconds(stamp: str, up: bool) -> str:
    """The spec's Timestamp (``...ss.SSSZ``) in whole seconds (``...ssZ``): down to its second, or ``up`` to the next
    one where it has a fraction."""
    moment = datetime.fromisoformat(stamp.removesuffix("Z"))
    if up and moment.microsecond:
        moment += timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_floats(v) for v in value]
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


VARIANTS: dict[str, tuple[str, Callable[..., ReferenceServer]]] = {
    "other-choices": ("makes the other choice wherever the documentation is silent (accepts what the spec only "
                      "infers, ignores what an update may not change, names the last of several failures, refuses "
                      "a token and an Authorization header together, refuses unknown x- headers, deletes in a while, writes integers "
                      "with a fraction, answers a field no source lists, settles a create or an update in a while and refuses an "
                      "update meanwhile, writes the service's errors as the error codes page does, is busy now and then, "
                      "keeps its lists as sets of networks: another order, a duplicate once, one policy rule per destination, host "
                      "bits masked, answers enable_hub and the deprecated fields to a create of any style, an X-Request-Id of its "
                      "own (none to a show or a list), reads a null as a field left out and writes each field it leaves out as "
                      "null or an empty list, names a connection vpn- and four letters, answers the IKE phase-1 mode for v2 too, "
                      "ignores an attribute no request schema lists, stamps a create's updated_at a millisecond late, writes its "
                      "stamps in whole seconds as the zh list and show pages do, refuses a psk "
                      "with * as the zh pages list none, answers a second delete 204, answers an IKE id of type ip with its "
                      "gateway's IP, gives a GM gateway's connections sm3, sm4 and digital-envelope-v2 and refuses others there, "
                      "refuses any IPv4 address of class D, E or loopback, or network holding one, with VPN.0204, and "
                      "a value that is no IP address with VPN.0203)",
                      OtherChoicesServer),
}
