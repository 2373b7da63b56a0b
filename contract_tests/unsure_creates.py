"""Creates whose answer did not say what they did, and finding the connections they made.

A create that got no answer (a timeout, a connection cut), a 5xx that does not say nothing was done (an API
gateway that stopped waiting for the service: contract_tests.pacing.asked_again) or a 2xx without an id may still
have created a connection. The ledger learns connections by the id an answer gives, so on a real account such a
connection would be left behind, billed by the hour. So the run lists its gateway's connections as it starts
(:func:`gateway_connections`; the same list gives the tunnel pairs in use), notes what each unsure create asked
for (:func:`sought`: name, gateway, customer gateway), and at its end, when a create was unsure, lists them again:
a connection that was not there at the start, that the run does not know by id, with the name, gateway and
customer gateway of an unsure create is the run's (:func:`made_by_unsure`), and is deleted with the rest.

What cannot be told apart: another client that creates a connection with the very same name, gateway and
customer gateway on the same gateway during the run (a second run of the same seed against the same account).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import requests
import urllib3

from contract_tests import answer_json
from contract_tests.aksk_auth import signed_headers
from contract_tests.listing import as_sets
from contract_tests.pacing import Pace, send
from contract_tests.proxies import RefusedByProxy
from contract_tests.settings import RunSettings
from vpnconn import load_spec
from vpnconn.spec import LIST

IDENTITY = ("name", "vgw_id", "cgw_id", "tunnel_local_address", "tunnel_peer_address", "peer_subnets")  # what a
# create gives that its connection keeps and a list shows
DISTINCT = ("name", "tunnel_local_address", "peer_subnets")  # one of them tells a connection from the gateway's others
MOST_PAGES = 50  # a list whose pages never end is not followed further


def sought(body: Any) -> dict[str, Any]:
    """What an unsure create asked for that its connection would show (:data:`IDENTITY`: those the body gave, as it
    gave them; peer subnets as a sorted list); empty for a body that is not a create's."""
    conn = body.get("vpn_connection") if isinstance(body, dict) else None
    if not isinstance(conn, dict):
        return {}
    found: dict[str, Any] = {key: conn[key] for key in IDENTITY if isinstance(conn.get(key), str)}
    subnets = conn.get("peer_subnets")
    if isinstance(subnets, list) and subnets and all(isinstance(s, str) for s in subnets):
        found["peer_subnets"] = sorted(subnets)
    return found


NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, requests.exceptions.ConnectTimeout,
            urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,  # no connection was made
            RefusedByProxy)  # a proxy refused it (407): it went no further


def never_sent(exc: BaseException) -> bool:
    """Did a request fail before it left, no connection made (refused, unreachable, no TLS handshake), or did a proxy
    refuse it (407)? Then it made nothing: a target that died mid-run makes every later create fail so, and none of
    them is unsure. Read through the exceptions either client wraps (requests' ConnectionError around urllib3's, their causes)."""
    todo, looked = [exc], 0
    while todo and looked < 20:
        error, looked = todo.pop(), looked + 1
        if isinstance(error, NOT_SENT):
            return True
        todo += [a for a in error.args if isinstance(a, BaseException)]
        todo += [e for e in (getattr(error, "reason", None), error.__cause__) if isinstance(e, BaseException)]
    return False


def shows(item: dict[str, Any], identity: dict[str, Any]) -> bool:
    """Does the listed connection ``item`` carry everything an unsure create gave (its peer subnets as a set: in any
    order, a subnet given twice listed once; contract_tests.listing)?"""
    return all(as_sets(item.get(key), key) == as_sets(value, key) for key, value in identity.items())


def gateway_connections(base_url: str, settings: RunSettings, client: httpx.Client,
                        pace: Pace | None = None) -> list[dict[str, Any]] | None:
    """The connections of the run's gateway (``settings.vgw_id``), every page, at the run's pace; None when the
    target does not answer the list as documented (another status, a body without ``vpn_connections``, no answer)."""
    spec = load_spec()
    list_url = spec.operation_by_id(LIST).url(base_url, project_id=settings.project_id)
    size = spec.page_size()  # what every page of the API takes: a target that follows the list page of 2024 refuses more
    found: list[dict[str, Any]] = []
    marker: str | None = None
    for _ in range(MOST_PAGES):
        query = {"vgw_id": settings.vgw_id, "limit": size, **({"marker": marker} if marker else {})}
        url = f"{list_url}?{urlencode(query)}"
        headers = signed_headers("GET", url, b"", settings.token, settings.ak, settings.sk)
        try:
            response = send(client, pace, "GET", url, None, headers)
            page = answer_json.loads(response.content) if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        items = page.get("vpn_connections") if isinstance(page, dict) else None
        if not isinstance(page, dict) or not isinstance(items, list):
            return None
        found += [item for item in items if isinstance(item, dict)]
        info = page.get("page_info")
        following = info.get("next_marker") if isinstance(info, dict) else None
        if not items or not isinstance(following, str) or not following or following == marker:
            return found
        marker = following
    return found


def made_by_unsure(listing: list[dict[str, Any]], before: set[str], known: set[str],
                   unsure: list[dict[str, Any]]) -> list[str]:
    """The ids of the listed connections an unsure create made: not listed ``before`` the run, not ``known`` to it
    by id, and showing everything an unsure create gave (:func:`sought`). An unsure create that gave nothing of
    :data:`DISTINCT` (only its gateway and customer gateway, which could be any connection's) is not looked for."""
    return match_unsure(listing, before, known, unsure)[0]


def match_unsure(listing: list[dict[str, Any]], before: set[str], known: set[str],
                 unsure: list[dict[str, Any]]) -> tuple[list[str], list[int]]:
    """:func:`made_by_unsure`, and the indexes (in ``unsure``) of the lookable unsure creates that none of those
    connections shows: not made, or not yet (a service slower than the run)."""
    wanted = [(n, identity) for n, identity in enumerate(unsure) if lookable(identity)]
    made, shown = [], set()
    for item in listing:
        connection_id = item.get("id")
        if not isinstance(connection_id, str) or connection_id in before or connection_id in known:
            continue
        showing = {n for n, identity in wanted if shows(item, identity)}
        if showing:
            made.append(connection_id)
            shown |= showing
    return made, [n for n, _ in wanted if n not in shown]


def lookable(identity: dict[str, Any]) -> bool:
    """Does an unsure create's :func:`sought` tell its connection from the gateway's others?"""
    return any(key in identity for key in DISTINCT)
