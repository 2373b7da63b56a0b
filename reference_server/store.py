"""Created connections, kept in memory per project, and the tunnel /30s each gateway has handed out.

Safe to use from several threads. Each connection is kept with its project, the create request it came from
(merged with later updates: what the next update starts from) and its ``status``. A new connection is
``PENDING_CREATE``; the first read that shows it moves it to ``ACTIVE`` (an updated one likewise from
``PENDING_UPDATE``), so a client sees the documented sequence without waiting. ``created_at`` is unique and
increasing (a connection made in the same millisecond as the last one gets the next millisecond), so
``marker`` paging by ``created_at`` neither loses nor repeats one. The store keeps the newest ``capacity``
connections: a long fuzzing run or benchmark must not grow memory without bound or use up a gateway's
16,320 tunnel /30s. Evicting or deleting a connection frees its /30.
Connections are kept as their JSON text: immutable, and invisible to the garbage collector (a store of
dicts made every full collection walk hundreds of thousands of objects and halved the server's throughput).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from vpnconn import ipv4


class TunnelPoolExhausted(Exception):
    """No free /30 is left in the tunnel range of a gateway."""


class TunnelPairInUse(Exception):
    """The /30 of a requested tunnel pair is used by another connection of the gateway."""


class QuotaExceeded(Exception):
    """The project holds as many connections with a create's values of a quota's fields as the quota allows
    (``quota``: its name in ``x-vpnconn-quotas``)."""

    def __init__(self, quota: str, message: str) -> None:
        super().__init__(message)
        self.quota = quota


Quotas = dict[str, tuple[tuple[str, ...], int]]  # a quota's name -> (the fields it counts per, how many it allows)


class Stored(NamedTuple):
    """One connection: a tuple of strings, which the garbage collector does not track."""

    project: str
    text: str  # the vpn_connection answer as JSON text
    request: str  # the create request's vpn_connection, with later updates merged in, as JSON text
    status: str
    keys: tuple[tuple[str, ...], ...] = ()  # the quota keys it counts under (ConnectionStore._quota_keys)


PENDING_TO_ACTIVE = {"PENDING_CREATE": "ACTIVE", "PENDING_UPDATE": "ACTIVE"}
_MS = timedelta(milliseconds=1)


def stamp_text(moment: datetime) -> str:
    """The spec's Timestamp: UTC to the millisecond with a Z (``2026-11-28T13:41:45.123Z``)."""
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"


def later_than(stamp: str, last: str | None) -> str:
    """``stamp``, or one millisecond after ``last`` when ``stamp`` is not later (the Timestamp format)."""
    if last is None or stamp > last:
        return stamp
    return stamp_text(datetime.fromisoformat(last[:-1]) + _MS)


