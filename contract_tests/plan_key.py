"""The key of a plan: everything the cases of schemathesis' phases depend on, hashed, and nothing else.

Light on purpose (no schemathesis, no hypothesis): ``vpnconn contract`` computes it as it starts, to see whether
the case cache holds the plan and, if not, to start generating the fuzzing cases at once
(:func:`contract_tests.fuzzing_planner.plan_ahead`), while it loads the rest.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from contract_tests.settings import RunSettings
from vpnconn.spec import load_spec

ENGINE_PHASES = ("examples", "coverage", "fuzzing")
# Which settings shape the cases (and so key a plan). The target, credentials' values, the concurrency,
# budgets and timeouts do not.
PLAN_FIELDS = ("project_id", "effective_mode", "examples", "seed")
# The code of the processes that draw the cases: what hypothesis draws depends even on which modules a process
# has imported (a worker that no longer imported the runner and the OpenAPI validator drew 94 of the default
# plan's 100 fuzzing cases otherwise; with those imports put back, 3), so every module of the harness and of the
# core keys the plan, not the planner's alone.
PLANNER_SOURCES = tuple(sorted(p for package in (Path(__file__).parent, Path(__file__).parent.parent / "vpnconn")
                               for p in package.glob("*.py")))


def plan_inputs(settings: RunSettings) -> dict[str, Any]:
    """Of a run's settings, what its plan depends on (JSON, no secret): PLAN_FIELDS and the kind of credentials."""
    return {"settings": {name: getattr(settings, name) for name in PLAN_FIELDS},
            "credentials": "token" if settings.token else "aksk" if settings.ak else "none"}


def plan_key(settings: RunSettings, phases: tuple[str, ...]) -> str:
    """What the cases depend on, hashed: the spec's bytes, the settings that shape generation, the phases,
    whether a token or a signature is sent, the versions of everything that generates and the code that draws."""
    parts = {
        "spec": load_spec().sha256,
        **plan_inputs(settings),
        "phases": [p for p in ENGINE_PHASES if p in phases],
        "versions": {name: version(name) for name in ("vpnconn-contract", "schemathesis", "hypothesis")},
        # the code that draws (a changed harness or core): PLANNER_SOURCES
        "planner": hashlib.sha256(b"".join(p.read_bytes() for p in PLANNER_SOURCES)).hexdigest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]
