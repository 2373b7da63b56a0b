"""The gateway and the customer gateway a run's creates name: may each create name a customer gateway of its own,
and does the target have them at all?

A gateway address and a customer gateway hold one connection (the spec's quota, from the user guide), so a run
whose creates all name one customer gateway holds one connection at a time: it deletes each (and waits until it is
gone) before the next create. Where the user names a customer gateway (``--cgw-id``), that is what every create
names. Where the user names none, the default ids are the examples', which exist only where every well-formed id
does (an open world, as on the reference server without a world file): there each create may name a customer
gateway of its own (:class:`~vpnconn.repair.Repairer` ``own_customer_gateways``) and the run keeps its pace.

Whether the target's world is open is asked once, before any phase: a create that names a customer gateway nobody
made. Carried out (any 2xx): the world is open (the connection is the run's, deleted with the rest). Refused (a 4xx:
the spec's "customer gateway does not exist", or another refusal, from a target whose gateways are its own, as an
emulator seeded with the examples' ids): every create names the default customer gateway, one connection at a time,
and the run says so. An answer that does not tell (none, a 5xx) leaves each create its own, as without the question.

A target that does not have the run's gateway or customer gateway (a mistyped ``--cgw-id``, the default ids on a
target whose gateways are its own) refuses every valid create with the spec's "does not exist" error
(:func:`existence_rules`): that is the user's ids, not the target's fault, so the run stops without a verdict (exit 2)
and names the option that gives the target's own (:func:`unknown_resource`), where it reported a violation per create.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx

from contract_tests import answer_json
from contract_tests.aksk_auth import json_post_headers
from contract_tests.cleanup import Ledger
from contract_tests.error_bodies import error_code_in
from contract_tests.pacing import Pace, send
from contract_tests.records import CaseRecord
from contract_tests.settings import RunSettings
from vpnconn import load_spec
from vpnconn.repair import DEFAULT_CGW_ID, Repairer
from vpnconn.spec import Rule, Spec

PROBE_STYLE = "policy"  # the probe's example: no tunnel pair to take
FEWEST_CREATES = 3  # valid creates all refused so before the run's ids are taken for unknown


def existence_rules(spec: Spec) -> dict[str, Rule]:
    """The named rules whose error says that the id a field names is unknown, by that field: those that need the
    target's world and are refused 404 Not Found (``vgw_id``: gateway-exists, ``cgw_id``: customer-gateway-exists)."""
    return {rule.fields[0].rsplit("/", 1)[-1]: rule for rule in spec.rules
            if rule.scope == "world" and rule.error["status"] == HTTPStatus.NOT_FOUND}


