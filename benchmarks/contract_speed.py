"""Benchmark: `make contract` speed, cold (cases generated) and warm (cases read from the case cache), near
(the reference server on loopback) and far (the same server answering 50 ms late) at 1, 8 and 16 requests in
flight, beside the server's raw request rate and a plain `schemathesis run` of the same spec, in one run.

    make bench   (or: .venv/bin/python benchmarks/contract_speed.py [--runs 3])

One reference server (its own process, logging a line per request to a file) serves all three. Requests
are counted from that log, so the two tools are measured the same way; the suite also reports its cases.
The CPU a warm run takes, in this process and in the server, is printed with the ceiling each puts on it.
Last, `make contract` as a user runs it: the `vpnconn contract` command with no TARGET, timed from its start to
its exit (its imports and its embedded server's start included), cold and warm.
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import re
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
from server_vs_prism import PATH, create_bodies, free_port, server, stop_servers_on_sigterm, wait_for  # noqa: E402

TOKEN = "bench-token"


def count_lines(path: Path) -> int:
    return sum(1 for _ in path.open(encoding="utf-8", errors="replace"))


def timed_run(settings, label: str, log: Path | None = None) -> tuple[int, int, float, int]:
    """One contract run: (cases, requests the server logged, seconds, exit code), printed as it ends."""
    from contract_tests import run_contract

    before, started = (count_lines(log) if log else 0), time.monotonic()
    result = run_contract(settings, progress=lambda _: None, live=False)
    seconds = time.monotonic() - started
    requests = count_lines(log) - before if log else 0
    print(f"  {label:34} {len(result.records):5} cases in {seconds:5.1f} s = {len(result.records) / seconds:6.1f} cases/s"
          + (f", {requests / seconds:6.1f} requests/s" if log else "")
          + f" ({'passed' if result.exit_code == 0 else 'FAILED'})", flush=True)
    return len(result.records), requests, seconds, result.exit_code


def process_cpu() -> float:
    """CPU seconds this process has used (all its threads: a contract run's senders and checks)."""
    times = os.times()
    return times.user + times.system


def server_cpu(pid: int) -> float | None:
    """CPU seconds the server process has used, from /proc (None where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests_alone(port: int, bodies: list[bytes], threads: int, count: int = 1080) -> float:
    """Requests per second of `count` creates sent by requests (the client schemathesis sends with: one session
    per thread, as the suite's sender has) from `threads` threads, no check: the most a warm run could send."""
    import concurrent.futures
    import threading

    import requests

    local = threading.local()
    url = f"http://127.0.0.1:{port}{PATH}"

    def send(i: int) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.trust_env = False
        return session.post(url, data=bodies[i % len(bodies)],
                            headers={"X-Auth-Token": TOKEN, "Content-Type": "application/json"}).status_code

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, range(count)))
    return count / (time.monotonic() - started)


def cli_run(label: str, *options: str) -> tuple[int, float, int]:
    """`make contract` as a user runs it: `vpnconn contract` in a process of its own, with no TARGET (so it
    starts its embedded reference server), timed from the process's start to its exit; (cases, seconds, exit code)."""
    started = time.monotonic()
    done = subprocess.run([str(REPO / ".venv" / "bin" / "vpnconn"), "contract", *options], cwd=REPO,
                          capture_output=True, text=True, env=os.environ | {"NO_COLOR": "1"})
    seconds = time.monotonic() - started
    found = re.search(r"^(\d+) cases in ", done.stdout, re.MULTILINE)
    cases = int(found.group(1)) if found else 0
    print(f"  {label:34} {cases:5} cases in {seconds:5.1f} s = {cases / seconds:6.1f} cases/s, process start to exit "
          f"({'passed' if done.returncode == 0 else f'exit {done.returncode}'})", flush=True)
    return cases, seconds, done.returncode


