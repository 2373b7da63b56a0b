"""The kill rate of the contract suite: how many of the deliberately faulty servers it catches, and by which
check. (The test suite asserts each one; this prints the table.)

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
    from contract_tests.target import embedded_server
    from reference_server.faults import FAULTS

    killed = 0
    for name, fault in FAULTS.items():
        settings = RunSettings(examples=args.examples)
        with embedded_server(settings, ("--fault", name)) as (url, run_settings):
            result = run_contract(replace(run_settings, target=url), progress=lambda _: None)
        reported = Counter(f.check for r in result.failed for f in r.failures)
        caught = bool(set(fault.caught_by) & set(reported))
        killed += caught
        by = ", ".join(c for c in fault.caught_by if c in reported) or "-"
        print(f"  {'killed  ' if caught else 'SURVIVED'} {name:36} by {by:45} ({result.seconds:4.1f} s)", flush=True)
    print(f"\nkill rate: {killed}/{len(FAULTS)} faulty servers caught ({100 * killed / len(FAULTS):.0f}%)")
    return 0 if killed == len(FAULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
