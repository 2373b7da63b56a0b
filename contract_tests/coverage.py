"""Spec coverage of a run: which styles, enum values, boundaries, named rules and documented status codes
the cases exercised, and which they did not. Read from the spec's constraint inventory."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from contract_tests.breakers import NOT_BROKEN
from contract_tests.records import CaseRecord
from vpnconn import load_spec
from vpnconn.constraints import BOUND_KEYWORDS, request_constraints, values_at


@dataclass
class SpecCoverage:
    styles: Counter
    enum_values: tuple[int, int, list[str]]  # seen, total, missing ("path=value")
    boundaries: tuple[int, int, list[str]]  # bounds hit by an accepted case, total, missing
    rules: tuple[int, int, list[str]]  # named rules exercised, total, missing (with why)
    statuses: dict[str, tuple[list[str], list[str]]]  # operationId -> (documented seen, documented not seen)
    undocumented: list[str] = field(default_factory=list)  # "<operationId> <status>" answered but not documented


def _measure(value) -> int | float | None:
    if isinstance(value, (str, list)):
        return len(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def spec_coverage(records: list[CaseRecord]) -> SpecCoverage:
    spec = load_spec()
    positives = [r.body for r in records if r.mode == "positive" and r.status == 201 and isinstance(r.body, dict)]
    constraints = request_constraints(spec)
    seen_enum, all_enum = [], []
    hit, bounds, missing_bounds = 0, 0, []
    for c in constraints:
        values = [v for b in positives for v in values_at(b, c.path)]
        if c.keyword == "enum":
            for option in c.value:
                all_enum.append(f"{c.name.removesuffix('.enum')}={option}")
                if option in values:
                    seen_enum.append(option)
                else:
                    seen_enum.append(None)
        elif c.keyword in BOUND_KEYWORDS:
            bounds += 1
            measures = {_measure(v) for v in values}
            if c.value in measures:
                hit += 1
            else:
                missing_bounds.append(f"{c.name}={c.value}")
    missing_enum = [name for name, seen in zip(all_enum, seen_enum, strict=True) if seen is None]
    labelled = {label for r in records if r.mode == "negative" for label in r.labels}
    rule_ids = [r.id for r in spec.rules]
    missing_rules = [f"x-{i} ({NOT_BROKEN.get(i, 'no case sent')})" for i in rule_ids if f"x-{i}" not in labelled]
    seen: dict[str, set[str]] = {o.id: set() for o in spec.operations}
    for r in records:
        if r.status is None:
            continue
        # schemathesis and the rules phase drive create only, at paths that may not even match (a project id
        # with a slash); the lifecycle phase says which operation by its request
        operation = spec.operation_for(r.method, urlsplit(r.url).path) if r.phase == "lifecycle" else spec.create
        if operation is not None:
            seen[operation.id].add(str(r.status))
    statuses = {}
    undocumented = []
    for operation in spec.operations:
        documented = sorted(operation.node["responses"])
        statuses[operation.id] = ([s for s in documented if s in seen[operation.id]],
                                  [s for s in documented if s not in seen[operation.id]])
        undocumented += [f"{operation.id} {s}" for s in sorted(seen[operation.id] - set(documented))]
    return SpecCoverage(
        styles=Counter(r.style for r in records if r.mode == "positive" and r.style and r.method == spec.create.method),
        enum_values=(len(all_enum) - len(missing_enum), len(all_enum), missing_enum),
        boundaries=(hit, bounds, missing_bounds),
        rules=(len(rule_ids) - len(missing_rules), len(rule_ids), missing_rules),
        statuses=statuses,
        undocumented=undocumented,
    )


