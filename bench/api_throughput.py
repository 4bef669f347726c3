"""GET /api/v1/projects against the framework-free floor, in one run (issue 20 item 5).

Closed loop: 50 wrk connections that send again as soon as answered, against the real API (PostgreSQL,
request log on) and against bench/floor_app.py (the key UPDATE and one page SELECT, nothing else), with the
same workers, data and key; the two alternate `--rounds` times, so that the load other programs put on this
shared machine falls on both alike. Prints each round, the medians and the ratio API / floor (target >= 50 %).

Open loop (`--rate 200`): the real API at a steady 200 requests/s on a fixed timetable (bench/open_loop.py,
latency from the scheduled time: no coordinated omission), p50/p95/p99 (target p95 < 50 ms).

    python -m bench.api_throughput           # both modes: 2 workers, 3 rounds of 10 s, 30 s open loop
    python -m bench.api_throughput --mode closed --rounds 5 --duration 15
    python -m bench.api_throughput --mode open --rate 200 --open-duration 60

The load average (1 min) is printed before and after each measurement: on 2 shared cores, figures taken
minutes apart are not comparable, hence the ratio within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.api_floor import _check
from bench.api_latency import PG, _setup, _wrk, serve
from sierra_core.db.engine import make_engine
from sierra_sync.demo.prefect_server import free_port


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


@contextmanager
def _server(kind: str, url: str, workers: int) -> Iterator[str]:
    """The API (`api`) or the floor (`floor`) on a free port; yields the URL of GET /api/v1/projects."""
    port = free_port("127.0.0.1")
    if kind == "api":
        proc = serve("bench.api_app:app", {"SIERRA_BENCH_DB_URL": url}, port, workers, "/healthz")
        target = f"http://127.0.0.1:{port}/api/v1/projects"
    else:
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        proc = serve("bench.floor_app:app", {"SIERRA_BENCH_CONNINFO": conninfo}, port, workers, "/")
        target = f"http://127.0.0.1:{port}/"
    try:
        yield target
    finally:
        proc.terminate()
        proc.wait(15)


def closed_loop(url: str, key: str, args: argparse.Namespace) -> None:
    rps: dict[str, list[float]] = {"api": [], "floor": []}
    print(
        f"Closed loop: {args.connections} wrk connections, {args.workers} worker(s) each, "
        f"{args.rounds} round(s) of {args.duration} s (API, then floor)"
    )
    for round_no in range(1, args.rounds + 1):
        for kind in ("api", "floor"):
            with _server(kind, url, args.workers) as target:
                if kind == "floor":
                    _check(int(target.rsplit(":", 1)[1].strip("/")), key, args.projects)
                before = _load()
                figures = _wrk(target, key, args.connections, args.duration, 2)
            rps[kind].append(figures["rps"])
            print(
                f"  round {round_no} {kind:5}: {figures['rps']:6.0f} requests/s, errors "
                f"{figures['errors']:.0f}, p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms "
                f"(load average {before} -> {_load()})"
            )
    api, floor = statistics.median(rps["api"]), statistics.median(rps["floor"])
    ratios = [a / f for a, f in zip(rps["api"], rps["floor"], strict=True)]
    print(
        f"  median: API {api:.0f} requests/s, floor {floor:.0f} requests/s, ratio {api / floor:.0%} "
        f"(per round: {', '.join(f'{r:.0%}' for r in ratios)}; target >= 50 %)"
    )


def open_loop(url: str, key: str, args: argparse.Namespace) -> None:
    print(
        f"Open loop: the API at a steady {args.rate:.0f} requests/s, {args.workers} worker(s), "
        f"{args.open_duration} s"
    )
    with _server("api", url, args.workers) as target:
        before = _load()
        cmd = [sys.executable, "-m", "bench.open_loop", target, "--rate", str(args.rate)]
        cmd += ["--duration", str(args.open_duration)]
        env = {**os.environ, "SIERRA_BENCH_API_KEY": key}
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
    print(
        f"  {figures['requests']} requests ({figures['rate']:.0f}/s, {figures['connections']} connections), "
        f"errors {figures['errors']}: p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms, "
        f"p99 {figures['p99']:.1f} ms, max {figures['max']:.0f} ms (target p95 < 50 ms; "
        f"load average {before} -> {_load()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=PG, help="PostgreSQL URL (the bench makes its own schema)")
    parser.add_argument("--schema", default="bench_api_throughput")
    parser.add_argument("--mode", choices=("both", "closed", "open"), default="both")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of the API and the floor")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each closed-loop round")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--open-duration", type=int, default=30)
    parser.add_argument("--projects", type=int, default=200)
    args = parser.parse_args()

    url, key = _setup(args.url, args.schema, args.projects)
    print(
        f"GET /api/v1/projects, page of 50 of {args.projects}; {os.cpu_count()} CPUs, load average {_load()}"
    )
    try:
        if args.mode in ("both", "closed"):
            closed_loop(url, key, args)
        if args.mode in ("both", "open"):
            open_loop(url, key, args)
    finally:
        admin = make_engine(args.url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
