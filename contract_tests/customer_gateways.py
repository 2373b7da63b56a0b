"""Which customer gateways a run's creates name.

A gateway address and a customer gateway hold one connection (the spec's quota, from the user guide), so a run
whose creates all name one customer gateway holds one connection at a time: it deletes each (and waits until it is
gone) before the next create. Where the user names a customer gateway (``--cgw-id``), that is what every create
names. Where the user names none, the default ids are the examples', which exist only where every well-formed id
does (an open world, as on the reference server without a world file): there each create may name a customer
gateway of its own (:class:`~vpnconn.repair.Repairer` ``own_customer_gateways``) and the run keeps its pace.

Whether the target's world is open is asked once, before any phase: a create that names a customer gateway nobody
made. Created: the world is open (the connection is the run's, deleted with the rest). Refused as the spec's
"customer gateway does not exist" (or anything else: a target whose gateways are its own, as an emulator seeded with
the examples' ids): every create names the default customer gateway, one connection at a time, and the run says so.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from contract_tests.aksk_auth import json_post_headers
from contract_tests.cleanup import Ledger, created_id
from contract_tests.error_bodies import error_code_in
from contract_tests.pacing import Pace, send
from contract_tests.settings import RunSettings
from vpnconn.repair import DEFAULT_CGW_ID, Repairer
from vpnconn.spec import Spec

PROBE_STYLE = "policy"  # the probe's example: no tunnel pair to take


def unmade_customer_gateway(cgw_id: str = DEFAULT_CGW_ID) -> str:
    """A customer gateway id nobody made (derived from ``cgw_id``; none of the ids a run derives for its creates)."""
    digest = hashlib.sha256(f"{cgw_id}/never-made".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def customer_gateways_of_their_own(spec: Spec, base_url: str, settings: RunSettings, client: httpx.Client,
                                   pace: Pace | None, ledger: Ledger, progress: Callable[[str], None]) -> bool:
    """May each create of the run name a customer gateway of its own? Not where the user named one; where the run
    creates nothing, yes (as before: nothing needs room on a pair); else only where a create naming a customer gateway
    nobody made is carried out (:mod:`this module <contract_tests.customer_gateways>`). What the probe creates is noted
    in ``ledger`` (the run's, deleted with the rest)."""
    if settings.cgw_id != DEFAULT_CGW_ID:
        return False
    if not settings.creates:
        return True
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
        got = f"no answer ({exc.__class__.__name__})"
    else:
        ledger.note_create(body, answer.status_code, answer.content)
        if created_id(answer.status_code, answer.content) is not None:
            return True
        unknown = spec.rule("customer-gateway-exists").error
        code = error_code_in(answer.content)
        if (answer.status_code, code) == (unknown["status"], unknown["error_code"]):
            progress(f"  the target does not know a customer gateway nobody made ({unmade}: {answer.status_code} {code}): "
                     f"its gateways are its own, so every create names {settings.cgw_id} (--cgw-id names yours)")
            return False
        got = f"{answer.status_code} {code or ''}".rstrip()
    progress(f"  a create naming a customer gateway nobody made ({unmade}) got {got}, not 201: every create names "
             f"{settings.cgw_id} (--cgw-id names yours)")
    return False
