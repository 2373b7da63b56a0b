"""For each named rule of the spec, a function that makes a valid body break exactly that rule.

These drive the rules phase: a schema-valid body that breaks an ``x-vpnconn-rules`` entry must be refused
with the rule's documented error. Schemathesis cannot make such cases (to it they are valid data). World
rules are included where the target's configured gateway decides them: the run takes VGW_ID for a standard
gateway (not GM, not ER-attached, IPv4, active-active, without local subnets), as the embedded server's open world
has it, unless the user tells it otherwise (vpnconn.world.told_world); each breach is then judged in the world so
told, and a world breaker breaks a rule where only a told fact makes a breach (a psk on a GM gateway).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from typing import Any

from vpnconn import load_spec
from vpnconn.constraints import set_style
from vpnconn.repair import FALLBACK_PSK, default_policy_rules
from vpnconn.rules import ha_role_for
from vpnconn.world import World

Conn = dict[str, Any]
BREAKERS: dict[str, Callable[[Conn, random.Random], None]] = {}
# Rules whose breach needs a fact of the run's world (the gateway's local subnets, LOCAL_SUBNETS; which address of an
# active-standby gateway VGW_IP is, VGW_IP_ROLE; a GM or an IPv6 gateway, VGW_FLAVOR, VGW_IP_VERSION): each breaks its
# rule where the world holds that fact and says whether it could (else the rule is one of NOT_BROKEN's, or its breach
# in the open world is BREAKERS').
WORLD_BREAKERS: dict[str, Callable[[Conn, random.Random, World], bool]] = {}

# Rules whose breach depends on gateway facts the run cannot know; no breaker, named in the coverage report.
NOT_BROKEN = {
    "gateway-exists": "needs a vgw_id the target does not have",
    "customer-gateway-exists": "needs a cgw_id the target does not have",
    "vgw-ip-belongs-to-gateway": "needs an address the gateway does not own",
    "ha-role-matches-gateway-ip": "needs an active-standby gateway (VGW_IP_ROLE)",
    "peer-subnets-outside-local-subnets": "needs the gateway's local subnets (LOCAL_SUBNETS)",
}


def _params(rule_id: str) -> dict[str, Any]:
    """A rule's parameters, from the spec (the ranges and sizes are never written here)."""
    return load_spec().rule(rule_id).params


