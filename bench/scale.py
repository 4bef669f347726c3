"""Scale-out (and chaos) in the production shape: a Prefect server on PostgreSQL, the process work pool,
3 workers, the deployments of prefect.yaml; sync-all-companies hands one incremental-sync run per company
to the pool.

    python -m bench.scale                                 # 50 companies x 200 invoices, 3 workers
    python -m bench.scale --chaos                         # + 5xx, dropped responses, throttle bursts,
                                                          #   forced token expiry, one worker SIGKILLed
    python -m bench.scale --companies 10 --invoices 50    # a quick run

Prints throughput, each realm's request count and 429s, Prefect's share of the time; with --chaos, then
sweeps retries until nothing is due and checks every company: exactly one QuickBooks invoice per app
invoice with equal totals (accuracy 100.00 %, 0 duplicates) and no attempt left without a final row.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import KEY_CREATED, Bench, bench_env
from bench.scale_env import Cluster, drop_database, recreate_database
from sandbox.quickbooks import SandboxOptions
from sierra_core.db.models import EntityLink, IntegrationSyncLog, Invoice

PREFECT_DB, APP_DB = "sierra_bench_prefect", "sierra_bench_app"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _save_blocks(env: Bench) -> None:
    from prefect.types import SecretDict
    from pydantic import SecretStr

    from blocks import QBO_APP_BLOCK, TOKEN_KEYS_BLOCK, QuickBooksAppCredentials, TokenEncryptionKeys

    QuickBooksAppCredentials(
        client_id="local-client",
        client_secret=SecretStr("local-secret"),
        environment="local",
        local_base_url=env.url,
    ).save(QBO_APP_BLOCK, overwrite=True)
    TokenEncryptionKeys(keys=SecretDict({"bench": env.key_text}), created={"bench": KEY_CREATED}).save(
        TOKEN_KEYS_BLOCK, overwrite=True
    )


def _linked_invoices(env: Bench) -> int:
    with env.sessions() as s:
        return int(
            s.scalar(select(func.count()).select_from(EntityLink).where(EntityLink.entity_type == "invoice"))
            or 0
        )


def _check_books(env: Bench, realms: dict[uuid.UUID, str]) -> dict[str, Any]:
    """Every company: one QBO invoice per app invoice, equal totals."""
    total = matched = duplicates = 0
    with env.sessions() as s:
        for company_id, realm in realms.items():
            app = {
                i.invoice_number: i.total
                for i in s.scalars(select(Invoice).where(Invoice.company_id == company_id))
            }
            items = env.admin("GET", f"realms/{realm}/entities/Invoice")["items"]
            seen = Counter(i["DocNumber"] for i in items)
            duplicates += sum(n - 1 for n in seen.values() if n > 1)
            amounts = {i["DocNumber"]: Decimal(str(i["TotalAmt"])) for i in items}
            total += len(app)
            matched += sum(
                1 for number, amount in app.items() if seen[number] == 1 and amounts[number] == amount
            )
        open_attempts = s.scalar(
            select(func.count())
            .select_from(IntegrationSyncLog)
            .where(IntegrationSyncLog.status == "in_progress")
        )
        lost = s.scalar(
            select(func.count())
            .select_from(IntegrationSyncLog)
            .where(IntegrationSyncLog.error_code == "worker_lost")
        )
    return {
        "invoices": total,
        "matched": matched,
        "accuracy_pct": round(100 * matched / max(total, 1), 2),
        "duplicates_in_qbo": duplicates,
        "attempts_left_in_progress": open_attempts,
        "attempts_recovered_from_killed_worker": lost,
    }


def _flow_run_overhead(cluster: Cluster) -> dict[str, float]:
    """Per incremental-sync run: queue delay (scheduled -> started) and Prefect's own time (the run's
    duration minus its task runs')."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
    )

    delays, overheads, durations = [], [], []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["incremental-sync"])), limit=200
        )
        for run in runs:
            if run.start_time is None or run.state_name != "Completed":
                continue
            if run.expected_start_time is not None:
                delays.append((run.start_time - run.expected_start_time).total_seconds())
            tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                task_run_filter=TaskRunFilter(),
            )
            task_time = sum(t.total_run_time.total_seconds() for t in tasks)
            durations.append(run.total_run_time.total_seconds())
            overheads.append(run.total_run_time.total_seconds() - task_time)
    if not durations:
        return {}
    return {
        "flow_runs": len(durations),
        "mean_run_s": statistics.mean(durations),
        "mean_queue_delay_s": statistics.mean(delays) if delays else 0.0,
        "mean_prefect_share_s": statistics.mean(overheads),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--runs-per-worker", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--chaos", action="store_true")
    args = parser.parse_args()

    app_url = recreate_database(APP_DB)
    prefect_url = recreate_database(PREFECT_DB, extensions=("pg_trgm",))
    home = Path(tempfile.mkdtemp(prefix="sierra-scale-"))
    cluster = Cluster(home=home, prefect_db=prefect_url, port=_free_port(), env=dict(os.environ))
    try:
        cluster.start_server()
        os.environ.update(PREFECT_API_URL=cluster.api_url, PREFECT_SERVER_ANALYTICS_ENABLED="false")
        with bench_env(SandboxOptions(latency_ms=args.latency_ms), db_url=app_url) as env:
            t0 = time.perf_counter()
            companies = env.seed_sent(args.companies, args.invoices)
            realms = {cid: env.connect(cid).realm_id for cid in companies}
            print(
                f"set-up: {args.companies} companies x {args.invoices} invoices seeded and connected "
                f"in {time.perf_counter() - t0:.1f} s; Prefect server on PostgreSQL at {cluster.api_url}"
            )
            _save_blocks(env)
            worker_env = {
                "SIERRA_DATABASE_URL": app_url,
                "SIERRA_QBO_RETRY_INITIAL_WAIT": "0.2",
                "SIERRA_QBO_MAX_THROTTLE_WAIT": "5",
            }
            cluster.env.update(worker_env)
            os.environ.update(worker_env)
            cluster.deploy()
            cluster.start_workers(args.workers, args.runs_per_worker)
            if args.chaos:
                env.admin("POST", "faults", {"error_rate": 0.05, "drop_rate": 0.05})
                for realm in list(realms.values())[: max(1, len(realms) // 5)]:
                    env.admin("POST", "faults", {"realm": realm, "throttle": 2})
                env.admin("POST", "tokens/expire", {"kind": "access"})

            from prefect.deployments import run_deployment

            killer: threading.Thread | None = None
            if args.chaos:

                def kill_when_busy() -> None:
                    target = args.companies * args.invoices // 3
                    deadline = time.monotonic() + 600
                    while _linked_invoices(env) < target and time.monotonic() < deadline:
                        time.sleep(0.5)
                    cluster.kill_worker(0)
                    print(
                        f"chaos: SIGKILLed worker 0 and its flow runs at {_linked_invoices(env)} invoices "
                        "linked"
                    )

                killer = threading.Thread(target=kill_when_busy, daemon=True)
                killer.start()
            wait = 4.0 if args.chaos else 30.0
            started = time.perf_counter()
            run_deployment(
                "sync-all-companies/incremental-sync-all",
                parameters={"via_deployments": True, "wait_minutes": wait},
                timeout=wait * 60 + 120,
            )
            wall = time.perf_counter() - started
            if killer is not None:
                killer.join(timeout=5)
            linked = _linked_invoices(env)
            stats = [env.admin("GET", f"stats?realm={r}") for r in realms.values()]
            print(
                f"sync-all-companies over {args.workers} workers: {linked} invoices synced in {wall:.1f} s "
                f"({linked / wall:.1f} invoices/s, {len(realms)} realms)"
            )
            per_realm = [s["requests_total"] for s in stats]
            print(
                f"per realm: {min(per_realm)}-{max(per_realm)} QBO requests (budget 500/min, 40 batch/min), "
                f"max {max(s['batch_requests'] for s in stats)} batch requests; 429 answers: "
                f"{sum(s['throttled'] for s in stats)}"
            )
            overhead = _flow_run_overhead(cluster)
            if overhead:
                print(
                    f"Prefect: {overhead['flow_runs']:.0f} incremental-sync runs, "
                    f"mean {overhead['mean_run_s']:.2f} s "
                    f"each, of which {overhead['mean_prefect_share_s']:.2f} s outside task runs; mean queue "
                    f"delay {overhead['mean_queue_delay_s']:.2f} s"
                )
            if args.chaos:
                env.admin("POST", "faults", {"error_rate": 0, "drop_rate": 0, "throttle": 0})
                from flows.retries import retry_failed_syncs
                from flows.sync import sync_all_companies

                sweeps = 0
                for _ in range(20):
                    result = retry_failed_syncs(stale_after_seconds=0)
                    sweeps += 1
                    with env.sessions() as s:
                        due = s.scalar(
                            select(func.count())
                            .select_from(IntegrationSyncLog)
                            .where(IntegrationSyncLog.status.in_(["retrying", "in_progress"]))
                        )
                    if not result["records"] and not due:
                        break
                    time.sleep(2)
                sync_all_companies(max_concurrency=4)  # what the killed runs never reached
                print(f"after the chaos: {sweeps} retry sweeps, then one incremental sync of every company")
            books = _check_books(env, realms)
            print(
                f"books: {books['matched']}/{books['invoices']} invoices exactly once with equal totals = "
                f"{books['accuracy_pct']:.2f} %; duplicates in QBO: {books['duplicates_in_qbo']}; "
                "attempts left "
                f"in progress: {books['attempts_left_in_progress']}; recovered from a killed worker: "
                f"{books['attempts_recovered_from_killed_worker']}"
            )
    finally:
        cluster.stop()
        for name in (PREFECT_DB, APP_DB):
            drop_database(name)


if __name__ == "__main__":
    main()
