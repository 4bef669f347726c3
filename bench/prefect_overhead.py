"""Prefect's overhead on a push: the same push run directly through the engine and through the
push-to-quickbooks flow on a Prefect server (prefect_test_harness), per invoice.

    python -m bench.prefect_overhead [--invoices 500]
"""

from __future__ import annotations

import argparse
import os

from bench.common import Stopwatch, bench_env
from connectors.quickbooks.client import RetryPolicy
from connectors.quickbooks.connection import open_client
from connectors.quickbooks_sync.push import Pusher
from connectors.quickbooks_sync.push_types import Target
from sandbox.quickbooks import SandboxOptions


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

    from prefect.testing.utilities import prefect_test_harness
    from prefect.types import SecretDict
    from pydantic import SecretStr

    from bench.common import KEY_CREATED
    from blocks import QBO_APP_BLOCK, TOKEN_KEYS_BLOCK, QuickBooksAppCredentials, TokenEncryptionKeys
    from flows.push import push_to_quickbooks
    from sierra_core.settings import get_settings
    from tasks import runtime

    unlimited = SandboxOptions(requests_per_minute=0, batch_requests_per_minute=0)
    with prefect_test_harness(server_startup_timeout=120), bench_env(unlimited) as env:
        direct_company, flow_company = env.seed_sent(2, args.invoices)
        direct, _ = env.connect(direct_company), env.connect(flow_company)
        os.environ["SIERRA_DATABASE_URL"] = env.db_url
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
        target = Target(direct.integration_id, direct.company_id, direct.settings)
        with (
            Stopwatch() as engine_time,
            open_client(env.sessions, direct, env.ring, env.app, retry=RetryPolicy()) as client,
        ):
            plain = Pusher(env.sessions, client, target).run(["invoice"])
        with Stopwatch() as flow_time:
            summary = push_to_quickbooks(company=str(flow_company), entity_types=["invoice"])
        runtime.reset_engines()

    n_plain = plain.counts["invoice"].created
    n_flow = summary["counts"]["invoice"]["created"]
    overhead = flow_time.seconds - engine_time.seconds
    print(f"engine only: {n_plain} invoices in {engine_time.seconds:.2f} s")
    print(f"as a Prefect flow run: {n_flow} invoices in {flow_time.seconds:.2f} s (one task run per push)")
    print(
        f"Prefect overhead: {overhead:.2f} s per run = {1000 * overhead / max(n_flow, 1):.2f} ms per invoice"
    )


if __name__ == "__main__":
    main()
