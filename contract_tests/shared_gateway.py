"""Another client on the run's gateway: a valid create refused for a resource in use may have been refused for theirs.

A gateway on a real account may be shared (two CI jobs that run at once, a colleague at the console). The run lists
its gateway as it begins and hands out tunnel /30s, gateway addresses and customer gateways, and room in the quota,
from what it saw; a connection another client creates during the run may take one of them, and the run's create that
names it is refused (the spec's error kinds marked ``state: gateway``: ``VPN.0012``, and 400 ``VPN.0001`` for a pair
or the quota). Judged as the target's fault, that refusal was a false "valid request rejected".

So when a valid create is refused so, the run lists its gateway right then (:class:`GatewayWatch`), while the
connection that holds the resource is there (another run's is gone by this run's end when that run ends first, as
two CI jobs that start together do). At the end, what those lists showed that was not there as the run began, is
not the run's by id and was not made by one of its unsure creates, is another client's. A refusal that such a
connection explains (:func:`holds`: it holds the refused create's tunnel /30, or its gateway address and customer
gateway) rests on the gateway being the run's alone, which it was not: a divergence (``refused_while_gateway_shared``,
inferred), and the run says so. Any other refusal is judged as before: a server that refuses a free tunnel pair, or
that makes the connection it refuses, is still caught. The lists cost a request each, one per such refusal (none
once MOST_FRUITLESS lists found nothing holding what their create named), and only a run that has such a refusal.
A refusal for the gateway's quota is explained where the list taken for it found the gateway full, with another
client's connections on it. Not told apart: another client's connection with the very fields of a create refused
for its gateway address and customer gateway (taken for that create's own, made by the server that refused it).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from contract_tests.cleanup import Ledger, read_ledger
from contract_tests.error_bodies import error_code_in
from contract_tests.pacing import Pace
from contract_tests.records import VIOLATION, CaseRecord, Failure
from contract_tests.settings import RunSettings
from contract_tests.unsure_creates import gateway_connections, match_unsure, shows, sought
from vpnconn import ipv4, load_spec
from vpnconn.spec import PER_GATEWAY

SHARED = "refused_while_gateway_shared"  # the spec's name for a refusal that may be another client's doing
REFUSAL_CHECKS = ("positive_data_acceptance", "lifecycle_status")  # the checks that judge a valid create's refusal
MOST_FRUITLESS = 5  # lists of the gateway that find nothing to explain their refusal: then no more


def refusals_for_gateway_state(records: list[CaseRecord]) -> list[tuple[Any, str | None, Failure]]:
    """The violations that hold a valid create's refusal for what the gateway holds against the target, each with
    the create's ``vpn_connection`` and the refusal's error code."""
    spec = load_spec()
    found = []
    for record in records:
        if record.method != "POST" or record.status is None or spec.create.match(urlsplit(record.url).path) is None:
            continue
        code = error_code_in(record.response_body.encode())
        if (record.status, code) not in spec.gateway_state_refusals:
            continue
        conn = record.body.get("vpn_connection") if isinstance(record.body, dict) else None
        found += [(conn, code, f) for f in record.failures if f.check in REFUSAL_CHECKS and f.severity == VIOLATION]
    return found


def holds(item: dict[str, Any], conn: Any, code: str | None) -> bool:
    """Does another client's listed connection ``item`` hold what a refused create (``conn``) named? For a tunnel
    pair in use, the create's tunnel /30; for the other refusals (400 VPN.0001: the gateway address and customer
    gateway, the quota, or something else), its gateway address and customer gateway, where ``item`` is not what the
    create asked for itself: a server that made the connection it refused is not another client."""
    if not isinstance(conn, dict):
        return False
    if code == load_spec().errors["tunnel-pair-in-use"]["error_code"]:
        return _same_pair(item.get("tunnel_local_address"), conn.get("tunnel_local_address"))
    return (item.get("vgw_ip"), item.get("cgw_id")) == (conn.get("vgw_ip"), conn.get("cgw_id")) \
        and not shows(item, sought({"vpn_connection": conn}))


def _same_pair(a: Any, b: Any) -> bool:
    """Are two tunnel addresses in one tunnel pair (the spec's rule tunnel-addresses-same-30 gives its prefix)? A
    listed connection's may be anything: what is not an IPv4 CIDR is in no pair."""
    prefix = load_spec().rule("tunnel-addresses-same-30").params["prefix"]
    try:
        return ipv4.network(ipv4.cidr(a)[0], prefix) == ipv4.network(ipv4.cidr(b)[0], prefix)
    except (AttributeError, TypeError, ValueError):
        return False


@dataclass
class Look:
    """One list of the gateway, taken as a valid create was refused: when it began, the connections it showed that
    were not there as the run began, and whether the gateway was full (its quota of connections)."""

    began: float
    new: list[dict[str, Any]]
    full: bool


class GatewayWatch:
    """Lists the run's gateway when a valid create is refused for what the gateway holds (:meth:`refused`), while the
    connection that holds it is there: another client's is gone by the run's end when its own run ends first, as
    two CI jobs that start together do. What it saw that was not there as the run began is told apart from the
    run's own at the end (:meth:`others`), when every answer the run got is noted."""

    def __init__(self, ledger: Ledger, settings: RunSettings, client: httpx.Client, pace: Pace | None,
                 listed_before: list[dict[str, Any]] | None) -> None:
        """``listed_before``: the gateway's connections as the run began (None: it could not be listed)."""
        self.ledger, self.settings, self.client, self.pace = ledger, settings, client, pace
        self.before = None if listed_before is None else {c.get("id") for c in listed_before}
        self.looks: list[Look] = []
        self.fruitless = 0  # lists that found nothing holding what their refused create named, nor a full gateway
        self.look_for: dict[str, Look] = {}  # by refused create (:func:`_key`): the list that shows what held it
        self._lock = threading.Lock()

    @staticmethod
    def concerns(status: int, code: str | None) -> bool:
        """Is this answer a refusal for what the gateway holds (an error kind marked ``state: gateway``)?"""
        return (status, code) in load_spec().gateway_state_refusals

    def refused(self, conn: Any, code: str | None) -> None:
        """A valid create (its ``vpn_connection``) was just refused with ``code`` for what the gateway holds: list the
        gateway, unless a list begun since shows it already, or MOST_FRUITLESS lists found nothing that holds what
        their refused create named (a target that refuses free pairs is judged all the same)."""
        arrived = time.monotonic()
        with self._lock:
            if self.looks and self.looks[-1].began >= arrived:  # (one that began before the refusal may miss its cause)
                self.look_for[_key(conn)] = self.looks[-1]
                return
            if self.fruitless >= MOST_FRUITLESS or self.before is None:  # (not listed as the run began: nothing to tell apart)
                return
            look = Look(time.monotonic(), [], False)
            listing = gateway_connections(self.ledger.base_url, self.settings, self.client, self.pace) or []
            look.new = [item for item in listing if isinstance(item.get("id"), str) and item["id"] not in self.before]
            look.full = len(listing) >= load_spec().quota(PER_GATEWAY)
            self.looks.append(look)
            self.look_for[_key(conn)] = look
            if not look.full and not any(holds(item, conn, code) for item in look.new):
                self.fruitless += 1

    def others(self) -> dict[str, dict[str, Any]]:
        """What the lists showed that the run did not make, by id: not its own by id (every answer is noted by now),
        and not made by one of its unsure creates, nor by one the target refused (a server that makes the connection
        it refuses: on a gateway it filled so, its own refusal was taken for one for another client's connection)."""
        text = read_ledger(self.ledger.path)
        seen = {item["id"]: item for look in self.looks for item in look.new}
        candidates = [item for connection_id, item in seen.items() if connection_id not in text.known]
        unsure = [identity for _, identity in text.sought] + text.refused
        ours = set(match_unsure(candidates, set(), set(), unsure)[0]) if unsure else set()
        return {item["id"]: item for item in candidates if item["id"] not in ours}

    def explains(self, conn: Any, code: str | None, others: dict[str, dict[str, Any]]) -> list[str]:
        """The ids of another client's connections that explain a refusal: those that hold what the create named
        (:func:`holds`), or, for a refusal the gateway's quota may give (400 VPN.0001), those on a gateway that its
        list found full as the create was refused."""
        held = [connection_id for connection_id, item in others.items() if holds(item, conn, code)]
        look = self.look_for.get(_key(conn))
        if not held and look is not None and look.full and code == load_spec().quota_error(PER_GATEWAY)["error_code"]:
            held = [item["id"] for item in look.new if item["id"] in others]
        return held


def _key(conn: Any) -> str:
    return json.dumps(conn, sort_keys=True, default=str)


def judge_shared_gateway(records: list[CaseRecord], watch: GatewayWatch | None) -> str | None:
    """Where the run's violations hold a create's refusal for what the gateway holds, and another client's connections
    created during the run explain it (:meth:`GatewayWatch.explains`): make them divergences, and say what to tell the
    user; else None."""
    refusals = refusals_for_gateway_state(records)
    others = watch.others() if watch is not None and refusals else {}
    if watch is None or not others:
        return None
    provenance = load_spec().check_provenance(SHARED)
    excused, holders = 0, set()
    for conn, code, failure in refusals:
        held = watch.explains(conn, code, others)
        if not held:
            continue
        excused += 1
        holders |= set(held)
        failure.provenance = provenance
        failure.message += (f"\n\nAnother client's connections, created on the gateway during the run, hold what this "
                            f"create names, or filled the gateway ({', '.join(held[:3])}): not held against the target.")
    if not excused:
        return None
    shown = ", ".join(sorted(holders)[:3]) + (", ..." if len(holders) > 3 else "")
    return (f"another client created connections on the gateway during the run: {excused} valid create(s) refused for "
            f"what {len(holders)} of them hold (a tunnel /30, a gateway address and customer gateway, room in the quota: "
            f"{shown}) are not held against the target; run one contract run per gateway at a time")
