"""Load the OpenAPI document once, validate it, and hand out what the tools need from it.

The spec lives in ``spec/openapi.yaml`` at the repository root; the path is anchored to this file, not to
the current directory. Loading validates the document with openapi-spec-validator, so every consumer works
from a spec that is known to be well-formed.

Loading is on the way of every process that reads the spec (a contract run, its reference server and its
fuzzing worker each read it): the YAML is read with libyaml where PyYAML has it (the same document, a tenth of
the time), and bytes that passed openapi-spec-validator once are not validated again (:func:`_validate_openapi`).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vpnconn.errors import SpecError
from vpnconn.extensions import check_extensions

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = REPO_ROOT / "spec" / "openapi.yaml"
CREATE = "CreateVpnConnection"  # the operationId whose request the named rules and constraints describe
LIST = "ListVpnConnections"  # the operationId of the list, paged by its query parameter `limit`
CREATE_CONTENT = "CreateVpnConnectionRequestBodyContent"  # the connection a create's body gives (its vpn_connection)
CREATE_BODY = "CreateVpnConnectionRequestBody"  # a create's whole body: {"vpn_connection": ...}
ANSWER_CONNECTION = "CreateResponseVpnConnection"  # the connection as answered: its fields, their order, its style variants
KEPT_CONNECTION = "ResponseVpnConnection"  # the connection as show and list answer it: a field may be kept for fewer styles
RULE_LISTS = ("policy_rules", "policy_rules_v6")  # a connection's lists of policy rules ({source, destination[]}), IPv4 and IPv6
IKE_IDS = {"local_id": "local_id_type", "peer_id": "peer_id_type"}  # an IKE policy's ids, each with the field of its type
# the quotas (x-vpnconn-quotas) a run keeps within and the reference server keeps: per gateway, per gateway address and
# customer gateway
PER_GATEWAY = "connections-per-gateway"
PER_PAIR = "connections-per-gateway-address-and-customer-gateway"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
TOKEN_SCHEME, SIGNATURE_SCHEME = "token", "aksk"  # the spec's security schemes: an IAM token, an AK/SK signature
# where the bytes of specs that passed openapi-spec-validator are noted: in the checkout the spec belongs to, whatever
# the current folder (`make clean` empties it)
VALIDATED_DIR = REPO_ROOT / ".vpnconn-cache" / "valid-specs"
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it: the same document


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


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: its ``operationId``, method (upper-case) and path template, and its node."""

    id: str
    method: str
    path: str
    node: dict[str, Any] = field(repr=False, compare=False)

    @property
    def success_status(self) -> int:
        """The one 2xx status the operation documents."""
        return next(int(s) for s in self.node["responses"] if s.startswith("2"))

    @property
    def request_schema(self) -> str | None:
        """The component name of the request body's schema, or None when the operation takes no body."""
        body = self.node.get("requestBody")
        return body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1] if body else None

    def response_schema(self, status: int | str) -> str | None:
        """The component name of an answer's schema (for ``status``), or None when that answer has no body."""
        response = self.node["responses"].get(str(status))
        content = (response or {}).get("content")
        return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1] if content else None

    def url(self, base_url: str, **params: str) -> str:
        """The operation's URL under ``base_url``; ``params`` fill the path template (extra ones are ignored)."""
        return base_url.rstrip("/") + self.path.format(**params)

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters when ``path`` (a request's path) is one of this operation's, else None."""
        found = path_pattern(self.path).match(path)
        return found.groupdict() if found else None


@functools.cache
def path_pattern(template: str) -> re.Pattern[str]:
    """A request path pattern for a path template: each ``{name}`` is one segment (possibly empty), and a
    trailing slash is allowed."""
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]*)", re.escape(template))
    return re.compile(f"^{regex}/?$")


def _operations(document: dict[str, Any]) -> tuple[Operation, ...]:
    return tuple(Operation(node["operationId"], method.upper(), path, node)
                 for path, item in document["paths"].items() for method, node in item.items()
                 if method in HTTP_METHODS)


def _error_table(document: dict[str, Any]) -> dict[str, Any]:
    """The document's ``x-vpnconn-errors``; an older (baseline) spec kept it on the create operation."""
    if "x-vpnconn-errors" in document:
        return document["x-vpnconn-errors"]
    create = next(o for o in _operations(document) if o.id == CREATE)
    return create.node["x-vpnconn-errors"]


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

    @functools.cached_property
    def operations(self) -> tuple[Operation, ...]:
        """Every operation, in the order of the document."""
        return _operations(self.document)

    def operation_by_id(self, operation_id: str) -> Operation:
        for operation in self.operations:
            if operation.id == operation_id:
                return operation
        raise SpecError(f"{self.path}: no operation {operation_id!r}")

    def operation_for(self, method: str, path: str) -> Operation | None:
        """The operation a request (method and path, no query) is for, or None."""
        return next((o for o in self.operations if o.method == method.upper() and o.match(path) is not None), None)

    def methods_at(self, path: str) -> tuple[str, ...]:
        """The methods the spec declares for a path template (upper-case), as a 405's ``Allow`` lists them."""
        return tuple(o.method for o in self.operations if o.path == path)

    @property
    def create(self) -> Operation:
        return self.operation_by_id(CREATE)

    @property
    def operation(self) -> dict[str, Any]:
        """The create operation's node: its request is what the named rules and the constraints describe."""
        return self.create.node

    @property
    def errors(self) -> dict[str, dict[str, Any]]:
        """``x-vpnconn-errors``: failure kind -> {status, error_code, message}, shared by every operation."""
        return {k: v for k, v in _error_table(self.document).items() if isinstance(v, dict)}

    @functools.cached_property
    def error_codes_page_body(self) -> dict[str, Any]:
        """The error body as the VPN error codes page documents it ({code, message}; the ``Error`` schema's
        ``x-vpnconn-also-documented``): a documented alternative to ``Error``, which the examples show."""
        return self.schema("Error")["x-vpnconn-also-documented"]

    @functools.cached_property
    def answer_forms_also_documented(self) -> dict[str, tuple[dict[str, Any], str]]:
        """Component schema -> (the form another page documents for it, the divergence that names an answer in that
        form): each component's ``x-vpnconn-also-documented`` that names one (``x-vpnconn-divergence``: Timestamp's
        whole seconds, as the zh list and show pages give them; ResponseVpnConnection's style POLICY-TEMPLATE). The form is
        a schema, without its ``x-`` keys."""
        forms = {}
        for name, schema in self.document["components"]["schemas"].items():
            form = schema.get("x-vpnconn-also-documented") if isinstance(schema, dict) else None
            if isinstance(form, dict) and "x-vpnconn-divergence" in form:
                forms[name] = ({k: v for k, v in form.items() if not k.startswith("x-")}, form["x-vpnconn-divergence"])
        return forms

    def _error_kinds(self, mark: str, value: str | None = None) -> list[dict[str, Any]]:
        """The error kinds with ``mark`` (set to ``value``, when given)."""
        return [kind for kind in self.errors.values() if kind.get(mark) and (value is None or kind[mark] == value)]

    @functools.cached_property
    def transient_statuses(self) -> frozenset[int]:
        """The statuses that say the target is busy whatever the code (error kinds marked ``transient: status``: 429,
        503, 504; a gateway in front answers them with codes of its own); asked again, it may answer."""
        return frozenset(kind["status"] for kind in self._error_kinds("transient", "status"))

    @functools.cached_property
    def throttled_status(self) -> int:
        """The status of a throttled answer (the error kind ``throttled``: the request was refused before it was carried
        out, for the rate it came at)."""
        return int(self.errors["throttled"]["status"])

    @functools.cached_property
    def transient_answers(self) -> frozenset[tuple[int, str]]:
        """(status, error code) of the error kinds marked ``transient: code``: their status alone (400, 409, 500) says
        nothing, the code says the target is busy or not ready (``VPN.0030``, ``VPN.0016``, ``VPN.0006``, ...)."""
        return frozenset((kind["status"], kind["error_code"]) for kind in self._error_kinds("transient", "code"))

    @functools.cached_property
    def transient_codes(self) -> frozenset[str]:
        """The error codes of every error kind marked ``transient`` (``VPN.0014`` system busy, ``VPN.0016`` gateway
        not ready, ``VPN.0507`` gateway being updated, ...): an answer with one says the request was not carried out,
        and asked again later it may be."""
        return frozenset(kind["error_code"] for kind in self._error_kinds("transient"))

    @functools.cached_property
    def account_state_refusals(self) -> frozenset[tuple[int, str]]:
        """(status, error code) of the error kinds marked ``state: account``: a refusal that comes from the account's
        configuration or resources (its tag policy, its route table), not from the request."""
        return frozenset((kind["status"], kind["error_code"]) for kind in self._error_kinds("state", "account"))

    @functools.cached_property
    def gateway_state_refusals(self) -> frozenset[tuple[int, str]]:
        """(status, error code) of the error kinds marked ``state: gateway``: a refusal for what the gateway's other
        connections hold (a tunnel /30, a gateway address and customer gateway, its quota)."""
        return frozenset((kind["status"], kind["error_code"]) for kind in self._error_kinds("state", "gateway"))

    def quota(self, name: str) -> int:
        """A default quota of an account (``x-vpnconn-quotas``: ``connections-per-gateway``, ...)."""
        return int(self.document["x-vpnconn-quotas"][name]["value"])

    def quota_fields(self, name: str) -> tuple[str, ...]:
        """The fields of a connection (of a create's ``vpn_connection``) the quota ``name`` counts per: a project
        holds at most :meth:`quota` connections with the same values of them."""
        return tuple(self.document["x-vpnconn-quotas"][name]["per"])

    @property
    def quota_names(self) -> list[str]:
        return list(self.document.get("x-vpnconn-quotas", {}))

    def quota_error(self, name: str) -> dict[str, Any]:
        """The error kind ({status, error_code, message}) of a request beyond the quota ``name``."""
        return self.errors[self.document["x-vpnconn-quotas"][name]["error"]]

    @functools.cached_property
    def credential_headers(self) -> dict[str, str]:
        """The headers that carry credentials, by security scheme (``token`` -> ``X-Auth-Token``, ...)."""
        schemes = self.document.get("components", {}).get("securitySchemes", {})
        return {name: scheme["name"] for name, scheme in schemes.items() if scheme.get("in") == "header"}

    @functools.cached_property
    def credential_header_names(self) -> frozenset[str]:
        """The credential headers of every security scheme, lower-cased (as servers and checks compare them)."""
        return frozenset(h.lower() for h in self.credential_headers.values())

    @functools.cached_property
    def integer_fields(self) -> frozenset[str]:
        """The names of the properties the schemas type ``integer`` (``lifetime_seconds``, ``total_count``, ...):
        where a typed client wants a number written without a fraction (see :mod:`vpnconn.numbers`)."""
        names: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                properties = node.get("properties")
                for name, schema in properties.items() if isinstance(properties, dict) else ():
                    resolved = self.resolve(schema)
                    declared = resolved.get("type") if isinstance(resolved, dict) else None
                    if "integer" in (declared if isinstance(declared, list) else [declared]):
                        names.add(name)
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.document["components"]["schemas"])
        return frozenset(names)

    @property
    def token_header(self) -> str:
        """The header of the token scheme (``X-Auth-Token``)."""
        return self.credential_headers[TOKEN_SCHEME]

    @property
    def signature_header(self) -> str:
        """The header of the AK/SK signature scheme (``Authorization``)."""
        return self.credential_headers[SIGNATURE_SCHEME]

    @property
    def server_defaults(self) -> dict[str, dict[str, Any]]:
        """``x-vpnconn-server-defaults`` by id."""
        return {d["id"]: d for d in self.operation["x-vpnconn-server-defaults"]}

    @property
    def not_echoed(self) -> frozenset[str]:
        """The answer fields (pointers, ``*`` for any item) whose value is the server's own, never an echo of the
        request's: the ``x-vpnconn-server-defaults`` marked ``echoed: false`` (a policy rule's ``rule_index``)."""
        return frozenset(d["field"] for d in self.operation["x-vpnconn-server-defaults"] if d.get("echoed") is False)

    @property
    def gm_values(self) -> dict[tuple[str, str], str]:
        """(policy, field) -> the value a GM gateway may answer in place of the field's documented default, for a create
        that leaves the field out, and which a create on a GM gateway therefore names not at all: ``gm-algorithms`` (sm3,
        sm4, digital-envelope-v2)."""
        values = self.server_defaults["gm-algorithms"]["gm_values"]
        return {(parts[0], parts[1]): value for pointer, value in values.items()
                for parts in [pointer.removeprefix("/vpn_connection/").split("/")]}

    def gm_named_otherwise(self, conn: dict[str, Any]) -> list[tuple[str, Any, str]]:
        """The fields of ``gm_values`` that a create's connection ``conn`` names with another value than the national one:
        (``policy.field``, the value named, the national value), in the spec's order."""
        named = []
        for (policy, key), national in self.gm_values.items():
            held = conn.get(policy)
            value = held.get(key, national) if isinstance(held, dict) else national
            if value != national:
                named.append((f"{policy}.{key}", value, national))
        return named

    def at_will(self, style: str) -> frozenset[str]:
        """The fields of a connection of ``style`` (either case) that each answer may carry or leave out, whatever
        another answer of the same connection did: the ``x-vpnconn-server-defaults`` entries' ``at_will``, for every
        style or the entry's ``styles`` (the deprecated fields, the SDK's own, a POLICY connection's tunnel pair)."""
        return frozenset(pointer.rsplit("/", 1)[1] for d in self.operation["x-vpnconn-server-defaults"]
                         if "styles" not in d or style.lower() in d["styles"] for pointer in d.get("at_will", []))

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

    def cited(self, source: str) -> Provenance:
        """The provenance of a citation of ``source`` (an ``x-vpnconn-sources`` id): documented, with its title and date."""
        return _provenance({"documented": source}, self.sources)

    def error_provenance(self, kind: str, part: str = "error_code") -> Provenance:
        """The provenance of the ``status`` or the ``error_code`` of an ``x-vpnconn-errors`` kind."""
        entry = _error_table(self.document)[kind]["provenance"]
        return _provenance(entry[part] if "status" in entry else entry, self.sources)

    def query_schema(self, operation_id: str, name: str) -> dict[str, Any]:
        """The schema of the query parameter ``name`` of ``operation_id`` (SpecError when it has none so named)."""
        for parameter in (self.resolve(p) for p in self.operation_by_id(operation_id).node.get("parameters", [])):
            if parameter["in"] == "query" and parameter["name"] == name:
                return self.resolve(parameter["schema"])
        raise SpecError(f"{self.path}: {operation_id} has no query parameter {name!r}")

    def query_readings(self, operation_id: str) -> dict[str, tuple[dict[str, Any], ...]]:
        """The query parameters of ``operation_id`` that an older page of the API reads narrower than the spec
        (its ``x-vpnconn-provenance/query_readings``): name -> the parameter's schema as each such page reads it."""
        table = self.operation_by_id(operation_id).node.get("x-vpnconn-provenance", {}).get("query_readings", {})
        return {name: tuple({**self.query_schema(operation_id, name), **r["schema"]} for r in readings)
                for name, readings in table.items()}

    def page_size(self, operation_id: str = LIST) -> int:
        """The largest ``limit`` of ``operation_id`` that every page of the API takes: the spec's maximum, or the
        smallest a narrower reading gives (a list that asks for more is refused by a target that follows that page)."""
        readings = (self.query_schema(operation_id, "limit"), *self.query_readings(operation_id).get("limit", ()))
        return min(int(schema["maximum"]) for schema in readings)

    def check_provenance(self, check: str, operation_id: str = CREATE) -> Provenance:
        """The provenance of what a check expects (a schemathesis built-in or one of ours): the operation's
        default unless its ``x-vpnconn-provenance`` lists the check."""
        table = self.operation_by_id(operation_id).node["x-vpnconn-provenance"]
        return _provenance(table.get("checks", {}).get(check, table["default"]), self.sources)

    def style_variants(self, schema_name: str = CREATE_CONTENT) -> dict[str, dict[str, Any]]:
        """Style name -> its ``oneOf`` variant of ``schema_name``, matched by the variant's ``style`` const.

        Works for the request (lower-case names) and the answers (:data:`ANSWER_CONNECTION`, upper-case).
        """
        variants = {}
        for branch in self.schema(schema_name)["oneOf"]:
            variant = self.resolve(branch)
            const = self.resolve(variant.get("properties", {}).get("style", {})).get("const")
            if not isinstance(const, str):
                raise SpecError(f"{self.path}: a oneOf variant of {schema_name} has no properties/style/const")
            variants[const] = variant
        return variants

    def refused_fields(self, schema_name: str) -> dict[str, frozenset[str]]:
        """Style name -> the fields its ``oneOf`` variant of ``schema_name`` refuses (``false``)."""
        return {style: frozenset(name for name, sub in variant.get("properties", {}).items() if sub is False)
                for style, variant in self.style_variants(schema_name).items()}

    @property
    def styles(self) -> tuple[str, ...]:
        """The request's style names, in the order of the style enum."""
        return tuple(self.resolve(self.schema(CREATE_CONTENT)["properties"]["style"])["enum"])

    @functools.cached_property
    def default_style(self) -> str:
        return self._request_defaults["style"]

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
                target = target[int(part)] if isinstance(target, list) else target[part]
            node = target
        return node

    def standalone_schema(self, name: str) -> dict[str, Any]:
        """A JSON Schema (2020-12) for component ``name`` whose local ``$ref``s resolve inside it."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": f"#/components/schemas/{name}",
            "components": self.document["components"],
        }

    def examples(self, kind: str, operation_id: str = CREATE) -> dict[str, Any]:
        """Named example values of an operation's request (``kind='request'``) or of an answer (``'201'``)."""
        node = self.operation_by_id(operation_id).node
        if kind == "request":
            media = node["requestBody"]["content"]["application/json"]
        else:
            media = self.resolve(node["responses"][kind]).get("content", {}).get("application/json", {})
        if "examples" in media:
            return {name: self.resolve(ex)["value"] for name, ex in media["examples"].items()}
        return {"example": media["example"]} if "example" in media else {}

    def request_defaults(self) -> dict[str, Any]:
        """The request schema's ``default`` keywords as a nested dict (objects merged field by field); a fresh copy."""
        return copy.deepcopy(self._request_defaults)

    @functools.cached_property
    def _request_defaults(self) -> dict[str, Any]:  # read on every request (the style rules): computed once
        return _defaults_of(self, self.schema(CREATE_CONTENT))


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


