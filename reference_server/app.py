"""The ASGI application: route, authenticate, read and validate the body, answer in the Huawei shape.

A plain ASGI callable (no framework) keeps the hot path short. Routes come from the spec: each operation's
path template and method, handled by the method named after its ``operationId`` (a spec operation without a
handler is refused when the server is built); a path the spec declares answers 405 to another method, with
an ``Allow`` header listing the spec's methods for it. Every answer carries an ``X-Request-Id``
header equal to the body's ``request_id``; every failure has the body ``{error_code, error_msg, request_id}``
with the status and code the spec's ``x-vpnconn-errors`` and ``x-vpnconn-rules`` give. The log line per
request names the method, path, status, time and request id, and never a header or the body.
"""

from __future__ import annotations

import functools
import hmac
import json
import re
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
import jsonschema_rs

from reference_server.connection import RANDOM_IDENTITY, ConnectionBuilder, Identity, deep_merge, new_uuid
from reference_server.store import ConnectionStore, QuotaExceeded, TunnelPairInUse, TunnelPoolExhausted, later_than
from vpnconn import aksk
from vpnconn.errors import SpecError
from vpnconn.json_schema import SpecValidator
from vpnconn.numbers import parse_float
from vpnconn.spec import Operation, Spec, load_spec
from vpnconn.validation import Violation, request_check
from vpnconn.world import OPEN_WORLD, World

MAX_BODY = 1024 * 1024
JSON = b"application/json"
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class Reject(Exception):
    """A request answered with an error: the failure kind of ``x-vpnconn-errors`` (or a rule's error) and a detail."""

    def __init__(self, error: dict[str, Any], detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(detail)
        self.error, self.detail, self.headers = error, detail, headers or []

    def payload(self, request_id: str) -> dict[str, str]:
        """The Huawei error body, built here and nowhere else: {error_code, error_msg, request_id}."""
        return {"error_code": self.error["error_code"], "error_msg": self.error["message"].format(detail=self.detail),
                "request_id": request_id}


def printable(text: str, limit: int = 300) -> str:
    """A request's text as one safe log field: control characters escaped (no forged lines), length bounded."""
    escaped = "".join(c if c.isprintable() and c != "\\" else c.encode("unicode_escape").decode("ascii") for c in text[:limit])
    return escaped + ("..." if len(text) > limit else "")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants, parse_float=parse_float)  # built once, not per request


@dataclass(frozen=True)
class Route:
    """One path template of the spec and the operations it serves, by method."""

    path: str
    operations: dict[str, Operation]

    @classmethod
    def table(cls, spec: Spec) -> list[Route]:
        routes: dict[str, Route] = {}
        for operation in spec.operations:
            routes.setdefault(operation.path, cls(operation.path, {})).operations[operation.method] = operation
        return list(routes.values())

    def match(self, path: str) -> dict[str, str] | None:
        return next(iter(self.operations.values())).match(path)


