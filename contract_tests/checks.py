"""This project's semantic checks: what a schema alone cannot say about the answer.

Each check is a plain function named for the property it asserts, registered with ``@schemathesis.check``
so that it runs on every response of the run beside schemathesis' own checks. Expectations come from the
spec (request ``default`` keywords, ``x-vpnconn-server-defaults``, the style variants, the rules), never
from constants here. A check raises ``AssertionError`` with what was expected beside what was received.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import schemathesis

from vpnconn import load_spec
from vpnconn.rules import RULES

SEMANTIC_CHECKS: list[str] = []
ERROR_CODE = re.compile(r"^[A-Z]+\.[0-9]{4}$")
IPV4 = re.compile(r"^(\d{1,3}\.){3}\d{1,3}$")


def semantic_check(fn):
    SEMANTIC_CHECKS.append(fn.__name__)
    return schemathesis.check(fn)


@functools.cache
def _expected() -> dict[str, Any]:
    spec = load_spec()
    named = spec.server_defaults
    response = spec.schema("CreateResponseVpnConnection")
    return {
        "defaults": spec.request_defaults(),
        "auto_name": re.compile(named["auto-name"]["pattern"]),
        "auto_tunnel_styles": {s.upper() for s in named["auto-tunnel-pair"]["styles"]},
        "forbidden": {v["title"]: {k for k, s in v["properties"].items() if s is False} for v in response["oneOf"]},
        "required": {v["title"]: set(v.get("required", [])) for v in response["oneOf"]},
        "tunnel_rules": [(RULES[r.id], r.params) for r in spec.rules
                         if r.id.startswith("tunnel-") and r.scope == "body"],
        "write_only": [k for k, v in spec.schema("CreateVpnConnectionRequestBodyContent")["properties"].items()
                       if spec.resolve(v).get("writeOnly")],
    }


@functools.lru_cache(maxsize=256)
def _parse(content: bytes) -> Any:
    try:
        return json.loads(content or b"")
    except ValueError:
        return None


def _json(response) -> Any:
    """The answer's JSON, parsed once for all the checks that read it (they never change it)."""
    return _parse(bytes(response.content or b""))


def _created(response, case) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(request connection, answered connection) of a 201 to a create body; None for anything else."""
    if response.status_code != 201 or not isinstance(case.body, dict):
        return None
    sent, body = case.body.get("vpn_connection"), _json(response)
    if not isinstance(sent, dict) or not isinstance(body, dict) or not isinstance(body.get("vpn_connection"), dict):
        return None
    return sent, body["vpn_connection"]


def _header(response, name: str) -> str | None:
    for key, values in response.headers.items():
        if key.lower() == name.lower():
            return values[0] if isinstance(values, list) else values
    return None


# ------------------------------------------------------------------------------------------- any answer


@semantic_check
def huawei_error_body(ctx, response, case):
    """Every 4xx/5xx answer carries {error_code, error_msg, request_id} in the Huawei shape."""
    if response.status_code < 400:
        return None
    body = _json(response)
    if not isinstance(body, dict):
        raise AssertionError(f"a {response.status_code} answer must be a JSON object {{error_code, error_msg, request_id}}; got {response.content[:200]!r}")
    problems = []
    if not isinstance(body.get("error_code"), str) or not ERROR_CODE.match(body["error_code"]):
        problems.append(f"error_code {body.get('error_code')!r} is not like VPN.0001")
    for key in ("error_msg", "request_id"):
        if not isinstance(body.get(key), str) or not body[key]:
            problems.append(f"{key} is missing or empty")
    if problems:
        raise AssertionError(f"the {response.status_code} error body is not the Huawei shape: " + "; ".join(problems))
    return None


@semantic_check
def request_id_in_body_and_header(ctx, response, case):
    """The answer's request_id is in the body and, equal, in the X-Request-Id header."""
    body = _json(response)
    if not isinstance(body, dict) or not (response.status_code == 201 or response.status_code >= 400):
        return None
    header = _header(response, "X-Request-Id")
    if not body.get("request_id") or header != body.get("request_id"):
        raise AssertionError(f"request_id in body {body.get('request_id')!r} and X-Request-Id header {header!r} must be present and equal")
    return None


