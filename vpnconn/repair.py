"""Make a schema-valid body also keep the spec's named rules, so that a correct server must accept it.

Schemathesis generates from the schema alone; the spec's ``x-vpnconn-rules`` (tunnel pair in one /30, psk
classes, canonical and unreserved CIDRs, unique sources, ...) are invisible to it, and plain generation
breaks them often. :class:`Repairer` changes as little as it can: it keeps every value that already keeps
the rules and rewrites only what breaks one, with parameters read from the spec. It also points the body at
the target's existing resources (VGW_ID, VGW_IP, CGW_ID).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from vpnconn import ipv4
from vpnconn.constraints import set_style
from vpnconn.rules import ha_role_for, reserved_peer_subnets, unsupported_address_classes
from vpnconn.spec import Spec
from vpnconn.world import Gateway, told_world

# The ids the spec's examples use: the reference server's open world has every well-formed id, so these exist
# there; against another target, the user passes its own (VGW_ID, VGW_IP, CGW_ID).
DEFAULT_VGW_ID = "b32d91a4-52c8-4b17-a8df-e907174eb11d"
DEFAULT_VGW_IP = "0c464dad-7f31-4a6e-9c84-c22bb0eb0bde"
DEFAULT_CGW_ID = "5247ae10-93e1-4c6b-b1b2-dd36659a7f5d"
DEFAULT_PROJECT_ID = "0123456789abcdef0123456789abcdef"


# what a policy connection on an IPv6 gateway gets when it has no IPv6 rules (no page gives an example of them)
DEFAULT_POLICY_RULES_V6 = [{"source": "2001:db8:1::/64", "destination": ["2001:db8:2::/64"]}]


def default_policy_rules(spec: Spec) -> list[dict[str, Any]]:
    """The policy rules of the spec's policy example, without the deprecated rule_index: what a policy
    connection gets when a body needs rules and has none."""
    rules = spec.examples("request")["policy"]["vpn_connection"]["policy_rules"]
    return [{k: copy.deepcopy(v) for k, v in rule.items() if k != "rule_index"} for rule in rules]


class HasResources(Protocol):
    """The target's existing resources that valid bodies point at (RunSettings is one)."""

    @property
    def vgw_id(self) -> str: ...
    @property
    def vgw_ip(self) -> str: ...
    @property
    def cgw_id(self) -> str: ...
    @property
    def local_subnets(self) -> tuple[str, ...]: ...
    @property
    def vgw_ip_role(self) -> str | None: ...
    @property
    def vgw_attachment(self) -> str | None: ...
    @property
    def vgw_flavor(self) -> str | None: ...
    @property
    def vgw_ip_version(self) -> str | None: ...


@dataclass(frozen=True)
class Resources:
    vgw_id: str = DEFAULT_VGW_ID
    vgw_ip: str = DEFAULT_VGW_IP
    cgw_id: str = DEFAULT_CGW_ID
    local_subnets: tuple[str, ...] = ()  # the gateway's local subnets, where known: customer subnets keep clear of them
    vgw_ip_role: str | None = None  # on an active-standby gateway, which address vgw_ip is (active, standby): its ha_role
    vgw_attachment: str | None = None  # vpc or er, where known (vpnconn.world.told_world)
    vgw_flavor: str | None = None  # GM: no psk
    vgw_ip_version: str | None = None  # ipv6: a policy connection gives policy_rules_v6

FALLBACK_PSK = "Fake-Psk-1234"
FALLBACK_SUBNET = "192.168.44.0/24"


