"""The schemathesis part of a run: the examples, coverage and fuzzing phases with every built-in check
and ours, each case turned into a :class:`~contract_tests.records.CaseRecord`."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

import schemathesis
from schemathesis.engine import events, from_schema

from contract_tests import checks as _registers_checks  # noqa: F401  (registers the semantic checks)
from contract_tests import hooks
from contract_tests.aksk_auth import AkSkMarker
from contract_tests.records import CaseRecord, Failure, Finding
from contract_tests.settings import RunSettings
from contract_tests.verdicts import body_violations, check_provenance, not_rejected, response_provenance
from vpnconn.spec import SPEC_PATH, load_spec

PHASES = ("examples", "coverage", "fuzzing")


def engine_config(base_url: str, settings: RunSettings, phases: tuple[str, ...] = PHASES) -> schemathesis.Config:
    headers = {}
    if settings.token:
        headers["X-Auth-Token"] = settings.token
    return schemathesis.Config.from_dict({
        "base-url": base_url,
        "seed": settings.seed,
        "continue-on-failure": True,
        "request-timeout": settings.request_timeout,
        "suppress-health-check": ["all"],
        "headers": headers,
        "parameters": {"project_id": settings.project_id},
        **({"max-failures": settings.max_failures} if settings.max_failures else {}),
        "generation": {"mode": settings.effective_mode, "max-examples": settings.examples, "database": "none"},
        # the examples are valid bodies: a negative-only run must not send them
        "phases": {name: {"enabled": name in phases and not (name == "examples" and settings.effective_mode == "negative")}
                   for name in (*PHASES, "stateful")},
    })


def _headers(raw: Any) -> dict[str, str]:
    return {k: (v[0] if isinstance(v, list) and v else str(v)) for k, v in dict(raw or {}).items()}


def _decode(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", "replace")


def _record(phase: str, case: Any, interaction: Any, check_nodes: list[Any]) -> CaseRecord:
    mode = "positive" if hooks.is_positive(case) else "negative"
    request, response = interaction.request, interaction.response
    body = case.body if isinstance(case.body, (dict, list, str, int, float, bool)) or case.body is None else None
    labels = []
    if mode == "negative":
        labels = sorted({v.rule for v in body_violations(body)}) if body is not None else []
        labels = labels or ["headers-or-path"]
    failures = [f for node in check_nodes if node.failure_info is not None
                for f in _failures(node.name, node.failure_info.failure, labels, response)]
    return CaseRecord(
        phase=phase, mode=mode, method=request.method, url=request.uri, request_headers=_headers(request.headers),
        request_body=_decode(request.body), status=response.status_code if response else None,
        response_headers=_headers(response.headers) if response else {},
        response_body=(_decode(response.content) or "") if response else "", body=body, labels=labels, failures=failures,
    )


def _failures(check: str, failure: Any, labels: list[str], response: Any) -> list[Failure]:
    """A schemathesis failure as ours: our checks' findings keep their rule and provenance; a built-in check
    takes the provenance of what it expects. An accepted invalid body is one finding per constraint it
    breaks (none of them was enforced), each with that constraint's provenance."""
    finding = getattr(failure, "exception", None)
    if isinstance(finding, Finding):
        return [Failure(check, finding.title or check.replace("_", " "), str(finding), finding.rule, finding.provenance)]
    if check == "negative_data_rejection" and labels:
        return not_rejected(labels, failure.title, failure.message)
    if check == "response_schema_conformance" and response is not None:
        return [Failure(check, failure.title, failure.message,
                        provenance=response_provenance(response.status_code, bytes(response.content or b"")))]
    return [Failure(check, failure.title, failure.message, provenance=check_provenance(check))]


# What schemathesis calls an error that the target caused (no HTTP answer), as opposed to a bug of ours.
TARGET_ERRORS = ("Network Error", "Unhealthy API", "Unresponsive Operation", "Server Unavailable")


def unanswered(phase: str, url: str, what: str, mode: str = "negative") -> CaseRecord:
    """A request that got no HTTP answer (refused, reset, timed out): a finding, never dropped."""
    return CaseRecord(phase=phase, mode=mode, method="POST", url=url, request_headers={}, request_body=None,
                      status=None, response_headers={}, response_body="",
                      failures=[Failure("request_error", "No answer from the target", what, "no HTTP answer")])


