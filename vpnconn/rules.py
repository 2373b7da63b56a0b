"""The rules OpenAPI cannot express, one named function each.

Each function implements the entry of the spec's ``x-vpnconn-rules`` with the same id and takes its
parameters from there (never from constants here). A body rule sees the ``vpn_connection`` object; a world
rule also sees the referenced gateways. A rule yields ``(json_pointer, message)`` for each breach.
The test suite checks that the spec's rule ids and this registry are the same set.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Iterator
from typing import Any

from vpnconn import ipv4
from vpnconn.constraints import strings_in
from vpnconn.json_schema import matches
from vpnconn.spec import RULE_LISTS, Spec
from vpnconn.world import World

Breach = tuple[str, str]
RuleFunction = Callable[..., Iterator[Breach]]

RULES: dict[str, RuleFunction] = {}

TUNNEL_FIELDS = ("tunnel_local_address", "tunnel_peer_address")


def rule(rule_id: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register the implementation of the spec rule ``rule_id``."""

    def register(fn: RuleFunction) -> RuleFunction:
        RULES[rule_id] = fn
        return fn

    return register


def _pointer(*parts: object) -> str:
    return "/vpn_connection/" + "/".join(str(p) for p in parts)


@functools.lru_cache(maxsize=64)
def _networks(texts: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """A rule parameter's CIDRs (spec constants, the same on every request), parsed once."""
    return tuple(ipv4.cidr(text) for text in texts)


def _interfaces(conn: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """The tunnel addresses that are given, as integers (their /30 prefix is fixed by the schema)."""
    for name in TUNNEL_FIELDS:
        if isinstance(conn.get(name), str):
            yield name, ipv4.cidr(conn[name])[0]


def _style(conn: dict[str, Any]) -> str:
    from vpnconn.spec import load_spec

    return conn.get("style", load_spec().default_style)


# ---------------------------------------------------------------------------------------- body rules


@rule("tunnel-addresses-together")
def tunnel_addresses_together(conn: dict[str, Any], params: dict[str, Any]) -> Iterator[Breach]:
    given = [name for name in TUNNEL_FIELDS if name in conn]
    if len(given) == 1:
        missing = next(name for name in TUNNEL_FIELDS if name not in given)
        yield _pointer(missing), f"{given[0]} is given without {missing}: give both tunnel addresses or neither"


@rule("tunnel-address-usable-host")
def tunnel_address_usable_host(conn: dict[str, Any], params: dict[str, Any]) -> Iterator[Breach]:
    prefix = params["prefix"]
    for name, addr in _interfaces(conn):
        base = ipv4.network(addr, prefix)
        last = base + 2 ** (32 - prefix) - 1
        if addr in (base, last):
            hosts = ", ".join(ipv4.text(h) for h in range(base + 1, last))
            yield _pointer(name), f"{conn[name]} is not a usable host of {ipv4.text(base)}/{prefix} (use {hosts})"


@rule("tunnel-address-not-reserved")
def tunnel_address_not_reserved(conn: dict[str, Any], params: dict[str, Any]) -> Iterator[Breach]:
    (within,) = _networks((params["within"],))
    excluded = _networks(tuple(params["excluded"]))
    for name, addr in _interfaces(conn):
        if not ipv4.overlaps((addr, 32), within):
            yield _pointer(name), f"{conn[name]} is outside {params['within']}"
        for net, text in zip(excluded, params["excluded"], strict=True):
            if ipv4.overlaps((addr, 32), net):
                yield _pointer(name), f"{conn[name]} lies in the reserved {text}"


@rule("tunnel-addresses-same-30")
def tunnel_addresses_same_30(conn: dict[str, Any], params: dict[str, Any]) -> Iterator[Breach]:
    found = dict(_interfaces(conn))
    if len(found) != 2:
        return
    local, peer = found["tunnel_local_address"], found["tunnel_peer_address"]
    prefix = params["prefix"]
    if local == peer:
        yield _pointer("tunnel_peer_address"), f"tunnel_peer_address equals tunnel_local_address ({ipv4.text(local)})"
    elif ipv4.network(local, prefix) != ipv4.network(peer, prefix):
        yield _pointer("tunnel_peer_address"), (
            f"tunnel_peer_address {conn['tunnel_peer_address']} is not in the /{prefix} of tunnel_local_address "
            f"({ipv4.text(ipv4.network(local, prefix))}/{prefix})"
        )


@rule("psk-character-classes")
def psk_character_classes(conn: dict[str, Any], params: dict[str, Any]) -> Iterator[Breach]:
    psk = conn.get("psk")
    if not isinstance(psk, str):
        return
    used = set(psk)
    present = [name for name, chars in params["classes"].items() if not used.isdisjoint(chars)]
    if len(present) < params["min_classes"]:
        # The psk itself is never put into a message.
        yield _pointer("psk"), (
            f"psk must contain at least {params['min_classes']} of the classes "
            f"{', '.join(params['classes'])}; it has {len(present)} ({', '.join(present) or 'none'})"
        )


@rule("peer-subnets-not-reserved")
@rule("peer-subnets-not-reserved-in-some-regions")
def peer_subnets_not_reserved(conn: dict[str, Any], params: dict[str, Any]) -> Iterator[Breach]:
    reserved = list(zip(_networks(tuple(params["reserved"])), params["reserved"], strict=True))
    for i, cidr in enumerate(conn.get("peer_subnets") or []):
        net = ipv4.cidr(cidr)
        for bad, text in reserved:
            if ipv4.overlaps(net, bad):
                yield _pointer("peer_subnets", i), f"{cidr} overlaps the reserved range {text}"


def reserved_peer_subnets(spec: Spec) -> list[str]:
    """Every range a rule of ``spec`` that :func:`peer_subnets_not_reserved` implements reserves (documented or not):
    what a valid body's subnets keep clear of."""
    return [cidr for r in spec.rules if RULES.get(r.id) is peer_subnets_not_reserved for cidr in r.params["reserved"]]


ADDRESS_CLASSES = "networks-not-multicast-reserved-or-loopback"  # the rule of class D, class E and loopback networks


@rule(ADDRESS_CLASSES)
def networks_not_multicast_reserved_or_loopback(conn: Any, params: dict[str, Any]) -> Iterator[Breach]:
    """(Safe on a body the schema refuses too: the verdicts ask whether such a body breaks it.)"""
    excluded = list(zip(_networks(tuple(params["excluded"])), params["excluded"], strict=True))
    for where, cidr, version in _cidrs(conn):
        net = _ipv4_network(cidr) if version == 4 else None
        held = next((text for bad, text in excluded if ipv4.within(net[0], bad)), None) if net is not None else None
        if held is not None:
            yield _pointer(*where), f"{cidr} is in {held}, which the service does not support"


def unsupported_address_classes(spec: Spec) -> list[str]:
    """The ranges :func:`networks_not_multicast_reserved_or_loopback` keeps a network's address out of (class D, class
    E, loopback): what a valid body's networks keep clear of."""
    return list(spec.rule(ADDRESS_CLASSES).params["excluded"])


def breaks_address_classes(spec: Spec, body: Any) -> bool:
    """Does ``body`` break :func:`networks_not_multicast_reserved_or_loopback`, even where the schema refuses it (the
    rules run only on a schema-valid body, and a server may check this one first)?"""
    conn = body.get("vpn_connection") if isinstance(body, dict) else None
    return any(networks_not_multicast_reserved_or_loopback(conn, spec.rule(ADDRESS_CLASSES).params))


def addresses_in_unsupported_classes(spec: Spec, body: Any) -> list[str]:
    """Every IPv4 address or network anywhere in ``body`` (any field, a well-formed dotted quad with or without a
    prefix) that holds an address of those ranges: what a server that reads the error codes page's VPN.0204 more
    widely than the rule (every address of a request, every network that holds such an address) refuses."""
    excluded = _networks(tuple(unsupported_address_classes(spec)))
    return [text for text in strings_in(body, keys=False)
            if (net := _ipv4_network(text)) is not None and any(ipv4.overlaps(net, bad) for bad in excluded)]


def _ipv4_network(text: Any) -> tuple[int, int] | None:
    """``text`` as an IPv4 (address as written, prefix) where the spec's ``Ipv4Cidr`` or ``Ipv4Address`` takes it, a
    plain address read as a /32; None for anything else."""
    if not isinstance(text, str):
        return None
    if "/" in text:
        return ipv4.cidr(text) if is_ipv4_cidr(text) else None
    return (ipv4.address(text), 32) if matches(_pattern("Ipv4Address"), text) else None


def is_ipv4_cidr(text: Any) -> bool:
    """Is ``text`` an IPv4 network as the spec's ``Ipv4Cidr`` reads one (a user's LOCAL_SUBNETS, a body's subnet)?"""
    return isinstance(text, str) and matches(_pattern("Ipv4Cidr"), text)


@functools.cache
def _pattern(schema_name: str) -> str:
    from vpnconn.spec import load_spec

    return str(load_spec().schema(schema_name)["pattern"])


def _cidrs(conn: Any) -> Iterator[tuple[tuple[Any, ...], Any, int]]:
    """Every CIDR of the body, with the parts of its pointer (joined only for a breach) and the IP version its
    field takes; whatever their type, in a body the schema refuses too."""
    if not isinstance(conn, dict):
        return
    for field_name, version in (("peer_subnets", 4), ("peer_subnets_v6", 6)):
        for i, cidr in enumerate(_list(conn.get(field_name))):
            yield (field_name, i), cidr, version
    for field_name, version in (("policy_rules", 4), ("policy_rules_v6", 6)):
        for i, item in enumerate(_list(conn.get(field_name))):
            if not isinstance(item, dict):
                continue
            if "source" in item:
                yield (field_name, i, "source"), item["source"], version
            for j, cidr in enumerate(_list(item.get("destination"))):
                yield (field_name, i, "destination", j), cidr, version


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@rule("cidr-canonical")
def cidr_canonical(conn: dict[str, Any], params: dict[str, Any]) -> Iterator[Breach]:
    for where, cidr, version in _cidrs(conn):
        if version == 4 and "." in cidr:  # the schema's IPv4 pattern has matched: the fast path is safe
            addr, prefix = ipv4.cidr(cidr)
            if ipv4.network(addr, prefix) != addr:
                yield _pointer(*where), f"{cidr} has host bits set; the network is {ipv4.text(ipv4.network(addr, prefix))}/{prefix}"
            continue
        try:
            iface = ipaddress.ip_interface(cidr)
        except ValueError:
            yield _pointer(*where), f"{cidr} is not an IPv{version} CIDR"
            continue
        if iface.version != version:
            yield _pointer(*where), f"{cidr} is not an IPv{version} CIDR"
        elif iface.ip != iface.network.network_address:
            yield _pointer(*where), f"{cidr} has host bits set; the network is {iface.network}"


@rule("policy-rule-sources-unique")
def policy_rule_sources_unique(conn: dict[str, Any], params: dict[str, Any]) -> Iterator[Breach]:
    for field_name in RULE_LISTS:
        seen = set()
        for i, item in enumerate(conn.get(field_name) or []):
            if "source" not in item:
                continue
            if item["source"] in seen:  # the second and each later rule with a source already used
                yield _pointer(field_name, i, "source"), f"source {item['source']} is used by more than one policy rule"
            seen.add(item["source"])


@rule("policy-rule-indexes-unique")
def policy_rule_indexes_unique(conn: dict[str, Any], params: dict[str, Any]) -> Iterator[Breach]:
    for field_name in RULE_LISTS:
        seen = set()
        for i, item in enumerate(conn.get(field_name) or []):
            if "rule_index" in item:
                if item["rule_index"] in seen:
                    yield _pointer(field_name, i, "rule_index"), f"rule_index {item['rule_index']} is used twice"
                seen.add(item["rule_index"])


@rule("tag-keys-unique")
def tag_keys_unique(conn: dict[str, Any], params: dict[str, Any]) -> Iterator[Breach]:
    seen = set()
    for i, tag in enumerate(conn.get("tags") or []):
        if tag.get("key") in seen:
            yield _pointer("tags", i, "key"), f"tag key {tag['key']!r} is used twice"
        seen.add(tag.get("key"))


# ---------------------------------------------------------------------------------------- world rules


@rule("gateway-exists")
def gateway_exists(conn: dict[str, Any], params: dict[str, Any], world: World) -> Iterator[Breach]:
    if world.gateway(conn["vgw_id"]) is None:
        yield _pointer("vgw_id"), conn["vgw_id"]


@rule("customer-gateway-exists")
def customer_gateway_exists(conn: dict[str, Any], params: dict[str, Any], world: World) -> Iterator[Breach]:
    if world.customer_gateway(conn["cgw_id"]) is None:
        yield _pointer("cgw_id"), conn["cgw_id"]


@rule("vgw-ip-belongs-to-gateway")
def vgw_ip_belongs_to_gateway(conn: dict[str, Any], params: dict[str, Any], world: World) -> Iterator[Breach]:
    gateway = world.gateway(conn["vgw_id"])
    if gateway is None or gateway.ip(conn["vgw_ip"]) is not None:
        return
    kind = "the id of one of its EIPs" if gateway.network_type == "public" else "one of its private IPv4 addresses"
    yield _pointer("vgw_ip"), f"{conn['vgw_ip']} does not belong to gateway {gateway.id}; expected {kind}"


@rule("psk-required-unless-gm")
def psk_required_unless_gm(conn: dict[str, Any], params: dict[str, Any], world: World) -> Iterator[Breach]:
    gateway = world.gateway(conn["vgw_id"])
    if gateway is None:
        return
    if gateway.is_gm and "psk" in conn:
        yield _pointer("psk"), "psk must be left out for a GM gateway (it authenticates with certificates)"
    elif not gateway.is_gm and "psk" not in conn:
        yield _pointer("psk"), "psk is required (the gateway is not a GM gateway)"


@rule("peer-subnets-required-unless-er")
def peer_subnets_required_unless_er(conn: dict[str, Any], params: dict[str, Any], world: World) -> Iterator[Breach]:
    gateway = world.gateway(conn["vgw_id"])
    if gateway is None or "peer_subnets" in conn:
        return
    if not (gateway.attachment_type == "er" and _style(conn) in ("policy", "bgp")):
        yield _pointer("peer_subnets"), (
            "peer_subnets is required (it may be omitted only for an ER-attached gateway with style policy or bgp)"
        )


@rule("policy-rules-match-ip-version")
def policy_rules_match_ip_version(conn: dict[str, Any], params: dict[str, Any], world: World) -> Iterator[Breach]:
    gateway = world.gateway(conn["vgw_id"])
    if gateway is None or _style(conn) != "policy":
        return
    wanted = "policy_rules" if gateway.ip_version == "ipv4" else "policy_rules_v6"
    if wanted not in conn:
        yield _pointer(wanted), f"{wanted} is required with style policy on an {gateway.ip_version} gateway"


def ha_role_for(address_role: str) -> str:
    """The ha_role of a connection on an active-standby gateway's ``address_role`` (active or standby) address."""
    return "master" if address_role == "active" else "slave"


@rule("ha-role-matches-gateway-ip")
def ha_role_matches_gateway_ip(conn: dict[str, Any], params: dict[str, Any], world: World) -> Iterator[Breach]:
    gateway = world.gateway(conn["vgw_id"])
    if gateway is None or gateway.ha_mode != "active-standby":
        return
    ip = gateway.ip(conn["vgw_ip"])
    if ip is None:
        return
    expected = ha_role_for(ip.role)
    given = conn.get("ha_role", "master")
    if given != expected:
        yield _pointer("ha_role"), (
            f"ha_role {given} does not match the {ip.role} address {conn['vgw_ip']} of active-standby gateway "
            f"{gateway.id}; use {expected}"
        )


@rule("peer-subnets-outside-local-subnets")
def peer_subnets_outside_local_subnets(conn: dict[str, Any], params: dict[str, Any], world: World) -> Iterator[Breach]:
    gateway = world.gateway(conn["vgw_id"])
    if gateway is None or not gateway.local_subnets:
        return
    local = list(zip(_networks(gateway.local_subnets), gateway.local_subnets, strict=True))
    for i, cidr in enumerate(conn.get("peer_subnets") or []):
        held = next((text for net, text in local if ipv4.inside(ipv4.cidr(cidr), net)), None)
        if held is not None:
            yield _pointer("peer_subnets", i), f"{cidr} lies within the local subnet {held} of gateway {gateway.id}"
