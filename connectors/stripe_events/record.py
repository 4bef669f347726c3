"""Apply what Stripe reports to the app database: payments, invoice balances, refunds, failed attempts,
disputes and fees. Plain SQLAlchemy, no I/O beyond the database.

Every write is idempotent and tolerant of order, because Stripe delivers at least once and in any order:

* rows made from Stripe objects have ids derived from the Stripe ids (`payment_id_for`, `fee_expense_id_for`)
  and are inserted with ON CONFLICT DO NOTHING, so a duplicate or concurrent delivery finds the row there;
* a refund only ever raises `Payment.refunded_amount` to the charge's cumulative `amount_refunded`, so an
  older `charge.refunded` arriving after a newer one changes nothing;
* a `charge.refunded` before its `payment_intent.succeeded` records the payment from the charge itself;
* the invoice balance is recomputed from its collected payments (never incremented), under a row lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from connectors.outgoing_webhooks import emit_event, subscribed_events
from connectors.quickbooks.mapping_refund import StripeRefund
from connectors.stripe.money import from_minor_units, normalize_currency
from connectors.stripe.types import BalanceTransactionInfo, from_unix
from connectors.stripe_events.errors import EventShapeError, UnknownInvoiceError
from sierra_core.db.models import Company, Expense, Invoice, Payment, PaymentAttempt
from sierra_core.db.models.base import table_of
from sierra_core.db.types import utcnow
from sierra_core.redact import redact_text

__all__ = [
    "COLLECTED",
    "AttemptRecord",
    "DisputeRecord",
    "InvoiceState",
    "PaymentFacts",
    "PaymentRecord",
    "RefundRecord",
    "facts_from_charge",
    "facts_from_intent",
    "fee_expense_id_for",
    "flag_dispute",
    "payment_id_for",
    "recompute_invoice",
    "record_failure",
    "record_fee",
    "record_payment",
    "record_refund",
    "refund_app_id",
]

COLLECTED = ("succeeded", "partially_refunded", "refunded")
_NAMESPACE = uuid.UUID("2f1d8a4e-7c3b-5e9a-b6d0-4a1c9e8f7b21")
FEE_VENDOR = "Stripe"


def payment_id_for(intent_id: str) -> uuid.UUID:
    """The app id of the payment collected by a PaymentIntent (the same on every delivery and worker)."""
    return uuid.uuid5(_NAMESPACE, f"stripe-payment:{intent_id}")


def fee_expense_id_for(balance_transaction_id: str) -> uuid.UUID:
    """The app id of the fee expense of one balance transaction."""
    return uuid.uuid5(_NAMESPACE, f"stripe-fee:{balance_transaction_id}")


def refund_app_id(refund_id: str) -> uuid.UUID:
    """The id a Stripe refund is known by in the entity links (it has no app row of its own)."""
    return uuid.uuid5(_NAMESPACE, f"stripe-refund:{refund_id}")


T = TypeVar("T")
_STALE_RETRIES = 5


def _in_transaction(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction, again when a concurrent writer moved a row's version first (SQLite
    has no row locks: two deliveries of one invoice's events can interleave there)."""
    for attempt in range(_STALE_RETRIES):
        try:
            with sessions.begin() as session:
                return work(session)
        except StaleDataError:
            if attempt == _STALE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- facts from Stripe objects


