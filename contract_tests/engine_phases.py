"""The schemathesis part of a run: the examples, coverage and fuzzing phases with every built-in check
and ours, each case turned into a :class:`~contract_tests.records.CaseRecord`.

Their cases are planned (``case_plan``; read from ``case_cache`` when a run with the same key made them
before), the fuzzing phase's by ``plan_worker``, a process per part (a mode each), while this process
plans the others and then sends them; ``sender`` sends each phase with several requests in flight as soon as it is planned."""

from __future__ import annotations

import contextlib
import json
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

from contract_tests import case_cache, child_process, hooks
from contract_tests.case_plan import ENGINE_PHASES, Plan, PlannedCase, PlanningStopped, fuzzing_parts, generate, plan_key
from contract_tests.proxies import refused
from contract_tests.records import REFUSED_BY_PROXY, CaseRecord, Failure, Finding
from contract_tests.settings import RunSettings, environment_without_secrets
from contract_tests.verdicts import (
    UNDECLARED_HEADER,
    body_violations,
    check_provenance,
    not_rejected,
    response_provenance,
    undeclared_headers,
    valid_refusal,
)
from vpnconn.spec import REPO_ROOT

PHASES = ENGINE_PHASES


def _headers(raw: Any) -> dict[str, str]:
    return {k: (v[0] if isinstance(v, list) and v else str(v)) for k, v in dict(raw or {}).items()}


