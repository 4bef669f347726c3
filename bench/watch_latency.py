"""Real-time latency on PostgreSQL: from a committed change to the ChangeWatcher's emission, or (with
--to-quickbooks) all the way to QuickBooks.

Trigger only: each change (an invoice line edited, or a customer added) is committed by another connection;
the watcher, LISTENing in a thread of this process, records when the batch naming that company came out.
Changes are spaced beyond the debounce window so each one is its own batch. Latency = emission - start of
COMMIT.

--to-quickbooks: what `sierra-sync watch` does, in this process: N companies connected to the QuickBooks
sandbox, the watcher feeding `CompanyWorkers` (one sync per company at a time, companies in parallel) with
the warm real-time push of `tasks.realtime`. Each round edits one invoice of every company at once (one
transaction each, from N threads); latency = the company's push done (QuickBooks answered the write) - start
of its COMMIT. Prints p50/p95 and where the time goes (detection, debounce, queue, open, push).

python -m bench.watch_latency                       # 30 changes, debounce 0 (the NOTIFY path alone)
python -m bench.watch_latency --debounce 2          # what a 2 s debounce window adds
python -m bench.watch_latency --url postgresql+psycopg://postgres@127.0.0.1:5432/test --changes 100
python -m bench.watch_latency --to-quickbooks --companies 1 --rounds 40
python -m bench.watch_latency --to-quickbooks --companies 20 --rounds 10 --latency-ms 150
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import text, update

from connectors.watch import ChangeBatch, ChangeWatcher
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import Company, Contact, Invoice, InvoiceLineItem
from sierra_core.db.models.base import table_of

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL URL")
    parser.add_argument(
        "--schema", default=f"bench_watch_{uuid.uuid4().hex[:8]}", help="schema (dropped after)"
    )
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--debounce", type=float, default=0.0)
    parser.add_argument("--to-quickbooks", action="store_true", help="measure commit -> QuickBooks")
    parser.add_argument("--companies", type=int, default=1, help="companies changing at once")
    parser.add_argument("--rounds", type=int, default=20, help="rounds of edits (--to-quickbooks)")
    parser.add_argument("--invoices", type=int, default=10, help="invoices per company (--to-quickbooks)")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="QuickBooks sandbox latency per request"
    )
    parser.add_argument("--workers", type=int, default=8, help="companies synced at the same time")
    parser.add_argument(
        "--unsized-pool",
        action="store_true",
        help="keep the default database pool (what `watch` had before it sized it for its workers)",
    )
    parser.add_argument(
        "--switch-ms",
        type=float,
        default=None,
        help="the interpreter's thread switch interval (sys.setswitchinterval; Python's default 5 ms)",
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="push from this many processes (companies sharded)"
    )
    parser.add_argument(
        "--sandbox-process",
        action="store_true",
        help="run the QuickBooks sandbox in a process of its own (as in the world and in production)",
    )
    args = parser.parse_args()
    if not args.url.startswith("postgresql"):
        parser.error("this benchmark measures LISTEN/NOTIFY: give a PostgreSQL URL")
    if args.to_quickbooks:
        from bench.watch_to_quickbooks import run

        run(args)
        return

    admin = make_engine(args.url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {args.schema}"))
    engine = make_engine(f"{args.url}{'&' if '?' in args.url else '?'}options=-csearch_path%3D{args.schema}")
    try:
        migrate.upgrade(engine)
        sessions = session_factory(engine)
        with sessions.begin() as s:
            company = Company(name="Latency Builders")
            s.add(company)
            s.flush()
            customer = Contact(company_id=company.id, display_name="Amy's Bird Sanctuary")
            s.add(customer)
            s.flush()
            line = InvoiceLineItem(
                line_number=1,
                description="Framing labor",
                quantity=Decimal("1"),
                unit_price=Decimal("85"),
                amount=Decimal("85.00"),
            )
            s.add(
                Invoice(
                    company_id=company.id,
                    customer_id=customer.id,
                    invoice_number="1001",
                    issue_date=date(2026, 11, 1),
                    subtotal=Decimal("85.00"),
                    total=Decimal("85.00"),
                    balance=Decimal("85.00"),
                    lines=[line],
                )
            )
            s.flush()
            company_id, line_id = company.id, line.id

        emitted: list[ChangeBatch] = []
        arrived = threading.Condition()
        watcher = ChangeWatcher(engine, debounce=args.debounce, stop_after=600)

        def consume() -> None:
            for batch in watcher:
                with arrived:
                    emitted.append(batch)
                    arrived.notify_all()

        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        if not watcher.ready.wait(10):
            raise SystemExit("the watcher never started listening")

        lines = table_of(InvoiceLineItem)
        latencies: list[float] = []
        for i in range(args.changes):
            before = len(emitted)
            with sessions() as s:
                if i % 2:
                    s.add(Contact(company_id=company_id, display_name=f"Customer {i}"))
                    s.flush()
                else:
                    s.execute(
                        update(lines).where(lines.c.id == line_id).values(description=f"Framing, rev {i}")
                    )
                committing = time.monotonic()  # the notification is sent by this COMMIT
                s.commit()
            with arrived:
                if not arrived.wait_for(lambda n=before: len(emitted) > n, timeout=10):  # type: ignore[misc]
                    raise SystemExit(f"change {i} was not reported within 10 s")
                batch = emitted[before]
            assert batch.company_ids == (company_id,)
            latencies.append(batch.emitted - committing)
            time.sleep(0.05)
        watcher.stop()
        thread.join(5)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE"))
        admin.dispose()

    ms = [v * 1000 for v in latencies]
    print(f"database: postgresql (LISTEN sierra_sync_changes), debounce {args.debounce:g} s")
    print(
        f"change -> emission over {len(ms)} changes: p50 {statistics.median(ms):.1f} ms, "
        f"p95 {percentile(ms, 0.95):.1f} ms, max {max(ms):.1f} ms"
    )


if __name__ == "__main__":
    main()
