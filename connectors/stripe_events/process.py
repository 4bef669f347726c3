"""Process one stored Stripe event: apply it to the app database, then to QuickBooks.

    ctx = EventContext(sessions, gateway=lambda: gateway, quickbooks=opener)
    outcome = process_inbox_event(ctx, inbox_event)     # claimed by the caller (sierra_core.inbox.claim)

| event | app database | QuickBooks |
|---|---|---|
| payment_intent.succeeded | Payment, invoice balance and status, fee Expense | Payment (linked), Purchase |
| payment_intent.payment_failed | PaymentAttempt (failed, decline code and reason) | - |
| charge.refunded | Payment.refunded_amount and status, invoice balance restored | RefundReceipt per refund |
| charge.dispute.created | Invoice.disputed_at (and a warning) | - |
| payout.paid | - | a Deposit per company: its paid-out Payments to the bank (`payouts`) |
| anything else | - (ignored) | - |

Every step is idempotent (see `record`), so a redelivered event or a re-run after a crash is harmless, and a
refund or dispute that overtakes its payment's success event is applied all the same.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks_sync.push_types import Target
from connectors.stripe.gateway import StripeGateway
from connectors.stripe.types import BalanceTransactionInfo, StripeEvent
from connectors.stripe_events import payouts, record
from connectors.stripe_events.errors import EventShapeError
from connectors.stripe_events.quickbooks import push_collected, push_refund_receipts
from sierra_core import inbox
from sierra_core.inbox import InboxEvent

__all__ = [
    "HANDLED_TYPES",
    "EventContext",
    "EventOutcome",
    "QuickBooksLink",
    "QuickBooksOpener",
    "process_event",
    "process_inbox_event",
]

log = logging.getLogger("sierra_sync.stripe_events")

HANDLED_TYPES = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "payout.paid",
)


@dataclass(frozen=True)
class QuickBooksLink:
    """A company's open QuickBooks client and push target."""

    client: QuickBooksClient
    target: Target


QuickBooksOpener = Callable[[uuid.UUID], AbstractContextManager[QuickBooksLink | None]]
"""Opens the company's QuickBooks connection; yields None when the company is not connected (the app
side is still recorded, and the next push sends it)."""


@contextmanager
def _no_quickbooks(company_id: uuid.UUID) -> Iterator[QuickBooksLink | None]:
    yield None


@dataclass
class EventContext:
    """What processing needs: the database, Stripe (a factory: built only when an event needs it) and
    QuickBooks. `trigger` and `flow_run_id` go on every sync-log row."""

    sessions: sessionmaker[Session]
    gateway: Callable[[], StripeGateway] | None = None
    quickbooks: QuickBooksOpener = _no_quickbooks
    trigger: str = "webhook"
    flow_run_id: str | None = None
    _gateway: StripeGateway | None = field(default=None, repr=False)

    def stripe(self) -> StripeGateway | None:
        if self._gateway is None and self.gateway is not None:
            self._gateway = self.gateway()
        return self._gateway


@dataclass
class EventOutcome:
    """What processing one event did (JSON-ready through `as_dict`; no secrets, no payloads)."""

    event_id: str
    event_type: str
    status: str  # processed | ignored
    summary: str
    company_id: uuid.UUID | None = None
    invoice_id: uuid.UUID | None = None
    payment_id: uuid.UUID | None = None
    expense_id: uuid.UUID | None = None
    qbo: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "status": self.status,
            "summary": self.summary,
        }
        for key in ("company_id", "invoice_id", "payment_id", "expense_id"):
            value = getattr(self, key)
            out[key] = str(value) if value is not None else None
        out["qbo"] = self.qbo
        out["notes"] = list(self.notes)
        return out


def process_inbox_event(ctx: EventContext, event: InboxEvent) -> EventOutcome:
    """Process one claimed inbox event (the caller finishes or fails it in the inbox)."""
    payload = inbox.payload_of(ctx.sessions, event.id)
    if not isinstance(payload, dict):
        raise EventShapeError(f"inbox event {event.event_id} has no JSON object payload")
    return process_event(ctx, StripeEvent.from_dict(payload))