def run_engine(base_url: str, settings: RunSettings, progress: Callable[[str], None],
               phases: tuple[str, ...] = PHASES) -> list[CaseRecord]:
    # schemathesis drives create; the other operations are exercised in sequence by the lifecycle phase
    everything = schemathesis.openapi.from_path(str(SPEC_PATH), config=engine_config(base_url, settings, phases))
    schema = everything.include(operation_id=load_spec().create.id)
    if settings.ak:
        schema.auth()(AkSkMarker)  # the placeholder it sets is replaced by a signature at send time (AkSkAuth)
    records: list[CaseRecord] = []
    started = time.monotonic()
    stream = from_schema(schema).execute()
    run = hooks.active()
    if run is not None:
        run.stops.append(stream.stop)
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            phase = str(event.phase.value if hasattr(event.phase, "value") else event.phase).lower()
            recorder = event.recorder
            for case_id, node in recorder.cases.items():
                interaction = recorder.interactions.get(case_id)
                if interaction is None:
                    continue
                records.append(_record(phase, node.value, interaction, recorder.checks.get(case_id, [])))
            done = [r for r in records if r.phase == phase]
            failed = sum(1 for r in done if r.failures)
            progress(f"  {phase:9} {len(done):5} cases  {failed:4} with failures  ({time.monotonic() - started:.1f} s)")
        elif isinstance(event, events.Interrupted):
            if run is not None and run.should_stop:
                continue  # our own stop at the deadline (MAX_TIME) or the create budget (MAX_CREATES): judge what was gathered
            raise KeyboardInterrupt()  # schemathesis caught Ctrl-C; the run must end, not go on to the next phase
        elif isinstance(event, events.NonFatalError) and event.info.title in TARGET_ERRORS:
            phase = str(getattr(event.phase, "value", event.phase) or "engine").lower()
            first = str(event.value).strip().splitlines()[0] if str(event.value).strip() else event.value.__class__.__name__
            records.append(unanswered(phase, base_url, f"{event.info.title}: {first[:300]}"))
            progress(f"  {phase:9} the target did not answer: {first[:120]}")
        elif isinstance(event, events.NonFatalError):
            raise EngineError(f"schemathesis: {event.info.title}: {str(event.value).strip()[:300]}")
        elif isinstance(event, events.FatalError):
            raise EngineError(f"schemathesis stopped: {event.exception}")
    return records


class EngineError(RuntimeError):
    """Schemathesis could not run a phase for a reason of ours (a bug, not the target): exit 3."""


_CHILD_SIGNALS: list[int] = []


def _child_interrupt(signum: int, frame: Any) -> None:
    """The fuzzing process's own first SIGINT stops it after the request in flight (whether or not the parent
    has already asked the same through the shared event); its second stops it at once."""
    _CHILD_SIGNALS.append(signum)
    run = hooks.active()
    if run is None or len(_CHILD_SIGNALS) > 1:
        raise KeyboardInterrupt()
    hooks.stop_sending(run)


def _worker(base_url: str, settings: RunSettings, phases: tuple[str, ...], conn: Any,
            progress: Callable[[str], None]) -> None:
    # The parent decides what a signal means; here SIGTERM just ends the process (the parent's way to stop it),
    # and SIGINT (Ctrl-C reaches the whole process group) stops the engine after the request in flight, so that
    # what it created is noted; a second SIGINT stops at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, _child_interrupt)
    run = hooks.active()
    if run is not None:
        run.repairer.use_lane(1, 2)  # fresh tunnel pairs apart from the main process's
    try:
        payload: tuple[str, Any] = ("ok", run_engine(base_url, settings, progress, phases))
    except BaseException as exc:  # reported to the parent, which decides; never a traceback from here
        payload = ("error", f"{exc.__class__.__name__}: {exc}")
    try:
        conn.send(payload)
    except BaseException:  # the parent is gone or stopping: nothing to report to
        pass
    finally:
        conn.close()


class FuzzingProcess:
    """The fuzzing phase in a forked process, so that it runs on the second core while this process works.

    Generation, not HTTP, is what costs (engineering notes: ~11 ms a case; here ~40 ms a fuzzing case), and
    schemathesis runs the phases of one operation in one thread, so a second process is the way to use the
    second core. Both processes keep the same seed and settings, so a run stays reproducible.
    """

    def __init__(self, base_url: str, settings: RunSettings, progress: Callable[[str], None]) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._parent, child = context.Pipe(duplex=False)
        # fork: the arguments are inherited, not pickled, so the caller's progress function works in the child too
        self._worker = context.Process(target=_worker, args=(base_url, settings, ("fuzzing",), child, progress), daemon=True)
        self._worker.start()
        child.close()
        self.timed_out = False

    def result(self, timeout: float) -> list[CaseRecord]:
        """The fuzzing phase's records; waits at most ``timeout`` seconds (the run's deadline), then stops it."""
        if not self._parent.poll(timeout):  # the target is too slow for the deadline: judge without these cases
            self.stop()
            self.timed_out = True
            return []
        try:
            status, payload = self._parent.recv()
        except EOFError:
            raise EngineError(f"the fuzzing process died (exit code {self._worker.exitcode})") from None
        self._worker.join(timeout=30)
        if status != "ok":
            raise EngineError(f"the fuzzing process failed: {payload}")
        return payload

    def stop(self) -> None:
        """End the process if it still runs (Ctrl-C, an error, the deadline); never leaves it behind."""
        if self._worker.is_alive():
            self._worker.terminate()
            self._worker.join(timeout=5)
            if self._worker.is_alive():
                self._worker.kill()
                self._worker.join(timeout=5)
        self._parent.close()
