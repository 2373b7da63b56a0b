"""Correct-but-different servers: they follow the documentation and make the *other* choice wherever it is
silent. They prove that the contract suite does not report what the documentation does not back: a run
against one must end with exit 0, its differences listed as divergences (and failing only with --strict).

``other-choices`` differs from the reference server on every point the spec marks as inferred:

- it validates with the documented constraints only (:func:`vpnconn.documented.documented_only`), so it
  accepts non-canonical CIDRs, duplicate tag keys and subnets, empty lists, rules without a source, tunnel
  addresses with style policy, policy rules with other styles;
- it serves ``GET`` on the collection path (the list of connections, as the real API does), so the 405 that
  schemathesis expects for a method the spec does not declare there is not what it answers;
- a body with several failures is refused for the *last* one found (the reference server names the first),
  so an unsupported attribute beside a schema violation may get VPN.0001 instead of VPN.0013.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from reference_server.app import JSON, ReferenceServer, Reject
from reference_server.connection import RANDOM_IDENTITY, Identity
from reference_server.store import ConnectionStore
from vpnconn import load_spec
from vpnconn.documented import documented_only


class OtherChoicesServer(ReferenceServer):
    def __init__(self, **options: Any) -> None:
        super().__init__(**{**options, "spec": documented_only(load_spec())})

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self.route.match(scope["path"]):
            await self._list(scope, send)
            return
        await super().__call__(scope, receive, send)

    async def _list(self, scope: dict[str, Any], send: Callable) -> None:
        request_id = str(uuid.uuid4())
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            self._authenticate(scope, headers, b"")
            status = 200
            connections = self.store.all()
            payload: dict[str, Any] = {"vpn_connections": connections, "total_count": len(connections),
                                       "page_info": {"current_count": len(connections)}, "request_id": request_id}
        except Reject as r:
            status, payload = r.error["status"], r.payload(request_id)
        body = json.dumps(payload, separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", JSON), (b"content-length", str(len(body)).encode()), (b"x-request-id", request_id.encode())]})
        await send({"type": "http.response.body", "body": body})

    def respond(self, body: Any, identity: Identity = RANDOM_IDENTITY, store: ConnectionStore | None = None) -> dict[str, Any]:
        found = self.check.violations(body, self.world)
        if len(found) > 1:  # name the last failure found, where the reference server names the first
            raise Reject(self._error_of(found[-1]), found[-1].detail)
        return super().respond(body, identity, store)


VARIANTS: dict[str, tuple[str, Callable[..., ReferenceServer]]] = {
    "other-choices": ("makes the other choice wherever the documentation is silent (accepts what the spec only "
                      "infers, lists connections on GET, names the last of several failures)", OtherChoicesServer),
}
