"""One contract run: start or reach the target, preflight it, run schemathesis' phases and ours, judge.

The verdict (:attr:`RunResult.exit_code`): 0 when enough answers were judged and no violation was found,
1 for violations (divergences too with ``strict``). What stops a run (an unreachable target, refused
credentials, too few answers to judge) raises :class:`~vpnconn.errors.TargetError` (exit 2).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from contract_tests import checks, hooks
from contract_tests.answer_limits import limited_client
from contract_tests.case_plan import ENGINE_PHASES, fuzzing_examples
from contract_tests.cleanup import (
    GONE_WAIT,
    Ledger,
    adopt_refused_creates,
    adopt_unsure_creates,
    delete_until_done,
    kept_after_delete,
    kept_findings,
    still_shown,
    wait_until_gone,
)
from contract_tests.engine_phases import run_engine
from contract_tests.lifecycle_phase import LifecyclePhase
from contract_tests.pacing import Pace
from contract_tests.preflight import Preflight, run_preflight
from contract_tests.progress import Progress, phase_done
from contract_tests.records import DIVERGENCE, NOT_JUDGED, VIOLATION, CaseRecord
from contract_tests.redirects import redirected_away
from contract_tests.rules_phase import RulesPhase
from contract_tests.run_resources import customer_gateways_of_their_own, gateway_facts_unnamed, unknown_resource
from contract_tests.settings import RunSettings
from contract_tests.shared_gateway import GatewayWatch, judge_shared_gateway
from contract_tests.target import EmbeddedServer, embedded_server
from contract_tests.unsure_creates import gateway_connections
from vpnconn import Spec, load_spec
from vpnconn.errors import TargetError
from vpnconn.repair import Repairer
from vpnconn.spec import PER_GATEWAY, PER_PAIR
from vpnconn.world import told_world

MIN_ANSWERED = 10  # fewer HTTP answers than this (or under half of the requests) is no basis for a verdict


@dataclass
class RunResult:
    settings: RunSettings
    base_url: str
    records: list[CaseRecord]
    seconds: float
    notes: list[str] = field(default_factory=list)
    target_silent: bool = False  # the target stopped answering: the run stopped sending there (silence)

    @property
    def failed(self) -> list[CaseRecord]:
        return [r for r in self.records if r.failures]

    def with_severity(self, severity: str) -> list[CaseRecord]:
        return [r for r in self.records if severity in r.severities()]

    @property
    def violations(self) -> list[CaseRecord]:
        return self.with_severity(VIOLATION)

    @property
    def divergences(self) -> list[CaseRecord]:
        return self.with_severity(DIVERGENCE)

    @property
    def not_judged(self) -> list[CaseRecord]:
        """Requests whose answer was not the target's (records.NOT_JUDGED): no verdict counts them."""
        return self.with_severity(NOT_JUDGED)

    @property
    def exit_code(self) -> int:
        return 1 if self.violations or (self.settings.strict and self.divergences) else 0

    @property
    def rate(self) -> float:
        return len(self.records) / self.seconds if self.seconds else 0.0


def _accepted(records: list[CaseRecord]) -> list[dict]:
    return [r.body for r in records if r.mode == "positive" and r.status == 201 and isinstance(r.body, dict)]


@contextlib.contextmanager
def _target(settings: RunSettings, server: EmbeddedServer | None) -> Iterator[tuple[str, RunSettings]]:
    if settings.target:
        yield settings.base_url or settings.target, settings
    else:
        with server or embedded_server(settings) as (url, run_settings):
            yield url, run_settings


def _judgeable(records: list[CaseRecord]) -> None:
    """Enough answers to judge: answered, and not left busy (a target busy for good gets no verdict). Those a proxy
    refused are said apart: they were never the target's to answer."""
    judged = sum(1 for r in records if r.answered and not r.busy)
    if judged < MIN_ANSWERED or judged * 2 < len(records):
        unanswered = next((f.message for r in records if not r.answered or r.busy for f in r.failures), "")
        busy = sum(1 for r in records if r.busy)
        refused = sum(1 for r in records if r.failures and not r.judged_failing)
        raise TargetError(f"the target answered only {judged} of {len(records)} requests"
                          + (f" ({busy} more left busy, not judged)" if busy else "")
                          + (f", and a proxy refused {refused} of them (407: never the target's to answer)" if refused else "")
                          + ", too few to judge; no verdict" + (f" (last: {unanswered[:160]})" if unanswered else ""))


