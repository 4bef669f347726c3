"""What the Xero sandbox's state file costs a write: invoices created one by one over HTTP, in memory vs on
a state file (write-through), in the same process; the last hundred show how the cost grows with the
organisation (every write serializes the organisation and writes only the rows that changed).

    .venv/bin/python -m bench.xero_state [--invoices 600]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from sandbox.common.server import LocalServer
from sandbox.kit.spec import KitOptions
from sandbox.kit.throttle import Limits
from sandbox.xero import XeroSandboxOptions, create_app

API = "/api.xro/2.0"


def _run(invoices: int, state_file: str | None) -> list[float]:
    limits = Limits(requests_per_minute=10**9, concurrent_requests=100)
    options = XeroSandboxOptions(
        day_limit=10**9, kit=KitOptions(seed=1, limits=limits, state_file=state_file)
    )
    seconds = []
    with LocalServer(create_app(options)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        tokens = client.post("/__sandbox/tokens", json={}).json()
        client.headers.update(
            {"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": tokens["tenantId"]}
        )
        for n in range(invoices):
            sale = {
                "Type": "ACCREC",
                "Contact": {"Name": f"Customer {n % 50}"},
                "Status": "AUTHORISED",
                "LineItems": [
                    {"Description": "Work", "Quantity": 2, "UnitAmount": 10.5, "AccountCode": "200"}
                ],
            }
            start = time.perf_counter()
            answer = client.put(f"{API}/Invoices", json=sale)
            seconds.append(time.perf_counter() - start)
            answer.raise_for_status()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=600)
    args = parser.parse_args()
    memory = _run(args.invoices, None)
    with tempfile.TemporaryDirectory() as tmp:
        state = str(Path(tmp) / "xero.sqlite")
        saved = _run(args.invoices, state)
        size = Path(state).stat().st_size
    for label, part in (("first 100", slice(0, 100)), ("last 100", slice(-100, None))):
        mem = sum(memory[part]) / len(memory[part]) * 1000
        disk = sum(saved[part]) / len(saved[part]) * 1000
        print(f"{label:>9}: in memory {mem:.2f} ms/write, state file {disk:.2f} ms/write, x{disk / mem:.2f}")
    print(f"state file after {args.invoices} invoices: {size / 1024:.0f} KiB (main file, WAL apart)")


if __name__ == "__main__":
    main()
