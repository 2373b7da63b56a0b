"""The Python JSON Schema validator the toolkit explains failures with, reading ``pattern`` as JSON Schema does.

JSON Schema's ``pattern`` is an ECMA-262 regular expression; Python's ``re`` reads the same text otherwise:
its ``$`` also matches before a final newline (``"192.168.44.0/24\\n"`` passes ``^...$``), and its ``\\s`` is
another set (U+FEFF is not whitespace to it, U+001C to U+001F and U+0085 are). The compiled validator
(``jsonschema_rs``) follows ECMA-262, so the two disagreed: a body the compiled one refused was explained as
valid by the other, and the reference server created a connection whose subnet ended in a newline. Here
``pattern`` is matched by the compiled validator's own regular expressions, so both read every pattern alike;
:func:`matches` is the same test for code that checks one value against a spec pattern.

A field the spec says must not be there (``psk: false``) is reported at its own path, by its name and never its
value (jsonschema puts it at the object's path, with the value, which may be a secret).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import jsonschema
import jsonschema_rs


@functools.cache
def _compiled(pattern: str) -> Any:
    return jsonschema_rs.Draft202012Validator({"type": "string", "pattern": pattern})


def matches(pattern: str, text: str) -> bool:
    """Does ``text`` match the spec's ``pattern``, as JSON Schema reads it (anywhere in the text, ECMA-262)?"""
    return bool(_compiled(pattern).is_valid(text))


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[jsonschema.ValidationError]:
    if validator.is_type(instance, "string") and not matches(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _properties(validator: Any, properties: dict[str, Any], instance: Any, schema: dict[str, Any]) -> Iterator[jsonschema.ValidationError]:
    """As JSON Schema's ``properties``, but a field whose schema is ``false`` (a field that must not be there) is
    reported at its own path and by its name: jsonschema reports it at the object's path with its value (which may
    be a secret, a psk)."""
    if not validator.is_type(instance, "object"):
        return
    for name, subschema in properties.items():
        if name not in instance:
            continue
        if subschema is False:
            yield jsonschema.ValidationError(f"{name!r} must not be present", validator=None, path=[name], schema_path=[name])
        else:
            yield from validator.descend(instance[name], subschema, path=name, schema_path=name)


SpecValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                             validators={"pattern": _pattern, "properties": _properties})
