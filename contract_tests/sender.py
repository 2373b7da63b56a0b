"""Send a plan's cases with several requests in flight, and judge each answer with every check.

Everything that decides *what* is sent happens here, in the dispatching thread, in the plan's order: a
positive case is repaired (fresh tunnel pair, the target's gateways), a negative case of a run that must not
create is disarmed, and a creating request takes its share of the create budget before it leaves. Only the
sending and the checking run in the pool. So the requests, and therefore the verdicts, are the same at any
concurrency; the records come back in the plan's order.

What schemathesis' engine did per case is done here with its own parts: ``case.call`` (which runs the run's
``before_call``/``after_call`` hooks: pace, count, sign, note what was created) and the engine's
``validate_response`` with the run's check context (built-in checks and ours).
"""

from __future__ import annotations

import concurrent.futures
import functools
import threading
from collections.abc import Callable, Iterable
from typing import Any

import requests
from schemathesis.checks import CheckContext
from schemathesis.engine._check_context import collect_check_context_data
from schemathesis.engine._validate import validate_response
from schemathesis.engine.context import EngineContext
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.engine.run import PhaseName

from contract_tests import checks as _registers_checks  # noqa: F401  (registers the semantic checks)
from contract_tests import hooks, interim_answers, tool_headers
from contract_tests.answer_limits import limit_session
from contract_tests.case_plan import PlannedCase, create_operation
from contract_tests.dropped_connections import count_sends, create_sent_again, sent_so_far
from contract_tests.engine_phases import record_of, unanswered
from contract_tests.pacing import busy_failure, is_busy, until_not_busy
from contract_tests.progress import phase_done
from contract_tests.proxies import STATUS as PROXY_REFUSAL
from contract_tests.proxies import RefusedByProxy, as_refusal, refusal, refuse_in_session
from contract_tests.records import CaseRecord
from contract_tests.settings import RunSettings
from contract_tests.silence import awaiting, why_unanswered

TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError, requests.exceptions.TooManyRedirects)


