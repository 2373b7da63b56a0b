"""The run's shared state (deadline, stop, create budget) and the schemathesis hooks of a contract run: keep
the pace, count, sign, and note every connection created.

Schemathesis hooks are process-wide, so a hook acts only for the run that :func:`activated` it (one run at a
time per process; the requests in flight, in the sender's threads, share it).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import schemathesis

from contract_tests.aksk_auth import AkSkAuth
from contract_tests.case_plan import generated_positive
from contract_tests.cleanup import Ledger
from contract_tests.error_bodies import error_code_in
from contract_tests.pacing import Pace, is_busy
from contract_tests.progress import Progress
from contract_tests.settings import RunSettings
from contract_tests.shared_gateway import GatewayWatch
from contract_tests.silence import Silence
from vpnconn import load_spec
from vpnconn.documented import documented_only
from vpnconn.nulls import left_out
from vpnconn.repair import Repairer
from vpnconn.validation import request_check


@dataclass
class ActiveRun:
    settings: RunSettings
    repairer: Repairer
    progress: Progress
    deadline: float  # time.monotonic() after which nothing more is sent
    disarmed: int = 0  # negative-only runs: cases whose body was valid and was made invalid before sending
    ledger: Ledger | None = None  # where every connection the run creates is noted, to delete it at the end
    pace: Pace | None = None  # the run's request rate, shared by every request in flight
    reserve: int = 0  # creates kept back from the budget for the lifecycle phase
    # connections the run may hold at once on its gateway (its quota less those there before the run; None: no
    # limit), and how to delete what it holds when one more create could pass that (set by the runner)
    room: int | None = None
    make_room: Callable[[], None] = lambda: None
    no_room: int = 0  # creating requests not sent: the gateway's quota left no room even after making some
    room_made_in_vain: bool = False  # making room freed none (what was deleted is still shown): not tried again
    # the customer gateways the user named that the creates take turns at, a round of them between two deletions (one
    # connection each on the gateway address); empty: each create names a customer gateway of its own
    customer_gateways: tuple[str, ...] = ()
    taken: int = 0  # creating requests sent so far by the sender and the rules phase (each takes one at dispatch)
    # Ctrl-C or SIGTERM: finish the requests in flight (and note what they created), send no more; the fuzzing
    # planner's process is stopped too.
    stop_event: threading.Event = field(default_factory=threading.Event)
    # requests without an answer in a row, whichever phase sent them: enough of them and the run stops sending
    silence: Silence = field(default_factory=Silence)
    # lists the gateway when a valid create is refused for what it holds: was another client creating there?
    watch: GatewayWatch | None = None

    def refused_for_gateway_state(self, body: Any, status: int, content: bytes, positive: Callable[[], bool]) -> None:
        """Every create's answer (``positive``: is its refusal judged?): a positive one refused for what the gateway
        holds has the gateway listed now (shared_gateway). Called through :func:`create_answered`."""
        if self.watch is None or not 400 <= status < 500:
            return
        if self.watch.concerns(status, code := error_code_in(content)) and positive():
            self.watch.refused(body.get("vpn_connection") if isinstance(body, dict) else None, code)


    @property
    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    def creates_left(self, reserve: int = 0) -> int | None:
        """Creating requests still allowed by MAX_CREATES (None: no limit), keeping ``reserve`` back, and by the room
        on the gateway (:meth:`before_create` makes room first)."""
        left = self._budget_left(reserve)
        if self.room is None or self.ledger is None:
            return left
        room = self.room - self.ledger.held()
        return room if left is None else min(left, room)

    def _budget_left(self, reserve: int) -> int | None:
        budget = self.settings.create_budget
        if budget is None:
            return None
        return budget - reserve - max(self.taken, self.ledger.created_count() if self.ledger else 0)

    def before_create(self, in_flight: int, drain: Callable[[], object]) -> None:
        """Keep what the run holds on its gateway within the quota: when the connections it holds and ``in_flight``
        requests (each may create) leave no room for one more, wait for those in flight (``drain()``) and delete
        what it holds (``make_room``, which waits for it to be gone). The same requests are sent, at any concurrency.
        When that leaves no room (deletions that do not end), it is not tried again: the creates are not sent."""
        if self.room is None or self.ledger is None or self.room_made_in_vain:
            return
        if self.ledger.held() + in_flight >= self.room or (self._new_round() and self.ledger.held() + in_flight):
            drain()
            self.make_room()
            self.room_made_in_vain = self.ledger.held() >= self.room
            if self.customer_gateways and self.ledger.held():  # one left may hold any of them: no round is safe
                self.room_made_in_vain, self.room = True, self.ledger.held()

    def _new_round(self) -> bool:
        """Does the next creating request begin a round of the customer gateways (the same ones, in the same turns,
        whatever the concurrency and whatever the target answered)?"""
        return bool(self.customer_gateways) and self.taken > 0 and self.taken % len(self.customer_gateways) == 0

    def take_turn(self, conn: Any) -> None:
        """Give a create (as repaired, or a valid body sent as it is, whichever customer gateway it names: two that
        name the same one, in flight together, would share a pair) the customer gateway whose turn it is: that of the
        creating request counted last (:meth:`take_create`) in its round."""
        if self.taking_turns and isinstance(conn, dict) and isinstance(conn.get("cgw_id"), str):
            conn["cgw_id"] = self.turn(self.taken - 1)

    def turn(self, n: int) -> str:
        """The customer gateway of the ``n``-th create in turn (from 0), where the creates take turns."""
        return self.customer_gateways[n % len(self.customer_gateways)]

    @property
    def taking_turns(self) -> bool:
        """Do the creates take turns at the customer gateways the user named (several, one of them free at least)?"""
        return bool(self.customer_gateways) and len(self.settings.customer_gateways) > 1

    def take_create(self) -> bool:
        """May one more creating request go? If so it is counted now, before it is sent, so that requests in
        flight together never pass MAX_CREATES, and which ones go does not depend on the concurrency."""
        left = self.creates_left(self.reserve)
        if left is not None and left <= 0:
            self.not_sent(1, self.reserve)
            return False
        self.taken += 1
        return True

    def not_sent(self, creates: int, reserve: int = 0) -> None:
        """``creates`` creating requests were not sent for want of room: counted when the room on the gateway stopped
        them, not MAX_CREATES (which the run notes on its own)."""
        budget = self._budget_left(reserve)
        if budget is None or budget > 0:
            self.no_room += creates

    @property
    def budget_spent(self) -> bool:
        left = self._budget_left(self.reserve)
        return left is not None and left <= 0

    @property
    def interrupted(self) -> bool:
        return bool(self.stop_event.is_set())

    @property
    def halted(self) -> bool:
        """Past the deadline (MAX_TIME), interrupted, or the target stopped answering: send nothing more at all."""
        return self.interrupted or self.out_of_time or self.silence.stopped

    @property
    def should_stop(self) -> bool:
        """Halted, or past the create budget (MAX_CREATES): the engines and the rules phase send nothing more."""
        return self.halted or self.budget_spent


def create_answered(run: ActiveRun | None, ledger: Any, body: Any, status: int, content: bytes,
                    positive: Callable[[], bool]) -> None:
    """A create's answer, whichever phase sent it (schemathesis' through :func:`after_call`, the rules phase, the
    lifecycle): noted in ``ledger`` (a ``cleanup.Ledger``, or None: what it made, or what to look for where the answer
    does not say, or a valid create refused) and, refused for what the gateway holds, watched by ``run``
    (:meth:`ActiveRun.refused_for_gateway_state`). A new phase that creates calls this for each answer."""
    if ledger is not None:
        ledger.note_create(body, status, content)
        if 400 <= status < 500 and not is_busy(status, content) and positive():  # (a server may make what it refuses)
            ledger.note_refused(body)
    if run is not None:
        run.refused_for_gateway_state(body, status, content, positive)


_ACTIVE: ActiveRun | None = None


@contextlib.contextmanager
def activated(run: ActiveRun) -> Iterator[ActiveRun]:
    global _ACTIVE
    _ACTIVE = run
    try:
        yield run
    finally:
        _ACTIVE = None


def active() -> ActiveRun | None:
    return _ACTIVE


def request_stop() -> bool:
    """A signal asks the active run to stop: the requests in flight finish (so what they create is noted and
    deleted), nothing more is sent. False when no run is active (the caller then stops at once)."""
    run = _ACTIVE
    if run is None or run.interrupted:
        return False  # a second signal: stop at once
    run.stop_event.set()  # the sender, the rules and lifecycle phases and the planner read it before each step
    return True


def is_positive(case: Any) -> bool:
    """Is ``case`` positive as schemathesis now judges it (reading ``case.meta`` revalidates an edited case)?"""
    return generated_positive(getattr(case, "meta", None))


def acceptable(body: Any) -> bool:
    """Could a correct server accept (and so create from) this body? Judged by the documented constraints only,
    since a correct server may accept what the spec only infers, and with each field written null read as left out,
    as a correct server may read it (``null_as_left_out``). schemathesis calls a case negative when only a header or
    the path is off, so a "negative" case may carry such a body."""
    body = left_out(body)
    conn = body.get("vpn_connection") if isinstance(body, dict) else None
    return isinstance(conn, dict) and bool(request_check(documented_only(load_spec())).fast.is_valid(body))


def disarm(run: ActiveRun, case: Any) -> None:
    """Safety for negative-only runs: a negative case whose body a correct server could accept (see
    :func:`acceptable`) would create a connection. Drop a required field so that no such body leaves."""
    if acceptable(case.body):
        case.body["vpn_connection"].pop("vgw_id", None)
        run.disarmed += 1


@schemathesis.hook
def before_call(context, case, kwargs):
    run = _ACTIVE
    if run is None:
        return
    # what is sent was decided by the sender, in plan order (repaired, disarmed, counted against MAX_CREATES)
    if run.pace is not None:
        run.pace.wait()
    run.progress.count()
    if run.settings.ak:
        kwargs["auth"] = AkSkAuth(run.settings.ak, run.settings.sk or "")


@schemathesis.hook
def after_call(context, case, response):
    """Note each connection a create answer reports, the moment it arrives (in whichever process)."""
    run = _ACTIVE
    if run is None or response is None:
        return
    if case.method.upper() == "POST":  # (a busy answer holds the run in pacing.until_not_busy, which sends the case)
        create_answered(run, run.ledger, case.body, response.status_code, bytes(response.content or b""),
                        lambda: is_positive(case))
