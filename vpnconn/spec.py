"""Load the OpenAPI document once, validate it, and hand out what the tools need from it.

The spec lives in ``spec/openapi.yaml`` at the repository root; the path is anchored to this file, not to
the current directory. Loading validates the document with openapi-spec-validator, so every consumer works
from a spec that is known to be well-formed.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = REPO_ROOT / "spec" / "openapi.yaml"
OPERATION_PATH = "/v5/{project_id}/vpn-connection"
OPERATION_METHOD = "post"


class SpecError(Exception):
    """The spec file is missing, is not YAML, or is not a valid OpenAPI 3.1 document."""


@dataclass(frozen=True)
class Rule:
    """One entry of the operation's ``x-vpnconn-rules``: a rule JSON Schema cannot express."""

    id: str
    scope: str  # "body" (needs the request only) or "world" (needs gateway facts)
    fields: tuple[str, ...]
    description: str
    params: dict[str, Any]
    error: dict[str, Any]  # {status, error_code, message}


@dataclass(frozen=True, eq=False)  # hashed by identity: validators are cached per loaded spec
class Spec:
    """The loaded spec and the parts of it that the tools read."""

    path: Path
    document: dict[str, Any]
    sha256: str
    rules: tuple[Rule, ...] = field(repr=False)

    @property
    def version(self) -> str:
        return self.document["info"]["version"]

    @property
    def operation(self) -> dict[str, Any]:
        return self.document["paths"][OPERATION_PATH][OPERATION_METHOD]

    @property
    def errors(self) -> dict[str, dict[str, Any]]:
        """``x-vpnconn-errors``: failure kind -> {status, error_code, message}."""
        return {k: v for k, v in self.operation["x-vpnconn-errors"].items() if isinstance(v, dict)}

    @property
    def server_defaults(self) -> dict[str, dict[str, Any]]:
        """``x-vpnconn-server-defaults`` by id."""
        return {d["id"]: d for d in self.operation["x-vpnconn-server-defaults"]}

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def schema(self, name: str) -> dict[str, Any]:
        """A component schema, as written (``$ref`` unresolved)."""
        return self.document["components"]["schemas"][name]

    def resolve(self, node: Any) -> Any:
        """Follow ``$ref`` (local ``#/...`` only) until a plain node is reached."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def standalone_schema(self, name: str) -> dict[str, Any]:
        """A JSON Schema (2020-12) for component ``name`` whose local ``$ref``s resolve inside it."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": f"#/components/schemas/{name}",
            "components": self.document["components"],
        }

    def examples(self, kind: str) -> dict[str, Any]:
        """Named example values of the request (``kind='request'``) or of a response status (``'201'``)."""
        if kind == "request":
            media = self.operation["requestBody"]["content"]["application/json"]
        else:
            media = self.resolve(self.operation["responses"][kind])["content"]["application/json"]
        if "examples" in media:
            return {name: self.resolve(ex)["value"] for name, ex in media["examples"].items()}
        return {"example": media["example"]} if "example" in media else {}

    def request_defaults(self) -> dict[str, Any]:
        """The request schema's ``default`` keywords as a nested dict (objects merged field by field)."""
        return _defaults_of(self, self.schema("CreateVpnConnectionRequestBodyContent"))


def _defaults_of(spec: Spec, node: Any) -> Any:
    node = spec.resolve(node)
    if "default" in node:
        return copy.deepcopy(node["default"])
    if "properties" in node:
        out = {}
        for name, sub in node["properties"].items():
            value = _defaults_of(spec, sub)
            if value is not None:
                out[name] = value
        return out or None
    return None


def _validate_openapi(document: dict[str, Any], path: Path) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(document)
    except OpenAPIValidationError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise SpecError(f"{path}: not a valid OpenAPI 3.1 document at {where}: {exc.message}") from None
    except (TypeError, ValueError) as exc:  # the validator crashes on some malformed values
        raise SpecError(f"{path}: openapi-spec-validator could not read it: {exc}") from None


def _rules_of(document: dict[str, Any]) -> tuple[Rule, ...]:
    operation = document["paths"][OPERATION_PATH][OPERATION_METHOD]
    errors = operation["x-vpnconn-errors"]
    rules = []
    for entry in operation.get("x-vpnconn-rules", []):
        error = entry["error"]
        rules.append(
            Rule(
                id=entry["id"],
                scope=entry["scope"],
                fields=tuple(entry["fields"]),
                description=entry["description"],
                params=entry.get("params", {}),
                error=errors[error] if isinstance(error, str) else error,
            )
        )
    return tuple(rules)


@functools.cache
def load_spec(path: Path | str | None = None) -> Spec:
    """Read, validate and return the spec (cached per path)."""
    spec_path = Path(path) if path else SPEC_PATH
    try:
        raw = spec_path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the spec at {spec_path}: {exc.strerror}") from None
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise SpecError(f"{spec_path}: not YAML: {exc}") from None
    if not isinstance(document, dict):
        raise SpecError(f"{spec_path}: expected a mapping at the top level")
    _validate_openapi(document, spec_path)
    # Round-trip through JSON so that YAML-only types (dates, ...) cannot leak into validators.
    document = json.loads(json.dumps(document))
    return Spec(
        path=spec_path,
        document=document,
        sha256=hashlib.sha256(raw).hexdigest(),
        rules=_rules_of(document),
    )
