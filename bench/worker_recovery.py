"""How long after a worker dies its work is recovered: a worker process runs the push-to-quickbooks flow
against slow QuickBooks (latency), is SIGKILLed while its invoice attempts are in progress, and the
retry-failed-syncs flow then runs every `--sweep-every` seconds (the retry-sweep deployment runs every
30 s). Prints the time from the kill to the sweep that recovered the attempts and set the dead flow run
Crashed; then one push (as the next scheduled sync would, for what the dead run never reached) and checks
QuickBooks holds every invoice exactly once.

    python -m bench.worker_recovery [--invoices 90] [--lease 20] [--sweep-every 1] [--latency-ms 1500]

With `--sweep-every 1` the figure is how long the lease takes to lapse (plus one sweep); with the
schedule's 30 s, a recovery waits up to 30 s more for the next sweep.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

from sqlalchemy import select

from bench.common import KEY_CREATED, bench_env
from sandbox.quickbooks import SandboxOptions
from sierra_core.db.models import IntegrationSyncLog, Invoice


def _worker(company_id: str) -> None:
    from flows.push import push_to_quickbooks

    print("STARTED", flush=True)
    push_to_quickbooks(company=company_id)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=90)
    parser.add_argument("--lease", type=float, default=20.0, help="SIERRA_SYNC_LEASE_SECONDS (default 20)")
    parser.add_argument("--sweep-every", type=float, default=1.0, help="seconds between sweeps")
    parser.add_argument("--latency-ms", type=int, default=1500, help="QuickBooks latency per request")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker)
        return
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness
    from prefect.types import SecretDict
    from pydantic import SecretStr

    from blocks import QBO_APP_BLOCK, TOKEN_KEYS_BLOCK, QuickBooksAppCredentials, TokenEncryptionKeys
    from flows.push import push_to_quickbooks
    from flows.retries import retry_failed_syncs
    from sierra_core.settings import get_settings
    from tasks import runtime

    unlimited = SandboxOptions(requests_per_minute=0, batch_requests_per_minute=0)
    with prefect_test_harness(server_startup_timeout=120), bench_env(unlimited) as env:
        (company_id,) = env.seed_sent(1, args.invoices)
        conn = env.connect(company_id)
        os.environ["SIERRA_DATABASE_URL"] = env.db_url
        os.environ["SIERRA_SYNC_LEASE_SECONDS"] = str(args.lease)
        get_settings.cache_clear()
        runtime.reset_engines()
        QuickBooksAppCredentials(
            client_id="local-client",
            client_secret=SecretStr("local-secret"),
            environment="local",
            local_base_url=env.url,
        ).save(QBO_APP_BLOCK, overwrite=True)
        TokenEncryptionKeys(keys=SecretDict({"bench": env.key_text}), created={"bench": KEY_CREATED}).save(
            TOKEN_KEYS_BLOCK, overwrite=True
        )
        env.admin("POST", "faults", {"realm": conn.realm_id, "latency_ms": args.latency_ms})
        worker_env = {
            **os.environ,
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "PYTHONPATH": os.getcwd(),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.worker_recovery", "--worker", str(company_id)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=worker_env,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "STARTED"
        held: list[IntegrationSyncLog] = []
        while not held and proc.poll() is None:
            time.sleep(0.05)
            with env.sessions() as s:
                held = list(
                    s.scalars(
                        select(IntegrationSyncLog).where(
                            IntegrationSyncLog.status == "in_progress",
                            IntegrationSyncLog.entity_type == "invoice",
                        )
                    )
                )
        proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        proc.wait(timeout=30)
        proc.stdout.close()
        env.admin("POST", "faults", {"realm": conn.realm_id, "latency_ms": 0})
        in_progress = len(held)
        dead_run = held[0].flow_run_id if held else None
        print(f"killed the worker with {in_progress} invoice attempts in progress (flow run {dead_run})")
        recovered_after = crashed_after = None
        sweeps = 0
        while time.monotonic() - killed < args.lease + 120 and recovered_after is None:
            started = time.monotonic()
            result = retry_failed_syncs()
            sweeps += 1
            if result["recovered_from_dead_workers"]:
                recovered_after = time.monotonic() - killed
                if result["crashed_flow_runs"]:
                    crashed_after = recovered_after
                break
            time.sleep(max(0.0, args.sweep_every - (time.monotonic() - started)))
        retry_failed_syncs()  # what the recovery push left retrying
        push_to_quickbooks(
            company=str(company_id)
        )  # what the dead run never reached: the next scheduled sync
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(uuid.UUID(dead_run)).state_type if dead_run else None
        with env.sessions() as s:
            app_numbers = Counter(
                s.scalars(select(Invoice.invoice_number).where(Invoice.company_id == company_id))
            )
        listing = env.admin("GET", f"realms/{conn.realm_id}/entities/Invoice")
        in_qbo = Counter(i["DocNumber"] for i in listing["items"])
        duplicates = sum(n - 1 for n in in_qbo.values() if n > 1)
        print(
            f"lease {args.lease:g} s, a sweep every {args.sweep_every:g} s: recovered after "
            f"{recovered_after:.1f} s ({sweeps} sweeps); dead flow run Crashed after "
            f"{crashed_after if crashed_after is None else round(crashed_after, 1)} s (state now {state}); "
            f"QuickBooks: {sum(in_qbo.values())} invoices for {sum(app_numbers.values())} in the app, "
            f"{duplicates} duplicates, {len(set(app_numbers) - set(in_qbo))} missing"
            if recovered_after is not None
            else "not recovered"
        )
        if state != StateType.CRASHED or duplicates or set(app_numbers) != set(in_qbo):
            raise SystemExit("the recovery was incomplete")


if __name__ == "__main__":
    main()
