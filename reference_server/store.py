"""Created connections, kept in memory, and the tunnel /30s each gateway has handed out.

Safe to use from several threads. Show, list and delete can be added on top of :meth:`get` and :meth:`all`.
The store keeps the newest ``capacity`` connections: a long fuzzing run or benchmark must not grow memory
without bound or use up a gateway's 16,320 tunnel /30s. Evicting a connection frees its /30.
Connections are kept as their JSON text: immutable, and invisible to the garbage collector (a store of
dicts made every full collection walk hundreds of thousands of objects and halved the server's throughput).
"""

from __future__ import annotations

import ipaddress
import json
import threading
from typing import Any

from vpnconn import ipv4


class TunnelPoolExhausted(Exception):
    """No free /30 is left in the tunnel range of a gateway."""


class ConnectionStore:
    def __init__(self, within: str, excluded: list[str], prefix: int, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._connections: dict[str, str] = {}  # id -> JSON text
        self._tunnels: dict[str, tuple[str, int]] = {}  # id -> (gateway id, /30 as int), to free on eviction
        # gateway -> /30 -> how many connections use it: a /30 is free again only when none does, and a gateway
        # without connections is forgotten, so the bookkeeping is bounded by the store's capacity
        self._used: dict[str, dict[int, int]] = {}
        self._next: dict[str, int] = {}
        self._within = ipaddress.IPv4Network(within)
        self._excluded = [ipaddress.IPv4Network(n) for n in excluded]
        self._size = 2 ** (32 - prefix)
        self._prefix = prefix

    def add(self, connection: dict[str, Any]) -> str:
        """Keep ``connection``; returns its JSON text (the server reuses it for the answer)."""
        text = json.dumps(connection, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._connections[connection["id"]] = text
            if "tunnel_local_address" in connection:
                addr, _ = ipv4.cidr(connection["tunnel_local_address"])
                self._tunnels[connection["id"]] = (connection["vgw_id"], ipv4.network(addr, self._prefix))
            while len(self._connections) > self.capacity:
                oldest = next(iter(self._connections))
                del self._connections[oldest]
                if oldest in self._tunnels:
                    self._release(*self._tunnels.pop(oldest))
        return text

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
        """How many (gateway, /30) entries are kept: bounded by the number of stored connections."""
        with self._lock:
            return sum(len(v) for v in self._used.values()) + len(self._next)

    def get(self, connection_id: str) -> dict[str, Any] | None:
        with self._lock:
            text = self._connections.get(connection_id)
        return json.loads(text) if text is not None else None

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            texts = list(self._connections.values())
        return [json.loads(t) for t in texts]

    def __len__(self) -> int:
        with self._lock:
            return len(self._connections)

    def claim_tunnel(self, gateway_id: str, address: str) -> None:
        """Mark the /30 of a tunnel address given by a request as used on this gateway."""
        net = ipaddress.IPv4Interface(address).network
        with self._lock:
            used = self._used.setdefault(gateway_id, {})
            base = int(net.network_address)
            used[base] = used.get(base, 0) + 1

    def allocate_tunnel(self, gateway_id: str) -> tuple[str, str]:
        """The next free /30 of the gateway: (local, peer) as its first and second host."""
        with self._lock:
            used = self._used.setdefault(gateway_id, {})
            start = int(self._within.network_address)
            count = self._within.num_addresses // self._size
            for step in range(count):
                offset = (self._next.get(gateway_id, 0) + step) % count
                base = start + offset * self._size
                if base in used or any(ipaddress.IPv4Address(base) in n for n in self._excluded):
                    continue
                used[base] = 1
                self._next[gateway_id] = offset + 1
                local, peer = ipaddress.IPv4Address(base + 1), ipaddress.IPv4Address(base + 2)
                return f"{local}/{self._prefix}", f"{peer}/{self._prefix}"
        raise TunnelPoolExhausted(f"no free /{self._prefix} left in {self._within} on gateway {gateway_id}")
