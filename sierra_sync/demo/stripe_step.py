"""Card payments in the demo: invoices paid through Stripe payment intents; Stripe's signed webhooks reach
the webhook receiver (the same app as `sierra-sync webhooks serve`), which stores them in the inbox; the
process-stripe-events flow then records each payment and fee in the app and in QuickBooks."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from blocks.stripe import LOCAL_STRIPE_SECRET_KEY, LOCAL_STRIPE_WEBHOOK_SECRET
from connectors.stripe import InvoicePayment, StripeGateway
from sandbox.common.server import LocalServer
from sierra_core.db.models import WebhookEvent
from sierra_core.errors import SierraError
from sierra_sync.demo.scenario import unpaid_invoices


def start_receiver(sessions: sessionmaker[Session], host: str) -> LocalServer:
    """The webhook receiver: verifies signatures and stores events (processing is the flow's job here)."""
    from sierra_sync.web import AppDeps
    from sierra_sync.web import create_app as create_web_app

    deps = AppDeps(sessions=sessions, webhook_secrets={"stripe": [LOCAL_STRIPE_WEBHOOK_SECRET]})
    return LocalServer(create_web_app(deps), host=host).start()


def register_endpoint(stripe_url: str, receiver_url: str) -> None:
    resp = httpx.post(
        f"{stripe_url}/__sandbox/webhook_endpoints",
        json={"url": f"{receiver_url}/webhooks/stripe", "secret": LOCAL_STRIPE_WEBHOOK_SECRET},
        timeout=30,
    )
    resp.raise_for_status()


def pay_invoices(
    sessions: sessionmaker[Session], stripe_url: str, companies: list[uuid.UUID], per_company: int
) -> int:
    """Pay `per_company` open invoices of each company in full, by card (pm_card_visa)."""
    gateway = StripeGateway(LOCAL_STRIPE_SECRET_KEY, base_url=stripe_url)
    paid = 0
    for company_id in companies:
        with sessions() as session:
            invoices = unpaid_invoices(session, company_id)[:per_company]
            for inv in invoices:
                session.expunge(inv)
        for inv in invoices:
            intent = gateway.create_invoice_payment_intent(
                InvoicePayment(inv.id, inv.company_id, inv.balance, "usd", invoice_number=inv.invoice_number)
            )
            if gateway.confirm_payment_intent(intent.id, "pm_card_visa").status != "succeeded":
                raise SierraError(f"the Stripe sandbox declined the payment of invoice {inv.invoice_number}")
            paid += 1
    return paid


def wait_for_webhooks(
    sessions: sessionmaker[Session], stripe_url: str, succeeded: int, timeout: float = 30
) -> int:
    """Wait until Stripe delivered everything and the inbox holds `succeeded` payment_intent.succeeded."""
    deadline = time.monotonic() + timeout
    while True:
        stats: dict[str, Any] = httpx.get(f"{stripe_url}/__sandbox/stats", timeout=30).json()
        with sessions() as session:
            stored = int(
                session.scalar(
                    select(func.count()).where(
                        WebhookEvent.provider == "stripe",
                        WebhookEvent.event_type == "payment_intent.succeeded",
                    )
                )
                or 0
            )
        if stored >= succeeded and not stats.get("webhooks", {}).get("pending"):
            return stored
        if time.monotonic() > deadline:
            raise SierraError(f"only {stored} of {succeeded} Stripe payment webhooks came in {timeout:.0f} s")
        time.sleep(0.1)