def _decode(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", "replace")


def record_of(phase: str, case: Any, interaction: Any, check_nodes: list[Any], positive: bool | None = None) -> CaseRecord:
    """``positive``: the case's mode when the caller knows it (else read from schemathesis' metadata)."""
    mode = "positive" if (hooks.is_positive(case) if positive is None else positive) else "negative"
    request, response = interaction.request, interaction.response
    body = case.body if isinstance(case.body, (dict, list, str, int, float, bool)) or case.body is None else None
    labels = []
    if mode == "negative":
        labels = sorted({v.rule for v in body_violations(body)}) if body is not None else []
        labels = labels or ["headers-or-path"]
    failures = [f for node in check_nodes if node.failure_info is not None
                for f in _failures(node.name, node.failure_info.failure, labels, response, case.headers, body)]
    return CaseRecord(
        phase=phase, mode=mode, method=request.method, url=request.uri, request_headers=_headers(request.headers),
        request_body=_decode(request.body), status=response.status_code if response else None,
        response_headers=_headers(response.headers) if response else {},
        response_body=(_decode(response.content) or "") if response else "", body=body, labels=labels, failures=failures,
    )


def _failures(check: str, failure: Any, labels: list[str], response: Any, headers: Any, body: Any = None) -> list[Failure]:
    """A schemathesis failure as ours: our checks' findings keep their rule and provenance; a built-in check
    takes the provenance of what it expects. An accepted invalid body is one finding per constraint it
    breaks (none of them was enforced), each with that constraint's provenance. A valid request refused for the
    account's state or for a value a page of the API does not list (verdicts.valid_refusal), or while it carries a
    header the spec does not declare, rests on that, which no source holds the target to."""
    finding = getattr(failure, "exception", None)
    if isinstance(finding, Finding):
        return [Failure.of(check, finding)]
    if check == "negative_data_rejection" and labels:
        return not_rejected(labels, failure.title, failure.message, body)
    if check == "positive_data_acceptance" and response is not None and (
            refusal := valid_refusal(response.status_code, bytes(response.content or b""), body)) is not None:
        return [Failure(check, failure.title, f"{failure.message}\n\n{refusal[1]}", provenance=refusal[0])]
    if check == "positive_data_acceptance" and (undeclared := undeclared_headers(headers)):
        return [Failure(check, failure.title, f"{failure.message}\n\nThe request carries {', '.join(undeclared)}, "
                        "a header the spec does not declare.", provenance=check_provenance(UNDECLARED_HEADER))]
    if check == "response_schema_conformance" and response is not None:
        return [Failure(check, failure.title, failure.message,
                        provenance=response_provenance(response.status_code, bytes(response.content or b"")))]
    return [Failure(check, failure.title, failure.message, provenance=check_provenance(check))]




def unanswered(phase: str, url: str, what: str, mode: str = "negative", cause: BaseException | None = None) -> CaseRecord:
    """A request that got no HTTP answer (refused, reset, timed out): a finding, never dropped. One a proxy refused
    (``cause``: a 407, proxies.refused) got no answer of the target's: not judged."""
    failure = (Failure(REFUSED_BY_PROXY, "Refused by a proxy", f"{what}; the request is not judged",
                       provenance=check_provenance(REFUSED_BY_PROXY)) if cause is not None and refused(cause) else
               Failure("request_error", "No answer from the target", what, "no HTTP answer"))
    return CaseRecord(phase=phase, mode=mode, method="POST", url=url, request_headers={}, request_body=None,
                      status=None, response_headers={}, response_body="", failures=[failure])




class EngineError(RuntimeError):
    """Schemathesis could not run a phase for a reason of ours (a bug, not the target): exit 3."""


def run_engine(base_url: str, settings: RunSettings, progress: Callable[[str], None],
               phases: tuple[str, ...] = PHASES, started: float | None = None) -> list[CaseRecord]:
    """Plan (or read the plan of) ``phases`` and send it; the records in the plan's order. A phase is sent as
    soon as its cases are planned: the examples and coverage while the fuzzing cases are still being generated
    in other processes. Progress lines give the seconds since ``started`` (the run's start; default now)."""
    from contract_tests.sender import CaseSender

    started = time.monotonic() if started is None else started
    sender: CaseSender | None = None
    records: list[CaseRecord] = []
    try:
        with contextlib.closing(planned_phases(settings, phases, progress)) as planned:  # closed: the worker stops
            for phase, cases in planned:
                if cases:
                    sender = sender or CaseSender(base_url, settings, progress)
                    records += sender.send(phase, cases, started)
    except PlanningStopped:
        progress("  plan      stopped before its cases were all generated: the rest of these phases is not sent")
    return records


def plan_for(settings: RunSettings, phases: tuple[str, ...], progress: Callable[[str], None]) -> Plan:
    """The run's whole plan: from the cache when a run with the same key made it, else generated (and kept)."""
    key = plan_key(settings, phases)
    return Plan(key, [c for _, cases in planned_phases(settings, phases, progress, key) for c in cases])


def planned_phases(settings: RunSettings, phases: tuple[str, ...], progress: Callable[[str], None],
                   key: str | None = None) -> Generator[tuple[str, list[PlannedCase]], None, None]:
    """(phase, its cases) in schemathesis' order, each as soon as it is planned: read from the cache when a run
    with the same key (``plan_key``, worked out here unless given) made the plan, else generated (the fuzzing cases
    by ``plan_worker``) and, once every phase is planned, kept. Raises :class:`PlanningStopped` when the run halts
    while generating."""
    started = time.monotonic()
    key = key or plan_key(settings, phases)
    wanted = tuple(p for p in PHASES if p in phases)
    if settings.use_cache:
        cached = case_cache.load(key)
        if cached is not None:
            progress(f"  plan      {len(cached.cases):5} cases read from the case cache ({time.monotonic() - started:.1f} s; "
                     f"--no-cache generates them afresh)")
            for phase in wanted:
                yield phase, cached.phase(phase)
            return
    fuzzing = FuzzingPlanner(settings) if "fuzzing" in wanted else None
    run = hooks.active()

    def halted() -> bool:
        return run is not None and run.halted

    def planned(cases: list[PlannedCase]) -> None:  # every phase is planned: keep the plan, say so
        if settings.use_cache:
            case_cache.store(Plan(key, cases))
        progress(f"  plan      {len(cases):5} cases generated ({time.monotonic() - started:.1f} s"
                 f"{'; kept in the case cache' if settings.use_cache else ''})")

    cases: list[PlannedCase] = []
    try:
        cases += generate(settings, tuple(p for p in wanted if p != "fuzzing"), halted)
        if fuzzing is None:
            planned(cases)
        else:
            progress(f"  plan      {len(cases):5} cases generated ({time.monotonic() - started:.1f} s); sent while the "
                     f"fuzzing cases are generated in {fuzzing.described}")
        for phase in wanted:
            if phase == "fuzzing" and fuzzing is not None:
                cases += fuzzing.result(halted)
                planned(cases)
            yield phase, [case for case in cases if case.phase == phase]
    finally:
        if fuzzing is not None:
            fuzzing.stop()


class FuzzingPlanner:
    """The fuzzing phase's cases, generated by ``python -m contract_tests.plan_worker`` while this process
    generates the others (generation, not sending, is what costs): a worker per part (``case_plan.fuzzing_parts``:
    a run of both modes draws its positive and its negative cases side by side). Always the same program given
    only a part's inputs: the same key gives the same cases, whichever process asks."""

    def __init__(self, settings: RunSettings) -> None:
        self._workers = [_PlanWorker(part) for part in fuzzing_parts(settings)]

    def result(self, halted: Callable[[], bool]) -> list[PlannedCase]:
        """The cases of every part, in part order, once generated; PlanningStopped when the run halts first
        (Ctrl-C, SIGTERM, MAX_TIME)."""
        return [case for worker in self._workers for case in worker.result(halted)]

    def stop(self) -> None:
        """End every worker still running (Ctrl-C, an error, the deadline); never leaves one behind."""
        for worker in self._workers:
            worker.stop()

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [worker.process for worker in self._workers]

    @property
    def described(self) -> str:
        """Where the cases are generated, for the progress line: "a second process" or "2 other processes"."""
        return "a second process" if len(self._workers) == 1 else f"{len(self._workers)} other processes"


class _PlanWorker:
    """One ``plan_worker`` process generating one fuzzing part."""

    def __init__(self, part: RunSettings) -> None:
        from contract_tests.plan_worker import request_for

        self._errors = tempfile.TemporaryFile()  # a file, not a pipe: warnings written there never block it
        self.process = subprocess.Popen([sys.executable, "-m", "contract_tests.plan_worker"], cwd=REPO_ROOT,
                                        env=environment_without_secrets(),  # it is told no credential either
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request_for(part, ("fuzzing",))).encode() + b"\n")
        self.process.stdin.flush()  # kept open until stop() (child_process.end closes it): the worker stops where it
        # closes, and so when this process is killed outright too
        self._out: list[bytes] = []
        self._reader = threading.Thread(target=self._read, name="vpnconn-plan-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        self._out.append(self.process.stdout.read())

    def result(self, halted: Callable[[], bool]) -> list[PlannedCase]:
        while self._reader.is_alive():
            self._reader.join(0.2)
            if halted():
                raise PlanningStopped()
        code = self.process.wait()
        try:
            status, payload = pickle.loads(self._out[0]) if self._out and self._out[0] else ("died", None)
        except (pickle.UnpicklingError, EOFError, ValueError):
            status, payload = "died", None
        if status == "died":
            self._errors.seek(0)
            error = self._errors.read().decode("utf-8", "replace").strip()
            raise EngineError(f"the fuzzing planner died (exit code {code}){': ' + error[-300:] if error else ''}")
        if status != "ok" or not isinstance(payload, list):
            raise EngineError(f"generating the fuzzing cases failed: {payload}")
        return payload

    def stop(self) -> None:
        child_process.end(self.process)
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._errors.close()
