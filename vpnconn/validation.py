"""Check a create request against the spec: the request schema first, then the spec's named rules.

Valid bodies take a fast path (a compiled Rust validator); only a failing body is explained by the Python
``jsonschema`` validator, which gives the place and the keyword of each failure. Every failure becomes a
:class:`Violation` that names the rule it breaks, in the form the ``spec/cases/fail`` files use:
``<field path>.<keyword>`` for schema rules (``ikepolicy.dpd.timeout.maximum``) and ``x-<id>`` for the
spec's ``x-vpnconn-rules`` (``x-psk-character-classes``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema_rs

from vpnconn.constraints import rule_path
from vpnconn.json_schema import SpecValidator
from vpnconn.rules import RULES
from vpnconn.spec import CREATE_CONTENT, Spec, load_spec
from vpnconn.world import OPEN_WORLD, World

ALSO_KEYWORDS = ("pattern", "format", "minLength", "maxLength")  # a string that is no value of its schema's kind


@dataclass(frozen=True)
class Violation:
    """One broken rule: which, where (JSON pointer into the body), what, and how the API answers it."""

    rule: str
    pointer: str
    message: str
    status: int
    error_code: str
    error_kind: str

    def error_msg(self) -> str:
        return self.error_template.format(detail=self.detail)

    @property
    def detail(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"

    error_template: str = "invalid request: {detail}"
    also: tuple[str, ...] = ()  # the error kinds the error codes page also gives for it (x-vpnconn-errors' also_for)


@dataclass(frozen=True)
class RequestCheck:
    """The spec-derived validators of the request body, built once per spec."""

    spec: Spec
    fast: Any
    explain: Any  # a SpecValidator

    def violations(self, body: Any, world: World | None = OPEN_WORLD) -> list[Violation]:
        """All violations of ``body``; schema failures first, then body rules, then world rules.

        Rules run only on a schema-valid body (they may assume its shape). World rules run only when the
        body rules pass and ``world`` is given.
        """
        if not self.fast.is_valid(body):
            found = self._schema_violations(body)
            if found:
                return found
            # (both read patterns alike; should they still disagree, the body does not skip the rules)
        conn = body["vpn_connection"]
        found = self._rule_violations(conn, "body", None)
        if not found and world is not None:
            found = self._rule_violations(conn, "world", world)
        return found

    def schema_violations(self, body: Any) -> list[Violation]:
        """The schema's failures only (no named rule): for a body that is not a whole connection (an update)."""
        return [] if self.fast.is_valid(body) else self._schema_violations(body)

    def first(self, body: Any, world: World | None = OPEN_WORLD) -> Violation | None:
        found = self.violations(body, world)
        return found[0] if found else None

    # -------------------------------------------------------------------- rules

    def _rule_violations(self, conn: dict[str, Any], scope: str, world: World | None) -> list[Violation]:
        found = []
        for spec_rule, implementation in self._rules[scope]:
            args = (conn, spec_rule.params) if world is None else (conn, spec_rule.params, world)
            for pointer, message in implementation(*args):
                found.append(self._make(f"x-{spec_rule.id}", pointer, message, spec_rule.error, spec_rule.id))
        return found

    @functools.cached_property
    def _rules(self) -> dict[str, list[tuple[Any, Any]]]:
        """The spec's rules and their functions by scope, in the spec's order (looked up once, not per request)."""
        by_scope: dict[str, list[tuple[Any, Any]]] = {"body": [], "world": []}
        for spec_rule in self.spec.rules:
            by_scope.setdefault(spec_rule.scope, []).append((spec_rule, RULES[spec_rule.id]))
        return by_scope

    # -------------------------------------------------------------------- schema

    def _schema_violations(self, body: Any) -> list[Violation]:
        found = []
        for error in self.explain.iter_errors(body):
            found.extend(self._from_error(error, body))
        # A value of the wrong type breaks its enum, pattern, ... too: report the type only.
        mistyped = {v.pointer for v in found if v.rule.endswith(".type")}
        found = [v for v in found if v.rule.endswith(".type") or v.pointer not in mistyped]
        unsupported = [v for v in found if v.error_kind == "unsupported-attribute"]
        rest = sorted((v for v in found if v.error_kind != "unsupported-attribute"), key=lambda v: (v.pointer, v.rule))
        return sorted(unsupported, key=lambda v: v.pointer) + rest

    def _from_error(self, error: jsonschema.ValidationError, body: Any) -> list[Violation]:
        path = list(error.absolute_path)
        keyword = error.validator
        if keyword == "oneOf" and path == ["vpn_connection"]:
            return self._style_violations(error, body)
        if keyword == "required":
            missing = re.match(r"'(.+?)' is a required property", error.message)
            name = missing.group(1) if missing else "?"
            return [self._schema(path + [name], "required", f"{name} is required")]
        if keyword == "additionalProperties":
            allowed = set(error.schema.get("properties", {}))
            extras = sorted(k for k in error.instance if k not in allowed)
            return [
                self._schema(path, "additionalProperties", f"{k} is not a supported attribute", "unsupported-attribute", k)
                for k in extras
            ]
        if keyword == "oneOf" and path[-1:] == ["vgw_ip"]:  # (neither branch: the IP one's also_for kinds too)
            also = tuple(dict.fromkeys(k for b in error.validator_value for k in self._also.get(id(self.spec.resolve(b)), ())))
            return [self._schema(path, "oneOf", "is neither a resource id (UUID layout) nor an IPv4 address", also=also)]
        if path[-1:] == ["psk"]:  # never echo a secret, not even an invalid one
            return [self._schema(path, str(keyword), f"breaks the {keyword} rule of psk ({error.validator_value!r})")]
        return [self._schema(path, str(keyword or "false"), _short(error.message),
                             also=self._also.get(id(error.schema), ()) if keyword in ALSO_KEYWORDS else ())]

    def _style_violations(self, error: jsonschema.ValidationError, body: Any) -> list[Violation]:
        conn = body["vpn_connection"]
        style = conn.get("style", self.spec.default_style) if isinstance(conn, dict) else None
        variants = self.spec.style_variants()
        if not isinstance(style, str) or style not in variants:
            return []  # the enum error on style itself says it
        variant = variants[style]
        branches = [self.spec.resolve(b) for b in self.spec.schema(CREATE_CONTENT)["oneOf"]]
        branch = next(i for i, b in enumerate(branches) if b is variant)
        path = list(error.absolute_path)
        found = [
            self._schema(path + [name], f"not-with-{style}", f"is not allowed with style {style}")
            for name, sub in variant.get("properties", {}).items()
            if sub is False and name in conn
        ]
        for sub in error.context or []:
            if sub.relative_schema_path[0] != branch or sub.validator in (None, "required"):
                continue  # `false` subschemas are reported above; `required: [style]` cannot fail in its branch
            if sub.validator == "anyOf":
                names = [r["required"][0] for r in sub.validator_value]
                found.append(self._schema(path + [names[0]], f"required-with-{style}", f"style {style} needs {' or '.join(names)}"))
            else:
                found.append(self._schema(path, str(sub.validator), _short(sub.message)))
        return found

    def _schema(
        self, path: list[Any], keyword: str, message: str, kind: str = "schema-violation", extra: str | None = None,
        also: tuple[str, ...] = (),
    ) -> Violation:
        rule_name = f"{rule_path(path)}.{keyword}"
        pointer = "".join(f"/{p}" for p in path + ([extra] if extra else []))
        return self._make(rule_name, pointer, message, self.spec.errors[kind], kind, also)

    @functools.cached_property
    def _also(self) -> dict[int, tuple[str, ...]]:
        """The component schemas (by identity: the validator walks the spec's own objects) whose failures the error codes
        page also gives another kind's code for (``also_for`` of ``x-vpnconn-errors``) -> those kinds."""
        found: dict[int, tuple[str, ...]] = {}
        for kind, error in self.spec.errors.items():
            for name in error.get("also_for", []):
                found[id(self.spec.schema(name))] = (*found.get(id(self.spec.schema(name)), ()), kind)
        return found

    @staticmethod
    def _make(rule_name: str, pointer: str, message: str, error: dict[str, Any], kind: str,
              also: tuple[str, ...] = ()) -> Violation:
        return Violation(
            rule=rule_name,
            pointer=pointer,
            message=message,
            status=error["status"],
            error_code=error["error_code"],
            error_kind=kind,
            error_template=error["message"],
            also=also,
        )


