"""This project's semantic checks: what a schema alone cannot say about the answer.

A check is a plain function named for the property it asserts, with one typed signature,
``check(answer: Answer, sent: Any) -> None`` (the answer and the request body as sent), registered with
:func:`semantic_check`. That registers it with schemathesis too (through a small adapter), so it runs on
every response of the schemathesis phases, and our rules phase calls the very same functions. A check
raises :class:`~contract_tests.records.Finding` with what was expected beside what was received, the rule
it holds the target to and that rule's provenance (documented or inferred). Expectations come from the
spec, never from constants here.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import schemathesis

from contract_tests import answer_json
from contract_tests.error_bodies import OTHER_SHAPE, error_code_of, in_error_codes_page_shape
from contract_tests.listing import compare, short, written_otherwise
from contract_tests.records import Failure, Finding
from contract_tests.verdicts import (
    ADDRESS_CLASS_WIDER,
    address_class_answer,
    address_class_refusal,
    body_violations,
    error_provenance,
    refusals_with_nulls_left_out,
)
from vpnconn import load_spec
from vpnconn.constraints import strings_in
from vpnconn.json_schema import matches
from vpnconn.nulls import EMPTY_AS_LEFT_OUT, NULL_AS_LEFT_OUT, left_out
from vpnconn.rules import RULES, breaks_address_classes
from vpnconn.spec import ANSWER_CONNECTION, CREATE_BODY, CREATE_CONTENT, IKE_IDS, RULE_LISTS
from vpnconn.unlisted import listed_only
from vpnconn.validation import Violation, request_check
from vpnconn.world import OPEN_WORLD, Gateway, World

ERROR_CODE = re.compile(r"^[A-Z]+\.[0-9]{4}$")
PHASE1_V1_ONLY = "phase1_mode_v1_only"  # the divergence of phase1_negotiation_mode answered for IKE v2
GM_NATIONAL = "gm_national_algorithms"  # the divergence of a GM gateway's refusal of a body that names other algorithms
AUTO_NAME_HEX = "auto_name_hex_digits"  # the divergence of an auto name of vpn- and four characters that are not hex digits
REQUEST_ID_EQUAL = "request_id_equal_in_header"  # the divergence of a header's request id that differs from the body's
REQUEST_ID_HEADER = "request_id_header"  # ... and of an answer without that header
UPDATED_EQUAL_ON_CREATE = "updated_at_equal_on_create"  # the divergence of a create answered with a later updated_at
IP_ID_ECHOED = "ip_id_echoed"  # the divergence of an IP-type local_id or peer_id answered as the gateway's, not as given
ALSO_ANSWERED = "answered_as_"  # + an error kind: the divergence of a refusal with a code its also_for gives
IPV4 = re.compile(r"^(\d{1,3}\.){3}\d{1,3}$")


@dataclass
class Answer:
    """What a check reads of a response, whichever client received it."""

    status: int
    headers: dict[str, str]  # names lower-cased
    content: bytes
    written: Any = field(init=False)  # the body's JSON as written (None when it is not JSON): what a schema is held to
    json: Any = field(init=False)  # the same with each member written null left out (vpnconn.nulls): what the checks read

    def __post_init__(self) -> None:
        self.headers = {k.lower(): v for k, v in self.headers.items()}
        self.written = _parse(self.content or b"")
        self.json = left_out(self.written) if b"null" in self.content else self.written

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @classmethod
    def from_schemathesis(cls, response: Any) -> Answer:
        headers = {k: (v[0] if isinstance(v, list) and v else str(v)) for k, v in dict(response.headers or {}).items()}
        return cls(response.status_code, headers, bytes(response.content or b""))


Check = Callable[[Answer, Any], None]
SEMANTIC_CHECKS: dict[str, Check] = {}


def semantic_check(fn: Check) -> Check:
    """Register ``fn`` as one of our checks, and with schemathesis under the same name."""
    SEMANTIC_CHECKS[fn.__name__] = fn

    def adapter(ctx: Any, response: Any, case: Any) -> None:
        fn(Answer.from_schemathesis(response), case.body)

    adapter.__name__ = adapter.__qualname__ = fn.__name__
    adapter.__doc__ = fn.__doc__
    schemathesis.check(adapter)
    return fn


def run_checks(answer: Answer, sent: Any, only: tuple[str, ...] | None = None) -> list[Failure]:
    """Every registered check (or those named in ``only``) on one answer: the failures they found."""
    found = []
    for name, check in SEMANTIC_CHECKS.items():
        if only is not None and name not in only:
            continue
        try:
            check(answer, sent)
        except Finding as finding:
            found.append(Failure.of(name, finding))
    return found


@functools.cache
def _expected() -> dict[str, Any]:
    spec = load_spec()
    named = spec.server_defaults
    variants = spec.style_variants(ANSWER_CONNECTION)
    return {
        "defaults": spec.request_defaults(),
        # statuses that may answer any request: the body-size limit (its limit is not documented) and busy answers
        "any_time_statuses": {spec.errors["body-too-large"]["status"], *spec.transient_statuses},
        "auto_name": named["auto-name"]["pattern"],
        "auto_name_documented": named["auto-name"]["documented_pattern"],
        "auto_tunnel_styles": {s.upper() for s in named["auto-tunnel-pair"]["styles"]},
        "integer_fields": spec.integer_fields,
        "forbidden": spec.refused_fields(ANSWER_CONNECTION),
        "required": {style: set(v.get("required", [])) for style, v in variants.items()},
        "tunnel_rules": [(RULES[r.id], r.params) for r in spec.rules
                         if r.id.startswith("tunnel-") and r.scope == "body"],
        "write_only": [k for k, v in spec.schema(CREATE_CONTENT)["properties"].items()
                       if spec.resolve(v).get("writeOnly")],
        "er_omit_styles": set(named["er-omits-peer-subnets"]["styles"]),
        "gm_omitted": {p.removeprefix("/vpn_connection/").replace("/", ".") for p in named["gm-omitted-fields"]["omit"]},
        "gm_values": {f"{policy}.{key}": value for (policy, key), value in spec.gm_values.items()},
    }


_TOLD: list[World] = [OPEN_WORLD]  # the world whose gateways the answers being judged are of (judging_in)


@contextlib.contextmanager
def judging_in(world: World) -> Iterator[World]:
    """Judge the answers of the block as those of ``world``'s gateways: a run's told world (vpnconn.world.told_world),
    the open world but for what its user told of the gateway; the open world again after."""
    previous, _TOLD[0] = _TOLD[0], world
    try:
        yield world
    finally:
        _TOLD[0] = previous


def _told_gateway(req: dict[str, Any]) -> Gateway | None:
    """The gateway of a create's connection ``req`` in the told world (None for an id it does not hold)."""
    return _TOLD[0].gateway(str(req.get("vgw_id", "")))


