"""`python -m bench.watch_latency --to-quickbooks`: from an app COMMIT to QuickBooks answering the write,
for N companies changing at once (see bench/watch_latency.py for the options)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from sqlalchemy import select

from bench.common import KEY_CREATED, bench_env
from bench.watch_latency import percentile
from connectors.realtime import CompanyWorkers, ShardedCompanyWorkers, SyncDone
from connectors.watch import ChangeBatch, ChangeWatcher
from sandbox.quickbooks import SandboxOptions
from sierra_core.db.models import Invoice
from sierra_core.settings import get_settings
from tasks import runtime
from tasks.realtime import WarmPush


def _no_event(**_: Any) -> None:
    """No Prefect API in the bench: emit_event would queue the event for a background worker (not timed)."""


def bench_push(threads: int) -> WarmPush:
    """The warm push of a shard process (`--processes`): the bench's sandbox app and token key, handed over
    in the environment by `run`."""
    from connectors.kit import oauth
    from connectors.quickbooks.provider import QUICKBOOKS
    from sierra_core.crypto import Keyring

    runtime.size_pool_for(threads)
    app = oauth.App(
        provider=QUICKBOOKS,
        environment="local",
        client_id=os.environ["BENCH_CLIENT_ID"],
        client_secret=os.environ["BENCH_CLIENT_SECRET"],
        redirect_uri="http://127.0.0.1:9/callback",
        local_base=os.environ["BENCH_QBO_URL"],
    )
    ring = Keyring.from_encoded({"bench": os.environ["BENCH_KEY"]}, {"bench": KEY_CREATED})
    return WarmPush(runtime.Credentials(app=app, keyring=ring), emit=_no_event)


def _all_past(
    done: dict[uuid.UUID, list[SyncDone]], seen: dict[uuid.UUID, int], ids: list[uuid.UUID]
) -> bool:
    return all(len(done[c]) > seen[c] for c in ids)


def _ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms, max {max(ms):.0f} ms"


def run(args: argparse.Namespace) -> None:
    if args.switch_ms is not None:
        sys.setswitchinterval(args.switch_ms / 1000)
    schema = args.schema
    options = SandboxOptions(latency_ms=args.latency_ms)
    with bench_env(options, args.url, schema=schema, sandbox_process=args.sandbox_process) as env:
        companies = env.seed_sent(args.companies, args.invoices)
        realms = {company_id: env.connect(company_id).realm_id for company_id in companies}
        os.environ["SIERRA_DATABASE_URL"] = env.db_url
        get_settings.cache_clear()
        runtime.reset_engines()
        if not args.unsized_pool:  # what `watch` did before: the default pool, whatever --workers
            runtime.size_pool_for(args.workers)
        push = WarmPush(runtime.Credentials(app=env.app, keyring=env.ring), emit=_no_event)
        with env.sessions() as s:
            target = {
                c: s.scalars(select(Invoice.id).where(Invoice.company_id == c).limit(1)).one()
                for c in companies
            }

        done: dict[uuid.UUID, list[SyncDone]] = defaultdict(list)
        batches: list[ChangeBatch] = []
        arrived = threading.Condition()

        def finished(sync: SyncDone) -> None:
            with arrived:
                done[sync.company_id].append(sync)
                arrived.notify_all()

        workers: CompanyWorkers | ShardedCompanyWorkers
        if args.processes > 1:
            os.environ.update(
                BENCH_CLIENT_ID=options.client_id,
                BENCH_CLIENT_SECRET=options.client_secret,
                BENCH_QBO_URL=env.url,
                BENCH_KEY=env.key_text,
            )
            workers = ShardedCompanyWorkers(
                "bench.watch_to_quickbooks:bench_push",
                processes=args.processes,
                threads=args.workers,
                on_done=finished,
            )
        else:
            workers = CompanyWorkers(push, max_workers=args.workers, on_done=finished)
        for company_id in companies:  # everything in QuickBooks first, by the workers (untimed)
            workers.submit(company_id)
        with arrived:
            if not arrived.wait_for(partial(_all_past, done, defaultdict(int), companies), 600):
                raise SystemExit("the first push of every company did not end within 600 s")
        failed = [d.error for c in companies for d in done[c] if d.error is not None]
        if failed:
            raise SystemExit(f"the first push failed: {failed[0]}")
        watcher = ChangeWatcher(env.engine, debounce=args.debounce, stop_after=3600)

        def consume() -> None:
            for batch in watcher:
                batches.append(batch)
                for company_id in batch.company_ids:
                    workers.submit(company_id, seen_at=batch.first_seen)

        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        if not watcher.ready.wait(10):
            raise SystemExit("the watcher never started listening")

        latencies: list[float] = []
        phases: dict[str, list[float]] = defaultdict(list)
        gate = threading.Barrier(args.companies, timeout=120)  # an edit that cannot connect breaks it

        def edit(company_id: uuid.UUID, memo: str) -> float:
            with env.sessions() as s:
                row = s.get(Invoice, target[company_id])
                assert row is not None
                row.memo = memo
                s.flush()
                gate.wait()
                committing = time.monotonic()
                s.commit()
            return committing

        with ThreadPoolExecutor(max_workers=args.companies) as pool:
            for round_no in range(args.rounds):
                seen = {c: len(done[c]) for c in companies}
                commits = dict(
                    zip(
                        companies,
                        pool.map(lambda c, r=round_no: edit(c, f"Change order {r}"), companies),
                        strict=True,
                    )
                )
                with arrived:
                    if not arrived.wait_for(partial(_all_past, done, seen, companies), 60):
                        raise SystemExit(f"round {round_no}: not every company was pushed within 60 s")
                for company_id in companies:
                    sync = done[company_id][seen[company_id]]
                    if sync.error is not None:
                        raise SystemExit(f"push failed: {sync.error}")
                    latencies.append(sync.finished_at - commits[company_id])
                    result = sync.result if isinstance(sync.result, dict) else {}
                    timings = result.get("timings", {})
                    batch = next(
                        b for b in batches if company_id in b.company_ids and b.first_seen == sync.seen_at
                    )
                    phases["detect (commit -> seen)"].append(sync.seen_at - commits[company_id])
                    phases["debounce (seen -> batch)"].append(batch.emitted - sync.seen_at)
                    phases["queue (batch -> push starts)"].append(sync.started_at - batch.emitted)
                    phases["open (connection, token)"].append(float(timings.get("open_s", 0)))
                    phases["push (select, QBO requests, links)"].append(float(timings.get("push_s", 0)))
                time.sleep(0.2)
        watcher.stop()
        thread.join(5)
        workers.stop()
        last = f"Change order {args.rounds - 1}"
        for company_id in companies:
            realm = realms[company_id]
            items = env.admin("GET", f"realms/{realm}/entities/Invoice")["items"]
            if not any((i.get("CustomerMemo") or {}).get("value") == last for i in items):
                raise SystemExit(f"the last edit of company {company_id} is not in QuickBooks")

    first = latencies[: args.companies]
    print(
        f"database: postgresql (LISTEN), debounce {args.debounce:g} s, {args.companies} companies changing "
        f"at once, {args.rounds} rounds, QuickBooks sandbox latency {args.latency_ms:g} ms, "
        f"{args.workers} workers"
        + (f" in each of {args.processes} processes" if args.processes > 1 else "")
        + (", sandbox in its own process" if args.sandbox_process else ", sandbox in this process")
        + f", thread switch interval {sys.getswitchinterval() * 1000:g} ms"
        + (", database pool NOT sized for the workers (10 + 10 overflow)" if args.unsized_pool else "")
    )
    print(f"commit -> QuickBooks over {len(latencies)} edits: {_ms(latencies)}")
    print(f"first round (the first change after start): {_ms(first)}")
    for name, values in phases.items():
        print(f"  {name:<36} {_ms(values)}")
