"""Benchmark: `make contract` speed beside the reference server's raw request rate and a plain
`schemathesis run` of the same spec against the same server, in one run.

    make bench   (or: .venv/bin/python benchmarks/contract_speed.py [--runs 3])

One reference server (its own process, logging a line per request to a file) serves all three. Requests
are counted from that log, so the two tools are measured the same way; the suite also reports its cases.
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import loadgen  # noqa: E402
from server_vs_prism import PATH, free_port, wait_for  # noqa: E402

TOKEN = "bench-token"


def count_lines(path: Path) -> int:
    return sum(1 for _ in path.open(encoding="utf-8", errors="replace"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each tool; medians are printed (default 3)")
    args = parser.parse_args()

    from contract_tests import RunSettings, run_contract
    from vpnconn import load_spec

    port = free_port()
    log = Path(tempfile.mkdtemp()) / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "commands.cli", "serve", "--port", str(port), "--token", TOKEN],
                                  cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(port, server, "reference server")
        url = f"http://127.0.0.1:{port}"
        bodies = [json.dumps(ex).encode() for ex in load_spec().examples("request").values()]
        raw = loadgen.run(port, [loadgen.encode_post(port, PATH, b, {"X-Auth-Token": TOKEN}) for b in bodies], 8, seconds=3)
        print(f"reference server, raw creates (8 clients, logging on): {raw.rate:7.0f} requests/s", flush=True)

        ours, plain = [], []
        for run in range(args.runs):
            before, started = count_lines(log), time.monotonic()
            result = run_contract(replace(RunSettings(seed=run), target=url, token=TOKEN), progress=lambda _: None)
            seconds = time.monotonic() - started
            requests = count_lines(log) - before
            ours.append((len(result.records), requests, seconds))
            print(f"  make contract      run {run + 1}: {len(result.records):5} cases, {requests:5} requests in {seconds:5.1f} s "
                  f"= {len(result.records) / seconds:6.1f} cases/s, {requests / seconds:6.1f} requests/s "
                  f"({'passed' if result.exit_code == 0 else 'FAILED'})", flush=True)

            before, started = count_lines(log), time.monotonic()
            subprocess.run([str(REPO / ".venv" / "bin" / "schemathesis"), "run", str(REPO / "spec" / "openapi.yaml"),
                            "--url", url, "-H", f"X-Auth-Token: {TOKEN}", "--seed", str(run), "--max-examples", "100",
                            "--phases", "examples,coverage,fuzzing", "--continue-on-failure", "--no-color"],
                           cwd=tempfile.mkdtemp(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seconds = time.monotonic() - started
            requests = count_lines(log) - before
            plain.append((requests, seconds))
            print(f"  schemathesis run   run {run + 1}: {requests:5} requests in {seconds:5.1f} s = {requests / seconds:6.1f} requests/s "
                  f"(CLI defaults otherwise; it reports false failures here, see the notes)", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)

    cases_rate = statistics.median(c / s for c, _, s in ours)
    ours_req = statistics.median(r / s for _, r, s in ours)
    plain_req = statistics.median(r / s for r, s in plain)
    print(f"\nmedians of {args.runs}: make contract {cases_rate:.0f} cases/s ({ours_req:.0f} requests/s, "
          f"{statistics.median(s for *_, s in ours):.1f} s per default run); plain schemathesis {plain_req:.0f} requests/s; "
          f"raw server {raw.rate:.0f} requests/s")
    print(f"goal >= 150 cases/s: {'met' if cases_rate >= 150 else 'NOT met'}; "
          f"default run under 60 s: {'met' if max(s for *_, s in ours) < 60 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
