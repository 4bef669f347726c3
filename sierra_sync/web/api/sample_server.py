"""A seeded `sierra-sync api serve` on a free port, for API clients to be tried and tested against (the
Postman collection under newman, the Zapier app's tests): a fresh SQLite database with one company of
sample rows, an API key with every permission, and private webhook targets allowed.

    python -m sierra_sync.web.api.sample_server [--data-dir DIR]

Prints one JSON line once the API answers, then serves until its standard input closes or it gets SIGTERM or
Ctrl-C (the API and anything started for it are stopped):

    {"baseUrl": "http://127.0.0.1:PORT/api/v1", "apiKey": "sk_test_…", "ids": {"project": "…", …}}

The outgoing-webhook keyring comes from the Prefect server of PREFECT_API_URL (its `sierra-token-keys` block,
made when missing, as `sierra-sync blocks setup` does); without PREFECT_API_URL a Prefect server of its own
is started under the data directory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from connectors.apikeys import RESOURCES, create_key
from connectors.outgoing_webhooks import OUTGOING, emit_event, new_secret, seal_secret
from sierra_core.crypto import Keyring
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import (
    Company,
    Contact,
    Integration,
    IntegrationSyncLog,
    Invoice,
    InvoiceLineItem,
    Project,
    ProjectTask,
    WebhookSubscription,
)
from sierra_core.errors import ConfigError, SierraError
from sierra_core.shutdown import terminate
from sierra_sync.demo.prefect_server import PrefectServer, free_port

__all__ = ["seed", "serve"]

ALL = {resource: {"read": True, "write": True, "delete": False} for resource in RESOURCES}
HOOK = "http://127.0.0.1:9/sample-hook"  # nothing listens there: deliveries to it fail, as samples may


def _invoice(customer: Contact, number: str, amount: str, *, paid: bool, day: date) -> Invoice:
    total = Decimal(amount)
    line = InvoiceLineItem(
        line_number=1, description="Framing labor", quantity=1, unit_price=total, amount=total
    )
    return Invoice(
        company_id=customer.company_id,
        customer_id=customer.id,
        invoice_number=number,
        issue_date=day,
        subtotal=total,
        tax_amount=Decimal("0.00"),
        total=total,
        balance=Decimal("0.00") if paid else total,
        status="paid" if paid else "sent",
        lines=[line],
    )


def seed(session: Session, keyring: Keyring, now: datetime) -> tuple[str, dict[str, str]]:
    """One company with two customers, two projects, a task, a sent and a paid invoice, a failed sync, a
    webhook subscription with one delivery; returns an API key with every permission and the row ids."""
    company = Company(name="Sample Builders")
    session.add(company)
    session.flush()
    amy = Contact(company_id=company.id, display_name="Amy's Bird Sanctuary", email="amy@example.com")
    cool = Contact(company_id=company.id, display_name="Cool Cars", email="billing@coolcars.example")
    session.add_all([amy, cool])
    session.flush()
    duplex = Project(
        company_id=company.id,
        customer_id=amy.id,
        name="Hillside duplex",
        description="Two units on a sloped lot",
        project_type="residential",
        status="planning",
        budget=Decimal("480000.00"),
        start_date=date(2026, 12, 1),
        end_date=date(2027, 6, 30),
        code="HD-24",
    )
    garage = Project(company_id=company.id, customer_id=cool.id, name="Showroom garage", status="active")
    session.add_all([duplex, garage])
    session.flush()
    task = ProjectTask(company_id=company.id, project_id=duplex.id, title="Pour footings", priority="high")
    sent = _invoice(amy, "1001", "850.00", paid=False, day=date(2026, 11, 2))
    paid = _invoice(cool, "1002", "1200.00", paid=True, day=date(2026, 11, 20))
    qbo = Integration(
        company_id=company.id,
        integration_type="quickbooks_online",
        connection_status="connected",
        is_connected=True,
    )
    session.add_all([task, sent, paid, qbo])
    session.flush()
    failure = IntegrationSyncLog(
        integration_id=qbo.id,
        company_id=company.id,
        sync_type="push",
        direction="push",
        entity_type="invoice",
        entity_id=sent.id,
        status="failed",
        error_code="customer_missing",
        error_message="QuickBooks refused the invoice: the customer does not exist there",
        started_at=now - timedelta(minutes=5),
    )
    sub = WebhookSubscription(
        id=uuid.uuid4(), company_id=company.id, provider=OUTGOING, webhook_url=HOOK, events=["invoice.synced"]
    )
    sub.webhook_secret = seal_secret(keyring, sub.id, new_secret())
    session.add_all([failure, sub])
    session.flush()
    [delivery] = emit_event(session, company.id, "invoice.synced", {"invoice_id": str(sent.id)}, now=now)
    key = create_key(
        session,
        company.id,
        "sample",
        ALL,
        environment="sandbox",
        rate_limit_per_hour=1_000_000,
        rate_limit_per_day=10_000_000,
    )
    ids = {
        "company": company.id,
        "contact": amy.id,
        "project": duplex.id,
        "task": task.id,
        "invoice": sent.id,
        "paid_invoice": paid.id,
        "sync_log": failure.id,
        "subscription": sub.id,
        "delivery": delivery,
    }
    return key.raw, {name: str(value) for name, value in ids.items()}


def _keyring(prefect_api: str) -> Keyring:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from blocks import TOKEN_KEYS_BLOCK, TokenEncryptionKeys
    from blocks.loader import token_keys

    with temporary_settings({PREFECT_API_URL: prefect_api}):
        try:
            keys = token_keys()
        except ConfigError:  # not saved yet: as `sierra-sync blocks setup` does
            TokenEncryptionKeys.with_new_key().save(TOKEN_KEYS_BLOCK)
            keys = token_keys()
        return keys.keyring()


@contextlib.contextmanager
def _prefect(data_dir: Path) -> Iterator[str]:
    url = os.environ.get("PREFECT_API_URL")
    if url:
        yield url
        return
    server = PrefectServer(home=data_dir / "prefect", port=free_port("127.0.0.1"))
    server.launch()
    try:
        yield server.wait_healthy(timeout=180)
    finally:
        server.stop()


def _wait_up(proc: subprocess.Popen[bytes], base: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SierraError(f"sierra-sync api serve exited with {proc.returncode} while starting")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SierraError(f"sierra-sync api serve did not answer within {timeout:.0f} s")


def serve(data_dir: Path, stop: threading.Event) -> None:
    """Seed a database under `data_dir`, serve it until `stop` is set, then stop everything started."""
    db_url = f"sqlite:///{data_dir / 'api.db'}"
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with _prefect(data_dir) as prefect_api:
        keyring = _keyring(prefect_api)
        with session_factory(engine).begin() as session:
            key, ids = seed(session, keyring, datetime.now(UTC))
        engine.dispose()
        port = free_port("127.0.0.1")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
        env.update(
            SIERRA_DATABASE_URL=db_url,
            SIERRA_WEBHOOKS_ALLOW_PRIVATE_TARGETS="1",
            PREFECT_API_URL=prefect_api,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            DO_NOT_TRACK="1",
        )
        command = [sys.executable, "-m", "sierra_sync", "api", "serve", "--port", str(port)]
        # Its output goes to our stderr: our stdout carries the one JSON line only.
        proc = subprocess.Popen(  # noqa: S603 - our own executable, fixed arguments
            [*command, "--dispatch", "in-process"], env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_up(proc, base)
            print(json.dumps({"baseUrl": f"{base}/api/v1", "apiKey": key, "ids": ids}), flush=True)
            while not stop.wait(0.5) and proc.poll() is None:
                pass
        finally:
            terminate(proc, grace=20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, help="where the database goes (default: a temporary one)")
    args = parser.parse_args()
    from sierra_core.shutdown import stop_on_signals

    stop = threading.Event()

    def watch_stdin() -> None:  # the parent went away or closed our input: stop
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    with stop_on_signals() as signals:
        signals.on_stop(stop.set)
        try:
            if args.data_dir is not None:
                args.data_dir.mkdir(parents=True, exist_ok=True)
                serve(args.data_dir, stop)
            else:
                with tempfile.TemporaryDirectory(prefix="sierra-sample-api-") as tmp:
                    serve(Path(tmp), stop)
        except SierraError as err:
            print(f"sample server: {err}", file=sys.stderr)
            raise SystemExit(1) from None


if __name__ == "__main__":
    main()
