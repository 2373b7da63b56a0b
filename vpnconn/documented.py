"""The spec with its inferred constraints taken out: what the documentation alone requires.

Two tools need it. A server that makes the other choice wherever the documentation is silent validates with
it (``reference_server.variants``), and the contract run uses it to tell whether an answer that breaks the
response schema breaks anything documented (a violation) or only an inference (a divergence). Constraints
are named as in :mod:`vpnconn.constraints`; their provenance is read from the spec (``x-vpnconn-provenance``
and each rule's ``provenance``).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from vpnconn.constraints import request_constraints
from vpnconn.spec import Spec, _rules_of


def _relax(node: dict[str, Any], keyword: str, name: str) -> None:
    if keyword == "required":
        node["required"] = [f for f in node["required"] if f != name]
    elif keyword.startswith("not-with-"):
        node["properties"].pop(name, None)
    else:
        node.pop(keyword, None)


@functools.cache
def documented_only(spec: Spec) -> Spec:
    """A copy of ``spec`` without the constraints (schema keywords and named rules) whose provenance is inferred."""
    document = copy.deepcopy(spec.document)
    operation = document["paths"][spec.create.path][spec.create.method.lower()]
    operation["x-vpnconn-rules"] = [r for r in operation.get("x-vpnconn-rules", []) if "documented" in r["provenance"]]
    relaxed = Spec(path=spec.path, document=document, sha256=f"{spec.sha256}+documented-only", rules=_rules_of(document))
    for constraint in request_constraints(relaxed):
        if constraint.node is None or constraint.name.startswith("x-"):
            continue
        if not spec.provenance_of(constraint.name).documented:
            _relax(constraint.node, constraint.keyword, constraint.path[-1])
    return relaxed