class CaseSender:
    def __init__(self, base_url: str, settings: RunSettings, progress: Callable[[str], None]) -> None:
        self.base_url, self.settings, self.progress = base_url, settings, progress
        self.operation = create_operation(base_url, settings)
        tool_headers.install()  # no request goes with schemathesis' own X-Schemathesis-TestCaseId (see the module)
        interim_answers.install()  # schemathesis' client reads past 1xx answers, as ours does (see the module)
        self.ctx = EngineContext(schema=self.operation.schema, stop_event=threading.Event())
        self.failing = 0
        # schemathesis' ignored_auth probes an operation's credentials once per run and then trusts them. Shared
        # between requests in flight, which case probes would depend on timing; so the run's first positive case
        # is judged alone (with the shared set), and every other case gets a copy of the set as it then stands.
        self.enforced: set[str] = set()
        self.settled = False
        self.creating: set[concurrent.futures.Future[list[CaseRecord]]] = set()  # requests in flight that may create

    def send(self, phase: str, planned: Iterable[PlannedCase], started: float) -> list[CaseRecord]:
        """Send ``planned`` (one phase's cases), ``settings.concurrency`` at a time; their records in order."""
        run = hooks.active()
        concurrency = max(1, self.settings.concurrency)
        checking = collect_check_context_data(operation=self.operation, ctx=self.ctx, phase=phase)  # once a phase
        results: list[concurrent.futures.Future[list[CaseRecord]]] = []
        with concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="vpnconn-send") as pool:
            pending: set[concurrent.futures.Future[list[CaseRecord]]] = set()
            try:
                for item in planned:
                    if self._stopped(run):
                        break
                    case = item.to_case(self.operation, self.settings.token)
                    # as schemathesis judges the case it sends (the token put in makes it judge the headers again:
                    # a case generated negative for an unexpected header, which OpenAPI does not refuse, is then
                    # positive); read once
                    positive = hooks.is_positive(case)
                    creating = self._prepare(run, case, positive, functools.partial(self._drain, pending))
                    if creating is None:
                        continue
                    if not self.settled and positive:
                        results.append(_done(self._exchange(phase, case, positive, checking, self.enforced)))
                        self.settled = True
                        continue
                    if len(pending) >= concurrency * 2:  # keep the pool fed, never the whole plan in flight
                        done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                        self._count_failing(done)
                    future = pool.submit(self._exchange, phase, case, positive, checking, set(self.enforced))
                    pending.add(future)
                    results.append(future)
                    if creating:
                        self.creating.add(future)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        records = [record for future in results if not future.cancelled() for record in future.result()]
        self.progress(phase_done(phase, records, started))
        return records

    def _stopped(self, run: hooks.ActiveRun | None) -> bool:
        if run is not None and run.halted:
            return True  # Ctrl-C, SIGTERM or MAX_TIME: what is in flight finishes, nothing more goes
        return bool(self.settings.max_failures and self.failing >= self.settings.max_failures)

    def _count_failing(self, done: set[concurrent.futures.Future[list[CaseRecord]]]) -> None:
        self.failing += sum(1 for future in done if any(r.judged_failing for r in future.result()))

    def _drain(self, pending: set[concurrent.futures.Future[list[CaseRecord]]]) -> None:
        """Wait for every request in flight (and count its failures); ``pending`` is left empty."""
        done, _ = concurrent.futures.wait(pending)
        self._count_failing(done)
        pending.clear()
        self.creating.clear()

    def _prepare(self, run: hooks.ActiveRun | None, case: Any, positive: bool, drain: Callable[[], object]) -> bool | None:
        """Make ``case`` safe and valid, in plan order: whether it may create, or None: it is not sent (MAX_CREATES).
        ``drain`` waits for the requests in flight (before the run deletes what it holds, to keep within the gateway's
        quota: hooks.ActiveRun.before_create)."""
        if run is None:
            return False
        if not self.settings.creates:
            if not positive:
                hooks.disarm(run, case)  # (a run that may not create has only negative cases)
            return False
        acceptable = positive or hooks.acceptable(case.body)
        if acceptable:
            self.creating = {future for future in self.creating if not future.done()}
            run.before_create(len(self.creating), drain)
        if acceptable and not run.take_create():
            return None  # MAX_CREATES: no more requests that could create (the others still go)
        if positive:
            run.repairer.repair(case.body)
            run.take_turn(case.body.get("vpn_connection") if isinstance(case.body, dict) else None)  # (its customer gateway)
        elif acceptable:
            # negative only in a header or the path: a lenient server creates it with the tunnel pair it names,
            # so no later positive case may be given that /30
            conn = case.body["vpn_connection"]
            run.repairer.avoid_tunnels([a for a in (conn.get("tunnel_local_address"), conn.get("tunnel_peer_address"))
                                        if isinstance(a, str)])
            run.repairer.own_customer_gateway(conn)  # (nor share a customer gateway with another, where that is free)
            run.take_turn(conn)
        return acceptable

    def _set_up(self, session: requests.Session) -> None:
        """Set up a session schemathesis gives a thread, once: no ~/.netrc, every answer held to the limits, a proxy's
        407 no answer (proxies), and each sending counted."""
        if getattr(session, "_vpnconn_prepared", False):
            return
        _without_netrc(session, self.base_url)
        limit_session(session, self.settings.request_timeout)
        refuse_in_session(session)
        count_sends(session)
        session._vpnconn_prepared = True  # type: ignore[attr-defined]

    def _exchange(self, phase: str, case: Any, positive: bool, checking: Any, enforced: set[str]) -> list[CaseRecord]:
        """One request and its checks, in a pool thread: the records of the case and of the checks' own requests."""
        recorder = ScenarioRecorder(label=self.operation.label, config=self.ctx.config.output)
        recorder.record_case(case=case)
        transport = self.ctx.get_transport_kwargs(operation=self.operation)
        self._set_up(transport["session"])
        run = hooks.active()  # (with a pace, a busy answer holds it for everyone: hooks.after_call, and here)
        if run is not None and run.halted:  # queued before the run halted: not sent (those in flight finish)
            return []
        mode = "positive" if positive else "negative"
        sent_again: list[bool] = []

        def ask() -> Any:  # one call of the case; its client may send it twice (a kept-alive connection dropped)
            before = sent_so_far()
            answer = case.call(**transport)
            sent_again.append(sent_so_far() - before > 1)
            return answer

        try:
            with awaiting(run.silence if run is not None else None, f"{phase} {case.method} {case.path}", TRANSPORT_ERRORS):
                response = until_not_busy(ask, run.pace if run is not None else None, case.method)
        except TRANSPORT_ERRORS as exc:
            if run is not None and run.ledger is not None and case.method.upper() == "POST":
                run.ledger.note_no_answer(case.body, exc)
            return [unanswered(phase, self.base_url, why_unanswered(exc), mode, exc)]
        recorder.record_response(case_id=case.id, response=response)
        if is_busy(response.status_code, bytes(response.content or b"")):  # still busy: the case is not judged
            record = record_of(phase, case, recorder.interactions[case.id], [], positive)
            record.failures = [busy_failure(response.status_code, bytes(response.content or b""), case.method)]
            return [record]
        if sent_again[-1] and case.method.upper() == "POST" and (positive or hooks.acceptable(case.body)):
            not_judged = create_sent_again(run.ledger if run is not None else None, case.body, response.status_code,
                                           bytes(response.content or b""))
            if not_judged is not None:
                record = record_of(phase, case, recorder.interactions[case.id], [], positive)
                record.failures = [not_judged]
                return [record]
        check_ctx = CheckContext(override=checking.override, auth=checking.auth, headers=checking.headers,
                                 config=checking.config, transport_kwargs=checking.transport_kwargs, recorder=recorder,
                                 response_checks=self.ctx.checks.for_responses(), phase=PhaseName.from_str(phase),
                                 auth_enforced_operations=enforced)
        probe: list[CaseRecord] = []
        try:
            validate_response(case=case, ctx=check_ctx, response=response, continue_on_failure=True, recorder=recorder)
        except TRANSPORT_ERRORS as sent_error:  # a request a check sends itself (ignored_auth's, without credentials) got none
            error = as_refusal(sent_error)  # (on a session of schemathesis' making: a tunnel's 407 is told in words only)
            # (a finding, not silence: the case itself was answered, and a target that drops only the requests without
            # credentials answers the run's; counted, such drops in a row passed for a silent target, as timing fell)
            probe = [unanswered(phase, self.base_url, f"{why_unanswered(error)} {PROBE}", mode, error)]
        refused = _refused_probes(recorder, case.id)
        return [unanswered(phase, self.base_url, f"{refusal(self.base_url)} {PROBE}", mode, RefusedByProxy()) if case_id in refused else
                record_of(phase, node.value, recorder.interactions[case_id], recorder.checks.get(case_id, []),
                          positive if node.value is case else None)
                for case_id, node in recorder.cases.items() if case_id in recorder.interactions] + probe


