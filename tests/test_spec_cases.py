"""The pass/ and fail/ folders: valid bodies are accepted, each invalid body breaks exactly the rule it is named after.

Every case is checked against ``spec/cases/world.yaml``. Adding a case means adding a file: ``fail/<rule>.json``,
or ``fail/<rule>--<what differs>.json`` for a second case of the same rule.
"""

from __future__ import annotations

import re

import pytest
from support import case_files, read_case

from vpnconn.constraints import Constraint, request_constraints, values_at
from vpnconn.validation import check_request

PASS = case_files("pass")
FAIL = case_files("fail")


def rule_of(path) -> str:
    return path.stem.split("--")[0]


@pytest.mark.parametrize("case", PASS, ids=[p.stem for p in PASS])
def test_valid_body_is_accepted(case, case_world):
    assert [(v.rule, v.pointer, v.message) for v in check_request(read_case(case), case_world)] == []


@pytest.mark.parametrize("case", FAIL, ids=[p.stem for p in FAIL])
def test_invalid_body_breaks_exactly_its_rule(case, case_world, spec):
    violations = check_request(read_case(case), case_world)
    assert {v.rule for v in violations} == {rule_of(case)}
    expected = spec.errors["unsupported-attribute" if case.stem.endswith(".additionalProperties") else "schema-violation"]
    if rule_of(case).startswith("x-"):
        expected = spec.rule(rule_of(case).removeprefix("x-")).error
    assert {(v.status, v.error_code) for v in violations} == {(expected["status"], expected["error_code"])}


def test_every_constraint_has_a_fail_case(spec):
    named = {rule_of(p) for p in FAIL}
    missing = [c.name for c in request_constraints(spec) if c.name not in named]
    assert missing == [], "add spec/cases/fail/<rule>.json for each"


def test_every_fail_case_names_a_constraint_of_the_spec(spec):
    known = {c.name for c in request_constraints(spec)}
    assert [p.name for p in FAIL if rule_of(p) not in known] == []


def _reached(spec, constraint: Constraint, bodies: list) -> bool:
    """Does some valid body reach this constraint: hit its bound, use each enum value, give the field?"""
    kw, value = constraint.keyword, constraint.value
    if constraint.name.startswith("x-"):
        rule_id = constraint.name.removeprefix("x-")
        return any(_given(b, f) for b in bodies for f in _rule_fields(spec, rule_id))
    if kw.startswith("not-with-") or kw.startswith("required-with-"):
        return any(_given(b, constraint.path) for b in bodies)  # accepted with some style
    found = [v for b in bodies for v in values_at(b, constraint.path)]
    if kw in ("minimum", "maximum"):
        return value in found
    if kw in ("minLength", "maxLength", "minItems", "maxItems"):
        return value in [len(v) for v in found if isinstance(v, (str, list))]
    if kw == "enum":
        return set(value) <= set(found)
    if kw == "uniqueItems":
        return any(isinstance(v, list) and len(v) > 1 for v in found)
    if kw == "oneOf":  # each alternative is used by some body
        return all(any(_matches(v, alt) for v in found) for alt in value)
    return bool(found)


def _given(body, path) -> bool:
    return any(True for _ in values_at(body, tuple(path)))


def _rule_fields(spec, rule_id):
    for pointer in spec.rule(rule_id).fields:
        yield tuple("[]" if p == "*" else p for p in pointer.strip("/").split("/"))


def _matches(value, schema) -> bool:
    return isinstance(value, str) and re.search(schema["pattern"], value) is not None


def test_every_constraint_is_reached_by_a_pass_case(spec):
    bodies = [read_case(p) for p in PASS]
    unreached = [c.name for c in request_constraints(spec) if not _reached(spec, c, bodies)]
    assert unreached == [], "add or extend a spec/cases/pass/ file so that a valid body reaches each"