class ConnectionStore:
    def __init__(self, within: str, excluded: list[str], prefix: int, capacity: int = 10_000,
                 quotas: Quotas | None = None) -> None:
        self.capacity, self.quotas = capacity, dict(quotas or {})
        self._lock = threading.Lock()
        self._connections: dict[str, Stored] = {}  # id -> the connection, oldest first
        # (a quota's name, project, the values of the quota's fields) -> the connections kept there (bounded by
        # capacity: a key without connections is forgotten)
        self._held: dict[tuple[str, ...], int] = {}
        self._last_created: str | None = None  # the newest created_at handed out (one for all projects: bounded)
        self._tunnels: dict[str, tuple[str, int]] = {}  # id -> (gateway id, /30 as int), to free on eviction
        # gateway -> /30 -> how many connections use it: a /30 is free again only when none does, and a gateway
        # without connections is forgotten, so the bookkeeping is bounded by the store's capacity
        self._used: dict[str, dict[int, int]] = {}
        self._next: dict[str, int] = {}
        self._within, self._within_text = ipv4.cidr(within), within
        self._excluded = [ipv4.cidr(n) for n in excluded]
        self._size = 2 ** (32 - prefix)
        self._prefix = prefix

    def add(self, connection: dict[str, Any], project: str = "", request: dict[str, Any] | None = None) -> str:
        """Keep ``connection`` (``PENDING_CREATE``); returns its JSON text (the server reuses it for the answer).

        ``created_at`` (and ``updated_at`` with it, kept after it where it was after it) is moved on by a millisecond
        when the last connection stored has the same or a later one. Raises :class:`QuotaExceeded` (and frees the tunnel /30 the builder
        took for it) when the project holds as many connections with its values of a quota's fields as the quota
        allows (``quotas``: 100 on its gateway, 1 on its gateway address and customer gateway)."""
        with self._lock:
            keys = self._quota_keys(project, connection)
            self._keep_room(connection, keys)
            self._count(keys, by=1)
            if "created_at" in connection:
                stamp = later_than(connection["created_at"], self._last_created)
                if stamp != connection["created_at"]:  # updated_at with it: equal, or after it if it was
                    after = connection.get("updated_at", stamp) > connection["created_at"]
                    connection["updated_at"] = later_than(connection["updated_at"], stamp) if after else stamp
                    connection["created_at"] = stamp
                self._last_created = stamp
            text = json.dumps(connection, ensure_ascii=False, separators=(",", ":"))
            self._connections[connection["id"]] = Stored(project, text, json.dumps(request or {}), "PENDING_CREATE", keys)
            self._note_tunnel(connection)
            while len(self._connections) > self.capacity:
                self._forget(next(iter(self._connections)))
        return text

    def _quota_keys(self, project: str, connection: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
        """The keys ``connection`` counts under: for each quota, its name, the project and the connection's values of
        the fields the quota counts per."""
        return tuple((name, project, *(str(connection.get(f, "")) for f in fields))
                     for name, (fields, _) in self.quotas.items())

    def _keep_room(self, connection: dict[str, Any], keys: tuple[tuple[str, ...], ...],
                   before: tuple[tuple[str, ...], ...] = ()) -> None:
        """Raise :class:`QuotaExceeded` when ``connection`` would pass a quota under one of ``keys`` (those it counts
        under ``before`` an update take no more room), freeing the /30 the builder took for it."""
        for key, (name, (fields, allowed)) in zip(keys, self.quotas.items(), strict=True):
            held = self._held.get(key, 0)
            if key in before or held < allowed:
                continue
            if "tunnel_local_address" in connection:
                self._release(str(connection.get("vgw_id", "")), self._tunnel_base(connection))
            values = ", ".join(f"{f} {v}" for f, v in zip(fields, key[2:], strict=True))
            raise QuotaExceeded(name, f"the project holds {held} VPN connection(s) with {values}: the quota {name} is {allowed}")

    def _count(self, keys: Iterable[tuple[str, ...]], by: int) -> None:
        for key in keys:
            self._held[key] = self._held.get(key, 0) + by
            if not self._held[key]:
                del self._held[key]

    def _note_tunnel(self, connection: dict[str, Any]) -> None:
        if "tunnel_local_address" in connection:
            self._tunnels[connection["id"]] = (connection["vgw_id"], self._tunnel_base(connection))

    def _tunnel_base(self, connection: dict[str, Any]) -> int:
        """The /30 (as an int) of the connection's tunnel_local_address."""
        return ipv4.network(ipv4.cidr(connection["tunnel_local_address"])[0], self._prefix)

    def _forget(self, connection_id: str) -> None:
        stored = self._connections.pop(connection_id)
        self._count(stored.keys, by=-1)
        if connection_id in self._tunnels:
            self._release(*self._tunnels.pop(connection_id))

    def find(self, project: str, connection_id: str) -> Stored | None:
        """The project's connection, or None (another project's connection is not found either)."""
        with self._lock:
            stored = self._connections.get(connection_id)
        return stored if stored is not None and stored.project == project else None

    def show(self, project: str, connection_id: str) -> dict[str, Any] | None:
        """The connection with its ``status``; a pending status moves on to ``ACTIVE`` after this read."""
        with self._lock:
            stored = self._connections.get(connection_id)
            if stored is None or stored.project != project:
                return None
            if stored.status in PENDING_TO_ACTIVE:
                self._connections[connection_id] = stored._replace(status=PENDING_TO_ACTIVE[stored.status])
        return {**json.loads(stored.text), "status": stored.status}

    def listing(self, project: str) -> list[dict[str, Any]]:
        """The project's connections with their status, oldest first (a listing does not move a status)."""
        with self._lock:
            mine = [s for s in self._connections.values() if s.project == project]
        return [{**json.loads(s.text), "status": s.status} for s in mine]

    def replace(self, project: str, connection: dict[str, Any], request: dict[str, Any]) -> str:
        """Keep the updated ``connection`` (``PENDING_UPDATE``) in place of the one with its id; frees the
        old tunnel /30 (the builder has claimed the new one). Raises :class:`QuotaExceeded` (the connection as it was)
        when the update moves it where a quota is full (another customer gateway, which holds one already)."""
        text = json.dumps(connection, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            connection_id = connection["id"]
            old = self._connections[connection_id]
            keys = self._quota_keys(project, connection)
            if keys != old.keys:
                self._keep_room(connection, keys, before=old.keys)
                self._count([k for k in old.keys if k not in keys], by=-1)
                self._count([k for k in keys if k not in old.keys], by=1)
            if connection_id in self._tunnels:
                self._release(*self._tunnels.pop(connection_id))
            self._connections[connection_id] = Stored(project, text, json.dumps(request), "PENDING_UPDATE", keys)
            self._note_tunnel(connection)
        return text

    def delete(self, project: str, connection_id: str) -> bool:
        """Forget the project's connection and free its tunnel /30; False when there is none."""
        with self._lock:
            stored = self._connections.get(connection_id)
            if stored is None or stored.project != project:
                return False
            self._forget(connection_id)
            return True

    def _release(self, gateway_id: str, base: int) -> None:
        used = self._used.get(gateway_id, {})
        if used.get(base, 0) > 1:
            used[base] -= 1
            return
        used.pop(base, None)
        if not used:
            self._used.pop(gateway_id, None)
            self._next.pop(gateway_id, None)

    def bookkeeping_size(self) -> int:
        """How many (gateway, /30) entries and quota counts are kept: bounded by the number of stored connections."""
        with self._lock:
            return sum(len(v) for v in self._used.values()) + len(self._next) + len(self._held)

    def get(self, connection_id: str) -> dict[str, Any] | None:
        """The connection as created or last updated, whatever its project (without ``status``)."""
        with self._lock:
            stored = self._connections.get(connection_id)
        return json.loads(stored.text) if stored is not None else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._connections)

    def claim_tunnel(self, gateway_id: str, address: str, owner: str | None = None) -> None:
        """Mark the /30 of a tunnel address given by a request as used on this gateway; raises
        :class:`TunnelPairInUse` when another connection than ``owner`` (the one being updated) uses it."""
        addr, prefix = ipv4.cidr(address)  # schema-valid: a dotted quad and its /30
        base = ipv4.network(addr, prefix)
        with self._lock:
            used = self._used.setdefault(gateway_id, {})
            own = 1 if owner is not None and self._tunnels.get(owner) == (gateway_id, base) else 0
            if used.get(base, 0) - own > 0:
                if not used:
                    self._used.pop(gateway_id, None)
                raise TunnelPairInUse(f"{ipv4.text(base)}/{prefix} is used by another connection of gateway {gateway_id}")
            used[base] = used.get(base, 0) + 1

    def allocate_tunnel(self, gateway_id: str) -> tuple[str, str]:
        """The next free /30 of the gateway: (local, peer) as its first and second host."""
        with self._lock:
            used = self._used.setdefault(gateway_id, {})
            start = self._within[0]
            count = 2 ** (32 - self._within[1]) // self._size
            for step in range(count):
                offset = (self._next.get(gateway_id, 0) + step) % count
                base = start + offset * self._size
                if base in used or any(ipv4.overlaps((base, 32), n) for n in self._excluded):
                    continue
                used[base] = 1
                self._next[gateway_id] = offset + 1
                return f"{ipv4.text(base + 1)}/{self._prefix}", f"{ipv4.text(base + 2)}/{self._prefix}"
        raise TunnelPoolExhausted(f"no free /{self._prefix} left in {self._within_text} on gateway {gateway_id}")
