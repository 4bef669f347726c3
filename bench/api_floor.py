"""What p95 is reachable at all for GET /api/v1/projects on this machine: the same load as
bench/api_latency.py (wrk, 50 connections, the same data and key) against bench/floor_app.py, a
framework-free ASGI app that does only the key check-and-count UPDATE and one page SELECT whose JSON
PostgreSQL builds. Anything the real API adds (FastAPI, validation, permissions, headers, the request log)
can only make it slower, so this bounds what the real API could reach here.

python -m bench.api_floor                      # 1 and 2 uvicorn workers, 15 s each
python -m bench.api_floor --workers 1,2,3 --duration 30
"""

from __future__ import annotations

import argparse

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.api_latency import PG, _setup, _wrk, serve
from sierra_core.db.engine import make_engine
from sierra_sync.demo.prefect_server import free_port


def _check(port: int, key: str, projects: int) -> None:
    """The floor answers what the real endpoint answers (a fast 401 would make a meaningless figure)."""
    reply = httpx.get(f"http://127.0.0.1:{port}/", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    body = reply.json()
    if reply.status_code != 200 or len(body["data"]) != min(projects, 50):
        raise SystemExit(f"the floor app answered {reply.status_code}: {reply.text[:200]}")
    if body["pagination"]["total"] != projects:
        raise SystemExit(f"the floor app's total is {body['pagination']['total']}, not {projects}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=PG, help="PostgreSQL URL (the bench makes its own schema)")
    parser.add_argument("--schema", default="bench_api_floor")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--workers", default="1,2", help="comma-separated uvicorn worker counts to try")
    parser.add_argument("--projects", type=int, default=200)
    args = parser.parse_args()

    url, key = _setup(args.url, args.schema, args.projects)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    print(
        "Floor: framework-free ASGI app, key UPDATE + one page SELECT (JSON built by PostgreSQL), no "
        f"request log; page of 50 of {args.projects}, {args.connections} concurrent clients (wrk), "
        f"{args.duration} s"
    )
    try:
        for workers in (int(w) for w in args.workers.split(",")):
            port = free_port("127.0.0.1")
            proc = serve("bench.floor_app:app", {"SIERRA_BENCH_CONNINFO": conninfo}, port, workers, "/")
            try:
                _check(port, key, args.projects)
                figures = _wrk(f"http://127.0.0.1:{port}/", key, args.connections, args.duration, 2)
            finally:
                proc.terminate()
                proc.wait(15)
            print(
                f"  {workers} worker(s): {figures['rps']:.0f} requests/s, errors {figures['errors']:.0f}, "
                f"p50 {figures['p50']:.1f} ms   p95 {figures['p95']:.1f} ms   p99 {figures['p99']:.1f} ms"
            )
    finally:
        admin = make_engine(args.url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
