"""``openapi.codegen.json``: the bundle as client generators read it best, published beside ``openapi.json``.

The bundle says two kinds of things that generators turn into wrong types (measured with
openapi-python-client 0.29.1 and datamodel-code-generator 0.89.0):

* **cross-field overlays**: an object lists every field under ``properties`` and then adds untyped
  ``oneOf``/``anyOf``/``allOf`` members that only say which fields go with which ``style`` (``false`` for a
  field a style forbids, ``const`` for the style, ``if``/``then`` for an ID's format). Generators read
  each member as a model of its own: openapi-python-client refuses ``false`` (18 errors) and, with those
  gone, types ``vpn_connection`` as one member, leaving ``vgw_id`` untyped. Here the overlays are dropped:
  one model per object, every field typed. The rules they state stay in the bundle, and the reference
  server and ``make contract`` enforce them.
* **deep references**: ``$ref: '#/components/schemas/CreateResponseVpnConnection/properties/id'`` (the
  show answer reusing the create answer's fields) is legal but unresolved by both generators; it becomes a
  copy of its target.
* **narrowed copies**: ``allOf: [IkePolicy]`` with ``authentication_method: false`` (the update's IKE
  policy) becomes a copy of ``IkePolicy`` without that field.
* **timestamps**: ``format: date-time`` becomes a ``datetime`` that writes ``.626000`` where the service
  wrote ``.626``; the answer no longer round-trips. Here timestamps are strings with the bundle's exact
  pattern, so a model writes back what it read.

Everything else (types, enums, patterns, lengths, bounds, required, ``additionalProperties: false``) is the
bundle's, unchanged.
"""

from __future__ import annotations

import copy
import json
from typing import Any

CODEGEN = "openapi.codegen.json"
COMBINATORS = ("oneOf", "anyOf", "allOf")
OVERLAY_KEYS = {"title", "description", "properties", "required", "anyOf", "oneOf", "allOf", "if", "then", "else", "not"}


def codegen_document(bundle: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``bundle`` without cross-field overlays and with timestamps as patterned strings."""
    document = _inline_deep_refs(copy.deepcopy(bundle), bundle)
    schemas = document.get("components", {}).get("schemas", {})
    overlays = {f"#/components/schemas/{name}" for name, schema in schemas.items() if is_overlay(schema)}
    _simplify(document, overlays, schemas)
    for ref in overlays:
        if f'"{ref}"' not in json.dumps(document):
            del schemas[ref.rsplit("/", 1)[1]]
    return document


def _inline_deep_refs(node: Any, root: dict[str, Any]) -> Any:
    """A ``$ref`` into another schema (``#/components/schemas/X/properties/y``) becomes a copy of its target."""
    if isinstance(node, list):
        return [_inline_deep_refs(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref.count("/") > 3:
        target: Any = root
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            target = target[int(token)] if isinstance(target, list) else target[token]
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return _inline_deep_refs({**copy.deepcopy(target), **siblings}, root)
    return {key: _inline_deep_refs(value, root) for key, value in node.items()}


def _inline_narrowed(node: dict[str, Any], schemas: dict[str, Any]) -> None:
    """``allOf: [$ref X]`` with ``properties: {f: false}`` (X without f) becomes a copy of X without f."""
    members, properties = node.get("allOf"), node.get("properties")
    if not (isinstance(members, list) and len(members) == 1 and isinstance(members[0], dict) and "$ref" in members[0]
            and isinstance(properties, dict) and properties and all(value is False for value in properties.values())):
        return
    target = copy.deepcopy(schemas[members[0]["$ref"].rsplit("/", 1)[1]])
    for name in properties:
        target.get("properties", {}).pop(name, None)
        if name in target.get("required", []):
            target["required"].remove(name)
    del node["allOf"], node["properties"]
    node.update({key: value for key, value in target.items() if key not in node})


def is_overlay(schema: Any) -> bool:
    """An untyped member that only constrains fields its parent object already declares."""
    return isinstance(schema, dict) and "type" not in schema and "$ref" not in schema and set(schema) <= OVERLAY_KEYS


def _simplify(node: Any, overlays: set[str], schemas: dict[str, Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _simplify(item, overlays, schemas)
        return
    if not isinstance(node, dict):
        return
    _inline_narrowed(node, schemas)
    if node.get("type") == "object" and isinstance(node.get("properties"), dict):
        for combinator in COMBINATORS:
            members = node.get(combinator, [None])
            if all(is_overlay(member) or (isinstance(member, dict) and member.get("$ref") in overlays) for member in members):
                del node[combinator]
        for name in [name for name, schema in node["properties"].items() if schema is False]:
            del node["properties"][name]
    if node.get("format") == "date-time" and "pattern" in node:
        del node["format"]
    for value in node.values():
        _simplify(value, overlays, schemas)
