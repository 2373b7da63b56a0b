"""The cases of schemathesis' phases (examples, coverage, fuzzing), generated before anything is sent.

A plan is a function of the spec, the seed, the options that shape generation and the versions of the
toolkit, schemathesis and hypothesis, and of nothing the target says: schemathesis' error feedback (which
steers generation by the target's 4xx answers) and its extra data sources (which reuse the target's answers)
are turned off. So the same key gives the same cases, whatever the target, the concurrency or the cache
(``contract_tests.case_cache`` keeps plans under that key).

Generating is what costs (coverage: ~8 s for ~520 cases on this machine, nearly all of it hypothesis drawing
negative values), so the fuzzing phase's cases are generated in a forked process on the second core while
this process generates examples and coverage.

Secrets never enter a plan: the token is generated as a placeholder and put in at send time
(:func:`with_credentials`), so a cached plan holds no credential.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.core import NOT_SET
from schemathesis.core.result import Ok
from schemathesis.engine.context import EngineContext
from schemathesis.engine.run import PhaseName
from schemathesis.engine.run.unit import _build_coverage_generator, _build_examples_generator
from schemathesis.generation import GenerationMode, overrides
from schemathesis.generation.meta import content_type_probes_first

from contract_tests import verdicts
from contract_tests.aksk_auth import AkSkMarker
from contract_tests.settings import RunSettings
from vpnconn.spec import SPEC_PATH, load_spec

ENGINE_PHASES = ("examples", "coverage", "fuzzing")
TOKEN_PLACEHOLDER = "vpnconn-token-placeholder"  # stands for the run's token in a plan; replaced at send time
# Which settings shape the cases (and so key a plan). The target, credentials' values, the concurrency,
# budgets and timeouts do not.
PLAN_FIELDS = ("project_id", "effective_mode", "examples", "seed")


class PlanningStopped(Exception):
    """The run halted (Ctrl-C, SIGTERM, MAX_TIME) while its cases were being generated."""


@dataclass
class PlannedCase:
    """One request of a plan, as data: what schemathesis generated, without the operation it belongs to."""

    phase: str
    method: str
    path_parameters: dict[str, Any]
    headers: dict[str, Any]
    cookies: dict[str, Any]
    query: dict[str, Any]
    body: Any
    media_type: str | None
    meta: Any  # schemathesis' CaseMetadata: how it was generated (mode, scenario), which its checks read
    has_body: bool = True
    explicit_auth: bool = False  # credentials set by the run (the AK/SK marker), not generated: ignored_auth reads it
    # a negative body's canonical text and what the spec refuses in it, worked out at generation (on the planning
    # core, and kept in the cache) so that sending does not; see verdicts.remember
    judged: tuple[str, tuple[Any, ...]] | None = None

    @classmethod
    def of(cls, phase: str, case: Any) -> PlannedCase:
        has_body = case.body is not NOT_SET
        negative = case.meta is not None and case.meta.generation.mode != GenerationMode.POSITIVE
        return cls(phase, case.method, dict(case.path_parameters), dict(case.headers or {}), dict(case.cookies or {}),
                   dict(case.query or {}), case.body if has_body else None, case.media_type, case.meta, has_body,
                   bool(case._has_explicit_auth), verdicts.judged(case.body) if has_body and negative else None)

    @property
    def positive(self) -> bool:
        """As schemathesis generated it (a repaired positive case stays positive: repair keeps it valid)."""
        return self.meta is not None and self.meta.generation.mode == GenerationMode.POSITIVE

    def to_case(self, operation: Any, token: str | None) -> Any:
        """The schemathesis case for ``operation``, with the run's token put in. Its data is a copy (generated
        cases may share parts, and sending repairs a body in place); its metadata is this object's own."""
        case = operation.Case(method=self.method, path_parameters=copy.deepcopy(self.path_parameters),
                              headers=with_credentials(self.headers, token), cookies=copy.deepcopy(self.cookies),
                              query=copy.deepcopy(self.query), body=copy.deepcopy(self.body) if self.has_body else NOT_SET,
                              media_type=self.media_type, _meta=self.meta)
        case._has_explicit_auth = self.explicit_auth  # as schemathesis' auth provider left it at generation
        if self.judged is not None:
            verdicts.remember(*self.judged)
        return case


@dataclass
class Plan:
    key: str
    cases: list[PlannedCase] = field(default_factory=list)

    def phase(self, name: str) -> list[PlannedCase]:
        return [case for case in self.cases if case.phase == name]


def with_credentials(headers: dict[str, Any], token: str | None) -> dict[str, Any]:
    """The plan's headers with the placeholder replaced by the run's token (or removed without one)."""
    out = {}
    for name, value in headers.items():
        if value == TOKEN_PLACEHOLDER:
            if token is None:
                continue
            value = token
        out[name] = value
    return out


