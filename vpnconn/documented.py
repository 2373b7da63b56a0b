"""The spec with its inferred constraints taken out: what the documentation alone requires.

Two kinds are taken out: the request's inferred constraints and named rules (their provenance is read from the
spec: ``x-vpnconn-provenance`` and each rule's ``provenance``), and, while the spec infers it
(:data:`UNLISTED_FIELDS`), the closed field list of every answer: each answer schema's
``additionalProperties: false``. What a source says an answer never carries stays refused by name.

Two tools need it. A server that makes the other choice wherever the documentation is silent validates with
it (``reference_server.variants``), and the contract run uses it to tell whether an answer that breaks the
response schema breaks anything documented (a violation) or only an inference (a divergence). Constraints
are named as in :mod:`vpnconn.constraints`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from typing import Any

from vpnconn.constraints import Constraint, request_constraints
from vpnconn.spec import Spec, _rules_of

UNLISTED_FIELDS = "answers_without_unlisted_fields"  # the spec's name for "an answer carries only the fields listed"


def _relax(constraint: Constraint) -> None:
    node, keyword = constraint.node, constraint.keyword
    if keyword == "required":
        node["required"] = [f for f in node["required"] if f != constraint.path[-1]]
    elif keyword.startswith("not-with-"):
        node["properties"].pop(constraint.path[-1], None)
    else:
        node.pop(keyword, None)


def _children(node: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """(container, key) of each subschema of ``node``, so that a caller may replace it."""
    properties = node.get("properties", {})
    yield from ((properties, name) for name in properties)
    for keyword in ("allOf", "anyOf", "oneOf"):
        yield from ((node[keyword], i) for i in range(len(node.get(keyword, []))))
    yield from ((node, k) for k in ("items", "additionalProperties") if isinstance(node.get(k), dict))


def _reachable(spec: Spec, names: list[str]) -> Iterator[dict[str, Any]]:
    """Every schema node reachable from the components ``names`` (each once)."""
    seen: set[int] = set()
    todo = [spec.schema(name) for name in names]
    while todo:
        node = spec.resolve(todo.pop())
        if isinstance(node, dict) and id(node) not in seen:
            seen.add(id(node))
            yield node
            todo += [container[key] for container, key in _children(node)]


def open_answers(spec: Spec) -> Spec:
    """``spec`` with the answers' field lists opened (no ``additionalProperties: false`` in an answer schema)
    when the spec infers them closed; else ``spec`` itself. A schema an answer shares with a request (a policy
    rule) is opened in a copy of its own, so that the request keeps it closed."""
    if spec.check_provenance(UNLISTED_FIELDS).documented:
        return spec
    return _opened(spec)


@functools.cache
def _opened(spec: Spec) -> Spec:
    relaxed = Spec(path=spec.path, document=copy.deepcopy(spec.document), sha256=f"{spec.sha256}+open-answers",
                   rules=spec.rules)
    operations = relaxed.operations
    request_schemas = [o.request_schema for o in operations if o.request_schema]
    requests = {id(node) for node in _reachable(relaxed, request_schemas)}
    todo = [relaxed.schema(name) for o in operations for status in o.node["responses"] if (name := o.response_schema(status))]
    seen: set[int] = set()
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.get("additionalProperties") is False:
            del node["additionalProperties"]
        for container, key in _children(node):
            child = relaxed.resolve(container[key])
            if isinstance(child, dict):
                if id(child) in requests:
                    child = container[key] = copy.deepcopy(child)
                todo.append(child)
    return relaxed


@functools.cache
def also_documented(spec: Spec, names: frozenset[str]) -> Spec:
    """A copy of ``spec`` whose component schemas ``names``, which another page documents in another form as well
    (:attr:`~vpnconn.spec.Spec.answer_forms_also_documented`: a timestamp in whole seconds, a connection of the style
    POLICY-TEMPLATE), take either form: an answer that keeps them only so follows that page (a divergence, not a
    violation)."""
    document = copy.deepcopy(spec.document)
    schemas = document["components"]["schemas"]
    for name in names:
        form, _ = spec.answer_forms_also_documented[name]
        schemas[name] = {"anyOf": [{k: v for k, v in schemas[name].items() if k != "x-vpnconn-also-documented"}, form]}
    return Spec(path=spec.path, document=document, sha256=f"{spec.sha256}+also-documented-{'-'.join(sorted(names))}",
                rules=spec.rules)


@functools.cache
def documented_only(spec: Spec) -> Spec:
    """A copy of ``spec`` without the constraints (schema keywords and named rules) whose provenance is inferred:
    the request's first, so that an answer schema shared with the request loses them too, then the answers'."""
    document = copy.deepcopy(spec.document)
    operation = document["paths"][spec.create.path][spec.create.method.lower()]
    operation["x-vpnconn-rules"] = [r for r in operation.get("x-vpnconn-rules", []) if "documented" in r["provenance"]]
    relaxed = Spec(path=spec.path, document=document, sha256=f"{spec.sha256}+documented-only", rules=_rules_of(document))
    for constraint in request_constraints(relaxed):
        if constraint.node is None or constraint.name.startswith("x-"):
            continue
        if not spec.provenance_of(constraint.name).documented:
            _relax(constraint)
    return open_answers(relaxed)
