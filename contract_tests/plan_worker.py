"""`python -m contract_tests.plan_worker`: generate the fuzzing phase's cases in a process of their own.

schemathesis' fuzzing draws depend on the state of the process that draws them (a forked child of a run drew
other cases than a fresh interpreter did for the same seed, and two scripts that built the same settings in
different ways drew different cases). This worker is always the same program started the same way, and it
is given nothing but what keys a plan (:data:`~contract_tests.case_plan.PLAN_FIELDS`, the phases and the
kind of credentials; never a credential: the plan holds placeholders), so the same key gives the same cases
whoever asks: a run, a test or the benchmark.

Protocol: one JSON line on stdin; on stdout the pickled ``("ok", [PlannedCase, ...])`` or ``("error", text)``.
The parent decides what Ctrl-C means and stops this process (SIGTERM), so it ignores SIGINT itself. The parent keeps
stdin open while it waits: where stdin ends before the cases are ready (the parent was killed outright, SIGKILL),
nobody waits for them, and this process stops at once.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
from typing import Any

from vpnconn.stdin_end import when_stdin_ends


def request_for(settings: Any, phases: tuple[str, ...]) -> dict[str, Any]:
    """What the worker is told: the plan's inputs and the phases, no secret."""
    from contract_tests.case_plan import plan_inputs

    return {**plan_inputs(settings), "phases": list(phases)}


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    request = json.loads(sys.stdin.buffer.readline())
    when_stdin_ends(lambda: os._exit(0))  # the parent is gone, or stopping: nobody waits for the cases
    payload: tuple[str, Any]
    try:
        from contract_tests.case_plan import generate, settings_from_inputs

        payload = ("ok", generate(settings_from_inputs(request), tuple(request["phases"])))
    except BaseException as exc:  # reported to the parent, which decides; never a traceback from here
        payload = ("error", f"{exc.__class__.__name__}: {exc}")
    try:
        sys.stdout.buffer.write(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # the parent is gone or stopping: nothing to report to
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
