"""QBO client throughput against the local sandbox (real HTTP on loopback, no injected latency by default).

python -m bench.qbo_client                      # 100 invoices one by one, 100 in batches, paging 5,000 rows
python -m bench.qbo_client --latency-ms 150     # with a QBO-like round trip per request
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal
from typing import Any

import httpx

from connectors.kit.ratelimit import RealmLimiter
from connectors.quickbooks.batch import BatchItem
from connectors.quickbooks.client import QuickBooksClient, make_request_id
from connectors.quickbooks.query import select
from sandbox.common.server import LocalServer
from sandbox.quickbooks import SandboxOptions, create_app


class StaticTokens:
    """The sandbox-issued access token (an hour is plenty for a benchmark)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def access_token(self) -> str:
        return self.token

    def refresh_after_401(self, rejected_token: str) -> str:
        raise RuntimeError("the benchmark token expired")


def invoice(customer_id: str, n: int) -> dict[str, Any]:
    line = {
        "Amount": Decimal("125.50"),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": Decimal("125.50")},
    }
    return {"CustomerRef": {"value": customer_id}, "DocNumber": f"B-{n:05d}", "Line": [line]}


def main() -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()

    app = create_app(SandboxOptions(latency_ms=args.latency_ms, requests_per_minute=0))
    with LocalServer(app) as server:
        made = httpx.post(f"{server.url}/__sandbox/realms", json={"tokens": True}, timeout=10).json()
        realm_id = str(made["realm_id"])
        tokens = StaticTokens(made["tokens"]["access_token"])
        with QuickBooksClient(server.url, realm_id, tokens, limiter=RealmLimiter(realm_id)) as qbo:
            customer = qbo.create("Customer", {"DisplayName": "Bench Builders"}, "bench-customer")
            t0 = time.perf_counter()
            for n in range(args.invoices):
                rid = make_request_id("bench", "invoice", n, 1, "create")
                qbo.create("Invoice", invoice(customer["Id"], n), rid)
            single = time.perf_counter() - t0

            items = [
                BatchItem.create(
                    f"b{n}",
                    "Invoice",
                    invoice(customer["Id"], 10_000 + n),
                    request_id=make_request_id("bench", "invoice", 10_000 + n, 1, "create"),
                )
                for n in range(args.invoices)
            ]
            t0 = time.perf_counter()
            results = qbo.batch(items)
            batched = time.perf_counter() - t0
            assert all(r.ok for r in results)

            bodies = [{"DisplayName": f"Bench Row {i:06d}"} for i in range(args.rows)]
            httpx.post(f"{server.url}/__sandbox/realms/{realm_id}/entities/Customer", json=bodies, timeout=60)
            t0 = time.perf_counter()
            rows = sum(1 for _ in qbo.query_all(select("Customer", "Id", "DisplayName")))
            paged = time.perf_counter() - t0

    print(f"latency per request (injected): {args.latency_ms:.0f} ms")
    print(f"{args.invoices} invoices, one request each: {single:.2f} s ({args.invoices / single:.0f}/s)")
    print(f"{args.invoices} invoices in batches of 30: {batched:.2f} s ({len(results)} results)")
    print(f"paging {rows} customers (1000 per page): {paged:.2f} s")


if __name__ == "__main__":
    main()
