"""The facts about gateways that the state-dependent rules need.

A *world* says which VPN gateways and customer gateways exist. The open world (the default) has every
well-formed id exist as a public, non-GM, active-active, IPv4 gateway without ER attachment, that owns
whatever EIP id or private IP a request names. A world file (YAML) declares gateways instead; then unknown
ids do not exist. Addresses the open world has to invent are derived from the ids, so they are stable.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vpnconn.errors import WorldError  # noqa: F401  (re-exported: callers import it from here)

ADDRESS_ROLES = ("active", "standby")  # the roles of an active-standby gateway's addresses
ATTACHMENT_TYPES = ("vpc", "er")  # what a gateway is attached to: a VPC, or an enterprise router
IP_VERSIONS = ("ipv4", "ipv6")  # a gateway's IP version
GM = "GM"  # the flavor of a national-crypto gateway (certificates, no psk)


@dataclass(frozen=True)
class GatewayIp:
    """One address a connection can use: an EIP (by id) or a private access IP."""

    key: str  # the value a request puts in vgw_ip: EIP id or private IPv4
    address: str  # the IPv4 address the gateway uses (local_id default)
    role: str  # "active" or "standby"


@dataclass(frozen=True)
class Gateway:
    id: str
    flavor: str = "Professional1"  # "GM" marks a national-crypto gateway (certificates, no psk)
    network_type: str = "public"  # public: vgw_ip is an EIP id; private: a private IPv4
    attachment_type: str = "vpc"  # "er" when attached to an enterprise router
    ha_mode: str = "active-active"  # or "active-standby"
    ip_version: str = "ipv4"
    enterprise_project_id: str = "0"
    ips: tuple[GatewayIp, ...] = ()
    local_subnets: tuple[str, ...] = ()  # the VPN gateway's local subnets (IPv4 CIDRs): no customer subnet lies within one
    open: bool = False  # an open-world gateway owns every address it is asked about

    @property
    def is_gm(self) -> bool:
        return self.flavor == GM

    def ip(self, vgw_ip: str) -> GatewayIp | None:
        for ip in self.ips:
            if ip.key == vgw_ip:
                return ip
        if self.open:
            return _open_gateway_ip(vgw_ip)
        return None


@dataclass(frozen=True)
class CustomerGateway:
    id: str
    ip: str


@dataclass
class World:
    gateways: dict[str, Gateway] = field(default_factory=dict)
    customer_gateways: dict[str, CustomerGateway] = field(default_factory=dict)
    open: bool = True

    def gateway(self, vgw_id: str) -> Gateway | None:
        if vgw_id in self.gateways:
            return self.gateways[vgw_id]
        return _open_gateway(vgw_id) if self.open else None

    def customer_gateway(self, cgw_id: str) -> CustomerGateway | None:
        if cgw_id in self.customer_gateways:
            return self.customer_gateways[cgw_id]
        return _open_customer_gateway(cgw_id) if self.open else None


@functools.lru_cache(maxsize=4096)
def _open_gateway_ip(vgw_ip: str) -> GatewayIp:
    try:
        ipaddress.IPv4Address(vgw_ip)
        return GatewayIp(key=vgw_ip, address=vgw_ip, role="active")
    except ValueError:
        return GatewayIp(key=vgw_ip, address=derived_address(vgw_ip), role="active")


@functools.lru_cache(maxsize=4096)
def _open_gateway(vgw_id: str) -> Gateway:
    return Gateway(id=vgw_id, open=True)


@functools.lru_cache(maxsize=4096)
def _open_customer_gateway(cgw_id: str) -> CustomerGateway:
    return CustomerGateway(id=cgw_id, ip=derived_address(cgw_id))


def derived_address(key: str) -> str:
    """A stable IPv4 address in 198.18.0.0/15 (benchmarking range) for an id the open world must invent."""
    n = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % (2**17 - 2) + 1
    return f"198.{18 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"


OPEN_WORLD = World()


def told_world(told: Any) -> World:
    """The open world, but for what a contract run is told of its gateway ``told.vgw_id`` (``told``: the run's settings,
    or a repairer's resources): its local subnets (``local_subnets``, LOCAL_SUBNETS); that it is active-standby, with
    ``vgw_ip`` its ``vgw_ip_role`` address (VGW_IP_ROLE); its ``vgw_attachment`` (VGW_ATTACHMENT=er: an enterprise
    router), ``vgw_flavor`` (VGW_FLAVOR=GM: certificates, no psk) and ``vgw_ip_version`` (VGW_IP_VERSION=ipv6). The
    open world itself where it is told nothing the open world's gateway does not already have."""
    facts: dict[str, Any] = {"local_subnets": tuple(getattr(told, "local_subnets", ()))}
    role = getattr(told, "vgw_ip_role", None)
    if role:
        address = _open_gateway_ip(told.vgw_ip).address
        facts.update(ha_mode="active-standby", ips=(GatewayIp(key=told.vgw_ip, address=address, role=role),))
    for fact, option in (("attachment_type", "vgw_attachment"), ("flavor", "vgw_flavor"), ("ip_version", "vgw_ip_version")):
        if getattr(told, option, None):
            facts[fact] = getattr(told, option)
    gateway = Gateway(id=told.vgw_id, open=True, **facts)
    return OPEN_WORLD if gateway == _open_gateway(told.vgw_id) else World(gateways={told.vgw_id: gateway})


MAX_WORLD_BYTES = 256 * 1024


class _AliasRefused(yaml.YAMLError):
    pass


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases: a 525-byte "billion laughs" file would otherwise grow without bound."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise _AliasRefused("alias")
        return super().compose_node(parent, index)


def load_world(path: Path | str) -> World:
    """Read a world file. Its layout is documented in docs/world-file.md and validated here."""
    from vpnconn.world_schema import validate_world_document

    try:
        raw = Path(path).read_bytes()[: MAX_WORLD_BYTES + 1]
    except OSError as exc:
        raise WorldError(f"cannot read world file {path}: {exc.strerror}") from None
    if len(raw) > MAX_WORLD_BYTES:
        raise WorldError(f"world file {path} is larger than {MAX_WORLD_BYTES // 1024} KiB; a world lists a few gateways")
    try:
        document = yaml.load(raw.decode("utf-8"), Loader=_NoAliasLoader)  # a safe loader that refuses aliases
    except UnicodeDecodeError as exc:
        raise WorldError(f"world file {path} is not UTF-8 text (byte {exc.start})") from None
    except _AliasRefused:
        raise WorldError(f"world file {path} uses a YAML alias (*name); write each value out (aliases are refused, "
                         f"so that a small file cannot expand without bound)") from None
    except RecursionError:
        raise WorldError(f"world file {path} is nested too deeply") from None
    except yaml.YAMLError as exc:
        raise WorldError(f"world file {path} is not YAML: {str(exc).splitlines()[0][:200]}") from None
    problems = validate_world_document(document)
    if problems:
        raise WorldError(f"world file {path}: " + "; ".join(problems))
    return _world_from(document)


def _world_from(document: dict[str, Any]) -> World:
    gateways = {}
    for g in document.get("gateways", []):
        ips = tuple(
            GatewayIp(key=e["id"], address=e["address"], role=e.get("role", "active")) for e in g.get("eips", [])
        ) + tuple(GatewayIp(key=p["address"], address=p["address"], role=p.get("role", "active")) for p in g.get("private_ips", []))
        gateways[g["id"]] = Gateway(
            id=g["id"],
            flavor=g.get("flavor", "Professional1"),
            network_type=g.get("network_type", "public"),
            attachment_type=g.get("attachment_type", "vpc"),
            ha_mode=g.get("ha_mode", "active-active"),
            ip_version=g.get("ip_version", "ipv4"),
            enterprise_project_id=g.get("enterprise_project_id", "0"),
            ips=ips,
            local_subnets=tuple(g.get("local_subnets", ())),
        )
    customers = {c["id"]: CustomerGateway(id=c["id"], ip=c["ip"]) for c in document.get("customer_gateways", [])}
    return World(gateways=gateways, customer_gateways=customers, open=False)
