"""The shape of the spec's own extensions (``x-vpnconn-*``), checked when the spec loads.

OpenAPI validators ignore ``x-`` keys, so a mistake there (a rule without ``scope``, a provenance naming no
source) would otherwise surface later as a ``KeyError`` deep in a tool. :func:`check_extensions` turns it
into a :class:`~vpnconn.errors.SpecError` that names the place.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from vpnconn.errors import SpecError
from vpnconn.json_schema import SpecValidator

_PROVENANCE: dict[str, Any] = {
    "oneOf": [
        {"type": "object", "required": ["documented"], "additionalProperties": False,
         "properties": {"documented": {"type": "string", "minLength": 1}, "note": {"type": "string"}}},
        {"type": "object", "required": ["inferred"], "additionalProperties": False,
         "properties": {"inferred": {"type": "string", "minLength": 10}}},
    ]
}
_SPLIT_PROVENANCE = {  # an error kind whose status and code have different sources
    "type": "object", "required": ["status", "error_code"], "additionalProperties": False,
    "properties": {"status": _PROVENANCE, "error_code": _PROVENANCE},
}
_ERROR = {
    "type": "object", "required": ["status", "error_code", "message", "provenance"],
    "properties": {"status": {"type": "integer", "minimum": 400, "maximum": 599},
                   "error_code": {"type": "string", "pattern": r"^[A-Z]+\.[0-9]{4}$"},
                   "message": {"type": "string", "pattern": r"\{detail\}"},
                   "provenance": {"oneOf": [_PROVENANCE, _SPLIT_PROVENANCE]},
                   # the target is busy, not the request wrong: any answer with this status, or with this code
                   "transient": {"enum": ["status", "code"]},
                   # a refusal that comes from the account's configuration or resources, not from the request
                   "state": {"enum": ["account", "gateway"]},
                   # the error codes page names the failure itself: any refusal of it answers so (see the spec)
                   "whenever_refused": {"const": True},
                   # the component schemas a failure of which the error codes page also gives this kind's code for
                   "also_for": {"type": "array", "minItems": 1, "items": {"type": "string"}}},
}
_INLINE_RULE_ERROR = {**_ERROR, "required": ["status", "error_code", "message"]}

OPERATION_EXTENSIONS: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"enum": ["x-vpnconn-rules", "x-vpnconn-provenance", "x-vpnconn-server-defaults"]},
    "properties": {
        "x-vpnconn-rules": {
            "type": "array",
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "scope", "fields", "description", "error", "provenance"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                    "scope": {"enum": ["body", "world"]},
                    "fields": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^/"}},
                    "description": {"type": "string", "minLength": 10},
                    "params": {"type": "object"},
                    "error": {"oneOf": [{"type": "string"}, _INLINE_RULE_ERROR]},
                    "provenance": _PROVENANCE,
                },
            },
        },
        "x-vpnconn-provenance": {
            "type": "object", "additionalProperties": False, "required": ["default"],
            "properties": {
                "default": _PROVENANCE,
                "constraints": {"type": "object", "additionalProperties": _PROVENANCE},
                "checks": {"type": "object", "additionalProperties": _PROVENANCE},
                # a narrower reading of a constraint that another page documents: its pattern, its page, what it says
                "narrower_readings": {"type": "object", "additionalProperties": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False, "required": ["pattern", "documented", "note"],
                    "properties": {"pattern": {"type": "string"}, "documented": {"type": "string"},
                                   "note": {"type": "string", "minLength": 10}}}}},
                # a narrower reading of a query parameter that another page documents: the schema keywords it reads
                # otherwise, its page, what it says
                "query_readings": {"type": "object", "additionalProperties": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False, "required": ["schema", "documented", "note"],
                    "properties": {"schema": {"type": "object", "minProperties": 1,
                                              "propertyNames": {"enum": ["minimum", "maximum", "default"]},
                                              "additionalProperties": {"type": "integer"}},
                                   "documented": {"type": "string"}, "note": {"type": "string", "minLength": 10}}}}},
            },
        },
        "x-vpnconn-server-defaults": {
            "type": "array",
            "items": {"type": "object", "required": ["id", "field", "description"],
                      "properties": {"id": {"type": "string"}, "field": {"type": "string", "pattern": "^/"},
                                     # false: the answer's value is the server's own, never an echo of the request's
                                     "echoed": {"type": "boolean"},
                                     # what the documentation says of a value the server fills in, where `pattern` is
                                     # what the reference server writes and the spec infers
                                     "pattern": {"type": "string"}, "documented_pattern": {"type": "string"},
                                     # fields each answer may carry or leave out, whatever another answer did
                                     "at_will": {"type": "array", "minItems": 1,
                                                 "items": {"type": "string", "pattern": "^/vpn_connection/[a-z0-9_]+$"}},
                                     # values a gateway of some kind may answer in place of a field's documented default
                                     # (a GM gateway's national algorithms), pointer -> value
                                     "gm_values": {"type": "object", "minProperties": 1,
                                                   "propertyNames": {"pattern": "^/vpn_connection/[a-z]+/[a-z_]+$"},
                                                   "additionalProperties": {"type": "string"}}}},
        },
    },
}
ROOT_EXTENSIONS: dict[str, Any] = {
    "type": "object",
    "required": ["x-vpnconn-sources", "x-vpnconn-errors"],
    "properties": {
        "x-vpnconn-errors": {
            "type": "object",
            "properties": {"description": {"type": "string"}},
            "additionalProperties": _ERROR,
        },
        "x-vpnconn-quotas": {
            "type": "object",
            "additionalProperties": {"type": "object", "required": ["value", "per", "description", "error", "provenance"],
                                     "additionalProperties": False,
                                     "properties": {"value": {"type": "integer", "minimum": 1},
                                                    "per": {"type": "array", "minItems": 1, "uniqueItems": True,
                                                            "items": {"type": "string"}},
                                                    "description": {"type": "string", "minLength": 10},
                                                    "error": {"type": "string"},
                                                    "provenance": _PROVENANCE}},
        },
        "x-vpnconn-sources": {
            "type": "object", "minProperties": 1,
            "additionalProperties": {"type": "object", "required": ["title", "date"], "additionalProperties": False,
                                     "properties": {"title": {"type": "string"}, "date": {"type": "string"}}},
        },
    },
}


def _first_error(schema: dict[str, Any], instance: Any, where: str) -> str | None:
    error = jsonschema.exceptions.best_match(SpecValidator(schema).iter_errors(instance))
    if error is None:
        return None
    place = "/".join(str(p) for p in error.absolute_path)
    return f"{where}/{place}: {error.message[:200]}" if place else f"{where}: {error.message[:200]}"


def check_extensions(document: dict[str, Any], path: str) -> None:
    """Raise :class:`SpecError` naming the first place where an ``x-vpnconn-*`` extension is malformed."""
    problem = _first_error(ROOT_EXTENSIONS, {k: v for k, v in document.items() if k.startswith("x-")}, "(root)")
    for route, item in (document.get("paths") or {}).items():
        for method, operation in (item or {}).items():
            if problem is None and isinstance(operation, dict) and method in ("get", "put", "post", "delete", "patch"):
                ours = {k: v for k, v in operation.items() if k.startswith("x-vpnconn-")}
                problem = _first_error(OPERATION_EXTENSIONS, ours, f"paths/{route}/{method}")
    if problem:
        raise SpecError(f"{path}: malformed extension at {problem}")
    schemas = (document.get("components") or {}).get("schemas") or {}
    for kind, error in (document.get("x-vpnconn-errors") or {}).items():
        unknown = [name for name in (error.get("also_for") or []) if name not in schemas] if isinstance(error, dict) else []
        if unknown:
            raise SpecError(f"{path}: x-vpnconn-errors/{kind}/also_for names {unknown[0]!r}, which is no component schema")
    sources = set(document["x-vpnconn-sources"])
    for place, provenance in _provenances(document):
        cited = provenance.get("documented")
        if cited is not None and cited not in sources:
            raise SpecError(f"{path}: {place} cites the source {cited!r}, which x-vpnconn-sources does not list "
                            f"(known: {', '.join(sorted(sources))})")


def _provenances(document: dict[str, Any]):
    """(place, provenance) for every provenance in the document and its operations."""
    for name, quota in (document.get("x-vpnconn-quotas") or {}).items():
        yield f"x-vpnconn-quotas/{name}", quota["provenance"]
    for kind, error in (document.get("x-vpnconn-errors") or {}).items():
        if isinstance(error, dict):
            prov = error["provenance"]
            yield from ((f"x-vpnconn-errors/{kind}/{k}", v) for k, v in prov.items()
                        if isinstance(v, dict)) if "status" in prov else [(f"x-vpnconn-errors/{kind}", prov)]
    for route, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            where = f"paths/{route}/{method}"
            for rule in operation.get("x-vpnconn-rules") or []:
                yield f"{where}/x-vpnconn-rules/{rule['id']}", rule["provenance"]
            table = operation.get("x-vpnconn-provenance") or {}
            if "default" in table:
                yield f"{where}/x-vpnconn-provenance/default", table["default"]
            for group in ("constraints", "checks"):
                for name, prov in (table.get(group) or {}).items():
                    yield f"{where}/x-vpnconn-provenance/{group}/{name}", prov
            for group in ("narrower_readings", "query_readings"):
                for name, readings in (table.get(group) or {}).items():
                    yield from ((f"{where}/x-vpnconn-provenance/{group}/{name}/{i}", {"documented": r["documented"]})
                                for i, r in enumerate(readings))