def process_event(ctx: EventContext, event: StripeEvent) -> EventOutcome:
    """Apply one Stripe event (see the module table); unknown types are `ignored`."""
    handler = _HANDLERS.get(event.type)
    if handler is None:
        return EventOutcome(event.id, event.type, "ignored", f"{event.type} is not processed")
    return handler(ctx, event)


# --------------------------------------------------------------------------- handlers


FeeRead = Callable[[], BalanceTransactionInfo | None]


def _read_fee_meanwhile(ctx: EventContext, intent_id: str, metadata: Mapping[str, Any]) -> FeeRead | None:
    """Start reading the payment's fee from Stripe now, while the payment is recorded (it only needs the
    intent id): the fee is at hand when the payment is pushed, so one push sends both (one QBO lookup
    batch instead of two; QBO allows 40 batch requests a minute per company)."""
    gateway = ctx.stripe()
    if gateway is None or not metadata.get("invoice_id"):  # foreign payments fail before needing it
        return None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stripe-fee")
    future = pool.submit(gateway.payment_fees, intent_id)
    pool.shutdown(wait=False)
    return future.result


def _collect(
    ctx: EventContext, rec: record.PaymentRecord, outcome: EventOutcome, fee: FeeRead | None
) -> None:
    """Stripe's fee as an expense, then the payment and the fee's Purchase to QuickBooks in one push."""
    ids = [rec.payment_id]
    fees = fee() if fee is not None else None  # a Stripe failure fails the event: the inbox retries it
    if fee is None:
        outcome.notes.append("no Stripe gateway configured: the fee was not read")
    elif fees is None:
        outcome.notes.append("Stripe has no balance transaction for this payment yet: no fee recorded")
    else:
        outcome.expense_id = record.record_fee(ctx.sessions, rec.payment_id, fees)
        if outcome.expense_id is not None:
            ids.append(outcome.expense_id)
    with ctx.quickbooks(rec.company_id) as qbo:
        if qbo is None:
            outcome.notes.append("the company is not connected to QuickBooks: nothing pushed")
            return
        result = push_collected(
            ctx.sessions, qbo.client, qbo.target, ids, trigger=ctx.trigger, flow_run_id=ctx.flow_run_id
        )
    outcome.qbo["push"] = {k: v for k, v in result.as_dict()["counts"].items()}
    for failure in result.failures:
        # Recorded in the sync log as retrying/failed: the retry sweep (or replay-failed) takes it from here.
        outcome.notes.append(f"QuickBooks: {failure.message} ({failure.status})")
        log.warning("Stripe %s: QuickBooks push %s: %s", outcome.event_id, failure.status, failure.message)


def _invoice_note(state: record.InvoiceState | None, outcome: EventOutcome) -> str:
    if state is None:
        return "no invoice"
    if state.note:
        outcome.notes.append(state.note)
    return f"invoice #{state.invoice_number} {state.status}, balance {state.balance}"


def _succeeded(ctx: EventContext, event: StripeEvent) -> EventOutcome:
    facts = record.facts_from_intent(event.data_object)
    fee = _read_fee_meanwhile(ctx, facts.intent_id, facts.metadata)
    rec = record.record_payment(ctx.sessions, facts)
    outcome = EventOutcome(
        event.id, event.type, "processed", "", rec.company_id, rec.invoice_id, rec.payment_id
    )
    invoice = _invoice_note(rec.invoice, outcome)
    verb = "recorded" if rec.created else "already recorded"
    outcome.summary = (
        f"payment {facts.intent_id} of {facts.amount} {facts.currency.upper()} {verb}; {invoice}"
    )
    _collect(ctx, rec, outcome, fee)
    log.info("Stripe %s: %s", event.id, outcome.summary)
    return outcome