def _validate_openapi(document: dict[str, Any], path: Path, raw: bytes) -> None:
    """Validate ``document`` (read from ``raw``) with openapi-spec-validator, unless these very bytes passed
    the same validator version before: the result depends on nothing else, and validating costs about a second
    and a third in every process that loads the spec (importing the validator and running it). A pass is noted
    as an empty file named by the bytes' and the version's hash in :data:`VALIDATED_DIR`; where it cannot be
    written, every load validates."""
    from importlib.metadata import version

    marker = VALIDATED_DIR / hashlib.sha256(raw + f"\0openapi-spec-validator {version('openapi-spec-validator')}".encode()).hexdigest()
    if marker.is_file():
        return
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(document)
    except OpenAPIValidationError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise SpecError(f"{path}: not a valid OpenAPI 3.1 document at {where}: {exc.message}") from None
    except (TypeError, ValueError) as exc:  # the validator crashes on some malformed values
        raise SpecError(f"{path}: openapi-spec-validator could not read it: {exc}") from None
    try:
        VALIDATED_DIR.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass


UNRECORDED = Provenance(True, None, "(not recorded: an older spec read as a baseline)", "")


def _rules_of(document: dict[str, Any]) -> tuple[Rule, ...]:
    operation = next(o for o in _operations(document) if o.id == CREATE).node
    errors = _error_table(document)
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
        document = yaml.load(raw, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        raise SpecError(f"{spec_path}: not YAML: {exc}") from None
    if not isinstance(document, dict):
        raise SpecError(f"{spec_path}: expected a mapping at the top level")
    _validate_openapi(document, spec_path, raw)
    # Round-trip through JSON so that YAML-only types (dates, ...) cannot leak into validators.
    try:
        document = json.loads(json.dumps(document))
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{spec_path}: a value is not JSON ({exc}); quote dates and other YAML-only values") from None
    if baseline:
        return Spec(path=spec_path, document=document, sha256=hashlib.sha256(raw).hexdigest(), rules=_rules_of(document))
    check_extensions(document, str(spec_path))
    errors = _error_table(document)
    if not any(o.id == CREATE for o in _operations(document)):
        raise SpecError(f"{spec_path}: no operation {CREATE!r}: the named rules and constraints describe its request")
    for rule in next(o for o in _operations(document) if o.id == CREATE).node.get("x-vpnconn-rules", []):
        if isinstance(rule["error"], str) and rule["error"] not in errors:
            raise SpecError(f"{spec_path}: rule {rule['id']} names the error kind {rule['error']!r}, "
                            f"which x-vpnconn-errors does not define")
    for name, quota in document.get("x-vpnconn-quotas", {}).items():
        if quota.get("error", "") not in errors:
            raise SpecError(f"{spec_path}: quota {name} names the error kind {quota.get('error')!r}, "
                            f"which x-vpnconn-errors does not define")
    spec = Spec(path=spec_path, document=document, sha256=hashlib.sha256(raw).hexdigest(), rules=_rules_of(document))
    _check_provenance_names(spec)
    _check_quota_fields(spec)
    _check_other_forms(spec)
    _check_query_readings(spec)
    return spec


def _check_query_readings(spec: Spec) -> None:
    """Every query reading names a query parameter of its operation (a typo would silently read none)."""
    for operation in spec.operations:
        for name in operation.node.get("x-vpnconn-provenance", {}).get("query_readings", {}):
            try:
                spec.query_schema(operation.id, name)
            except SpecError:
                raise SpecError(f"{spec.path}: {operation.id}'s x-vpnconn-provenance/query_readings names {name!r}, "
                                "which is no query parameter of it") from None


def _check_other_forms(spec: Spec) -> None:
    """Every divergence an ``x-vpnconn-also-documented`` names is listed with its why under the create operation's
    ``x-vpnconn-provenance/checks``, where the verdicts read it (a typo would silently keep the default: documented)."""
    checks = spec.operation["x-vpnconn-provenance"].get("checks", {})
    for name, (_, divergence) in spec.answer_forms_also_documented.items():
        if divergence not in checks:
            raise SpecError(f"{spec.path}: components/schemas/{name}/x-vpnconn-also-documented names the divergence "
                            f"{divergence!r}, which the create operation's x-vpnconn-provenance/checks does not list")


def _check_quota_fields(spec: Spec) -> None:
    """Every field a quota counts per is one a create gives (a typo would count every connection under one key)."""
    create = spec.operation_by_id(CREATE)
    fields = spec.resolve(spec.schema(str(create.request_schema))["properties"]["vpn_connection"]).get("properties", {})
    for name in spec.quota_names:
        unknown = [f for f in spec.quota_fields(name) if f not in fields]
        if unknown:
            raise SpecError(f"{spec.path}: quota {name} counts per {', '.join(unknown)}, which a create's vpn_connection "
                            "does not have")


def _check_provenance_names(spec: Spec) -> None:
    """Every constraint that ``x-vpnconn-provenance`` names exists (a typo would silently keep the default)."""
    from vpnconn.constraints import request_constraints

    known = {c.name for c in request_constraints(spec)}
    table = spec.operation["x-vpnconn-provenance"].get("constraints", {})
    unknown = sorted(set(table) - known)
    if unknown:
        raise SpecError(f"{spec.path}: x-vpnconn-provenance names constraints the request does not have: "
                        f"{', '.join(unknown)} (names as in spec/cases/fail)")
