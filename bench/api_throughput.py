"""GET /api/v1/projects against the framework-free floor, in one run (issue 20 item 5).

Closed loop: 50 wrk connections that send again as soon as answered, against the real API (PostgreSQL,
request log on) and against bench/floor_app.py (the key UPDATE and one page SELECT, nothing else), with the
same workers, data and key; the two alternate `--rounds` times, so that the load other programs put on this
shared machine falls on both alike. Prints each round (with the CPU per request of the server's processes
and of PostgreSQL's, which move less than throughput does with what else runs), the medians and the ratio
API / floor (target >= 50 %).

Open loop (`--rate 200`): the real API at a steady 200 requests/s on a fixed timetable (bench/open_loop.py,
latency from the scheduled time: no coordinated omission), p50/p95/p99 (target p95 < 50 ms). Several rates
(`--rate 100,150,200,250`) find the knee: each rate gets a fresh server. Before the measured seconds, the
same stream runs for `--warmup` seconds (2 s, not counted: the server's first requests open its pooled
connections and lease the key), as wrk2 does before it measures. The server's CPU time per request (all its
processes and threads: user + system, from /proc) is printed too: on a shared machine it moves far less
than latency does with what other programs run.

    python -m bench.api_throughput           # both modes: 2 workers, 3 rounds of 10 s, 30 s open loop
    python -m bench.api_throughput --mode closed --rounds 5 --duration 15
    python -m bench.api_throughput --mode open --rate 200 --open-duration 60
    python -m bench.api_throughput --mode open --rate 50,100,150,200,250 --open-duration 20

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

_SERVED: list[int] = []  # the pid of each server started (the last one is running)


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
    _SERVED.append(proc.pid)
    try:
        yield target
    finally:
        proc.terminate()
        proc.wait(30)


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
                before, root = _load(), _SERVED[-1]
                server, database = _cpu_seconds(root), _postgres_cpu_seconds()
                figures = _wrk(target, key, args.connections, args.duration, 2)
                server = _cpu_seconds(root) - server
                database = _postgres_cpu_seconds() - database
            rps[kind].append(figures["rps"])
            per = 1000 / max(figures["requests"], 1)
            print(
                f"  round {round_no} {kind:5}: {figures['rps']:6.0f} requests/s, errors "
                f"{figures['errors']:.0f}, p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms; "
                f"CPU per request: server {server * per:.2f} ms, PostgreSQL {database * per:.2f} ms "
                f"(load average {before} -> {_load()})"
            )
    api, floor = statistics.median(rps["api"]), statistics.median(rps["floor"])
    ratios = [a / f for a, f in zip(rps["api"], rps["floor"], strict=True)]
    print(
        f"  median: API {api:.0f} requests/s, floor {floor:.0f} requests/s, ratio {api / floor:.0%} "
        f"(per round: {', '.join(f'{r:.0%}' for r in ratios)}; target >= 50 %)"
    )


def _processes() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent, user + system CPU seconds), from Linux /proc (empty elsewhere)."""
    stats: dict[int, tuple[str, int, float]] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return stats
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                name, _, rest = f.read().partition(" (")[2].rpartition(")")
        except OSError:
            continue
        fields = rest.split()
        stats[pid] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return stats


def _postgres_cpu_seconds() -> float:
    """CPU seconds of every PostgreSQL process on this machine (the API and the floor share the one server:
    what the server spends on their statements, its request-log inserts included)."""
    return sum(cpu for name, _, cpu in _processes().values() if name.startswith("postgres"))


def _cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process `root` and its descendants (Linux /proc; 0.0 elsewhere)."""
    stats = {pid: (parent, cpu) for pid, (_, parent, cpu) in _processes().items()}
    tree, total = {root}, 0.0
    grew = True
    while grew:
        grew = False
        for pid, (parent, _) in stats.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    for pid in tree:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def _drive(target: str, key: str, rate: float, duration: float) -> dict[str, float]:
    """bench/open_loop.py in its own process (never on the server's CPU-bound event loop)."""
    cmd = [sys.executable, "-m", "bench.open_loop", target, "--rate", str(rate), "--duration", str(duration)]
    env = {**os.environ, "SIERRA_BENCH_API_KEY": key}
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def open_loop(url: str, key: str, args: argparse.Namespace) -> None:
    rates = [float(r) for r in str(args.rate).split(",")]
    print(
        f"Open loop: the API at a steady {', '.join(f'{r:.0f}' for r in rates)} requests/s, "
        f"{args.workers} worker(s), {args.open_duration} s measured after {args.warmup} s of warm-up"
    )
    for rate in rates:
        with _server("api", url, args.workers) as target:
            if args.warmup > 0:
                _drive(target, key, rate, args.warmup)
            root = _SERVED[-1]
            before, cpu = _load(), _cpu_seconds(root)
            figures = _drive(target, key, rate, args.open_duration)
            cpu = _cpu_seconds(root) - cpu
        per_request = cpu / max(figures["requests"], 1) * 1000
        print(
            f"  {rate:.0f}/s: {figures['requests']} requests ({figures['rate']:.0f}/s achieved, "
            f"{figures['connections']} connections), errors {figures['errors']}: "
            f"p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms, p99 {figures['p99']:.1f} ms, "
            f"max {figures['max']:.0f} ms "
            f"(target p95 < 50 ms); server CPU {per_request:.2f} ms per request "
            f"(load average {before} -> {_load()})"
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
    parser.add_argument("--rate", default="200", help="requests/s; several: 100,150,200 (one server each)")
    parser.add_argument("--open-duration", type=int, default=30)
    parser.add_argument("--warmup", type=float, default=2, help="seconds at the rate before measuring")
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
