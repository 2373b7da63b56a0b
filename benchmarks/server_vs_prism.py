"""Benchmark: creates per second and p50/p99 latency of the reference server (under uvicorn, as `vpnconn serve`
runs it, and the same app under granian) and of Stoplight Prism mocking the same spec, at 1, 8 and 32
concurrent clients on loopback, side by side in one run.

    make bench            (or: .venv/bin/python benchmarks/server_vs_prism.py [--seconds 5])

Each server runs in its own process; the load generator runs in this one. Requests cycle through the spec's
three request examples (static, policy, bgp) with an X-Auth-Token. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import loadgen  # noqa: E402

from vpnconn import load_spec  # noqa: E402

PATH = "/v5/0123456789abcdef0123456789abcdef/vpn-connection"
PRISM = REPO / "node_modules" / ".bin" / "prism"
LEVELS = (1, 8, 32)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen, name: str, timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode} before it listened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return time.monotonic() - started
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"{name} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def start_reference(port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "commands.cli", "serve", "--quiet", "--port", str(port)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_granian(port: int) -> subprocess.Popen:
    """The same app (reference_server.asgi) under granian: one worker process, as uvicorn has."""
    return subprocess.Popen([str(Path(sys.executable).parent / "granian"), "--interface", "asgi", "--factory",
                             "reference_server.asgi:create_app", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                             "--loop", "uvloop", "--log-level", "error", "--no-ws"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_prism(port: int) -> subprocess.Popen:
    return subprocess.Popen([str(PRISM), "mock", str(REPO / "spec" / "openapi.yaml"), "-h", "127.0.0.1",
                             "-p", str(port), "-v", "silent"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def measure(name: str, start, seconds: float) -> dict[int, loadgen.Result]:
    port = free_port()
    proc = start(port)
    try:
        ready = wait_for(port, proc, name)
        print(f"{name}: listening after {ready:.2f} s", flush=True)
        bodies = [json.dumps(ex).encode() for ex in load_spec().examples("request").values()]
        payloads = [loadgen.encode_post(port, PATH, b, {"X-Auth-Token": "bench-token"}) for b in bodies]
        results = {}
        for level in LEVELS:
            results[level] = loadgen.run(port, payloads, level, seconds=seconds)
            print(f"  {name:9} c={level:<3} {loadgen.summary(results[level])}", flush=True)
        return results
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per concurrency level (default 5)")
    parser.add_argument("--no-prism", action="store_true", help="measure the reference server only")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.seconds:.0f} s per level after 1 s warm-up; loopback only", flush=True)
    ours = measure("reference", start_reference, args.seconds)
    granian = measure("granian", start_granian, args.seconds) if (Path(sys.executable).parent / "granian").exists() else None
    if granian:
        print("\nthe same app: granian / uvicorn (vpnconn serve)   throughput ratio   p99 granian   p99 uvicorn")
        for level in LEVELS:
            print(f"  c={level:<3}                                      {granian[level].rate / ours[level].rate:6.2f}x"
                  f"          {granian[level].percentile(99):6.2f} ms    {ours[level].percentile(99):6.2f} ms")
    if args.no_prism:
        return 0
    if not PRISM.exists() or shutil.which("node") is None:
        print(f"Prism is not installed at {PRISM}: run 'make bench' (it installs node_modules)")
        return 2
    prism = measure("prism", start_prism, args.seconds)
    print("\nreference / prism        throughput ratio   p99 reference   p99 prism")
    for level in LEVELS:
        ratio = ours[level].rate / prism[level].rate if prism[level].rate else float("inf")
        print(f"  c={level:<3}                 {ratio:6.2f}x          {ours[level].percentile(99):6.2f} ms      "
              f"{prism[level].percentile(99):6.2f} ms")
    goal_ratio = all(ours[level].rate >= 2 * prism[level].rate for level in (8, 32))
    goal_p99 = ours[32].percentile(99) < 20
    print(f"\ngoal, reference server (uvicorn) at 8 and 32 clients: >= 2x Prism throughput: {'met' if goal_ratio else 'NOT met'}; "
          f"p99 < 20 ms at 32: {'met' if goal_p99 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
