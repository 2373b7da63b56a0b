"""The inventory of the request's constraints, read from the spec.

Each constraint has the name that :mod:`vpnconn.validation` reports when it is broken: ``<field path>.<keyword>``
for schema constraints (``ikepolicy.dpd.timeout.maximum``, ``tags.key.pattern``) and ``x-<id>`` for the spec's
named rules. The tests use it to prove that every constraint has a failing and a passing case; the contract
suite and the fixture generators use it to know what there is to cover.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from vpnconn.errors import SpecError
from vpnconn.json_schema import matches
from vpnconn.spec import Provenance, Spec

BOUND_KEYWORDS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")
KEYWORDS = ("type", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems")


@dataclass(frozen=True)
class Constraint:
    name: str  # the rule name a violation reports
    path: tuple[str, ...]  # field path from the body root; "[]" steps into every array item
    keyword: str
    value: Any  # the keyword's value (the bound, the enum list, the pattern, ...)
    node: Any = field(default=None, compare=False, repr=False)  # the schema object that holds it (None for x- rules)


def rule_path(path: list[Any]) -> str:
    """The field part of a schema rule's name: ``["vpn_connection", "tags", 0, "key"]`` -> ``tags[].key``.

    Array indexes (or the ``"[]"`` marker of the constraint inventory) become ``[]`` on the array's name.
    """
    name = ""
    for part in path:
        if isinstance(part, int) or part == "[]":
            name += "[]"
        else:
            name += f".{part}" if name else str(part)
    if name.startswith("vpn_connection."):
        name = name.removeprefix("vpn_connection.")
    return name or "body"


def style_forbidden(spec: Spec) -> dict[str, set[str]]:
    """Style -> the request fields its ``oneOf`` variant forbids (``false`` subschemas)."""
    return {style: {k for k, v in variant.get("properties", {}).items() if v is False}
            for style, variant in spec.style_variants().items()}


def set_style(conn: dict[str, Any], style: str, spec: Spec) -> dict[str, Any]:
    """Make ``conn`` a connection of ``style``: set it and drop the fields that style's variant forbids."""
    conn["style"] = style
    for name in style_forbidden(spec)[style]:
        conn.pop(name, None)
    return conn


def request_constraints(spec: Spec) -> list[Constraint]:
    found: dict[str, Constraint] = {}
    for c in _walk(spec, spec.schema("CreateVpnConnectionRequestBody"), ()):
        found.setdefault(c.name, c)
    for r in spec.rules:
        found[f"x-{r.id}"] = Constraint(f"x-{r.id}", (), f"x-{r.id}", r.params)
    return sorted(found.values(), key=lambda c: c.name)


def _c(path: tuple[str, ...], keyword: str, value: Any, node: Any = None) -> Constraint:
    return Constraint(f"{rule_path(list(path))}.{keyword}", path, keyword, value, node)


def _walk(spec: Spec, node: Any, path: tuple[str, ...]) -> Iterator[Constraint]:
    node = spec.resolve(node)
    if not isinstance(node, dict):
        return
    for keyword in KEYWORDS:
        if keyword in node and not (keyword == "minLength" and node[keyword] == 0):
            yield _c(path, keyword, node[keyword], node)
    for name in node.get("required", []):
        yield _c(path + (name,), "required", True, node)
    if node.get("additionalProperties") is False:
        yield _c(path, "additionalProperties", sorted(node.get("properties", {})), node)
    for name, sub in node.get("properties", {}).items():
        if sub is not False:
            yield from _walk(spec, sub, path + (name,))
    if "items" in node:
        yield from _walk(spec, node["items"], path + ("[]",))
    for sub in node.get("allOf", []):
        for branch in ("then", "else"):
            if branch in sub:
                yield from _walk(spec, sub[branch], path)
    if "oneOf" in node:
        if path == ("vpn_connection",):
            yield from _style_variants(spec, path)
        else:
            yield _c(path, "oneOf", [spec.resolve(b) for b in node["oneOf"]], node)


def _style_variants(spec: Spec, path: tuple[str, ...]) -> Iterator[Constraint]:
    for style, branch in spec.style_variants().items():
        for name, sub in branch.get("properties", {}).items():
            if sub is False:
                yield _c(path + (name,), f"not-with-{style}", style, branch)
        for alternatives in [branch["anyOf"]] if "anyOf" in branch else []:
            names = [a["required"][0] for a in alternatives]
            yield _c(path + (names[0],), f"required-with-{style}", names, branch)


@dataclass(frozen=True)
class NarrowerReading:
    """A page's narrower reading of a request constraint where the API's current pages disagree (the spec takes the
    widest): a value at ``path`` that breaks ``pattern`` is one that page does not list."""

    constraint: str  # the constraint it narrows, by the name a violation reports (name.pattern)
    path: tuple[str, ...]  # where its values are in a create body (the constraint's own)
    pattern: str
    page: Provenance  # the page that gives it (documented)
    note: str  # what that page says, in a few words


@functools.cache
def narrower_readings(spec: Spec) -> tuple[NarrowerReading, ...]:
    """The create operation's ``narrower_readings`` (its provenance table): where the API's current pages disagree on
    the values a field takes, the reading of each page that lists fewer than the spec takes."""
    paths = {c.name: c.path for c in request_constraints(spec)}
    table = spec.operation["x-vpnconn-provenance"].get("narrower_readings", {})
    unknown = sorted(set(table) - set(paths))
    if unknown:
        raise SpecError(f"{spec.path}: narrower_readings names {unknown[0]!r}, which is no constraint of the request")
    return tuple(NarrowerReading(name, paths[name], r["pattern"], spec.cited(r["documented"]), r["note"])
                 for name, readings in table.items() for r in readings)


def outside_reading(reading: NarrowerReading, body: Any) -> bool:
    """Does the create ``body`` hold a value that a page's narrower ``reading`` does not list (a name with CJK
    ideographs, to the English pages)?"""
    return any(isinstance(value, str) and not matches(reading.pattern, value) for value in values_at(body, reading.path))


def readings_outside(spec: Spec, body: Any) -> list[NarrowerReading]:
    """The narrower readings of ``spec`` that the create ``body`` holds a value outside of (none: every page lists
    each value it holds)."""
    return [reading for reading in narrower_readings(spec) if outside_reading(reading, body)]


def values_at(instance: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """Every value found at ``path`` in ``instance``, looking into every item of arrays on the way."""
    if not path:
        yield instance
        return
    if path[0] == "[]":
        if isinstance(instance, list):
            for item in instance:
                yield from values_at(item, path[1:])
    elif isinstance(instance, dict) and path[0] in instance:
        yield from values_at(instance[path[0]], path[1:])


def strings_in(instance: Any, keys: bool = True) -> Iterator[str]:
    """Every string in a JSON value, at any depth: its strings, and with ``keys`` its members' names."""
    if isinstance(instance, str):
        yield instance
    elif isinstance(instance, dict):
        for key, value in instance.items():
            if keys:
                yield str(key)
            yield from strings_in(value, keys)
    elif isinstance(instance, list):
        for item in instance:
            yield from strings_in(item, keys)