def _text(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if isinstance(value, Mapping):
        value = value.get("id")
    if not isinstance(value, str) or not value:
        raise EventShapeError(f"the Stripe {what} has no {key}; the event cannot be applied")
    return value


def _opt_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _int(obj: Mapping[str, Any], key: str, what: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventShapeError(f"the Stripe {what} has no integer {key}; the event cannot be applied")
    return value


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    raw = obj.get("metadata")
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}


def _created(obj: Mapping[str, Any]) -> datetime:
    """The object's `created` as aware UTC (now when the snapshot lacks it)."""
    created = obj.get("created")
    moment = from_unix(created) if isinstance(created, int) and not isinstance(created, bool) else None
    return moment or utcnow()


@dataclass(frozen=True)
class PaymentFacts:
    """What a collected Stripe payment says, from the intent or from its charge."""

    intent_id: str
    charge_id: str | None
    amount: Decimal
    currency: str
    paid_at: datetime
    metadata: Mapping[str, str]


def facts_from_intent(intent: Mapping[str, Any]) -> PaymentFacts:
    """From a succeeded PaymentIntent snapshot (`amount_received`, `latest_charge`)."""
    currency = normalize_currency(_text(intent, "currency", "payment intent"))
    received = _int(intent, "amount_received", "payment intent")
    if received <= 0:
        raise EventShapeError(f"payment intent {intent.get('id')} received nothing; no payment to record")
    return PaymentFacts(
        intent_id=_text(intent, "id", "payment intent"),
        charge_id=_opt_id(intent.get("latest_charge")),
        amount=from_minor_units(received, currency),
        currency=currency,
        paid_at=_created(intent),
        metadata=_metadata(intent),
    )


def facts_from_charge(charge: Mapping[str, Any]) -> PaymentFacts:
    """From a charge snapshot (a `charge.refunded` may arrive before its `payment_intent.succeeded`)."""
    currency = normalize_currency(_text(charge, "currency", "charge"))
    captured = charge.get("amount_captured")
    amount = captured if isinstance(captured, int) and captured > 0 else _int(charge, "amount", "charge")
    return PaymentFacts(
        intent_id=_text(charge, "payment_intent", "charge"),
        charge_id=_text(charge, "id", "charge"),
        amount=from_minor_units(amount, currency),
        currency=currency,
        paid_at=_created(charge),
        metadata=_metadata(charge),
    )


# --------------------------------------------------------------------------- helpers


def _insert_ignore(session: Session, model: type[Any], values: Mapping[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (any unique key); True when the row was inserted."""
    table = table_of(model)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = session.execute(insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _local_date(session: Session, company_id: uuid.UUID, moment: datetime) -> date:
    """The calendar day of `moment` where the company is (a 23:30 UTC payment in Los Angeles is that day)."""
    zone_name = session.scalar(select(Company.timezone).where(Company.id == company_id)) or "UTC"
    try:
        return moment.astimezone(ZoneInfo(zone_name)).date()
    except ZoneInfoNotFoundError:
        return moment.date()


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def resolve_invoice(session: Session, metadata: Mapping[str, str], what: str) -> Invoice:
    """The invoice a Stripe object's metadata names (`invoice_id`, checked against `company_id`)."""
    raw = metadata.get("invoice_id")
    invoice_id = _uuid(raw)
    if invoice_id is None:
        raise UnknownInvoiceError(
            f"{what} carries no usable invoice_id in its metadata (it was not created by sierra-sync); "
            "record it in the app by hand if it pays an invoice",
            code="unknown_invoice",
        )
    invoice = session.get(Invoice, invoice_id)
    company_id = _uuid(metadata.get("company_id"))
    if invoice is None or (company_id is not None and invoice.company_id != company_id):
        raise UnknownInvoiceError(
            f"{what} pays invoice {invoice_id}, which is not in the app (deleted, or another environment's); "
            "restore the invoice and reprocess the event, or record the payment by hand",
            code="unknown_invoice",
        )
    return invoice


# --------------------------------------------------------------------------- invoices


@dataclass(frozen=True)
class InvoiceState:
    """An invoice after a recompute: `changed` is False when it already said this (a duplicate event)."""

    invoice_id: uuid.UUID
    invoice_number: str
    status: str
    balance: Decimal
    total: Decimal
    changed: bool
    note: str | None = None


def recompute_invoice(session: Session, invoice_id: uuid.UUID) -> InvoiceState:
    """Balance = total - collected payments net of refunds (within 0..total); status paid, partially_paid,
    or back to sent when refunds undo every payment. Void invoices are left as they are (with a note)."""
    invoice = session.scalar(select(Invoice).where(Invoice.id == invoice_id).with_for_update())
    if invoice is None:  # pragma: no cover - callers resolved it in the same transaction
        raise UnknownInvoiceError(f"invoice {invoice_id} disappeared while a payment was recorded")
    rows = session.execute(
        select(Payment.amount, Payment.refunded_amount).where(
            Payment.invoice_id == invoice_id, Payment.deleted_at.is_(None), Payment.status.in_(COLLECTED)
        )
    ).all()
    paid = sum((Decimal(a) - Decimal(r) for a, r in rows), Decimal("0.00"))
    total = Decimal(invoice.total)
    note = None
    if invoice.status == "void":
        note = f"invoice #{invoice.invoice_number} is void; its balance was left as is (refund the payment?)"
        return _state(invoice, False, note)
    balance = min(max(total - paid, Decimal("0.00")), total)
    if paid > total:
        note = f"invoice #{invoice.invoice_number} is overpaid by {paid - total}"
    if balance == 0 and total > 0:
        status = "paid"
    elif paid > 0:
        status = "partially_paid"
    elif invoice.status in ("paid", "partially_paid"):
        status = "sent"  # every payment refunded: open again
    else:
        status = invoice.status
    changed = invoice.balance != balance or invoice.status != status
    if changed:
        invoice.balance = balance
        invoice.status = status
        session.flush()
    return _state(invoice, changed, note)


def _state(invoice: Invoice, changed: bool, note: str | None) -> InvoiceState:
    return InvoiceState(
        invoice.id, invoice.invoice_number, invoice.status, invoice.balance, invoice.total, changed, note
    )


# --------------------------------------------------------------------------- payments


@dataclass(frozen=True)
class PaymentRecord:
    """The payment behind an event; `created` is False when an earlier delivery had recorded it."""

    payment_id: uuid.UUID
    company_id: uuid.UUID
    invoice_id: uuid.UUID | None
    intent_id: str
    created: bool
    invoice: InvoiceState | None


def _find_payment(session: Session, facts: PaymentFacts) -> Payment | None:
    match = [Payment.stripe_payment_intent_id == facts.intent_id]
    if facts.charge_id:
        match.append(Payment.stripe_charge_id == facts.charge_id)
    return session.scalar(select(Payment).where(or_(*match)).with_for_update())


def _ensure_payment(session: Session, facts: PaymentFacts) -> tuple[Payment, bool]:
    payment = _find_payment(session, facts)
    created = False
    if payment is None:
        what = f"Stripe payment {facts.intent_id}"
        invoice = resolve_invoice(session, facts.metadata, what)
        values = {
            "id": payment_id_for(facts.intent_id),
            "company_id": invoice.company_id,
            "customer_id": invoice.customer_id,
            "invoice_id": invoice.id,
            "amount": facts.amount,
            "refunded_amount": Decimal("0.00"),
            "currency": facts.currency.upper(),
            "payment_date": _local_date(session, invoice.company_id, facts.paid_at),
            "method": "card",
            "status": "succeeded",
            "stripe_payment_intent_id": facts.intent_id,
            "stripe_charge_id": facts.charge_id,
            "notes": f"Paid online through Stripe (invoice #{invoice.invoice_number})",
        }
        created = _insert_ignore(session, Payment, values)
        payment = _find_payment(session, facts)
        if payment is None:  # pragma: no cover - the insert or a concurrent one made it
            raise EventShapeError(f"{what} could not be recorded")
    if payment.status in ("pending", "failed"):  # recorded before it was collected (an app checkout)
        payment.status = "succeeded"
        payment.amount = facts.amount
    if payment.stripe_charge_id is None and facts.charge_id:
        payment.stripe_charge_id = facts.charge_id
    session.flush()
    return payment, created


def record_payment(sessions: sessionmaker[Session], facts: PaymentFacts) -> PaymentRecord:
    """Record a collected payment (once) and bring its invoice's balance and status up to date."""

    def work(session: Session) -> PaymentRecord:
        payment, created = _ensure_payment(session, facts)
        state = recompute_invoice(session, payment.invoice_id) if payment.invoice_id else None
        if created and "payment.received" in subscribed_events(session, payment.company_id):
            emit_event(  # committed with the payment; the id comes from the intent: sent once
                session,
                payment.company_id,
                "payment.received",
                {
                    "payment_id": str(payment.id),
                    "invoice_id": str(payment.invoice_id) if payment.invoice_id else None,
                    "amount": str(payment.amount),
                    "currency": payment.currency,
                    "method": payment.method,
                    "stripe_payment_intent_id": facts.intent_id,
                },
                event_id=f"evt_payment_{payment.id.hex}",
            )
        return PaymentRecord(
            payment.id, payment.company_id, payment.invoice_id, facts.intent_id, created, state
        )

    return _in_transaction(sessions, work)


# --------------------------------------------------------------------------- refunds


@dataclass(frozen=True)
class RefundRecord:
    """A charge's refunds as now recorded: the payment's cumulative refunded amount and each refund."""

    payment: PaymentRecord
    refunded_amount: Decimal
    changed: bool
    refunds: tuple[StripeRefund, ...]


def _refunds(session: Session, company_id: uuid.UUID, charge: Mapping[str, Any]) -> tuple[StripeRefund, ...]:
    listing = charge.get("refunds")
    items = listing.get("data") if isinstance(listing, Mapping) else None
    currency = normalize_currency(str(charge.get("currency") or "usd"))
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping) or item.get("status") in ("failed", "canceled"):
            continue
        out.append(
            StripeRefund(
                id=_text(item, "id", "refund"),
                amount=from_minor_units(_int(item, "amount", "refund"), currency),
                refund_date=_local_date(session, company_id, _created(item)),
                charge_id=_opt_id(item.get("charge")),
                reason=item.get("reason") if isinstance(item.get("reason"), str) else None,
            )
        )
    return tuple(sorted(out, key=lambda r: r.id))


def record_refund(sessions: sessionmaker[Session], charge: Mapping[str, Any]) -> RefundRecord:
    """Apply a `charge.refunded` snapshot: the payment's refunded amount rises to the charge's cumulative
    `amount_refunded` (never falls: an older snapshot arriving late changes nothing), its status becomes
    partially_refunded or refunded, and the invoice balance is restored by what was refunded."""
    facts = facts_from_charge(charge)
    refunded = from_minor_units(_int(charge, "amount_refunded", "charge"), facts.currency)

    def work(session: Session) -> RefundRecord:
        payment, created = _ensure_payment(session, facts)
        target = min(refunded, Decimal(payment.amount))
        changed = target > payment.refunded_amount
        if changed:
            payment.refunded_amount = target
            payment.status = "refunded" if target == payment.amount else "partially_refunded"
            session.flush()
        state = recompute_invoice(session, payment.invoice_id) if payment.invoice_id else None
        record = PaymentRecord(
            payment.id, payment.company_id, payment.invoice_id, facts.intent_id, created, state
        )
        return RefundRecord(
            record, Decimal(payment.refunded_amount), changed, _refunds(session, payment.company_id, charge)
        )

    return _in_transaction(sessions, work)


# --------------------------------------------------------------------------- failures


@dataclass(frozen=True)
class AttemptRecord:
    """A declined payment attempt as recorded (`created` False: a duplicate delivery)."""

    attempt_key: str
    company_id: uuid.UUID
    invoice_id: uuid.UUID | None
    decline_code: str | None
    failure_code: str | None
    created: bool


def record_failure(
    sessions: sessionmaker[Session], intent: Mapping[str, Any], event_id: str, occurred_at: datetime
) -> AttemptRecord:
    """A `payment_intent.payment_failed`: one PaymentAttempt (status failed) with Stripe's error code,
    decline code and message, once per failed charge (or per event when there was no charge)."""
    intent_id = _text(intent, "id", "payment intent")
    currency = normalize_currency(_text(intent, "currency", "payment intent"))
    error = intent.get("last_payment_error")
    error = error if isinstance(error, Mapping) else {}
    metadata = _metadata(intent)
    charge_id = _opt_id(error.get("charge")) or _opt_id(intent.get("latest_charge"))
    key = f"stripe:failed:{intent_id}:{charge_id or event_id}"
    with sessions.begin() as session:
        try:
            invoice: Invoice | None = resolve_invoice(session, metadata, f"failed Stripe payment {intent_id}")
        except UnknownInvoiceError:
            invoice = None
        company_id = invoice.company_id if invoice else _uuid(metadata.get("company_id"))
        if company_id is None or session.get(Company, company_id) is None:
            raise UnknownInvoiceError(
                f"failed Stripe payment {intent_id} names no company or invoice of this app "
                "(not created by sierra-sync); nothing to record",
                code="unknown_invoice",
            )
        message = error.get("message")
        code, decline = error.get("code"), error.get("decline_code")
        invoice_id = invoice.id if invoice else None
        values: dict[str, Any] = {
            "id": uuid.uuid5(_NAMESPACE, key),
            "company_id": company_id,
            "invoice_id": invoice_id,
            "amount": from_minor_units(_int(intent, "amount", "payment intent"), currency),
            "currency": currency.upper(),
            "status": "failed",
            "stripe_payment_intent_id": intent_id,
            "idempotency_key": key,
            "failure_code": code if isinstance(code, str) else None,
            "decline_code": decline if isinstance(decline, str) else None,
            "failure_message": redact_text(message)[:2000] if isinstance(message, str) else None,
            "attempted_at": occurred_at,
        }
        created = _insert_ignore(session, PaymentAttempt, values)
        return AttemptRecord(
            key,
            company_id,
            invoice_id,
            values["decline_code"],
            values["failure_code"],
            created,
        )


# --------------------------------------------------------------------------- disputes


@dataclass(frozen=True)
class DisputeRecord:
    """A dispute flagged on its invoice (`changed` False: it was flagged already)."""

    dispute_id: str
    company_id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str
    amount: Decimal
    reason: str | None
    changed: bool


IntentMetadata = Callable[[str], Mapping[str, str]]
"""Looks up a PaymentIntent's metadata at Stripe (disputes do not carry the invoice)."""


def flag_dispute(
    sessions: sessionmaker[Session], dispute: Mapping[str, Any], intent_metadata: IntentMetadata | None = None
) -> DisputeRecord:
    """A `charge.dispute.created`: set the invoice's `disputed_at` (the first dispute's time is kept). The
    invoice is found through the recorded payment of the disputed charge, else through the intent's
    metadata at Stripe (a dispute can arrive before the payment's own event)."""
    dispute_id = _text(dispute, "id", "dispute")
    charge_id = _opt_id(dispute.get("charge"))
    intent_id = _opt_id(dispute.get("payment_intent"))
    currency = normalize_currency(str(dispute.get("currency") or "usd"))
    amount = from_minor_units(_int(dispute, "amount", "dispute"), currency)
    reason = dispute.get("reason") if isinstance(dispute.get("reason"), str) else None
    what = f"Stripe dispute {dispute_id} (charge {charge_id or '?'})"

    def work(session: Session) -> DisputeRecord:
        match = []
        if charge_id:
            match.append(Payment.stripe_charge_id == charge_id)
        if intent_id:
            match.append(Payment.stripe_payment_intent_id == intent_id)
        if not match:
            raise EventShapeError(f"{what} names neither a charge nor a payment intent")
        payment = session.scalar(select(Payment).where(or_(*match)))
        invoice = session.get(Invoice, payment.invoice_id) if payment and payment.invoice_id else None
        if invoice is None:
            metadata = _metadata(dispute)
            if "invoice_id" not in metadata and intent_id and intent_metadata is not None:
                metadata = dict(intent_metadata(intent_id))
            invoice = resolve_invoice(session, metadata, what)
        invoice = session.scalar(select(Invoice).where(Invoice.id == invoice.id).with_for_update())
        assert invoice is not None
        changed = invoice.disputed_at is None
        if changed:
            invoice.disputed_at = _created(dispute)
            session.flush()
        return DisputeRecord(
            dispute_id, invoice.company_id, invoice.id, invoice.invoice_number, amount, reason, changed
        )

    return _in_transaction(sessions, work)


# --------------------------------------------------------------------------- fees


def record_fee(
    sessions: sessionmaker[Session], payment_id: uuid.UUID, txn: BalanceTransactionInfo
) -> uuid.UUID | None:
    """Stripe's fee on a payment as an expense (category payment_processing, vendor Stripe), once per
    balance transaction; None when the fee is zero."""
    if txn.fee <= 0:
        return None
    expense_id = fee_expense_id_for(txn.id)
    with sessions.begin() as session:
        payment = session.get(Payment, payment_id)
        if payment is None:  # pragma: no cover - recorded just before
            raise EventShapeError(f"payment {payment_id} is not recorded; record it before its fee")
        number = session.scalar(select(Invoice.invoice_number).where(Invoice.id == payment.invoice_id))
        details = ", ".join(f"{d.type} {d.amount}" for d in txn.fee_details) or f"fee {txn.fee}"
        paid = f"invoice #{number}" if number else f"payment {payment.stripe_payment_intent_id}"
        _insert_ignore(
            session,
            Expense,
            {
                "id": expense_id,
                "company_id": payment.company_id,
                "vendor_name": FEE_VENDOR,
                "category": "payment_processing",
                "payment_type": "other",
                "amount": txn.fee,
                "currency": txn.currency.upper(),
                "expense_date": payment.payment_date,
                "description": f"Stripe processing fee on {paid} ({details})",
                "reference_number": txn.id,
            },
        )
    return expense_id
