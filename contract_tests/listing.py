"""What an answer must hold of what it was sent, and how it may write it otherwise.

A connection's lists are sets to a client: ``peer_subnets``, ``peer_subnets_v6``, ``tags``, the policy rules and
each rule's destinations; and a CIDR is a network, however written. What they hold is documented (the answer echoes
the request; a show answers the connection as created); how they are written is not: no source says that an answer
keeps the request's order, keeps a subnet given twice (the spec only infers ``uniqueItems``: a server may accept and
merge one), groups the rules as they were sent (the API page says of ``rule_index`` that the service creates one
internal rule per destination CIDR, and may renumber), or writes a network as it was sent (the spec only infers rule
``cidr-canonical``: a server may accept ``192.168.1.5/24`` and keep or mask it; RFC 5952 bids a system write an IPv6
address in one lower-case, zero-compressed form). So each comparison of an answer with what was sent or created (the
create's ``response_echoes_request``; the lifecycle's ``show_matches_create`` and ``update_applies_changes``) asks,
through :func:`compare`: does each field hold the same, read as sets (:func:`as_sets`: every list a set, every CIDR
of the rule's fields its network, the policy rules the pairs of a source and one destination)? If not, the check's
own finding. If it does but is written otherwise (a list that holds nothing written empty or left out among them), a
divergence of its own, ``written_as_sent``
(:func:`written_otherwise`), whose provenance the spec gives.

A field the server numbers itself is no echo of the request's, and is never compared: the spec marks it
``echoed: false`` (``x-vpnconn-server-defaults``: a policy rule's ``rule_index``).
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import json
from collections.abc import Iterable
from typing import Any

from contract_tests.records import Finding
from vpnconn import load_spec
from vpnconn.spec import RULE_LISTS

WRITTEN_AS_SENT = "written_as_sent"  # the divergence of a field that holds what was sent, written otherwise


def as_sets(value: Any, name: str = "") -> Any:
    """``value`` (a field named ``name``) with every list read as a set, at every depth, every CIDR of the fields
    rule ``cidr-canonical`` names as its network, and a list of policy rules as the set of its (source, destination)
    pairs, whatever their grouping or ``rule_index``. A list that holds nothing is no list (None), and a member that
    holds nothing is left out: an empty list written or left out, and a field written null, hold the same."""
    if isinstance(value, list) and not value:
        return None
    if name in RULE_LISTS and isinstance(value, list):
        return frozenset((as_sets(rule.get("source"), "source"), as_sets(destination, "destination"))
                         for rule in value if isinstance(rule, dict) for destination in _each(rule.get("destination")))
    if isinstance(value, dict):
        return frozenset((key, read) for key, item in value.items() if (read := as_sets(item, key)) is not None)
    if isinstance(value, list):
        return frozenset(as_sets(item, name) for item in value)
    if isinstance(value, str) and name in _cidr_fields():
        try:
            return ipaddress.ip_network(value, strict=False)
        except ValueError:
            return value
    return value


@functools.cache
def _cidr_fields() -> frozenset[str]:
    """The names of the fields that hold CIDRs: those rule ``cidr-canonical`` names (``peer_subnets``, ``source``, ...)."""
    return frozenset(pointer.rsplit("/", 1)[1] for pointer in load_spec().rule("cidr-canonical").fields)


def _each(destinations: Any) -> Iterable[Any]:
    """A rule's destinations, one by one; a rule without any (none given, or an empty list) holds its source alone."""
    if isinstance(destinations, list):
        return destinations or [None]
    return [destinations]


def compare(sent: dict[str, Any], got: dict[str, Any], names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Of the fields ``names``, those whose value in ``got`` differs from ``sent`` (the fields the server numbers
    itself left out): (those that hold something else, those that hold the same written otherwise), sorted."""
    sent, got = without_server_fields(sent), without_server_fields(got)
    differ: list[str] = []
    otherwise: list[str] = []
    for name in sorted(set(names)):
        if sent.get(name) != got.get(name):
            same = as_sets(sent.get(name), name) == as_sets(got.get(name), name)
            (otherwise if same else differ).append(name)
    return differ, otherwise


def without_server_fields(connection: dict[str, Any]) -> dict[str, Any]:
    """``connection`` without the fields whose value is the server's own (``echoed: false`` in the spec)."""
    paths = _not_echoed()
    if not any(path[0] in connection for path in paths):
        return connection
    stripped = copy.deepcopy(connection)
    for path in paths:
        _drop(stripped, path)
    return stripped


@functools.cache
def _not_echoed() -> tuple[tuple[str, ...], ...]:
    """The spec's ``echoed: false`` pointers, within a connection (``/vpn_connection/`` taken off)."""
    return tuple(tuple(pointer.split("/")[2:]) for pointer in sorted(load_spec().not_echoed))


def _drop(node: Any, path: tuple[str, ...]) -> None:
    head, rest = path[0], path[1:]
    if head == "*" and isinstance(node, list):
        for item in node:
            _drop(item, rest)
    elif isinstance(node, dict) and head in node:
        if rest:
            _drop(node[head], rest)
        else:
            del node[head]


def written_otherwise(names: list[str], sent: dict[str, Any], got: dict[str, Any], sent_as: str = "sent") -> Finding:
    """The divergence of fields ``names`` that hold what was sent (``sent_as``: or created), written otherwise."""
    shown = "; ".join(f"{name}: {sent_as} {short(sent.get(name))}, got {short(got.get(name))}" for name in names[:4])
    return Finding(f"the answer holds what was {sent_as} in {', '.join(names)}, written otherwise (in another order, a "
                   f"duplicate merged, the rules grouped otherwise, a network written in another form, or nothing written "
                   f"as an empty list or left out): {shown}",
                   title="Written otherwise than sent", rule=WRITTEN_AS_SENT,
                   provenance=load_spec().check_provenance(WRITTEN_AS_SENT))


def short(value: Any, limit: int = 120) -> str:
    """``value`` as JSON, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit - 3] + "..."