@semantic_check
def psk_never_returned(ctx, response, case):
    """No answer carries a write-only field (the psk), neither as a field nor its sent value anywhere in its text."""
    text = response.content.decode("utf-8", "replace") if response.content else ""
    conn = case.body.get("vpn_connection") if isinstance(case.body, dict) else None
    for name in _expected()["write_only"]:
        sent = conn.get(name) if isinstance(conn, dict) else None
        if f'"{name}"' in text or (isinstance(sent, str) and len(sent) >= 6 and sent in text):
            raise AssertionError(f"the answer contains the {name} (it must never be returned)")
    return None


# ------------------------------------------------------------------------------------------- 201 answers


@semantic_check
def style_upper_cased(ctx, response, case):
    """The answer's style is the request's style upper-cased (static by default)."""
    pair = _created(response, case)
    if pair:
        sent, got = pair
        expected = str(sent.get("style", _expected()["defaults"]["style"])).upper()
        if got.get("style") != expected:
            raise AssertionError(f"style: expected {expected!r} (request {sent.get('style')!r}), got {got.get('style')!r}")
    return None


@semantic_check
def fields_present_per_style(ctx, response, case):
    """Each style has the fields its response variant requires (STATIC: enable_nqa), an assigned tunnel pair
    (STATIC, BGP) and, for POLICY, the rules it was sent; none has another style's fields."""
    pair = _created(response, case)
    if not pair:
        return None
    sent, got = pair
    style = got.get("style")
    wanted = set(_expected()["required"].get(style, set()))
    if style in _expected()["auto_tunnel_styles"]:
        wanted |= {"tunnel_local_address", "tunnel_peer_address"}
    if style == "POLICY" and "policy_rules" in sent:
        wanted.add("policy_rules")
    missing = sorted(wanted - got.keys())
    extra = sorted(_expected()["forbidden"].get(style, set()) & got.keys())
    if missing or extra:
        raise AssertionError(f"{style} answer: missing {missing or 'nothing'}, not allowed {extra or 'nothing'}")
    return None


_ECHOED = ("vgw_id", "vgw_ip", "cgw_id", "name", "peer_subnets", "peer_subnets_v6", "tags", "enable_nqa", "enable_hub",
           "enable_health_check", "tunnel_local_address", "tunnel_peer_address")


@semantic_check
def response_echoes_request(ctx, response, case):
    """Every value the request gave comes back: ids, name, subnets, tags, tunnel pair, rules, policy values."""
    pair = _created(response, case)
    if not pair:
        return None
    sent, got = pair
    diffs = [f"{k}: sent {sent[k]!r}, got {got.get(k)!r}" for k in _ECHOED if k in sent and got.get(k) != sent[k]]
    for field_name in ("policy_rules", "policy_rules_v6"):
        for i, rule in enumerate(sent.get(field_name) or []):
            answer = (got.get(field_name) or [])[i:i + 1]
            answer = answer[0] if answer else {}
            for key, value in rule.items():
                if answer.get(key) != value:
                    diffs.append(f"{field_name}[{i}].{key}: sent {value!r}, got {answer.get(key)!r}")
    for policy in ("ikepolicy", "ipsecpolicy"):
        given, answer = sent.get(policy) or {}, got.get(policy) or {}
        for key, value in given.items():
            if key == "dpd":
                for k, v in value.items():
                    if (answer.get("dpd") or {}).get(k) != v:
                        diffs.append(f"{policy}.dpd.{k}: sent {v!r}, got {(answer.get('dpd') or {}).get(k)!r}")
            elif key == "phase1_negotiation_mode" and given.get("ike_version") != "v1":
                continue  # only returned for IKE v1
            elif answer.get(key) != value:
                diffs.append(f"{policy}.{key}: sent {value!r}, got {answer.get(key)!r}")
    if diffs:
        raise AssertionError("the answer does not echo the request: " + "; ".join(diffs[:6]))
    return None


