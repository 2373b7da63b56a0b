"""The benchmarks stop what they started: SIGTERM (a CI job's timeout) ended a benchmark at once, and the servers it
had started served on (measured: `benchmarks/server_vs_prism.py` killed so left its reference server, granian and
Prism running)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _alive(pid: int) -> bool:
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")


def test_a_benchmark_stopped_with_sigterm_stops_its_servers():
    bench = subprocess.Popen([sys.executable, str(REPO / "benchmarks" / "soak.py"), "--seconds", "120", "--slow", "2",
                              "--clients", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    assert bench.stdout is not None and bench.stderr is not None
    assert bench.stdout.readline().startswith("soak:")  # (its server listens)
    servers = [int(pid) for pid in subprocess.run(["pgrep", "-P", str(bench.pid)], capture_output=True, text=True).stdout.split()]
    assert servers, "the benchmark has its server"
    bench.send_signal(signal.SIGTERM)
    code = bench.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in servers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in servers if _alive(pid)]
    for pid in left:  # (a failing run of this test leaves none either)
        os.kill(pid, signal.SIGKILL)
    err = bench.stderr.read()
    bench.stdout.close()
    bench.stderr.close()
    assert (code, left, err) == (128 + signal.SIGTERM, [], "")