def _inside(cidr: str, rng: random.Random, prefix: int) -> ipaddress.IPv4Network:
    """A random /prefix network inside ``cidr``."""
    net, step = ipaddress.IPv4Network(cidr), 2 ** (32 - prefix)
    return ipaddress.IPv4Network((int(net.network_address) + rng.randrange(net.num_addresses // step) * step, prefix))


def breaker(rule_id: str, registry: dict[str, Any] = BREAKERS) -> Callable:
    def register(fn: Callable) -> Callable:
        registry[rule_id] = fn
        return fn

    return register


def world_breaker(rule_id: str) -> Callable:
    return breaker(rule_id, WORLD_BREAKERS)


def _restyle(conn: Conn, style: str) -> None:
    set_style(conn, style, load_spec())


def _pair(conn: Conn, local: str, peer: str | None) -> None:
    if conn.get("style") == "policy":  # tunnel addresses need a routed style
        _restyle(conn, "static")
    conn["tunnel_local_address"] = local
    if peer is None:
        conn.pop("tunnel_peer_address", None)
    else:
        conn["tunnel_peer_address"] = peer


def _block(rng: random.Random) -> str:
    """The network address of a random tunnel /30 that keeps the tunnel-range rule."""
    tunnel, prefix = _params("tunnel-address-not-reserved"), _params("tunnel-addresses-same-30")["prefix"]
    excluded = [ipaddress.IPv4Network(n) for n in tunnel["excluded"]]
    while True:
        net = _inside(tunnel["within"], rng, prefix)
        if not any(net.overlaps(bad) for bad in excluded):
            return str(net.network_address)


def _plus(block: str, n: int) -> str:
    head, last = block.rsplit(".", 1)
    return f"{head}.{int(last) + n}/30"


@breaker("tunnel-addresses-together")
def _together(conn: Conn, rng: random.Random) -> None:
    block = _block(rng)
    _pair(conn, _plus(block, 1), None)


@breaker("tunnel-address-usable-host")
def _usable(conn: Conn, rng: random.Random) -> None:
    block = _block(rng)
    _pair(conn, _plus(block, rng.choice([0, 3])), _plus(block, rng.choice([1, 2])))


@breaker("tunnel-address-not-reserved")
def _reserved_tunnel(conn: Conn, rng: random.Random) -> None:
    prefix = _params("tunnel-addresses-same-30")["prefix"]
    block = str(_inside(rng.choice(_params("tunnel-address-not-reserved")["excluded"]), rng, prefix).network_address)
    _pair(conn, _plus(block, 1), _plus(block, 2))


@breaker("tunnel-addresses-same-30")
def _same30(conn: Conn, rng: random.Random) -> None:
    block = _block(rng)
    head, last = block.rsplit(".", 1)
    other = f"{head}.{(int(last) + 4) % 256}"
    _pair(conn, _plus(block, 1), _plus(other, 2))


@breaker("psk-character-classes")
def _psk(conn: Conn, rng: random.Random) -> None:
    alphabet = rng.choice(["abcdefghjkmnpqrstuvwxyz", "ABCDEFGHJKMNPQRSTUVWXYZ", "0123456789", "~!@#$%^()-_+="])
    second = rng.choice(["", "0123456789"]) if alphabet[0] != "0" else "abcdef"
    conn["psk"] = "".join(rng.choice(alphabet) for _ in range(rng.randrange(6, 20))) + "".join(
        rng.choice(second) for _ in range(2 if second else 0)) + alphabet[:2]


def _reserved_subnet(rule_id: str) -> Callable[[Conn, random.Random], None]:
    """A breaker of ``rule_id``: a subnet inside one of the ranges it reserves."""
    def breaks(conn: Conn, rng: random.Random) -> None:
        bad = str(_inside(rng.choice(_params(rule_id)["reserved"]), rng, rng.choice([16, 24])))
        conn["peer_subnets"] = [s for s in conn["peer_subnets"] if s != bad][:49] + [bad]
    return breaks


for _rule_id in ("peer-subnets-not-reserved", "peer-subnets-not-reserved-in-some-regions"):
    breaker(_rule_id)(_reserved_subnet(_rule_id))


@breaker("networks-not-multicast-reserved-or-loopback")
def _unsupported_class(conn: Conn, rng: random.Random) -> None:
    """A subnet (or, in a policy connection, a rule's destination) inside class D, class E or the loopback range."""
    bad = str(_inside(rng.choice(_params("networks-not-multicast-reserved-or-loopback")["excluded"]), rng, rng.choice([16, 24, 32])))
    rules = conn.get("policy_rules")
    if rules and rng.random() < 0.5:
        rules[0]["destination"] = [d for d in rules[0]["destination"] if d != bad][:49] + [bad]
    else:
        conn["peer_subnets"] = [s for s in conn["peer_subnets"] if s != bad][:49] + [bad]


@breaker("cidr-canonical")
def _host_bits(conn: Conn, rng: random.Random) -> None:
    bad = f"192.168.{rng.randrange(256)}.{rng.randrange(1, 256)}/24"
    conn["peer_subnets"] = [bad] + conn["peer_subnets"][1:]


def _policy(conn: Conn) -> None:
    _restyle(conn, "policy")
    conn.setdefault("policy_rules", default_policy_rules(load_spec()))


@breaker("policy-rule-sources-unique")
def _same_source(conn: Conn, rng: random.Random) -> None:
    _policy(conn)
    rules = conn["policy_rules"][:4]
    rules.append({"source": rules[0]["source"], "destination": [f"172.16.{rng.randrange(256)}.0/24"]})
    conn["policy_rules"] = rules


@breaker("policy-rule-indexes-unique")
def _same_index(conn: Conn, rng: random.Random) -> None:
    _policy(conn)
    index = rng.randrange(51)
    conn["policy_rules"] = [
        {"rule_index": index, "source": "10.1.0.0/24", "destination": ["192.168.1.0/24"]},
        {"rule_index": index, "source": "10.2.0.0/24", "destination": ["192.168.2.0/24"]},
    ]


@breaker("tag-keys-unique")
def _same_tag(conn: Conn, rng: random.Random) -> None:
    key = rng.choice(["env", "owner", "cost center", "环境"])
    conn["tags"] = [{"key": key, "value": "a"}, {"key": key, "value": "b"}]


@breaker("psk-required-unless-gm")
def _no_psk(conn: Conn, rng: random.Random) -> None:
    conn.pop("psk", None)


@breaker("peer-subnets-required-unless-er")
def _no_subnets(conn: Conn, rng: random.Random) -> None:
    conn.pop("peer_subnets", None)


@breaker("policy-rules-match-ip-version")
def _v6_rules_only(conn: Conn, rng: random.Random) -> None:
    _policy(conn)
    conn.pop("policy_rules", None)
    conn["policy_rules_v6"] = [{"source": "2001:db8:1::/64", "destination": [f"2001:db8:{rng.randrange(2, 4096):x}::/64"]}]


@world_breaker("peer-subnets-outside-local-subnets")
def _local_subnet(conn: Conn, rng: random.Random, world: World) -> bool:
    """A customer subnet equal to one of the gateway's local subnets: refused whether a server reads the limit as the FAQ
    does (no customer subnet within one) or as the console does (none equal to one)."""
    gateway = world.gateway(conn.get("vgw_id", ""))
    if gateway is None or not gateway.local_subnets:
        return False
    local = ipaddress.IPv4Network(rng.choice(gateway.local_subnets), strict=False)
    conn["peer_subnets"] = [str(local)] + [s for s in conn.get("peer_subnets", []) if s != str(local)][1:]
    return True


@world_breaker("ha-role-matches-gateway-ip")
def _other_role(conn: Conn, rng: random.Random, world: World) -> bool:
    """The ha_role of the gateway's other address: slave on the active address, master on the standby."""
    gateway = world.gateway(conn.get("vgw_id", ""))
    ip = gateway.ip(conn.get("vgw_ip", "")) if gateway is not None and gateway.ha_mode == "active-standby" else None
    if ip is None:
        return False
    conn["ha_role"] = ha_role_for("standby" if ip.role == "active" else "active")
    return True


@world_breaker("psk-required-unless-gm")
def _psk_on_gm(conn: Conn, rng: random.Random, world: World) -> bool:
    """A psk (one of the spec's classes) on a GM gateway, which authenticates with certificates."""
    gateway = world.gateway(conn.get("vgw_id", ""))
    if gateway is None or not gateway.is_gm:
        return False
    conn["psk"] = FALLBACK_PSK
    return True


@world_breaker("policy-rules-match-ip-version")
def _v4_rules_only(conn: Conn, rng: random.Random, world: World) -> bool:
    """A POLICY connection with IPv4 rules alone on an IPv6 gateway, which needs IPv6 ones."""
    gateway = world.gateway(conn.get("vgw_id", ""))
    if gateway is None or gateway.ip_version != "ipv6":
        return False
    _policy(conn)
    conn.pop("policy_rules_v6", None)
    return True