def _one_any_token_finding(records: list[CaseRecord], preflight: Preflight) -> None:
    """With "accepts any token" reported once by the preflight, drop the per-case ignored_auth repeats."""
    if preflight.any_token_accepted:
        for record in records:
            record.failures = [f for f in record.failures if f.check != "ignored_auth"]


def _delete_so_far(ledger: Ledger, settings: RunSettings, client: httpx.Client, progress: Callable[[str], None],
                   pace: Pace | None, why: str) -> None:
    """Delete what the run holds now (on every target, the embedded one too): before the lifecycle phase, whose
    lists then hold its own connections, not hundreds whose pages cost time to fetch and check; and when one more
    create could pass the gateway's quota (hooks.ActiveRun.before_create). A real account holds fewer connections
    for less time. A delete answered busy or not ready is asked again as at the end (delete_until_done); what cannot
    be deleted now stays in the ledger for the end. Then it waits until what it deleted is gone (a deletion may take a
    while, and count against the quota meanwhile); what is still shown after GONE_WAIT seconds counts as held. A create
    whose answer did not say what it did holds room until it is found: the gateway is listed for it first (a gateway's
    timeout often comes after the service made the connection), and what it made is deleted with the rest."""
    if ledger.unsure and settings.target is not None:
        unsure = ledger.unsure
        adopt_unsure_creates(ledger, settings, client, pace)
        if ledger.unsure < unsure:
            progress(f"  cleanup: {unsure - ledger.unsure} of {unsure} create(s) whose answer did not say what they did "
                     "found on the gateway, deleted with the rest")
    pending, deleted = ledger.pending(), []
    if pending:
        deleted = delete_until_done(pending, settings, client, deleted=ledger.deleted_url, pace=pace).deleted
        progress(f"  cleanup: deleted {len(deleted)} of the {len(pending)} connection(s) created so far, {why}")
    still = wait_until_gone([url for url in deleted + ledger.going() if url not in ledger.kept], settings, client, pace,
                            GONE_WAIT, ledger.base_url)
    kept = kept_after_delete(still)
    ledger.kept.update(kept)  # (not waited for again: the target keeps them)
    ledger.still_going([*still, *ledger.kept])
    if still:
        progress(f"  cleanup: {len(still)} deleted connection(s) not gone after up to {GONE_WAIT:g} s ({still_shown(still)}): "
                 "counted as held" + (f"; {len(kept)} of them not being deleted ({', '.join(sorted(set(kept.values())))}): "
                                      "the target keeps them" if kept else ""))


def _room_on_gateway(spec: Spec, listed: list[dict[str, Any]] | None, settings: RunSettings,
                     progress: Callable[[str], None], own_customer_gateways: bool) -> tuple[int, str, tuple[str, ...]]:
    """How many connections the run may hold at once on its gateway, the limit that says so, and the customer
    gateways its creates take turns at (none: each create names one of its own): the quota less those there before
    the run (all of it when the gateway could not be listed), and, when the creates name the customer gateways the
    user gave, what the gateway address and each of them may hold (one), less what they hold; said when it is less
    than the gateway's quota."""
    quota = spec.quota(PER_GATEWAY)
    there = len(listed or [])
    if there:
        progress(f"  the gateway {settings.vgw_id} holds {there} connection(s) already: with its quota of {quota}, the run "
                 f"holds at most {max(0, quota - there)} at once (it deletes what it made when it reaches that)")
    room, limit = max(0, quota - there), f"the gateway's quota of {quota} connections"
    if own_customer_gateways:
        return room, limit, ()
    pair = spec.quota(PER_PAIR)
    named = {f: getattr(settings, f) for f in spec.quota_fields(PER_PAIR) if hasattr(settings, f)}  # (the run's ids)
    on_pair = {cgw_id: sum(1 for c in listed or [] if all(c.get(f) == value for f, value in (named | {"cgw_id": cgw_id}).items()))
               for cgw_id in settings.customer_gateways}
    free = [cgw_id for cgw_id, there in on_pair.items() for _ in range(max(0, pair - there))]
    if len(on_pair) == 1:
        there = on_pair[settings.cgw_id]
        progress(f"  the gateway address {settings.vgw_ip} and the customer gateway {settings.cgw_id} hold {pair} connection(s) "
                 f"at once (the user guide)" + (f", {there} there already" if there else "") + f": the run holds at most "
                 f"{len(free)} at once, deleting it before the next create")
    else:
        full = [cgw_id for cgw_id, there in on_pair.items() if there >= pair]
        progress(f"  the gateway address {settings.vgw_ip} and each customer gateway hold {pair} connection(s) at once (the user "
                 f"guide): the creates take turns at {len(set(free))} of the {len(on_pair)} named"
                 + (f" ({', '.join(full)} full already)" if full else "") + f", holding at most {len(free)} at once and "
                 f"deleting them after each round")
    if room < len(free):
        return room, limit, tuple(free[:room])
    several = len(settings.customer_gateways) > 1
    return len(free), (f"the {pair} connection(s) the gateway address and {'each' if several else 'the'} customer gateway "
                       f"may hold"), tuple(free)