Answer = tuple[int, bytes]  # status and body of a successful answer
Handler = Callable[[dict[str, str], dict[str, str], bytes, str], Awaitable[Answer]]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _snake(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


class ReferenceServer:
    """``ReferenceServer(world=..., keys={AK: SK}, token=...)`` is an ASGI app for uvicorn or any ASGI server.

    ``keys``: when given, ``Authorization: SDK-HMAC-SHA256`` signatures are verified with them; otherwise any
    well-formed signature header is accepted. ``token``: when given, ``X-Auth-Token`` must equal it;
    otherwise any non-empty token is accepted. ``quotas``: keep the spec's ``x-vpnconn-quotas`` (100 connections
    per gateway, one per gateway address and customer gateway), as the service does; False for a mock whose
    clients create the same example again and again.
    """

    def __init__(self, world: World = OPEN_WORLD, keys: dict[str, str] | None = None, token: str | None = None,
                 log: Callable[[str], None] | None = None, spec: Spec | None = None, quotas: bool = True) -> None:
        self.spec = spec or load_spec()
        self.world, self.keys, self.token, self.log, self.quotas = world, keys, token, log, quotas
        self.check = request_check(self.spec)
        self.builder = ConnectionBuilder(self.spec)
        self.store = self.new_store()
        self.errors = self.spec.errors
        self.token_header, self.signature_header = self.spec.token_header.lower(), self.spec.signature_header.lower()
        project = self.spec.resolve(self.spec.document["components"]["parameters"]["project_id"])["schema"]
        self.project_id_valid = jsonschema_rs.Draft202012Validator(project).is_valid  # its lengths and pattern, as JSON Schema reads them
        self.routes = Route.table(self.spec)
        self.handlers: dict[str, Handler] = {}
        for operation in self.spec.operations:
            handler = getattr(self, f"_{_snake(operation.id)}", None)
            if handler is None:
                raise SpecError(f"the reference server has no handler for the spec's operation {operation.id} "
                                f"({operation.method} {operation.path}): add {type(self).__name__}._{_snake(operation.id)}")
            self.handlers[operation.id] = handler
        self.update_check = request_check(self.spec, self.spec.operation_by_id("UpdateVpnConnection").request_schema)

    def new_store(self) -> ConnectionStore:
        """An empty store whose tunnel range, exclusions, prefix and quotas come from the spec."""
        tunnel = self.spec.rule("tunnel-address-not-reserved").params
        quotas = {name: (self.spec.quota_fields(name), self.spec.quota(name)) for name in self.spec.quota_names}
        return ConnectionStore(tunnel["within"], tunnel["excluded"], self.spec.rule("tunnel-addresses-same-30").params["prefix"],
                               quotas=quotas if self.quotas else None)

    # ------------------------------------------------------------------------------------------- ASGI

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request_id = new_uuid()
        headers: list[tuple[bytes, bytes]] = []
        payload: dict[str, Any] = {}
        try:
            status, body = await self._serve(scope, receive, request_id)
        except Reject as r:
            status, headers, payload = r.error["status"], r.headers, self.error_body(r, request_id)
        except Exception:  # a bug of the server, never a user's input: say so and keep the traceback
            traceback.print_exc(file=sys.stderr)
            internal = Reject(self.errors["internal"], "internal")
            status, payload = internal.error["status"], self.error_body(internal, request_id)
        if status >= 400:
            body = _dumps(payload)
        header_id = self.header_request_id(request_id, scope["method"])
        start = [(b"content-length", str(len(body)).encode()),
                 *([(b"x-request-id", header_id.encode())] if header_id is not None else []), *headers]
        if body:
            start.insert(0, (b"content-type", JSON))
        await send({"type": "http.response.start", "status": status, "headers": start})
        await send({"type": "http.response.body", "body": body})
        if self.log:
            client = scope.get("client") or ("-", 0)
            ms = (time.perf_counter() - started) * 1000
            code = f" {payload.get('error_code', payload.get('code'))}" if status >= 400 else ""
            self.log(f'{client[0]} "{printable(scope["method"])} {printable(scope["path"])}" {status}{code} '
                     f'{ms:.1f}ms request_id={request_id}')

    def header_request_id(self, request_id: str, method: str) -> str | None:
        """The ``X-Request-Id`` an answer to a ``method`` request carries: the request id its body gives (a variant may
        choose otherwise; None: no such header)."""
        return request_id

    def error_body(self, reject: Reject, request_id: str) -> dict[str, Any]:
        """The body of an error answer: the Huawei shape (:meth:`Reject.payload`)."""
        return reject.payload(request_id)

    async def _serve(self, scope: dict[str, Any], receive: Callable, request_id: str) -> Answer:
        """Route, read, authenticate, check the project, and hand over to the operation's handler."""
        operation, params = self._route(scope)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw = await self._read_body(headers, receive)
        self._authenticate(scope, headers, raw)
        self._check_project(params["project_id"])
        params["query"] = scope.get("query_string", b"").decode("latin-1")
        return await self.handlers[operation.id](params, headers, raw, request_id)

    def _route(self, scope: dict[str, Any]) -> tuple[Operation, dict[str, str]]:
        for route in self.routes:
            params = route.match(scope["path"])
            if params is None:
                continue
            operation = route.operations.get(scope["method"])
            if operation is None:
                allow = ", ".join(route.operations).encode()
                raise Reject(self.errors["method-not-allowed"], f"{scope['method']} on {scope['path']}", [(b"allow", allow)])
            return operation, params
        raise Reject(self.errors["not-found"], f"no operation at {scope['path']}")

    # ------------------------------------------------------------------------------------------- steps

    # ------------------------------------------------------------------------------------------- operations

    async def _create_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes,
                                     request_id: str) -> Answer:
        body = self._parse(headers, raw)
        try:
            text = self.store.add(self.respond(body), params["project_id"], body["vpn_connection"])
        except QuotaExceeded as exc:
            raise self._beyond_quota(exc) from None
        return 201, f'{{"vpn_connection":{text},"request_id":"{request_id}"}}'.encode()

    async def _show_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes,
                                   request_id: str) -> Answer:
        connection = self.show(params["project_id"], params["vpn_connection_id"])
        return 200, _dumps({"vpn_connection": connection, "request_id": request_id})

    async def _list_vpn_connections(self, params: dict[str, str], headers: dict[str, str], raw: bytes,
                                    request_id: str) -> Answer:
        query = self._query(self.spec.operation_by_id("ListVpnConnections"), params["query"])
        return 200, _dumps({**self.list_page(params["project_id"], query), "request_id": request_id})

    async def _update_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes,
                                     request_id: str) -> Answer:
        project, connection_id = params["project_id"], params["vpn_connection_id"]
        if self.store.find(project, connection_id) is None:  # an unknown id is 404 whatever the body
            raise Reject(self.errors["not-found"], f"VPN connection {connection_id[:80]}")
        text = json.dumps(self.update(project, connection_id, self._parse(headers, raw)), ensure_ascii=False,
                          separators=(",", ":"))
        return 200, f'{{"vpn_connection":{text},"request_id":"{request_id}"}}'.encode()

    async def _delete_vpn_connection(self, params: dict[str, str], headers: dict[str, str], raw: bytes,
                                     request_id: str) -> Answer:
        self.delete(params["project_id"], params["vpn_connection_id"])
        return 204, b""

    # ------------------------------------------------------------------------------------------- the lifecycle
    # The HTTP handlers above and the fixture generator (with its own store and derived identities) answer
    # through these; each raises Reject with the documented error.

    def show(self, project: str, connection_id: str, store: ConnectionStore | None = None) -> dict[str, Any]:
        """The connection with its status (which a read moves on: PENDING_* to ACTIVE)."""
        connection = (store if store is not None else self.store).show(project, connection_id)
        if connection is None:
            raise Reject(self.errors["not-found"], f"VPN connection {connection_id[:80]}")
        return connection

    def list_page(self, project: str, query: dict[str, Any], store: ConnectionStore | None = None) -> dict[str, Any]:
        """One page of the project's connections for typed query parameters: {vpn_connections, page_info, total_count}."""
        wanted = {name: query[name] for name in ("vgw_id", "vgw_ip") if name in query}
        projects = query.get("enterprise_project_id")
        matching = [c for c in (store if store is not None else self.store).listing(project)
                    if all(c.get(k) == v for k, v in wanted.items())
                    and (not projects or c.get("enterprise_project_id") in projects)]
        after = [c for c in matching if "marker" not in query or c["created_at"] > query["marker"]]
        page = after[:query.get("limit", len(after))]
        page_info: dict[str, Any] = {"current_count": len(page)}
        if page and len(after) > len(page):
            page_info = {"next_marker": page[-1]["created_at"], **page_info}
        return {"vpn_connections": page, "page_info": page_info, "total_count": len(matching)}

    def update(self, project: str, connection_id: str, body: Any, identity: Identity = RANDOM_IDENTITY,
               store: ConnectionStore | None = None) -> dict[str, Any]:
        """Apply an update body; the connection as updated (kept in the store, PENDING_UPDATE)."""
        store = store if store is not None else self.store
        stored = store.find(project, connection_id)
        if stored is None:
            raise Reject(self.errors["not-found"], f"VPN connection {connection_id[:80]}")
        found = self.update_check.schema_violations(body)
        if found:
            raise Reject(self._error_of(found[0]), found[0].detail)
        current = json.loads(stored.text)
        changes = body["vpn_connection"]
        merged = deep_merge(json.loads(stored.request), changes)
        if "tunnel_local_address" in current and not {"tunnel_local_address", "tunnel_peer_address"} & set(changes):
            merged.update(tunnel_local_address=current["tunnel_local_address"],
                          tunnel_peer_address=current["tunnel_peer_address"])
        keep = Identity(new_id=lambda: connection_id, now=lambda: later_than(identity.now(), current["updated_at"]),
                        auto_name=lambda: current["name"])
        updated = self.respond({"vpn_connection": merged}, keep, store)
        updated["created_at"] = current["created_at"]
        try:
            return json.loads(store.replace(project, updated, merged))
        except QuotaExceeded as exc:
            raise self._beyond_quota(exc) from None

    def _beyond_quota(self, exc: QuotaExceeded) -> Reject:
        """The spec's error for a request the store refused beyond a quota (x-vpnconn-quotas: its ``error``)."""
        return Reject(self.spec.quota_error(exc.quota), str(exc))

    def delete(self, project: str, connection_id: str, store: ConnectionStore | None = None) -> None:
        if not (store if store is not None else self.store).delete(project, connection_id):
            raise Reject(self.errors["not-found"], f"VPN connection {connection_id[:80]}")

    def _query(self, operation: Operation, text: str) -> dict[str, Any]:
        """The operation's query parameters, typed and checked against their schemas (unknown ones ignored), with its
        schema's default for one not given (a list without a ``limit`` holds 2000 connections at most)."""
        pairs = parse_qsl(text, keep_blank_values=True)
        out: dict[str, Any] = {}
        for name, schema, validator in self._query_parameters[operation.id]:
            values = [v for k, v in pairs if k == name]
            if not values:
                if "default" in schema:
                    out[name] = schema["default"]
                continue
            value: Any = values if schema.get("type") == "array" else values[-1]
            if schema.get("type") == "integer":
                value = int(value) if re.fullmatch(r"-?[0-9]{1,12}", value) else value
            error = jsonschema.exceptions.best_match(validator.iter_errors(value))
            if error is not None:
                raise Reject(self.errors["schema-violation"], f"query {name}: {str(error.message)[:120]}")
            out[name] = value
        return out

    @functools.cached_property
    def _query_parameters(self) -> dict[str, list[tuple[str, dict[str, Any], SpecValidator]]]:
        """Each operation's query parameters as (name, schema, validator), the validators built once."""
        table: dict[str, list[tuple[str, dict[str, Any], SpecValidator]]] = {o.id: [] for o in self.spec.operations}
        for operation in self.spec.operations:
            for parameter in (self.spec.resolve(p) for p in operation.node.get("parameters", [])):
                if parameter["in"] == "query":
                    schema = self._query_schema(operation.id, parameter["name"])
                    table[operation.id].append((parameter["name"], schema, SpecValidator(schema)))
        return table

    def _query_schema(self, operation_id: str, name: str) -> dict[str, Any]:
        """The schema the server reads a query parameter with: the spec's."""
        return self.spec.query_schema(operation_id, name)

    def respond(self, body: Any, identity: Identity = RANDOM_IDENTITY, store: ConnectionStore | None = None) -> dict[str, Any]:
        """The created ``vpn_connection`` for a parsed body, or :class:`Reject` with the documented error.

        The HTTP layer and the fixture generator both answer through here. ``store`` (default: the server's)
        hands out tunnel pairs; the connection is not added to it.
        """
        violation = self.check.first(body, self.world)
        if violation:
            raise Reject(self._error_of(violation), violation.detail)
        conn = body["vpn_connection"]
        gateway = self.world.gateway(conn["vgw_id"])
        customer = self.world.customer_gateway(conn["cgw_id"])
        if gateway is None or customer is None:  # the world rules refuse these first; a world without rules would not
            raise Reject(self.errors["not-found"], f"{conn['vgw_id'] if gateway is None else conn['cgw_id']}")
        try:
            return self.builder.build(conn, gateway, customer, store if store is not None else self.store, identity)
        except TunnelPoolExhausted as exc:
            raise Reject(self.errors["schema-violation"], str(exc)) from None
        except TunnelPairInUse as exc:
            raise Reject(self.errors["tunnel-pair-in-use"], str(exc)) from None

    @staticmethod
    def _error_of(v: Violation) -> dict[str, Any]:
        return {"status": v.status, "error_code": v.error_code, "message": v.error_template}

    async def _read_body(self, headers: dict[str, str], receive: Callable) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise Reject(self.errors["body-too-large"], f"body exceeds {MAX_BODY} bytes")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                raise Reject(self.errors["body-too-large"], f"body exceeds {MAX_BODY} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    def _authenticate(self, scope: dict[str, Any], headers: dict[str, str], raw: bytes) -> None:
        """Token or signature. With ``token`` set only that token passes (compared in constant time); with
        ``keys`` set (and no token configured) only a valid signature does, whatever token comes beside it;
        with neither, any non-empty token or well-formed signature header (a mock for client developers)."""
        error = self.errors["unauthenticated"]
        token = headers.get(self.token_header, "").strip()
        authorization = headers.get(self.signature_header, "").strip()
        if token and self.token is not None:
            if not hmac.compare_digest(token.encode(), self.token.encode()):
                raise Reject(error, "the X-Auth-Token is not valid")
            return
        if token and self.keys is None:
            return
        if token and not authorization:
            raise Reject(error, "this server verifies AK/SK signatures; an X-Auth-Token alone is not accepted")
        if authorization:
            if not authorization.startswith(aksk.ALGORITHM):
                raise Reject(error, "Authorization must use SDK-HMAC-SHA256")
            if self.keys is not None:
                why = aksk.verify(authorization, self.keys, scope["method"], scope["path"],
                                  scope.get("query_string", b"").decode("latin-1"), headers, raw)
                if why:
                    raise Reject(error, why)
            return
        raise Reject(error, "no X-Auth-Token or Authorization header")

    def _check_project(self, project_id: str) -> None:
        if not self.project_id_valid(project_id):
            raise Reject(self.errors["schema-violation"], f"/project_id: {project_id[:80]!r} is not a project id")

    def _parse(self, headers: dict[str, str], raw: bytes) -> Any:
        malformed = self.errors["malformed-body"]
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            raise Reject(malformed, f"Content-Type must be application/json, not {media or 'missing'}")
        if not raw.strip():
            raise Reject(malformed, "the body is empty; send {\"vpn_connection\": {...}}")
        try:
            text = raw.decode("utf-8")
            if text.startswith("\ufeff"):  # as json.loads says it
                raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
            body = _DECODER.decode(text)
            if _SURROGATE_ESCAPE.search(raw):  # paired surrogates are fine, lone ones are not Unicode
                json.dumps(body, ensure_ascii=False).encode("utf-8")
            return body
        except UnicodeDecodeError as exc:
            raise Reject(malformed, f"the body is not UTF-8 (byte {exc.start})") from None
        except UnicodeEncodeError:
            raise Reject(malformed, "the body contains a lone UTF-16 surrogate escape") from None
        except json.JSONDecodeError as exc:
            raise Reject(malformed, f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except ValueError as exc:
            raise Reject(malformed, str(exc)) from None
        except RecursionError:
            raise Reject(malformed, "the body is nested too deeply") from None