class Repairer:
    """``unique_tunnels``: every repaired body that gives tunnel addresses gets a /30 no other body of the run
    got (taken from the top of the range downwards, away from the pairs a server assigns from the bottom), so
    that a correct server never refuses it as in use (VPN.0012). ``own_customer_gateways``: every repaired body
    gets a customer gateway id no other body of the run got (derived from the resources' one, in the order of
    repair), so that no two connections share a gateway address and a customer gateway, which hold one
    connection (the spec's quota); only where every well-formed id exists (an open world, as the reference
    server's). One repairer repairs every case of a run, in the order they are sent."""

    def __init__(self, spec: Spec, resources: HasResources = Resources(), unique_tunnels: bool = False,
                 own_customer_gateways: bool = False) -> None:
        self.spec, self.resources = spec, resources
        self.unique_tunnels, self.own_customer_gateways = unique_tunnels, own_customer_gateways
        self._customer_gateways = 0
        self._taken = 0
        self.avoided: set[int] = set()  # /30 bases the target already uses
        self.avoided_customer_gateways: set[str] = set()  # customer gateways the target's connections already use
        self.reserved = [ipv4.cidr(n) for n in reserved_peer_subnets(spec)]
        self.unsupported = [ipv4.cidr(n) for n in unsupported_address_classes(spec)]  # (any network: its address)
        # the gateway as the user told it (the open world's where nothing was told; vpnconn.world.told_world)
        self.gateway: Gateway = told_world(resources).gateway(resources.vgw_id) or Gateway(resources.vgw_id, open=True)
        # its local subnets: a customer subnet keeps clear of each (the rule refuses one within a local subnet; clear of
        # them, it is also clear of a wider reading that refuses any overlap)
        self.local = [ipv4.cidr(n) for n in self.gateway.local_subnets]
        # on an active-standby gateway, the role every connection on the run's address takes (rule ha-role-matches-gateway-ip)
        address = self.gateway.ip(resources.vgw_ip)
        self.ha_role = ha_role_for(address.role) if self.gateway.ha_mode == "active-standby" and address else None
        # a POLICY connection's rules: IPv4 ones on an IPv4 gateway, IPv6 ones on an IPv6 gateway (policy-rules-match-ip-version)
        self.rules_field = "policy_rules_v6" if self.gateway.ip_version == "ipv6" else "policy_rules"
        tunnel = spec.rule("tunnel-address-not-reserved").params
        self.within = ipv4.cidr(tunnel["within"])
        self.excluded = [ipv4.cidr(n) for n in tunnel["excluded"]]
        self.prefix = spec.rule("tunnel-addresses-same-30").params["prefix"]
        psk = spec.rule("psk-character-classes").params
        self.psk_classes: dict[str, str] = psk["classes"]
        self.psk_min_classes: int = psk["min_classes"]
        self.default_style = spec.request_defaults()["style"]

    # ------------------------------------------------------------------------------------------ public

    def repair(self, body: Any) -> Any:
        """Repair ``body`` in place (and return it); anything that is not a create body is left alone."""
        conn = body.get("vpn_connection") if isinstance(body, dict) else None
        if not isinstance(conn, dict):
            return body
        conn.update(vgw_id=self.resources.vgw_id, vgw_ip=self.resources.vgw_ip, cgw_id=self.customer_gateway())
        if self.ha_role is not None:
            conn["ha_role"] = self.ha_role
        style = conn.get("style", self.default_style)
        if self.gateway.is_gm:
            conn.pop("psk", None)  # a GM gateway authenticates with certificates: no psk (rule psk-required-unless-gm)
            for policy, field_name in self.spec.gm_values:  # nor an algorithm one reading of the pages refuses it (gm-algorithms)
                if isinstance(conn.get(policy), dict):
                    conn[policy].pop(field_name, None)
        else:
            self._psk(conn)
        conn["peer_subnets"] = self._v4_networks(conn.get("peer_subnets") or [FALLBACK_SUBNET], avoid_reserved=True)
        if "peer_subnets_v6" in conn:
            conn["peer_subnets_v6"] = self._v6_networks(conn["peer_subnets_v6"])
        for field_name, v6 in (("policy_rules", False), ("policy_rules_v6", True)):
            if field_name in conn:
                conn[field_name] = self._rules(conn[field_name], v6)
        if style == "policy" and self.rules_field not in conn:  # the rules of the gateway's IP version
            conn[self.rules_field] = default_policy_rules(self.spec) if self.rules_field == "policy_rules" else \
                copy.deepcopy(DEFAULT_POLICY_RULES_V6)
        if style != "policy":
            self._tunnel(conn)
        if "tags" in conn:
            first_of_key = {t["key"]: t for t in reversed(conn["tags"])}  # the first tag of each key wins
            conn["tags"] = [t for t in conn["tags"] if first_of_key[t["key"]] is t]
        return body

    def restyle(self, body: dict[str, Any], style: str) -> dict[str, Any]:
        """The same body as a connection of ``style``, repaired (fields the style forbids are dropped)."""
        set_style(body["vpn_connection"], style, self.spec)
        return self.repair(body)

    # ------------------------------------------------------------------------------------------ parts

    def _psk(self, conn: dict[str, Any]) -> None:
        psk = conn.get("psk")
        if not isinstance(psk, str):
            conn["psk"] = FALLBACK_PSK
            return
        present = [name for name, chars in self.psk_classes.items() if any(c in chars for c in psk)]
        missing = [chars[0] for name, chars in self.psk_classes.items() if name not in present]
        need = self.psk_min_classes - len(present)
        if need > 0:
            conn["psk"] = self._with_classes(psk, missing[:need])

    def _with_classes(self, psk: str, additions: list[str]) -> str:
        """``psk`` with each of ``additions`` written over a character whose class occurs more than once (or that
        is in no class), so that no class it has is lost: 'A0000000' becomes 'Aa000000', not 'a0000000'."""
        def class_of(char: str) -> str | None:
            return next((name for name, chars in self.psk_classes.items() if char in chars), None)

        chars = list(psk)
        for addition in additions:
            counts = {name: sum(1 for c in chars if class_of(c) == name) for name in self.psk_classes}
            spare = next((i for i, c in enumerate(chars) if class_of(c) is None or counts[class_of(c) or ""] > 1), None)
            if spare is None:
                return FALLBACK_PSK  # every character is the only one of its class: too short to repair in place
            chars[spare] = addition
        return "".join(chars)

    def _v4_networks(self, cidrs: list[str], avoid_reserved: bool) -> list[str]:
        """``avoid_reserved``: the customer's subnets (clear of the reserved ranges and of the gateway's local subnets)."""
        out: list[str] = []
        for n, cidr in enumerate(cidrs):
            addr, prefix = ipv4.cidr(cidr)
            net = (ipv4.network(addr, prefix), prefix)
            if (avoid_reserved and any(ipv4.overlaps(net, bad) for bad in self.reserved)) or \
                    any(ipv4.within(net[0], bad) for bad in self.unsupported):
                net = (ipv4.address(f"10.{n // 256}.{n % 256}.0"), 24)
            text = f"{ipv4.text(net[0])}/{net[1]}"
            text = text if text not in out else f"10.{200 + n // 256}.{n % 256}.0/24"
            if avoid_reserved and self.local and self._local(text):
                text = self.spare_subnet(out)
            out.append(text)
        return list(dict.fromkeys(out))

    def _local(self, cidr: str) -> bool:
        """Does ``cidr`` share an address with one of the gateway's local subnets?"""
        net = ipv4.cidr(cidr)
        return any(ipv4.overlaps(net, local) for local in self.local)

    def spare_subnet(self, taken: list[str], first: str = "10.0.0.0/24") -> str:
        """A /24 for a customer subnet that is none of ``taken``, holds no reserved, unsupported or local address, and
        so keeps every rule: ``first``, or the first such after it (``first`` itself where none is found: a gateway
        whose local subnets hold every address)."""
        base = ipv4.cidr(first)[0]
        avoided = self.reserved + self.unsupported + self.local
        for _ in range(4096):
            text = f"{ipv4.text(base)}/24"
            blocking = next((bad for bad in avoided if ipv4.overlaps((base, 24), bad)), None)
            if blocking is None and text not in taken:
                return text
            wide = blocking is not None and blocking[1] < 24  # (past the whole of a wider network at once)
            base = (ipv4.network(*blocking) + (1 << (32 - blocking[1])) if wide and blocking else base + 256) & 0xFFFFFFFF
        return first

    @staticmethod
    def _v6_networks(cidrs: list[str]) -> list[str]:
        out = []
        for n, cidr in enumerate(cidrs):
            try:
                net = ipaddress.ip_network(cidr, strict=False)
                text = str(net) if net.version == 6 else None
            except ValueError:
                text = None
            out.append(text if text and text not in out else f"2001:db8:{n + 1:x}::/64")
        return list(dict.fromkeys(out))

    def _rules(self, rules: list[dict[str, Any]], v6: bool) -> list[dict[str, Any]]:
        sources: set[str] = set()
        indexes: set[int] = set()
        for n, rule in enumerate(rules):
            if v6:
                source = self._v6_networks([rule["source"]])[0]
                destination = self._v6_networks(rule["destination"])
            else:
                source = self._v4_networks([rule["source"]], avoid_reserved=False)[0]
                destination = self._v4_networks(rule["destination"], avoid_reserved=False)
            if source in sources:
                source = f"2001:db8:ff{n:02x}::/64" if v6 else f"10.250.{n}.0/24"
            sources.add(source)
            rule["source"], rule["destination"] = source, destination
            if "rule_index" in rule:
                if rule["rule_index"] in indexes:
                    del rule["rule_index"]
                else:
                    indexes.add(rule["rule_index"])
        return rules

    def customer_gateway(self) -> str:
        """The customer gateway id of the next body: the resources', or with ``own_customer_gateways`` a new one."""
        if not self.own_customer_gateways:
            return self.resources.cgw_id
        while True:
            self._customer_gateways += 1
            digest = hashlib.sha256(f"{self.resources.cgw_id}/{self._customer_gateways}".encode()).digest()
            given = str(uuid.UUID(bytes=digest[:16], version=4))
            if given not in self.avoided_customer_gateways:
                return given

    def own_customer_gateway(self, conn: dict[str, Any]) -> None:
        """With ``own_customer_gateways``, give a body that names the resources' customer gateway one of its own (a
        body the run sends as it is: it keeps every rule, and the id is as valid)."""
        if self.own_customer_gateways and conn.get("cgw_id") == self.resources.cgw_id:
            conn["cgw_id"] = self.customer_gateway()

    def own_pair(self, conn: dict[str, Any], customer_gateway: bool = True, tunnels: bool = True) -> None:
        """Give a body built from another the run sent (the rules phase breaks a copy of an accepted body) a customer
        gateway and a tunnel /30 of its own, as :meth:`repair` gives each body where the run hands them out
        (``own_customer_gateways``, ``unique_tunnels``): a server that accepts it then never refuses it for what the
        body it was built from holds, whenever that is deleted. What its breach is in is left as it is
        (``customer_gateway`` or ``tunnels`` False)."""
        if customer_gateway and self.own_customer_gateways:
            conn["cgw_id"] = self.customer_gateway()
        if tunnels and self.unique_tunnels and conn.get("style", self.default_style) != "policy":
            with contextlib.suppress(ValueError):  # addresses that are no IPv4 CIDR: nothing to collide with
                self._tunnel(conn)

    def avoid_customer_gateways(self, ids: list[str]) -> None:
        """Never hand out these customer gateways as ones of its own (the target's existing connections use them: an
        earlier run with the same seed handed out the same, and a gateway address and a customer gateway hold one
        connection)."""
        self.avoided_customer_gateways.update(ids)

    def avoid_tunnels(self, addresses: list[str]) -> None:
        """Never hand out the /30s of these tunnel addresses (the target's existing connections use them)."""
        for address in addresses:
            try:
                self.avoided.add(ipv4.network(ipv4.cidr(address)[0], self.prefix))
            except ValueError:
                continue  # not an IPv4 CIDR: nothing the run could collide with

    def _fresh_tunnel_base(self) -> int:
        size = 2 ** (32 - self.prefix)
        top = self.within[0] + 2 ** (32 - self.within[1]) - size
        while True:
            base = top - size * self._taken
            self._taken += 1
            if base < self.within[0]:
                raise ValueError("no fresh tunnel /30 is left for this run")
            if base not in self.avoided and not any(ipv4.overlaps((base, self.prefix), bad) for bad in self.excluded):
                return base

    def _tunnel(self, conn: dict[str, Any]) -> None:
        given = [conn.get("tunnel_local_address"), conn.get("tunnel_peer_address")]
        if not any(given):
            return
        addr = ipv4.cidr(next(a for a in given if a))[0]
        size = 2 ** (32 - self.prefix)
        base = ipv4.network(addr, self.prefix)
        if self.unique_tunnels:
            base = self._fresh_tunnel_base()
        elif any(ipv4.overlaps((base, self.prefix), bad) for bad in self.excluded) or not ipv4.overlaps((base, 32), self.within):
            base = self.within[0] + size * 1000  # 169.254.15.160/30: inside the range, outside the exclusions
        first, second = base + 1, base + size - 2
        conn["tunnel_local_address"] = f"{ipv4.text(first)}/{self.prefix}"
        conn["tunnel_peer_address"] = f"{ipv4.text(second)}/{self.prefix}"
