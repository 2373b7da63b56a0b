"""Benchmark: creates per second and p50/p99 latency of the reference server (under uvicorn, as `vpnconn serve`
runs it, and the same app under granian) and of Stoplight Prism mocking the same spec, at 1, 8 and 32
concurrent clients on loopback, side by side in one run.

    make bench            (or: .venv/bin/python benchmarks/server_vs_prism.py [--rounds 3] [--seconds 2] [--no-prism])

Each server runs in its own process; the load generator runs in this one. Requests cycle through the spec's
request examples that can be created again and again (the bgp example names its tunnel pair, which a second
create refuses: it would measure refusals), with an X-Auth-Token; the statuses are printed, so every figure
is of creates (201). Only 127.0.0.1 is ever contacted.

The machine is a shared VM whose speed drifts by a fifth within minutes, so the servers are not measured one
after the other: all are started, and each round measures every level on every server in turn (`--rounds`,
default 3). A level's figure is the median of its rounds' rates, its p50/p99 those of all its latencies;
the spread of the rounds is printed beside it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import loadgen  # noqa: E402

from vpnconn import load_spec  # noqa: E402

PATH = "/v5/0123456789abcdef0123456789abcdef/vpn-connection"
PRISM = REPO / "node_modules" / ".bin" / "prism"
LEVELS = (1, 8, 32)
# The reference server keeps the quotas (x-vpnconn-quotas): 100 connections per gateway, one per gateway address and
# customer gateway. The bodies spread over GATEWAYS gateways (the server keeps the newest 10,000 connections: about 25
# on each), and each of the BODIES names a customer gateway of its own (sent again only after the server has let its
# connection go).
GATEWAYS = 400
BODIES = 12_000


def create_bodies() -> list[bytes]:
    """BODIES creates: the spec's request examples that a server creates every time it is sent them (it creates each
    twice here) in turn, on GATEWAYS gateways in turn, each with a customer gateway of its own."""
    import copy

    from reference_server import ReferenceServer, Reject

    server, creatable = ReferenceServer(), []
    for example in load_spec().examples("request").values():
        try:
            for _ in range(2):
                server.respond(copy.deepcopy(example))
        except Reject:
            continue
        creatable.append(example)
    return [json.dumps({"vpn_connection": {**creatable[n % len(creatable)]["vpn_connection"],
                                           "vgw_id": f"00000000-0000-4000-8000-{n % GATEWAYS:012x}",
                                           "cgw_id": f"00000000-0000-4000-9000-{n:012x}"}}).encode() for n in range(BODIES)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_STARTED: list[subprocess.Popen] = []  # every server a benchmark started: what SIGTERM stops


def server(command: list[str], **options: Any) -> subprocess.Popen:
    """Start a server process (``subprocess.Popen(command, cwd=REPO, **options)``), noted for SIGTERM to stop."""
    _STARTED.append(subprocess.Popen(command, cwd=REPO, **options))
    return _STARTED[-1]


def stop_servers_on_sigterm() -> None:
    """SIGTERM (a CI job's timeout, ``kill``) stops the servers this benchmark started, then ends it (143); by default
    it ended at once and they served on. (Not by an exception: raised inside an event loop's callback, it is logged
    as a fatal transport error.)"""
    def stop(*_: Any) -> None:
        for proc in _STARTED:
            proc.terminate()
        for proc in _STARTED:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        sys.stdout.flush()
        os._exit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)


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
    return server([sys.executable, "-m", "commands.cli", "serve", "--quiet", "--port", str(port)],
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_granian(port: int) -> subprocess.Popen:
    """The same app (reference_server.asgi) under granian: one worker process, as uvicorn has."""
    return server([str(Path(sys.executable).parent / "granian"), "--interface", "asgi", "--factory",
                   "reference_server.asgi:create_app", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                   "--loop", "uvloop", "--log-level", "error", "--no-ws"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_prism(port: int) -> subprocess.Popen:
    return server([str(PRISM), "mock", str(REPO / "spec" / "openapi.yaml"), "-h", "127.0.0.1", "-p", str(port), "-v", "silent"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@dataclass
class Level:
    """One server at one concurrency: the rounds measured."""

    rounds: list[loadgen.Result]

    @property
    def rate(self) -> float:
        return statistics.median(r.rate for r in self.rounds)

    def percentile(self, p: float) -> float:
        return loadgen.Result(0, 1, [ms for r in self.rounds for ms in r.latencies_ms], Counter()).percentile(p)

    def summary(self) -> str:
        rates = [r.rate for r in self.rounds]
        statuses: Counter = sum((r.statuses for r in self.rounds), Counter())
        return (f"{self.rate:8.0f} req/s (rounds {min(rates):.0f} to {max(rates):.0f})  p50 {self.percentile(50):6.2f} ms  "
                f"p99 {self.percentile(99):6.2f} ms  statuses {dict(statuses)}")


def measure(servers: dict[str, Callable[[int], subprocess.Popen]], seconds: float, rounds: int) -> dict[str, dict[int, Level]]:
    """Start every server, then measure ``rounds`` times each level on each server in turn."""
    procs, ports = {}, {}
    try:
        for name, start in servers.items():
            ports[name] = free_port()
            procs[name] = start(ports[name])
            print(f"{name}: listening after {wait_for(ports[name], procs[name], name):.2f} s", flush=True)
        bodies = create_bodies()
        # each server goes on through its bodies from level to level: a body comes again only after BODIES creates
        payloads = {name: itertools.cycle([loadgen.encode_post(port, PATH, b, {"X-Auth-Token": "bench-token"}) for b in bodies])
                    for name, port in ports.items()}
        results: dict[str, dict[int, Level]] = {name: {level: Level([]) for level in LEVELS} for name in servers}
        for round_ in range(1, rounds + 1):
            for level in LEVELS:
                for name in servers:
                    result = loadgen.run(ports[name], payloads[name], level, seconds=seconds)
                    results[name][level].rounds.append(result)
                    print(f"  round {round_}  {name:9} c={level:<3} {loadgen.summary(result)}", flush=True)
        return results
    finally:
        for proc in procs.values():
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds per level and round (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each measuring every server in turn (default 3)")
    parser.add_argument("--no-prism", action="store_true", help="measure the reference server (and granian) only")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds must be at least 1 and --seconds above 0")
    servers: dict[str, Callable[[int], subprocess.Popen]] = {"reference": start_reference}
    if (Path(sys.executable).parent / "granian").exists():
        servers["granian"] = start_granian
    if not args.no_prism:
        if not PRISM.exists() or shutil.which("node") is None:
            print(f"Prism is not installed at {PRISM}: run 'make bench' (it installs node_modules)")
            return 2
        servers["prism"] = start_prism
    print(f"machine: {os.cpu_count()} cores; {args.rounds} rounds of {args.seconds:g} s per level and server, each after "
          f"1 s warm-up, servers in turn; loopback only", flush=True)
    results = measure(servers, args.seconds, args.rounds)
    print(f"\nmedians of {args.rounds} rounds:")
    for name, levels in results.items():
        for level in LEVELS:
            print(f"  {name:9} c={level:<3} {levels[level].summary()}")
    ours = results["reference"]
    if "granian" in results:
        granian = results["granian"]
        print("\nthe same app: granian / uvicorn (vpnconn serve)   throughput ratio   p99 granian   p99 uvicorn")
        for level in LEVELS:
            print(f"  c={level:<3}                                      {granian[level].rate / ours[level].rate:6.2f}x"
                  f"          {granian[level].percentile(99):6.2f} ms    {ours[level].percentile(99):6.2f} ms")
    if "prism" not in results:
        return 0
    prism = results["prism"]
    print("\nreference / prism        throughput ratio   p99 reference   p99 prism")
    for level in LEVELS:
        ratio = ours[level].rate / prism[level].rate if prism[level].rate else float("inf")
        print(f"  c={level:<3}                 {ratio:6.2f}x          {ours[level].percentile(99):6.2f} ms      "
              f"{prism[level].percentile(99):6.2f} ms")
    goal_ratio = {level: ours[level].rate >= 2 * prism[level].rate for level in (8, 32)}
    goal_p99 = ours[32].percentile(99) < 20
    print("\ngoal, reference server (uvicorn), medians: >= 2x Prism throughput at 8 clients: "
          f"{'met' if goal_ratio[8] else 'NOT met'}, at 32: {'met' if goal_ratio[32] else 'NOT met'}; "
          f"p99 < 20 ms at 32: {'met' if goal_p99 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    stop_servers_on_sigterm()
    sys.exit(main())
