"""The rules phase, ours: what schemathesis cannot generate.

1. **x-rule negatives.** For each named rule with a breaker, schema-valid bodies that break exactly that
   rule (checked with the spec's validator before sending). A correct server refuses each with the rule's
   documented status and error code in the Huawei error body. Every case is judged in the world the user told the
   run of its gateway (``vpnconn.world.told_world``: the open world but for LOCAL_SUBNETS, VGW_IP_ROLE,
   VGW_ATTACHMENT, VGW_FLAVOR and VGW_IP_VERSION), and a world rule's breaker (``WORLD_BREAKERS``) breaks it where
   only a told fact makes a breach (a customer subnet equal to a local subnet, the other address's ha_role, a psk on
   a GM gateway, IPv4 rules alone on an IPv6 gateway).
2. **Style balance.** If a style has less than a quarter of the positive cases, valid bodies are restyled
   until it has, so that every style is exercised.

Bodies start from the positive cases the server accepted in the schemathesis phases (or the spec's
examples), so they stay as varied as schemathesis made them.
"""

from __future__ import annotations

import concurrent.futures
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from contract_tests.aksk_auth import json_post_headers
from contract_tests.boundaries import at_bound, charset_values, past_bound, place, with_enum_value
from contract_tests.breakers import BREAKERS, WORLD_BREAKERS
from contract_tests.checks import Answer, run_checks
from contract_tests.dropped_connections import create_sent_again, was_resent
from contract_tests.engine_phases import unanswered
from contract_tests.error_bodies import error_code_of
from contract_tests.hooks import ActiveRun, acceptable, create_answered
from contract_tests.pacing import busy_failure, is_busy, send
from contract_tests.records import CaseRecord, Failure
from contract_tests.settings import RunSettings
from contract_tests.silence import awaiting, why_unanswered
from contract_tests.verdicts import not_rejected, response_provenance, valid_refusal
from vpnconn import load_spec
from vpnconn.constraints import BOUND_KEYWORDS, narrower_readings, readings_outside, request_constraints, values_at
from vpnconn.repair import Repairer
from vpnconn.validation import Violation, check_request, schema_errors
from vpnconn.world import OPEN_WORLD, World, told_world

Sent = concurrent.futures.Future[CaseRecord]


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _always(breaker: Callable[[dict[str, Any], random.Random], None]) -> Callable[[dict[str, Any], random.Random, World], bool]:
    """A breaker that needs no world, as one that does: it always can."""
    def breaking(conn: dict[str, Any], rng: random.Random, world: World) -> bool:
        breaker(conn, rng)
        return True

    return breaking


