"""The verdicts of the contract suite, both ways: how many deliberately faulty servers it catches (as a
violation, by the check written for the fault), and how many false alarms it raises on correct-but-different
servers (which must pass, their differences listed as divergences). The test suite asserts each; this
prints the table.

    make bench   (or: .venv/bin/python benchmarks/kill_rate.py [--examples 30])
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=30, help="fuzzing examples per run (default 30)")
    args = parser.parse_args()
    from contract_tests import RunSettings, run_contract
    from contract_tests.records import DIVERGENCE, VIOLATION
    from contract_tests.target import embedded_server
    from reference_server.faults import FAULTS
    from reference_server.variants import VARIANTS

    def run(option: str, name: str):
        settings = RunSettings(examples=args.examples)
        with embedded_server(settings, (option, name)) as (url, run_settings):
            return run_contract(replace(run_settings, target=url), progress=lambda _: None)

    print("faulty servers (each must fail, reported as a violation by the check written for it):")
    killed = 0
    for name, fault in FAULTS.items():
        result = run("--fault", name)
        reported = Counter(f.check for r in result.failed for f in r.failures if f.severity == VIOLATION)
        caught = result.exit_code == 1 and bool(set(fault.caught_by) & set(reported))
        killed += caught
        by = ", ".join(c for c in fault.caught_by if c in reported) or "-"
        print(f"  {'killed  ' if caught else 'SURVIVED'} {name:36} by {by:45} ({result.seconds:4.1f} s)", flush=True)
    print(f"kill rate: {killed}/{len(FAULTS)} faulty servers caught ({100 * killed / len(FAULTS):.0f}%)")

    print("\ncorrect-but-different servers (each must pass; its differences are divergences, not violations):")
    alarms = 0
    for name in VARIANTS:
        result = run("--variant", name)
        violations = sorted({(f.check, f.group) for r in result.records for f in r.failures if f.severity == VIOLATION})
        divergences = {(f.check, f.group) for r in result.records for f in r.failures if f.severity == DIVERGENCE}
        alarms += len(violations)
        print(f"  {'passed  ' if result.exit_code == 0 else 'FAILED  '} {name:36} exit {result.exit_code}, "
              f"{len(violations)} false alarms, {len(divergences)} divergences listed ({result.seconds:4.1f} s)")
        for check, cause in violations:
            print(f"      false alarm: {check}: {cause[:100]}")
    print(f"false alarms: {alarms} on {len(VARIANTS)} correct-but-different servers")
    return 0 if killed == len(FAULTS) and alarms == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