def _clean_up(ledger: Ledger, settings: RunSettings, client: httpx.Client, progress: Callable[[str], None],
              notes: list[str], pace: Pace | None) -> None:
    """Delete every connection the run created (also after an error or Ctrl-C); say what could not be."""
    if settings.target is None:  # the embedded server stops with the run, and what it holds ends with it
        ledger.path.unlink(missing_ok=True)
        return
    if ledger.found:  # (as it made room, before this last look)
        notes.append(f"{ledger.found} create(s) got no answer, or one that does not say whether the connection "
                     "was created (a timeout, a gateway's 5xx, a create sent again after a dropped connection): what they "
                     "made found on the gateway as the run made room, and deleted")
    for found in (adopt_unsure_creates(ledger, settings, client, pace), adopt_refused_creates(ledger, settings, client, pace)):
        if found:
            progress(f"  cleanup: {found}")
            notes.append(found)
    pending = ledger.pending()
    if pending:
        progress(f"  cleanup: deleting the {len(pending)} connection(s) this run created")
    done = delete_until_done(pending, settings, client, progress, deleted=ledger.deleted_url, pace=pace)
    ledger.remove_if_done()
    if done.left:
        notes.append(done.summary() + f"\n  (listed in {ledger.path}; `vpnconn cleanup` deletes them later)")
    if pending:
        progress("  " + done.summary())
    # a target found keeping what it answered as deleted (as the run made room) is asked once of what it deleted now
    kept = {**ledger.kept, **(kept_after_delete(wait_until_gone(done.deleted, settings, client, pace, wait=0))
                              if ledger.kept and done.deleted else {})}
    if kept:
        said = (f"{len(kept)} connection(s) the target answered as deleted are still there, not being deleted: "
                "left on the target (delete them yourself):" + "".join(f"\n  {url}  ({why})" for url, why in kept.items()))
        progress(f"  cleanup: {said}")
        notes.append(said)