@semantic_check
def documented_defaults(ctx, response, case):
    """Every field the request left out has the documented server-filled default."""
    pair = _created(response, case)
    if not pair:
        return None
    sent, got = pair
    defaults, diffs = _expected()["defaults"], []
    for policy in ("ikepolicy", "ipsecpolicy"):
        given, answer = sent.get(policy) or {}, got.get(policy) or {}
        for key, value in defaults[policy].items():
            if key == "dpd":
                for k, v in value.items():
                    if k not in (given.get("dpd") or {}) and (answer.get("dpd") or {}).get(k) != v:
                        diffs.append(f"{policy}.dpd.{k}: expected {v!r}, got {(answer.get('dpd') or {}).get(k)!r}")
            elif key == "phase1_negotiation_mode":
                v1 = answer.get("ike_version") == "v1"
                if v1 and key not in given and answer.get(key) != value:
                    diffs.append(f"{policy}.{key}: expected {value!r} for IKE v1, got {answer.get(key)!r}")
                if not v1 and key in answer:
                    diffs.append(f"{policy}.{key} is returned only for IKE v1")
            elif key not in given and answer.get(key) != value:
                diffs.append(f"{policy}.{key}: expected {value!r}, got {answer.get(key)!r}")
    ike = got.get("ikepolicy") or {}
    for id_key, type_key in (("local_id", "local_id_type"), ("peer_id", "peer_id_type")):
        if ike.get(type_key) == "ip" and id_key not in (sent.get("ikepolicy") or {}) and not IPV4.match(str(ike.get(id_key))):
            diffs.append(f"ikepolicy.{id_key}: expected the gateway's IPv4 address, got {ike.get(id_key)!r}")
    for key in (k for k, v in defaults.items() if not isinstance(v, dict) and k != "style"):
        if key not in sent and key in got and got[key] != defaults[key]:
            diffs.append(f"{key}: expected {defaults[key]!r}, got {got[key]!r}")
    if diffs:
        raise AssertionError("server-filled defaults differ from the documented ones: " + "; ".join(diffs[:6]))
    return None


@semantic_check
def auto_name_format(ctx, response, case):
    """A connection created without a name is named vpn- and 4 lower-case hex digits."""
    pair = _created(response, case)
    if pair and "name" not in pair[0] and not _expected()["auto_name"].match(str(pair[1].get("name"))):
        raise AssertionError(f"auto-assigned name {pair[1].get('name')!r} does not match {_expected()['auto_name'].pattern}")
    return None


@semantic_check
def tunnel_pair_valid(ctx, response, case):
    """Returned tunnel addresses are the two usable hosts of one /30 in 169.254.0.0/16, outside 169.254.195.0/24."""
    pair = _created(response, case)
    if not pair or not ({"tunnel_local_address", "tunnel_peer_address"} & pair[1].keys()):
        return None
    got = pair[1]
    try:
        breaches = [m for fn, params in _expected()["tunnel_rules"] for _, m in fn(got, params)]
    except (ValueError, TypeError):
        breaches = [f"{got.get('tunnel_local_address')!r}/{got.get('tunnel_peer_address')!r} are not IPv4 /30 addresses"]
    if breaches:
        raise AssertionError("tunnel pair in the answer: " + "; ".join(breaches))
    return None


@semantic_check
def timestamps_consistent(ctx, response, case):
    """created_at equals updated_at in a 201."""
    pair = _created(response, case)
    if pair and pair[1].get("created_at") != pair[1].get("updated_at"):
        raise AssertionError(f"created_at {pair[1].get('created_at')!r} != updated_at {pair[1].get('updated_at')!r}")
    return None