def _short(message: str, limit: int = 160) -> str:
    """jsonschema messages repeat the instance; keep them readable (and never dump a huge value)."""
    return message if len(message) <= limit else message[: limit - 3] + "..."


@functools.cache
def request_check(spec: Spec, schema_name: str | None = None) -> RequestCheck:
    """The validators of a request schema (by component name; default: the create request's)."""
    fast, explain = _component_validator(spec, schema_name or spec.create.request_schema or "")
    return RequestCheck(spec=spec, fast=fast, explain=explain)


def check_request(body: Any, world: World | None = OPEN_WORLD, spec: Spec | None = None) -> list[Violation]:
    """Every violation of ``body`` against the spec (empty when the request is valid)."""
    return request_check(spec or load_spec()).violations(body, world)


@functools.cache
def _component_validator(spec: Spec, name: str) -> tuple[Any, Any]:
    """The pair every check uses for component ``name``: the compiled validator (is it valid?) and the explaining
    one (what is wrong?); both read ``pattern`` as JSON Schema does (:mod:`vpnconn.json_schema`)."""
    schema = spec.standalone_schema(name)
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=False), SpecValidator(schema)


def schema_errors(name: str, instance: Any, spec: Spec | None = None) -> list[str]:
    """Readable failures of ``instance`` against component schema ``name`` ("/pointer: message"). As for
    requests, a valid instance takes the compiled validator's fast path (every answer a run checks is one)."""
    fast, explain = _component_validator(spec or load_spec(), name)
    if fast.is_valid(instance):
        return []
    errors = sorted(explain.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {_short(e.message)}" for e in errors]
