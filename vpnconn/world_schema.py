"""The JSON Schema of a world file, and its validation with messages that name the place."""

from __future__ import annotations

from typing import Any

import jsonschema

from vpnconn.json_schema import SpecValidator
from vpnconn.world import ADDRESS_ROLES, ATTACHMENT_TYPES, IP_VERSIONS

_ID = {"type": "string", "pattern": "^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}$"}
_IPV4 = {"type": "string", "format": "ipv4"}
_ROLE = {"enum": list(ADDRESS_ROLES)}
_IPV4_CIDR = {"$ref": "#/$defs/ipv4_cidr"}  # the spec's Ipv4Cidr, put in as the file is validated

WORLD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "gateways": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "flavor": {"type": "string"},
                    "network_type": {"enum": ["public", "private"]},
                    "attachment_type": {"enum": list(ATTACHMENT_TYPES)},
                    "ha_mode": {"enum": ["active-active", "active-standby"]},
                    "ip_version": {"enum": list(IP_VERSIONS)},
                    "enterprise_project_id": {"type": "string", "minLength": 1},
                    "eips": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "address"],
                            "additionalProperties": False,
                            "properties": {"id": _ID, "address": _IPV4, "role": _ROLE},
                        },
                    },
                    "local_subnets": {"type": "array", "maxItems": 50, "items": _IPV4_CIDR},
                    "private_ips": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["address"],
                            "additionalProperties": False,
                            "properties": {"address": _IPV4, "role": _ROLE},
                        },
                    },
                },
            },
        },
        "customer_gateways": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "ip"],
                "additionalProperties": False,
                "properties": {"id": _ID, "ip": _IPV4},
            },
        },
    },
}


def validate_world_document(document: Any) -> list[str]:
    from vpnconn.spec import load_spec

    cidr = {"type": "string", "pattern": load_spec().schema("Ipv4Cidr")["pattern"]}  # (what an IPv4 network is: the spec says)
    validator = SpecValidator({**WORLD_SCHEMA, "$defs": {"ipv4_cidr": cidr}}, format_checker=jsonschema.FormatChecker())
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"at {where}: {error.message}")
    return problems
