"""Webhook acknowledgement latency: signed Stripe events POSTed to the receiver over HTTP, timed from
request to 2xx (verify, store in the inbox, answer; dispatch runs after the answer).

python -m bench.webhook_ack                              # 500 events, SQLite file, 1 and 8 concurrent senders
python -m bench.webhook_ack --events 2000 --url postgresql+psycopg://postgres@127.0.0.1:5432/test \
    --schema bench_webhooks
The product brief wants webhook processing under 1 s; this measures the part the sender waits for.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import stripe
from sqlalchemy import func, select, text

from sandbox.common.server import LocalServer
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import WebhookEvent
from sierra_sync.web import AppDeps, create_app

SECRET = "whsec_bench_webhook_ack"  # noqa: S105 - a made-up secret for this run


def _event(i: int) -> bytes:
    return json.dumps(
        {
            "id": f"evt_bench_{uuid.uuid4().hex[:16]}_{i}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "data": {
                "object": {"id": f"pi_{i}", "object": "payment_intent", "amount": 123456, "metadata": {}}
            },
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "payment_intent.succeeded",
        }
    ).encode()


def _run(url: str, events: int, concurrency: int, duplicate_every: int) -> list[float]:
    bodies = [_event(i) for i in range(events)]
    if duplicate_every:
        bodies += bodies[::duplicate_every]  # Stripe's duplicates: acknowledged, not stored again

    def send(client: httpx.Client, body: bytes) -> float:
        header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
        t0 = time.perf_counter()
        response = client.post(f"{url}/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
        elapsed = time.perf_counter() - t0
        assert response.status_code == 200, response.text
        return elapsed

    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        for body in bodies[:20]:  # warm up connections and the code paths (not counted)
            send(client, body)
        rest = bodies[20:]
        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(lambda b: send(client, b), rest))


def _report(label: str, times: list[float]) -> None:
    q = statistics.quantiles(times, n=100)
    print(
        f"{label:<28} n={len(times):>5}  p50={q[49] * 1000:6.1f} ms  p95={q[94] * 1000:6.1f} ms  "
        f"p99={q[98] * 1000:6.1f} ms  max={max(times) * 1000:6.1f} ms"
    )


def main() -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--schema", default="bench_webhooks", help="PostgreSQL schema to use (dropped first)")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--duplicate-every", type=int, default=10, help="resend every Nth event (0: none)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        if url.startswith("postgresql"):
            admin = make_engine(url)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {args.schema}"))
            url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{args.schema}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        sessions = session_factory(engine)
        app = create_app(AppDeps(sessions=sessions, webhook_secrets={"stripe": [SECRET]}))
        print(
            f"database: {engine.dialect.name}; events: {args.events} (+ every {args.duplicate_every}th again)"
        )
        with LocalServer(app) as server:
            for concurrency in args.concurrency:
                times = _run(server.url, args.events, concurrency, args.duplicate_every)
                _report(f"ack, {concurrency} concurrent sender(s)", times)
        with sessions() as session:
            stored = session.scalar(select(func.count()).select_from(WebhookEvent))
        expected = args.events * len(args.concurrency)
        print(f"inbox rows: {stored} of {expected} distinct events (duplicates acknowledged, not stored)")
        engine.dispose()
        if url.startswith("postgresql"):
            with make_engine(args.url).begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE"))


if __name__ == "__main__":
    main()
