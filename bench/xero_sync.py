"""The neutral sync engine on Xero, against the local Xero sandbox with 100 ms latency per request
(POST /__sandbox/faults) and Xero's limits enforced (60 calls a minute and 5 at a time per organisation,
5,000 a day).

    python -m bench.xero_sync                      # 100 invoices + their new contacts, then an idle sync
    python -m bench.xero_sync --rate 10000         # also the sustained rate: 10,000 invoices (~4 min)
    python -m bench.xero_sync --rate 2000          # a shorter rate run

Targets (issue 22, item 7): 100 invoices with their new contacts in at most 4 requests and under 3 s;
10,000 invoices at 90 % or more of the 60-calls-a-minute ceiling with no unhandled 429; an idle
incremental sync in 1 request.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bench.common import KEY_CREATED, Stopwatch
from connectors.accounting.outcome import PushResult
from connectors.accounting.pull import Puller, read_cursors
from connectors.accounting.pull_types import PullOptions
from connectors.accounting.push import Pusher
from connectors.accounting.push_types import Target
from connectors.accounting.specs import ORDER
from connectors.kit import connect, oauth
from connectors.kit.retry import RetryPolicy
from connectors.kit.tokens import DbTokenSource
from connectors.seed.generate import seed
from connectors.xero.client import XeroClient, xero_limiter
from connectors.xero.provider import API_PATH, XERO
from connectors.xero.settings import XeroSettings
from connectors.xero.sync_adapter import XeroSyncAdapter
from sandbox.common.server import LocalServer
from sandbox.xero import XeroSandbox, XeroSandboxOptions
from sierra_core.crypto import Keyring, generate_key
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import Company, Integration, Invoice, InvoiceLineItem
from sierra_core.db.types import utcnow


@dataclass
class XeroBench:
    url: str
    sessions: sessionmaker[Session]
    ring: Keyring
    app: oauth.App

    def stats(self, tenant: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/__sandbox/stats", params={"tenant": tenant}, timeout=30)
        answer.raise_for_status()
        stats: dict[str, Any] = answer.json()
        return stats

    def calls(self, tenant: str) -> int:
        """API requests the organisation's API received."""
        return int(self.stats(tenant)["requests_total"])

    def company(self, engine: Any, invoices: int) -> tuple[uuid.UUID, uuid.UUID, str, XeroSettings]:
        """A seeded company with `invoices` sent invoices, connected to a new organisation whose sales tax
        is the company's; returns (company id, integration id, tenant, settings)."""
        seed(engine, companies=1, invoices=invoices, seed_value=42)
        with self.sessions.begin() as s:
            s.execute(
                update(Invoice)
                .where(Invoice.status.in_(["draft", "void"]))
                .values(status="sent", balance=Invoice.total, voided_at=None)
            )
            s.execute(update(InvoiceLineItem).values(item_code=None))  # no item list in a new organisation
            company_id = s.scalars(select(Company.id)).one()
            rate = s.scalars(select(Invoice.tax_rate).where(Invoice.tax_rate > 0).distinct()).one()
        with httpx.Client(timeout=30) as http:
            auth = connect.begin(self.sessions, self.ring, self.app, company_id)
            location = http.get(auth.url).headers["location"]
            params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
            integration_id = connect.complete(
                self.sessions,
                self.ring,
                self.app,
                http,
                state=params["state"],
                code=params["code"],
                callback=params,
            )
            with self.sessions() as s:
                row = s.get(Integration, integration_id)
                assert row is not None
                tenant = str(row.external_company_id)
            source = DbTokenSource(self.sessions, integration_id, self.ring, self.app, http)
            # Through the organisation's limiter, like every call that follows: it counts against the minute.
            with XeroClient(self.app.api_base_url, tenant, source, limiter=xero_limiter(tenant)) as client:
                answer = client.call(
                    "PUT",
                    "TaxRates",
                    body={
                        "TaxRates": [
                            {"Name": "Sales Tax", "TaxComponents": [{"Name": "Sales", "Rate": rate * 100}]}
                        ]
                    },
                    context="add the sales tax rate",
                )
        settings = XeroSettings(taxable_tax_type=answer["TaxRates"][0]["TaxType"])
        return company_id, integration_id, tenant, settings

    @contextmanager
    def adapter(
        self, integration_id: uuid.UUID, tenant: str, settings: XeroSettings
    ) -> Iterator[XeroSyncAdapter]:
        with httpx.Client(timeout=30) as http:
            source = DbTokenSource(self.sessions, integration_id, self.ring, self.app, http)
            source.access_token()  # the token in hand before timing
            with XeroClient(
                self.app.api_base_url, tenant, source, limiter=xero_limiter(tenant), retry=RetryPolicy()
            ) as client:
                yield XeroSyncAdapter(client, settings)


