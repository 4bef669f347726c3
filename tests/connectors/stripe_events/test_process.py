"""Stripe event logic on both dialects, without QuickBooks: payments, declines, refunds in any order,
disputes, duplicates and unknown invoices (events shaped like the sandbox's and Stripe's)."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.stripe.types import StripeEvent
from connectors.stripe_events import (
    EventContext,
    UnknownInvoiceError,
    claimable_events,
    payment_id_for,
    process_event,
    run_events,
)
from sierra_core import inbox
from sierra_core.db.models import Expense, Invoice, Payment, PaymentAttempt, WebhookEvent
from sierra_core.inbox import NewEvent
from tests import factories as f

D = Decimal


@pytest.fixture
def invoice(sessions) -> Invoice:
    with sessions.begin() as s:
        company = f.company(s)
        customer = f.customer(s, company.id)
        row = f.invoice(s, company.id, customer.id, number="2001")  # 10 x 85.00 = 850.00
        s.expunge(row)
    return row


def meta(inv: Invoice) -> dict[str, str]:
    return {"invoice_id": str(inv.id), "company_id": str(inv.company_id)}


def intent(
    inv: Invoice, cents: int, pi: str = "pi_1", charge: str | None = "ch_1", **kw: Any
) -> dict[str, Any]:
    return {
        "id": pi,
        "object": "payment_intent",
        "amount": cents,
        "amount_received": cents,
        "currency": "usd",
        "status": "succeeded",
        "latest_charge": charge,
        "created": int(time.time()),
        "metadata": meta(inv),
        **kw,
    }


def charge(
    inv: Invoice, cents: int, refunded: int, refunds: list[tuple[str, int]], pi: str = "pi_1"
) -> dict[str, Any]:
    return {
        "id": "ch_1",
        "object": "charge",
        "amount": cents,
        "amount_captured": cents,
        "amount_refunded": refunded,
        "currency": "usd",
        "status": "succeeded",
        "payment_intent": pi,
        "created": int(time.time()),
        "metadata": meta(inv),
        "refunds": {
            "object": "list",
            "data": [
                {
                    "id": rid,
                    "object": "refund",
                    "amount": amt,
                    "charge": "ch_1",
                    "status": "succeeded",
                    "created": 1,
                }
                for rid, amt in refunds
            ],
            "has_more": False,
        },
    }


def event(type_: str, obj: dict[str, Any], event_id: str | None = None) -> StripeEvent:
    return StripeEvent.from_dict(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:12]}",
            "object": "event",
            "type": type_,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    )


def load(sessions, inv: Invoice) -> tuple[Invoice, list[Payment]]:
    with sessions() as s:
        row = s.get(Invoice, inv.id)
        payments = list(s.scalars(select(Payment).where(Payment.invoice_id == inv.id)))
        s.expunge_all()
    assert row is not None
    return row, payments


def test_a_success_records_the_payment_and_pays_the_invoice_once(sessions, invoice):
    ctx = EventContext(sessions)
    first = process_event(ctx, event("payment_intent.succeeded", intent(invoice, 85000)))
    assert first.status == "processed"
    assert first.payment_id == payment_id_for("pi_1")
    inv, payments = load(sessions, invoice)
    assert (inv.status, inv.balance) == ("paid", D("0.00"))
    [payment] = payments
    assert (payment.amount, payment.method, payment.status) == (D("850.00"), "card", "succeeded")
    assert (payment.stripe_payment_intent_id, payment.stripe_charge_id) == ("pi_1", "ch_1")
    assert payment.customer_id == invoice.customer_id
    version = inv.version

    again = process_event(ctx, event("payment_intent.succeeded", intent(invoice, 85000)))  # a redelivery
    assert "already recorded" in again.summary
    inv, payments = load(sessions, invoice)
    assert len(payments) == 1 and inv.version == version  # nothing written twice, no spurious push


def test_a_received_payment_is_announced_once_to_subscribers(sessions, invoice):
    from sierra_core.db.models import WebhookSubscription
    from sierra_core.db.models.public_api import WebhookDelivery

    with sessions.begin() as s:
        s.add(
            WebhookSubscription(
                company_id=invoice.company_id,
                provider="outgoing",
                is_active=True,
                webhook_url="https://hooks.example/x",
                events=["payment.received"],
            )
        )
    ctx = EventContext(sessions)
    process_event(ctx, event("payment_intent.succeeded", intent(invoice, 85000)))
    process_event(ctx, event("payment_intent.succeeded", intent(invoice, 85000)))  # a redelivery
    with sessions() as s:
        deliveries = s.scalars(select(WebhookDelivery)).all()
    assert [d.event_type for d in deliveries] == ["payment.received"]
    assert deliveries[0].payload["data"]["amount"] == "850.00"


def test_a_partial_payment_leaves_the_invoice_partially_paid(sessions, invoice):
    process_event(EventContext(sessions), event("payment_intent.succeeded", intent(invoice, 30050)))
    inv, [payment] = load(sessions, invoice)
    assert (inv.status, inv.balance, payment.amount) == ("partially_paid", D("549.50"), D("300.50"))


def test_a_decline_is_recorded_once_with_its_reason(sessions, invoice):
    failed = intent(
        invoice,
        85000,
        amount_received=0,
        status="requires_payment_method",
        last_payment_error={
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
            "charge": "ch_declined",
        },
    )
    ctx = EventContext(sessions)
    outcome = process_event(ctx, event("payment_intent.payment_failed", failed))
    assert "insufficient_funds" in outcome.summary
    process_event(ctx, event("payment_intent.payment_failed", failed))  # a duplicate with a new event id
    with sessions() as s:
        [attempt] = s.scalars(select(PaymentAttempt)).all()
        assert (attempt.status, attempt.failure_code, attempt.decline_code) == (
            "failed",
            "card_declined",
            "insufficient_funds",
        )
        assert attempt.failure_message == "Your card has insufficient funds."
        assert attempt.invoice_id == invoice.id and attempt.amount == D("850.00")
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
    inv, _ = load(sessions, invoice)
    assert (inv.status, inv.balance) == ("sent", D("850.00"))


def test_refunds_in_any_order_and_before_the_success(sessions, invoice):
    ctx = EventContext(sessions)
    newer = charge(invoice, 85000, 85000, [("re_1", 20000), ("re_2", 65000)])
    older = charge(invoice, 85000, 20000, [("re_1", 20000)])
    outcome = process_event(ctx, event("charge.refunded", newer))  # before payment_intent.succeeded
    assert any("before the payment" in n for n in outcome.notes)
    inv, [payment] = load(sessions, invoice)
    assert (payment.amount, payment.refunded_amount, payment.status) == (D("850.00"), D("850.00"), "refunded")
    assert (inv.status, inv.balance) == ("sent", D("850.00"))  # every cent back: open again

    process_event(ctx, event("charge.refunded", older))  # the older snapshot, late: changes nothing
    process_event(ctx, event("payment_intent.succeeded", intent(invoice, 85000)))  # the success, last
    inv, [payment] = load(sessions, invoice)
    assert (payment.refunded_amount, payment.status) == (D("850.00"), "refunded")
    assert (inv.status, inv.balance) == ("sent", D("850.00"))


def test_a_partial_refund_restores_part_of_the_balance(sessions, invoice):
    ctx = EventContext(sessions)
    process_event(ctx, event("payment_intent.succeeded", intent(invoice, 85000)))
    process_event(ctx, event("charge.refunded", charge(invoice, 85000, 10025, [("re_1", 10025)])))
    inv, [payment] = load(sessions, invoice)
    assert (payment.refunded_amount, payment.status) == (D("100.25"), "partially_refunded")
    assert (inv.status, inv.balance) == ("partially_paid", D("100.25"))


def test_a_dispute_flags_the_invoice(sessions, invoice):
    ctx = EventContext(sessions)
    process_event(ctx, event("payment_intent.succeeded", intent(invoice, 85000)))
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 85000,
        "currency": "usd",
        "charge": "ch_1",
        "payment_intent": "pi_1",
        "reason": "fraudulent",
        "status": "needs_response",
        "created": int(time.time()),
        "metadata": {},
    }
    outcome = process_event(ctx, event("charge.dispute.created", dispute))
    assert "flagged" in outcome.summary and "#2001" in outcome.summary
    inv, _ = load(sessions, invoice)
    assert inv.disputed_at is not None
    again = process_event(ctx, event("charge.dispute.created", dispute))
    assert "already flagged" in again.summary


def test_a_dispute_on_an_unknown_charge_is_an_actionable_failure(sessions, invoice):
    dispute = {"id": "dp_2", "amount": 100, "currency": "usd", "charge": "ch_x", "payment_intent": "pi_x"}
    with pytest.raises(UnknownInvoiceError, match="invoice_id"):
        process_event(EventContext(sessions), event("charge.dispute.created", dispute))


def test_unknown_invoices_fail_in_the_inbox_with_a_message_and_nothing_is_written(sessions, invoice):
    stray = intent(invoice, 5000, pi="pi_stray", metadata={"invoice_id": str(uuid.uuid4())})
    foreign = intent(invoice, 5000, pi="pi_foreign", metadata={})
    with sessions.begin() as s:
        stored = inbox.store_events(
            s,
            [
                NewEvent("stripe", e.id, e.type, "{}", e.payload)
                for e in (
                    event("payment_intent.succeeded", stray, "evt_stray"),
                    event("payment_intent.succeeded", foreign, "evt_foreign"),
                    event("customer.created", {"id": "cus_1", "object": "customer"}, "evt_ignored"),
                )
            ],
        )
    ctx = EventContext(sessions)
    assert len(claimable_events(sessions)) == 3
    run = run_events(ctx, [x.event.id for x in stored])
    assert (run.processed, run.ignored, run.failed) == (0, 1, 2)
    assert {f["error"] for f in run.failures} == {"UnknownInvoiceError"}
    with sessions() as s:
        rows = {r.event_id: r for r in s.scalars(select(WebhookEvent))}
        assert rows["evt_ignored"].status == "ignored"
        assert rows["evt_stray"].status == "failed"
        assert "not in the app" in (rows["evt_stray"].error_message or "")
        assert "no usable invoice_id" in (rows["evt_foreign"].error_message or "")
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
        assert s.scalar(select(func.count()).select_from(Expense)) == 0
    assert len(claimable_events(sessions)) == 2  # failed with attempts left: a later run retries them
    again = run_events(ctx, [x.event.id for x in stored])
    assert (again.failed, again.skipped) == (2, 1)
