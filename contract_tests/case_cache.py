"""Plans kept between runs, under ``.vpnconn-cache/plans/``, keyed by everything the cases depend on.

The key (:func:`contract_tests.case_plan.plan_key`) hashes the spec's bytes, the seed, the mode, the number of
fuzzing examples, the project id, the phases, the kind of credentials, the versions of the toolkit,
schemathesis and hypothesis and the code of the harness and the core. A changed spec, option or code is
another key, so a stale plan is never read; a file that does not load (truncated, another Python) is ignored
and replaced. ``--no-cache`` neither reads nor
writes; ``make clean`` removes the folder.

A plan holds schemathesis' case metadata, which is Python objects, so it is stored with pickle: the folder
is the project's own, written only by this module, like ``.venv``. It never holds a credential (plans are
generated with a placeholder token).
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

from contract_tests.case_plan import Plan

CACHE_DIR = Path(".vpnconn-cache") / "plans"  # beside the ledgers of created connections, in the working folder
FORMAT = 1


def load(key: str, folder: Path = CACHE_DIR) -> Plan | None:
    """The plan stored under ``key``, or None (absent, unreadable or of another format)."""
    try:
        with open(folder / f"{key}.pickle", "rb") as stored:
            data = pickle.load(stored)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("plan"), Plan):
        return None
    plan: Plan = data["plan"]
    return plan if plan.key == key else None


def store(plan: Plan, folder: Path = CACHE_DIR) -> Path | None:
    """Write ``plan`` atomically (a reader never sees half a file); None when the folder is not writable."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            pickle.dump({"format": FORMAT, "plan": plan}, out, protocol=pickle.HIGHEST_PROTOCOL)
        target = folder / f"{plan.key}.pickle"
        os.replace(temporary, target)
        return target
    except OSError:
        return None
