"""A small closed-loop HTTP/1.1 load generator for loopback benchmarks.

``concurrency`` keep-alive connections each send the next request as soon as the previous answer is read,
for ``seconds`` (bounded: it stops by itself). It measures what the server does, not what a client library
costs: requests are pre-encoded bytes, answers are parsed only as far as Content-Length.
Loopback only: the host is always 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: Counter

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def encode_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _worker(port: int, requests: Iterator[bytes], stop_at: float, result: Result, warmup_until: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                return
            writer.write(next(requests))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if started >= warmup_until:
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.statuses[status] += 1
                result.requests += 1
    finally:
        writer.close()


async def _run(port: int, payloads: list[bytes] | Iterator[bytes], concurrency: int, seconds: float, warmup: float) -> Result:
    result = Result(0, seconds, [], Counter())
    begin = time.perf_counter()
    cycle = itertools.cycle(payloads) if isinstance(payloads, list) else payloads
    await asyncio.gather(*(_worker(port, cycle, begin + warmup + seconds, result, begin + warmup)
                           for _ in range(concurrency)))
    return result


def run(port: int, payloads: list[bytes] | Iterator[bytes], concurrency: int, seconds: float = 5.0, warmup: float = 1.0) -> Result:
    """Send ``payloads`` in turn (a list starts again from its first; an iterator goes on where the last run left it)."""
    try:
        import uvloop

        return uvloop.run(_run(port, payloads, concurrency, seconds, warmup))
    except ImportError:  # pragma: no cover
        return asyncio.run(_run(port, payloads, concurrency, seconds, warmup))


def summary(result: Result) -> str:
    mean = statistics.fmean(result.latencies_ms) if result.latencies_ms else float("nan")
    return (f"{result.rate:8.0f} req/s  p50 {result.percentile(50):6.2f} ms  p99 {result.percentile(99):6.2f} ms  "
            f"mean {mean:6.2f} ms  statuses {dict(result.statuses)}")
