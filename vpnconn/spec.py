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

from vpnconn.errors import SpecError
from vpnconn.extensions import check_extensions

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = REPO_ROOT / "spec" / "openapi.yaml"
OPERATION_PATH = "/v5/{project_id}/vpn-connection"
OPERATION_METHOD = "post"


@dataclass(frozen=True)
class Provenance:
    """Where a constraint comes from: a documented source (by its ``x-vpnconn-sources`` id), or an inference.

    A breach of a documented constraint is a *violation*; a disagreement with an inferred one is a
    *divergence* (the documentation leaves the choice open, and the target made the other one).
    """

    documented: bool
    source: str | None = None  # x-vpnconn-sources id, when documented
    title: str | None = None
    date: str | None = None
    why: str | None = None  # the reason, when inferred

    @property
    def kind(self) -> str:
        return "documented" if self.documented else "inferred"

    def label(self) -> str:
        """One line for a person: ``documented: <title> (<date>)`` or ``inferred: <why>``."""
        return f"documented: {self.title} ({self.date})" if self.documented else f"inferred: {self.why}"

    def as_json(self) -> dict[str, Any]:
        if self.documented:
            return {"kind": "documented", "source": self.source, "title": self.title, "date": self.date}
        return {"kind": "inferred", "why": self.why}


def _provenance(entry: dict[str, Any], sources: dict[str, Any]) -> Provenance:
    if "documented" in entry:
        source = sources[entry["documented"]]
        return Provenance(True, entry["documented"], source["title"], source["date"])
    return Provenance(False, why=entry["inferred"])


@dataclass(frozen=True)
class Rule:
    """One entry of the operation's ``x-vpnconn-rules``: a rule JSON Schema cannot express."""

    id: str
    scope: str  # "body" (needs the request only) or "world" (needs gateway facts)
    fields: tuple[str, ...]
    description: str
    params: dict[str, Any]
    error: dict[str, Any]  # {status, error_code, message}
    provenance: Provenance
    error_kind: str | None = None  # the x-vpnconn-errors kind the error names, or None for an inline error


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

    @property
    def sources(self) -> dict[str, dict[str, str]]:
        """``x-vpnconn-sources``: the documents a provenance may cite, by id."""
        return self.document["x-vpnconn-sources"]

    def provenance_of(self, constraint: str) -> Provenance:
        """The provenance of a request constraint, by the name a violation reports (``peer_subnets.uniqueItems``,
        ``x-cidr-canonical``)."""
        if constraint.startswith("x-"):
            return self.rule(constraint.removeprefix("x-")).provenance
        table = self.operation["x-vpnconn-provenance"]
        return _provenance(table.get("constraints", {}).get(constraint, table["default"]), self.sources)

    def error_provenance(self, kind: str, part: str = "error_code") -> Provenance:
        """The provenance of the ``status`` or the ``error_code`` of an ``x-vpnconn-errors`` kind."""
        entry = self.operation["x-vpnconn-errors"][kind]["provenance"]
        return _provenance(entry[part] if "status" in entry else entry, self.sources)

    def check_provenance(self, check: str) -> Provenance:
        """The provenance of what a schemathesis built-in check expects (the operation's default unless listed)."""
        table = self.operation["x-vpnconn-provenance"]
        return _provenance(table.get("checks", {}).get(check, table["default"]), self.sources)

    def style_variants(self, schema_name: str = "CreateVpnConnectionRequestBodyContent") -> dict[str, dict[str, Any]]:
        """Style name -> its ``oneOf`` variant of ``schema_name``, matched by the variant's ``style`` const.

        Works for the request (lower-case names) and the response (``CreateResponseVpnConnection``, upper-case).
        """
        variants = {}
        for branch in self.schema(schema_name)["oneOf"]:
            variant = self.resolve(branch)
            const = self.resolve(variant.get("properties", {}).get("style", {})).get("const")
            if not isinstance(const, str):
                raise SpecError(f"{self.path}: a oneOf variant of {schema_name} has no properties/style/const")
            variants[const] = variant
        return variants

    @property
    def styles(self) -> tuple[str, ...]:
        """The request's style names, in the order of the style enum."""
        return tuple(self.resolve(self.schema("CreateVpnConnectionRequestBodyContent")["properties"]["style"])["enum"])

    @property
    def default_style(self) -> str:
        return self.request_defaults()["style"]

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


UNRECORDED = Provenance(True, None, "(not recorded: an older spec read as a baseline)", "")


def _rules_of(document: dict[str, Any]) -> tuple[Rule, ...]:
    operation = document["paths"][OPERATION_PATH][OPERATION_METHOD]
    errors = operation["x-vpnconn-errors"]
    sources = document.get("x-vpnconn-sources", {})
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
                provenance=_provenance(entry["provenance"], sources) if "provenance" in entry else UNRECORDED,
                error_kind=error if isinstance(error, str) else None,
            )
        )
    return tuple(rules)


@functools.cache
def load_spec(path: Path | str | None = None, baseline: bool = False) -> Spec:
    """Read, validate and return the spec (cached per path).

    ``baseline=True`` reads an older published spec for comparison only: it must be valid OpenAPI, but the
    ``x-vpnconn-*`` extensions are not held to today's schema (an older spec may lack what was added since).
    """
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
    try:
        document = json.loads(json.dumps(document))
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{spec_path}: a value is not JSON ({exc}); quote dates and other YAML-only values") from None
    if baseline:
        return Spec(path=spec_path, document=document, sha256=hashlib.sha256(raw).hexdigest(), rules=_rules_of(document))
    check_extensions(document, str(spec_path))
    errors = document["paths"][OPERATION_PATH][OPERATION_METHOD]["x-vpnconn-errors"]
    for rule in document["paths"][OPERATION_PATH][OPERATION_METHOD].get("x-vpnconn-rules", []):
        if isinstance(rule["error"], str) and rule["error"] not in errors:
            raise SpecError(f"{spec_path}: rule {rule['id']} names the error kind {rule['error']!r}, "
                            f"which x-vpnconn-errors does not define")
    spec = Spec(path=spec_path, document=document, sha256=hashlib.sha256(raw).hexdigest(), rules=_rules_of(document))
    _check_provenance_names(spec)
    return spec


def _check_provenance_names(spec: Spec) -> None:
    """Every constraint that ``x-vpnconn-provenance`` names exists (a typo would silently keep the default)."""
    from vpnconn.constraints import request_constraints

    known = {c.name for c in request_constraints(spec)}
    table = spec.operation["x-vpnconn-provenance"].get("constraints", {})
    unknown = sorted(set(table) - known)
    if unknown:
        raise SpecError(f"{spec.path}: x-vpnconn-provenance names constraints the request does not have: "
                        f"{', '.join(unknown)} (names as in spec/cases/fail)")
