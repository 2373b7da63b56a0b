"""An attribute a request schema does not list, read as a server that ignores it reads the body.

The error codes page gives ``VPN.0013``, "unsupported attribute", for a body attribute the service does not support;
no page says that every attribute the request tables leave out is refused, and the Terraform provider still sends
``ikepolicy.pfs``, which no table lists. A lenient decoder ignores such an attribute: Go's ``encoding/json`` and
pydantic do by default, Jackson as Spring Boot sets it up. The reference server refuses it (``VPN.0013``); a server
that ignores it makes the other choice (each request schema's ``additionalProperties: false`` is inferred in the
spec's provenance), and reads the body as :func:`listed_only` gives it: what it answers is judged against that.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from vpnconn.spec import Spec


@dataclass
class _Shape:
    """What a schema node lists: its members (None: any member may come) and the shape of each, of its items."""

    names: frozenset[str] | None = None
    members: dict[str, _Shape] = field(default_factory=dict)
    items: _Shape | None = None


def listed_only(spec: Spec, schema_name: str, value: Any) -> Any:
    """``value`` without the members that the component ``schema_name`` (at every depth) does not let come, where it
    lists its members (``additionalProperties: false``). A ``value`` with nothing to leave out is returned as it is,
    not copied (the caller must not change what it gets)."""
    shape = _shape_of(spec, schema_name)
    return _without(value, shape) if _has_unlisted(value, shape) else value


@functools.cache
def _shape_of(spec: Spec, schema_name: str) -> _Shape:
    return _shape(spec, spec.schema(schema_name), {})


def _shape(spec: Spec, node: Any, seen: dict[int, _Shape]) -> _Shape:
    node = spec.resolve(node)
    if not isinstance(node, dict):
        return _Shape()
    if id(node) in seen:
        return seen[id(node)]
    shape = seen[id(node)] = _Shape()
    parts = [node, *_branches(spec, node)]
    if any(part.get("additionalProperties") is False for part in parts):
        shape.names = frozenset(name for part in parts for name in part.get("properties", {}))
    for part in parts:
        for name, sub in part.get("properties", {}).items():
            if sub is not False and name not in shape.members:
                shape.members[name] = _shape(spec, sub, seen)
        if "items" in part and shape.items is None:
            shape.items = _shape(spec, part["items"], seen)
    return shape


def _branches(spec: Spec, node: dict[str, Any]) -> list[dict[str, Any]]:
    """The subschemas of ``node`` that may list more of its members (``allOf``, ``anyOf``, ``oneOf``, ``then``, ``else``),
    at any depth."""
    found, todo = [], [node]
    while todo:
        part = todo.pop()
        for keyword in ("allOf", "anyOf", "oneOf"):
            todo += [b for b in (spec.resolve(b) for b in part.get(keyword, [])) if isinstance(b, dict)]
        todo += [b for b in (spec.resolve(part.get(k)) for k in ("then", "else")) if isinstance(b, dict)]
        if part is not node:
            found.append(part)
    return found


def _has_unlisted(value: Any, shape: _Shape) -> bool:
    if isinstance(value, dict):
        if shape.names is not None and not shape.names.issuperset(value):
            return True
        return any(_has_unlisted(item, shape.members[name]) for name, item in value.items()
                   if name in shape.members and isinstance(item, (dict, list)))
    if isinstance(value, list) and shape.items is not None:
        return any(_has_unlisted(item, shape.items) for item in value if isinstance(item, (dict, list)))
    return False


def _without(value: Any, shape: _Shape) -> Any:
    if isinstance(value, dict):
        return {name: _without(item, shape.members[name]) if name in shape.members else item
                for name, item in value.items() if shape.names is None or name in shape.names}
    if isinstance(value, list) and shape.items is not None:
        return [_without(item, shape.items) for item in value]
    return value
