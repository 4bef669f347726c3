"""An open-loop HTTP load client (what wrk2 does; wrk2 is not packaged here): GET requests on a fixed
timetable, `rate` a second, each latency measured from the moment the request was *scheduled*, not sent.

A closed-loop client (wrk, or a client that waits for its answer before sending again) stops sending while
the server stalls, so a stall shows up as one slow request instead of the many that a steady stream of
callers would have seen (coordinated omission). Here a late answer never delays the next request: the
request scheduled at t goes out at t on an idle keep-alive connection, or on a new one (up to
`max_connections`; past that it waits for one, and the wait counts in its latency).

    SIERRA_BENCH_API_KEY=sk_… python -m bench.open_loop URL --rate 200 --duration 30

SIERRA_BENCH_API_KEY, when set, goes in `Authorization: Bearer …` (an environment variable: never in `ps`).

Prints one JSON line: requests, errors, achieved rate, p50/p95/p99/max in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["run"]


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


@dataclass
class _Figures:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


async def _exchange(conn: _Conn, request: bytes) -> int:
    conn.writer.write(request)
    head = await conn.reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await conn.reader.readexactly(length)
    return status


async def run(
    url: str, rate: float, duration: float, headers: dict[str, str], max_connections: int = 256
) -> dict[str, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"] + [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    idle: asyncio.Queue[_Conn] = asyncio.Queue()
    opened = 0
    figures = _Figures()

    async def connection() -> _Conn:
        nonlocal opened
        if idle.empty() and opened < max_connections:
            opened += 1
            reader, writer = await asyncio.open_connection(host, port)
            return _Conn(reader, writer)
        return await idle.get()

    async def one(scheduled: float) -> None:
        conn = await connection()
        try:
            status = await _exchange(conn, request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            figures.errors += 1
            conn.writer.close()
            return  # the broken connection is not reused (nor counted again)
        figures.latencies.append((time.perf_counter() - scheduled) * 1000)
        figures.errors += status != 200
        idle.put_nowait(conn)

    total = int(rate * duration)
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.2
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().writer.close()
    q = statistics.quantiles(figures.latencies, n=100) if len(figures.latencies) > 1 else [0.0] * 99
    return {
        "requests": len(figures.latencies),
        "errors": figures.errors,
        "rate": len(figures.latencies) / elapsed,
        "connections": opened,
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "max": max(figures.latencies, default=0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=200, help="requests per second, on a fixed timetable")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--max-connections", type=int, default=256)
    parser.add_argument("--header", action="append", default=[], help="'Name: value' (repeatable)")
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    if os.environ.get("SIERRA_BENCH_API_KEY"):
        headers["Authorization"] = f"Bearer {os.environ['SIERRA_BENCH_API_KEY']}"
    print(json.dumps(asyncio.run(run(args.url, args.rate, args.duration, headers, args.max_connections))))


if __name__ == "__main__":
    main()
