"""Contract runs shared by the tests that only read their results (a run costs ~15 s; see support.run_against)."""

from __future__ import annotations

import pytest
from support import run_against

from contract_tests.runner import RunResult


@pytest.fixture(scope="session")
def other_choices_run() -> RunResult:
    """One run against the correct-but-different server (reference_server.variants: other-choices)."""
    return run_against(("--variant", "other-choices"), examples=60)