def plan_key(settings: RunSettings, phases: tuple[str, ...]) -> str:
    """What the cases depend on, hashed: the spec's bytes, the settings that shape generation, the phases,
    whether a token or a signature is sent, the versions of everything that generates and this module's code."""
    spec = load_spec()
    parts = {
        "spec": spec.sha256,
        "settings": {name: getattr(settings, name) for name in PLAN_FIELDS},
        "phases": [p for p in ENGINE_PHASES if p in phases],
        "credentials": "token" if settings.token else "aksk" if settings.ak else "none",
        "versions": {name: version(name) for name in ("vpnconn-contract", "schemathesis", "hypothesis")},
        "planner": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),  # this module's code (a changed planner)
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def engine_config(base_url: str, settings: RunSettings, phases: tuple[str, ...] = ENGINE_PHASES) -> schemathesis.Config:
    headers = {"X-Auth-Token": settings.token} if settings.token else {}
    return schemathesis.Config.from_dict({
        "base-url": base_url,
        "seed": settings.seed,
        "continue-on-failure": True,
        "request-timeout": settings.request_timeout,
        "suppress-health-check": ["all"],
        "headers": headers,
        "parameters": {"project_id": settings.project_id},
        "generation": {"mode": settings.effective_mode, "max-examples": settings.examples, "database": "none"},
        # the examples are valid bodies: a negative-only run must not send them
        "phases": {name: {"enabled": name in phases and not (name == "examples" and settings.effective_mode == "negative"),
                          **({"extra-data-sources": {"responses": False}} if name != "stateful" else {}),
                          **({"error-feedback": {"enabled": False}} if name == "fuzzing" else {})}
                   for name in (*ENGINE_PHASES, "stateful")},
    })


def create_operation(base_url: str, settings: RunSettings) -> Any:
    """schemathesis' view of the create operation, configured for this run (checks read its config)."""
    everything = schemathesis.openapi.from_path(str(SPEC_PATH), config=engine_config(base_url, settings))
    schema = everything.include(operation_id=load_spec().create.id)
    if settings.ak:
        schema.auth()(AkSkMarker)  # the placeholder it sets is replaced by a signature at send time (AkSkAuth)
    result = next(iter(schema.get_all_operations()))
    if not isinstance(result, Ok):
        raise RuntimeError(f"schemathesis cannot read the create operation: {result.err()}")
    return result.ok()


def generate(settings: RunSettings, phases: tuple[str, ...], halted: Callable[[], bool] = lambda: False) -> list[PlannedCase]:
    """The cases of ``phases`` (of examples, coverage, fuzzing), in schemathesis' order, in this process.
    Raises :class:`PlanningStopped` as soon as ``halted()`` (Ctrl-C, SIGTERM or the deadline): no half plan is kept."""
    operation = create_operation("http://127.0.0.1", settings_for_plan(settings))
    ctx = EngineContext(schema=operation.schema, stop_event=threading.Event())
    assert ctx.error_feedback is None, "error feedback would make the cases depend on the target"
    override = overrides.with_config_headers(ctx.config, operation=operation)
    cases: list[PlannedCase] = []
    for name, builder in (("examples", _build_examples_generator), ("coverage", _build_coverage_generator)):
        if name in phases and not (name == "examples" and settings.effective_mode == "negative"):
            phase = PhaseName.EXAMPLES if name == "examples" else PhaseName.COVERAGE
            made = []
            for case in builder(operation, ctx, override, ctx.feedback_for(operation=operation, phase=phase)):
                if halted():
                    raise PlanningStopped()
                made.append(case)
            # schemathesis sends them in this order (content-type probes first, then last to first)
            cases += [PlannedCase.of(name, case) for case in reversed(content_type_probes_first(made))]
    if "fuzzing" in phases:
        cases += _fuzzing(operation, ctx, override, settings)
    return cases


def _fuzzing(operation: Any, ctx: EngineContext, override: Any, settings: RunSettings) -> list[PlannedCase]:
    """The fuzzing phase's cases: schemathesis' hypothesis test, with a test function that keeps each case."""
    from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test

    cases: list[PlannedCase] = []

    def keep(case: Any) -> None:
        cases.append(PlannedCase.of("fuzzing", case))

    test = create_test(operation=operation, test_func=keep, config=HypothesisTestConfig(
        modes=[HypothesisTestMode.FUZZING],  # one test drawing from every generation mode, as schemathesis runs it
        settings=ctx.config.get_hypothesis_settings(operation=operation, phase="fuzzing", apply_ci_profile=False),
        explicit_setting_names=ctx.config.explicit_hypothesis_settings(operation=operation, phase="fuzzing"),
        apply_ci_profile=False, seed=ctx.operation_seed(operation), project=ctx.config,
        override=override, feedback=ctx.feedback_for(operation=operation, phase=PhaseName.FUZZING)))
    test()
    return cases


def settings_for_plan(settings: RunSettings) -> RunSettings:
    """The settings a plan is generated with: the token's value never enters it (a placeholder does)."""
    return replace(settings, token=TOKEN_PLACEHOLDER if settings.token else None, sk="" if settings.ak else None)
