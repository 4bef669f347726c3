"""Sustained push rate against QuickBooks' per-realm ceilings (500 requests/min, 40 batch requests/min).

    python -m bench.push_rate                      # 10,000 invoices (takes ~9 minutes: 40 batches/min)
    python -m bench.push_rate --invoices 2000      # a shorter run

The sandbox enforces Intuit's limits and adds 100 ms latency; the client paces itself with the per-realm
limiter. Target (issue 5): at least 90 % of the batch ceiling with no unhandled 429.
"""

from __future__ import annotations

import argparse

from bench.common import Stopwatch, bench_env
from connectors.kit.ratelimit import Limits, RealmLimiter
from connectors.quickbooks.client import RetryPolicy
from connectors.quickbooks.connection import open_client
from connectors.quickbooks_sync.push import Pusher
from connectors.quickbooks_sync.push_types import Target
from sandbox.quickbooks import SandboxOptions


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()

    with bench_env(SandboxOptions(latency_ms=args.latency_ms)) as env:
        (company_id,) = env.seed_sent(1, args.invoices)
        conn = env.connect(company_id)
        target = Target(conn.integration_id, conn.company_id, conn.settings)
        limiter = RealmLimiter(conn.realm_id, Limits())
        with open_client(
            env.sessions, conn, env.ring, env.app, limiter=limiter, retry=RetryPolicy()
        ) as client:
            Pusher(env.sessions, client, target).run(["customer"])  # customers first, untimed
            before = env.admin("GET", f"stats?realm={conn.realm_id}")
            with Stopwatch() as clock:
                result = Pusher(env.sessions, client, target).run(["invoice"])
            after = env.admin("GET", f"stats?realm={conn.realm_id}")

    batches = after["batch_requests"] - before["batch_requests"]
    requests = after["requests_total"] - before["requests_total"]
    throttled = after["throttled"] - before["throttled"]
    minutes = clock.seconds / 60
    counts = result.counts["invoice"]
    unhandled = sum(1 for f in result.failures if f.code == "3001")
    print(
        f"pushed {counts.created} invoices in {clock.seconds:.1f} s ({counts.created / clock.seconds:.1f}/s)"
    )
    print(
        f"batch requests: {batches} = {batches / minutes:.1f}/min "
        f"({100 * batches / minutes / 40:.1f} % of the 40/min ceiling); "
        f"all requests {requests / minutes:.1f}/min ({100 * requests / minutes / 500:.1f} % of 500/min)"
    )
    print(
        f"429 answers: {throttled}; records failed on throttling (unhandled): {unhandled}; "
        f"failed: {counts.failed}, retrying: {counts.retrying}"
    )


if __name__ == "__main__":
    main()
