"""Fast IPv4 parsing for values the request schema has already validated (dotted quads, /prefix).

The rules run on every request; ``ipaddress`` objects cost microseconds each, integers cost nanoseconds.
Only call these after the schema check: they do not validate.
"""

from __future__ import annotations


def address(text: str) -> int:
    a, b, c, d = text.split(".")
    return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)


def cidr(text: str) -> tuple[int, int]:
    """``"10.0.1.0/24"`` -> (address as int, 24)."""
    addr, _, prefix = text.partition("/")
    return address(addr), int(prefix)


def mask(prefix: int) -> int:
    return (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF if prefix else 0


def network(addr: int, prefix: int) -> int:
    return addr & mask(prefix)


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Do two (address, prefix) networks share an address?"""
    shorter = min(a[1], b[1])
    return network(a[0], shorter) == network(b[0], shorter)


def within(addr: int, net: tuple[int, int]) -> bool:
    """Is the address ``addr`` inside the (network address, prefix) ``net``?"""
    return network(addr, net[1]) == net[0]


def inside(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    """Does the (address, prefix) network ``inner`` lie within ``outer`` (equal to it included), host bits aside?"""
    return inner[1] >= outer[1] and network(inner[0], outer[1]) == network(outer[0], outer[1])


def text(addr: int) -> str:
    return f"{addr >> 24}.{(addr >> 16) & 255}.{(addr >> 8) & 255}.{addr & 255}"