PROBE = "(a request one of schemathesis' checks sent on its own after this case, as ignored_auth's without credentials)"


def _refused_probes(recorder: ScenarioRecorder, case_id: str) -> set[str]:
    """The requests schemathesis' checks sent on their own after case ``case_id`` (ignored_auth's probes, on sessions
    of schemathesis' making, which the run's 407 hook is not on) that a proxy answered 407: no answer of the target's.
    (The check's finding of such an answer is the probe's, in the recorder: its record is replaced whole.)"""
    return {probe_id for probe_id, interaction in recorder.interactions.items()
            if probe_id != case_id and interaction.response is not None and interaction.response.status_code == PROXY_REFUSAL}


def _done(records: list[CaseRecord]) -> concurrent.futures.Future[list[CaseRecord]]:
    future: concurrent.futures.Future[list[CaseRecord]] = concurrent.futures.Future()
    future.set_result(records)
    return future


def _without_netrc(session: requests.Session, base_url: str) -> None:
    """requests reads ~/.netrc for every request of a session that trusts the environment (a tenth of a run's
    time, measured with py-spy). The run's credentials are explicit, so the session takes the environment's
    proxies once and stops reading it (once a session: ``CaseSender._set_up``; the CA of an HTTPS target comes with
    each request: case_plan.engine_config)."""
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.trust_env = False