def _failed(ctx: EventContext, event: StripeEvent) -> EventOutcome:
    rec = record.record_failure(ctx.sessions, event.data_object, event.id, event.created)
    reason = rec.decline_code or rec.failure_code or "no reason given"
    verb = "recorded" if rec.created else "already recorded"
    summary = f"declined payment attempt ({reason}) {verb}"
    log.info("Stripe %s: %s", event.id, summary)
    return EventOutcome(event.id, event.type, "processed", summary, rec.company_id, rec.invoice_id)


def _refunded(ctx: EventContext, event: StripeEvent) -> EventOutcome:
    facts = record.facts_from_charge(event.data_object)
    fee = _read_fee_meanwhile(ctx, facts.intent_id, facts.metadata)
    rec = record.record_refund(ctx.sessions, event.data_object)
    pay = rec.payment
    outcome = EventOutcome(
        event.id, event.type, "processed", "", pay.company_id, pay.invoice_id, pay.payment_id
    )
    invoice = _invoice_note(pay.invoice, outcome)
    outcome.summary = f"payment {pay.intent_id} refunded {rec.refunded_amount} in all; {invoice}"
    if pay.created:
        outcome.notes.append(
            "the refund arrived before the payment's own event: payment recorded from the charge"
        )
    _collect(ctx, pay, outcome, fee)
    with ctx.quickbooks(pay.company_id) as qbo:
        if qbo is not None and rec.refunds:
            pushed = push_refund_receipts(
                ctx.sessions,
                qbo.client,
                qbo.target,
                pay.payment_id,
                rec.refunds,
                trigger=ctx.trigger,
                flow_run_id=ctx.flow_run_id,
            )
            outcome.qbo["refund_receipts"] = {p.refund_id: p.qbo_id for p in pushed}
    log.info("Stripe %s: %s", event.id, outcome.summary)
    return outcome


def _disputed(ctx: EventContext, event: StripeEvent) -> EventOutcome:
    def intent_metadata(intent_id: str) -> dict[str, str]:
        gateway = ctx.stripe()
        if gateway is None:
            return {}
        intent = gateway.retrieve_payment_intent(intent_id)
        found = {"invoice_id": intent.invoice_id, "company_id": intent.company_id}
        return {k: v for k, v in found.items() if v}

    rec = record.flag_dispute(ctx.sessions, event.data_object, intent_metadata)
    summary = (
        f"dispute {rec.dispute_id} of {rec.amount} ({rec.reason or 'no reason given'}) on invoice "
        f"#{rec.invoice_number}: {'flagged' if rec.changed else 'already flagged'}; answer it in Stripe"
    )
    log.warning("Stripe %s: %s", event.id, summary)
    return EventOutcome(event.id, event.type, "processed", summary, rec.company_id, rec.invoice_id)


def _payout_paid(ctx: EventContext, event: StripeEvent) -> EventOutcome:
    gateway = ctx.stripe()
    if gateway is None:
        raise EventShapeError("payout.paid needs the Stripe gateway (the payout's transactions are read)")
    booked = payouts.book_payout(
        ctx.sessions,
        gateway,
        event.data_object,
        ctx.quickbooks,
        trigger=ctx.trigger,
        flow_run_id=ctx.flow_run_id,
    )
    made = [b for b in booked if b.created]
    summary = (
        f"payout {event.data_object.get('id')}: {len(made)} deposit(s) booked, "
        f"{len(booked) - len(made)} already booked"
    )
    outcome = EventOutcome(event.id, event.type, "processed", summary)
    outcome.qbo["deposits"] = {str(b.company_id): b.deposit_id for b in booked}
    log.info("Stripe %s: %s", event.id, summary)
    return outcome


_HANDLERS: dict[str, Callable[[EventContext, StripeEvent], EventOutcome]] = {
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "charge.refunded": _refunded,
    "charge.dispute.created": _disputed,
    "payout.paid": _payout_paid,
}