def start_server(port: int, out, *options: str) -> subprocess.Popen:
    return server([sys.executable, "-m", "commands.cli", "serve", "--port", str(port), "--token", TOKEN, *options],
                  stdout=out, stderr=subprocess.STDOUT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each near measurement; medians are printed (default 3)")
    parser.add_argument("--latency", type=float, default=50, help="milliseconds the far server waits per answer (default 50)")
    args = parser.parse_args()
    if args.runs < 1 or args.latency < 0:
        parser.error("--runs must be at least 1 and --latency not below 0")

    from contract_tests import RunSettings

    default = RunSettings(seed=0).concurrency  # the default run's requests in flight

    # The raw rate on a server of its own: the thousands of connections it creates would otherwise be listed,
    # page by page, by every run's lifecycle phase.
    raw_port = free_port()
    raw_server = start_server(raw_port, subprocess.DEVNULL, "--quiet")
    try:
        wait_for(raw_port, raw_server, "reference server")
        bodies = create_bodies()
        raw = loadgen.run(raw_port, [loadgen.encode_post(raw_port, PATH, b, {"X-Auth-Token": TOKEN}) for b in bodies], 8,
                          seconds=3)
        print(f"reference server, raw creates (8 clients): {raw.rate:7.0f} requests/s", flush=True)
        alone = requests_alone(raw_port, bodies, threads=default)
        print(f"the same server, creates sent with requests (schemathesis' HTTP client), nothing checked: {alone:7.0f} requests/s",
              flush=True)
    finally:
        raw_server.terminate()
        raw_server.wait(timeout=10)

    port, far_port = free_port(), free_port()
    log = Path(tempfile.mkdtemp()) / "server.log"
    with log.open("w") as out:
        server = start_server(port, out)
    far = start_server(far_port, subprocess.DEVNULL, "--quiet", "--latency", f"{args.latency:g}")
    try:
        wait_for(port, server, "reference server")
        wait_for(far_port, far, "far reference server")
        url, far_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{far_port}"
        near = RunSettings(seed=0, target=url, token=TOKEN)  # the default run: every phase, the default concurrency

        print("\nnear (the reference server on loopback), default run, seed 0:")
        cold = [timed_run(replace(near, use_cache=False), f"cold (--no-cache)     run {n + 1}", log) for n in range(args.runs)]
        timed_run(near, "warm-up (plan kept in the cache)", log)
        client_before, server_before = process_cpu(), server_cpu(server.pid)
        warm = [timed_run(near, f"warm (cached plan)    run {n + 1}", log) for n in range(args.runs)]
        client_after, server_after = process_cpu(), server_cpu(server.pid)
        warm_cpu = ((client_after - client_before) / args.runs,
                    (server_after - server_before) / args.runs if server_after is not None and server_before is not None else None)
        plain = []
        for n in range(args.runs):
            before, started = count_lines(log), time.monotonic()
            subprocess.run([str(REPO / ".venv" / "bin" / "schemathesis"), "run", str(REPO / "spec" / "openapi.yaml"),
                            "--url", url, "-H", f"X-Auth-Token: {TOKEN}", "--seed", "0", "--max-examples", "100",
                            "--phases", "examples,coverage,fuzzing", "--continue-on-failure", "--no-color"],
                           cwd=tempfile.mkdtemp(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seconds = time.monotonic() - started
            requests = count_lines(log) - before
            plain.append((requests, seconds))
            print(f"  {'plain schemathesis run   run ' + str(n + 1):34} {requests:5} requests in {seconds:5.1f} s = "
                  f"{requests / seconds:6.1f} requests/s (its CLI defaults)", flush=True)

        print(f"\nfar (the same server answering {args.latency:g} ms late), default run, seed 0, cached plan:")
        timed_run(replace(near, target=far_url), "warm-up (plan kept in the cache)")
        far_runs = {n: timed_run(replace(near, target=far_url, concurrency=n), f"--concurrency {n}")
                    for n in sorted({1, 8, default})}
    finally:
        for proc in (server, far):
            proc.terminate()
            proc.wait(timeout=10)

    print("\nmake contract as a user runs it (`vpnconn contract`, no TARGET: its embedded server), seed 0:")
    cli_cold = [cli_run(f"cold (--no-cache)     run {n + 1}", "--no-cache") for n in range(args.runs)]
    cli_run("warm-up (plan kept in the cache)")
    cli_warm = [cli_run(f"warm (cached plan)    run {n + 1}") for n in range(args.runs)]

    def rate(runs):
        return statistics.median(c / s for c, _, s, _ in runs)

    def cli(runs):
        return f"{statistics.median(c / s for c, s, _ in runs):7.0f} cases/s  {statistics.median(s for _, s, _ in runs):5.1f} s per run"

    plain_rate = statistics.median(r / s for r, s in plain)
    cold_requests = statistics.median(r / s for _, r, s, _ in cold)
    print(f"\nsummary (medians of {args.runs}; loopback, {os.cpu_count()} cores):")
    print(f"  near, cold      {rate(cold):7.0f} cases/s  {cold_requests:7.0f} requests/s  "
          f"{statistics.median(s for *_, s, _ in cold):5.1f} s per run")
    print(f"  near, warm      {rate(warm):7.0f} cases/s  {statistics.median(r / s for _, r, s, _ in warm):7.0f} requests/s  "
          f"{statistics.median(s for *_, s, _ in warm):5.1f} s per run")
    print(f"  make contract, cold {cli(cli_cold)} (process start to exit: imports, its server's start)")
    print(f"  make contract, warm {cli(cli_warm)}")
    print(f"  plain schemathesis            {plain_rate:7.0f} requests/s")
    print(f"  raw server                    {raw.rate:7.0f} requests/s")
    print(f"  requests alone, unchecked     {alone:7.0f} requests/s")
    for n, (_, _, seconds, _) in far_runs.items():
        print(f"  far, N={n:<2}      {seconds:5.1f} s per run")
    print("goals:")
    print(f"  near cold >= 150 cases/s: {'met' if rate(cold) >= 150 else 'NOT met'} ({rate(cold):.0f}); "
          f">= 3x plain schemathesis: {'met' if cold_requests >= 3 * plain_rate else 'NOT met'} ({cold_requests / plain_rate:.1f}x)")
    warm_requests_per_case = statistics.median(r / c for c, r, _, _ in warm)
    print(f"  near warm >= 1000 cases/s: {'met' if rate(warm) >= 1000 else 'NOT met'} ({rate(warm):.0f}; requests alone, "
          f"unchecked, would send {alone:.0f} requests/s = {alone / warm_requests_per_case:.0f} cases/s at this run's "
          f"{warm_requests_per_case:.2f} requests per case)")
    cases = statistics.median(c for c, *_ in warm)
    client_seconds, server_seconds = warm_cpu
    print(f"  a warm run's CPU: this process {client_seconds:.2f} s ({client_seconds / cases * 1000:.2f} ms per case; its "
          f"threads share one interpreter lock: about one core, so about {cases / client_seconds:.0f} cases/s at most)"
          + (f", the server {server_seconds:.2f} s (one process: at most {cases / server_seconds:.0f} cases/s)"
             if server_seconds else ""))
    print(f"  far ({args.latency:g} ms) default run (--concurrency {default}) under 10 s: "
          f"{'met' if far_runs[default][2] < 10 else 'NOT met'} ({far_runs[default][2]:.1f} s)")
    verdicts = {code for *_, code in cold + warm} | {code for *_, code in far_runs.values()} | {c for *_, c in cli_cold + cli_warm}
    print(f"  every run passed: {'yes' if verdicts == {0} else 'NO'}")
    return 0


if __name__ == "__main__":
    stop_servers_on_sigterm()
    sys.exit(main())
