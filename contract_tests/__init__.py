"""`make contract`: schemathesis property tests plus this project's semantic checks, against any server.

:func:`run_contract` is the entry point; :class:`RunSettings` says what to run against and how.
"""

from contract_tests.runner import RunResult, run_contract
from contract_tests.settings import RunSettings, SettingsError

__all__ = ["RunResult", "RunSettings", "SettingsError", "run_contract"]
