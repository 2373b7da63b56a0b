"""Every check is proven: each deliberately faulty server makes the suite fail, reported by the check
written for that fault, while the unmodified server passes with any seed."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace

import pytest

from contract_tests import RunSettings, run_contract
from contract_tests.checks import SEMANTIC_CHECKS
from contract_tests.target import embedded_server
from reference_server.faults import FAULTS

QUICK = {"examples": 30, "seed": 0}


def run_against(fault: str | None, **options):
    settings = RunSettings(**{**QUICK, **options})
    serve = ("--fault", fault) if fault else ()
    with embedded_server(settings, serve) as (url, run_settings):
        return run_contract(replace(run_settings, target=url), progress=lambda _: None)


@pytest.mark.parametrize("name", list(FAULTS))
def test_the_suite_catches_the_fault(name):
    result = run_against(name)
    reported = Counter(f.check for record in result.failed for f in record.failures)
    assert result.exit_code == 1
    assert set(FAULTS[name].caught_by) & set(reported), f"{name}: reported {dict(reported)}"


def test_every_semantic_check_is_proven_by_a_fault():
    proven = {check for fault in FAULTS.values() for check in fault.caught_by}
    assert set(SEMANTIC_CHECKS) | {"named_rule_rejection"} <= proven


@pytest.mark.parametrize("seed", [0, 7, int.from_bytes(os.urandom(2), "big")])
def test_the_reference_server_passes_with_any_seed(seed):
    result = run_against(None, seed=seed, examples=100)
    problems = [(f.check, f.message[:200]) for r in result.failed for f in r.failures]
    assert problems == [], f"seed {seed}"
