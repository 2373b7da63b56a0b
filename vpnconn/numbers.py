"""Integers stay integers: JSON Schema counts ``1358.0`` as an integer, typed decoders (Go's ``encoding/json``,
the Terraform provider, pydantic in strict mode) do not.

The spec declares no ``number`` field (``tests/test_spec_document.py`` holds it to that), so a whole-number
float in a request is always an integer field written with a fraction: the reference server parses it as the
integer (and answers with it), the fixture generator writes it as one, and :func:`strict_validator` is the
typed decoder's view (an integer field refuses any float) that the fixture tests apply to every fixture.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from vpnconn.json_schema import SpecValidator


def _integral(value: float) -> float | int:
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def parse_float(text: str) -> float | int:
    """For ``json.loads(..., parse_float=parse_float)``: ``1358.0`` and ``1.3e3`` are integers, ``1.5`` stays a float."""
    return _integral(float(text))


def whole_floats_as_integers(value: Any) -> Any:
    """``value`` with every whole-number float replaced by the integer (the same JSON value for the spec)."""
    if isinstance(value, float):
        return _integral(value)
    if isinstance(value, dict):
        return {k: whole_floats_as_integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_floats_as_integers(v) for v in value]
    return value


_STRICT_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, instance: isinstance(instance, int) and not isinstance(instance, bool))
StrictValidator = jsonschema.validators.extend(SpecValidator, type_checker=_STRICT_TYPES)


def strict_validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A 2020-12 validator for ``schema`` in which an integer field refuses ``1358.0`` (as a typed decoder does)."""
    return StrictValidator(schema)
