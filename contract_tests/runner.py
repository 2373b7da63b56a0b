"""One contract run: start or reach the target, run schemathesis' phases and ours, gather the records."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

from vpnconn import load_spec

from contract_tests import hooks
from contract_tests.engine_phases import FuzzingProcess, run_engine
from contract_tests.records import CaseRecord
from contract_tests.repair import Repairer
from contract_tests.rules_phase import RulesPhase
from contract_tests.settings import RunSettings
from contract_tests.target import embedded_server, probe


@dataclass
class RunResult:
    settings: RunSettings
    base_url: str
    records: list[CaseRecord]
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[CaseRecord]:
        return [r for r in self.records if r.failures]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    @property
    def rate(self) -> float:
        return len(self.records) / self.seconds if self.seconds else 0.0


def _accepted(records: list[CaseRecord]) -> list[dict]:
    return [r.body for r in records if r.mode == "positive" and r.status == 201 and isinstance(r.body, dict)]


@contextlib.contextmanager
def _target(settings: RunSettings) -> Iterator[tuple[str, RunSettings]]:
    if settings.target:
        yield settings.base_url, settings
    else:
        with embedded_server(settings) as (url, run_settings):
            yield url, run_settings


def run_contract(settings: RunSettings, progress: Callable[[str], None] = print) -> RunResult:
    """Run the whole suite; raises :class:`~contract_tests.target.TargetUnreachable` if HTTP does not answer."""
    started = time.monotonic()
    notes = []
    with _target(settings) as (base_url, settings):
        probe(base_url, settings)
        where = base_url if settings.target else f"{base_url} (embedded reference server)"
        progress(f"contract run against {where}: mode {settings.effective_mode}, seed {settings.seed}, "
                 f"up to {settings.examples} fuzzing examples per mode")
        if not settings.creates:
            note = ("the target is not on loopback and ALLOW_CREATE=1 is not set: only negative cases are sent "
                    "(no request that a correct server would accept, so nothing is created)")
            notes.append(note)
            progress(f"  note: {note}")
        hooks.ACTIVE = hooks.ActiveRun(settings, Repairer(load_spec(), settings))
        try:
            fuzzing = FuzzingProcess(base_url, settings, progress)  # on the second core from now on
            records = run_engine(base_url, settings, progress, ("examples", "coverage"))
            rules: list[CaseRecord] = []
            with httpx.Client(timeout=10) as client:
                phase = RulesPhase(base_url, settings, client) if settings.creates else None
                if phase:  # while the fuzzing process still works
                    rules += phase.run_targeted(_accepted(records))
                records += fuzzing.result()
                if phase:
                    rules += phase.run_balance(_accepted(records), Counter(r.style for r in records + rules if r.mode == "positive"))
        finally:
            hooks.ACTIVE = None
        if phase:
            progress(f"  {'rules':9} {len(rules):5} cases  {sum(1 for r in rules if r.failures):4} with failures")
            records += rules
    return RunResult(settings=settings, base_url=base_url, records=records, seconds=time.monotonic() - started, notes=notes)