def _gateway_leaves_out(req: dict[str, Any]) -> frozenset[str]:
    """The fields (dotted: ``ikepolicy.dh_group``) that the gateway of a create leaves out of its answers, as the run
    was told it: a POLICY or BGP connection's peer_subnets on an ER-attached gateway (er-omits-peer-subnets), the IKE
    and IPsec fields of gm-omitted-fields on a GM gateway; none on the open world's."""
    gateway = _told_gateway(req)
    left: set[str] = set()
    if gateway is not None and gateway.attachment_type == "er" and \
            str(req.get("style", _expected()["defaults"]["style"])).lower() in _expected()["er_omit_styles"]:
        left.add("peer_subnets")
    if gateway is not None and gateway.is_gm:
        left |= _expected()["gm_omitted"]
    return frozenset(left)


def _gateway_chooses(req: dict[str, Any]) -> dict[str, str]:
    """The fields (dotted) whose value the gateway of a create may choose where the create leaves them out, in place of
    the documented default, as the run was told it: a GM gateway's national algorithms (gm-algorithms); the value it may
    choose for each; none on the open world's."""
    gateway = _told_gateway(req)
    if gateway is None or not gateway.is_gm:
        return {}
    return _expected()["gm_values"]


def left_out_by_gateway(req: dict[str, Any], got: dict[str, Any]) -> frozenset[str]:
    """Those fields of ``_gateway_leaves_out`` (the told gateway's) that the answer ``got`` leaves out: not expected
    there (one the gateway answers all the same is judged as any other). A list written empty is left out too
    (``empty_list_as_left_out``: the schema checks report the empty list, a divergence). The lifecycle phase's update
    asks it too."""
    def absent(name: str) -> bool:
        parent, _, key = name.rpartition(".")
        held = _object(got.get(parent)) if parent else got
        return key not in held or held[key] == []

    return frozenset(name for name in _gateway_leaves_out(req) if absent(name))