def unmade_customer_gateway(cgw_id: str = DEFAULT_CGW_ID) -> str:
    """A customer gateway id nobody made (derived from ``cgw_id``; none of the ids a run derives for its creates)."""
    digest = hashlib.sha256(f"{cgw_id}/never-made".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def customer_gateways_of_their_own(spec: Spec, base_url: str, settings: RunSettings, client: httpx.Client,
                                   pace: Pace | None, ledger: Ledger, progress: Callable[[str], None]) -> bool:
    """May each create of the run name a customer gateway of its own? Not where the user named one; where the run
    creates nothing (not on loopback without ALLOW_CREATE, or MAX_CREATES 0), yes (as before: nothing needs room on a
    pair); else unless a create naming a customer gateway nobody made is refused (:mod:`this module
    <contract_tests.run_resources>`). What that create makes is noted in ``ledger`` (the run's, deleted with the rest;
    it counts against MAX_CREATES)."""
    if settings.customer_gateways != (DEFAULT_CGW_ID,):  # (the user named theirs: the default among several too)
        return False
    if not settings.creates or (settings.create_budget is not None and settings.create_budget < 1):
        return True  # (nothing to be created: no create needs room on a pair)
    examples = spec.examples("request")
    example = examples.get(PROBE_STYLE) or next(iter(examples.values()))
    body: dict[str, Any] = Repairer(spec, settings).repair(json.loads(json.dumps(example)))
    body["vpn_connection"]["cgw_id"] = unmade = unmade_customer_gateway(settings.cgw_id)
    url = spec.create.url(base_url, project_id=settings.project_id)
    raw = json.dumps(body).encode()
    try:
        answer = send(client, pace, "POST", url, raw, json_post_headers(url, raw, settings.token, settings.ak, settings.sk))
    except httpx.HTTPError as exc:
        ledger.note_no_answer(body, exc)
        return True  # (no answer: nothing told, as without the question)
    ledger.note_create(body, answer.status_code, answer.content)
    if not 400 <= answer.status_code < 500:
        return True  # carried out (or a 5xx, which does not tell)
    unknown, code = existence_rules(spec)["cgw_id"].error, error_code_in(answer.content)
    got = f"{answer.status_code} {code or ''}".rstrip()
    why = ("its gateways are its own" if (answer.status_code, code) == (unknown["status"], unknown["error_code"])
           else "it may not have it")
    progress(f"  a create naming a customer gateway nobody made ({unmade}) got {got}: {why}, so every create names "
             f"{settings.cgw_id} (--cgw-id names yours)")
    return False


def unknown_resource(spec: Spec, settings: RunSettings, records: list[CaseRecord]) -> str | None:
    """What to tell the user when every valid create the run sent (at least :data:`FEWEST_CREATES`, none carried out)
    was refused with one existence rule's error: the target does not have the id of its field; else None. Where the
    user named several customer gateways, the creates that name each are looked at apart (one mistyped among them)."""
    creates = [r for r in records if r.mode == "positive" and r.method == "POST" and r.status is not None and not r.busy
               and spec.create.match(urlsplit(r.url).path) is not None]
    groups: list[tuple[str | None, list[CaseRecord]]] = [(None, creates)]
    if len(settings.customer_gateways) > 1:
        groups += [(cgw_id, [r for r in creates if _named(r, "cgw_id") == cgw_id]) for cgw_id in settings.customer_gateways]
    for named, group in groups:
        refusals = {(r.status, error_code_in(r.response_body.encode())) for r in group}
        if len(group) < FEWEST_CREATES or len(refusals) != 1:
            continue
        for field, rule in existence_rules(spec).items():
            if refusals == {(rule.error["status"], rule.error["error_code"])} and (named is None or field == "cgw_id"):
                values = {_named(r, field) for r in group} - {None}
                value = (named or next(iter(values), getattr(settings, field))) if len(values) <= 1 else (
                    f"{len(values)} different ones (each create one of its own: the target's answer to a create for one "
                    f"nobody made did not say that its world is closed)")
                return (f"every valid create{' that names it' if named else ''} ({len(group)}) got {rule.error['status']} "
                        f"{rule.error['error_code']} ({rule.description.rstrip('.')}): the target does not have the {field} "
                        f"they name, {value}; no verdict: name one of the target's with --{field.replace('_', '-')} "
                        f"({field.upper()}=... for make contract)")
    return None


def _named(record: CaseRecord, field: str) -> Any:
    """The value of ``field`` in the create a record sent (None when its body is not a create's)."""
    body = record.body if isinstance(record.body, dict) else None
    conn = body.get("vpn_connection") if body else None
    return conn.get(field) if isinstance(conn, dict) else None


def gateway_facts_unnamed(settings: RunSettings, records: list[CaseRecord]) -> list[str]:
    """Notes for a target whose gateway the user did not describe, where its answers look like those of a gateway of
    another kind. Where valid creates were refused as invalid (400): the service refuses, for facts of the gateway the
    run cannot see, a customer subnet within one of its local subnets (rule peer-subnets-outside-local-subnets), on an
    active-standby gateway an ha_role that does not match the address (ha-role-matches-gateway-ip), on a GM gateway a
    psk (psk-required-unless-gm) and on an IPv6 gateway IPv4 policy rules alone (policy-rules-match-ip-version). Where
    POLICY or BGP answers left out peer_subnets: an ER-attached gateway does (er-omits-peer-subnets). Each with the
    options that tell the run. The verdicts stand (such an answer may be the target's fault)."""
    if not settings.target:
        return []  # (the embedded server's gateways are the ones the run is told of)
    notes = []
    unnamed = [(what, option) for what, option, named in (
        ("a customer subnet within one of the gateway's local subnets", "LOCAL_SUBNETS=cidr,...", settings.local_subnets),
        ("on an active-standby gateway, an ha_role that does not match VGW_IP's address", "VGW_IP_ROLE=active|standby",
         settings.vgw_ip_role),
        ("on a GM gateway, a psk", "VGW_FLAVOR=GM", settings.vgw_flavor),
        ("on an IPv6 gateway, a POLICY connection without policy_rules_v6", "VGW_IP_VERSION=ipv6", settings.vgw_ip_version),
    ) if not named]
    refused = sum(1 for r in records if r.method == "POST" and r.status == HTTPStatus.BAD_REQUEST
                  and any(f.check == "positive_data_acceptance" for f in r.failures))
    if unnamed and refused:
        notes.append(f"{refused} valid create(s) were refused 400: the service also refuses {'; '.join(w for w, _ in unnamed)}, "
                     f"which the run cannot see; where so, tell it ({'; '.join(o for _, o in unnamed)}) and valid creates "
                     "keep to it")
    without = sum(1 for r in records if r.method == "POST" and r.status == HTTPStatus.CREATED and _without_peer_subnets(r)
                  and any(f.check == "response_echoes_request" for f in r.failures))
    if without and not settings.vgw_attachment:
        notes.append(f"{without} POLICY or BGP create answer(s) left out peer_subnets, as a gateway attached to an enterprise "
                     "router answers (which the run cannot see); where so, tell it (VGW_ATTACHMENT=er)")
    return notes


def _without_peer_subnets(record: CaseRecord) -> bool:
    """Is the record's answer a connection of a style an ER-attached gateway answers without peer_subnets (POLICY, BGP),
    without them?"""
    try:
        conn = answer_json.loads((record.response_body or "").encode()).get("vpn_connection")
    except (ValueError, AttributeError):
        return False
    styles = {style.upper() for style in load_spec().server_defaults["er-omits-peer-subnets"]["styles"]}
    return isinstance(conn, dict) and conn.get("style") in styles and "peer_subnets" not in conn
