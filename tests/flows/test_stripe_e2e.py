"""End to end, both dialects: an invoice made in the app is pushed to QuickBooks, paid through a payment
intent in the Stripe sandbox, and the signed webhooks reach the receiver (served in-process, processing
in-process) duplicated and out of order; the app, QuickBooks and the fee expense end up right, once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from blocks.stripe import save_stripe_settings
from connectors.stripe import CardDeclinedError, InvoicePayment, RetryPolicy, StripeGateway
from flows.stripe_events import DEPLOYMENT, backfill_stripe_events, process_stripe_events
from sandbox.common.server import LocalServer
from sandbox.stripe import StripeSandboxOptions, create_app
from sierra_core.db.models import EntityLink, Expense, Invoice, Payment, PaymentAttempt, WebhookEvent
from sierra_sync.web import AppDeps, DeploymentDispatcher, InProcessDispatcher
from sierra_sync.web import create_app as create_web_app
from tasks.stripe_events import inbox_handler
from tests import factories as f

D = Decimal
KEY = "sk_test_sierra_e2e_0001"
SECRET = "whsec_sierra_e2e_secret_0001"
DONE = ("processed", "ignored")


@dataclass
class Stripe:
    url: str

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/__sandbox/{path}", json=json, timeout=30)
        response.raise_for_status()
        return response.json()

    def events(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.admin("GET", "objects/event")["data"] if e["type"] == type_]


@pytest.fixture(scope="module")
def stripe_manual() -> Iterator[Stripe]:
    """A Stripe sandbox that delivers webhooks only when told (so the test picks order and duplicates)."""
    app = create_app(StripeSandboxOptions(seed=66, webhook_auto_deliver=False, webhook_timeout_seconds=20))
    with LocalServer(app) as server:
        yield Stripe(server.url)


@pytest.fixture
def env(flow_env, stripe_manual) -> Iterator[Any]:
    stripe_manual.admin("POST", "reset")
    save_stripe_settings(secret_key=KEY, webhook_secret=SECRET, api_base=stripe_manual.url)
    sessions = flow_env.sessions
    dispatcher = InProcessDispatcher(sessions, {"stripe": inbox_handler(sessions)})
    web = create_web_app(
        AppDeps(sessions=sessions, webhook_secrets={"stripe": [SECRET]}, dispatcher=dispatcher)
    )
    with LocalServer(web) as receiver:
        yield flow_env, stripe_manual, receiver.url


def gateway(stripe: Stripe) -> StripeGateway:
    return StripeGateway(KEY, base_url=stripe.url, retry=RetryPolicy(sleep=lambda s: None))


def new_invoice(connected: Any, number: str) -> Invoice:
    """An invoice created in the app (a new customer too) and pushed to QuickBooks."""
    with connected.sessions.begin() as s:
        customer = f.customer(s, connected.connection.company_id, name=f"Stripe Payer {number}")
        invoice = f.invoice(
            s,
            connected.connection.company_id,
            customer.id,
            number=number,
            lines=[("Framing labor", D("10"), D("85.00")), ("Concrete", D("3"), D("129.99"))],
        )
        s.expunge(invoice)
    result = connected.push(("customer", "invoice"), [customer.id, invoice.id])
    assert result.failures == []
    return invoice


def pay(stripe: Stripe, invoice: Invoice, *, decline_first: bool = False) -> str:
    gw = gateway(stripe)
    intent = gw.create_invoice_payment_intent(
        InvoicePayment(
            invoice.id, invoice.company_id, invoice.balance, "usd", invoice_number=invoice.invoice_number
        )
    )
    if decline_first:
        with pytest.raises(CardDeclinedError):
            gw.confirm_payment_intent(intent.id, "pm_card_chargeDeclined")
    assert gw.confirm_payment_intent(intent.id, "pm_card_visa").status == "succeeded"
    return intent.id


def register(stripe: Stripe, receiver: str) -> str:
    endpoint = stripe.admin(
        "POST", "webhook_endpoints", {"url": f"{receiver}/webhooks/stripe", "secret": SECRET}
    )
    return str(endpoint["id"])


def settle(connected: Any, expected: int, timeout: float = 30.0) -> list[WebhookEvent]:
    """Wait until `expected` Stripe events are in the inbox and none is still waiting or running."""
    deadline = time.monotonic() + timeout
    while True:
        with connected.sessions() as s:
            rows = list(s.scalars(select(WebhookEvent).where(WebhookEvent.provider == "stripe")))
        if len(rows) >= expected and all(r.status in DONE for r in rows):
            return rows
        failed = [f"{r.event_type}: {r.error_message}" for r in rows if r.status == "failed"]
        assert not failed, failed
        assert time.monotonic() < deadline, [(r.event_type, r.status) for r in rows]
        time.sleep(0.05)


def fee_of(amount: Decimal) -> Decimal:
    return (amount * D("0.029")).quantize(D("0.01"), rounding=ROUND_HALF_UP) + D("0.30")


def qbo_link(connected: Any, entity_type: str, app_id: uuid.UUID) -> str:
    with connected.sessions() as s:
        link = s.scalar(
            select(EntityLink).where(EntityLink.entity_type == entity_type, EntityLink.app_id == app_id)
        )
        assert link is not None, f"{entity_type} {app_id} is not linked to QuickBooks"
        return str(link.external_id)


def check_fee(connected: Any, invoice: Invoice, amount: Decimal) -> None:
    with connected.sessions() as s:
        [fee] = s.scalars(select(Expense).where(Expense.category == "payment_processing")).all()
        s.expunge(fee)
    assert (fee.amount, fee.vendor_name) == (fee_of(amount), "Stripe")
    assert f"#{invoice.invoice_number}" in (fee.description or "")
    purchase_id = qbo_link(connected, "expense", fee.id)
    [purchase] = [p for p in connected.qbo_items("Purchase") if p["Id"] == purchase_id]
    assert D(str(purchase["TotalAmt"])) == fee_of(amount)
    assert purchase["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] == "80"


def qbo_payments_of(connected: Any, invoice_qbo_id: str) -> list[dict[str, Any]]:
    return [
        p
        for p in connected.qbo_items("Payment")
        if any(t["TxnId"] == invoice_qbo_id for line in p["Line"] for t in line.get("LinkedTxn", []))
    ]


def test_a_paid_invoice_lands_in_the_app_and_quickbooks_once(env):
    connected, stripe, receiver = env
    invoice = new_invoice(connected, "E2E-1")
    total = D("1239.97")
    assert invoice.total == total
    invoice_qbo_id = qbo_link(connected, "invoice", invoice.id)
    endpoint = register(stripe, receiver)
    intent_id = pay(stripe, invoice)

    # Stripe's order is not guaranteed: newest first, then payment_intent.succeeded once more.
    stripe.admin("POST", "webhooks/deliver", {"order": "reverse"})
    [succeeded] = stripe.events("payment_intent.succeeded")
    stripe.admin("POST", "webhooks/redeliver", {"event_id": succeeded["id"], "endpoint_id": endpoint})
    stripe.admin("POST", "webhooks/deliver", {"order": "queued"})
    rows = settle(connected, expected=3)
    by_type = {r.event_type: r.status for r in rows}
    assert by_type["payment_intent.succeeded"] == "processed"
    assert by_type["payment_intent.created"] == "ignored"
    assert len(rows) == len({r.event_id for r in rows})  # the duplicate was acknowledged, not stored

    with connected.sessions() as s:
        row = s.get(Invoice, invoice.id)
        assert row is not None and (row.status, row.balance) == ("paid", D("0.00"))
        [payment] = s.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all()
        assert (payment.amount, payment.stripe_payment_intent_id, payment.method) == (
            total,
            intent_id,
            "card",
        )
        payment_id = payment.id

    [qbo_payment] = qbo_payments_of(connected, invoice_qbo_id)
    assert qbo_payment["Id"] == qbo_link(connected, "payment", payment_id)
    assert D(str(qbo_payment["TotalAmt"])) == total
    [qbo_invoice] = [i for i in connected.qbo_items("Invoice") if i["Id"] == invoice_qbo_id]
    assert D(str(qbo_invoice["Balance"])) == D("0")
    check_fee(connected, invoice, total)


def test_a_decline_then_a_refund_before_the_success_event(env):
    connected, stripe, receiver = env
    invoice = new_invoice(connected, "E2E-2")
    total = invoice.total
    invoice_qbo_id = qbo_link(connected, "invoice", invoice.id)
    register(stripe, receiver)
    intent_id = pay(stripe, invoice, decline_first=True)
    gateway(stripe).refund(refund_ref="e2e-refund-1", payment_intent_id=intent_id, amount=D("100.00"))

    # Every event at once, newest first: charge.refunded arrives before payment_intent.succeeded.
    stripe.admin("POST", "webhooks/deliver", {"order": "reverse"})
    settle(connected, expected=len(stripe.admin("GET", "objects/event")["data"]))

    with connected.sessions() as s:
        row = s.get(Invoice, invoice.id)
        assert row is not None and (row.status, row.balance) == ("partially_paid", D("100.00"))
        [payment] = s.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all()
        assert (payment.amount, payment.refunded_amount, payment.status) == (
            total,
            D("100.00"),
            "partially_refunded",
        )
        [attempt] = s.scalars(select(PaymentAttempt).where(PaymentAttempt.invoice_id == invoice.id)).all()
        assert (attempt.status, attempt.decline_code) == ("failed", "generic_decline")
    [qbo_payment] = qbo_payments_of(connected, invoice_qbo_id)
    assert D(str(qbo_payment["TotalAmt"])) == total
    [receipt] = connected.qbo_items("RefundReceipt")
    assert D(str(receipt["TotalAmt"])) == D("100.00")
    assert receipt["CustomerRef"]["value"] == qbo_payment["CustomerRef"]["value"]
    check_fee(connected, invoice, total)


def test_backfill_fetches_what_the_webhook_missed(env):
    connected, stripe, _ = env
    invoice = new_invoice(connected, "E2E-3")
    pay(stripe, invoice)  # no endpoint registered: no webhook at all
    summary = backfill_stripe_events()
    assert summary["backfill"]["listed"] >= 1
    assert summary["processing"]["processed"] == 1
    with connected.sessions() as s:
        row = s.get(Invoice, invoice.id)
        assert row is not None and row.status == "paid"
    assert len(qbo_payments_of(connected, qbo_link(connected, "invoice", invoice.id))) == 1
    again = backfill_stripe_events()  # nothing new the second time
    assert again["backfill"]["stored"] == [] and again["processing"]["processed"] == 0


def test_the_deployment_path_runs_the_flow_with_the_receivers_parameters(flow_env, stripe_manual):
    """With deployments served, the receiver calls run_deployment(name, parameters={"inbox_ids": [...]},
    idempotency_key=…); here the call is captured and the flow run with exactly those parameters."""
    stripe_manual.admin("POST", "reset")
    save_stripe_settings(secret_key=KEY, webhook_secret=SECRET, api_base=stripe_manual.url)
    calls: list[dict[str, Any]] = []
    dispatcher = DeploymentDispatcher(run=lambda **kw: calls.append(kw))
    web = create_web_app(
        AppDeps(sessions=flow_env.sessions, webhook_secrets={"stripe": [SECRET]}, dispatcher=dispatcher)
    )
    invoice = new_invoice(flow_env, "E2E-4")
    with LocalServer(web) as receiver:
        register(stripe_manual, receiver.url)
        pay(stripe_manual, invoice)
        stripe_manual.admin("POST", "webhooks/deliver", {"order": "queued"})
        deadline = time.monotonic() + 10
        while len(calls) < 3:
            assert time.monotonic() < deadline, calls
            time.sleep(0.05)
    assert {c["name"] for c in calls} == {DEPLOYMENT}
    results = [process_stripe_events(**c["parameters"]) for c in calls]
    assert sum(r["processed"] for r in results) == 1 and sum(r["ignored"] for r in results) == 2
    with flow_env.sessions() as s:
        row = s.get(Invoice, invoice.id)
        assert row is not None and (row.status, row.balance) == ("paid", D("0.00"))
    assert process_stripe_events(**calls[-1]["parameters"])["skipped"] == 1  # a second run does nothing
