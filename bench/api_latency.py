"""Latency of GET /api/v1/projects under concurrent clients, on PostgreSQL, with the request log on.

python -m bench.api_latency                                   # wrk, 50 connections, 15 s, 2 API workers
python -m bench.api_latency --connections 50 --duration 30 --workers 2 --projects 200
python -m bench.api_latency --tool httpx                       # no wrk: an asyncio/httpx load process
python -m bench.api_latency --think-ms 250   # each client pauses 250 ms between requests (wrk only)

Every request authenticates its key (SHA-256 lookup), is counted against the key's hourly and daily limits
(one atomic UPDATE), reads one page of 50 projects with the true total, and writes its api_request_logs
row before answering. Prints p50/p95/p99 and requests/s; the target is p95 < 50 ms (the brief: < 500 ms).
wrk comes from bench/install_wrk.sh (apt-get) when missing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

from connectors.apikeys import create_key, parse_permissions
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import ApiRequestLog, Company, Project
from sierra_sync.demo.prefect_server import free_port

HERE = Path(__file__).resolve().parent
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _setup(base_url: str, schema: str, projects: int) -> tuple[str, str]:
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_factory(engine).begin() as s:
        company = Company(name="Bench Builders")
        s.add(company)
        s.flush()
        s.add_all(
            Project(company_id=company.id, name=f"Project {i}", status="active" if i % 3 else "lead")
            for i in range(projects)
        )
        key = create_key(
            s,
            company.id,
            "bench",
            parse_permissions("projects:r"),
            rate_limit_per_hour=10**8,
            rate_limit_per_day=10**9,
        ).raw
    engine.dispose()
    return url, key


def serve(factory: str, env: dict[str, str], port: int, workers: int, ready: str) -> subprocess.Popen[bytes]:
    """`uvicorn --factory factory` with `workers` processes on `port`, once `ready` answers without a 5xx."""
    cmd = [sys.executable, "-m", "uvicorn", factory, "--factory", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready}", timeout=1).status_code < 500:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"{factory} did not start")


def _wrk(
    target: str, key: str, connections: int, duration: int, threads: int, think_ms: int = 0
) -> dict[str, float]:
    subprocess.run([str(HERE / "install_wrk.sh")], check=True)
    env = {**os.environ, "SIERRA_BENCH_API_KEY": key, "SIERRA_BENCH_THINK_MS": str(think_ms)}
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "-s",
        str(HERE / "api_latency.lua"),
        target,
    ]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    match = re.search(r"RESULT (.*)", out)
    if not match:
        raise SystemExit(f"wrk printed no result:\n{out}")
    fields = dict(item.split("=") for item in match.group(1).split())
    seconds = float(fields["seconds"])
    return {
        "requests": int(fields["requests"]),
        "errors": int(fields["errors"]) + int(fields["non2xx"]),
        "rps": int(fields["requests"]) / seconds,
        "p50": int(fields["p50_us"]) / 1000,
        "p95": int(fields["p95_us"]) / 1000,
        "p99": int(fields["p99_us"]) / 1000,
    }


async def _httpx_load(target: str, key: str, connections: int, duration: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        limits=limits, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                r = await client.get(target)
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += r.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=PG, help="PostgreSQL URL (the bench makes its own schema)")
    parser.add_argument("--schema", default="bench_api")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--tool", choices=("wrk", "httpx"), default="wrk")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--think-ms",
        type=int,
        default=0,
        help="pause of each client between requests (wrk); 0: send again as soon as answered",
    )
    args = parser.parse_args()

    url, key = _setup(args.url, args.schema, args.projects)
    port = free_port("127.0.0.1")
    proc = serve("bench.api_app:app", {"SIERRA_BENCH_DB_URL": url}, port, args.workers, "/healthz")
    target = f"http://127.0.0.1:{port}/api/v1/projects"
    try:
        if args.tool == "wrk" and shutil.which("wrk") is None:
            subprocess.run([str(HERE / "install_wrk.sh")], check=False)
        if args.tool == "wrk" and shutil.which("wrk"):
            figures = _wrk(target, key, args.connections, args.duration, args.threads, args.think_ms)
        else:
            # The load runs in its own process so it never shares a CPU-bound event loop with the server.
            code = (
                "import asyncio, json, sys; from bench.api_latency import _httpx_load; "
                f"load = _httpx_load({target!r}, {key!r}, {args.connections}, {args.duration}); "
                "print(json.dumps(asyncio.run(load)))"
            )
            out = subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
            figures = __import__("json").loads(out.strip().splitlines()[-1])
    finally:
        proc.terminate()
        proc.wait(15)
    engine = make_engine(url)
    with engine.connect() as conn:
        logged = conn.execute(select(func.count()).select_from(ApiRequestLog)).scalar_one()
    engine.dispose()
    admin = make_engine(args.url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE"))
    admin.dispose()
    tool = "wrk" if args.tool == "wrk" and shutil.which("wrk") else "httpx"
    print(
        f"GET /api/v1/projects (page of 50 of {args.projects}, true total), PostgreSQL, request log on, "
        f"{args.workers} API workers, {args.connections} concurrent clients ({tool}"
        + (f", {args.think_ms} ms pause between a client's requests" if args.think_ms else "")
        + f"), {args.duration} s"
    )
    print(
        f"  requests {figures['requests']:.0f} ({figures['rps']:.0f}/s), errors {figures['errors']:.0f}, "
        f"logged rows {logged}"
    )
    print(
        f"  p50 {figures['p50']:.1f} ms   p95 {figures['p95']:.1f} ms   p99 {figures['p99']:.1f} ms"
        "   (target p95 < 50 ms)"
    )


if __name__ == "__main__":
    main()
