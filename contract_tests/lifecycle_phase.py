"""The lifecycle phase: one connection of each style taken through the whole resource, in sequence.

create → show → list (filtered, then page by page) → update → show → update of a field that may not change →
show → delete → show (404, perhaps after ``PENDING_DELETE`` for a while) → delete (404), plus a show of an id
that never existed and a list filtered on a gateway the run does not use. Each step is one
:class:`~contract_tests.records.CaseRecord` (phase ``lifecycle``) with the findings that a schema cannot state:

- ``show_matches_create``: show (and each list item) answers each field the create answer lists as created
  or last updated (``updated_at`` may move on, never back); the show-only fields (``status``, ...) and a field
  no source lists are not compared; a list is compared as a set and a CIDR as its network, and one written
  otherwise is a divergence (``written_as_sent``, contract_tests.listing; ``update_applies_changes`` alike);
- ``list_contains_connection``, ``list_filter_holds``, ``list_paging_complete``: the connection is listed,
  every item keeps the filter, and walking the pages by ``marker`` neither loses nor repeats an item;
- ``listed_later``: a list that leaves out the connection just created is asked again, at growing intervals, for up
  to LISTING_WAIT seconds; one that holds it then is a divergence (inferred: no source says how soon a new connection
  is listed, and a list read from an index lags its store); one that never does is ``list_contains_connection``;
- ``update_applies_changes``: an update changes exactly what it sent, keeps ``created_at`` and advances
  ``updated_at``, among the fields the update answer lists (one it does not list, such as the show's ``status``, is
  its schema check's);
- ``update_refuses_fixed_fields``: a field the update table leaves out is refused; if the target accepts it
  instead, it must not change it (accepting is a divergence, changing it a violation);
- ``connection_settles``: before an update and before the delete, a connection the last show or list found
  ``PENDING_CREATE`` or ``PENDING_UPDATE`` is shown again at growing intervals until it has another status, as
  the Terraform provider waits for ``ACTIVE`` or ``DOWN`` after a create and an update, for up to SETTLE_WAIT
  seconds; one still pending then is reported (inferred: no source says how long) and its sequence ends;
- ``connection_usable``: a connection found in another status than ``ACTIVE`` or ``DOWN`` once no change is under
  way (``ERROR``, ``FREEZED``, ``UNKNOWN``: the Terraform provider stops at ``ERROR``) is not updated: its sequence
  ends, reported as a divergence (inferred: no source says what an update of one gets);
- ``list_paging_ties``: items lost or repeated by the walk only where they share a ``created_at`` with another
  (the marker) are a divergence (inferred: no source says ``created_at`` is unique);
- ``updated_at_moves_on``: an update answered with the ``updated_at`` the connection had, written in whole seconds
  (``.000Z``: a clock that may keep seconds, and the update came within one), is a divergence (inferred: no source
  says how fine the clock is); with milliseconds, or gone back, it is ``update_applies_changes``;
- ``list_unknown_gateway``: the list filtered on a gateway the run does not use (a random id) answered 404 with the
  spec's "gateway does not exist" code (``VPN.0509`` on create) instead of 200 with no connections is a divergence
  (inferred: no source says what a list on an unknown gateway gets); any other status is ``lifecycle_status``;
- ``deleted_connection_gone``: after delete, show and delete answer 404. A deletion may take a while (the show
  status ``PENDING_DELETE``; the Terraform provider polls the show after a delete until it answers 404): a show that
  answers the connection with that status is asked again, at growing intervals, for up to DELETION_WAIT seconds;
  ``deletion_finishes`` (inferred: no source says how long) reports one that never ends. A delete again answered
  204, as the delete was, is ``delete_again_not_found``, a divergence (inferred: no source says what it gets, and a
  delete made idempotent answers as the first did);
- ``lifecycle_status``: each step gets the status its operation documents; ``lifecycle_response_schema``: the
  answer keeps its operation's response schema (an answer that breaks only what the spec infers, a field it
  does not list, is a divergence and the sequence goes on with it); and the checks of every answer (Huawei error body,
  request id, the psk never returned, by any operation).

A check's provenance is its operation's (``x-vpnconn-provenance``), so the spec says which are only inferred.
Every connection created here is noted in the run's ledger at once and deleted by the sequence itself.
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from contract_tests.aksk_auth import signed_headers
from contract_tests.checks import Answer, left_out_by_gateway, run_checks
from contract_tests.cleanup import PENDING_DELETE, Ledger, created_id
from contract_tests.dropped_connections import create_sent_again, was_resent
from contract_tests.engine_phases import unanswered
from contract_tests.error_bodies import error_code_in, error_code_of
from contract_tests.hooks import ActiveRun, create_answered
from contract_tests.listing import compare, short, written_otherwise
from contract_tests.pacing import Patience, busy_failure, is_busy, send
from contract_tests.records import CaseRecord, Failure
from contract_tests.settings import RunSettings
from contract_tests.silence import awaiting, why_unanswered
from contract_tests.verdicts import account_state_refusal, answer_schema_provenance, valid_refusal
from vpnconn import load_spec
from vpnconn.json_schema import matches
from vpnconn.repair import Repairer
from vpnconn.spec import ANSWER_CONNECTION, KEPT_CONNECTION, PER_PAIR
from vpnconn.validation import schema_errors

CHECKS = ("lifecycle_status", "lifecycle_response_schema", "show_matches_create", "list_contains_connection",
          "list_filter_holds", "list_paging_complete", "update_applies_changes", "update_refuses_fixed_fields",
          "update_changed_fixed_field", "connection_settles", "connection_usable", "deleted_connection_gone",
          "deletion_finishes", "tunnel_pair_in_use", "list_paging_ties", "list_unknown_gateway", "connection_pair_in_use",
          "updated_at_moves_on", "listed_later", "delete_again_not_found")  # this phase's
ANY_ANSWER_CHECKS = ("huawei_error_body", "request_id_in_body_and_header", "psk_never_returned", "json_in_utf8_without_bom",
                     "integers_without_fraction")
MAX_PAGES = 12  # a paged walk takes at most this many requests (the page size follows the total)
LISTING_WAIT = 10.0  # seconds a new connection may stay out of its gateway's list before list_contains_connection reports it
DELETION_WAIT = 60.0  # seconds a deletion may stay PENDING_DELETE before deletion_finishes reports it
SETTLING = ("PENDING_CREATE", "PENDING_UPDATE")  # the show statuses of a connection a create or an update is changing
USABLE = ("ACTIVE", "DOWN")  # the show statuses the Terraform provider waits for: the connection is built
SETTLE_WAIT = 120.0  # seconds a connection may stay SETTLING before connection_settles reports it
FIRST_PAUSE, LONGEST_PAUSE = 0.1, 5.0  # seconds between the shows that wait for a change to end: doubling, capped


@dataclass
class Seen:
    """What one sequence has learned so far."""

    style: str
    sent: dict[str, Any]  # the create body (its psk must never come back)
    connection: dict[str, Any] | None = None  # as created, then as last updated
    records: list[CaseRecord] = field(default_factory=list)
    status: Any = None  # the status the last show or list answered


class LifecyclePhase:
    def __init__(self, base_url: str, settings: RunSettings, client: httpx.Client, ledger: Ledger,
                 run: ActiveRun | None = None) -> None:
        self.base_url, self.settings, self.client, self.ledger, self.run = base_url, settings, client, ledger, run
        self.spec = load_spec()
        self.repairer = run.repairer if run is not None else Repairer(self.spec, settings, unique_tunnels=True)
        self.ops = {o.id: o for o in self.spec.operations}
        self.listed = self.spec.schema(ANSWER_CONNECTION)
        # per style, what a show may not carry that a create or update answer may (enable_hub but for BGP): not compared
        answered, kept = (self.spec.refused_fields(name) for name in (ANSWER_CONNECTION, KEPT_CONNECTION))
        self.not_kept = {style: kept[style] - answered[style] for style in kept}
        self.at_will = {style: self.spec.at_will(style) for style in kept}  # (the spec's at_will: compared where both carry it)
        update = self.ops["UpdateVpnConnection"]
        self.updated = self.spec.schema(str(update.response_schema(update.success_status)))["properties"]["vpn_connection"]

    def stopped(self) -> bool:
        return self.run is not None and self.run.halted

    def run_all(self) -> list[CaseRecord]:
        """Create one connection per style; take each through show, list, update and back; walk the list page by
        page while they all exist; delete each. Stops at the deadline or the create budget (what was created
        is still deleted, here or by the run's cleanup)."""
        live: list[tuple[Seen, str]] = []
        records: list[CaseRecord] = []
        styles = self.spec.examples("request")
        for n, (style, example) in enumerate(styles.items()):
            left = self.run.creates_left() if self.run is not None else None
            if self.run is not None and left is not None and left <= 0 and not self.stopped():
                self.run.not_sent(len(styles) - n)  # (the styles whose sequence could not start)
            if self.stopped() or (left is not None and left <= 0):
                break
            seen = Seen(style, self.repairer.repair(json.loads(json.dumps(example))))
            self._free_customer_gateway(seen.sent, len(live))
            connection_id = self._create(seen)
            if connection_id is not None:
                live.append((seen, connection_id))
            records += seen.records
        # Each style's sequence touches only its own connection, so the styles go side by side (one thread each,
        # up to the run's concurrency); the records are joined in style order, as if they had gone one by one.
        with concurrent.futures.ThreadPoolExecutor(max(1, min(len(live), self.settings.concurrency)),
                                                   thread_name_prefix="vpnconn-lifecycle") as pool:
            for seen in pool.map(lambda item: self._sequence(*item), live):
                records += seen.records
            if live and not self.stopped():  # the whole list, page by page, while every style's connection exists
                records += self._pages(live[0][0], [connection_id for _, connection_id in live])
                records += self._other_gateway(live[0][0])
                records += self._reused_tunnel_pair(live)
                records += self._shared_connection_pair(live)
            for seen in pool.map(lambda item: self._deleted(*item), live):
                records += seen.records
        if not self.stopped():
            records += self._unknown_id()
        return records

    def _sequence(self, seen: Seen, connection_id: str) -> Seen:
        seen.records = []
        steps: list[Callable[[Seen, str], bool]] = [self._show, self._list, self._update, self._show,
                                                   self._update_fixed, self._show]
        for step in steps:
            if self.stopped() or not step(seen, connection_id):
                break
        return seen

    def _deleted(self, seen: Seen, connection_id: str) -> Seen:
        seen.records = []
        self._delete(seen, connection_id)
        return seen

    # ------------------------------------------------------------------------------------------ sending

    def _url(self, operation_id: str, connection_id: str = "", query: dict[str, Any] | None = None) -> str:
        url = self.ops[operation_id].url(self.base_url, project_id=self.settings.project_id, vpn_connection_id=connection_id)
        return f"{url}?{urlencode(query, doseq=True)}" if query else url

    def _send(self, operation_id: str, url: str, body: Any, seen: Seen, step: str) -> tuple[CaseRecord, Answer | None]:
        method = self.ops[operation_id].method
        raw = json.dumps(body).encode() if body is not None else b""
        headers = signed_headers(method, url, raw, self.settings.token, self.settings.ak, self.settings.sk)
        creates = operation_id == self.spec.create.id
        try:
            with awaiting(self.run.silence if self.run else None, f"lifecycle {step}", (httpx.HTTPError,)):
                response = send(self.client, self.run.pace if self.run else None, method, url, raw or None, headers)
        except httpx.HTTPError as exc:
            if creates:
                self.ledger.note_no_answer(body, exc)
            record = unanswered("lifecycle", url, f"{step}: {why_unanswered(exc)}", "positive", exc)
            record.method, record.body = method, body
            seen.records.append(record)
            return record, None
        not_judged = None
        if creates:
            if was_resent(response):
                not_judged = create_sent_again(self.ledger, body, response.status_code, response.content)
            # (only the step "create" is judged: not the creates sent to be refused for a pair in use)
            create_answered(self.run, self.ledger, body, response.status_code, response.content, lambda: step == "create")
        answer = Answer(response.status_code, dict(response.headers), response.content)
        record = CaseRecord(phase="lifecycle", mode="positive", method=method, url=url, request_headers=headers,
                            request_body=raw.decode() or None, status=response.status_code,
                            response_headers=dict(response.headers), response_body=response.text, body=body,
                            labels=[f"{seen.style}: {step}"])
        seen.records.append(record)
        if is_busy(response.status_code, response.content):  # still busy after its attempts: not judged, and the sequence ends here
            record.failures = [busy_failure(response.status_code, response.content, method)]
            return record, None
        if not_judged is not None:  # not judged either, and the sequence ends here
            record.failures = [not_judged]
            return record, None
        record.failures = run_checks(answer, seen.sent, only=ANY_ANSWER_CHECKS)
        return record, answer

    def _expect(self, record: CaseRecord, answer: Answer, operation_id: str, status: int, step: str,
                created: Any = None) -> bool:
        """The documented status, and the answer keeps the operation's response schema; True when both hold, or
        when the answer breaks only what the spec infers (a field it does not list): the sequence goes on. A valid
        create (``created``, its body) refused for what the spec cannot hold the target to (the account's state, a
        value a page of the API does not list: verdicts.valid_refusal) is a divergence."""
        if answer.status != status:
            failure = self._failure("lifecycle_status", operation_id, f"Wrong status for {step}",
                                    f"{step} must get {status}; got {answer.status}")
            refusal = valid_refusal(answer.status, answer.content, created) if created is not None else None
            if refusal is not None:
                failure.provenance, failure.message = refusal[0], f"{failure.message}\n\n{refusal[1]}"
            else:
                failure.provenance = account_state_refusal(answer.status, answer.content) or failure.provenance
            record.failures.append(failure)
            return False
        schema = self.ops[operation_id].response_schema(status)
        if schema is None:
            return True
        problems = schema_errors(schema, answer.written) if answer.written is not None else ["the body is not JSON"]
        if problems:
            provenance = answer_schema_provenance(schema, answer.written, operation_id)
            record.failures.append(Failure("lifecycle_response_schema", f"{operation_id} answer violates its schema",
                                           "; ".join(problems[:3]), provenance=provenance))
            return not provenance.documented
        return True

    def _failure(self, check: str, operation_id: str, title: str, message: str) -> Failure:
        return Failure(check, title, message, provenance=self.spec.check_provenance(check, operation_id))

    # ------------------------------------------------------------------------------------------ one sequence

    def _create(self, seen: Seen) -> str | None:
        """Create the style's connection; its id, or None when there is nothing to follow."""
        create = self.spec.create
        record, answer = self._send(create.id, self._url(create.id), seen.sent, seen, "create")
        if answer is None:
            return None
        record.failures = run_checks(answer, seen.sent)  # every check of a create answer
        connection_id = created_id(answer.status, answer.content)
        if not self._expect(record, answer, create.id, create.success_status, "create", seen.sent) or connection_id is None:
            return None  # a connection that was created all the same is deleted by the run's cleanup
        seen.connection = answer.json["vpn_connection"]
        return connection_id

    def _show(self, seen: Seen, connection_id: str) -> bool:
        record, answer = self._send("ShowVpnConnection", self._url("ShowVpnConnection", connection_id), None, seen, "show")
        if answer is None or not self._expect(record, answer, "ShowVpnConnection", 200, "show"):
            return answer is not None
        self._same_connection(record, seen.connection or {}, answer.json["vpn_connection"], "ShowVpnConnection", "show")
        seen.status = answer.json["vpn_connection"].get("status")
        return True

    def _same_connection(self, record: CaseRecord, expected: dict[str, Any], got: dict[str, Any], operation_id: str,
                         where: str) -> None:
        # what show and list must answer as created: the fields the create answer lists, at every depth, but the
        # time of the last change (show-only fields such as status change by themselves; of a field no source
        # lists, no source says anything)
        differ, expected, got = self._differing(record, "show_matches_create", expected, got, self.listed, "created")
        if differ:
            detail = "; ".join(f"{k}: {short(expected.get(k), 60)} != {short(got.get(k), 60)}" for k in differ[:4])
            record.failures.append(self._failure("show_matches_create", operation_id, f"{where} differs from the connection",
                                                 f"{where} answers a connection that differs from the one created or last "
                                                 f"updated in {', '.join(differ)} ({detail})"))
        if str(got.get("updated_at", "")) < str(expected.get("updated_at", "")):
            record.failures.append(self._failure("show_matches_create", operation_id, f"{where}: updated_at went back",
                                                 f"updated_at {got.get('updated_at')!r} is before {expected.get('updated_at')!r}"))

    def _differing(self, record: CaseRecord, check: str, expected: dict[str, Any], got: dict[str, Any], schema: Any,
                   sent_as: str = "sent") -> tuple[list[str], dict[str, Any], dict[str, Any]]:
        """Compare the fields ``schema`` lists (at every depth) of ``got`` with ``expected``, but ``updated_at``, what
        a show may leave out that a create answer may carry, and a field each answer carries at will (the spec's
        ``at_will``) that one of the two left out: those that hold something else, and both as listed. A field that
        holds the same written otherwise is ``check``'s divergence (``written_as_sent``), added to ``record``."""
        expected, got = self._listed(expected, schema), self._listed(got, schema)
        at_will = {name for name in self.at_will.get(str(got.get("style")), ()) if name not in expected or name not in got}
        differ, otherwise = compare(expected, got, (set(expected) | set(got)) - {"updated_at"} - self._not_kept(got) - at_will)
        if otherwise:
            record.failures.append(Failure.of(check, written_otherwise(otherwise, expected, got, sent_as)))
        return differ, expected, got

    def _not_kept(self, connection: dict[str, Any]) -> frozenset[str]:
        """The fields a show of ``connection``'s style may not carry and a create or update answer may (``enable_hub``
        but for BGP: the create table lists it without condition, the show table only for BGP): one answer's field
        that another leaves out is no difference."""
        return self.not_kept.get(str(connection.get("style")), frozenset())

    def _listed(self, value: Any, schema: Any) -> Any:
        """``value`` with only the fields ``schema`` lists (and may be there), at every depth."""
        schema = self.spec.resolve(schema)
        if isinstance(value, dict) and isinstance(schema, dict) and "properties" in schema:
            fields = schema["properties"]
            return {k: self._listed(v, fields[k]) for k, v in value.items() if fields.get(k, False) is not False}
        if isinstance(value, list) and isinstance(schema, dict) and "items" in schema:
            return [self._listed(item, schema["items"]) for item in value]
        return value

    def _list(self, seen: Seen, connection_id: str) -> bool:
        """List the connection's gateway: the list holds the connection as created. One it leaves out is listed again,
        at growing intervals, for up to LISTING_WAIT seconds: held then, it was listed late (``listed_later``); never,
        it is not listed (``list_contains_connection``); either is said of the first list."""
        conn, operation = seen.connection or {}, "ListVpnConnections"
        query = {"vgw_id": conn.get("vgw_id")}
        patience, step = Patience(LISTING_WAIT, FIRST_PAUSE, LONGEST_PAUSE), "list"
        first: CaseRecord | None = None  # the first list that left the connection out
        while True:
            record, answer = self._send(operation, self._url(operation, query=query), None, seen, step)
            if answer is None or not self._expect(record, answer, operation, 200, step):
                return answer is not None
            items = answer.json["vpn_connections"]
            self._filter_holds(record, items, query)
            mine = [i for i in items if i.get("id") == connection_id]
            if mine:
                break
            first = first or record
            if patience.over():
                first.failures.append(self._failure(
                    "list_contains_connection", operation, "Connection not listed",
                    f"list with vgw_id={query['vgw_id']} does not contain {connection_id} ({len(items)} items), nor "
                    f"did it {patience.waited():.0f} s later"))
                return True
            if self.stopped():
                return False
            patience.pause()
            step = "list until listed"
        if first is not None:
            first.failures.append(self._failure(
                "listed_later", operation, "Connection listed late",
                f"list with vgw_id={query['vgw_id']} does not contain {connection_id}; a list {patience.waited():.1f} s "
                "later does"))
        self._same_connection(record, conn, mine[0], operation, "list")
        seen.status = mine[0].get("status")
        return True

    def _filter_holds(self, record: CaseRecord, items: list[dict[str, Any]], query: dict[str, Any]) -> None:
        off = [i.get("id") for i in items if any(i.get(k) != v for k, v in query.items())]
        if off:
            wanted = ", ".join(f"{k}={v}" for k, v in query.items())
            record.failures.append(self._failure("list_filter_holds", "ListVpnConnections", "Filter not applied",
                                                 f"list with {wanted} returned {len(off)} connection(s) that do not "
                                                 f"match it: {', '.join(map(str, off[:3]))}"))

    def _pages(self, seen: Seen, own: list[str]) -> list[CaseRecord]:
        """Walk the list of the run's gateway page by page (``limit``/``marker``), while every style's connection
        (``own``) exists: the pages hold each of them, and no item twice. (Another client's connection that is gone
        by the time its page comes is not lost: a real gateway may be shared.)"""
        seen.records = []
        vgw_id = (seen.connection or {}).get("vgw_id")
        first, answer = self._send("ListVpnConnections", self._url("ListVpnConnections", query={"vgw_id": vgw_id}), None,
                                   seen, "list (all)")
        if answer is None or not self._expect(first, answer, "ListVpnConnections", 200, "list (all)"):
            return seen.records
        everything = [i.get("id") for i in answer.json["vpn_connections"]]
        stamps = [i.get("created_at") for i in answer.json["vpn_connections"]]
        shared = Counter(stamps)
        tied = {i for i, stamp in zip(everything, stamps, strict=True) if shared[stamp] > 1}  # same created_at
        size = max(1, math.ceil(len(everything) / (MAX_PAGES - 2)))
        walked: list[Any] = []
        marker = None
        record = first
        for page in range(MAX_PAGES):
            query = {"vgw_id": vgw_id, "limit": size, **({"marker": marker} if marker else {})}
            record, answer = self._send("ListVpnConnections", self._url("ListVpnConnections", query=query), None, seen,
                                        f"list page {page + 1} (limit {size})")
            if answer is None or not self._expect(record, answer, "ListVpnConnections", 200, f"list page {page + 1}"):
                return seen.records
            items = answer.json["vpn_connections"]
            if len(items) > size:
                record.failures.append(self._failure("list_paging_complete", "ListVpnConnections", "Page larger than limit",
                                                     f"limit={size} answered {len(items)} connections"))
            walked += [i.get("id") for i in items]
            # the walk ends where no marker follows, or the one that follows is the one sent (no page further: a
            # server that echoes the marker on an empty last page); an empty page with a new marker is walked past
            sent, marker = marker, answer.json["page_info"].get("next_marker")
            if not marker or marker == sent:
                marker = None
                break
        repeated = sorted({i for i, times in Counter(walked).items() if times > 1}, key=str)
        lost = [i for i in everything if i in own and i not in walked]
        if repeated or lost or marker:
            what = "; ".join(part for part in (
                f"repeated: {', '.join(map(str, repeated[:3]))}" if repeated else "",
                f"lost: {', '.join(map(str, lost[:3]))}" if lost else "",
                f"still a next_marker after {MAX_PAGES} pages" if marker else "") if part)
            # the marker is a created_at: where only connections that share one with another are lost or repeated,
            # the sources say nothing (they never say created_at is unique)
            ties = not marker and all(i in tied for i in repeated + lost)
            check, title = ("list_paging_ties", "Paging loses or repeats connections that share a created_at") \
                if ties else ("list_paging_complete", "Paging loses or repeats")
            record.failures.append(self._failure(check, "ListVpnConnections", title,
                                                 f"walking {len(everything)} connections {size} per page by marker: {what}"))
        return seen.records

    def _other_gateway(self, seen: Seen) -> list[CaseRecord]:
        """A list filtered on a gateway the run does not use holds none of the run's connections."""
        seen.records = []
        rng = random.Random(self.settings.seed)
        query = {"vgw_id": str(uuid.UUID(int=rng.getrandbits(128), version=4))}
        record, answer = self._send("ListVpnConnections", self._url("ListVpnConnections", query=query), None, seen,
                                    "list on an unused gateway")
        if answer is not None and self._gateway_unknown(answer):
            record.failures.append(self._failure("list_unknown_gateway", "ListVpnConnections",
                                                 "List on an unknown gateway answered not found",
                                                 f"list with vgw_id={query['vgw_id']} (no gateway of the run) got "
                                                 f"{answer.status} {error_code_in(answer.content)}; the reference server answers 200 "
                                                 "with no connections"))
        elif answer is not None and self._expect(record, answer, "ListVpnConnections", 200, "list on an unused gateway"):
            self._filter_holds(record, answer.json["vpn_connections"], query)
        return seen.records

    def _gateway_unknown(self, answer: Answer) -> bool:
        """The answer is the spec's "gateway does not exist" error (status and code)."""
        error = self.spec.rule("gateway-exists").error
        return answer.status == error["status"] and error_code_in(answer.content) == error["error_code"]

    def _update(self, seen: Seen, connection_id: str) -> bool:
        if not self._settled(seen, connection_id):
            return False
        conn = seen.connection or {}
        changes = {"name": f"vpnconn-upd-{seen.style}"[:64],
                   "peer_subnets": [self.repairer.spare_subnet(list(conn.get("peer_subnets") or []), "192.168.201.0/24")]}
        body = {"vpn_connection": changes}
        record, answer = self._send("UpdateVpnConnection", self._url("UpdateVpnConnection", connection_id), body, seen, "update")
        if answer is None or not self._expect(record, answer, "UpdateVpnConnection", 200, "update"):
            return answer is not None
        after = answer.json["vpn_connection"]
        # the fields the update answer lists (a field it does not list, such as the show's status, is its schema check's),
        # but those the gateway leaves out (an ER-attached gateway's peer_subnets, where the run is told so)
        left = left_out_by_gateway(conn, after)
        changed = {k: v for k, v in changes.items() if k not in left}
        differ, expected, _ = self._differing(record, "update_applies_changes", {**conn, **changed}, after, self.updated)
        problems = [f"{k}: expected {short(expected.get(k), 60)}, got {short(after.get(k), 60)}" for k in differ[:4]]
        before, now = str(conn.get("updated_at", "")), str(after.get("updated_at", ""))
        if now == before and _in_whole_seconds(before):
            record.failures.append(self._failure("updated_at_moves_on", "UpdateVpnConnection", "updated_at kept",
                                                 f"updated_at {now!r} did not move on; written in whole seconds, it may "
                                                 f"come from a clock that keeps seconds, and the update came within one"))
        elif now <= before:
            problems.append(f"updated_at {after.get('updated_at')!r} did not advance from {conn.get('updated_at')!r}")
        if problems:
            record.failures.append(self._failure("update_applies_changes", "UpdateVpnConnection",
                                                 "Update did not change exactly what was sent", "; ".join(problems)))
        seen.connection = after
        return True

    def _update_fixed(self, seen: Seen, connection_id: str) -> bool:
        """A field the update table leaves out (ha_role): refused, or at least not changed."""
        if not self._settled(seen, connection_id):
            return False
        conn = seen.connection or {}
        other = "slave" if conn.get("ha_role") != "slave" else "master"
        body = {"vpn_connection": {"ha_role": other}}
        record, answer = self._send("UpdateVpnConnection", self._url("UpdateVpnConnection", connection_id), body, seen,
                                    "update of ha_role (not updatable)")
        if answer is None:
            return False
        if 400 <= answer.status < 500:
            return True
        if not self._expect(record, answer, "UpdateVpnConnection", 200, "update of ha_role"):
            return True
        record.failures.append(self._failure("update_refuses_fixed_fields", "UpdateVpnConnection",
                                             "Update of a fixed field accepted",
                                             f"ha_role is not updatable; the update was answered {answer.status}, not 400"))
        after = answer.json["vpn_connection"]
        if after.get("ha_role") != conn.get("ha_role"):
            record.failures.append(self._failure("update_changed_fixed_field", "UpdateVpnConnection",
                                                 "Update changed a field that is not updatable",
                                                 f"ha_role went from {conn.get('ha_role')!r} to {after.get('ha_role')!r}"))
        seen.connection = {**after, "ha_role": conn.get("ha_role")}  # what the sequence expects from here on
        return True

    def _delete(self, seen: Seen, connection_id: str) -> None:
        delete = self.ops["DeleteVpnConnection"]
        self._settled(seen, connection_id)  # (deleted all the same: the run deletes what it creates)
        record, answer = self._send(delete.id, self._url(delete.id, connection_id), None, seen, "delete")
        if answer is None:
            return
        if answer.status in (delete.success_status, 404):
            self.ledger.deleted(connection_id)
        if not self._expect(record, answer, delete.id, delete.success_status, "delete"):
            return
        if answer.content:
            record.failures.append(self._failure("lifecycle_status", delete.id, "Body on a 204",
                                                 f"delete answers 204 with no body; got {answer.content[:80]!r}"))
        if not self._gone(seen, connection_id):
            return
        record, answer = self._send(delete.id, self._url(delete.id, connection_id), None, seen, "delete after delete")
        if answer is not None and answer.status == delete.success_status:
            record.failures.append(self._failure("delete_again_not_found", delete.id, "Delete of a deleted connection accepted",
                                                 f"delete after delete answered {answer.status}, as the delete did (an "
                                                 "idempotent delete), not 404; the show answers 404"))
        elif answer is not None and answer.status != 404:
            record.failures.append(self._failure("deleted_connection_gone", delete.id, "Deleted connection still there",
                                                 f"delete after delete must get 404 (or, as the delete did, "
                                                 f"{delete.success_status}); got {answer.status}"))

    def _settled(self, seen: Seen, connection_id: str) -> bool:
        """True unless the last show or list found the connection SETTLING (a create or an update still under way)
        and it stays so: then it is shown again at growing intervals until it has another status, for up to
        SETTLE_WAIT seconds (connection_settles). Its status is unknown after that, so that it is not waited for
        twice. False too when it has settled in a status other than USABLE (connection_usable: ERROR, ...)."""
        show, patience = "ShowVpnConnection", Patience(SETTLE_WAIT, FIRST_PAUSE, LONGEST_PAUSE)
        while seen.status in SETTLING:
            record, answer = self._send(show, self._url(show, connection_id), None, seen, "show until settled")
            if answer is None or not self._expect(record, answer, show, 200, "show until settled"):
                seen.status = None
                return False
            seen.status = answer.json["vpn_connection"].get("status")
            if seen.status not in SETTLING:
                break
            if over := patience.over():
                record.failures.append(self._failure("connection_settles", show, "Connection not settled",
                                                     f"the show still answers status {seen.status} after "
                                                     f"{patience.waited():.0f} s of waiting for the create or the update to end"))
            if over or self.stopped():
                seen.status = None
                return False
            patience.pause()
        if seen.status is not None and seen.status not in USABLE and seen.records:
            seen.records[-1].failures.append(self._failure(
                "connection_usable", show, f"Connection {seen.status}",
                f"the show or list found the connection {seen.status}, not {' or '.join(USABLE)}: it is not updated"))
            seen.status = None  # (said once: the delete that follows does not say it again)
            return False
        return True

    def _gone(self, seen: Seen, connection_id: str) -> bool:
        """Show the deleted connection until the show answers 404 (True). While it answers the connection with status
        PENDING_DELETE (kept to the show's schema), it is asked again, for up to DELETION_WAIT seconds."""
        show, delete = "ShowVpnConnection", self.ops["DeleteVpnConnection"].id
        patience = Patience(DELETION_WAIT, FIRST_PAUSE, LONGEST_PAUSE)
        while True:
            record, answer = self._send(show, self._url(show, connection_id), None, seen, "show after delete")
            if answer is None or answer.status == 404:
                return answer is not None
            conn = answer.json.get("vpn_connection") if isinstance(answer.json, dict) else None
            status = conn.get("status") if isinstance(conn, dict) else None
            if answer.status != 200 or status != PENDING_DELETE:
                record.failures.append(self._failure(
                    "deleted_connection_gone", show, "Deleted connection still there",
                    f"show after delete must get 404 (or, while the deletion lasts, the connection with status "
                    f"{PENDING_DELETE}); got {answer.status}" + (f" with status {status!r}" if answer.status == 200 else "")))
                return False
            if not self._expect(record, answer, show, 200, "show after delete"):
                return False
            if self.stopped():
                return False
            if patience.over():
                record.failures.append(self._failure(
                    "deletion_finishes", delete, "Deletion not finished",
                    f"the show still answers status {PENDING_DELETE} {patience.waited():.0f} s after the delete"))
                return False
            patience.pause()

    def _reused_tunnel_pair(self, live: list[tuple[Seen, str]]) -> list[CaseRecord]:
        """A create that gives the tunnel pair a live connection of the gateway uses gets 400 VPN.0012."""
        routed = next((s for s, _ in live if "tunnel_local_address" in (s.connection or {})), None)
        if routed is None or not self._room_for_one_more():
            return []
        taken = routed.connection or {}
        seen = Seen(routed.style, json.loads(json.dumps(routed.sent)))
        seen.sent["vpn_connection"].update(tunnel_local_address=taken["tunnel_local_address"],
                                           tunnel_peer_address=taken["tunnel_peer_address"],
                                           cgw_id=self.repairer.customer_gateway())  # (only the tunnel pair in use)
        self._free_customer_gateway(seen.sent, len(live))
        error = self.spec.errors["tunnel-pair-in-use"]
        refused = self._create_to_refuse(seen, "create with a tunnel pair in use", error)
        if refused is not None:
            record, status, code, _ = refused
            record.failures.append(Failure(
                "tunnel_pair_in_use", "Tunnel pair in use not refused",
                f"the tunnel pair {taken['tunnel_local_address']} / {taken['tunnel_peer_address']} of connection "
                f"{taken.get('id')} on the same gateway must get {error['status']} {error['error_code']}; got "
                f"{status} {code or ''}".rstrip(), "tunnel-pair-in-use",
                self.spec.error_provenance("tunnel-pair-in-use", "error_code")))
        return seen.records

    def _free_customer_gateway(self, body: dict[str, Any], held: int) -> None:
        """Where the user named several customer gateways, give ``body`` one that none of the ``held`` live
        connections of this phase names (they took the first ones; the room on the gateway leaves one free)."""
        if self.run is not None and self.run.taking_turns:
            body["vpn_connection"]["cgw_id"] = self.run.turn(held)

    def _shared_connection_pair(self, live: list[tuple[Seen, str]]) -> list[CaseRecord]:
        """A create that names the gateway address and the customer gateway of a live connection (with a tunnel pair
        and a name of its own) is refused: they hold one connection (``x-vpnconn-quotas``, from the user guide). No
        source says that the API refuses it, nor how: whatever else the target answers is a divergence."""
        first = next((s for s, _ in live if s.connection), None)
        if first is None or not self._room_for_one_more():
            return []
        taken = first.connection or {}
        seen = Seen(first.style, self.repairer.repair(json.loads(json.dumps(first.sent))))  # (a tunnel pair of its own)
        fields = self.spec.quota_fields(PER_PAIR)
        seen.sent["vpn_connection"].update({f: taken[f] for f in fields if f in taken})
        seen.sent["vpn_connection"]["name"] = f"{str(taken.get('name', 'vpn'))[:50]}-second"
        error = self.spec.quota_error(PER_PAIR)
        refused = self._create_to_refuse(seen, "create on a gateway address and customer gateway in use", error)
        if refused is not None:
            record, status, code, created = refused
            shared = ", ".join(f"{f} {taken.get(f)}" for f in fields)
            got = "was created" if created else f"got {status} {code or ''}".rstrip()
            record.failures.append(self._failure(
                "connection_pair_in_use", self.spec.create.id, "Second connection on a gateway address and customer gateway",
                f"a create with {shared} (those of connection {taken.get('id')}, which hold one connection) {got}; "
                f"the spec expects {error['status']} {error['error_code']}"))
        return seen.records

    def _room_for_one_more(self) -> bool:
        """May one more create go (the create budget and the room on the gateway)?"""
        left = self.run.creates_left() if self.run is not None else None
        return left is None or left > 0

    def _create_to_refuse(self, seen: Seen, step: str, error: dict[str, Any]) -> tuple[CaseRecord, int, str | None, bool] | None:
        """Send ``seen.sent``, a create the target should refuse with ``error`` (its status and code); what it creates
        is deleted at once. None when it got no answer, or ``error``; else its record, status, error code and whether
        it created a connection."""
        create = self.spec.create
        record, answer = self._send(create.id, self._url(create.id), seen.sent, seen, step)
        if answer is None:
            return None
        code, connection_id = error_code_of(answer.json), created_id(answer.status, answer.content)
        if connection_id is not None:  # accepted: it must not stay
            self._delete(Seen(seen.style, seen.sent), connection_id)
        if (answer.status, code) == (error["status"], error["error_code"]):
            return None
        return record, answer.status, code, connection_id is not None

    def _unknown_id(self) -> list[CaseRecord]:
        """An id that never existed gets 404."""
        seen = Seen("none", {})
        rng = random.Random(self.settings.seed + 1)
        unknown = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        record, answer = self._send("ShowVpnConnection", self._url("ShowVpnConnection", unknown), None, seen, "show of an unknown id")
        if answer is not None:
            self._expect(record, answer, "ShowVpnConnection", 404, "show of an unknown id")
        return seen.records


def _in_whole_seconds(stamp: str) -> bool:
    """Is ``stamp`` written in whole seconds, from a clock that may keep seconds: the spec's ``...ss.SSSZ`` with
    ``.000Z``, or the form the zh list and show pages give (``...ssZ``: the Timestamp's ``x-vpnconn-also-documented``)?"""
    form, _ = load_spec().answer_forms_also_documented["Timestamp"]
    return stamp.endswith(".000Z") or matches(form["pattern"], stamp)