def run_contract(settings: RunSettings, progress: Callable[[str], None] = print, live: bool = True,
                 server: EmbeddedServer | None = None) -> RunResult:
    """Run the whole suite; raises :class:`TargetError` when the target cannot be judged. Without a TARGET it
    starts the embedded server, or takes ``server``, started already for these settings (it stops it)."""
    started = time.monotonic()
    notes: list[str] = []
    spec = load_spec()
    with _target(settings, server) as (base_url, settings), limited_client(settings.request_timeout) as client:
        preflight = run_preflight(base_url, settings, spec, client)
        where = base_url if settings.target else f"{base_url} (embedded reference server)"
        progress(f"contract run against {where}: mode {settings.effective_mode}, seed {settings.seed}, "
                 f"up to {fuzzing_examples(settings)} fuzzing examples")
        if preflight.records:
            progress(f"  preflight: {preflight.records[0].failures[0].title.lower().removeprefix('the ')} "
                     f"(one finding; ignored_auth is not repeated per case)")
        if not settings.creates:
            note = ("the target is not on loopback and ALLOW_CREATE=1 is not set: only negative cases are sent "
                    "(no request that a correct server would accept, so nothing is created)")
            notes.append(note)
            progress(f"  note: {note}")
        deadline = started + settings.max_time
        # an embedded server's connections die with it: its ledger need not outlive the run where users look
        folder = Path(settings.ledger_dir) if settings.target else Path(tempfile.gettempdir()) / "vpnconn-embedded"
        ledger = Ledger.new(base_url, settings.project_id, folder)
        for body, status, content in preflight.answers:  # a target that accepts a made-up token has created one
            ledger.note_create(body, status, content)
        lifecycle_phase = "lifecycle" in settings.phases and settings.creates
        pace = Pace(settings.requests_per_second)
        room, limit, listed = None, "", None
        turns: tuple[str, ...] = ()
        if settings.creates:  # what the gateway holds already: its tunnel pairs are taken, none of it is the run's, and
            # the rest of the quota is the room the run has
            listed = gateway_connections(base_url, settings, client, pace)
            ledger.listed_before(listed, settings)
        # where the user named no customer gateway and the target's world is open, each create names one of its own, so
        # that no two share a gateway address and a customer gateway (they hold one connection)
        own_customer_gateways = customer_gateways_of_their_own(spec, base_url, settings, client, pace, ledger, progress)
        repairer = Repairer(spec, settings, unique_tunnels=True, own_customer_gateways=own_customer_gateways)
        if settings.creates:
            repairer.avoid_tunnels([c["tunnel_local_address"] for c in listed or [] if isinstance(c.get("tunnel_local_address"), str)])
            repairer.avoid_customer_gateways([c["cgw_id"] for c in listed or [] if isinstance(c.get("cgw_id"), str)])
            room, limit, turns = _room_on_gateway(spec, listed, settings, progress, own_customer_gateways)
        run = hooks.ActiveRun(settings, repairer, Progress(progress, live), deadline, ledger=ledger,
                              pace=pace,
                              reserve=len(spec.examples("request")) if lifecycle_phase else 0, room=room,
                              customer_gateways=turns)
        run.make_room = lambda: _delete_so_far(ledger, settings, client, lambda _: None, pace, "")  # (quietly, mid-phase)
        run.watch = GatewayWatch(ledger, settings, client, pace, listed) if settings.creates else None
        phase = None
        records: list[CaseRecord] = []
        rules: list[CaseRecord] = []
        lifecycle: list[CaseRecord] = []
        try:
            with hooks.activated(run), run.progress, checks.judging_in(told_world(settings)):
                engine = tuple(p for p in ENGINE_PHASES if p in settings.phases)
                records = run_engine(base_url, settings, progress, engine, started) if engine else []
                phase = RulesPhase(base_url, settings, client, run) if settings.creates and "rules" in settings.phases else None
                if phase and not run.halted:
                    try:
                        rules += phase.run_targeted(_accepted(records))
                        styles = Counter(r.style for r in records + rules if r.mode == "positive")
                        rules += phase.run_balance(_accepted(records), styles)
                    finally:
                        phase.close()
                    progress(phase_done("rules", rules, started))
                if lifecycle_phase and not run.halted:  # alone: no other phase creates while it lists
                    _delete_so_far(ledger, settings, client, progress, run.pace, "before the lifecycle phase")
                    lifecycle = LifecyclePhase(base_url, settings, client, ledger, run).run_all()
                    progress(phase_done("lifecycle", lifecycle, started))
            sent = records + rules + lifecycle
            for said in (judge_shared_gateway(sent, run.watch), redirected_away(sent), pace.said(started)):
                if said:
                    progress(f"  note: {said}")
                    notes.append(said)
        finally:
            if run.silence.stopped:
                progress(f"  stopped: {run.silence.described(started)}")
            budget_reached = run.budget_spent  # read before the cleanup empties the ledger
            _clean_up(ledger, settings, client, progress, notes, run.pace)
        records += rules + lifecycle + kept_findings(ledger.kept, GONE_WAIT)
        if budget_reached:
            notes.append(f"MAX_CREATES ({settings.create_budget}) was reached: the run stopped sending creating requests "
                         f"and judged what it had")
        if run.no_room:
            notes.append(f"{run.no_room} request(s) that could create were not sent: {limit} left no room (what it held "
                         "before the run, creates that may have made a connection the run does not know yet, and deletions "
                         "that did not end)")
        if run.out_of_time:
            notes.append(f"MAX_TIME ({settings.max_time:g} s) was reached: the run stopped sending and judged what it had")
        if run.silence.stopped:
            notes.append(run.silence.described(started))
    if run.silence.stopped and run.silence.by_proxy:  # the requests after it were never the target's to answer
        raise TargetError(f"{run.silence.described(started)}; no verdict: what it refused, and what was not sent after it, "
                          "was not judged (a proxy's credentials are given in its URL: HTTP_PROXY=http://user:password@host:port)")
    _judgeable(records)
    unknown = unknown_resource(spec, settings, records)
    if unknown:
        raise TargetError(unknown)
    _one_any_token_finding(records, preflight)
    notes += gateway_facts_unnamed(settings, records)
    return RunResult(settings=settings, base_url=base_url, records=preflight.records + records,
                     seconds=time.monotonic() - started, notes=notes, target_silent=run.silence.stopped)
