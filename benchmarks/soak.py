"""Soak: the reference server under 32 keep-alive clients creating on fresh gateways, plus slow clients, for
10 minutes; it prints requests served, errors, p50/p99 and the server's RSS at the start and the end.

    make bench            (or: .venv/bin/python benchmarks/soak.py [--seconds 600] [--clients 32] [--slow 200])

Every create names a gateway no earlier request named (the per-gateway bookkeeping must stay bounded). The
slow clients send a request head one byte at a time and never finish it; the server must close them (its head
timeout) while the fast clients are served. Goal: 0 errors, RSS flat within 10 %, p99 under 50 ms.
Only 127.0.0.1 is contacted; the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import loadgen  # noqa: E402
from server_vs_prism import PATH, free_port, start_reference, stop_servers_on_sigterm, wait_for  # noqa: E402

from vpnconn import load_spec  # noqa: E402

GATEWAY_MARK = "b32d91a4-52c8-4b17-a8df-e907174eb11d"  # the example's vgw_id, replaced per request


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Tally:
    def __init__(self) -> None:
        self.served = self.errors = self.slow_closed = 0
        self.latencies_ms: list[float] = []
        self.statuses: dict[int, int] = {}


async def fast_client(port: int, template: bytes, next_id, stop_at: float, tally: Tally) -> None:
    while time.perf_counter() < stop_at:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            tally.errors += 1
            await asyncio.sleep(0.05)
            continue
        try:
            while (started := time.perf_counter()) < stop_at:
                writer.write(template.replace(GATEWAY_MARK.encode(), next_id()))
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = next((int(line[15:]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:"), 0)
                await reader.readexactly(length)
                tally.latencies_ms.append((time.perf_counter() - started) * 1000)
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                tally.served += 1
                if status != 201:
                    tally.errors += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            tally.errors += 1
        finally:
            writer.close()


async def slow_client(port: int, stop_at: float, tally: Tally) -> None:
    """Opens a connection, sends a head one byte per second, never ends it; counts the server's closes."""
    head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode() + b"a" * 10_000
    while time.perf_counter() < stop_at:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        try:
            for byte in head:
                if time.perf_counter() >= stop_at:
                    break
                writer.write(bytes([byte]))
                try:
                    await asyncio.wait_for(reader.read(4096), timeout=1.0)  # the 408 or the close: either ends it
                except TimeoutError:
                    continue
                tally.slow_closed += 1
                break
        except OSError:
            tally.slow_closed += 1
        finally:
            writer.close()


async def soak(port: int, pid: int, seconds: float, clients: int, slow: int) -> tuple[Tally, list[tuple[float, float]]]:
    example = load_spec().examples("request")["static"]
    body = json.dumps(example).encode()
    assert GATEWAY_MARK.encode() in body
    template = loadgen.encode_post(port, PATH, body, {"X-Auth-Token": "soak-token"})
    counter = iter(range(10**12))

    def next_id() -> bytes:
        return f"00000000-0000-4000-8000-{next(counter):012x}".encode()  # a new, well-formed gateway id each time

    tally = Tally()
    stop_at = time.perf_counter() + seconds
    samples: list[tuple[float, float]] = []

    async def sample() -> None:
        begin = time.perf_counter()
        while time.perf_counter() < stop_at:
            samples.append((time.perf_counter() - begin, rss_mb(pid)))
            print(f"  t={samples[-1][0]:5.0f} s  served {tally.served:9,}  errors {tally.errors}  "
                  f"slow clients closed by the server {tally.slow_closed}  RSS {samples[-1][1]:6.1f} MB", flush=True)
            await asyncio.sleep(min(60.0, max(1.0, seconds / 10)))
        samples.append((time.perf_counter() - begin, rss_mb(pid)))

    await asyncio.gather(sample(), *(fast_client(port, template, next_id, stop_at, tally) for _ in range(clients)),
                         *(slow_client(port, stop_at, tally) for _ in range(slow)))
    return tally, samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long the soak lasts (default 600)")
    parser.add_argument("--clients", type=int, default=32, help="keep-alive clients creating (default 32)")
    parser.add_argument("--slow", type=int, default=200, help="slow clients that never finish a head (default 200)")
    args = parser.parse_args()
    port = free_port()
    proc = start_reference(port)
    try:
        wait_for(port, proc, "reference server")
        print(f"soak: {args.clients} clients creating on fresh gateways + {args.slow} slow clients, {args.seconds:.0f} s, "
              f"{os.cpu_count()} cores, loopback only", flush=True)
        import uvloop

        tally, samples = uvloop.run(soak(port, proc.pid, args.seconds, args.clients, args.slow))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except Exception:
            proc.kill()
    result = loadgen.Result(tally.served, args.seconds, tally.latencies_ms, Counter(tally.statuses))
    # RSS at the start is taken after the first tenth of the run: the store fills to its bound, then must stay.
    settled = next((rss for t, rss in samples if t >= args.seconds / 10), samples[0][1])
    end = samples[-1][1]
    growth = (end - settled) / settled * 100
    print(f"\nserved {tally.served:,} creates ({result.rate:,.0f}/s), errors {tally.errors}, statuses {tally.statuses}")
    print(f"latency p50 {result.percentile(50):.2f} ms, p99 {result.percentile(99):.2f} ms")
    print(f"slow clients closed by the server: {tally.slow_closed}")
    print(f"server RSS: {samples[0][1]:.1f} MB at the start, {settled:.1f} MB after {args.seconds / 10:.0f} s, "
          f"{end:.1f} MB at the end ({growth:+.1f} % since)")
    met = tally.errors == 0 and abs(growth) <= 10 and result.percentile(99) < 50
    print(f"goal (0 errors, RSS flat within 10 %, p99 < 50 ms): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    stop_servers_on_sigterm()
    sys.exit(main())
