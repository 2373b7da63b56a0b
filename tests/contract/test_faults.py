"""Every check is proven: each deliberately faulty server makes the suite fail, reported as a violation by
the check written for that fault, while the unmodified server passes with every named seed."""

from __future__ import annotations

from collections import Counter

import pytest
from support import run_against

from contract_tests import runner
from contract_tests.checks import SEMANTIC_CHECKS
from contract_tests.lifecycle_phase import CHECKS as LIFECYCLE_CHECKS
from contract_tests.records import VIOLATION
from reference_server import ReferenceServer
from reference_server.faults import FAULTS
from vpnconn import load_spec

SEEDS = {"zero": 0, "seven": 7, "bgp-heavy-41017": 41017}  # named, fixed: the same cases every run
# Checks that judge refused (negative) cases; a fault caught by another check only needs positive cases, and
# a positive-mode run skips the ~500 negative cases of the coverage phase.
NEGATIVE_CHECKS = {"negative_data_rejection", "error_contract", "huawei_error_body", "named_rule_rejection", "ignored_auth"}
# Faults that only a body the spec refuses and the documentation does not shows (an unlisted attribute, which a
# server may ignore): the negative cases carry it.
ON_NEGATIVE_BODIES = {"tag-with-unlisted-member-dropped"}


def options_for(name: str) -> dict:
    """A lifecycle fault (a wrong handler of show, list, update or delete) needs only the lifecycle phase."""
    if FAULTS[name].server is not ReferenceServer:
        return {"phases": ("lifecycle",)}
    return {"mode": "all" if set(FAULTS[name].caught_by) & NEGATIVE_CHECKS or name in ON_NEGATIVE_BODIES else "positive",
            "phases": ("examples", "coverage", "fuzzing", "rules")}  # a fault of create: the phases that drive create


@pytest.mark.parametrize("name", list(FAULTS))
def test_the_suite_catches_the_fault(name, monkeypatch):
    # a server that keeps what it deleted holds the end of the run for GONE_WAIT (60 s: a real deletion takes a while);
    # caught the same after 2
    monkeypatch.setattr(runner, "GONE_WAIT", 2.0)
    result = run_against(("--fault", name), **options_for(name))
    reported = Counter(f.check for record in result.failed for f in record.failures if f.severity == VIOLATION)
    assert result.exit_code == 1
    assert set(FAULTS[name].caught_by) & set(reported), f"{name}: reported {dict(reported)}"


def test_every_semantic_check_is_proven_by_a_fault_or_is_only_inferred():
    """As for the lifecycle checks below: a semantic check whose expectation is only inferred (it takes the create
    operation's provenance table) is proven by the correct-but-different server; every other has a fault."""
    proven = {check for fault in FAULTS.values() for check in fault.caught_by}
    inferred = {c for c in SEMANTIC_CHECKS if not load_spec().check_provenance(c).documented}
    assert inferred == {"integers_without_fraction"}
    assert (set(SEMANTIC_CHECKS) - inferred) | {"named_rule_rejection"} <= proven


def test_every_lifecycle_check_is_proven_by_a_fault_or_is_only_inferred():
    """A check whose expectation is only inferred reports divergences, never a violation: the correct-but-different
    server proves it (tests/contract/test_verdicts.py); every other lifecycle check has a fault that it catches."""
    proven = {check for fault in FAULTS.values() for check in fault.caught_by}
    spec = load_spec()
    inferred = {c for c in LIFECYCLE_CHECKS
                if any(not spec.check_provenance(c, o.id).documented for o in spec.operations)}
    assert inferred == {"update_refuses_fixed_fields", "connection_settles", "connection_usable", "deletion_finishes",
                        "list_paging_ties", "list_unknown_gateway", "connection_pair_in_use", "updated_at_moves_on",
                        "listed_later", "delete_again_not_found"}
    # (tests/contract/test_settling.py, test_shared_gateway.py, test_gateway_quota.py, test_listing_lag.py,
    # test_deletion.py)
    assert set(LIFECYCLE_CHECKS) - inferred <= proven


@pytest.mark.parametrize("seed", list(SEEDS.values()), ids=list(SEEDS))
def test_the_reference_server_passes_with_every_named_seed(seed):
    result = run_against(seed=seed, examples=60)
    problems = [(f.check, f.message[:200]) for r in result.failed for f in r.failures]
    assert problems == [], f"seed {seed}"