@functools.lru_cache(maxsize=256)
def _parse(content: bytes) -> Any:
    try:
        return answer_json.loads(content or b"")
    except ValueError:
        return


def _created(answer: Answer, sent: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(request connection, answered connection) of a 201 to a create body; None for anything else. The request is
    read as the answer is, each field written null left out, and each attribute the request schema does not list:
    a server that took it read it so (vpnconn.nulls, vpnconn.unlisted)."""
    if answer.status != 201 or not isinstance(sent, dict):
        return None
    conn, body = sent.get("vpn_connection"), answer.json
    if not isinstance(conn, dict) or not isinstance(body, dict) or not isinstance(body.get("vpn_connection"), dict):
        return None
    return listed_only(load_spec(), CREATE_CONTENT, left_out(conn)), body["vpn_connection"]


def _object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (a request that a server should have refused may hold anything)."""
    return value if isinstance(value, dict) else {}


# ------------------------------------------------------------------------------------------- any answer


@semantic_check
def huawei_error_body(answer: Answer, sent: Any) -> None:
    """Every 4xx/5xx answer carries {error_code, error_msg, request_id} in the Huawei shape; {code, message}, the
    shape the VPN error codes page documents, is a divergence (contract_tests.error_bodies)."""
    if answer.status < 400:
        return
    body = answer.json
    if in_error_codes_page_shape(body):
        raise Finding(f"the {answer.status} error body is {{code, message}}, as the VPN error codes page documents it, "
                      "not {error_code, error_msg, request_id}, as the examples and real answers write it",
                      title="Error body in the error codes page's shape", provenance=load_spec().check_provenance(OTHER_SHAPE))
    if not isinstance(body, dict):
        raise Finding(f"a {answer.status} answer must be a JSON object {{error_code, error_msg, request_id}}; got {answer.content[:200]!r}")
    problems = []
    if not isinstance(body.get("error_code"), str) or not ERROR_CODE.match(body["error_code"]):
        problems.append(f"error_code {body.get('error_code')!r} is not like VPN.0001")
    for key in ("error_msg", "request_id"):
        if not isinstance(body.get(key), str) or not body[key]:
            problems.append(f"{key} is missing or empty")
    if problems:
        raise Finding(f"the {answer.status} error body is not the Huawei shape: " + "; ".join(problems))


@semantic_check
def request_id_in_body_and_header(answer: Answer, sent: Any) -> None:
    """The answer's request_id is in the body (the examples) and in the X-Request-Id header. That the header comes, and
    that the two are equal, is only inferred (``request_id_header``, ``request_id_equal_in_header``): a divergence."""
    body = answer.json
    if not isinstance(body, dict) or not (200 <= answer.status < 300 or answer.status >= 400):
        return
    header = answer.header("X-Request-Id")
    if in_error_codes_page_shape(body):  # a shape without request_id (huawei_error_body says so): the header alone
        if not header:
            raise _without_header("and the error body, in the error codes page's shape, carries no request_id")
        return
    if not body.get("request_id"):
        raise Finding(f"request_id in body {body.get('request_id')!r} must be present (X-Request-Id header {header!r})")
    if not header:
        raise _without_header(f"(the body's request_id is {body['request_id']!r})")
    if header != body.get("request_id"):
        raise Finding(f"request_id in body {body.get('request_id')!r} and X-Request-Id header {header!r} differ",
                      title="Request id differs in the header", rule=REQUEST_ID_EQUAL,
                      provenance=load_spec().check_provenance(REQUEST_ID_EQUAL))


def _without_header(detail: str) -> Finding:
    """An answer without an X-Request-Id header: generic Huawei behaviour, no page of the API documents it."""
    return Finding(f"no X-Request-Id header {detail}", title="No X-Request-Id header", rule=REQUEST_ID_HEADER,
                   provenance=load_spec().check_provenance(REQUEST_ID_HEADER))


@semantic_check
def psk_never_returned(answer: Answer, sent: Any) -> None:
    """No answer carries a write-only field (the psk), neither as a field nor its sent value anywhere in its text. A
    value the request also sent in a field that is not write-only (a name that is the psk, or holds it) is looked for
    outside the answer's echoes of those: a correct answer echoes the name."""
    text = answer.content.decode("utf-8", "replace")
    conn = sent.get("vpn_connection") if isinstance(sent, dict) else None
    write_only = _expected()["write_only"]
    for name in write_only:
        value = conn.get(name) if isinstance(conn, dict) else None
        if f'"{name}"' in text or (isinstance(value, str) and len(value) >= 6 and isinstance(conn, dict)
                                   and _carries(answer, text, value, conn, write_only)):
            raise Finding(f"the answer contains the {name} (it must never be returned)")


def _carries(answer: Answer, text: str, value: str, conn: dict[str, Any], write_only: Any) -> bool:
    """Does the answer hold ``value`` (a write-only field's sent value) other than within an echo of one of the request's
    other strings that hold it (its strings and keys, JSON read; its text where it is not JSON)?"""
    echoed = sorted({s for s in strings_in({k: v for k, v in conn.items() if k not in write_only}) if value in s},
                    key=len, reverse=True)
    if not echoed:
        return value in text
    places = [text] if answer.json is None else list(strings_in(answer.json))
    return any(value in functools.reduce(lambda rest, echo: rest.replace(echo, ""), echoed, place) for place in places)


@semantic_check
def json_in_utf8_without_bom(answer: Answer, sent: Any) -> None:
    """A JSON answer is UTF-8 without a byte order mark (RFC 8259, section 8.1). Python's json, and so schemathesis,
    also reads a BOM and UTF-16 or UTF-32 text (the other checks see such an answer as JSON); Go's encoding/json
    refuses all three."""
    head = answer.content[:4]
    if head.startswith(codecs.BOM_UTF8):
        why = "starts with a UTF-8 byte order mark"
    elif b"\x00" in head:  # as json.detect_encoding tells UTF-16 and UTF-32 (JSON text starts with ASCII)
        why = f"is not UTF-8 (its first bytes {head!r} are UTF-16 or UTF-32)"
    else:
        return
    if answer.json is not None:  # (not JSON at all is the schema checks' finding)
        raise Finding(f"the {answer.status} answer's JSON {why}: RFC 8259 wants UTF-8 without a byte order mark, and a "
                      "typed client (Go's encoding/json) cannot read it", title="JSON not in plain UTF-8",
                      provenance=load_spec().check_provenance("json_in_utf8_without_bom"))


@semantic_check
def integers_without_fraction(answer: Answer, sent: Any) -> None:
    """An integer field is written as an integer: ``86400``, not ``86400.0`` or ``8.64e4``. JSON Schema counts
    86400.0 an integer (the schema checks pass it); a typed client (Go's encoding/json) refuses it. Only inferred:
    a divergence. (A fraction that is not whole, ``86400.5``, breaks the schema itself: its check reports it.)"""
    written = sorted(_whole_floats(answer.json, "", _expected()["integer_fields"]))
    if written:
        listed = ", ".join(f"{at} is {value!r}" for at, value in written[:6])
        raise Finding(f"integer fields written with a fraction: {listed}; a typed client (Go's encoding/json) refuses "
                      f"{written[0][1]!r} for an integer, and takes {int(written[0][1])}",
                      title="Integer written with a fraction", provenance=load_spec().check_provenance("integers_without_fraction"))


def _whole_floats(node: Any, at: str, names: frozenset[str]) -> Iterator[tuple[str, float]]:
    """(pointer, value) of every whole-number float held by a field named in ``names``, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, float) and key in names and value.is_integer():
                yield f"{at}/{key}", value
            elif isinstance(value, (dict, list)):
                yield from _whole_floats(value, f"{at}/{key}", names)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _whole_floats(value, f"{at}/{index}", names)


# ------------------------------------------------------------------------------------------- 201 answers


@semantic_check
def style_upper_cased(answer: Answer, sent: Any) -> None:
    """The answer's style is the request's style upper-cased (static by default)."""
    pair = _created(answer, sent)
    if pair:
        req, got = pair
        expected = str(req.get("style", _expected()["defaults"]["style"])).upper()
        if got.get("style") != expected:
            raise Finding(f"style: expected {expected!r} (request {req.get('style')!r}), got {got.get('style')!r}")


@semantic_check
def fields_present_per_style(answer: Answer, sent: Any) -> None:
    """Each style has the fields its response variant requires (STATIC: enable_nqa), an assigned tunnel pair
    (STATIC, BGP) and, for POLICY, the rules it was sent; none has another style's fields."""
    pair = _created(answer, sent)
    if not pair:
        return
    req, got = pair
    style = got.get("style")
    wanted = set(_expected()["required"].get(style, set()))
    if style in _expected()["auto_tunnel_styles"]:
        wanted |= {"tunnel_local_address", "tunnel_peer_address"}
    if style == "POLICY" and "policy_rules" in req:
        wanted.add("policy_rules")
    missing = sorted(wanted - got.keys())
    extra = sorted(_expected()["forbidden"].get(style, set()) & got.keys())
    empty = [name for name in extra if got[name] == []]  # another style's list written empty: it holds nothing
    if missing or len(empty) < len(extra):
        held = [name for name in extra if name not in empty]
        raise Finding(f"{style} answer: missing {missing or 'nothing'}, not allowed {held or 'nothing'}")
    if empty:
        raise Finding(f"{style} answer: {', '.join(empty)} written as an empty list, where the pages give the field for "
                      "another style only", title="Another style's list written empty", rule=EMPTY_AS_LEFT_OUT,
                      provenance=load_spec().check_provenance(EMPTY_AS_LEFT_OUT))


_ECHOED = ("vgw_id", "vgw_ip", "cgw_id", "name", "peer_subnets", "peer_subnets_v6", "tags", "enable_nqa", "enable_hub",
           "enable_health_check", "tunnel_local_address", "tunnel_peer_address")


@semantic_check
def response_echoes_request(answer: Answer, sent: Any) -> None:
    """Every value the request gave comes back: ids, name, subnets, tags, tunnel pair, rules, policy values. A list
    that holds what was sent, written otherwise (in another order, a duplicate merged, the rules grouped otherwise, a
    network in another form), is a divergence (contract_tests.listing); a rule's ``rule_index`` is the server's own
    (the spec: ``echoed: false``). An IKE id of type ip answered as another IPv4 address, the gateway's (the zh
    pages' reading), is a divergence too (``ip_id_echoed``). A field the run was told the gateway leaves out (an
    ER-attached gateway's peer_subnets, a GM gateway's IKE ids: ``left_out_by_gateway``) is not expected."""
    pair = _created(answer, sent)
    if not pair:
        return
    req, got = pair
    # Policy rules are returned only for style POLICY (documented); another style may have ignored them.
    rules = [name for name in RULE_LISTS if req.get(name)] if got.get("style") == "POLICY" else []
    left = left_out_by_gateway(req, got)
    differ, otherwise = compare(req, got, [k for k in _ECHOED if k in req and k not in left] + rules)
    diffs, inferred = [f"{k}: sent {short(req[k])}, got {short(got.get(k))}" for k in differ], list[str]()
    for policy in ("ikepolicy", "ipsecpolicy"):
        given, returned = _object(req.get(policy)), _object(got.get(policy))
        for key, value in given.items():
            if key == "dpd" and isinstance(value, dict):
                for k, v in value.items():
                    if _object(returned.get("dpd")).get(k) != v:
                        diffs.append(f"{policy}.dpd.{k}: sent {v!r}, got {_object(returned.get('dpd')).get(k)!r}")
            elif (key == "phase1_negotiation_mode" and given.get("ike_version") != "v1") or f"{policy}.{key}" in left:
                continue  # only returned for IKE v1; or a field the gateway leaves out (a GM gateway's)
            elif returned.get(key) != value:
                gateways = policy == "ikepolicy" and key in IKE_IDS and returned.get(IKE_IDS[key]) == "ip" and \
                    IPV4.match(str(returned.get(key)))  # (an IP of its own: the gateway's, as the zh pages say)
                (inferred if gateways else diffs).append(f"{policy}.{key}: sent {value!r}, got {returned.get(key)!r}")
    if diffs:
        raise Finding("the answer does not echo the request: " + "; ".join((diffs + inferred)[:6]))
    if inferred:
        raise Finding("the answer gives another IP address than the one sent for an IKE id of type ip: "
                      + "; ".join(inferred), title="IKE id of type ip not echoed", rule=IP_ID_ECHOED,
                      provenance=load_spec().check_provenance(IP_ID_ECHOED))
    if otherwise:
        raise written_otherwise(otherwise, req, got)


@semantic_check
def documented_defaults(answer: Answer, sent: Any) -> None:
    """Every field the request left out has the documented server-filled default. That an IKE v2 answer leaves out
    ``phase1_negotiation_mode`` is only inferred, from the examples (``phase1_mode_v1_only``): a divergence alone."""
    pair = _created(answer, sent)
    if not pair:
        return
    req, got = pair
    defaults, diffs, inferred, left = _expected()["defaults"], [], [], left_out_by_gateway(req, got)
    chosen = _gateway_chooses(req)  # a GM gateway's algorithms, where the run is told it is one
    for policy in ("ikepolicy", "ipsecpolicy"):
        given, returned = _object(req.get(policy)), _object(got.get(policy))
        for key, value in defaults[policy].items():
            if f"{policy}.{key}" in left:
                continue  # a field the gateway leaves out (a GM gateway's: gm-omitted-fields)
            if key == "dpd":
                for k, v in value.items():
                    if k not in _object(given.get("dpd")) and _object(returned.get("dpd")).get(k) != v:
                        diffs.append(f"{policy}.dpd.{k}: expected {v!r}, got {_object(returned.get('dpd')).get(k)!r}")
            elif key == "phase1_negotiation_mode":
                v1 = returned.get("ike_version") == "v1"
                if v1 and key not in given and returned.get(key) != value:
                    diffs.append(f"{policy}.{key}: expected {value!r} for IKE v1, got {returned.get(key)!r}")
                if not v1 and key in returned:  # (the v2 examples leave it out: only inferred)
                    inferred.append(f"{policy}.{key} {returned[key]!r} is returned for IKE {returned.get('ike_version')!r}, "
                                    "where the examples give it for v1 only")
            elif f"{policy}.{key}" in chosen:
                if key not in given and returned.get(key) not in (value, chosen[f"{policy}.{key}"]):
                    diffs.append(f"{policy}.{key}: expected {value!r} or the GM gateway's {chosen[f'{policy}.{key}']!r}, "
                                 f"got {returned.get(key)!r}")
            elif key not in given and returned.get(key) != value:
                diffs.append(f"{policy}.{key}: expected {value!r}, got {returned.get(key)!r}")
    ike = _object(got.get("ikepolicy"))
    for id_key, type_key in IKE_IDS.items():
        if ike.get(type_key) == "ip" and id_key not in _object(req.get("ikepolicy")) and not IPV4.match(str(ike.get(id_key))):
            diffs.append(f"ikepolicy.{id_key}: expected the gateway's IPv4 address, got {ike.get(id_key)!r}")
    for key in (k for k, v in defaults.items() if not isinstance(v, dict) and k != "style"):
        if key not in req and key in got and got[key] != defaults[key]:
            diffs.append(f"{key}: expected {defaults[key]!r}, got {got[key]!r}")
    if diffs:
        raise Finding("server-filled defaults differ from the documented ones: " + "; ".join((diffs + inferred)[:6]))
    if inferred:
        raise Finding("; ".join(inferred), title="phase1_negotiation_mode for IKE v2", rule=PHASE1_V1_ONLY,
                      provenance=load_spec().check_provenance(PHASE1_V1_ONLY))


@semantic_check
def auto_name_format(answer: Answer, sent: Any) -> None:
    """A connection created without a name is named vpn- and four characters (documented); that they are lower-case hex
    digits is only inferred (``auto_name_hex_digits``): a name of another four, a divergence."""
    pair = _created(answer, sent)
    if not pair or "name" in pair[0]:
        return
    name, expected = str(pair[1].get("name")), _expected()
    if not matches(expected["auto_name_documented"], name):
        raise Finding(f"auto-assigned name {pair[1].get('name')!r} does not match {expected['auto_name_documented']}")
    if not matches(expected["auto_name"], name):
        raise Finding(f"auto-assigned name {name!r} is vpn- and four characters, as documented, but not the examples' four "
                      f"lower-case hex digits ({expected['auto_name']})", title="Auto name not in hex digits",
                      rule=AUTO_NAME_HEX, provenance=load_spec().check_provenance(AUTO_NAME_HEX))


@semantic_check
def tunnel_pair_valid(answer: Answer, sent: Any) -> None:
    """Returned tunnel addresses are the two usable hosts of one /30 in 169.254.0.0/16, outside 169.254.195.0/24."""
    pair = _created(answer, sent)
    if not pair or not ({"tunnel_local_address", "tunnel_peer_address"} & pair[1].keys()):
        return
    got = pair[1]
    try:
        breaches = [m for fn, params in _expected()["tunnel_rules"] for _, m in fn(got, params)]
    except (ValueError, TypeError):
        breaches = [f"{got.get('tunnel_local_address')!r}/{got.get('tunnel_peer_address')!r} are not IPv4 /30 addresses"]
    if breaches:
        raise Finding("tunnel pair in the answer: " + "; ".join(breaches))


@semantic_check
def timestamps_consistent(answer: Answer, sent: Any) -> None:
    """created_at equals updated_at in a 201. That they are equal is only inferred, from the examples
    (``updated_at_equal_on_create``): a later updated_at is a divergence; an earlier one is no time of a last update."""
    pair = _created(answer, sent)
    created, updated = (pair[1].get("created_at"), pair[1].get("updated_at")) if pair else (None, None)
    if created == updated:
        return
    created_instant, updated_instant = _instant(created), _instant(updated)
    if created_instant is not None and updated_instant is not None and updated_instant > created_instant:
        raise Finding(f"updated_at {updated!r} is later than created_at {created!r} in the create's answer",
                      title="updated_at later than created_at on create", rule=UPDATED_EQUAL_ON_CREATE,
                      provenance=load_spec().check_provenance(UPDATED_EQUAL_ON_CREATE))
    raise Finding(f"created_at {created!r} != updated_at {updated!r}")


def _instant(stamp: Any) -> datetime | None:
    """The instant a timestamp of an answer names (ISO 8601, ``Z`` or an offset); None when it names none."""
    try:
        return datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------- refusals


@semantic_check
def error_contract(answer: Answer, sent: Any) -> None:
    """A request the spec refuses gets the status and error_code the spec gives for its kind of failure
    (``x-vpnconn-errors`` and the rules' errors): 400 VPN.0001 for a schema or rule violation, 400 VPN.0013
    for an unsupported attribute. With several failures in one body, the answer may name any of them."""
    if not 400 <= answer.status < 500 or answer.status in _expected()["any_time_statuses"]:
        return
    violations = body_violations(sent)
    if not violations:
        return  # a valid body (a case negative only in its path or headers): nothing to expect here
    code = error_code_of(answer.json)
    if (answer.status, code) in {(v.status, v.error_code) for v in violations}:
        return  # it names one of the body's failures
    if (answer.status, code) in _told_world_refusals(sent):
        return  # a failure of the body on the gateway the run was told of (its local subnets, its role, its kind)
    if address_class_answer(answer.status, code) and breaks_address_classes(load_spec(), sent):
        return  # it breaks that rule too (the spec checks the rules only on a body its schema takes; a server may not)
    if (wider := address_class_refusal(answer.status, code, sent)) is not None:
        raise Finding(f"a body that breaks {', '.join(sorted({v.rule for v in violations})[:4])} got {answer.status} {code}. "
                      + wider[1], title="Refused for an address class, read widely", rule=ADDRESS_CLASS_WIDER,
                      provenance=wider[0])
    kinds = ", ".join(sorted({v.error_kind for v in violations}))
    expected = " or ".join(sorted({f"{v.status} {v.error_code}" for v in violations}))
    broken = ", ".join(sorted({v.rule for v in violations})[:4])
    if answer.status not in {v.status for v in violations}:
        _as_read_without_nulls(sent, answer.status, code, broken)
        raise Finding(f"a body that breaks {broken} must get {expected} ({kinds}); got {answer.status} {code or '(no error_code)'}",
                      title="Wrong status for a refused request", rule=f"{kinds}: got {answer.status}",
                      provenance=error_provenance(violations, "status"))
    same_status = [v for v in violations if v.status == answer.status]
    if code not in {v.error_code for v in same_status}:
        _as_read_without_nulls(sent, answer.status, code, broken)
        _as_refused_on_a_gm_gateway(sent, answer.status, code, broken)
        _as_also_answered(violations, answer.status, code)
        raise Finding(f"a body that breaks {broken} must get {expected} ({kinds}); got {answer.status} {code or '(no error_code)'}",
                      title="Wrong error_code for a refused request", rule=f"{kinds}: got {answer.status} {code}",
                      provenance=error_provenance(same_status, "error_code"))


def _told_world_refusals(sent: Any) -> set[tuple[int, str]]:
    """The refusals (status, code) the told gateway's rules give ``sent`` read without the attributes no request schema
    lists, where the run was told something of its gateway: failures of the body that ``body_violations`` does not name
    (it stops at the schema's, and judges no world), which a server that checks its gateway first, or ignores what it
    does not know, answers. None in the open world."""
    if _TOLD[0] is OPEN_WORLD or not isinstance(sent, dict) or not isinstance(sent.get("vpn_connection"), dict):
        return set()
    read = listed_only(load_spec(), CREATE_BODY, sent)
    return {(v.status, v.error_code) for v in request_check(load_spec()).violations(read, world=_TOLD[0])
            if v.rule.startswith("x-") and v.rule.removeprefix("x-") in _world_rules()}


@functools.cache
def _world_rules() -> frozenset[str]:
    return frozenset(rule.id for rule in load_spec().rules if rule.scope == "world")


def _as_also_answered(violations: tuple[Violation, ...], status: int, code: str | None) -> None:
    """Raise the divergence ``answered_as_<kind>`` when the refusal is the one the error codes page also gives for a
    failure of the body (``also_for`` of ``x-vpnconn-errors``: VPN.0203 for a value that is no IP address), where the
    spec gives another (VPN.0001, any failure of the schema)."""
    errors = load_spec().errors
    for violation in violations:
        kind = next((k for k in violation.also if (errors[k]["status"], errors[k]["error_code"]) == (status, code)), None)
        if kind is not None:
            raise Finding(f"{violation.pointer or '/'} ({violation.rule}) got {status} {code}, the code the error codes page gives "
                          f"for it ({kind}), where the spec gives {violation.status} {violation.error_code}",
                          title="Refused with the error codes page's code for it", rule=f"{ALSO_ANSWERED}{kind}",
                          provenance=load_spec().check_provenance(f"{ALSO_ANSWERED}{kind}"))


def _as_refused_on_a_gm_gateway(sent: Any, status: int, code: str | None, broken: str) -> None:
    """Raise the divergence ``gm_national_algorithms`` when the refusal is the one the spec gives for a request the service
    will not carry out (400 VPN.0001) and the body names, for a gateway the run was told is GM, an algorithm or an
    authentication method other than the national one (gm-algorithms): a GM gateway that takes those alone refuses it."""
    conn = _object(sent.get("vpn_connection")) if isinstance(sent, dict) else {}
    named = [f"{name} {short(value, 20)}" for name, value, _ in load_spec().gm_named_otherwise(conn)] \
        if _gateway_chooses(conn) else []
    violation = load_spec().errors["schema-violation"]
    if named and (status, code) == (violation["status"], violation["error_code"]):
        raise Finding(f"a body that breaks {broken} got {status} {code}; on the GM gateway it names {', '.join(named[:3])}, "
                      "where the zh pages give a GM gateway the national algorithms (sm3)",
                      title="Refused on a GM gateway for its algorithms", rule=GM_NATIONAL,
                      provenance=load_spec().check_provenance(GM_NATIONAL))


def _as_read_without_nulls(sent: Any, status: int, code: str | None, broken: str) -> None:
    """Raise the divergence ``null_as_left_out`` when the refusal is the one the spec gives for ``sent`` read with its
    members written null left out, as a server that reads a null so refuses it (a body whose only unsupported
    attribute is written null, refused for what else it breaks)."""
    if any(v.status == status and v.error_code == code for v in refusals_with_nulls_left_out(sent)):
        raise Finding(f"a body that breaks {broken} got {status} {code}: what the spec gives for the body read with its "
                      "fields written null left out", title="Refused as read with its nulls left out",
                      rule=NULL_AS_LEFT_OUT, provenance=load_spec().check_provenance(NULL_AS_LEFT_OUT))
