"""`make contract`: schemathesis property tests plus this project's semantic checks, against any server.

:func:`run_contract` is the entry point; :class:`RunSettings` says what to run against and how.

``run_contract`` and ``RunResult`` are imported when first asked for (PEP 562): the modules of this package that
other processes need (the options of `vpnconn contract`, which every `vpnconn` command parses, and the plan
worker) then do not load the runner and all it imports (a second of every `vpnconn serve`'s start, measured).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contract_tests.settings import RunSettings, SettingsError

if TYPE_CHECKING:
    from contract_tests.runner import RunResult, run_contract

__all__ = ["RunResult", "RunSettings", "SettingsError", "run_contract"]


def __getattr__(name: str) -> Any:
    if name in ("RunResult", "run_contract"):
        from contract_tests import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
