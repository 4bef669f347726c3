"""Push benchmarks against the local QBO sandbox with injected latency (default 100 ms per request).

    python -m bench.push                 # 100 invoices (+ their new customers): requests and wall time
                                         # then an incremental sync with nothing changed

Targets (issue 5): 100 invoices in at most 6 HTTP requests and under 3 s; nothing-changed incremental
sync under 1 s and at most 2 QBO requests.
"""

from __future__ import annotations

import argparse

from bench.common import Stopwatch, bench_env
from connectors.quickbooks.client import RetryPolicy
from connectors.quickbooks.connection import open_client
from connectors.quickbooks_sync.pull import Puller
from connectors.quickbooks_sync.push import Pusher
from connectors.quickbooks_sync.push_types import Target
from sandbox.quickbooks import SandboxOptions


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()

    with bench_env(SandboxOptions(latency_ms=args.latency_ms)) as env:
        (company_id,) = env.seed_sent(1, args.invoices)
        conn = env.connect(company_id)
        target = Target(conn.integration_id, conn.company_id, conn.settings)
        with open_client(env.sessions, conn, env.ring, env.app, retry=RetryPolicy()) as client:
            client.read("CompanyInfo", conn.realm_id)  # token in hand before timing
            before = env.requests(conn.realm_id)
            with Stopwatch() as push_time:
                pushed = Pusher(env.sessions, client, target).run(["invoice"])
            push_requests = env.requests(conn.realm_id) - before

            Pusher(env.sessions, client, target).run()  # payments and expenses too (untimed)
            Puller(env.sessions, client, target).run()  # the first pull sets the cursors
            before = env.requests(conn.realm_id)
            with Stopwatch() as idle_time:
                Puller(env.sessions, client, target).run()
                idle_push = Pusher(env.sessions, client, target).run()
            idle_requests = env.requests(conn.realm_id) - before

    inv, cust = pushed.counts["invoice"], pushed.counts.get("customer")
    print(f"sandbox latency: {args.latency_ms:.0f} ms per request")
    print(
        f"push {inv.created} invoices (+ {cust.created if cust else 0} new customers first): "
        f"{push_requests} HTTP requests, {push_time.seconds:.2f} s wall "
        f"(targets: <= 6 requests, < 3 s)"
    )
    changed = sum(c.created + c.updated for c in idle_push.counts.values())
    print(
        f"incremental sync, nothing changed: {idle_requests} QBO requests, {idle_time.seconds:.2f} s wall, "
        f"{changed} records written (targets: <= 2 requests, < 1 s)"
    )


if __name__ == "__main__":
    main()
