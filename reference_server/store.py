"""Created connections, kept in memory, and the tunnel /30s each gateway has handed out.

Safe to use from several threads. Show, list and delete can be added on top of :meth:`get` and :meth:`all`.
"""

from __future__ import annotations

import ipaddress
import threading
from typing import Any


class TunnelPoolExhausted(Exception):
    """No free /30 is left in the tunnel range of a gateway."""


class ConnectionStore:
    def __init__(self, within: str, excluded: list[str], prefix: int) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, dict[str, Any]] = {}
        self._used: dict[str, set[int]] = {}
        self._next: dict[str, int] = {}
        self._within = ipaddress.IPv4Network(within)
        self._excluded = [ipaddress.IPv4Network(n) for n in excluded]
        self._size = 2 ** (32 - prefix)
        self._prefix = prefix

    def add(self, connection: dict[str, Any]) -> None:
        with self._lock:
            self._connections[connection["id"]] = connection

    def get(self, connection_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._connections.get(connection_id)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._connections.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._connections)

    def claim_tunnel(self, gateway_id: str, address: str) -> None:
        """Mark the /30 of a tunnel address given by a request as used on this gateway."""
        net = ipaddress.IPv4Interface(address).network
        with self._lock:
            self._used.setdefault(gateway_id, set()).add(int(net.network_address))

    def allocate_tunnel(self, gateway_id: str) -> tuple[str, str]:
        """The next free /30 of the gateway: (local, peer) as its first and second host."""
        with self._lock:
            used = self._used.setdefault(gateway_id, set())
            start = int(self._within.network_address)
            count = self._within.num_addresses // self._size
            for step in range(count):
                offset = (self._next.get(gateway_id, 0) + step) % count
                base = start + offset * self._size
                if base in used or any(ipaddress.IPv4Address(base) in n for n in self._excluded):
                    continue
                used.add(base)
                self._next[gateway_id] = offset + 1
                local, peer = ipaddress.IPv4Address(base + 1), ipaddress.IPv4Address(base + 2)
                return f"{local}/{self._prefix}", f"{peer}/{self._prefix}"
        raise TunnelPoolExhausted(f"no free /{self._prefix} left in {self._within} on gateway {gateway_id}")