class RulesPhase:
    def __init__(self, base_url: str, settings: RunSettings, client: httpx.Client, run: ActiveRun | None = None) -> None:
        self.base_url, self.settings, self.client, self.run = base_url, settings, client, run
        self.failing = 0
        self.spec = load_spec()
        self.repairer = run.repairer if run is not None else Repairer(self.spec, settings)
        self.rng = random.Random(settings.seed)
        self.world = told_world(settings)  # the open world but for what the user told of the gateway: cases are judged in it
        self.url = self.spec.create.url(base_url, project_id=settings.project_id)
        self.pool = concurrent.futures.ThreadPoolExecutor(max(1, settings.concurrency), thread_name_prefix="vpnconn-rules")
        self.sent: list[Sent] = []  # every request submitted, to wait for them before the run deletes what it holds

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _bases(self, accepted: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The bodies the phase's cases start from: those the target accepted, else the spec's examples; those within
        every page's narrower reading when there are such (an IKE id of type ip, not fqdn), so that the refusal of a
        case is told from one of a value a page does not list (verdicts.narrower_reading), but the value it probes."""
        bases = accepted or [self.repairer.repair(_copy(b)) for b in self.spec.examples("request").values()]
        return [b for b in bases if not readings_outside(self.spec, b)] or bases

    def run_targeted(self, accepted: list[dict[str, Any]]) -> list[CaseRecord]:
        """Enum values, documented characters, bounds (both sides), what only the told gateway accepts, and named-rule
        breaches."""
        bases, constraints = self._bases(accepted), request_constraints(self.spec)
        records: list[Sent] = []
        if self.settings.effective_mode in ("all", "positive"):
            records += self._enum_values(bases, constraints, accepted)
            records += self._charsets(bases, constraints)
            records += self._bounds(bases, constraints, positive=True)
            records += self._without_subnets(bases)
        if self.settings.effective_mode in ("all", "negative"):
            records += self._bounds(bases, constraints, positive=False)
            records += self._negatives(bases)
        return self._records(records)

    def run_balance(self, accepted: list[dict[str, Any]], positive_styles: Counter) -> list[CaseRecord]:
        """Valid cases of the styles that have less than a quarter of the positive cases so far."""
        if self.settings.effective_mode not in ("all", "positive"):
            return []
        return self._records(self._balance(self._bases(accepted), positive_styles))

    def _valid(self, body: dict[str, Any]) -> bool:
        return not check_request(body, self.world)

    def _enum_values(self, bases, constraints, accepted) -> list[Sent]:
        """Every enum value that no accepted case used yet, once each."""
        records: list[Sent] = []
        for c in constraints:
            if c.keyword != "enum":
                continue
            seen = {v for b in accepted for v in values_at(b, c.path)}
            for option in c.value:
                if option in seen:
                    continue
                base = _copy(self.rng.choice(bases))
                if c.path[-1] == "style":
                    body = self.repairer.restyle(base, option)
                else:
                    body = self.repairer.repair(with_enum_value(base, c, option))
                if self._valid(body):
                    self._emit(records, body, "positive", [])
        return records

    def _charsets(self, bases, constraints) -> list[Sent]:
        """Every character a pattern's class documents (dots and CJK in names, each psk special, ...), accepted; and
        where a page of the API lists fewer (the spec's narrower_readings), every character that page lists, apart,
        so that a refusal of a character every page lists is told from one of a character that page leaves out."""
        lengths = {(c.path, c.keyword): c.value for c in constraints if c.keyword in ("minLength", "maxLength")}
        narrower: dict[str, list[str]] = {}
        for reading in narrower_readings(self.spec):
            narrower.setdefault(reading.constraint, []).append(reading.pattern)
        records: list[Sent] = []
        for c in (c for c in constraints if c.keyword == "pattern"):
            low, high = lengths.get((c.path, "minLength"), 0), lengths.get((c.path, "maxLength"), 64)
            for value in (v for pattern in [str(c.value), *narrower.get(c.name, [])] for v in charset_values(pattern, low, high)):
                body = self.repairer.repair(place(_copy(self.rng.choice(bases)), c, value))
                if self._valid(body) and value in list(values_at(body, c.path)):
                    self._emit(records, body, "positive", [])
        return records

    def _without_subnets(self, bases: list[dict[str, Any]]) -> list[Sent]:
        """Where the run is told its gateway is attached to an enterprise router: a connection of each style that may
        leave out peer_subnets there (rule peer-subnets-required-unless-er), without them, accepted. (Valid creates
        give them, which such a gateway takes too.) Nothing on another gateway."""
        records: list[Sent] = []
        gateway = self.world.gateway(self.settings.vgw_id)
        if gateway is None or gateway.attachment_type != "er":
            return records
        for style in self.spec.styles:
            body = self.repairer.restyle(_copy(self.rng.choice(bases)), style)
            body["vpn_connection"].pop("peer_subnets", None)
            if self._valid(body):
                self._emit(records, body, "positive", [])
        return records

    def _bounds(self, bases, constraints, positive: bool) -> list[Sent]:
        """Each bound exactly (must be accepted) or one step past it (must be refused, labelled)."""
        records: list[Sent] = []
        for c in constraints:
            if c.keyword not in BOUND_KEYWORDS:
                continue
            for _ in range(4):  # a few bases, in case one makes the case touch a second rule
                base = _copy(self.rng.choice(bases))
                if positive:
                    body = self.repairer.repair(at_bound(base, c))
                    measured = [len(v) if isinstance(v, (str, list)) else v for v in values_at(body, c.path)]
                    if self._valid(body) and c.value in measured:
                        self._emit(records, body, "positive", [])
                        break
                else:
                    body = past_bound(base, c)
                    if body is None:
                        break
                    violations = check_request(body, self.world)
                    labels = sorted({v.rule for v in violations})
                    if labels == [c.name]:
                        self._emit(records, body, "negative", labels, violations)
                        break
        return records

    # ------------------------------------------------------------------------------------------ cases

    def _balance(self, bases: list[dict[str, Any]], styles: Counter) -> list[Sent]:
        records: list[Sent] = []
        while True:
            total = sum(styles.values())
            short = [s for s in self.spec.styles if styles[s] * 4 < max(total, 4)]
            if not short:
                return records
            body = self.repairer.restyle(_copy(self.rng.choice(bases)), short[0])
            self._emit(records, body, "positive", [])
            styles[short[0]] += 1

    def _negatives(self, bases: list[dict[str, Any]]) -> list[Sent]:
        """Each rule's breaker on bases until ``rule_cases`` bodies break exactly that rule in the told world (on a GM
        gateway, a psk left out breaks nothing: no case); a world rule's breaker only where the run is told a fact, and
        until it says it cannot break its rule."""
        world = self.world
        breakers = [(rule_id, _always(breaker), world) for rule_id, breaker in sorted(BREAKERS.items())]
        if world is not OPEN_WORLD:
            breakers += [(rule_id, breaker, world) for rule_id, breaker in sorted(WORLD_BREAKERS.items())]
        records: list[Sent] = []
        for rule_id, breaker, judged_in in breakers:
            made = 0
            for _ in range(self.settings.rule_cases * 4):
                if made == self.settings.rule_cases:
                    break
                body = _copy(self.rng.choice(bases))
                if not breaker(body["vpn_connection"], self.rng, judged_in):
                    break  # (the fact it needs is not told: the rule is not broken; the coverage report says why)
                violations = check_request(body, judged_in)
                labels = sorted({v.rule for v in violations})
                if labels != [f"x-{rule_id}"]:
                    continue  # this base made the breach touch a second rule; try another base
                self._emit(records, body, "negative", labels, violations)
                made += 1
        return records

    # ------------------------------------------------------------------------------------------ sending

    @property
    def stopped(self) -> bool:
        """Out of time (MAX_TIME) or past MAX_FAILURES: send nothing more."""
        limit = self.settings.max_failures
        return bool(self.run and self.run.halted) or (limit is not None and self.failing >= limit)

    def _emit(self, records: list[Sent], body: dict[str, Any], mode: str, labels: list[str],
              violations: Sequence[Violation] = ()) -> None:
        """Send ``body`` (in the pool): the cases are made here, in order, so what is sent does not depend on
        the concurrency. A case that may create takes its share of MAX_CREATES and its room on the gateway before
        it goes: a positive one, and a negative one that breaks only what the spec infers, which a correct server
        may accept (``hooks.acceptable``); such a one, built from an accepted body, first gets a customer gateway
        and a tunnel pair of its own where its breach is not (else it would collide with what that body made, or
        not, as the deletions fell). ``violations``: what a negative case breaks (its labels are their rules)."""
        if self.stopped:
            return
        if self.run is not None and (mode == "positive" or acceptable(body)):
            conn = body.get("vpn_connection")
            broken = self._fields_broken(violations)
            if mode == "negative" and isinstance(conn, dict):
                self.run.repairer.own_pair(conn, customer_gateway="cgw_id" not in broken,
                                           tunnels=not broken & {"tunnel_local_address", "tunnel_peer_address"})
            self.sent = [future for future in self.sent if not future.done()]
            self.run.before_create(len(self.sent), lambda: concurrent.futures.wait(self.sent))
            if not self.run.take_create():
                return
            if "cgw_id" not in broken:
                self.run.take_turn(conn)
        future = self.pool.submit(self._send, body, mode, labels)
        records.append(future)
        self.sent.append(future)

    def _records(self, sent: list[Sent]) -> list[CaseRecord]:
        records = [future.result() for future in sent]
        self.failing = sum(1 for record in records if record.judged_failing)
        return records

    def _fields_broken(self, violations: Sequence[Violation]) -> set[str]:
        """The connection's fields a negative case's breach is in: every field a named rule declares, or the field
        a constraint's violation points at."""
        fields: set[str] = set()
        for v in violations:
            pointers = self.spec.rule(v.rule.removeprefix("x-")).fields if v.rule.startswith("x-") else [v.pointer]
            fields |= {pointer.split("/")[2] for pointer in pointers if pointer.count("/") >= 2}
        return fields

    def _send(self, body: dict[str, Any], mode: str, labels: list[str]) -> CaseRecord:
        if self.run:
            self.run.progress.count()
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = json_post_headers(self.url, raw, self.settings.token, self.settings.ak, self.settings.sk)
        try:
            with awaiting(self.run.silence if self.run else None, f"rules POST ({', '.join(labels) or mode})", (httpx.HTTPError,)):
                response = send(self.client, self.run.pace if self.run else None, "POST", self.url, raw, headers)
        except httpx.HTTPError as exc:  # no answer: a finding about the target, never dropped
            if self.run is not None and self.run.ledger is not None:
                self.run.ledger.note_no_answer(body, exc)
            record = unanswered("rules", self.url, why_unanswered(exc), mode, exc)
            record.request_headers, record.request_body, record.body, record.labels = headers, raw.decode(), body, labels
            return record
        ledger = self.run.ledger if self.run is not None else None
        not_judged = None
        if was_resent(response) and (mode == "positive" or acceptable(body)):
            not_judged = create_sent_again(ledger, body, response.status_code, response.content)
        create_answered(self.run, ledger, body, response.status_code, response.content, lambda: mode == "positive")
        record = CaseRecord(
            phase="rules", mode=mode, method="POST", url=self.url, request_headers=headers,
            request_body=raw.decode(), status=response.status_code, response_headers=dict(response.headers),
            response_body=response.text, body=body, labels=labels,
        )
        if is_busy(response.status_code, response.content):  # still busy after its attempts: not judged
            record.failures = [busy_failure(response.status_code, response.content, "POST")]
        elif not_judged is not None:
            record.failures = [not_judged]
        else:
            record.failures = self._check(record, response, body, labels)
        return record

    def _check(self, record: CaseRecord, response: httpx.Response, body: Any, labels: list[str]) -> list[Failure]:
        answer = Answer(response.status_code, dict(response.headers), response.content)
        failures = run_checks(answer, body)
        if response.status_code >= 500:
            failures.append(Failure("not_a_server_error", "Server error", f"{response.status_code} for a {record.mode} case"))
        if record.mode == "positive":
            if response.status_code != 201:
                refusal = valid_refusal(response.status_code, response.content, body)
                failures.append(Failure("positive_data_acceptance", "Valid request rejected",
                                        f"a body that keeps the schema and every named rule got {response.status_code}, not 201"
                                        + (f"\n\n{refusal[1]}" if refusal else ""), provenance=refusal[0] if refusal else None))
            elif not isinstance(answer.written, dict):
                failures.append(Failure("response_schema_conformance", "Response is not JSON",
                                        f"the 201 body is not a JSON object: {response.content[:120]!r}"))
            else:
                problems = schema_errors("CreateVpnConnectionResponse", answer.written)
                if problems:
                    failures.append(Failure("response_schema_conformance", "Response violates schema", "; ".join(problems[:3]),
                                            provenance=response_provenance(201, response.content)))
        elif labels[0].startswith("x-"):
            failures += self._rejection(answer, labels[0].removeprefix("x-"))
        elif not 400 <= response.status_code < 500:
            failures += not_rejected(labels, "Invalid request accepted",
                                     f"a body that breaks {', '.join(labels)} got {response.status_code}, not a 4xx", body)
        return failures

    def _rejection(self, answer: Answer, rule_id: str) -> list[Failure]:
        """named_rule_rejection: the breach of a named rule gets the rule's documented status and code."""
        rule = self.spec.rule(rule_id)
        error = rule.error
        code = error_code_of(answer.json)
        if answer.status != error["status"] or code != error["error_code"]:
            answer_provenance = self.spec.error_provenance(rule.error_kind, "status") if rule.error_kind else rule.provenance
            provenance = next((p for p in (rule.provenance, answer_provenance) if not p.documented), answer_provenance)
            return [Failure("named_rule_rejection", f"Rule x-{rule_id} not enforced",
                            f"breaking x-{rule_id} must get {error['status']} {error['error_code']}; "
                            f"got {answer.status} {code or '(no error_code)'}", f"x-{rule_id}", provenance)]
        return []