_SERVE = """
import sys, uvicorn
from sandbox.xero import XeroSandbox
uvicorn.run(XeroSandbox().app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


@contextmanager
def _sandbox(own_process: bool) -> Iterator[str]:
    """The Xero sandbox (Xero's limits, real time): in a thread of this process, or in a process of its
    own so its work does not share this process's interpreter lock with the engine (Xero is remote)."""
    if not own_process:
        with LocalServer(XeroSandbox(XeroSandboxOptions()).app) as server:
            yield server.url
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", _SERVE, str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/__sandbox/stats", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def xero_bench(latency_ms: float, own_process: bool = False) -> Iterator[tuple[XeroBench, Any]]:
    options = XeroSandboxOptions()
    with tempfile.TemporaryDirectory() as tmp, _sandbox(own_process) as url:
        httpx.post(f"{url}/__sandbox/faults", json={"latency_ms": latency_ms}, timeout=10).raise_for_status()
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        migrate.upgrade(engine)
        ring = Keyring.from_encoded({"bench": generate_key()}, {"bench": KEY_CREATED})
        app = oauth.App(
            provider=XERO,
            environment="local",
            client_id=options.client_id,
            client_secret=options.client_secret,
            redirect_uri="http://127.0.0.1:9/oauth/xero/callback",
            local_base=url,
        )
        assert app.api_base_url.endswith(API_PATH)
        try:
            yield XeroBench(url, session_factory(engine), ring, app), engine
        finally:
            engine.dispose()


def _written(result: PushResult) -> int:
    return sum(c.created + c.updated for c in result.counts.values())


def quickbooks_baseline(latency_ms: float, invoices: int) -> tuple[int, float]:
    """The same push through the same engine to the QBO sandbox at the same latency: (requests, s)."""
    from bench.common import bench_env
    from connectors.quickbooks.client import RetryPolicy as QboRetry
    from connectors.quickbooks.connection import open_client
    from connectors.quickbooks_sync.push import Pusher as QboPusher
    from sandbox.quickbooks import SandboxOptions

    with bench_env(SandboxOptions(latency_ms=latency_ms)) as env:
        (company_id,) = env.seed_sent(1, invoices)
        conn = env.connect(company_id)
        target = Target(conn.integration_id, conn.company_id, conn.settings)
        with open_client(env.sessions, conn, env.ring, env.app, retry=QboRetry()) as client:
            client.read("CompanyInfo", conn.realm_id)
            before = env.requests(conn.realm_id)
            with Stopwatch() as push_time:
                QboPusher(env.sessions, client, target).run(["invoice"])
            return env.requests(conn.realm_id) - before, push_time.seconds


def hundred(latency_ms: float, invoices: int) -> None:
    with xero_bench(latency_ms) as (bench, engine):
        company_id, integration_id, tenant, settings = bench.company(engine, invoices)
        target = Target(integration_id, company_id, settings)
        with bench.adapter(integration_id, tenant, settings) as adapter:
            before = bench.calls(tenant)
            with Stopwatch() as push_time:
                pushed = Pusher(bench.sessions, adapter, target).run(["invoice"])  # + their new contacts
            push_calls = bench.calls(tenant) - before

            Pusher(bench.sessions, adapter, target).run()  # payments and expenses too (untimed)
            Puller(bench.sessions, adapter, target).run()  # the first pull sets the cursors
            Puller(bench.sessions, adapter, target).run()  # the first journal read (and a sweep)
            before = bench.calls(tenant)
            with Stopwatch() as idle_time:
                pulled = Puller(bench.sessions, adapter, target).run()
                idle_push = Pusher(bench.sessions, adapter, target).run()
            idle_calls = bench.calls(tenant) - before
            # Baseline in this process: the per-collection feed (one If-Modified-Since read per entity type,
            # from the cursors minus the lag), which the sweep and a full sync still use.
            since = min(c for c in read_cursors(bench.sessions, integration_id, ORDER).values() if c)
            before = bench.calls(tenant)
            with Stopwatch() as old_time:
                adapter.changes(ORDER, since - PullOptions().lag, now=utcnow())
            old_calls = bench.calls(tenant) - before
    qbo_requests, qbo_seconds = quickbooks_baseline(latency_ms, invoices)
    inv, cust = pushed.counts["invoice"], pushed.counts.get("customer")
    print(f"Xero sandbox latency: {latency_ms:.0f} ms per request")
    print(
        f"push {inv.created} invoices (+ {cust.created if cust else 0} new contacts first): {push_calls} "
        f"requests ({pushed.single_requests} lookups, {pushed.batch_requests} batch saves), "
        f"{push_time.seconds:.2f} s wall, {len(pushed.failures)} failures (targets: <= 4 requests, < 3 s)"
    )
    print(
        f"  baseline, the same engine to the QBO sandbox in this process: {qbo_requests} requests, "
        f"{qbo_seconds:.2f} s (Xero/QBO time {push_time.seconds / qbo_seconds:.2f}x)"
    )
    print(
        f"incremental sync, nothing changed: {idle_calls} requests ({pulled.requests} pull, "
        f"{idle_push.single_requests + idle_push.batch_requests} push), {idle_time.seconds:.2f} s wall, "
        f"{_written(idle_push)} records written, {pulled.changed} applied (target: 1 request)"
    )
    print(
        f"  baseline, the per-collection feed (every collection with If-Modified-Since) in this process: "
        f"{old_calls} requests, {old_time.seconds:.2f} s"
    )


def rate(latency_ms: float, invoices: int) -> None:
    with xero_bench(latency_ms, own_process=True) as (bench, engine):
        company_id, integration_id, tenant, settings = bench.company(engine, invoices)
        target = Target(integration_id, company_id, settings)
        with bench.adapter(integration_id, tenant, settings) as adapter:
            Pusher(bench.sessions, adapter, target).run(["customer"])  # contacts first, untimed
            stats_before = bench.stats(tenant)
            with Stopwatch() as clock:
                result = Pusher(bench.sessions, adapter, target).run(["invoice"])
            stats_after = bench.stats(tenant)
            calls = int(stats_after["requests_total"]) - int(stats_before["requests_total"])
    minutes = clock.seconds / 60
    counts = result.counts["invoice"]
    throttled = int(stats_after.get("throttled", 0)) - int(stats_before.get("throttled", 0))
    unhandled = sum(1 for f in result.failures if f.code in ("throttled", "daily_limit"))
    print(
        f"Xero sandbox (own process) latency: {latency_ms:.0f} ms per request; 60 calls/min, 5 concurrent, "
        "5,000/day"
    )
    print(
        f"pushed {counts.created} invoices in {clock.seconds:.1f} s "
        f"({counts.created / clock.seconds:.1f}/s), {len(result.failures)} failures, "
        f"{counts.deferred} deferred"
    )
    print(
        f"requests: {calls} ({result.single_requests} lookups, {result.batch_requests} batch saves) = "
        f"{calls / minutes:.1f}/min ({100 * calls / minutes / 60:.1f} % of the 60/min ceiling)"
    )
    print(f"429 answers: {throttled}; records failed on throttling (unhandled): {unhandled}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--rate", type=int, default=0, help="invoices for the sustained-rate run (0: skip)")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    hundred(args.latency_ms, args.invoices)
    if args.rate:
        rate(args.latency_ms, args.rate)


if __name__ == "__main__":
    main()
